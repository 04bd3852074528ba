"""Customer care's scheduled jobs as Celery runs them: each run twice makes nothing twice,
a run that stopped half-way is finished by the next, and every run leaves its JobRun row."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from customers.care import services
from customers.care.choices import (
    CallReason,
    Channel,
    ComplaintCategory,
    ComplaintChannel,
    ReminderKind,
    Severity,
)
from customers.care.models import Complaint, CustomerSegment, FollowUpCall, Message, Reminder
from customers.care.tasks import (
    complaints_escalate_task,
    follow_up_calls_task,
    reminders_task,
    segments_task,
)
from dealer_crm.choices import JobStatus
from dealer_crm.models import JobRun, Notification
from tests.archives.helpers import closed_work_order
from tests.factories import CustomerFactory, DeliveryFactory, VehicleFactory
from tests.service.helpers import counts, state

pytestmark = pytest.mark.django_db


def runs(job: str) -> list[tuple]:
    return list(
        JobRun.objects.filter(job=job).order_by("pk").values_list("status", "rows", "error")
    )


def states(model) -> list[dict]:
    return [state(row) for row in model.objects.order_by("pk")]


@pytest.fixture
def calls_due_today(branch, consultant, advisor, technician, customer_care):
    """Five calls to make today: day 1 of three deliveries (one a week ago, its call missed),
    day 7 of that one, and the call after a work order closed yesterday."""
    today = timezone.localdate()
    for days in (1, 1, 7):
        DeliveryFactory(
            order__branch=branch, order__consultant=consultant,
            delivered_on=today - timedelta(days=days),
        )  # fmt: skip
    work_order = closed_work_order(branch, advisor, technician)
    yesterday = work_order.closed_at - timedelta(days=1)
    type(work_order).objects.filter(pk=work_order.pk).update(closed_at=yesterday)
    return 5


def test_the_follow_up_call_job_run_twice_makes_each_call_once(calls_due_today):
    # when the job runs, then runs again
    first = follow_up_calls_task.delay().get()
    made = states(FollowUpCall)
    second = follow_up_calls_task.delay().get()
    # then the second run made nothing and changed nothing; both runs are on record
    assert (first, second) == (calls_due_today, 0)
    assert states(FollowUpCall) == made
    assert runs("follow_up_calls") == [
        (JobStatus.FINISHED, calls_due_today, ""), (JobStatus.FINISHED, 0, "")
    ]  # fmt: skip


def test_a_follow_up_call_job_stopped_half_way_is_finished_by_the_next_run(
    monkeypatch, calls_due_today
):
    # given the job's worker dies as it is about to make the third call
    make_call = services._call
    made = []

    def dies_at_the_third(**call):
        if len(made) == 2:
            raise SystemError("worker lost")
        made.append(make_call(**call))
        return made[-1]

    monkeypatch.setattr(services, "_call", dies_at_the_third)
    with pytest.raises(SystemError, match="worker lost"):
        follow_up_calls_task()
    assert FollowUpCall.objects.count() == 2
    kept = states(FollowUpCall)
    # when the job runs again, healthy
    monkeypatch.setattr(services, "_call", make_call)
    rerun = follow_up_calls_task.delay().get()
    # then it makes exactly the three calls missing, leaves the first two, and no duplicates
    assert rerun == calls_due_today - 2
    assert FollowUpCall.objects.count() == calls_due_today
    assert states(FollowUpCall)[:2] == kept
    assert sorted(FollowUpCall.objects.values_list("reason", flat=True)) == sorted(
        [CallReason.DELIVERY_DAY_1] * 3 + [CallReason.DELIVERY_DAY_7, CallReason.SERVICE]
    )
    failed, finished = JobRun.objects.filter(job="follow_up_calls").order_by("pk")
    assert (failed.status, failed.rows, failed.error) == (
        JobStatus.FAILED,
        0,
        "SystemError('worker lost')",
    )
    assert (finished.status, finished.rows) == (JobStatus.FINISHED, 3)
    # and a third run finds nothing left to do
    assert follow_up_calls_task.delay().get() == 0


def test_the_escalation_job_run_twice_escalates_and_tells_once(
    branch, customer_care, sales_manager
):
    # given a complaint received two days ago, still unanswered, and one answered in time
    late = services.complaint_create(
        branch=branch, customer=CustomerFactory(branch=branch), by=customer_care,
        data={"channel": ComplaintChannel.PHONE, "category": ComplaintCategory.PRICE,
              "severity": Severity.MEDIUM, "description": "收费不透明",
              "received_at": timezone.now() - timedelta(days=2)},
    )  # fmt: skip
    # when the job runs twice
    first = complaints_escalate_task.delay().get()
    after_first = states(Complaint), counts(Notification)
    second = complaints_escalate_task.delay().get()
    # then the complaint was escalated once and the owner and manager told once
    assert (first, second) == (1, 0)
    assert (states(Complaint), counts(Notification)) == after_first
    assert Complaint.objects.get(pk=late.pk).escalation_level == 1
    assert counts(Notification) == {"Notification": 2}
    assert [row[:2] for row in runs("complaints_escalate")] == [
        (JobStatus.FINISHED, 1), (JobStatus.FINISHED, 0)
    ]  # fmt: skip


def test_the_segments_job_run_twice_keeps_one_row_per_customer(branch, other_branch):
    # given customers at both branches
    for customer_branch in (branch, branch, other_branch):
        CustomerFactory(branch=customer_branch)
    # when the nightly job runs twice
    first = segments_task.delay().get()
    computed = states(CustomerSegment)
    second = segments_task.delay().get()
    # then every customer has one row, the same after the second run
    assert (first, second) == (3, 3)
    assert states(CustomerSegment) == computed
    assert runs("segments") == [(JobStatus.FINISHED, 3, ""), (JobStatus.FINISHED, 3, "")]


def test_the_segments_job_on_demand_computes_one_branch(branch, other_branch):
    ours = CustomerFactory(branch=branch)
    CustomerFactory(branch=other_branch)
    assert segments_task.delay(branch_id=branch.pk).get() == 1
    assert list(CustomerSegment.objects.values_list("customer", flat=True)) == [ours.pk]


def test_the_reminder_job_run_twice_makes_and_sends_each_reminder_once(branch):
    # given a customer who agreed to hear from us, whose insurance runs out in 30 days
    customer = CustomerFactory(
        branch=branch, marketing_consent=True, consent_date=date(2025, 1, 1),
        consent_channel=Channel.SMS,
    )  # fmt: skip
    VehicleFactory(owner=customer, insurance_expiry=timezone.localdate() + timedelta(days=30))
    # when the daily job runs twice
    first = reminders_task.delay().get()
    after_first = states(Reminder), states(Message)
    second = reminders_task.delay().get()
    # then the first made and sent the reminders, the second nothing
    assert first == {"made": Reminder.objects.count(), "sent": Message.objects.count()}
    assert Reminder.objects.filter(kind=ReminderKind.INSURANCE, customer=customer).count() == 1
    assert second == {"made": 0, "sent": 0}
    assert (states(Reminder), states(Message)) == after_first
    assert [row[:2] for row in runs("reminders")] == [
        (JobStatus.FINISHED, first["made"] + first["sent"]), (JobStatus.FINISHED, 0)
    ]  # fmt: skip
