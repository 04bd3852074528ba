"""Check-in (接车): the confirmed phone, the mileage as an odometer reading, the recommended
items by mileage and those carried from earlier visits, comebacks, appointments and the
maintenance checklist."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.choices import OdometerSource
from customers.models import OdometerReading
from service import services
from service.choices import AppointmentStatus, RecommendationStatus, ServiceType
from service.models import ChecklistItem, Recommendation, WorkOrder
from tests.factories import OdometerReadingFactory, VehicleFactory
from tests.service.helpers import (
    counts,
    customer_car,
    fresh,
    open_work_order,
    refusal,
    state,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

THIRTY_THOUSAND = {"Spark plugs", "Engine oil", "Oil filter", "Air filter", "Cabin filter"}
SIXTY_THOUSAND_FLUIDS = {"Brake fluid", "Power-steering fluid"}
NOTHING_OPENED = {"WorkOrder": 0, "OdometerReading": 0, "Recommendation": 0, "ChecklistItem": 0}


def recommended(work_order) -> set[str]:
    return set(work_order.recommendations.values_list("description", flat=True))


def nothing_opened() -> dict:
    return counts(WorkOrder, OdometerReading, Recommendation, ChecklistItem)


def days_ago(work_order, days: int) -> None:
    WorkOrder.objects.filter(pk=work_order.pk).update(
        opened_at=timezone.now() - timedelta(days=days)
    )


# --- the contact phone ----------------------------------------------------------------------


def test_a_work_order_needs_the_phone_confirmed_with_the_customer(branch, advisor):
    # given a car at the desk
    customer, vehicle = customer_car(branch)
    # when it is checked in without the phone read back to the customer
    error = refusal(
        lambda: open_work_order(
            branch, advisor, customer=customer, vehicle=vehicle, phone_confirmed=False
        )
    )
    # then it is refused on that box, and nothing was opened or recorded
    assert (error.code, error.field) == ("phone_not_confirmed", "phone_confirmed")
    assert nothing_opened() == NOTHING_OPENED


def test_a_customer_of_another_branch_is_not_checked_in_here(branch, other_branch, advisor):
    customer, vehicle = customer_car(other_branch)
    error = refusal(lambda: open_work_order(branch, advisor, customer=customer, vehicle=vehicle))
    assert error.code == "customer_other_branch"
    assert nothing_opened() == NOTHING_OPENED


def test_a_work_order_is_for_the_customers_own_vehicle(branch, advisor):
    customer, _ = customer_car(branch)
    _, other_car = customer_car(branch)
    error = refusal(lambda: open_work_order(branch, advisor, customer=customer, vehicle=other_car))
    assert (error.code, error.field) == ("vehicle_not_customers", "vehicle")
    assert nothing_opened() == NOTHING_OPENED


# --- mileage --------------------------------------------------------------------------------


def test_the_mileage_in_becomes_an_odometer_reading_of_the_vehicle(branch, advisor):
    # given a car last read at 12,000 km
    customer, vehicle = customer_car(branch)
    OdometerReadingFactory(vehicle=vehicle, km=12_000, read_on=date(2024, 3, 1))
    # when it is checked in at 18,500 km
    work_order = open_work_order(
        branch, advisor, customer=customer, vehicle=vehicle, mileage_in=18_500
    )
    # then the work order's reading is that mileage, today, from the work order
    reading = work_order.odometer_reading
    assert (reading.km, reading.read_on, reading.source) == (
        18_500,
        timezone.localdate(),
        OdometerSource.WORK_ORDER,
    )
    assert reading.vehicle_id == vehicle.pk
    assert fresh(vehicle).odometer_km == 18_500


def test_a_mileage_below_the_last_reading_is_refused(branch, advisor):
    # given a car last read at 50,000 km
    customer, vehicle = customer_car(branch)
    OdometerReadingFactory(vehicle=vehicle, km=50_000, read_on=date(2024, 3, 1))
    before = state(vehicle)
    # when it is checked in at 40,000 km
    error = refusal(
        lambda: open_work_order(
            branch, advisor, customer=customer, vehicle=vehicle, mileage_in=40_000
        )
    )
    # then it is refused on the mileage and nothing was opened or recorded
    assert (error.code, error.field) == ("odometer_lower_than_last", "mileage_in")
    assert WorkOrder.objects.count() == 0
    assert vehicle.odometer_readings.count() == 1
    assert state(vehicle) == before


def test_a_lower_mileage_is_taken_when_the_odometer_was_replaced(branch, advisor):
    # given a car last read at 50,000 km whose odometer was replaced
    customer, vehicle = customer_car(branch)
    OdometerReadingFactory(vehicle=vehicle, km=50_000, read_on=date(2024, 3, 1))
    # when it is checked in at 300 km, ticking "odometer replaced"
    work_order = open_work_order(
        branch, advisor, customer=customer, vehicle=vehicle, mileage_in=300,
        odometer_replaced=True,
    )  # fmt: skip
    # then the reading is taken as a replacement
    assert (work_order.odometer_reading.km, work_order.odometer_reading.is_replacement) == (
        300,
        True,
    )


# --- recommended items by mileage -----------------------------------------------------------


@pytest.mark.parametrize("km", [29_000, 30_000, 31_000])
def test_the_thirty_thousand_items_are_recommended_from_29000_to_31000_km(branch, advisor, km):
    work_order = open_work_order(branch, advisor, mileage_in=km)
    assert recommended(work_order) == THIRTY_THOUSAND
    assert set(work_order.recommendations.values_list("status", flat=True)) == {
        RecommendationStatus.OPEN
    }


@pytest.mark.parametrize("km", [28_999, 31_001, 45_000])
def test_nothing_is_recommended_outside_the_mileage_bands(branch, advisor, km):
    work_order = open_work_order(branch, advisor, mileage_in=km)
    assert recommended(work_order) == set()


@pytest.mark.parametrize("km", [58_999, 61_001])
def test_the_sixty_thousand_items_end_at_their_band(branch, advisor, km):
    assert recommended(open_work_order(branch, advisor, mileage_in=km)) == set()


@pytest.mark.parametrize("transmission", ["automatic", "dct", "cvt"])
def test_gearbox_oil_is_recommended_at_60000_km_for_a_gearbox_that_is_not_manual(
    branch, advisor, transmission
):
    customer, vehicle = customer_car(branch, transmission=transmission)
    work_order = open_work_order(
        branch, advisor, customer=customer, vehicle=vehicle, mileage_in=60_000
    )
    assert recommended(work_order) == THIRTY_THOUSAND | SIXTY_THOUSAND_FLUIDS | {"Gearbox oil"}


def test_gearbox_oil_is_not_recommended_for_a_manual_gearbox(branch, advisor):
    customer, vehicle = customer_car(branch, transmission="manual")
    work_order = open_work_order(
        branch, advisor, customer=customer, vehicle=vehicle, mileage_in=60_000
    )
    assert recommended(work_order) == THIRTY_THOUSAND | SIXTY_THOUSAND_FLUIDS


# --- items carried from earlier visits ------------------------------------------------------


def test_an_item_declined_at_one_visit_is_recommended_at_the_next(branch, advisor):
    # given a visit at 30,000 km where the customer took the oil and declined the plugs
    customer, vehicle = customer_car(branch)
    first = open_work_order(branch, advisor, customer=customer, vehicle=vehicle, mileage_in=30_000)
    decisions = {"Engine oil": True, "Oil filter": True, "Air filter": True, "Cabin filter": True}
    for recommendation in first.recommendations.all():
        services.recommendation_decide(
            recommendation=recommendation,
            accepted=decisions.get(recommendation.description, False),
            by=advisor,
        )
    # when the car comes back at 40,000 km
    second = open_work_order(branch, advisor, customer=customer, vehicle=vehicle, mileage_in=40_000)
    # then the plugs are recommended again, and the first visit's item is marked carried
    assert recommended(second) == {"Spark plugs"}
    assert first.recommendations.get(description="Spark plugs").status == (
        RecommendationStatus.CARRIED
    )
    assert first.recommendations.get(description="Engine oil").status == (
        RecommendationStatus.ACCEPTED
    )


def test_a_declined_item_is_carried_once_and_not_again_after_it_is_done(branch, advisor):
    # given the plugs declined at 30,000 km
    customer, vehicle = customer_car(branch)
    first = open_work_order(branch, advisor, customer=customer, vehicle=vehicle, mileage_in=30_000)
    for recommendation in first.recommendations.all():
        services.recommendation_decide(
            recommendation=recommendation,
            accepted=recommendation.description != "Spark plugs",
            by=advisor,
        )
    # when the car comes back at 30,800 km, where the mileage calls for plugs too
    second = open_work_order(branch, advisor, customer=customer, vehicle=vehicle, mileage_in=30_800)
    # then the plugs are on the second visit once
    assert list(
        second.recommendations.filter(description="Spark plugs").values_list("status", flat=True)
    ) == [RecommendationStatus.OPEN]
    # and when the customer takes them at that visit, the third visit does not bring them back
    for recommendation in second.recommendations.all():
        services.recommendation_decide(recommendation=recommendation, accepted=True, by=advisor)
    third = open_work_order(branch, advisor, customer=customer, vehicle=vehicle, mileage_in=45_000)
    assert recommended(third) == set()


def test_items_of_another_vehicle_are_not_carried(branch, advisor):
    customer, vehicle = customer_car(branch)
    first = open_work_order(branch, advisor, customer=customer, vehicle=vehicle, mileage_in=30_000)
    for recommendation in first.recommendations.all():
        services.recommendation_decide(recommendation=recommendation, accepted=False, by=advisor)
    second_car = VehicleFactory(owner=customer)
    other = open_work_order(
        branch, advisor, customer=customer, vehicle=second_car, mileage_in=45_000
    )
    assert recommended(other) == set()


# --- comebacks ------------------------------------------------------------------------------


def test_a_repair_of_the_same_complaint_within_30_days_is_a_comeback(branch, advisor):
    # given a brake repair 29 days ago
    customer, vehicle = customer_car(branch)
    earlier = open_work_order(
        branch, advisor, customer=customer, vehicle=vehicle, complaint="踩刹车时前轮有异响"
    )
    days_ago(earlier, 29)
    # when the car comes back with the brakes squealing again
    again = open_work_order(
        branch, advisor, customer=customer, vehicle=vehicle, complaint="踩刹车时前轮还是有异响"
    )
    # then the new work order is flagged as a comeback of the earlier one
    assert again.comeback_of_id == earlier.pk


def test_an_english_complaint_repeated_within_30_days_is_a_comeback(branch, advisor):
    customer, vehicle = customer_car(branch)
    earlier = open_work_order(
        branch, advisor, customer=customer, vehicle=vehicle,
        complaint="Front brakes squeal when braking",
    )  # fmt: skip
    again = open_work_order(
        branch, advisor, customer=customer, vehicle=vehicle,
        complaint="front brakes still squeal when braking",
    )  # fmt: skip
    assert again.comeback_of_id == earlier.pk


def test_a_repair_of_the_same_complaint_after_30_days_is_not_a_comeback(branch, advisor):
    customer, vehicle = customer_car(branch)
    earlier = open_work_order(
        branch, advisor, customer=customer, vehicle=vehicle, complaint="踩刹车时前轮有异响"
    )
    days_ago(earlier, 31)
    again = open_work_order(
        branch, advisor, customer=customer, vehicle=vehicle, complaint="踩刹车时前轮有异响"
    )
    assert again.comeback_of is None


def test_a_repair_of_a_different_complaint_is_not_a_comeback(branch, advisor):
    customer, vehicle = customer_car(branch)
    open_work_order(
        branch, advisor, customer=customer, vehicle=vehicle, complaint="踩刹车时前轮有异响"
    )
    again = open_work_order(
        branch, advisor, customer=customer, vehicle=vehicle, complaint="空调不制冷，出风口有异味"
    )
    assert again.comeback_of is None


def test_the_same_complaint_on_another_vehicle_is_not_a_comeback(branch, advisor):
    customer, vehicle = customer_car(branch)
    open_work_order(branch, advisor, customer=customer, vehicle=vehicle)
    other = open_work_order(branch, advisor)
    assert other.comeback_of is None


def test_a_maintenance_visit_is_not_a_comeback(branch, advisor):
    customer, vehicle = customer_car(branch)
    open_work_order(branch, advisor, customer=customer, vehicle=vehicle)
    maintenance = open_work_order(
        branch, advisor, customer=customer, vehicle=vehicle, service_type=ServiceType.MAINTENANCE
    )
    assert maintenance.comeback_of is None


# --- appointments ---------------------------------------------------------------------------


def booked(branch, advisor, customer, vehicle):
    (slot,) = services.slots_open(
        branch=branch, service_type=ServiceType.REPAIR,
        starts=[timezone.now() + timedelta(hours=2)], capacity=2, by=advisor,
    )  # fmt: skip
    return services.appointment_book(
        slot=slot, customer=customer, vehicle=vehicle, advisor=advisor,
        contact_phone=customer.mobile, by=advisor,
    )  # fmt: skip


def test_checking_in_from_an_appointment_marks_it_checked_in(branch, advisor):
    customer, vehicle = customer_car(branch)
    appointment = booked(branch, advisor, customer, vehicle)
    work_order = open_work_order(
        branch, advisor, customer=customer, vehicle=vehicle, appointment=appointment
    )
    assert fresh(appointment).status == AppointmentStatus.CHECKED_IN
    assert fresh(work_order).appointment_id == appointment.pk


@pytest.mark.parametrize("status", [AppointmentStatus.CANCELLED, AppointmentStatus.CHECKED_IN])
def test_only_a_booked_appointment_is_checked_in(branch, advisor, status):
    # given an appointment that was cancelled, or already checked in
    customer, vehicle = customer_car(branch)
    appointment = booked(branch, advisor, customer, vehicle)
    if status == AppointmentStatus.CANCELLED:
        services.appointment_cancel(appointment=appointment, by=advisor)
    else:
        open_work_order(
            branch, advisor, customer=customer, vehicle=vehicle, appointment=appointment
        )
    before, opened = state(appointment), WorkOrder.objects.count()
    # when the car is checked in from it
    error = refusal(
        lambda: open_work_order(
            branch, advisor, customer=customer, vehicle=vehicle, appointment=appointment
        )
    )
    # then it is refused, nothing opened
    assert error.code == "appointment_not_booked"
    assert state(appointment) == before
    assert WorkOrder.objects.count() == opened


def test_an_appointment_for_another_vehicle_is_not_checked_in_with_this_one(branch, advisor):
    customer, vehicle = customer_car(branch)
    appointment = booked(branch, advisor, customer, vehicle)
    second_car = VehicleFactory(owner=customer)
    error = refusal(
        lambda: open_work_order(
            branch, advisor, customer=customer, vehicle=second_car, appointment=appointment
        )
    )
    assert error.code == "appointment_other_vehicle"
    assert fresh(appointment).status == AppointmentStatus.BOOKED
    assert nothing_opened() == NOTHING_OPENED


# --- the maintenance checklist --------------------------------------------------------------


def test_a_maintenance_work_order_starts_with_the_checklist_unmarked(branch, advisor):
    work_order = open_work_order(branch, advisor, service_type=ServiceType.MAINTENANCE)
    items = list(work_order.checklist_items.values_list("name", "result"))
    assert [name for name, _ in items] == services.CHECKLIST_ITEMS
    assert {result for _, result in items} == {""}


def test_a_repair_work_order_has_no_maintenance_checklist(branch, advisor):
    work_order = open_work_order(branch, advisor, service_type=ServiceType.REPAIR)
    assert not work_order.checklist_items.exists()


def test_the_plate_is_kept_in_capitals(branch, advisor):
    customer, vehicle = customer_car(branch, plate="粤A12345")
    work_order = open_work_order(
        branch, advisor, customer=customer, vehicle=vehicle, plate=" 粤a12345 "
    )
    assert fresh(work_order).plate == "粤A12345"


def test_a_worn_tyre_declined_earlier_is_carried_with_its_tyre_and_tread(
    branch, advisor, technician, english
):
    # given a maintenance visit where the rear left tyre measured 2.6 mm and was declined
    customer, vehicle = customer_car(branch)
    first = open_work_order(branch, advisor, customer=customer, vehicle=vehicle, mileage_in=20_000,
                            service_type=ServiceType.MAINTENANCE)  # fmt: skip
    services.work_order_start(work_order=first, by=advisor)
    services.tyre_reading_record(
        work_order=first, position="rear_left", pressure_bar=Decimal("2.3"),
        tread_mm=Decimal("2.6"), by=technician,
    )  # fmt: skip
    worn = first.recommendations.get(tyre_position="rear_left")
    services.recommendation_decide(recommendation=worn, accepted=False, by=advisor)
    # when the car comes back
    second = open_work_order(branch, advisor, customer=customer, vehicle=vehicle, mileage_in=21_000)
    # then the tyre's recommendation comes with its tyre and tread
    carried = second.recommendations.get(tyre_position="rear_left")
    assert carried.tread_mm == Decimal("2.6")
    assert carried.label == "Replace tyre: Rear left (tread 2.6 mm)"
