"""What every browser journey does: sign a user in, in a tab of their own that asks for
Chinese as a dealership's browsers do, and submit a form."""

from playwright.sync_api import Browser, Page

from tests.factories.platform import DEFAULT_PASSWORD


def log_in(browser: Browser, live_server, username: str, password: str = DEFAULT_PASSWORD) -> Page:
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1366, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-submit")
    page.wait_for_load_state()
    return page


def submit(page: Page, selector: str, *, timeout: float | None = None) -> None:
    """Click a button that posts a form, and wait for the page it leads to (a form that
    makes many documents at once may be given longer than the tab's default)."""
    with page.expect_navigation(timeout=timeout):
        page.click(selector)
