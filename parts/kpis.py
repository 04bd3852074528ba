"""The parts figures of DOMAIN §3 and §8 in the KPI registry (dealer_crm.kpis): the one
computation of each — fill rate (配件满足率), turnover, days of stock, dead stock and
stocktake accuracy (parts.selectors.parts_figures counts the same). The stock's value at a
moment is its ledger's: every move's quantity × unit cost before it."""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Case, Count, DateField, F, IntegerField, Max, Q, Sum, Value, When
from django.db.models.functions import ExtractDay, TruncDate
from django.utils.translation import gettext_lazy as _

from dealer_crm.kpis import (
    LEVEL,
    Aggregation,
    Area,
    Direction,
    Kpi,
    Measure,
    Over,
    Scope,
    Unit,
    one_value,
    records_link,
    register,
    tally,
)
from dealer_crm.periods import LOCAL_TIME_ZONE

from .choices import IssueKind, StocktakeStatus
from .models import ZERO, LostSale, PartIssueLine, StockMove, StocktakeLine
from .selectors import DEAD_STOCK_DAYS, VALUE
from .services import CONSUMING_MOVES


def _moves(scope: Scope):
    return StockMove.objects.filter(branch_id__in=scope.branch_ids)


def _value_at(scope: Scope, moment) -> Decimal:
    """The stock's value at a moment: the sum of every move's value before it."""
    value = (
        _moves(scope)
        .filter(at__lt=moment)
        .aggregate(total=Sum(F("quantity") * F("unit_cost"), output_field=VALUE))["total"]
    )
    return value or ZERO


def _cost_used(scope: Scope) -> Decimal:
    """The cost of the parts issued, sold and returned in the scope (a positive amount)."""
    used = (
        _moves(scope)
        .filter(kind__in=CONSUMING_MOVES, at__gte=scope.since, at__lt=scope.until)
        .aggregate(total=Sum(F("quantity") * F("unit_cost"), output_field=VALUE))["total"]
    )
    return -(used or ZERO)


def fill_rate(scope: Scope):
    served = PartIssueLine.objects.filter(
        issue__branch_id__in=scope.branch_ids,
        issue__kind__in=[IssueKind.WORK_ORDER, IssueKind.COUNTER_SALE],
        issue__created_at__gte=scope.since,
        issue__created_at__lt=scope.until,
        # An emergency order's hand-over is not served from stock: its request is a lost sale.
        issue__emergency_order__isnull=True,
    ).count()
    lost = LostSale.objects.filter(
        branch_id__in=scope.branch_ids, at__gte=scope.since, at__lt=scope.until
    ).count()
    return one_value(Measure(Decimal(served), Decimal(served + lost)))


def _days(scope: Scope) -> int:
    return (scope.end - scope.start).days + 1


def _average_value(scope: Scope) -> Decimal:
    """The average of the stock's value at the end of each day of the scope, in one query:
    a move before the scope counts in every day's value, one within it from its own day on."""
    days = _days(scope)
    moved_on = TruncDate("at", tzinfo=LOCAL_TIME_ZONE)
    days_held = Case(
        When(at__lt=scope.since, then=Value(days)),
        default=ExtractDay(Value(scope.end, output_field=DateField()) - moved_on) + 1,
        output_field=IntegerField(),
    )
    held = (
        _moves(scope)
        .filter(at__lt=scope.until)
        .aggregate(total=Sum(F("quantity") * F("unit_cost") * days_held, output_field=VALUE))
    )["total"]
    return (held or ZERO) / days


def turnover(scope: Scope):
    """The cost used over the average of the stock's value at each day's end: a day's is its
    cost used over its closing value; a period divides what it used by its days' average (a
    scope of several days gives the period's value directly, as the figures page reads it)."""
    return one_value(Measure(_cost_used(scope), _average_value(scope)))


def days_of_stock(scope: Scope):
    """The stock's value at the scope's end over the average cost used per day of it (a day's
    is its own cost used)."""
    return one_value(Measure(_value_at(scope, scope.until), _cost_used(scope) / _days(scope)))


def _dead_stock(scope: Scope) -> dict:
    """Parts on the shelf at the scope's end with no move for 12 months: count and value."""
    moment = scope.until
    per_part = (
        _moves(scope)
        .filter(at__lt=moment)
        .values("branch", "part")
        .annotate(
            on_hand=Sum("quantity"),
            last_move=Max("at"),
            value=Sum(F("quantity") * F("unit_cost"), output_field=VALUE),
        )
        .filter(on_hand__gt=0, last_move__lt=moment - timedelta(days=DEAD_STOCK_DAYS))
    )
    return per_part.aggregate(count=Count("part"), total=Sum("value"))


def dead_stock_lines(scope: Scope):
    return one_value(Measure(Decimal(_dead_stock(scope)["count"] or 0)))


def dead_stock_value(scope: Scope):
    return one_value(Measure(_dead_stock(scope)["total"] or ZERO))


def stocktake_accuracy(scope: Scope):
    counted = StocktakeLine.objects.filter(
        stocktake__branch_id__in=scope.branch_ids,
        stocktake__status=StocktakeStatus.POSTED,
        stocktake__approved_at__gte=scope.since,
        stocktake__approved_at__lt=scope.until,
    )
    return tally(
        counted,
        scope,
        numerator=Count("pk", filter=Q(counted_quantity=F("book_quantity"))),
        denominator=Count("pk"),
    )


# --- The records behind a value: the stockroom's lists filtered to the scope --------------------


def _period(scope: Scope) -> tuple[tuple[str, str], ...]:
    return ("since", scope.start.isoformat()), ("until", scope.end.isoformat())


def lost_sales(scope: Scope) -> str:
    """The requests the stock could not serve: what keeps the fill rate under 100%."""
    return records_link("parts:lost-sale-list", scope, *_period(scope))


def parts_used(scope: Scope) -> str:
    """The ledger's issues, counter sales and returns of the period: the cost used."""
    return records_link(
        "parts:move-list", scope, *(("kind", kind.value) for kind in CONSUMING_MOVES),
        *_period(scope),
    )  # fmt: skip


def stock_on_shelf(scope: Scope) -> str:
    return records_link("parts:stock-list", scope, ("in_stock", "true"))


def dead_stock_parts(scope: Scope) -> str:
    """The figures page's dead-stock table of the period's end."""
    page = records_link(
        "parts:figures",
        scope,
        ("period", "custom"),
        ("start", scope.start.isoformat()),
        ("end", scope.end.isoformat()),
    )
    return f"{page}#dead-stock"


def posted_stocktakes(scope: Scope) -> str:
    return records_link("parts:stocktake-list", scope, ("status", StocktakeStatus.POSTED.value))


PARTS = {"area": Area.PARTS, "app": "parts", "permission": "parts.view_stockmove"}

register(
    Kpi(
        code="parts.fill_rate",
        name=_("Fill rate (配件满足率)"),
        definition=_(
            "Lines issued from stock at first request ÷ lines requested (those issued plus the "
            "requests the stock could not serve, the lost sales), in the period."
        ),
        unit=Unit.PERCENT,
        direction=Direction.HIGHER,
        measure=fill_rate,
        records=lost_sales,
        **PARTS,
    ),
    Kpi(
        code="parts.turnover",
        name=_("Stock turnover"),
        definition=_(
            "Cost of the parts used in the period (issued, sold, less returns) ÷ the average "
            "of the stock's value at each day's end."
        ),
        unit=Unit.TIMES,
        direction=Direction.HIGHER,
        measure=turnover,
        aggregation=Aggregation(Over.SUM, Over.AVERAGE),
        places="0.01",
        records=parts_used,
        **PARTS,
    ),
    Kpi(
        code="parts.days_of_stock",
        name=_("Days of stock"),
        definition=_(
            "The stock's value at the period's end ÷ the average cost of the parts used per day "
            "of the period."
        ),
        unit=Unit.DAYS,
        direction=Direction.LOWER,
        measure=days_of_stock,
        aggregation=Aggregation(Over.LAST, Over.AVERAGE),
        places="0.1",
        records=stock_on_shelf,
        **PARTS,
    ),
    Kpi(
        code="parts.dead_stock_lines",
        name=_("Dead stock (lines)"),
        definition=_(
            "Parts on the shelf at the period's end that have not moved for 12 months (呆滞件)."
        ),
        unit=Unit.COUNT,
        direction=Direction.LOWER,
        measure=dead_stock_lines,
        aggregation=LEVEL,
        places="1",
        records=dead_stock_parts,
        **PARTS,
    ),
    Kpi(
        code="parts.dead_stock_value",
        name=_("Dead stock (value)"),
        definition=_(
            "The value of the parts on the shelf at the period's end that have not moved for "
            "12 months."
        ),
        unit=Unit.CNY,
        direction=Direction.LOWER,
        measure=dead_stock_value,
        aggregation=LEVEL,
        places="0.01",
        records=dead_stock_parts,
        **PARTS,
    ),
    Kpi(
        code="parts.stocktake_accuracy",
        name=_("Stocktake accuracy"),
        definition=_(
            "Of the lines counted in the stocktakes approved in the period, those whose count "
            "equals the book quantity."
        ),
        unit=Unit.PERCENT,
        direction=Direction.HIGHER,
        measure=stocktake_accuracy,
        records=posted_stocktakes,
        **PARTS,
    ),
)
