"""Submission batches: a day's service files due at 10:00 the next day, a week's sales files
(Monday to Sunday) by the end of the Monday after; a batch not received by its due time
flagged late once; the handover form (档案交接表) freezing its counts when received."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from archives import services
from archives.choices import BatchStatus, DocumentKind, SectionKind
from archives.models import FileSection, SubmissionBatch
from dealer_crm.models import Notification
from dealer_crm.periods import LOCAL_TIME_ZONE, local_day_end
from tests.archives.helpers import (
    PDF,
    closed_work_order,
    delivered_section,
    file_papers,
    refusal,
    scan,
)
from tests.service.helpers import counts, fresh, state

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


def at(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TIME_ZONE)


def last_week(branch, consultant, weekday: int = 0) -> FileSection:
    """A sales section of a vehicle delivered on `weekday` (0 = Monday) of last week."""
    today = timezone.localdate()
    return delivered_section(branch, consultant, days_ago=today.weekday() + 7 - weekday)


def batches() -> list[tuple]:
    return list(
        SubmissionBatch.objects.order_by("pk").values_list(
            "kind", "period_start", "period_end", "due_at", "status"
        )
    )


# --- service files, daily ---------------------------------------------------------------------


def test_a_days_service_files_make_a_batch_due_at_10_the_next_morning(branch, advisor, technician):
    section = closed_work_order(branch, advisor, technician).archive_section
    other = closed_work_order(branch, advisor, technician).archive_section
    day = section.period_on
    assert services.batches_prepare(now=at(day, 23, 59)) == 0
    assert batches() == [] and fresh(section).batch is None

    assert services.batches_prepare(now=at(day + timedelta(days=1), 9)) == 0
    assert batches() == [(SectionKind.SERVICE, day, day, at(day + timedelta(days=1), 10),
                          BatchStatus.EXPECTED)]  # fmt: skip
    batch = SubmissionBatch.objects.get()
    assert {fresh(section).batch, fresh(other).batch} == {batch}


# --- sales files, weekly ----------------------------------------------------------------------


def test_a_weeks_sales_files_make_a_batch_due_by_the_end_of_the_monday_after(branch, consultant):
    monday = last_week(branch, consultant, weekday=0)
    sunday = last_week(branch, consultant, weekday=6)
    week = monday.period_on
    assert services.batches_prepare(now=at(week + timedelta(days=6), 23, 59)) == 0
    assert batches() == []  # the week is not over: its sections wait

    services.batches_prepare(now=at(week + timedelta(days=7), 0, 30))
    monday_after = week + timedelta(days=7)
    assert batches() == [(SectionKind.SALES, week, week + timedelta(days=6),
                          local_day_end(monday_after), BatchStatus.EXPECTED)]  # fmt: skip
    batch = SubmissionBatch.objects.get()
    assert {fresh(monday).batch, fresh(sunday).batch} == {batch}


def test_this_weeks_sales_files_wait_for_the_week_to_end(branch, consultant):
    section = last_week(branch, consultant, weekday=0)
    assert services.batches_prepare(now=at(section.period_on + timedelta(days=3), 12)) == 0
    assert batches() == [] and fresh(section).batch is None


def test_preparing_again_changes_nothing(branch, consultant, advisor, technician):
    sales = last_week(branch, consultant)
    service = closed_work_order(branch, advisor, technician).archive_section
    now = at(service.period_on + timedelta(days=1), 9)
    services.batches_prepare(now=now)
    before = (batches(), state(fresh(sales).batch), state(sales), state(service))
    assert services.batches_prepare(now=now) == 0
    assert (batches(), state(fresh(sales).batch), state(sales), state(service)) == before


# --- late batches ------------------------------------------------------------------------------


def test_a_batch_not_received_by_its_due_time_is_flagged_once_and_told(
    branch, advisor, technician, customer_care, branch_manager
):
    section = closed_work_order(branch, advisor, technician).archive_section
    next_day = section.period_on + timedelta(days=1)
    services.batches_prepare(now=at(next_day, 9))
    batch = SubmissionBatch.objects.get()
    assert services.batches_prepare(now=at(next_day, 10)) == 0  # due at 10:00, not yet late
    assert services.batches_prepare(now=at(next_day, 10, 1)) == 1
    batch.refresh_from_db()
    assert (batch.late_flagged_at, batch.is_late) == (at(next_day, 10, 1), True)
    notices = Notification.objects.filter(key=f"archives.batch_late.{batch.pk}")
    assert sorted(notices.values_list("recipient__username", flat=True)) == sorted(
        [customer_care.username, branch_manager.username]
    )
    assert services.batches_prepare(now=at(next_day, 11)) == 0
    assert fresh(batch).late_flagged_at == at(next_day, 10, 1)
    assert Notification.objects.count() == 2


def test_a_batch_received_in_time_is_never_flagged(branch, advisor, technician, customer_care):
    section = closed_work_order(branch, advisor, technician).archive_section
    services.batches_prepare(now=at(section.period_on + timedelta(days=1), 9))
    batch = services.batch_receive(
        batch=SubmissionBatch.objects.get(), handed_over_by=advisor, by=customer_care
    )
    assert not batch.is_late
    assert services.batches_prepare(now=at(section.period_on + timedelta(days=3), 9)) == 0
    assert fresh(batch).late_flagged_at is None and not Notification.objects.exists()


# --- the handover -------------------------------------------------------------------------------


@pytest.fixture
def batch(branch, consultant):
    """Last week's sales batch: one file with its seven papers (one sent twice), one empty."""
    filed = last_week(branch, consultant, weekday=1)
    last_week(branch, consultant, weekday=2)
    file_papers(filed, consultant)
    services.document_upload(
        section=filed, kind=DocumentKind.DELIVERY_FORM, upload=scan("again.pdf", PDF + b"2"),
        by=consultant,
    )  # fmt: skip
    services.batches_prepare(now=at(filed.period_on + timedelta(days=6), 23) + timedelta(hours=2))
    return SubmissionBatch.objects.get()


def test_receiving_a_batch_records_the_handover_and_its_counts(batch, consultant, customer_care):
    received = services.batch_receive(batch=batch, handed_over_by=consultant, by=customer_care)
    received = fresh(received)
    assert (received.status, received.handed_over_by, received.received_by) == (
        BatchStatus.RECEIVED,
        consultant,
        customer_care,
    )
    assert (received.file_count, received.document_count) == (2, 7)
    assert timezone.now() - received.received_at < timedelta(minutes=1)
    assert received.is_late  # due by the end of last week's following Monday


def test_the_counts_are_frozen_once_received(batch, consultant, customer_care):
    services.batch_receive(batch=batch, handed_over_by=consultant, by=customer_care)
    empty = FileSection.objects.get(batch=batch, documents__isnull=True)
    file_papers(empty, consultant, kinds=[DocumentKind.DELIVERY_FORM])
    assert (fresh(batch).file_count, fresh(batch).document_count) == (2, 7)


def test_a_batch_is_received_once(batch, consultant, customer_care, branch_manager):
    services.batch_receive(batch=batch, handed_over_by=consultant, by=customer_care)
    before = state(batch)
    error = refusal(
        lambda: services.batch_receive(batch=batch, handed_over_by=consultant, by=branch_manager)
    )
    assert error.code == "batch_already_received"
    assert state(batch) == before


def test_nobody_of_another_branch_hands_a_batch_over(batch, customer_care, other_branch_user):
    before = (state(batch), counts(SubmissionBatch))
    error = refusal(
        lambda: services.batch_receive(
            batch=batch, handed_over_by=other_branch_user, by=customer_care
        )
    )
    assert (error.code, error.field) == ("handed_over_by_other_branch", "handed_over_by")
    assert (state(batch), counts(SubmissionBatch)) == before
