"""The printable monthly report of a branch: every figure of the month against last year and
the target, for managers, of their own branches only."""

from datetime import timedelta

import pytest

from dealer_crm.kpis import add_months
from dealer_crm.models import KpiSnapshot, KpiTarget

pytestmark = pytest.mark.django_db


def test_the_monthly_report_shows_the_month_against_last_year_and_target(
    client, branch, other_branch, branch_manager
):
    from django.utils import timezone

    from dealer_crm.periods import LOCAL_TIME_ZONE

    month = add_months(timezone.localdate(timezone.now(), LOCAL_TIME_ZONE).replace(day=1), -1)
    for day in (month, month + timedelta(days=20)):
        KpiSnapshot.objects.create(branch=branch, day=day, code="service.entries", numerator=5)
    KpiSnapshot.objects.create(branch=branch, day=add_months(month, -12),
                               code="service.entries", numerator=4)  # fmt: skip
    KpiSnapshot.objects.create(branch=other_branch, day=month, code="service.entries",
                               numerator=99)  # fmt: skip
    KpiTarget.objects.create(branch=branch, code="service.entries", month=month, value=20)
    client.force_login(branch_manager)

    response = client.get("/figures/monthly/", {"branch": other_branch.pk,
                                                "month": f"{month:%Y-%m}"})  # fmt: skip

    assert response.status_code == 200
    assert response.context["branch"] == branch  # not a branch of theirs: their own
    (service,) = [t for t in response.context["tables"] if t.key == "service"]
    (row,) = [r for r in service.rows if r[0].text.startswith("Entries")]
    assert [cell.text for cell in row[1:]] == ["10", "4", "+6", "20", "50%"]
    assert b"window.print()" in response.content


def test_the_monthly_report_is_for_managers(client, branch, consultant):
    client.force_login(consultant)
    assert client.get("/figures/monthly/").status_code == 403
