"""A car's visit end to end through the services: booked, checked in at 30,000 km with its
recommendations, an added item confirmed, parts reserved and issued by the stockroom, the
work signed by technician, QC and team lead, settled within 10% of the estimate, closed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import TimelineEntry
from parts import services as parts_services
from parts.choices import IssueStatus, MoveKind
from parts.models import StockMove
from service import services
from service.choices import (
    ConfirmationMethod,
    PaymentMethod,
    ServiceType,
    WorkOrderStatus,
)
from service.models import Recommendation
from tests.factories import CustomerFactory, PartFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def test_a_repair_visit_from_booking_to_close(branch, advisor, technician, parts_clerk):
    # given a customer's car with 29,800 km booked for tomorrow 09:00
    customer = CustomerFactory(branch=branch)
    vehicle = VehicleFactory(owner=customer, transmission="automatic")
    start = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    (slot,) = services.slots_open(
        branch=branch,
        service_type=ServiceType.REPAIR,
        starts=[start + timedelta(days=1)],
        capacity=2,
        by=advisor,
    )
    appointment = services.appointment_book(
        slot=slot, customer=customer, vehicle=vehicle, advisor=advisor,
        contact_phone=customer.mobile, complaint="刹车异响", by=advisor,
    )  # fmt: skip
    pads = PartFactory(name="前刹车片", price=Decimal("380.00"))
    parts_services.stock_move_post(
        branch=branch, part=pads, kind=MoveKind.RECEIPT, amount=Decimal(4),
        unit_cost=Decimal("200.00"), by=parts_clerk,
    )  # fmt: skip

    # when the car is checked in at 30,000 km with an estimate of 1,000
    work_order = services.work_order_open(
        branch=branch, customer=customer, vehicle=vehicle, appointment=appointment, by=advisor,
        data={
            "service_type": ServiceType.REPAIR, "contact_name": customer.name,
            "contact_phone": customer.mobile, "phone_confirmed": True, "plate": vehicle.plate,
            "mileage_in": 30_000, "fuel_level": "half", "complaint": "踩刹车时前轮有异响",
            "estimate": Decimal("1000.00"),
        },
    )  # fmt: skip
    # then the 30,000 km items are recommended and the appointment is checked in
    recommended = set(work_order.recommendations.values_list("description", flat=True))
    assert {"Spark plugs", "Engine oil", "Oil filter"} <= recommended
    appointment.refresh_from_db()
    assert appointment.status == "checked_in"

    # when the work is planned: pads (reserved), labour, and an added item the customer confirms
    pad_line = services.part_line_add(
        work_order=work_order, part=pads, quantity=Decimal(2), by=advisor
    )
    labour = services.labour_line_add(
        work_order=work_order, operation="更换前刹车片", standard_hours=Decimal("1.0"),
        rate=Decimal("200.00"), technician=technician, by=advisor,
    )  # fmt: skip
    item = services.added_item_add(
        work_order=work_order, description="刹车油更换", estimate=Decimal("150.00"), by=advisor
    )
    extra = services.labour_line_add(
        work_order=work_order, operation="更换刹车油", standard_hours=Decimal("0.5"),
        rate=Decimal("200.00"), technician=technician, by=advisor, added_item=item,
    )  # fmt: skip
    services.work_order_start(work_order=work_order, by=advisor)
    services.added_item_confirm(
        added_item=item, confirmed_by=customer.name, method=ConfirmationMethod.PHONE, by=advisor
    )
    # the stockroom issues the pads to the job
    for step in (
        IssueStatus.CHECKED,
        IssueStatus.PICKED,
        IssueStatus.RECHECKED,
        IssueStatus.HANDED_OVER,
    ):
        parts_services.part_issue_advance(issue=pad_line.issue, step=step, by=parts_clerk)
    now = timezone.now()
    services.labour_line_sign(line=labour, by=technician, at=now - timedelta(minutes=30))
    services.labour_line_sign(line=extra, by=technician, at=now - timedelta(minutes=20))
    services.work_order_submit_for_qc(work_order=work_order, by=technician)
    services.road_test_record(
        work_order=work_order, tested_by=technician, tested_at=now - timedelta(minutes=15),
        distance_km=5, passed=True, by=technician,
    )  # fmt: skip
    services.work_order_quality_check(
        work_order=work_order, inspector=technician, at=now - timedelta(minutes=10), passed=True,
        by=technician,
    )  # fmt: skip
    services.work_order_release(
        work_order=work_order, team_lead=technician, at=now - timedelta(minutes=5), by=technician
    )
    # total 2 × 380 + 1.5 h × 200 = 1,060: within 10% of the 1,000 estimate
    settlement = services.work_order_settle(
        work_order=work_order, payment_method=PaymentMethod.WECHAT,
        paid_amount=Decimal("1060.00"), by=advisor,
    )  # fmt: skip
    services.work_order_close(work_order=work_order, by=advisor)

    # then the settlement holds the work order's lines, the pads left the ledger, and the
    # visit is on the customer's timeline
    work_order.refresh_from_db()
    assert work_order.status == WorkOrderStatus.CLOSED
    assert settlement.total == Decimal("1060.00")
    assert settlement.lines.count() == 3
    issued = StockMove.objects.get(part=pads, kind=MoveKind.WORK_ORDER_ISSUE)
    assert (issued.quantity, issued.document) == (Decimal(-2), work_order.number)
    assert TimelineEntry.objects.filter(customer=customer, kind="work_order_closed").exists()
    assert vehicle.odometer_readings.get().km == 30_000
    assert Recommendation.objects.filter(vehicle=vehicle).count() >= 3
