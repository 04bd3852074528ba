"""The sales FilterSets: what each filter keeps, for the list pages, the API and selectors."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from sales.choices import (
    ActivityKind,
    IntentLevel,
    LeadSource,
    LeadStatus,
    OrderStatus,
    QuoteStatus,
    StockStatus,
    TestDriveStatus,
    TradeInDecision,
)
from sales.filters import (
    ActivityFilter,
    LeadFilter,
    OrderFilter,
    PaymentFilter,
    QuoteFilter,
    ShowroomTrafficFilter,
    StockVehicleFilter,
    TestDriveFilter,
    TradeInFilter,
)
from sales.selectors import FUNNEL_STAGES, stock_list
from tests.factories import (
    ActivityFactory,
    CustomerFactory,
    LeadFactory,
    OrderFactory,
    PaymentFactory,
    QuoteFactory,
    ShowroomTrafficFactory,
    StockVehicleFactory,
    TestDriveFactory,
    TradeInFactory,
    UserFactory,
    vin,
)
from tests.fleet.helpers import agreement_with_tiers, deal_for, priced, register

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def kept(filterset_class, queryset=None, **data) -> set:
    """The rows the FilterSet keeps for these query parameters (lists for repeated ones)."""
    filterset = filterset_class(data, queryset=queryset)
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs)


# --- leads ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "expected"),
    [("王", "wang"), ("途观", "tiguan"), ("5678", "wang"), ("139-1234", "wang"), ("8765", "li")],
)
def test_lead_search_matches_name_model_or_four_plus_phone_digits(term, expected):
    # given two leads with different names, phones and models
    leads = {
        "wang": LeadFactory(name="王芳", mobile="13912345678", model_of_interest="朗逸"),
        "li": LeadFactory(name="李强", mobile="13887654321", model_of_interest="途观L"),
    }
    leads["tiguan"] = leads["li"]
    # when searched, then only the matching lead is kept
    assert kept(LeadFilter, search=term) == {leads[expected]}


def test_lead_search_ignores_phone_fragments_shorter_than_four_digits():
    # given a lead whose phone contains 567 but whose name and model do not
    LeadFactory(name="王芳", mobile="13912345678", model_of_interest="朗逸")
    # when searched for three digits, then nothing matches
    assert kept(LeadFilter, search="567") == set()


def test_lead_status_filter_takes_several_statuses():
    # given a new, a verified and a lost lead
    new, verified = LeadFactory(), LeadFactory(status=LeadStatus.VERIFIED)
    LeadFactory(status=LeadStatus.LOST)
    # when filtered on new and verified, then both are kept and the lost one is not
    assert kept(LeadFilter, status=[LeadStatus.NEW, LeadStatus.VERIFIED]) == {new, verified}


def test_lead_source_intent_consultant_and_branch_filters(branch, consultant):
    # given a hot referral of the consultant's at the branch, and a default lead elsewhere
    hot = LeadFactory(
        branch=branch, source=LeadSource.REFERRAL, intent_level=IntentLevel.H, consultant=consultant
    )
    LeadFactory(consultant=UserFactory())
    # when filtered on each, then only the hot referral is kept
    assert kept(LeadFilter, source=LeadSource.REFERRAL) == {hot}
    assert kept(LeadFilter, intent_level=IntentLevel.H) == {hot}
    assert kept(LeadFilter, consultant=consultant.pk) == {hot}
    assert kept(LeadFilter, branch=branch.pk) == {hot}


def test_lead_consultant_filter_can_ask_for_unassigned_leads(consultant):
    # given a lead of the consultant's and one nobody has taken
    LeadFactory(consultant=consultant)
    unassigned = LeadFactory(consultant=None)
    # when filtered on no consultant, then only the unassigned lead is kept
    assert kept(LeadFilter, consultant="null") == {unassigned}


def test_lead_created_dates_are_shanghai_days_with_both_ends_included():
    # given leads just inside and just outside March, Shanghai time
    first = datetime(2026, 3, 1, tzinfo=SHANGHAI)
    after_last = datetime(2026, 4, 1, tzinfo=SHANGHAI)
    one_second = timedelta(seconds=1)
    LeadFactory(created_at=first - one_second)
    inside = {LeadFactory(created_at=first), LeadFactory(created_at=after_last - one_second)}
    LeadFactory(created_at=after_last)
    # when filtered from 1 March to 31 March, then only the two inside are kept
    assert kept(LeadFilter, created_after="2026-03-01", created_before="2026-03-31") == inside


@pytest.mark.parametrize("position", range(len(FUNNEL_STAGES)))
def test_lead_stage_filter_keeps_the_leads_that_reached_the_stage(position):
    # given one lead that stopped at each funnel stage
    leads = [LeadFactory(reached=stage.key if index else None)
             for index, stage in enumerate(FUNNEL_STAGES)]  # fmt: skip
    # when filtered on a stage, then the leads that got there or further are kept
    assert kept(LeadFilter, stage=FUNNEL_STAGES[position].key) == set(leads[position:])


def test_lead_stage_filter_refuses_an_unknown_stage():
    assert not LeadFilter({"stage": "paid"}).is_valid()


def test_lead_follow_up_filter_keeps_due_or_only_overdue_open_leads():
    # given open leads due yesterday, today and tomorrow, and a lost lead due yesterday
    today = timezone.localdate()
    overdue = LeadFactory(next_follow_up_on=today - timedelta(days=1))
    due = LeadFactory(next_follow_up_on=today)
    LeadFactory(next_follow_up_on=today + timedelta(days=1))
    LeadFactory(next_follow_up_on=today - timedelta(days=1), status=LeadStatus.LOST)
    # when filtered, then "due" keeps today's and the overdue lead, "overdue" only the latter
    assert kept(LeadFilter, follow_up="due") == {overdue, due}
    assert kept(LeadFilter, follow_up="overdue") == {overdue}


def test_lead_referral_filter_splits_referred_leads_from_the_rest():
    # given a referral and a walk-in
    referral, walk_in = LeadFactory(source=LeadSource.REFERRAL), LeadFactory()
    # when filtered on referral yes and no, then each keeps its own
    assert kept(LeadFilter, referral="true") == {referral}
    assert kept(LeadFilter, referral="false") == {walk_in}


def test_activity_filter_by_lead_and_kind():
    # given a call and a visit on one lead and a call on another
    call = ActivityFactory(kind=ActivityKind.CALL)
    ActivityFactory(lead=call.lead, kind=ActivityKind.VISIT)
    ActivityFactory(kind=ActivityKind.CALL)
    # when filtered on the lead's calls, then only that call is kept
    assert kept(ActivityFilter, lead=call.lead.pk, kind=ActivityKind.CALL) == {call}


# --- stock ----------------------------------------------------------------------------------


def test_stock_search_matches_the_end_of_the_vin_or_the_series():
    # given a Lavida and a Tiguan L
    lavida = StockVehicleFactory(vin=vin(123456), series="朗逸")
    tiguan = StockVehicleFactory(vin=vin(654321), series="途观L")
    # when searched by the VIN's last six characters, lower case, or the series
    # then the matching vehicle is kept
    assert kept(StockVehicleFilter, search=lavida.vin[-6:].lower()) == {lavida}
    assert kept(StockVehicleFilter, search="途观") == {tiguan}
    # and a VIN fragment shorter than six characters is no VIN search
    assert kept(StockVehicleFilter, search=lavida.vin[-5:]) == set()


def test_stock_status_filter_takes_several_statuses_and_brand_filters():
    # given a vehicle in stock, a reserved one of another brand and one in transit
    in_stock = StockVehicleFactory()
    reserved = StockVehicleFactory(status=StockStatus.RESERVED, brand="斯柯达")
    StockVehicleFactory(status=StockStatus.IN_TRANSIT)
    # when filtered, then the chosen statuses and brand are kept
    statuses = [StockStatus.IN_STOCK, StockStatus.RESERVED]
    assert kept(StockVehicleFilter, status=statuses) == {in_stock, reserved}
    assert kept(StockVehicleFilter, brand="斯柯达") == {reserved}


@pytest.mark.parametrize("annotated", [False, True], ids=["plain", "stock_list"])
def test_stock_days_in_stock_filters_keep_vehicles_standing_that_long(
    consultant, branch, annotated
):
    # given vehicles that arrived 10, 45 and 100 days ago, and one still in transit
    today = timezone.localdate()
    ten, forty_five, hundred = (
        StockVehicleFactory(branch=branch, arrival_date=today - timedelta(days=days))
        for days in (10, 45, 100)
    )
    StockVehicleFactory(branch=branch, status=StockStatus.IN_TRANSIT)
    # when filtered on the plain queryset or the stock list's (already annotated)
    queryset = stock_list(user=consultant) if annotated else None
    # then the minimum and maximum keep the vehicles standing that long
    assert kept(StockVehicleFilter, queryset, min_days_in_stock=30) == {forty_five, hundred}
    assert kept(StockVehicleFilter, queryset, max_days_in_stock=60) == {ten, forty_five}
    both = {"min_days_in_stock": 30, "max_days_in_stock": 60}
    assert kept(StockVehicleFilter, queryset, **both) == {forty_five}


# --- test drives, trade-ins, quotes, orders, payments, traffic -------------------------------


def test_test_drive_filter_by_status_demo_car_and_shanghai_date(branch):
    # given a done drive at 07:00 Shanghai on 10 March (still 9 March in UTC) in one demo car,
    # and a booked drive on 11 March in another
    done = TestDriveFactory(
        branch=branch,
        status=TestDriveStatus.DONE,
        starts_at=datetime(2026, 3, 10, 7, 0, tzinfo=SHANGHAI),
    )
    TestDriveFactory(branch=branch, starts_at=datetime(2026, 3, 11, 10, 0, tzinfo=SHANGHAI))
    # when filtered on each, then only the done drive is kept
    assert kept(TestDriveFilter, status=TestDriveStatus.DONE) == {done}
    assert kept(TestDriveFilter, demo_vehicle=done.demo_vehicle.pk) == {done}
    assert kept(TestDriveFilter, date="2026-03-10") == {done}


def test_trade_in_filter_by_decision_and_lead():
    # given an accepted trade-in and a pending one on another lead
    accepted = TradeInFactory(decision=TradeInDecision.ACCEPTED)
    TradeInFactory()
    # when filtered, then the accepted one is kept
    assert kept(TradeInFilter, decision=TradeInDecision.ACCEPTED) == {accepted}
    assert kept(TradeInFilter, lead=accepted.lead.pk) == {accepted}


def test_quote_filter_by_status_consultant_and_lead(consultant):
    # given a sent quote of the consultant's and a draft of someone else's on another lead
    sent = QuoteFactory(status=QuoteStatus.SENT, consultant=consultant)
    QuoteFactory()
    # when filtered on each, then only the sent quote is kept
    assert kept(QuoteFilter, status=QuoteStatus.SENT) == {sent}
    assert kept(QuoteFilter, consultant=consultant.pk) == {sent}
    assert kept(QuoteFilter, lead=sent.lead.pk) == {sent}


def test_order_filter_by_customer_name_status_and_customer(branch):
    # given a signed order of 王芳, an allocated one of 李强 and a cancelled one of 王芳's
    wang = CustomerFactory(branch=branch, name="王芳")
    signed = OrderFactory(branch=branch, customer=wang, status=OrderStatus.SIGNED)
    allocated = OrderFactory(
        branch=branch, customer=CustomerFactory(branch=branch, name="李强"),
        status=OrderStatus.ALLOCATED,
    )  # fmt: skip
    cancelled = OrderFactory(branch=branch, customer=wang, status=OrderStatus.CANCELLED)
    # when filtered, then the search matches part of the customer's name
    assert kept(OrderFilter, search="芳") == {signed, cancelled}
    # and several statuses, or one customer, can be chosen
    statuses = [OrderStatus.SIGNED, OrderStatus.ALLOCATED]
    assert kept(OrderFilter, status=statuses) == {signed, allocated}
    assert kept(OrderFilter, customer=wang.pk) == {signed, cancelled}


def test_order_filter_by_fleet_batch(branch, fleet_manager):
    # given two fleet batches of 3 and 2 vehicles, each vehicle a signed order, and an order
    # sold in the showroom
    account = register(branch, fleet_manager)
    deal, agreement = deal_for(account, fleet_manager), agreement_with_tiers(account, fleet_manager)
    batch, other_batch = (priced(deal, agreement, fleet_manager, n) for n in (3, 2))
    OrderFactory(branch=branch, status=OrderStatus.SIGNED)
    # when filtered on the first batch, then its 3 orders and only they are kept
    assert kept(OrderFilter, fleet_order=batch.pk) == set(batch.sales_orders.all())
    assert len(kept(OrderFilter, fleet_order=batch.pk)) == 3
    assert kept(OrderFilter, fleet_order=other_batch.pk) == set(other_batch.sales_orders.all())


def test_payment_filter_by_order():
    # given payments on two orders
    deposit = PaymentFactory()
    PaymentFactory()
    # when filtered on the first order, then only its payment is kept
    assert kept(PaymentFilter, order=deposit.order.pk) == {deposit}


def test_showroom_traffic_filter_keeps_a_day_range_with_both_ends(branch):
    # given counts from the last day of February to the first of April
    days = [date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 1)]
    rows = [ShowroomTrafficFactory(branch=branch, day=day) for day in days]
    # when filtered on March, then its first and last days are kept
    march = {"day_after": "2026-03-01", "day_before": "2026-03-31"}
    assert kept(ShowroomTrafficFilter, **march) == set(rows[1:3])


def test_a_filter_refuses_and_never_offers_another_branchs_staff(
    api_client, consultant, other_branch_user, rf
):
    # given a consultant asking for the leads of a consultant of another branch
    api_client.force_authenticate(consultant)

    # when the API is asked, and the filter form's choices are read
    response = api_client.get("/api/v1/leads/", {"consultant": other_branch_user.pk})
    request = rf.get("/")
    request.user = consultant
    offered = LeadFilter(request=request).form.fields["consultant"].queryset

    # then the id is an invalid choice, and the other branch's consultant is not offered
    assert response.status_code == 400
    assert "consultant" in response.json()
    assert consultant in offered and other_branch_user not in offered
