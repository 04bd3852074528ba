"""Complaints through the care services: deadlines set by severity, an owner of the branch,
first response, a manager's resolution and the customer's confirmation, each step only from
the one before; escalation of the overdue, once per level. Inquiries and suggestions with
their answer, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.care import services
from customers.care.choices import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    InquiryKind,
    Severity,
)
from customers.care.models import Complaint, Inquiry
from customers.models import TimelineEntry
from dealer_crm.models import Notification
from tests.archives.helpers import closed_work_order
from tests.factories import CustomerFactory
from tests.service.helpers import counts, fresh, refusal, state

pytestmark = pytest.mark.django_db

WATCHED = (Complaint, TimelineEntry, Notification)


def complaint_data(**overrides) -> dict:
    return {
        "channel": ComplaintChannel.PHONE,
        "category": ComplaintCategory.SERVICE_QUALITY,
        "severity": Severity.MEDIUM,
        "description": "保养后发动机仍有异响",
        **overrides,
    }


def received(branch, by, **data) -> Complaint:
    return services.complaint_create(
        branch=branch, customer=CustomerFactory(branch=branch), by=by, data=complaint_data(**data)
    )


def timeline_kinds(customer) -> list[str]:
    return list(TimelineEntry.objects.filter(customer=customer).order_by("pk").values_list(
        "kind", flat=True
    ))  # fmt: skip


# --- receiving ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "respond_in", "resolve_in"),
    [
        (Severity.CRITICAL, timedelta(hours=2), timedelta(hours=24)),
        (Severity.HIGH, timedelta(hours=4), timedelta(hours=48)),
        (Severity.MEDIUM, timedelta(hours=24), timedelta(hours=72)),
        (Severity.LOW, timedelta(hours=48), timedelta(days=7)),
    ],
)
def test_a_complaints_deadlines_follow_its_severity(
    branch, customer_care, severity, respond_in, resolve_in
):
    # given a complaint received by phone two hours ago
    at = timezone.now() - timedelta(hours=2)
    # when it is recorded with its severity
    complaint = received(branch, customer_care, severity=severity, received_at=at)
    # then its deadlines run from its receipt
    row = fresh(complaint)
    assert (row.received_at, row.respond_by, row.resolve_by) == (
        at,
        at + respond_in,
        at + resolve_in,
    )
    assert (row.status, row.owner, row.created_by, row.escalation_level) == (
        ComplaintStatus.OPEN,
        customer_care,
        customer_care,
        0,
    )
    assert row.number == f"CP{row.pk:05d}"
    assert timeline_kinds(row.customer) == ["complaint_received"]


def test_a_complaint_without_a_time_is_received_now(branch, customer_care):
    before = timezone.now()
    complaint = received(branch, customer_care, severity=Severity.CRITICAL)
    assert before <= complaint.received_at <= timezone.now()
    assert complaint.respond_by == complaint.received_at + timedelta(hours=2)


def test_the_owner_named_is_told_of_the_complaint(branch, customer_care, advisor):
    complaint = received(branch, customer_care, owner=advisor)
    assert fresh(complaint).owner == advisor
    assert list(Notification.objects.values_list("recipient", "key")) == [
        (advisor.pk, f"care.complaint.{complaint.pk}")
    ]


def test_an_owner_of_another_branch_is_refused(branch, customer_care, other_branch_user):
    customer = CustomerFactory(branch=branch)
    before = counts(*WATCHED)
    error = refusal(lambda: services.complaint_create(
        branch=branch, customer=customer, by=customer_care,
        data=complaint_data(owner=other_branch_user),
    ))  # fmt: skip
    assert (error.code, error.field) == ("owner_other_branch", "owner")
    assert counts(*WATCHED) == before


def test_a_complaint_recorded_in_a_branch_one_does_not_work_in_is_refused(
    other_branch, customer_care
):
    customer = CustomerFactory(branch=other_branch)
    before = counts(*WATCHED)
    error = refusal(lambda: services.complaint_create(
        branch=other_branch, customer=customer, by=customer_care, data=complaint_data(),
    ))  # fmt: skip
    assert error.code == "owner_other_branch"
    assert counts(*WATCHED) == before


def test_a_customer_of_another_branch_is_refused(branch, other_branch, customer_care):
    stranger = CustomerFactory(branch=other_branch)
    before = counts(*WATCHED)
    error = refusal(lambda: services.complaint_create(
        branch=branch, customer=stranger, by=customer_care, data=complaint_data(),
    ))  # fmt: skip
    assert error.code == "customer_other_branch"
    assert counts(*WATCHED) == before


def test_another_customers_vehicle_or_work_order_is_refused(
    branch, customer_care, advisor, technician
):
    customer = CustomerFactory(branch=branch)
    work_order = closed_work_order(branch, advisor, technician)  # someone else's visit
    before = counts(*WATCHED)
    for field, value, code in [
        ("vehicle", work_order.vehicle, "vehicle_other_customer"),
        ("work_order", work_order, "work_order_other_customer"),
    ]:
        error = refusal(lambda field=field, value=value: services.complaint_create(
            branch=branch, customer=customer, by=customer_care,
            data=complaint_data(**{field: value}),
        ))  # fmt: skip
        assert (error.code, error.field) == (code, field)
    assert counts(*WATCHED) == before


def test_a_group_manager_records_a_complaint_of_another_branchs_customer(
    branch, other_branch, group_manager
):
    customer = CustomerFactory(branch=other_branch)
    complaint = services.complaint_create(
        branch=branch, customer=customer, by=group_manager, data=complaint_data()
    )
    assert (complaint.branch, complaint.customer) == (branch, customer)


def test_a_complaint_that_cannot_join_the_timeline_is_not_kept(monkeypatch, branch, customer_care):
    def timeline_down(**entry):
        raise RuntimeError("timeline unavailable")

    monkeypatch.setattr(services, "timeline_add", timeline_down)
    before = counts(*WATCHED)
    with pytest.raises(RuntimeError):
        received(branch, customer_care)
    assert counts(*WATCHED) == before


@pytest.mark.parametrize("severity", ["", "urgent", None])
def test_a_complaint_without_a_known_severity_is_refused(branch, customer_care, severity):
    customer = CustomerFactory(branch=branch)
    before = counts(*WATCHED)
    error = refusal(lambda: services.complaint_create(
        branch=branch, customer=customer, by=customer_care,
        data=complaint_data(severity=severity),
    ))  # fmt: skip
    assert (error.code, error.field) == ("severity_invalid", "severity")
    assert counts(*WATCHED) == before


# --- respond, resolve, confirm ---------------------------------------------------------------


def test_the_first_response_is_recorded(branch, customer_care):
    complaint = received(branch, customer_care)
    before = timezone.now()
    services.complaint_respond(
        complaint=complaint, response="  已致电客户安排复检  ", by=customer_care
    )
    row = fresh(complaint)
    assert (row.status, row.response) == (ComplaintStatus.RESPONDED, "已致电客户安排复检")
    assert before <= row.responded_at <= timezone.now()


def test_an_empty_response_is_refused(branch, customer_care):
    complaint = received(branch, customer_care)
    before = state(complaint)
    error = refusal(
        lambda: services.complaint_respond(complaint=complaint, response="  ", by=customer_care)
    )
    assert (error.code, error.field) == ("response_required", "response")
    assert state(complaint) == before


@pytest.mark.parametrize("manager", ["branch_manager", "sales_manager"])
def test_a_manager_resolves_a_complaint_answered_or_not(request, branch, customer_care, manager):
    manager = request.getfixturevalue(manager)
    answered = received(branch, customer_care)
    services.complaint_respond(complaint=answered, response="已回电", by=customer_care)
    responded_at = fresh(answered).responded_at
    unanswered = received(branch, customer_care)
    # when a manager resolves both
    for complaint in (answered, unanswered):
        services.complaint_resolve(complaint=complaint, resolution=" 免费返修 ", by=manager)
    # then both await the customer; resolving counts as the first answer of the other
    for complaint in (answered, unanswered):
        row = fresh(complaint)
        assert (row.status, row.resolution, row.resolved_by) == (
            ComplaintStatus.RESOLVED,
            "免费返修",
            manager,
        )
        assert row.resolved_at is not None
        assert timeline_kinds(row.customer) == ["complaint_received", "complaint_resolved"]
    assert fresh(answered).responded_at == responded_at
    assert fresh(unanswered).responded_at == fresh(unanswered).resolved_at


@pytest.mark.parametrize("person", ["consultant", "customer_care", "advisor"])
def test_only_a_manager_resolves_a_complaint(request, branch, customer_care, person):
    complaint = received(branch, customer_care)
    before = state(complaint), counts(*WATCHED)
    error = refusal(lambda: services.complaint_resolve(
        complaint=complaint, resolution="免费返修", by=request.getfixturevalue(person)
    ))  # fmt: skip
    assert error.code == "not_a_manager"
    assert (state(complaint), counts(*WATCHED)) == before


def test_a_resolution_must_be_written(branch, customer_care, branch_manager):
    complaint = received(branch, customer_care)
    before = state(complaint), counts(*WATCHED)
    error = refusal(lambda: services.complaint_resolve(
        complaint=complaint, resolution=" ", by=branch_manager
    ))  # fmt: skip
    assert (error.code, error.field) == ("resolution_required", "resolution")
    assert (state(complaint), counts(*WATCHED)) == before


def test_the_customers_confirmation_closes_the_complaint_on_the_timeline(
    branch, customer_care, branch_manager
):
    complaint = received(branch, customer_care)
    services.complaint_resolve(complaint=complaint, resolution="免费返修", by=branch_manager)
    services.complaint_confirm(complaint=complaint, by=customer_care, note=" 满意 ")
    row = fresh(complaint)
    assert (row.status, row.confirmation_note) == (ComplaintStatus.CLOSED, "满意")
    assert row.confirmed_at is not None
    assert timeline_kinds(row.customer) == [
        "complaint_received", "complaint_resolved", "complaint_closed"
    ]  # fmt: skip
    closed = TimelineEntry.objects.get(kind="complaint_closed")
    assert (closed.detail, closed.actor) == (row.number, customer_care)


def complaint_in(status, branch, by, manager) -> Complaint:
    complaint = received(branch, by)
    if status == ComplaintStatus.RESPONDED:
        services.complaint_respond(complaint=complaint, response="已回电", by=by)
    if status in (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED):
        services.complaint_resolve(complaint=complaint, resolution="免费返修", by=manager)
    if status == ComplaintStatus.CLOSED:
        services.complaint_confirm(complaint=complaint, by=by)
    return fresh(complaint)


ILLEGAL_STEPS = [
    (ComplaintStatus.OPEN, "confirm", "complaint_not_resolved"),
    (ComplaintStatus.RESPONDED, "respond", "complaint_not_open"),
    (ComplaintStatus.RESPONDED, "confirm", "complaint_not_resolved"),
    (ComplaintStatus.RESOLVED, "respond", "complaint_not_open"),
    (ComplaintStatus.RESOLVED, "resolve", "complaint_not_open"),
    (ComplaintStatus.CLOSED, "respond", "complaint_not_open"),
    (ComplaintStatus.CLOSED, "resolve", "complaint_not_open"),
    (ComplaintStatus.CLOSED, "confirm", "complaint_not_resolved"),
]


@pytest.mark.parametrize(("status", "step", "code"), ILLEGAL_STEPS)
def test_a_step_out_of_turn_is_refused(branch, customer_care, branch_manager, status, step, code):
    # given a complaint at `status`
    complaint = complaint_in(status, branch, customer_care, branch_manager)
    assert complaint.status == status
    before = state(complaint), counts(*WATCHED)
    steps = {
        "respond": lambda: services.complaint_respond(
            complaint=complaint, response="再次回电", by=customer_care
        ),
        "resolve": lambda: services.complaint_resolve(
            complaint=complaint, resolution="再次处理", by=branch_manager
        ),
        "confirm": lambda: services.complaint_confirm(complaint=complaint, by=customer_care),
    }
    # when a step not open to it is taken
    error = refusal(steps[step])
    # then it is refused as a conflict and nothing changed
    assert (error.code, error.status_code) == (code, 409)
    assert (state(complaint), counts(*WATCHED)) == before


# --- escalation -----------------------------------------------------------------------------


def escalations(complaint) -> dict[int, set]:
    """Who was told of each escalation level of the complaint."""
    told: dict[int, set] = {}
    for recipient, key in Notification.objects.filter(
        key__startswith=f"care.complaint_escalated.{complaint.pk}."
    ).values_list("recipient", "key"):
        told.setdefault(int(key.rsplit(".", 1)[1]), set()).add(recipient)
    return told


@pytest.fixture
def managers(sales_manager, branch_manager):
    return {sales_manager.pk, branch_manager.pk}


def test_an_unanswered_complaint_past_its_response_time_goes_to_level_1_once(
    branch, customer_care, advisor, managers
):
    # given a medium complaint owned by the advisor, received 24 hours and a minute ago
    at = timezone.now() - timedelta(hours=24, minutes=1)
    complaint = received(branch, customer_care, owner=advisor, received_at=at)
    # when the job runs a minute before its respond-by time, then now, then again
    early = services.complaints_escalate(now=complaint.respond_by - timedelta(minutes=1))
    now = timezone.now()
    first = services.complaints_escalate(now=now)
    second = services.complaints_escalate(now=now + timedelta(minutes=59))
    # then it was escalated once, to level 1, and the owner and managers told once
    assert (early, first, second) == (0, 1, 0)
    row = fresh(complaint)
    assert (row.escalation_level, row.escalated_at) == (1, now)
    assert escalations(complaint) == {1: {advisor.pk, *managers}}


def test_an_unresolved_complaint_past_its_resolution_time_goes_to_level_2_once(
    branch, customer_care, managers
):
    # given a complaint at level 1, answered late
    at = timezone.now() - timedelta(hours=25)
    complaint = received(branch, customer_care, received_at=at)
    assert services.complaints_escalate(now=timezone.now()) == 1
    services.complaint_respond(complaint=complaint, response="已回电", by=customer_care)
    # when the job runs after its resolve-by time, twice
    later = complaint.resolve_by + timedelta(minutes=1)
    runs = [services.complaints_escalate(now=later), services.complaints_escalate(now=later)]
    # then it went to level 2 once, each level told once
    assert runs == [1, 0]
    assert (fresh(complaint).escalation_level, fresh(complaint).escalated_at) == (2, later)
    assert escalations(complaint) == {1: {customer_care.pk, *managers},
                                      2: {customer_care.pk, *managers}}  # fmt: skip


def test_a_complaint_answered_in_time_but_unresolved_goes_to_level_2_only(
    branch, customer_care, managers
):
    complaint = received(branch, customer_care)
    services.complaint_respond(complaint=complaint, response="已回电", by=customer_care)
    after_both = complaint.resolve_by + timedelta(minutes=1)
    assert services.complaints_escalate(now=complaint.respond_by + timedelta(minutes=1)) == 0
    assert services.complaints_escalate(now=after_both) == 1
    assert services.complaints_escalate(now=after_both) == 0
    assert fresh(complaint).escalation_level == 2
    assert escalations(complaint) == {2: {customer_care.pk, *managers}}


def test_a_complaint_found_past_both_deadlines_reaches_each_level_once(
    branch, customer_care, managers
):
    at = timezone.now() - timedelta(days=4)
    complaint = received(branch, customer_care, received_at=at)
    assert services.complaints_escalate() == 2
    assert services.complaints_escalate() == 0
    assert fresh(complaint).escalation_level == 2
    assert set(escalations(complaint)) == {1, 2}
    assert Notification.objects.filter(key__startswith="care.complaint_escalated.").count() == 6


def test_a_resolved_complaint_is_not_escalated(branch, customer_care, branch_manager):
    at = timezone.now() - timedelta(days=4)
    complaint = received(branch, customer_care, received_at=at)
    services.complaint_resolve(complaint=complaint, resolution="免费返修", by=branch_manager)
    before = state(complaint), counts(*WATCHED)
    assert services.complaints_escalate() == 0
    assert (state(complaint), counts(*WATCHED)) == before


# --- inquiries and suggestions -----------------------------------------------------------------


def inquiry(branch, by, **data) -> Inquiry:
    return services.inquiry_record(
        branch=branch, customer=CustomerFactory(branch=branch), by=by,
        data={"kind": InquiryKind.INQUIRY, "channel": ComplaintChannel.PHONE,
              "subject": "二保需要更换哪些零件？", **data},
    )  # fmt: skip


def test_an_inquiry_answered_at_once_records_who_and_when(branch, advisor):
    before = timezone.now()
    row = fresh(inquiry(branch, advisor, answer="  机油、机滤和空滤  "))
    assert (row.answer, row.answered_by, row.recorded_by) == ("机油、机滤和空滤", advisor, advisor)
    assert before <= row.answered_at <= timezone.now()
    assert timeline_kinds(row.customer) == ["inquiry"]


def test_an_inquiry_is_answered_later_once(branch, advisor, customer_care):
    # given an inquiry logged without an answer
    asked = inquiry(branch, advisor)
    assert (fresh(asked).answered_at, fresh(asked).answered_by) == (None, None)
    # when customer care answers it
    services.inquiry_answer(inquiry=asked, answer="机油、机滤和空滤", by=customer_care)
    row = fresh(asked)
    assert (row.answer, row.answered_by) == ("机油、机滤和空滤", customer_care)
    # then a second answer is refused and the first stands
    before = state(asked)
    error = refusal(lambda: services.inquiry_answer(inquiry=asked, answer="另一个答案", by=advisor))
    assert (error.code, error.status_code) == ("inquiry_answered", 409)
    assert state(asked) == before


def test_an_empty_answer_is_refused(branch, advisor):
    asked = inquiry(branch, advisor)
    before = state(asked)
    error = refusal(lambda: services.inquiry_answer(inquiry=asked, answer="   ", by=advisor))
    assert (error.code, error.field) == ("answer_required", "answer")
    assert state(asked) == before


def test_a_suggestion_joins_the_timeline_as_a_suggestion(branch, consultant):
    proposed = inquiry(branch, consultant, kind=InquiryKind.SUGGESTION, subject="希望周末延长营业")
    asked = inquiry(branch, consultant)
    assert timeline_kinds(proposed.customer) == ["suggestion"]
    assert timeline_kinds(asked.customer) == ["inquiry"]
    entry = TimelineEntry.objects.get(customer=proposed.customer)
    assert (entry.detail, entry.actor) == ("希望周末延长营业", consultant)
