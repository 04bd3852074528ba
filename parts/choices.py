from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PartClass(models.TextChoices):
    """The five classifications of a part (配件分类)."""

    BASE = "base", _("Base part (基础件)")
    CONSUMABLE = "consumable", _("Consumable (消耗件)")
    WEAR = "wear", _("Wear part (易损件)")
    MAINTENANCE = "maintenance", _("Maintenance part (维修零件)")
    ACCIDENT = "accident", _("Accident part (肇事件)")


class Unit(models.TextChoices):
    PIECE = "piece", _("piece")
    SET = "set", _("set")
    LITRE = "litre", _("litre")
    KILOGRAM = "kg", _("kg")
    METRE = "metre", _("metre")


# Units a part is counted in whole: half a spark plug cannot be issued.
WHOLE_UNITS = {Unit.PIECE, Unit.SET}


class MoveKind(models.TextChoices):
    """Why a quantity changed. Receipts and returns add; issues and sales take away."""

    RECEIPT = "receipt", _("Receipt")
    WORK_ORDER_ISSUE = "work_order_issue", _("Issue to a work order")
    COUNTER_SALE = "counter_sale", _("Counter sale")
    RETURN_TO_STOCK = "return_to_stock", _("Return to stock")
    RETURN_TO_SUPPLIER = "return_to_supplier", _("Return to supplier")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    STOCKTAKE_GAIN = "stocktake_gain", _("Stocktake gain")
    STOCKTAKE_LOSS = "stocktake_loss", _("Stocktake loss")


INCOMING_MOVES = {
    MoveKind.RECEIPT,
    MoveKind.RETURN_TO_STOCK,
    MoveKind.TRANSFER_IN,
    MoveKind.STOCKTAKE_GAIN,
}
OUTGOING_MOVES = set(MoveKind) - INCOMING_MOVES


class OrderKind(models.TextChoices):
    """Why parts are bought: to refill the shelves, or at once for a job or a customer."""

    STOCK = "stock", _("Stock order")
    EMERGENCY = "emergency", _("Emergency order")


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ORDERED = "ordered", _("Ordered")
    PARTLY_RECEIVED = "partly_received", _("Partly received")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


# A purchase order in one of these takes no more receipts.
CLOSED_ORDER_STATUSES = {PurchaseOrderStatus.RECEIVED, PurchaseOrderStatus.CANCELLED}


class ReceiptStatus(models.TextChoices):
    """A receipt (验收单) is checked on arrival, then put away and registered (入库登记)."""

    CHECKED = "checked", _("Checked, awaiting put-away")
    REGISTERED = "registered", _("Put away and registered")


class Discrepancy(models.TextChoices):
    SHORT = "short", _("Short")
    OVER = "over", _("Over")
    DAMAGED = "damaged", _("Damaged")


class IssueKind(models.TextChoices):
    """What an issue voucher (出库单) takes parts out for, and the move it posts."""

    WORK_ORDER = "work_order", _("Issue to a work order")
    COUNTER_SALE = "counter_sale", _("Counter sale")
    SUPPLIER_RETURN = "supplier_return", _("Return to supplier")
    TRANSFER = "transfer", _("Transfer to another branch")


ISSUE_MOVES = {
    IssueKind.WORK_ORDER: MoveKind.WORK_ORDER_ISSUE,
    IssueKind.COUNTER_SALE: MoveKind.COUNTER_SALE,
    IssueKind.SUPPLIER_RETURN: MoveKind.RETURN_TO_SUPPLIER,
    IssueKind.TRANSFER: MoveKind.TRANSFER_OUT,
}


class IssueStatus(models.TextChoices):
    """The steps of an issue (出库): voucher checked, picked, checked again, handed over and
    registered (出库登记)."""

    REQUESTED = "requested", _("Requested")
    CHECKED = "checked", _("Voucher checked")
    PICKED = "picked", _("Picked")
    RECHECKED = "rechecked", _("Checked again")
    HANDED_OVER = "handed_over", _("Handed over and registered")
    CANCELLED = "cancelled", _("Cancelled")


# Each step of an issue and the status it follows.
ISSUE_STEPS = {
    IssueStatus.CHECKED: IssueStatus.REQUESTED,
    IssueStatus.PICKED: IssueStatus.CHECKED,
    IssueStatus.RECHECKED: IssueStatus.PICKED,
    IssueStatus.HANDED_OVER: IssueStatus.RECHECKED,
}


class LostSaleReason(models.TextChoices):
    OUT_OF_STOCK = "out_of_stock", _("Not enough in stock")
    NOT_STOCKED = "not_stocked", _("Part not stocked here")
    EMERGENCY_ORDER = "emergency_order", _("Ordered for the customer (即购即销)")


class StocktakeScope(models.TextChoices):
    ALL = "all", _("All stock")
    ZONE = "zone", _("One zone")
    CLASSIFICATION = "classification", _("One classification")


class StocktakeStatus(models.TextChoices):
    COUNTING = "counting", _("Frozen, counting")
    POSTED = "posted", _("Approved and posted")
    CANCELLED = "cancelled", _("Cancelled")


class SuggestionStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("reorder suggestion status", "Open")
    ORDERED = "ordered", _("Ordered")
    DISMISSED = "dismissed", _("Dismissed")


class EmergencyStatus(models.TextChoices):
    """即购即销: requested by the advisor, quoted by the supplier, deposit paid by the
    customer, ordered, arrived (the advisor is told), handed over — or cancelled."""

    REQUESTED = "requested", _("Requested")
    QUOTED = "quoted", _("Quoted")
    DEPOSIT_PAID = "deposit_paid", _("Deposit paid")
    ORDERED = "ordered", _("Ordered")
    ARRIVED = "arrived", _("Arrived")
    HANDED_OVER = "handed_over", _("Handed over")
    CANCELLED = "cancelled", _("Cancelled")
