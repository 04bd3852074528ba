"""The parts clerk's journey of issue 4's "Done when", in a real browser.

The clerk receives a purchase order that arrives one line short: the checklist filled, every
line ticked, the receipt put away (the new part given a free bin) and registered. Two oil
filters go over the counter: the voucher checked, picked, checked again and handed over. Zone
A is frozen and counted with one spark plug missing, and the count approved. The stock ledger
then shows the receipt, the counter sale and the stocktake loss, and the parts figures the
parts used and the stocktake's accuracy.
"""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, expect

from parts.choices import (
    IssueStatus,
    MoveKind,
    OrderKind,
    PartClass,
    PurchaseOrderStatus,
    ReceiptStatus,
    StocktakeStatus,
    Unit,
)
from parts.models import PartIssue, PartStock, PurchaseOrder, Receipt, StockMove, Stocktake
from tests.e2e.helpers import log_in

pytestmark = pytest.mark.browser

PASSWORD = "E2e-parts-2026"
SCREENSHOT = "/tmp/e2e-parts-journey.png"


@dataclass
class Stockroom:
    branch: object
    clerk: object
    oil_filter: object  # in bin A-01-1, five on the shelf
    spark_plug: object  # new to the branch: no bin yet
    order: PurchaseOrder  # placed: ten oil filters and eight spark plugs


@pytest.fixture
def stockroom(transactional_db) -> Stockroom:
    """A branch's stockroom with its parts clerk, bins in zone A, an oil filter on the shelf,
    and a purchase order placed with the supplier for oil filters and spark plugs."""
    from django.contrib.auth.models import Group, User

    from dealer_crm.choices import Role
    from dealer_crm.models import Branch, DealerGroup, Staff
    from dealer_crm.roles import roles_sync
    from parts import services

    roles_sync()
    group = DealerGroup.objects.create(name="华通汽车集团")
    branch = Branch.objects.create(
        group=group, code="e2e-parts", name="天河大众4S店", city="广州市"
    )
    clerk = User.objects.create_user(
        "parts_clerk", password=PASSWORD, last_name="吴", first_name="晓军"
    )
    clerk.groups.add(Group.objects.get(name=Role.PARTS_CLERK))
    Staff.objects.create(user=clerk).branches.add(branch)

    supplier = services.supplier_create(
        by=clerk, data={"name": "上汽大众配件中心", "lead_time_days": 5}
    )

    def part(number: str, name: str, price: str):
        return services.part_create(
            by=clerk,
            data={
                "number": number,
                "name": name,
                "classification": PartClass.MAINTENANCE,
                "unit": Unit.PIECE,
                "price": Decimal(price),
                "supplier": supplier,
            },
        )

    oil_filter = part("06L115562B", "机油滤清器", "68.00")
    spark_plug = part("06K905601B", "火花塞", "95.00")
    bins = [
        services.bin_create(
            branch=branch, by=clerk, data={"zone": "A", "shelf": "01", "level": lvl}
        )
        for lvl in ("1", "2", "3")
    ]
    services.bin_assign(branch=branch, part=oil_filter, bin=bins[0], by=clerk)
    services.stock_move_post(
        branch=branch, part=oil_filter, kind=MoveKind.RECEIPT, amount=Decimal(5),
        unit_cost=Decimal("40.00"), by=clerk, document="期初", reason="期初库存",
    )  # fmt: skip
    order = services.purchase_order_create(
        branch=branch,
        supplier=supplier,
        kind=OrderKind.STOCK,
        lines=[
            {"part": oil_filter, "quantity": Decimal(10), "unit_cost": Decimal("45.00")},
            {"part": spark_plug, "quantity": Decimal(8), "unit_cost": Decimal("60.00")},
        ],
        by=clerk,
    )
    order = services.purchase_order_place(purchase_order=order, by=clerk)
    return Stockroom(branch, clerk, oil_filter, spark_plug, order)


def stock_of(stockroom: Stockroom, part) -> PartStock:
    return PartStock.objects.select_related("bin").get(branch=stockroom.branch, part=part)


def test_a_parts_clerk_receives_issues_and_counts(
    browser: Browser, live_server, stockroom: Stockroom
):
    clerk = log_in(browser, live_server, "parts_clerk", PASSWORD)
    order = stockroom.order
    oil_line, plug_line = order.lines.order_by("pk")

    # Before: no stocktake approved this month, nothing used.
    clerk.goto("/parts/figures/")
    expect(clerk.locator("#figure-stocktake_accuracy .figure-value")).to_have_text("—")

    # The delivery arrives: the clerk opens the order and fills the checklist. Two boxes, as
    # on the delivery note, packaging intact; all ten oil filters, but six spark plugs of eight.
    clerk.goto(f"/parts/purchase-orders/{order.pk}/")
    clerk.click("#order-receive")
    clerk.wait_for_url(f"**/parts/purchase-orders/{order.pk}/receive/")
    clerk.fill("#id_delivery_note", "DN20260318-07")
    clerk.fill("#id_boxes_expected", "2")
    clerk.fill("#id_boxes_counted", "2")
    clerk.check("#receipt-boxes input[name=packaging_intact][value=yes]")
    clerk.fill(f"#id_line-{oil_line.pk}-received_quantity", "10")
    clerk.fill(f"#id_line-{plug_line.pk}-received_quantity", "6")
    clerk.fill(f"#id_line-{plug_line.pk}-note", "欠 2，供应商下批补发")
    for box in clerk.locator("#receipt-lines input[type=checkbox]").all():
        box.check()
    clerk.click("#receipt-save")
    clerk.wait_for_url("**/parts/receipts/*/")
    receipt = Receipt.objects.get(purchase_order=order)
    assert receipt.status == ReceiptStatus.CHECKED
    short = receipt.lines.get(part=stockroom.spark_plug)
    assert (short.expected_quantity, short.received_quantity) == (8, 6)

    # Put away: the spark plugs have no bin at the branch yet, so the clerk picks a free one;
    # then the receipt is registered (入库登记).
    clerk.select_option(f"#put-away-form select[name=bin-{short.pk}]", label="A-01-2")
    clerk.click("#receipt-register")
    clerk.wait_for_load_state()
    receipt.refresh_from_db()
    order.refresh_from_db()
    assert receipt.status == ReceiptStatus.REGISTERED
    assert order.status == PurchaseOrderStatus.PARTLY_RECEIVED
    assert stock_of(stockroom, stockroom.oil_filter).on_hand == 15
    plugs = stock_of(stockroom, stockroom.spark_plug)
    assert plugs.on_hand == 6 and str(plugs.bin) == "A-01-2"

    # A customer buys two oil filters over the counter: a voucher, then its four steps.
    clerk.goto("/parts/issues/new/")
    clerk.select_option("#issue-kind", "counter_sale")
    clerk.fill("#id_recipient", "王建国")
    clerk.fill("#id_lines-0-part", stockroom.oil_filter.number)
    clerk.fill("#id_lines-0-quantity", "2")
    clerk.click("#issue-save")
    clerk.wait_for_url("**/parts/issues/*/")
    issue = PartIssue.objects.get(branch=stockroom.branch)
    assert issue.status == IssueStatus.REQUESTED
    for step in ["checked", "picked", "rechecked", "handed_over"]:
        if step == "handed_over":  # handing over asks to confirm
            clerk.once("dialog", lambda dialog: dialog.accept())
        clerk.click("#issue-next-step")
        clerk.wait_for_load_state()
        issue.refresh_from_db()
        assert issue.status == step
    assert stock_of(stockroom, stockroom.oil_filter).on_hand == 13

    # The stocktake of zone A: frozen, counted on the count page — one spark plug missing —
    # and approved.
    clerk.goto("/parts/stocktakes/new/")
    clerk.check("#stocktake-form input[name=scope][value=zone]")
    clerk.select_option("#id_zone", "A")
    clerk.click("#stocktake-start")
    clerk.wait_for_url("**/parts/stocktakes/*/count/")  # starting opens the count page
    stocktake = Stocktake.objects.get(branch=stockroom.branch)
    lines = {line.part_id: line for line in stocktake.lines.all()}
    assert set(lines) == {stockroom.oil_filter.pk, stockroom.spark_plug.pk}
    clerk.fill(f"#count-{lines[stockroom.oil_filter.pk].pk}", "13")
    clerk.fill(f"#count-{lines[stockroom.spark_plug.pk].pk}", "5")
    clerk.click("#count-save-all")
    clerk.wait_for_load_state()
    assert stocktake.lines.filter(counted_quantity__isnull=True).count() == 0
    clerk.goto(f"/parts/stocktakes/{stocktake.pk}/")
    expect(clerk.locator("#total-losses")).to_contain_text("60.00")
    clerk.once("dialog", lambda dialog: dialog.accept())
    clerk.click("#stocktake-approve")
    clerk.wait_for_load_state()
    stocktake.refresh_from_db()
    assert stocktake.status == StocktakeStatus.POSTED
    assert stock_of(stockroom, stockroom.spark_plug).on_hand == 5

    # The stock ledger shows the receipt, the counter sale and the stocktake loss.
    clerk.goto("/parts/moves/")
    ledger = clerk.locator("#move-table")
    expect(ledger).to_contain_text(receipt.number)
    expect(ledger).to_contain_text(issue.number)
    expect(ledger).to_contain_text(stocktake.number)
    kinds = set(StockMove.objects.filter(branch=stockroom.branch).values_list("kind", flat=True))
    assert {MoveKind.RECEIPT, MoveKind.COUNTER_SALE, MoveKind.STOCKTAKE_LOSS} <= kinds

    # The parts figures changed: two filters used at their moving-average cost of 43.33, all
    # requested lines served from stock, one of two stocktake lines right.
    clerk.goto("/parts/figures/")
    expect(clerk.locator("#figure-cost_used .figure-value")).to_contain_text("86.67")
    expect(clerk.locator("#figure-fill_rate .figure-value")).to_have_text("100.0%")
    expect(clerk.locator("#figure-stocktake_accuracy .figure-value")).to_have_text("50.0%")
    clerk.screenshot(path=SCREENSHOT, full_page=True)
