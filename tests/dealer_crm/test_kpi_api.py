"""The figures for REST clients and the definitions page: the registry in the request's
language, a period's values with last year's and the target, read only with the figure's
permission (or one's own values), scoped to the user's branches, bad input answered with a
400 naming the field, in a fixed number of queries."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dealer_crm.kpis import kpi_registry, kpi_snapshots_compute
from dealer_crm.models import KpiSnapshot, KpiTarget
from dealer_crm.periods import LOCAL_TIME_ZONE
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/"
TODAY = timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
YESTERDAY = TODAY - timedelta(days=1)


def lead(branch, day, consultant=None, **kwargs):
    return LeadFactory(
        branch=branch,
        consultant=consultant,
        created_at=datetime.combine(day, time(12), tzinfo=LOCAL_TIME_ZONE),
        **kwargs,
    )


def result(response, code) -> dict:
    assert response.status_code == 200, response.content
    (found,) = [row for row in response.json()["results"] if row["code"] == code]
    return found


# --- Definitions -------------------------------------------------------------------------------


def test_the_definitions_list_every_figure_in_the_requests_language(api_as, consultant):
    english = api_as(consultant).get(f"{API}kpi-definitions/", HTTP_ACCEPT_LANGUAGE="en")
    chinese = api_as(consultant).get(f"{API}kpi-definitions/", HTTP_ACCEPT_LANGUAGE="zh-Hans")

    assert english.status_code == chinese.status_code == 200
    body = english.json()
    assert body["count"] == len(kpi_registry()) == len(body["results"])
    entries = {row["code"]: row for row in body["results"]}
    assert entries["service.entries"] | {"definition": "…"} == entries["service.entries"] | {
        "code": "service.entries",
        "area": "service",
        "app": "service",
        "unit": "count",
        "direction": "higher",
        "aggregation": "flow",
        "per_person": True,
        "person_roles": ["service_advisor"],
        "person_roles_label": "Service advisor",
        "targets": True,
        "measured": True,
        "definition": "…",
    }
    assert entries["network.channel_ratio"]["measured"] is False
    assert entries["archives.completeness"]["goal"] == "0.99"
    # the codes stay, the words follow the language
    zh = {row["code"]: row for row in chinese.json()["results"]}
    assert zh["service.entries"]["person_roles_label"] == "服务顾问"
    assert set(zh) == set(entries)


def test_one_definition_by_its_code(api_as, consultant):
    response = api_as(consultant).get(f"{API}kpi-definitions/parts.turnover/")
    assert response.status_code == 200
    assert response.json()["aggregation"] == "sum/average"
    assert api_as(consultant).get(f"{API}kpi-definitions/parts.nothing/").status_code == 404


def test_the_definitions_are_for_signed_in_users_only(api_client):
    assert api_client.get(f"{API}kpi-definitions/").status_code == 401
    assert api_client.get(f"{API}kpis/").status_code == 401


# --- Values ------------------------------------------------------------------------------------


def test_a_manager_reads_a_months_figure_with_last_year_and_the_target(
    api_as, branch, branch_manager, consultant
):
    # given two leads of yesterday (snapshotted), one of today, and last year's month
    lead(branch, YESTERDAY, consultant, reached="verified")
    lead(branch, YESTERDAY, consultant)
    kpi_snapshots_compute(day=YESTERDAY, branch=branch)
    lead(branch, TODAY, consultant)
    month = YESTERDAY.replace(day=1)
    last_year = month.replace(year=month.year - 1)
    KpiSnapshot.objects.create(
        day=last_year, branch=branch, code="sales.leads", numerator=5, denominator=None
    )
    KpiTarget.objects.create(branch=branch, code="sales.deliveries", month=month, value=20)

    response = api_as(branch_manager).get(
        f"{API}kpis/",
        {"code": ["sales.leads", "sales.verified_rate", "sales.deliveries"],
         "period": "month", "date": YESTERDAY.isoformat(), "branch": branch.pk},
    )  # fmt: skip

    body = response.json()
    assert (body["start"], body["branch"], body["person"]) == (month.isoformat(), branch.pk, None)
    assert body["previous_start"] == last_year.isoformat()
    leads = result(response, "sales.leads")
    in_month = 3 if YESTERDAY.month == TODAY.month else 2  # today is live when in the month
    assert (leads["value"], leads["previous"]["value"]) == (str(in_month), "5")
    assert {row["key"]: row["value"] for row in leads["breakdown"]} == {"walk_in": str(in_month)}
    assert leads["breakdown"][0]["label"] == "Walk-in"
    verified = result(response, "sales.verified_rate")
    assert (verified["numerator"], verified["denominator"]) == ("1", str(in_month))
    deliveries = result(response, "sales.deliveries")
    assert (deliveries["value"], deliveries["target"], deliveries["attainment"]) == (
        "0", "20", "0.000",
    )  # fmt: skip


def test_without_codes_a_user_gets_every_figure_they_may_read(api_as, branch_manager, consultant):
    everything = api_as(branch_manager).get(f"{API}kpis/", {"period": "day"}).json()["results"]
    assert {row["code"] for row in everything} == set(kpi_registry())
    # a consultant may not read the branch's sales figures
    theirs = {row["code"] for row in api_as(consultant).get(f"{API}kpis/").json()["results"]}
    assert "sales.leads" not in theirs and "service.entries" not in theirs


def test_a_consultant_reads_their_own_figures_but_not_a_colleagues(
    api_as, branch, consultant, sales_manager
):
    lead(branch, TODAY, consultant)
    lead(branch, TODAY, None)
    own = api_as(consultant).get(
        f"{API}kpis/", {"code": "sales.leads", "period": "day", "person": consultant.pk}
    )
    assert result(own, "sales.leads")["value"] == "1"
    # without `code`, their own figures are the per-person ones they may read
    mine = api_as(consultant).get(f"{API}kpis/", {"person": consultant.pk}).json()["results"]
    assert "sales.leads" in {row["code"] for row in mine}
    assert all(kpi_registry()[row["code"]].per_person for row in mine)

    colleague = api_as(consultant).get(
        f"{API}kpis/", {"code": "sales.leads", "person": sales_manager.pk}
    )
    branch_wide = api_as(consultant).get(f"{API}kpis/", {"code": "sales.leads"})
    assert colleague.status_code == branch_wide.status_code == 403
    # the manager reads anyone's
    managed = api_as(sales_manager).get(
        f"{API}kpis/", {"code": "sales.leads", "period": "day", "person": consultant.pk}
    )
    assert result(managed, "sales.leads")["value"] == "1"


def test_another_branch_and_its_people_are_not_anyones_to_ask(
    api_as, branch_manager, other_branch, other_branch_user
):
    for query in ({"branch": other_branch.pk}, {"person": other_branch_user.pk}):
        response = api_as(branch_manager).get(f"{API}kpis/", {"code": "sales.leads", **query})
        assert response.status_code == 400
        assert list(query)[0] in response.json()


def test_the_group_manager_reads_both_branches_added_up(
    api_as, branch, other_branch, group_manager, consultant, other_branch_user
):
    lead(branch, TODAY, consultant)
    lead(other_branch, TODAY, other_branch_user)
    lead(other_branch, TODAY, other_branch_user)
    both = api_as(group_manager).get(f"{API}kpis/", {"code": "sales.leads", "period": "day"})
    one = api_as(group_manager).get(
        f"{API}kpis/", {"code": "sales.leads", "period": "day", "branch": other_branch.pk}
    )
    assert (result(both, "sales.leads")["value"], result(one, "sales.leads")["value"]) == (
        "3",
        "2",
    )


@pytest.mark.parametrize(
    "query, field",
    [
        ({"code": "sales.nothing"}, "code"),
        ({"period": "fortnight"}, "period"),
        ({"date": "2026-13-01"}, "date"),
        ({"date": (TODAY + timedelta(days=1)).isoformat()}, "date"),
        ({"period": "custom", "start": "2026-01-01"}, "start"),
        ({"period": "custom", "start": "2026-02-01", "end": "2026-01-01"}, "end"),
        ({"period": "custom", "start": "2020-01-01", "end": "2025-01-01"}, "end"),
        ({"branch": "x"}, "branch"),
        ({"person": 987654}, "person"),
        ({"code": "parts.fill_rate", "person": "me"}, "person"),
    ],
)
def test_bad_input_names_the_field(api_as, branch_manager, query, field):
    response = api_as(branch_manager).get(f"{API}kpis/", query)
    assert response.status_code == 400
    assert field in response.json()


def test_a_figure_without_per_person_values_is_refused_for_a_person(
    api_as, branch_manager, consultant
):
    response = api_as(branch_manager).get(
        f"{API}kpis/", {"code": "parts.fill_rate", "person": consultant.pk}
    )
    assert response.status_code == 400 and "code" in response.json()


def test_a_custom_period_and_a_week(api_as, branch, branch_manager, consultant):
    lead(branch, TODAY - timedelta(days=3), consultant)
    kpi_snapshots_compute(day=TODAY - timedelta(days=3), branch=branch)
    start = (TODAY - timedelta(days=3)).isoformat()
    custom = api_as(branch_manager).get(
        f"{API}kpis/",
        {"code": "sales.leads", "period": "custom", "start": start, "end": TODAY.isoformat()},
    )
    assert (custom.json()["start"], result(custom, "sales.leads")["value"]) == (start, "1")
    week = api_as(branch_manager).get(f"{API}kpis/", {"code": "sales.leads", "period": "week"})
    monday = TODAY - timedelta(days=TODAY.weekday())
    assert (week.json()["start"], week.json()["end"]) == (monday.isoformat(), TODAY.isoformat())


def test_the_values_take_the_same_queries_for_a_day_or_a_year_of_snapshots(
    api_as, branch, branch_manager, consultant, django_assert_max_num_queries
):
    start = (TODAY - timedelta(days=40)).isoformat()
    query = {"code": ["sales.leads", "service.entries"], "period": "custom", "start": start,
             "end": TODAY.isoformat()}  # fmt: skip
    client = api_as(branch_manager)
    client.get(f"{API}kpis/", query)  # the session's own first queries
    lead(branch, YESTERDAY, consultant)
    kpi_snapshots_compute(day=YESTERDAY, branch=branch)
    with django_assert_max_num_queries(20) as few:
        client.get(f"{API}kpis/", query)
    for days_ago in range(2, 30):
        lead(branch, TODAY - timedelta(days=days_ago), consultant)
        kpi_snapshots_compute(day=TODAY - timedelta(days=days_ago), branch=branch)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"{API}kpis/", query)
    assert result(response, "sales.leads")["value"] == "29"


# --- The definitions page ----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["consultant", "technician", "parts_clerk", "group_manager"])
def test_every_signed_in_person_reads_the_definitions_page(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("kpi-definitions"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    for kpi in kpi_registry().values():
        assert f'id="kpi-{kpi.code}"' in page
    assert "Revenue per entry (单车产值)" in page
    assert "Not measured yet" in page  # the network figures


def test_the_definitions_page_filters_by_area_and_words(client, consultant):
    client.force_login(consultant)
    parts = client.get(reverse("kpi-definitions"), {"area": "parts"}, HTTP_ACCEPT_LANGUAGE="en")
    page = parts.content.decode()
    assert 'id="kpi-parts.fill_rate"' in page and 'id="kpi-sales.leads"' not in page
    found = client.get(reverse("kpi-definitions"), {"q": "comeback"}, HTTP_ACCEPT_LANGUAGE="en")
    assert 'id="kpi-service.comebacks"' in found.content.decode()
    assert 'id="kpi-service.entries"' not in found.content.decode()
    nothing = client.get(reverse("kpi-definitions"), {"q": "zzz"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "No figure matches" in nothing.content.decode()


def test_the_definitions_page_is_shown_in_chinese(client, consultant):
    client.force_login(consultant)
    client.cookies["django_language"] = "zh-hans"
    response = client.get(reverse("kpi-definitions"))
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.content.decode()


def test_the_definitions_page_asks_to_sign_in(client):
    response = client.get(reverse("kpi-definitions"))
    assert response.status_code == 302 and "/login/" in response["Location"]
