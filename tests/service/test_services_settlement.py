"""Settlement (结算单) and close: only a car signed off, certificates for first maintenance and
warranty, every part handed over, the 10% rule, the discount, the payment, the insurer's
share, lines equal to the work order's; closing puts the visit on the timeline and tells
archives and customer care once the transaction commits."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from customers.models import TimelineEntry
from dealer_crm.errors import DomainError
from service import services
from service.choices import ConfirmationMethod, InsuranceClaimStatus, ServiceType
from service.choices import WorkOrderStatus as S
from service.events import work_order_closed
from service.models import InsuranceClaim, Settlement, SettlementLine, WorkOrder
from tests.service.helpers import (
    counts,
    fresh,
    hand_over,
    labour,
    open_work_order,
    part_in_stock,
    ready_work_order,
    refusal,
    settle,
    start,
    state,
    to_quality_check,
    to_ready,
    total_of,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

NOTHING_SETTLED = {"Settlement": 0, "SettlementLine": 0}


def nothing_settled() -> dict:
    return counts(Settlement, SettlementLine)


def assert_refused_and_unchanged(call, work_order, code, field=None):
    before = state(work_order)
    error = refusal(call)
    assert (error.code, error.field) == (code, field)
    assert state(work_order) == before
    assert nothing_settled() == NOTHING_SETTLED


def ready_at(branch, advisor, technician, *, estimate, total, **data):
    """A ready work order of one line costing `total` against `estimate`."""
    return ready_work_order(
        branch, advisor, technician, estimate=Decimal(estimate), hours="1", rate=total, **data
    )


# --- what may be settled --------------------------------------------------------------------


def test_only_a_car_signed_off_is_settled(branch, advisor, technician):
    # given a car in quality check, QC signed, team lead not yet
    work_order = open_work_order(branch, advisor)
    labour(work_order, technician, advisor)
    start(work_order, advisor)
    to_quality_check(work_order, technician)
    # when it is settled
    # then it is refused and nothing was settled
    assert_refused_and_unchanged(
        lambda: settle(work_order, advisor, paid="200.00"), work_order, "work_order_not_ready"
    )


@pytest.mark.parametrize(
    "data",
    [
        {"service_type": ServiceType.MAINTENANCE, "is_first_maintenance": True},
        {"service_type": ServiceType.WARRANTY},
    ],
    ids=["first maintenance", "warranty"],
)
def test_first_maintenance_and_warranty_need_their_certificates(branch, advisor, technician, data):
    # given a first free maintenance (or warranty work) ready, certificates not checked
    work_order = ready_work_order(branch, advisor, technician, **data)
    # when it is settled it is refused
    assert_refused_and_unchanged(
        lambda: settle(work_order, advisor), work_order, "certificates_missing"
    )
    # and once the certificates are seen in the file, it is settled
    services.work_order_certificates_checked(work_order=work_order, by=advisor)
    assert settle(work_order, advisor).work_order_id == work_order.pk
    assert fresh(work_order).certificates_checked_by_id == advisor.pk


def test_an_ordinary_maintenance_needs_no_certificates(branch, advisor, technician):
    work_order = ready_work_order(branch, advisor, technician, service_type="maintenance")
    assert settle(work_order, advisor).total == Decimal("200.00")


def test_parts_not_handed_over_by_the_stockroom_hold_the_settlement(
    branch, advisor, technician, parts_clerk
):
    # given a car ready whose pads are still reserved, not handed over
    part = part_in_stock(branch, parts_clerk, 4, price="380.00")
    work_order = open_work_order(branch, advisor, estimate=Decimal("1000.00"))
    line = services.part_line_add(work_order=work_order, part=part, quantity=Decimal(2), by=advisor)
    labour(work_order, technician, advisor)
    start(work_order, advisor)
    to_quality_check(work_order, technician)
    to_ready(work_order, technician)
    # when it is settled it is refused, naming the part
    before = state(work_order)
    error = refusal(lambda: settle(work_order, advisor))
    assert error.code == "parts_not_issued"
    assert part.number in str(error)
    assert state(work_order) == before
    assert nothing_settled() == NOTHING_SETTLED
    # and once the stockroom hands them over, it is settled
    hand_over(line.issue, parts_clerk)
    assert settle(work_order, advisor).parts_total == Decimal("760.00")


# --- the 10% rule ---------------------------------------------------------------------------


def test_a_total_of_exactly_110_percent_of_the_estimate_is_settled(branch, advisor, technician):
    work_order = ready_at(branch, advisor, technician, estimate="1000.00", total="1100.00")
    assert settle(work_order, advisor).total == Decimal("1100.00")


def test_a_total_above_110_percent_needs_the_customers_approval(branch, advisor, technician):
    # given a bill of 1,100.10 against an estimate of 1,000 (110.01%)
    work_order = ready_at(branch, advisor, technician, estimate="1000.00", total="1100.10")
    # when it is settled it is refused
    assert_refused_and_unchanged(
        lambda: settle(work_order, advisor), work_order, "overrun_not_approved"
    )
    # and once the customer approved the overrun, it is settled
    services.work_order_approve_overrun(
        work_order=work_order, approved_by="王先生", method=ConfirmationMethod.PHONE, by=advisor
    )
    assert settle(work_order, advisor).total == Decimal("1100.10")
    work_order = fresh(work_order)
    assert (work_order.overrun_approved_by, work_order.overrun_approval_method) == (
        "王先生",
        ConfirmationMethod.PHONE,
    )
    assert work_order.overrun_approved_at is not None


def test_an_overrun_approval_says_who_approved(branch, advisor, technician):
    work_order = ready_at(branch, advisor, technician, estimate="1000.00", total="1500.00")
    assert_refused_and_unchanged(
        lambda: services.work_order_approve_overrun(
            work_order=work_order, approved_by="  ", method=ConfirmationMethod.PHONE, by=advisor
        ),
        work_order,
        "confirmed_by_required",
        "approved_by",
    )


def test_an_overrun_approval_says_how_the_customer_approved(branch, advisor, technician):
    work_order = ready_at(branch, advisor, technician, estimate="1000.00", total="1500.00")
    assert_refused_and_unchanged(
        lambda: services.work_order_approve_overrun(
            work_order=work_order, approved_by="王先生", method="", by=advisor
        ),
        work_order,
        "method_required",
        "method",
    )


def test_an_overrun_is_approved_only_between_start_and_settlement(branch, advisor):
    work_order = open_work_order(branch, advisor)
    assert_refused_and_unchanged(
        lambda: services.work_order_approve_overrun(
            work_order=work_order, approved_by="王先生", method="phone", by=advisor
        ),
        work_order,
        "work_order_wrong_status",
    )


def test_a_discount_bringing_the_total_within_10_percent_needs_no_approval(
    branch, advisor, technician
):
    work_order = ready_at(branch, advisor, technician, estimate="1000.00", total="1200.00")
    settlement = settle(work_order, advisor, discount=Decimal("100.00"))
    assert (settlement.total, settlement.discount) == (Decimal("1100.00"), Decimal("100.00"))


# --- discount and payment -------------------------------------------------------------------


@pytest.mark.parametrize("discount", ["-0.01", "200.01"])
def test_a_discount_is_between_nothing_and_the_total(branch, advisor, technician, discount):
    work_order = ready_work_order(branch, advisor, technician)  # total 200.00
    assert_refused_and_unchanged(
        lambda: settle(work_order, advisor, discount=Decimal(discount), paid="0"),
        work_order,
        "discount_out_of_range",
        "discount",
    )


def test_a_discount_of_the_whole_bill_leaves_nothing_to_pay(branch, advisor, technician):
    work_order = ready_work_order(branch, advisor, technician)
    settlement = settle(work_order, advisor, discount=Decimal("200.00"), payment_method="none")
    assert (settlement.total, settlement.customer_amount, settlement.paid_amount) == (0, 0, 0)


@pytest.mark.parametrize("paid", ["199.99", "200.01", "0"])
def test_the_customer_pays_exactly_their_amount(branch, advisor, technician, paid):
    work_order = ready_work_order(branch, advisor, technician)  # total 200.00
    assert_refused_and_unchanged(
        lambda: settle(work_order, advisor, paid=paid),
        work_order,
        "payment_mismatch",
        "paid_amount",
    )


# --- the insurer's share --------------------------------------------------------------------


def insured(work_order, advisor, *, assessed, share, status=InsuranceClaimStatus.APPROVED):
    claim = services.insurance_claim_create(
        work_order=work_order, by=advisor,
        data={
            "insurer": "中国人保财险", "policy_number": "PDAA202444010000001234",
            "claim_number": "RDAA202444010000005678", "accident_date": date(2025, 5, 3),
            "customer_share": Decimal(share),
        },
    )  # fmt: skip
    steps = [InsuranceClaimStatus.ASSESSED, InsuranceClaimStatus.APPROVED]
    for step in steps[: steps.index(status) + 1] if status in steps else []:
        claim = services.insurance_claim_advance(
            claim=claim, status=step, by=advisor, assessed_amount=Decimal(assessed),
            assessor="李定损",
        )  # fmt: skip
    return claim


def bodywork_ready(branch, advisor, technician, total="5000.00"):
    return ready_at(
        branch, advisor, technician, estimate=total, total=total,
        service_type=ServiceType.BODYWORK, complaint="左前翼子板碰撞凹陷",
    )  # fmt: skip


def test_an_approved_claim_pays_the_assessed_amount_less_the_customers_share(
    branch, advisor, technician
):
    # given a 5,000 bodywork bill and a claim assessed at 4,000 with 500 the customer's own
    work_order = bodywork_ready(branch, advisor, technician)
    insured(work_order, advisor, assessed="4000.00", share="500.00")
    # when the customer pays their 1,500
    settlement = settle(work_order, advisor, paid="1500.00")
    # then the insurer pays 3,500
    assert (settlement.total, settlement.insurer_amount, settlement.customer_amount) == (
        Decimal("5000.00"),
        Decimal("3500.00"),
        Decimal("1500.00"),
    )


def test_the_insurer_pays_no_more_than_the_bill_and_the_customer_their_share(
    branch, advisor, technician
):
    # given a 5,000 bill under a claim assessed at 8,000 with 500 the customer's own
    work_order = bodywork_ready(branch, advisor, technician)
    insured(work_order, advisor, assessed="8000.00", share="500.00")
    # when it is settled
    settlement = settle(work_order, advisor, paid="500.00")
    # then the insurer pays the bill less the share, and the customer their share
    assert (settlement.insurer_amount, settlement.customer_amount) == (
        Decimal("4500.00"),
        Decimal("500.00"),
    )


def test_an_accident_date_in_the_future_is_refused(branch, advisor, technician):
    work_order = bodywork_ready(branch, advisor, technician)
    with pytest.raises(DomainError) as refused:
        services.insurance_claim_create(
            work_order=work_order, by=advisor,
            data={
                "insurer": "中国人保财险", "policy_number": "P1", "claim_number": "C1",
                "accident_date": timezone.localdate() + timedelta(days=1),
            },
        )  # fmt: skip
    assert (refused.value.code, refused.value.field) == ("date_in_future", "accident_date")
    assert not InsuranceClaim.objects.exists()


@pytest.mark.parametrize("status", [InsuranceClaimStatus.REPORTED, InsuranceClaimStatus.ASSESSED])
def test_a_claim_not_yet_approved_pays_nothing(branch, advisor, technician, status):
    work_order = bodywork_ready(branch, advisor, technician)
    insured(work_order, advisor, assessed="4000.00", share="500.00", status=status)
    assert_refused_and_unchanged(
        lambda: settle(work_order, advisor, paid="1500.00"),
        work_order,
        "payment_mismatch",
        "paid_amount",
    )
    assert settle(work_order, advisor).insurer_amount == 0


# --- the settlement's lines -----------------------------------------------------------------


def test_the_settlement_lines_are_the_work_orders_lines(branch, advisor, technician, parts_clerk):
    # given two operations and two parts, handed over
    pads = part_in_stock(branch, parts_clerk, 4, price="380.00")
    oil = part_in_stock(branch, parts_clerk, 10, price="68.50")
    work_order = open_work_order(branch, advisor, estimate=Decimal("1500.00"))
    labour(work_order, technician, advisor, operation="更换前刹车片", hours="1.2", rate="200.00")
    labour(work_order, technician, advisor, operation="更换机油", hours="0.5", rate="180.00")
    for part, quantity in ((pads, 2), (oil, 4)):
        line = services.part_line_add(
            work_order=work_order, part=part, quantity=Decimal(quantity), by=advisor
        )
        hand_over(line.issue, parts_clerk)
    start(work_order, advisor)
    to_quality_check(work_order, technician)
    to_ready(work_order, technician)
    # when it is settled
    settlement = settle(work_order, advisor)
    # then the settlement holds each line with its quantity, price and amount
    settled = sorted(settlement.lines.values_list("is_labour", "quantity", "unit_price", "amount"))
    labour_lines, part_lines = work_order.labour_lines.all(), work_order.part_lines.all()
    expected = sorted(
        [(True, line.standard_hours, line.rate, line.amount) for line in labour_lines]
        + [(False, line.quantity, line.unit_price, line.amount) for line in part_lines]
    )
    assert settled == expected
    assert len(settled) == 4
    assert (settlement.labour_total, settlement.parts_total, settlement.total) == (
        Decimal("330.00"),
        Decimal("1034.00"),
        Decimal("1364.00"),
    )
    assert sum(amount for *_, amount in settled) == settlement.total
    assert fresh(work_order).status == S.SETTLED


def test_settling_twice_is_refused(branch, advisor, technician):
    work_order = ready_work_order(branch, advisor, technician)
    settle(work_order, advisor)
    error = refusal(lambda: settle(work_order, advisor))
    assert error.code == "work_order_not_ready"
    assert Settlement.objects.count() == 1


# --- close ----------------------------------------------------------------------------------


@pytest.fixture
def closed_events():
    received = []

    def receiver(sender, work_order_id, **kwargs):
        received.append(work_order_id)

    work_order_closed.connect(receiver, weak=False, dispatch_uid="test_services_settlement")
    yield received
    work_order_closed.disconnect(dispatch_uid="test_services_settlement")


def settled_work_order(branch, advisor, technician):
    work_order = ready_work_order(branch, advisor, technician)
    settle(work_order, advisor)
    return fresh(work_order)


def test_closing_puts_the_visit_on_the_timeline_and_tells_once_after_commit(
    branch, advisor, technician, closed_events, django_capture_on_commit_callbacks
):
    # given a settled work order
    work_order = settled_work_order(branch, advisor, technician)
    # when it is closed
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.work_order_close(work_order=work_order, by=advisor)
        # then nothing is told before the transaction commits
        assert closed_events == []
    for callback in callbacks:
        callback()
    # then archives and customer care are told once, and the visit is on the timeline
    assert closed_events == [work_order.pk]
    entry = TimelineEntry.objects.get(customer=work_order.customer, kind="work_order_closed")
    assert (entry.object_id, entry.actor_id) == (work_order.pk, advisor.pk)
    assert fresh(work_order).status == S.CLOSED


def test_closing_twice_tells_nobody_twice(
    branch, advisor, technician, closed_events, django_capture_on_commit_callbacks
):
    work_order = settled_work_order(branch, advisor, technician)
    with django_capture_on_commit_callbacks(execute=True):
        services.work_order_close(work_order=work_order, by=advisor)
    with django_capture_on_commit_callbacks(execute=True):
        error = refusal(lambda: services.work_order_close(work_order=work_order, by=advisor))
    assert error.code == "work_order_illegal_transition"
    assert closed_events == [work_order.pk]
    assert TimelineEntry.objects.filter(kind="work_order_closed").count() == 1


def test_a_close_rolled_back_tells_nobody(
    branch, advisor, technician, closed_events, django_capture_on_commit_callbacks
):
    # given a settled work order
    work_order = settled_work_order(branch, advisor, technician)

    # when it is closed inside a transaction that then fails
    class Failed(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Failed),
        transaction.atomic(),
    ):
        services.work_order_close(work_order=work_order, by=advisor)
        raise Failed

    # then nobody was told, no timeline entry, and the work order is still settled
    assert callbacks == []
    assert closed_events == []
    assert not TimelineEntry.objects.filter(kind="work_order_closed").exists()
    assert WorkOrder.objects.get(pk=work_order.pk).status == S.SETTLED


def test_the_total_helper_matches_the_settlement(branch, advisor, technician):
    work_order = ready_at(branch, advisor, technician, estimate="300.00", total="300.00")
    assert settle(work_order, advisor).total == total_of(work_order) == Decimal("300.00")
