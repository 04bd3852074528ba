"""The sales API from quote to delivery: quotes and their approval, orders, payments,
allocation, invoicing, cancellation and the handover, plus the whole journey by API."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import Vehicle
from sales.choices import (
    DeliveryCheck,
    DeliveryDocument,
    LeadStatus,
    OrderStatus,
    QuoteStatus,
    StockStatus,
)
from sales.models import Delivery, Order, Payment, Quote
from tests.factories import (
    CustomerFactory,
    LeadFactory,
    OrderFactory,
    PaymentFactory,
    QuoteFactory,
    StockVehicleFactory,
    resident_id,
    vin,
)

pytestmark = pytest.mark.django_db

LEADS = "/api/v1/leads/"
QUOTES = "/api/v1/quotes/"
ORDERS = "/api/v1/orders/"
PAYMENTS = "/api/v1/payments/"
STOCK = "/api/v1/stock-vehicles/"
DELIVERIES = "/api/v1/deliveries/"
TODAY = timezone.localdate()
ALL_CHECKS = list(DeliveryCheck.values)
ALL_DOCUMENTS = list(DeliveryDocument.values)


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def lead(branch, consultant):
    return LeadFactory(branch=branch, consultant=consultant, reached="verified")


@pytest.fixture
def sent_quote(branch, consultant, lead):
    return QuoteFactory(branch=branch, lead=lead, consultant=consultant, status=QuoteStatus.SENT)


@pytest.fixture
def signed_order(branch, consultant):
    return OrderFactory(branch=branch, consultant=consultant, status=OrderStatus.SIGNED)


@pytest.fixture
def invoiced_order(branch, consultant):
    """An invoiced order whose vehicle passed its PDI today."""
    order = OrderFactory(branch=branch, consultant=consultant, status=OrderStatus.INVOICED)
    order.stock_vehicle.pdi_done_on = TODAY
    order.stock_vehicle.save()
    return order


def quote_payload(lead, **extra) -> dict:
    return {
        "lead": lead.pk,
        "brand": "大众",
        "series": "途观L",
        "list_price": "219900.00",
        "discount": "2000.00",
        "insurance_price": "6500.00",
        "registration_fee": "500.00",
        **extra,
    }


# --- quotes ---------------------------------------------------------------------------


def test_consultant_quotes_a_verified_lead(api_as, consultant, lead):
    # given a verified lead
    # when the consultant quotes it with a discount within the branch's limit
    response = api_as(consultant).post(QUOTES, quote_payload(lead))
    # then the quote is a draft whose total is worked out, without approval needed
    assert response.status_code == 201, response.json()
    body = response.json()
    quote = Quote.objects.get(pk=body["id"])
    assert body["number"] == quote.number
    assert body["total"] == "224900.00"
    assert (body["status"], body["needs_approval"], body["consultant"]) == (
        "draft",
        False,
        consultant.pk,
    )


def test_quote_total_is_never_typed(api_as, consultant, lead):
    response = api_as(consultant).post(QUOTES, quote_payload(lead, total="1.00"))
    assert response.status_code == 201
    assert response.json()["total"] == "224900.00"


def test_big_discount_goes_through_approval_before_it_is_sent(
    api_as, consultant, sales_manager, lead
):
    # given a quote with a discount above the branch's limit
    client, manager = api_as(consultant), api_as(sales_manager)
    quote_id = client.post(QUOTES, quote_payload(lead, discount="8000.00")).json()["id"]
    # when it is sent unapproved, submitted, approved by the consultant, then by the manager
    unapproved = client.post(f"{QUOTES}{quote_id}/send/")
    submitted = client.post(f"{QUOTES}{quote_id}/submit/", {"note": "老客户介绍"})
    by_consultant = client.post(f"{QUOTES}{quote_id}/approve/")
    approved = manager.post(f"{QUOTES}{quote_id}/approve/", {"note": "同意"})
    sent = client.post(f"{QUOTES}{quote_id}/send/")
    # then sending waits for the manager's approval, which only the manager may give
    assert unapproved.status_code == 409
    assert unapproved.json()["code"] == "quote_needs_approval"
    assert submitted.json()["status"] == QuoteStatus.PENDING_APPROVAL
    assert by_consultant.status_code == 403
    assert approved.status_code == 200 and approved.json()["status"] == QuoteStatus.APPROVED
    assert [step["decision"] for step in approved.json()["approvals"]] == ["submitted", "approved"]
    assert sent.status_code == 200 and sent.json()["status"] == QuoteStatus.SENT
    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUOTED


def test_manager_cannot_approve_their_own_discount(api_as, sales_manager, branch):
    # given a sales manager's own quote above the limit, submitted by them
    lead = LeadFactory(branch=branch, consultant=sales_manager, reached="verified")
    client = api_as(sales_manager)
    quote_id = client.post(QUOTES, quote_payload(lead, discount="9000.00")).json()["id"]
    client.post(f"{QUOTES}{quote_id}/submit/")
    # when they approve it
    response = client.post(f"{QUOTES}{quote_id}/approve/")
    # then it is refused as a conflict with its code
    assert response.status_code == 409
    assert response.json()["code"] == "own_discount_approval"


def test_rejection_needs_a_note_and_the_quote_can_be_revised(
    api_as, consultant, sales_manager, lead
):
    # given a submitted quote above the limit
    client, manager = api_as(consultant), api_as(sales_manager)
    quote_id = client.post(QUOTES, quote_payload(lead, discount="8000.00")).json()["id"]
    client.post(f"{QUOTES}{quote_id}/submit/")
    # when the manager rejects it without and with a note, and the consultant lowers the discount
    silent = manager.post(f"{QUOTES}{quote_id}/reject/", {"note": ""})
    rejected = manager.post(f"{QUOTES}{quote_id}/reject/", {"note": "折扣过大"})
    revised = client.patch(f"{QUOTES}{quote_id}/", {"discount": "3000.00"})
    # then the note is required, and the revised quote is a draft within the limit
    assert silent.status_code == 400 and silent.json()["code"] == "reject_note_required"
    assert rejected.json()["status"] == QuoteStatus.REJECTED
    assert revised.status_code == 200, revised.json()
    assert (revised.json()["status"], revised.json()["needs_approval"]) == ("draft", False)


def test_sent_quote_cannot_be_changed(api_as, consultant, sent_quote):
    response = api_as(consultant).patch(f"{QUOTES}{sent_quote.pk}/", {"discount": "1.00"})
    assert response.status_code == 409
    assert response.json()["code"] == "quote_not_editable"


def test_quote_for_an_unverified_lead_is_a_conflict(api_as, consultant, branch):
    lead = LeadFactory(branch=branch)
    response = api_as(consultant).post(QUOTES, quote_payload(lead))
    assert response.status_code == 409
    assert response.json()["code"] == "lead_not_verified"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"list_price": "很贵"}, "list_price"),
        ({"discount": "300000.00"}, "discount"),
        ({"accessories": "脚垫" * 151}, "accessories"),
        ({"lead": 999999}, "lead"),
        ({"loan_amount": "100000.00"}, "loan_term_months"),
        ({"trade_in": 999999}, "trade_in"),
        ({"series": ""}, "series"),
    ],
    ids=["wrong-type", "discount-over-price", "too-long", "unknown-lead", "loan-without-term",
         "unknown-trade-in", "blank"],
)  # fmt: skip
def test_bad_quote_names_the_field(api_as, consultant, lead, change, field):
    response = api_as(consultant).post(QUOTES, {**quote_payload(lead), **change})
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Quote.objects.exists()


def test_quotes_filter_by_status(api_as, consultant, branch, sent_quote):
    QuoteFactory(branch=branch, lead=sent_quote.lead)
    response = api_as(consultant).get(QUOTES, {"status": "sent"})
    assert ids(response) == [sent_quote.pk]


# --- orders ---------------------------------------------------------------------------


def test_order_is_drafted_from_a_sent_quote(api_as, consultant, sent_quote):
    # given a quote sent to the customer
    # when the consultant drafts the order from it
    response = api_as(consultant).post(ORDERS, {"quote": sent_quote.pk})
    # then the order copies the quote and the lead becomes the buying customer
    assert response.status_code == 201, response.json()
    body = response.json()
    order = Order.objects.get(pk=body["id"])
    assert body["number"] == order.number
    assert (body["status"], body["total_price"], body["paid_total"]) == (
        "draft",
        str(sent_quote.total),
        "0.00",
    )
    assert body["customer"] == order.customer_id
    assert body["customer_name"] == sent_quote.lead.name


def test_order_for_a_named_customer(api_as, consultant, branch, sent_quote):
    customer = CustomerFactory(branch=branch)
    response = api_as(consultant).post(ORDERS, {"quote": sent_quote.pk, "customer": customer.pk})
    assert response.status_code == 201
    assert response.json()["customer"] == customer.pk


def test_order_needs_a_sent_quote_and_only_one(api_as, consultant, branch, lead, sent_quote):
    # given a draft quote and a sent one
    draft = QuoteFactory(branch=branch, lead=lead)
    client = api_as(consultant)
    # when orders are drafted from the draft, and twice from the sent one
    from_draft = client.post(ORDERS, {"quote": draft.pk})
    client.post(ORDERS, {"quote": sent_quote.pk})
    twice = client.post(ORDERS, {"quote": sent_quote.pk})
    # then both refusals are conflicts with their codes
    assert (from_draft.status_code, from_draft.json()["code"]) == (409, "quote_not_sent")
    assert (twice.status_code, twice.json()["code"]) == (409, "quote_has_order")


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "quote"), ({"quote": "Q00001"}, "quote"), ({"quote": 999999}, "quote")],
    ids=["missing", "wrong-type", "unknown-id"],
)
def test_bad_order_names_the_field(api_as, consultant, payload, field):
    response = api_as(consultant).post(ORDERS, payload)
    assert response.status_code == 400
    assert field in response.json()


def test_consultant_signs_a_draft_order(api_as, consultant, branch):
    order = OrderFactory(branch=branch, consultant=consultant)
    client = api_as(consultant)
    signed = client.post(f"{ORDERS}{order.pk}/sign/")
    again = client.post(f"{ORDERS}{order.pk}/sign/")
    assert signed.status_code == 200 and signed.json()["status"] == OrderStatus.SIGNED
    assert signed.json()["signed_at"]
    assert (again.status_code, again.json()["code"]) == (409, "order_not_draft")


def test_vehicle_is_allocated_by_vin(api_as, consultant, branch, signed_order):
    # given a vehicle in stock
    vehicle = StockVehicleFactory(branch=branch)
    # when it is allocated to a signed order by its VIN (lower case, with spaces)
    response = api_as(consultant).post(
        f"{ORDERS}{signed_order.pk}/allocate/", {"vin": f" {vehicle.vin.lower()} "}
    )
    # then the order holds it and the vehicle is reserved
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["vin"]) == ("allocated", vehicle.vin)
    vehicle.refresh_from_db()
    assert vehicle.status == StockStatus.RESERVED


def test_vehicle_is_allocated_by_id(api_as, consultant, branch, signed_order):
    vehicle = StockVehicleFactory(branch=branch)
    response = api_as(consultant).post(
        f"{ORDERS}{signed_order.pk}/allocate/", {"stock_vehicle": vehicle.pk}
    )
    assert response.status_code == 200
    assert response.json()["stock_vehicle"] == vehicle.pk


def test_allocating_a_sold_vin_is_a_conflict(api_as, consultant, branch, signed_order):
    # given a vehicle already sold on another order
    sold = OrderFactory(branch=branch, status=OrderStatus.INVOICED).stock_vehicle
    # when it is allocated to the signed order
    response = api_as(consultant).post(f"{ORDERS}{signed_order.pk}/allocate/", {"vin": sold.vin})
    # then the conflict has its code and the order is unchanged
    assert response.status_code == 409
    assert response.json()["code"] == "vehicle_not_available"
    signed_order.refresh_from_db()
    assert signed_order.stock_vehicle is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "stock_vehicle"),
        ({"vin": vin(555)}, "vin"),
        ({"stock_vehicle": 999999}, "stock_vehicle"),
        ({"vin": "X" * 31}, "vin"),
    ],
    ids=["neither", "unknown-vin", "unknown-id", "too-long"],
)
def test_bad_allocation_names_the_field(api_as, consultant, signed_order, payload, field):
    response = api_as(consultant).post(f"{ORDERS}{signed_order.pk}/allocate/", payload)
    assert response.status_code == 400, response.json()
    assert field in response.json()


def test_another_branch_vehicle_cannot_be_allocated(api_as, consultant, other_branch, signed_order):
    vehicle = StockVehicleFactory(branch=other_branch)
    response = api_as(consultant).post(f"{ORDERS}{signed_order.pk}/allocate/", {"vin": vehicle.vin})
    assert response.status_code == 400
    assert "vin" in response.json()


def test_invoice_waits_for_full_payment(api_as, consultant, branch):
    # given an allocated order with only the deposit paid
    order = OrderFactory(branch=branch, consultant=consultant, status=OrderStatus.ALLOCATED)
    PaymentFactory(order=order, amount=Decimal("5000.00"))
    client = api_as(consultant)
    # when it is invoiced, then paid in full and invoiced
    early = client.post(f"{ORDERS}{order.pk}/invoice/", {"invoice_number": "44001234"})
    client.post(
        PAYMENTS,
        {"order": order.pk, "kind": "final", "amount": "112900.00", "paid_on": TODAY.isoformat(),
         "method": "transfer"},
    )  # fmt: skip
    invoiced = client.post(f"{ORDERS}{order.pk}/invoice/", {"invoice_number": "44001234"})
    # then the first is refused with what is outstanding, the second sells the vehicle
    assert early.status_code == 400
    assert (early.json()["code"], early.json()["outstanding"]) == ("order_not_paid", "112900.00")
    assert invoiced.status_code == 200, invoiced.json()
    assert (invoiced.json()["status"], invoiced.json()["paid_total"]) == ("invoiced", "117900.00")
    assert invoiced.json()["outstanding"] == "0.00"
    order.stock_vehicle.refresh_from_db()
    assert order.stock_vehicle.status == StockStatus.SOLD


def test_invoicing_a_signed_order_is_a_conflict(api_as, consultant, signed_order):
    response = api_as(consultant).post(
        f"{ORDERS}{signed_order.pk}/invoice/", {"invoice_number": "44009999"}
    )
    assert (response.status_code, response.json()["code"]) == (409, "order_not_allocated")


def test_consultant_may_not_cancel_an_order(api_as, consultant, signed_order):
    response = api_as(consultant).post(f"{ORDERS}{signed_order.pk}/cancel/", {"reason": "不买了"})
    assert response.status_code == 403
    signed_order.refresh_from_db()
    assert signed_order.status == OrderStatus.SIGNED


def test_manager_cancels_an_order_and_records_the_deposit(api_as, sales_manager, branch):
    # given an allocated order with a deposit paid
    order = OrderFactory(branch=branch, status=OrderStatus.ALLOCATED)
    PaymentFactory(order=order)
    client = api_as(sales_manager)
    # when it is cancelled without saying what happens to the deposit, then with it
    missing = client.post(f"{ORDERS}{order.pk}/cancel/", {"reason": "贷款未批"})
    cancelled = client.post(
        f"{ORDERS}{order.pk}/cancel/", {"reason": "贷款未批", "deposit_handling": "refunded"}
    )
    # then the first is refused beside the field, the second releases the vehicle
    assert missing.status_code == 400
    assert missing.json()["code"] == "deposit_handling_required"
    assert "deposit_handling" in missing.json()
    assert cancelled.status_code == 200, cancelled.json()
    body = cancelled.json()
    assert (body["status"], body["deposit_handling"], body["stock_vehicle"]) == (
        "cancelled",
        "refunded",
        None,
    )
    order.refresh_from_db()
    assert order.cancel_reason == "贷款未批"


def test_cancel_needs_a_reason(api_as, sales_manager, signed_order):
    client = api_as(sales_manager)
    missing = client.post(f"{ORDERS}{signed_order.pk}/cancel/", {})
    blank = client.post(f"{ORDERS}{signed_order.pk}/cancel/", {"reason": " "})
    assert missing.status_code == 400 and "reason" in missing.json()
    assert blank.status_code == 400 and blank.json()["code"] == "cancel_reason_required"


def test_orders_filter_by_status_and_customer_name(api_as, consultant, branch, signed_order):
    OrderFactory(branch=branch, customer__name="欧阳娜娜")
    client = api_as(consultant)
    assert ids(client.get(ORDERS, {"status": "signed"})) == [signed_order.pk]
    assert len(ids(client.get(ORDERS, {"search": "欧阳"}))) == 1


def test_orders_are_not_edited_or_deleted_directly(api_as, branch_manager, signed_order):
    client = api_as(branch_manager)
    assert client.patch(f"{ORDERS}{signed_order.pk}/", {"colour": "黑"}).status_code == 405
    assert client.delete(f"{ORDERS}{signed_order.pk}/").status_code == 405


# --- payments -------------------------------------------------------------------------


def test_consultant_records_a_deposit(api_as, consultant, signed_order):
    response = api_as(consultant).post(
        PAYMENTS,
        {"order": signed_order.pk, "kind": "deposit", "amount": "5000",
         "paid_on": TODAY.isoformat(), "method": "wechat", "reference": "WX0001"},
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    assert (response.json()["amount"], response.json()["recorded_by"]) == ("5000.00", consultant.pk)


def test_scheduled_payment_is_received_once(api_as, consultant, signed_order):
    # given a scheduled instalment
    client = api_as(consultant)
    scheduled = client.post(
        PAYMENTS,
        {"order": signed_order.pk, "kind": "instalment", "amount": "20000",
         "due_on": (TODAY + timedelta(days=10)).isoformat()},
    )  # fmt: skip
    payment_id = scheduled.json()["id"]
    # when it arrives, and is then received again
    received = client.post(f"{PAYMENTS}{payment_id}/receive/", {"method": "card"})
    again = client.post(f"{PAYMENTS}{payment_id}/receive/", {"method": "card"})
    # then it is paid today, and the second time is a conflict
    assert scheduled.status_code == 201 and scheduled.json()["paid_on"] is None
    assert received.status_code == 200, received.json()
    assert (received.json()["paid_on"], received.json()["method"]) == (TODAY.isoformat(), "card")
    assert (again.status_code, again.json()["code"]) == (409, "payment_already_paid")


def test_overpayment_is_refused(api_as, consultant, signed_order):
    response = api_as(consultant).post(
        PAYMENTS,
        {
            "order": signed_order.pk,
            "kind": "final",
            "amount": "200000",
            "paid_on": TODAY.isoformat(),
        },
    )
    assert response.status_code == 400
    assert (response.json()["code"], "amount" in response.json()) == ("overpayment", True)


def test_payment_on_a_cancelled_order_is_a_conflict(api_as, consultant, branch):
    order = OrderFactory(branch=branch, status=OrderStatus.CANCELLED)
    response = api_as(consultant).post(
        PAYMENTS,
        {"order": order.pk, "kind": "deposit", "amount": "100", "paid_on": TODAY.isoformat()},
    )
    assert (response.status_code, response.json()["code"]) == (409, "order_closed")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "五千"}, "amount"),
        ({"amount": "1234567890123"}, "amount"),
        ({"kind": "gift"}, "kind"),
        ({"order": 999999}, "order"),
        ({"paid_on": "2026-02-30"}, "paid_on"),
        ({"reference": "R" * 61}, "reference"),
    ],
    ids=["zero", "wrong-type", "too-many-digits", "bad-choice", "unknown-order", "bad-date",
         "too-long"],
)  # fmt: skip
def test_bad_payment_names_the_field(api_as, consultant, signed_order, change, field):
    payload = {"order": signed_order.pk, "kind": "deposit", "amount": "5000",
               "paid_on": TODAY.isoformat(), **change}  # fmt: skip
    response = api_as(consultant).post(PAYMENTS, payload)
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Payment.objects.exists()


def test_customer_care_reads_but_cannot_record_payments(api_as, customer_care, signed_order):
    PaymentFactory(order=signed_order)
    client = api_as(customer_care)
    listed = client.get(PAYMENTS)
    created = client.post(
        PAYMENTS,
        {"order": signed_order.pk, "kind": "deposit", "amount": "1", "paid_on": TODAY.isoformat()},
    )
    assert listed.status_code == 200
    assert created.status_code == 403


def test_payments_filter_by_order_with_cursor_pages(api_as, consultant, branch, signed_order):
    # given three payments of the order and one of another order
    for _ in range(3):
        PaymentFactory(order=signed_order, amount=Decimal("100.00"))
    PaymentFactory(order=OrderFactory(branch=branch))
    client = api_as(consultant)
    # when the order's payments are listed two at a time
    first = client.get(PAYMENTS, {"order": signed_order.pk, "limit": 2}).json()
    second = client.get(first["next"]).json()
    # then the pages hold its three, newest first, without a count
    assert "count" not in first
    rows = first["results"] + second["results"]
    assert {row["order"] for row in rows} == {signed_order.pk}
    assert [row["id"] for row in rows] == sorted((row["id"] for row in rows), reverse=True)
    assert len(rows) == 3


# --- deliveries -----------------------------------------------------------------------


def test_invoiced_order_is_delivered(api_as, consultant, invoiced_order):
    # given an invoiced order whose vehicle passed its PDI
    # when it is handed over with every check and document
    response = api_as(consultant).post(
        DELIVERIES,
        {"order": invoiced_order.pk, "checklist": ALL_CHECKS, "documents": ALL_DOCUMENTS,
         "odometer_km": 12, "plate": "粤A8M888"},
    )  # fmt: skip
    # then the delivery is recorded and the car is the customer's vehicle
    assert response.status_code == 201, response.json()
    body = response.json()
    vehicle = Vehicle.objects.get(pk=body["vehicle"])
    assert (vehicle.owner, vehicle.vin) == (
        invoiced_order.customer,
        invoiced_order.stock_vehicle.vin,
    )
    assert body["delivered_on"] == TODAY.isoformat()
    invoiced_order.refresh_from_db()
    assert invoiced_order.status == OrderStatus.DELIVERED


def test_delivering_an_unsigned_order_is_a_conflict(api_as, consultant, branch):
    # given a draft order
    order = OrderFactory(branch=branch)
    # when it is delivered
    response = api_as(consultant).post(
        DELIVERIES, {"order": order.pk, "checklist": ALL_CHECKS, "documents": ALL_DOCUMENTS}
    )
    # then the conflict has its code and nothing is delivered
    assert response.status_code == 409
    assert response.json()["code"] == "order_not_invoiced"
    assert not Delivery.objects.exists()


def test_delivery_without_a_pdi_is_a_conflict(api_as, consultant, branch):
    order = OrderFactory(branch=branch, status=OrderStatus.INVOICED)
    response = api_as(consultant).post(
        DELIVERIES, {"order": order.pk, "checklist": ALL_CHECKS, "documents": ALL_DOCUMENTS}
    )
    assert (response.status_code, response.json()["code"]) == (409, "pdi_missing")


def test_delivery_with_checks_missing_is_refused(api_as, consultant, invoiced_order):
    response = api_as(consultant).post(
        DELIVERIES,
        {"order": invoiced_order.pk, "checklist": ALL_CHECKS[:2], "documents": ALL_DOCUMENTS},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "checklist_incomplete"
    assert "checklist" in response.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"checklist": ["smile"]}, "checklist"),
        ({"checklist": "exterior"}, "checklist"),
        ({"documents": None}, "documents"),
        ({"order": 999999}, "order"),
        ({"odometer_km": -5}, "odometer_km"),
        ({"plate": "粤A" + "1" * 20}, "plate"),
    ],
    ids=["bad-choice", "not-a-list", "null", "unknown-order", "negative", "too-long"],
)
def test_bad_delivery_names_the_field(api_as, consultant, invoiced_order, change, field):
    payload = {"order": invoiced_order.pk, "checklist": ALL_CHECKS, "documents": ALL_DOCUMENTS}
    response = api_as(consultant).post(DELIVERIES, {**payload, **change})
    assert response.status_code == 400, response.json()
    assert field in response.json()


def test_deliveries_filter_by_order(api_as, consultant, branch, invoiced_order):
    client = api_as(consultant)
    client.post(
        DELIVERIES,
        {"order": invoiced_order.pk, "checklist": ALL_CHECKS, "documents": ALL_DOCUMENTS},
    )
    from tests.factories import DeliveryFactory

    DeliveryFactory(order__branch=branch)
    response = client.get(DELIVERIES, {"order": invoiced_order.pk})
    assert [row["order"] for row in response.json()["results"]] == [invoiced_order.pk]


# --- the whole journey ----------------------------------------------------------------


def test_a_walk_in_is_sold_a_car_entirely_through_the_api(
    api_as, consultant, sales_manager, technician, branch
):
    consultant_api, manager_api = api_as(consultant), api_as(sales_manager)
    # given stock: a demo car and a vehicle that arrived and passed its PDI
    demo = manager_api.post(
        STOCK, {"vin": vin(901), "brand": "大众", "series": "途观L", "list_price": "219900",
                "status": "demo"},
    ).json()  # fmt: skip
    car = manager_api.post(
        STOCK, {"vin": vin(902), "brand": "大众", "series": "途观L", "list_price": "219900",
                "status": "in_transit"},
    ).json()  # fmt: skip
    manager_api.post(f"{STOCK}{car['id']}/arrive/", {})
    assert api_as(technician).post(f"{STOCK}{car['id']}/pdi/", {}).status_code == 200

    # when a walk-in goes through every stage by API
    lead = consultant_api.post(
        LEADS, {"source": "walk_in", "name": "陈嘉豪", "mobile": "13712345678",
                "model_of_interest": "途观L", "intent_level": "H"},
    ).json()  # fmt: skip
    consultant_api.post(f"{LEADS}{lead['id']}/verify/")
    start = timezone.now() - timedelta(hours=1)
    drive = consultant_api.post(
        "/api/v1/test-drives/",
        {"lead": lead["id"], "demo_vehicle": demo["id"], "driver_name": "陈嘉豪",
         "driver_licence_number": resident_id(3), "starts_at": start.isoformat(),
         "ends_at": (start + timedelta(minutes=30)).isoformat(), "route": "天河路"},
    ).json()  # fmt: skip
    consultant_api.post(f"/api/v1/test-drives/{drive['id']}/complete/", {"agreement_signed": True})
    quote = consultant_api.post(
        QUOTES, {"lead": lead["id"], "brand": "大众", "series": "途观L", "list_price": "219900",
                 "discount": "8000"},
    ).json()  # fmt: skip
    consultant_api.post(f"{QUOTES}{quote['id']}/submit/")
    manager_api.post(f"{QUOTES}{quote['id']}/approve/")
    consultant_api.post(f"{QUOTES}{quote['id']}/send/")
    order = consultant_api.post(ORDERS, {"quote": quote["id"]}).json()
    consultant_api.post(f"{ORDERS}{order['id']}/sign/")
    consultant_api.post(
        PAYMENTS, {"order": order["id"], "kind": "deposit", "amount": "10000",
                   "paid_on": TODAY.isoformat(), "method": "wechat"},
    )  # fmt: skip
    consultant_api.post(f"{ORDERS}{order['id']}/allocate/", {"vin": vin(902)})
    consultant_api.post(
        PAYMENTS, {"order": order["id"], "kind": "final", "amount": "201900",
                   "paid_on": TODAY.isoformat(), "method": "transfer"},
    )  # fmt: skip
    invoiced = consultant_api.post(f"{ORDERS}{order['id']}/invoice/", {"invoice_number": "4400777"})
    delivered = consultant_api.post(
        DELIVERIES, {"order": order["id"], "checklist": ALL_CHECKS, "documents": ALL_DOCUMENTS}
    )

    # then the lead is won and delivered, and the car is the customer's
    assert invoiced.status_code == 200, invoiced.json()
    assert delivered.status_code == 201, delivered.json()
    final = consultant_api.get(f"{LEADS}{lead['id']}/").json()
    assert final["status"] == LeadStatus.WON
    assert all(final[stage] for stage in ["verified_at", "test_driven_at", "quoted_at",
                                          "ordered_at", "delivered_at"])  # fmt: skip
    assert Vehicle.objects.get(vin=vin(902)).owner_id == final["customer"]
    assert consultant_api.get(f"{STOCK}{car['id']}/").json()["status"] == StockStatus.DELIVERED
