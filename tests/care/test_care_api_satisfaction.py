"""The satisfaction index API: a manager creates a model, adds its criteria, enters the
comparison matrices (refused with a stable code and the CR, the cell at fault, nothing
changed) and activates it; the agent records a call's survey; the index of a period by branch,
advisor and month. Every endpoint is refused to roles without its permission and to anonymous
clients, another branch's records do not exist, and the lists cost fixed queries."""

from datetime import date

import pytest

from customers.care import services
from customers.care.models import Criterion, SatisfactionModel, SurveyAnswer
from dealer_crm.choices import Role
from tests.care.test_services_satisfaction import (
    CONTRADICTING,
    TOP_MATRIX,
    active_model,
    answer,
    done_call,
    draft_model,
    snapshot,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/"
MODELS = API + "satisfaction-models/"
ANSWERS = API + "survey-answers/"
INDEX = API + "satisfaction-index/"


def model_url(model, action: str = "") -> str:
    return f"{MODELS}{model.pk}/{action + '/' if action else ''}"


@pytest.fixture
def manager_api(api_as, branch_manager):
    return api_as(branch_manager)


# --- a model through the API -----------------------------------------------------------------


def test_a_manager_builds_and_activates_a_model(manager_api, branch):
    # given a new model
    created = manager_api.post(MODELS, {"name": "售后满意度"}, format="json")
    assert created.status_code == 201, created.data
    model = SatisfactionModel.objects.get(pk=created.data["id"])
    assert (created.data["branch"], created.data["active"], created.data["criteria"]) == (
        branch.pk,
        False,
        [],
    )
    # when three criteria and two sub-criteria are added
    for name in ("服务态度", "维修质量", "交车时效"):
        added = manager_api.post(model_url(model, "criteria"), {"name": name}, format="json")
        assert added.status_code == 200, added.data
    quality = Criterion.objects.get(name="维修质量")
    for name in ("一次修复", "价格透明"):
        manager_api.post(
            model_url(model, "criteria"), {"name": name, "parent": quality.pk}, format="json"
        )
    # and their comparisons entered, as numbers and as fractions in text
    top = manager_api.post(
        model_url(model, "matrices"),
        {"values": [[1, "1/2", 2], ["2", 1, 4], ["0.5", "1/4", 1]]},
        format="json",
    )
    sub = manager_api.post(
        model_url(model, "matrices"),
        {"parent": quality.pk, "values": [[1, 3], ["1/3", 1]]},
        format="json",
    )
    assert (top.status_code, sub.status_code) == (200, 200), (top.data, sub.data)
    activated = manager_api.post(model_url(model, "activate"), format="json")
    # then the model is active, with each criterion's weights and each matrix's figures
    assert activated.status_code == 200, activated.data
    assert activated.data["active"] is True
    weights = {
        row["name"]: (round(row["local_weight"], 4), round(row["global_weight"], 4), row["leaf"])
        for row in activated.data["criteria"]
    }
    assert weights == {
        "服务态度": (0.2857, 0.2857, True),
        "维修质量": (0.5714, 0.5714, False),
        "交车时效": (0.1429, 0.1429, True),
        "一次修复": (0.75, 0.4286, True),
        "价格透明": (0.25, 0.1429, True),
    }
    matrix = next(row for row in activated.data["matrices"] if row["parent"] is None)
    assert (matrix["cr"], matrix["lambda_max"]) == ("0.000000", "3.000000")
    assert matrix["values"][2] == [0.5, 0.25, 1.0]


def test_an_inconsistent_matrix_is_refused_with_its_cr(manager_api, branch, branch_manager):
    # given the three criteria
    model = draft_model(branch, branch_manager)["model"]
    before = snapshot()
    # when contradicting comparisons are entered
    response = manager_api.post(
        model_url(model, "matrices"), {"values": CONTRADICTING}, format="json"
    )
    # then they are refused with the stable code, the CR and the message, nothing changed
    _weights, lambda_max, ci, cr = services.ahp_priorities(CONTRADICTING)
    assert response.status_code == 400
    assert response.data["code"] == "matrix_inconsistent"
    assert (response.data["cr"], response.data["ci"], response.data["lambda_max"]) == (
        round(cr, 4),
        round(ci, 4),
        round(lambda_max, 4),
    )
    assert f"CR = {cr:.3f}" in response.data["detail"]
    assert snapshot() == before


@pytest.mark.parametrize(
    "values, code, cell",
    [
        ([[1, 0, 2], [0, 1, 4], [1 / 2, 1 / 4, 1]], "matrix_not_positive", (1, 2)),
        ([[1, 2, 2], [2, 1, 4], [1 / 2, 1 / 4, 1]], "matrix_not_reciprocal", (2, 1)),
        ([[2, 1 / 2, 2], [2, 1, 4], [1 / 2, 1 / 4, 1]], "matrix_diagonal", (1, 1)),
        ([[1, 1 / 2, 12], [2, 1, 4], [1 / 12, 1 / 4, 1]], "matrix_out_of_scale", (1, 3)),
        ([[1, 2], [1 / 2, 1]], "matrix_not_square", None),
        ([[1, 2, 3], [1 / 2, 1], [1 / 3, 1, 1]], "matrix_not_square", None),
    ],
)
def test_a_bad_matrix_is_refused_with_its_code_and_nothing_changes(
    manager_api, branch, branch_manager, values, code, cell
):
    # given the criteria compared once already
    found = draft_model(branch, branch_manager)
    services.comparison_matrix_set(
        model=found["model"], parent=None, values=TOP_MATRIX, by=branch_manager
    )
    before = snapshot()
    # when a matrix with a zero, not reciprocal, off the diagonal, off the scale or of the
    # wrong size is entered
    response = manager_api.post(
        model_url(found["model"], "matrices"), {"values": values}, format="json"
    )
    # then it is refused with the code and the cell at fault, and nothing changed
    assert response.status_code == 400
    assert response.data["code"] == code
    if cell:
        assert (response.data["row"], response.data["column"]) == cell
    assert snapshot() == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"values": [[1, "abc"], ["1/3", 1]]}, "values"),
        ({"values": [[1, "1/0"], [3, 1]]}, "values"),
        ({"values": [[1, True], [1, 1]]}, "values"),
        ({"values": "1,2;1/2,1"}, "values"),
        ({}, "values"),
        ({"parent": 999999, "values": [[1, 2], [1 / 2, 1]]}, "parent"),
    ],
)
def test_a_matrix_that_is_not_numbers_is_refused_as_bad_input(
    manager_api, branch, branch_manager, body, field
):
    model = draft_model(branch, branch_manager)["model"]
    before = snapshot()
    response = manager_api.post(model_url(model, "matrices"), body, format="json")
    assert response.status_code == 400
    assert field in response.data
    assert snapshot() == before


def test_criteria_refusals_carry_their_codes(manager_api, branch, branch_manager):
    found = active_model(branch, branch_manager)
    draft = draft_model(branch, branch_manager, name="草稿")
    before = snapshot()
    in_use = manager_api.post(
        model_url(found["model"], "criteria"), {"name": "环境"}, format="json"
    )
    taken = manager_api.post(
        model_url(draft["model"], "criteria"), {"name": "服务态度"}, format="json"
    )
    other = manager_api.post(
        model_url(draft["model"], "criteria"),
        {"name": "备件", "parent": found["维修质量"].pk},
        format="json",
    )
    too_long = manager_api.post(
        model_url(draft["model"], "criteria"), {"name": "长" * 101}, format="json"
    )
    assert (in_use.status_code, in_use.data["code"]) == (409, "model_in_use")
    assert (taken.status_code, taken.data["code"]) == (400, "criterion_name_taken")
    assert (other.status_code, other.data["code"]) == (400, "criterion_other_model")
    assert too_long.status_code == 400 and "name" in too_long.data
    assert snapshot() == before


def test_activation_refusals_carry_their_codes(manager_api, branch, branch_manager):
    draft = draft_model(branch, branch_manager)["model"]
    active = active_model(branch, branch_manager, name="现行")["model"]
    missing = manager_api.post(model_url(draft, "activate"))
    again = manager_api.post(model_url(active, "activate"))
    assert (missing.status_code, missing.data["code"]) == (400, "matrices_missing")
    assert (again.status_code, again.data["code"]) == (409, "model_already_active")
    assert list(SatisfactionModel.objects.filter(active=True)) == [active]


# --- surveys ------------------------------------------------------------------------------------


def test_the_agent_records_a_survey_and_lists_it(
    api_as, branch, branch_manager, consultant, customer_care
):
    found = active_model(branch, branch_manager)
    call = done_call(branch, consultant, customer_care)
    client = api_as(customer_care)
    # when the agent records two scores of the call
    response = client.post(
        ANSWERS,
        {"call": call.pk, "answers": {found["服务态度"].pk: 5, str(found["交车时效"].pk): 2}},
        format="json",
    )
    # then both are recorded for the consultant, and listed by call
    assert response.status_code == 201, response.data
    assert sorted((row["criterion_name"], row["score"]) for row in response.data) == [
        ("交车时效", 2),
        ("服务态度", 5),
    ]
    assert {row["advisor"] for row in response.data} == {consultant.pk}
    listed = client.get(ANSWERS, {"call": call.pk})
    assert listed.status_code == 200
    assert len(listed.data["results"]) == 2
    # a second time, refused (409) with nothing more recorded
    again = client.post(
        ANSWERS, {"call": call.pk, "answers": {found["服务态度"].pk: 1}}, format="json"
    )
    assert (again.status_code, again.data["code"]) == (409, "survey_answered")
    assert SurveyAnswer.objects.count() == 2


@pytest.mark.parametrize(
    "answers, status, code",
    [
        ({"服务态度": 7}, 400, "score_invalid"),
        ({"维修质量": 5}, 400, "criterion_not_leaf"),
        ({}, 400, "answers_required"),
        ({"服务态度": "很好"}, 400, None),
    ],
)
def test_bad_survey_answers_are_refused(
    api_as, branch, branch_manager, consultant, customer_care, answers, status, code
):
    found = active_model(branch, branch_manager)
    call = done_call(branch, consultant, customer_care)
    body = {"call": call.pk, "answers": {found[name].pk: score for name, score in answers.items()}}
    response = api_as(customer_care).post(ANSWERS, body, format="json")
    assert response.status_code == status
    if code:
        assert response.data["code"] == code
    else:
        assert "answers" in response.data
    assert not SurveyAnswer.objects.exists()


# --- the index ----------------------------------------------------------------------------------


def test_the_index_endpoint_gives_the_index_by_branch_advisor_and_month(
    api_as, branch, other_branch, branch_manager, customer_care, group_manager
):
    found = active_model(branch, branch_manager)
    li = UserFactory(branches=[branch], first_name="建", last_name="李")
    answer(found, branch, "服务态度", 5, on=date(2025, 5, 12), advisor=li, by=customer_care)
    answer(found, branch, "服务态度", 3, on=date(2025, 5, 12), by=customer_care)
    answer(found, branch, "一次修复", 5, on=date(2025, 5, 12), advisor=li, by=customer_care)
    answer(found, branch, "价格透明", 1, on=date(2025, 6, 2), by=customer_care)
    theirs = active_model(other_branch, branch_manager)
    answer(theirs, other_branch, "交车时效", 4, on=date(2025, 5, 3), by=customer_care)
    period = {"start": "2025-05-01", "end": "2025-06-30"}
    # when the agent of the branch asks for May and June
    ours = api_as(customer_care).get(INDEX, period)
    # then the index covers their branch only, with its breakdowns
    assert ours.status_code == 200, ours.data
    assert (ours.data["index"], ours.data["answers"]) == (75.0, 4)
    assert [(row["name"], row["index"]) for row in ours.data["branches"]] == [(branch.name, 75.0)]
    assert [(row["advisor"], row["name"], row["index"]) for row in ours.data["advisors"]] == [
        (li.pk, "李建", 100.0),
        (None, "", 33.3),
    ]
    assert [(row["month"], row["index"]) for row in ours.data["months"]] == [
        ("2025-05-01", 90.0),
        ("2025-06-01", 0.0),
    ]
    # one advisor's customers only
    one = api_as(customer_care).get(INDEX, {**period, "advisor": li.pk})
    assert (one.data["index"], one.data["answers"]) == (100.0, 2)
    # a group manager sees both branches
    everything = api_as(group_manager).get(INDEX, period)
    assert [row["branch"] for row in everything.data["branches"]] == [branch.pk, other_branch.pk]


@pytest.mark.parametrize(
    "query, field",
    [
        ({"start": "2025-06-01", "end": "2025-05-01"}, "end"),
        ({"start": "June"}, "start"),
        ({"advisor": 999999}, "advisor"),
    ],
)
def test_a_bad_index_query_is_refused(api_as, customer_care, query, field):
    response = api_as(customer_care).get(INDEX, query)
    assert response.status_code == 400
    assert field in response.data


# --- access -------------------------------------------------------------------------------------


@pytest.fixture
def ours(branch, branch_manager, consultant, customer_care) -> dict:
    found = active_model(branch, branch_manager)
    call = done_call(branch, consultant, customer_care)
    services.survey_answers_record(call=call, answers={found["服务态度"].pk: 4}, by=customer_care)
    return {**found, "call": call, "answer": SurveyAnswer.objects.get()}


def requests_of(ours: dict) -> list[tuple[str, str, dict | None]]:
    model = ours["model"]
    return [
        ("get", MODELS, None),
        ("get", model_url(model), None),
        ("post", MODELS, {"name": "新模型"}),
        ("post", model_url(model, "criteria"), {"name": "环境"}),
        ("post", model_url(model, "matrices"), {"values": TOP_MATRIX}),
        ("post", model_url(model, "activate"), {}),
        ("get", ANSWERS, None),
        ("get", f"{ANSWERS}{ours['answer'].pk}/", None),
        ("post", ANSWERS, {"call": ours["call"].pk, "answers": {ours["交车时效"].pk: 5}}),
        ("get", INDEX, None),
    ]


def ask(client, method, path, body):
    return client.get(path) if method == "get" else client.post(path, body, format="json")


def test_anonymous_clients_get_401(api_client, ours):
    before = snapshot()
    answers = [ask(api_client, *request).status_code for request in requests_of(ours)]
    assert answers == [401] * len(answers)
    assert snapshot() == before


@pytest.mark.parametrize(
    "persona, refused",
    [
        ("consultant", "all"),
        ("advisor", "all"),
        ("technician", "all"),
        ("customer_care", {2, 3, 4, 5}),
    ],
)
def test_roles_without_the_permission_are_refused(request, api_as, ours, persona, refused):
    client = api_as(request.getfixturevalue(persona))
    wanted = requests_of(ours)
    refused = set(range(len(wanted))) if refused == "all" else refused
    before = snapshot()
    answers = {index: ask(client, *wanted[index]).status_code for index in sorted(refused)}
    assert answers == {index: 403 for index in sorted(refused)}
    assert snapshot() == before


def test_the_agent_reads_everything_and_records_surveys(api_as, ours, customer_care):
    client = api_as(customer_care)
    wanted = requests_of(ours)
    answers = [ask(client, *wanted[index]).status_code for index in (0, 1, 6, 7, 8, 9)]
    assert answers == [200, 200, 200, 200, 201, 200]


def test_another_branchs_records_do_not_exist(api_as, ours, other_branch):
    # given the other branch's manager and agent in one
    client = api_as(
        UserFactory(roles=[Role.CUSTOMER_CARE, Role.BRANCH_MANAGER], branches=[other_branch])
    )
    before = snapshot()
    wanted = requests_of(ours)
    # when they reach each of our records
    answers = [ask(client, *wanted[index]).status_code for index in (1, 3, 4, 5, 7)]
    survey = ask(client, *wanted[8])
    # then none exists, the call named in a survey "does not exist", and the lists are empty
    assert answers == [404] * 5
    assert survey.status_code == 400 and "call" in survey.data
    assert client.get(MODELS).data["results"] == []
    assert client.get(ANSWERS).data["results"] == []
    assert client.get(INDEX).data["answers"] == 0
    assert snapshot() == before


def test_the_lists_cost_the_same_queries_for_one_row_as_for_many(
    api_as, branch, branch_manager, customer_care, ours, django_assert_max_num_queries
):
    client = api_as(customer_care)

    def queries() -> dict:
        counted = {}
        for path in (MODELS, ANSWERS, INDEX + "?start=2025-01-01&end=2027-12-01"):
            with django_assert_max_num_queries(25) as captured:
                assert client.get(path).status_code == 200, path
            counted[path] = len(captured)
        return counted

    queries()  # the user's permissions and branches are read once, on the first request
    one = queries()
    for index in range(3):
        draft_model(branch, branch_manager, name=f"草稿{index}")
        someone = UserFactory(branches=[branch])
        for name in ("一次修复", "价格透明", "交车时效"):
            answer(ours, branch, name, 3, on=date(2026, 1, 1 + index), advisor=someone,
                   by=customer_care)  # fmt: skip
    assert queries() == one
