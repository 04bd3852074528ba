"""Ordering services: purchase orders (stock and emergency), reorder suggestions from
consumption, lead time and min / max, and emergency orders for a customer (即购即销)."""

from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.utils import timezone

from dealer_crm.errors import StateConflict
from dealer_crm.models import Notification
from parts import services
from parts.choices import (
    EmergencyStatus,
    IssueKind,
    IssueStatus,
    LostSaleReason,
    MoveKind,
    OrderKind,
    PurchaseOrderStatus,
    SuggestionStatus,
    Unit,
)
from parts.models import (
    EmergencyOrder,
    LostSale,
    PartStock,
    PurchaseOrder,
    ReorderSuggestion,
    StockMove,
)
from tests.factories import (
    BinFactory,
    CustomerFactory,
    PartFactory,
    SupplierFactory,
    VehicleFactory,
)
from tests.parts import helpers
from tests.parts.helpers import delivered, fresh, refusal, set_levels, take, walk

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = timezone.localdate()

# Deliveries in these tests come at 20 CNY unless a test says otherwise.
receive = partial(helpers.receive, cost="20.00")


@pytest.fixture
def supplier():
    return SupplierFactory(lead_time_days=10)


@pytest.fixture
def plug(supplier):
    return PartFactory(supplier=supplier, name="火花塞", lead_time_days=7)


def order_for(branch, by, supplier, lines, **kwargs):
    return services.purchase_order_create(
        branch=branch, supplier=supplier, kind=OrderKind.STOCK, lines=lines, by=by, **kwargs
    )


# --- purchase orders -----------------------------------------------------------------------


def test_an_order_without_lines_is_refused(branch, parts_clerk, supplier):
    error = refusal(lambda: order_for(branch, parts_clerk, supplier, []))

    assert (error.code, error.field) == ("order_has_no_lines", "lines")
    assert not PurchaseOrder.objects.exists()


def test_the_same_part_twice_on_an_order_is_refused(branch, parts_clerk, supplier, plug):
    error = refusal(
        lambda: order_for(
            branch,
            parts_clerk,
            supplier,
            [{"part": plug, "quantity": Decimal(5)}, {"part": plug, "quantity": Decimal(3)}],
        )
    )

    assert error.code == "part_listed_twice"
    assert not PurchaseOrder.objects.exists()


def test_an_old_number_and_its_successor_on_one_order_are_the_same_part_twice(
    branch, parts_clerk, supplier, plug
):
    # given an old number replaced by the plug
    old = PartFactory(supplier=supplier)
    services.part_supersede(part=old, successor=plug, by=parts_clerk)
    # when both are ordered on one order, then it is refused like any part listed twice
    error = refusal(
        lambda: order_for(
            branch,
            parts_clerk,
            supplier,
            [{"part": old, "quantity": Decimal(5)}, {"part": plug, "quantity": Decimal(3)}],
        )
    )
    assert error.code == "part_listed_twice"
    assert not PurchaseOrder.objects.exists()


def test_a_superseded_part_is_ordered_as_its_successor(branch, parts_clerk, supplier, plug):
    old = PartFactory(supplier=supplier)
    services.part_supersede(part=old, successor=plug, by=parts_clerk)

    order = order_for(branch, parts_clerk, supplier, [{"part": old, "quantity": Decimal(5)}])

    assert [line.part for line in order.lines.all()] == [plug]


def test_the_unit_cost_defaults_to_the_branchs_average_cost(
    branch, other_branch, parts_clerk, supplier, plug
):
    # given plugs at an average of 23.3333 here and 99 at the other branch
    receive(branch, plug, parts_clerk, 2, cost="20.00")
    receive(branch, plug, parts_clerk, 1, cost="30.00")
    receive(other_branch, plug, parts_clerk, 1, cost="99.00")
    new_part = PartFactory(supplier=supplier)
    # when ordered without a cost, next to a part never stocked and one with its cost given
    order = order_for(
        branch,
        parts_clerk,
        supplier,
        [
            {"part": plug, "quantity": Decimal(5)},
            {"part": new_part, "quantity": Decimal(5)},
            {"part": PartFactory(), "quantity": Decimal(1), "unit_cost": Decimal("12.50")},
        ],
    )
    # then the plug costs this branch's average in cents, the new part 0, the third as given
    costs = [line.unit_cost for line in order.lines.order_by("id")]
    assert costs == [Decimal("23.33"), Decimal("0.00"), Decimal("12.50")]
    assert fresh(order).status == PurchaseOrderStatus.DRAFT


def test_a_fraction_of_a_piece_part_is_not_ordered(branch, parts_clerk, supplier, plug):
    error = refusal(
        lambda: order_for(branch, parts_clerk, supplier, [{"part": plug, "quantity": "2.5"}])
    )

    assert error.code == "quantity_not_whole"
    assert not PurchaseOrder.objects.exists()


def test_placing_a_draft_orders_it_and_placing_again_is_refused(
    branch, parts_clerk, supplier, plug
):
    order = order_for(branch, parts_clerk, supplier, [{"part": plug, "quantity": Decimal(5)}])

    placed = services.purchase_order_place(purchase_order=order, by=parts_clerk)
    error = refusal(lambda: services.purchase_order_place(purchase_order=order, by=parts_clerk))

    assert placed.status == PurchaseOrderStatus.ORDERED
    assert placed.ordered_at is not None
    assert isinstance(error, StateConflict)
    assert error.code == "order_not_draft"
    assert fresh(order).ordered_at == placed.ordered_at


@pytest.mark.parametrize("placed", [False, True])
def test_a_draft_or_placed_order_is_cancelled_with_a_reason(
    branch, parts_clerk, supplier, plug, placed
):
    order = order_for(branch, parts_clerk, supplier, [{"part": plug, "quantity": Decimal(5)}])
    if placed:
        services.purchase_order_place(purchase_order=order, by=parts_clerk)

    services.purchase_order_cancel(purchase_order=order, by=parts_clerk, reason=" 供应商停产 ")

    order = fresh(order)
    assert (order.status, order.cancel_reason) == (PurchaseOrderStatus.CANCELLED, "供应商停产")


def test_cancelling_needs_a_reason(branch, parts_clerk, supplier, plug):
    order = order_for(branch, parts_clerk, supplier, [{"part": plug, "quantity": Decimal(5)}])

    error = refusal(
        lambda: services.purchase_order_cancel(purchase_order=order, by=parts_clerk, reason="  ")
    )

    assert (error.code, error.field) == ("reason_required", "reason")
    assert fresh(order).status == PurchaseOrderStatus.DRAFT


def test_an_order_received_against_is_not_cancelled(branch, parts_clerk, supplier, plug):
    # given an order of 10 with 4 received
    order = order_for(branch, parts_clerk, supplier, [{"part": plug, "quantity": Decimal(10)}])
    services.purchase_order_place(purchase_order=order, by=parts_clerk)
    delivered(order, parts_clerk, {plug: 4}, bin=BinFactory(branch=branch))
    # when it is cancelled
    error = refusal(
        lambda: services.purchase_order_cancel(
            purchase_order=order, by=parts_clerk, reason="不要了"
        )
    )
    # then it is refused: it can only be closed
    assert error.code == "order_not_cancellable"
    assert fresh(order).status == PurchaseOrderStatus.PARTLY_RECEIVED


def test_only_a_partly_received_order_is_closed_and_with_a_reason(
    branch, parts_clerk, supplier, plug
):
    # given a placed order of 10 nothing of which has arrived
    order = order_for(
        branch, parts_clerk, supplier, [{"part": plug, "quantity": Decimal(10)}], note="月度备货"
    )
    services.purchase_order_place(purchase_order=order, by=parts_clerk)
    error = refusal(
        lambda: services.purchase_order_close(purchase_order=order, by=parts_clerk, reason="缺货")
    )
    assert error.code == "order_not_partly_received"
    assert fresh(order).status == PurchaseOrderStatus.ORDERED
    # when 4 arrive, it is closed with a reason, not without
    delivered(order, parts_clerk, {plug: 4}, bin=BinFactory(branch=branch))
    error = refusal(
        lambda: services.purchase_order_close(purchase_order=order, by=parts_clerk, reason="")
    )
    assert error.code == "reason_required"
    assert fresh(order).status == PurchaseOrderStatus.PARTLY_RECEIVED
    services.purchase_order_close(purchase_order=order, by=parts_clerk, reason="余下停产")
    # then it is received, the reason kept in its note
    order = fresh(order)
    assert (order.status, order.note) == (PurchaseOrderStatus.RECEIVED, "月度备货 余下停产")


# --- reorder suggestions -------------------------------------------------------------------


def consume(branch, part, by, *, received, issued, sold, lost=0):
    """Stock received, then used by jobs and over the counter; lost: requests not served."""
    receive(branch, part, by, received)
    if issued:
        take(branch, part, by, issued, MoveKind.WORK_ORDER_ISSUE)
    if sold:
        take(branch, part, by, sold, MoveKind.COUNTER_SALE)
    if lost:
        services.lost_sale_record(
            branch=branch, part=part, quantity=Decimal(lost), asked_by="王师傅", by=by
        )


def suggestion_for(branch, part) -> ReorderSuggestion:
    return ReorderSuggestion.objects.get(branch=branch, part=part, computed_on=TODAY)


@pytest.mark.parametrize(("maximum", "expected"), [(40, 32), (0, 17)])
def test_the_suggested_quantity_follows_use_lead_time_and_levels(
    branch, parts_clerk, plug, maximum, expected
):
    # given over 90 days 45 plugs issued to jobs, 27 sold and 18 asked for in vain: 90, so
    # 1 a day; the supplier delivers in 10 days; 80 received leave 8; min 5, reorder point 8
    consume(branch, plug, parts_clerk, received=80, issued=45, sold=27, lost=18)
    set_levels(branch, plug, parts_clerk, 5, 8, maximum)
    # when the suggestions are computed
    opened = services.reorder_suggestions_compute(branch=branch, day=TODAY)
    # then the reorder point is max(8, 5 + 1 × 10) = 15; 8 ≤ 15 so order up to
    # max(maximum, 15 + 1 × 10 = 25): 40 − 8 = 32, or with no maximum 25 − 8 = 17
    suggestion = suggestion_for(branch, plug)
    assert opened == 1
    assert (suggestion.daily_consumption, suggestion.lead_time_days) == (Decimal("1.000"), 10)
    assert (suggestion.available, suggestion.on_order) == (8, 0)
    assert suggestion.reorder_point == 15
    assert suggestion.suggested_quantity == expected
    assert suggestion.status == SuggestionStatus.OPEN


def test_the_part_lead_time_serves_when_the_part_has_no_supplier(branch, parts_clerk):
    part = PartFactory(lead_time_days=20)
    consume(branch, part, parts_clerk, received=90, issued=90, sold=0)
    receive(branch, part, parts_clerk, 5)

    services.reorder_suggestions_compute(branch=branch, day=TODAY)

    # 1 a day × 20 days: reorder point 20, order up to 40, less the 5 there
    suggestion = suggestion_for(branch, part)
    assert (suggestion.lead_time_days, suggestion.reorder_point) == (20, 20)
    assert suggestion.suggested_quantity == 35


def test_reserved_parts_do_not_count_as_available(branch, parts_clerk, plug):
    consume(branch, plug, parts_clerk, received=80, issued=45, sold=27)
    services.stock_reserve(branch=branch, part=plug, amount=Decimal(2), by=parts_clerk)
    set_levels(branch, plug, parts_clerk, 0, 10, 30)

    services.reorder_suggestions_compute(branch=branch, day=TODAY)

    # use 72 / 90 = 0.8 a day; point max(10, 8) = 10; available 6; up to max(30, 18): 24
    suggestion = suggestion_for(branch, plug)
    assert (suggestion.available, suggestion.suggested_quantity) == (6, 24)


def test_a_part_above_its_reorder_point_gets_no_suggestion(branch, parts_clerk, plug):
    consume(branch, plug, parts_clerk, received=100, issued=45, sold=27)  # 28 left
    set_levels(branch, plug, parts_clerk, 5, 8, 40)  # point 15

    assert services.reorder_suggestions_compute(branch=branch, day=TODAY) == 0
    assert not ReorderSuggestion.objects.exists()


def test_a_part_neither_used_nor_given_levels_gets_no_suggestion(branch, parts_clerk, plug):
    services.bin_assign(branch=branch, part=plug, bin=BinFactory(branch=branch), by=parts_clerk)

    assert services.reorder_suggestions_compute(branch=branch, day=TODAY) == 0


def test_a_minimum_alone_makes_an_unused_part_ordered(branch, parts_clerk, plug):
    set_levels(branch, plug, parts_clerk, 3, 3, 6)

    services.reorder_suggestions_compute(branch=branch, day=TODAY)

    assert suggestion_for(branch, plug).suggested_quantity == 6


def test_parts_on_order_count_toward_the_stock(branch, parts_clerk, supplier, plug):
    # given the worked example (8 available, point 15, up to 40), with 2 already on order
    # on a draft and 10 ordered of which 6 arrived (4 still to come)
    consume(branch, plug, parts_clerk, received=80, issued=45, sold=27, lost=18)
    set_levels(branch, plug, parts_clerk, 5, 8, 40)
    order_for(branch, parts_clerk, supplier, [{"part": plug, "quantity": Decimal(2)}])
    partly = order_for(branch, parts_clerk, supplier, [{"part": plug, "quantity": Decimal(10)}])
    services.purchase_order_place(purchase_order=partly, by=parts_clerk)
    partly.lines.update(received_quantity=6)
    PurchaseOrder.objects.filter(pk=partly.pk).update(status=PurchaseOrderStatus.PARTLY_RECEIVED)
    cancelled = order_for(branch, parts_clerk, supplier, [{"part": plug, "quantity": Decimal(50)}])
    services.purchase_order_cancel(purchase_order=cancelled, by=parts_clerk, reason="重复")
    # when computed, then 6 are on order: 8 + 6 ≤ 15, and 40 − (8 + 6) = 26; the cancelled
    # order is ignored
    services.reorder_suggestions_compute(branch=branch, day=TODAY)
    suggestion = suggestion_for(branch, plug)
    assert (suggestion.on_order, suggestion.suggested_quantity) == (6, 26)


def test_enough_on_order_means_no_suggestion(branch, parts_clerk, supplier, plug):
    consume(branch, plug, parts_clerk, received=80, issued=45, sold=27, lost=18)
    set_levels(branch, plug, parts_clerk, 5, 8, 40)
    order_for(branch, parts_clerk, supplier, [{"part": plug, "quantity": Decimal(8)}])

    assert services.reorder_suggestions_compute(branch=branch, day=TODAY) == 0


def test_use_older_than_ninety_days_is_not_counted(branch, parts_clerk, plug):
    # given 90 plugs issued 91 days ago and 9 issued today
    consume(branch, plug, parts_clerk, received=100, issued=90, sold=0)
    StockMove.objects.filter(part=plug, kind=MoveKind.WORK_ORDER_ISSUE).update(
        at=timezone.now() - timedelta(days=91)
    )
    take(branch, plug, parts_clerk, 9)
    set_levels(branch, plug, parts_clerk, 1, 1, 0)

    services.reorder_suggestions_compute(branch=branch, day=TODAY)

    # then only the 9 count: 0.1 a day
    assert suggestion_for(branch, plug).daily_consumption == Decimal("0.100")


def test_other_moves_are_not_use(branch, parts_clerk, plug, supplier):
    # given 10 returned to the supplier and 10 transferred out: neither is consumption
    consume(branch, plug, parts_clerk, received=25, issued=0, sold=0)
    take(branch, plug, parts_clerk, 10, MoveKind.RETURN_TO_SUPPLIER)
    take(branch, plug, parts_clerk, 10, MoveKind.TRANSFER_OUT)

    assert services.reorder_suggestions_compute(branch=branch, day=TODAY) == 0


def test_a_piece_part_is_suggested_in_whole_pieces_and_oil_in_litres(branch, parts_clerk):
    # given 10 plugs used in 90 days (0.111 a day), lead time 10, min 2, 1 left
    plug, oil = PartFactory(lead_time_days=10), PartFactory(lead_time_days=10, unit=Unit.LITRE)
    consume(branch, plug, parts_clerk, received=11, issued=10, sold=0)
    consume(branch, oil, parts_clerk, received=11, issued=10, sold=0)
    set_levels(branch, plug, parts_clerk, 2, 2, 0)
    set_levels(branch, oil, parts_clerk, 2, 2, 0)

    services.reorder_suggestions_compute(branch=branch, day=TODAY)

    # point 2 + 1.11 = 3.11; up to 3.11 + 1.11 = 4.22, less 1 = 3.22: 4 plugs, 3.22 litres
    plug_suggestion, oil_suggestion = suggestion_for(branch, plug), suggestion_for(branch, oil)
    assert (plug_suggestion.reorder_point, plug_suggestion.suggested_quantity) == (4, 4)
    assert (oil_suggestion.reorder_point, oil_suggestion.suggested_quantity) == (
        Decimal("3.110"),
        Decimal("3.220"),
    )


def test_a_superseded_number_gets_no_suggestion(branch, parts_clerk, plug):
    old = PartFactory()
    consume(branch, old, parts_clerk, received=80, issued=45, sold=27, lost=18)
    set_levels(branch, old, parts_clerk, 5, 8, 40)
    services.part_supersede(part=old, successor=plug, by=parts_clerk)

    services.reorder_suggestions_compute(branch=branch, day=TODAY)

    assert not ReorderSuggestion.objects.filter(part=old).exists()


def test_suggestions_are_per_branch(branch, other_branch, parts_clerk, plug):
    consume(branch, plug, parts_clerk, received=80, issued=45, sold=27, lost=18)
    set_levels(branch, plug, parts_clerk, 5, 8, 40)
    receive(other_branch, plug, parts_clerk, 50)

    assert services.reorder_suggestions_compute(branch=other_branch, day=TODAY) == 0
    assert services.reorder_suggestions_compute(branch=branch, day=TODAY) == 1
    assert not ReorderSuggestion.objects.filter(branch=other_branch).exists()


def test_rerunning_the_day_replaces_open_suggestions_and_keeps_decided_ones(
    branch, parts_clerk, supplier
):
    # given three parts due for ordering, computed once
    open_part, ordered_part, dismissed_part = (PartFactory(supplier=supplier) for _ in range(3))
    for part in (open_part, ordered_part, dismissed_part):
        set_levels(branch, part, parts_clerk, 5, 5, 10)
    assert services.reorder_suggestions_compute(branch=branch, day=TODAY) == 3
    # and one of them ordered, one dismissed, and the open one needing more since
    services.purchase_orders_from_suggestions(
        suggestions=[suggestion_for(branch, ordered_part)], by=parts_clerk
    )
    services.reorder_suggestion_dismiss(
        suggestion=suggestion_for(branch, dismissed_part), by=parts_clerk
    )
    set_levels(branch, open_part, parts_clerk, 5, 5, 12)
    # when the day is computed again
    opened = services.reorder_suggestions_compute(branch=branch, day=TODAY)
    # then the open one is replaced by the new figure, the others kept, nothing doubled
    assert opened == 1
    assert ReorderSuggestion.objects.filter(branch=branch).count() == 3
    assert suggestion_for(branch, open_part).suggested_quantity == 12
    assert suggestion_for(branch, ordered_part).status == SuggestionStatus.ORDERED
    assert suggestion_for(branch, dismissed_part).status == SuggestionStatus.DISMISSED


def test_an_open_suggestion_no_longer_due_disappears_on_rerun(branch, parts_clerk, plug):
    set_levels(branch, plug, parts_clerk, 5, 5, 10)
    services.reorder_suggestions_compute(branch=branch, day=TODAY)
    receive(branch, plug, parts_clerk, 10)

    assert services.reorder_suggestions_compute(branch=branch, day=TODAY) == 0
    assert not ReorderSuggestion.objects.exists()


def test_suggestions_become_one_draft_order_per_supplier(branch, parts_clerk, supplier):
    # given suggestions for two parts of one supplier and one of another
    other_supplier = SupplierFactory()
    plug, oil_filter = PartFactory(supplier=supplier), PartFactory(supplier=supplier)
    wiper = PartFactory(supplier=other_supplier)
    for part in (plug, oil_filter, wiper):
        set_levels(branch, part, parts_clerk, 4, 4, 10)
    services.reorder_suggestions_compute(branch=branch, day=TODAY)
    chosen = list(ReorderSuggestion.objects.filter(branch=branch))
    # when they are turned into orders
    orders = services.purchase_orders_from_suggestions(suggestions=chosen, by=parts_clerk)
    # then two draft stock orders, each with its supplier's parts, and the suggestions ordered
    assert len(orders) == 2
    by_supplier = {order.supplier: order for order in orders}
    assert set(by_supplier) == {supplier, other_supplier}
    assert {line.part for line in by_supplier[supplier].lines.all()} == {plug, oil_filter}
    assert [(line.part, line.quantity) for line in by_supplier[other_supplier].lines.all()] == [
        (wiper, 10)
    ]
    assert all(
        (order.status, order.kind, order.branch)
        == (PurchaseOrderStatus.DRAFT, OrderKind.STOCK, branch)
        for order in orders
    )
    for suggestion in chosen:
        suggestion = fresh(suggestion)
        assert suggestion.status == SuggestionStatus.ORDERED
        assert suggestion.purchase_order == by_supplier[suggestion.part.supplier]


def test_a_suggestion_for_a_part_without_a_supplier_is_refused_and_nothing_is_ordered(
    branch, parts_clerk, plug
):
    orphan = PartFactory(supplier=None)
    for part in (plug, orphan):
        set_levels(branch, part, parts_clerk, 4, 4, 10)
    services.reorder_suggestions_compute(branch=branch, day=TODAY)

    error = refusal(
        lambda: services.purchase_orders_from_suggestions(
            suggestions=list(ReorderSuggestion.objects.all()), by=parts_clerk
        )
    )

    assert error.code == "part_has_no_supplier"
    assert orphan.number in str(error.message)
    assert not PurchaseOrder.objects.exists()
    assert set(ReorderSuggestion.objects.values_list("status", flat=True)) == {
        SuggestionStatus.OPEN
    }


def test_a_suggestion_already_ordered_is_not_ordered_again(branch, parts_clerk, plug):
    set_levels(branch, plug, parts_clerk, 4, 4, 10)
    services.reorder_suggestions_compute(branch=branch, day=TODAY)
    suggestion = suggestion_for(branch, plug)
    services.purchase_orders_from_suggestions(suggestions=[suggestion], by=parts_clerk)

    error = refusal(
        lambda: services.purchase_orders_from_suggestions(suggestions=[suggestion], by=parts_clerk)
    )

    assert error.code == "suggestion_not_open"
    assert PurchaseOrder.objects.count() == 1


def test_ordering_no_suggestions_is_refused(parts_clerk):
    error = refusal(
        lambda: services.purchase_orders_from_suggestions(suggestions=[], by=parts_clerk)
    )

    assert error.code == "no_suggestions"


def test_cancelling_the_order_reopens_its_suggestions(branch, parts_clerk, plug):
    set_levels(branch, plug, parts_clerk, 4, 4, 10)
    services.reorder_suggestions_compute(branch=branch, day=TODAY)
    (order,) = services.purchase_orders_from_suggestions(
        suggestions=[suggestion_for(branch, plug)], by=parts_clerk
    )

    services.purchase_order_cancel(purchase_order=order, by=parts_clerk, reason="改单")

    suggestion = suggestion_for(branch, plug)
    assert (suggestion.status, suggestion.purchase_order) == (SuggestionStatus.OPEN, None)


def test_a_suggestion_is_dismissed_once(branch, parts_clerk, plug):
    set_levels(branch, plug, parts_clerk, 4, 4, 10)
    services.reorder_suggestions_compute(branch=branch, day=TODAY)
    suggestion = suggestion_for(branch, plug)

    services.reorder_suggestion_dismiss(suggestion=suggestion, by=parts_clerk)
    error = refusal(
        lambda: services.reorder_suggestion_dismiss(suggestion=suggestion, by=parts_clerk)
    )

    assert fresh(suggestion).status == SuggestionStatus.DISMISSED
    assert error.code == "suggestion_not_open"


# --- emergency orders for a customer (即购即销) ---------------------------------------------


@pytest.fixture
def customer(branch):
    return CustomerFactory(branch=branch)


def request(branch, advisor, customer, part, quantity=2, **kwargs):
    return services.emergency_order_request(
        branch=branch,
        customer=customer,
        part=part,
        quantity=Decimal(quantity),
        by=advisor,
        **kwargs,
    )


def quote(order, by, supplier, cost="300.00", price="450.00", promised_on=None):
    return services.emergency_order_quote(
        emergency_order=order,
        supplier=supplier,
        quoted_unit_cost=Decimal(cost),
        unit_price=Decimal(price),
        promised_on=promised_on or TODAY + timedelta(days=3),
        by=by,
    )


def ordered(branch, advisor, parts_clerk, customer, supplier, part, quantity=2):
    order = request(branch, advisor, customer, part, quantity)
    quote(order, parts_clerk, supplier)
    services.emergency_order_deposit(emergency_order=order, amount=Decimal("200.00"), by=advisor)
    return services.emergency_order_place(emergency_order=order, by=parts_clerk)


def test_an_emergency_request_records_a_lost_sale(branch, advisor, customer, plug):
    vehicle = VehicleFactory(owner=customer)

    order = request(branch, advisor, customer, plug, 2, vehicle=vehicle)

    assert (order.status, order.advisor, order.vehicle) == (
        EmergencyStatus.REQUESTED,
        advisor,
        vehicle,
    )
    lost = LostSale.objects.get()
    assert (lost.part, lost.quantity, lost.reason) == (plug, 2, LostSaleReason.EMERGENCY_ORDER)
    assert (lost.asked_by, lost.note) == (customer.name, order.number)


def test_an_emergency_request_for_an_old_number_asks_for_the_new_one(
    branch, advisor, parts_clerk, customer, plug
):
    old = PartFactory()
    services.part_supersede(part=old, successor=plug, by=parts_clerk)

    assert request(branch, advisor, customer, old).part == plug


def test_an_emergency_request_for_another_branchs_customer_is_refused(
    branch, other_branch, advisor, plug
):
    stranger = CustomerFactory(branch=other_branch)

    error = refusal(lambda: request(branch, advisor, stranger, plug))

    assert error.code == "customer_other_branch"
    assert not EmergencyOrder.objects.exists() and not LostSale.objects.exists()


def test_an_emergency_request_for_someone_elses_vehicle_is_refused(branch, advisor, customer, plug):
    vehicle = VehicleFactory(owner=CustomerFactory(branch=branch))

    error = refusal(lambda: request(branch, advisor, customer, plug, vehicle=vehicle))

    assert error.code == "vehicle_not_customers"
    assert not EmergencyOrder.objects.exists()


def test_a_quote_with_a_promised_date_in_the_past_is_refused(
    branch, advisor, parts_clerk, customer, supplier, plug
):
    order = request(branch, advisor, customer, plug)

    error = refusal(
        lambda: quote(order, parts_clerk, supplier, promised_on=TODAY - timedelta(days=1))
    )

    assert (error.code, error.field) == ("date_in_past", "promised_on")
    order = fresh(order)
    assert (order.status, order.supplier, order.unit_price) == (
        EmergencyStatus.REQUESTED,
        None,
        None,
    )


def test_a_quote_records_supplier_cost_price_and_date(
    branch, advisor, parts_clerk, customer, supplier, plug
):
    order = quote(request(branch, advisor, customer, plug), parts_clerk, supplier)

    order = fresh(order)
    assert order.status == EmergencyStatus.QUOTED
    assert (order.supplier, order.quoted_unit_cost, order.unit_price) == (
        supplier,
        Decimal("300.00"),
        Decimal("450.00"),
    )
    assert order.promised_on == TODAY + timedelta(days=3)


@pytest.mark.parametrize("amount", ["0", "-10.00", "900.01"])
def test_a_deposit_of_nothing_or_above_the_price_is_refused(
    branch, advisor, parts_clerk, customer, supplier, plug, amount
):
    # given 2 quoted at 450 each: 900 in all
    order = quote(request(branch, advisor, customer, plug, 2), parts_clerk, supplier)

    error = refusal(
        lambda: services.emergency_order_deposit(
            emergency_order=order, amount=Decimal(amount), by=advisor
        )
    )

    assert (error.code, error.field) == ("deposit_out_of_range", "amount")
    order = fresh(order)
    assert (order.status, order.deposit) == (EmergencyStatus.QUOTED, 0)


def test_a_deposit_up_to_the_whole_price_is_taken(
    branch, advisor, parts_clerk, customer, supplier, plug
):
    order = quote(request(branch, advisor, customer, plug, 2), parts_clerk, supplier)

    services.emergency_order_deposit(emergency_order=order, amount=Decimal("900.00"), by=advisor)

    order = fresh(order)
    assert (order.status, order.deposit) == (EmergencyStatus.DEPOSIT_PAID, Decimal("900.00"))
    assert order.deposit_received_at is not None


def test_a_deposit_before_the_quote_is_refused(branch, advisor, customer, plug):
    order = request(branch, advisor, customer, plug)

    error = refusal(
        lambda: services.emergency_order_deposit(
            emergency_order=order, amount=Decimal("100.00"), by=advisor
        )
    )

    assert error.code == "emergency_order_wrong_status"


def test_an_emergency_order_is_placed_only_after_the_deposit(
    branch, advisor, parts_clerk, customer, supplier, plug
):
    order = quote(request(branch, advisor, customer, plug, 2), parts_clerk, supplier)

    error = refusal(lambda: services.emergency_order_place(emergency_order=order, by=parts_clerk))

    assert error.code == "emergency_order_wrong_status"
    assert not PurchaseOrder.objects.exists()
    assert fresh(order).status == EmergencyStatus.QUOTED


def test_placing_an_emergency_order_places_an_emergency_purchase_order_at_the_quoted_cost(
    branch, advisor, parts_clerk, customer, supplier, plug
):
    order = ordered(branch, advisor, parts_clerk, customer, supplier, plug, 2)

    purchase = fresh(order).purchase_order
    assert fresh(order).status == EmergencyStatus.ORDERED
    assert (purchase.kind, purchase.status, purchase.supplier, purchase.branch) == (
        OrderKind.EMERGENCY,
        PurchaseOrderStatus.ORDERED,
        supplier,
        branch,
    )
    assert purchase.expected_on == TODAY + timedelta(days=3)
    assert [(line.part, line.quantity, line.unit_cost) for line in purchase.lines.all()] == [
        (plug, 2, Decimal("300.00"))
    ]


def test_the_part_arrives_when_its_order_is_fully_registered_and_the_advisor_is_told_once(
    branch, advisor, parts_clerk, customer, supplier, plug
):
    # given an emergency order of 2 placed
    order = ordered(branch, advisor, parts_clerk, customer, supplier, plug, 2)
    purchase = fresh(order).purchase_order
    place = BinFactory(branch=branch)
    # when 1 arrives, then nothing is held yet and nobody is told
    delivered(purchase, parts_clerk, {plug: 1}, bin=place)
    assert fresh(order).status == EmergencyStatus.ORDERED
    assert not Notification.objects.exists()
    # when the second arrives
    delivered(purchase, parts_clerk)
    # then the order has arrived, both are held for the customer, and the advisor is told once
    order = fresh(order)
    assert order.status == EmergencyStatus.ARRIVED and order.arrived_at is not None
    held = PartStock.objects.get(branch=branch, part=plug)
    assert (held.on_hand, held.reserved) == (2, 2)
    notice = Notification.objects.get()
    assert (notice.recipient, notice.branch) == (advisor, branch)
    assert customer.name in notice.title
    assert notice.url == order.get_absolute_url()


def test_the_arrived_part_is_handed_over_on_a_counter_sale_voucher_at_the_quoted_price(
    branch, advisor, parts_clerk, customer, supplier, plug
):
    # given an emergency order of 2 arrived
    order = ordered(branch, advisor, parts_clerk, customer, supplier, plug, 2)
    delivered(fresh(order).purchase_order, parts_clerk, bin=BinFactory(branch=branch))
    # when it is handed over
    services.emergency_order_hand_over(emergency_order=order, by=advisor)
    # then a counter-sale voucher to the customer at 450 holds the 2, still reserved once
    order = fresh(order)
    issue = order.issue
    assert order.status == EmergencyStatus.HANDED_OVER
    assert (issue.kind, issue.customer, issue.status) == (
        IssueKind.COUNTER_SALE,
        customer,
        IssueStatus.REQUESTED,
    )
    assert [(line.part, line.quantity, line.unit_price) for line in issue.lines.all()] == [
        (plug, 2, Decimal("450.00"))
    ]
    assert PartStock.objects.get(branch=branch, part=plug).reserved == 2
    # and going through the counter posts the sale
    walk(issue, parts_clerk)
    held = PartStock.objects.get(branch=branch, part=plug)
    assert (held.on_hand, held.reserved) == (0, 0)
    assert StockMove.objects.filter(kind=MoveKind.COUNTER_SALE, quantity=-2).exists()


def test_an_emergency_order_is_handed_over_only_once_arrived(
    branch, advisor, parts_clerk, customer, supplier, plug
):
    order = ordered(branch, advisor, parts_clerk, customer, supplier, plug)

    error = refusal(lambda: services.emergency_order_hand_over(emergency_order=order, by=advisor))

    assert error.code == "emergency_order_wrong_status"
    assert fresh(order).issue is None


def test_cancelling_an_emergency_order_cancels_its_purchase_order(
    branch, advisor, parts_clerk, customer, supplier, plug
):
    order = ordered(branch, advisor, parts_clerk, customer, supplier, plug)

    services.emergency_order_cancel(emergency_order=order, by=advisor, reason="客户不修了")

    order = fresh(order)
    assert (order.status, order.cancel_reason) == (EmergencyStatus.CANCELLED, "客户不修了")
    purchase = order.purchase_order
    assert (purchase.status, purchase.cancel_reason) == (
        PurchaseOrderStatus.CANCELLED,
        "客户不修了",
    )


def test_cancelling_an_emergency_order_needs_a_reason(branch, advisor, customer, plug):
    order = request(branch, advisor, customer, plug)

    error = refusal(
        lambda: services.emergency_order_cancel(emergency_order=order, by=advisor, reason=" ")
    )

    assert error.code == "reason_required"
    assert fresh(order).status == EmergencyStatus.REQUESTED


def test_an_arrived_emergency_order_is_not_cancelled(
    branch, advisor, parts_clerk, customer, supplier, plug
):
    order = ordered(branch, advisor, parts_clerk, customer, supplier, plug)
    delivered(fresh(order).purchase_order, parts_clerk, bin=BinFactory(branch=branch))

    error = refusal(
        lambda: services.emergency_order_cancel(emergency_order=order, by=advisor, reason="不要了")
    )

    assert error.code == "emergency_order_wrong_status"
    assert fresh(order).status == EmergencyStatus.ARRIVED


def test_an_emergency_order_whose_purchase_order_was_cancelled_can_still_be_cancelled(
    branch, advisor, parts_clerk, customer, supplier, plug
):
    # given an emergency order placed, and its purchase order cancelled from the order list
    order = ordered(branch, advisor, parts_clerk, customer, supplier, plug)
    services.purchase_order_cancel(
        purchase_order=fresh(order).purchase_order, by=parts_clerk, reason="供应商无货"
    )
    # when the emergency order itself is cancelled, then it is
    services.emergency_order_cancel(emergency_order=order, by=advisor, reason="供应商无货")
    assert fresh(order).status == EmergencyStatus.CANCELLED


def test_a_part_replaced_after_the_request_arrives_under_the_number_ordered(
    branch, advisor, parts_clerk, customer, supplier, plug
):
    # given a request for the plug, which is replaced by a new number before it is ordered
    order = request(branch, advisor, customer, plug, 2)
    newer = PartFactory(supplier=supplier)
    services.part_supersede(part=plug, successor=newer, by=parts_clerk)
    quote(order, parts_clerk, supplier)
    services.emergency_order_deposit(emergency_order=order, amount=Decimal("200.00"), by=advisor)
    order = services.emergency_order_place(emergency_order=order, by=parts_clerk)
    # when the new number arrives in full
    delivered(order.purchase_order, parts_clerk, bin=BinFactory(branch=branch))
    # then the order has arrived and the new number is held for the customer
    order = fresh(order)
    assert (order.status, order.part) == (EmergencyStatus.ARRIVED, newer)
    assert PartStock.objects.get(branch=branch, part=newer).reserved == 2


def test_parts_returned_unused_are_not_counted_as_use(branch, parts_clerk, plug):
    # given 18 plugs issued to a job, 9 of which came back unused
    receive(branch, plug, parts_clerk, 30)
    issue = services.part_issue_create(
        branch=branch,
        kind=IssueKind.WORK_ORDER,
        lines=[{"part": plug, "quantity": Decimal(18)}],
        work_order_reference="WO-1",
        by=parts_clerk,
    )
    walk(issue, parts_clerk)
    services.part_return_to_stock(
        line=issue.lines.get(), amount=Decimal(9), by=parts_clerk, reason="换下未用"
    )
    set_levels(branch, plug, parts_clerk, 30, 30, 0)
    # when the suggestions are computed
    services.reorder_suggestions_compute(branch=branch, day=TODAY)
    # then only the 9 used count: 0.1 a day
    assert suggestion_for(branch, plug).daily_consumption == Decimal("0.100")


def test_a_past_day_counts_no_use_after_it(branch, parts_clerk, plug):
    # given 9 plugs used 10 days ago and 90 more used today
    receive(branch, plug, parts_clerk, 100)
    take(branch, plug, parts_clerk, 9)
    StockMove.objects.filter(part=plug, kind=MoveKind.WORK_ORDER_ISSUE).update(
        at=timezone.now() - timedelta(days=10)
    )
    take(branch, plug, parts_clerk, 90)
    set_levels(branch, plug, parts_clerk, 5, 5, 0)
    # when the suggestions of 5 days ago are computed again
    day = TODAY - timedelta(days=5)
    services.reorder_suggestions_compute(branch=branch, day=day)
    # then only the 9 used before that day count
    suggestion = ReorderSuggestion.objects.get(branch=branch, part=plug, computed_on=day)
    assert suggestion.daily_consumption == Decimal("0.100")
