"""The figure pages of earlier issues read the KPI registry (issue 9: one computation per
figure in the whole codebase): a figure's measure swapped in the registry changes what the
page shows, the parts page's turnover is the registry's (cost used ÷ the average of each day's
closing stock value) on a worked example, and the pages' queries stay few."""

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from archives.selectors import archive_figures
from customers.care.selectors import call_results
from dealer_crm import kpis
from dealer_crm.kpis import Measure, kpi_snapshots_backfill, kpi_values, one_value
from fleet.selectors import fleet_figures
from parts.choices import IssueKind
from parts.models import StockMove
from parts.selectors import parts_figures
from service.selectors import service_figures
from tests.factories import PartFactory
from tests.parts.helpers import receive, voucher, walk

pytestmark = pytest.mark.django_db


def swap(monkeypatch, code: str, numbers: Measure) -> None:
    """The registry's figure `code` measures `numbers`, whatever the records."""
    kpi = kpis.kpi_registry()[code]
    fake = dataclasses.replace(kpi, measure=lambda scope: one_value(numbers))
    monkeypatch.setitem(kpis._registry, code, fake)


@pytest.mark.parametrize(
    ("code", "numbers", "read", "key", "expected"),
    [
        ("service.entries", Measure(7), service_figures, "entries", 7),
        ("service.comebacks", Measure(2), service_figures, "comebacks", 2),
        (
            "service.revenue_per_entry",
            Measure(Decimal("900"), Decimal("4")),
            service_figures,
            "revenue_per_entry",
            Decimal("225.00"),
        ),
        (
            "service.appointment_rate",
            Measure(1, 4),
            service_figures,
            "appointment_rate",
            Decimal("0.250"),
        ),
        ("parts.fill_rate", Measure(3, 4), parts_figures, "fill_rate", Decimal("0.750")),
        ("parts.dead_stock_lines", Measure(5), parts_figures, "dead_stock_count", 5),
        ("fleet.protected_accounts", Measure(6), fleet_figures, "protected", 6),
        ("fleet.approvals_in_time", Measure(1, 2), fleet_figures, "approval_rate", Decimal("0.5")),
        ("archives.nonconforming", Measure(4), archive_figures, "nonconforming", 4),
        (
            "archives.completeness",
            Measure(99, 100),
            archive_figures,
            "completeness",
            Decimal("0.99"),
        ),
        (
            "customers.follow_up_completion",
            Measure(2, 8),
            call_results,
            "completion",
            Decimal("0.250"),
        ),
    ],
)
def test_a_figure_page_shows_the_registrys_number(
    monkeypatch, branch, code, numbers, read, key, expected
):
    # given the registry's figure measuring known numbers (no records at all)
    swap(monkeypatch, code, numbers)
    today = timezone.localdate()
    # when the page's selector reads its figures
    figures = read(branch_ids=[branch.pk], start=today, end=today)
    # then the page shows the registry's value, not its own count of the (absent) records
    assert figures[key] == expected


@pytest.fixture
def three_days(branch, parts_clerk):
    """10 plugs received at 30 two days ago (300 in stock at that day's end), 3 sold
    yesterday (90 used, 210 left), nothing today (210)."""
    plug = PartFactory(number="101000033AA", name="火花塞")
    receive(branch, plug, parts_clerk, 10, "30.00")
    walk(voucher(branch, parts_clerk, [(plug, 3)], IssueKind.COUNTER_SALE, recipient="王先生"),
         parts_clerk)  # fmt: skip
    now = timezone.now()
    StockMove.objects.filter(part=plug, quantity__gt=0).update(at=now - timedelta(days=2))
    StockMove.objects.filter(part=plug, quantity__lt=0).update(at=now - timedelta(days=1))
    return timezone.localdate()


def test_parts_turnover_is_the_registrys_average_of_closing_stock(
    client, branch, parts_clerk, three_days
):
    # given three days: closing values 300, 210 and 210, 90 used
    today = three_days
    start = today - timedelta(days=2)
    client.force_login(parts_clerk)
    # when the parts figures page is read over the three days
    response = client.get(
        reverse("parts:figures"),
        {"period": "custom", "start": start.isoformat(), "end": today.isoformat()},
    )
    # then turnover = 90 ÷ ((300 + 210 + 210) / 3) = 90 ÷ 240 = 0.375 → 0.38 (the old page's
    # (start 0 + end 210) / 2 would have given 0.86), and days of stock = 210 ÷ (90 / 3) = 7
    cards = {card.key: card.value for card in response.context["cards"]}
    assert cards["turnover"] == "0.38×"
    assert cards["days_of_stock"] == "7.0"
    assert cards["cost_used"] == "90.00"
    # and the dashboards' reading of the same period (past days from the nightly snapshots,
    # today live) gives the same numbers
    kpi_snapshots_backfill(start=start, end=today - timedelta(days=1), branches=[branch])
    read = kpi_values(["parts.turnover", "parts.days_of_stock"], [branch.pk], start, today)
    assert read["parts.turnover"].current.value == Decimal("0.38")
    assert read["parts.days_of_stock"].current.value == Decimal("7.0")


def test_the_parts_figures_page_keeps_its_queries_few(
    client, branch, parts_clerk, three_days, django_assert_max_num_queries
):
    # given the stockroom above, and a year's period
    client.force_login(parts_clerk)
    query = {"period": "custom", "start": (three_days - timedelta(days=364)).isoformat(),
             "end": three_days.isoformat()}  # fmt: skip
    # when the page is read, then its queries do not grow with the period's days
    with django_assert_max_num_queries(25):
        assert client.get(reverse("parts:figures"), query).status_code == 200
