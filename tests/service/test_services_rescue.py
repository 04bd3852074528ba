"""Roadside rescue (救援): call, dispatch, arrival and outcome, in that order and never later
than now; the work order it leads to is the branch's own."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dealer_crm.errors import StateConflict
from service import services
from service.choices import RescueOutcome, RescueStatus
from service.models import Rescue
from tests.service.helpers import customer_car, fresh, open_work_order, refusal, state

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def ago(minutes: int):
    return timezone.now() - timedelta(minutes=minutes)


def logged(branch, advisor, *, called_minutes_ago=60, **data):
    return services.rescue_log(
        branch=branch, by=advisor,
        data={
            "caller_name": "张先生", "caller_phone": "13912345678",
            "called_at": ago(called_minutes_ago), "location": "广州大道北与北环高速交叉口",
            "problem": "车辆无法启动", **data,
        },
    )  # fmt: skip


def arrived(branch, advisor, technician):
    rescue = logged(branch, advisor)
    services.rescue_dispatch(rescue=rescue, to=technician, by=advisor, at=ago(50))
    return services.rescue_arrive(rescue=rescue, by=technician, at=ago(30))


# --- the call -------------------------------------------------------------------------------


def test_a_call_is_not_logged_in_the_future(branch, advisor):
    error = refusal(lambda: logged(branch, advisor, called_minutes_ago=-10))
    assert (error.code, error.field) == ("time_in_future", "called_at")
    assert not Rescue.objects.exists()


def test_a_call_names_the_customers_own_vehicle(branch, advisor):
    customer, _ = customer_car(branch)
    _, other_car = customer_car(branch)
    error = refusal(lambda: logged(branch, advisor, customer=customer, vehicle=other_car))
    assert (error.code, error.field) == ("vehicle_not_customers", "vehicle")
    assert not Rescue.objects.exists()


def test_a_call_of_a_customer_of_another_branch_is_not_logged_here(branch, other_branch, advisor):
    customer, vehicle = customer_car(other_branch)
    error = refusal(lambda: logged(branch, advisor, customer=customer, vehicle=vehicle))
    assert (error.code, error.field) == ("customer_other_branch", "customer")
    assert not Rescue.objects.exists()


def test_a_call_of_the_branchs_customer_is_logged(branch, advisor):
    customer, vehicle = customer_car(branch)
    rescue = logged(branch, advisor, customer=customer, vehicle=vehicle)
    assert (fresh(rescue).status, fresh(rescue).customer_id) == (RescueStatus.CALLED, customer.pk)


# --- dispatch -------------------------------------------------------------------------------


def test_dispatch_is_recorded_after_the_call(branch, advisor, technician):
    rescue = logged(branch, advisor)
    services.rescue_dispatch(rescue=rescue, to=technician, by=advisor, at=ago(50))
    rescue = fresh(rescue)
    assert (rescue.status, rescue.dispatched_to_id) == (RescueStatus.DISPATCHED, technician.pk)


@pytest.mark.parametrize("minutes", [61, -5], ids=["before the call", "in the future"])
def test_dispatch_is_between_the_call_and_now(branch, advisor, technician, minutes):
    # given a call an hour ago
    rescue = logged(branch, advisor, called_minutes_ago=60)
    before = state(rescue)
    # when the dispatch is dated before the call, or later than now
    error = refusal(
        lambda: services.rescue_dispatch(rescue=rescue, to=technician, by=advisor, at=ago(minutes))
    )
    # then it is refused on the time
    assert (error.code, error.field) == ("time_out_of_order", "at")
    assert state(rescue) == before


def test_a_rescue_is_dispatched_to_someone_of_the_branch(branch, advisor, other_branch_user):
    rescue = logged(branch, advisor)
    before = state(rescue)
    error = refusal(
        lambda: services.rescue_dispatch(rescue=rescue, to=other_branch_user, by=advisor)
    )
    assert error.code == "technician_other_branch"
    assert state(rescue) == before


def test_a_rescue_is_dispatched_once(branch, advisor, technician):
    rescue = logged(branch, advisor)
    services.rescue_dispatch(rescue=rescue, to=technician, by=advisor, at=ago(50))
    before = state(rescue)
    error = refusal(
        lambda: services.rescue_dispatch(rescue=rescue, to=advisor, by=advisor, at=ago(40))
    )
    assert error.code == "rescue_wrong_status"
    assert state(rescue) == before


# --- arrival --------------------------------------------------------------------------------


def test_nobody_arrives_before_being_dispatched(branch, advisor, technician):
    rescue = logged(branch, advisor)
    before = state(rescue)
    error = refusal(lambda: services.rescue_arrive(rescue=rescue, by=technician, at=ago(30)))
    assert error.code == "rescue_wrong_status"
    assert state(rescue) == before


@pytest.mark.parametrize("minutes", [51, -5], ids=["before dispatch", "in the future"])
def test_arrival_is_between_the_dispatch_and_now(branch, advisor, technician, minutes):
    rescue = logged(branch, advisor)
    services.rescue_dispatch(rescue=rescue, to=technician, by=advisor, at=ago(50))
    before = state(rescue)
    error = refusal(lambda: services.rescue_arrive(rescue=rescue, by=technician, at=ago(minutes)))
    assert (error.code, error.field) == ("time_out_of_order", "at")
    assert state(rescue) == before


def test_arrival_is_recorded_after_dispatch(branch, advisor, technician):
    rescue = arrived(branch, advisor, technician)
    rescue = fresh(rescue)
    assert rescue.status == RescueStatus.ARRIVED
    assert rescue.dispatched_at <= rescue.arrived_at <= timezone.now()


# --- outcome --------------------------------------------------------------------------------


def test_a_rescue_is_finished_only_once_the_team_arrived(branch, advisor, technician):
    rescue = logged(branch, advisor)
    services.rescue_dispatch(rescue=rescue, to=technician, by=advisor, at=ago(50))
    before = state(rescue)
    error = refusal(
        lambda: services.rescue_finish(
            rescue=rescue, outcome=RescueOutcome.FIXED_ON_SITE, by=technician
        )
    )
    assert error.code == "rescue_wrong_status"
    assert state(rescue) == before


def test_a_rescue_towed_in_is_linked_to_its_work_order(branch, advisor, technician):
    rescue = arrived(branch, advisor, technician)
    work_order = open_work_order(branch, advisor, service_type="rescue")
    services.rescue_finish(
        rescue=rescue, outcome=RescueOutcome.TOWED, by=advisor, work_order=work_order,
        note="拖车回店",
    )  # fmt: skip
    rescue = fresh(rescue)
    assert (rescue.status, rescue.outcome, rescue.work_order_id, rescue.note) == (
        RescueStatus.DONE,
        RescueOutcome.TOWED,
        work_order.pk,
        "拖车回店",
    )


def test_a_rescue_is_not_linked_to_another_branchs_work_order(
    branch, other_branch, advisor, technician, other_branch_user
):
    # given a rescue whose team arrived, and a work order of the other branch
    rescue = arrived(branch, advisor, technician)
    elsewhere = open_work_order(other_branch, other_branch_user)
    before = state(rescue)
    # when it is finished with that work order
    error = refusal(
        lambda: services.rescue_finish(
            rescue=rescue, outcome=RescueOutcome.TOWED, by=advisor, work_order=elsewhere
        )
    )
    # then it is refused and the rescue is still open
    assert (error.code, error.field) == ("work_order_other_branch", "work_order")
    assert state(rescue) == before


def test_a_finished_rescue_is_not_finished_again(branch, advisor, technician):
    rescue = arrived(branch, advisor, technician)
    services.rescue_finish(rescue=rescue, outcome=RescueOutcome.FIXED_ON_SITE, by=technician)
    before = state(rescue)
    error = refusal(
        lambda: services.rescue_finish(rescue=rescue, outcome=RescueOutcome.TOWED, by=technician)
    )
    assert error.code == "rescue_wrong_status"
    assert state(rescue) == before


def test_a_rescue_no_longer_needed_is_cancelled_until_the_team_arrives(branch, advisor, technician):
    # given a dispatched rescue
    rescue = services.rescue_log(
        branch=branch, by=advisor,
        data={
            "caller_name": "王先生", "caller_phone": "13800138000", "location": "华南快速干线",
            "problem": "爆胎", "called_at": timezone.now() - timedelta(minutes=30),
        },
    )  # fmt: skip
    services.rescue_dispatch(rescue=rescue, to=technician, by=advisor)
    # when the caller says help is no longer needed
    cancelled = services.rescue_cancel(rescue=rescue, by=advisor, note="客户自行解决")
    # then it is cancelled, and a cancelled rescue cannot be cancelled again
    assert cancelled.status == RescueStatus.CANCELLED
    with pytest.raises(StateConflict):
        services.rescue_cancel(rescue=rescue, by=advisor)
