"""The figures dashboards: each role's figures for the period from the nightly snapshots, last
year's and the change coloured by the figure's direction, targets and attainment, branches
side by side for the group manager, numbers leading to their records, a role switch, and a
fixed number of queries whatever the branches or the days."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from dealer_crm.choices import Role
from dealer_crm.kpis import add_months, kpi_get
from dealer_crm.models import KpiSnapshot, KpiTarget
from dealer_crm.periods import LOCAL_TIME_ZONE
from dealer_crm.views import format_figure
from tests.factories import BranchFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
YESTERDAY = TODAY - timedelta(days=1)
START = YESTERDAY - timedelta(days=9)


def snap(branch, day, code, numerator, denominator=None, person=None, key=""):
    return KpiSnapshot.objects.create(
        branch=branch, day=day, code=code, numerator=numerator, denominator=denominator,
        person=person, key=key,
    )  # fmt: skip


def period(start=START, end=YESTERDAY, **extra) -> dict:
    return {"period": "custom", "start": start.isoformat(), "end": end.isoformat(), **extra}


def table_row(response, area: str, name: str) -> list:
    (table,) = [t for t in response.context["tables"] if t.key == area]
    (row,) = [r for r in table.rows if r[0].text == name]
    return row


def test_values_are_formatted_by_unit():
    assert format_figure(kpi_get("service.entries"), Decimal("1280")) == "1,280"
    assert format_figure(kpi_get("sales.closing_rate"), Decimal("0.455")) == "45.5%"
    assert format_figure(kpi_get("sales.closing_rate"), Decimal("0.02"), signed=True) == "+2.0 pt"
    assert format_figure(kpi_get("service.revenue_per_entry"), Decimal("1280.5")) == "¥1,280.50"
    assert format_figure(kpi_get("service.entries"), None) == "—"


def test_the_branch_manager_reads_the_periods_figures_with_last_year_and_the_target(
    client, branch, other_branch, branch_manager
):
    last_year = add_months(START, -12)
    for offset in range(10):
        snap(branch, START + timedelta(days=offset), "service.entries", 3)  # 30 this year
        snap(branch, last_year + timedelta(days=offset), "service.entries", 4)  # 40 last year
    snap(other_branch, YESTERDAY, "service.entries", 100)  # not the manager's branch
    snap(branch, YESTERDAY, "sales.lost_leads", 2)
    snap(branch, add_months(YESTERDAY, -12), "sales.lost_leads", 5)
    snap(branch, TODAY, "service.entries", 50)  # today is not closed yet: never read
    client.force_login(branch_manager)

    response = client.get("/figures/", period())

    assert response.status_code == 200
    assert response.context["view"] == "branch"
    entries = table_row(response, "service", str(kpi_get("service.entries").name))
    assert [cell.text for cell in entries[1:4]] == ["30", "40", "-10"]
    assert entries[3].css == "text-danger"  # fewer entries: worse
    lost = table_row(response, "sales", str(kpi_get("sales.lost_leads").name))
    assert [cell.text for cell in lost[1:4]] == ["2", "5", "-3"]
    assert lost[3].css == "text-success"  # fewer lost leads: better
    records = kpi_get("service.entries").records
    if records:  # every number with a list of records behind it leads there
        assert entries[1].url and escape(entries[1].url) in response.content.decode()


def test_a_months_target_gives_the_attainment(client, branch, branch_manager):
    month = YESTERDAY.replace(day=1)
    snap(branch, YESTERDAY, "service.entries", 30)
    KpiTarget.objects.create(branch=branch, code="service.entries", month=month, value=120)
    client.force_login(branch_manager)

    response = client.get("/figures/", period(start=month))

    entries = table_row(response, "service", str(kpi_get("service.entries").name))
    assert [cell.text for cell in entries[4:6]] == ["120", "25%"]


def test_the_group_manager_sees_the_branches_side_by_side_and_their_total(
    client, branch, other_branch, group_manager
):
    snap(branch, YESTERDAY, "service.entries", 7)
    snap(other_branch, YESTERDAY, "service.entries", 5)
    snap(branch, YESTERDAY, "sales.closing_rate", 1, 4)
    snap(other_branch, YESTERDAY, "sales.closing_rate", 3, 4)
    client.force_login(group_manager)

    response = client.get("/figures/", period())

    assert response.context["view"] == "group"
    (service,) = [t for t in response.context["tables"] if t.key == "service"]
    # In the branches' order of code: panyu, tianhe.
    assert service.columns[1:4] == [other_branch.name, branch.name, "Group total"]
    entries = table_row(response, "service", str(kpi_get("service.entries").name))
    assert [cell.text for cell in entries[1:4]] == ["5", "7", "12"]
    closing = table_row(response, "sales", str(kpi_get("sales.closing_rate").name))
    assert [cell.text for cell in closing[1:4]] == ["75.0%", "25.0%", "50.0%"]


def test_a_user_with_several_roles_switches_dashboards(client, branch):
    user = UserFactory(
        username="both", roles=[Role.BRANCH_MANAGER, Role.SALES_CONSULTANT], branches=[branch]
    )
    snap(branch, YESTERDAY, "sales.deliveries", 9)
    snap(branch, YESTERDAY, "sales.deliveries", 2, person=user)
    client.force_login(user)

    manager = client.get("/figures/", period())
    mine = client.get("/figures/", period(view="consultant"))

    assert [b[0] for b in manager.context["boards"]] == ["branch", "consultant"]
    assert 'id="dashboard-switch"' in manager.content.decode()
    name = str(kpi_get("sales.deliveries").name)
    assert table_row(manager, "sales", name)[1].text == "9"
    row = table_row(mine, "sales", name)
    assert (row[1].text, row[2].text) == ("Mine", "2")


def test_role_dashboards_show_the_roles_own_figures(client, branch, advisor, parts_clerk):
    client.force_login(advisor)
    response = client.get("/figures/", period())
    assert [t.key for t in response.context["tables"]][0] == "service"
    assert "parts" not in [t.key for t in response.context["tables"]]
    client.force_login(parts_clerk)
    response = client.get("/figures/", period())
    assert [t.key for t in response.context["tables"]] == ["parts"]


def test_without_a_figure_to_read_the_dashboard_is_refused(client, branch):
    client.force_login(UserFactory(username="nobody", roles=[], branches=[branch]))
    assert client.get("/figures/").status_code == 403


def _queries(client, url, query) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, query).status_code == 200
    return len(queries)


def test_the_group_dashboard_issues_a_fixed_number_of_queries(client, branch, group_manager):
    client.force_login(group_manager)
    for offset in range(5):
        snap(branch, YESTERDAY - timedelta(days=offset), "service.entries", 1)
    client.get("/figures/", period())  # warm the caches (sessions, content types)
    few = _queries(client, "/figures/", period())
    for number in range(3):
        BranchFactory(group=branch.group, code=f"extra{number}", name=f"Extra {number}")
    for offset in range(5, 50):
        snap(branch, YESTERDAY - timedelta(days=offset), "service.entries", 1)
    many = _queries(client, "/figures/", period(start=YESTERDAY - timedelta(days=60)))
    assert few == many
    assert many <= 20


def test_the_branch_dashboard_issues_a_fixed_number_of_queries(client, branch, branch_manager):
    client.force_login(branch_manager)
    snap(branch, YESTERDAY, "service.entries", 1, person=branch_manager)
    client.get("/figures/", period())
    few = _queries(client, "/figures/", period())
    for offset in range(1, 50):
        snap(branch, YESTERDAY - timedelta(days=offset), "service.entries", 1)
        snap(branch, YESTERDAY - timedelta(days=offset), "service.entries", 1,
             person=branch_manager)  # fmt: skip
    many = _queries(client, "/figures/", period(start=YESTERDAY - timedelta(days=60)))
    assert few == many
    assert many <= 20
