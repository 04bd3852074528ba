"""Bad input through the service API: each refusal answers its stable code with the status of
API.md, and leaves every row as it was."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import OdometerReading
from service.models import AddedItem, Settlement, TyreReading, WorkOrder
from tests.service.helpers import (
    counts,
    customer_car,
    in_progress_work_order,
    labour,
    open_work_order,
    part_in_stock,
    road_test,
    state,
    stock_of,
    to_quality_check,
    total_of,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/"


def iso(moment) -> str:
    return moment.isoformat()


def check_in_body(customer, vehicle, km: int, **extra) -> dict:
    return {
        "customer": customer.pk, "vehicle": vehicle.pk, "service_type": "repair",
        "contact_name": customer.name, "contact_phone": customer.mobile,
        "phone_confirmed": True, "plate": vehicle.plate, "mileage_in": km,
        "fuel_level": "half", "complaint": "发动机异响", "estimate": "500.00", **extra,
    }  # fmt: skip


def test_settling_before_quality_check_is_refused(api_as, branch, advisor, technician):
    # given a work order still in the workshop
    work_order = in_progress_work_order(branch, advisor, technician)
    before = state(work_order)
    # when the advisor settles it
    response = api_as(advisor).post(
        f"{API}work-orders/{work_order.pk}/settle/",
        {"payment_method": "cash", "paid_amount": "200.00"},
    )
    # then it is refused as not ready, and nothing changed
    assert response.status_code == 409
    assert response.json()["code"] == "work_order_not_ready"
    assert response.json()["detail"]
    assert state(work_order) == before
    assert not Settlement.objects.exists()


def test_quality_check_before_the_technician_signed_is_refused(api_as, branch, advisor, technician):
    # given a car whose technician signed 30 minutes ago, road tested, waiting for QC
    work_order = in_progress_work_order(branch, advisor, technician)
    to_quality_check(work_order, technician, signed_minutes_ago=30)
    road_test(work_order, technician)
    before = state(work_order)
    # when QC signs at a time 40 minutes ago
    response = api_as(technician).post(
        f"{API}work-orders/{work_order.pk}/quality-check/",
        {"passed": True, "at": iso(timezone.now() - timedelta(minutes=40))},
    )
    # then it is refused beside the time, and nobody signed
    assert response.status_code == 400
    assert response.json()["code"] == "qc_before_technician"
    assert "at" in response.json()
    assert state(work_order) == before


def test_a_mileage_lower_than_the_last_reading_is_refused(api_as, branch, advisor):
    # given a car last seen at 30,000 km
    customer, vehicle = customer_car(branch)
    open_work_order(branch, advisor, customer=customer, vehicle=vehicle, mileage_in=30_000)
    before = counts(WorkOrder, OdometerReading)
    # when it is checked in at 29,000 km
    response = api_as(advisor).post(f"{API}work-orders/", check_in_body(customer, vehicle, 29_000))
    # then it is refused, and neither a work order nor a reading was made
    assert response.status_code == 400
    assert response.json()["code"] == "odometer_lower_than_last"
    assert "mileage_in" in response.json()  # the message stands beside the field sent
    assert counts(WorkOrder, OdometerReading) == before


def test_a_lower_mileage_is_kept_when_the_odometer_was_replaced(api_as, branch, advisor):
    # given a car last seen at 30,000 km whose odometer was since replaced
    customer, vehicle = customer_car(branch)
    open_work_order(branch, advisor, customer=customer, vehicle=vehicle, mileage_in=30_000)
    # when it is checked in at 120 km, saying so
    response = api_as(advisor).post(
        f"{API}work-orders/", check_in_body(customer, vehicle, 120, odometer_replaced=True)
    )
    # then the work order is opened and the reading recorded as a replacement
    assert response.status_code == 201, response.json()
    assert response.json()["mileage_in"] == 120
    assert vehicle.odometer_readings.get(km=120).is_replacement


@pytest.mark.parametrize("tread", ["-1", "40"])
def test_a_tread_depth_out_of_range_is_refused(api_as, branch, advisor, technician, tread):
    # given a car in the workshop
    work_order = in_progress_work_order(branch, advisor, technician)
    before = state(work_order)
    # when the technician records a tread depth of -1 or 40 mm
    response = api_as(technician).post(
        f"{API}work-orders/{work_order.pk}/tyres/",
        {"position": "front_left", "pressure_bar": "2.3", "tread_mm": tread},
    )
    # then it is refused beside the tread, and no reading or recommendation was made
    assert response.status_code == 400
    assert "tread_mm" in response.json()
    assert not TyreReading.objects.exists()
    assert state(work_order) == before
    assert work_order.recommendations.filter(description__startswith="Replace").count() == 0


def test_a_worn_tyre_is_recorded_with_a_recommendation(api_as, branch, advisor, technician):
    work_order = in_progress_work_order(branch, advisor, technician)
    response = api_as(technician).post(
        f"{API}work-orders/{work_order.pk}/tyres/",
        {"position": "rear_left", "pressure_bar": "2.2", "tread_mm": "2.5"},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["tread_mm"] == "2.5"
    assert work_order.recommendations.filter(description__startswith="Replace tyre").exists()


def test_signing_the_work_of_an_unconfirmed_added_item_is_refused(
    api_as, branch, advisor, technician
):
    # given an added item the customer has not confirmed, with its labour line, work started
    work_order = open_work_order(branch, advisor)
    client = api_as(advisor)
    item = client.post(
        f"{API}work-orders/{work_order.pk}/added-items/",
        {"description": "更换刹车油", "estimate": "150.00"},
    ).json()
    line = labour(work_order, technician, advisor, added_item=AddedItem.objects.get(pk=item["id"]))
    assert client.post(f"{API}work-orders/{work_order.pk}/start/").status_code == 200
    before = state(line)
    # when the technician signs that line
    response = api_as(technician).post(f"{API}labour-lines/{line.pk}/sign/")
    # then it is refused until the customer confirms, and the line stays unsigned
    assert response.status_code == 409
    assert response.json()["code"] == "added_item_unconfirmed"
    assert state(line) == before


def test_an_overrun_above_ten_percent_needs_the_customers_approval(
    api_as, branch, advisor, technician
):
    # given a car ready to settle at 400 against an estimate of 200
    work_order = in_progress_work_order(branch, advisor, technician, hours="2.0")
    to_quality_check(work_order, technician)
    road_test(work_order, technician)
    client, workshop = api_as(advisor), api_as(technician)
    url = f"{API}work-orders/{work_order.pk}/"
    assert workshop.post(f"{url}quality-check/", {"passed": True}).status_code == 200
    assert workshop.post(f"{url}release/").status_code == 200
    before = state(work_order)
    body = {"payment_method": "card", "paid_amount": str(total_of(work_order))}
    # when the advisor settles without the customer's approval
    refused = client.post(f"{url}settle/", body)
    # then it is refused and nothing changed
    assert refused.status_code == 409
    assert refused.json()["code"] == "overrun_not_approved"
    assert state(work_order) == before
    assert not Settlement.objects.exists()
    # and once the customer approves the overrun, it settles
    approved = client.post(f"{url}approve-overrun/", {"approved_by": "王先生", "method": "phone"})
    assert approved.status_code == 200
    settled = client.post(f"{url}settle/", body)
    assert settled.status_code == 201, settled.json()
    assert settled.json()["total"] == "400.00"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"standard_hours": "abc"}, "standard_hours"),
        ({"standard_hours": "0"}, "standard_hours"),
        ({"operation": "x" * 201}, "operation"),
        ({"technician": 999_999}, "technician"),
        ({"rate": "-1"}, "rate"),
    ],
)
def test_a_bad_labour_line_is_a_field_error(api_as, branch, advisor, technician, body, field):
    work_order = open_work_order(branch, advisor)
    payload = {"operation": "更换机油", "standard_hours": "1.0", "rate": "200.00",
               "technician": technician.pk, **body}  # fmt: skip
    response = api_as(advisor).post(f"{API}work-orders/{work_order.pk}/labour-lines/", payload)
    assert response.status_code == 400
    assert field in response.json()
    assert not work_order.labour_lines.exists()


def test_a_check_in_without_the_phone_confirmed_is_refused(api_as, branch, advisor):
    customer, vehicle = customer_car(branch)
    response = api_as(advisor).post(
        f"{API}work-orders/", check_in_body(customer, vehicle, 1000, phone_confirmed=False)
    )
    assert response.status_code == 400
    assert response.json()["code"] == "phone_not_confirmed"
    assert not WorkOrder.objects.exists()


def test_parts_lines_removed_release_their_reservation(api_as, branch, advisor, parts_clerk):
    # given a parts line reserved on a voucher
    part = part_in_stock(branch, parts_clerk, 4)
    work_order = open_work_order(branch, advisor)
    client = api_as(advisor)
    line = client.post(
        f"{API}work-orders/{work_order.pk}/parts-lines/", {"part": part.pk, "quantity": 3}
    ).json()
    assert stock_of(branch, part).reserved == Decimal(3)
    # when the advisor takes it off
    response = client.delete(f"{API}parts-lines/{line['id']}/")
    # then the line is gone and nothing stays reserved
    assert response.status_code == 204
    assert not work_order.part_lines.exists()
    assert stock_of(branch, part).reserved == Decimal(0)


def test_a_signed_labour_line_cannot_be_deleted(api_as, branch, advisor, technician):
    work_order = in_progress_work_order(branch, advisor, technician)
    line = work_order.labour_lines.get()
    assert api_as(technician).post(f"{API}labour-lines/{line.pk}/sign/").status_code == 200
    response = api_as(advisor).delete(f"{API}labour-lines/{line.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "labour_done"
    assert work_order.labour_lines.filter(pk=line.pk).exists()
