"""Fixtures of the fleet tests: messages in English, and an account of the branch."""

import pytest
from django.utils import translation

from tests.fleet.helpers import register


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def account(branch, fleet_manager):
    """A rental company the branch's fleet manager registered (not yet confirmed)."""
    return register(branch, fleet_manager)
