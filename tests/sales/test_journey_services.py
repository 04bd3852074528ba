"""The whole funnel through the services: a website lead to a delivered vehicle."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import TimelineEntry, Vehicle, VehicleOwnership
from sales import services
from sales.choices import (
    ActivityKind,
    ActivityOutcome,
    DeliveryCheck,
    DeliveryDocument,
    LeadSource,
    LeadStatus,
    OrderStatus,
    PaymentKind,
    QuoteStatus,
    StockStatus,
    TestDriveStatus,
)
from sales.events import vehicle_delivered
from tests.factories import vin

SERIAL = iter(range(900, 999))

pytestmark = pytest.mark.django_db(transaction=False)


def test_a_website_lead_walks_to_delivery(
    branch, consultant, sales_manager, django_capture_on_commit_callbacks
):
    # given stock: one demo car and one vehicle to sell, inspected on arrival
    today = timezone.localdate()
    demo = services.stock_vehicle_create(
        branch=branch,
        by=sales_manager,
        data={
            "vin": vin(next(SERIAL)),
            "brand": "大众",
            "series": "途观L",
            "list_price": Decimal("219900"),
            "status": StockStatus.DEMO,
        },
    )
    car = services.stock_vehicle_create(
        branch=branch,
        by=sales_manager,
        data={
            "vin": vin(next(SERIAL)),
            "brand": "大众",
            "series": "途观L",
            "colour": "白",
            "list_price": Decimal("219900"),
            "status": StockStatus.IN_STOCK,
            "arrival_date": today - timedelta(days=3),
        },
    )
    services.stock_vehicle_record_pdi(stock_vehicle=car, by=sales_manager, done_on=today)

    # when the lead goes through every stage
    lead = services.lead_create(
        branch=branch,
        by=consultant,
        data={
            "source": LeadSource.WEBSITE,
            "name": "王小明",
            "mobile": "13912345678",
            "model_of_interest": "途观L",
            "intent_level": "H",
        },
    )
    assert lead.consultant == consultant and lead.next_follow_up_on == today
    services.lead_verify(lead=lead, by=consultant)
    services.activity_log(
        lead=lead, by=consultant, kind=ActivityKind.VISIT, outcome=ActivityOutcome.REACHED
    )
    start = timezone.now() - timedelta(hours=1)
    drive = services.test_drive_book(
        lead=lead,
        by=consultant,
        data={
            "demo_vehicle": demo,
            "driver_name": "王小明",
            "driver_licence_number": "11010519491231002X",
            "starts_at": start,
            "ends_at": start + timedelta(minutes=30),
            "route": "天河路—体育西路",
        },
    )
    services.test_drive_complete(
        test_drive=drive, by=consultant, agreement_signed=True, feedback="空间大"
    )
    quote = services.quote_create(
        lead=lead,
        by=consultant,
        data={
            "brand": "大众",
            "series": "途观L",
            "list_price": Decimal("219900"),
            "discount": Decimal("8000"),
            "insurance_price": Decimal("6500"),
            "registration_fee": Decimal("500"),
        },
    )
    assert quote.needs_approval and quote.total == Decimal("218900.00")
    services.quote_submit(quote=quote, by=consultant)
    services.quote_approve(quote=quote, by=sales_manager)
    services.quote_send(quote=quote, by=consultant)
    order = services.order_create(quote=quote, by=consultant)
    services.order_sign(order=order, by=consultant)
    services.payment_record(
        order=order,
        by=consultant,
        data={"kind": PaymentKind.DEPOSIT, "amount": Decimal("10000"), "paid_on": today},
    )
    services.order_allocate(order=order, stock_vehicle=car, by=consultant)
    services.payment_record(
        order=order,
        by=consultant,
        data={"kind": PaymentKind.FINAL, "amount": Decimal("208900"), "paid_on": today},
    )
    services.order_invoice(order=order, by=consultant, invoice_number="44001234")
    with django_capture_on_commit_callbacks(execute=True):
        received = []
        vehicle_delivered.connect(
            lambda sender, delivery_id, **kw: received.append(delivery_id),
            weak=False,
            dispatch_uid="journey",
        )
        delivery = services.delivery_record(
            order=order,
            by=consultant,
            delivered_on=today,
            checklist=list(DeliveryCheck.values),
            documents=list(DeliveryDocument.values),
        )
    vehicle_delivered.disconnect(dispatch_uid="journey")

    # then the car is the customer's, every stage is stamped and the event went out
    lead.refresh_from_db()
    order.refresh_from_db()
    car.refresh_from_db()
    drive.refresh_from_db()
    quote.refresh_from_db()
    assert lead.status == LeadStatus.WON
    assert all(
        [
            lead.verified_at,
            lead.contacted_at,
            lead.visited_at,
            lead.test_driven_at,
            lead.quoted_at,
            lead.ordered_at,
            lead.delivered_at,
        ]
    )
    assert drive.status == TestDriveStatus.DONE and quote.status == QuoteStatus.SENT
    assert order.status == OrderStatus.DELIVERED and car.status == StockStatus.DELIVERED
    vehicle = Vehicle.objects.get(vin=car.vin)
    assert vehicle.owner == order.customer == lead.customer
    assert VehicleOwnership.objects.get(vehicle=vehicle).started_on == today
    assert TimelineEntry.objects.filter(customer=order.customer, kind="vehicle_delivered").exists()
    assert received == [delivery.pk]
