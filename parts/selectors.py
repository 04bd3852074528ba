"""Reads of the stockroom: stock with its value and last move, the bin map, and the parts
figures (fill rate, turnover, days of stock, dead stock, stocktake accuracy)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, Round

from dealer_crm.kpis import Scope, kpi_get
from dealer_crm.periods import local_day_end

from .models import (
    ZERO,
    Bin,
    PartStock,
    StockMove,
    Stocktake,
    StocktakeLine,
)

# A part on the shelf with no move for this long is dead stock (呆滞库存).
DEAD_STOCK_DAYS = 365
VALUE = DecimalField(max_digits=16, decimal_places=2)
QUANTITY = DecimalField(max_digits=13, decimal_places=3)


def stock_list(*, user: User) -> QuerySet[PartStock]:
    """The user's branches' stock with available, value and the time of the last move."""
    last_move = (
        StockMove.objects.filter(branch=OuterRef("branch"), part=OuterRef("part"))
        .order_by("-at")
        .values("at")[:1]
    )
    return (
        PartStock.objects.for_user(user)
        .select_related("part", "part__supplier", "bin", "branch")
        .annotate(
            available_quantity=F("on_hand") - F("reserved"),
            stock_value=ExpressionWrapper(F("on_hand") * F("average_cost"), output_field=VALUE),
            last_move_at=Subquery(last_move),
        )
    )


def dead_stock(*, user: User, on: date) -> QuerySet[PartStock]:
    """Stock on the shelf that has not moved for 12 months (呆滞件)."""
    cutoff = local_day_end(on) - timedelta(days=DEAD_STOCK_DAYS)
    moved = StockMove.objects.filter(
        branch=OuterRef("branch"), part=OuterRef("part"), at__gte=cutoff
    )
    return stock_list(user=user).filter(on_hand__gt=0).exclude(Exists(moved))


@dataclass
class BinCell:
    bin: Bin
    stock: PartStock | None


def bin_map(*, branch_id: int) -> list[tuple[str, list[tuple[str, list[BinCell]]]]]:
    """[(zone, [(shelf, [cell per level])])]: every bin of the branch with what it holds."""
    bins = Bin.objects.filter(branch_id=branch_id).order_by("zone", "shelf", "level")
    held = {
        stock.bin_id: stock
        for stock in PartStock.objects.filter(
            branch_id=branch_id, bin__isnull=False
        ).select_related("part")
    }
    zones: dict[str, dict[str, list[BinCell]]] = defaultdict(lambda: defaultdict(list))
    for place in bins:
        zones[place.zone][place.shelf].append(BinCell(place, held.get(place.pk)))
    return [(zone, list(shelves.items())) for zone, shelves in zones.items()]


def parts_figures(*, branch_ids: list[int], start: date, end: date) -> dict:
    """The parts figures of DOMAIN §8 for the branches and the period (both days included),
    each the KPI registry's (parts.kpis: one computation of each) measured over the period:
    fill rate, turnover (cost used ÷ the average of each day's closing stock value), days of
    stock, dead stock (count and value at the period's end) and stocktake accuracy; and the
    numbers they are made of (lines, cost used, the stock's value at the end)."""
    scope = Scope(tuple(branch_ids), start, end)
    measured = {
        code: kpi_get(f"parts.{code}").measure(scope)[(None, "")]
        for code in (
            "fill_rate", "turnover", "days_of_stock", "dead_stock_lines", "dead_stock_value",
            "stocktake_accuracy",
        )
    }  # fmt: skip

    def value(code: str) -> Decimal | None:
        return kpi_get(f"parts.{code}").value(measured[code])

    fill, turnover, days = (measured[c] for c in ("fill_rate", "turnover", "days_of_stock"))
    return {
        "start": start,
        "end": end,
        "lines_requested": int(fill.denominator),
        "lines_served": int(fill.numerator),
        "fill_rate": value("fill_rate"),
        "cost_used": turnover.numerator.quantize(Decimal("0.01")),
        "stock_value": days.numerator.quantize(Decimal("0.01")),
        "turnover": value("turnover"),
        "days_of_stock": value("days_of_stock"),
        "dead_stock_count": int(measured["dead_stock_lines"].numerator),
        "dead_stock_value": value("dead_stock_value"),
        "stocktake_lines": int(measured["stocktake_accuracy"].denominator),
        "stocktake_accuracy": value("stocktake_accuracy"),
    }


def stocktake_compared_lines(stocktake: Stocktake) -> QuerySet[StocktakeLine]:
    """The lines with their difference and its value, worked out by the database so the page
    can sort and total them (each value rounded to the fen like `difference_value`)."""
    return (
        stocktake.lines.select_related("part", "counted_by")
        .annotate(
            difference_quantity=ExpressionWrapper(
                F("counted_quantity") - F("book_quantity"), output_field=QUANTITY
            )
        )
        .annotate(
            difference_amount=Round(
                F("difference_quantity") * F("unit_cost"), 2, output_field=VALUE
            )
        )
    )


def stocktake_totals(lines: QuerySet[StocktakeLine]) -> dict:
    """Lines counted, and the gains, losses and net value of the compared lines."""
    gain, loss = Q(difference_quantity__gt=0), Q(difference_quantity__lt=0)
    totals = lines.order_by().aggregate(
        lines=Count("pk"),
        counted=Count("pk", filter=Q(counted_quantity__isnull=False)),
        gain_lines=Count("pk", filter=gain),
        loss_lines=Count("pk", filter=loss),
        gains=Coalesce(Sum("difference_amount", filter=gain), ZERO, output_field=VALUE),
        losses=Coalesce(Sum("difference_amount", filter=loss), ZERO, output_field=VALUE),
    )
    totals["net"] = totals["gains"] + totals["losses"]
    totals["uncounted"] = totals["lines"] - totals["counted"]
    return totals


def stocktake_progress(stocktake: Stocktake) -> dict:
    """Lines on the stocktake, and how many are counted."""
    return stocktake.lines.aggregate(
        total=Count("pk"), counted=Count("pk", filter=Q(counted_quantity__isnull=False))
    )
