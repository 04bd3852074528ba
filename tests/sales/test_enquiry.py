"""The public enquiry form on a branch's website: every enquiry becomes a website lead."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from dealer_crm.models import Notification
from sales.choices import IntentLevel, LeadSource, LeadStatus
from sales.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    cache.clear()


def enquiry(client, branch, **changes):
    data = {
        "name": "王小明",
        "mobile": "139 1234 5678",
        "model_of_interest": "途观L",
        "buying_when": "week",
        "message": "想周末看车",
        "consent": "on",
        **changes,
    }
    return client.post(reverse("sales:enquiry", args=[branch.code]), data)


def test_an_enquiry_becomes_an_unassigned_website_lead_the_managers_hear_of(
    client, branch, sales_manager
):
    # when a visitor of the website sends the form
    response = enquiry(client, branch)

    # then the branch has a new website lead, H intent, its 24-hour clock running
    assert response.status_code == 200
    assert "enquiry-thanks" in response.content.decode()
    lead = Lead.objects.get()
    assert (lead.branch, lead.source, lead.status) == (branch, LeadSource.WEBSITE, LeadStatus.NEW)
    assert (lead.mobile, lead.intent_level, lead.consultant) == ("13912345678", IntentLevel.H, None)
    assert lead.first_response_at is None
    assert Notification.objects.filter(
        recipient=sales_manager, url=lead.get_absolute_url()
    ).exists()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_form_is_public_in_both_languages(client, branch, language):
    response = client.get(
        reverse("sales:enquiry", args=[branch.code]), HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200
    assert 'id="enquiry-form"' in response.content.decode()


def test_without_consent_or_with_a_bad_phone_nothing_is_saved(client, branch):
    response = enquiry(client, branch, consent="", mobile="12345")

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"consent", "mobile"}
    assert not Lead.objects.exists()


def test_a_robot_filling_the_hidden_field_is_thanked_and_ignored(client, branch):
    response = enquiry(client, branch, website="http://spam.example")

    assert "enquiry-thanks" in response.content.decode()
    assert not Lead.objects.exists()


def test_one_connection_may_send_only_a_few_enquiries_an_hour(client, branch):
    for number in range(5):
        enquiry(client, branch, mobile=f"1391234567{number}")

    response = enquiry(client, branch, mobile="13912345699")

    assert "Too many enquiries" in response.content.decode()
    assert Lead.objects.count() == 5


def test_an_unknown_or_closed_branch_has_no_form(client, branch):
    branch.is_active = False
    branch.save()
    assert client.get(reverse("sales:enquiry", args=[branch.code])).status_code == 404
    assert client.get(reverse("sales:enquiry", args=["nowhere"])).status_code == 404
