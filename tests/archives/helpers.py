"""Archive records built the way the departments make them: a vehicle delivered through the
sales services and a work order closed through the service services, each sending its event
so the archive opens the file; scans as small real PDF / JPEG / PNG files."""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import timezone

from archives import services
from archives.choices import SALES_DOCUMENTS, DocumentKind
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


def delivered_section(branch, consultant, *, days_ago: int = 0) -> FileSection:
    """A vehicle delivered `days_ago` through sales; the archive's receiver opens its file."""
    day = timezone.localdate() - timedelta(days=days_ago)
    order = OrderFactory(branch=branch, consultant=consultant, status=OrderStatus.INVOICED)
    order.stock_vehicle.pdi_done_on = order.stock_vehicle.arrival_date = day
    order.stock_vehicle.save()
    PaymentFactory(order=order, amount=order.total_price)
    with TestCase.captureOnCommitCallbacks(execute=True):
        delivery = sales_services.delivery_record(
            order=order, by=consultant, delivered_on=day,
            checklist=list(DeliveryCheck.values), documents=list(DeliveryDocument.values),
        )  # fmt: skip
    return FileSection.objects.get(delivery=delivery)


def closed_work_order(branch, advisor, technician, **data):
    """A work order taken through to closing; the archive's receiver files its section."""
    work_order = ready_work_order(branch, advisor, technician, **data)
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


def file_sales_papers(section, by, *, overrides: dict | None = None) -> dict:
    """Upload the seven sales documents (facts of `sales_papers`, changed by `overrides`)."""
    papers = sales_papers(section.period_on, section.delivery.order.customer.name)
    for kind, facts in (overrides or {}).items():
        papers[kind] = {**papers[kind], **facts}
    return {
        kind: services.document_upload(
            section=section,
            kind=kind,
            upload=scan(f"{kind}.pdf", PDF + kind.encode()),
            by=by,
            data=papers[kind],
        )  # fmt: skip
        for kind in SALES_DOCUMENTS
    }
