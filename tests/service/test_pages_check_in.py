"""Check-in (接车), the work-order list and the technician board. Check-in opens the work order
with its odometer reading and recommendations; refused rules are shown beside their field and
change nothing; lists cost the same queries whatever their length."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from customers.models import OdometerReading
from dealer_crm.choices import Role
from dealer_crm.periods import LOCAL_TIME_ZONE
from service import services
from service.choices import AppointmentStatus, ServiceType
from service.models import Appointment, Recommendation, WorkOrder
from tests.factories import OdometerReadingFactory, UserFactory
from tests.service.helpers import (
    counts,
    customer_car,
    labour,
    open_work_order,
    start,
    state,
)

pytestmark = pytest.mark.django_db

CREATE = "service:work-order-create"


def tomorrow_at(hour: int) -> datetime:
    day = timezone.localdate() + timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TIME_ZONE)


@pytest.fixture
def car(branch):
    """A customer's car last read at 28,500 km."""
    customer, vehicle = customer_car(branch)
    OdometerReadingFactory(vehicle=vehicle, km=28_500, read_on=date(2025, 6, 1))
    return customer, vehicle


@pytest.fixture
def appointment(branch, advisor, car):
    customer, vehicle = car
    (slot,) = services.slots_open(
        branch=branch, service_type=ServiceType.MAINTENANCE, starts=[tomorrow_at(9)],
        capacity=2, by=advisor,
    )  # fmt: skip
    return services.appointment_book(
        slot=slot, customer=customer, vehicle=vehicle, advisor=advisor,
        contact_phone="13800138000", complaint="30000公里保养", by=advisor,
    )  # fmt: skip


def check_in_data(customer, vehicle, **overrides) -> dict:
    return {
        "customer": customer.pk,
        "vehicle": vehicle.pk,
        "service_type": ServiceType.MAINTENANCE,
        "contact_name": "",
        "contact_phone": "",
        "phone_confirmed": "on",
        "plate": "",
        "mileage_in": "30000",
        "fuel_level": "half",
        "damage_notes": "右后门划痕",
        "items_left": "行车记录仪",
        "complaint": "做30000公里保养，空调有异味",
        "estimate": "880.00",
        **overrides,
    }


def no_work_order_written():
    return counts(WorkOrder, OdometerReading, Recommendation)


# --- Rendering, permissions ----------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_check_in_list_and_board_render_for_the_advisor(
    client, advisor, branch, technician, language
):
    # given a work order with a labour line in the workshop
    work_order = open_work_order(branch, advisor)
    labour(work_order, technician, advisor, operation="更换前刹车片")
    client.force_login(advisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    # when the advisor opens check-in, the list and the board
    for name in (CREATE, "service:work-order-list", "service:board"):
        response = client.get(reverse(name))
        # then each answers in their language
        assert response.status_code == 200, name
        assert f'lang="{language}"' in response.content.decode()
    assert work_order.number in client.get(reverse("service:work-order-list")).content.decode()
    assert "更换前刹车片" in client.get(reverse("service:board")).content.decode()


def test_work_order_pages_are_forbidden_without_the_service_permissions(client, consultant, car):
    customer, vehicle = car
    client.force_login(consultant)
    for name in (CREATE, "service:work-order-list", "service:board"):
        assert client.get(reverse(name)).status_code == 403, name
    response = client.post(reverse(CREATE), check_in_data(customer, vehicle))
    assert response.status_code == 403
    assert not WorkOrder.objects.exists()


def test_a_technician_sees_the_board_but_cannot_check_in(client, technician):
    client.force_login(technician)
    assert client.get(reverse("service:board")).status_code == 200
    assert client.get(reverse(CREATE)).status_code == 403


# --- Check-in ------------------------------------------------------------------------------


def test_check_in_from_the_appointment_fills_in_what_was_booked(client, advisor, appointment):
    # given a booked appointment
    client.force_login(advisor)
    # when the advisor checks it in
    response = client.get(f"{reverse(CREATE)}?appointment={appointment.pk}")
    # then the form carries its customer, vehicle, phone, complaint and type, and the brief
    # shows the vehicle's last reading
    assert response.status_code == 200
    form = response.context["form"]
    assert form["customer"].value() == appointment.customer_id
    assert form["vehicle"].value() == appointment.vehicle_id
    # the booked phone is not shown to an advisor who may not see personal data: an empty
    # box stands for it
    assert form["contact_phone"].value() == ""
    assert "13800138000" not in response.content.decode()
    assert form["complaint"].value() == "30000公里保养"
    assert form["service_type"].value() == ServiceType.MAINTENANCE
    assert response.context["brief"]["last_reading"].km == 28_500
    assert 'id="last-reading"' in response.content.decode()


def test_checking_in_the_appointment_opens_the_work_order_at_30000_km(
    client, advisor, appointment, car
):
    # given a booked car last read at 28,500 km
    customer, vehicle = car
    client.force_login(advisor)
    # when it is checked in at 30,000 km with the phone confirmed
    response = client.post(
        reverse(CREATE),
        check_in_data(customer, vehicle, appointment=appointment.pk, contact_phone="13800138000"),
    )
    # then the work order is open, and the page goes to it
    assert response.status_code == 302, response.content[:1500]
    work_order = WorkOrder.objects.get()
    assert response.url == reverse("service:work-order-detail", args=[work_order.pk])
    assert (work_order.appointment, work_order.advisor) == (appointment, advisor)
    assert (work_order.contact_name, work_order.contact_phone) == (customer.name, "13800138000")
    assert work_order.plate == vehicle.plate
    assert (work_order.damage_notes, work_order.items_left) == ("右后门划痕", "行车记录仪")
    assert work_order.estimate == Decimal("880.00")
    # with the 30,000 km recommendations, the odometer reading, and the appointment checked in
    recommended = set(work_order.recommendations.values_list("description", flat=True))
    assert {"Spark plugs", "Engine oil", "Oil filter", "Air filter", "Cabin filter"} <= recommended
    assert work_order.odometer_reading.km == 30_000
    assert vehicle.odometer_readings.order_by("-id").first().km == 30_000
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.CHECKED_IN


def test_walk_in_check_in_opens_the_work_order(client, advisor, car):
    customer, vehicle = car
    client.force_login(advisor)
    response = client.post(
        reverse(CREATE),
        check_in_data(customer, vehicle, service_type=ServiceType.REPAIR, mileage_in="28600",
                      contact_name="王师傅", contact_phone="13900001111"),
    )  # fmt: skip
    assert response.status_code == 302, response.content[:1500]
    work_order = WorkOrder.objects.get()
    assert (work_order.service_type, work_order.appointment) == (ServiceType.REPAIR, None)
    assert (work_order.contact_name, work_order.mileage_in) == ("王师傅", 28_600)
    assert not work_order.recommendations.exists()


def test_mileage_lower_than_the_last_reading_is_refused_beside_the_mileage(
    client, advisor, appointment, car
):
    # given a car last read at 28,500 km
    customer, vehicle = car
    before, appointment_before = no_work_order_written(), state(appointment)
    client.force_login(advisor)
    # when it is checked in at 20,000 km
    response = client.post(
        reverse(CREATE),
        check_in_data(customer, vehicle, appointment=appointment.pk, mileage_in="20000"),
    )
    # then the refusal shows beside the mileage and nothing was written
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "lower than the last reading" in " ".join(errors["mileage_in"])
    assert no_work_order_written() == before
    assert state(appointment) == appointment_before


def test_a_replaced_odometer_takes_a_lower_mileage(client, advisor, car):
    customer, vehicle = car
    client.force_login(advisor)
    response = client.post(
        reverse(CREATE),
        check_in_data(customer, vehicle, mileage_in="120", odometer_replaced="on"),
    )
    assert response.status_code == 302, response.content[:1500]
    assert WorkOrder.objects.get().odometer_reading.is_replacement


def test_phone_not_confirmed_is_refused_beside_the_tick(client, advisor, appointment, car):
    # given the advisor did not tick that the phone was read back
    customer, vehicle = car
    data = check_in_data(customer, vehicle, appointment=appointment.pk)
    del data["phone_confirmed"]
    before = no_work_order_written()
    client.force_login(advisor)
    # when the check-in is submitted
    response = client.post(reverse(CREATE), data)
    # then it is refused beside the tick, and nothing was written
    assert response.status_code == 200
    assert "Read the contact phone back" in " ".join(
        response.context["form"].errors["phone_confirmed"]
    )
    assert no_work_order_written() == before
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED


def test_check_in_with_bad_input_answers_with_the_form(client, advisor, car):
    client.force_login(advisor)
    response = client.post(
        reverse(CREATE),
        {"customer": "abc", "vehicle": "99999999", "mileage_in": "-5", "estimate": "x",
         "fuel_level": "brimming", "plate": "A" * 40, "appointment": "²"},
    )  # fmt: skip
    assert response.status_code == 200
    assert {"customer", "vehicle", "mileage_in", "estimate", "fuel_level", "plate"} <= set(
        response.context["form"].errors
    )
    assert not WorkOrder.objects.exists()


def test_checking_in_a_cancelled_appointment_goes_back_to_it(client, advisor, appointment):
    services.appointment_cancel(appointment=appointment, by=advisor)
    client.force_login(advisor)
    response = client.get(f"{reverse(CREATE)}?appointment={appointment.pk}")
    assert response.status_code == 302
    assert response.url == reverse("service:appointment-detail", args=[appointment.pk])


def test_the_brief_highlights_items_declined_at_an_earlier_visit(client, advisor, branch, car):
    # given an earlier visit at 30,000 km whose spark plugs the customer declined
    customer, vehicle = car
    earlier = open_work_order(branch, advisor, vehicle=vehicle, mileage_in=30_000)
    plugs = earlier.recommendations.get(description="Spark plugs")
    services.recommendation_decide(recommendation=plugs, accepted=False, by=advisor)
    client.force_login(advisor)
    # when the vehicle is chosen at check-in
    response = client.get(reverse(CREATE), {"brief": "1", "vehicle": vehicle.pk})
    # then the declined item and the earlier visit show
    page = response.content.decode()
    assert 'id="declined-items"' in page
    assert "Spark plugs" in page
    assert earlier.number in page


def test_choosing_a_customer_with_one_car_brings_its_brief(client, advisor, car):
    customer, vehicle = car
    client.force_login(advisor)
    response = client.get(reverse(CREATE), {"vehicles": "1", "customer": customer.pk})
    page = response.content.decode()
    assert f'value="{vehicle.pk}" selected' in page
    assert 'hx-swap-oob="innerHTML"' in page and "28500 km" in page


# --- The list ------------------------------------------------------------------------------


def test_work_order_list_finds_by_plate_and_flags_comebacks(client, advisor, branch):
    # given two work orders, the second a comeback of the first's complaint
    customer, vehicle = customer_car(branch)
    first = open_work_order(branch, advisor, vehicle=vehicle, complaint="踩刹车时前轮有异响")
    comeback = open_work_order(
        branch, advisor, vehicle=vehicle, mileage_in=12_500, complaint="踩刹车时前轮有异响"
    )
    other = open_work_order(branch, advisor)
    client.force_login(advisor)
    # when the list is searched by the plate, or filtered to comebacks
    by_plate = client.get(reverse("service:work-order-list"), {"search": vehicle.plate})
    comebacks = client.get(reverse("service:work-order-list"), {"comeback": "true"})
    # then the plate's two orders show, and the comeback alone with its flag
    assert {w.pk for w in by_plate.context["page"]} == {first.pk, comeback.pk}
    assert other.pk not in {w.pk for w in by_plate.context["page"]}
    assert [w.pk for w in comebacks.context["page"]] == [comeback.pk]
    assert first.number in comebacks.content.decode()  # the flag names the first visit


def test_work_order_list_sorts_and_shows_an_empty_state(client, advisor, branch):
    small = open_work_order(branch, advisor, estimate=Decimal("100.00"))
    large = open_work_order(branch, advisor, estimate=Decimal("900.00"))
    client.force_login(advisor)
    response = client.get(reverse("service:work-order-list"), {"sort": "-estimate"})
    assert [w.pk for w in response.context["page"]] == [large.pk, small.pk]
    empty = client.get(reverse("service:work-order-list"), {"search": "粤Z99999"})
    assert 'id="no-work-orders"' in empty.content.decode()


def test_work_order_list_hides_another_branchs_orders(
    client, advisor, branch, other_branch, other_branch_user
):
    ours = open_work_order(branch, advisor)
    theirs = open_work_order(other_branch, other_branch_user)
    client.force_login(advisor)
    response = client.get(reverse("service:work-order-list"))
    assert [w.pk for w in response.context["page"]] == [ours.pk]
    assert theirs.number not in response.content.decode()


@pytest.mark.parametrize("rows", [3, 13])
def test_work_order_list_costs_the_same_queries_whatever_its_length(
    client, advisor, branch, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        open_work_order(branch, advisor)
    client.force_login(advisor)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("service:work-order-list"))
    assert len(response.context["page"]) == rows


# --- The board -----------------------------------------------------------------------------


def test_board_has_a_column_per_technician_with_the_undone_first(
    client, advisor, branch, technician
):
    # given two technicians' operations, one signed done, one from an added item
    work_order = open_work_order(branch, advisor)
    done = labour(work_order, technician, advisor, operation="更换机油")
    start(work_order, advisor)
    services.labour_line_sign(line=done, by=technician, at=timezone.now() - timedelta(minutes=5))
    item = services.added_item_add(
        work_order=work_order, description="刹车油更换", estimate=Decimal("150.00"), by=advisor
    )
    to_do = labour(work_order, technician, advisor, operation="更换刹车油", added_item=item)
    client.force_login(advisor)
    # when the board is shown
    response = client.get(reverse("service:board"))
    # then the technician's column holds both cards, the undone first, with the badges
    (column,) = response.context["columns"]
    assert column["technician"] == technician
    assert [line.pk for line in column["lines"]] == [to_do.pk, done.pk]
    assert column["to_do"] == 1
    page = response.content.decode()
    assert "Added item" in page and work_order.number in page


def test_board_leaves_out_other_branches_work(
    client, advisor, branch, other_branch, other_branch_user
):
    # given work in the other branch's workshop only
    their_technician = UserFactory(roles=[Role.TECHNICIAN], branches=[other_branch])
    theirs = open_work_order(other_branch, other_branch_user)
    labour(theirs, their_technician, other_branch_user, operation="别店的工时")
    client.force_login(advisor)
    response = client.get(reverse("service:board"))
    assert response.context["columns"] == []
    assert 'id="board-empty"' in response.content.decode()


@pytest.mark.parametrize("rows", [3, 13])
def test_board_costs_the_same_queries_whatever_its_length(
    client, advisor, branch, technician, rows, django_assert_max_num_queries
):
    for n in range(rows):
        work_order = open_work_order(branch, advisor)
        labour(work_order, technician, advisor, operation=f"工序 {n}")
    client.force_login(advisor)
    with django_assert_max_num_queries(11):
        response = client.get(reverse("service:board"))
    assert sum(len(column["lines"]) for column in response.context["columns"]) == rows


def test_someone_who_may_see_personal_data_gets_the_booked_phone(
    client, branch_manager, advisor, appointment
):
    branch_manager.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_workorder", "view_workorder"])
    )
    client.force_login(branch_manager)
    response = client.get(f"{reverse(CREATE)}?appointment={appointment.pk}")
    assert response.context["form"]["contact_phone"].value() == "13800138000"


def test_an_empty_phone_at_check_in_is_the_one_given_at_booking(client, advisor, appointment):
    client.force_login(advisor)
    customer, vehicle = appointment.customer, appointment.vehicle
    client.post(
        reverse(CREATE),
        check_in_data(customer, vehicle, appointment=appointment.pk, contact_phone=""),
    )
    assert WorkOrder.objects.get(appointment=appointment).contact_phone == "13800138000"
