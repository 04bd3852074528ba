"""The stockroom's day end to end through the services: an order received with one line
short, put away, sold over the counter, and a zone counted with a difference."""

from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from parts import selectors, services
from parts.choices import (
    IssueKind,
    IssueStatus,
    MoveKind,
    OrderKind,
    PurchaseOrderStatus,
    StocktakeScope,
)
from parts.models import PartStock, StockMove
from tests.factories import BinFactory, PartFactory, SupplierFactory

pytestmark = pytest.mark.django_db


def test_receive_short_issue_and_count_a_zone(branch, parts_clerk):
    # given an order for 10 plugs and 4 litres of oil
    supplier = SupplierFactory()
    plug = PartFactory(supplier=supplier)
    oil = PartFactory(supplier=supplier, unit="litre", name="机油")
    bin_plug = BinFactory(branch=branch, zone="A", shelf="01", level="1")
    bin_oil = BinFactory(branch=branch, zone="B", shelf="01", level="1")
    order = services.purchase_order_create(
        branch=branch,
        supplier=supplier,
        kind=OrderKind.STOCK,
        lines=[
            {"part": plug, "quantity": Decimal(10), "unit_cost": Decimal("30.00")},
            {"part": oil, "quantity": Decimal(4), "unit_cost": Decimal("80.00")},
        ],
        by=parts_clerk,
    )
    services.purchase_order_place(purchase_order=order, by=parts_clerk)
    plug_line, oil_line = order.lines.order_by("id")

    # when 8 plugs arrive (short by 2) and the oil in full, and they are put away
    receipt = services.receipt_check(
        purchase_order=order,
        by=parts_clerk,
        boxes_expected=2,
        boxes_counted=2,
        packaging_intact=True,
        lines=[
            {"order_line": plug_line, "received_quantity": Decimal(8), "checked": True},
            {"order_line": oil_line, "received_quantity": Decimal(4), "checked": True},
        ],
    )
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
    issue = services.part_issue_create(
        branch=branch,
        kind=IssueKind.COUNTER_SALE,
        lines=[{"part": plug, "quantity": Decimal(3)}],
        recipient="王先生",
        by=parts_clerk,
    )
    for step in (
        IssueStatus.CHECKED,
        IssueStatus.PICKED,
        IssueStatus.RECHECKED,
        IssueStatus.HANDED_OVER,
    ):
        issue = services.part_issue_advance(issue=issue, step=step, by=parts_clerk)

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
        stock = PartStock.objects.get(branch=branch, part=part)
        total = StockMove.objects.filter(branch=branch, part=part).aggregate(t=Sum("quantity"))["t"]
        assert stock.on_hand == total
        assert stock.reserved == 0
    today = timezone.localdate()
    figures = selectors.parts_figures(branch_ids=[branch.pk], start=today, end=today)
    assert figures["fill_rate"] == Decimal("1.000")
    assert figures["stocktake_accuracy"] == Decimal("0.000")
    assert figures["cost_used"] == Decimal("90.00")
