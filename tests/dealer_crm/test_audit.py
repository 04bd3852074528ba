"""Audit history: who, when and what changed, with personal data masked where it must be."""

import pytest
from django.utils import translation

from customers import services
from dealer_crm.audit import history_entries
from dealer_crm.models import display_name
from sales.services import lead_verify
from tests.factories import CustomerFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages and field labels asserted here are the English ones."""
    with translation.override("en"):
        yield


def test_history_names_the_changed_field_with_old_and_new_value(consultant, branch):
    # given a customer whose city was changed through the service
    customer = services.customer_create(
        branch=branch, by=consultant, data={"name": "陈建国", "mobile": "13912345678"}
    )
    services.customer_update(customer=customer, by=consultant, data={"city": "佛山市"})
    # when the history is read
    entries = history_entries(customer, show_pii=True)
    # then the newest entry is the change with the field's label, old and new value
    assert [entry.change for entry in entries] == ["changed", "created"]
    assert ("city", "—", "佛山市") in entries[0].changes


def test_history_masks_phone_numbers_without_view_pii(consultant, branch):
    # given a customer whose mobile phone changed
    customer = services.customer_create(
        branch=branch, by=consultant, data={"name": "陈建国", "mobile": "13912345678"}
    )
    services.customer_update(customer=customer, by=consultant, data={"mobile": "13812345678"})
    # when the history is read by someone who may not see personal data
    masked = history_entries(customer, show_pii=False)[0].changes
    shown = history_entries(customer, show_pii=True)[0].changes
    # then both numbers are masked for them and shown in full otherwise
    assert ("mobile phone", "139****5678", "138****5678") in masked
    assert ("mobile phone", "13912345678", "13812345678") in shown


def test_api_change_records_who_made_it(api_as, consultant, branch):
    # given a customer of the consultant's branch
    customer = CustomerFactory(branch=branch)
    # when the consultant edits it through the API
    response = api_as(consultant).patch(
        f"/api/v1/customers/{customer.pk}/", {"city": "深圳市"}, format="json"
    )
    # then the history record carries the consultant
    assert response.status_code == 200
    latest = customer.history.first()
    assert latest.history_user == consultant
    assert latest.city == "深圳市"


def test_history_is_capped(consultant, branch):
    # given a customer edited more times than the page shows
    customer = CustomerFactory(branch=branch)
    for number in range(5):
        customer.street = f"中山路{number}号"
        customer.save()
    # when at most three entries are asked for
    entries = history_entries(customer, show_pii=True, limit=3)
    # then three come back, newest first
    assert len(entries) == 3
    assert ("street and house number", "中山路3号", "中山路4号") in entries[0].changes


def test_history_shows_a_choice_by_its_label_not_its_stored_code(consultant, branch):
    # given a lead verified by a consultant
    lead = lead_verify(lead=LeadFactory(branch=branch), by=consultant)

    # when its history is read
    changes = history_entries(lead, show_pii=False)[0].changes

    # then the status change reads New → Verified, and the verifier is named
    assert ("status", "New", "Verified") in changes
    assert ("verified by", "—", display_name(consultant)) in changes
