"""The satisfaction index pages: a manager builds a model, enters a comparison grid that is
refused with its CR and then one that is accepted, and activates the model; the agent records
a call's survey; the index of a period by branch, advisor and month with its drill-down to the
answers. Each page answers the roles with its permission, hides other branches' records, and
costs the same queries for one row as for many."""

from datetime import date

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse

from customers.care import services
from customers.care.models import ComparisonMatrix, Criterion, SatisfactionModel, SurveyAnswer
from dealer_crm.choices import Role
from tests.care.test_services_satisfaction import (
    CONTRADICTING,
    active_model,
    answer,
    compared_model,
    done_call,
    draft_model,
    snapshot,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MAX_QUERIES = 35


def url(name: str, *args) -> str:
    return reverse(f"care:{name}", args=args)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def grid(values: list[list], prefix: str) -> dict:
    """The upper triangle of a matrix as the page's grid posts it."""
    return {
        f"{prefix}-c{i}_{j}": text
        for i, row in enumerate(values)
        for j, text in enumerate(row)
        if j > i
    }


# --- Access ----------------------------------------------------------------------------------

PAGES = ["satisfaction", "satisfaction-index", "satisfaction-answers", "satisfaction-create"]


@pytest.mark.parametrize(
    "persona, allowed",
    [
        ("consultant", set()),
        ("advisor", set()),
        ("technician", set()),
        ("customer_care", {"satisfaction", "satisfaction-index", "satisfaction-answers"}),
        ("sales_manager", set(PAGES)),
        ("branch_manager", set(PAGES)),
        ("group_manager", set(PAGES)),
    ],
)
def test_each_page_answers_the_roles_with_its_permission(request, client, persona, allowed):
    client.force_login(request.getfixturevalue(persona))
    answers = {name: client.get(url(name)).status_code for name in PAGES}
    assert answers == {name: 200 if name in allowed else 403 for name in PAGES}


def menu_links(response) -> set[str]:
    return {item["url"] for menu in response.context["nav_menus"] for item in menu["items"]}


def test_the_menu_shows_the_index_to_those_who_may_read_it(client, customer_care, consultant):
    client.force_login(customer_care)
    assert url("satisfaction") in menu_links(client.get(url("call-list")))
    client.force_login(consultant)
    assert url("satisfaction") not in menu_links(client.get(reverse("customers:list")))


def test_the_agent_reads_a_model_but_does_not_change_it(
    client, branch, branch_manager, customer_care
):
    # given a draft model with its criteria
    found = draft_model(branch, branch_manager)
    model = found["model"]
    client.force_login(customer_care)
    before = snapshot()
    # when the agent opens it and tries each change
    page = client.get(url("satisfaction-model", model.pk))
    posts = [
        client.post(url("satisfaction-criterion-add", model.pk), {"name": "环境"}),
        client.post(url("satisfaction-matrix", model.pk), {"parent": "top"}),
        client.post(url("satisfaction-activate", model.pk)),
    ]
    # then the page shows no form, and every change is forbidden
    assert page.status_code == 200
    assert b'id="criterion-form"' not in page.content and b"matrix-form" not in page.content
    assert [response.status_code for response in posts] == [403, 403, 403]
    assert snapshot() == before


def test_another_branchs_model_and_call_do_not_exist(
    client, branch, other_branch, branch_manager, consultant, customer_care
):
    # given our active model and a call made
    found = active_model(branch, branch_manager)
    model = found["model"]
    call = done_call(branch, consultant, customer_care)
    before = snapshot()
    # when the other branch's manager and agent reach for them
    client.force_login(UserFactory(roles=[Role.BRANCH_MANAGER], branches=[other_branch]))
    answers = [
        client.get(url("satisfaction-model", model.pk)),
        client.post(url("satisfaction-criterion-add", model.pk), {"name": "环境"}),
        client.post(url("satisfaction-matrix", model.pk), {"parent": "top"}),
        client.post(url("satisfaction-activate", model.pk)),
    ]
    listed = list(client.get(url("satisfaction")).context["page"])
    client.force_login(UserFactory(roles=[Role.CUSTOMER_CARE], branches=[other_branch]))
    answers += [client.get(url("call-survey", call.pk)), client.post(url("call-survey", call.pk))]
    # then none of them exists for them, and nothing changed
    assert [response.status_code for response in answers] == [404] * 6
    assert listed == []
    assert snapshot() == before


# --- A model through the pages -----------------------------------------------------------------


def test_a_manager_builds_a_model_whose_cr_is_refused_then_accepted(client, branch, branch_manager):
    client.force_login(branch_manager)
    # given a new model with three criteria, made through the pages
    created = client.post(url("satisfaction-create"), {"name": "售后满意度", "branch": branch.pk})
    model = SatisfactionModel.objects.get()
    assert created.status_code == 302 and created["Location"] == url("satisfaction-model", model.pk)
    for name in ("服务态度", "维修质量", "交车时效"):
        added = client.post(url("satisfaction-criterion-add", model.pk), {"name": name})
        assert added.status_code == 302
    page = client.get(url("satisfaction-model", model.pk))
    assert b'id="set-top"' in page.content and b"matrix-missing" in page.content

    # when comparisons that contradict each other are entered, typed as fractions
    refused = client.post(
        url("satisfaction-matrix", model.pk),
        {"parent": "top", **grid([["1", "1/3", "5"], [None, "1", "1/2"]], "mtop")},
    )
    # then the page answers 400 with the CR and the message, the grid as typed, nothing saved
    _weights, _lambda_max, _ci, cr = services.ahp_priorities(CONTRADICTING)
    assert refused.status_code == 400
    content = refused.content.decode()
    assert f"CR = {cr:.3f}" in content
    assert f"CR {cr:.3f}" in content  # the badge beside the message
    assert 'value="1/3"' in content and 'value="1/2"' in content
    assert not ComparisonMatrix.objects.exists()

    # when consistent comparisons are entered (2 : 4 : 1)
    accepted = client.post(
        url("satisfaction-matrix", model.pk),
        {"parent": "top", **grid([["1", "1/2", "2"], [None, "1", "4"]], "mtop")},
        follow=True,
    )
    # then they are saved, and the page shows the weights, λmax, CI and CR
    matrix = ComparisonMatrix.objects.get()
    assert [round(weight, 3) for weight in matrix.weights] == [0.286, 0.571, 0.143]
    assert any("CR = 0.000" in message for message in messages_of(accepted))
    content = accepted.content.decode()
    assert "matrix-result" in content and "0.571" in content and "λmax" in content
    assert accepted.redirect_chain[-1][0].endswith("#set-top")

    # and the model is activated
    activated = client.post(url("satisfaction-activate", model.pk), follow=True)
    assert SatisfactionModel.objects.get().active
    assert any("active model" in message for message in messages_of(activated))


@pytest.mark.parametrize(
    "cells, status, error",
    [
        ({"mtop-c0_1": "0"}, 400, "服务态度 over 维修质量 is 0"),
        ({"mtop-c0_1": "12"}, 400, "Saaty&#x27;s scale"),
        ({"mtop-c0_1": "abc"}, 400, "Enter a judgement such as 3, 1/3 or 0.5."),
        ({"mtop-c0_1": ""}, 400, "Enter a judgement such as 3, 1/3 or 0.5."),
    ],
)
def test_a_bad_grid_is_refused_beside_the_grid(
    client, branch, branch_manager, cells, status, error
):
    # given the criteria compared once already
    found = compared_model(branch, branch_manager)
    client.force_login(branch_manager)
    before = snapshot()
    # when a cell is zero, off the scale, or not a number
    response = client.post(
        url("satisfaction-matrix", found["model"].pk),
        {"parent": "top", "mtop-c0_1": "1/2", "mtop-c0_2": "2", "mtop-c1_2": "4", **cells},
    )
    # then the page says so and nothing changed
    assert response.status_code == status
    assert error in response.content.decode()
    assert snapshot() == before


def test_a_criterion_refused_is_said_beside_its_field(client, branch, branch_manager):
    found = draft_model(branch, branch_manager)
    client.force_login(branch_manager)
    response = client.post(
        url("satisfaction-criterion-add", found["model"].pk), {"name": "服务态度"}
    )
    assert response.status_code == 400
    assert "There is already a criterion named 服务态度 here." in response.content.decode()
    assert Criterion.objects.filter(name="服务态度").count() == 1


def test_activating_too_early_says_what_to_compare(client, branch, branch_manager):
    found = draft_model(branch, branch_manager)
    client.force_login(branch_manager)
    response = client.post(url("satisfaction-activate", found["model"].pk))
    assert response.status_code == 400
    assert "Compare these criteria first" in response.content.decode()
    assert not SatisfactionModel.objects.get().active


def test_a_model_in_use_has_no_criterion_form(client, branch, branch_manager):
    found = active_model(branch, branch_manager)
    client.force_login(branch_manager)
    page = client.get(url("satisfaction-model", found["model"].pk))
    assert b'id="criterion-form"' not in page.content and b'id="criteria-fixed"' in page.content
    response = client.post(url("satisfaction-criterion-add", found["model"].pk), {"name": "环境"})
    assert response.status_code == 409
    assert any("in use since" in message for message in messages_of(response))


def test_a_new_model_named_like_another_is_refused_beside_the_name(client, branch, branch_manager):
    draft_model(branch, branch_manager)
    client.force_login(branch_manager)
    response = client.post(url("satisfaction-create"), {"name": "售后满意度", "branch": branch.pk})
    assert response.status_code == 400
    assert response.context["form"].errors["name"]
    assert SatisfactionModel.objects.count() == 1


# --- The survey of a call --------------------------------------------------------------------


def test_the_agent_records_a_calls_survey(
    client, branch, branch_manager, consultant, customer_care
):
    # given the branch's active model and a call made
    found = active_model(branch, branch_manager)
    call = done_call(branch, consultant, customer_care)
    client.force_login(customer_care)
    # when the agent opens the survey, each leaf criterion is asked
    page = client.get(url("call-survey", call.pk))
    assert list(page.context["form"].fields) == [
        f"criterion_{found[name].pk}" for name in ("服务态度", "一次修复", "价格透明", "交车时效")
    ]
    # and when they record three scores (one left out)
    response = client.post(
        url("call-survey", call.pk),
        {f"criterion_{found['服务态度'].pk}": "5", f"criterion_{found['一次修复'].pk}": "4",
         f"criterion_{found['交车时效'].pk}": "3"},
    )  # fmt: skip
    # then they are recorded and the agent is back on the call
    assert response.status_code == 302 and response["Location"] == url("call-detail", call.pk)
    assert sorted(SurveyAnswer.objects.values_list("score", flat=True)) == [3, 4, 5]
    # a second time, the same criteria are refused (409)
    again = client.post(url("call-survey", call.pk), {f"criterion_{found['服务态度'].pk}": "1"})
    assert again.status_code == 409
    assert SurveyAnswer.objects.count() == 3


def test_the_survey_waits_for_the_call_and_for_a_model(
    client, branch, branch_manager, consultant, customer_care
):
    call = done_call(branch, consultant, customer_care)
    client.force_login(customer_care)
    # without an active model the page says so, and a post is refused
    assert b'id="survey-no-model"' in client.get(url("call-survey", call.pk)).content
    assert client.post(url("call-survey", call.pk), {}).status_code == 400
    assert not SurveyAnswer.objects.exists()


# --- The index -----------------------------------------------------------------------------------


@pytest.fixture
def answered(branch, branch_manager, customer_care):
    """May 2025: 服务态度 5 and 3 (75), 一次修复 5 (100), 价格透明 1 (0) → index 75."""
    found = active_model(branch, branch_manager)
    li = UserFactory(branches=[branch], first_name="建", last_name="李")
    day = date(2025, 5, 12)
    answer(found, branch, "服务态度", 5, on=day, advisor=li, by=customer_care)
    answer(found, branch, "一次修复", 5, on=day, advisor=li, by=customer_care)
    answer(found, branch, "服务态度", 3, on=day, by=customer_care)
    answer(found, branch, "价格透明", 1, on=day, by=customer_care)
    return {**found, "li": li}


MAY = "?period=custom&start=2025-05-01&end=2025-05-31"


def test_the_index_page_shows_the_index_by_branch_advisor_and_month(
    client, branch, customer_care, answered
):
    client.force_login(customer_care)
    response = client.get(url("satisfaction-index") + MAY)
    report = response.context["report"]
    assert report["index"] == 75.0
    assert [(row["name"], row["index"]) for row in report["branches"]] == [(branch.name, 75.0)]
    assert [(row["advisor"], row["index"]) for row in report["advisors"]] == [
        (answered["li"].pk, 100.0),
        (None, 33.3),
    ]
    assert [(row["month"], row["index"]) for row in report["months"]] == [(date(2025, 5, 1), 75.0)]
    content = response.content.decode()
    assert 'id="index-value">75.0<' in content


def test_the_index_drills_down_to_the_answers(client, customer_care, answered):
    client.force_login(customer_care)
    report = client.get(url("satisfaction-index") + MAY).context["report"]
    li_url = report["advisors"][0]["url"]
    listed = client.get(li_url).context["page"]
    assert {(a.criterion.name, a.score) for a in listed} == {("服务态度", 5), ("一次修复", 5)}
    criterion_url = next(row["url"] for row in report["per_criterion"] if row["name"] == "价格透明")
    assert [a.score for a in client.get(criterion_url).context["page"]] == [1]
    month_url = report["months"][0]["url"]
    assert client.get(month_url).context["page"].paginator.count == 4


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_pages_render_in_both_languages(
    client, branch_manager, consultant, customer_care, answered, language, branch
):
    call = done_call(branch, consultant, customer_care)
    client.force_login(branch_manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for page in [
        url("satisfaction"),
        url("satisfaction-create"),
        url("satisfaction-model", answered["model"].pk),
        url("satisfaction-index") + MAY,
        url("satisfaction-answers"),
        url("call-survey", call.pk),
    ]:
        response = client.get(page)
        assert response.status_code == 200, page
        assert f'lang="{language}"' in response.content.decode(), page


# --- Queries -----------------------------------------------------------------------------------


def test_each_page_costs_the_same_queries_for_one_row_as_for_many(
    client, branch, other_branch, branch_manager, group_manager, consultant, customer_care,
    django_assert_max_num_queries,
):  # fmt: skip
    client.force_login(group_manager)

    def queries(model) -> dict:
        counted = {}
        for page in [
            url("satisfaction"),
            url("satisfaction-model", model.pk),
            url("satisfaction-index") + MAY,
            url("satisfaction-answers"),
            url("call-survey", call.pk),
        ]:
            with django_assert_max_num_queries(MAX_QUERIES) as captured:
                assert client.get(page).status_code == 200, page
            counted[page] = len(captured)
        return counted

    ours = active_model(branch, branch_manager)
    call = done_call(branch, consultant, customer_care)
    advisor = UserFactory(branches=[branch])
    answer(ours, branch, "服务态度", 4, on=date(2025, 5, 3), advisor=advisor, by=customer_care)
    one = queries(ours["model"])
    # more models, criteria, answers, advisors, branches and months
    theirs = active_model(other_branch, branch_manager)
    compared_model(branch, branch_manager, name="草稿")
    for day in range(1, 20):
        someone = UserFactory(branches=[branch])
        for name in ("一次修复", "价格透明", "交车时效"):
            answer(ours, branch, name, 1 + day % 5, on=date(2025, 5, day), advisor=someone,
                   by=customer_care)  # fmt: skip
        answer(theirs, other_branch, "服务态度", 5, on=date(2025, 5, day), by=customer_care)
    services.criterion_add(
        model=SatisfactionModel.objects.get(name="草稿"), name="环境", by=branch_manager
    )
    many = queries(ours["model"])
    assert many == one
