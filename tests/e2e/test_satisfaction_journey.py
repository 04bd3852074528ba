"""The branch manager's satisfaction index (层次分析法), in a real browser.

The manager creates a model and its three criteria, compares them in pairs with judgements
that contradict each other — refused, the CR on the page — then with consistent ones, which
are accepted with their weights, and activates the model. The customers reached on two
follow-up calls score its criteria, and the index of the month on the index page is the
weighted average the test computes by hand.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Browser, Page, expect

from customers.care import services
from customers.care.choices import CallOutcome
from customers.care.models import ComparisonMatrix, FollowUpCall, SatisfactionModel
from service.models import WorkOrder
from tests.archives.helpers import closed_work_order
from tests.e2e.helpers import log_in, submit

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/e2e-satisfaction-journey.png"
SCREENSHOT_EN = "/tmp/e2e-satisfaction-journey-en.png"
MODEL_NAME = "售后满意度"
CRITERIA = ["服务态度", "维修质量", "交车时效"]
# 9 × 9 above, yet 1/9 across: A ≫ B ≫ C and C ≫ A at once.
CONTRADICTORY = {"c0_1": "9", "c0_2": "1/9", "c1_2": "9"}
# Perfectly consistent: the weights 2/7, 4/7 and 1/7 (aij = wi / wj), so CR = 0.
CONSISTENT = {"c0_1": "1/2", "c0_2": "2", "c1_2": "4"}
WEIGHTS = [2 / 7, 4 / 7, 1 / 7]
# Each customer's scores (1–5) of 服务态度, 维修质量, 交车时效.
SCORES = [(5, 4, 2), (4, 3, 3)]


@dataclass
class Survey:
    manager: object
    agent: object
    calls: list[FollowUpCall]  # made today, the customers reached


@pytest.fixture
def survey(transactional_db) -> Survey:
    """A branch with its advisor, technician, care agent and manager; two work orders closed
    yesterday whose follow-up calls the agent made today, both customers reached."""
    from dealer_crm.choices import Role
    from dealer_crm.roles import roles_sync
    from tests.factories import BranchFactory, DealerGroupFactory, UserFactory

    roles_sync()  # a flush between transactional tests may have taken the role groups
    group = DealerGroupFactory(name="华通汽车集团")
    branch = BranchFactory(group=group, code="e2e-ahp", name="天河大众4S店", city="广州市")

    def staff(username: str, role: str, surname: str, given_name: str):
        return UserFactory(
            username=username, roles=[role], branches=[branch], last_name=surname,
            first_name=given_name,
        )  # fmt: skip

    advisor = staff("advisor", Role.SERVICE_ADVISOR, "黄", "伟明")
    technician = staff("technician", Role.TECHNICIAN, "赵", "强")
    agent = staff("customer_care", Role.CUSTOMER_CARE, "林", "美玲")
    manager = staff("branch_manager", Role.BRANCH_MANAGER, "周", "建华")
    for _visit in SCORES:
        work_order = closed_work_order(branch, advisor, technician)
        WorkOrder.objects.filter(pk=work_order.pk).update(
            closed_at=work_order.closed_at - timedelta(days=1)
        )
    assert services.follow_up_calls_generate() == len(SCORES)
    calls = list(FollowUpCall.objects.order_by("pk"))
    for call in calls:
        services.call_attempt_record(call=call, outcome=CallOutcome.REACHED, by=agent, score=4)
    return Survey(manager, agent, calls)


def in_chinese(message: str) -> str:
    """A label of the pages as the Chinese catalogue has it (the English until translated)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


def compare(page: Page, judgements: dict[str, str]) -> None:
    """Type the judgements above the diagonal of the top-level grid and compute."""
    grid = page.locator("#set-top")
    for cell, value in judgements.items():
        grid.locator(f"#id_mtop-{cell}").fill(value)
    submit(page, "#set-top form.matrix-form button[type=submit]")


def expected_index() -> float:
    """Each criterion's average score on 0–100, (s − 1) / 4 × 100, weighted by its weight."""
    averages = [sum(scores[i] for scores in SCORES) / len(SCORES) for i in range(len(CRITERIA))]
    return sum(w * (average - 1) / 4 * 100 for w, average in zip(WEIGHTS, averages, strict=True))


def test_a_manager_defines_compares_and_activates_a_model_and_reads_the_index(
    browser: Browser, live_server, survey: Survey
):
    # The manager starts a new model from the satisfaction page: none exists yet.
    manager = log_in(browser, live_server, "branch_manager")
    manager.goto("/care/satisfaction/")
    expect(manager.locator("#models-empty")).to_be_visible()
    with manager.expect_navigation():
        manager.click("#new-model")
    manager.fill("#id_name", MODEL_NAME)
    submit(manager, "#model-submit")
    model = SatisfactionModel.objects.get()
    assert (model.name, model.active, model.created_by) == (MODEL_NAME, False, survey.manager)
    expect(manager.locator("h1")).to_contain_text(MODEL_NAME)
    expect(manager.locator("#model-status")).to_have_text(in_chinese("Draft"))

    # It has three criteria, added one by one; activating waits for their comparisons.
    for name in CRITERIA:
        manager.fill("#id_name", name)
        submit(manager, "#criterion-submit")
    expect(manager.locator("#criteria-tree .criterion")).to_have_count(len(CRITERIA))
    expect(manager.locator("#activate-button")).to_be_disabled()
    expect(manager.locator("#set-top .matrix-missing")).to_be_visible()

    # Contradictory judgements are refused, the CR said; nothing is saved.
    compare(manager, CONTRADICTORY)
    values = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]
    _weights, _lambda_max, _ci, cr = services.ahp_priorities(values)
    assert cr >= services.CR_LIMIT
    refused = manager.locator("#set-top .matrix-refused")
    expect(refused).to_be_visible()
    expect(refused.locator(".refused-cr")).to_have_text(f"CR {round(cr, 4):.3f}")
    expect(refused).to_contain_text(f"{cr:.3f}")
    expect(manager.locator("#id_mtop-c0_2")).to_have_value("1/9")  # kept to correct
    assert not ComparisonMatrix.objects.exists()

    # Consistent ones are accepted: the weights are 2/7, 4/7 and 1/7, and CR is 0.
    compare(manager, CONSISTENT)
    matrix = ComparisonMatrix.objects.get(model=model, parent=None)
    assert matrix.cr == 0 and matrix.entered_by == survey.manager
    assert [round(weight, 4) for weight in matrix.weights] == [round(w, 4) for w in WEIGHTS]
    expect(manager.locator(".alert-success")).to_contain_text("0.000")
    result = manager.locator("#set-top .matrix-result")
    expect(result.locator(".weight")).to_have_text([f"{w:.3f}" for w in WEIGHTS])
    expect(manager.locator("#set-top .matrix-cr")).to_have_text("CR 0.000")
    expect(manager.locator("#set-top .matrix-refused")).to_have_count(0)

    # The manager activates it, after confirming in the dialog.
    manager.click("#activate-button")
    expect(manager.locator("#activate-modal")).to_be_visible()
    submit(manager, "#activate-confirm")
    model.refresh_from_db()
    assert model.active and model.activated_at is not None
    expect(manager.locator("#model-status")).to_have_text(in_chinese("Active"))
    expect(manager.locator("#criteria-fixed")).to_be_visible()

    # The agent records the two customers' surveys against the model's criteria.
    criteria = {criterion.name: criterion.pk for criterion in model.criteria.all()}
    for call, scores in zip(survey.calls, SCORES, strict=True):
        services.survey_answers_record(
            call=call,
            answers={criteria[name]: score for name, score in zip(CRITERIA, scores, strict=True)},
            by=survey.agent,
        )

    # The index of this month is the weighted average of the criteria's scores.
    index = f"{expected_index():.1f}"
    assert index == "66.1"
    manager.goto("/care/satisfaction/index/")
    expect(manager.locator("#index-value")).to_have_text(index)
    rows = manager.locator("#index-criteria .criterion-score")
    expect(rows).to_have_count(len(CRITERIA))
    for name, weight in zip(CRITERIA, WEIGHTS, strict=True):
        expect(rows.filter(has_text=name)).to_contain_text(f"{weight:.3f}")
    expect(manager.locator("#index-branches")).to_contain_text(index)
    expect(manager.locator("#index-period")).to_contain_text(
        timezone.localdate().replace(day=1).isoformat()
    )
    manager.screenshot(path=SCREENSHOT, full_page=True)

    # The satisfaction page shows this month's index of the branch too.
    manager.goto("/care/satisfaction/")
    expect(manager.locator(".month-branch")).to_contain_text(index)
    expect(manager.locator(f"#model-{model.pk}")).to_contain_text(in_chinese("Active"))

    # In English, the same page says so in English.
    submit(manager, "#language-switch button[value='en']")
    expect(manager.locator(f"#model-{model.pk} .model-status")).to_have_text("Active")
    expect(manager.locator(".month-branch")).to_contain_text(index)
    manager.screenshot(path=SCREENSHOT_EN, full_page=True)
