"""The branch manager's figures of issue 9, in a real browser.

Three leads came into the branch yesterday and two on the same day a year ago; the nightly
snapshots hold both days (the backfill command wrote yesterday's, the snapshot job last
year's). The manager opens the dashboard: this period's leads are 3, last year's 2, one more
and green. The number leads to the list of those three leads. Back on the dashboard, the
manager reads it in English and downloads the sales table as CSV.
"""

import csv
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone, translation
from playwright.sync_api import Browser, Page, expect

from dealer_crm.kpis import Area, Scope, add_months, closed_end, kpi_get, kpi_snapshots_compute
from dealer_crm.models import KpiSnapshot
from dealer_crm.periods import LOCAL_TIME_ZONE, local_day_start
from sales.choices import LeadSource
from sales.models import Lead
from tests.e2e.helpers import log_in, submit

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/e2e-dashboard-journey.png"
SCREENSHOT_EN = "/tmp/e2e-dashboard-journey-en.png"
LEADS = "sales.leads"


@dataclass
class Figures:
    branch: object
    manager: object
    yesterdays: list[Lead]  # the leads the figure counts this period
    year_ago: object  # the day a year before yesterday


@pytest.fixture
def figures(transactional_db) -> Figures:
    """A branch with its manager and a consultant; three leads yesterday, two a year before,
    one today (not closed yet) and one of another branch yesterday (not the manager's); the
    snapshots of yesterday and of the day a year before, as the nightly job leaves them."""
    from dealer_crm.choices import Role
    from dealer_crm.roles import roles_sync
    from tests.factories import BranchFactory, DealerGroupFactory, LeadFactory, UserFactory

    roles_sync()  # a flush between transactional tests may have taken the role groups
    group = DealerGroupFactory(name="华通汽车集团")
    branch = BranchFactory(group=group, code="e2e-figures", name="天河大众4S店", city="广州市")
    other = BranchFactory(group=group, code="e2e-other", name="番禺大众4S店", city="广州市")
    manager = UserFactory(
        username="branch_manager", roles=[Role.BRANCH_MANAGER], branches=[branch],
        last_name="周", first_name="建华",
    )  # fmt: skip
    consultant = UserFactory(
        username="consultant", roles=[Role.SALES_CONSULTANT], branches=[branch],
        last_name="陈", first_name="嘉豪",
    )  # fmt: skip

    today = timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
    yesterday, year_ago = today - timedelta(days=1), add_months(today - timedelta(days=1), -12)

    def leads(day, sources, *, of=branch):
        noon = local_day_start(day) + timedelta(hours=12)
        return [
            LeadFactory(
                branch=of,
                consultant=consultant,
                source=source,
                created_at=noon + timedelta(minutes=n),
            )
            for n, source in enumerate(sources)
        ]

    yesterdays = leads(yesterday, [LeadSource.WALK_IN, LeadSource.WALK_IN, LeadSource.PHONE])
    leads(year_ago, [LeadSource.WALK_IN, LeadSource.PHONE])
    leads(today, [LeadSource.WALK_IN])
    leads(yesterday, [LeadSource.PHONE], of=other)

    day = yesterday.isoformat()
    call_command("kpi_backfill", start=day, end=day, branch=branch.code, verbosity=0)
    kpi_snapshots_compute(day=year_ago, branch=branch, codes=[LEADS])
    assert KpiSnapshot.objects.get(
        branch=branch, day=yesterday, code=LEADS, person=None, key=""
    ).numerator == len(yesterdays)  # fmt: skip
    return Figures(branch, manager, yesterdays, year_ago)


def in_chinese(text) -> str:
    """A label as the Chinese page shows it: a lazy text, or a source string to translate."""
    with translation.override("zh-hans"):
        return translation.gettext(text) if isinstance(text, str) else str(text)


def figure_row(page: Page, area: str, name: str):
    return page.locator(f"#table-{area} tbody tr", has_text=name)


def test_a_branch_manager_follows_a_figure_to_its_records_and_exports_it(
    browser: Browser, live_server, figures: Figures
):
    kpi = kpi_get(LEADS)
    today = timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
    last = closed_end(today, today)  # yesterday: the dashboard reads the closed days
    start = (last if today.day == 1 else today).replace(day=1)  # this month, or last month
    records = kpi.records_url(Scope((figures.branch.pk,), start, last))
    assert records

    # The dashboard: this month up to last night, compared with the same days last year.
    manager = log_in(browser, live_server, "branch_manager")
    manager.goto("/figures/")
    expect(manager.locator("h1")).to_have_text(in_chinese("Figures"))
    period = manager.locator("#figures-period")
    expect(period).to_contain_text(f"{start:%Y-%m-%d} – {last:%Y-%m-%d}")
    expect(period).to_contain_text(figures.branch.name)
    expect(period).to_contain_text(f"{add_months(last, -12):%Y-%m-%d}")
    expect(manager.locator("#table-sales h2")).to_have_text(in_chinese(Area.SALES.label))

    # Yesterday's 3 leads (today's is not closed yet, the other branch's not the manager's),
    # last year's 2, one more: better, so green.
    row = figure_row(manager, "sales", in_chinese(kpi.name))
    expect(row).to_have_count(1)
    cells = row.locator("td")
    value = cells.nth(1).locator("a.figure-link")
    expect(value).to_have_text("3")
    expect(value).to_have_attribute("href", records)
    expect(cells.nth(2)).to_have_text("2")
    expect(cells.nth(3)).to_have_text("+1")
    expect(cells.nth(3)).to_have_class(re.compile(r"\btext-success\b"))
    expect(manager.locator("canvas#trend-sales")).to_be_visible()
    manager.screenshot(path=SCREENSHOT, full_page=True)

    # The number leads to the list of those leads: three, yesterday's of the branch.
    with manager.expect_navigation():
        value.click()
    assert manager.url.endswith(records)
    listed = manager.locator("#lead-table tbody tr")
    expect(listed).to_have_count(len(figures.yesterdays))
    for lead in figures.yesterdays:
        expect(listed.filter(has_text=lead.name)).to_have_count(1)

    # Back on the dashboard, in English.
    manager.go_back()
    submit(manager, "#language-switch button[value='en']")
    expect(manager.locator("html")).to_have_attribute("lang", "en")
    expect(manager.locator("h1")).to_have_text("Figures")
    expect(manager.locator("#table-sales h2")).to_have_text("Sales")
    expect(manager.locator("#table-sales thead th").nth(2)).to_have_text("Last year")
    row = figure_row(manager, "sales", "Leads by source")
    expect(row.locator("td").nth(1)).to_have_text("3")
    manager.screenshot(path=SCREENSHOT_EN, full_page=True)

    # The sales table to CSV: its header and the leads' row, as the page shows them.
    with manager.expect_download() as download:
        manager.click("#table-sales a.export-csv")
    assert download.value.suggested_filename == (
        f"figures-branch-{start:%Y%m%d}-{last:%Y%m%d}-sales.csv"
    )
    with open(download.value.path(), encoding="utf-8-sig", newline="") as exported:
        header, first = list(csv.reader(exported))[:2]
    assert header == ["Figure", "Value", "Last year", "Change", "Target", "Attainment"]
    assert first == ["Leads by source", "3", "2", "+1", "—", "—"]
    manager.context.close()
