"""The satisfaction index by the analytic hierarchy process (层次分析法): weights from the
principal eigenvector of each pairwise comparison matrix, checked against published worked
examples; CI and CR with Saaty's random index; every bad matrix refused with its stable code and
nothing changed; the models' criteria and activation; survey answers from the follow-up calls;
and the 0–100 index per branch, advisor and month."""

from datetime import date, timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from customers.care import services
from customers.care.choices import CallOutcome
from customers.care.models import (
    ComparisonMatrix,
    Criterion,
    FollowUpCall,
    SatisfactionModel,
    SurveyAnswer,
)
from dealer_crm.errors import StateConflict
from tests.archives.helpers import closed_work_order
from tests.factories import CustomerFactory, DeliveryFactory, UserFactory
from tests.service.helpers import counts, refusal, state

pytestmark = pytest.mark.django_db

WATCHED = (SatisfactionModel, Criterion, ComparisonMatrix, SurveyAnswer)
# 服务态度 : 维修质量 : 交车时效 = 2 : 4 : 1, a consistent matrix; 一次修复 : 价格透明 = 3 : 1.
TOP_MATRIX = [[1, 1 / 2, 2], [2, 1, 4], [1 / 2, 1 / 4, 1]]
QUALITY_MATRIX = [[1, 3], [1 / 3, 1]]
# 服务态度 a little below 维修质量 and far above 交车时效, yet 维修质量 below 交车时效.
CONTRADICTING = [[1, 1 / 3, 5], [3, 1, 1 / 2], [1 / 5, 2, 1]]


def rounded(values, places: int = 3) -> list[float]:
    return [round(value, places) for value in values]


def snapshot() -> dict:
    """Every satisfaction row as the database holds it."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in WATCHED}


def draft_model(branch, manager, name="售后满意度") -> dict:
    """A model with three criteria and two sub-criteria under 维修质量, no matrix yet."""
    model = services.satisfaction_model_create(branch=branch, name=name, by=manager)
    found = {"model": model}
    for top in ("服务态度", "维修质量", "交车时效"):
        found[top] = services.criterion_add(model=model, name=top, by=manager)
    for sub in ("一次修复", "价格透明"):
        found[sub] = services.criterion_add(
            model=model, name=sub, parent=found["维修质量"], by=manager
        )
    return found


def compared_model(branch, manager, name="售后满意度") -> dict:
    found = draft_model(branch, manager, name)
    model = found["model"]
    services.comparison_matrix_set(model=model, parent=None, values=TOP_MATRIX, by=manager)
    services.comparison_matrix_set(
        model=model, parent=found["维修质量"], values=QUALITY_MATRIX, by=manager
    )
    return found


def active_model(branch, manager, name="售后满意度") -> dict:
    found = compared_model(branch, manager, name)
    found["model"] = services.model_activate(model=found["model"], by=manager)
    return found


def done_call(branch, consultant, agent, *, score=5) -> FollowUpCall:
    """The day-1 call after a delivery yesterday, made today: the customer was reached."""
    today = timezone.localdate()
    DeliveryFactory(
        order__branch=branch, order__consultant=consultant, delivered_on=today - timedelta(1)
    )
    services.follow_up_calls_generate(today=today)
    call = FollowUpCall.objects.order_by("-pk").first()
    return services.call_attempt_record(
        call=call, outcome=CallOutcome.REACHED, by=agent, score=score
    )


def leaves_of(found: dict) -> list[Criterion]:
    return [found[name] for name in ("服务态度", "一次修复", "价格透明", "交车时效")]


# --- the mathematics against published examples ------------------------------------------


def test_weights_and_cr_equal_saatys_drinks_example():
    """Saaty's "relative consumption of drinks in the US" (coffee, wine, tea, beer, sodas,
    milk, water), as published in T. L. Saaty, "Decision making with the analytic hierarchy
    process", Int. J. Services Sciences 1(1), 2008, pp. 83–98, table 3, doi
    10.1504/IJSSCI.2008.017590 —
    https://studylib.net/doc/18179705/decision-making-with-the-analytic-hierarchy-process —
    priorities from the principal eigenvector .177 .019 .042 .116 .190 .129 .327, C.R. .022;
    reproduced with the eigenvector method in AHPy's README, https://pypi.org/project/ahpy/
    ("Relative consumption of drinks in the United States"). The paper gives no λmax or CI:
    they are checked against their definitions, CI = (λmax − n)/(n − 1) and CR = CI / RI."""
    # given the matrix of the 30 participants' judgements
    drinks = [
        [1, 9, 5, 2, 1, 1, 1 / 2],
        [1 / 9, 1, 1 / 3, 1 / 9, 1 / 9, 1 / 9, 1 / 9],
        [1 / 5, 3, 1, 1 / 3, 1 / 4, 1 / 3, 1 / 9],
        [1 / 2, 9, 3, 1, 1 / 2, 1, 1 / 3],
        [1, 9, 4, 2, 1, 2, 1 / 2],
        [1, 9, 3, 1, 1 / 2, 1, 1 / 3],
        [2, 9, 9, 3, 2, 3, 1],
    ]
    # when its priorities are computed
    weights, lambda_max, ci, cr = services.ahp_priorities(drinks)
    # then they are the published ones, to 3 decimals
    assert rounded(weights) == [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327]
    assert round(cr, 3) == 0.022
    assert round(lambda_max, 3) == 7.177
    assert ci == pytest.approx((lambda_max - 7) / 6)
    assert cr == pytest.approx(ci / 1.32)
    assert sum(weights) == pytest.approx(1)


def test_weights_and_cr_equal_the_leader_example():
    """The criteria of "choosing a leader" (experience, education, charisma, age) from the
    appendix of Wikipedia's AHP entry, computed with the principal eigenvector in AHPy's
    README, https://pypi.org/project/ahpy/ ("Choosing a leader"): local weights 0.548, 0.127,
    0.27, 0.056 and consistency ratio 0.044."""
    # given the comparisons of the four criteria
    criteria = [
        [1, 4, 3, 7],
        [1 / 4, 1, 1 / 3, 3],
        [1 / 3, 3, 1, 5],
        [1 / 7, 1 / 3, 1 / 5, 1],
    ]
    # when its priorities are computed
    weights, lambda_max, ci, cr = services.ahp_priorities(criteria)
    # then they are the published ones
    assert rounded(weights) == [0.548, 0.127, 0.270, 0.056]
    assert round(cr, 3) == 0.044
    assert cr == pytest.approx((lambda_max - 4) / 3 / 0.90)


def test_a_consistent_matrix_has_lambda_n_and_cr_exactly_zero():
    # given comparisons that agree with each other (2 : 4 : 1)
    # when the priorities are computed
    weights, lambda_max, ci, cr = services.ahp_priorities(TOP_MATRIX)
    # then the weights are the ratios themselves and nothing is inconsistent
    assert weights == pytest.approx([2 / 7, 4 / 7, 1 / 7], abs=1e-12)
    assert lambda_max == pytest.approx(3, abs=1e-12)
    assert ci == 0.0 and cr == 0.0


def test_two_criteria_are_always_consistent():
    # given one comparison of two criteria
    # when the priorities are computed
    weights, lambda_max, ci, cr = services.ahp_priorities([[1, 3], [1 / 3, 1]])
    # then the weights are 3 : 1 and the CR is 0 (RI of 2 is 0)
    assert weights == pytest.approx([0.75, 0.25], abs=1e-12)
    assert lambda_max == pytest.approx(2, abs=1e-12)
    assert (ci, cr) == (0.0, 0.0)


def test_a_reciprocal_typed_to_three_decimals_counts_as_the_reciprocal():
    # given 1/3 typed as 0.333 and 1/7 as 0.143
    matrix = [[1, 3, 7], [0.333, 1, 3], [0.143, 0.333, 1]]
    # when the priorities are computed, they are
    weights, _lambda_max, _ci, cr = services.ahp_priorities(matrix)
    assert sum(weights) == pytest.approx(1)
    assert cr < services.CR_LIMIT


@pytest.mark.parametrize(
    "values, code, cell",
    [
        ([[1, 2], [1 / 2, 1], [1, 1]], "matrix_not_square", None),
        ([[1]], "matrix_not_square", None),
        ([[1] * 16 for _row in range(16)], "matrix_not_square", None),
        ("1,2;1/2,1", "matrix_not_square", None),
        ([[1, "3"], [1 / 3, 1]], "matrix_not_number", {"row": 1, "column": 2}),
        ([[1, 0], [0, 1]], "matrix_not_positive", {"row": 1, "column": 2}),
        ([[1, 3, 2], [1 / 3, 1, -2], [1 / 2, -1 / 2, 1]], "matrix_not_positive",
         {"row": 2, "column": 3}),
        ([[1, 3], [1 / 3, 2]], "matrix_diagonal", {"row": 2, "column": 2}),
        ([[1, 3, 2], [1 / 3, 1, 4], [1 / 2, 4, 1]], "matrix_not_reciprocal",
         {"row": 3, "column": 2}),
        ([[1, 3], [0.33, 1]], "matrix_not_reciprocal", {"row": 2, "column": 1}),
        ([[1, 10], [1 / 10, 1]], "matrix_out_of_scale", {"row": 1, "column": 2}),
    ],
)  # fmt: skip
def test_a_bad_matrix_is_refused_with_its_code_and_cell(values, code, cell):
    # given a matrix that is not a positive reciprocal one on Saaty's scale
    # when its priorities are asked for
    error = refusal(lambda: services.ahp_priorities(values))
    # then it is refused with the stable code, naming the cell at fault
    assert error.code == code
    assert error.field == "values"
    if cell:
        assert {key: error.extra[key] for key in ("row", "column")} == cell
        assert f"row {cell['row']}, column {cell['column']}" in str(error.message)


def test_the_reciprocity_refusal_names_both_cells_and_the_expected_value():
    # given 服务态度 three times 维修质量, and 维修质量 typed as twice 服务态度
    values = [[1, 3], [2, 1]]
    # when its priorities are asked for with the criteria's names
    error = refusal(lambda: services.ahp_priorities(values, ["服务态度", "维修质量"]))
    # then the message says which comparison is wrong and what it should be
    assert error.code == "matrix_not_reciprocal"
    assert str(error.message) == (
        "服务态度 over 维修质量 is 3, so 维修质量 over 服务态度 is its reciprocal 0.333, not 2."
    )


# --- models, criteria and matrices ------------------------------------------------------------


def test_criteria_keep_the_order_they_were_added_in(branch, branch_manager):
    # given a model with three criteria and two sub-criteria
    found = draft_model(branch, branch_manager)
    # then each set of siblings is numbered in order, the sub-criteria under their parent
    top = Criterion.objects.filter(model=found["model"], parent=None)
    assert [(c.name, c.position) for c in top] == [
        ("服务态度", 1),
        ("维修质量", 2),
        ("交车时效", 3),
    ]
    subs = Criterion.objects.filter(parent=found["维修质量"])
    assert [(c.name, c.position) for c in subs] == [("一次修复", 1), ("价格透明", 2)]


@pytest.mark.parametrize(
    "name, parent, code",
    [
        ("  ", None, "name_required"),
        ("服务态度", None, "criterion_name_taken"),
        ("备件", "一次修复", "criterion_too_deep"),
    ],
)
def test_a_bad_criterion_is_refused_and_nothing_changes(branch, branch_manager, name, parent, code):
    # given a model with its criteria
    found = draft_model(branch, branch_manager)
    before = snapshot()
    # when a criterion is added with an empty name, a name taken, or three levels deep
    error = refusal(
        lambda: services.criterion_add(
            model=found["model"], name=name, parent=found.get(parent), by=branch_manager
        )
    )
    # then it is refused and nothing changed
    assert error.code == code
    assert snapshot() == before


def test_a_criterion_of_another_model_is_no_parent(branch, branch_manager):
    # given two models
    ours = draft_model(branch, branch_manager)
    theirs = draft_model(branch, branch_manager, name="销售满意度")
    before = snapshot()
    # when a sub-criterion of ours is put under a criterion of the other
    error = refusal(
        lambda: services.criterion_add(
            model=ours["model"], name="备件", parent=theirs["服务态度"], by=branch_manager
        )
    )
    # then it is refused
    assert error.code == "criterion_other_model"
    assert snapshot() == before


def test_a_second_model_of_the_same_name_is_refused(branch, other_branch, branch_manager):
    # given a model named 售后满意度
    draft_model(branch, branch_manager)
    # when another one of that name is created in the branch
    error = refusal(
        lambda: services.satisfaction_model_create(
            branch=branch, name=" 售后满意度 ", by=branch_manager
        )
    )
    # then it is refused; another branch may use the name
    assert error.code == "model_name_taken"
    assert services.satisfaction_model_create(
        branch=other_branch, name="售后满意度", by=branch_manager
    )


def test_a_matrix_gives_each_sibling_its_weight(branch, branch_manager):
    # given the three criteria
    found = draft_model(branch, branch_manager)
    # when their comparisons are entered
    matrix = services.comparison_matrix_set(
        model=found["model"], parent=None, values=TOP_MATRIX, by=branch_manager
    )
    # then the weights, λmax, CI and CR are kept with the comparisons and who entered them
    row = ComparisonMatrix.objects.get(pk=matrix.pk)
    assert rounded(row.weights, 4) == [0.2857, 0.5714, 0.1429]
    assert (row.lambda_max, row.ci, row.cr) == (3, 0, 0)
    assert row.values[0] == [1.0, 0.5, 2.0]
    assert row.entered_by == branch_manager
    assert row.history.first().history_user == branch_manager


def test_an_inconsistent_matrix_is_refused_with_its_cr_and_nothing_changes(branch, branch_manager):
    # given the criteria compared once already
    found = compared_model(branch, branch_manager)
    before = snapshot()
    # when comparisons that contradict each other are entered
    error = refusal(
        lambda: services.comparison_matrix_set(
            model=found["model"], parent=None, values=CONTRADICTING, by=branch_manager
        )
    )
    # then they are refused with the CR in the message and in the answer, nothing changed
    _weights, _lambda_max, _ci, cr = services.ahp_priorities(CONTRADICTING)
    assert cr >= services.CR_LIMIT
    assert error.code == "matrix_inconsistent"
    assert error.extra["cr"] == round(cr, 4)
    assert f"CR = {cr:.3f}" in str(error.message)
    assert snapshot() == before


def test_a_matrix_with_a_zero_is_refused_and_nothing_changes(branch, branch_manager):
    # given the criteria compared once already
    found = compared_model(branch, branch_manager)
    before = snapshot()
    # when a comparison of zero is entered
    values = [[1, 0, 2], [2, 1, 4], [1 / 2, 1 / 4, 1]]
    error = refusal(
        lambda: services.comparison_matrix_set(
            model=found["model"], parent=None, values=values, by=branch_manager
        )
    )
    # then it is refused, naming the comparison, and the matrix kept is the old one
    assert error.code == "matrix_not_positive"
    assert str(error.message).startswith("服务态度 over 维修质量 is 0")
    assert snapshot() == before


def test_a_matrix_that_is_not_reciprocal_is_refused_and_nothing_changes(branch, branch_manager):
    found = compared_model(branch, branch_manager)
    before = snapshot()
    values = [[1, 1 / 2, 2], [2, 1, 4], [1 / 2, 4, 1]]
    error = refusal(
        lambda: services.comparison_matrix_set(
            model=found["model"], parent=None, values=values, by=branch_manager
        )
    )
    assert error.code == "matrix_not_reciprocal"
    assert "交车时效 over 维修质量 is its reciprocal 0.25, not 4" in str(error.message)
    assert snapshot() == before


@pytest.mark.parametrize(
    "parent, values, code",
    [
        (None, QUALITY_MATRIX, "matrix_not_square"),
        ("服务态度", QUALITY_MATRIX, "too_few_criteria"),
    ],
)
def test_a_matrix_must_fit_the_siblings(branch, branch_manager, parent, values, code):
    # given three top-level criteria, one without sub-criteria
    found = draft_model(branch, branch_manager)
    before = snapshot()
    # when a 2×2 matrix is entered for the three, or for a criterion without sub-criteria
    error = refusal(
        lambda: services.comparison_matrix_set(
            model=found["model"], parent=found.get(parent), values=values, by=branch_manager
        )
    )
    # then it is refused
    assert error.code == code
    assert snapshot() == before


def test_adding_a_sibling_drops_the_matrix_that_no_longer_covers_them(branch, branch_manager):
    # given the sub-criteria of 维修质量 compared
    found = compared_model(branch, branch_manager)
    # when a third sub-criterion is added
    services.criterion_add(
        model=found["model"], name="备件供应", parent=found["维修质量"], by=branch_manager
    )
    # then their matrix is gone (to enter again), the top-level one stays
    assert list(ComparisonMatrix.objects.values_list("parent", flat=True)) == [None]


def test_global_weights_are_the_products_down_the_tree(branch, branch_manager):
    # given the model compared: 2 : 4 : 1 at the top, 3 : 1 under 维修质量
    found = compared_model(branch, branch_manager)
    model = found["model"]
    # when the weights are read
    weights = services.criterion_weights(list(model.criteria.all()), list(model.matrices.all()))
    # then each sub-criterion's global weight is its share of its parent's
    expected = {
        "服务态度": (2 / 7, 2 / 7),
        "维修质量": (4 / 7, 4 / 7),
        "交车时效": (1 / 7, 1 / 7),
        "一次修复": (3 / 4, 3 / 7),
        "价格透明": (1 / 4, 1 / 7),
    }
    for name, (local, overall) in expected.items():
        assert weights[found[name].pk] == pytest.approx((local, overall), abs=1e-6), name


def test_a_model_is_activated_once_every_set_is_compared(branch, branch_manager):
    # given a model whose sub-criteria are not compared yet
    found = draft_model(branch, branch_manager)
    model = found["model"]
    services.comparison_matrix_set(model=model, parent=None, values=TOP_MATRIX, by=branch_manager)
    before = snapshot()
    # when it is activated, it is refused, naming what to compare
    error = refusal(lambda: services.model_activate(model=model, by=branch_manager))
    assert error.code == "matrices_missing"
    assert "维修质量" in str(error.message)
    assert snapshot() == before
    # once compared, it is activated
    services.comparison_matrix_set(
        model=model, parent=found["维修质量"], values=QUALITY_MATRIX, by=branch_manager
    )
    activated = services.model_activate(model=model, by=branch_manager)
    assert activated.active and activated.activated_at is not None


def test_activating_a_model_retires_the_branchs_active_one(branch, other_branch, branch_manager):
    # given an active model in the branch and one in another branch
    first = active_model(branch, branch_manager)["model"]
    elsewhere = active_model(other_branch, branch_manager)["model"]
    # when a second model of the branch is activated
    second = active_model(branch, branch_manager, name="售后满意度（新版）")["model"]
    # then it replaces the first one; the other branch keeps its own
    assert list(SatisfactionModel.objects.filter(active=True).order_by("pk")) == [
        elsewhere,
        second,
    ]
    assert SatisfactionModel.objects.get(pk=first.pk).activated_at is not None


def test_an_active_model_is_not_activated_again(branch, branch_manager):
    model = active_model(branch, branch_manager)["model"]
    before = snapshot()
    error = refusal(lambda: services.model_activate(model=model, by=branch_manager))
    assert isinstance(error, StateConflict) and error.code == "model_already_active"
    assert snapshot() == before


def test_an_empty_model_is_not_activated(branch, branch_manager):
    model = services.satisfaction_model_create(branch=branch, name="空模型", by=branch_manager)
    assert refusal(lambda: services.model_activate(model=model, by=branch_manager)).code == (
        "model_empty"
    )


def test_the_criteria_of_a_model_in_use_are_fixed_but_its_matrices_are_not(branch, branch_manager):
    # given an active model
    found = active_model(branch, branch_manager)
    model = found["model"]
    before = snapshot()
    # when a criterion is added, it is refused
    error = refusal(lambda: services.criterion_add(model=model, name="环境", by=branch_manager))
    assert isinstance(error, StateConflict) and error.code == "model_in_use"
    assert snapshot() == before
    # while its comparisons may be entered again
    services.comparison_matrix_set(
        model=model, parent=found["维修质量"], values=[[1, 2], [1 / 2, 1]], by=branch_manager
    )
    assert ComparisonMatrix.objects.get(parent=found["维修质量"]).weights == pytest.approx(
        [2 / 3, 1 / 3]
    )


def test_the_database_keeps_one_active_model_per_branch(branch, branch_manager):
    active_model(branch, branch_manager)
    second = compared_model(branch, branch_manager, name="第二版")["model"]
    with pytest.raises(IntegrityError):
        SatisfactionModel.objects.filter(pk=second.pk).update(
            active=True, activated_at=timezone.now()
        )


# --- survey answers -------------------------------------------------------------------------


def test_a_done_calls_answers_count_for_the_consultant_on_the_call_day(
    branch, branch_manager, consultant, customer_care
):
    # given the branch's active model and a delivery call made
    found = active_model(branch, branch_manager)
    call = done_call(branch, consultant, customer_care, score=4)
    # when the customer's scores are recorded
    answers = services.survey_answers_record(
        call=call,
        answers={str(found["服务态度"].pk): 5, found["一次修复"].pk: 4},
        by=customer_care,
    )
    # then each leaf has its answer, for the consultant who delivered, on the day of the call
    assert len(answers) == 2
    rows = SurveyAnswer.objects.filter(call=call).order_by("criterion__position", "pk")
    assert {(row.criterion.name, row.score) for row in rows} == {("服务态度", 5), ("一次修复", 4)}
    row = rows.first()
    assert (row.branch, row.customer, row.advisor, row.recorded_by) == (
        branch,
        call.customer,
        consultant,
        customer_care,
    )
    assert row.answered_on == timezone.localdate(call.completed_at)


def test_a_service_calls_answers_count_for_the_work_orders_advisor(
    branch, branch_manager, advisor, technician, customer_care
):
    # given a work order closed yesterday and its follow-up call made today
    found = active_model(branch, branch_manager)
    work_order = closed_work_order(branch, advisor, technician)
    services.follow_up_calls_generate(today=timezone.localdate(work_order.closed_at) + timedelta(1))
    call = services.call_attempt_record(
        call=FollowUpCall.objects.get(work_order=work_order), outcome=CallOutcome.REACHED,
        by=customer_care, score=5,
    )  # fmt: skip
    # when the survey is recorded
    services.survey_answers_record(call=call, answers={found["交车时效"].pk: 3}, by=customer_care)
    # then it is the advisor's, about the work order
    answer = SurveyAnswer.objects.get()
    assert (answer.advisor, answer.work_order) == (advisor, work_order)


def test_the_survey_waits_for_the_call_to_be_made(
    branch, branch_manager, consultant, customer_care
):
    # given a call still due
    found = active_model(branch, branch_manager)
    DeliveryFactory(order__branch=branch, order__consultant=consultant,
                    delivered_on=timezone.localdate() - timedelta(1))  # fmt: skip
    services.follow_up_calls_generate(today=timezone.localdate())
    call = FollowUpCall.objects.get()
    # when its survey is recorded
    error = refusal(
        lambda: services.survey_answers_record(
            call=call, answers={found["服务态度"].pk: 5}, by=customer_care
        )
    )
    # then it is refused (409) and nothing is recorded
    assert isinstance(error, StateConflict) and error.code == "call_not_done"
    assert SurveyAnswer.objects.count() == 0


def test_without_an_active_model_there_is_no_survey(
    branch, branch_manager, consultant, customer_care
):
    found = compared_model(branch, branch_manager)
    call = done_call(branch, consultant, customer_care)
    error = refusal(
        lambda: services.survey_answers_record(
            call=call, answers={found["服务态度"].pk: 5}, by=customer_care
        )
    )
    assert error.code == "no_active_model"
    assert SurveyAnswer.objects.count() == 0


@pytest.mark.parametrize(
    "answers, code",
    [
        ({}, "answers_required"),
        ({"维修质量": 5}, "criterion_not_leaf"),
        ({"其他模型": 5}, "criterion_not_leaf"),
        ({"unknown": 5}, "criterion_not_leaf"),
        ({"服务态度": 0}, "score_invalid"),
        ({"服务态度": 6}, "score_invalid"),
        ({"服务态度": "5"}, "score_invalid"),
        ({"服务态度": 4.5}, "score_invalid"),
        ({"服务态度": 5, "一次修复": 9}, "score_invalid"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_recorded(
    branch, branch_manager, consultant, customer_care, answers, code
):
    # given the active model, another model's criterion, and a call made
    found = active_model(branch, branch_manager)
    found["其他模型"] = draft_model(branch, branch_manager, name="草稿")["服务态度"]
    call = done_call(branch, consultant, customer_care)
    ids = {(found[name].pk if name in found else name): score for name, score in answers.items()}
    # when the answers name a criterion with sub-criteria, another model's one, an unknown
    # one, or a score out of 1–5
    error = refusal(
        lambda: services.survey_answers_record(call=call, answers=ids, by=customer_care)
    )
    # then they are refused and nothing is recorded
    assert error.code == code
    assert SurveyAnswer.objects.count() == 0


def test_a_survey_recorded_twice_is_refused(branch, branch_manager, consultant, customer_care):
    # given a call's survey recorded
    found = active_model(branch, branch_manager)
    call = done_call(branch, consultant, customer_care)
    services.survey_answers_record(call=call, answers={found["服务态度"].pk: 5}, by=customer_care)
    before = state(SurveyAnswer.objects.get())
    # when the same criterion is recorded again (with the rest)
    error = refusal(
        lambda: services.survey_answers_record(
            call=call, answers={found["服务态度"].pk: 1, found["交车时效"].pk: 2}, by=customer_care
        )
    )
    # then it is refused and the first answer stands alone
    assert isinstance(error, StateConflict) and error.code == "survey_answered"
    assert counts(SurveyAnswer) == {"SurveyAnswer": 1}
    assert state(SurveyAnswer.objects.get()) == before
    # while a criterion not answered yet is still taken
    services.survey_answers_record(call=call, answers={found["交车时效"].pk: 2}, by=customer_care)
    assert SurveyAnswer.objects.filter(call=call).count() == 2


# --- the index ------------------------------------------------------------------------------


def answer(found, branch, name, score, *, on, advisor=None, by):
    return SurveyAnswer.objects.create(
        branch=branch, customer=CustomerFactory(branch=branch), criterion=found[name],
        score=score, answered_on=on, advisor=advisor, recorded_by=by,
    )  # fmt: skip


@pytest.fixture
def scored(branch, branch_manager, customer_care):
    """The model compared 2 : 4 : 1 (global weights 服务态度 2/7, 一次修复 3/7, 价格透明 1/7,
    交车时效 1/7) and a month of answers by two advisors, 交车时效 never answered:
    服务态度 5 and 3 (average 4 → 75), 一次修复 5 (→ 100), 价格透明 1 (→ 0)."""
    found = active_model(branch, branch_manager)
    li, wang = UserFactory(branches=[branch]), UserFactory(branches=[branch])
    day = date(2025, 5, 12)
    answer(found, branch, "服务态度", 5, on=day, advisor=li, by=customer_care)
    answer(found, branch, "一次修复", 5, on=day, advisor=li, by=customer_care)
    answer(found, branch, "服务态度", 3, on=day, advisor=wang, by=customer_care)
    answer(found, branch, "价格透明", 1, on=day, advisor=wang, by=customer_care)
    return {**found, "li": li, "wang": wang}


MAY = {"start": date(2025, 5, 1), "end": date(2025, 5, 31)}


def test_the_index_weights_each_leaf_and_renormalises_over_those_answered(branch, scored):
    # when the index of May is computed
    result = services.satisfaction_index(branch_ids=[branch.pk], **MAY)
    # then it is (2/7·75 + 3/7·100 + 1/7·0) / (6/7) = 75: 交车时效, never answered, is left
    # out (counted with its weight, it would be 64.3)
    assert result["index"] == 75.0
    assert result["answers"] == 4
    by_name = {row["name"]: row for row in result["per_criterion"]}
    assert list(by_name) == ["服务态度", "一次修复", "价格透明", "交车时效"]
    assert by_name["服务态度"] | {"weight": None} == {
        "criterion": scored["服务态度"].pk, "name": "服务态度", "parent_name": None,
        "weight": None, "answers": 2, "average": 4.0, "score": 75.0,
    }  # fmt: skip
    assert by_name["一次修复"]["parent_name"] == "维修质量"
    assert by_name["一次修复"]["weight"] == round(3 / 7, 4)
    assert (by_name["交车时效"]["answers"], by_name["交车时效"]["score"]) == (0, None)


def test_the_index_of_one_advisor_counts_their_customers_only(branch, scored):
    # when the index of each advisor is computed
    li = services.satisfaction_index(branch_ids=[branch.pk], advisor=scored["li"], **MAY)
    wang = services.satisfaction_index(branch_ids=[branch.pk], advisor=scored["wang"], **MAY)
    # then 李's customers gave 5 and 5 (100); 王's 3 on 服务态度 (50, weight 2/7) and 1 on
    # 价格透明 (0, weight 1/7): 2/3 · 50 = 33.3
    assert (li["index"], li["answers"]) == (100.0, 2)
    assert (wang["index"], wang["answers"]) == (33.3, 2)
    by_advisor = services.satisfaction_indexes(branch_ids=[branch.pk], by="advisor", **MAY)
    assert {row["key"]: row["index"] for row in by_advisor} == {
        scored["li"].pk: 100.0,
        scored["wang"].pk: 33.3,
    }


def test_the_index_per_branch_and_month(branch, other_branch, branch_manager, scored):
    # given answers of June, and of another branch in May
    answer(scored, branch, "服务态度", 1, on=date(2025, 6, 2), by=branch_manager)
    theirs = active_model(other_branch, branch_manager)
    answer(theirs, other_branch, "交车时效", 4, on=date(2025, 5, 20), by=branch_manager)
    both = [branch.pk, other_branch.pk]
    # when the index is broken down by branch over May, and by month over May and June
    by_branch = services.satisfaction_indexes(branch_ids=both, by="branch", **MAY)
    by_month = services.satisfaction_indexes(
        branch_ids=[branch.pk], by="month", start=date(2025, 5, 1), end=date(2025, 6, 30)
    )
    # then each branch and each month has its own index and answers
    assert by_branch == [
        {"key": branch.pk, "index": 75.0, "answers": 4},
        {"key": other_branch.pk, "index": 75.0, "answers": 1},
    ]
    assert by_month == [
        {"key": date(2025, 5, 1), "index": 75.0, "answers": 4},
        {"key": date(2025, 6, 1), "index": 0.0, "answers": 1},
    ]


def test_a_period_without_answers_has_no_index(branch, scored):
    result = services.satisfaction_index(
        branch_ids=[branch.pk], start=date(2025, 4, 1), end=date(2025, 4, 30)
    )
    assert (result["index"], result["answers"], result["per_criterion"]) == (None, 0, [])
    assert (
        services.satisfaction_indexes(
            branch_ids=[branch.pk], by="branch", start=date(2025, 4, 1), end=date(2025, 4, 30)
        )
        == []
    )


def test_the_period_includes_its_first_and_last_days(branch, branch_manager, scored):
    answer(scored, branch, "交车时效", 5, on=date(2025, 5, 31), by=branch_manager)
    answer(scored, branch, "交车时效", 1, on=date(2025, 6, 1), by=branch_manager)
    result = services.satisfaction_index(branch_ids=[branch.pk], **MAY)
    assert result["answers"] == 5
    # 交车时效 now scores 100 with weight 1/7: (150 + 300 + 0 + 100) / 7 = 78.6
    assert result["index"] == 78.6
