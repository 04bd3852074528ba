"""Order services: from a sent quote to a delivered vehicle — signing, allocation by VIN,
payments, invoicing, cancellation and delivery."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation

from customers.models import Customer, TimelineEntry, Vehicle, VehicleOwnership
from dealer_crm.errors import DomainError, StateConflict
from sales import services
from sales.choices import (
    DeliveryCheck,
    DeliveryDocument,
    DepositHandling,
    LeadSource,
    LeadStatus,
    LostReason,
    OrderStatus,
    PaymentKind,
    PaymentMethod,
    QuoteStatus,
    StockStatus,
)
from sales.events import vehicle_delivered
from sales.models import Delivery, Lead, Order, Payment, Quote, StockVehicle
from tests.factories import CustomerFactory, OrderFactory, StockVehicleFactory
from tests.factories.concurrency import run_in_threads

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
PRICE = Decimal("117900.00")  # 119,900 list price − 2,000 discount
MOBILES = (f"1371234{n:04d}" for n in itertools.count())
INVOICE_NUMBERS = (f"4400{n:08d}" for n in itertools.count(1))
EVERY_CHECK = list(DeliveryCheck.values)
EVERY_DOCUMENT = list(DeliveryDocument.values)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def refusal(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def fresh(instance):
    return type(instance).objects.get(pk=instance.pk)


# --- building an order through the services ---------------------------------------------


def approved_quote(branch, consultant, send=True) -> Quote:
    lead = services.lead_create(
        branch=branch,
        by=consultant,
        data={
            "source": LeadSource.WEBSITE,
            "name": "赵海涛",
            "mobile": next(MOBILES),
            "model_of_interest": "朗逸",
            "intent_level": "H",
        },
    )
    services.lead_verify(lead=lead, by=consultant)
    quote = services.quote_create(
        lead=lead,
        by=consultant,
        data={
            "brand": "大众",
            "series": "朗逸",
            "configuration": "1.5L 自动舒适版",
            "colour": "白色",
            "list_price": Decimal("119900"),
            "discount": Decimal("2000"),
        },
    )
    services.quote_submit(quote=quote, by=consultant)
    if send:
        services.quote_send(quote=quote, by=consultant)
    return fresh(quote)


def draft_order(branch, consultant) -> Order:
    return services.order_create(quote=approved_quote(branch, consultant), by=consultant)


def signed_order(branch, consultant) -> Order:
    return services.order_sign(order=draft_order(branch, consultant), by=consultant)


def car_in_stock(branch, **overrides) -> StockVehicle:
    return StockVehicleFactory(branch=branch, **overrides)


def allocated_order(branch, consultant, vehicle=None) -> Order:
    vehicle = vehicle or car_in_stock(branch)
    return services.order_allocate(
        order=signed_order(branch, consultant), stock_vehicle=vehicle, by=consultant
    )


def pay(order, by, amount, kind=PaymentKind.FINAL) -> Payment:
    return services.payment_record(
        order=order,
        by=by,
        data={"kind": kind, "amount": Decimal(amount), "paid_on": TODAY, "method": "transfer"},
    )


def invoiced_order(branch, consultant, pdi=True) -> Order:
    vehicle = car_in_stock(branch, arrival_date=TODAY - timedelta(days=5))
    if pdi:
        services.stock_vehicle_record_pdi(
            stock_vehicle=vehicle, by=consultant, done_on=TODAY - timedelta(days=4)
        )
    order = allocated_order(branch, consultant, vehicle)
    pay(order, consultant, PRICE)
    return services.order_invoice(order=order, by=consultant, invoice_number=next(INVOICE_NUMBERS))


def deliver(order, by, **overrides) -> Delivery:
    return services.delivery_record(
        **{
            "order": order,
            "by": by,
            "delivered_on": TODAY,
            "checklist": EVERY_CHECK,
            "documents": EVERY_DOCUMENT,
            "odometer_km": 12,
            "plate": "粤A7Q3D9",
            **overrides,
        }
    )


# --- order from a quote -----------------------------------------------------------------


def test_order_takes_the_sent_quote_and_makes_the_lead_a_customer(branch, consultant):
    # given a quote sent to the customer
    quote = approved_quote(branch, consultant)
    # when the purchase agreement is drafted from it
    order = services.order_create(quote=quote, by=consultant)
    # then it carries the quote's car and price, and the lead became the buying customer
    order = fresh(order)
    assert order.status == OrderStatus.DRAFT
    assert (order.brand, order.series, order.configuration, order.colour) == (
        "大众",
        "朗逸",
        "1.5L 自动舒适版",
        "白色",
    )
    assert order.total_price == PRICE and order.consultant == consultant
    lead = Lead.objects.get(pk=quote.lead_id)
    assert order.customer == lead.customer and order.lead == lead
    assert (order.customer.name, order.customer.mobile) == (lead.name, lead.mobile)


def test_order_for_a_lead_that_is_already_a_customer_uses_that_customer(branch, consultant):
    # given an existing owner buying a second car
    owner = CustomerFactory(branch=branch)
    quote = approved_quote(branch, consultant)
    # when the order is drafted for that customer
    order = services.order_create(quote=quote, by=consultant, customer=owner)
    # then no new customer is made
    assert fresh(order).customer == owner
    assert Lead.objects.get(pk=quote.lead_id).customer == owner
    assert Customer.objects.count() == 1


@pytest.mark.parametrize("status", [QuoteStatus.DRAFT, QuoteStatus.APPROVED])
def test_order_is_made_only_from_a_sent_quote(branch, consultant, status):
    # given a quote not yet given to the customer
    quote = approved_quote(branch, consultant, send=False)
    if status == QuoteStatus.DRAFT:
        Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.DRAFT)
    assert fresh(quote).status == status
    # when an order is drafted from it
    error = refusal(lambda: services.order_create(quote=quote, by=consultant))
    # then it is refused, and neither an order nor a customer was made
    assert isinstance(error, StateConflict) and error.code == "quote_not_sent"
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_a_quote_has_one_order(branch, consultant):
    # given a quote whose order was drafted, then cancelled
    quote = approved_quote(branch, consultant)
    first = services.order_create(quote=quote, by=consultant)
    services.order_cancel(order=first, by=consultant, reason="客户想换颜色")
    # when a second order is drafted from the same quote
    error = refusal(lambda: services.order_create(quote=quote, by=consultant))
    # then it is refused: a new quote is made instead
    assert isinstance(error, StateConflict) and error.code == "quote_has_order"
    assert Order.objects.count() == 1


def test_signing_the_order_wins_the_lead(branch, consultant):
    # given a draft order
    order = draft_order(branch, consultant)
    # when the customer signs
    services.order_sign(order=order, by=consultant)
    # then the order is signed, the lead won and closed, and the timeline shows it
    order = fresh(order)
    assert order.status == OrderStatus.SIGNED and order.signed_at is not None
    lead = Lead.objects.get(pk=order.lead_id)
    assert lead.status == LeadStatus.WON
    assert lead.ordered_at == order.signed_at and lead.next_follow_up_on is None
    assert TimelineEntry.objects.filter(customer=order.customer, kind="order_signed").exists()


# --- the steps happen in order ----------------------------------------------------------


def test_a_draft_order_gets_no_vehicle(branch, consultant):
    # given a draft order and a car in stock
    order, car = draft_order(branch, consultant), car_in_stock(branch)
    # when the car is allocated before signing
    error = refusal(lambda: services.order_allocate(order=order, stock_vehicle=car, by=consultant))
    # then it is refused and the car stays in stock
    assert isinstance(error, StateConflict) and error.code == "order_not_signed"
    assert error.status_code == 409
    assert error.as_dict() == {
        "detail": error.message,
        "code": "order_not_signed",
        "status": "draft",
    }
    assert fresh(car).status == StockStatus.IN_STOCK
    assert fresh(order).stock_vehicle is None


def test_a_signed_order_is_not_invoiced_before_a_vehicle_is_allocated(branch, consultant):
    # given a signed order paid in full
    order = signed_order(branch, consultant)
    pay(order, consultant, PRICE)
    # when it is invoiced
    error = refusal(
        lambda: services.order_invoice(order=order, by=consultant, invoice_number="44000001")
    )
    # then it is refused
    assert error.code == "order_not_allocated"
    order = fresh(order)
    assert order.status == OrderStatus.SIGNED and order.invoice_number == ""


def test_an_allocated_order_is_not_delivered_before_invoicing(branch, consultant):
    # given an allocated order whose car passed its PDI
    car = car_in_stock(branch)
    services.stock_vehicle_record_pdi(stock_vehicle=car, by=consultant, done_on=TODAY)
    order = allocated_order(branch, consultant, car)
    # when it is delivered
    error = refusal(lambda: deliver(order, consultant))
    # then it is refused and no vehicle was handed over
    assert error.code == "order_not_invoiced"
    assert fresh(order).status == OrderStatus.ALLOCATED
    assert not Delivery.objects.exists() and not Vehicle.objects.exists()


def test_an_order_is_signed_once(branch, consultant):
    # given a signed order
    order = signed_order(branch, consultant)
    signed_at = fresh(order).signed_at
    # when it is signed again
    error = refusal(lambda: services.order_sign(order=order, by=consultant))
    # then it is refused and the first signature stands
    assert error.code == "order_not_draft"
    assert fresh(order).signed_at == signed_at


# --- allocation -------------------------------------------------------------------------


def test_allocating_a_vehicle_reserves_it_for_the_order(branch, consultant):
    # given a signed order and a car in stock
    order, car = signed_order(branch, consultant), car_in_stock(branch)
    # when the car is allocated
    services.order_allocate(order=order, stock_vehicle=car, by=consultant)
    # then it is reserved for the order
    order = fresh(order)
    assert order.status == OrderStatus.ALLOCATED and order.stock_vehicle == car
    assert order.allocated_at is not None
    assert fresh(car).status == StockStatus.RESERVED


@pytest.mark.parametrize(
    "status", [StockStatus.RESERVED, StockStatus.SOLD, StockStatus.DELIVERED, StockStatus.DEMO]
)
def test_allocating_a_vehicle_that_is_not_for_sale_is_refused(branch, consultant, status):
    # given a signed order and a car that is reserved, sold, delivered or a demo car
    order = signed_order(branch, consultant)
    car = car_in_stock(branch, status=status)
    # when it is allocated
    error = refusal(lambda: services.order_allocate(order=order, stock_vehicle=car, by=consultant))
    # then it is refused beside the VIN and nothing changed
    assert isinstance(error, StateConflict) and error.code == "vehicle_not_available"
    assert error.field == "vin" and car.vin in error.message
    assert fresh(car).status == status
    order = fresh(order)
    assert order.status == OrderStatus.SIGNED and order.stock_vehicle is None


def test_vehicle_allocated_to_one_order_cannot_go_to_another(branch, consultant):
    # given a car allocated to one order
    car = car_in_stock(branch)
    allocated_order(branch, consultant, car)
    second = signed_order(branch, consultant)
    # when it is allocated to a second order
    error = refusal(lambda: services.order_allocate(order=second, stock_vehicle=car, by=consultant))
    # then it is refused
    assert error.code == "vehicle_not_available"
    assert fresh(second).stock_vehicle is None


def test_a_vehicle_in_transit_is_reserved_and_stays_reserved_when_it_arrives(branch, consultant):
    # given a signed order and a car still on its way from the factory
    order = signed_order(branch, consultant)
    car = car_in_stock(branch, status=StockStatus.IN_TRANSIT, arrival_date=None)
    # when the car is allocated, then arrives
    services.order_allocate(order=order, stock_vehicle=car, by=consultant)
    services.stock_vehicle_arrive(
        stock_vehicle=car, by=consultant, arrival_date=timezone.localdate()
    )
    # then it is the order's, reserved, and in the yard
    car = fresh(car)
    assert (car.status, fresh(order).stock_vehicle) == (StockStatus.RESERVED, car)
    assert car.arrival_date == timezone.localdate()


def test_a_vehicle_in_transit_is_not_invoiced_before_it_arrives(branch, consultant):
    # given a paid order whose allocated car is still in transit
    order = signed_order(branch, consultant)
    car = car_in_stock(branch, status=StockStatus.IN_TRANSIT, arrival_date=None)
    services.order_allocate(order=order, stock_vehicle=car, by=consultant)
    pay(order, consultant, order.total_price)
    # when the order is invoiced
    error = refusal(
        lambda: services.order_invoice(order=order, by=consultant, invoice_number="44009999")
    )
    # then it is refused and nothing changed
    assert isinstance(error, StateConflict) and error.code == "vehicle_not_arrived"
    assert fresh(order).status == OrderStatus.ALLOCATED
    assert fresh(car).status == StockStatus.RESERVED


def test_allocating_another_branch_vehicle_is_refused(branch, other_branch, consultant):
    # given a car in stock at another branch of the group
    order = signed_order(branch, consultant)
    car = car_in_stock(other_branch)
    # when it is allocated
    error = refusal(lambda: services.order_allocate(order=order, stock_vehicle=car, by=consultant))
    # then it is refused, the car untouched
    assert error.code == "vehicle_other_branch"
    assert fresh(car).status == StockStatus.IN_STOCK
    assert fresh(order).status == OrderStatus.SIGNED


@pytest.mark.django_db(transaction=True)
def test_two_orders_racing_for_one_vin_only_one_gets_it(branch, consultant, sales_manager):
    # given one car in stock and two signed orders for it
    car = car_in_stock(branch)
    first, second = signed_order(branch, consultant), signed_order(branch, consultant)

    # when both are allocated the car in the same instant
    results = run_in_threads(
        lambda: services.order_allocate(order=first, stock_vehicle=car, by=consultant),
        lambda: services.order_allocate(order=second, stock_vehicle=car, by=sales_manager),
    )

    # then exactly one order has the car, and the other is told it is taken
    won = [r for r in results if isinstance(r, Order)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], StateConflict) and lost[0].code == "vehicle_not_available"
    assert Order.objects.filter(stock_vehicle=car, status=OrderStatus.ALLOCATED).count() == 1
    assert Order.objects.filter(status=OrderStatus.SIGNED, stock_vehicle=None).count() == 1
    assert fresh(car).status == StockStatus.RESERVED


# --- payments ---------------------------------------------------------------------------


def test_payment_received_up_to_the_price_is_recorded(branch, consultant):
    # given a signed order with a deposit paid
    order = signed_order(branch, consultant)
    pay(order, consultant, "10000", kind=PaymentKind.DEPOSIT)
    # when the balance is paid to the yuan
    pay(order, consultant, PRICE - 10000)
    # then the order is paid in full
    assert services.paid_total(fresh(order)) == PRICE


def test_overpayment_is_refused(branch, consultant):
    # given a signed order with a 10,000 CNY deposit
    order = signed_order(branch, consultant)
    pay(order, consultant, "10000", kind=PaymentKind.DEPOSIT)
    # when a final payment one yuan over the balance is recorded
    error = refusal(lambda: pay(order, consultant, PRICE - 10000 + 1))
    # then it is refused, naming what is outstanding, and not recorded
    assert error.code == "overpayment" and error.field == "amount"
    assert error.status_code == 400 and not isinstance(error, StateConflict)
    assert "107900.00" in error.message
    assert Payment.objects.filter(order=order).count() == 1


def test_scheduled_payment_that_would_overpay_cannot_be_received(branch, consultant):
    # given a loan disbursement scheduled for the whole price, and a deposit since paid
    order = signed_order(branch, consultant)
    loan = services.payment_record(
        order=order,
        by=consultant,
        data={"kind": PaymentKind.LOAN, "amount": PRICE, "due_on": TODAY + timedelta(days=7)},
    )
    pay(order, consultant, "5000", kind=PaymentKind.DEPOSIT)
    # when the loan arrives in full
    error = refusal(
        lambda: services.payment_receive(
            payment=loan, by=consultant, paid_on=TODAY, method=PaymentMethod.TRANSFER
        )
    )
    # then it is refused and the loan is still awaited
    assert error.code == "overpayment"
    assert fresh(loan).paid_on is None


def test_payment_of_nothing_is_refused(branch, consultant):
    # given a signed order
    order = signed_order(branch, consultant)
    # when a payment of 0 CNY is recorded
    error = refusal(lambda: pay(order, consultant, "0"))
    # then it is refused beside the amount (not left to the CHECK constraint), nothing recorded
    assert error.code == "payment_amount_not_positive" and error.field == "amount"
    assert not Payment.objects.exists()


def test_negative_payment_is_refused(branch, consultant):
    # given a signed order
    order = signed_order(branch, consultant)
    # when a payment of −500 CNY is recorded
    with pytest.raises(ValidationError) as caught:
        pay(order, consultant, "-500")
    # then the amount is refused and nothing recorded
    assert "amount" in caught.value.message_dict
    assert not Payment.objects.exists()


def test_payment_received_in_the_future_is_refused(branch, consultant):
    # given a signed order
    order = signed_order(branch, consultant)
    # when a payment is recorded as received tomorrow
    error = refusal(
        lambda: services.payment_record(
            order=order,
            by=consultant,
            data={
                "kind": PaymentKind.DEPOSIT,
                "amount": Decimal("5000"),
                "paid_on": TODAY + timedelta(days=1),
            },
        )
    )
    # then it is refused
    assert error.code == "payment_in_future"
    assert not Payment.objects.exists()


def test_payment_needs_the_date_paid_or_due(branch, consultant):
    # given a signed order
    order = signed_order(branch, consultant)
    # when a payment has neither date
    error = refusal(
        lambda: services.payment_record(
            order=order, by=consultant, data={"kind": PaymentKind.DEPOSIT, "amount": Decimal("1")}
        )
    )
    # then it is refused
    assert error.code == "payment_date_required"


def test_no_payment_is_taken_on_a_cancelled_order(branch, consultant):
    # given a cancelled order
    order = signed_order(branch, consultant)
    services.order_cancel(order=order, by=consultant, reason="客户放弃购车")
    # when a payment is recorded
    error = refusal(lambda: pay(order, consultant, "5000"))
    # then it is refused
    assert isinstance(error, StateConflict) and error.code == "order_closed"
    assert not Payment.objects.exists()


# --- invoicing --------------------------------------------------------------------------


def test_invoicing_an_order_paid_in_full_sells_the_vehicle(branch, consultant):
    # given an allocated order paid in full
    order = allocated_order(branch, consultant)
    pay(order, consultant, PRICE)
    # when it is invoiced
    services.order_invoice(order=order, by=consultant, invoice_number=" 44001234 ")
    # then it is invoiced under the number and the vehicle is sold
    order = fresh(order)
    assert order.status == OrderStatus.INVOICED and order.invoice_number == "44001234"
    assert order.invoiced_at is not None
    assert order.stock_vehicle.status == StockStatus.SOLD


def test_invoicing_needs_payment_in_full(branch, consultant):
    # given an allocated order with only the deposit paid
    order = allocated_order(branch, consultant)
    pay(order, consultant, "10000", kind=PaymentKind.DEPOSIT)
    # when it is invoiced
    error = refusal(
        lambda: services.order_invoice(order=order, by=consultant, invoice_number="44001234")
    )
    # then it is refused with what is outstanding, and nothing changed
    assert error.code == "order_not_paid"
    assert error.extra == {"outstanding": "107900.00"}
    order = fresh(order)
    assert order.status == OrderStatus.ALLOCATED and order.invoice_number == ""
    assert order.stock_vehicle.status == StockStatus.RESERVED


def test_invoice_number_is_unique(branch, consultant):
    # given an invoiced order, and another paid in full
    invoiced = invoiced_order(branch, consultant)
    order = allocated_order(branch, consultant)
    pay(order, consultant, PRICE)
    # when the second is invoiced under the first's number
    error = refusal(
        lambda: services.order_invoice(
            order=order, by=consultant, invoice_number=fresh(invoiced).invoice_number
        )
    )
    # then it is refused beside the number
    assert error.code == "duplicate_invoice_number" and error.field == "invoice_number"
    assert fresh(order).status == OrderStatus.ALLOCATED


def test_invoice_needs_its_number(branch, consultant):
    # given an allocated order paid in full
    order = allocated_order(branch, consultant)
    pay(order, consultant, PRICE)
    # when it is invoiced with a blank number
    error = refusal(lambda: services.order_invoice(order=order, by=consultant, invoice_number=" "))
    # then it is refused
    assert error.code == "invoice_number_required"
    assert fresh(order).status == OrderStatus.ALLOCATED


# --- cancellation -----------------------------------------------------------------------


def test_cancelling_an_order_needs_a_reason(branch, consultant):
    # given a signed order
    order = signed_order(branch, consultant)
    # when it is cancelled without a reason
    error = refusal(lambda: services.order_cancel(order=order, by=consultant, reason="  "))
    # then it is refused and the order stands
    assert error.code == "cancel_reason_required" and error.field == "reason"
    assert fresh(order).status == OrderStatus.SIGNED


def test_cancelling_after_a_deposit_needs_the_deposit_handling(branch, consultant):
    # given an allocated order with a deposit paid
    order = allocated_order(branch, consultant)
    pay(order, consultant, "10000", kind=PaymentKind.DEPOSIT)
    # when it is cancelled without saying what happens to the deposit
    error = refusal(
        lambda: services.order_cancel(order=order, by=consultant, reason="贷款未获批准")
    )
    # then it is refused, and the order still holds its car
    assert error.code == "deposit_handling_required" and error.field == "deposit_handling"
    order = fresh(order)
    assert order.status == OrderStatus.ALLOCATED
    assert order.stock_vehicle.status == StockStatus.RESERVED


def test_cancelling_releases_the_vehicle_to_stock_for_another_order(branch, consultant):
    # given an allocated order with a deposit paid
    car = car_in_stock(branch)
    order = allocated_order(branch, consultant, car)
    pay(order, consultant, "10000", kind=PaymentKind.DEPOSIT)
    # when it is cancelled and the deposit refunded
    services.order_cancel(
        order=order,
        by=consultant,
        reason="贷款未获批准",
        deposit_handling=DepositHandling.REFUNDED,
    )
    # then the order is cancelled with its reason and deposit handling, the car is back in
    # stock, and another order can have it
    order = fresh(order)
    assert order.status == OrderStatus.CANCELLED and order.cancelled_at is not None
    assert (order.cancel_reason, order.deposit_handling) == ("贷款未获批准", "refunded")
    assert order.stock_vehicle is None
    assert fresh(car).status == StockStatus.IN_STOCK
    assert TimelineEntry.objects.filter(customer=order.customer, kind="order_cancelled").exists()
    other = allocated_order(branch, consultant, car)
    assert fresh(other).stock_vehicle == car


def test_cancelling_with_nothing_paid_records_no_deposit(branch, consultant):
    # given a draft order nothing was paid on
    order = draft_order(branch, consultant)
    # when it is cancelled (a deposit handling given anyway)
    services.order_cancel(
        order=order, by=consultant, reason="客户放弃", deposit_handling=DepositHandling.FORFEITED
    )
    # then the order records that no deposit was paid
    assert fresh(order).deposit_handling == DepositHandling.NONE


def test_delivered_order_cannot_be_cancelled(branch, consultant):
    # given a delivered order
    order = invoiced_order(branch, consultant)
    deliver(order, consultant)
    # when it is cancelled
    error = refusal(
        lambda: services.order_cancel(
            order=order, by=consultant, reason="客户反悔", deposit_handling="refunded"
        )
    )
    # then it is refused; the car stays delivered
    assert isinstance(error, StateConflict) and error.code == "order_not_cancellable"
    order = fresh(order)
    assert order.status == OrderStatus.DELIVERED
    assert order.stock_vehicle.status == StockStatus.DELIVERED


# --- delivery ---------------------------------------------------------------------------


def test_delivery_makes_the_car_the_customer_vehicle(branch, consultant):
    # given an invoiced order whose car passed its PDI
    order = invoiced_order(branch, consultant)
    stock = fresh(order).stock_vehicle
    # when the car is handed over
    delivery = deliver(order, consultant, odometer_km=15)
    # then the customer owns a vehicle with the stock car's VIN from today, the order and the
    # stock car are delivered, and the timeline shows the new vehicle and the delivery
    vehicle = Vehicle.objects.get(vin=stock.vin)
    order = fresh(order)
    assert vehicle.owner == order.customer and vehicle.delivery_date == TODAY
    assert (vehicle.brand, vehicle.series, vehicle.plate) == ("大众", "朗逸", "粤A7Q3D9")
    assert fresh(delivery).vehicle == vehicle
    ownership = VehicleOwnership.objects.get(vehicle=vehicle)
    assert ownership.customer == order.customer and ownership.started_on == TODAY
    assert order.status == OrderStatus.DELIVERED and order.delivered_at is not None
    assert fresh(stock).status == StockStatus.DELIVERED
    kinds = set(
        TimelineEntry.objects.filter(customer=order.customer).values_list("kind", flat=True)
    )
    assert {"vehicle_added", "vehicle_delivered"} <= kinds
    assert Lead.objects.get(pk=order.lead_id).delivered_at is not None


def test_delivery_without_a_pdi_is_refused(branch, consultant):
    # given an invoiced order whose car was never inspected
    order = invoiced_order(branch, consultant, pdi=False)
    # when it is delivered
    error = refusal(lambda: deliver(order, consultant))
    # then it is refused and nothing was handed over
    assert isinstance(error, StateConflict) and error.code == "pdi_missing"
    assert fresh(order).status == OrderStatus.INVOICED
    assert fresh(order).stock_vehicle.status == StockStatus.SOLD
    assert not Delivery.objects.exists() and not Vehicle.objects.exists()


@pytest.mark.parametrize("missing", EVERY_CHECK)
def test_delivery_with_a_check_not_done_is_refused(branch, consultant, missing):
    # given an invoiced, inspected order
    order = invoiced_order(branch, consultant)
    # when it is delivered with one check of the handover not done
    error = refusal(
        lambda: deliver(order, consultant, checklist=[c for c in EVERY_CHECK if c != missing])
    )
    # then it is refused beside the checklist, naming the missing check
    assert error.code == "checklist_incomplete" and error.field == "checklist"
    assert str(DeliveryCheck(missing).label) in error.message
    assert not Delivery.objects.exists() and not Vehicle.objects.exists()
    assert fresh(order).status == OrderStatus.INVOICED


@pytest.mark.parametrize("missing", ["invoice", "certificate", "manual", "warranty", "keys"])
def test_delivery_without_a_required_document_is_refused(branch, consultant, missing):
    # given an invoiced, inspected order
    order = invoiced_order(branch, consultant)
    # when one required document is not handed over
    error = refusal(
        lambda: deliver(order, consultant, documents=[d for d in EVERY_DOCUMENT if d != missing])
    )
    # then it is refused beside the documents, and nothing was handed over
    assert error.code == "documents_missing" and error.field == "documents"
    assert not Delivery.objects.exists() and not Vehicle.objects.exists()
    assert fresh(order).status == OrderStatus.INVOICED


def test_insurance_and_registration_papers_may_follow_later(branch, consultant):
    # given an invoiced, inspected order
    order = invoiced_order(branch, consultant)
    # when it is delivered without the insurance policy and registration papers
    deliver(order, consultant, documents=["invoice", "certificate", "manual", "warranty", "keys"])
    # then the delivery is recorded
    assert fresh(order).status == OrderStatus.DELIVERED


@pytest.mark.parametrize("days", [1, -5])
def test_delivery_dated_before_the_pdi_or_in_the_future_is_refused(branch, consultant, days):
    # given an invoiced order whose PDI was four days ago
    order = invoiced_order(branch, consultant)
    # when the delivery is dated tomorrow, or five days ago
    error = refusal(lambda: deliver(order, consultant, delivered_on=TODAY + timedelta(days=days)))
    # then it is refused
    assert error.code == "delivery_date_invalid"
    assert not Delivery.objects.exists()


def test_delivery_is_recorded_once(branch, consultant):
    # given a delivered order
    order = invoiced_order(branch, consultant)
    deliver(order, consultant)
    # when it is delivered again
    error = refusal(lambda: deliver(order, consultant))
    # then it is refused
    assert error.code == "order_not_invoiced"
    assert Delivery.objects.count() == 1 and Vehicle.objects.count() == 1


@pytest.fixture
def delivered_events():
    """The delivery ids `vehicle_delivered` was sent with, in this test."""
    received: list[int] = []

    def receiver(sender, delivery_id, **kwargs):
        received.append(delivery_id)

    vehicle_delivered.connect(receiver, weak=False, dispatch_uid="test_services_orders")
    yield received
    vehicle_delivered.disconnect(dispatch_uid="test_services_orders")


@pytest.mark.django_db(transaction=True)
def test_vehicle_delivered_is_published_once_the_delivery_is_committed(
    branch, consultant, delivered_events
):
    # given an invoiced, inspected order
    order = invoiced_order(branch, consultant)
    # when the delivery is recorded inside a larger transaction
    with transaction.atomic():
        delivery = deliver(order, consultant)
        # then nothing is published while it may still roll back
        assert delivered_events == []
    # and the event goes out, once, after the commit
    assert delivered_events == [delivery.pk]


@pytest.mark.django_db(transaction=True)
def test_vehicle_delivered_is_not_published_when_the_delivery_rolls_back(
    branch, consultant, delivered_events
):
    # given an invoiced, inspected order
    order = invoiced_order(branch, consultant)

    # when the delivery is recorded but the surrounding transaction fails
    class HandoverAborted(Exception):
        pass

    with pytest.raises(HandoverAborted), transaction.atomic():
        deliver(order, consultant)
        raise HandoverAborted

    # then nothing was published and nothing of the delivery remains
    assert delivered_events == []
    assert not Delivery.objects.exists() and not Vehicle.objects.exists()
    assert fresh(order).status == OrderStatus.INVOICED


def test_cancelling_the_order_that_won_a_lead_loses_the_lead_for_the_reason_given(
    branch, consultant
):
    # given a signed order: its lead is won
    order = signed_order(branch, consultant)
    assert fresh(order.lead).status == LeadStatus.WON
    # when the customer withdraws because the financing fell through
    services.order_cancel(
        order=order, by=consultant, reason="贷款未获批", lost_reason=LostReason.FINANCING
    )
    # then the lead is lost, for that reason, with the cancellation as its note
    lead = fresh(order.lead)
    assert (lead.status, lead.lost_reason) == (LeadStatus.LOST, LostReason.FINANCING)
    assert lead.closing_note == "贷款未获批"


def test_a_lead_with_another_standing_order_stays_won(branch, consultant):
    # given a won lead with two orders (two cars for one family)
    first = signed_order(branch, consultant)
    OrderFactory(branch=branch, lead=first.lead, customer=first.customer, status=OrderStatus.SIGNED)
    # when the first order is cancelled
    services.order_cancel(order=first, by=consultant, reason="只要一台")
    # then the lead is still won
    assert fresh(first.lead).status == LeadStatus.WON
