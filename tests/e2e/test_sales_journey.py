"""The sales journey of issue 3's "Done when", in a real browser.

A prospect sends the branch website's enquiry form; the sales manager assigns the lead; the
consultant verifies it, logs the visit, books and completes a test drive and quotes with a
discount above the branch's limit; the manager approves it; the consultant sends the quote,
makes and signs the order, allocates the VIN, takes the payment, invoices and delivers. The
car is then on the customer's page and the delivery in the manager's funnel figures.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from sales.choices import LeadStatus, OrderStatus, QuoteStatus, StockStatus, TestDriveStatus
from sales.models import Lead, Order, Quote, StockVehicle, TestDrive
from tests.e2e.helpers import log_in

pytestmark = pytest.mark.browser

PASSWORD = "E2e-sales-2026"
PROSPECT, MOBILE = "林晓峰", "13823456789"
LICENCE = "11010519491231002X"
SCREENSHOT = "/tmp/e2e-sales-journey.png"


@dataclass
class Showroom:
    branch: object
    consultant: object
    manager: object
    demo_car: StockVehicle
    car: StockVehicle


@pytest.fixture
def showroom(transactional_db) -> Showroom:
    """A branch with a consultant and a sales manager, a demo car, and a car in stock that
    passed its pre-delivery inspection."""
    from django.contrib.auth.models import Group, User

    from dealer_crm.choices import Role
    from dealer_crm.models import Branch, DealerGroup, Staff
    from dealer_crm.roles import roles_sync
    from sales import services
    from tests.factories import vin

    roles_sync()
    group = DealerGroup.objects.create(name="华通汽车集团")
    branch = Branch.objects.create(
        group=group, code="e2e-sales", name="天河大众4S店", city="广州市", phone="020-38862288"
    )

    def staff(username: str, role: str, surname: str, given: str):
        user = User.objects.create_user(
            username, password=PASSWORD, last_name=surname, first_name=given
        )
        user.groups.add(Group.objects.get(name=role))
        Staff.objects.create(user=user).branches.add(branch)
        return user

    consultant = staff("consultant", Role.SALES_CONSULTANT, "陈", "嘉豪")
    manager = staff("sales_manager", Role.SALES_MANAGER, "李", "志强")
    arrived = timezone.localdate() - timedelta(days=10)
    stock = {
        "brand": "大众",
        "series": "途观L",
        "colour": "珍珠白",
        "list_price": Decimal("229900"),
        "arrival_date": arrived,
    }
    demo_car = services.stock_vehicle_create(
        branch=branch, by=manager, data={"vin": vin(701), "status": StockStatus.DEMO, **stock}
    )
    car = services.stock_vehicle_create(
        branch=branch, by=manager, data={"vin": vin(702), "status": StockStatus.IN_STOCK, **stock}
    )
    car = services.stock_vehicle_record_pdi(stock_vehicle=car, by=manager, done_on=arrived)
    return Showroom(branch, consultant, manager, demo_car, car)


def local_input(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_website_lead_walks_to_delivery(browser: Browser, live_server, showroom: Showroom):
    today = timezone.localdate()

    # A prospect sends the enquiry form of the branch's website.
    visitor = browser.new_page(base_url=live_server.url, locale="zh-CN")
    visitor.goto(f"/sales/enquiry/{showroom.branch.code}/")
    visitor.fill("#id_name", PROSPECT)
    visitor.fill("#id_mobile", MOBILE)
    visitor.fill("#id_model_of_interest", "途观L")
    visitor.select_option("#id_buying_when", "week")
    visitor.check("#id_consent")
    visitor.click("#enquiry-submit")
    expect(visitor.locator("#enquiry-thanks")).to_be_visible()
    lead = Lead.objects.get(mobile=MOBILE)
    assert lead.consultant is None

    # The sales manager, told by a notification, assigns the lead to the consultant.
    manager = log_in(browser, live_server, "sales_manager", PASSWORD)
    manager.goto("/notifications/")
    manager.locator('button[formaction$="/read/"]').first.click()
    manager.wait_for_url(f"**/sales/leads/{lead.pk}/")
    manager.locator('[data-bs-target="#assign-modal"]').click()
    manager.select_option("#assign-modal select[name=consultant]", str(showroom.consultant.pk))
    manager.locator("#assign-modal button[type=submit]").click()
    manager.wait_for_load_state()
    lead.refresh_from_db()
    assert lead.consultant == showroom.consultant

    # The consultant verifies it by phone and logs the showroom visit.
    consultant = log_in(browser, live_server, "consultant", PASSWORD)
    consultant.goto(f"/sales/leads/{lead.pk}/")
    consultant.click("#verify-button")
    consultant.click("#verify-confirm")
    consultant.wait_for_load_state()
    consultant.select_option("#log-activity select[name=kind]", "visit")
    consultant.select_option("#log-activity select[name=outcome]", "reached")
    consultant.locator("#log-activity button[type=submit]").click()
    consultant.wait_for_load_state()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VISITED

    # A test drive in the demo car, booked for the half hour that just began, then done.
    consultant.goto(f"/sales/leads/{lead.pk}/test-drives/new/")
    start = timezone.now() - timedelta(minutes=5)
    consultant.select_option("#id_demo_vehicle", str(showroom.demo_car.pk))
    consultant.fill("#id_driver_name", PROSPECT)
    consultant.fill("#id_driver_licence_number", LICENCE)
    consultant.fill("#id_route", "天河路—体育西路 8 公里")
    consultant.fill("#id_starts_at", local_input(start))
    consultant.fill("#id_ends_at", local_input(start + timedelta(minutes=30)))
    consultant.check("#id_agreement_signed")
    consultant.locator("#test-drive-form button[type=submit]").click()
    consultant.wait_for_url("**/sales/test-drives/*/")
    consultant.fill("#complete textarea[name=feedback]", "空间大，油耗可以接受")
    consultant.locator("#complete button[type=submit]").click()
    consultant.wait_for_load_state()
    assert TestDrive.objects.get(lead=lead).status == TestDriveStatus.DONE

    # A quote with 8,000 CNY off: above the branch's 3,000 limit, so it goes for approval.
    consultant.goto(f"/sales/leads/{lead.pk}/quotes/new/")
    consultant.fill("#id_brand", "大众")
    consultant.fill("#id_series", "途观L")
    consultant.fill("#id_list_price", "229900")
    consultant.fill("#id_discount", "8000")
    consultant.fill("#id_insurance_price", "6800")
    consultant.fill("#id_registration_fee", "500")
    expect(consultant.locator("#discount-hint")).to_be_visible()
    consultant.click("#quote-save")
    consultant.wait_for_url("**/sales/quotes/*/")
    quote = Quote.objects.get(lead=lead)
    assert quote.total == Decimal("229200.00") and quote.needs_approval
    consultant.locator('[data-bs-target="#submit-panel"]').click()
    consultant.click("#quote-submit")
    consultant.wait_for_load_state()
    expect(consultant.locator("#quote-send")).to_have_count(0)

    # The manager approves the discount.
    manager.goto(f"/sales/quotes/{quote.pk}/")
    manager.click("#quote-approve")
    manager.wait_for_load_state()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED

    # The consultant sends the quote, and the customer signs the order.
    consultant.goto(f"/sales/quotes/{quote.pk}/")
    consultant.click("#quote-send")
    consultant.wait_for_load_state()
    consultant.click("#quote-create-order")
    consultant.locator("#customer-choices input[type=radio]").last.check()
    consultant.click("#order-create")
    consultant.wait_for_url("**/sales/orders/*/")
    order = Order.objects.get(quote=quote)
    consultant.check("#sign-panel input[type=checkbox]")
    consultant.click("#order-sign")
    consultant.wait_for_load_state()

    # The VIN in stock is allocated, the full price paid, the invoice recorded.
    consultant.select_option("#allocate-panel select", str(showroom.car.pk))
    consultant.click("#order-allocate")
    consultant.wait_for_load_state()
    consultant.locator('[data-bs-target="#payment-panel"]').first.click()
    consultant.select_option("#payment-panel select[name=kind]", "final")
    consultant.fill("#payment-panel input[name=amount]", "229200")
    consultant.fill("#payment-panel input[name=paid_on]", today.isoformat())
    consultant.click("#payment-save")
    consultant.wait_for_load_state()
    consultant.fill("#invoice-panel input[name=invoice_number]", "44001234")
    consultant.click("#order-invoice")
    consultant.wait_for_load_state()
    order.refresh_from_db()
    assert order.status == OrderStatus.INVOICED

    # The delivery: every check done, every document handed over.
    consultant.click("#order-deliver")
    for box in consultant.locator("#delivery-form input[type=checkbox]").all():
        box.check()
    consultant.click("#delivery-save")
    consultant.wait_for_url(f"**/sales/orders/{order.pk}/")
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED

    # The car is on the customer's page...
    consultant.click("#delivered-vehicle")
    consultant.goto(f"/customers/{order.customer_id}/")
    expect(consultant.locator("body")).to_contain_text(showroom.car.vin)
    expect(consultant.locator("body")).to_contain_text(PROSPECT)

    # ...and in the manager's funnel: one lead, taken all the way to delivery.
    manager.goto("/sales/funnel/?period=this_month")
    figures = manager.locator("#funnel-table tfoot td a")
    expect(figures.first).to_have_text("1")
    expect(figures.nth(6)).to_have_text("1")
    manager.screenshot(path=SCREENSHOT, full_page=True)
