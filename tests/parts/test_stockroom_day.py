"""The stockroom's day end to end through the services: an order received with one line
short, put away, sold over the counter, and a zone counted with a difference."""

from decimal import Decimal

import pytest
from django.utils import timezone

from parts import selectors, services
from parts.choices import IssueKind, MoveKind, PurchaseOrderStatus, StocktakeScope
from parts.models import StockMove
from tests.factories import BinFactory, PartFactory, SupplierFactory
from tests.factories.parts import placed_purchase_order
from tests.parts.helpers import checked, ledger_total, stock, voucher, walk

pytestmark = pytest.mark.django_db


def test_receive_short_issue_and_count_a_zone(branch, parts_clerk):
    # given an order for 10 plugs and 4 litres of oil
    supplier = SupplierFactory()
    plug = PartFactory(supplier=supplier)
    oil = PartFactory(supplier=supplier, unit="litre", name="机油")
    bin_plug = BinFactory(branch=branch, zone="A", shelf="01", level="1")
    bin_oil = BinFactory(branch=branch, zone="B", shelf="01", level="1")
    order = placed_purchase_order(
        branch, parts_clerk, [(plug, 10, "30.00"), (oil, 4, "80.00")], supplier=supplier
    )

    # when 8 plugs arrive (short by 2) and the oil in full, and they are put away
    receipt = checked(order, parts_clerk, {plug: 8, oil: 4}, boxes=2)
    lines = {line.part_id: line for line in receipt.lines.all()}
    assert lines[plug.pk].discrepancies == ["short"]
    services.receipt_register(
        receipt=receipt,
        by=parts_clerk,
        bins={lines[plug.pk].pk: bin_plug, lines[oil.pk].pk: bin_oil},
    )
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.PARTLY_RECEIVED

    # and 3 plugs are sold over the counter through every step
    issue = voucher(branch, parts_clerk, [(plug, 3)], IssueKind.COUNTER_SALE, recipient="王先生")
    walk(issue, parts_clerk)

    # and zone A is counted with one plug missing, and approved
    stocktake = services.stocktake_start(
        branch=branch, scope=StocktakeScope.ZONE, zone="a", by=parts_clerk
    )
    (line,) = stocktake.lines.all()
    assert line.book_quantity == Decimal(5)
    services.stocktake_count(stocktake=stocktake, counts={line.pk: Decimal(4)}, by=parts_clerk)
    services.stocktake_approve(stocktake=stocktake, by=parts_clerk)

    # then the ledger holds every move and equals on hand
    kinds = list(StockMove.objects.filter(part=plug).order_by("id").values_list("kind", "quantity"))
    assert kinds == [
        (MoveKind.RECEIPT, Decimal(8)),
        (MoveKind.COUNTER_SALE, Decimal(-3)),
        (MoveKind.STOCKTAKE_LOSS, Decimal(-1)),
    ]
    for part in (plug, oil):
        held = stock(branch, part)
        assert held.on_hand == ledger_total(branch, part)
        assert held.reserved == 0
    today = timezone.localdate()
    figures = selectors.parts_figures(branch_ids=[branch.pk], start=today, end=today)
    assert figures["fill_rate"] == Decimal("1.000")
    assert figures["stocktake_accuracy"] == Decimal("0.000")
    assert figures["cost_used"] == Decimal("90.00")
