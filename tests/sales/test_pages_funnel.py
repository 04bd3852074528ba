"""The funnel figures page: managers only, the right counts, links to the leads behind each."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sales.choices import LeadSource
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db
URL = reverse("sales:funnel")


def test_a_consultant_may_not_see_the_funnel(client, consultant):
    client.force_login(consultant)
    assert client.get(URL).status_code == 403


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_manager_sees_each_stage_with_its_conversion(client, sales_manager, branch, language):
    # given four leads of the branch: all created this quarter, two verified, one quoted
    LeadFactory(branch=branch, source=LeadSource.WEBSITE)
    LeadFactory(branch=branch, source=LeadSource.WEBSITE, reached="verified")
    LeadFactory(branch=branch, source=LeadSource.WALK_IN, reached="quoted")
    LeadFactory(branch=branch, source=LeadSource.WALK_IN)
    client.force_login(sales_manager)

    # when the manager opens the funnel of the last 90 days
    response = client.get(URL, {"period": "last_90_days"}, HTTP_ACCEPT_LANGUAGE=language)

    # then the totals are 4 leads, 2 verified (50%), 1 visit (50%) and so on to 1 quote
    assert response.status_code == 200
    total = response.context["figures"]["total"]
    assert total["counts"]["leads"] == 4
    assert total["counts"]["verified"] == 2
    assert total["counts"]["quoted"] == 1
    assert str(total["conversions"]["verified"]) == "50.0"
    assert {row["key"] for row in response.context["figures"]["rows"]} == {"walk_in", "website"}
    assert "50.0%" in response.content.decode()


def test_a_figure_links_to_the_leads_it_counts(client, sales_manager, branch):
    # given two website leads, one verified, and a walk-in lead that is verified
    verified_website = LeadFactory(branch=branch, source=LeadSource.WEBSITE, reached="verified")
    LeadFactory(branch=branch, source=LeadSource.WEBSITE)
    LeadFactory(branch=branch, source=LeadSource.WALK_IN, reached="verified")
    client.force_login(sales_manager)

    # when the manager follows the "verified" figure of the website row
    figures = client.get(URL, {"period": "this_month"}).context["figures"]
    website = next(row for row in figures["rows"] if row["key"] == "website")
    url = website["cells"][1]["url"]
    leads = client.get(url).context["page"]

    # then the list holds exactly the verified website lead
    assert [lead.pk for lead in leads] == [verified_website.pk]


def test_leads_created_outside_the_period_are_not_counted(client, sales_manager, branch):
    LeadFactory(branch=branch, created_at=timezone.now() - timedelta(days=200))
    LeadFactory(branch=branch)
    client.force_login(sales_manager)

    figures = client.get(URL, {"period": "last_90_days"}).context["figures"]

    assert figures["total"]["counts"]["leads"] == 1


def test_another_branchs_leads_are_not_counted(client, sales_manager, other_branch):
    LeadFactory(branch=other_branch)
    client.force_login(sales_manager)

    figures = client.get(URL).context["figures"]

    assert figures["total"]["counts"]["leads"] == 0
    assert "No leads were created in this period." in client.get(URL).content.decode()


def test_a_custom_period_that_ends_before_it_starts_is_refused(client, sales_manager):
    client.force_login(sales_manager)
    today = timezone.localdate()

    response = client.get(
        URL, {"period": "custom", "start": today.isoformat(), "end": "2020-01-01"}
    )

    assert response.status_code == 200
    assert response.context["figures"] is None
    assert "The period ends before it starts." in response.content.decode()


@pytest.mark.parametrize("dimension", ["source", "model", "consultant", "month"])
def test_the_page_costs_the_same_queries_for_any_number_of_leads(
    client, sales_manager, branch, dimension, django_assert_max_num_queries
):
    client.force_login(sales_manager)
    LeadFactory(branch=branch, reached="quoted")
    with django_assert_max_num_queries(12) as few:
        client.get(URL, {"dimension": dimension})
    LeadFactory.create_batch(20, branch=branch, reached="verified", model_of_interest="帕萨特")
    LeadFactory.create_batch(5, branch=branch, source=LeadSource.REFERRAL)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(URL, {"dimension": dimension})
