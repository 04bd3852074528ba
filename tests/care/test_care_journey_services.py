"""Customer care through its services: the day's calls generated from a delivery and a
closed work order, one reached with a low score that opens a complaint, the complaint
resolved by a manager and confirmed by the customer, its own follow-up call three days
later; an unreachable customer tried three times; segments computed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.care import services
from customers.care.choices import (
    CallOutcome,
    CallReason,
    CallStatus,
    ComplaintCategory,
    ComplaintStatus,
    Lifecycle,
    Severity,
)
from customers.care.models import CustomerSegment, FollowUpCall
from tests.archives.helpers import closed_work_order, delivered_section

pytestmark = pytest.mark.django_db


def test_calls_a_complaint_and_its_own_call(
    branch, consultant, advisor, technician, customer_care, branch_manager
):
    delivery = delivered_section(branch, consultant, days_ago=7).delivery
    work_order = closed_work_order(branch, advisor, technician)
    today = timezone.localdate()

    # the day-1 and day-7 calls of the delivery are due; tomorrow the work order's
    assert services.follow_up_calls_generate(today=today) == 2
    assert services.follow_up_calls_generate(today=today) == 0
    assert services.follow_up_calls_generate(today=today + timedelta(days=1)) == 1
    reasons = set(FollowUpCall.objects.values_list("reason", flat=True))
    assert reasons == {CallReason.DELIVERY_DAY_1, CallReason.DELIVERY_DAY_7, CallReason.SERVICE}
    assert set(FollowUpCall.objects.values_list("assigned_to", flat=True)) == {customer_care.pk}

    call = FollowUpCall.objects.get(work_order=work_order)
    call = services.call_attempt_record(
        call=call, outcome=CallOutcome.REACHED, by=customer_care, score=2,
        note="等了两个小时才交车",
        issue={"category": ComplaintCategory.WAITING, "severity": Severity.MEDIUM,
               "description": "交车等待时间过长"},
    )  # fmt: skip
    assert call.status == CallStatus.DONE and call.raised_complaint is not None
    complaint = call.raised_complaint
    assert complaint.respond_by == complaint.received_at + timedelta(hours=24)

    complaint = services.complaint_resolve(
        complaint=complaint, resolution="致歉并赠送一次免费洗车", by=branch_manager
    )
    complaint = services.complaint_confirm(complaint=complaint, by=customer_care, note="满意")
    assert complaint.status == ComplaintStatus.CLOSED
    in_three_days = timezone.localdate(complaint.confirmed_at) + timedelta(days=3)
    assert services.follow_up_calls_generate(today=in_three_days) >= 1
    assert FollowUpCall.objects.get(complaint=complaint).due_on == in_three_days

    # a customer not reached is tried again the next day, three times in all
    unreached = FollowUpCall.objects.get(delivery=delivery, reason=CallReason.DELIVERY_DAY_1)
    for _attempt in range(3):
        unreached = services.call_attempt_record(
            call=unreached, outcome=CallOutcome.NO_ANSWER, by=customer_care
        )
    assert (unreached.status, unreached.attempts) == (CallStatus.UNREACHABLE, 3)

    assert services.segments_compute(branch=branch) >= 2
    owner = CustomerSegment.objects.get(customer=work_order.customer)
    assert owner.lifecycle == Lifecycle.OWNER and owner.last_visit_on == today
