"""The sales API for the showroom and the stock: traffic counts, stock vehicles and their
PDI, test drives and trade-in appraisals."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from sales.choices import StockStatus, TestDriveStatus, TradeInDecision
from sales.models import ShowroomTraffic, StockVehicle, TestDrive, TradeIn
from tests.factories import (
    LeadFactory,
    QuoteFactory,
    ShowroomTrafficFactory,
    StockVehicleFactory,
    TestDriveFactory,
    TradeInFactory,
    resident_id,
    vin,
)

pytestmark = pytest.mark.django_db

TRAFFIC = "/api/v1/showroom-traffic/"
STOCK = "/api/v1/stock-vehicles/"
TEST_DRIVES = "/api/v1/test-drives/"
TRADE_INS = "/api/v1/trade-ins/"
TODAY = timezone.localdate()


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def lead(branch, consultant):
    return LeadFactory(branch=branch, consultant=consultant, reached="verified")


@pytest.fixture
def demo_car(branch):
    return StockVehicleFactory(branch=branch, status=StockStatus.DEMO)


# --- showroom traffic -----------------------------------------------------------------


def test_front_desk_taps_count_visitors(api_as, consultant, branch):
    # given no counts yet today
    client = api_as(consultant)
    # when two walk-ins are tapped and one tap is taken back
    client.post(f"{TRAFFIC}count/", {"counter": "first_walk_in"})
    client.post(f"{TRAFFIC}count/", {"counter": "first_walk_in"})
    response = client.post(f"{TRAFFIC}count/", {"counter": "first_walk_in", "step": -1})
    # then today's row holds one walk-in, with the totals worked out
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["day"], body["branch"], body["first_walk_in"]) == (TODAY.isoformat(), branch.pk, 1)
    assert body["visits"] == body["first_visits"] == body["without_appointment"] == 1


def test_taking_back_a_zero_count_is_refused(api_as, consultant):
    # given no counts today
    # when a tap is taken back
    response = api_as(consultant).post(
        f"{TRAFFIC}count/", {"counter": "phone_inquiries", "step": -1}
    )
    # then the rule refuses it
    assert response.status_code == 400
    assert response.json()["code"] == "traffic_below_zero"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"counter": "passers_by"}, "counter"),
        ({"counter": "first_walk_in", "step": 5}, "step"),
        ({"counter": "first_walk_in", "day": "yesterday"}, "day"),
        ({}, "counter"),
    ],
)
def test_bad_tap_names_the_field(api_as, consultant, payload, field):
    response = api_as(consultant).post(f"{TRAFFIC}count/", payload)
    assert response.status_code == 400
    assert field in response.json()


def test_end_of_day_sheet_sets_the_counts(api_as, consultant, branch):
    # given a day with some taps
    day = TODAY - timedelta(days=1)
    ShowroomTraffic.objects.create(branch=branch, day=day, first_walk_in=2)
    client = api_as(consultant)
    # when the sheet for it and for a day without taps are sent
    corrected = client.post(
        TRAFFIC, {"day": day.isoformat(), "first_walk_in": 4, "phone_inquiries": 9}
    )
    fresh = client.post(
        TRAFFIC, {"day": (day - timedelta(days=1)).isoformat(), "return_walk_in": 1}
    )
    # then the existing day is set (200) and the new day is made (201)
    assert corrected.status_code == 200, corrected.json()
    assert (corrected.json()["first_walk_in"], corrected.json()["phone_inquiries"]) == (4, 9)
    assert fresh.status_code == 201
    assert ShowroomTraffic.objects.filter(branch=branch).count() == 2


def test_day_counts_are_corrected_with_patch(api_as, consultant, branch):
    # given a day's counts
    traffic = ShowroomTrafficFactory(branch=branch)
    # when one counter is corrected and a negative count is tried
    client = api_as(consultant)
    response = client.patch(f"{TRAFFIC}{traffic.pk}/", {"return_walk_in": 7})
    negative = client.patch(f"{TRAFFIC}{traffic.pk}/", {"return_walk_in": -1})
    # then the correction is saved and the negative one is a field error
    assert response.status_code == 200
    assert response.json()["return_walk_in"] == 7
    assert negative.status_code == 400 and "return_walk_in" in negative.json()


def test_traffic_ahead_of_the_day_is_refused(api_as, consultant):
    response = api_as(consultant).post(
        TRAFFIC, {"day": (TODAY + timedelta(days=1)).isoformat(), "first_walk_in": 1}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "traffic_future_day"


def test_traffic_filters_by_day_range(api_as, consultant, branch):
    # given three days of counts
    days = [TODAY - timedelta(days=n) for n in range(3)]
    rows = [ShowroomTrafficFactory(branch=branch, day=day) for day in days]
    # when the last two days are asked for
    response = api_as(consultant).get(
        TRAFFIC, {"day_after": days[1].isoformat(), "day_before": days[0].isoformat()}
    )
    # then only those are listed, newest first
    assert ids(response) == [rows[0].pk, rows[1].pk]


# --- stock vehicles -------------------------------------------------------------------


def test_sales_manager_adds_a_vehicle_in_transit_and_it_arrives(api_as, sales_manager, branch):
    # given a sales manager
    client = api_as(sales_manager)
    # when they add a vehicle in transit (VIN in lower case) and record its arrival
    created = client.post(
        STOCK,
        {"vin": vin(12).lower(), "brand": "大众", "series": "途观L", "list_price": "219900.00",
         "status": "in_transit"},
    )  # fmt: skip
    arrived = client.post(
        f"{STOCK}{created.json()['id']}/arrive/",
        {"arrival_date": (TODAY - timedelta(days=2)).isoformat()},
    )
    # then the vehicle is in stock for two days, its VIN normalised
    assert created.status_code == 201, created.json()
    assert created.json()["vin"] == vin(12)
    assert created.json()["days_in_stock"] is None
    assert arrived.status_code == 200, arrived.json()
    assert (arrived.json()["status"], arrived.json()["days_in_stock"]) == ("in_stock", 2)


def test_duplicate_vin_is_refused(api_as, sales_manager, branch):
    # given a vehicle in stock
    existing = StockVehicleFactory(branch=branch)
    # when the same VIN is added again
    response = api_as(sales_manager).post(
        STOCK,
        {"vin": existing.vin, "brand": "大众", "series": "朗逸", "list_price": "119900"},
    )
    # then the rule names the VIN field
    assert response.status_code == 400
    assert response.json()["code"] == "duplicate_vin"
    assert "vin" in response.json()


def test_invalid_vin_check_digit_is_a_field_error(api_as, sales_manager):
    bad = vin(12)[:8] + ("0" if vin(12)[8] != "0" else "1") + vin(12)[9:]
    response = api_as(sales_manager).post(
        STOCK, {"vin": bad, "brand": "大众", "series": "朗逸", "list_price": "119900"}
    )
    assert response.status_code == 400
    assert "vin" in response.json()


def test_consultant_cannot_add_stock(api_as, consultant):
    response = api_as(consultant).post(
        STOCK, {"vin": vin(13), "brand": "大众", "series": "朗逸", "list_price": "119900"}
    )
    assert response.status_code == 403
    assert not StockVehicle.objects.exists()


def test_technician_records_the_pdi(api_as, technician, branch):
    # given a vehicle that arrived yesterday
    vehicle = StockVehicleFactory(branch=branch, arrival_date=TODAY - timedelta(days=1))
    # when the technician records its PDI
    response = api_as(technician).post(f"{STOCK}{vehicle.pk}/pdi/", {"note": "漆面完好"})
    # then the inspection is on record, today, by them
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["pdi_done_on"], body["pdi_by"], body["pdi_note"]) == (
        TODAY.isoformat(),
        technician.pk,
        "漆面完好",
    )


def test_consultant_cannot_record_a_pdi(api_as, consultant, branch):
    vehicle = StockVehicleFactory(branch=branch)
    response = api_as(consultant).post(f"{STOCK}{vehicle.pk}/pdi/", {})
    assert response.status_code == 403


def test_pdi_before_arrival_is_a_conflict(api_as, technician, branch):
    vehicle = StockVehicleFactory(branch=branch, status=StockStatus.IN_TRANSIT)
    response = api_as(technician).post(f"{STOCK}{vehicle.pk}/pdi/", {})
    assert response.status_code == 409
    assert response.json()["code"] == "vehicle_not_arrived"


def test_vehicle_becomes_a_demo_car_and_back(api_as, sales_manager, branch):
    # given a vehicle in stock
    vehicle = StockVehicleFactory(branch=branch)
    client = api_as(sales_manager)
    # when it is made a demo car, then returned to stock
    demo = client.post(f"{STOCK}{vehicle.pk}/demo/", {"demo": True})
    back = client.post(f"{STOCK}{vehicle.pk}/demo/", {"demo": False})
    again = client.post(f"{STOCK}{vehicle.pk}/demo/", {"demo": False})
    # then both changes go through and a third is a conflict
    assert (demo.json()["status"], back.json()["status"]) == ("demo", "in_stock")
    assert again.status_code == 409
    assert again.json()["code"] == "stock_status_conflict"


def test_stock_details_are_edited_but_not_the_vin(api_as, sales_manager, branch):
    # given a vehicle in stock
    vehicle = StockVehicleFactory(branch=branch)
    # when its colour and VIN are changed
    response = api_as(sales_manager).patch(
        f"{STOCK}{vehicle.pk}/", {"colour": "黑色", "vin": vin(99)}
    )
    # then the colour changes and the VIN, read-only, stays
    assert response.status_code == 200, response.json()
    vehicle.refresh_from_db()
    assert vehicle.colour == "黑色" and vehicle.vin != vin(99)


def test_stock_filters_by_status_and_age(api_as, consultant, branch):
    # given a vehicle 40 days in stock, a fresh one and a demo car
    old = StockVehicleFactory(branch=branch, arrival_date=TODAY - timedelta(days=40))
    StockVehicleFactory(branch=branch)
    demo = StockVehicleFactory(branch=branch, status=StockStatus.DEMO)
    client = api_as(consultant)
    # when filtered by status and by days in stock
    by_status = client.get(STOCK, {"status": "demo"})
    by_age = client.get(STOCK, {"min_days_in_stock": 31})
    # then each returns its vehicle
    assert ids(by_status) == [demo.pk]
    assert ids(by_age) == [old.pk]
    assert by_age.json()["results"][0]["days_in_stock"] == 40


# --- test drives ----------------------------------------------------------------------


def _booking(lead, car, starts_at=None, **extra) -> dict:
    starts_at = starts_at or timezone.now() - timedelta(minutes=30)
    return {
        "lead": lead.pk,
        "demo_vehicle": car.pk,
        "driver_name": "王小明",
        "driver_licence_number": resident_id(7),
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(minutes=30)).isoformat(),
        "route": "天河路—体育西路",
        **extra,
    }


def test_consultant_books_and_completes_a_test_drive(api_as, consultant, lead, demo_car):
    # given a verified lead and a demo car
    client = api_as(consultant)
    # when a drive that began half an hour ago is booked, then completed with the agreement
    booked = client.post(TEST_DRIVES, _booking(lead, demo_car))
    done = client.post(
        f"{TEST_DRIVES}{booked.json()['id']}/complete/",
        {"agreement_signed": True, "feedback": "空间大"},
    )
    # then the drive is done and the lead is test-driven
    assert booked.status_code == 201, booked.json()
    assert booked.json()["status"] == TestDriveStatus.BOOKED
    assert done.status_code == 200, done.json()
    assert (done.json()["status"], done.json()["feedback"]) == ("done", "空间大")
    lead.refresh_from_db()
    assert lead.status == "test_driven"


def test_driver_licence_is_masked_for_a_consultant(api_as, consultant, lead, demo_car):
    response = api_as(consultant).post(TEST_DRIVES, _booking(lead, demo_car))
    assert response.json()["driver_licence_number"] == mask_of(resident_id(7))


def mask_of(value: str) -> str:
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def test_double_booking_a_demo_car_is_a_conflict(api_as, consultant, lead, demo_car, branch):
    # given a booking of the demo car
    start = timezone.now() + timedelta(hours=2)
    client = api_as(consultant)
    client.post(TEST_DRIVES, _booking(lead, demo_car, starts_at=start))
    # when another lead books it for an overlapping slot
    other_lead = LeadFactory(branch=branch, reached="verified")
    response = client.post(
        TEST_DRIVES, _booking(other_lead, demo_car, starts_at=start + timedelta(minutes=10))
    )
    # then it is refused with the code
    assert response.status_code == 409
    assert response.json()["code"] == "demo_car_booked"
    assert TestDrive.objects.count() == 1


def test_test_drive_for_an_unverified_lead_is_a_conflict(api_as, consultant, branch, demo_car):
    lead = LeadFactory(branch=branch)
    response = api_as(consultant).post(TEST_DRIVES, _booking(lead, demo_car))
    assert response.status_code == 409
    assert response.json()["code"] == "lead_not_verified"


def test_completing_without_the_agreement_is_refused(api_as, consultant, lead, demo_car):
    drive = TestDriveFactory(
        branch=lead.branch,
        lead=lead,
        demo_vehicle=demo_car,
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() - timedelta(minutes=30),
    )
    response = api_as(consultant).post(f"{TEST_DRIVES}{drive.pk}/complete/", {})
    assert response.status_code == 400
    assert response.json()["code"] == "agreement_not_signed"


def test_cancelled_drive_cannot_be_cancelled_again(api_as, consultant, lead, demo_car):
    drive = TestDriveFactory(branch=lead.branch, lead=lead, demo_vehicle=demo_car)
    client = api_as(consultant)
    first = client.post(f"{TEST_DRIVES}{drive.pk}/cancel/", {"reason": "客户改期"})
    second = client.post(f"{TEST_DRIVES}{drive.pk}/cancel/", {})
    assert first.status_code == 200 and first.json()["status"] == "cancelled"
    assert second.status_code == 409
    assert second.json()["code"] == "test_drive_not_booked"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"driver_licence_number": "110105194912310021"}, "driver_licence_number"),
        ({"route": "环" * 201}, "route"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"demo_vehicle": 999999}, "demo_vehicle"),
        ({"lead": None}, "lead"),
    ],
    ids=["bad-check-digit", "too-long", "wrong-type", "unknown-id", "missing"],
)
def test_bad_booking_names_the_field(api_as, consultant, lead, demo_car, change, field):
    response = api_as(consultant).post(TEST_DRIVES, {**_booking(lead, demo_car), **change})
    assert response.status_code == 400, response.json()
    assert field in response.json()


def test_booking_that_ends_before_it_starts_is_refused(api_as, consultant, lead, demo_car):
    payload = _booking(lead, demo_car)
    payload["ends_at"] = (timezone.now() - timedelta(hours=2)).isoformat()
    response = api_as(consultant).post(TEST_DRIVES, payload)
    assert response.status_code == 400
    assert "ends_at" in response.json()


def test_test_drives_filter_by_status(api_as, consultant, lead, demo_car):
    booked = TestDriveFactory(branch=lead.branch, lead=lead, demo_vehicle=demo_car)
    TestDriveFactory(
        branch=lead.branch, lead=lead, demo_vehicle=demo_car, status=TestDriveStatus.CANCELLED
    )
    response = api_as(consultant).get(TEST_DRIVES, {"status": "booked"})
    assert ids(response) == [booked.pk]


# --- trade-ins ------------------------------------------------------------------------


def test_consultant_appraises_a_trade_in_and_the_customer_accepts(api_as, consultant, lead):
    # given a verified lead
    client = api_as(consultant)
    # when their car is appraised and they accept the offer
    appraised = client.post(
        TRADE_INS,
        {"lead": lead.pk, "brand": "本田", "series": "雅阁", "model_year": 2018,
         "plate": "粤A12345", "odometer_km": 86000, "appraised_value": "85000",
         "offered_value": "80000"},
    )  # fmt: skip
    decided = client.post(f"{TRADE_INS}{appraised.json()['id']}/decide/", {"decision": "accepted"})
    # then the trade-in is on record, accepted
    assert appraised.status_code == 201, appraised.json()
    assert appraised.json()["appraised_by"] == consultant.pk
    assert appraised.json()["offered_value"] == "80000.00"
    assert decided.status_code == 200
    assert TradeIn.objects.get().decision == TradeInDecision.ACCEPTED


def test_accepted_trade_in_reprices_its_draft_quote(api_as, consultant, lead):
    # given a draft quote carrying a pending trade-in
    trade_in = TradeInFactory(branch=lead.branch, lead=lead, offered_value=Decimal("80000"))
    quote = QuoteFactory(branch=lead.branch, lead=lead, trade_in=trade_in)
    # when the customer accepts the offer
    api_as(consultant).post(f"{TRADE_INS}{trade_in.pk}/decide/", {"decision": "accepted"})
    # then the quote's total takes the trade-in off
    quote.refresh_from_db()
    assert quote.trade_in_value == Decimal("80000.00")
    assert quote.total == Decimal("119900.00") - Decimal("2000.00") - Decimal("80000.00")


def test_deciding_twice_is_a_conflict(api_as, consultant, lead):
    trade_in = TradeInFactory(branch=lead.branch, lead=lead, decision=TradeInDecision.DECLINED)
    response = api_as(consultant).post(
        f"{TRADE_INS}{trade_in.pk}/decide/", {"decision": "accepted"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "trade_in_decided"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"decision": "pending"}, "decision"),
        ({}, "decision"),
    ],
)
def test_bad_decision_names_the_field(api_as, consultant, lead, change, field):
    trade_in = TradeInFactory(branch=lead.branch, lead=lead)
    response = api_as(consultant).post(f"{TRADE_INS}{trade_in.pk}/decide/", change)
    assert response.status_code == 400
    assert field in response.json()


def test_trade_in_with_bad_values_names_the_fields(api_as, consultant, lead):
    response = api_as(consultant).post(
        TRADE_INS,
        {"lead": lead.pk, "brand": "本田", "series": "雅阁", "appraised_value": "-1",
         "offered_value": "abc", "plate": "ABC"},
    )  # fmt: skip
    assert response.status_code == 400
    assert {"appraised_value", "offered_value"} <= set(response.json())


def test_trade_ins_filter_by_decision(api_as, consultant, lead):
    accepted = TradeInFactory(branch=lead.branch, lead=lead, decision=TradeInDecision.ACCEPTED)
    TradeInFactory(branch=lead.branch, lead=lead)
    response = api_as(consultant).get(TRADE_INS, {"decision": "accepted"})
    assert ids(response) == [accepted.pk]
