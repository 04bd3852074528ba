"""Service records built the way the service department builds them: through the services.

A work order is driven from check-in to any status with `open_work_order`, `start`,
`to_quality_check`, `to_ready`, `settle`; refusals are caught with `refusal` and "nothing
changed" is checked with `state` (every column of a row, re-read) and `counts`."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from dealer_crm.errors import DomainError
from parts import services as parts_services
from parts.choices import IssueStatus, MoveKind
from parts.models import PartStock
from service import services
from service.choices import ChecklistResult, FuelLevel, PaymentMethod, ServiceType, TyrePosition
from tests.factories import CustomerFactory, PartFactory, VehicleFactory

HAND_OVER_STEPS = [
    IssueStatus.CHECKED,
    IssueStatus.PICKED,
    IssueStatus.RECHECKED,
    IssueStatus.HANDED_OVER,
]
CAR_TYRES = [
    TyrePosition.FRONT_LEFT,
    TyrePosition.FRONT_RIGHT,
    TyrePosition.REAR_LEFT,
    TyrePosition.REAR_RIGHT,
]


def refusal(call) -> DomainError:
    """What the service raised when it refused `call`."""
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def fresh(instance):
    return type(instance).objects.get(pk=instance.pk)


def state(instance) -> dict:
    """Every column of the row as the database holds it now."""
    row = fresh(instance)
    return {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields}


def counts(*models) -> dict:
    return {model.__name__: model.objects.count() for model in models}


def minutes_ago(minutes: int):
    return timezone.now() - timedelta(minutes=minutes)


# --- customers, cars and parts -------------------------------------------------------------


def customer_car(branch, **vehicle):
    """A customer of `branch` and their car (automatic unless said otherwise)."""
    customer = CustomerFactory(branch=branch)
    vehicle.setdefault("transmission", "automatic")
    return customer, VehicleFactory(owner=customer, **vehicle)


def part_in_stock(branch, clerk, quantity=4, *, price="100.00", cost="60.00"):
    part = PartFactory(price=Decimal(price))
    parts_services.stock_move_post(
        branch=branch, part=part, kind=MoveKind.RECEIPT, amount=Decimal(quantity),
        unit_cost=Decimal(cost), by=clerk,
    )  # fmt: skip
    return part


def stock_of(branch, part) -> PartStock:
    return PartStock.objects.get(branch=branch, part=part)


def hand_over(issue, clerk):
    for step in HAND_OVER_STEPS:
        issue = parts_services.part_issue_advance(issue=issue, step=step, by=clerk)
    return issue


# --- work orders ---------------------------------------------------------------------------


def check_in_data(customer, vehicle, **overrides) -> dict:
    return {
        "service_type": ServiceType.REPAIR,
        "contact_name": customer.name,
        "contact_phone": customer.mobile,
        "phone_confirmed": True,
        "plate": vehicle.plate,
        "mileage_in": 12_000,
        "fuel_level": FuelLevel.HALF,
        "complaint": "踩刹车时前轮有异响",
        "estimate": Decimal("200.00"),
        **overrides,
    }


def open_work_order(
    branch, advisor, *, customer=None, vehicle=None, appointment=None, odometer_replaced=False,
    **data,
):  # fmt: skip
    """接车 of `vehicle` (a new customer's car when not given) with `data` over the defaults."""
    if vehicle is None:
        customer, vehicle = customer_car(branch)
    customer = customer or vehicle.owner
    return services.work_order_open(
        branch=branch, customer=customer, vehicle=vehicle, appointment=appointment, by=advisor,
        data=check_in_data(customer, vehicle, **data), odometer_replaced=odometer_replaced,
    )  # fmt: skip


def labour(work_order, technician, by, *, hours="1.0", rate="200.00", operation=None, **kw):
    return services.labour_line_add(
        work_order=work_order, operation=operation or f"工时 {hours} h × {rate}",
        standard_hours=Decimal(hours), rate=Decimal(rate), technician=technician, by=by, **kw,
    )  # fmt: skip


def start(work_order, advisor):
    return services.work_order_start(work_order=work_order, by=advisor)


def complete_maintenance(work_order, technician, *, tread="6.0", pressure="2.3"):
    """Every checklist item ticked and the four tyres measured."""
    for item in work_order.checklist_items.all():
        services.checklist_item_mark(item=item, result=ChecklistResult.DONE, by=technician)
    for position in CAR_TYRES:
        services.tyre_reading_record(
            work_order=work_order, position=position, pressure_bar=Decimal(pressure),
            tread_mm=Decimal(tread), by=technician,
        )  # fmt: skip


def to_quality_check(work_order, technician, *, signed_minutes_ago=30):
    """Every line signed by its technician (maintenance: checklist and tyres too), submitted."""
    for line in work_order.labour_lines.filter(done_at__isnull=True):
        services.labour_line_sign(line=line, by=technician, at=minutes_ago(signed_minutes_ago))
    if work_order.service_type == ServiceType.MAINTENANCE:
        complete_maintenance(work_order, technician)
    return services.work_order_submit_for_qc(work_order=work_order, by=technician)


def road_test(work_order, technician, *, passed=True, at=None):
    return services.road_test_record(
        work_order=work_order, tested_by=technician, tested_at=at or minutes_ago(20),
        distance_km=5, passed=passed, by=technician,
    )  # fmt: skip


def quality_check(work_order, technician, *, at=None, passed=True):
    return services.work_order_quality_check(
        work_order=work_order, inspector=technician, at=at or minutes_ago(10), passed=passed,
        by=technician,
    )  # fmt: skip


def release(work_order, technician, *, at=None):
    return services.work_order_release(
        work_order=work_order, team_lead=technician, at=at or minutes_ago(5), by=technician
    )


def to_ready(work_order, technician):
    """Road test (unless maintenance), QC and the team lead's sign-off."""
    if work_order.service_type != ServiceType.MAINTENANCE:
        road_test(work_order, technician)
    quality_check(work_order, technician)
    return release(work_order, technician)


def in_progress_work_order(branch, advisor, technician, *, hours="1.0", rate="200.00", **data):
    """An open work order with one labour line of `hours` × `rate`, started."""
    work_order = open_work_order(branch, advisor, **data)
    labour(work_order, technician, advisor, hours=hours, rate=rate)
    return start(work_order, advisor)


def ready_work_order(branch, advisor, technician, **data):
    """A work order signed off by technician, QC and team lead: ready to settle."""
    work_order = in_progress_work_order(branch, advisor, technician, **data)
    to_quality_check(work_order, technician)
    return to_ready(work_order, technician)


def total_of(work_order) -> Decimal:
    return services.work_order_totals(fresh(work_order))["total"]


def settle(
    work_order, advisor, *, paid=None, discount=Decimal("0"), payment_method=PaymentMethod.WECHAT,
    **kw,
):  # fmt: skip
    """Settle, the customer paying the whole bill less `discount` unless `paid` says."""
    paid = total_of(work_order) - discount if paid is None else Decimal(paid)
    return services.work_order_settle(
        work_order=work_order, payment_method=payment_method, paid_amount=paid, by=advisor,
        discount=discount, **kw,
    )  # fmt: skip
