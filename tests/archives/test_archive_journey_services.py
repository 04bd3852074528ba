"""One vehicle's file through the archive services: opened by the delivery, filed with one
wrong paper, the paper returned with a point and sent back fixed, the file complete; a work
order's section reconciled into a missing report; the file sealed when its time comes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from archives import services
from archives.choices import DocumentKind, DocumentStatus, FileStatus, SectionKind
from archives.models import MissingArchiveReport, PenaltyPoint
from tests.archives.helpers import (
    PDF,
    closed_work_order,
    delivered_section,
    file_sales_papers,
    refusal,
    scan,
)

pytestmark = pytest.mark.django_db


def test_a_sales_file_from_delivery_to_complete(branch, consultant, customer_care):
    section = delivered_section(branch, consultant)
    assert section.kind == SectionKind.SALES
    assert section.expected[0] == DocumentKind.DELIVERY_FORM and len(section.expected) == 7
    day = section.period_on

    papers = file_sales_papers(
        section, consultant,
        overrides={DocumentKind.PURCHASE_INVOICE: {"document_date": day + timedelta(days=3)}},
    )  # fmt: skip
    section.refresh_from_db()
    assert [f["code"] for f in section.findings] == ["invoice_pdi_gap"]
    assert not section.complete

    invoice = papers[DocumentKind.PURCHASE_INVOICE]
    services.document_audit(
        document=invoice, conforming=False, by=customer_care, reason="发票日期与 PDI 相差 3 天"
    )
    for kind, document in papers.items():
        if kind != DocumentKind.PURCHASE_INVOICE:
            services.document_audit(document=document, conforming=True, by=customer_care)
    assert PenaltyPoint.objects.get(person=consultant).reason == "nonconforming"

    fixed = services.document_upload(
        section=section, kind=DocumentKind.PURCHASE_INVOICE,
        upload=scan("invoice-fixed.pdf", PDF + b"fixed"), by=consultant,
        data={"document_date": day, "name_on_document": section.delivery.order.customer.name},
    )  # fmt: skip
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.REPLACED
    services.document_audit(document=fixed, conforming=True, by=customer_care)

    section.refresh_from_db()
    assert section.findings == [] and section.complete
    record = invoice.nonconformity
    record.refresh_from_db()
    assert record.resubmitted == fixed and record.resolved_at is not None
    assert PenaltyPoint.objects.filter(person=consultant).count() == 1


def test_reconciliation_reports_a_work_order_with_no_papers(
    branch, advisor, technician, customer_care
):
    work_order = closed_work_order(branch, advisor, technician)
    section = work_order.archive_section
    assert section.kind == SectionKind.SERVICE
    assert DocumentKind.WORK_ORDER in section.expected

    run = services.reconcile(branch=branch, now=section.due_at - timedelta(minutes=1))
    assert run.reports_opened == 0
    run = services.reconcile(branch=branch, now=section.due_at + timedelta(minutes=1))
    assert run.reports_opened == 1 and run.work_orders == 1 and run.service_sections == 1
    report = MissingArchiveReport.objects.get(section=section)
    assert report.due_by == report.opened_at + timedelta(days=2)
    # the rerun opens nothing new; the day's row still counts the report opened earlier
    again = services.reconcile(branch=branch, now=section.due_at + timedelta(hours=2))
    assert again.reports_opened == 1 and MissingArchiveReport.objects.count() == 1


def test_a_file_without_service_for_five_years_is_sealed(branch, consultant):
    section = delivered_section(branch, consultant)
    vehicle_file = section.vehicle_file
    today = timezone.localdate()
    assert vehicle_file.retain_until == services.add_years(vehicle_file.opened_on, 5)
    assert services.retention_apply(today=services.add_years(today, 5)) == 1
    vehicle_file.refresh_from_db()
    assert vehicle_file.status == FileStatus.SEALED
    error = refusal(lambda: services.document_upload(
        section=section, kind=DocumentKind.DELIVERY_FORM, upload=scan(), by=consultant, data={},
    ))  # fmt: skip
    assert error.code == "file_sealed"
