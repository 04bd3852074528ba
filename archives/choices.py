from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SectionKind(models.TextChoices):
    SALES = "sales", _("Sales file")
    SERVICE = "service", _("Service file")


class DocumentKind(models.TextChoices):
    """The papers of a vehicle file (一车一档): the sales file's seven in their order, then
    the service file's."""

    DELIVERY_FORM = "delivery_form", _("Delivery form (交车单)")
    PURCHASE_INVOICE = "purchase_invoice", _("Purchase invoice (购车发票)")
    PDI_CERTIFICATE = "pdi_certificate", _("PDI certificate, stamped copy (PDI 证明)")
    BUYER_ID = "buyer_id", _("ID card or organization code (身份证 / 组织机构代码)")
    CONFORMITY_CERTIFICATE = "conformity_certificate", _("Certificate of conformity, copy (合格证)")
    PURCHASE_AGREEMENT = "purchase_agreement", _("Purchase agreement (购车协议)")
    PDI_SHEET = "pdi_sheet", _("PDI maintenance sheet (PDI 检查单)")
    FIRST_MAINTENANCE_VOUCHER = (
        "first_maintenance_voucher",
        _("First maintenance voucher (首保凭证)"),
    )
    WORK_ORDER = "work_order", _("Work order (任务委托书)")
    SETTLEMENT = "settlement", _("Settlement (结算单)")
    MAINTENANCE_SHEET = "maintenance_sheet", _("Maintenance sheet (保养表)")
    CHECK_IN_OUT_SHEET = "check_in_out_sheet", _("Check-in / check-out sheet (接 / 交车单)")
    ROAD_TEST_RECORD = "road_test_record", _("Road test record (路试记录)")
    RESCUE_SHEET = "rescue_sheet", _("Rescue sheet (救援单)")
    FREE_INSPECTION_SHEET = "free_inspection_sheet", _("Free inspection sheet (免费检测单)")
    WARRANTY_CERTIFICATE = "warranty_certificate", _("Warranty certificate, copy (保修证明)")
    MAINTENANCE_CERTIFICATE = (
        "maintenance_certificate",
        _("Maintenance certificate, copy (保养证明)"),
    )


# The sales file, in the order it is filed.
SALES_DOCUMENTS = [
    DocumentKind.DELIVERY_FORM,
    DocumentKind.PURCHASE_INVOICE,
    DocumentKind.PDI_CERTIFICATE,
    DocumentKind.BUYER_ID,
    DocumentKind.CONFORMITY_CERTIFICATE,
    DocumentKind.PURCHASE_AGREEMENT,
    DocumentKind.PDI_SHEET,
]
# Every paper a service file may hold, in its order; which of them a work order expects
# follows its type (services.service_documents_expected).
SERVICE_DOCUMENTS = [
    DocumentKind.FIRST_MAINTENANCE_VOUCHER,
    DocumentKind.WORK_ORDER,
    DocumentKind.SETTLEMENT,
    DocumentKind.MAINTENANCE_SHEET,
    DocumentKind.CHECK_IN_OUT_SHEET,
    DocumentKind.ROAD_TEST_RECORD,
    DocumentKind.RESCUE_SHEET,
    DocumentKind.FREE_INSPECTION_SHEET,
    DocumentKind.WARRANTY_CERTIFICATE,
    DocumentKind.MAINTENANCE_CERTIFICATE,
]


class DocumentStatus(models.TextChoices):
    RECEIVED = "received", _("Awaiting audit")
    CONFORMING = "conforming", _("Conforming")
    RETURNED = "returned", _("Returned as nonconforming")
    REPLACED = "replaced", _("Replaced by a later version")


class FileStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SEALED = "sealed", _("Sealed (封存)")
    DISPOSED = "disposed", _("Disposed")


class PenaltyReason(models.TextChoices):
    NONCONFORMING = "nonconforming", _("Nonconforming document")
    LATE_REWORK = "late_rework", _("Not back fixed within 24 hours")
    RETURNED_UNCHANGED = "returned_unchanged", _("Returned unchanged")


class BatchStatus(models.TextChoices):
    EXPECTED = "expected", pgettext_lazy("archive batch", "Expected")
    RECEIVED = "received", pgettext_lazy("archive batch", "Received")


class ExemptionReason(models.TextChoices):
    NOT_INVOICED = "not_invoiced", _("Not yet invoiced")
    IN_REPAIR = "in_repair", _("Still in repair")
    CLAIM_IN_PROGRESS = "claim_in_progress", _("Claim in progress")
