"""Labour and parts lines, added items (增项) and the technician's sign-off of a line."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from parts.choices import IssueKind, IssueStatus
from parts.models import PartIssue
from service import services
from service.choices import ConfirmationMethod, WorkOrderStatus
from service.models import AddedItem, LabourLine, PartLine
from tests.service.helpers import (
    counts,
    fresh,
    hand_over,
    in_progress_work_order,
    labour,
    open_work_order,
    part_in_stock,
    refusal,
    start,
    state,
    stock_of,
    to_quality_check,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

NO_LINES = {"LabourLine": 0, "PartLine": 0, "PartIssue": 0}


def lines() -> dict:
    return counts(LabourLine, PartLine, PartIssue)


def added_item(work_order, by, description="刹车油更换"):
    return services.added_item_add(
        work_order=work_order, description=description, estimate=Decimal("150.00"), by=by
    )


def confirm(item, by, **kw):
    kw.setdefault("confirmed_by", "王先生")
    kw.setdefault("method", ConfirmationMethod.PHONE)
    return services.added_item_confirm(added_item=item, by=by, **kw)


# --- labour lines ---------------------------------------------------------------------------


def test_a_labour_line_names_its_technician(branch, advisor):
    work_order = open_work_order(branch, advisor)
    error = refusal(lambda: labour(work_order, None, advisor))
    assert (error.code, error.field) == ("technician_required", "technician")
    assert lines() == NO_LINES


def test_the_technician_works_in_the_branch(branch, advisor, other_branch_user):
    work_order = open_work_order(branch, advisor)
    error = refusal(lambda: labour(work_order, other_branch_user, advisor))
    assert (error.code, error.field) == ("technician_other_branch", "technician")
    assert lines() == NO_LINES


def test_a_labour_line_is_standard_hours_times_the_rate(branch, advisor, technician):
    work_order = open_work_order(branch, advisor)
    line = labour(work_order, technician, advisor, hours="1.5", rate="220.00")
    assert fresh(line).amount == Decimal("330.00")
    assert fresh(line).technician_id == technician.pk


def test_a_labour_line_needs_hours(branch, advisor, technician):
    work_order = open_work_order(branch, advisor)
    with pytest.raises(ValidationError) as caught:
        labour(work_order, technician, advisor, hours="0")
    assert "standard_hours" in caught.value.message_dict
    assert lines() == NO_LINES


@pytest.mark.parametrize(
    "add",
    [
        lambda wo, tech, by, part: labour(wo, tech, by),
        lambda wo, tech, by, part: services.part_line_add(
            work_order=wo, part=part, quantity=Decimal(1), by=by
        ),
        lambda wo, tech, by, part: added_item(wo, by),
    ],
    ids=["labour", "parts", "added item"],
)
def test_lines_change_only_while_the_work_order_is_open_or_in_progress(
    branch, advisor, technician, parts_clerk, add
):
    # given a work order handed to quality check, and parts in stock
    part = part_in_stock(branch, parts_clerk)
    work_order = in_progress_work_order(branch, advisor, technician)
    to_quality_check(work_order, technician)
    before = lines(), AddedItem.objects.count(), state(stock_of(branch, part))
    # when a line is added
    error = refusal(lambda: add(work_order, technician, advisor, part))
    # then it is refused and nothing changed
    assert error.code == "work_order_wrong_status"
    assert (lines(), AddedItem.objects.count(), state(stock_of(branch, part))) == before


def test_a_signed_labour_line_is_not_removed(branch, advisor, technician):
    work_order = in_progress_work_order(branch, advisor, technician)
    line = work_order.labour_lines.get()
    services.labour_line_sign(line=line, by=technician)
    error = refusal(lambda: services.labour_line_remove(line=line, by=advisor))
    assert error.code == "labour_done"
    assert LabourLine.objects.filter(pk=line.pk).exists()


def test_an_unsigned_labour_line_is_removed(branch, advisor, technician):
    work_order = open_work_order(branch, advisor)
    line = labour(work_order, technician, advisor)
    services.labour_line_remove(line=line, by=advisor)
    assert not LabourLine.objects.exists()


# --- parts lines ----------------------------------------------------------------------------


def test_a_parts_line_reserves_the_parts_through_an_issue_voucher(branch, advisor, parts_clerk):
    # given 4 pads in stock
    part = part_in_stock(branch, parts_clerk, 4, price="380.00")
    work_order = open_work_order(branch, advisor)
    # when 2 are put on the work order
    line = services.part_line_add(work_order=work_order, part=part, quantity=Decimal(2), by=advisor)
    # then 2 are reserved on an issue voucher for the work order, and 2 remain available
    stock = stock_of(branch, part)
    assert (stock.on_hand, stock.reserved, stock.available) == (4, 2, 2)
    issue = fresh(line).issue
    assert (issue.kind, issue.work_order_reference, issue.status, issue.customer_id) == (
        IssueKind.WORK_ORDER,
        work_order.number,
        IssueStatus.REQUESTED,
        work_order.customer_id,
    )
    assert issue.lines.get().quantity == 2
    assert (line.unit_price, line.amount) == (Decimal("380.00"), Decimal("760.00"))


def test_more_parts_than_are_available_are_refused_and_nothing_reserved(
    branch, advisor, parts_clerk
):
    # given 4 in stock of which 3 are reserved for another job
    part = part_in_stock(branch, parts_clerk, 4)
    other = open_work_order(branch, advisor)
    services.part_line_add(work_order=other, part=part, quantity=Decimal(3), by=advisor)
    work_order = open_work_order(branch, advisor)
    before = state(stock_of(branch, part)), lines()
    # when 2 are put on this work order
    error = refusal(
        lambda: services.part_line_add(
            work_order=work_order, part=part, quantity=Decimal(2), by=advisor
        )
    )
    # then it is refused, nothing reserved and no voucher made
    assert error.code == "insufficient_stock"
    assert (state(stock_of(branch, part)), lines()) == before
    assert not work_order.part_lines.exists()


def test_removing_a_parts_line_releases_its_reservation(branch, advisor, parts_clerk):
    part = part_in_stock(branch, parts_clerk, 4)
    work_order = open_work_order(branch, advisor)
    line = services.part_line_add(work_order=work_order, part=part, quantity=Decimal(3), by=advisor)
    # when the line is taken off
    services.part_line_remove(line=line, by=advisor)
    # then the parts are available again and the voucher is cancelled
    assert stock_of(branch, part).reserved == 0
    assert not PartLine.objects.exists()
    assert fresh(line.issue).status == IssueStatus.CANCELLED


def test_a_parts_line_handed_over_is_not_removed(branch, advisor, parts_clerk):
    # given parts already handed over by the stockroom
    part = part_in_stock(branch, parts_clerk, 4)
    work_order = open_work_order(branch, advisor)
    line = services.part_line_add(work_order=work_order, part=part, quantity=Decimal(2), by=advisor)
    hand_over(line.issue, parts_clerk)
    before = state(stock_of(branch, part)), state(line.issue)
    # when the line is taken off
    error = refusal(lambda: services.part_line_remove(line=line, by=advisor))
    # then it is refused: the line, the voucher and the stock stay
    assert error.code == "parts_already_issued"
    assert PartLine.objects.filter(pk=line.pk).exists()
    assert (state(stock_of(branch, part)), state(line.issue)) == before


def test_parts_for_an_unconfirmed_added_item_are_not_reserved(branch, advisor, parts_clerk):
    # given an added item the customer has not confirmed
    part = part_in_stock(branch, parts_clerk, 4)
    work_order = open_work_order(branch, advisor)
    item = added_item(work_order, advisor)
    # when parts are put on it
    error = refusal(
        lambda: services.part_line_add(
            work_order=work_order, part=part, quantity=Decimal(1), by=advisor, added_item=item
        )
    )
    # then it is refused and nothing is reserved
    assert error.code == "added_item_unconfirmed"
    assert stock_of(branch, part).reserved == 0
    assert lines() == NO_LINES


def test_parts_for_a_confirmed_added_item_are_reserved(branch, advisor, parts_clerk):
    part = part_in_stock(branch, parts_clerk, 4)
    work_order = open_work_order(branch, advisor)
    item = confirm(added_item(work_order, advisor), advisor)
    line = services.part_line_add(
        work_order=work_order, part=part, quantity=Decimal(1), by=advisor, added_item=item
    )
    assert fresh(line).added_item_id == item.pk
    assert stock_of(branch, part).reserved == 1


def test_an_added_item_of_another_work_order_is_refused(branch, advisor, technician):
    work_order = open_work_order(branch, advisor)
    elsewhere = confirm(added_item(open_work_order(branch, advisor), advisor), advisor)
    error = refusal(lambda: labour(work_order, technician, advisor, added_item=elsewhere))
    assert (error.code, error.field) == ("added_item_other_work_order", "added_item")
    assert lines() == NO_LINES


# --- added items ----------------------------------------------------------------------------


def test_an_added_item_is_confirmed_with_who_when_and_how(branch, advisor):
    work_order = open_work_order(branch, advisor)
    at = timezone.now() - timedelta(minutes=3)
    item = confirm(
        added_item(work_order, advisor), advisor, confirmed_by=" 王先生 ",
        method=ConfirmationMethod.WECHAT, at=at,
    )  # fmt: skip
    item = fresh(item)
    assert (item.confirmed_by, item.confirmation_method, item.confirmed_at) == (
        "王先生",
        ConfirmationMethod.WECHAT,
        at,
    )


@pytest.mark.parametrize("who", ["", "   "])
def test_an_added_item_confirmation_says_who_confirmed(branch, advisor, who):
    item = added_item(open_work_order(branch, advisor), advisor)
    before = state(item)
    error = refusal(lambda: confirm(item, advisor, confirmed_by=who))
    assert (error.code, error.field) == ("confirmed_by_required", "confirmed_by")
    assert state(item) == before


def test_an_added_item_confirmation_says_how(branch, advisor):
    item = added_item(open_work_order(branch, advisor), advisor)
    before = state(item)
    error = refusal(lambda: confirm(item, advisor, method=""))
    assert (error.code, error.field) == ("method_required", "method")
    assert state(item) == before


def test_an_added_item_is_confirmed_only_in_a_known_way(branch, advisor):
    item = added_item(open_work_order(branch, advisor), advisor)
    before = state(item)
    with pytest.raises(ValidationError) as caught:
        confirm(item, advisor, method="fax")
    assert "confirmation_method" in caught.value.message_dict
    assert state(item) == before


def test_an_added_item_is_not_confirmed_in_the_future(branch, advisor):
    item = added_item(open_work_order(branch, advisor), advisor)
    before = state(item)
    error = refusal(lambda: confirm(item, advisor, at=timezone.now() + timedelta(hours=1)))
    assert (error.code, error.field) == ("time_in_future", "at")
    assert state(item) == before


def test_an_added_item_is_confirmed_once(branch, advisor):
    item = confirm(added_item(open_work_order(branch, advisor), advisor), advisor)
    before = state(item)
    error = refusal(lambda: confirm(item, advisor, confirmed_by="王太太"))
    assert error.code == "added_item_confirmed"
    assert state(item) == before


# --- signing a line -------------------------------------------------------------------------


def test_work_on_an_unconfirmed_added_item_is_not_signed(branch, advisor, technician):
    # given a work order in progress with an operation of an unconfirmed added item
    work_order = open_work_order(branch, advisor)
    item = added_item(work_order, advisor)
    line = labour(work_order, technician, advisor, added_item=item)
    start(work_order, advisor)
    # when the technician signs it done
    error = refusal(lambda: services.labour_line_sign(line=line, by=technician))
    # then it is refused and the line is not done
    assert error.code == "added_item_unconfirmed"
    assert fresh(line).done_at is None
    # and once the customer confirmed, it is signed
    confirm(item, advisor)
    assert services.labour_line_sign(line=line, by=technician).done_at is not None


@pytest.mark.parametrize("status", [WorkOrderStatus.OPEN, WorkOrderStatus.QUALITY_CHECK])
def test_a_line_is_signed_only_while_the_work_order_is_in_progress(
    branch, advisor, technician, status
):
    work_order = open_work_order(branch, advisor)
    line = labour(work_order, technician, advisor)
    second = labour(work_order, technician, advisor)
    if status == WorkOrderStatus.QUALITY_CHECK:
        start(work_order, advisor)
        to_quality_check(work_order, technician)
        line = second
        # a quality check work order has every line signed: un-sign one to prove the rule
        LabourLine.objects.filter(pk=line.pk).update(done_at=None)
    error = refusal(lambda: services.labour_line_sign(line=line, by=technician))
    assert error.code == "work_order_wrong_status"
    assert fresh(line).done_at is None


def test_a_line_is_not_signed_in_the_future(branch, advisor, technician):
    work_order = in_progress_work_order(branch, advisor, technician)
    line = work_order.labour_lines.get()
    error = refusal(
        lambda: services.labour_line_sign(
            line=line, by=technician, at=timezone.now() + timedelta(minutes=5)
        )
    )
    assert (error.code, error.field) == ("time_in_future", "at")
    assert fresh(line).done_at is None


# --- nothing changes once the car is in quality check ---------------------------------------


def test_lines_and_added_items_are_frozen_in_quality_check(
    branch, advisor, technician, parts_clerk
):
    # given a car in quality check with a parts line, a labour line and an unconfirmed item
    part = part_in_stock(branch, parts_clerk, 4)
    work_order = open_work_order(branch, advisor)
    part_line = services.part_line_add(
        work_order=work_order, part=part, quantity=Decimal(1), by=advisor
    )
    item = added_item(work_order, advisor)
    labour(work_order, technician, advisor)
    start(work_order, advisor)
    to_quality_check(work_order, technician)
    labour_line = work_order.labour_lines.get()
    before = lines(), state(item), state(stock_of(branch, part)), state(part_line.issue)
    # when a line is taken off or the item confirmed
    refusals = [
        refusal(lambda: services.part_line_remove(line=part_line, by=advisor)),
        refusal(lambda: services.labour_line_remove(line=labour_line, by=advisor)),
        refusal(lambda: confirm(item, advisor)),
    ]
    # then each is refused and nothing changed
    assert {error.code for error in refusals} == {"work_order_wrong_status"}
    assert (lines(), state(item), state(stock_of(branch, part)), state(part_line.issue)) == before


def test_a_recommendation_is_decided_while_the_work_order_is_open(branch, advisor, technician):
    # given a 30,000 km visit handed to quality check
    work_order = open_work_order(branch, advisor, mileage_in=30_000)
    labour(work_order, technician, advisor)
    start(work_order, advisor)
    to_quality_check(work_order, technician)
    recommendation = work_order.recommendations.first()
    before = state(recommendation)
    # when the customer's decision is recorded now
    error = refusal(
        lambda: services.recommendation_decide(
            recommendation=recommendation, accepted=True, by=advisor
        )
    )
    # then it is refused
    assert error.code == "work_order_wrong_status"
    assert state(recommendation) == before
