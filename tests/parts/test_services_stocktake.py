"""Stocktake (盘点): a scope frozen with its book quantities, counted, approved into gains and
losses at the frozen cost — and no stock move touches the scope meanwhile."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from dealer_crm.errors import StateConflict
from parts import selectors, services
from parts.choices import (
    IssueKind,
    IssueStatus,
    MoveKind,
    PartClass,
    StocktakeScope,
    StocktakeStatus,
    Unit,
)
from parts.models import StockMove, Stocktake
from tests.factories import BinFactory, PartFactory, SupplierFactory
from tests.factories.parts import placed_purchase_order
from tests.parts.helpers import (
    delivered,
    fresh,
    ledger_balanced,
    receive,
    refusal,
    stock,
    voucher,
    walk,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = timezone.localdate()


def shelved(branch, by, *, zone="A", amount=10, cost="50.00", **part_fields):
    """A part kept in a bin of the zone with `amount` on hand."""
    part = PartFactory(**part_fields)
    services.bin_assign(branch=branch, part=part, bin=BinFactory(branch=branch, zone=zone), by=by)
    if amount:
        receive(branch, part, by, amount, cost)
    return part


def start(branch, by, scope=StocktakeScope.ALL, **kwargs):
    return services.stocktake_start(branch=branch, scope=scope, by=by, **kwargs)


def count(stocktake, by, counts):
    """counts: {part: counted}"""
    lines = {line.part_id: line.pk for line in stocktake.lines.all()}
    return services.stocktake_count(
        stocktake=stocktake,
        counts={lines[part.pk]: Decimal(counted) for part, counted in counts.items()},
        by=by,
    )


def counted_parts(stocktake) -> set:
    return {line.part for line in stocktake.lines.all()}


# --- freezing a scope ----------------------------------------------------------------------


def test_all_stock_freezes_every_row_with_stock_or_a_bin_at_its_book_and_cost(
    branch, other_branch, parts_clerk
):
    # given a plug on hand without a bin, a filter in a bin with none on hand, a part
    # that was used up and has no bin, and stock at the other branch
    plug, oil_filter, used_up = PartFactory(), PartFactory(), PartFactory()
    receive(branch, plug, parts_clerk, 4, "20.00")
    receive(branch, plug, parts_clerk, 4, "30.00")
    services.bin_assign(
        branch=branch,
        part=oil_filter,
        bin=BinFactory(branch=branch, zone="B", shelf="02", level="1"),
        by=parts_clerk,
    )
    receive(branch, used_up, parts_clerk, 1)
    services.stock_move_post(
        branch=branch, part=used_up, kind=MoveKind.COUNTER_SALE, amount=Decimal(1), by=parts_clerk
    )
    receive(other_branch, PartFactory(), parts_clerk, 5)
    # when all stock is frozen
    stocktake = start(branch, parts_clerk)
    # then the plug and the filter are on it, with the book quantity and average cost
    assert counted_parts(stocktake) == {plug, oil_filter}
    plug_line = stocktake.lines.get(part=plug)
    assert (plug_line.book_quantity, plug_line.unit_cost) == (8, Decimal("25.0000"))
    assert plug_line.counted_quantity is None
    assert stocktake.lines.get(part=oil_filter).bin_label == "B-02-1"
    assert (stocktake.status, stocktake.created_by) == (StocktakeStatus.COUNTING, parts_clerk)


def test_a_zone_freezes_the_stock_kept_in_that_zone(branch, parts_clerk):
    in_a, also_in_a = shelved(branch, parts_clerk, zone="A"), shelved(branch, parts_clerk, zone="A")
    shelved(branch, parts_clerk, zone="B")

    stocktake = start(branch, parts_clerk, StocktakeScope.ZONE, zone=" a ")

    assert stocktake.zone == "A"
    assert counted_parts(stocktake) == {in_a, also_in_a}


def test_a_classification_freezes_the_stock_of_that_classification(branch, parts_clerk):
    wear = shelved(branch, parts_clerk, zone="A", classification=PartClass.WEAR)
    shelved(branch, parts_clerk, zone="A", classification=PartClass.CONSUMABLE)

    stocktake = start(
        branch, parts_clerk, StocktakeScope.CLASSIFICATION, classification=PartClass.WEAR, zone="A"
    )

    assert counted_parts(stocktake) == {wear}
    assert (stocktake.classification, stocktake.zone) == (PartClass.WEAR, "")


def test_an_empty_scope_is_refused(branch, parts_clerk):
    shelved(branch, parts_clerk, zone="A")

    error = refusal(lambda: start(branch, parts_clerk, StocktakeScope.ZONE, zone="Z"))

    assert error.code == "stocktake_scope_empty"
    assert not Stocktake.objects.exists()


def test_a_zone_scope_names_its_zone(branch, parts_clerk):
    shelved(branch, parts_clerk, zone="A")

    with pytest.raises(ValidationError):
        start(branch, parts_clerk, StocktakeScope.ZONE, zone="")
    assert not Stocktake.objects.exists()


@pytest.mark.parametrize(
    ("second_scope", "options"),
    [
        (StocktakeScope.ALL, {}),
        (StocktakeScope.ZONE, {"zone": "A"}),
        (StocktakeScope.CLASSIFICATION, {"classification": PartClass.WEAR}),
    ],
)
def test_a_scope_overlapping_an_open_stocktake_is_refused(
    branch, parts_clerk, second_scope, options
):
    # given zone A counting, holding a wear part
    shelved(branch, parts_clerk, zone="A", classification=PartClass.WEAR)
    shelved(branch, parts_clerk, zone="B", classification=PartClass.CONSUMABLE)
    first = start(branch, parts_clerk, StocktakeScope.ZONE, zone="A")
    # when a scope taking in zone A's rows is started
    error = refusal(lambda: start(branch, parts_clerk, second_scope, **options))
    # then it is refused naming the open stocktake
    assert isinstance(error, StateConflict)
    assert error.code == "stocktake_overlaps"
    assert first.number in str(error.message)
    assert Stocktake.objects.count() == 1


def test_scopes_that_do_not_overlap_are_counted_side_by_side(branch, other_branch, parts_clerk):
    shelved(branch, parts_clerk, zone="A")
    shelved(branch, parts_clerk, zone="B")
    shelved(other_branch, parts_clerk, zone="A")

    start(branch, parts_clerk, StocktakeScope.ZONE, zone="A")
    start(branch, parts_clerk, StocktakeScope.ZONE, zone="B")
    start(other_branch, parts_clerk)

    assert Stocktake.objects.filter(status=StocktakeStatus.COUNTING).count() == 3


# --- no move while frozen ------------------------------------------------------------------


def test_a_receipt_into_a_frozen_row_is_refused_naming_the_stocktake(branch, parts_clerk):
    part = shelved(branch, parts_clerk, zone="A", amount=10)
    stocktake = start(branch, parts_clerk, StocktakeScope.ZONE, zone="A")

    error = refusal(lambda: receive(branch, part, parts_clerk, 5))

    assert isinstance(error, StateConflict)
    assert error.code == "stocktake_frozen"
    assert stocktake.number in str(error.message) and part.number in str(error.message)
    assert "Zone A" in str(error.message)
    assert stock(branch, part).on_hand == 10
    assert StockMove.objects.filter(part=part).count() == 1


def test_an_issue_hand_over_of_a_frozen_row_is_refused(branch, parts_clerk):
    part = shelved(branch, parts_clerk, zone="A", amount=10)
    issue = walk(voucher(branch, parts_clerk, [(part, 3)]), parts_clerk, IssueStatus.RECHECKED)
    stocktake = start(
        branch, parts_clerk, StocktakeScope.CLASSIFICATION, classification=part.classification
    )

    error = refusal(lambda: walk(issue, parts_clerk, since=IssueStatus.RECHECKED))

    assert error.code == "stocktake_frozen"
    assert stocktake.number in str(error.message)
    assert fresh(issue).status == IssueStatus.RECHECKED
    assert (stock(branch, part).on_hand, stock(branch, part).reserved) == (10, 3)


def test_a_return_to_a_frozen_row_is_refused(branch, parts_clerk):
    part = shelved(branch, parts_clerk, zone="A", amount=10)
    line = walk(voucher(branch, parts_clerk, [(part, 3)]), parts_clerk).lines.get()
    stocktake = start(branch, parts_clerk)

    error = refusal(
        lambda: services.part_return_to_stock(
            line=line, amount=Decimal(1), by=parts_clerk, reason="多领"
        )
    )

    assert error.code == "stocktake_frozen"
    assert stocktake.number in str(error.message)
    assert stock(branch, part).on_hand == 7


def test_a_transfer_out_of_a_frozen_row_is_refused(branch, other_branch, parts_clerk):
    part = shelved(branch, parts_clerk, zone="A", amount=10)
    issue = walk(
        voucher(branch, parts_clerk, [(part, 3)], kind=IssueKind.TRANSFER, to_branch=other_branch),
        parts_clerk,
        IssueStatus.RECHECKED,
    )
    start(branch, parts_clerk)

    error = refusal(lambda: walk(issue, parts_clerk, since=IssueStatus.RECHECKED))

    assert error.code == "stocktake_frozen"
    assert not StockMove.objects.filter(
        kind__in=[MoveKind.TRANSFER_OUT, MoveKind.TRANSFER_IN]
    ).exists()


def test_a_transfer_into_a_frozen_row_at_the_other_branch_is_refused(
    branch, other_branch, parts_clerk
):
    # given plugs here, and the other branch counting all its stock, plugs included
    part = shelved(branch, parts_clerk, zone="A", amount=10)
    receive(other_branch, part, parts_clerk, 2)
    issue = walk(
        voucher(branch, parts_clerk, [(part, 3)], kind=IssueKind.TRANSFER, to_branch=other_branch),
        parts_clerk,
        IssueStatus.RECHECKED,
    )
    there = start(other_branch, parts_clerk)
    # when the transfer is handed over, then it is refused naming the other branch's stocktake
    error = refusal(lambda: walk(issue, parts_clerk, since=IssueStatus.RECHECKED))
    assert error.code == "stocktake_frozen"
    assert there.number in str(error.message)
    assert (stock(branch, part).on_hand, stock(other_branch, part).on_hand) == (10, 2)
    assert ledger_balanced(branch, other_branch)


def test_rows_outside_the_scope_still_move(branch, parts_clerk):
    shelved(branch, parts_clerk, zone="A")
    elsewhere = shelved(branch, parts_clerk, zone="B", amount=10)
    start(branch, parts_clerk, StocktakeScope.ZONE, zone="A")

    receive(branch, elsewhere, parts_clerk, 5)
    walk(voucher(branch, parts_clerk, [(elsewhere, 3)]), parts_clerk)

    assert stock(branch, elsewhere).on_hand == 12


# --- counting ------------------------------------------------------------------------------


def test_counts_are_recorded_and_may_be_corrected(branch, parts_clerk, branch_manager):
    part = shelved(branch, parts_clerk, amount=10)
    stocktake = start(branch, parts_clerk)

    count(stocktake, parts_clerk, {part: 9})
    count(stocktake, branch_manager, {part: 0})

    line = stocktake.lines.get()
    assert (line.counted_quantity, line.counted_by, line.difference) == (0, branch_manager, -10)
    assert line.counted_at is not None
    assert line.difference_value == Decimal("-500.00")


@pytest.mark.parametrize(
    ("counted", "code"), [("-1", "quantity_negative"), ("2.5", "quantity_not_whole")]
)
def test_a_negative_count_or_a_fraction_of_a_piece_is_refused(branch, parts_clerk, counted, code):
    part = shelved(branch, parts_clerk, amount=10)
    stocktake = start(branch, parts_clerk)

    error = refusal(lambda: count(stocktake, parts_clerk, {part: counted}))

    assert error.code == code
    assert stocktake.lines.get().counted_quantity is None


def test_oil_is_counted_in_fractions_of_a_litre(branch, parts_clerk):
    oil = shelved(branch, parts_clerk, amount=20, unit=Unit.LITRE)
    stocktake = start(branch, parts_clerk)

    count(stocktake, parts_clerk, {oil: "19.5"})

    assert stocktake.lines.get().counted_quantity == Decimal("19.5")


def test_a_line_of_another_stocktake_is_refused(branch, parts_clerk):
    shelved(branch, parts_clerk, zone="A")
    shelved(branch, parts_clerk, zone="B")
    zone_a = start(branch, parts_clerk, StocktakeScope.ZONE, zone="A")
    zone_b = start(branch, parts_clerk, StocktakeScope.ZONE, zone="B")
    line_of_b = zone_b.lines.get()

    error = refusal(
        lambda: services.stocktake_count(
            stocktake=zone_a, counts={line_of_b.pk: Decimal(1)}, by=parts_clerk
        )
    )

    assert error.code == "stocktake_line_unknown"
    assert fresh(line_of_b).counted_quantity is None


# --- approving -----------------------------------------------------------------------------


def test_approving_is_refused_while_lines_are_uncounted(branch, parts_clerk):
    counted_part = shelved(branch, parts_clerk, amount=10)
    shelved(branch, parts_clerk, amount=10)
    stocktake = start(branch, parts_clerk)
    count(stocktake, parts_clerk, {counted_part: 8})

    error = refusal(lambda: services.stocktake_approve(stocktake=stocktake, by=parts_clerk))

    assert error.code == "stocktake_not_counted"
    assert "1 lines" in str(error.message)
    assert fresh(stocktake).status == StocktakeStatus.COUNTING
    assert not StockMove.objects.exclude(kind=MoveKind.RECEIPT).exists()


def test_approving_posts_gains_and_losses_at_the_frozen_cost_and_frees_the_scope(
    branch, parts_clerk, branch_manager
):
    # given plugs (10 at 50), filters (4 at 25) and wipers (6 at 80) frozen
    plug = shelved(branch, parts_clerk, amount=10, cost="50.00")
    oil_filter = shelved(branch, parts_clerk, amount=4, cost="25.00")
    wiper = shelved(branch, parts_clerk, amount=6, cost="80.00")
    stocktake = start(branch, parts_clerk)
    # when 12 plugs, 3 filters and 6 wipers are counted and it is approved
    count(stocktake, parts_clerk, {plug: 12, oil_filter: 3, wiper: 6})
    services.stocktake_approve(stocktake=stocktake, by=branch_manager)
    # then a gain of 2 plugs and a loss of 1 filter at their frozen costs, nothing for wipers
    adjustments = {
        move.part: (move.kind, move.quantity, move.unit_cost, move.document, move.by)
        for move in StockMove.objects.exclude(kind=MoveKind.RECEIPT)
    }
    assert adjustments == {
        plug: (
            MoveKind.STOCKTAKE_GAIN,
            Decimal(2),
            Decimal("50.0000"),
            stocktake.number,
            branch_manager,
        ),
        oil_filter: (
            MoveKind.STOCKTAKE_LOSS,
            Decimal(-1),
            Decimal("25.0000"),
            stocktake.number,
            branch_manager,
        ),
    }
    assert (stock(branch, plug).on_hand, stock(branch, oil_filter).on_hand) == (12, 3)
    assert stock(branch, plug).average_cost == Decimal("50.0000")
    stocktake = fresh(stocktake)
    assert (stocktake.status, stocktake.approved_by) == (StocktakeStatus.POSTED, branch_manager)
    assert stocktake.approved_at is not None
    assert ledger_balanced(branch)
    # and the scope is free again
    receive(branch, wiper, parts_clerk, 1)
    assert stock(branch, wiper).on_hand == 7
    assert (
        refusal(lambda: services.stocktake_approve(stocktake=stocktake, by=branch_manager)).code
        == "stocktake_closed"
    )


def test_a_loss_leaving_less_than_is_reserved_is_refused_and_nothing_is_posted(branch, parts_clerk):
    # given 10 plugs with 6 held for jobs, and filters frozen with them
    plug = shelved(branch, parts_clerk, amount=10)
    oil_filter = shelved(branch, parts_clerk, amount=4)
    voucher(branch, parts_clerk, [(plug, 6)])
    stocktake = start(branch, parts_clerk)
    # when 5 plugs (fewer than the 6 held) and 5 filters are counted and it is approved
    count(stocktake, parts_clerk, {plug: 5, oil_filter: 5})
    error = refusal(lambda: services.stocktake_approve(stocktake=stocktake, by=parts_clerk))
    # then it is refused naming the plug, and not even the filter gain is posted
    assert isinstance(error, StateConflict)
    assert error.code == "stocktake_loss_reserved"
    assert plug.number in str(error.message)
    assert fresh(stocktake).status == StocktakeStatus.COUNTING
    assert not StockMove.objects.exclude(kind=MoveKind.RECEIPT).exists()
    assert (stock(branch, plug).on_hand, stock(branch, plug).reserved) == (10, 6)
    assert stock(branch, oil_filter).on_hand == 4


def test_a_loss_that_leaves_what_is_reserved_is_posted_and_keeps_the_reservation(
    branch, parts_clerk
):
    plug = shelved(branch, parts_clerk, amount=10)
    voucher(branch, parts_clerk, [(plug, 6)])
    stocktake = start(branch, parts_clerk)
    count(stocktake, parts_clerk, {plug: 6})

    services.stocktake_approve(stocktake=stocktake, by=parts_clerk)

    held = stock(branch, plug)
    assert (held.on_hand, held.reserved, held.available) == (6, 6, 0)
    assert StockMove.objects.get(kind=MoveKind.STOCKTAKE_LOSS).quantity == -4
    assert ledger_balanced(branch)


def test_cancelling_frees_the_scope_without_any_move(branch, parts_clerk):
    part = shelved(branch, parts_clerk, amount=10)
    stocktake = start(branch, parts_clerk)
    count(stocktake, parts_clerk, {part: 3})

    services.stocktake_cancel(stocktake=stocktake, by=parts_clerk)

    assert fresh(stocktake).status == StocktakeStatus.CANCELLED
    assert not StockMove.objects.exclude(kind=MoveKind.RECEIPT).exists()
    assert stock(branch, part).on_hand == 10
    receive(branch, part, parts_clerk, 1)
    assert stock(branch, part).on_hand == 11
    assert start(branch, parts_clerk).lines.get().book_quantity == 11
    assert ledger_balanced(branch)


def test_a_cancelled_stocktake_is_neither_counted_approved_nor_cancelled_again(branch, parts_clerk):
    part = shelved(branch, parts_clerk, amount=10)
    stocktake = start(branch, parts_clerk)
    services.stocktake_cancel(stocktake=stocktake, by=parts_clerk)

    for call in (
        lambda: count(stocktake, parts_clerk, {part: 10}),
        lambda: services.stocktake_approve(stocktake=stocktake, by=parts_clerk),
        lambda: services.stocktake_cancel(stocktake=stocktake, by=parts_clerk),
    ):
        assert refusal(call).code == "stocktake_closed"


# --- accuracy ------------------------------------------------------------------------------


def test_stocktake_accuracy_is_lines_counted_right_over_lines_counted(branch, parts_clerk):
    # given a posted stocktake of 4 lines, 3 counted as the book said
    parts = [shelved(branch, parts_clerk, zone="A", amount=5) for _ in range(4)]
    posted = start(branch, parts_clerk, StocktakeScope.ZONE, zone="A")
    count(posted, parts_clerk, {parts[0]: 4, parts[1]: 5, parts[2]: 5, parts[3]: 5})
    services.stocktake_approve(stocktake=posted, by=parts_clerk)
    # and a cancelled and an open one, all wrong, which do not count
    wrong = shelved(branch, parts_clerk, zone="B", amount=5)
    cancelled = start(branch, parts_clerk, StocktakeScope.ZONE, zone="B")
    count(cancelled, parts_clerk, {wrong: 1})
    services.stocktake_cancel(stocktake=cancelled, by=parts_clerk)
    count(start(branch, parts_clerk, StocktakeScope.ZONE, zone="B"), parts_clerk, {wrong: 1})
    # then 3 of 4 are right
    result = selectors.parts_figures(branch_ids=[branch.pk], start=TODAY, end=TODAY)
    assert (result["stocktake_lines"], result["stocktake_accuracy"]) == (4, Decimal("0.750"))


def test_a_stocktake_with_a_supplier_part_keeps_the_ledger_whole(branch, parts_clerk):
    # the whole cycle once more on a part received through an order, checked at the end
    supplier = SupplierFactory()
    part = shelved(branch, parts_clerk, amount=0, supplier=supplier)
    order = placed_purchase_order(branch, parts_clerk, [(part, 5, "12.00")], supplier=supplier)
    delivered(order, parts_clerk)
    stocktake = start(branch, parts_clerk)
    count(stocktake, parts_clerk, {part: 7})
    services.stocktake_approve(stocktake=stocktake, by=parts_clerk)

    gain = StockMove.objects.get(kind=MoveKind.STOCKTAKE_GAIN)
    assert (gain.quantity, gain.unit_cost) == (2, Decimal("12.0000"))
    assert ledger_balanced(branch)
