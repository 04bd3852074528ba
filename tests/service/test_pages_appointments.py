"""The front desk's pages: the day's slots and appointments, opening slots, booking, an
appointment's page with cancel and no-show. Refused rules are shown beside their field and
change nothing; another branch's appointment is 404; the day costs the same queries whatever
its length."""

from datetime import datetime, time, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from dealer_crm.periods import LOCAL_TIME_ZONE
from service import services
from service.choices import AppointmentStatus, ServiceType
from service.models import Appointment, ServiceSlot
from tests.service.helpers import customer_car, state

pytestmark = pytest.mark.django_db


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    day = timezone.localdate() + timedelta(days=1)
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TIME_ZONE)


def open_slot(branch, by, *, at=None, capacity=2, service_type=ServiceType.MAINTENANCE):
    (slot,) = services.slots_open(
        branch=branch,
        service_type=service_type,
        starts=[at or tomorrow_at(9)],
        capacity=capacity,
        by=by,
    )
    return slot


def book(slot, by, *, car=None, complaint="保养"):
    customer, vehicle = car or customer_car(slot.branch)
    return services.appointment_book(
        slot=slot, customer=customer, vehicle=vehicle, advisor=by,
        contact_phone=customer.mobile, complaint=complaint, by=by,
    )  # fmt: skip


def day_url(day) -> str:
    return f"{reverse('service:appointment-day')}?day={day.isoformat()}"


@pytest.fixture
def slot(branch, advisor):
    return open_slot(branch, advisor)


@pytest.fixture
def appointment(slot, advisor):
    return book(slot, advisor)


def booking_data(slot, customer, vehicle, advisor, **overrides) -> dict:
    return {
        "day": timezone.localtime(slot.starts_at).date().isoformat(),
        "service_type": slot.service_type,
        "slot": slot.pk,
        "customer": customer.pk,
        "vehicle": vehicle.pk,
        "advisor": advisor.pk,
        "contact_phone": "",
        "complaint": "30000公里保养",
        **overrides,
    }


# --- Rendering, permissions, branches ------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_front_desk_day_shows_the_slots_and_their_appointments(
    client, advisor, appointment, language
):
    # given tomorrow's 09:00 slot with one appointment
    client.force_login(advisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    day = timezone.localdate() + timedelta(days=1)
    # when the advisor opens tomorrow on the front desk
    response = client.get(day_url(day))
    # then the slot, its booking and the check-in button show, in the advisor's language
    assert response.status_code == 200
    page = response.content.decode()
    assert f'lang="{language}"' in page
    assert f'id="slot-{appointment.slot_id}"' in page
    assert appointment.vehicle.plate in page
    check_in = f"{reverse('service:work-order-create')}?appointment={appointment.pk}"
    assert check_in in page
    assert f'id="cancel-{appointment.pk}"' in page
    # a slot not yet begun offers no no-show
    assert f'id="no-show-{appointment.pk}"' not in page


def test_front_desk_day_links_the_day_before_and_after(client, advisor):
    # given the advisor on a chosen day
    client.force_login(advisor)
    # when they open 2026-03-10
    response = client.get(f"{reverse('service:appointment-day')}?day=2026-03-10")
    # then the previous and next days are one click away, and the empty day says so
    page = response.content.decode()
    assert "?day=2026-03-09" in page and "?day=2026-03-11" in page
    assert 'id="no-slots"' in page


def test_front_desk_day_takes_today_for_a_day_it_cannot_read(client, advisor):
    client.force_login(advisor)
    response = client.get(f"{reverse('service:appointment-day')}?day=9999-12-31x")
    assert response.status_code == 200
    assert response.context["day"] == timezone.localdate()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_booking_and_appointment_pages_render(client, advisor, appointment, language):
    client.force_login(advisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for url in (
        reverse("service:appointment-create"),
        f"{reverse('service:appointment-create')}?slot={appointment.slot_id}",
        reverse("service:appointment-detail", args=[appointment.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'lang="{language}"' in response.content.decode()


def test_appointment_page_shows_its_history(client, advisor, appointment):
    client.force_login(advisor)
    response = client.get(reverse("service:appointment-detail", args=[appointment.pk]))
    assert response.status_code == 200
    assert response.context["history"], "the booking is in the history"
    assert appointment.customer.name in response.content.decode()


def test_front_desk_pages_are_forbidden_without_the_service_permissions(
    client, consultant, appointment
):
    # given a sales consultant (no service permission)
    client.force_login(consultant)
    # when they open or post to the front desk's pages
    gets = [
        reverse("service:appointment-day"),
        reverse("service:appointment-create"),
        reverse("service:appointment-detail", args=[appointment.pk]),
    ]
    posts = [
        reverse("service:appointment-step", args=[appointment.pk, "cancel"]),
        reverse("service:slots-open"),
        reverse("service:appointment-create"),
    ]
    # then every one is 403 and the appointment is untouched
    for url in gets:
        assert client.get(url).status_code == 403, url
    for url in posts:
        assert client.post(url).status_code == 403, url
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED


def test_another_branchs_appointment_is_not_found(client, advisor, other_branch, other_branch_user):
    # given an appointment of the other branch
    other_advisor = other_branch_user
    slot = open_slot(other_branch, other_advisor)
    appointment = book(slot, other_advisor)
    client.force_login(advisor)
    # when our advisor opens it, cancels it, or checks it in
    detail = client.get(reverse("service:appointment-detail", args=[appointment.pk]))
    cancel = client.post(reverse("service:appointment-step", args=[appointment.pk, "cancel"]))
    check_in = client.get(f"{reverse('service:work-order-create')}?appointment={appointment.pk}")
    # then each is 404 and the appointment stays booked
    assert (detail.status_code, cancel.status_code, check_in.status_code) == (404, 404, 404)
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED


def test_an_unknown_appointment_step_is_not_found(client, advisor, appointment):
    client.force_login(advisor)
    url = reverse("service:appointment-step", args=[appointment.pk, "check-in"])
    assert client.post(url).status_code == 404
    assert (
        client.get(reverse("service:appointment-step", args=[appointment.pk, "cancel"])).status_code
        == 405
    )


# --- Opening slots -------------------------------------------------------------------------


def test_opening_slots_makes_one_every_n_minutes_from_first_to_last(client, advisor, branch):
    # given the advisor on the front desk
    client.force_login(advisor)
    day = timezone.localdate() + timedelta(days=2)
    # when they open maintenance slots 08:30–10:00 every 30 minutes, 3 cars each
    response = client.post(
        reverse("service:slots-open"),
        {"day": day.isoformat(), "service_type": "maintenance", "first": "08:30",
         "last": "10:00", "every": "30", "capacity": "3"},
    )  # fmt: skip
    # then four slots exist, and the page of that day comes back
    assert response.status_code == 302
    assert response.url == day_url(day)
    slots = ServiceSlot.objects.filter(branch=branch).order_by("starts_at")
    assert [timezone.localtime(s.starts_at).strftime("%H:%M") for s in slots] == [
        "08:30", "09:00", "09:30", "10:00",
    ]  # fmt: skip
    assert {(s.capacity, s.minutes) for s in slots} == {(3, 30)}


def test_opening_slots_below_what_is_booked_is_refused_and_changes_nothing(client, advisor, slot):
    # given a 2-car slot with two bookings
    book(slot, advisor)
    book(slot, advisor)
    before = state(slot)
    client.force_login(advisor)
    # when the advisor reopens it for one car
    local = timezone.localtime(slot.starts_at)
    response = client.post(
        reverse("service:slots-open"),
        {"day": local.date().isoformat(), "service_type": slot.service_type,
         "first": local.strftime("%H:%M"), "last": local.strftime("%H:%M"), "every": "30",
         "capacity": "1"},
    )  # fmt: skip
    # then the page says why and the slot is as it was
    assert response.status_code == 200
    assert "already has 2 bookings" in response.content.decode()
    assert state(slot) == before


def test_opening_slots_with_the_last_before_the_first_shows_the_error_beside_it(
    client, advisor, branch
):
    client.force_login(advisor)
    response = client.post(
        reverse("service:slots-open"),
        {"day": "2030-01-02", "service_type": "repair", "first": "12:00", "last": "09:00",
         "every": "30", "capacity": "2"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "last" in response.context["slots_form"].errors
    assert not ServiceSlot.objects.exists()


# --- Booking -------------------------------------------------------------------------------


def test_booking_files_the_appointment_and_counts_it_in_the_slot(
    client, advisor, slot, customer_and_car
):
    # given a customer's car and tomorrow's slot with room
    customer, vehicle = customer_and_car
    client.force_login(advisor)
    # when the advisor books it, leaving the phone empty
    response = client.post(
        reverse("service:appointment-create"), booking_data(slot, customer, vehicle, advisor)
    )
    # then the appointment exists with the customer's mobile, and the slot has one booked
    assert response.status_code == 302, response.content[:800]
    appointment = Appointment.objects.get()
    assert (appointment.vehicle, appointment.contact_phone) == (vehicle, customer.mobile)
    assert appointment.complaint == "30000公里保养"
    assert ServiceSlot.objects.get(pk=slot.pk).booked == 1
    assert response.url == day_url(timezone.localtime(slot.starts_at).date())


def test_booking_a_full_slot_is_refused_beside_the_slot_and_nothing_changes(
    client, advisor, branch, customer_and_car
):
    # given a one-car slot already booked
    full = open_slot(branch, advisor, capacity=1)
    book(full, advisor)
    customer, vehicle = customer_and_car
    before = state(full)
    client.force_login(advisor)
    # when another car is booked into it
    response = client.post(
        reverse("service:appointment-create"), booking_data(full, customer, vehicle, advisor)
    )
    # then the refusal shows beside the slot and nothing is booked
    assert response.status_code == 200
    form = response.context["form"]
    assert "fully booked" in " ".join(form.errors["slot"])
    assert 'id="slot-error"' in response.content.decode()
    assert Appointment.objects.count() == 1
    assert state(full) == before


def test_booking_a_past_slot_is_refused_beside_the_slot(client, advisor, branch, customer_and_car):
    past = open_slot(branch, advisor, at=timezone.now() - timedelta(hours=2))
    customer, vehicle = customer_and_car
    client.force_login(advisor)
    response = client.post(
        reverse("service:appointment-create"), booking_data(past, customer, vehicle, advisor)
    )
    assert response.status_code == 200
    assert "has passed" in " ".join(response.context["form"].errors["slot"])
    assert not Appointment.objects.exists()


def test_booking_another_customers_car_is_refused_beside_the_vehicle(
    client, advisor, branch, slot, customer_and_car
):
    customer, _vehicle = customer_and_car
    _someone, their_car = customer_car(branch)
    client.force_login(advisor)
    response = client.post(
        reverse("service:appointment-create"), booking_data(slot, customer, their_car, advisor)
    )
    assert response.status_code == 200
    assert "vehicle" in response.context["form"].errors
    assert not Appointment.objects.exists()


def test_booking_with_bad_input_answers_with_the_form_not_an_error(client, advisor, slot):
    client.force_login(advisor)
    response = client.post(
        reverse("service:appointment-create"),
        {"slot": "x", "customer": "99999999", "vehicle": "²", "advisor": "", "day": "nope",
         "contact_phone": "1" * 40},
    )  # fmt: skip
    assert response.status_code == 200
    assert {"slot", "customer", "vehicle", "advisor", "contact_phone"} <= set(
        response.context["form"].errors
    )
    assert not Appointment.objects.exists()


def test_customer_search_offers_the_branchs_matching_customers_and_their_cars(
    client, advisor, branch, other_branch
):
    # given a customer of ours and one of the other branch with the same name
    customer, vehicle = customer_car(branch)
    customer.name = "欧阳锋"
    customer.save()
    theirs, _car = customer_car(other_branch)
    theirs.name = "欧阳锋"
    theirs.save()
    client.force_login(advisor)
    # when the advisor types the name in the picker
    response = client.get(reverse("service:appointment-create"), {"customer_search": "欧阳"})
    # then only our customer is offered, chosen, with their car
    page = response.content.decode()
    assert f'value="{customer.pk}" selected' in page
    assert f'value="{theirs.pk}"' not in page
    assert f'value="{vehicle.pk}" selected' in page


def test_slot_picker_offers_the_days_slots_with_room(client, advisor, branch):
    free = open_slot(branch, advisor, at=tomorrow_at(10))
    full = open_slot(branch, advisor, at=tomorrow_at(11), capacity=1)
    book(full, advisor)
    client.force_login(advisor)
    day = timezone.localdate() + timedelta(days=1)
    response = client.get(
        reverse("service:appointment-create"), {"slots": "1", "day": day.isoformat()}
    )
    page = response.content.decode()
    assert f'value="{free.pk}"' in page
    assert f'value="{full.pk}"' not in page


# --- Cancel and no-show --------------------------------------------------------------------


def test_cancelling_frees_the_slot(client, advisor, appointment):
    # given a booked appointment
    client.force_login(advisor)
    day = timezone.localtime(appointment.slot.starts_at).date()
    # when the front desk cancels it from the day's page
    response = client.post(
        reverse("service:appointment-step", args=[appointment.pk, "cancel"]),
        {"next": day_url(day)},
    )
    # then it is cancelled, the slot has room again, and the day comes back
    assert response.status_code == 302
    assert response.url == day_url(day)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert ServiceSlot.objects.get(pk=appointment.slot_id).booked == 0


def test_no_show_is_recorded_once_the_slot_has_begun(client, advisor, appointment):
    # given an appointment whose slot began ten minutes ago
    ServiceSlot.objects.filter(pk=appointment.slot_id).update(
        starts_at=timezone.now() - timedelta(minutes=10)
    )
    client.force_login(advisor)
    # when the front desk records a no-show
    response = client.post(reverse("service:appointment-step", args=[appointment.pk, "no-show"]))
    # then it is recorded, and the appointment's page comes back
    assert response.status_code == 302
    assert response.url == reverse("service:appointment-detail", args=[appointment.pk])
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.NO_SHOW


def test_no_show_before_the_slot_is_refused_and_changes_nothing(client, advisor, appointment):
    client.force_login(advisor)
    before = state(appointment)
    response = client.post(
        reverse("service:appointment-step", args=[appointment.pk, "no-show"]), follow=True
    )
    assert "once the slot has begun" in response.content.decode()
    assert state(appointment) == before


def test_cancelling_a_cancelled_appointment_is_refused_with_a_message(client, advisor, appointment):
    services.appointment_cancel(appointment=appointment, by=advisor)
    client.force_login(advisor)
    response = client.post(
        reverse("service:appointment-step", args=[appointment.pk, "cancel"]), follow=True
    )
    assert "This appointment is Cancelled" in response.content.decode()
    assert ServiceSlot.objects.get(pk=appointment.slot_id).booked == 0


# --- Query counts --------------------------------------------------------------------------


@pytest.mark.parametrize("appointments", [3, 13])
def test_front_desk_day_costs_the_same_queries_whatever_its_length(
    client, advisor, branch, appointments, django_assert_max_num_queries
):
    # given tomorrow with several slots and `appointments` bookings, one checked in
    slots = [open_slot(branch, advisor, at=tomorrow_at(8 + n), capacity=5) for n in range(3)]
    booked = [book(slots[n % 3], advisor) for n in range(appointments)]
    services.appointment_cancel(appointment=booked[0], by=advisor)
    client.force_login(advisor)
    day = timezone.localdate() + timedelta(days=1)
    # when the day is shown, then the query count does not grow with it
    with django_assert_max_num_queries(12):
        response = client.get(day_url(day))
    assert response.status_code == 200
    assert sum(len(row["appointments"]) for row in response.context["rows"]) == appointments
