"""Scans filed into a section: PDF, JPEG or PNG told by their content, at most 10 MB, never
empty, no path in the name; kept under the file's own folder with a name of the archive's,
with size and SHA-256; the facts the checks need; a newer upload replaces the current one
and the old version is kept. A refused upload changes nothing and stores nothing."""

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from archives import services
from archives.choices import DocumentKind, DocumentStatus
from archives.models import ArchiveDocument, FileSection
from tests.archives.helpers import (
    JPEG,
    PDF,
    PNG,
    closed_work_order,
    delivered_section,
    refusal,
    sales_papers,
    scan,
    stored_files,
)
from tests.service.helpers import counts, state

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

MB = 1024 * 1024


@pytest.fixture
def section(branch, consultant):
    return delivered_section(branch, consultant)


def upload(section, by, file, kind=DocumentKind.DELIVERY_FORM, data=None):
    return services.document_upload(section=section, kind=kind, upload=file, by=by, data=data)


def refused_upload(section, by, file, kind=DocumentKind.DELIVERY_FORM, data=None):
    """The refusal of an upload, after checking it changed nothing and stored nothing."""
    before = (state(section), counts(ArchiveDocument), stored_files(default_storage.location))
    error = refusal(lambda: upload(section, by, file, kind, data))
    after = (state(section), counts(ArchiveDocument), stored_files(default_storage.location))
    assert after == before
    return error


# --- what is accepted --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("交车单.pdf", PDF, "application/pdf"),
        ("DELIVERY.PDF", PDF, "application/pdf"),
        ("photo.jpg", JPEG, "image/jpeg"),
        ("photo.jpeg", JPEG, "image/jpeg"),
        ("photo.png", PNG, "image/png"),
    ],
)
def test_a_scan_is_kept_with_its_real_type_size_and_checksum(
    section, consultant, name, content, content_type
):
    document = upload(section, consultant, scan(name, content))
    document.refresh_from_db()
    assert (document.content_type, document.size, document.sha256, document.original_name) == (
        content_type,
        len(content),
        hashlib.sha256(content).hexdigest(),
        name,
    )
    assert (document.status, document.uploaded_by) == (DocumentStatus.RECEIVED, consultant)
    with default_storage.open(document.file.name) as stored:
        assert stored.read() == content


def test_the_scan_is_stored_in_the_files_folder_under_a_name_of_the_archives(
    section, consultant, media
):
    first = upload(section, consultant, scan("交车单.pdf"))
    second = upload(section, consultant, scan("交车单.pdf"), kind=DocumentKind.PDI_SHEET,
                    data={"document_date": section.period_on})  # fmt: skip
    folder = f"archives/{section.vehicle_file.branch_id}/{section.vehicle_file.number}/"
    names = [first.file.name, second.file.name]
    assert all(name.startswith(folder) and name.endswith(".pdf") for name in names)
    assert first.file.name != second.file.name
    assert "交车单" not in "".join(names)
    assert stored_files(media) == sorted(names)


def test_a_scan_of_exactly_10_mb_is_accepted(section, consultant):
    content = PDF + b"0" * (10 * MB - len(PDF))
    assert upload(section, consultant, scan("big.pdf", content)).size == 10 * MB


# --- what is refused --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("scan.jpg", PDF, "file_type_mismatch"),
        ("scan.png", JPEG, "file_type_mismatch"),
        ("scan.pdf", PNG, "file_type_mismatch"),
        ("scan", PDF, "file_type_mismatch"),
        ("notes.txt", b"just some text\n", "file_type_not_allowed"),
        ("notes.pdf", b"just some text\n", "file_type_not_allowed"),
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "file_type_not_allowed"),
        ("big.pdf", PDF + b"0" * (10 * MB + 1 - len(PDF)), "file_too_large"),
        ("empty.pdf", b"", "file_empty"),
    ],
    ids=[
        "pdf renamed jpg", "jpeg renamed png", "png renamed pdf", "no extension", "text",
        "text renamed pdf", "exe", "over 10 MB", "empty",
    ],
)  # fmt: skip
def test_a_file_that_is_not_an_acceptable_scan_is_refused(section, consultant, name, content, code):
    error = refused_upload(section, consultant, scan(name, content))
    assert (error.code, error.field) == (code, "file")


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.pdf", "archives/1/x.pdf", "..\\..\\win.pdf", "c:\\scan.pdf",
             ".hidden.pdf", ".pdf", "   "],
)  # fmt: skip
def test_a_file_name_with_a_path_or_a_leading_dot_is_refused(section, consultant, name):
    error = refused_upload(section, consultant, ContentFile(PDF, name=name))
    assert (error.code, error.field) == ("file_name_invalid", "file")


REQUIRED = [
    (kind, field)
    for kind, fields in services.REQUIRED_FACTS.items()
    for field in fields
]  # fmt: skip


@pytest.mark.parametrize(("kind", "field"), REQUIRED)
def test_a_paper_needs_the_facts_its_checks_read(section, consultant, kind, field):
    facts = sales_papers(section.period_on, "王伟")[kind]
    facts[field] = "" if field == "name_on_document" else None
    error = refused_upload(section, consultant, scan(), kind=kind, data=facts)
    assert (error.code, error.field) == ("document_fact_required", field)


def test_a_name_of_blanks_is_no_name(section, consultant):
    error = refused_upload(
        section, consultant, scan(), kind=DocumentKind.BUYER_ID, data={"name_on_document": "  "}
    )
    assert (error.code, error.field) == ("document_fact_required", "name_on_document")


@pytest.mark.parametrize("kind", [DocumentKind.WORK_ORDER, DocumentKind.RESCUE_SHEET, "bogus"])
def test_a_sales_section_takes_no_service_paper(section, consultant, kind):
    error = refused_upload(section, consultant, scan(), kind=kind)
    assert (error.code, error.field) == ("document_not_expected", "kind")


def test_a_service_section_takes_no_sales_paper(branch, advisor, technician):
    section = closed_work_order(branch, advisor, technician).archive_section
    error = refused_upload(
        section, advisor, scan(), kind=DocumentKind.PURCHASE_INVOICE,
        data={"document_date": section.period_on, "name_on_document": "王伟"},
    )  # fmt: skip
    assert (error.code, error.field) == ("document_not_expected", "kind")


def test_a_service_section_takes_a_paper_of_the_service_file_it_does_not_expect(
    branch, advisor, technician
):
    section = closed_work_order(branch, advisor, technician).archive_section
    assert DocumentKind.FREE_INSPECTION_SHEET not in section.expected
    document = upload(section, advisor, scan(), kind=DocumentKind.FREE_INSPECTION_SHEET)
    assert FileSection.objects.get(pk=section.pk).expected == section.expected
    assert document.kind == DocumentKind.FREE_INSPECTION_SHEET


# --- versions ---------------------------------------------------------------------------------


def test_a_new_upload_replaces_the_current_version_and_keeps_the_old(section, consultant, media):
    old = upload(section, consultant, scan("first.pdf", PDF + b"1"))
    new = upload(section, consultant, scan("second.pdf", PDF + b"2"))
    old.refresh_from_db()
    assert (old.status, new.status) == (DocumentStatus.REPLACED, DocumentStatus.RECEIVED)
    assert list(
        ArchiveDocument.objects.filter(section=section, kind=DocumentKind.DELIVERY_FORM)
        .exclude(status=DocumentStatus.REPLACED)
        .values_list("pk", flat=True)
    ) == [new.pk]
    assert stored_files(media) == sorted([old.file.name, new.file.name])
    with default_storage.open(old.file.name) as stored:
        assert stored.read() == PDF + b"1"
