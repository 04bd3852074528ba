from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CallReason(models.TextChoices):
    """Why a follow-up call (回访) is made."""

    DELIVERY_DAY_1 = "delivery_day_1", _("Day 1 after delivery")
    DELIVERY_DAY_7 = "delivery_day_7", _("Day 7 after delivery")
    DELIVERY_DAY_30 = "delivery_day_30", _("Day 30 after delivery")
    SERVICE = "service", _("After a service visit")
    COMPLAINT = "complaint", _("After a complaint was closed")


class CallStatus(models.TextChoices):
    DUE = "due", pgettext_lazy("follow-up call", "To call")
    DONE = "done", pgettext_lazy("follow-up call", "Done")
    UNREACHABLE = "unreachable", _("Unreachable")
    CANCELLED = "cancelled", pgettext_lazy("follow-up call", "Cancelled")


class CallOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy, call back")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    DECLINED = "declined", _("Declined to talk")


class ComplaintChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    WALK_IN = "walk_in", _("In person")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("E-mail")
    FOLLOW_UP = "follow_up", _("Follow-up call")
    MANUFACTURER = "manufacturer", _("Manufacturer hotline")


class ComplaintCategory(models.TextChoices):
    SERVICE_QUALITY = "service_quality", _("Repair or maintenance quality")
    SALES = "sales", _("Sales and delivery")
    PARTS = "parts", _("Parts availability")
    PRICE = "price", _("Price and billing")
    ATTITUDE = "attitude", _("Staff attitude")
    WAITING = "waiting", _("Waiting time")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class ComplaintStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("complaint", "Open")
    RESPONDED = "responded", _("Responded")
    RESOLVED = "resolved", _("Resolved, awaiting the customer")
    CLOSED = "closed", _("Closed, confirmed by the customer")


class InquiryKind(models.TextChoices):
    INQUIRY = "inquiry", _("Inquiry (咨询)")
    SUGGESTION = "suggestion", _("Suggestion (建议)")


class Lifecycle(models.TextChoices):
    PROSPECT = "prospect", pgettext_lazy("customer lifecycle", "Prospect")
    OWNER = "owner", pgettext_lazy("customer lifecycle", "Owner")
    LOST = "lost", pgettext_lazy("customer lifecycle", "Lost")


class AbnormalReason(models.TextChoices):
    """The four reasons of DOMAIN §1 to reach out to a customer (异常客户)."""

    NEAR_CHURN = "near_churn", _("Near churn (濒临流失)")
    LONG_INACTIVE = "long_inactive", _("Long inactive (长期未入库)")
    COMPLAINED = "complained", _("Complained, not back since (曾抱怨或投诉)")
    REPAIR_ONLY = "repair_only", _("Repairs, no maintenance (只维修不保养)")


class ReminderKind(models.TextChoices):
    MAINTENANCE = "maintenance", _("Maintenance due")
    INSURANCE = "insurance", _("Insurance renewal")
    INSPECTION = "inspection", _("Annual inspection")
    WARRANTY = "warranty", _("Warranty expiry")
    BIRTHDAY = "birthday", _("Birthday greeting")
    HOLIDAY = "holiday", _("Holiday greeting")


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("E-mail")


class MessageStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    NO_CONSENT = "no_consent", _("Not sent: no consent")
    NO_ADDRESS = "no_address", _("Not sent: no phone or e-mail")


class TargetSegment(models.TextChoices):
    """Whom a campaign (关怀活动) is aimed at: one segment of the nightly run."""

    NEAR_CHURN = "near_churn", _("Near churn (濒临流失)")
    LONG_INACTIVE = "long_inactive", _("Long inactive (长期未入库)")
    COMPLAINED = "complained", _("Complained, not back since (曾抱怨或投诉)")
    REPAIR_ONLY = "repair_only", _("Repairs, no maintenance (只维修不保养)")
    KEY_CUSTOMERS = "key_customers", _("Key customers (重点客户)")
    LOST = "lost", _("Lost customers")
    THREE_GUARANTEES = "three_guarantees", _("Vehicles within 三包 period")
    WARRANTY = "warranty", _("Vehicles within manufacturer warranty")
    OUT_OF_WARRANTY = "out_of_warranty", _("Vehicles out of warranty")


class OfferKind(models.TextChoices):
    """The offer packages of a campaign. Two take money off the settlement; the others are
    gifts handed over at the visit."""

    APPOINTMENT_GIFT = "appointment_gift", _("Gift for an appointment visit (预约礼)")
    # xgettext:no-python-format
    HALF_LABOUR = "half_labour", _("50% off labour (工时五折)")
    FREE_MAINTENANCE_LABOUR = "free_maintenance_labour", _("Free labour on maintenance")
    ENGINE_BAY_CARE = "engine_bay_care", _("Engine-bay cleaning with a care package")
    OIL_FILTER = "oil_filter", _("An oil filter")
    CAN_OF_OIL = "can_of_oil", _("A can of oil")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("campaign", "Draft")
    LAUNCHED = "launched", _("Launched")
    CLOSED = "closed", pgettext_lazy("campaign", "Closed")


class OfferStatus(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned")
    REQUESTED = "requested", _("Redemption awaiting sign-off")
    APPROVED = "approved", _("Signed off, awaiting settlement")
    REDEEMED = "redeemed", _("Redeemed")


class PointsKind(models.TextChoices):
    PURCHASE = "purchase", _("Vehicle purchase")
    SERVICE = "service", _("Service visit")
    REFERRAL = "referral", _("Referral")
    REDEMPTION = "redemption", _("Redemption")
