"""The fleet manager's journey of issue 6's "Done when", in a real browser.

The fleet manager registers a rental company and records its buying centre; the sales manager
confirms it, protecting it for the branch. The fleet manager records this year's agreement with
its volume tiers, creates a deal for 30 vehicles and asks for a discount, which the sales
manager approves, and the deal is won. The first batch of 15 is priced on the first tier at a
price per vehicle, which makes 15 signed sales orders. One is delivered through the sales order
pages — a vehicle in stock that passed its PDI allocated, the price paid, invoiced, handed over
— the other 14 through the sales services; the deal page counts the 15 and the support is
settled. The second batch of 15 is priced on the higher tier the first batch reached, while
the first keeps its own. The settlement statement shows both. A fleet manager of the sister
branch then tries to register the same company and is refused, without being told which
branch protects it.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from fleet.choices import AccountClass, BuyingRole, DealStage, ProtectionStatus, RequestStatus
from fleet.models import DiscountRequest, FleetAccount, FleetDeal
from sales import services as sales_services
from sales.choices import OrderStatus, StockStatus
from tests.e2e.helpers import log_in, submit
from tests.factories import vin
from tests.fleet.helpers import delivered

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/e2e-fleet-journey.png"
RENTAL_NAME = "广州畅行汽车租赁有限公司"
RENTAL_CODE = "91350100M000100Y43"  # the GB 32100 example
UNIT_PRICE = "109200"  # 朗逸 1.5L 舒适版, the approved discount taken


@dataclass
class FleetDepartment:
    branch: object
    other_branch: object
    fleet_manager: object
    sales_manager: object
    rival: object  # the sister branch's fleet manager


@pytest.fixture
def department(transactional_db) -> FleetDepartment:
    """Two branches of a group: a fleet manager and a sales manager in one, a fleet manager in
    the other."""
    from dealer_crm.choices import Role
    from dealer_crm.roles import roles_sync
    from tests.factories import BranchFactory, DealerGroupFactory, UserFactory

    roles_sync()  # a flush between transactional tests may have taken the role groups
    group = DealerGroupFactory(name="华通汽车集团")
    branch = BranchFactory(group=group, code="e2e-fleet", name="天河大众4S店", city="广州市")
    other = BranchFactory(group=group, code="e2e-panyu", name="番禺大众4S店", city="广州市")

    def staff(username: str, role: str, branch, surname: str, given_name: str):
        return UserFactory(
            username=username, roles=[role], branches=[branch], last_name=surname,
            first_name=given_name,
        )  # fmt: skip

    return FleetDepartment(
        branch=branch,
        other_branch=other,
        fleet_manager=staff("fleet_manager", Role.FLEET_MANAGER, branch, "刘", "建华"),
        sales_manager=staff("sales_manager", Role.SALES_MANAGER, branch, "李", "志强"),
        rival=staff("fleet_manager_panyu", Role.FLEET_MANAGER, other, "周", "明"),
    )


def open_panel(page: Page, panel: str) -> None:
    """Unfold a collapsed form panel."""
    if not page.locator(f"#{panel}").is_visible():
        page.click(f"[data-bs-target='#{panel}']")
        expect(page.locator(f"#{panel}")).to_be_visible()


def register(page: Page, name: str, code: str) -> None:
    page.goto("/fleet/accounts/new/")
    page.fill("#id_name", name)
    page.select_option("#id_account_class", AccountClass.RENTAL)
    page.fill("#id_credit_code", code)
    submit(page, "#account-save")


def price_batch(page: Page, deal: FleetDeal, agreement_pk: int, units: int) -> None:
    """Price a batch of the deal's model at the agreed price per vehicle."""
    page.goto(f"/fleet/deals/{deal.pk}/")
    open_panel(page, "price-panel")
    page.select_option("#price-panel #id_line", str(deal.lines.get().pk))
    page.fill("#price-panel #id_quantity", str(units))
    page.fill("#price-panel #id_unit_price", UNIT_PRICE)
    page.select_option("#price-panel #id_agreement", str(agreement_pk))
    # One signed sales order per vehicle, each with its history: more than a plain form.
    submit(page, "#price-batch", timeout=30_000)


def test_a_fleet_manager_wins_a_rental_company_and_settles_its_first_batch(
    browser: Browser, live_server, department: FleetDepartment
):
    fleet = log_in(browser, live_server, "fleet_manager")

    # The fleet manager registers the rental company for the branch...
    register(fleet, RENTAL_NAME, RENTAL_CODE.lower())
    account = FleetAccount.objects.get(credit_code=RENTAL_CODE)
    assert (account.branch, account.status) == (department.branch, ProtectionStatus.REGISTERED)
    assert account.account_manager == department.fleet_manager
    expect(fleet.locator("h1")).to_contain_text(RENTAL_NAME)

    # ...and records its buying centre: who decides and who uses the cars.
    people = [
        ("周志明", "总经理", BuyingRole.DECISION_MAKER, "13800138000"),
        ("黄小燕", "车管主管", BuyingRole.USER, "13926481357"),
    ]
    for name, title, role, phone in people:
        open_panel(fleet, "member-panel")
        fleet.fill("#member-form #id_name", name)
        fleet.fill("#member-form #id_title", title)
        fleet.select_option("#member-form #id_role", role)
        fleet.select_option("#member-form #id_attitude", "supporter")
        fleet.fill("#member-form #id_phone", phone)
        submit(fleet, "#member-save")
    expect(fleet.locator("#account-buying-centre")).to_contain_text("周志明")
    expect(fleet.locator("#account-buying-centre")).to_contain_text("黄小燕")
    assert set(account.buying_centre.values_list("role", flat=True)) == {
        BuyingRole.DECISION_MAKER,
        BuyingRole.USER,
    }

    # The sales manager confirms it: protected for the branch for three months.
    manager = log_in(browser, live_server, "sales_manager")
    manager.goto(f"/fleet/accounts/{account.pk}/")
    submit(manager, "#account-confirm")
    account.refresh_from_db()
    assert account.status == ProtectionStatus.PROTECTED
    expect(manager.locator("#protected-until")).to_contain_text(account.protected_until.isoformat())

    # This year's agreement, signed today, with its volume tiers.
    fleet.goto(f"/fleet/accounts/{account.pk}/")
    open_panel(fleet, "agreement-panel")
    fleet.fill("#agreement-form #id_agreed_units", "30")
    fleet.fill("#agreement-form #id_terms", "年度采购 30 台，按累计交车分档支持")
    submit(fleet, "#agreement-save")
    agreement = account.agreements.get()
    tiers = [("1", "10", "2000"), ("11", "30", "3000"), ("31", "", "4000")]
    for row, (first_unit, last_unit, support) in enumerate(tiers):
        fleet.fill(f"#id_bands-{row}-from_units", first_unit)
        fleet.fill(f"#id_bands-{row}-to_units", last_unit)
        fleet.fill(f"#id_bands-{row}-support_per_unit", support)
    submit(fleet, "#tier-save")
    assert [band.support_per_unit for band in agreement.bands.all()] == [
        Decimal("2000.00"), Decimal("3000.00"), Decimal("4000.00"),
    ]  # fmt: skip
    expect(fleet.locator("#agreement-tiers tbody tr")).to_have_count(3)

    # A deal for 30 vehicles, and a discount asked for it.
    fleet.goto(f"/fleet/deals/new/?account={account.pk}")
    fleet.fill("#id_title", "畅行租赁年度车队更新")
    fleet.fill("#id_competitors", "丰田雷凌、日产轩逸")
    fleet.fill("#id_expected_value", "3300000")
    fleet.fill("#id_lines-0-brand", "大众")
    fleet.fill("#id_lines-0-series", "朗逸")
    fleet.fill("#id_lines-0-configuration", "1.5L 舒适版")
    fleet.fill("#id_lines-0-quantity", "30")
    submit(fleet, "#deal-save")
    deal = FleetDeal.objects.get(account=account)
    assert [(line.brand, line.series, line.quantity) for line in deal.lines.all()] == [
        ("大众", "朗逸", 30)
    ]
    open_panel(fleet, "discount-panel")
    fleet.fill("#discount-panel #id_discount_per_unit", "800")
    fleet.fill("#discount-panel #id_units", "30")
    fleet.fill("#discount-panel #id_justification", "竞品报价低 1,000 元/台")
    submit(fleet, "#request-discount")
    discount = DiscountRequest.objects.get(deal=deal)
    assert discount.status == RequestStatus.PENDING

    # The sales manager approves it from the deal's page.
    manager.goto(f"/fleet/deals/{deal.pk}/")
    submit(manager, f"#discount-request-{discount.pk} button[name='approve'][value='1']")
    discount.refresh_from_db()
    assert (discount.status, discount.decided_by) == (
        RequestStatus.APPROVED,
        department.sales_manager,
    )

    # With the discount the company signs: the deal is won.
    fleet.goto(f"/fleet/deals/{deal.pk}/")
    fleet.select_option("#stage-panel #id_stage", DealStage.WON)
    fleet.fill("#stage-panel #id_reason", "折扣获批，价格胜出")
    submit(fleet, "#stage-save")
    deal.refresh_from_db()
    assert deal.stage == DealStage.WON
    expect(fleet.locator("#deal-closed")).to_contain_text("折扣获批，价格胜出")

    # The first batch of 15 is priced on the first tier: 15 signed sales orders at its price.
    price_batch(fleet, deal, agreement.pk, 15)
    first = deal.orders.get()
    assert (first.units_before, first.support_per_unit) == (0, Decimal("2000.00"))
    orders = first.sales_orders.order_by("pk")
    assert [(order.status, order.total_price) for order in orders] == [
        (OrderStatus.SIGNED, Decimal(UNIT_PRICE))
    ] * 15
    batch = fleet.locator(f"#batch-{first.pk}")
    expect(batch).to_contain_text("109,200.00")
    expect(batch.locator(".batch-orders")).to_have_text("0 / 15")

    # A car of the model arrived in stock and passed its PDI.
    today = timezone.localdate()
    car = sales_services.stock_vehicle_create(
        branch=department.branch, by=department.sales_manager,
        data={"vin": vin(901), "brand": "大众", "series": "朗逸", "configuration": "1.5L 舒适版",
              "colour": "珍珠白", "model_year": today.year, "list_price": Decimal("119900"),
              "status": StockStatus.IN_STOCK, "arrival_date": today - timedelta(days=3)},
    )  # fmt: skip
    sales_services.stock_vehicle_record_pdi(
        stock_vehicle=car, by=department.sales_manager, done_on=today - timedelta(days=2)
    )

    # The fleet manager follows the batch to its sales orders and delivers the first one: the
    # car allocated, the price paid, the invoice recorded, every check done and paper handed.
    with fleet.expect_navigation():
        batch.locator(".batch-orders").click()
    expect(fleet.locator("#fleet-batch-filter")).to_be_visible()
    expect(fleet.locator("table tbody tr")).to_have_count(15)
    order = orders.first()
    with fleet.expect_navigation():
        fleet.click(f"a[href$='/sales/orders/{order.pk}/']")
    fleet.select_option("#allocate-panel select", str(car.pk))
    submit(fleet, "#order-allocate")
    fleet.locator('[data-bs-target="#payment-panel"]').first.click()
    fleet.select_option("#payment-panel select[name=kind]", "final")
    fleet.fill("#payment-panel input[name=amount]", UNIT_PRICE)
    fleet.fill("#payment-panel input[name=paid_on]", today.isoformat())
    submit(fleet, "#payment-save")
    expect(fleet.locator("#order-outstanding")).to_have_text("0.00")
    fleet.fill("#invoice-panel input[name=invoice_number]", "44005678")
    submit(fleet, "#order-invoice")
    with fleet.expect_navigation():
        fleet.click("#order-deliver")
    for box in fleet.locator("#delivery-form input[type=checkbox]").all():
        box.check()
    submit(fleet, "#delivery-save")
    order.refresh_from_db()
    assert (order.status, order.stock_vehicle_id) == (OrderStatus.DELIVERED, car.pk)

    # Back on the deal from the order, the delivery is counted toward the batch.
    with fleet.expect_navigation():
        fleet.click("#order-fleet-batch")
    expect(fleet.locator(f"#batch-{first.pk} .batch-orders")).to_have_text("1 / 15")
    first.refresh_from_db()
    assert first.delivered_units == 1

    # The other 14 are delivered in sales too; the deal page counts all 15, and the support
    # they earned is settled.
    first = delivered(first, department.fleet_manager)
    assert first.delivered_units == first.sales_orders.filter(status=OrderStatus.DELIVERED).count()
    fleet.goto(f"/fleet/deals/{deal.pk}/")
    expect(fleet.locator(f"#batch-{first.pk} .batch-orders")).to_have_text("15 / 15")
    settle = f"form[action$='/orders/{first.pk}/settle/']"
    fleet.fill(f"{settle} input[name='settle-{first.pk}-amount']", "30000")
    submit(fleet, f"{settle} button[type='submit']")
    first.refresh_from_db()
    assert (first.delivered_units, first.support_settled) == (15, Decimal("30000.00"))

    # The second batch of 15 takes the higher tier the first batch reached; the first keeps its.
    price_batch(fleet, deal, agreement.pk, 15)
    second = deal.orders.exclude(pk=first.pk).get()
    first.refresh_from_db()
    assert (second.units_before, second.support_per_unit) == (15, Decimal("3000.00"))
    assert first.support_per_unit == Decimal("2000.00")
    expect(fleet.locator(f"#batch-{first.pk} .batch-support")).to_contain_text("2,000.00")
    expect(fleet.locator(f"#batch-{first.pk}")).to_contain_text("1–10")
    expect(fleet.locator(f"#batch-{second.pk} .batch-support")).to_contain_text("3,000.00")
    expect(fleet.locator(f"#batch-{second.pk}")).to_contain_text("11–30")
    expect(fleet.locator(f"#batch-{second.pk} .batch-orders")).to_have_text("0 / 15")
    assert second.sales_orders.filter(status=OrderStatus.SIGNED).count() == 15

    # The settlement statement: support due on the delivered batch, settled, nothing open.
    with fleet.expect_navigation():
        fleet.click("#statement-link")
    expect(fleet.locator(f"#statement-batch-{first.pk}")).to_contain_text("30,000.00")
    expect(fleet.locator(f"#statement-batch-{second.pk}")).to_contain_text("3,000.00")
    expect(fleet.locator("#statement-totals")).to_contain_text("30,000.00")
    expect(fleet.locator("#statement-open")).to_have_text("0.00")
    fleet.screenshot(path=SCREENSHOT, full_page=True)

    # The sister branch's fleet manager tries to register the same company: refused beside
    # the credit code, without being told which branch protects it.
    rival = log_in(browser, live_server, "fleet_manager_panyu")
    register(rival, "畅行租赁", RENTAL_CODE)
    code_field = rival.locator("div.mb-3", has=rival.locator("#id_credit_code"))
    expect(code_field.locator(".invalid-feedback")).to_be_visible()
    expect(rival.locator("#account-form")).not_to_contain_text(department.branch.name)
    assert list(FleetAccount.objects.values_list("branch", flat=True)) == [department.branch.pk]
