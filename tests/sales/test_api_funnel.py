"""GET /api/v1/funnel/: the funnel figures for clients, with the page's rules."""

import pytest
from django.utils import timezone

from sales.choices import LeadSource
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/funnel/"


def period(**extra) -> dict:
    today = timezone.localdate().isoformat()
    return {"start": today, "end": today, **extra}


def test_the_manager_gets_each_stage_and_conversion(api_as, sales_manager, branch, other_branch):
    # given three leads today, two verified, and one of another branch
    LeadFactory(branch=branch, source=LeadSource.WEBSITE)
    LeadFactory.create_batch(2, branch=branch, source=LeadSource.WEBSITE, reached="verified")
    LeadFactory(branch=other_branch)

    # when the manager asks for today's funnel by source
    response = api_as(sales_manager).get(URL, period(dimension="source"))

    # then the branch's three leads are counted, 66.7% of them verified
    assert response.status_code == 200
    body = response.json()
    assert body["total"]["counts"]["leads"] == 3
    assert body["total"]["conversions"]["verified"] == "66.7"
    assert [row["key"] for row in body["rows"]] == ["website"]
    assert [stage["key"] for stage in body["stages"]][:2] == ["leads", "verified"]


def test_a_consultant_may_not_read_the_funnel(api_as, consultant):
    assert api_as(consultant).get(URL, period()).status_code == 403


def test_without_credentials_the_answer_is_401(api_client):
    assert api_client.get(URL, period()).status_code == 401


def test_a_reversed_period_is_refused_with_its_code(api_as, sales_manager):
    response = api_as(sales_manager).get(URL, {"start": "2026-03-01", "end": "2026-02-01"})

    assert response.status_code == 400
    assert response.json()["code"] == "period_reversed"


def test_another_branch_or_a_bad_dimension_is_a_field_error(api_as, sales_manager, other_branch):
    response = api_as(sales_manager).get(URL, period(branch=other_branch.pk, dimension="colour"))

    assert response.status_code == 400
    assert set(response.json()) >= {"branch", "dimension"}


def test_the_figures_cost_the_same_queries_for_any_number_of_leads(
    api_as, sales_manager, branch, django_assert_max_num_queries
):
    client = api_as(sales_manager)
    LeadFactory(branch=branch)
    with django_assert_max_num_queries(15) as few:
        client.get(URL, period(dimension="consultant"))
    LeadFactory.create_batch(20, branch=branch, reached="quoted")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(URL, period(dimension="consultant"))
