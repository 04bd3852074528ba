"""Every number leads to the records behind it (issue 9): each measured figure's `records`
URL is a list page the branch manager may open, filtered to the figure's branch, days and
person, and on a small data set the list counts what the figure counts — one figure per
area at least."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from archives.models import MissingArchiveReport
from dealer_crm.choices import Role
from dealer_crm.kpis import Area, Scope, kpi_registry
from sales.choices import LeadSource, LeadStatus, LostReason
from sales.models import Lead
from tests.archives.helpers import delivered_section
from tests.care.conftest import open_complaint
from tests.factories import CustomerFactory, LeadFactory, UserFactory
from tests.fleet.helpers import protect, register
from tests.service.helpers import open_work_order

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


def measured_with_records():
    return [kpi for kpi in kpi_registry().values() if kpi.measured and kpi.records]


def count_of(response) -> int:
    return response.context["page"].paginator.count


def test_every_measured_figure_but_retention_leads_to_its_records():
    # given the registry
    # when the figures that are measured are read
    missing = {kpi.code for kpi in kpi_registry().values() if kpi.measured and not kpi.records}
    # then each has a list of its records, save retention (no list shows the customers it
    # counts) — and a figure without a measure has none to show
    assert missing == {"customers.retention"}
    assert all(not kpi.records for kpi in kpi_registry().values() if not kpi.measured)


@pytest.mark.parametrize("code", [kpi.code for kpi in measured_with_records()])
def test_a_figures_records_open_for_the_branch_manager(client, branch, branch_manager, code):
    # given a month of the branch, and the manager's own records where the figure has people's
    kpi = kpi_registry()[code]
    start = today().replace(day=1)
    client.force_login(branch_manager)
    scopes = [Scope((branch.pk,), start, today())]
    if kpi.per_person:
        scopes.append(Scope((branch.pk,), start, today(), person_id=branch_manager.pk))
    for scope in scopes:
        # when the manager follows the number
        url = kpi.records_url(scope)
        response = client.get(url)
        # then the list answers, filtered to the branch (and the person)
        assert response.status_code == 200, url
        query = parse_qs(urlsplit(url).query)
        if code not in {"customers.abnormal", "sales.showroom_traffic", "fleet.approvals_in_time"}:
            assert query["branch"] == [str(branch.pk)], url
        if scope.person_id and code != "service.technician_productivity":
            assert str(branch_manager.pk) in sum(query.values(), []), url


def test_several_branches_leave_the_branch_to_the_users_own(branch, other_branch):
    # given a scope of two branches (a group manager's)
    scope = Scope((branch.pk, other_branch.pk), today(), today())
    # when any figure's records are asked for
    urls = [kpi.records_url(scope) for kpi in measured_with_records()]
    # then no list is narrowed to one of them: each shows the user's branches
    assert not any("branch" in parse_qs(urlsplit(url).query) for url in urls)


def reading(code: str, scope: Scope):
    kpi = kpi_registry()[code]
    return kpi, kpi.value(kpi.measure(scope)[(None, "")])


def test_sales_leads_list_counts_the_leads_figure(client, branch, branch_manager, consultant):
    # given 3 leads this month (2 of the consultant's), one last month, one of another source
    # kind lost this month
    LeadFactory.create_batch(2, branch=branch, consultant=consultant)
    LeadFactory(branch=branch, source=LeadSource.PHONE)
    old = LeadFactory(branch=branch)
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    lost = LeadFactory(branch=branch, consultant=consultant)
    Lead.objects.filter(pk=lost.pk).update(
        status=LeadStatus.LOST, lost_reason=LostReason.PRICE, closed_at=timezone.now()
    )
    start = today() - timedelta(days=3)
    branch_scope = Scope((branch.pk,), start, today())
    mine = Scope((branch.pk,), start, today(), person_id=consultant.pk)
    client.force_login(branch_manager)
    for scope, expected in [(branch_scope, 4), (mine, 3)]:
        # when the leads figure and its list are read
        kpi, value = reading("sales.leads", scope)
        # then the list holds as many leads as the figure counts
        assert value == expected
        assert count_of(client.get(kpi.records_url(scope))) == expected
    # and the lost leads of the period: one
    kpi, value = reading("sales.lost_leads", branch_scope)
    assert value == 1 == count_of(client.get(kpi.records_url(branch_scope)))


def test_service_entries_list_counts_the_work_orders_opened(
    client, branch, branch_manager, advisor
):
    # given 2 work orders opened today by the advisor and one by another advisor
    other = UserFactory(roles=[Role.SERVICE_ADVISOR], branches=[branch])
    open_work_order(branch, advisor)
    open_work_order(branch, advisor)
    open_work_order(branch, other)
    client.force_login(branch_manager)
    for person, expected in [(None, 3), (advisor.pk, 2)]:
        scope = Scope((branch.pk,), today(), today(), person_id=person)
        # when the entries figure and its list are read
        kpi, value = reading("service.entries", scope)
        # then they count the same work orders
        assert value == expected
        assert count_of(client.get(kpi.records_url(scope))) == expected


def test_parts_dead_stock_list_counts_the_dead_stock_figure(client, branch, branch_manager):
    # given no stock
    scope = Scope((branch.pk,), today(), today())
    client.force_login(branch_manager)
    # when the dead stock figure and its list are read
    kpi, value = reading("parts.dead_stock_lines", scope)
    response = client.get(kpi.records_url(scope))
    # then both hold nothing (the stocked case is tests/parts/test_pages_figures.py's, whose
    # page reads this figure: tests/dealer_crm/test_figure_pages_read_registry.py)
    assert response.status_code == 200
    assert value == 0 == len(response.context["dead_stock"])
    assert kpi.records_url(scope).endswith("#dead-stock")


def test_fleet_protected_accounts_list_counts_the_figure(
    client, branch, branch_manager, fleet_manager
):
    # given 2 protected accounts and one registered only
    for name in ("甲租赁有限公司", "乙租赁有限公司"):
        account = register(branch, fleet_manager, name=name)
        protect(account, confirmed_on=today(), until=today() + timedelta(days=180))
    register(branch, fleet_manager, name="丙租赁有限公司")
    scope = Scope((branch.pk,), today(), today())
    client.force_login(branch_manager)
    # when the figure and its list are read
    kpi, value = reading("fleet.protected_accounts", scope)
    # then they count the same accounts
    assert value == 2 == count_of(client.get(kpi.records_url(scope)))


def test_archives_open_missing_reports_list_counts_the_figure(
    client, branch, branch_manager, consultant
):
    # given 2 missing-archive reports open (one overdue) and one resolved
    now = timezone.now()
    for days_ago, resolved in [(1, None), (3, None), (3, now)]:
        MissingArchiveReport.objects.create(
            branch=branch,
            section=delivered_section(branch, consultant),
            opened_at=now - timedelta(days=days_ago),
            due_by=now - timedelta(days=days_ago) + timedelta(days=2),
            resolved_at=resolved,
        )
    scope = Scope((branch.pk,), today(), today())
    client.force_login(branch_manager)
    # when the figure and its list are read
    kpi, value = reading("archives.missing_reports", scope)
    # then both count the 2 open reports
    assert value == 2 == count_of(client.get(kpi.records_url(scope)))


def test_customers_complaints_list_counts_the_complaints_received(
    client, branch, branch_manager, customer_care
):
    # given 2 complaints received today
    customer = CustomerFactory(branch=branch)
    open_complaint(branch, customer, customer_care)
    open_complaint(branch, customer, customer_care)
    scope = Scope((branch.pk,), today(), today())
    client.force_login(branch_manager)
    # when the figure and its list are read
    kpi, value = reading("customers.complaints", scope)
    # then both count them
    assert value == 2 == count_of(client.get(kpi.records_url(scope)))


def test_each_area_with_measured_figures_has_a_counted_records_test():
    # the areas above: sales, service, parts, fleet, archives, customers
    areas = {kpi.area for kpi in measured_with_records()}
    assert areas == set(Area.values) - {Area.NETWORK}
