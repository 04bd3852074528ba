from django.db import models
from django.utils.translation import gettext_lazy as _


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
