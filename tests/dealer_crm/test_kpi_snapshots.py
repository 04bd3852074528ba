"""The figure snapshots: the nightly job writes a day's numbers per branch and person, a rerun
writes the same rows, cohorts are restated, the backfill fills the past; and reading a period
adds the days up (a flow), takes the last one (a level) or averages them, from the snapshots
for past days and live for today, with last year's and the month's target."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dealer_crm import kpis
from dealer_crm.choices import JobStatus, Role
from dealer_crm.kpis import (
    kpi_snapshots_compute,
    kpi_snapshots_nightly,
    kpi_values,
)
from dealer_crm.models import JobRun, KpiSnapshot, KpiTarget
from dealer_crm.periods import LOCAL_TIME_ZONE
from dealer_crm.tasks import kpi_snapshots_task
from sales.choices import LeadSource
from sales.models import Lead
from tests.factories import LeadFactory, StockVehicleFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
YESTERDAY = TODAY - timedelta(days=1)


def noon(day) -> datetime:
    return datetime.combine(day, time(12), tzinfo=LOCAL_TIME_ZONE)


def lead(branch, day, consultant=None, source=LeadSource.WALK_IN, **kwargs) -> Lead:
    return LeadFactory(
        branch=branch, consultant=consultant, source=source, created_at=noon(day), **kwargs
    )


def rows(**lookup) -> list[tuple]:
    """The snapshot rows as (day, branch, person, code, key, numerator, denominator)."""
    return sorted(
        KpiSnapshot.objects.filter(**lookup).values_list(
            "day", "branch", "person", "code", "key", "numerator", "denominator"
        ),
        key=lambda row: tuple(str(part) for part in row),
    )


def numbers(code, day, branch, person=None, key=""):
    row = KpiSnapshot.objects.get(code=code, day=day, branch=branch, person=person, key=key)
    return row.numerator, row.denominator


def snapshot(code, day, branch, numerator, denominator=None, *, person=None, key=""):
    return KpiSnapshot.objects.create(
        code=code, day=day, branch=branch, person=person, key=key,
        numerator=Decimal(numerator),
        denominator=None if denominator is None else Decimal(denominator),
    )  # fmt: skip


@pytest.fixture
def second_consultant(branch):
    return UserFactory(username="second_consultant", roles=[Role.SALES_CONSULTANT],
                       branches=[branch])  # fmt: skip


# --- Computing a day ---------------------------------------------------------------------------


def test_a_day_is_stored_for_the_branch_and_for_each_person(
    branch, other_branch, consultant, second_consultant, other_branch_user
):
    # given yesterday's leads: two of the consultant's (walk-in, phone), one unassigned
    lead(branch, YESTERDAY, consultant)
    lead(branch, YESTERDAY, consultant, source=LeadSource.PHONE)
    lead(branch, YESTERDAY, None, source=LeadSource.PHONE)
    # and leads that are not yesterday's or not the branch's
    lead(branch, TODAY, consultant)
    lead(other_branch, YESTERDAY, other_branch_user)

    # when yesterday is computed for the branch
    kpi_snapshots_compute(day=YESTERDAY, branch=branch)

    # then the branch has its three leads, per source
    assert numbers("sales.leads", YESTERDAY, branch) == (Decimal(3), None)
    assert numbers("sales.leads", YESTERDAY, branch, key="walk_in") == (Decimal(1), None)
    assert numbers("sales.leads", YESTERDAY, branch, key="phone") == (Decimal(2), None)
    # the consultant their two, and the consultant without leads a zero (not a missing row)
    assert numbers("sales.leads", YESTERDAY, branch, person=consultant) == (Decimal(2), None)
    assert numbers("sales.leads", YESTERDAY, branch, person=second_consultant) == (0, None)
    # a rate keeps its numerator and denominator: none of the three is verified yet
    assert numbers("sales.verified_rate", YESTERDAY, branch) == (0, Decimal(3))
    # and nothing was written for the other branch
    assert not KpiSnapshot.objects.filter(branch=other_branch).exists()


def test_computing_a_day_again_writes_the_same_rows(branch, consultant):
    lead(branch, YESTERDAY, consultant)
    lead(branch, YESTERDAY, consultant, reached="verified")
    written = kpi_snapshots_compute(day=YESTERDAY, branch=branch)
    first = rows()

    again = kpi_snapshots_compute(day=YESTERDAY, branch=branch)

    assert again == written == len(first)
    assert rows() == first
    assert numbers("sales.verified_rate", YESTERDAY, branch) == (Decimal(1), Decimal(2))


def test_a_recomputed_day_replaces_its_rows_leaving_no_stale_key(branch, consultant):
    phoned = lead(branch, YESTERDAY, consultant, source=LeadSource.PHONE)
    lead(branch, YESTERDAY, consultant)
    kpi_snapshots_compute(day=YESTERDAY, branch=branch)
    assert numbers("sales.leads", YESTERDAY, branch, key="phone") == (Decimal(1), None)

    # when the phone lead turns out to be a duplicate and is removed, and the day recomputed
    Lead.objects.filter(pk=phoned.pk).delete()
    kpi_snapshots_compute(day=YESTERDAY, branch=branch)

    # then the day holds one lead and no phone row at all
    assert numbers("sales.leads", YESTERDAY, branch) == (Decimal(1), None)
    assert not KpiSnapshot.objects.filter(code="sales.leads", key="phone").exists()


def test_a_state_the_records_do_not_date_is_not_computed_for_an_old_day(branch):
    StockVehicleFactory(branch=branch, arrival_date=TODAY - timedelta(days=40))
    kpi_snapshots_compute(day=TODAY - timedelta(days=10), branch=branch)
    assert not KpiSnapshot.objects.filter(code="sales.days_in_stock").exists()

    kpi_snapshots_compute(day=YESTERDAY, branch=branch)
    # held 39 days at yesterday's end
    assert numbers("sales.days_in_stock", YESTERDAY, branch) == (Decimal(39), Decimal(1))
    assert numbers("sales.days_in_stock", YESTERDAY, branch, key="31_60") == (39, 1)


# --- The nightly job ---------------------------------------------------------------------------


def test_the_nightly_job_computes_yesterday_of_every_branch_and_is_recorded(
    branch, other_branch, consultant, other_branch_user
):
    lead(branch, YESTERDAY, consultant)
    lead(other_branch, YESTERDAY, other_branch_user)
    lead(other_branch, YESTERDAY, other_branch_user)

    written = kpi_snapshots_task(TODAY.isoformat())

    assert set(written) == {branch.code, other_branch.code}
    assert numbers("sales.leads", YESTERDAY, branch) == (Decimal(1), None)
    assert numbers("sales.leads", YESTERDAY, other_branch) == (Decimal(2), None)
    run = JobRun.objects.get(job="kpi_snapshots")
    assert run.status == JobStatus.FINISHED
    assert run.rows == KpiSnapshot.objects.count() == sum(written.values())


def test_the_nightly_job_restates_a_cohort_whose_leads_moved_on(branch, consultant):
    # given a lead of five days ago, snapshotted while it was not verified
    five_days_ago = TODAY - timedelta(days=5)
    late = lead(branch, five_days_ago, consultant)
    kpi_snapshots_compute(day=five_days_ago, branch=branch)
    assert numbers("sales.verified_rate", five_days_ago, branch) == (0, Decimal(1))

    # when it is verified today and the nightly job runs
    Lead.objects.filter(pk=late.pk).update(verified_at=timezone.now(), status="verified")
    kpi_snapshots_nightly(today=TODAY)

    # then its day counts it verified now, while that day's lead count was left as it was
    assert numbers("sales.verified_rate", five_days_ago, branch) == (Decimal(1), Decimal(1))
    assert numbers("sales.verified_rate", five_days_ago, branch, person=consultant) == (1, 1)
    leads_row = KpiSnapshot.objects.get(code="sales.leads", day=five_days_ago, branch=branch,
                                        person=None, key="")  # fmt: skip
    assert (
        leads_row.computed_at
        < KpiSnapshot.objects.get(
            code="sales.verified_rate", day=five_days_ago, branch=branch, person=None, key=""
        ).computed_at
    )


def test_a_stopped_run_loses_one_branch_and_a_rerun_completes_it(
    branch, other_branch, consultant, other_branch_user
):
    # branches are computed in code order: the other branch (panyu), then ours (tianhe)
    lead(branch, YESTERDAY, consultant)
    lead(other_branch, YESTERDAY, other_branch_user)
    real = kpis.kpi_snapshots_compute

    def stopped_at_our_branch(*, day, branch: object, **kwargs):
        if getattr(branch, "code", None) == "tianhe":
            raise SystemExit("worker stopped")
        return real(day=day, branch=branch, **kwargs)

    # when the worker stops while computing the second branch
    stopping = mock.patch.object(kpis, "kpi_snapshots_compute", stopped_at_our_branch)
    with stopping, pytest.raises(SystemExit):
        kpi_snapshots_task(TODAY.isoformat())

    # then the first branch's day is kept whole, none of the second's, and the run failed
    assert numbers("sales.leads", YESTERDAY, other_branch) == (Decimal(1), None)
    assert not KpiSnapshot.objects.filter(branch=branch).exists()
    assert JobRun.objects.get(job="kpi_snapshots").status == JobStatus.FAILED
    kept = rows(branch=other_branch)

    # and the rerun completes our branch, writing the first one's rows again unchanged
    kpi_snapshots_task(TODAY.isoformat())
    assert numbers("sales.leads", YESTERDAY, branch) == (Decimal(1), None)
    assert rows(branch=other_branch) == kept
    assert JobRun.objects.filter(job="kpi_snapshots", status=JobStatus.FINISHED).count() == 1


# --- The backfill ------------------------------------------------------------------------------


def test_the_backfill_fills_each_day_of_one_branch(branch, other_branch, consultant):
    for days_ago in (3, 2, 2):
        lead(branch, TODAY - timedelta(days=days_ago), consultant)
    StockVehicleFactory(branch=branch, arrival_date=TODAY - timedelta(days=30))

    call_command(
        "kpi_backfill",
        start=(TODAY - timedelta(days=3)).isoformat(),
        end=YESTERDAY.isoformat(),
        branch=branch.code,
        stdout=mock.MagicMock(),
    )

    leads = {
        row.day: row.numerator
        for row in KpiSnapshot.objects.filter(code="sales.leads", person=None, key="")
    }
    assert leads == {
        TODAY - timedelta(days=3): 1,
        TODAY - timedelta(days=2): 2,
        YESTERDAY: 0,
    }
    assert not KpiSnapshot.objects.filter(branch=other_branch).exists()
    # the stock of past days is not in the records: only yesterday's is taken
    assert set(
        KpiSnapshot.objects.filter(code="sales.days_in_stock").values_list("day", flat=True)
    ) == {YESTERDAY}
    # and a second backfill writes the same rows
    before = rows()
    call_command("kpi_backfill", start=(TODAY - timedelta(days=3)).isoformat(),
                 end=YESTERDAY.isoformat(), stdout=mock.MagicMock())  # fmt: skip
    assert [row for row in rows() if row[1] == branch.pk] == before


@pytest.mark.parametrize(
    "options, message",
    [
        ({"start": "2026-02-10", "end": "2026-02-01"}, "before --start"),
        ({"start": "2026-02-31", "end": "2026-03-01"}, "not a date"),
        ({"start": TODAY.isoformat(), "end": TODAY.isoformat()}, "before today"),
        ({"start": "2026-01-01", "end": "2026-01-02", "branch": "nowhere"}, "No branch"),
    ],
)
def test_the_backfill_refuses_a_bad_range(branch, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("kpi_backfill", **options)
    assert not KpiSnapshot.objects.exists()


# --- Reading periods ---------------------------------------------------------------------------

# A past month far enough back that nothing of it is live, nor of the month a year before.
PAST_MONTH = (TODAY.replace(day=1) - timedelta(days=400)).replace(day=1)


def day_of(month_start, day: int):
    return month_start.replace(day=day)


def test_a_flow_adds_the_days_of_the_week_month_and_year_up(branch, other_branch):
    month = PAST_MONTH
    # revenue per entry: 800 over 2 settlements on the 2nd, 100 over 1 on the 20th, and the
    # other branch's 600 over 2 on the 2nd
    snapshot("service.revenue_per_entry", day_of(month, 2), branch, 800, 2)
    snapshot("service.revenue_per_entry", day_of(month, 20), branch, 100, 1)
    snapshot("service.revenue_per_entry", day_of(month, 2), other_branch, 600, 2)

    def read(start, end, branches=(branch.pk,)):
        return kpi_values(["service.revenue_per_entry"], branches, start, end)[
            "service.revenue_per_entry"
        ].current

    # a month: Σ revenue ÷ Σ settlements = 900 / 3, not the average of 400 and 100
    whole = read(month, day_of(month, 28))
    assert (whole.value, whole.numerator, whole.denominator) == (
        Decimal("300.00"), Decimal(900), Decimal(3),
    )  # fmt: skip
    # the week of the 2nd only
    week_start = day_of(month, 2) - timedelta(days=day_of(month, 2).weekday())
    assert read(week_start, week_start + timedelta(days=6)).value == Decimal("400.00")
    # both branches: 1500 / 5
    assert read(month, day_of(month, 28), (branch.pk, other_branch.pk)).value == Decimal("300.00")
    # the year holds them too; a day without settlements has nothing to divide
    year = read(month.replace(month=1, day=1), month.replace(month=12, day=31))
    assert year.numerator == 900
    assert read(day_of(month, 3), day_of(month, 3)).value is None


def test_a_level_takes_the_last_day_of_the_period(branch, other_branch):
    month = PAST_MONTH
    # days in stock: 3 cars averaging 10 days on the 1st; 1 car of 40 days on the 31st (28th)
    last = day_of(month, 28)
    snapshot("sales.days_in_stock", day_of(month, 1), branch, 30, 3)
    snapshot("sales.days_in_stock", last, branch, 40, 1)
    snapshot("sales.days_in_stock", last, other_branch, 20, 1)
    snapshot("sales.days_in_stock", last, branch, 40, 1, key="31_60")

    reading = kpi_values(["sales.days_in_stock"], [branch.pk], month, last)["sales.days_in_stock"]
    assert reading.current.value == Decimal("40.0")
    assert reading.current.breakdown["31_60"].value == Decimal("40.0")
    both = kpi_values(["sales.days_in_stock"], [branch.pk, other_branch.pk], month, last)
    assert both["sales.days_in_stock"].current.value == Decimal("30.0")  # (40 + 20) / 2
    # a period whose last day was not computed has no level
    early = kpi_values(["sales.days_in_stock"], [branch.pk], month, day_of(month, 27))
    assert early["sales.days_in_stock"].current.value is None


def test_turnover_divides_the_cost_used_by_the_average_stock_of_the_days(branch):
    month = PAST_MONTH
    # 2 days: used 100 then 300; stock 1000 then 3000 at the days' ends
    snapshot("parts.turnover", day_of(month, 1), branch, 100, 1000)
    snapshot("parts.turnover", day_of(month, 2), branch, 300, 3000)
    snapshot("parts.days_of_stock", day_of(month, 1), branch, 1000, 100)
    snapshot("parts.days_of_stock", day_of(month, 2), branch, 3000, 300)
    readings = kpi_values(
        ["parts.turnover", "parts.days_of_stock"], [branch.pk], month, day_of(month, 2)
    )
    # 400 used ÷ an average stock of 2000
    assert readings["parts.turnover"].current.value == Decimal("0.20")
    # 3000 at the end ÷ 200 used a day on average
    assert readings["parts.days_of_stock"].current.value == Decimal("15.0")


def test_the_same_period_last_year_and_the_months_target(branch, consultant):
    month = PAST_MONTH
    last_year = month.replace(year=month.year - 1)
    snapshot("sales.deliveries", day_of(month, 5), branch, 12)
    snapshot("sales.deliveries", day_of(last_year, 5), branch, 9)
    snapshot("sales.deliveries", day_of(month, 5), branch, 4, person=consultant)
    KpiTarget.objects.create(branch=branch, code="sales.deliveries", month=month, value=16)
    KpiTarget.objects.create(
        branch=branch, person=consultant, code="sales.deliveries", month=month, value=5
    )
    end = day_of(month, 28)

    reading = kpi_values(["sales.deliveries"], [branch.pk], month, end)["sales.deliveries"]
    assert (reading.current.value, reading.previous.value) == (12, 9)
    assert (reading.previous_start, reading.previous_end) == (last_year, day_of(last_year, 28))
    assert (reading.target, reading.attainment) == (16, Decimal("0.750"))
    mine = kpi_values(["sales.deliveries"], [branch.pk], month, end, person_id=consultant.pk)
    assert (mine["sales.deliveries"].current.value, mine["sales.deliveries"].target) == (4, 5)
    # a period that is not one month has no target
    two_months = kpi_values(["sales.deliveries"], [branch.pk], month - timedelta(days=5), end)
    assert two_months["sales.deliveries"].target is None


def test_past_days_come_from_the_snapshots_and_today_is_live(branch, consultant):
    # given yesterday's two leads, snapshotted
    first = lead(branch, YESTERDAY, consultant)
    lead(branch, YESTERDAY, consultant, reached="verified")
    kpi_snapshots_compute(day=YESTERDAY, branch=branch)
    # when a lead comes in today, and yesterday's records change after the snapshot
    lead(branch, TODAY, consultant, reached="verified")
    Lead.objects.filter(pk=first.pk).delete()

    readings = kpi_values(["sales.leads", "sales.verified_rate"], [branch.pk], YESTERDAY, TODAY)

    # then yesterday is as snapshotted (2 leads, 1 verified), today is live (1, verified)
    assert readings["sales.leads"].current.value == 3
    assert readings["sales.verified_rate"].current.numerator == 2
    assert readings["sales.verified_rate"].current.value == Decimal("0.667")
    # and a period of past days only reads the snapshot
    past = kpi_values(["sales.leads"], [branch.pk], YESTERDAY, YESTERDAY)
    assert past["sales.leads"].current.value == 2


def queries_of(read) -> int:
    with CaptureQueriesContext(connection) as captured:
        read()
    return len(captured)


def test_reading_takes_the_same_queries_whatever_the_period_and_the_records(branch, consultant):
    codes = ["sales.leads", "sales.lost_leads", "sales.verified_rate", "sales.days_in_stock"]

    def read(days: int):
        return kpi_values(codes, [branch.pk], TODAY - timedelta(days=days), TODAY)

    lead(branch, YESTERDAY, consultant)
    kpi_snapshots_compute(day=YESTERDAY, branch=branch)
    few = queries_of(lambda: read(7))
    # snapshot reads: this period and last year's; live: one query each
    assert few == 2 + len(codes)

    for days_ago in range(2, 40):
        lead(branch, TODAY - timedelta(days=days_ago), consultant)
        kpi_snapshots_compute(day=TODAY - timedelta(days=days_ago), branch=branch)
    assert queries_of(lambda: read(365)) == few
    assert read(365)["sales.leads"].current.value == 39


def test_a_figure_not_computed_live_reads_last_nights_value_today(branch):
    snapshot("customers.retention", YESTERDAY, branch, 3, 4)
    reading = kpi_values(["customers.retention"], [branch.pk], TODAY.replace(day=1), TODAY)
    if TODAY.day == 1:  # the month has only today: last night belongs to last month
        assert reading["customers.retention"].current.value is None
    else:
        assert reading["customers.retention"].current.value == Decimal("0.750")
