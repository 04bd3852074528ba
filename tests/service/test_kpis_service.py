"""The service figures of the KPI registry on the worked example of the service figures —
entries, revenue per entry, labour hours, appointment rate, comebacks and technician
productivity — per branch, per advisor and per technician, live today and from the
snapshots of a past day; the same numbers service_figures gives."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from dealer_crm.kpis import Scope, kpi_registry, kpi_snapshots_compute, kpi_values
from service.selectors import service_figures
from tests.service.test_services_figures import worked_example  # noqa: F401 - a fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

CODES = [
    "service.entries",
    "service.revenue_per_entry",
    "service.labour_hours",
    "service.appointment_rate",
    "service.comebacks",
    "service.technician_productivity",
]


def values(branch_ids, start, end, person_id=None) -> dict:
    readings = kpi_values(CODES, branch_ids, start, end, person_id=person_id)
    return {code: reading.current.value for code, reading in readings.items()}


def test_the_service_figures_of_the_worked_example_today(branch, worked_example):  # noqa: F811
    today = timezone.localdate()
    assert values([branch.pk], today, today) == {
        # three cars checked in: A by appointment, B a comeback of A, C a maintenance
        "service.entries": 3,
        # A and B settled: 500 + 300 over 2
        "service.revenue_per_entry": Decimal("400.00"),
        # 2.0 h on A, 1.0 h on B
        "service.labour_hours": Decimal("3.00"),
        "service.appointment_rate": Decimal("0.333"),
        "service.comebacks": 1,
        # 3 hours over 2 technician-days (the technician's and Wang's)
        "service.technician_productivity": Decimal("1.50"),
    }
    figures = service_figures(branch_ids=[branch.pk], start=today, end=today)
    assert (figures["entries"], figures["revenue_per_entry"], figures["labour_hours"]) == (
        3, Decimal("400.00"), Decimal("3.00"),
    )  # fmt: skip
    assert (figures["appointment_rate"], figures["comebacks"]) == (Decimal("0.333"), 1)


def test_each_technicians_and_each_advisors_own_figures(
    branch,
    advisor,
    technician,
    worked_example,  # noqa: F811
):
    today = timezone.localdate()
    productivity = kpi_registry()["service.technician_productivity"]
    per_technician = productivity.measure(Scope((branch.pk,), today, today, by_person=True))
    assert {
        person: productivity.value(numbers)
        for (person, key), numbers in per_technician.items()
        if person
    } == {technician.pk: Decimal("2.00"), worked_example["wang"].pk: Decimal("1.00")}
    mine = values([branch.pk], today, today, person_id=advisor.pk)
    assert (mine["service.entries"], mine["service.revenue_per_entry"]) == (3, Decimal("400.00"))
    nobody = values([branch.pk], today, today, person_id=technician.pk)
    assert (nobody["service.entries"], nobody["service.revenue_per_entry"]) == (0, None)


def test_a_past_day_is_read_from_its_snapshot(branch, worked_example):  # noqa: F811
    # given the work order opened and settled ten days ago (2.0 h × 200), snapshotted
    today = timezone.localdate()
    ten_days_ago = today - timedelta(days=10)
    kpi_snapshots_compute(day=ten_days_ago, branch=branch)

    # when the eleven days are read: the past day from its snapshot, today live
    eleven_days = values([branch.pk], ten_days_ago, today)

    # then they add up as the service figures of the period do: 1200 over 3 settled
    assert eleven_days["service.entries"] == 4
    assert eleven_days["service.revenue_per_entry"] == Decimal("400.00")
    assert eleven_days["service.labour_hours"] == Decimal("5.00")
    assert eleven_days["service.appointment_rate"] == Decimal("0.250")
    # 5 hours over 3 technician-days: the technician's on both days, Wang's today
    assert eleven_days["service.technician_productivity"] == Decimal("1.67")
    figures = service_figures(branch_ids=[branch.pk], start=ten_days_ago, end=today)
    assert (figures["entries"], figures["revenue_per_entry"], figures["labour_hours"]) == (
        4, Decimal("400.00"), Decimal("5.00"),
    )  # fmt: skip
