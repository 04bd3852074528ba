"""The consultant's journey of issue 2's "Done when", in a real browser.

Log in, find a customer by the last 4 digits of a phone, see the message for a VIN with a wrong
check digit, add a vehicle with a valid VIN, switch the page to English and back, and fetch the
same customer through the API with a token.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from customers.models import Vehicle
from customers.vin import WORLD_MANUFACTURERS, vin_check_digit, vin_model_year

from .conftest import CUSTOMER_MOBILE, CUSTOMER_NAME

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/e2e-journey.png"
PLATE = "粤B12345"


def vin_with_check_digit(body: str) -> str:
    """``body`` (17 characters, anything at position 9) with its correct check digit."""
    return body[:8] + vin_check_digit(body) + body[9:]


VALID_VIN = vin_with_check_digit("LSVAU2180N2183456")  # SAIC Volkswagen, model year code N
RIGHT_DIGIT = VALID_VIN[8]
WRONG_DIGIT = "7" if RIGHT_DIGIT != "7" else "3"
WRONG_VIN = VALID_VIN[:8] + WRONG_DIGIT + VALID_VIN[9:]


def html_lang(page: Page):
    return expect(page.locator("html"))


def breadcrumb_root(page: Page):
    return page.locator("ol.breadcrumb .breadcrumb-item").first


def switch_language(page: Page, code: str) -> None:
    page.locator(f'#language-switch button[name="language"][value="{code}"]').click()
    page.wait_for_load_state()


def test_consultant_journey(page: Page, journey, live_server, browser):
    customer = journey.customer
    customer_url = f"/customers/{customer.pk}/"
    # Words a compiled zh_Hans catalogue should show; collected, reported at the end, so the
    # rest of the journey is still checked when the catalogue is missing.
    untranslated: list[str] = []

    # Given the consultant on the login page
    page.goto("/login/")
    # When they sign in
    page.fill("#id_username", journey.username)
    page.fill("#id_password", journey.password)
    page.click("#login-submit")
    # Then the home page greets them
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("main h1")).to_contain_text(journey.consultant.first_name)

    # When they type the last 4 digits of the customer's phone into the home page's search box
    search = page.locator('main input[name="search"]')
    search.fill(CUSTOMER_MOBILE[-4:])
    search.press("Enter")
    # Then the customer list shows the customer, with the phone masked for a consultant
    expect(page).to_have_url(re.compile(r"/customers/\?search=5678$"))
    row = page.locator("tbody tr", has=page.get_by_role("link", name=CUSTOMER_NAME))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("139****5678")
    # When they open it, Then the customer page shows
    row.get_by_role("link", name=CUSTOMER_NAME).click()
    expect(page).to_have_url(f"{live_server.url}{customer_url}")
    expect(page.locator("main h1")).to_contain_text(CUSTOMER_NAME)

    # When they click "Add vehicle"
    page.locator(f'a.btn[href="{customer_url}vehicles/new/"]').click()
    expect(page).to_have_url(f"{live_server.url}{customer_url}vehicles/new/")
    # And type a VIN whose check digit is wrong
    page.locator("#id_vin").fill(WRONG_VIN)
    # Then the live hint says the check digit (position 9) is wrong and which it should be
    hint = page.locator("#vin-hint-text")
    expect(hint).to_contain_text("9")
    expect(hint).to_contain_text(f"'{RIGHT_DIGIT}'")
    expect(hint).to_have_class(re.compile(r"\btext-danger\b"))

    # When they save the form with that VIN anyway
    page.locator("#id_plate").fill(PLATE)
    page.locator("main form[method=post] button[type=submit]").click()
    # Then the form comes back with the message beside the VIN field, and nothing is saved
    vin_error = page.locator("#vin-field .invalid-feedback")
    expect(vin_error).to_be_visible()
    expect(vin_error).to_contain_text("9")
    expect(vin_error).to_contain_text(f"'{RIGHT_DIGIT}'")
    expect(page.locator("#id_vin")).to_have_value(WRONG_VIN)
    assert not Vehicle.objects.filter(owner=customer).exists()

    # When they correct the VIN
    page.locator("#id_vin").fill(VALID_VIN)
    # Then the hint names the maker and the model year the VIN encodes
    expect(hint).to_have_class(re.compile(r"\btext-success\b"))
    expect(hint).to_contain_text(WORLD_MANUFACTURERS["LSV"])
    expect(hint).to_contain_text(str(vin_model_year(VALID_VIN)))
    # When they save with the plate
    page.locator("#id_plate").fill(PLATE)
    page.locator("main form[method=post] button[type=submit]").click()
    # Then the vehicle page shows the VIN, the plate and the manufacturer filled from the VIN
    expect(page).to_have_url(re.compile(r"/vehicles/\d+/$"))
    main = page.locator("main")
    expect(main.locator(".font-monospace-sm").first).to_have_text(VALID_VIN)
    expect(main.locator("h1")).to_contain_text(PLATE)
    expect(main.locator("dd").nth(1)).to_have_text("SAIC Volkswagen")
    vehicle = Vehicle.objects.get(vin=VALID_VIN)
    assert (vehicle.owner_id, vehicle.plate, vehicle.manufacturer) == (
        customer.pk,
        PLATE,
        "SAIC Volkswagen",
    )

    # Given the customer page, in Chinese (the browser asks for zh-CN)
    page.goto(customer_url)
    html_lang(page).to_have_attribute("lang", "zh-hans")
    expect(page.locator("main")).to_contain_text(VALID_VIN)
    if "客户" not in breadcrumb_root(page).inner_text():
        untranslated.append(f"Chinese breadcrumb: {breadcrumb_root(page).inner_text()!r}")
    # When they switch the page to English
    switch_language(page, "en")
    # Then the same page is in English
    expect(page).to_have_url(f"{live_server.url}{customer_url}")
    html_lang(page).to_have_attribute("lang", "en")
    expect(breadcrumb_root(page)).to_have_text("Customers")
    expect(page.locator(f'a.btn[href="{customer_url}vehicles/new/"]')).to_contain_text(
        "Add vehicle"
    )
    # When they switch back, Then it is in Chinese again
    switch_language(page, "zh-hans")
    expect(page).to_have_url(f"{live_server.url}{customer_url}")
    html_lang(page).to_have_attribute("lang", "zh-hans")
    if "客户" not in breadcrumb_root(page).inner_text():
        untranslated.append(f"Chinese breadcrumb: {breadcrumb_root(page).inner_text()!r}")
    page.screenshot(path=SCREENSHOT, full_page=True)

    # Given an API client without the browser's session
    api_context = browser.new_context(base_url=live_server.url)
    try:
        api = api_context.request
        # When it asks for a token with the consultant's username and password
        answer = api.post(
            "/api/v1/auth/token/",
            data={"username": journey.username, "password": journey.password},
        )
        assert answer.status == 200, answer.text()
        token = answer.json()["token"]
        # And fetches the customer with it
        answer = api.get(
            f"/api/v1/customers/{customer.pk}/", headers={"Authorization": f"Token {token}"}
        )
        # Then it gets the customer, the phone masked (a consultant has no view_pii), and the
        # vehicle just added
        assert answer.status == 200, answer.text()
        body = answer.json()
        assert body["name"] == CUSTOMER_NAME
        assert body["mobile"] == "139****5678"
        assert VALID_VIN in [vehicle["vin"] for vehicle in body["vehicles"]]
        # And without the token the same address is refused
        assert api.get(f"/api/v1/customers/{customer.pk}/").status in (401, 403)
    finally:
        api_context.close()

    assert not untranslated, (
        "The page switched to Chinese (html lang=zh-hans) but shows English words; is "
        f"locale/zh_Hans/LC_MESSAGES/django.mo compiled and translated? {untranslated}"
    )
