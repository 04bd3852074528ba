"""A car's visit end to end through the REST API, as a dealership's app would drive it: booked,
checked in at 30,000 km with its recommendations, lines planned, an added item confirmed, the
parts handed over by the stockroom's API, signed by technician, road test, QC and team lead,
settled and closed; and the POSTs that make documents or move money replay."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import TimelineEntry
from parts.choices import MoveKind
from parts.models import StockMove
from service.models import Settlement, WorkOrder
from tests.factories.service import booked_appointment, tomorrow_at
from tests.service.helpers import (
    customer_car,
    in_progress_work_order,
    part_in_stock,
    ready_work_order,
    settle,
    total_of,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/"


def ago(minutes: int) -> str:
    return (timezone.now() - timedelta(minutes=minutes)).isoformat()


def ok(response, code: int = 200) -> dict:
    assert response.status_code == code, response.json()
    return response.json()


def check_in_body(customer, vehicle, **overrides) -> dict:
    return {
        "service_type": "repair", "contact_name": customer.name,
        "contact_phone": customer.mobile, "phone_confirmed": True, "plate": vehicle.plate,
        "mileage_in": 30_000, "fuel_level": "half", "complaint": "踩刹车时前轮有异响",
        "estimate": "1000.00", **overrides,
    }  # fmt: skip


def test_a_repair_visit_through_the_api_from_booking_to_close(
    api_as, branch, advisor, technician, parts_clerk
):
    desk, workshop, stockroom = api_as(advisor), api_as(technician), api_as(parts_clerk)
    customer, vehicle = customer_car(branch)
    pads = part_in_stock(branch, parts_clerk, 4, price="380.00")

    # given a slot opened for tomorrow 09:00 and the customer's car booked into it
    (slot,) = ok(
        desk.post(
            f"{API}service-slots/open/",
            {"service_type": "repair", "starts": [tomorrow_at(9).isoformat()], "capacity": 2},
        ),
        201,
    )
    appointment = ok(
        desk.post(
            f"{API}appointments/",
            {"slot": slot["id"], "customer": customer.pk, "vehicle": vehicle.pk,
             "contact_phone": customer.mobile, "complaint": "刹车异响"},
            HTTP_IDEMPOTENCY_KEY="book-1",
        ),
        201,
    )  # fmt: skip
    assert appointment["status"] == "booked"

    # when the car is checked in from the appointment at 30,000 km with an estimate of 1,000
    work_order = ok(
        desk.post(
            f"{API}appointments/{appointment['id']}/check-in/",
            check_in_body(customer, vehicle),
        ),
        201,
    )
    url = f"{API}work-orders/{work_order['id']}/"
    # then the 30,000 km items are recommended and the appointment is checked in
    recommended = {item["description"]: item for item in work_order["recommendations"]}
    assert {"Spark plugs", "Engine oil", "Oil filter"} <= set(recommended)
    assert (
        ok(desk.get(f"{API}appointments/{appointment['id']}/"))["work_order"] == (work_order["id"])
    )

    # when the work is planned: pads reserved, labour, and an added item the customer confirms
    pad_line = ok(desk.post(f"{url}parts-lines/", {"part": pads.pk, "quantity": 2}), 201)
    assert pad_line["issue_status"] == "requested"
    labour = ok(
        desk.post(
            f"{url}labour-lines/",
            {"operation": "更换前刹车片", "standard_hours": "1.00", "rate": "200.00",
             "technician": technician.pk},
        ),
        201,
    )  # fmt: skip
    item = ok(
        desk.post(f"{url}added-items/", {"description": "刹车油更换", "estimate": "150"}), 201
    )
    extra = ok(
        desk.post(
            f"{url}labour-lines/",
            {"operation": "更换刹车油", "standard_hours": "0.50", "rate": "200.00",
             "technician": technician.pk, "added_item": item["id"]},
        ),
        201,
    )  # fmt: skip
    confirmed = ok(
        desk.post(
            f"{API}added-items/{item['id']}/confirm/",
            {"confirmed_by": customer.name, "method": "phone"},
        )
    )
    assert confirmed["confirmed"] is True
    declined = recommended["Spark plugs"]["id"]
    assert (
        ok(desk.post(f"{API}recommendations/{declined}/decide/", {"accepted": False}))["status"]
        == "declined"
    )
    assert ok(desk.post(f"{url}start/"))["status"] == "in_progress"

    # and the stockroom hands the pads over through its own API
    for step in ("check", "pick", "recheck", "hand-over"):
        ok(stockroom.post(f"{API}part-issues/{pad_line['issue']}/{step}/"))
    # and the technician signs, the car goes to QC, is road tested, checked and released
    ok(workshop.post(f"{API}labour-lines/{labour['id']}/sign/", {"at": ago(30)}))
    ok(workshop.post(f"{API}labour-lines/{extra['id']}/sign/", {"at": ago(20)}))
    assert ok(desk.post(f"{url}submit-for-qc/"))["status"] == "quality_check"
    ok(
        workshop.post(
            f"{url}road-tests/", {"tested_at": ago(15), "distance_km": 5, "passed": True}
        ),
        201,
    )
    checked = ok(workshop.post(f"{url}quality-check/", {"at": ago(10), "passed": True}))
    assert checked["qc_by"] == technician.pk
    assert ok(workshop.post(f"{url}release/", {"at": ago(5)}))["status"] == "ready"
    # total 2 × 380 + 1.5 h × 200 = 1,060: within 10% of the 1,000 estimate
    settlement = ok(
        desk.post(
            f"{url}settle/",
            {"payment_method": "wechat", "paid_amount": "1060.00"},
            HTTP_IDEMPOTENCY_KEY="settle-1",
        ),
        201,
    )
    closed = ok(desk.post(f"{url}close/", HTTP_IDEMPOTENCY_KEY="close-1"))

    # then the work order is closed with its lines, the settlement holds the same lines, the
    # pads left the ledger on the voucher, and the visit is on the customer's timeline
    assert closed["status"] == "closed"
    assert closed["totals"] == {"labour": "300.00", "parts": "760.00", "total": "1060.00"}
    assert [line["done_at"] is not None for line in closed["labour_lines"]] == [True, True]
    assert closed["part_lines"][0]["issue_status"] == "handed_over"
    assert closed["settlement"]["number"] == settlement["number"]
    assert (settlement["total"], settlement["customer_amount"]) == ("1060.00", "1060.00")
    assert len(settlement["lines"]) == 3
    issued = StockMove.objects.get(part=pads, kind=MoveKind.WORK_ORDER_ISSUE)
    assert (issued.quantity, issued.document) == (Decimal(-2), closed["number"])
    assert TimelineEntry.objects.filter(customer=customer, kind="work_order_closed").exists()
    assert vehicle.odometer_readings.get().km == 30_000


# --- replays --------------------------------------------------------------------------------


def test_a_replayed_check_in_opens_one_work_order(api_as, branch, advisor):
    # given a check-in sent with an idempotency key
    customer, vehicle = customer_car(branch)
    client = api_as(advisor)
    body = {"customer": customer.pk, "vehicle": vehicle.pk, **check_in_body(customer, vehicle)}
    first = client.post(f"{API}work-orders/", body, HTTP_IDEMPOTENCY_KEY="wo-1")
    # when the app sends it again with the same key
    second = client.post(f"{API}work-orders/", body, HTTP_IDEMPOTENCY_KEY="wo-1")
    # then the first answer comes back and one work order (and one reading) exists
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert WorkOrder.objects.filter(vehicle=vehicle).count() == 1
    assert vehicle.odometer_readings.count() == 1


def test_a_replayed_settlement_takes_the_money_once(api_as, branch, advisor, technician):
    # given a car ready to settle, settled with an idempotency key
    work_order = ready_work_order(branch, advisor, technician)
    body = {"payment_method": "cash", "paid_amount": str(total_of(work_order))}
    client = api_as(advisor)
    url = f"{API}work-orders/{work_order.pk}/settle/"
    first = client.post(url, body, HTTP_IDEMPOTENCY_KEY="pay-1")
    # when the request is retried with the key, and then without it
    second = client.post(url, body, HTTP_IDEMPOTENCY_KEY="pay-1")
    fresh = client.post(url, body)
    # then the retry gets the first answer; only a new request meets the conflict
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert fresh.status_code == 409
    assert fresh.json()["code"] == "work_order_not_ready"
    assert Settlement.objects.filter(work_order=work_order).count() == 1


def test_a_booking_replayed_takes_one_place(api_as, branch, advisor):
    customer, vehicle = customer_car(branch)
    slot = booked_appointment(branch, advisor).slot
    body = {"slot": slot.pk, "customer": customer.pk, "vehicle": vehicle.pk,
            "contact_phone": customer.mobile}  # fmt: skip
    client = api_as(advisor)
    first = client.post(f"{API}appointments/", body, HTTP_IDEMPOTENCY_KEY="b-1")
    second = client.post(f"{API}appointments/", body, HTTP_IDEMPOTENCY_KEY="b-1")
    assert (first.status_code, second.json()) == (201, first.json())
    slot.refresh_from_db()
    assert slot.booked == 2


# --- rescue, claims, the board and the figures ----------------------------------------------


def test_a_rescue_is_logged_dispatched_and_finished(api_as, branch, advisor, technician):
    client = api_as(advisor)
    rescue = ok(
        client.post(
            f"{API}rescues/",
            {"caller_name": "王先生", "caller_phone": "13912345678", "called_at": ago(60),
             "location": "广州大道北 28 号", "problem": "无法启动"},
            HTTP_IDEMPOTENCY_KEY="rescue-1",
        ),
        201,
    )  # fmt: skip
    url = f"{API}rescues/{rescue['id']}/"
    sent = ok(client.post(f"{url}dispatch/", {"to": technician.pk, "at": ago(50)}))
    assert (sent["status"], sent["dispatched_to"]) == ("dispatched", technician.pk)
    assert ok(client.post(f"{url}arrive/", {"at": ago(20)}))["status"] == "arrived"
    finished = ok(client.post(f"{url}finish/", {"outcome": "fixed_on_site"}))
    assert (finished["status"], finished["outcome"]) == ("done", "fixed_on_site")
    # arriving twice is an illegal step
    again = client.post(f"{url}arrive/")
    assert (again.status_code, again.json()["code"]) == (409, "rescue_wrong_status")


def test_an_insurance_claim_is_reported_and_assessed(api_as, branch, advisor, technician):
    work_order = ready_work_order(branch, advisor, technician)
    client = api_as(advisor)
    claim = ok(
        client.post(
            f"{API}insurance-claims/",
            {"work_order": work_order.pk, "insurer": "中国人保", "policy_number": "PDAA2025",
             "claim_number": "RDAA01", "accident_date": timezone.localdate().isoformat(),
             "customer_share": "50.00"},
        ),
        201,
    )  # fmt: skip
    url = f"{API}insurance-claims/{claim['id']}/advance/"
    skipped = client.post(url, {"status": "paid"})
    assert (skipped.status_code, skipped.json()["code"]) == (409, "claim_illegal_transition")
    assessed = ok(client.post(url, {"status": "assessed", "assessed_amount": "180.00"}))
    assert (assessed["status"], assessed["assessed_amount"]) == ("assessed", "180.00")


def test_the_board_shows_each_technicians_jobs(api_as, branch, advisor, technician):
    work_order = in_progress_work_order(branch, advisor, technician)
    board = ok(api_as(technician).get(f"{API}technician-board/"))
    (row,) = board
    assert row["technician"] == technician.pk
    assert [line["work_order_number"] for line in row["lines"]] == [work_order.number]


def test_the_figures_count_this_months_entries_and_revenue(api_as, branch, advisor, technician):
    settle(ready_work_order(branch, advisor, technician), advisor)
    figures = ok(api_as(advisor).get(f"{API}service-figures/"))
    assert (figures["entries"], figures["settled"], figures["revenue"]) == (1, 1, "200.00")
    assert figures["technicians"][0]["technician"] == technician.pk
    bad = api_as(advisor).get(
        f"{API}service-figures/", {"start": "2026-02-01", "end": "2026-01-01"}
    )
    assert bad.status_code == 400
    assert "end" in bad.json()
