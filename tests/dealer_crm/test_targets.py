"""Monthly targets: set by a manager of the branch for the figures that take them, positive,
for a whole month, a rate's a share; changing one keeps its history; others may not."""

from datetime import date
from decimal import Decimal

import pytest

from dealer_crm.errors import DomainError
from dealer_crm.models import KpiTarget
from dealer_crm.targets import kpi_target_delete, kpi_target_set

pytestmark = pytest.mark.django_db
MONTH = date(2026, 3, 1)


def test_a_manager_sets_and_changes_a_target_with_history(branch, branch_manager):
    kpi_target_set(by=branch_manager, branch=branch, code="service.entries", month=MONTH,
                   value="120")  # fmt: skip
    target = kpi_target_set(by=branch_manager, branch=branch, code="service.entries",
                            month=MONTH, value="150")  # fmt: skip

    assert KpiTarget.objects.get().value == Decimal("150")
    assert [h.value for h in target.history.order_by("history_date")] == [120, 150]
    assert target.history.first().history_user == branch_manager
    kpi_target_delete(by=branch_manager, target=target)
    assert not KpiTarget.objects.exists()


@pytest.mark.parametrize(
    ("code", "month", "value", "error"),
    [
        ("sales.leads", MONTH, "10", "target_figure_without_targets"),
        ("service.entries", date(2026, 3, 2), "10", "target_month_not_first_day"),
        ("service.entries", MONTH, "0", "target_not_positive"),
        ("service.entries", MONTH, "-5", "target_not_positive"),
        ("archives.completeness", MONTH, "99", "target_share_above_one"),
    ],
)
def test_a_target_is_refused_when_it_breaks_a_rule(branch, branch_manager, code, month, value,
                                                   error):  # fmt: skip
    with pytest.raises(DomainError) as refused:
        kpi_target_set(by=branch_manager, branch=branch, code=code, month=month, value=value)
    assert refused.value.code == error
    assert not KpiTarget.objects.exists()


def test_a_branch_outside_ones_scope_is_refused(other_branch, branch_manager):
    with pytest.raises(DomainError) as refused:
        kpi_target_set(by=branch_manager, branch=other_branch, code="service.entries",
                       month=MONTH, value="10")  # fmt: skip
    assert refused.value.code == "target_branch_out_of_scope"


def test_the_targets_page_sets_a_target_and_lists_it(client, branch, branch_manager):
    client.force_login(branch_manager)
    response = client.post("/figures/targets/?month=2026-03", {
        "code": "service.entries", "branch": branch.pk, "month": "2026-03", "value": "80",
    })  # fmt: skip
    assert response.status_code == 302
    page = client.get("/figures/targets/", {"month": "2026-03"})
    assert [cell.text for cell in page.context["table"].rows[0]][-1] == "80"
    refused = client.post("/figures/targets/", {
        "code": "service.entries", "branch": branch.pk, "month": "2026-03", "value": "-1",
    })  # fmt: skip
    assert refused.status_code == 200 and "positive" in refused.content.decode()


def test_only_managers_read_and_set_targets(client, branch, consultant, group_manager):
    client.force_login(consultant)
    assert client.get("/figures/targets/").status_code == 403
    client.force_login(group_manager)
    assert client.get("/figures/targets/").status_code == 200
