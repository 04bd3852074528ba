"""Archive records built the way the departments make them: a vehicle delivered through the
sales services and a work order closed through the service services, each sending its event
so the archive opens the file; scans as small real PDF / JPEG / PNG files."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import timezone

from archives import services
from archives.choices import DocumentKind, SectionKind
from archives.models import FileSection
from dealer_crm.errors import DomainError
from sales import services as sales_services
from sales.choices import DeliveryCheck, DeliveryDocument, OrderStatus
from service import services as service_services
from tests.factories.sales import OrderFactory, PaymentFactory
from tests.service.helpers import ready_work_order, settle

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def scan(name: str = "scan.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def refusal(call) -> DomainError:
    try:
        call()
    except DomainError as error:
        return error
    raise AssertionError("the service did not refuse")


def invoiced_order(branch, consultant, *, days_ago: int = 0):
    """An invoiced, paid order whose vehicle passed its PDI `days_ago`: ready to deliver."""
    day = timezone.localdate() - timedelta(days=days_ago)
    order = OrderFactory(branch=branch, consultant=consultant, status=OrderStatus.INVOICED)
    order.stock_vehicle.pdi_done_on = order.stock_vehicle.arrival_date = day
    order.stock_vehicle.save()
    PaymentFactory(order=order, amount=order.total_price)
    return order


def deliver(order, by):
    """交车 of the order on its PDI day, through sales (which publishes the delivery)."""
    return sales_services.delivery_record(
        order=order, by=by, delivered_on=order.stock_vehicle.pdi_done_on,
        checklist=list(DeliveryCheck.values), documents=list(DeliveryDocument.values),
    )  # fmt: skip


def delivered_section(branch, consultant, *, days_ago: int = 0) -> FileSection:
    """A vehicle delivered `days_ago` through sales; the archive's receiver opens its file."""
    order = invoiced_order(branch, consultant, days_ago=days_ago)
    with TestCase.captureOnCommitCallbacks(execute=True):
        delivery = deliver(order, consultant)
    return FileSection.objects.get(delivery=delivery)


def closed_work_order(branch, advisor, technician, *, prepare=None, **data):
    """A work order taken through to closing (`prepare(work_order)` runs before it is
    settled: certificates checked, a claim made, a rescue linked); the archive's receiver
    files its section."""
    work_order = ready_work_order(branch, advisor, technician, **data)
    if prepare is not None:
        prepare(work_order)
    settle(work_order, advisor)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return service_services.work_order_close(work_order=work_order, by=advisor)


def sales_papers(day, buyer: str) -> dict:
    """The facts of a correct sales file delivered on `day` to `buyer`, by document type."""
    return {
        DocumentKind.DELIVERY_FORM: {"document_date": day},
        DocumentKind.PURCHASE_INVOICE: {"document_date": day, "name_on_document": buyer},
        DocumentKind.PDI_CERTIFICATE: {"document_date": day, "stamped": True},
        DocumentKind.BUYER_ID: {"name_on_document": buyer},
        DocumentKind.CONFORMITY_CERTIFICATE: {},
        DocumentKind.PURCHASE_AGREEMENT: {
            "document_date": day, "signed": True, "stamped": True, "all_pages": True,
        },
        DocumentKind.PDI_SHEET: {"document_date": day},
    }  # fmt: skip


def file_papers(section, by, *, kinds=None, overrides: dict | None = None) -> dict:
    """Upload a scan of each of `kinds` (every paper the section expects unless said); a
    sales section's papers carry the facts of `sales_papers`, changed by `overrides`."""
    papers = (
        sales_papers(section.period_on, section.delivery.order.customer.name)
        if section.kind == SectionKind.SALES
        else {}
    )
    for kind, facts in (overrides or {}).items():
        papers[kind] = {**papers.get(kind, {}), **facts}
    return {
        kind: services.document_upload(
            section=section,
            kind=kind,
            upload=scan(f"{kind}.pdf", PDF + kind.encode()),
            by=by,
            data=papers.get(kind, {}),
        )  # fmt: skip
        for kind in (section.expected if kinds is None else kinds)
    }


def file_sales_papers(section, by, *, overrides: dict | None = None) -> dict:
    """Upload the seven sales documents (facts of `sales_papers`, changed by `overrides`)."""
    return file_papers(section, by, overrides=overrides)


def audit_conforming(documents, by) -> None:
    for document in documents:
        services.document_audit(document=document, conforming=True, by=by)


def stored_files(root) -> list[str]:
    """Every file under the media root, as paths relative to it."""
    return sorted(str(path.relative_to(root)) for path in Path(root).rglob("*") if path.is_file())


@pytest.fixture
def media(settings, tmp_path):
    """Uploads go to a directory of the test's own."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path
