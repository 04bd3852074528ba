"""The archivist's and the filing staff's pages: the work queue, the vehicle files, a file
with its papers in filing order (upload, audit, exemption, checks), the documents and a
scan's download. Refusals are shown beside their field with their status and store nothing;
another branch's records are 404; a sealed file takes nothing; the lists cost the same
queries whatever their length."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from archives import services
from archives.choices import DocumentKind, DocumentStatus, FileStatus
from archives.models import ArchiveDocument, Exemption, Nonconformity, PenaltyPoint, VehicleFile
from dealer_crm.choices import Role
from tests.archives.helpers import (
    JPEG,
    PDF,
    PNG,
    closed_work_order,
    delivered_section,
    file_sales_papers,
    scan,
)
from tests.factories import UserFactory

# Scans are stored under each test's own directory (the `media` fixture of the helpers).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

INVOICE = DocumentKind.PURCHASE_INVOICE
MAX_BYTES = services.MAX_DOCUMENT_BYTES


@pytest.fixture
def section(branch, consultant):
    """The sales section of a vehicle delivered today, no paper filed yet."""
    return delivered_section(branch, consultant)


@pytest.fixture
def invoice(section, consultant):
    """The purchase invoice filed in the section, awaiting audit."""
    return services.document_upload(
        section=section,
        kind=INVOICE,
        upload=scan("发票.pdf", PDF + b"invoice"),
        by=consultant,
        data={"document_date": section.period_on, "name_on_document": "王芳"},
    )


@pytest.fixture
def other_archivist(other_branch):
    return UserFactory(
        username="other_archivist", roles=[Role.CUSTOMER_CARE], branches=[other_branch]
    )


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()]


def file_url(section) -> str:
    return reverse("archives:file-detail", args=[section.vehicle_file_id])


def upload(client, section, kind: str, upload_file, **facts):
    return client.post(
        reverse("archives:document-upload", args=[section.pk]),
        {"kind": kind, "file": upload_file, **facts},
    )


def row_of(response, kind: str):
    """The row of a paper on the file's page, as the page built it."""
    for section in response.context["sections"]:
        for row in section.rows:
            if row.kind == kind:
                return row
    raise AssertionError(f"no row for {kind}")


def seal(section) -> None:
    VehicleFile.objects.filter(pk=section.vehicle_file_id).update(
        status=FileStatus.SEALED, sealed_at=timezone.now()
    )


# --- Rendering, permissions, branches --------------------------------------------------------


def test_archivist_opens_every_page(client, customer_care, section, invoice):
    # given a file with an invoice awaiting audit
    client.force_login(customer_care)
    for url in [
        reverse("archives:queue"),
        reverse("archives:file-list"),
        file_url(section),
        reverse("archives:document-list"),
        reverse("archives:document-download", args=[invoice.pk]),
    ]:
        # when each page is opened, then it answers
        assert client.get(url).status_code == 200, url


def test_filing_staff_see_files_but_not_the_queue_nor_the_audit(
    client, consultant, section, invoice
):
    # given a consultant, who files papers but does not audit or exempt
    client.force_login(consultant)
    # when they open the file pages, then they see them
    for url in [
        reverse("archives:file-list"),
        file_url(section),
        reverse("archives:document-list"),
    ]:
        assert client.get(url).status_code == 200, url
    page = client.get(file_url(section))
    assert row_of(page, INVOICE).audit_form is None and row_of(page, INVOICE).upload_form
    # when they open the queue, audit or exempt, then they are refused and nothing changes
    assert client.get(reverse("archives:queue")).status_code == 403
    audit = client.post(reverse("archives:document-audit", args=[invoice.pk]), {"conforming": "1"})
    assert audit.status_code == 403
    exempt = client.post(
        reverse("archives:section-exempt", args=[section.pk]),
        {"reason": "not_invoiced", "note": "x", "ends_on": timezone.localdate().isoformat()},
    )
    assert exempt.status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.RECEIVED and not Exemption.objects.exists()


@pytest.mark.parametrize("persona", ["technician", "parts_clerk"])
def test_staff_without_archive_permissions_are_refused(
    client, request, persona, section, invoice, media
):
    # given a technician or a parts clerk of the file's branch
    client.force_login(request.getfixturevalue(persona))
    files_before = stored_files(media)
    # when they open any archive page or post to it, then it is forbidden
    for url in [
        reverse("archives:queue"),
        reverse("archives:file-list"),
        file_url(section),
        reverse("archives:document-list"),
        reverse("archives:document-download", args=[invoice.pk]),
    ]:
        assert client.get(url).status_code == 403, url
    posts = [
        upload(client, section, DocumentKind.DELIVERY_FORM, scan()),
        client.post(reverse("archives:section-check", args=[section.pk])),
        client.post(reverse("archives:document-audit", args=[invoice.pk]), {"conforming": "1"}),
    ]
    assert [response.status_code for response in posts] == [403, 403, 403]
    assert ArchiveDocument.objects.count() == 1 and stored_files(media) == files_before


def test_another_branchs_file_section_and_document_answer_404(
    client, other_archivist, section, invoice, media
):
    # given an archivist of the other branch
    client.force_login(other_archivist)
    files_before = stored_files(media)
    # when they reach this branch's file, its section or its document
    answers = [
        client.get(file_url(section)).status_code,
        client.get(reverse("archives:document-download", args=[invoice.pk])).status_code,
        upload(client, section, DocumentKind.DELIVERY_FORM, scan()).status_code,
        client.post(reverse("archives:section-check", args=[section.pk])).status_code,
        client.post(
            reverse("archives:section-exempt", args=[section.pk]),
            {"reason": "not_invoiced", "note": "x", "ends_on": timezone.localdate().isoformat()},
        ).status_code,
        client.post(
            reverse("archives:document-audit", args=[invoice.pk]), {"conforming": "1"}
        ).status_code,
    ]
    # then each is 404, nothing is listed and nothing changes
    assert answers == [404] * 6
    assert client.get(reverse("archives:file-list")).context["page"].paginator.count == 0
    assert client.get(reverse("archives:document-list")).context["page"].paginator.count == 0
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.RECEIVED
    assert ArchiveDocument.objects.count() == 1 and stored_files(media) == files_before
    assert not Exemption.objects.exists()


def test_file_page_renders_in_chinese(client, customer_care, section, invoice):
    # given the archivist reading in Simplified Chinese
    client.force_login(customer_care)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    # when the file's page is opened
    response = client.get(file_url(section))
    # then it answers in Chinese
    content = response.content.decode()
    assert response.status_code == 200
    assert 'lang="zh-hans"' in content and "变更历史" in content
    assert section.vehicle_file.number in content


# --- The work queue ------------------------------------------------------------------------------


def test_queue_lists_documents_to_audit_oldest_first_with_a_link_to_each(
    client, customer_care, section, consultant, invoice
):
    # given two documents awaiting audit, the invoice first
    later = services.document_upload(
        section=section, kind=DocumentKind.DELIVERY_FORM, upload=scan("delivery.pdf"),
        by=consultant,
    )  # fmt: skip
    client.force_login(customer_care)
    # when the queue is opened
    response = client.get(reverse("archives:queue"))
    # then both are listed, oldest first, each linking to its place in the file
    assert [document.pk for document in response.context["to_audit"]] == [invoice.pk, later.pk]
    assert response.context["to_audit_count"] == 2
    content = response.content.decode()
    assert f"{file_url(section)}#document-{invoice.pk}" in content
    assert section.vehicle_file.vehicle.vin in content
    assert reverse("archives:reconciliation-run") in content


def test_queue_says_all_is_done_when_nothing_waits(client, customer_care):
    client.force_login(customer_care)
    content = client.get(reverse("archives:queue")).content.decode()
    assert "All received" in content and "All audited" in content
    assert "Nothing overdue" in content


def test_queue_shows_returned_papers_past_their_24_hours(
    client, customer_care, consultant, invoice
):
    # given an invoice returned more than 24 hours ago and not sent back
    services.document_audit(document=invoice, conforming=False, by=customer_care, reason="日期错")
    Nonconformity.objects.update(due_by=timezone.now() - timedelta(hours=1))
    client.force_login(customer_care)
    # when the queue is opened
    response = client.get(reverse("archives:queue"))
    # then the record is overdue, with its responsible person
    assert response.context["rework_overdue_count"] == 1
    assert [record.document_id for record in response.context["late_rework"]] == [invoice.pk]
    assert "日期错" in response.content.decode()


# --- The files -----------------------------------------------------------------------------------


def test_file_list_searches_by_vin_tail_and_shows_sections_complete(
    client, customer_care, branch, consultant, section
):
    # given two files
    other = delivered_section(branch, consultant)
    client.force_login(customer_care)
    vin = section.vehicle_file.vehicle.vin
    # when the list is searched by the last six of one VIN
    response = client.get(reverse("archives:file-list"), {"search": vin[-6:]})
    # then only that file is listed, with 0 of its 1 section complete
    rows = list(response.context["page"])
    assert [row.pk for row in rows] == [section.vehicle_file_id]
    assert (rows[0].complete_count, rows[0].section_count) == (0, 1)
    assert other.vehicle_file.number not in response.content.decode()


def test_file_list_filters_incomplete_files(client, customer_care, branch, consultant, section):
    # given one file complete and one not
    complete = delivered_section(branch, consultant)
    for document in file_sales_papers(complete, consultant).values():
        services.document_audit(document=document, conforming=True, by=customer_care)
    client.force_login(customer_care)
    # when the list is filtered to incomplete files, then only the other is listed
    response = client.get(reverse("archives:file-list"), {"incomplete": "true"})
    assert [row.pk for row in response.context["page"]] == [section.vehicle_file_id]
    # and the complete one counts its section complete
    response = client.get(reverse("archives:file-list"), {"incomplete": "false"})
    assert [(row.complete_count, row.section_count) for row in response.context["page"]] == [(1, 1)]


def test_file_page_shows_the_checklist_in_filing_order(client, customer_care, section, invoice):
    client.force_login(customer_care)
    response = client.get(file_url(section))
    rows = response.context["sections"][0].rows
    assert [row.kind for row in rows] == section.expected
    assert rows[1].document == invoice and rows[0].document is None
    content = response.content.decode()
    assert reverse("archives:document-download", args=[invoice.pk]) in content
    assert reverse("sales:order-detail", args=[section.delivery.order_id]) in content
    assert reverse("customers:detail", args=[section.vehicle_file.vehicle.owner_id]) in content
    assert 'enctype="multipart/form-data"' in content and 'accept=".pdf,.jpg,.jpeg,.png"' in content
    # the missing papers are listed as a finding
    assert "Missing: " in content


# --- Upload ----------------------------------------------------------------------------------


def test_upload_files_a_paper_and_returns_to_its_section(client, consultant, section, media):
    # given the consultant on the file's page
    client.force_login(consultant)
    # when they upload the invoice with its date and buyer
    response = upload(
        client, section, INVOICE, SimpleUploadedFile("invoice.pdf", PDF),
        document_date=section.period_on.isoformat(), name_on_document="王芳",
    )  # fmt: skip
    # then it is filed, awaiting audit, and the page comes back at the section
    assert response.status_code == 302
    assert response.url == f"{file_url(section)}#section-{section.pk}"
    document = ArchiveDocument.objects.get(section=section, kind=INVOICE)
    assert (document.status, document.name_on_document) == (DocumentStatus.RECEIVED, "王芳")
    assert document.document_date == section.period_on and document.uploaded_by == consultant
    assert (media / document.file.name).read_bytes() == PDF
    assert "awaits the archive" in client.get(response.url).content.decode()


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("scan.pdf", b"GIF89a" + b"\x00" * 32, "file_type_not_allowed"),
        ("scan.jpg", PDF, "file_type_mismatch"),
        ("scan.pdf", b"", "file_empty"),
        ("scan.pdf", PDF + b"\x00" * MAX_BYTES, "file_too_large"),
        (".scan.pdf", PDF, "file_name_invalid"),
    ],
)
def test_a_refused_scan_is_shown_beside_the_file_field_and_nothing_is_stored(
    client, consultant, section, media, name, content, code
):
    client.force_login(consultant)
    # when a bad scan is uploaded as the delivery form
    response = upload(
        client, section, DocumentKind.DELIVERY_FORM, SimpleUploadedFile(name, content)
    )
    # then the page answers 400 with the service's refusal beside the file field
    assert response.status_code == 400
    form = row_of(response, DocumentKind.DELIVERY_FORM).upload_form
    assert form.domain_error.code == code
    message = str(form.domain_error.message)
    assert form.errors["file"] == [message]
    assert 'class="invalid-feedback d-block">' + message.replace("'", "&#x27;") in (
        response.content.decode()
    )
    # and nothing is stored
    assert not ArchiveDocument.objects.exists() and stored_files(media) == []


def test_an_invoice_without_its_date_is_refused_beside_the_date(client, consultant, section, media):
    client.force_login(consultant)
    response = upload(client, section, INVOICE, scan(), name_on_document="王芳")
    assert response.status_code == 400
    form = row_of(response, INVOICE).upload_form
    assert form.domain_error.code == "document_fact_required"
    assert form.errors["document_date"] == ["Enter the date printed on the document."]
    assert not ArchiveDocument.objects.exists() and stored_files(media) == []


def test_a_paper_the_file_does_not_hold_is_refused_at_the_top(client, consultant, section, media):
    # when a service paper is posted into a sales section
    client.force_login(consultant)
    response = upload(client, section, DocumentKind.WORK_ORDER, scan())
    # then the refusal is said at the top of the page and nothing is stored
    assert response.status_code == 400
    assert "holds no" in response.content.decode()
    assert not ArchiveDocument.objects.exists() and stored_files(media) == []


def test_sealed_file_shows_no_upload_form_and_refuses_an_upload(
    client, consultant, section, invoice, media
):
    # given the file sealed
    seal(section)
    client.force_login(consultant)
    files_before = stored_files(media)
    # when its page is opened, then it says it is read-only and offers no upload
    page = client.get(file_url(section))
    content = page.content.decode()
    assert 'id="file-read-only"' in content
    assert reverse("archives:document-upload", args=[section.pk]) not in content
    assert all(row.upload_form is None for row in page.context["sections"][0].rows)
    # when an upload is posted anyway, then it is refused with 409 and its message
    response = upload(client, section, DocumentKind.DELIVERY_FORM, scan())
    assert response.status_code == 409
    assert "can no longer be changed" in response.content.decode()
    assert ArchiveDocument.objects.count() == 1 and stored_files(media) == files_before


def test_sealed_file_offers_disposal_to_the_archivist_and_approval_to_a_manager(
    client, customer_care, branch_manager, section
):
    seal(section)
    client.force_login(customer_care)
    content = client.get(file_url(section)).content.decode()
    assert reverse("archives:disposal", args=[section.vehicle_file_id, "request"]) in content
    services.disposal_request(vehicle_file=section.vehicle_file, by=customer_care)
    client.force_login(branch_manager)
    content = client.get(file_url(section)).content.decode()
    assert reverse("archives:disposal", args=[section.vehicle_file_id, "approve"]) in content
    assert 'id="disposal-requested"' in content


# --- Audit ---------------------------------------------------------------------------------------


def test_archivist_audits_a_document_conforming(client, customer_care, section, invoice):
    client.force_login(customer_care)
    response = client.post(
        reverse("archives:document-audit", args=[invoice.pk]), {"conforming": "1"}
    )
    assert response.status_code == 302
    assert response.url == f"{file_url(section)}#section-{section.pk}"
    invoice.refresh_from_db()
    assert (invoice.status, invoice.audited_by) == (DocumentStatus.CONFORMING, customer_care)
    assert not Nonconformity.objects.exists()


def test_archivist_returns_a_document_with_its_record_and_a_point(
    client, customer_care, consultant, section, invoice
):
    # given the file's page offers the consultant as the one responsible
    client.force_login(customer_care)
    form = row_of(client.get(file_url(section)), INVOICE).audit_form
    assert form.initial["responsible"] == consultant.pk
    # when the invoice is returned with the reason
    response = client.post(
        reverse("archives:document-audit", args=[invoice.pk]),
        {"conforming": "0", "reason": "发票抬头与身份证不符", "responsible": consultant.pk},
    )
    # then it is returned with its record, due in 24 hours, and a point for the consultant
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.RETURNED
    record = Nonconformity.objects.get(document=invoice)
    assert (record.reason, record.responsible) == ("发票抬头与身份证不符", consultant)
    assert abs(record.due_by - record.returned_at - timedelta(hours=24)) < timedelta(seconds=5)
    assert PenaltyPoint.objects.get(nonconformity=record).person == consultant
    # and the file's page shows the record
    page = client.get(response.url)
    assert row_of(page, INVOICE).record == record
    content = page.content.decode()
    assert "发票抬头与身份证不符" in content and "due back fixed by" in content


def test_returning_without_a_reason_is_refused_beside_the_reason(
    client, customer_care, section, invoice
):
    client.force_login(customer_care)
    response = client.post(
        reverse("archives:document-audit", args=[invoice.pk]), {"conforming": "0", "reason": ""}
    )
    assert response.status_code == 400
    form = row_of(response, INVOICE).audit_form
    assert form.domain_error.code == "reason_required"
    assert form.errors["reason"] == ["Say what is wrong with the document."]
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.RECEIVED and not Nonconformity.objects.exists()


def test_a_responsible_of_another_branch_is_not_offered(
    client, customer_care, other_branch_user, section, invoice
):
    client.force_login(customer_care)
    response = client.post(
        reverse("archives:document-audit", args=[invoice.pk]),
        {"conforming": "0", "reason": "缺页", "responsible": other_branch_user.pk},
    )
    assert response.status_code == 400
    assert "responsible" in row_of(response, INVOICE).audit_form.errors
    assert not Nonconformity.objects.exists()


def test_auditing_a_document_twice_is_a_conflict(client, customer_care, section, invoice):
    services.document_audit(document=invoice, conforming=True, by=customer_care)
    client.force_login(customer_care)
    response = client.post(
        reverse("archives:document-audit", args=[invoice.pk]), {"conforming": "0", "reason": "x"}
    )
    assert response.status_code == 409
    assert "already audited" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.CONFORMING and not Nonconformity.objects.exists()


# --- Checks and exemptions ------------------------------------------------------------------------


def test_findings_are_listed_and_checked_again(client, consultant, customer_care, section):
    # given a sales file whose invoice is dated 3 days after the PDI certificate
    day = section.period_on
    file_sales_papers(
        section, consultant, overrides={INVOICE: {"document_date": day + timedelta(3)}}
    )
    client.force_login(customer_care)
    # when the page is opened, then the finding is shown in words
    content = client.get(file_url(section)).content.decode()
    assert "dated 3 days from the PDI certificate" in content
    # when the section is checked again, then the page says what is left
    response = client.post(reverse("archives:section-check", args=[section.pk]), follow=True)
    assert "Checked again: 1 thing to put right." in response.content.decode()


def test_archivist_exempts_a_sections_papers(client, customer_care, section):
    client.force_login(customer_care)
    until = timezone.localdate() + timedelta(days=5)
    response = client.post(
        reverse("archives:section-exempt", args=[section.pk]),
        {"reason": "not_invoiced", "note": "客户尚未开票", "ends_on": until.isoformat()},
    )
    assert response.status_code == 302
    exemption = Exemption.objects.get(section=section)
    assert (exemption.note, exemption.ends_on, exemption.granted_by) == (
        "客户尚未开票", until, customer_care,
    )  # fmt: skip


def test_an_exemption_without_a_note_is_refused_beside_the_note(client, customer_care, section):
    client.force_login(customer_care)
    response = client.post(
        reverse("archives:section-exempt", args=[section.pk]),
        {"reason": "not_invoiced", "note": " ", "ends_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 400
    form = response.context["sections"][0].exempt_form
    assert form.domain_error.code == "note_required"
    assert form.errors["note"] == ["Say why the papers are not due."]
    assert not Exemption.objects.exists()


# --- Documents and download -----------------------------------------------------------------------


def test_download_sends_the_scan_as_an_attachment_with_its_sniffed_type(
    client, consultant, section, invoice
):
    client.force_login(consultant)
    response = client.get(reverse("archives:document-download", args=[invoice.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF + b"invoice"
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''%E5%8F%91%E7%A5%A8.pdf" in disposition


def test_download_of_a_jpeg_is_a_jpeg(client, consultant, section):
    photo = services.document_upload(
        section=section, kind=DocumentKind.BUYER_ID, upload=scan("id.jpeg", JPEG),
        by=consultant, data={"name_on_document": "王芳"},
    )  # fmt: skip
    client.force_login(consultant)
    response = client.get(reverse("archives:document-download", args=[photo.pk]))
    assert response["Content-Type"] == "image/jpeg"
    assert 'filename="id.jpeg"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == JPEG


def test_document_list_filters_those_awaiting_audit(
    client, customer_care, consultant, section, invoice
):
    # given one document audited and one awaiting audit
    delivery_form = services.document_upload(
        section=section, kind=DocumentKind.DELIVERY_FORM, upload=scan("d.pdf"), by=consultant
    )
    services.document_audit(document=delivery_form, conforming=True, by=customer_care)
    client.force_login(customer_care)
    # when the list is filtered to those awaiting audit, then only the invoice is listed
    response = client.get(reverse("archives:document-list"), {"status": "received"})
    assert [document.pk for document in response.context["page"]] == [invoice.pk]
    everything = client.get(reverse("archives:document-list")).context["page"]
    assert {document.pk for document in everything} == {invoice.pk, delivery_form.pk}


# --- Query counts --------------------------------------------------------------------------------


def _queries(client, url: str, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(30) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_lists_cost_the_same_queries_for_one_file_or_five(
    client, customer_care, branch, consultant, django_assert_max_num_queries
):
    def add_file():
        section = delivered_section(branch, consultant)
        services.document_upload(
            section=section, kind=DocumentKind.DELIVERY_FORM, upload=scan(), by=consultant
        )

    add_file()
    client.force_login(customer_care)
    urls = [
        reverse("archives:file-list"),
        reverse("archives:document-list"),
        reverse("archives:queue"),
    ]
    one = [_queries(client, url, django_assert_max_num_queries) for url in urls]
    for _ in range(4):
        add_file()
    five = [_queries(client, url, django_assert_max_num_queries) for url in urls]
    assert five == one
    assert len(client.get(urls[0]).context["page"]) == 5


def test_a_service_file_takes_a_paper_it_does_not_expect(
    client, branch, advisor, technician, media
):
    # given a closed work order's section, which never expects a free inspection sheet
    section = closed_work_order(branch, advisor, technician).archive_section
    client.force_login(advisor)
    page = client.get(file_url(section))
    content = page.content.decode()
    assert reverse("service:work-order-detail", args=[section.work_order_id]) in content
    other = row_of(page, "other").upload_form
    assert DocumentKind.FREE_INSPECTION_SHEET in dict(other.fields["kind"].widget.choices)
    # when the advisor files one through "another paper"
    response = upload(client, section, DocumentKind.FREE_INSPECTION_SHEET, scan("free.png", PNG))
    # then it is filed and shown as a paper the section does not expect
    assert response.status_code == 302
    document = ArchiveDocument.objects.get(section=section)
    assert (document.kind, document.content_type) == (
        DocumentKind.FREE_INSPECTION_SHEET, "image/png",
    )  # fmt: skip
    row = row_of(client.get(file_url(section)), DocumentKind.FREE_INSPECTION_SHEET)
    assert row.document == document and not row.expected


def test_a_disposed_file_lists_what_was_destroyed_and_gives_no_scan(
    client, customer_care, branch_manager, section, invoice
):
    # given the file sealed and its disposal approved
    seal(section)
    services.disposal_request(vehicle_file=section.vehicle_file, by=customer_care)
    services.disposal_approve(vehicle_file=section.vehicle_file, by=branch_manager)
    client.force_login(customer_care)
    # when its page is opened, then it lists the destroyed scan and links to none
    content = client.get(file_url(section)).content.decode()
    download = reverse("archives:document-download", args=[invoice.pk])
    assert 'id="destroyed"' in content and invoice.sha256 in content
    assert download not in content
    # and the scan cannot be fetched
    assert client.get(download).status_code == 404
