"""What the parts tests share: a refusal caught, a record read afresh, stock received and taken
through the ledger, the ledger checked against the stock rows, and the stockroom's documents
taken through their steps — always through the services, as the stockroom does it."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from dealer_crm.errors import DomainError
from parts import services
from parts.choices import IssueKind, IssueStatus, MoveKind
from parts.models import PartIssue, PartStock, Receipt, StockMove

STEPS = [IssueStatus.CHECKED, IssueStatus.PICKED, IssueStatus.RECHECKED, IssueStatus.HANDED_OVER]


def refusal(call) -> DomainError:
    """The refusal `call()` raises (the test fails if it raises none)."""
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def fresh(instance):
    return type(instance).objects.get(pk=instance.pk)


# --- the ledger ------------------------------------------------------------------------------


def receive(branch, part, by, amount, cost="50.00", **extra) -> StockMove:
    """`amount` of `part` received into `branch` at `cost`; `extra`: document, reason."""
    return services.stock_move_post(
        branch=branch,
        part=part,
        kind=MoveKind.RECEIPT,
        amount=Decimal(amount),
        unit_cost=Decimal(cost),
        by=by,
        **extra,
    )


def take(branch, part, by, amount, kind=MoveKind.WORK_ORDER_ISSUE, **extra) -> StockMove:
    """`amount` of `part` taken out of `branch` by a move of `kind`; `extra`: document, reason."""
    return services.stock_move_post(
        branch=branch, part=part, kind=kind, amount=Decimal(amount), by=by, **extra
    )


def stock(branch, part) -> PartStock:
    return PartStock.objects.get(branch=branch, part=part)


def set_levels(branch, part, by, minimum, reorder_point, maximum) -> PartStock:
    """The min / reorder point / max the branch keeps of `part`."""
    return services.stock_levels_set(
        branch=branch,
        part=part,
        by=by,
        min_quantity=Decimal(minimum),
        reorder_point=Decimal(reorder_point),
        max_quantity=Decimal(maximum),
    )


def ledger_total(branch, part) -> Decimal | None:
    """The sum of the moves of `part` at `branch` (None before the first)."""
    return StockMove.objects.filter(branch=branch, part=part).aggregate(t=Sum("quantity"))["t"]


def ledger_balanced(*branches) -> bool:
    """Every stock row of the branches equals the sum of its moves."""
    return all(
        (ledger_total(held.branch, held.part) or 0) == held.on_hand
        for held in PartStock.objects.filter(branch__in=branches)
    )


# --- issue vouchers --------------------------------------------------------------------------


def voucher(branch, by, lines, kind=IssueKind.WORK_ORDER, **kwargs) -> PartIssue:
    """A voucher of `lines` [(part, quantity)] or [(part, quantity, unit price)]; a work order
    voucher names WO2026-0001 unless told otherwise."""
    if kind == IssueKind.WORK_ORDER:
        kwargs.setdefault("work_order_reference", "WO2026-0001")
    return services.part_issue_create(
        branch=branch,
        kind=kind,
        lines=[
            {"part": line[0], "quantity": Decimal(line[1])}
            | ({"unit_price": Decimal(line[2])} if len(line) > 2 else {})
            for line in lines
        ],
        by=by,
        **kwargs,
    )


def walk(issue, by, until=IssueStatus.HANDED_OVER, *, since=None) -> PartIssue:
    """`issue` taken through its steps up to `until` — from the first, or from the one after
    `since`, the step it has already reached."""
    first = STEPS.index(since) + 1 if since else 0
    for step in STEPS[first : STEPS.index(until) + 1]:
        issue = services.part_issue_advance(issue=issue, step=step, by=by)
    return issue


# --- receiving -------------------------------------------------------------------------------


def checked(order, by, counts=None, *, boxes=1) -> Receipt:
    """The delivery for `order` checked in `boxes` intact boxes: `counts` {part: received} or
    {part: (received, damaged)} of its lines, or every line still outstanding in full."""
    lines = fresh(order).lines.all()
    if counts is None:
        counts = {line.part: line.outstanding for line in lines}
    return services.receipt_check(
        purchase_order=order,
        by=by,
        boxes_expected=boxes,
        boxes_counted=boxes,
        packaging_intact=True,
        lines=[_checked_line(line, counts[line.part]) for line in lines if line.part in counts],
    )


def _checked_line(order_line, count) -> dict:
    received, *damaged = count if isinstance(count, tuple) else (count,)
    line = {"order_line": order_line, "received_quantity": Decimal(received), "checked": True}
    return line | ({"damaged_quantity": Decimal(damaged[0])} if damaged else {})


def delivered(order, by, counts=None, *, bin=None) -> Receipt:
    """The delivery for `order` checked (see `checked`) and registered, put away into `bin`."""
    receipt = checked(order, by, counts)
    bins = {line.pk: bin for line in receipt.lines.all()} if bin else {}
    return services.receipt_register(receipt=receipt, by=by, bins=bins)
