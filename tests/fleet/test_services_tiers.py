"""Annual agreements and their volume tiers: the validity rule (before 1 July to the end of the
year, from 1 July to the end of the next), bands that never overlap and are fixed once orders
are priced, and pricing — the tier of the organization's delivered units, never changed by
later deliveries; more than 50 units a special deal outside the tiers and promotions."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from dealer_crm.periods import LOCAL_TIME_ZONE, local_day_end, local_day_start
from fleet import services
from fleet.models import FleetAgreement, FleetOrder, TierBand
from sales.models import Order
from tests.fleet.helpers import (
    TIER_1,
    TIER_2,
    TWO_TIERS,
    UNIT_PRICE,
    agreement_with_tiers,
    counts,
    deal_for,
    delivered,
    fresh,
    local_noon,
    priced,
    refusal,
    register,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

NEGOTIATED = Decimal("4200.00")


def sign(account, by, signed_on, valid_until=None):
    return services.agreement_sign(
        account=account, signed_on=signed_on, by=by, valid_until=valid_until
    )


def bands_of(agreement):
    return list(agreement.bands.values_list("from_units", "to_units", "support_per_unit"))


def end_by_the_rule(signed_on: date) -> date:
    """31 December of the year signed, or of the next when signed from 1 July."""
    return date(signed_on.year + (signed_on.month >= 7), 12, 31)


# --- agreements --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signed_on", "valid_until"),
    [
        (date(2025, 1, 1), date(2025, 12, 31)),
        (date(2025, 6, 30), date(2025, 12, 31)),
        (date(2025, 7, 1), date(2026, 12, 31)),
        (date(2025, 12, 31), date(2026, 12, 31)),
    ],
)
def test_an_agreement_runs_to_the_end_of_the_year_or_the_next_from_1_july(
    account, fleet_manager, signed_on, valid_until
):
    # when an agreement is signed on `signed_on`
    agreement = sign(account, fleet_manager, signed_on)
    # then it runs to 31 December of that year, or of the next when signed from 1 July
    assert fresh(agreement).valid_until == valid_until
    # and entering that same end is accepted
    again = sign(account, fleet_manager, signed_on, valid_until=valid_until)
    assert again.valid_until == valid_until


@pytest.mark.parametrize(
    ("signed_on", "valid_until"),
    [
        (date(2025, 6, 30), date(2026, 6, 29)),
        (date(2025, 6, 30), date(2026, 12, 31)),
        (date(2025, 7, 1), date(2025, 12, 31)),
    ],
)
def test_an_agreement_whose_end_contradicts_the_rule_is_refused(
    account, fleet_manager, signed_on, valid_until
):
    before = counts(FleetAgreement)
    # when an agreement is signed with an end the rule does not give
    error = refusal(lambda: sign(account, fleet_manager, signed_on, valid_until=valid_until))
    # then it is refused, saying when it runs to, and nothing is recorded
    assert (error.code, error.field) == ("agreement_dates_contradict", "valid_until")
    assert str(end_by_the_rule(signed_on)) in str(error.message)
    assert counts(FleetAgreement) == before


def test_an_agreement_signed_in_the_future_is_refused(account, fleet_manager):
    before = counts(FleetAgreement)
    tomorrow = timezone.localdate() + timedelta(days=1)
    # when an agreement is dated tomorrow
    error = refusal(lambda: sign(account, fleet_manager, tomorrow))
    # then it is refused
    assert (error.code, error.field) == ("date_in_future", "signed_on")
    assert counts(FleetAgreement) == before


# --- tier bands --------------------------------------------------------------------------------


def test_tier_bands_are_kept_in_order_and_replace_the_earlier_ones(account, fleet_manager):
    agreement = sign(account, fleet_manager, date(2026, 1, 5))
    services.tier_bands_set(agreement=agreement, bands=TWO_TIERS, by=fleet_manager)
    # when three bands are set, given out of order
    services.tier_bands_set(agreement=agreement, by=fleet_manager, bands=[
        {"from_units": 21, "to_units": None, "support_per_unit": Decimal("3000.00")},
        {"from_units": 1, "to_units": 10, "support_per_unit": Decimal("800.00")},
        {"from_units": 11, "to_units": 20, "support_per_unit": Decimal("1500.00")},
    ])  # fmt: skip
    # then the agreement has just these, in order
    assert bands_of(agreement) == [
        (1, 10, Decimal("800.00")), (11, 20, Decimal("1500.00")), (21, None, Decimal("3000.00")),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "bands",
    [
        [(1, 10), (10, 20)],
        [(1, 10), (5, None)],
        [(11, 30), (1, 12)],
        [(1, None), (11, 20)],
        [(1, 10), (1, 10)],
    ],
    ids=["sharing a unit", "inside another", "given out of order", "after an open-ended band",
         "twice the same"],
)  # fmt: skip
def test_overlapping_tier_bands_are_refused(account, fleet_manager, bands):
    # given an agreement with two tiers
    agreement = agreement_with_tiers(account, fleet_manager, signed_on=date(2026, 1, 5))
    before = (bands_of(agreement), counts(TierBand))
    # when bands that overlap are set
    error = refusal(lambda: services.tier_bands_set(agreement=agreement, by=fleet_manager, bands=[
        {"from_units": a, "to_units": b, "support_per_unit": Decimal("900.00")} for a, b in bands
    ]))  # fmt: skip
    # then they are refused and the agreement keeps its tiers
    assert (error.code, error.field) == ("tier_bands_overlap", "bands")
    assert (bands_of(agreement), counts(TierBand)) == before


def test_tiers_are_not_replaced_once_an_order_was_priced_on_them(account, fleet_manager):
    # given an order priced on the agreement's tiers
    agreement = agreement_with_tiers(account, fleet_manager)
    priced(deal_for(account, fleet_manager), agreement, fleet_manager, 5)
    before = (bands_of(agreement), counts(TierBand))
    # when other tiers are set
    error = refusal(lambda: services.tier_bands_set(agreement=agreement, by=fleet_manager, bands=[
        {"from_units": 1, "to_units": None, "support_per_unit": Decimal("5000.00")},
    ]))  # fmt: skip
    # then they are refused: a new agreement is signed instead
    assert error.code == "tiers_in_use"
    assert (bands_of(agreement), counts(TierBand)) == before


# --- pricing on the tiers ----------------------------------------------------------------------


def test_a_higher_tier_applies_to_later_orders_only(account, fleet_manager):
    # given tiers 1–10 at 1,000 and 11 on at 2,500, and batch A of 10 priced at tier 1
    agreement = agreement_with_tiers(account, fleet_manager)
    deal = deal_for(account, fleet_manager)
    first = priced(deal, agreement, fleet_manager, 10)
    tier_1, tier_2 = agreement.bands.all()
    assert (first.tier_band, first.units_before, first.support_per_unit) == (tier_1, 0, TIER_1)
    # when A's 10 units are delivered and batch B is priced
    delivered(first, fleet_manager)
    second = priced(deal, agreement, fleet_manager, 5)
    # then B takes tier 2 from the 11th unit on
    assert (second.tier_band, second.units_before, second.support_per_unit) == (
        tier_2, 10, TIER_2,
    )  # fmt: skip
    # and A keeps tier 1 and its support, with no retroactive change
    row = fresh(first)
    assert (row.tier_band, row.units_before, row.support_per_unit) == (tier_1, 0, TIER_1)
    assert row.support_due == 10 * TIER_1


def test_the_tier_follows_units_delivered_not_units_ordered(account, fleet_manager):
    # given batch A of 10 priced but not delivered
    agreement = agreement_with_tiers(account, fleet_manager)
    deal = deal_for(account, fleet_manager)
    priced(deal, agreement, fleet_manager, 10)
    # when batch B is priced
    second = priced(deal, agreement, fleet_manager, 10)
    # then it still takes tier 1: nothing was delivered yet
    assert (second.units_before, second.support_per_unit) == (0, TIER_1)


def delivered_at(order, *moments) -> None:
    """Move the handover of the batch's delivered sales orders, in order, to these moments."""
    sales_orders = order.sales_orders.filter(delivered_at__isnull=False).order_by("pk")
    for sales_order, moment in zip(sales_orders, moments, strict=True):
        Order.objects.filter(pk=sales_order.pk).update(delivered_at=moment)


def test_deliveries_before_the_agreement_year_do_not_count(account, fleet_manager):
    # given 10 units delivered the day before this year's agreement was signed
    agreement = agreement_with_tiers(account, fleet_manager)
    deal = deal_for(account, fleet_manager)
    earlier = delivered(priced(deal, agreement, fleet_manager, 10), fleet_manager)
    delivered_at(earlier, *[local_noon(agreement.signed_on - timedelta(days=1))] * 10)
    # when a batch is priced
    order = priced(deal, agreement, fleet_manager, 5)
    # then it is priced at tier 1, as if nothing had been delivered
    assert (order.units_before, order.support_per_unit) == (0, TIER_1)


def test_only_units_delivered_within_the_agreements_days_count(account, fleet_manager):
    # given 4 units delivered: the evening before the agreement was signed, as its first day
    # began, as its last day ended and as the next began (Shanghai days)
    agreement = agreement_with_tiers(account, fleet_manager)
    deal = deal_for(account, fleet_manager)
    batch = delivered(priced(deal, agreement, fleet_manager, 4), fleet_manager)
    first_day, last_day = agreement.signed_on, agreement.valid_until
    one_second = timedelta(seconds=1)
    delivered_at(
        batch,
        local_day_start(first_day) - one_second,
        local_day_start(first_day),
        local_day_end(last_day) - one_second,
        local_day_end(last_day),
    )
    # when the next batch is priced
    order = priced(deal, agreement, fleet_manager, 5)
    # then the 2 delivered within the agreement's days count, and the batch keeps its 4
    assert services.delivered_units_counted(account, agreement) == 2
    assert (order.units_before, order.support_per_unit) == (2, TIER_1)
    assert fresh(batch).delivered_units == 4


def test_a_batch_delivered_across_the_agreement_years_end_counts_each_vehicle_in_its_year(
    account, fleet_manager
):
    # given last year's agreement and this year's from 1 January, and a batch of 6 whose
    # vehicles were handed over 4 on last New Year's Eve and 2 on New Year's Day
    this_year = timezone.localdate().year
    last_years = services.agreement_sign(
        account=account, signed_on=date(this_year - 1, 1, 1), by=fleet_manager
    )
    agreement = agreement_with_tiers(account, fleet_manager, signed_on=date(this_year, 1, 1))
    deal = deal_for(account, fleet_manager)
    batch = delivered(priced(deal, agreement, fleet_manager, 6), fleet_manager)
    new_years_eve = datetime.combine(date(this_year - 1, 12, 31), time(23), LOCAL_TIME_ZONE)
    new_years_day = datetime.combine(date(this_year, 1, 1), time(9), LOCAL_TIME_ZONE)
    delivered_at(batch, *[new_years_eve] * 4, *[new_years_day] * 2)
    # when the units delivered in each agreement are counted, and a batch is priced
    order = priced(deal, agreement, fleet_manager, 5)
    # then this year's agreement counts the 2 of its year, last year's the 4 of its own
    assert services.delivered_units_counted(account, agreement) == 2
    assert services.delivered_units_counted(account, last_years) == 4
    assert order.units_before == 2


def test_affiliates_deliveries_count_toward_the_parents_tier(branch, fleet_manager):
    # given a bank with two affiliates, and the bank's agreement
    bank = register(branch, fleet_manager, name="中国建设银行广东省分行")
    guangzhou = register(branch, fleet_manager, name="建行广州分行", parent=bank)
    foshan = register(branch, fleet_manager, name="建行佛山分行", parent=bank)
    agreement = agreement_with_tiers(bank, fleet_manager)
    # when the Guangzhou affiliate's 6 units and the Foshan's 4 are delivered on it
    for affiliate, units in ((guangzhou, 6), (foshan, 4)):
        delivered(priced(deal_for(affiliate, fleet_manager), agreement, fleet_manager, units),
                  fleet_manager)  # fmt: skip
    # then the bank's next batch (or either affiliate's) takes tier 2 from the 11th unit
    for account in (bank, guangzhou):
        order = priced(deal_for(account, fleet_manager), agreement, fleet_manager, 3)
        assert (order.units_before, order.support_per_unit) == (10, TIER_2)


def test_an_agreement_of_another_account_is_refused(branch, account, fleet_manager):
    # given another company's agreement
    other = register(branch, fleet_manager, name="广州市出租汽车公司")
    theirs = agreement_with_tiers(other, fleet_manager)
    deal = deal_for(account, fleet_manager)
    before = counts(FleetOrder, Order)
    # when the account's batch is priced on it
    error = refusal(lambda: priced(deal, theirs, fleet_manager, 5))
    # then it is refused and nothing is priced
    assert (error.code, error.field) == ("agreement_other_account", "agreement")
    assert counts(FleetOrder, Order) == before


def test_a_batch_of_up_to_50_units_needs_an_agreement(account, fleet_manager):
    deal = deal_for(account, fleet_manager, quantity=50)
    before = counts(FleetOrder, Order)
    # when a batch of 50 is priced without an agreement
    error = refusal(
        lambda: services.fleet_order_price(
            deal=deal, line=deal.lines.get(), quantity=50, unit_price=UNIT_PRICE, by=fleet_manager
        )
    )
    # then it is refused: no batch and no sales order
    assert (error.code, error.field) == ("agreement_required", "agreement")
    assert counts(FleetOrder, Order) == before


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_batch_of_no_units_is_refused(account, fleet_manager, quantity):
    agreement = agreement_with_tiers(account, fleet_manager)
    deal = deal_for(account, fleet_manager)
    before = counts(FleetOrder, Order)
    # when a batch of no units is priced
    error = refusal(lambda: priced(deal, agreement, fleet_manager, quantity))
    # then it is refused
    assert (error.code, error.field) == ("quantity_not_positive", "quantity")
    assert counts(FleetOrder, Order) == before


def test_a_batch_of_a_lost_deal_is_refused(account, fleet_manager):
    agreement = agreement_with_tiers(account, fleet_manager)
    deal = deal_for(account, fleet_manager)
    services.deal_set_stage(deal=deal, stage="lost", by=fleet_manager, reason="竞品中标")
    before = counts(FleetOrder, Order)
    # when a batch of the lost deal is priced
    error = refusal(lambda: priced(deal, agreement, fleet_manager, 5))
    # then it is refused
    assert error.code == "deal_closed"
    assert counts(FleetOrder, Order) == before


# --- special deals -----------------------------------------------------------------------------


def test_exactly_50_units_is_an_ordinary_batch_on_the_tiers(account, fleet_manager):
    agreement = agreement_with_tiers(account, fleet_manager)
    # when a batch of 50 is priced with a promotion
    order = priced(deal_for(account, fleet_manager, quantity=50), agreement, fleet_manager, 50,
                   promotion="国庆购车节")  # fmt: skip
    # then it is not special: it takes tier 1 and the promotion
    row = fresh(order)
    assert (row.is_special, row.tier_band, row.support_per_unit, row.promotion) == (
        False, agreement.bands.first(), TIER_1, "国庆购车节",
    )  # fmt: skip


def test_more_than_50_units_is_a_special_deal_on_its_negotiated_support(account, fleet_manager):
    agreement = agreement_with_tiers(account, fleet_manager)
    # when a batch of 51 is priced with its negotiated support
    order = priced(deal_for(account, fleet_manager, quantity=51), agreement, fleet_manager, 51,
                   negotiated_support=NEGOTIATED)  # fmt: skip
    # then it is special: outside the tiers, on the negotiated support
    row = fresh(order)
    assert (row.is_special, row.tier_band, row.support_per_unit, row.promotion) == (
        True, None, NEGOTIATED, "",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "code", "field"),
    [
        ({}, "special_deal_needs_terms", "negotiated_support"),
        ({"negotiated_support": NEGOTIATED, "promotion": "国庆购车节"},
         "special_deal_no_promotion", "promotion"),
    ],
    ids=["without negotiated support", "with a promotion"],
)  # fmt: skip
def test_a_special_deal_without_its_own_terms_or_with_a_promotion_is_refused(
    account, fleet_manager, extra, code, field
):
    agreement = agreement_with_tiers(account, fleet_manager)
    deal = deal_for(account, fleet_manager, quantity=60)
    before = counts(FleetOrder, Order)
    # when a batch of 60 is priced without its negotiated support, or with a promotion
    error = refusal(lambda: priced(deal, agreement, fleet_manager, 60, **extra))
    # then it is refused
    assert (error.code, error.field) == (code, field)
    assert counts(FleetOrder, Order) == before


def test_a_special_deals_delivered_units_do_not_count_toward_the_tiers(account, fleet_manager):
    # given a special deal of 60 units, all delivered
    agreement = agreement_with_tiers(account, fleet_manager)
    deal = deal_for(account, fleet_manager, quantity=65)
    delivered(priced(deal, agreement, fleet_manager, 60, negotiated_support=NEGOTIATED),
              fleet_manager)  # fmt: skip
    # when the next batch is priced
    order = priced(deal, agreement, fleet_manager, 5)
    # then it takes tier 1: the special deal's 60 units do not count
    assert (order.units_before, order.support_per_unit) == (0, TIER_1)
