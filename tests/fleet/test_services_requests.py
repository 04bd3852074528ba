"""Discount and special-configuration requests: due 48 hours after they are made, decided once
by someone else who may approve them, a refusal with its reason; the hourly job flags those
undecided after 48 hours and tells the branch's managers once. And the fleet jobs themselves."""

from datetime import datetime, timedelta
from decimal import Decimal
from unittest.mock import patch

import pytest
from django.utils import timezone

from dealer_crm.choices import Role
from dealer_crm.models import Notification
from fleet import services
from fleet.choices import ProtectionStatus, RequestStatus
from fleet.models import DiscountRequest, SpecialConfigurationRequest
from fleet.tasks import protections_lapse_task, requests_flag_overdue_task
from tests.factories import UserFactory
from tests.fleet.helpers import counts, deal_for, fresh, protect, refusal, register, state

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

R = RequestStatus
KINDS = ["discount", "special configuration"]
MODEL = {"discount": DiscountRequest, "special configuration": SpecialConfigurationRequest}


def ask(kind, deal, by, units=30):
    if kind == "discount":
        return services.discount_request_create(
            deal=deal, discount_per_unit=Decimal("800.00"), units=units,
            justification="竞品报价低 1,000 元/台", by=by,
        )  # fmt: skip
    return services.special_configuration_request(
        deal=deal, description="警用涂装 蓝白", units=units, justification="公安局招标要求", by=by
    )


def decide(request, by, approve=True, note=""):
    return services.request_decide(request=request, approve=approve, by=by, note=note)


@pytest.fixture
def deal(account, fleet_manager):
    return deal_for(account, fleet_manager)


# --- asking ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_request_is_due_48_hours_after_it_is_made_and_told_to_the_managers(
    deal, fleet_manager, sales_manager, branch_manager, kind
):
    moment = datetime(2026, 3, 6, 16, 30, tzinfo=timezone.get_current_timezone())
    # when the fleet manager asks on Friday 16:30
    with patch("django.utils.timezone.now", return_value=moment):
        request = ask(kind, deal, fleet_manager)
    # then it awaits a decision by Sunday 16:30
    row = fresh(request)
    assert (row.status, row.requested_at, row.due_by) == (
        R.PENDING, moment, moment + timedelta(hours=48),
    )  # fmt: skip
    # and the branch's managers are told
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == sorted(
        [sales_manager.username, branch_manager.username]
    )


@pytest.mark.parametrize("kind", KINDS)
def test_a_manager_who_asks_is_not_asked_to_decide_it(deal, sales_manager, branch_manager, kind):
    # when the sales manager raises a request himself
    ask(kind, deal, sales_manager)
    # then only the other manager is asked: nobody decides their own request
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == [
        branch_manager.username
    ]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("units", [0, -3])
def test_a_request_for_no_units_is_refused(deal, fleet_manager, sales_manager, kind, units):
    before = counts()
    # when a request for no units is made
    error = refusal(lambda: ask(kind, deal, fleet_manager, units=units))
    # then it is refused and nobody is told
    assert (error.code, error.field) == ("quantity_not_positive", "units")
    assert counts() == before


# --- deciding ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", [Role.SALES_MANAGER, Role.BRANCH_MANAGER])
def test_a_manager_approves_a_request(branch, deal, fleet_manager, kind, role):
    manager = UserFactory(username="decider", roles=[role], branches=[branch])
    request = ask(kind, deal, fleet_manager)
    # when a manager approves it
    decide(request, manager, note="同意")
    # then it is approved by them
    row = fresh(request)
    assert (row.status, row.decided_by, row.decision_note) == (R.APPROVED, manager, "同意")
    assert row.decided_at is not None


@pytest.mark.parametrize("kind", KINDS)
def test_a_manager_refuses_a_request_with_the_reason(deal, fleet_manager, sales_manager, kind):
    request = ask(kind, deal, fleet_manager)
    # when the manager refuses it, saying why
    decide(request, sales_manager, approve=False, note="超出年度协议")
    # then it is refused with the reason
    row = fresh(request)
    assert (row.status, row.decided_by, row.decision_note) == (
        R.REFUSED, sales_manager, "超出年度协议",
    )  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", [Role.FLEET_MANAGER, Role.SALES_CONSULTANT])
def test_someone_who_may_not_approve_cannot_decide(branch, deal, fleet_manager, kind, role):
    colleague = UserFactory(username="colleague", roles=[role], branches=[branch])
    request = ask(kind, deal, fleet_manager)
    before = state(request)
    # when a colleague without the approval permission approves it
    error = refusal(lambda: decide(request, colleague))
    # then it is refused and the request still awaits a decision
    assert error.code == "not_an_approver"
    assert state(request) == before


@pytest.mark.parametrize("kind", KINDS)
def test_nobody_decides_their_own_request(deal, sales_manager, kind):
    # given the sales manager asked
    request = ask(kind, deal, sales_manager)
    before = state(request)
    # when they approve their own request
    error = refusal(lambda: decide(request, sales_manager))
    # then it is refused
    assert error.code == "own_request"
    assert state(request) == before


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("first", [True, False], ids=["approved", "refused"])
@pytest.mark.parametrize("then", [True, False], ids=["approve", "refuse"])
def test_a_decision_is_final(deal, fleet_manager, sales_manager, branch_manager, kind, first, then):
    # given the sales manager decided the request
    request = ask(kind, deal, fleet_manager)
    decide(request, sales_manager, approve=first, note="已审")
    before = state(request)
    # when the branch manager decides it again
    error = refusal(lambda: decide(request, branch_manager, approve=then, note="改判"))
    # then it is refused and the first decision stands
    assert error.code == "request_decided"
    assert state(request) == before


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("note", ["", "   "])
def test_a_refusal_needs_a_reason(deal, fleet_manager, sales_manager, kind, note):
    request = ask(kind, deal, fleet_manager)
    before = state(request)
    # when the manager refuses without saying why
    error = refusal(lambda: decide(request, sales_manager, approve=False, note=note))
    # then it is refused and the request still awaits a decision
    assert (error.code, error.field) == ("reason_required", "note")
    assert state(request) == before


# --- overdue -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_request_undecided_after_48_hours_is_flagged_once(
    other_branch, deal, fleet_manager, sales_manager, branch_manager, kind
):
    UserFactory(username="panyu_manager", roles=[Role.SALES_MANAGER], branches=[other_branch])
    request = ask(kind, deal, fleet_manager)
    Notification.objects.all().delete()
    due = fresh(request).due_by
    untouched = state(request)
    # when the job runs before and at the 48 hours
    assert services.requests_flag_overdue(now=due - timedelta(minutes=1)) == 0
    assert services.requests_flag_overdue(now=due) == 0
    # then nothing is flagged yet
    assert state(request) == untouched
    assert not Notification.objects.exists()
    # when it runs just after
    late = due + timedelta(seconds=1)
    assert services.requests_flag_overdue(now=late) == 1
    # then the request is flagged and the branch's managers — only they — are told once
    assert fresh(request).overdue_flagged_at == late
    model_name = MODEL[kind]._meta.model_name
    notices = Notification.objects.filter(key=f"fleet-overdue-{model_name}-{request.pk}")
    assert sorted(notices.values_list("recipient__username", flat=True)) == sorted(
        [sales_manager.username, branch_manager.username]
    )
    assert Notification.objects.count() == 2
    after = (state(request), counts())
    # and a rerun, an hour later, flags nothing and tells nobody again
    assert services.requests_flag_overdue(now=late + timedelta(hours=1)) == 0
    assert (state(request), counts()) == after


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("approve", [True, False])
def test_a_decided_request_is_never_flagged(deal, fleet_manager, sales_manager, kind, approve):
    request = ask(kind, deal, fleet_manager)
    decide(request, sales_manager, approve=approve, note="已审")
    before = (state(request), counts())
    # when the job runs three days later
    assert services.requests_flag_overdue(now=timezone.now() + timedelta(days=3)) == 0
    # then nothing changed
    assert (state(request), counts()) == before


# --- the jobs ----------------------------------------------------------------------------------


def test_the_lapse_job_lapses_once(branch, fleet_manager, sales_manager):
    # given an account whose protection ended yesterday
    today = timezone.localdate()
    account = protect(register(branch, fleet_manager), confirmed_on=today - timedelta(days=92),
                      until=today - timedelta(days=1))  # fmt: skip
    # when the daily job runs, then again
    first, again = protections_lapse_task(), protections_lapse_task()
    # then it lapsed once and the manager was told once
    assert (first, again) == (1, 0)
    assert fresh(account).status == ProtectionStatus.LAPSED
    assert Notification.objects.filter(recipient=sales_manager).count() == 1


def test_the_overdue_job_flags_once(deal, fleet_manager, sales_manager):
    # given a discount and a configuration request asked 49 hours ago
    requests = [ask(kind, deal, fleet_manager) for kind in KINDS]
    for request in requests:
        type(request).objects.filter(pk=request.pk).update(
            due_by=timezone.now() - timedelta(hours=1)
        )
    # when the hourly job runs, then again
    first, again = requests_flag_overdue_task(), requests_flag_overdue_task()
    # then both were flagged once and the manager told once of each
    assert (first, again) == (2, 0)
    assert all(fresh(request).overdue_flagged_at is not None for request in requests)
    assert (
        Notification.objects.filter(
            recipient=sales_manager, key__startswith="fleet-overdue"
        ).count()
        == 2
    )
