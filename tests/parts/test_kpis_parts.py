"""The parts figures of the KPI registry on the known stockroom of the parts figures page:
fill rate, turnover, days of stock, dead stock and stocktake accuracy, live today and from a
past day's snapshot; a past day's stock is the ledger's, not today's."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from dealer_crm.kpis import kpi_snapshots_compute, kpi_values
from parts.choices import MoveKind
from parts.models import StockMove
from parts.selectors import parts_figures
from tests.factories import PartFactory
from tests.parts.helpers import receive, take
from tests.parts.test_pages_figures import stockroom  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

CODES = [
    "parts.fill_rate",
    "parts.turnover",
    "parts.days_of_stock",
    "parts.dead_stock_lines",
    "parts.dead_stock_value",
    "parts.stocktake_accuracy",
]


def values(branch, start, end) -> dict:
    readings = kpi_values(CODES, [branch.pk], start, end)
    return {code: reading.current.value for code, reading in readings.items()}


def test_the_parts_figures_of_a_known_stockroom_today(branch, stockroom):  # noqa: F811
    today = timezone.localdate()
    assert values(branch, today, today) == {
        # 1 line issued of 2 requested (the issue and the lost sale)
        "parts.fill_rate": Decimal("0.500"),
        # 90 used ÷ the day's closing stock of 280 (the page takes (100 + 280) / 2: 0.47)
        "parts.turnover": Decimal("0.32"),
        # 280 at the end ÷ 90 used a day
        "parts.days_of_stock": Decimal("3.1"),
        # the filters, 2 × 50, unmoved for 400 days
        "parts.dead_stock_lines": 1,
        "parts.dead_stock_value": Decimal("100.00"),
        # the filters counted right, the plugs one short
        "parts.stocktake_accuracy": Decimal("0.500"),
    }
    figures = parts_figures(branch_ids=[branch.pk], start=today, end=today)
    assert (figures["fill_rate"], figures["days_of_stock"]) == (Decimal("0.500"), Decimal("3.1"))
    assert (figures["dead_stock_count"], figures["dead_stock_value"]) == (1, Decimal("100.00"))
    assert figures["stocktake_accuracy"] == Decimal("0.500")


def test_turnover_of_days_averages_their_closing_stock(branch, parts_clerk):
    # given 10 parts at 10 received three days ago, 2 used two days ago and 3 yesterday
    today = timezone.localdate()
    part = PartFactory()
    receive(branch, part, parts_clerk, 10, "10.00")
    take(branch, part, parts_clerk, 2)
    take(branch, part, parts_clerk, 3)
    moves = list(StockMove.objects.order_by("pk"))
    for move, days_ago in zip(moves, [3, 2, 1], strict=True):
        StockMove.objects.filter(pk=move.pk).update(at=timezone.now() - timedelta(days=days_ago))
    for days_ago in (3, 2, 1):
        kpi_snapshots_compute(day=today - timedelta(days=days_ago), branch=branch)

    # when the three past days are read
    figures = values(branch, today - timedelta(days=3), today - timedelta(days=1))

    # then 50 used ÷ the average of 100, 80 and 50 closing; 50 held ÷ 50 / 3 used a day
    assert figures["parts.turnover"] == Decimal("0.65")
    assert figures["parts.days_of_stock"] == Decimal("3.0")
    assert [m.kind for m in moves] == [MoveKind.RECEIPT, *[MoveKind.WORK_ORDER_ISSUE] * 2]


def test_dead_stock_on_a_past_day_is_the_ledgers_of_that_day(branch, parts_clerk):
    # given a part received 500 days ago and sold out yesterday
    today = timezone.localdate()
    part = PartFactory()
    receive(branch, part, parts_clerk, 2, "40.00")
    StockMove.objects.update(at=timezone.now() - timedelta(days=500))
    take(branch, part, parts_clerk, 2, kind=MoveKind.COUNTER_SALE)
    StockMove.objects.filter(kind=MoveKind.COUNTER_SALE).update(
        at=timezone.now() - timedelta(days=1)
    )
    # when two days ago and yesterday are computed
    for days_ago in (2, 1):
        kpi_snapshots_compute(day=today - timedelta(days=days_ago), branch=branch)

    # then two days ago it was dead stock worth 80, yesterday it was gone
    def dead(days_ago):
        day = today - timedelta(days=days_ago)
        return values(branch, day, day)["parts.dead_stock_value"]

    assert (dead(2), dead(1)) == (Decimal("80.00"), Decimal("0.00"))
