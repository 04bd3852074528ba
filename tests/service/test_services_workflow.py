"""A work order's status: open → in progress → quality check → ready → settled → closed, with
every other move refused; the sign-offs of technician ≤ QC ≤ team lead; the road test."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from service import services
from service.choices import ServiceType, WorkOrderStatus
from service.models import Settlement, WorkOrder
from tests.service.helpers import (
    CAR_TYRES,
    complete_maintenance,
    fresh,
    in_progress_work_order,
    labour,
    minutes_ago,
    open_work_order,
    quality_check,
    ready_work_order,
    refusal,
    release,
    road_test,
    settle,
    start,
    state,
    to_quality_check,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

S = WorkOrderStatus
# Each move, the one status it starts from, and the code refusing it from any other.
MOVES = {
    "start": (S.OPEN, "work_order_illegal_transition"),
    "submit_for_qc": (S.IN_PROGRESS, "work_order_illegal_transition"),
    "quality_check": (S.QUALITY_CHECK, "work_order_wrong_status"),
    "release": (S.QUALITY_CHECK, "work_order_illegal_transition"),
    "settle": (S.READY, "work_order_not_ready"),
    "close": (S.SETTLED, "work_order_illegal_transition"),
}
ILLEGAL = [(move, status) for move, (legal, _) in MOVES.items() for status in S if status != legal]


def do(move, work_order, technician, advisor):
    if move == "start":
        return services.work_order_start(work_order=work_order, by=advisor)
    if move == "submit_for_qc":
        return services.work_order_submit_for_qc(work_order=work_order, by=technician)
    if move == "quality_check":
        return quality_check(work_order, technician, at=timezone.now())
    if move == "release":
        return release(work_order, technician, at=timezone.now())
    if move == "settle":
        return settle(work_order, advisor)
    return services.work_order_close(work_order=work_order, by=advisor)


@pytest.mark.parametrize(("move", "status"), ILLEGAL, ids=[f"{m}-from-{s}" for m, s in ILLEGAL])
def test_every_illegal_status_change_is_refused(branch, advisor, technician, move, status):
    # given a work order whose every line, QC and team lead are signed, put in `status`
    work_order = ready_work_order(branch, advisor, technician)
    WorkOrder.objects.filter(pk=work_order.pk).update(status=status)
    before = state(work_order)
    # when it is moved where it cannot go from there
    error = refusal(lambda: do(move, fresh(work_order), technician, advisor))
    # then it is refused with a stable code and nothing changed
    assert error.code == MOVES[move][1]
    assert state(work_order) == before
    assert not Settlement.objects.exists()


def test_the_whole_way_from_open_to_closed_is_legal(branch, advisor, technician):
    work_order = open_work_order(branch, advisor)
    labour(work_order, technician, advisor)
    seen = [start(work_order, advisor).status]
    seen.append(to_quality_check(work_order, technician).status)
    road_test(work_order, technician)
    quality_check(work_order, technician)
    seen.append(release(work_order, technician).status)
    settle(work_order, advisor)
    seen.append(fresh(work_order).status)
    seen.append(services.work_order_close(work_order=work_order, by=advisor).status)
    assert seen == [S.IN_PROGRESS, S.QUALITY_CHECK, S.READY, S.SETTLED, S.CLOSED]
    work_order = fresh(work_order)
    assert None not in (work_order.started_at, work_order.ready_at, work_order.settled_at)
    assert work_order.closed_at is not None


# --- submitting for quality check -----------------------------------------------------------


def test_a_work_order_without_work_does_not_go_to_quality_check(branch, advisor):
    work_order = start(open_work_order(branch, advisor), advisor)
    error = refusal(lambda: services.work_order_submit_for_qc(work_order=work_order, by=advisor))
    assert error.code == "no_labour"
    assert fresh(work_order).status == S.IN_PROGRESS


def test_quality_check_waits_for_every_line_signed(branch, advisor, technician):
    # given two operations, one signed
    work_order = in_progress_work_order(branch, advisor, technician)
    services.labour_line_sign(line=work_order.labour_lines.get(), by=technician)
    labour(work_order, technician, advisor, operation="四轮定位")
    # when the car is handed to quality check
    error = refusal(lambda: services.work_order_submit_for_qc(work_order=work_order, by=technician))
    # then it is refused naming the unsigned operation
    assert error.code == "labour_not_signed"
    assert "四轮定位" in str(error)
    assert fresh(work_order).status == S.IN_PROGRESS


def maintenance_in_progress(branch, advisor, technician):
    work_order = in_progress_work_order(
        branch, advisor, technician, service_type=ServiceType.MAINTENANCE
    )
    services.labour_line_sign(line=work_order.labour_lines.get(), by=technician)
    return work_order


def test_maintenance_goes_to_quality_check_with_the_checklist_complete(branch, advisor, technician):
    # given every item but one marked, and the four tyres measured
    work_order = maintenance_in_progress(branch, advisor, technician)
    complete_maintenance(work_order, technician)
    work_order.checklist_items.filter(name="Battery").update(result="")
    # when the car is handed to quality check
    error = refusal(lambda: services.work_order_submit_for_qc(work_order=work_order, by=technician))
    # then it is refused until the battery is ticked or struck
    assert error.code == "checklist_incomplete"
    assert fresh(work_order).status == S.IN_PROGRESS
    services.checklist_item_mark(
        item=work_order.checklist_items.get(name="Battery"), result="struck", by=technician
    )
    assert services.work_order_submit_for_qc(work_order=work_order, by=technician).status == (
        S.QUALITY_CHECK
    )


def test_maintenance_goes_to_quality_check_with_four_tyres_measured(branch, advisor, technician):
    # given the checklist complete, three tyres and the spare measured
    work_order = maintenance_in_progress(branch, advisor, technician)
    complete_maintenance(work_order, technician)
    work_order.tyre_readings.filter(position=CAR_TYRES[-1]).delete()
    services.tyre_reading_record(
        work_order=work_order, position="spare", pressure_bar="2.5", tread_mm="7.0",
        by=technician,
    )  # fmt: skip
    # when the car is handed to quality check
    error = refusal(lambda: services.work_order_submit_for_qc(work_order=work_order, by=technician))
    # then it is refused: the spare is not one of the four
    assert error.code == "tyres_not_measured"
    assert fresh(work_order).status == S.IN_PROGRESS


# --- quality check --------------------------------------------------------------------------


def in_quality_check(branch, advisor, technician, **data):
    work_order = in_progress_work_order(branch, advisor, technician, **data)
    return to_quality_check(work_order, technician, signed_minutes_ago=30)


def test_quality_check_does_not_sign_before_the_technician(branch, advisor, technician):
    # given the technician signed 30 minutes ago, and a road test
    work_order = in_quality_check(branch, advisor, technician)
    road_test(work_order, technician)
    before = state(work_order)
    # when QC signs 40 minutes ago
    error = refusal(lambda: quality_check(work_order, technician, at=minutes_ago(40)))
    # then it is refused on the time, and QC is not signed
    assert (error.code, error.field) == ("qc_before_technician", "at")
    assert state(work_order) == before


def test_quality_check_signs_after_the_last_technician_of_all(branch, advisor, technician):
    # given two operations, signed 40 and 20 minutes ago
    work_order = in_progress_work_order(branch, advisor, technician)
    labour(work_order, technician, advisor, operation="四轮定位")
    first, last = work_order.labour_lines.all()
    services.labour_line_sign(line=first, by=technician, at=minutes_ago(40))
    services.labour_line_sign(line=last, by=technician, at=minutes_ago(20))
    services.work_order_submit_for_qc(work_order=work_order, by=technician)
    road_test(work_order, technician, at=minutes_ago(15))
    # when QC signs 30 minutes ago, after the first but before the last
    error = refusal(lambda: quality_check(work_order, technician, at=minutes_ago(30)))
    # then it is refused
    assert error.code == "qc_before_technician"
    assert fresh(work_order).qc_at is None


def test_quality_check_signs_at_the_same_minute_as_the_technician(branch, advisor, technician):
    work_order = in_quality_check(branch, advisor, technician)
    road_test(work_order, technician)
    signed = work_order.labour_lines.get().done_at
    assert quality_check(work_order, technician, at=signed).qc_at == signed


def test_quality_check_does_not_sign_in_the_future(branch, advisor, technician):
    work_order = in_quality_check(branch, advisor, technician)
    road_test(work_order, technician)
    error = refusal(
        lambda: quality_check(work_order, technician, at=timezone.now() + timedelta(minutes=5))
    )
    assert (error.code, error.field) == ("time_in_future", "at")
    assert fresh(work_order).qc_at is None


@pytest.mark.parametrize("service_type", [t for t in ServiceType if t != ServiceType.MAINTENANCE])
def test_every_type_but_maintenance_needs_a_passed_road_test(
    branch, advisor, technician, service_type
):
    # given a car in quality check whose only road test failed
    work_order = in_quality_check(branch, advisor, technician, service_type=service_type)
    road_test(work_order, technician, passed=False)
    before = state(work_order)
    # when QC signs it off
    error = refusal(lambda: quality_check(work_order, technician))
    # then it is refused until a road test passes
    assert error.code == "road_test_required"
    assert state(work_order) == before
    road_test(work_order, technician)
    assert quality_check(work_order, technician).qc_at is not None


def test_maintenance_needs_no_road_test(branch, advisor, technician):
    work_order = in_quality_check(branch, advisor, technician, service_type=ServiceType.MAINTENANCE)
    assert quality_check(work_order, technician).qc_by_id == technician.pk
    assert not work_order.road_tests.exists()


def test_a_failed_quality_check_sends_the_car_back_to_the_workshop(branch, advisor, technician):
    # given a car in quality check
    work_order = in_quality_check(branch, advisor, technician)
    road_test(work_order, technician)
    # when QC fails it
    quality_check(work_order, technician, passed=False)
    # then it is in progress again, QC unsigned, and more work can be added
    work_order = fresh(work_order)
    assert (work_order.status, work_order.qc_at, work_order.qc_by_id) == (
        S.IN_PROGRESS,
        None,
        None,
    )
    labour(work_order, technician, advisor, operation="重新调整刹车")
    assert work_order.labour_lines.count() == 2


def test_a_road_test_is_not_dated_in_the_future(branch, advisor, technician):
    work_order = in_quality_check(branch, advisor, technician)
    error = refusal(
        lambda: road_test(work_order, technician, at=timezone.now() + timedelta(minutes=5))
    )
    assert (error.code, error.field) == ("time_in_future", "tested_at")
    assert not work_order.road_tests.exists()


def test_a_road_test_is_recorded_only_once_work_has_started(branch, advisor, technician):
    work_order = open_work_order(branch, advisor)
    error = refusal(lambda: road_test(work_order, technician))
    assert error.code == "work_order_wrong_status"
    assert not work_order.road_tests.exists()


# --- the team lead's release ----------------------------------------------------------------


def test_the_team_lead_signs_only_after_quality_check(branch, advisor, technician):
    # given a car in quality check that QC has not signed
    work_order = in_quality_check(branch, advisor, technician)
    before = state(work_order)
    # when the team lead releases it
    error = refusal(lambda: release(work_order, technician))
    # then it is refused and nothing changed
    assert error.code == "qc_not_signed"
    assert state(work_order) == before


def test_the_team_lead_does_not_sign_before_quality_check(branch, advisor, technician):
    # given QC signed 10 minutes ago
    work_order = in_quality_check(branch, advisor, technician)
    road_test(work_order, technician)
    quality_check(work_order, technician, at=minutes_ago(10))
    before = state(work_order)
    # when the team lead signs at 15 minutes ago
    error = refusal(lambda: release(work_order, technician, at=minutes_ago(15)))
    # then it is refused on the time, the car not ready
    assert (error.code, error.field) == ("team_lead_before_qc", "at")
    assert state(work_order) == before


def test_the_team_lead_does_not_sign_in_the_future(branch, advisor, technician):
    work_order = in_quality_check(branch, advisor, technician)
    road_test(work_order, technician)
    quality_check(work_order, technician)
    error = refusal(
        lambda: release(work_order, technician, at=timezone.now() + timedelta(minutes=5))
    )
    assert (error.code, error.field) == ("time_in_future", "at")
    assert fresh(work_order).status == S.QUALITY_CHECK


def test_the_team_lead_signing_makes_the_car_ready(branch, advisor, technician):
    work_order = in_quality_check(branch, advisor, technician)
    road_test(work_order, technician)
    quality_check(work_order, technician, at=minutes_ago(10))
    at = minutes_ago(10)
    work_order = release(work_order, technician, at=at)
    assert (work_order.status, work_order.team_lead_at, work_order.team_lead_by_id) == (
        S.READY,
        at,
        technician.pk,
    )


def test_the_database_refuses_a_team_lead_time_before_quality_check(branch, advisor, technician):
    # given a car signed off by QC and team lead
    work_order = ready_work_order(branch, advisor, technician)
    # when its team lead time is written before QC's behind the services' back
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkOrder.objects.filter(pk=work_order.pk).update(
            team_lead_at=fresh(work_order).qc_at - timedelta(seconds=1)
        )
    # then the constraint kept the row as it was
    assert fresh(work_order).team_lead_at >= fresh(work_order).qc_at
