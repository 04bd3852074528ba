"""Scans through the API: filed as multipart, refused with a stable code when their type,
size or name is wrong (nothing stored), replayed once with an Idempotency-Key, and fetched
back byte for byte, as an attachment of their real type, only through the download."""

import hashlib
from urllib.parse import quote

import pytest

from archives import services
from archives.choices import DocumentKind, DocumentStatus, FileStatus
from archives.models import ArchiveDocument, VehicleFile
from tests.archives.helpers import (
    JPEG,
    PDF,
    PNG,
    delivered_section,
    scan,
    stored_files,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

API = "/api/v1/"
MB = 1024 * 1024


@pytest.fixture
def section(branch, consultant):
    return delivered_section(branch, consultant)


def upload(client, section, name: str, content: bytes, **fields):
    fields.setdefault("kind", DocumentKind.DELIVERY_FORM)
    return client.post(
        f"{API}file-sections/{section.pk}/documents/",
        {"file": scan(name, content), **fields},
        format="multipart",
    )


def refused(response, status: int, code: str, field: str) -> None:
    body = response.json()
    assert (response.status_code, body.get("code")) == (status, code), body
    assert body[field] == [body["detail"]]


def test_a_scan_is_filed_with_its_real_type_and_checksum(api_as, section, consultant, media):
    # when the consultant files the buyer's ID as a PNG
    response = upload(
        api_as(consultant), section, "身份证.png", PNG,
        kind=DocumentKind.BUYER_ID, name_on_document="王伟",
    )  # fmt: skip
    # then it is filed with its sniffed type, size and SHA-256, awaiting audit
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["section"] == section.pk and body["vehicle_file"] == section.vehicle_file_id
    assert (body["kind"], body["original_name"], body["name_on_document"]) == (
        DocumentKind.BUYER_ID, "身份证.png", "王伟",
    )  # fmt: skip
    assert (body["content_type"], body["size"]) == ("image/png", len(PNG))
    assert body["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert (body["status"], body["uploaded_by"]) == (DocumentStatus.RECEIVED, consultant.pk)
    assert body["all_pages"] is True and body["signed"] is False
    assert body["download_url"].endswith(f"/api/v1/archive-documents/{body['id']}/download/")
    # and stored under the media root, in the archive's folder
    assert [path.split("/")[0] for path in stored_files(media)] == ["archives"]


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [("交车单.pdf", PDF, "application/pdf"), ("id.jpeg", JPEG, "image/jpeg"),
     ("id.png", PNG, "image/png")],
)  # fmt: skip
def test_the_download_returns_exactly_the_bytes_uploaded(
    api_as, section, consultant, media, name, content, kind
):
    # given a scan filed by the consultant
    filed = upload(api_as(consultant), section, name, content).json()
    # when it is downloaded
    response = api_as(consultant).get(f"{API}archive-documents/{filed['id']}/download/")
    # then the very bytes come back, as an attachment of their sniffed type, never sniffed again
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == kind
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert quote(name) in response["Content-Disposition"] or name in response["Content-Disposition"]


def test_the_scan_of_a_disposed_file_is_gone(
    api_as, section, consultant, customer_care, branch_manager
):
    # given a filed scan whose file was sealed and disposed of
    filed = upload(api_as(consultant), section, "form.pdf", PDF).json()
    VehicleFile.objects.filter(pk=section.vehicle_file_id).update(
        status=FileStatus.SEALED, sealed_at=section.due_at
    )
    services.disposal_request(vehicle_file=section.vehicle_file, by=customer_care)
    services.disposal_approve(vehicle_file=section.vehicle_file, by=branch_manager)
    # when it is downloaded
    response = api_as(customer_care).get(f"{API}archive-documents/{filed['id']}/download/")
    # then it is not found, saying it was destroyed
    assert (response.status_code, response.json()["code"]) == (404, "document_destroyed")


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("invoice.jpg", PDF, "file_type_mismatch"),  # a PDF renamed .jpg
        ("scan.pdf", PNG, "file_type_mismatch"),
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "file_type_not_allowed"),
        ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "file_type_not_allowed"),
        ("notes.txt", "发票日期 2024-03-01".encode(), "file_type_not_allowed"),
        ("big.pdf", PDF + b"0" * (10 * MB), "file_too_large"),
        ("empty.pdf", b"", "file_empty"),
        (".htaccess.pdf", PDF, "file_name_invalid"),
    ],
)
def test_a_bad_scan_is_refused_and_nothing_stored(
    api_as, section, consultant, media, name, content, code
):
    # given the documents filed so far
    before = ArchiveDocument.objects.count()
    # when a bad scan is sent
    response = upload(api_as(consultant), section, name, content)
    # then it is refused beside the file field with its code, and nothing was stored
    refused(response, 400, code, "file")
    assert ArchiveDocument.objects.count() == before
    assert stored_files(media) == []


def test_a_scan_just_over_10_mb_is_refused_and_one_of_10_mb_filed(
    api_as, section, consultant, media
):
    # given a scan of exactly 10 MB and one a byte larger
    client = api_as(consultant)
    exactly = PDF + b"0" * (10 * MB - len(PDF))
    # when both are sent
    over = upload(client, section, "over.pdf", exactly + b"0")
    filed = upload(client, section, "exactly.pdf", exactly)
    # then only the larger is refused
    refused(over, 400, "file_too_large", "file")
    assert filed.status_code == 201 and filed.json()["size"] == 10 * MB


def test_a_path_in_the_file_name_never_reaches_the_storage(api_as, section, consultant, media):
    # given a multipart body naming the file "../../x.pdf", as a hostile client would send it
    boundary = "archive-boundary"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="kind"\r\n\r\n'
            f"{DocumentKind.DELIVERY_FORM}\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="../../x.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + PDF
        + f"\r\n--{boundary}--\r\n".encode()
    )
    # when it is posted
    response = api_as(consultant).generic(
        "POST",
        f"{API}file-sections/{section.pk}/documents/",
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    # then the path is dropped before the archive sees the name: the scan is filed as x.pdf
    # under the archive's own name, inside the media root
    assert response.status_code == 201, response.json()
    assert response.json()["original_name"] == "x.pdf"
    (stored,) = stored_files(media)
    assert stored.startswith("archives/") and ".." not in stored


@pytest.mark.parametrize(
    ("fields", "status", "code", "field"),
    [
        ({"kind": DocumentKind.WORK_ORDER}, 400, "document_not_expected", "kind"),
        ({"kind": DocumentKind.PURCHASE_INVOICE, "name_on_document": "王伟"}, 400,
         "document_fact_required", "document_date"),
        ({"kind": DocumentKind.BUYER_ID}, 400, "document_fact_required", "name_on_document"),
    ],
)  # fmt: skip
def test_a_scan_the_section_cannot_take_is_refused(
    api_as, section, consultant, media, fields, status, code, field
):
    response = upload(api_as(consultant), section, "scan.pdf", PDF, **fields)
    refused(response, status, code, field)
    assert not ArchiveDocument.objects.exists()
    assert stored_files(media) == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "passport"}, "kind"),
        ({"kind": DocumentKind.PURCHASE_INVOICE, "document_date": "2024-02-30"}, "document_date"),
        ({"name_on_document": "王" * 101}, "name_on_document"),
        ({"signed": "perhaps"}, "signed"),
    ],
)
def test_bad_fields_of_an_upload_are_refused_beside_them(
    api_as, section, consultant, media, fields, field
):
    response = upload(api_as(consultant), section, "scan.pdf", PDF, **fields)
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not ArchiveDocument.objects.exists()


def test_an_upload_without_a_file_is_refused(api_as, section, consultant):
    response = api_as(consultant).post(
        f"{API}file-sections/{section.pk}/documents/",
        {"kind": DocumentKind.DELIVERY_FORM},
        format="multipart",
    )
    assert response.status_code == 400 and "file" in response.json()
    assert not ArchiveDocument.objects.exists()


def test_a_sealed_file_takes_no_scan(api_as, section, consultant, media):
    # given the section's file, sealed
    VehicleFile.objects.filter(pk=section.vehicle_file_id).update(
        status=FileStatus.SEALED, sealed_at=section.due_at
    )
    # when a scan is filed into it
    response = upload(api_as(consultant), section, "form.pdf", PDF)
    # then it is refused as a conflict, and nothing stored
    assert (response.status_code, response.json()["code"]) == (409, "file_sealed")
    assert not ArchiveDocument.objects.exists() and stored_files(media) == []


def test_an_upload_sent_twice_with_one_key_is_filed_once(api_as, section, consultant, media):
    # given a scan sent with an Idempotency-Key
    client = api_as(consultant)
    url = f"{API}file-sections/{section.pk}/documents/"
    fields = {"kind": DocumentKind.DELIVERY_FORM}
    first = client.post(
        url, {"file": scan("form.pdf"), **fields}, format="multipart", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    # when the client retries it with the same key
    again = client.post(
        url, {"file": scan("form.pdf"), **fields}, format="multipart", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    # then the first answer comes back and the scan is filed and stored once
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert ArchiveDocument.objects.count() == 1 and len(stored_files(media)) == 1
    # and the same key with another scan is refused
    other = client.post(
        url, {"file": scan("other.pdf", PDF + b"x"), **fields}, format="multipart",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )  # fmt: skip
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert ArchiveDocument.objects.count() == 1


def test_a_new_scan_of_a_type_replaces_the_current_one(api_as, section, consultant, media):
    # given a delivery form filed
    client = api_as(consultant)
    first = upload(client, section, "form.pdf", PDF).json()
    # when another is filed
    second = upload(client, section, "form-2.pdf", PDF + b"2").json()
    # then the section shows the new one; the old is kept, replaced
    detail = client.get(f"{API}file-sections/{section.pk}/").json()
    assert [document["id"] for document in detail["documents"]] == [second["id"]]
    old = client.get(f"{API}archive-documents/{first['id']}/").json()
    assert old["status"] == DocumentStatus.REPLACED
    assert len(stored_files(media)) == 2
