"""Fixtures of the customer-care tests: care records made the way the call centre makes
them, through the services — a complaint received, one resolved, one closed by the customer
with the follow-up call the daily job makes for it three days later, an inquiry, and the
branch's segments computed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.care import services
from customers.care.choices import ComplaintCategory, ComplaintChannel, InquiryKind, Severity
from customers.care.models import FollowUpCall
from dealer_crm.choices import Role
from tests.factories import CustomerFactory, UserFactory, VehicleFactory


def open_complaint(branch, customer, by, **data):
    """A complaint received by phone about the waiting time (medium severity)."""
    return services.complaint_create(
        branch=branch,
        customer=customer,
        by=by,
        data={
            "channel": ComplaintChannel.PHONE,
            "category": ComplaintCategory.WAITING,
            "severity": Severity.MEDIUM,
            "description": "保养等了三个小时",
            **data,
        },
    )


def resolved_complaint(branch, customer, agent, manager):
    complaint = open_complaint(branch, customer, agent)
    return services.complaint_resolve(complaint=complaint, resolution="致歉并赠送洗车", by=manager)


def call_after_complaint(branch, customer, agent, manager) -> FollowUpCall:
    """A complaint closed by the customer, and the follow-up call the daily job makes for it
    three days later (due to the branch's care agent)."""
    complaint = resolved_complaint(branch, customer, agent, manager)
    complaint = services.complaint_confirm(complaint=complaint, by=agent, note="满意")
    due_on = timezone.localdate(complaint.confirmed_at) + timedelta(days=3)
    services.follow_up_calls_generate(today=due_on)
    return FollowUpCall.objects.get(complaint=complaint)


def record_inquiry(branch, customer, by, **data):
    return services.inquiry_record(
        branch=branch,
        customer=customer,
        by=by,
        data={
            "kind": InquiryKind.INQUIRY,
            "channel": ComplaintChannel.PHONE,
            "subject": "周末能做保养吗？",
            **data,
        },
    )


def care_of(branch, agent, manager) -> dict:
    """One record of every care resource in `branch`: a customer with a car, an open
    complaint, a resolved one awaiting the customer, a follow-up call due, an inquiry, and
    the branch's segments."""
    customer = CustomerFactory(branch=branch)
    VehicleFactory(owner=customer)
    records = {
        "customer": customer,
        "complaint": open_complaint(branch, customer, agent),
        "resolved": resolved_complaint(branch, customer, agent, manager),
        "call": call_after_complaint(branch, customer, agent, manager),
        "inquiry": record_inquiry(branch, customer, agent),
    }
    services.segments_compute(branch=branch)
    return records


@pytest.fixture
def records(branch, customer_care, branch_manager) -> dict:
    return care_of(branch, customer_care, branch_manager)


@pytest.fixture
def other_care_office(other_branch):
    """The other branch's care agent and manager in one: every care permission, none of our
    records."""
    return UserFactory(
        roles=[Role.CUSTOMER_CARE, Role.BRANCH_MANAGER], branches=[other_branch], username="panyu"
    )


@pytest.fixture
def theirs(other_branch) -> dict:
    """The same records in the other branch, made by its own agent and manager."""
    agent = UserFactory(roles=[Role.CUSTOMER_CARE], branches=[other_branch])
    manager = UserFactory(roles=[Role.BRANCH_MANAGER], branches=[other_branch])
    return care_of(other_branch, agent, manager)
