"""The stock ledger: every quantity change is a move, balances follow the moves, and stock
never goes negative, also when fifty requests arrive at once."""

from decimal import Decimal
from functools import partial

import pytest
from django.db import IntegrityError

from dealer_crm.errors import DomainError, StateConflict
from parts import services
from parts.choices import MoveKind, Unit
from parts.models import PartStock, StockMove
from tests.factories import BinFactory, PartFactory
from tests.factories.concurrency import run_in_threads
from tests.parts import helpers
from tests.parts.helpers import ledger_total, stock

pytestmark = pytest.mark.django_db


# Deliveries and counter sales in these tests name their documents.
receive = partial(helpers.receive, document="PO-1")
issue = partial(helpers.take, kind=MoveKind.COUNTER_SALE, document="V-1")


def test_a_receipt_adds_stock_and_averages_the_cost(branch, parts_clerk):
    # given 10 plugs received at 50 CNY
    part = PartFactory()
    receive(branch, part, parts_clerk, 10, "50.00")
    # when 30 more arrive at 70 CNY
    move = receive(branch, part, parts_clerk, 30, "70.00")
    # then 40 are on hand at the moving average (10×50 + 30×70) / 40 = 65
    held = stock(branch, part)
    assert (held.on_hand, held.average_cost) == (Decimal("40"), Decimal("65.0000"))
    assert (move.quantity, move.balance_after, move.by) == (
        Decimal("30"),
        Decimal("40"),
        parts_clerk,
    )


def test_an_issue_takes_stock_at_the_average_cost(branch, parts_clerk):
    part = PartFactory()
    receive(branch, part, parts_clerk, 10, "50.00")

    move = issue(branch, part, parts_clerk, 4)

    assert (move.quantity, move.unit_cost, move.balance_after) == (
        Decimal("-4"),
        Decimal("50.0000"),
        Decimal("6"),
    )


def test_issuing_more_than_is_available_is_refused_and_changes_nothing(branch, parts_clerk):
    # given 3 on hand
    part = PartFactory()
    receive(branch, part, parts_clerk, 3)
    # when 5 are asked for
    with pytest.raises(StateConflict) as refused:
        issue(branch, part, parts_clerk, 5)
    # then it is refused with what is available, and the ledger has only the receipt
    assert refused.value.code == "insufficient_stock"
    assert refused.value.extra["available"] == "3.000"
    assert stock(branch, part).on_hand == 3
    assert StockMove.objects.filter(part=part).count() == 1


def test_reserved_parts_are_not_available_to_a_counter_sale(branch, parts_clerk):
    # given 5 on hand, 4 of them held for a planned job
    part = PartFactory()
    receive(branch, part, parts_clerk, 5)
    services.stock_reserve(branch=branch, part=part, amount=Decimal(4), by=parts_clerk)
    # when 2 are sold over the counter
    with pytest.raises(StateConflict) as refused:
        issue(branch, part, parts_clerk, 2)
    # then only the 1 free part could go
    assert refused.value.code == "insufficient_stock"
    assert stock(branch, part).available == 1


@pytest.mark.parametrize("amount", ["0", "-2"])
def test_a_quantity_is_more_than_zero(branch, parts_clerk, amount):
    with pytest.raises(DomainError) as refused:
        receive(branch, PartFactory(), parts_clerk, amount)
    assert refused.value.code == "quantity_not_positive"


def test_a_part_counted_whole_is_not_moved_in_fractions_but_oil_is(branch, parts_clerk):
    plug, oil = PartFactory(), PartFactory(unit=Unit.LITRE, name="机油 5W-30")

    with pytest.raises(DomainError) as refused:
        receive(branch, plug, parts_clerk, "1.5")
    receive(branch, oil, parts_clerk, "4.5")

    assert refused.value.code == "quantity_not_whole"
    assert stock(branch, oil).on_hand == Decimal("4.5")


def test_the_ledger_always_equals_on_hand(branch, parts_clerk):
    # given a day of receipts, sales, a return and a refused issue
    part = PartFactory()
    receive(branch, part, parts_clerk, 12)
    issue(branch, part, parts_clerk, 5)
    issue(branch, part, parts_clerk, 2, kind=MoveKind.WORK_ORDER_ISSUE)
    services.stock_move_post(
        branch=branch, part=part, kind=MoveKind.RETURN_TO_STOCK, amount=Decimal(1), by=parts_clerk
    )
    with pytest.raises(StateConflict):
        issue(branch, part, parts_clerk, 50)
    # then the moves add up to what is on hand, and each move's balance follows the last
    assert ledger_total(branch, part) == stock(branch, part).on_hand == 6
    balances = list(
        StockMove.objects.filter(part=part).order_by("id").values_list("balance_after", flat=True)
    )
    assert balances == [12, 7, 5, 6]


def test_the_database_refuses_negative_stock_whatever_the_code_does(branch, parts_clerk):
    part = PartFactory()
    receive(branch, part, parts_clerk, 1)
    with pytest.raises(IntegrityError):
        PartStock.objects.filter(branch=branch, part=part).update(on_hand=-1)


def test_one_part_one_bin_and_one_bin_one_part(branch, parts_clerk):
    # given a plug in bin A-01-1
    plug, filter_ = PartFactory(), PartFactory(name="机油滤清器")
    place, other_place = BinFactory(branch=branch), BinFactory(branch=branch)
    services.bin_assign(branch=branch, part=plug, bin=place, by=parts_clerk)
    # when the filter is put in the same bin
    with pytest.raises(StateConflict) as refused:
        services.bin_assign(branch=branch, part=filter_, bin=place, by=parts_clerk)
    # then it is refused; the plug can move to another bin, and the move is in its history
    assert refused.value.code == "bin_taken"
    moved = services.bin_assign(branch=branch, part=plug, bin=other_place, by=parts_clerk)
    assert moved.bin == other_place
    assert moved.history.first().history_change_reason == f"bin {place} → {other_place}"


def test_a_bin_of_another_branch_is_refused(branch, other_branch, parts_clerk):
    with pytest.raises(DomainError) as refused:
        services.bin_assign(
            branch=branch, part=PartFactory(), bin=BinFactory(branch=other_branch), by=parts_clerk
        )
    assert refused.value.code == "bin_other_branch"


def test_a_superseded_number_leads_to_its_latest_successor(parts_clerk):
    old, newer, newest = PartFactory(), PartFactory(), PartFactory()
    services.part_supersede(part=old, successor=newer, by=parts_clerk)
    services.part_supersede(part=newer, successor=newest, by=parts_clerk)

    assert services.part_current(old) == newest
    with pytest.raises(DomainError) as refused:
        services.part_supersede(part=newest, successor=old, by=parts_clerk)
    assert refused.value.code == "supersession_loop"


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_issues_against_ten_in_stock_issue_exactly_ten(branch, parts_clerk):
    # given 10 plugs on hand
    part = PartFactory()
    receive(branch, part, parts_clerk, 10)
    # when 50 requests for one plug each arrive at the same moment
    results = run_in_threads(*[lambda: issue(branch, part, parts_clerk, 1) for _ in range(50)])
    # then exactly 10 are issued, the other 40 refused, and nothing is left
    issued = [r for r in results if isinstance(r, StockMove)]
    refused = [r for r in results if isinstance(r, StateConflict)]
    assert (len(issued), len(refused)) == (10, 40)
    assert all(error.code == "insufficient_stock" for error in refused)
    assert stock(branch, part).on_hand == 0
    assert ledger_total(branch, part) == 0
