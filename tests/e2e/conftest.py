"""Browser tests: the system Chromium driven by Playwright against pytest-django's live server.

Chromium is looked up in CHROMIUM_PATH (when set, it is the only place looked at), then
/usr/bin/chromium, then chromium / chromium-browser on the PATH. Without one the tests skip,
except under CI=true, where a missing browser is a failure. Playwright never downloads a
browser of its own here.
"""

import os
import shutil
from dataclasses import dataclass

import pytest

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse the
# ORM calls the fixtures and the live server make from it.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

MISSING_BROWSER = "Browser tests need Chromium (apt-get install chromium); none was found."
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CONSULTANT_USERNAME = "consultant"
CONSULTANT_PASSWORD = "E2e-journey-2026"
CUSTOMER_NAME = "王建国"
CUSTOMER_MOBILE = "13912345678"


def _executable(path: str | None) -> str | None:
    return path if path and os.path.isfile(path) and os.access(path, os.X_OK) else None


def chromium_path() -> str | None:
    """The Chromium to drive, or None. A CHROMIUM_PATH that does not exist means none."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return _executable(configured)
    return (
        _executable("/usr/bin/chromium")
        or _executable(shutil.which("chromium"))
        or _executable(shutil.which("chromium-browser"))
    )


def _no_browser(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if executable is None:
        _no_browser(MISSING_BROWSER)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("Browser tests need the playwright package (pip install '.[test]').")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh tab whose browser asks for Chinese, as a dealership's staff's browsers do."""
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1366, "height": 900}
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


@dataclass
class Journey:
    branch: object
    consultant: object
    customer: object
    username: str = CONSULTANT_USERNAME
    password: str = CONSULTANT_PASSWORD


@pytest.fixture
def journey(transactional_db) -> Journey:
    """A dealer group, a branch, a sales consultant of it, and one customer of the branch."""
    from django.contrib.auth.models import Group, User

    from customers.services import customer_create
    from dealer_crm.choices import Role
    from dealer_crm.models import Branch, DealerGroup, Staff
    from dealer_crm.roles import roles_sync

    roles_sync()  # a flush between transactional tests may have taken the role groups
    group = DealerGroup.objects.create(name="华通汽车集团")
    branch = Branch.objects.create(
        group=group, code="e2e-tianhe", name="天河大众4S店", city="广州市"
    )
    user = User.objects.create_user(
        CONSULTANT_USERNAME, password=CONSULTANT_PASSWORD, first_name="嘉豪", last_name="陈"
    )
    user.groups.add(Group.objects.get(name=Role.SALES_CONSULTANT))
    Staff.objects.create(user=user).branches.add(branch)
    customer = customer_create(
        branch=branch,
        by=user,
        data={"name": CUSTOMER_NAME, "mobile": CUSTOMER_MOBILE, "consultant": user},
    )
    return Journey(branch=branch, consultant=user, customer=customer)
