from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.choices import CustomerSource

# Where a lead came from: the customer sources of DOMAIN §2, shared with the customer record so
# that a lead becomes a customer with its source unchanged (an import is not a lead source).
LeadSource = models.TextChoices(
    "LeadSource",
    [
        (source.name, (source.value, source.label))
        for source in CustomerSource
        if source != "import"
    ],
)


class IntentLevel(models.TextChoices):
    """How soon the customer means to buy; it sets how often the consultant follows up."""

    H = "H", _("H — buys within 7 days")
    A = "A", _("A — within 15 days")
    B = "B", _("B — within 30 days")
    C = "C", _("C — later")


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    VERIFIED = "verified", _("Verified")
    CONTACTED = "contacted", _("Contacted")
    VISITED = "visited", _("Visited")
    TEST_DRIVEN = "test_driven", _("Test-driven")
    QUOTED = "quoted", _("Quoted")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")
    INVALID = "invalid", _("Invalid")


# The funnel's order of the open statuses; a lead only ever moves forward along it.
LEAD_PROGRESS = [
    LeadStatus.NEW,
    LeadStatus.VERIFIED,
    LeadStatus.CONTACTED,
    LeadStatus.VISITED,
    LeadStatus.TEST_DRIVEN,
    LeadStatus.QUOTED,
    LeadStatus.WON,
]
LEAD_CLOSED = [LeadStatus.WON, LeadStatus.LOST, LeadStatus.INVALID]


class LostReason(models.TextChoices):
    """战败原因."""

    COMPETITOR_BRAND = "competitor_brand", _("Bought another brand")
    OTHER_DEALER = "other_dealer", _("Bought from another dealer")
    PRICE = "price", _("Price too high")
    FINANCING = "financing", _("Financing not approved")
    POSTPONED = "postponed", _("Purchase postponed")
    PRODUCT = "product", _("Product does not fit")
    SERVICE = "service", _("Unhappy with our service")
    UNREACHABLE = "unreachable", _("Cannot be reached")
    OTHER = "other", _("Other")


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    VISIT = "visit", _("Showroom visit")
    MESSAGE = "message", pgettext_lazy("activity kind", "Message")


class ActivityOutcome(models.TextChoices):
    REACHED = "reached", _("Reached, follow up")
    APPOINTMENT = "appointment", _("Appointment made")
    NOT_REACHED = "not_reached", _("Not reached")
    CONSIDERING = "considering", _("Still considering")
    NOT_INTERESTED = "not_interested", _("Not interested")


class StockStatus(models.TextChoices):
    IN_TRANSIT = "in_transit", _("In transit")
    IN_STOCK = "in_stock", _("In stock")
    RESERVED = "reserved", _("Reserved")
    SOLD = "sold", _("Sold")
    DELIVERED = "delivered", pgettext_lazy("stock status", "Delivered")
    DEMO = "demo", _("Demo car")


class TestDriveStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending_approval", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SENT = "sent", _("Sent")


class ApprovalDecision(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", pgettext_lazy("order status", "Signed")
    ALLOCATED = "allocated", _("Vehicle allocated")
    INVOICED = "invoiced", pgettext_lazy("order status", "Invoiced")
    DELIVERED = "delivered", pgettext_lazy("order status", "Delivered")
    CANCELLED = "cancelled", _("Cancelled")


class DepositHandling(models.TextChoices):
    NONE = "none", _("No deposit paid")
    REFUNDED = "refunded", _("Refunded")
    FORFEITED = "forfeited", _("Kept by the dealership")
    TRANSFERRED = "transferred", _("Moved to another order")


class PaymentKind(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    INSTALMENT = "instalment", _("Instalment")
    LOAN = "loan", _("Loan disbursement")
    FINAL = "final", _("Final payment")


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Bank card")
    TRANSFER = "transfer", _("Bank transfer")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")


class DeliveryCheck(models.TextChoices):
    """交车检查: what is shown and checked with the customer at the handover."""

    EXTERIOR = "exterior", _("Exterior and paint checked with the customer")
    INTERIOR = "interior", _("Interior and equipment checked")
    FUNCTIONS = "functions", _("Functions and controls explained")
    FUEL = "fuel", _("Fuel or charge level agreed")
    ACCESSORIES = "accessories", _("Ordered accessories fitted")
    SERVICE_INTRO = "service_intro", _("Service advisor introduced, first service explained")


class DeliveryDocument(models.TextChoices):
    """随车文件: the documents handed to the customer."""

    INVOICE = "invoice", _("Vehicle sales invoice")
    CERTIFICATE = "certificate", _("Certificate of conformity")
    MANUAL = "manual", _("Owner's manual")
    WARRANTY = "warranty", _("Warranty and 三包 booklet")
    INSURANCE = "insurance", _("Insurance policy")
    KEYS = "keys", _("Keys (two)")
    REGISTRATION = "registration", _("Registration papers")


class TradeInDecision(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
