"""The service figures on a worked example: entries (入库台次), revenue per entry (单车产值),
labour hours sold, the parts / labour mix, appointment rate, comebacks and hours per
technician — and no made-up figure where there is nothing to divide."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from service import services
from service.choices import ServiceType
from service.models import Settlement, WorkOrder
from service.selectors import service_figures
from tests.factories import UserFactory
from tests.service.helpers import (
    customer_car,
    hand_over,
    labour,
    open_work_order,
    part_in_stock,
    settle,
    start,
    to_quality_check,
    to_ready,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def booked(branch, advisor, customer, vehicle):
    (slot,) = services.slots_open(
        branch=branch, service_type=ServiceType.REPAIR,
        starts=[timezone.now() + timedelta(hours=2)], capacity=1, by=advisor,
    )  # fmt: skip
    return services.appointment_book(
        slot=slot, customer=customer, vehicle=vehicle, advisor=advisor,
        contact_phone=customer.mobile, by=advisor,
    )  # fmt: skip


def finish_and_settle(work_order, advisor, technician):
    start(work_order, advisor)
    to_quality_check(work_order, technician)
    to_ready(work_order, technician)
    return settle(work_order, advisor)


@pytest.fixture
def worked_example(branch, other_branch, advisor, technician, parts_clerk, other_branch_user):
    """Today, in the branch:
    A  booked, brake repair: 2.0 h × 200 by the technician + a 100 part  → settled 500
    B  the same brakes again the same day (a comeback): 1.0 h × 300 by Wang → settled 300
    C  a maintenance checked in, not settled
    Not counted: a work order of the other branch, and one opened and settled 10 days ago.
    """
    wang = UserFactory(username="wang", first_name="师傅", last_name="王", roles=["technician"],
                       branches=[branch])  # fmt: skip
    customer, vehicle = customer_car(branch)
    part = part_in_stock(branch, parts_clerk, 2, price="100.00")

    a = open_work_order(
        branch, advisor, customer=customer, vehicle=vehicle,
        appointment=booked(branch, advisor, customer, vehicle),
        complaint="踩刹车时前轮有异响", estimate=Decimal("500.00"),
    )  # fmt: skip
    labour(a, technician, advisor, hours="2.0", rate="200.00")
    hand_over(
        services.part_line_add(work_order=a, part=part, quantity=Decimal(1), by=advisor).issue,
        parts_clerk,
    )
    finish_and_settle(a, advisor, technician)

    b = open_work_order(
        branch, advisor, customer=customer, vehicle=vehicle,
        complaint="踩刹车时前轮还是有异响", estimate=Decimal("300.00"),
    )  # fmt: skip
    labour(b, wang, advisor, hours="1.0", rate="300.00")
    finish_and_settle(b, advisor, wang)

    open_work_order(branch, advisor, service_type=ServiceType.MAINTENANCE)

    elsewhere = open_work_order(other_branch, other_branch_user, estimate=Decimal("900.00"))
    labour(elsewhere, other_branch_user, other_branch_user, hours="3.0", rate="300.00")
    finish_and_settle(elsewhere, other_branch_user, other_branch_user)

    old = open_work_order(branch, advisor, estimate=Decimal("400.00"))
    labour(old, technician, advisor, hours="2.0", rate="200.00")
    finish_and_settle(old, advisor, technician)
    ten_days_ago = timezone.now() - timedelta(days=10)
    WorkOrder.objects.filter(pk=old.pk).update(opened_at=ten_days_ago)
    Settlement.objects.filter(work_order=old).update(settled_at=ten_days_ago)

    return {"a": a, "b": b, "wang": wang}


def test_the_service_figures_of_a_worked_example(branch, technician, worked_example):
    # when the figures of today are read for the branch
    today = timezone.localdate()
    figures = service_figures(branch_ids=[branch.pk], start=today, end=today)

    # then three cars came in, one by appointment, one a comeback of the other
    assert figures["entries"] == 3
    assert figures["appointment_rate"] == Decimal("0.333")
    assert figures["comebacks"] == 1
    assert WorkOrder.objects.get(pk=worked_example["b"].pk).comeback_of_id == (
        worked_example["a"].pk
    )
    # two were settled for 800: 700 of labour over 3 hours, 100 of parts
    assert (figures["settled"], figures["revenue"]) == (2, Decimal("800.00"))
    assert figures["revenue_per_entry"] == Decimal("400.00")
    assert figures["labour_hours"] == Decimal("3.00")
    assert (figures["labour_revenue"], figures["parts_revenue"]) == (
        Decimal("700.00"),
        Decimal("100.00"),
    )
    assert figures["parts_to_labour"] == Decimal("0.14")  # 100 / 700
    # and each technician's hours sold, the busiest first
    assert [(row["technician"], row["hours"], row["lines"]) for row in figures["technicians"]] == [
        (technician.pk, Decimal("2.00"), 1),
        (worked_example["wang"].pk, Decimal("1.00"), 1),
    ]


def test_the_figures_of_both_branches_add_up(branch, other_branch, worked_example):
    today = timezone.localdate()
    figures = service_figures(branch_ids=[branch.pk, other_branch.pk], start=today, end=today)
    assert (figures["entries"], figures["settled"], figures["revenue"]) == (
        4,
        3,
        Decimal("1700.00"),
    )
    assert figures["labour_hours"] == Decimal("6.00")


def test_the_figures_of_a_period_take_its_first_and_last_day(branch, worked_example):
    today = timezone.localdate()
    figures = service_figures(branch_ids=[branch.pk], start=today - timedelta(days=10), end=today)
    assert (figures["entries"], figures["settled"], figures["revenue"]) == (
        4,
        3,
        Decimal("1200.00"),
    )
    assert figures["labour_hours"] == Decimal("5.00")


def test_no_figure_is_made_up_where_there_is_nothing_to_divide(branch):
    # given a branch with no work orders
    today = timezone.localdate()
    # when its figures are read
    figures = service_figures(branch_ids=[branch.pk], start=today, end=today)
    # then the counts are zero and the ratios are None, not 0% or 100%
    assert (figures["entries"], figures["settled"], figures["comebacks"]) == (0, 0, 0)
    assert (figures["revenue"], figures["labour_hours"]) == (0, 0)
    assert figures["revenue_per_entry"] is None
    assert figures["parts_to_labour"] is None
    assert figures["appointment_rate"] is None
    assert figures["technicians"] == []


def test_an_entry_not_yet_settled_gives_no_revenue_per_entry(branch, advisor):
    open_work_order(branch, advisor)
    today = timezone.localdate()
    figures = service_figures(branch_ids=[branch.pk], start=today, end=today)
    assert (figures["entries"], figures["appointment_rate"]) == (1, Decimal("0.000"))
    assert figures["revenue_per_entry"] is None
    assert figures["parts_to_labour"] is None


def test_one_advisors_figures_count_only_their_work_orders(
    branch, advisor, technician, worked_example
):
    # given the worked example's three entries, all opened by the advisor
    today = timezone.localdate()
    # when the figures are read for the advisor, and for someone who opened none
    theirs = service_figures(branch_ids=[branch.pk], start=today, end=today, advisor_id=advisor.pk)
    nobodys = service_figures(
        branch_ids=[branch.pk], start=today, end=today, advisor_id=technician.pk
    )
    # then the advisor's are the branch's, and the other person's are empty
    assert (theirs["entries"], theirs["settled"], theirs["revenue"]) == (3, 2, Decimal("800.00"))
    assert (nobodys["entries"], nobodys["settled"], nobodys["revenue_per_entry"]) == (0, 0, None)
    assert nobodys["technicians"] == []
