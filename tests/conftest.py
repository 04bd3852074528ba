"""Shared fixtures: two branches of one dealer group and a persona for every role."""

import pytest
from rest_framework.test import APIClient

from dealer_crm.choices import Role
from tests.factories import BranchFactory, DealerGroupFactory, UserFactory


@pytest.fixture
def dealer_group():
    return DealerGroupFactory(name="华通汽车集团")


@pytest.fixture
def branch(dealer_group):
    return BranchFactory(group=dealer_group, code="tianhe", name="天河大众4S店")


@pytest.fixture
def other_branch(dealer_group):
    return BranchFactory(group=dealer_group, code="panyu", name="番禺大众4S店", city="广州市")


def _persona(role: str, *branches, username: str | None = None):
    return UserFactory(username=username or role, roles=[role], branches=list(branches))


@pytest.fixture
def consultant(branch):
    return _persona(Role.SALES_CONSULTANT, branch)


@pytest.fixture
def sales_manager(branch):
    return _persona(Role.SALES_MANAGER, branch)


@pytest.fixture
def advisor(branch):
    return _persona(Role.SERVICE_ADVISOR, branch)


@pytest.fixture
def technician(branch):
    return _persona(Role.TECHNICIAN, branch)


@pytest.fixture
def parts_clerk(branch):
    return _persona(Role.PARTS_CLERK, branch)


@pytest.fixture
def fleet_manager(branch):
    return _persona(Role.FLEET_MANAGER, branch)


@pytest.fixture
def customer_care(branch):
    """Customer care / archivist: may see full phone and ID numbers (view_pii)."""
    return _persona(Role.CUSTOMER_CARE, branch)


@pytest.fixture
def branch_manager(branch):
    return _persona(Role.BRANCH_MANAGER, branch)


@pytest.fixture
def group_manager(branch, other_branch):
    return _persona(Role.GROUP_MANAGER, branch, other_branch)


@pytest.fixture
def other_branch_user(other_branch):
    """A sales consultant of the other branch."""
    return _persona(Role.SALES_CONSULTANT, other_branch, username="other_branch_consultant")


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as():
    """api_as(user) → an APIClient authenticated as that user."""

    def client_for(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user=user)
        return client

    return client_for
