"""Showroom services: the front desk's traffic taps and test drives in demo cars."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation

from customers.models import TimelineEntry
from dealer_crm.errors import DomainError, StateConflict
from sales import services
from sales.choices import (
    ActivityKind,
    ActivityOutcome,
    LeadSource,
    LeadStatus,
    LostReason,
    StockStatus,
    TestDriveStatus,
)
from sales.models import Lead, ShowroomTraffic, TestDrive
from tests.factories import StockVehicleFactory, resident_id
from tests.factories.concurrency import run_in_threads

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


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


# --- showroom traffic -------------------------------------------------------------------


def test_front_desk_tap_counts_one_visitor(branch, consultant):
    # given a day with no traffic counted yet
    # when the front desk taps two walk-ins and a phone inquiry
    for counter in ("first_walk_in", "first_walk_in", "phone_inquiries"):
        traffic = services.showroom_traffic_count(
            branch=branch, by=consultant, day=TODAY, counter=counter
        )
    # then one row for the day holds the counts
    row = ShowroomTraffic.objects.get(branch=branch, day=TODAY)
    assert (row.first_walk_in, row.phone_inquiries, row.visits) == (2, 1, 2)
    assert traffic.first_walk_in == 2


def test_tap_adds_to_the_stored_count_not_to_a_stale_copy(branch, consultant):
    # given a day counted at 5 first walk-ins, and the sheet updated behind the desk's back
    services.showroom_traffic_save(
        branch=branch, by=consultant, day=TODAY, counts={"first_walk_in": 5}
    )
    ShowroomTraffic.objects.filter(branch=branch, day=TODAY).update(first_walk_in=9)
    # when the desk taps one more
    traffic = services.showroom_traffic_count(
        branch=branch, by=consultant, day=TODAY, counter="first_walk_in"
    )
    # then the stored count went up by one
    assert traffic.first_walk_in == 10
    assert ShowroomTraffic.objects.get(branch=branch, day=TODAY).first_walk_in == 10


@pytest.mark.django_db(transaction=True)
def test_two_desks_tapping_at_once_both_count(branch, consultant, sales_manager):
    # given a day already on the sheet, and two front-desk tablets
    services.showroom_traffic_save(
        branch=branch, by=consultant, day=TODAY, counts={"return_walk_in": 0}
    )
    first_tapped = threading.Event()

    def slow_desk():
        # taps, then keeps its transaction open while the other desk taps
        with transaction.atomic():
            services.showroom_traffic_count(
                branch=branch, by=consultant, day=TODAY, counter="return_walk_in"
            )
            first_tapped.set()
            time.sleep(0.5)

    def quick_desk():
        first_tapped.wait(timeout=10)
        return services.showroom_traffic_count(
            branch=branch, by=sales_manager, day=TODAY, counter="return_walk_in"
        )

    # when both tap the same counter at the same moment
    results = run_in_threads(slow_desk, quick_desk)
    # then neither tap is lost
    assert not any(isinstance(result, Exception) for result in results), results
    assert ShowroomTraffic.objects.get(branch=branch, day=TODAY).return_walk_in == 2


def test_correcting_a_slip_takes_one_visitor_back(branch, consultant):
    # given two return visits counted
    for _ in range(2):
        services.showroom_traffic_count(
            branch=branch, by=consultant, day=TODAY, counter="return_with_appointment"
        )
    # when one tap is taken back
    traffic = services.showroom_traffic_count(
        branch=branch, by=consultant, day=TODAY, counter="return_with_appointment", step=-1
    )
    # then one remains
    assert traffic.return_with_appointment == 1


def test_taking_back_below_zero_is_refused_and_creates_nothing(branch, consultant):
    # given a day with nothing counted
    # when the desk takes back a visitor
    error = refusal(
        lambda: services.showroom_traffic_count(
            branch=branch, by=consultant, day=TODAY, counter="first_walk_in", step=-1
        )
    )
    # then it is refused, and no row was left behind for the day
    assert error.code == "traffic_below_zero"
    assert not ShowroomTraffic.objects.exists()


def test_taking_back_a_counter_at_zero_leaves_the_others(branch, consultant):
    # given a day with one phone inquiry and no walk-ins
    services.showroom_traffic_count(
        branch=branch, by=consultant, day=TODAY, counter="phone_inquiries"
    )
    # when a walk-in is taken back
    error = refusal(
        lambda: services.showroom_traffic_count(
            branch=branch, by=consultant, day=TODAY, counter="first_walk_in", step=-1
        )
    )
    # then it is refused and the counts are as they were
    assert error.code == "traffic_below_zero"
    row = ShowroomTraffic.objects.get(branch=branch, day=TODAY)
    assert (row.first_walk_in, row.phone_inquiries) == (0, 1)


def test_traffic_cannot_be_counted_ahead_of_the_day(branch, consultant):
    # given tomorrow
    tomorrow = TODAY + timedelta(days=1)
    # when the desk taps, or saves a sheet, for tomorrow
    tap = refusal(
        lambda: services.showroom_traffic_count(
            branch=branch, by=consultant, day=tomorrow, counter="first_walk_in"
        )
    )
    sheet = refusal(
        lambda: services.showroom_traffic_save(
            branch=branch, by=consultant, day=tomorrow, counts={"first_walk_in": 3}
        )
    )
    # then both are refused and nothing is stored
    assert tap.code == sheet.code == "traffic_future_day"
    assert not ShowroomTraffic.objects.exists()


@pytest.mark.parametrize(("counter", "step"), [("visitors", 1), ("first_walk_in", 2)])
def test_unknown_counter_or_step_is_refused(branch, consultant, counter, step):
    # given / when a tap names no known counter, or counts more than one visitor
    error = refusal(
        lambda: services.showroom_traffic_count(
            branch=branch, by=consultant, day=TODAY, counter=counter, step=step
        )
    )
    # then it is refused
    assert error.code == "traffic_counter_unknown"
    assert not ShowroomTraffic.objects.exists()


def test_end_of_day_sheet_sets_the_counts_of_a_past_day(branch, consultant):
    # given yesterday's tapped counts
    yesterday = TODAY - timedelta(days=1)
    services.showroom_traffic_count(
        branch=branch, by=consultant, day=yesterday, counter="first_walk_in"
    )
    # when the sheet is saved with the counted figures
    services.showroom_traffic_save(
        branch=branch,
        by=consultant,
        day=yesterday,
        counts={"first_walk_in": 6, "first_with_appointment": 2, "phone_inquiries": 11},
    )
    # then the day holds the sheet's figures, in one row
    row = ShowroomTraffic.objects.get(branch=branch, day=yesterday)
    assert (row.first_walk_in, row.first_with_appointment, row.phone_inquiries) == (6, 2, 11)
    assert row.first_visits == 8


def test_negative_count_on_the_sheet_is_refused(branch, consultant):
    # given a day with counts
    services.showroom_traffic_save(
        branch=branch, by=consultant, day=TODAY, counts={"first_walk_in": 4}
    )
    # when the sheet is saved with a negative count
    with pytest.raises(ValidationError) as caught:
        services.showroom_traffic_save(
            branch=branch,
            by=consultant,
            day=TODAY,
            counts={"first_walk_in": 5, "return_walk_in": -1},
        )
    # then it is refused beside the field, and nothing of the sheet is kept
    assert "return_walk_in" in caught.value.message_dict
    row = ShowroomTraffic.objects.get(branch=branch, day=TODAY)
    assert (row.first_walk_in, row.return_walk_in) == (4, 0)


def test_every_tap_is_in_the_history_with_who_made_it(branch, consultant):
    # given / when the consultant taps twice
    for _ in range(2):
        services.showroom_traffic_count(
            branch=branch, by=consultant, day=TODAY, counter="first_walk_in"
        )
    # then the history holds both taps, attributed
    row = ShowroomTraffic.objects.get(branch=branch, day=TODAY)
    taps = row.history.filter(history_type="~")
    assert taps.count() == 2
    assert {record.history_user for record in taps} == {consultant}


# --- test drives ------------------------------------------------------------------------


def new_lead(branch, by, mobile="13912345678") -> Lead:
    return services.lead_create(
        branch=branch,
        by=by,
        data={
            "source": LeadSource.WALK_IN,
            "name": "李建国",
            "mobile": mobile,
            "model_of_interest": "途观L",
            "intent_level": "H",
        },
    )


def verified_lead(branch, by, mobile="13912345678") -> Lead:
    return services.lead_verify(lead=new_lead(branch, by, mobile), by=by)


def demo_car(branch, **overrides):
    return StockVehicleFactory(branch=branch, status=StockStatus.DEMO, series="途观L", **overrides)


def slot(start, minutes=30) -> dict:
    return {"starts_at": start, "ends_at": start + timedelta(minutes=minutes)}


def drive_data(car, start, minutes=30, licence=1) -> dict:
    return {
        "demo_vehicle": car,
        "driver_name": "李建国",
        "driver_licence_number": resident_id(licence),
        "route": "天河路—珠江新城环线",
        **slot(start, minutes),
    }


def next_hour():
    return timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def test_test_drive_before_verification_is_refused(branch, consultant):
    # given a new, unverified lead and a demo car
    lead = new_lead(branch, consultant)
    car = demo_car(branch)
    # when a test drive is booked
    error = refusal(
        lambda: services.test_drive_book(
            lead=lead, by=consultant, data=drive_data(car, next_hour())
        )
    )
    # then it is refused: the lead is not qualified yet
    assert isinstance(error, StateConflict) and error.code == "lead_not_verified"
    assert not TestDrive.objects.exists()
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW


def test_test_drive_is_booked_in_a_demo_car(branch, consultant):
    # given a verified lead and a demo car
    lead = verified_lead(branch, consultant)
    car = demo_car(branch)
    # when a slot is booked
    drive = services.test_drive_book(lead=lead, by=consultant, data=drive_data(car, next_hour()))
    # then the booking is the lead's consultant's, booked and unsigned
    drive = fresh(drive)
    assert drive.status == TestDriveStatus.BOOKED and drive.demo_vehicle == car
    assert drive.consultant == consultant and drive.branch == branch
    assert not drive.agreement_signed


@pytest.mark.parametrize(
    "status", [StockStatus.IN_STOCK, StockStatus.IN_TRANSIT, StockStatus.RESERVED]
)
def test_test_drive_in_a_car_that_is_not_a_demo_car_is_refused(branch, consultant, status):
    # given a verified lead and a vehicle for sale
    lead = verified_lead(branch, consultant)
    car = StockVehicleFactory(branch=branch, status=status)
    # when a test drive is booked in it
    error = refusal(
        lambda: services.test_drive_book(
            lead=lead, by=consultant, data=drive_data(car, next_hour())
        )
    )
    # then it is refused beside the car
    assert error.code == "not_a_demo_car" and error.field == "demo_vehicle"
    assert not TestDrive.objects.exists()


def test_test_drive_in_another_branch_demo_car_is_refused(branch, other_branch, consultant):
    # given a demo car of another branch
    lead = verified_lead(branch, consultant)
    car = demo_car(other_branch)
    # when it is booked
    error = refusal(
        lambda: services.test_drive_book(
            lead=lead, by=consultant, data=drive_data(car, next_hour())
        )
    )
    # then it is refused
    assert error.code == "not_a_demo_car"
    assert not TestDrive.objects.exists()


def test_demo_car_cannot_be_booked_twice_at_once(branch, consultant):
    # given a demo car booked 10:00–10:30 tomorrow-ish
    car = demo_car(branch)
    start = next_hour()
    first = verified_lead(branch, consultant, mobile="13912340001")
    second = verified_lead(branch, consultant, mobile="13912340002")
    services.test_drive_book(lead=first, by=consultant, data=drive_data(car, start))
    # when another lead books 10:15–10:45
    error = refusal(
        lambda: services.test_drive_book(
            lead=second,
            by=consultant,
            data=drive_data(car, start + timedelta(minutes=15), licence=2),
        )
    )
    # then it is a conflict naming the taken slot, and only the first booking exists
    assert isinstance(error, StateConflict) and error.code == "demo_car_booked"
    assert error.field == "starts_at"
    assert TestDrive.objects.filter(demo_vehicle=car).count() == 1


def test_back_to_back_slots_in_one_demo_car_are_allowed(branch, consultant):
    # given a demo car booked for the half hour from the next full hour
    car = demo_car(branch)
    start = next_hour()
    first = verified_lead(branch, consultant, mobile="13912340001")
    second = verified_lead(branch, consultant, mobile="13912340002")
    services.test_drive_book(lead=first, by=consultant, data=drive_data(car, start))
    # when the next half hour is booked, starting when the first ends
    services.test_drive_book(
        lead=second,
        by=consultant,
        data=drive_data(car, start + timedelta(minutes=30), licence=2),
    )
    # then both bookings stand
    assert TestDrive.objects.filter(demo_vehicle=car, status=TestDriveStatus.BOOKED).count() == 2


def test_cancelled_booking_frees_the_slot(branch, consultant):
    # given a booking that was cancelled
    car = demo_car(branch)
    start = next_hour()
    lead = verified_lead(branch, consultant)
    cancelled = services.test_drive_book(lead=lead, by=consultant, data=drive_data(car, start))
    services.test_drive_cancel(test_drive=cancelled, by=consultant, reason="客户改期")
    # when the same slot is booked again
    services.test_drive_book(lead=lead, by=consultant, data=drive_data(car, start))
    # then it is booked
    assert TestDrive.objects.filter(demo_vehicle=car, status=TestDriveStatus.BOOKED).count() == 1


def test_test_drive_ending_before_it_starts_is_refused(branch, consultant):
    # given a verified lead and a demo car
    lead = verified_lead(branch, consultant)
    car = demo_car(branch)
    # when a slot ends before it starts
    with pytest.raises(ValidationError) as caught:
        services.test_drive_book(
            lead=lead, by=consultant, data=drive_data(car, next_hour(), minutes=-30)
        )
    # then it is refused beside the end time
    assert "ends_at" in caught.value.message_dict
    assert not TestDrive.objects.exists()


def test_test_drive_with_an_invalid_licence_number_is_refused(branch, consultant):
    # given a licence number whose check digit is wrong
    lead = verified_lead(branch, consultant)
    car = demo_car(branch)
    data = drive_data(car, next_hour())
    data["driver_licence_number"] = data["driver_licence_number"][:-1] + (
        "0" if data["driver_licence_number"][-1] != "0" else "1"
    )
    # when the test drive is booked
    with pytest.raises(ValidationError) as caught:
        services.test_drive_book(lead=lead, by=consultant, data=data)
    # then the licence number is refused
    assert "driver_licence_number" in caught.value.message_dict


@pytest.mark.django_db(transaction=True)
def test_two_consultants_booking_one_demo_car_at_once_only_one_gets_it(
    branch, consultant, sales_manager
):
    # given a demo car and two verified leads, each with a consultant at a tablet
    car = demo_car(branch)
    start = next_hour()
    first = verified_lead(branch, consultant, mobile="13912340001")
    second = verified_lead(branch, sales_manager, mobile="13912340002")

    # when both book overlapping slots in the same instant
    results = run_in_threads(
        lambda: services.test_drive_book(
            lead=first, by=consultant, data=drive_data(car, start, minutes=60)
        ),
        lambda: services.test_drive_book(
            lead=second,
            by=sales_manager,
            data=drive_data(car, start + timedelta(minutes=30), licence=2),
        ),
    )

    # then exactly one booking succeeds and the other is told the car is taken
    booked = [r for r in results if isinstance(r, TestDrive)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(booked) == 1 and len(refused) == 1, results
    assert isinstance(refused[0], StateConflict) and refused[0].code == "demo_car_booked"
    assert TestDrive.objects.filter(demo_vehicle=car).count() == 1


def started_drive(branch, consultant, lead=None) -> TestDrive:
    """A test drive that started ten minutes ago."""
    lead = lead or verified_lead(branch, consultant)
    car = demo_car(branch)
    start = timezone.now() - timedelta(minutes=10)
    return services.test_drive_book(lead=lead, by=consultant, data=drive_data(car, start))


def test_test_drive_without_the_signed_agreement_cannot_be_completed(branch, consultant):
    # given a test drive under way, agreement not signed
    drive = started_drive(branch, consultant)
    # when it is completed without the signature
    error = refusal(
        lambda: services.test_drive_complete(
            test_drive=drive, by=consultant, agreement_signed=False, feedback="不错"
        )
    )
    # then it is refused, the drive stays booked and the lead does not move
    assert error.code == "agreement_not_signed" and error.field == "agreement_signed"
    drive = fresh(drive)
    assert drive.status == TestDriveStatus.BOOKED and drive.feedback == ""
    lead = Lead.objects.get(pk=drive.lead_id)
    assert lead.status == LeadStatus.VERIFIED and lead.test_driven_at is None


def test_completed_test_drive_advances_the_lead(branch, consultant):
    # given a verified lead linked to a customer, on a test drive since ten minutes ago
    lead = verified_lead(branch, consultant)
    customer = services.lead_link_customer(lead=lead, by=consultant)
    drive = started_drive(branch, consultant, lead=lead)
    # when the drive is completed with the signed agreement
    services.test_drive_complete(
        test_drive=drive, by=consultant, agreement_signed=True, feedback="加速平顺，空间大"
    )
    # then the drive is done, the lead is test-driven (and visited, contacted) from the drive's
    # start, and the customer's timeline shows it
    drive = fresh(drive)
    assert drive.status == TestDriveStatus.DONE and drive.agreement_signed
    assert drive.feedback == "加速平顺，空间大"
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.status == LeadStatus.TEST_DRIVEN
    assert lead.test_driven_at == drive.starts_at
    assert lead.visited_at == lead.contacted_at == drive.starts_at
    assert TimelineEntry.objects.filter(customer=customer, kind="test_drive_done").exists()


def test_test_drive_of_a_lead_already_quoted_leaves_it_quoted(branch, consultant):
    # given a lead already further along than test-driven
    lead = verified_lead(branch, consultant)
    Lead.objects.filter(pk=lead.pk).update(
        status=LeadStatus.QUOTED, quoted_at=timezone.now() - timedelta(days=1)
    )
    drive = started_drive(branch, consultant, lead=lead)
    # when a (second) test drive is completed
    services.test_drive_complete(test_drive=drive, by=consultant, agreement_signed=True)
    # then the lead does not move back
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.QUOTED


def test_test_drive_cannot_be_completed_before_it_starts(branch, consultant):
    # given a test drive booked for the next hour
    lead = verified_lead(branch, consultant)
    drive = services.test_drive_book(
        lead=lead, by=consultant, data=drive_data(demo_car(branch), next_hour())
    )
    # when it is completed now
    error = refusal(
        lambda: services.test_drive_complete(test_drive=drive, by=consultant, agreement_signed=True)
    )
    # then it is refused
    assert isinstance(error, StateConflict) and error.code == "test_drive_not_started"
    assert fresh(drive).status == TestDriveStatus.BOOKED


@pytest.mark.parametrize("first", ["complete", "cancel"])
def test_finished_test_drive_cannot_be_completed_or_cancelled_again(branch, consultant, first):
    # given a test drive completed or cancelled
    drive = started_drive(branch, consultant)
    if first == "complete":
        services.test_drive_complete(test_drive=drive, by=consultant, agreement_signed=True)
    else:
        services.test_drive_cancel(test_drive=drive, by=consultant)
    status = fresh(drive).status
    # when it is completed, then cancelled, again
    complete = refusal(
        lambda: services.test_drive_complete(test_drive=drive, by=consultant, agreement_signed=True)
    )
    cancel = refusal(lambda: services.test_drive_cancel(test_drive=drive, by=consultant))
    # then both are state conflicts and the status stands
    assert complete.code == cancel.code == "test_drive_not_booked"
    assert fresh(drive).status == status


def test_test_drive_for_a_lost_lead_is_refused(branch, consultant):
    # given a lead lost on price
    lead = verified_lead(branch, consultant)
    services.lead_lose(lead=lead, by=consultant, reason=LostReason.PRICE)
    # when a test drive is booked for it
    error = refusal(
        lambda: services.test_drive_book(
            lead=lead, by=consultant, data=drive_data(demo_car(branch), next_hour())
        )
    )
    # then it is refused
    assert error.code == "lead_closed"
    assert not TestDrive.objects.exists()


def test_booking_a_test_drive_does_not_yet_make_the_lead_test_driven(branch, consultant):
    # given a lead that visited the showroom
    lead = verified_lead(branch, consultant)
    services.activity_log(
        lead=lead, by=consultant, kind=ActivityKind.VISIT, outcome=ActivityOutcome.APPOINTMENT
    )
    # when a test drive is booked
    services.test_drive_book(
        lead=lead, by=consultant, data=drive_data(demo_car(branch), next_hour())
    )
    # then the lead is still visited: only a completed drive counts
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.status == LeadStatus.VISITED and lead.test_driven_at is None
