"""Odd values from a browser or a client are answered, never a server error."""

import pytest
from django.urls import reverse

from sales.choices import LeadStatus
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_a_next_that_is_not_a_path_falls_back_to_the_lead(client, consultant, branch):
    # given a new lead
    lead = LeadFactory(branch=branch, consultant=consultant)
    client.force_login(consultant)
    # when it is verified with next=abc (a word redirect() would take for a URL name)
    response = client.post(reverse("sales:lead-verify", args=[lead.pk]), {"next": "abc"})
    # then the page goes back to the lead, which is verified
    assert response.status_code == 302
    assert response.url == reverse("sales:lead-detail", args=[lead.pk])
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VERIFIED


@pytest.mark.parametrize("referrer", ["²", "١٢", "-1", "1e5"])
def test_a_referrer_that_is_no_plain_number_is_an_invalid_choice(client, consultant, referrer):
    client.force_login(consultant)
    assert client.get(reverse("sales:lead-create"), {"referrer": referrer}).status_code == 200
    response = client.post(
        reverse("sales:lead-create"),
        {"source": "referral", "name": "王小明", "mobile": "13912345678", "referrer": referrer},
    )
    assert response.status_code == 200
    assert "referrer" in response.context["form"].errors


@pytest.mark.parametrize(
    "url, query",
    [
        ("/sales/leads/", {"created_after": "9999-12-31"}),
        ("/sales/leads/", {"created_before": "9999-12-31"}),
        ("/sales/test-drives/", {"date": "9999-12-31"}),
        ("/api/v1/leads/", {"created_after": "9999-12-31"}),
        ("/sales/funnel/", {"period": "custom", "start": "9999-12-01", "end": "9999-12-31"}),
        ("/api/v1/funnel/", {"start": "9999-12-01", "end": "9999-12-31"}),
    ],
)
def test_the_last_day_of_the_calendar_is_a_date_like_any_other(client, sales_manager, url, query):
    client.force_login(sales_manager)
    assert client.get(url, query).status_code == 200
