"""The sales funnel reads the KPI registry's counting (issue 9: one computation per figure):
its cohort and its stage counts are sales.kpis' `lead_cohort` and `stage_reached`, the ones
the registry's lead figures count with, so a change to them changes the funnel page, and the
funnel's groups (per source, per consultant) add up to the registry's values."""

import dataclasses
from datetime import timedelta

import pytest
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from dealer_crm.kpis import Scope, kpi_get
from sales import kpis as sales_kpis
from sales.choices import LeadSource
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db
URL = reverse("sales:funnel")


def today():
    return timezone.localdate()


@pytest.fixture
def leads(branch, other_branch, consultant):
    """Today's leads of the branch: the consultant's walk-ins (new; verified; test-driven;
    ordered), an unassigned phone lead that visited; a walk-in of 200 days ago; and a lead of
    the other branch (neither ever counts)."""
    mine = {"branch": branch, "consultant": consultant, "source": LeadSource.WALK_IN}
    LeadFactory(**mine)
    LeadFactory(**mine, reached="verified")
    LeadFactory(**mine, reached="test_driven")
    LeadFactory(**mine, reached="ordered")
    LeadFactory(branch=branch, consultant=None, source=LeadSource.PHONE, reached="visited")
    LeadFactory(**mine, created_at=timezone.now() - timedelta(days=200))
    LeadFactory(branch=other_branch, reached="ordered")


def funnel_page(client, user, dimension: str = "source") -> dict:
    client.force_login(user)
    day = today().isoformat()
    query = {"period": "custom", "start": day, "end": day, "dimension": dimension}
    response = client.get(URL, query)
    assert response.status_code == 200
    return response.context["figures"]


def registry(code: str, scope: Scope):
    return kpi_get(code).measure(scope)


def test_the_funnels_totals_are_the_registrys_counts(client, sales_manager, branch, leads):
    # given the branch's leads of today
    scope = Scope((branch.pk,), today(), today())
    # when the manager reads today's funnel
    total = funnel_page(client, sales_manager)["total"]["counts"]
    # then its stages are the registry figures' numerators and denominators: 5 leads, 4
    # verified, 3 visited, 2 test-drove, 1 ordered
    verified = registry("sales.verified_rate", scope)[(None, "")]
    test_drives = registry("sales.test_drive_rate", scope)[(None, "")]
    closing = registry("sales.closing_rate", scope)[(None, "")]
    assert total["leads"] == registry("sales.leads", scope)[(None, "")].numerator == 5
    assert (total["verified"], total["leads"]) == (verified.numerator, verified.denominator)
    assert (total["test_driven"], total["visited"]) == (
        test_drives.numerator,
        test_drives.denominator,
    )
    assert (total["ordered"], total["visited"]) == (closing.numerator, closing.denominator)
    assert (total["verified"], total["visited"], total["test_driven"], total["ordered"]) == (
        4,
        3,
        2,
        1,
    )


def test_the_funnels_groups_are_the_registrys_breakdowns(
    client, sales_manager, branch, consultant, leads
):
    # given the branch's leads of today, the registry's values per source and per consultant
    branch_today = Scope((branch.pk,), today(), today())
    by_source = registry("sales.leads", branch_today)
    verified = registry("sales.verified_rate", dataclasses.replace(branch_today, by_person=True))
    # when the manager reads the funnel by source and by consultant
    sources = {row["key"]: row["counts"] for row in funnel_page(client, sales_manager)["rows"]}
    people = {
        row["key"]: row["counts"]
        for row in funnel_page(client, sales_manager, "consultant")["rows"]
    }
    # then each source's leads are the registry's breakdown of that source
    assert {key: counts["leads"] for key, counts in sources.items()} == {
        key: by_source[(None, key)].numerator for key in ("walk_in", "phone")
    }
    assert sources["walk_in"]["leads"] == 4
    # and each consultant's (the unassigned lead's under None) the registry's for that person
    assert set(people) == {consultant.pk, None}
    for person, counts in people.items():
        assert (counts["verified"], counts["leads"]) == (
            verified[(person, "")].numerator,
            verified[(person, "")].denominator,
        )


def test_a_change_to_the_registrys_stage_count_changes_the_funnel(
    monkeypatch, client, sales_manager, branch, leads
):
    # given the registry counting every lead of the cohort at every stage
    monkeypatch.setattr(sales_kpis, "stage_reached", lambda stage: Count("pk"))
    scope = Scope((branch.pk,), today(), today())
    # when the manager reads today's funnel
    total = funnel_page(client, sales_manager)["total"]["counts"]
    # then the page counts the 5 leads at every stage, as the registry's rates now do (100%)
    assert set(total.values()) == {5}
    verified = registry("sales.verified_rate", scope)[(None, "")]
    assert (verified.numerator, verified.denominator) == (5, 5)


def test_a_change_to_the_registrys_cohort_changes_the_funnel(
    monkeypatch, client, sales_manager, branch, leads
):
    # given the registry's cohort taking every lead whenever it came in
    monkeypatch.setattr(sales_kpis, "lead_cohort", lambda leads, start, end: leads)
    scope = Scope((branch.pk,), today(), today())
    # when the manager reads today's funnel
    total = funnel_page(client, sales_manager)["total"]["counts"]
    # then the lead of 200 days ago counts too (6, the other branch's still not), in the page
    # as in the registry
    assert total["leads"] == registry("sales.leads", scope)[(None, "")].numerator == 6
