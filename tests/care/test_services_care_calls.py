"""Follow-up calls through the care services: made by the daily job on their days (day 1, 7
and 30 after a delivery, the day after a closed work order, three days after a complaint the
customer confirmed), once each, to the right person of the record's branch; then logged
attempt by attempt until the customer is reached or found unreachable."""

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.care import services
from customers.care.choices import (
    CallOutcome,
    CallReason,
    CallStatus,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    Severity,
)
from customers.care.models import CallAttempt, Complaint, FollowUpCall
from customers.models import TimelineEntry
from dealer_crm.choices import Role
from dealer_crm.periods import local_day_start
from service.choices import ServiceType
from tests.archives.helpers import closed_work_order
from tests.factories import CustomerFactory, DeliveryFactory, UserFactory
from tests.service.helpers import counts, in_progress_work_order, refusal, state

pytestmark = pytest.mark.django_db

DELIVERED_ON = date(2025, 3, 3)
WATCHED = (FollowUpCall, CallAttempt, Complaint, TimelineEntry)


def delivered(branch, consultant, on=DELIVERED_ON):
    return DeliveryFactory(order__branch=branch, order__consultant=consultant, delivered_on=on)


def at_three_pm(day: date):
    return local_day_start(day) + timedelta(hours=15)


def closed_on(work_order, day: date):
    """The work order as if closed on `day` (in the afternoon, Asia/Shanghai)."""
    type(work_order).objects.filter(pk=work_order.pk).update(closed_at=at_three_pm(day))
    work_order.refresh_from_db()
    return work_order


def confirmed_complaint(branch, by, manager, *, on: date):
    """A complaint resolved by a manager and confirmed by the customer on `on`."""
    complaint = services.complaint_create(
        branch=branch, customer=CustomerFactory(branch=branch), by=by,
        data={"channel": ComplaintChannel.PHONE, "category": ComplaintCategory.WAITING,
              "severity": Severity.LOW, "description": "等待时间太长"},
    )  # fmt: skip
    services.complaint_resolve(complaint=complaint, resolution="致歉", by=manager)
    complaint = services.complaint_confirm(complaint=complaint, by=by)
    Complaint.objects.filter(pk=complaint.pk).update(confirmed_at=at_three_pm(on))
    return complaint


def made_on(day: date) -> set:
    """The reasons of the calls the job makes when it runs on `day`."""
    before = set(FollowUpCall.objects.values_list("pk", flat=True))
    services.follow_up_calls_generate(today=day)
    return set(
        FollowUpCall.objects.exclude(pk__in=before).values_list("reason", "due_on").distinct()
    )


# --- generation: on their days, caught up within a week, never after -------------------------


def test_delivery_calls_fall_due_on_day_1_7_and_30_exactly(branch, consultant, customer_care):
    # given a car delivered on 3 March
    delivered(branch, consultant)
    # when the job runs every day from the delivery day to six weeks later
    made = {offset: made_on(DELIVERED_ON + timedelta(days=offset)) for offset in range(43)}
    # then it makes one call on day 1, one on day 7 and one on day 30, each due that day
    days = {offset: reasons for offset, reasons in made.items() if reasons}
    assert days == {
        1: {(CallReason.DELIVERY_DAY_1, date(2025, 3, 4))},
        7: {(CallReason.DELIVERY_DAY_7, date(2025, 3, 10))},
        30: {(CallReason.DELIVERY_DAY_30, date(2025, 4, 2))},
    }


@pytest.mark.parametrize(
    ("first_run", "expected"),
    [
        (0, set()),
        (1, {CallReason.DELIVERY_DAY_1}),
        # the day-1 call is still made on the last day of its week, with the day-7 call
        (7, {CallReason.DELIVERY_DAY_1, CallReason.DELIVERY_DAY_7}),
        (8, {CallReason.DELIVERY_DAY_7}),
        (13, {CallReason.DELIVERY_DAY_7}),
        (14, set()),
        (29, set()),
        (36, {CallReason.DELIVERY_DAY_30}),
        (37, set()),
    ],
)
def test_missed_delivery_calls_are_caught_up_within_a_week_only(
    branch, consultant, customer_care, first_run, expected
):
    # given a delivery the job did not see on the days its calls fell due
    delivery = delivered(branch, consultant)
    # when it first runs `first_run` days after the delivery
    services.follow_up_calls_generate(today=DELIVERED_ON + timedelta(days=first_run))
    # then it makes the calls still in their week, each due on its own day
    calls = FollowUpCall.objects.filter(delivery=delivery)
    assert {call.reason for call in calls} == expected
    days = {
        CallReason.DELIVERY_DAY_1: 1,
        CallReason.DELIVERY_DAY_7: 7,
        CallReason.DELIVERY_DAY_30: 30,
    }
    for call in calls:
        assert call.due_on == DELIVERED_ON + timedelta(days=days[call.reason])


def test_a_closed_work_order_is_called_the_day_after_not_an_open_one(
    branch, advisor, technician, customer_care
):
    # given a work order closed on 3 March and one still in the workshop
    closed = closed_on(closed_work_order(branch, advisor, technician), DELIVERED_ON)
    still_open = in_progress_work_order(branch, advisor, technician)
    # when the job runs on the closing day, the day after and the week after
    on_the_day = services.follow_up_calls_generate(today=DELIVERED_ON)
    next_day = made_on(DELIVERED_ON + timedelta(days=1))
    later = [services.follow_up_calls_generate(today=DELIVERED_ON + timedelta(days=n))
             for n in range(2, 10)]  # fmt: skip
    # then one call is made, due the day after closing, for the closed work order only
    assert on_the_day == 0 and sum(later) == 0
    assert next_day == {(CallReason.SERVICE, date(2025, 3, 4))}
    call = FollowUpCall.objects.get()
    assert (call.work_order, call.customer, call.vehicle) == (
        closed,
        closed.customer,
        closed.vehicle,
    )
    assert not FollowUpCall.objects.filter(work_order=still_open).exists()


@pytest.mark.parametrize("service_type", [ServiceType.INTERNAL, ServiceType.PDI])
def test_the_dealers_own_and_pre_delivery_jobs_get_no_call(
    branch, advisor, technician, customer_care, service_type
):
    # given a closed work order of the dealer's own or a pre-delivery job
    work_order = closed_on(closed_work_order(branch, advisor, technician), DELIVERED_ON)
    type(work_order).objects.filter(pk=work_order.pk).update(service_type=service_type)
    # when the job runs the day after, then no customer is called
    assert services.follow_up_calls_generate(today=DELIVERED_ON + timedelta(days=1)) == 0


@pytest.mark.parametrize(("first_run", "made"), [(1, 1), (7, 1), (8, 0)])
def test_a_missed_service_call_is_caught_up_within_its_week(
    branch, advisor, technician, customer_care, first_run, made
):
    # given a work order closed on 3 March, its call due on the 4th, the job down since
    closed_on(closed_work_order(branch, advisor, technician), DELIVERED_ON)
    # when the job first runs `first_run` days after the closing
    day = DELIVERED_ON + timedelta(days=first_run)
    # then the call is made within the week from its due day on, never after
    assert services.follow_up_calls_generate(today=day) == made
    assert FollowUpCall.objects.filter(due_on=date(2025, 3, 4)).count() == made


def test_a_confirmed_complaint_is_called_three_days_later(branch, customer_care, branch_manager):
    # given a complaint the customer confirmed closed on 3 March, and one still open
    complaint = confirmed_complaint(branch, customer_care, branch_manager, on=DELIVERED_ON)
    services.complaint_create(
        branch=branch, customer=complaint.customer, by=customer_care,
        data={"channel": ComplaintChannel.PHONE, "category": ComplaintCategory.PRICE,
              "severity": Severity.LOW, "description": "价格不透明"},
    )  # fmt: skip
    # when the job runs each day of the following two weeks
    made = {n: made_on(DELIVERED_ON + timedelta(days=n)) for n in range(14)}
    # then one call is made, on the third day, for the closed complaint
    assert {n: reasons for n, reasons in made.items() if reasons} == {
        3: {(CallReason.COMPLAINT, date(2025, 3, 6))}
    }
    assert FollowUpCall.objects.get().complaint == complaint


@pytest.mark.parametrize(("first_run", "made"), [(3, 1), (9, 1), (10, 0)])
def test_a_missed_complaint_call_is_caught_up_within_its_week(
    branch, customer_care, branch_manager, first_run, made
):
    confirmed_complaint(branch, customer_care, branch_manager, on=DELIVERED_ON)
    day = DELIVERED_ON + timedelta(days=first_run)
    assert services.follow_up_calls_generate(today=day) == made


def test_each_call_is_made_once_whatever_the_reruns(
    branch, consultant, advisor, technician, customer_care, branch_manager
):
    # given a delivery, a closed work order and a confirmed complaint, all due on one day
    delivery = delivered(branch, consultant, on=DELIVERED_ON - timedelta(days=7))
    work_order = closed_on(closed_work_order(branch, advisor, technician),
                           DELIVERED_ON - timedelta(days=1))  # fmt: skip
    complaint = confirmed_complaint(
        branch, customer_care, branch_manager, on=DELIVERED_ON - timedelta(days=3)
    )
    # when the job runs, then again that day and on each of the following days
    first = services.follow_up_calls_generate(today=DELIVERED_ON)
    before = [state(call) for call in FollowUpCall.objects.order_by("pk")]
    reruns = [services.follow_up_calls_generate(today=DELIVERED_ON)] + [
        services.follow_up_calls_generate(today=DELIVERED_ON + timedelta(days=n))
        for n in range(1, 6)
    ]
    # then the first run made the four calls, the reruns none, and the calls are untouched
    assert first == 4 and reruns == [0] * 6
    assert [state(call) for call in FollowUpCall.objects.order_by("pk")] == before
    assert FollowUpCall.objects.filter(delivery=delivery).count() == 2  # day 1 and day 7
    assert FollowUpCall.objects.filter(work_order=work_order).count() == 1
    assert FollowUpCall.objects.filter(complaint=complaint).count() == 1


def test_the_database_refuses_a_second_call_for_the_same_record_and_reason(
    branch, consultant, advisor, technician, customer_care, branch_manager
):
    # given one call of each kind made by the job
    delivery = delivered(branch, consultant, on=DELIVERED_ON - timedelta(days=1))
    work_order = closed_on(closed_work_order(branch, advisor, technician),
                           DELIVERED_ON - timedelta(days=1))  # fmt: skip
    complaint = confirmed_complaint(
        branch, customer_care, branch_manager, on=DELIVERED_ON - timedelta(days=3)
    )
    assert services.follow_up_calls_generate(today=DELIVERED_ON) == 3
    # when a second row for the same record is inserted behind the services' back
    for original in FollowUpCall.objects.all():
        copy = {
            field.attname: getattr(original, field.attname)
            for field in FollowUpCall._meta.concrete_fields
            if field.attname != "id"
        }
        # then the database's unique constraints refuse it
        with pytest.raises(IntegrityError), transaction.atomic():
            FollowUpCall.objects.create(**copy)
    # while another delivery reason for the same delivery is allowed
    FollowUpCall.objects.create(
        branch=branch, customer=delivery.order.customer, reason=CallReason.DELIVERY_DAY_7,
        delivery=delivery, due_on=DELIVERED_ON, assigned_to=customer_care,
    )  # fmt: skip
    assert counts(FollowUpCall) == {"FollowUpCall": 4}
    assert FollowUpCall.objects.filter(work_order=work_order).count() == 1
    assert FollowUpCall.objects.filter(complaint=complaint).count() == 1


# --- who makes the call ---------------------------------------------------------------------


def test_calls_go_to_the_branchs_agent_with_the_fewest_open_calls(
    branch, other_branch, consultant, customer_care
):
    # given two agents: the first has two calls to make, the second one to make and many
    # done; an agent of another branch and a former agent have none
    second = UserFactory(roles=[Role.CUSTOMER_CARE], branches=[branch])
    UserFactory(roles=[Role.CUSTOMER_CARE], branches=[other_branch])
    UserFactory(roles=[Role.CUSTOMER_CARE], branches=[branch], is_active=False)
    earlier = [delivered(branch, consultant, on=DELIVERED_ON - timedelta(days=n))
               for n in range(20, 26)]  # fmt: skip
    for delivery, (agent, status) in zip(earlier, [
        (customer_care, CallStatus.DUE), (customer_care, CallStatus.DUE),
        (second, CallStatus.DUE), (second, CallStatus.UNREACHABLE),
        (second, CallStatus.CANCELLED), (second, CallStatus.UNREACHABLE),
    ], strict=True):  # fmt: skip
        FollowUpCall.objects.create(
            branch=branch, customer=delivery.order.customer, delivery=delivery, status=status,
            reason=CallReason.DELIVERY_DAY_1, due_on=DELIVERED_ON, assigned_to=agent,
        )  # fmt: skip
    # when the job makes three calls
    new = [delivered(branch, consultant, on=DELIVERED_ON - timedelta(days=1)) for _n in range(3)]
    assert services.follow_up_calls_generate(today=DELIVERED_ON) == 3
    # then the second agent gets the first (one open call against two); level, the first
    # agent (listed first) gets the next; then the second again
    assigned = [FollowUpCall.objects.get(delivery=delivery).assigned_to for delivery in new]
    assert assigned == [second, customer_care, second]


def test_without_an_agent_the_records_own_person_makes_the_call(
    branch, consultant, advisor, technician, customer_care, branch_manager
):
    # given a delivery, a work order and a complaint whose call falls due together
    delivery = delivered(branch, consultant, on=DELIVERED_ON - timedelta(days=1))
    work_order = closed_on(closed_work_order(branch, advisor, technician),
                           DELIVERED_ON - timedelta(days=1))  # fmt: skip
    complaint = confirmed_complaint(
        branch, branch_manager, branch_manager, on=DELIVERED_ON - timedelta(days=3)
    )
    # and the branch without customer-care agent any more
    customer_care.is_active = False
    customer_care.save()
    # when the job runs
    assert services.follow_up_calls_generate(today=DELIVERED_ON) == 3
    # then each call goes to the consultant, the advisor and the complaint's owner
    assert FollowUpCall.objects.get(delivery=delivery).assigned_to == consultant
    assert FollowUpCall.objects.get(work_order=work_order).assigned_to == advisor
    assert FollowUpCall.objects.get(complaint=complaint).assigned_to == branch_manager


def test_a_call_belongs_to_its_records_branch(branch, other_branch, consultant, customer_care):
    # given deliveries at both branches, each with its own agent
    their_agent = UserFactory(roles=[Role.CUSTOMER_CARE], branches=[other_branch])
    their_consultant = UserFactory(roles=[Role.SALES_CONSULTANT], branches=[other_branch])
    ours = delivered(branch, consultant, on=DELIVERED_ON - timedelta(days=1))
    theirs = delivered(other_branch, their_consultant, on=DELIVERED_ON - timedelta(days=1))
    # when the job runs
    services.follow_up_calls_generate(today=DELIVERED_ON)
    # then each call is in its delivery's branch, for its customer and car, to its agent
    mine, other = (FollowUpCall.objects.get(delivery=d) for d in (ours, theirs))
    assert (mine.branch, mine.customer, mine.vehicle, mine.assigned_to) == (
        branch,
        ours.order.customer,
        ours.vehicle,
        customer_care,
    )
    assert (other.branch, other.customer, other.vehicle, other.assigned_to) == (
        other_branch,
        theirs.order.customer,
        theirs.vehicle,
        their_agent,
    )
    assert list(FollowUpCall.objects.for_user(customer_care)) == [mine]
    assert list(FollowUpCall.objects.for_user(their_agent)) == [other]


# --- attempts -------------------------------------------------------------------------------


@pytest.fixture
def service_call(branch, advisor, technician, customer_care):
    """The call after a closed work order, due today, to the agent."""
    today = timezone.localdate()
    closed_on(closed_work_order(branch, advisor, technician), today - timedelta(days=1))
    services.follow_up_calls_generate(today=today)
    return FollowUpCall.objects.get()


def attempt(call, by, outcome=CallOutcome.REACHED, **kwargs):
    return services.call_attempt_record(call=call, outcome=outcome, by=by, **kwargs)


def test_a_reached_customer_scores_the_call_and_it_is_done(service_call, customer_care):
    call = attempt(service_call, customer_care, score=5, note="  服务很好  ")
    row = FollowUpCall.objects.get(pk=call.pk)
    assert (row.status, row.score, row.note, row.attempts) == (CallStatus.DONE, 5, "服务很好", 1)
    assert row.completed_by == customer_care and row.completed_at is not None
    assert row.raised_complaint is None
    assert list(row.tries.values_list("outcome", flat=True)) == [CallOutcome.REACHED]
    assert TimelineEntry.objects.filter(customer=row.customer, kind="follow_up_call").count() == 1


@pytest.mark.parametrize(
    ("score", "code"), [(None, "score_required"), (0, "score_invalid"), (6, "score_invalid")]
)
def test_a_reached_customer_without_a_score_from_1_to_5_is_refused(
    service_call, customer_care, score, code
):
    before = state(service_call), counts(*WATCHED)
    error = refusal(lambda: attempt(service_call, customer_care, score=score))
    assert error.code == code
    assert (state(service_call), counts(*WATCHED)) == before


def test_an_unknown_outcome_is_refused(service_call, customer_care):
    before = state(service_call), counts(*WATCHED)
    assert refusal(lambda: attempt(service_call, customer_care, "hung_up")).code == (
        "outcome_invalid"
    )
    assert (state(service_call), counts(*WATCHED)) == before


@pytest.mark.parametrize("score", [1, 2])
def test_a_low_score_with_an_issue_opens_a_complaint(service_call, customer_care, score):
    # given the call after a work order
    work_order = service_call.work_order
    # when the customer, reached, gives a low score and raises an issue
    received = timezone.now()
    call = attempt(
        service_call, customer_care, score=score, note="等了两个小时",
        issue={"category": ComplaintCategory.WAITING, "severity": Severity.HIGH,
               "description": "交车等待时间过长"},
    )  # fmt: skip
    # then a complaint is opened from the call: its channel, car and work order, owned by the
    # agent, its deadlines those of a high-severity complaint
    complaint = FollowUpCall.objects.get(pk=call.pk).raised_complaint
    assert (complaint.channel, complaint.vehicle, complaint.work_order, complaint.customer) == (
        ComplaintChannel.FOLLOW_UP,
        work_order.vehicle,
        work_order,
        work_order.customer,
    )
    assert (complaint.branch, complaint.owner, complaint.status) == (
        service_call.branch,
        customer_care,
        ComplaintStatus.OPEN,
    )
    assert received <= complaint.received_at <= timezone.now()
    assert complaint.respond_by - complaint.received_at == timedelta(hours=4)
    assert complaint.resolve_by - complaint.received_at == timedelta(hours=48)
    assert FollowUpCall.objects.get(pk=call.pk).status == CallStatus.DONE


def test_the_complaint_raised_is_about_the_call_whatever_the_issue_says(
    service_call, customer_care
):
    call = attempt(
        service_call, customer_care, score=1,
        issue={"category": ComplaintCategory.PRICE, "severity": Severity.LOW,
               "description": "收费太高", "channel": ComplaintChannel.WECHAT,
               "vehicle": None, "work_order": None},
    )  # fmt: skip
    complaint = FollowUpCall.objects.get(pk=call.pk).raised_complaint
    assert (complaint.channel, complaint.vehicle, complaint.work_order) == (
        ComplaintChannel.FOLLOW_UP,
        service_call.vehicle,
        service_call.work_order,
    )


def test_a_reached_customer_without_an_issue_opens_no_complaint(service_call, customer_care):
    attempt(service_call, customer_care, score=1, note="不满意但不想投诉")
    assert counts(Complaint) == {"Complaint": 0}


def test_an_issue_with_a_bad_severity_leaves_the_call_as_it_was(service_call, customer_care):
    before = state(service_call), counts(*WATCHED)
    error = refusal(lambda: attempt(
        service_call, customer_care, score=2,
        issue={"category": ComplaintCategory.WAITING, "severity": "urgent", "description": "慢"},
    ))  # fmt: skip
    assert error.code == "severity_invalid"
    assert (state(service_call), counts(*WATCHED)) == before


@pytest.mark.parametrize("outcome", [CallOutcome.NO_ANSWER, CallOutcome.BUSY])
def test_an_issue_needs_the_customer_reached(service_call, customer_care, outcome):
    before = state(service_call), counts(*WATCHED)
    error = refusal(lambda: attempt(
        service_call, customer_care, outcome,
        issue={"category": ComplaintCategory.OTHER, "severity": Severity.LOW, "description": "?"},
    ))  # fmt: skip
    assert error.code == "issue_needs_customer"
    assert (state(service_call), counts(*WATCHED)) == before


def test_a_customer_not_reached_is_tried_tomorrow_then_unreachable_after_three(
    service_call, customer_care
):
    tomorrow = timezone.localdate() + timedelta(days=1)
    # when the first and second attempts find nobody
    first = attempt(service_call, customer_care, CallOutcome.NO_ANSWER, note="无人接听")
    assert (first.status, first.attempts, first.due_on) == (CallStatus.DUE, 1, tomorrow)
    second = attempt(first, customer_care, CallOutcome.BUSY)
    assert (second.status, second.attempts, second.due_on) == (CallStatus.DUE, 2, tomorrow)
    assert second.completed_at is None
    # then the third failure makes the customer unreachable
    third = attempt(second, customer_care, CallOutcome.WRONG_NUMBER)
    row = FollowUpCall.objects.get(pk=third.pk)
    assert (row.status, row.attempts, row.score) == (CallStatus.UNREACHABLE, 3, None)
    assert row.completed_by == customer_care and row.completed_at is not None
    assert list(row.tries.values_list("outcome", "note")) == [
        (CallOutcome.NO_ANSWER, "无人接听"), (CallOutcome.BUSY, ""),
        (CallOutcome.WRONG_NUMBER, ""),
    ]  # fmt: skip


def test_reached_on_the_second_attempt_counts_both(service_call, customer_care):
    attempt(service_call, customer_care, CallOutcome.NO_ANSWER)
    call = attempt(service_call, customer_care, score=4)
    assert (call.status, call.attempts, call.score) == (CallStatus.DONE, 2, 4)


def test_a_follow_up_logged_twice_is_refused(service_call, customer_care):
    # given a call done
    attempt(service_call, customer_care, score=4)
    before = state(service_call), counts(*WATCHED)
    # when it is logged again, reached or not
    errors = [
        refusal(lambda: attempt(service_call, customer_care, score=5)),
        refusal(lambda: attempt(service_call, customer_care, CallOutcome.NO_ANSWER)),
    ]
    # then it is refused as no longer due, and nothing changed
    assert [(e.code, e.status_code) for e in errors] == [("call_not_due", 409)] * 2
    assert (state(service_call), counts(*WATCHED)) == before


def test_an_unreachable_call_refuses_another_attempt(service_call, customer_care):
    for _n in range(3):
        attempt(service_call, customer_care, CallOutcome.NO_ANSWER)
    before = state(service_call), counts(*WATCHED)
    assert refusal(lambda: attempt(service_call, customer_care, score=3)).code == "call_not_due"
    assert (state(service_call), counts(*WATCHED)) == before


# --- reassigning ----------------------------------------------------------------------------


def test_a_call_is_reassigned_within_its_branch(service_call, customer_care, advisor):
    call = services.call_reassign(call=service_call, to=advisor, by=customer_care)
    assert FollowUpCall.objects.get(pk=call.pk).assigned_to == advisor


def test_reassigning_to_someone_of_another_branch_is_refused(
    service_call, customer_care, other_branch_user
):
    before = state(service_call)
    error = refusal(
        lambda: services.call_reassign(call=service_call, to=other_branch_user, by=customer_care)
    )
    assert (error.code, error.field) == ("assignee_other_branch", "to")
    assert state(service_call) == before


def test_reassigning_to_a_former_colleague_is_refused(service_call, customer_care, advisor):
    advisor.is_active = False
    advisor.save()
    before = state(service_call)
    error = refusal(lambda: services.call_reassign(call=service_call, to=advisor, by=customer_care))
    assert error.code == "assignee_other_branch"
    assert state(service_call) == before


def test_reassigning_a_call_done_is_refused(service_call, customer_care, advisor):
    attempt(service_call, customer_care, score=5)
    before = state(service_call)
    error = refusal(lambda: services.call_reassign(call=service_call, to=advisor, by=customer_care))
    assert error.code == "call_not_due"
    assert state(service_call) == before
