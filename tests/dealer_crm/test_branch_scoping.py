"""The one branch-scoping mechanism: a queryset method and the working branch."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.test import RequestFactory

from customers.models import Customer, Vehicle
from dealer_crm.scoping import (
    SESSION_BRANCH_KEY,
    branch_ids_for,
    sees_all_branches,
    working_branch,
)
from tests.factories import CustomerFactory, UserFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def request_for(user, session=None):
    request = RequestFactory().get("/")
    request.user = user
    request.session = session or {}
    return request


def test_staff_see_only_their_branch_records(consultant, branch, other_branch):
    # given a customer in each branch
    mine = CustomerFactory(branch=branch)
    CustomerFactory(branch=other_branch)
    # when the consultant's customers are read through the scope
    visible = list(Customer.objects.for_user(consultant))
    # then only their branch's customer is there
    assert visible == [mine]


def test_scope_follows_a_multi_step_branch_path(consultant, branch, other_branch):
    # given a vehicle owned by a customer of each branch
    mine = VehicleFactory(owner__branch=branch)
    VehicleFactory(owner__branch=other_branch)
    # when vehicles are read through the scope (vehicle → owner → branch)
    visible = list(Vehicle.objects.for_user(consultant))
    # then only the vehicle of the consultant's branch is there
    assert visible == [mine]


def test_group_manager_sees_every_branch(group_manager, branch, other_branch):
    # given customers in both branches
    CustomerFactory(branch=branch)
    CustomerFactory(branch=other_branch)
    # when the group manager reads customers
    # then both are visible
    assert sees_all_branches(group_manager)
    assert Customer.objects.for_user(group_manager).count() == 2


def test_group_manager_sees_a_branch_they_are_not_linked_to(group_manager, dealer_group):
    # given a third branch opened after the group manager was set up
    third = CustomerFactory(branch__group=dealer_group)
    # when the group manager reads customers
    # then the new branch's customer is visible too
    assert third in Customer.objects.for_user(group_manager)


def test_anonymous_user_sees_nothing(branch):
    # given a customer
    CustomerFactory(branch=branch)
    # when an anonymous user reads customers
    # then nothing is visible
    assert branch_ids_for(AnonymousUser()) == []
    assert not Customer.objects.for_user(AnonymousUser()).exists()


def test_user_without_branch_sees_nothing(branch):
    # given a consultant whose account is not linked to any branch
    user = UserFactory(roles=["sales_consultant"])
    CustomerFactory(branch=branch)
    # when they read customers
    # then nothing is visible
    assert not Customer.objects.for_user(user).exists()


def test_another_branch_record_is_404(consultant, other_branch):
    # given a customer of another branch
    theirs = CustomerFactory(branch=other_branch)
    # when the consultant fetches it by id
    # then it does not exist for them
    with pytest.raises(Http404):
        Customer.objects.get_for_user_or_404(consultant, pk=theirs.pk)


@pytest.mark.parametrize("pk", ["abc", None, 999_999])
def test_malformed_or_unknown_id_is_404(consultant, pk):
    # given an id that is not a number or matches nothing
    # when it is looked up
    # then the answer is 404, never a 500
    with pytest.raises(Http404):
        Customer.objects.get_for_user_or_404(consultant, pk=pk)


def test_working_branch_is_the_one_chosen_in_the_session(group_manager, other_branch):
    # given a group manager who picked the other branch
    request = request_for(group_manager, {SESSION_BRANCH_KEY: other_branch.pk})
    # when the working branch is asked for
    # then it is the chosen one
    assert working_branch(request) == other_branch


def test_working_branch_ignores_a_branch_the_user_does_not_work_in(
    consultant, branch, other_branch
):
    # given a consultant whose session names a branch they do not work in
    request = request_for(consultant, {SESSION_BRANCH_KEY: other_branch.pk})
    # when the working branch is asked for
    # then it falls back to their own branch
    assert working_branch(request) == branch


def test_user_without_branch_has_no_working_branch():
    # given a user linked to no branch
    user = UserFactory(roles=["sales_consultant"])
    # when the working branch is asked for
    # then there is none
    assert working_branch(request_for(user)) is None
