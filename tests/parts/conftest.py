"""Fixtures the parts tests share (the personas and branches are in tests/conftest.py)."""

import pytest
from django.utils import translation

from dealer_crm.choices import Role
from tests.factories import UserFactory


@pytest.fixture
def english():
    """Messages in English, for the service tests that read a refusal's words: a module asks
    for it with `pytest.mark.usefixtures("english")`."""
    with translation.override("en"):
        yield


@pytest.fixture
def other_clerk(other_branch):
    """A parts clerk of the other branch: every parts permission, none of our records."""
    return UserFactory(roles=[Role.PARTS_CLERK], branches=[other_branch], username="other_clerk")


@pytest.fixture
def page_queries(client, django_assert_max_num_queries):
    """How many queries opening a page with `client` costs (at most 20); it must answer 200."""

    def queries(url) -> int:
        with django_assert_max_num_queries(20) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    return queries
