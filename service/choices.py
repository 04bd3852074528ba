from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ServiceType(models.TextChoices):
    """What a work order (任务委托书) is for."""

    MAINTENANCE = "maintenance", _("Maintenance")
    REPAIR = "repair", _("Repair")
    BODYWORK = "bodywork", _("Bodywork (钣金)")
    PAINT = "paint", _("Paint")
    WARRANTY = "warranty", _("Warranty")
    INTERNAL = "internal", _("Internal")
    PDI = "pdi", _("PDI")
    RESCUE = "rescue", _("Rescue")


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CHECKED_IN = "checked_in", _("Checked in")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")


class WorkOrderStatus(models.TextChoices):
    """open → in progress → quality check → ready → settled → closed."""

    OPEN = "open", pgettext_lazy("work order status", "Open")
    IN_PROGRESS = "in_progress", _("In progress")
    QUALITY_CHECK = "quality_check", _("Quality check")
    READY = "ready", _("Ready for collection")
    SETTLED = "settled", _("Settled")
    CLOSED = "closed", _("Closed")


# Each status a work order may move to, and the one it must be in first.
WORK_ORDER_TRANSITIONS = {
    WorkOrderStatus.IN_PROGRESS: WorkOrderStatus.OPEN,
    WorkOrderStatus.QUALITY_CHECK: WorkOrderStatus.IN_PROGRESS,
    WorkOrderStatus.READY: WorkOrderStatus.QUALITY_CHECK,
    WorkOrderStatus.SETTLED: WorkOrderStatus.READY,
    WorkOrderStatus.CLOSED: WorkOrderStatus.SETTLED,
}
# While a work order is in one of these, its lines may change.
EDITABLE_STATUSES = {WorkOrderStatus.OPEN, WorkOrderStatus.IN_PROGRESS}


class FuelLevel(models.TextChoices):
    EMPTY = "empty", _("Empty")
    QUARTER = "quarter", _("1/4")
    HALF = "half", _("1/2")
    THREE_QUARTERS = "three_quarters", _("3/4")
    FULL = "full", _("Full")


class ConfirmationMethod(models.TextChoices):
    """How the customer confirmed an added item (增项)."""

    IN_PERSON = "in_person", _("In person, signed")
    PHONE = "phone", _("By phone")
    WECHAT = "wechat", _("By WeChat")
    SMS = "sms", _("By SMS")


class RecommendationStatus(models.TextChoices):
    OPEN = "open", _("Recommended")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined, carried to the next visit")
    CARRIED = "carried", _("Carried to a later visit")


class ChecklistResult(models.TextChoices):
    DONE = "done", _("Done (✓)")
    STRUCK = "struck", _("Not needed (✗)")


class TyrePosition(models.TextChoices):
    FRONT_LEFT = "front_left", _("Front left")
    FRONT_RIGHT = "front_right", _("Front right")
    REAR_LEFT = "rear_left", _("Rear left")
    REAR_RIGHT = "rear_right", _("Rear right")
    SPARE = "spare", _("Spare")


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Bank card")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    TRANSFER = "transfer", _("Bank transfer")
    NONE = "none", _("Nothing to pay")


class InsuranceClaimStatus(models.TextChoices):
    REPORTED = "reported", _("Reported")
    ASSESSED = "assessed", _("Assessed")
    APPROVED = "approved", _("Approved")
    REPAIRED = "repaired", _("Repaired")
    PAID = "paid", _("Paid")


class WarrantyClaimStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted to the manufacturer")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    PAID = "paid", _("Paid")


class RescueStatus(models.TextChoices):
    CALLED = "called", _("Called in")
    DISPATCHED = "dispatched", _("Dispatched")
    ARRIVED = "arrived", pgettext_lazy("rescue", "Arrived")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class RescueOutcome(models.TextChoices):
    FIXED_ON_SITE = "fixed_on_site", _("Fixed on site")
    TOWED = "towed", _("Towed to the workshop")
    NOT_NEEDED = "not_needed", _("Not needed")
