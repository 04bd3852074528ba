"""Slots and appointments (预约): capacity, booking under the slot's lock, cancelling,
no-shows and reminders."""

from datetime import timedelta

import pytest
from django.utils import timezone

from service import services
from service.choices import AppointmentStatus, ServiceType
from service.models import Appointment, ServiceSlot
from tests.factories import UserFactory, VehicleFactory
from tests.factories.concurrency import run_in_threads
from tests.service.helpers import counts, customer_car, fresh, refusal, state

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def tomorrow_at(hour: int):
    return (timezone.localtime() + timedelta(days=1)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


def open_slot(branch, by, *, capacity=2, starts_at=None):
    (slot,) = services.slots_open(
        branch=branch, service_type=ServiceType.MAINTENANCE,
        starts=[starts_at or tomorrow_at(9)], capacity=capacity, by=by,
    )  # fmt: skip
    return slot


def book(slot, advisor, customer=None, vehicle=None):
    if vehicle is None:
        customer, vehicle = customer_car(slot.branch)
    return services.appointment_book(
        slot=slot, customer=customer, vehicle=vehicle, advisor=advisor,
        contact_phone=customer.mobile, complaint="3万公里保养", by=advisor,
    )  # fmt: skip


def slot_in_the_past(slot, minutes=5):
    """Let time pass: the slot began `minutes` ago."""
    ServiceSlot.objects.filter(pk=slot.pk).update(
        starts_at=timezone.now() - timedelta(minutes=minutes)
    )
    return fresh(slot)


# --- slots ----------------------------------------------------------------------------------


@pytest.mark.parametrize("capacity", [0, -1])
def test_a_slot_takes_at_least_one_car(branch, advisor, capacity):
    # when a slot is opened for no car
    error = refusal(lambda: open_slot(branch, advisor, capacity=capacity))
    # then it is refused and no slot exists
    assert error.code == "capacity_not_positive"
    assert ServiceSlot.objects.count() == 0


def test_a_slot_of_one_car_opens(branch, advisor):
    slot = open_slot(branch, advisor, capacity=1)
    assert (fresh(slot).capacity, fresh(slot).booked, fresh(slot).free) == (1, 0, 1)


def test_reopening_a_slot_keeps_its_bookings_and_takes_the_new_capacity(branch, advisor):
    # given a slot of 2 with one booking
    slot = open_slot(branch, advisor, capacity=2)
    appointment = book(slot, advisor)
    # when the same slot is opened again for 3 cars
    (again,) = services.slots_open(
        branch=branch, service_type=ServiceType.MAINTENANCE, starts=[slot.starts_at],
        capacity=3, by=advisor,
    )  # fmt: skip
    # then it is the same slot, still holding its booking, with room for 3
    assert again.pk == slot.pk
    assert ServiceSlot.objects.count() == 1
    assert (fresh(slot).capacity, fresh(slot).booked) == (3, 1)
    assert fresh(appointment).slot_id == slot.pk


def test_a_slot_cannot_shrink_below_what_is_booked(branch, advisor):
    # given a full slot of 2
    slot = open_slot(branch, advisor, capacity=2)
    book(slot, advisor)
    book(slot, advisor)
    before = state(slot)
    # when it is reopened for 1 car, together with a new slot
    error = refusal(
        lambda: services.slots_open(
            branch=branch,
            service_type=ServiceType.MAINTENANCE,
            starts=[tomorrow_at(14), slot.starts_at],
            capacity=1,
            by=advisor,
        )  # fmt: skip
    )
    # then it is refused, the slot unchanged and the new one not opened either
    assert error.code == "capacity_below_booked"
    assert state(slot) == before
    assert ServiceSlot.objects.count() == 1


# --- booking --------------------------------------------------------------------------------


def test_a_booking_takes_a_place_in_the_slot(branch, advisor):
    slot = open_slot(branch, advisor, capacity=2)
    appointment = book(slot, advisor)
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.branch_id == branch.pk
    assert fresh(slot).booked == 1


def test_a_full_slot_takes_no_more_bookings(branch, advisor):
    # given a slot of 1 already booked
    slot = open_slot(branch, advisor, capacity=1)
    book(slot, advisor)
    before = state(slot)
    # when another car is booked into it
    error = refusal(lambda: book(slot, advisor))
    # then it is refused on the slot, and nothing changed
    assert (error.code, error.field) == ("slot_full", "slot")
    assert state(slot) == before
    assert Appointment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_five_bookings_at_once_into_a_slot_of_two_give_exactly_two(branch, advisor):
    # given a slot of 2 and five customers at the phone
    slot = open_slot(branch, advisor, capacity=2)
    cars = [customer_car(branch) for _ in range(5)]
    # when all five are booked in the same instant
    results = run_in_threads(
        *[lambda c=customer, v=vehicle: book(slot, advisor, c, v) for customer, vehicle in cars]
    )
    # then two are booked and three are told the slot is full
    booked = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(booked) == 2, results
    assert [getattr(r, "code", r) for r in refused] == ["slot_full"] * 3
    assert fresh(slot).booked == 2
    assert Appointment.objects.filter(slot=slot).count() == 2


def test_a_slot_that_has_passed_takes_no_booking(branch, advisor):
    # given a slot that began 5 minutes ago
    slot = slot_in_the_past(open_slot(branch, advisor))
    # when a car is booked into it
    error = refusal(lambda: book(slot, advisor))
    # then it is refused and the slot is still empty
    assert (error.code, error.field) == ("slot_past", "slot")
    assert fresh(slot).booked == 0
    assert Appointment.objects.count() == 0


def test_a_booking_is_for_the_customers_own_vehicle(branch, advisor):
    # given a customer and somebody else's car
    customer, _car = customer_car(branch)
    _other, other_car = customer_car(branch)
    slot = open_slot(branch, advisor)
    # when the customer is booked with the other car
    error = refusal(lambda: book(slot, advisor, customer, other_car))
    # then it is refused on the vehicle
    assert (error.code, error.field) == ("vehicle_not_customers", "vehicle")
    assert fresh(slot).booked == 0
    assert Appointment.objects.count() == 0


def test_a_customer_of_another_branch_is_not_booked_here(branch, other_branch, advisor):
    # given a customer of the other branch with their car
    customer, vehicle = customer_car(other_branch)
    slot = open_slot(branch, advisor)
    # when they are booked into this branch's slot
    error = refusal(lambda: book(slot, advisor, customer, vehicle))
    # then it is refused on the customer
    assert (error.code, error.field) == ("customer_other_branch", "customer")
    assert fresh(slot).booked == 0
    assert Appointment.objects.count() == 0


# --- cancel and no-show ---------------------------------------------------------------------


def test_cancelling_frees_the_place_in_the_slot(branch, advisor):
    # given a full slot of 1
    slot = open_slot(branch, advisor, capacity=1)
    appointment = book(slot, advisor)
    # when the appointment is cancelled
    services.appointment_cancel(appointment=appointment, by=advisor)
    # then it is cancelled and another car can take the place
    assert fresh(appointment).status == AppointmentStatus.CANCELLED
    assert fresh(slot).booked == 0
    book(slot, advisor)
    assert fresh(slot).booked == 1


def test_a_cancelled_appointment_is_not_cancelled_twice(branch, advisor):
    # given a slot with two bookings, one cancelled
    slot = open_slot(branch, advisor, capacity=2)
    cancelled = services.appointment_cancel(appointment=book(slot, advisor), by=advisor)
    book(slot, advisor)
    # when the cancelled one is cancelled again
    error = refusal(lambda: services.appointment_cancel(appointment=cancelled, by=advisor))
    # then it is refused and the slot still counts the other booking
    assert error.code == "appointment_not_booked"
    assert fresh(slot).booked == 1


def test_a_no_show_is_not_recorded_before_the_slot_begins(branch, advisor):
    # given an appointment for tomorrow
    appointment = book(open_slot(branch, advisor), advisor)
    # when it is recorded as a no-show today
    error = refusal(lambda: services.appointment_no_show(appointment=appointment, by=advisor))
    # then it is refused and the appointment is still booked
    assert error.code == "slot_not_begun"
    assert fresh(appointment).status == AppointmentStatus.BOOKED


def test_a_no_show_is_recorded_once_the_slot_has_begun(branch, advisor):
    # given an appointment whose slot began 5 minutes ago
    slot = open_slot(branch, advisor)
    appointment = book(slot, advisor)
    slot_in_the_past(slot)
    # when the customer has not come
    services.appointment_no_show(appointment=appointment, by=advisor)
    # then the no-show is recorded, once
    assert fresh(appointment).status == AppointmentStatus.NO_SHOW
    error = refusal(lambda: services.appointment_no_show(appointment=appointment, by=advisor))
    assert error.code == "appointment_not_booked"


# --- reminders ------------------------------------------------------------------------------


def test_reminders_mark_the_appointments_of_the_next_hours_once(branch, advisor):
    # given appointments in 2 hours, in 30 hours, and a cancelled one in 3 hours
    now = timezone.now()
    soon = book(open_slot(branch, advisor, starts_at=now + timedelta(hours=2)), advisor)
    later = book(open_slot(branch, advisor, starts_at=now + timedelta(hours=30)), advisor)
    cancelled = book(open_slot(branch, advisor, starts_at=now + timedelta(hours=3)), advisor)
    services.appointment_cancel(appointment=cancelled, by=advisor)
    # when the reminders of the next 24 hours are marked, twice
    first = services.appointment_reminders_mark(now=now, within=timedelta(hours=24))
    second = services.appointment_reminders_mark(now=now, within=timedelta(hours=24))
    # then only the booked one within 24 hours is marked, and only the first time
    assert first == [soon.pk]
    assert second == []
    assert fresh(soon).reminded_at == now
    assert fresh(later).reminded_at is None
    assert fresh(cancelled).reminded_at is None


def test_a_slot_that_already_began_gets_no_reminder(branch, advisor):
    # given an appointment whose slot began a minute ago
    slot = open_slot(branch, advisor)
    appointment = book(slot, advisor)
    slot_in_the_past(slot, minutes=1)
    # when reminders are marked
    due = services.appointment_reminders_mark(within=timedelta(hours=24))
    # then it is not among them
    assert due == []
    assert fresh(appointment).reminded_at is None


def test_booking_the_same_customer_twice_into_one_slot_counts_two_places(branch, advisor):
    # the slot counts cars booked, whoever they belong to
    customer, vehicle = customer_car(branch)
    second_car = VehicleFactory(owner=customer)
    slot = open_slot(branch, advisor, capacity=2)
    book(slot, advisor, customer, vehicle)
    book(slot, advisor, customer, second_car)
    assert fresh(slot).free == 0
    assert counts(Appointment) == {"Appointment": 2}


def test_an_appointment_names_its_advisor(branch, advisor):
    other_advisor = UserFactory(roles=["service_advisor"], branches=[branch])
    slot = open_slot(branch, advisor)
    customer, vehicle = customer_car(branch)
    appointment = services.appointment_book(
        slot=slot, customer=customer, vehicle=vehicle, advisor=other_advisor,
        contact_phone=customer.mobile, by=advisor,
    )  # fmt: skip
    assert (fresh(appointment).advisor_id, fresh(appointment).created_by_id) == (
        other_advisor.pk,
        advisor.pk,
    )
