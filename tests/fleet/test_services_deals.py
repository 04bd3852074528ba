"""Fleet deals: created with the models asked for, moved along and closed with a reason; their
batches delivered within what was ordered, support settled within what the delivered units
earned, and the settlement statement reconciling the deal."""

from decimal import Decimal

import pytest

from fleet import selectors, services
from fleet.choices import DealStage
from fleet.models import DealLine, FleetDeal
from tests.fleet.helpers import (
    TIER_1,
    TIER_2,
    agreement_with_tiers,
    counts,
    deal_for,
    delivered,
    fresh,
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
        {"series": "帕萨特", "configuration": "330TSI 精英版", "colour": "黑", "quantity": 12},
        {"series": "途观L", "quantity": 3},
    ])  # fmt: skip
    # then it is a prospect of the account's branch with both lines
    row = fresh(deal)
    assert (row.branch, row.account, row.stage, row.created_by) == (
        account.branch, account, D.PROSPECT, fleet_manager,
    )  # fmt: skip
    assert list(row.lines.values_list("series", "quantity")) == [("帕萨特", 12), ("途观L", 3)]


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
        {"series": "帕萨特", "quantity": 5}, {"series": "途观L", "quantity": quantity},
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


# --- delivery ----------------------------------------------------------------------------------


def test_a_batch_is_delivered_in_parts_up_to_its_quantity(account, fleet_manager):
    # given a priced batch of 8
    order = priced(deal_for(account, fleet_manager), agreement_with_tiers(account, fleet_manager),
                   fleet_manager, 8)  # fmt: skip
    # when 5 and then 3 are delivered
    delivered(order, fleet_manager, 5)
    delivered(order, fleet_manager, 3)
    # then all 8 are delivered, the tier unchanged
    row = fresh(order)
    assert (row.delivered_units, row.support_per_unit) == (8, TIER_1)
    assert row.delivered_at is not None


@pytest.mark.parametrize(
    ("already", "units", "code"),
    [(0, 9, "delivery_exceeds_order"), (6, 3, "delivery_exceeds_order"),
     (0, 0, "quantity_not_positive"), (2, -1, "quantity_not_positive")],
)  # fmt: skip
def test_a_delivery_beyond_the_batch_or_of_no_units_is_refused(
    account, fleet_manager, already, units, code
):
    # given a batch of 8 with `already` delivered
    order = priced(deal_for(account, fleet_manager), agreement_with_tiers(account, fleet_manager),
                   fleet_manager, 8)  # fmt: skip
    if already:
        delivered(order, fleet_manager, already)
    before = state(order)
    # when more than is left, or no unit, is delivered
    error = refusal(
        lambda: services.fleet_order_deliver(order=order, units=units, by=fleet_manager)
    )
    # then it is refused and nothing changed
    assert (error.code, error.field) == (code, "units")
    assert state(order) == before


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
