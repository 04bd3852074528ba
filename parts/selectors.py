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

from dealer_crm.figures import ratio
from dealer_crm.periods import local_day_end, local_day_start

from .choices import IssueKind, StocktakeStatus
from .models import (
    ZERO,
    Bin,
    LostSale,
    PartIssueLine,
    PartStock,
    StockMove,
    Stocktake,
    StocktakeLine,
)
from .services import CONSUMING_MOVES

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


def _value_at(branch_ids: list[int], moment) -> Decimal:
    """Stock value at a moment: the sum of every move's value before it (moving average)."""
    value = StockMove.objects.filter(branch_id__in=branch_ids, at__lt=moment).aggregate(
        total=Sum(F("quantity") * F("unit_cost"), output_field=VALUE)
    )["total"]
    return value or ZERO


def parts_figures(*, branch_ids: list[int], start: date, end: date) -> dict:
    """The parts figures of DOMAIN §8 for the branches and the period (both days included).

    - fill rate: lines issued from stock at first request / lines requested (issued lines
      plus requests not served, the lost sales);
    - turnover: cost of parts used / average stock value (start and end of the period);
    - days of stock: stock value at the end / average cost used per day;
    - dead stock: parts on the shelf with no move in 12 months, count and value;
    - stocktake accuracy: lines counted equal to the book / lines counted, over the
      stocktakes approved in the period.
    """
    since, until = local_day_start(start), local_day_end(end)
    days = (end - start).days + 1
    served = PartIssueLine.objects.filter(
        issue__branch_id__in=branch_ids,
        issue__kind__in=[IssueKind.WORK_ORDER, IssueKind.COUNTER_SALE],
        issue__created_at__gte=since,
        issue__created_at__lt=until,
        # An emergency order's hand-over is not served from stock: its request is a lost sale.
        issue__emergency_order__isnull=True,
    ).count()
    lost = LostSale.objects.filter(branch_id__in=branch_ids, at__gte=since, at__lt=until).count()
    used = -(
        StockMove.objects.filter(
            branch_id__in=branch_ids, kind__in=CONSUMING_MOVES, at__gte=since, at__lt=until
        ).aggregate(total=Sum(F("quantity") * F("unit_cost"), output_field=VALUE))["total"]
        or ZERO
    )
    value_start, value_end = _value_at(branch_ids, since), _value_at(branch_ids, until)
    average_value = (value_start + value_end) / 2
    cutoff = until - timedelta(days=DEAD_STOCK_DAYS)
    recent = StockMove.objects.filter(
        branch=OuterRef("branch"), part=OuterRef("part"), at__gte=cutoff
    )
    dead = (
        PartStock.objects.filter(branch_id__in=branch_ids, on_hand__gt=0)
        .exclude(Exists(recent))
        .aggregate(
            count=Count("pk"),
            value=Coalesce(
                Sum(F("on_hand") * F("average_cost"), output_field=VALUE), ZERO, output_field=VALUE
            ),
        )
    )
    counted = StocktakeLine.objects.filter(
        stocktake__branch_id__in=branch_ids,
        stocktake__status=StocktakeStatus.POSTED,
        stocktake__approved_at__gte=since,
        stocktake__approved_at__lt=until,
    ).aggregate(total=Count("pk"), right=Count("pk", filter=Q(counted_quantity=F("book_quantity"))))
    return {
        "start": start,
        "end": end,
        "lines_requested": served + lost,
        "lines_served": served,
        "fill_rate": ratio(served, served + lost),
        "cost_used": used.quantize(Decimal("0.01")),
        "stock_value": value_end.quantize(Decimal("0.01")),
        "turnover": ratio(used, average_value, places="0.01"),
        "days_of_stock": None if not used else (value_end / (used / days)).quantize(Decimal("0.1")),
        "dead_stock_count": dead["count"],
        "dead_stock_value": Decimal(dead["value"]).quantize(Decimal("0.01")),
        "stocktake_lines": counted["total"],
        "stocktake_accuracy": ratio(counted["right"], counted["total"]),
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
