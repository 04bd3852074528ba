"""Receiving (入库): the receipt (验收单) checked against a placed order — boxes, packaging, each
line — and then put away and registered (入库登记), which posts the receipt moves."""

from decimal import Decimal

import pytest

from dealer_crm.errors import StateConflict
from parts import services
from parts.choices import (
    Discrepancy,
    MoveKind,
    PurchaseOrderStatus,
    ReceiptStatus,
    StocktakeScope,
    Unit,
)
from parts.models import PartStock, PurchaseOrderLine, Receipt, StockMove
from tests.factories import BinFactory, PartFactory, SupplierFactory
from tests.factories.parts import draft_purchase_order, placed_purchase_order
from tests.parts.helpers import fresh, ledger_balanced, receive, refusal

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def supplier():
    return SupplierFactory()


@pytest.fixture
def plug(supplier):
    return PartFactory(supplier=supplier, name="火花塞")


@pytest.fixture
def oil(supplier):
    return PartFactory(supplier=supplier, name="机油 5W-30", unit=Unit.LITRE)


def make_order(branch, by, supplier, lines, place=True):
    """lines: [(part, quantity, unit cost)]"""
    make = placed_purchase_order if place else draft_purchase_order
    return make(branch, by, lines, supplier=supplier)


def order_line(order, part) -> PurchaseOrderLine:
    return order.lines.get(part=part)


def check(order, by, counts, **kwargs):
    """counts: {part: received} or {part: (received, damaged)}; every given line checked."""
    lines = []
    for part, count in counts.items():
        received, damaged = count if isinstance(count, tuple) else (count, 0)
        lines.append(
            {
                "order_line": order_line(order, part),
                "received_quantity": Decimal(received),
                "damaged_quantity": Decimal(damaged),
                "checked": True,
            }
        )
    options = {"boxes_expected": 2, "boxes_counted": 2, "packaging_intact": True, **kwargs}
    return services.receipt_check(purchase_order=order, by=by, lines=lines, **options)


def check_lines(order, by, lines):
    """The delivery checked with `lines` just as they are given, in one intact box."""
    return services.receipt_check(
        purchase_order=order,
        by=by,
        boxes_expected=1,
        boxes_counted=1,
        packaging_intact=True,
        lines=lines,
    )


@pytest.fixture
def plug_order(branch, parts_clerk, supplier, plug):
    return make_order(branch, parts_clerk, supplier, [(plug, 10, "30.00")])


# --- the order received against ------------------------------------------------------------


def test_receiving_against_a_draft_order_is_refused(branch, parts_clerk, supplier, plug):
    order = make_order(branch, parts_clerk, supplier, [(plug, 10, "30.00")], place=False)

    error = refusal(lambda: check(order, parts_clerk, {plug: 10}))

    assert isinstance(error, StateConflict)
    assert error.code == "purchase_order_not_placed"
    assert not Receipt.objects.exists()


def test_receiving_against_a_cancelled_order_is_refused(parts_clerk, plug, plug_order):
    services.purchase_order_cancel(purchase_order=plug_order, by=parts_clerk, reason="供应商缺货")

    error = refusal(lambda: check(plug_order, parts_clerk, {plug: 10}))

    assert error.code == "purchase_order_closed"
    assert plug_order.number in str(error.message)
    assert not Receipt.objects.exists()


def test_receiving_against_a_fully_received_order_is_refused(branch, parts_clerk, plug, plug_order):
    receipt = check(plug_order, parts_clerk, {plug: 10})
    services.receipt_register(
        receipt=receipt, by=parts_clerk, bins={receipt.lines.get().pk: BinFactory(branch=branch)}
    )
    assert fresh(plug_order).status == PurchaseOrderStatus.RECEIVED

    error = refusal(lambda: check(plug_order, parts_clerk, {plug: 1}))

    assert error.code == "purchase_order_closed"
    assert Receipt.objects.count() == 1


# --- checking the delivery -----------------------------------------------------------------


def test_an_unchecked_line_is_refused(parts_clerk, plug, plug_order):
    line = {
        "order_line": order_line(plug_order, plug),
        "received_quantity": Decimal(10),
        "checked": False,
    }

    error = refusal(lambda: check_lines(plug_order, parts_clerk, [line]))

    assert (error.code, error.field) == ("line_not_checked", "lines")
    assert not Receipt.objects.exists()


def test_a_box_count_that_differs_from_the_delivery_note_needs_a_note(
    parts_clerk, plug, plug_order
):
    # when 1 box of 2 is counted and nothing is noted
    error = refusal(lambda: check(plug_order, parts_clerk, {plug: 10}, boxes_counted=1))
    # then it is refused on the packaging note; with the note it is accepted
    assert (error.code, error.field) == ("box_count_unexplained", "packaging_note")
    assert not Receipt.objects.exists()
    receipt = check(
        plug_order, parts_clerk, {plug: 10}, boxes_counted=1, packaging_note="两箱并一箱"
    )
    assert (receipt.boxes_expected, receipt.boxes_counted) == (2, 1)


def test_damaged_packaging_needs_a_note(parts_clerk, plug, plug_order):
    error = refusal(
        lambda: check(
            plug_order, parts_clerk, {plug: 10}, packaging_intact=False, packaging_note=" "
        )
    )

    assert (error.code, error.field) == ("packaging_damage_unexplained", "packaging_note")
    assert not Receipt.objects.exists()
    receipt = check(
        plug_order, parts_clerk, {plug: 10}, packaging_intact=False, packaging_note="外箱压破一角"
    )
    assert receipt.packaging_intact is False


def test_more_damaged_than_counted_is_refused(parts_clerk, plug, plug_order):
    error = refusal(lambda: check(plug_order, parts_clerk, {plug: (3, 4)}))

    assert error.code == "damaged_exceeds_received"
    assert not Receipt.objects.exists()


def test_a_fraction_of_a_piece_part_is_refused_but_litres_may_be_fractional(
    branch, parts_clerk, supplier, plug, oil
):
    order = make_order(branch, parts_clerk, supplier, [(plug, 10, "30.00"), (oil, 20, "8.00")])

    error = refusal(lambda: check(order, parts_clerk, {plug: "9.5", oil: 20}))

    assert error.code == "quantity_not_whole"
    assert not Receipt.objects.exists()
    receipt = check(order, parts_clerk, {plug: 10, oil: "19.5"})
    assert receipt.lines.get(part=oil).received_quantity == Decimal("19.5")


def test_a_fraction_damaged_of_a_piece_part_is_refused(parts_clerk, plug, plug_order):
    assert refusal(lambda: check(plug_order, parts_clerk, {plug: (10, "0.5")})).code == (
        "quantity_not_whole"
    )


def test_a_receipt_with_nothing_counted_is_refused(parts_clerk, plug, plug_order):
    assert refusal(lambda: check(plug_order, parts_clerk, {plug: 0})).code == "receipt_empty"
    assert refusal(lambda: check(plug_order, parts_clerk, {})).code == "receipt_empty"
    assert not Receipt.objects.exists()


def test_a_line_of_another_order_is_refused(branch, parts_clerk, supplier, plug, plug_order):
    other_order = make_order(branch, parts_clerk, supplier, [(plug, 5, "30.00")])
    line = {
        "order_line": order_line(other_order, plug),
        "received_quantity": Decimal(5),
        "checked": True,
    }

    error = refusal(lambda: check_lines(plug_order, parts_clerk, [line]))

    assert error.code == "line_not_outstanding"
    assert not Receipt.objects.exists()


def test_discrepancies_short_over_and_damaged_are_kept_on_the_receipt(
    branch, parts_clerk, supplier, plug, oil
):
    # given an order for 10 plugs, 20 litres of oil and 5 filters
    oil_filter = PartFactory(supplier=supplier, name="机油滤清器")
    order = make_order(
        branch,
        parts_clerk,
        supplier,
        [(plug, 10, "30.00"), (oil, 20, "8.00"), (oil_filter, 5, "25.00")],
    )
    # when 8 plugs, 22 litres and 5 filters (1 crushed) arrive
    receipt = check(order, parts_clerk, {plug: 8, oil: 22, oil_filter: (5, 1)})
    # then the plug line is short, the oil over, the filter damaged
    found = {line.part_id: line.discrepancies for line in receipt.lines.all()}
    assert found == {
        plug.pk: [Discrepancy.SHORT],
        oil.pk: [Discrepancy.OVER],
        oil_filter.pk: [Discrepancy.DAMAGED],
    }
    assert receipt.lines.get(part=plug).expected_quantity == 10


def test_a_line_left_out_of_the_check_counts_as_none_arrived(
    branch, parts_clerk, supplier, plug, oil
):
    order = make_order(branch, parts_clerk, supplier, [(plug, 10, "30.00"), (oil, 20, "8.00")])

    receipt = check(order, parts_clerk, {plug: 10})

    oil_line = receipt.lines.get(part=oil)
    assert (oil_line.received_quantity, oil_line.discrepancies) == (0, [Discrepancy.SHORT])


def test_checking_puts_nothing_on_the_shelf(branch, parts_clerk, plug, plug_order):
    receipt = check(plug_order, parts_clerk, {plug: 10})

    assert receipt.status == ReceiptStatus.CHECKED
    assert not StockMove.objects.exists()
    assert order_line(plug_order, plug).received_quantity == 0


# --- put away and registered ---------------------------------------------------------------


def register(receipt, by, bins_by_part=None):
    bins = {receipt.lines.get(part=part).pk: place for part, place in (bins_by_part or {}).items()}
    return services.receipt_register(receipt=receipt, by=by, bins=bins)


def test_registering_posts_the_accepted_quantity_at_the_order_cost(
    branch, parts_clerk, plug, plug_order
):
    # given 10 plugs counted, 2 of them damaged
    receipt = check(plug_order, parts_clerk, {plug: (10, 2)})
    # when they are put away and registered
    register(receipt, parts_clerk, {plug: BinFactory(branch=branch)})
    # then one receipt move of the 8 accepted, at the order's 30 CNY, names both documents
    move = StockMove.objects.get(part=plug)
    assert (move.kind, move.quantity, move.unit_cost, move.by) == (
        MoveKind.RECEIPT,
        Decimal(8),
        Decimal("30.0000"),
        parts_clerk,
    )
    assert receipt.number in move.document and plug_order.number in move.document
    held = PartStock.objects.get(branch=branch, part=plug)
    assert (held.on_hand, held.average_cost) == (8, Decimal("30.0000"))
    receipt = fresh(receipt)
    assert (receipt.status, receipt.registered_by) == (ReceiptStatus.REGISTERED, parts_clerk)
    assert receipt.registered_at is not None
    assert ledger_balanced(branch)


def test_registering_updates_the_moving_average_cost(branch, parts_clerk, supplier, plug):
    # given 10 plugs on the shelf at 50 CNY
    services.bin_assign(branch=branch, part=plug, bin=BinFactory(branch=branch), by=parts_clerk)
    receive(branch, plug, parts_clerk, 10, "50.00")
    # when 30 more are received at 70 CNY
    order = make_order(branch, parts_clerk, supplier, [(plug, 30, "70.00")])
    register(check(order, parts_clerk, {plug: 30}), parts_clerk)
    # then the average is (10×50 + 30×70) / 40 = 65
    held = PartStock.objects.get(branch=branch, part=plug)
    assert (held.on_hand, held.average_cost) == (40, Decimal("65.0000"))


def test_a_part_without_a_bin_is_given_the_bin_named_for_its_line(
    branch, parts_clerk, plug, plug_order
):
    place = BinFactory(branch=branch, zone="C", shelf="07", level="2")
    receipt = check(plug_order, parts_clerk, {plug: 10})

    register(receipt, parts_clerk, {plug: place})

    assert PartStock.objects.get(branch=branch, part=plug).bin == place
    assert receipt.lines.get().bin == place


def test_a_part_with_a_bin_is_put_away_to_its_own_bin(branch, parts_clerk, plug, plug_order):
    own = BinFactory(branch=branch)
    services.bin_assign(branch=branch, part=plug, bin=own, by=parts_clerk)
    receipt = check(plug_order, parts_clerk, {plug: 10})

    register(receipt, parts_clerk)

    assert PartStock.objects.get(branch=branch, part=plug).bin == own
    assert receipt.lines.get().bin == own


def test_registering_a_part_without_a_bin_and_none_named_is_refused_and_nothing_changes(
    branch, parts_clerk, supplier, plug, oil
):
    # given oil with a bin and plugs without one, both counted
    services.bin_assign(branch=branch, part=oil, bin=BinFactory(branch=branch), by=parts_clerk)
    order = make_order(branch, parts_clerk, supplier, [(oil, 20, "8.00"), (plug, 10, "30.00")])
    receipt = check(order, parts_clerk, {oil: 20, plug: 10})
    # when registered without naming a bin for the plugs
    error = refusal(lambda: register(receipt, parts_clerk))
    # then it is refused naming the plug, and not even the oil is posted
    assert (error.code, error.field) == ("bin_required", "bins")
    assert plug.number in str(error.message)
    assert not StockMove.objects.exists()
    assert fresh(receipt).status == ReceiptStatus.CHECKED
    assert [line.received_quantity for line in order.lines.all()] == [0, 0]
    assert fresh(order).status == PurchaseOrderStatus.ORDERED


def test_a_bin_taken_by_another_part_is_refused_at_put_away(branch, parts_clerk, plug, plug_order):
    place = BinFactory(branch=branch)
    services.bin_assign(branch=branch, part=PartFactory(), bin=place, by=parts_clerk)
    receipt = check(plug_order, parts_clerk, {plug: 10})

    error = refusal(lambda: register(receipt, parts_clerk, {plug: place}))

    assert error.code == "bin_taken"
    assert not StockMove.objects.exists()
    assert fresh(receipt).status == ReceiptStatus.CHECKED


def test_a_short_receipt_leaves_the_order_partly_received_and_the_rest_completes_it(
    branch, parts_clerk, plug, plug_order
):
    # given 10 ordered, 6 arrive and are registered
    place = BinFactory(branch=branch)
    register(check(plug_order, parts_clerk, {plug: 6}), parts_clerk, {plug: place})
    line = order_line(plug_order, plug)
    assert (line.received_quantity, line.outstanding) == (6, 4)
    assert fresh(plug_order).status == PurchaseOrderStatus.PARTLY_RECEIVED
    # when the other 4 arrive, expected as 4
    receipt = check(plug_order, parts_clerk, {plug: 4})
    assert receipt.lines.get().expected_quantity == 4
    register(receipt, parts_clerk)
    # then the order is received, with 10 on the shelf
    assert fresh(plug_order).status == PurchaseOrderStatus.RECEIVED
    assert order_line(plug_order, plug).received_quantity == 10
    assert PartStock.objects.get(branch=branch, part=plug).on_hand == 10
    assert ledger_balanced(branch)


def test_damaged_parts_stay_outstanding_on_the_order(branch, parts_clerk, plug, plug_order):
    register(
        check(plug_order, parts_clerk, {plug: (10, 3)}),
        parts_clerk,
        {plug: BinFactory(branch=branch)},
    )

    assert order_line(plug_order, plug).outstanding == 3
    assert fresh(plug_order).status == PurchaseOrderStatus.PARTLY_RECEIVED


def test_an_over_delivery_is_all_put_away_and_receives_the_order(
    branch, parts_clerk, plug, plug_order
):
    register(
        check(plug_order, parts_clerk, {plug: 12}), parts_clerk, {plug: BinFactory(branch=branch)}
    )

    assert PartStock.objects.get(branch=branch, part=plug).on_hand == 12
    assert fresh(plug_order).status == PurchaseOrderStatus.RECEIVED


def test_registering_a_receipt_twice_is_refused(branch, parts_clerk, plug, plug_order):
    receipt = check(plug_order, parts_clerk, {plug: 6})
    register(receipt, parts_clerk, {plug: BinFactory(branch=branch)})

    error = refusal(lambda: register(receipt, parts_clerk))

    assert isinstance(error, StateConflict)
    assert error.code == "receipt_registered"
    assert StockMove.objects.filter(part=plug).count() == 1
    assert order_line(plug_order, plug).received_quantity == 6


def test_a_checked_receipt_of_an_order_cancelled_since_is_not_registered(
    branch, parts_clerk, plug, plug_order
):
    receipt = check(plug_order, parts_clerk, {plug: 10})
    services.purchase_order_cancel(purchase_order=plug_order, by=parts_clerk, reason="重复下单")

    error = refusal(lambda: register(receipt, parts_clerk, {plug: BinFactory(branch=branch)}))

    assert error.code == "purchase_order_closed"
    assert not StockMove.objects.exists()


def test_registering_into_a_frozen_zone_is_refused_and_nothing_changes(
    branch, parts_clerk, plug, plug_order
):
    # given plugs kept in zone A with 5 on hand, and zone A frozen for a stocktake
    services.bin_assign(
        branch=branch, part=plug, bin=BinFactory(branch=branch, zone="A"), by=parts_clerk
    )
    receive(branch, plug, parts_clerk, 5, "50.00")
    receipt = check(plug_order, parts_clerk, {plug: 10})
    stocktake = services.stocktake_start(
        branch=branch, scope=StocktakeScope.ZONE, zone="A", by=parts_clerk
    )
    # when the receipt is registered
    error = refusal(lambda: register(receipt, parts_clerk))
    # then it is refused naming the stocktake, and the shelf, the order and the receipt stand
    assert error.code == "stocktake_frozen"
    assert stocktake.number in str(error.message)
    held = PartStock.objects.get(branch=branch, part=plug)
    assert (held.on_hand, held.average_cost) == (5, Decimal("50.0000"))
    assert StockMove.objects.filter(part=plug).count() == 1
    assert fresh(receipt).status == ReceiptStatus.CHECKED
    assert order_line(plug_order, plug).received_quantity == 0
    assert fresh(plug_order).status == PurchaseOrderStatus.ORDERED


def test_putting_away_a_new_part_into_a_frozen_zone_is_refused(
    branch, parts_clerk, plug, plug_order
):
    # given zone A frozen (another part counted there) and the new plugs meant for zone A
    services.bin_assign(
        branch=branch, part=PartFactory(), bin=BinFactory(branch=branch, zone="A"), by=parts_clerk
    )
    services.stocktake_start(branch=branch, scope=StocktakeScope.ZONE, zone="A", by=parts_clerk)
    receipt = check(plug_order, parts_clerk, {plug: 10})

    error = refusal(
        lambda: register(receipt, parts_clerk, {plug: BinFactory(branch=branch, zone="A")})
    )

    assert error.code == "stocktake_frozen"
    assert not StockMove.objects.filter(part=plug).exists()
    assert PartStock.objects.filter(part=plug, bin__isnull=False).count() == 0


def test_stock_is_never_brought_in_at_a_negative_cost(branch, parts_clerk, plug):
    error = refusal(lambda: receive(branch, plug, parts_clerk, 1, "-1.00"))

    assert (error.code, error.field) == ("cost_negative", "unit_cost")
    assert not StockMove.objects.exists()
