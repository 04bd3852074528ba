"""The KPI registry: every figure of DOMAIN §8 defined once, with a definition a manager can
read, a unit, a direction, the permission that reads it — and a measure that runs."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone, translation

from dealer_crm.choices import Role
from dealer_crm.kpis import (
    FLOW,
    LEVEL,
    Area,
    Direction,
    Kpi,
    Measure,
    Scope,
    Unit,
    kpi_period,
    kpi_registry,
    register,
    same_period_last_year,
)

# DOMAIN §8, area by area: the figures the table names.
DOMAIN_FIGURES = {
    Area.SALES: [
        "sales.leads", "sales.verified_rate", "sales.showroom_traffic", "sales.test_drive_rate",
        "sales.closing_rate", "sales.deliveries", "sales.lost_leads", "sales.days_in_stock",
    ],
    Area.SERVICE: [
        "service.entries", "service.revenue_per_entry", "service.labour_hours",
        "service.appointment_rate", "service.comebacks", "service.technician_productivity",
    ],
    Area.CUSTOMERS: [
        "customers.retention", "customers.abnormal", "customers.follow_up_completion",
        "customers.complaints", "customers.complaint_resolution_hours",
        "customers.satisfaction_index", "customers.campaign_success",
    ],
    Area.PARTS: [
        "parts.fill_rate", "parts.turnover", "parts.days_of_stock", "parts.dead_stock_lines",
        "parts.dead_stock_value", "parts.stocktake_accuracy",
    ],
    Area.FLEET: [
        "fleet.pipeline_value", "fleet.protected_accounts", "fleet.tier_attainment",
        "fleet.approvals_in_time",
    ],
    Area.ARCHIVES: [
        "archives.completeness", "archives.nonconforming", "archives.missing_reports",
        "archives.penalty_points",
    ],
    Area.NETWORK: [
        "network.channel_ratio", "network.new_outlet_rate", "network.key_dealer_ratio",
        "network.key_region_coverage",
    ],
}  # fmt: skip
# The figures DOMAIN §8 and the issue give monthly targets.
WITH_TARGETS = {
    "sales.deliveries",
    "service.entries",
    "service.revenue_per_entry",
    "archives.completeness",
}


def test_every_figure_of_the_domain_is_registered_once_in_its_area():
    registry = kpi_registry()
    assert list(registry) == [code for codes in DOMAIN_FIGURES.values() for code in codes]
    for area, codes in DOMAIN_FIGURES.items():
        assert {registry[code].area for code in codes} == {area}


def test_only_the_figures_with_targets_take_monthly_targets():
    assert {kpi.code for kpi in kpi_registry().values() if kpi.targets} == WITH_TARGETS
    assert kpi_registry()["archives.completeness"].goal == Decimal("0.99")


@pytest.mark.parametrize("code", [code for codes in DOMAIN_FIGURES.values() for code in codes])
def test_each_figure_is_written_down_for_a_manager(code):
    kpi = kpi_registry()[code]
    assert kpi.unit in Unit.values and kpi.direction in Direction.values
    with translation.override("en"):
        assert len(str(kpi.name)) > 3 and str(kpi.definition).endswith(".")
    assert all(role in Role.values for role in kpi.person_roles)
    assert bool(kpi.own_permission) == kpi.per_person or kpi.own_permission == ""


@pytest.mark.django_db
def test_each_figure_is_read_with_a_permission_that_exists():
    for kpi in kpi_registry().values():
        for name in filter(None, [kpi.permission, kpi.own_permission]):
            app_label, codename = name.split(".")
            assert Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).exists(), f"{kpi.code}: {name}"


def test_the_network_figures_are_defined_but_not_measured_without_outlet_records():
    network = [kpi for kpi in kpi_registry().values() if kpi.area == Area.NETWORK]
    assert len(network) == 4 and not any(kpi.measured for kpi in network)
    assert all(kpi.measured for kpi in kpi_registry().values() if kpi.area != Area.NETWORK)


def test_a_code_cannot_be_registered_twice_with_another_meaning():
    entries = kpi_registry()["service.entries"]
    register(entries)  # the same definition again: nothing changes
    with pytest.raises(ValueError):
        register(Kpi(**{**entries.__dict__, "name": "Something else"}))


def test_a_figure_divides_its_numbers_or_gives_its_count():
    kpi = kpi_registry()["service.revenue_per_entry"]
    assert str(kpi.value(Measure(Decimal("800"), Decimal("3")))) == "266.67"
    assert kpi.value(Measure(Decimal("0"), Decimal("0"))) is None  # never a made-up ratio
    count = kpi_registry()["service.entries"]
    assert str(count.value(Measure(Decimal("3")))) == "3"
    assert (FLOW.code, LEVEL.code) == ("flow", "level")
    assert kpi_registry()["parts.turnover"].aggregation.code == "sum/average"


@pytest.mark.django_db
@pytest.mark.parametrize("code", [kpi.code for kpi in kpi_registry().values() if kpi.measured])
def test_each_measure_runs_on_an_empty_branch_and_gives_nothing(code, branch, branch_manager):
    # given a branch with no records at all
    today = timezone.localdate()
    kpi = kpi_registry()[code]
    for scope in (
        Scope((branch.pk,), today - timedelta(days=1), today - timedelta(days=1)),
        Scope((branch.pk,), today, today, by_person=kpi.per_person),
        Scope((branch.pk,), today, today, person_id=branch_manager.pk),
    ):
        # when it is measured
        values = kpi.measure(scope)
        # then the figure is zero, or nothing to divide by
        assert values[(None, "")].numerator == 0
        assert kpi.value(values[(None, "")]) in (0, None)


@pytest.mark.parametrize(
    "period, on, expected",
    [
        ("day", "2026-03-18", ("2026-03-18", "2026-03-18")),
        ("week", "2026-03-11", ("2026-03-09", "2026-03-15")),
        ("week", "2026-03-18", ("2026-03-16", "2026-03-20")),
        ("month", "2026-02-10", ("2026-02-01", "2026-02-28")),
        ("year", "2025-06-01", ("2025-01-01", "2025-12-31")),
        ("last_month", "2026-03-18", ("2026-02-01", "2026-02-28")),
        ("this_year", "2026-03-18", ("2026-01-01", "2026-03-18")),
        # a period in progress ends today
        ("month", "2026-03-18", ("2026-03-01", "2026-03-20")),
        ("year", "2026-03-18", ("2026-01-01", "2026-03-20")),
    ],
)
def test_the_periods_of_a_date(period, on, expected):
    today = date.fromisoformat("2026-03-20")
    start, end = kpi_period(period, date.fromisoformat(on), today)
    assert (start.isoformat(), end.isoformat()) == expected


def test_the_same_period_last_year_keeps_the_end_of_february():
    assert same_period_last_year(date(2024, 2, 1), date(2024, 2, 29)) == (
        date(2023, 2, 1),
        date(2023, 2, 28),
    )
