"""Fixtures of the service tests: messages in English (`english`, asked for by the service
tests that read messages), and a customer's car of the branch."""

import pytest
from django.utils import translation

from tests.service.helpers import customer_car


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def customer_and_car(branch):
    """A customer of the branch and their automatic car."""
    return customer_car(branch)
