"""Fleet deals: created with the models asked for, moved along and closed with a reason; their
batches priced into signed sales orders for the account's customer record, never beyond what
each model was asked for; deliveries in sales counted toward their batch; support settled
within what the delivered units earned, and the settlement statement reconciling the deal."""

from decimal import Decimal

import pytest
from django.utils import timezone

from customers.choices import CustomerKind
from customers.models import Customer, TimelineEntry
from customers.services import customer_create
from dealer_crm.choices import Role
from dealer_crm.errors import StateConflict
from fleet import selectors, services
from fleet.choices import DealStage
from fleet.models import DealLine, FleetDeal
from sales import services as sales_services
from sales import timeline as sales_timeline
from sales.choices import DeliveryCheck, DeliveryDocument, OrderStatus
from sales.models import Order
from tests.factories import OrderFactory, UserFactory
from tests.fleet.helpers import (
    TIER_1,
    TIER_2,
    agreement_with_tiers,
    counts,
    deal_for,
    delivered,
    fresh,
    handed_over,
    invoiced,
    priced,
    refusal,
    state,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

D = DealStage


def create(account, by, lines, title="公务用车采购"):
    return services.deal_create(account=account, by=by, data={"title": title}, lines=lines)


# --- deals -------------------------------------------------------------------------------------


def test_a_deal_is_the_accounts_branchs_with_its_lines(account, fleet_manager):
    # given a registered account
    # when a deal for two models is created
    deal = create(account, fleet_manager, [
        {"brand": "大众", "series": "帕萨特", "configuration": "330TSI 精英版", "colour": "黑",
         "quantity": 12},
        {"brand": "大众", "series": "途观L", "quantity": 3},
    ])  # fmt: skip
    # then it is a prospect of the account's branch with both lines
    row = fresh(deal)
    assert (row.branch, row.account, row.stage, row.created_by) == (
        account.branch, account, D.PROSPECT, fleet_manager,
    )  # fmt: skip
    assert list(row.lines.values_list("brand", "series", "quantity")) == [
        ("大众", "帕萨特", 12), ("大众", "途观L", 3),
    ]  # fmt: skip


def test_a_deal_without_lines_is_refused(account, fleet_manager):
    before = counts(FleetDeal, DealLine)
    # when a deal asking for no model is created
    error = refusal(lambda: create(account, fleet_manager, []))
    # then it is refused and nothing is created
    assert (error.code, error.field) == ("deal_has_no_lines", "lines")
    assert counts(FleetDeal, DealLine) == before


@pytest.mark.parametrize("quantity", [0, -2, None])
def test_a_deal_with_a_line_of_no_units_is_refused_whole(account, fleet_manager, quantity):
    before = counts(FleetDeal, DealLine)
    # when a deal's second line asks for no units
    error = refusal(lambda: create(account, fleet_manager, [
        {"brand": "大众", "series": "帕萨特", "quantity": 5},
        {"brand": "大众", "series": "途观L", "quantity": quantity},
    ]))  # fmt: skip
    # then it is refused: neither the deal nor its first line is kept
    assert (error.code, error.field) == ("quantity_not_positive", "lines")
    assert counts(FleetDeal, DealLine) == before


def test_a_deal_moves_along_its_open_stages(account, fleet_manager):
    deal = deal_for(account, fleet_manager)
    # when it moves to the tender and on to negotiation
    services.deal_set_stage(deal=deal, stage=D.TENDER, by=fleet_manager)
    services.deal_set_stage(deal=deal, stage=D.NEGOTIATION, by=fleet_manager)
    # then it is in negotiation and still open
    row = fresh(deal)
    assert (row.stage, row.closed_at, row.closing_reason) == (D.NEGOTIATION, None, "")


@pytest.mark.parametrize("stage", [D.WON, D.LOST])
@pytest.mark.parametrize("reason", ["", "   "])
def test_winning_or_losing_a_deal_needs_a_reason(account, fleet_manager, stage, reason):
    deal = deal_for(account, fleet_manager)
    before = state(deal)
    # when it is won or lost without saying why
    error = refusal(
        lambda: services.deal_set_stage(deal=deal, stage=stage, by=fleet_manager, reason=reason)
    )
    # then it is refused and the deal stays open
    assert (error.code, error.field) == ("reason_required", "reason")
    assert state(deal) == before


@pytest.mark.parametrize("stage", [D.WON, D.LOST])
def test_a_deal_won_or_lost_is_closed_with_its_reason(account, fleet_manager, stage):
    deal = deal_for(account, fleet_manager)
    # when it is closed with a reason
    services.deal_set_stage(deal=deal, stage=stage, by=fleet_manager, reason="  价格与交期  ")
    # then it is closed, the reason kept
    row = fresh(deal)
    assert (row.stage, row.closing_reason) == (stage, "价格与交期")
    assert row.closed_at is not None


@pytest.mark.parametrize("closed", [D.WON, D.LOST])
@pytest.mark.parametrize("stage", list(D))
def test_a_closed_deal_stays_closed(account, fleet_manager, closed, stage):
    # given a won or lost deal
    deal = deal_for(account, fleet_manager)
    services.deal_set_stage(deal=deal, stage=closed, by=fleet_manager, reason="招标结果")
    before = state(deal)
    # when it is moved anywhere
    error = refusal(
        lambda: services.deal_set_stage(deal=deal, stage=stage, by=fleet_manager, reason="重开")
    )
    # then it is refused and nothing changed
    assert error.code == "deal_closed"
    assert state(deal) == before


# --- batches become sales orders ------------------------------------------------------------


def sales_orders_of(order) -> list[Order]:
    return list(Order.objects.filter(fleet_order=order).order_by("pk"))


def test_a_batch_becomes_one_signed_sales_order_per_vehicle(branch, account, fleet_manager):
    # given a deal for 12 black Passats of the account, which the fleet manager manages, and a
    # colleague who prices the batch
    deal = create(account, fleet_manager, [
        {"brand": "大众", "series": "帕萨特", "configuration": "330TSI 精英版", "colour": "黑",
         "quantity": 12},
    ])  # fmt: skip
    colleague = UserFactory(roles=[Role.FLEET_MANAGER], branches=[branch])
    # when a batch of 3 is priced at 185,000 CNY a vehicle
    order = priced(deal, agreement_with_tiers(account, fleet_manager), colleague, 3,
                   unit_price=Decimal("185000.00"))  # fmt: skip
    # then the batch is of the line, at that price
    row = fresh(order)
    assert (row.line, row.unit_price) == (deal.lines.get(), Decimal("185000.00"))
    # and the account now has its organization's customer record, under its credit code
    customer = fresh(account).customer
    assert (customer.kind, customer.credit_code, customer.name, customer.branch) == (
        CustomerKind.ORGANIZATION, account.credit_code, account.name, branch,
    )  # fmt: skip
    # and the batch is 3 signed sales orders of the deal's branch for that customer, sold by
    # the account manager at the batch's price, each of the line's model
    orders = sales_orders_of(order)
    assert [
        (o.status, o.branch, o.customer, o.consultant, o.total_price, o.fleet_order) for o in orders
    ] == [(OrderStatus.SIGNED, deal.branch, customer, fleet_manager, Decimal("185000.00"), row)] * 3
    assert {(o.brand, o.series, o.configuration, o.colour) for o in orders} == {
        ("大众", "帕萨特", "330TSI 精英版", "黑")
    }
    assert all(o.signed_at is not None for o in orders)
    # and the customer's timeline tells of the signing once
    signed = TimelineEntry.objects.filter(customer=customer, kind=sales_timeline.ORDER_SIGNED)
    assert signed.count() == 1


def test_the_second_batch_is_bought_by_the_same_customer_record(account, fleet_manager):
    # given a first batch of 2
    deal = deal_for(account, fleet_manager)
    agreement = agreement_with_tiers(account, fleet_manager)
    first = priced(deal, agreement, fleet_manager, 2)
    customer = fresh(account).customer
    customers_before = Customer.objects.count()
    # when a second batch of 3 is priced
    second = priced(deal, agreement, fleet_manager, 3)
    # then its orders are the same customer's, and no other customer record was made
    assert {o.customer for o in sales_orders_of(second)} == {customer}
    assert {o.customer for o in sales_orders_of(first)} == {customer}
    assert Customer.objects.count() == customers_before
    assert fresh(account).customer == customer
    # and each batch told the customer's timeline once
    signed = TimelineEntry.objects.filter(customer=customer, kind=sales_timeline.ORDER_SIGNED)
    assert signed.count() == 2


def test_a_customer_already_recorded_under_the_credit_code_buys_the_batch(
    branch, account, fleet_manager
):
    # given the company is already a customer of the branch, under its credit code
    known = customer_create(
        branch=branch, by=fleet_manager,
        data={"kind": CustomerKind.ORGANIZATION, "name": "畅行租赁",
              "credit_code": account.credit_code},
    )  # fmt: skip
    customers_before = Customer.objects.count()
    # when the account's first batch is priced
    order = priced(deal_for(account, fleet_manager), agreement_with_tiers(account, fleet_manager),
                   fleet_manager, 2)  # fmt: skip
    # then that customer buys it and becomes the account's record; no other is made
    assert {o.customer for o in sales_orders_of(order)} == {known}
    assert fresh(account).customer == known
    assert Customer.objects.count() == customers_before


@pytest.mark.parametrize("unit_price", [Decimal("0"), Decimal("-1.00")])
def test_a_batch_without_a_price_per_vehicle_is_refused(account, fleet_manager, unit_price):
    deal = deal_for(account, fleet_manager)
    agreement = agreement_with_tiers(account, fleet_manager)
    before = counts()
    # when a batch is priced at no price per vehicle
    error = refusal(lambda: priced(deal, agreement, fleet_manager, 5, unit_price=unit_price))
    # then it is refused beside the price: no batch, no sales order, no customer record
    assert (error.code, error.field) == ("price_not_positive", "unit_price")
    assert counts() == before


def test_a_batch_of_another_deals_model_is_refused(account, fleet_manager):
    # given two deals of the account
    deal, other = deal_for(account, fleet_manager), deal_for(account, fleet_manager, title="公务")
    agreement = agreement_with_tiers(account, fleet_manager)
    before = counts()
    # when a batch of the first deal is priced on the other deal's line
    error = refusal(lambda: priced(deal, agreement, fleet_manager, 5, line=other.lines.get()))
    # then it is refused beside the line, and nothing is made
    assert (error.code, error.field) == ("line_other_deal", "line")
    assert counts() == before


def test_batches_of_a_model_may_not_exceed_the_units_asked_for(account, fleet_manager):
    # given a line of 30 with a batch of 20 priced
    deal = deal_for(account, fleet_manager, quantity=30)
    agreement = agreement_with_tiers(account, fleet_manager)
    priced(deal, agreement, fleet_manager, 20)
    before = counts()
    # when a batch of 11 is priced
    error = refusal(lambda: priced(deal, agreement, fleet_manager, 11))
    # then it is refused beside the quantity, saying 10 are left, and nothing is made
    assert (error.code, error.field) == ("batch_exceeds_line", "quantity")
    assert "10 of the 30" in str(error.message)
    assert counts() == before
    assert Order.objects.count() == 20
    # while the 10 left are priced
    assert priced(deal, agreement, fleet_manager, 10).quantity == 10
    assert Order.objects.count() == 30


def test_a_cancelled_vehicle_frees_its_place_on_the_line(account, fleet_manager):
    # given a line of 30 priced in full, one of whose sales orders is cancelled
    deal = deal_for(account, fleet_manager, quantity=30)
    agreement = agreement_with_tiers(account, fleet_manager)
    first = priced(deal, agreement, fleet_manager, 30)
    sales_services.order_cancel(
        order=sales_orders_of(first)[0], by=fleet_manager, reason="客户减少一台"
    )
    # when one more vehicle is priced, then it is accepted; a second is refused
    assert priced(deal, agreement, fleet_manager, 1).quantity == 1
    assert refusal(lambda: priced(deal, agreement, fleet_manager, 1)).code == "batch_exceeds_line"


# --- deliveries in sales count toward the batch ------------------------------------------------


def test_a_batch_is_delivered_in_parts_up_to_its_quantity(account, fleet_manager):
    # given a priced batch of 8
    order = priced(deal_for(account, fleet_manager), agreement_with_tiers(account, fleet_manager),
                   fleet_manager, 8)  # fmt: skip
    # when 5 and then 3 of its sales orders are delivered
    delivered(order, fleet_manager, 5)
    delivered(order, fleet_manager, 3)
    # then all 8 are delivered, on the last delivery's time, the tier unchanged
    row = fresh(order)
    assert (row.delivered_units, row.support_per_unit) == (8, TIER_1)
    assert row.delivered_at == max(o.delivered_at for o in sales_orders_of(order))
    assert {o.status for o in sales_orders_of(order)} == {OrderStatus.DELIVERED}


def test_a_delivery_in_sales_counts_toward_its_batch_once(account, fleet_manager):
    # given a priced batch of 3
    order = priced(deal_for(account, fleet_manager), agreement_with_tiers(account, fleet_manager),
                   fleet_manager, 3)  # fmt: skip
    # when sales hands over one of its vehicles
    sales_order = handed_over(sales_orders_of(order)[0], fleet_manager)
    # then the receiver counted it: one unit, delivered when the sales order was
    row = fresh(order)
    assert (row.delivered_units, row.delivered_at) == (1, sales_order.delivered_at)
    # and counting again changes nothing
    before = state(order)
    services.fleet_order_count_deliveries(fleet_order_id=order.pk)
    services.fleet_order_count_deliveries(fleet_order_id=order.pk)
    assert state(order) == before


def test_a_batch_never_counts_more_than_its_vehicles(account, fleet_manager):
    # given a batch of 2, both delivered
    order = delivered(
        priced(deal_for(account, fleet_manager), agreement_with_tiers(account, fleet_manager),
               fleet_manager, 2),
        fleet_manager,
    )  # fmt: skip
    before = state(order)
    # when one of its sales orders is handed over again
    with pytest.raises(StateConflict) as refused:
        sales_services.delivery_record(
            order=sales_orders_of(order)[0], by=fleet_manager, delivered_on=timezone.localdate(),
            checklist=list(DeliveryCheck.values), documents=list(DeliveryDocument.values),
        )  # fmt: skip
    # then sales refuses it, and the batch still counts its 2 of 2
    assert refused.value.code == "order_not_invoiced"
    assert state(order) == before
    assert (before["delivered_units"], before["quantity"]) == (2, 2)


def test_cancelled_and_undelivered_sales_orders_do_not_count(account, fleet_manager, sales_manager):
    # given a batch of 5: 2 delivered, 1 cancelled, 1 invoiced and 1 only signed
    agreement = agreement_with_tiers(account, fleet_manager)
    order = priced(deal_for(account, fleet_manager), agreement, fleet_manager, 5)
    cancelled, waiting_invoice, _signed, *_ = sales_orders_of(order)
    sales_services.order_cancel(order=cancelled, by=sales_manager, reason="客户减少一台")
    invoiced(waiting_invoice, fleet_manager)
    delivered(order, fleet_manager, 2)
    # when the batch's deliveries are counted again
    services.fleet_order_count_deliveries(fleet_order_id=order.pk)
    # then only the 2 handed over count, toward the batch and the tiers
    statuses = sorted(o.status for o in sales_orders_of(order))
    assert statuses == sorted([OrderStatus.CANCELLED, OrderStatus.INVOICED, OrderStatus.SIGNED,
                               OrderStatus.DELIVERED, OrderStatus.DELIVERED])  # fmt: skip
    assert fresh(order).delivered_units == 2
    assert services.delivered_units_counted(account, agreement) == 2


def test_a_delivery_of_a_sales_order_of_no_batch_leaves_fleet_untouched(
    branch, account, fleet_manager
):
    # given a batch with one delivered unit, and an ordinary sales order of the same customer
    agreement = agreement_with_tiers(account, fleet_manager)
    order = delivered(priced(deal_for(account, fleet_manager), agreement, fleet_manager, 3),
                      fleet_manager, 1)  # fmt: skip
    ordinary = OrderFactory(
        branch=branch, customer=fresh(account).customer, consultant=fleet_manager,
        status=OrderStatus.SIGNED,
    )  # fmt: skip
    before = (state(order), order.history.count(), counts())
    # when sales hands the ordinary order's vehicle over
    assert handed_over(ordinary, fleet_manager).status == OrderStatus.DELIVERED
    # then no batch was counted or changed, and the tiers count only the batch's unit
    assert (state(order), order.history.count(), counts()) == before
    assert services.delivered_units_counted(account, agreement) == 1


# --- settlement --------------------------------------------------------------------------------


def test_support_is_settled_per_batch_up_to_what_its_delivered_units_earned(account, fleet_manager):
    # given a batch of 8 at 1,000 per unit with 5 delivered (5,000 earned)
    order = priced(deal_for(account, fleet_manager), agreement_with_tiers(account, fleet_manager),
                   fleet_manager, 8)  # fmt: skip
    delivered(order, fleet_manager, 5)
    # when 3,000 and then 2,000 are settled
    services.fleet_order_settle(order=order, amount=Decimal("3000.00"), by=fleet_manager)
    services.fleet_order_settle(order=order, amount=Decimal("2000.00"), by=fleet_manager)
    # then all that was earned is settled
    row = fresh(order)
    assert (row.support_due, row.support_settled) == (Decimal("5000.00"), Decimal("5000.00"))
    assert row.settled_at is not None


@pytest.mark.parametrize(
    ("settled", "amount"),
    [("0", "5000.01"), ("4000.00", "1000.01"), ("0", "-1.00")],
)
def test_settling_more_than_the_delivered_units_earned_is_refused(
    account, fleet_manager, settled, amount
):
    # given a batch of 8 at 1,000 per unit with 5 delivered and `settled` settled
    order = priced(deal_for(account, fleet_manager), agreement_with_tiers(account, fleet_manager),
                   fleet_manager, 8)  # fmt: skip
    delivered(order, fleet_manager, 5)
    if Decimal(settled):
        services.fleet_order_settle(order=order, amount=Decimal(settled), by=fleet_manager)
    before = state(order)
    # when more than is still due (or a negative amount) is settled
    error = refusal(
        lambda: services.fleet_order_settle(order=order, amount=Decimal(amount), by=fleet_manager)
    )
    # then it is refused and nothing changed
    assert (error.code, error.field) == ("settlement_exceeds_support", "amount")
    assert state(order) == before


def test_the_settlement_statement_reconciles_the_deals_batches(account, fleet_manager):
    # given a deal priced in two batches: 10 at tier 1, all delivered, then 6 at tier 2 with
    # 4 delivered; the first settled 6,000 of its 10,000
    deal = deal_for(account, fleet_manager, quantity=16)
    agreement = agreement_with_tiers(account, fleet_manager)
    first = delivered(priced(deal, agreement, fleet_manager, 10), fleet_manager)
    second = delivered(priced(deal, agreement, fleet_manager, 6), fleet_manager, 4)
    services.fleet_order_settle(order=first, amount=Decimal("6000.00"), by=fleet_manager)
    # when the statement is drawn
    statement = selectors.settlement_statement(deal=deal)
    # then it lists the batches in order and totals what is due, settled and open
    assert [order.pk for order in statement["orders"]] == [first.pk, second.pk]
    assert [order.support_per_unit for order in statement["orders"]] == [TIER_1, TIER_2]
    assert (statement["units"], statement["delivered"]) == (16, 14)
    assert statement["due"] == 10 * TIER_1 + 4 * TIER_2
    assert statement["settled"] == Decimal("6000.00")
    assert statement["open"] == Decimal("14000.00")
