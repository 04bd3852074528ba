"""The parts API's documents: purchase orders, receipts and their registration, issue vouchers
through their steps, returns, lost sales, reorder suggestions and emergency orders for a
customer — with bad input refused and nothing changed, and replays done once."""

from decimal import Decimal

import pytest
from django.utils import timezone

from parts import services
from parts.choices import (
    EmergencyStatus,
    IssueKind,
    IssueStatus,
    MoveKind,
    PurchaseOrderStatus,
    ReceiptStatus,
    SuggestionStatus,
)
from parts.models import (
    EmergencyOrder,
    LostSale,
    PartIssue,
    PartStock,
    PurchaseOrder,
    Receipt,
    ReorderSuggestion,
    StockMove,
)
from tests.factories import BinFactory, CustomerFactory, PartFactory, SupplierFactory
from tests.factories.parts import placed_purchase_order, stocked
from tests.parts.helpers import delivered, set_levels, voucher, walk

pytestmark = pytest.mark.django_db

API = "/api/v1/"
ORDERS = f"{API}purchase-orders/"
RECEIPTS = f"{API}receipts/"
ISSUES = f"{API}part-issues/"
TODAY = timezone.localdate()


def on_hand(branch, part) -> Decimal:
    stock = PartStock.objects.filter(branch=branch, part=part).first()
    return stock.on_hand if stock else Decimal(0)


def reserved(branch, part) -> Decimal:
    return PartStock.objects.get(branch=branch, part=part).reserved


# --- purchase orders -------------------------------------------------------------------------


def test_clerk_drafts_places_and_cancels_a_purchase_order(api_as, parts_clerk, branch):
    # given a supplier and two parts
    supplier, plug, oil = SupplierFactory(), PartFactory(), PartFactory(unit="litre")
    client = api_as(parts_clerk)
    # when the clerk drafts an order with two lines, places it and cancels it
    created = client.post(
        ORDERS,
        {"supplier": supplier.pk, "lines": [
            {"part": plug.pk, "quantity": "10", "unit_cost": "30.00"},
            {"part": oil.pk, "quantity": "4.5", "unit_cost": "80.00"},
        ]},
    )  # fmt: skip
    order_id = created.json()["id"]
    placed = client.post(f"{ORDERS}{order_id}/place/")
    unexplained = client.post(f"{ORDERS}{order_id}/cancel/", {"reason": " "})
    cancelled = client.post(f"{ORDERS}{order_id}/cancel/", {"reason": "供应商缺货"})
    # then the draft is worked out, placed, and cancelled only with a reason
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["status"], body["branch"], body["total"]) == ("draft", branch.pk, "660.00")
    assert [line["quantity"] for line in body["lines"]] == ["10.000", "4.500"]
    assert placed.json()["status"] == "ordered" and placed.json()["ordered_at"]
    assert unexplained.status_code == 400 and unexplained.json()["code"] == "reason_required"
    assert cancelled.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("quantity", "code"),
    [
        ("2.5", "quantity_not_whole"),
        ("-1", "quantity_not_positive"),
        ("0", "quantity_not_positive"),
    ],
)
def test_a_bad_quantity_for_a_piece_part_orders_nothing(api_as, parts_clerk, quantity, code):
    response = api_as(parts_clerk).post(
        ORDERS,
        {"supplier": SupplierFactory().pk,
         "lines": [{"part": PartFactory().pk, "quantity": quantity}]},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not PurchaseOrder.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": []}, "code"),
        ({"lines": [{"part": 999999, "quantity": "1"}]}, "lines"),
        ({"lines": [{"quantity": "1"}]}, "lines"),
        ({"lines": "plugs"}, "lines"),
        ({"kind": "urgent", "lines": []}, "kind"),
        ({"supplier": None, "lines": []}, "supplier"),
    ],
    ids=["no-lines", "unknown-part", "no-part", "not-a-list", "unknown-kind", "no-supplier"],
)
def test_a_bad_purchase_order_is_refused(api_as, parts_clerk, body, field):
    response = api_as(parts_clerk).post(ORDERS, {"supplier": SupplierFactory().pk, **body})
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not PurchaseOrder.objects.exists()


def test_a_purchase_order_created_twice_with_one_key_is_made_once(api_as, parts_clerk):
    client = api_as(parts_clerk)
    body = {"supplier": SupplierFactory().pk, "lines": [{"part": PartFactory().pk, "quantity": 1}]}
    first = client.post(ORDERS, body, HTTP_IDEMPOTENCY_KEY="po-1")
    again = client.post(ORDERS, body, HTTP_IDEMPOTENCY_KEY="po-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert PurchaseOrder.objects.count() == 1


# --- receipts --------------------------------------------------------------------------------


@pytest.fixture
def plug():
    return PartFactory(number="06H905601A")


@pytest.fixture
def placed_order(branch, parts_clerk, plug):
    return placed_purchase_order(branch, parts_clerk, [(plug, 10, "30.00")])


def receipt_payload(order, received="8", **extra) -> dict:
    return {
        "purchase_order": order.pk,
        "boxes_expected": 2,
        "boxes_counted": 2,
        "packaging_intact": True,
        "lines": [
            {"order_line": order.lines.get().pk, "received_quantity": received, "checked": True}
        ],
        **extra,
    }


def test_receiving_checks_then_registers_into_stock(
    api_as, parts_clerk, branch, plug, placed_order
):
    # given a placed order for 10 plugs and a free bin
    client, place = api_as(parts_clerk), BinFactory(branch=branch)
    # when 8 arrive, are checked, and put away to the bin
    checked = client.post(RECEIPTS, receipt_payload(placed_order))
    receipt_id, line_id = checked.json()["id"], checked.json()["lines"][0]["id"]
    before = on_hand(branch, plug)
    registered = client.post(
        f"{RECEIPTS}{receipt_id}/register/", {"bins": [{"line": line_id, "bin": place.pk}]}
    )
    # then the receipt notes the shortfall, nothing is in stock until registered, and then 8 are
    assert checked.status_code == 201, checked.json()
    assert checked.json()["lines"][0]["discrepancies"] == ["short"]
    assert before == 0
    assert registered.status_code == 200, registered.json()
    assert registered.json()["status"] == ReceiptStatus.REGISTERED
    assert on_hand(branch, plug) == 8
    placed_order.refresh_from_db()
    assert placed_order.status == PurchaseOrderStatus.PARTLY_RECEIVED
    assert PartStock.objects.get(branch=branch, part=plug).bin == place


def test_an_unchecked_line_is_refused(api_as, parts_clerk, placed_order):
    payload = receipt_payload(placed_order)
    payload["lines"][0]["checked"] = False
    response = api_as(parts_clerk).post(RECEIPTS, payload)
    assert response.status_code == 400 and response.json()["code"] == "line_not_checked"
    # the refusal names the line's part, so a client can mark that line
    assert response.json()["part_number"] == placed_order.lines.get().part.number
    assert not Receipt.objects.exists()


def test_receiving_against_a_closed_order_is_a_conflict(api_as, parts_clerk, placed_order):
    # given a cancelled order
    services.purchase_order_cancel(purchase_order=placed_order, by=parts_clerk, reason="缺货")
    # when a delivery is checked against it
    response = api_as(parts_clerk).post(RECEIPTS, receipt_payload(placed_order))
    # then it is refused as closed and no receipt exists
    assert response.status_code == 409
    assert response.json()["code"] == "purchase_order_closed"
    assert not Receipt.objects.exists()


def test_a_fractional_count_of_a_piece_part_is_refused(api_as, parts_clerk, placed_order):
    response = api_as(parts_clerk).post(RECEIPTS, receipt_payload(placed_order, received="7.5"))
    assert response.status_code == 400
    assert response.json()["code"] == "quantity_not_whole"
    assert not Receipt.objects.exists()


def test_a_receipt_sent_twice_with_one_key_is_checked_once(api_as, parts_clerk, placed_order):
    # given a receipt request sent, and sent again after a timeout with the same key
    client = api_as(parts_clerk)
    first = client.post(RECEIPTS, receipt_payload(placed_order), HTTP_IDEMPOTENCY_KEY="gr-7")
    again = client.post(RECEIPTS, receipt_payload(placed_order), HTTP_IDEMPOTENCY_KEY="gr-7")
    # then one receipt exists and the replay says so
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Receipt.objects.count() == 1


def test_registering_without_a_bin_for_a_new_part_is_refused(
    api_as, parts_clerk, branch, plug, placed_order
):
    receipt_id = api_as(parts_clerk).post(RECEIPTS, receipt_payload(placed_order)).json()["id"]
    response = api_as(parts_clerk).post(f"{RECEIPTS}{receipt_id}/register/", {})
    assert response.status_code == 400 and response.json()["code"] == "bin_required"
    assert response.json()["part_number"] == plug.number
    assert on_hand(branch, plug) == 0
    assert Receipt.objects.get().status == ReceiptStatus.CHECKED


def test_registering_into_a_bin_taken_by_another_part_changes_nothing(
    api_as, parts_clerk, branch, plug, placed_order
):
    # given a bin already holding another part
    taken = BinFactory(branch=branch)
    stocked(branch, PartFactory(), parts_clerk, 1, bin=taken)
    client = api_as(parts_clerk)
    checked = client.post(RECEIPTS, receipt_payload(placed_order)).json()
    # when the receipt is registered into it
    response = client.post(
        f"{RECEIPTS}{checked['id']}/register/",
        {"bins": [{"line": checked["lines"][0]["id"], "bin": taken.pk}]},
    )
    # then the bin is taken, and nothing was put in stock
    assert response.status_code == 409 and response.json()["code"] == "bin_taken"
    assert on_hand(branch, plug) == 0
    assert Receipt.objects.get().status == ReceiptStatus.CHECKED


def test_registering_names_only_lines_of_the_receipt(api_as, parts_clerk, branch, placed_order):
    receipt_id = api_as(parts_clerk).post(RECEIPTS, receipt_payload(placed_order)).json()["id"]
    response = api_as(parts_clerk).post(
        f"{RECEIPTS}{receipt_id}/register/",
        {"bins": [{"line": 999999, "bin": BinFactory(branch=branch).pk}]},
    )
    assert response.status_code == 400 and "bins" in response.json()
    assert Receipt.objects.get().status == ReceiptStatus.CHECKED


def test_a_receipt_registered_twice_is_a_conflict(api_as, parts_clerk, branch, plug, placed_order):
    stocked(branch, plug, parts_clerk, 1, bin=BinFactory(branch=branch))
    client = api_as(parts_clerk)
    receipt_id = client.post(RECEIPTS, receipt_payload(placed_order)).json()["id"]
    client.post(f"{RECEIPTS}{receipt_id}/register/", {})
    again = client.post(f"{RECEIPTS}{receipt_id}/register/", {})
    assert again.status_code == 409 and again.json()["code"] == "receipt_registered"
    assert on_hand(branch, plug) == 9


def test_a_partly_received_order_is_closed_short(api_as, parts_clerk, branch, plug, placed_order):
    stocked(branch, plug, parts_clerk, 1, bin=BinFactory(branch=branch))
    client = api_as(parts_clerk)
    receipt_id = client.post(RECEIPTS, receipt_payload(placed_order)).json()["id"]
    client.post(f"{RECEIPTS}{receipt_id}/register/", {})
    closed = client.post(f"{ORDERS}{placed_order.pk}/close/", {"reason": "余货停产"})
    late = client.post(RECEIPTS, receipt_payload(placed_order, received="2"))
    assert closed.json()["status"] == PurchaseOrderStatus.RECEIVED
    assert late.status_code == 409 and late.json()["code"] == "purchase_order_closed"


# --- issue vouchers ---------------------------------------------------------------------------


def issue_payload(part, quantity="2", **extra) -> dict:
    return {
        "kind": "work_order",
        "work_order_reference": "WO-2026-0012",
        "recipient": "李师傅",
        "lines": [{"part": part.pk, "quantity": quantity}],
        **extra,
    }


@pytest.fixture
def shelf(branch, parts_clerk, plug):
    """Five plugs on the shelf."""
    return stocked(branch, plug, parts_clerk, 5, bin=BinFactory(branch=branch))


def test_an_issue_is_reserved_then_stepped_through_to_hand_over(
    api_as, parts_clerk, branch, plug, shelf
):
    client = api_as(parts_clerk)
    # when a voucher for 2 plugs is made and taken through its steps
    created = client.post(ISSUES, issue_payload(plug))
    issue_id = created.json()["id"]
    reserved_after_create = reserved(branch, plug)
    early = client.post(f"{ISSUES}{issue_id}/hand-over/")
    steps = [client.post(f"{ISSUES}{issue_id}/{step}/") for step in ("check", "pick", "recheck")]
    handed = client.post(f"{ISSUES}{issue_id}/hand-over/")
    # then the parts are reserved first, and leave stock only when handed over, in order
    assert created.status_code == 201, created.json()
    assert created.json()["number"].startswith("IV")
    assert reserved_after_create == 2
    assert early.status_code == 409 and early.json()["code"] == "issue_step_out_of_order"
    assert [step.json()["status"] for step in steps] == ["checked", "picked", "rechecked"]
    assert handed.status_code == 200 and handed.json()["status"] == IssueStatus.HANDED_OVER
    assert (on_hand(branch, plug), reserved(branch, plug)) == (3, 0)
    assert StockMove.objects.filter(
        kind=MoveKind.WORK_ORDER_ISSUE, document="WO-2026-0012"
    ).exists()


def test_issuing_more_than_available_changes_nothing(api_as, parts_clerk, branch, plug, shelf):
    response = api_as(parts_clerk).post(ISSUES, issue_payload(plug, quantity="6"))
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert response.json()["available"] == "5.000"
    assert not PartIssue.objects.exists()
    assert reserved(branch, plug) == 0


@pytest.mark.parametrize(
    ("quantity", "code"), [("1.5", "quantity_not_whole"), ("-2", "quantity_not_positive")]
)
def test_a_bad_issue_quantity_changes_nothing(
    api_as, parts_clerk, branch, plug, shelf, quantity, code
):
    response = api_as(parts_clerk).post(ISSUES, issue_payload(plug, quantity=quantity))
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not PartIssue.objects.exists()
    assert reserved(branch, plug) == 0


def test_an_issue_to_a_work_order_names_it(api_as, parts_clerk, plug, shelf):
    response = api_as(parts_clerk).post(ISSUES, issue_payload(plug, work_order_reference=""))
    assert response.status_code == 400
    assert response.json()["code"] == "work_order_required"
    assert not PartIssue.objects.exists()


def test_an_issue_sent_twice_with_one_key_is_made_once(api_as, parts_clerk, branch, plug, shelf):
    # given a voucher request sent twice with the same key
    client = api_as(parts_clerk)
    first = client.post(ISSUES, issue_payload(plug), HTTP_IDEMPOTENCY_KEY="iv-42")
    again = client.post(ISSUES, issue_payload(plug), HTTP_IDEMPOTENCY_KEY="iv-42")
    # then one voucher exists, reserving its plugs once
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert PartIssue.objects.count() == 1
    assert reserved(branch, plug) == 2


def test_the_same_key_with_another_body_is_refused(api_as, parts_clerk, plug, shelf):
    client = api_as(parts_clerk)
    client.post(ISSUES, issue_payload(plug), HTTP_IDEMPOTENCY_KEY="iv-43")
    other = client.post(ISSUES, issue_payload(plug, quantity="1"), HTTP_IDEMPOTENCY_KEY="iv-43")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert PartIssue.objects.count() == 1


def handed_over(branch, clerk, part, quantity=2) -> PartIssue:
    return walk(voucher(branch, clerk, [(part, quantity)], IssueKind.COUNTER_SALE), clerk)


def test_unused_parts_come_back_to_stock(api_as, parts_clerk, branch, plug, shelf):
    # given 2 plugs sold over the counter
    issue = handed_over(branch, parts_clerk, plug)
    line = issue.lines.get()
    client = api_as(parts_clerk)
    # when one comes back, and then two more are returned than remain
    back = client.post(
        f"{ISSUES}{issue.pk}/return/", {"line": line.pk, "quantity": "1", "reason": "未使用"}
    )
    too_many = client.post(
        f"{ISSUES}{issue.pk}/return/", {"line": line.pk, "quantity": "2", "reason": "未使用"}
    )
    # then one is back on the shelf and the voucher says so; the excess is refused
    assert back.status_code == 200, back.json()
    assert back.json()["lines"][0]["returned_quantity"] == "1.000"
    assert too_many.status_code == 409 and too_many.json()["code"] == "return_exceeds_issued"
    assert on_hand(branch, plug) == 4


def test_a_return_names_a_line_of_the_voucher(api_as, parts_clerk, branch, plug, shelf):
    issue = handed_over(branch, parts_clerk, plug)
    other = handed_over(branch, parts_clerk, plug, quantity=1)
    response = api_as(parts_clerk).post(
        f"{ISSUES}{issue.pk}/return/",
        {"line": other.lines.get().pk, "quantity": "1", "reason": "未使用"},
    )
    assert response.status_code == 400 and "line" in response.json()
    assert on_hand(branch, plug) == 2


def test_a_return_sent_twice_with_one_key_returns_once(api_as, parts_clerk, branch, plug, shelf):
    issue = handed_over(branch, parts_clerk, plug)
    client = api_as(parts_clerk)
    body = {"line": issue.lines.get().pk, "quantity": "1", "reason": "未使用"}
    client.post(f"{ISSUES}{issue.pk}/return/", body, HTTP_IDEMPOTENCY_KEY="rt-1")
    again = client.post(f"{ISSUES}{issue.pk}/return/", body, HTTP_IDEMPOTENCY_KEY="rt-1")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert on_hand(branch, plug) == 4


def test_cancelling_a_voucher_releases_its_reservation(api_as, parts_clerk, branch, plug, shelf):
    client = api_as(parts_clerk)
    issue_id = client.post(ISSUES, issue_payload(plug)).json()["id"]
    response = client.post(f"{ISSUES}{issue_id}/cancel/", {"reason": "客户取消"})
    assert response.json()["status"] == IssueStatus.CANCELLED
    assert reserved(branch, plug) == 0


def test_issues_filter_by_status_and_search_a_part_number(api_as, parts_clerk, branch, plug, shelf):
    handed_over(branch, parts_clerk, plug, quantity=1)
    open_issue = services.part_issue_create(
        branch=branch, kind=IssueKind.COUNTER_SALE,
        lines=[{"part": plug, "quantity": Decimal(1)}], by=parts_clerk,
    )  # fmt: skip
    response = api_as(parts_clerk).get(ISSUES, {"status": "requested", "search": "905601A"})
    assert [row["id"] for row in response.json()["results"]] == [open_issue.pk]


# --- lost sales -----------------------------------------------------------------------------


def test_advisor_records_a_lost_sale(api_as, advisor, branch, plug):
    response = api_as(advisor).post(
        f"{API}lost-sales/", {"part": plug.pk, "quantity": "2", "asked_by": "张先生"}
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["reason"], response.json()["branch"]) == ("out_of_stock", branch.pk)
    assert LostSale.objects.get().recorded_by == advisor


def test_a_fractional_lost_sale_of_a_piece_part_is_refused(api_as, advisor, plug):
    response = api_as(advisor).post(
        f"{API}lost-sales/", {"part": plug.pk, "quantity": "0.5", "asked_by": "张先生"}
    )
    assert response.status_code == 400 and response.json()["code"] == "quantity_not_whole"
    assert not LostSale.objects.exists()


# --- reorder suggestions --------------------------------------------------------------------


def test_suggestions_are_computed_ordered_and_dismissed(api_as, parts_clerk, branch):
    # given two parts at their reorder point, one of them without a supplier
    client = api_as(parts_clerk)
    supplied, orphan = PartFactory(supplier=SupplierFactory()), PartFactory()
    for part in (supplied, orphan):
        stocked(branch, part, parts_clerk, 2)
        set_levels(branch, part, parts_clerk, 2, 5, 20)
    # when today's suggestions are computed, the supplied one ordered, the other dismissed
    computed = client.post(f"{API}reorder-suggestions/compute/")
    by_part = {s.part_id: s for s in ReorderSuggestion.objects.all()}
    unordered = client.post(
        f"{API}reorder-suggestions/order/", {"suggestions": [by_part[orphan.pk].pk]}
    )
    ordered = client.post(
        f"{API}reorder-suggestions/order/", {"suggestions": [by_part[supplied.pk].pk]}
    )
    twice = client.post(
        f"{API}reorder-suggestions/order/", {"suggestions": [by_part[supplied.pk].pk]}
    )
    dismissed = client.post(f"{API}reorder-suggestions/{by_part[orphan.pk].pk}/dismiss/")
    # then both were suggested up to the maximum, one became a draft order, the other dismissed
    assert computed.json() == {"computed_on": TODAY.isoformat(), "open": 2}
    assert unordered.status_code == 400 and unordered.json()["code"] == "part_has_no_supplier"
    assert ordered.status_code == 201, ordered.json()
    [order] = ordered.json()
    assert order["status"] == "draft" and order["lines"][0]["quantity"] == "18.000"
    assert twice.status_code == 409 and twice.json()["code"] == "suggestion_not_open"
    assert dismissed.json()["status"] == SuggestionStatus.DISMISSED
    assert PurchaseOrder.objects.count() == 1


# --- emergency orders -----------------------------------------------------------------------


def test_an_emergency_order_from_request_to_hand_over(api_as, advisor, parts_clerk, branch, plug):
    # given a customer whose car needs a part the shelf does not have
    customer = CustomerFactory(branch=branch)
    supplier = SupplierFactory()
    desk, stockroom = api_as(advisor), api_as(parts_clerk)
    # when the advisor asks, the stockroom gets a quote, the customer pays a deposit,
    # the part is ordered, arrives and is put away, and is handed over
    requested = desk.post(
        f"{API}emergency-orders/", {"customer": customer.pk, "part": plug.pk, "quantity": 1}
    )
    order_id = requested.json()["id"]
    url = f"{API}emergency-orders/{order_id}/"
    quoted = stockroom.post(
        f"{url}quote/",
        {"supplier": supplier.pk, "quoted_unit_cost": "40.00", "unit_price": "90.00"},
    )
    too_much = desk.post(f"{url}deposit/", {"amount": "100.00"})
    deposit = desk.post(f"{url}deposit/", {"amount": "30.00"})
    placed = stockroom.post(f"{url}place/")
    purchase = PurchaseOrder.objects.get(pk=placed.json()["purchase_order"])
    delivered(purchase, parts_clerk, bin=BinFactory(branch=branch))
    handed = stockroom.post(f"{url}hand-over/")
    # then each step is recorded, the deposit stays within the price, and the part goes out
    assert requested.status_code == 201, requested.json()
    assert requested.json()["advisor"] == advisor.pk
    assert LostSale.objects.filter(reason="emergency_order").count() == 1
    assert quoted.json()["status"] == EmergencyStatus.QUOTED
    assert too_much.status_code == 400 and too_much.json()["code"] == "deposit_out_of_range"
    assert deposit.json()["deposit"] == "30.00"
    assert placed.json()["status"] == EmergencyStatus.ORDERED
    assert purchase.kind == "emergency"
    assert handed.status_code == 200, handed.json()
    assert handed.json()["status"] == EmergencyStatus.HANDED_OVER
    issue = PartIssue.objects.get(pk=handed.json()["issue"])
    assert (issue.customer, issue.lines.get().unit_price) == (customer, Decimal("90.00"))


def test_advisor_cannot_place_an_emergency_order(api_as, advisor, parts_clerk, branch, plug):
    order = services.emergency_order_request(
        branch=branch, customer=CustomerFactory(branch=branch), part=plug,
        quantity=Decimal(1), by=advisor,
    )  # fmt: skip
    response = api_as(advisor).post(f"{API}emergency-orders/{order.pk}/place/")
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == EmergencyStatus.REQUESTED


def test_a_deposit_sent_twice_with_one_key_is_taken_once(
    api_as, advisor, parts_clerk, branch, plug
):
    order = services.emergency_order_request(
        branch=branch, customer=CustomerFactory(branch=branch), part=plug,
        quantity=Decimal(1), by=advisor,
    )  # fmt: skip
    services.emergency_order_quote(
        emergency_order=order, supplier=SupplierFactory(), quoted_unit_cost=Decimal(40),
        unit_price=Decimal(90), by=parts_clerk,
    )  # fmt: skip
    client, url = api_as(advisor), f"{API}emergency-orders/{order.pk}/deposit/"
    first = client.post(url, {"amount": "30.00"}, HTTP_IDEMPOTENCY_KEY="dep-1")
    again = client.post(url, {"amount": "30.00"}, HTTP_IDEMPOTENCY_KEY="dep-1")
    without_key = client.post(url, {"amount": "30.00"})
    assert first.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert without_key.status_code == 409
    assert without_key.json()["code"] == "emergency_order_wrong_status"
    assert EmergencyOrder.objects.get().deposit == Decimal("30.00")
