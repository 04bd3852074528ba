"""Funnel figures, follow-up lists and stock ageing, read from rows built by the factories."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from dealer_crm.scoping import branch_ids_for
from sales.choices import LeadSource, LeadStatus, OrderStatus, StockStatus
from sales.selectors import (
    FUNNEL_STAGES,
    follow_up_today,
    funnel_figures,
    lead_list,
    overdue_follow_up_counts,
    stock_ageing,
    stock_list,
)
from tests.factories import (
    CustomerFactory,
    LeadFactory,
    OrderFactory,
    ShowroomTrafficFactory,
    StockVehicleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
START, END = date(2026, 3, 1), date(2026, 3, 31)
IN_PERIOD = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
NO_STAGE = {stage.key: 0 for stage in FUNNEL_STAGES}


def figures(user: User, dimension: str = "source", **kwargs) -> dict:
    return funnel_figures(user=user, start=START, end=END, dimension=dimension, **kwargs)


def row(result: dict, key) -> dict:
    return next(row for row in result["rows"] if row["key"] == key)


def fresh(user: User) -> User:
    """The user as a new request loads it, without the branch scope cached on the object."""
    return User.objects.get(pk=user.pk)


# --- funnel figures ---------------------------------------------------------------------------


@pytest.fixture
def walk_ins_and_calls(branch):
    """Four walk-ins that got to new, verified, visited and quoted; two verified hotline calls."""
    for reached in [None, "verified", "visited", "quoted"]:
        LeadFactory(branch=branch, created_at=IN_PERIOD, reached=reached)
    LeadFactory.create_batch(
        2, branch=branch, created_at=IN_PERIOD, source=LeadSource.PHONE, reached="verified"
    )


def test_funnel_counts_every_stage_each_lead_reached_by_source(consultant, walk_ins_and_calls):
    # given four walk-ins and two hotline leads at different stages (fixture)
    # when the consultant looks at March's funnel by source
    result = figures(consultant)
    # then each source counts the leads at every stage they reached, the largest source first
    assert [row["key"] for row in result["rows"]] == [LeadSource.WALK_IN, LeadSource.PHONE]
    walk_in = row(result, LeadSource.WALK_IN)
    assert walk_in["label"] == LeadSource.WALK_IN.label
    assert walk_in["counts"] == {**NO_STAGE, "leads": 4, "verified": 3, "visited": 2,
                                 "test_driven": 1, "quoted": 1}  # fmt: skip
    assert row(result, LeadSource.PHONE)["counts"] == {**NO_STAGE, "leads": 2, "verified": 2}
    # and the total row adds the sources up
    assert result["total"]["counts"] == {**NO_STAGE, "leads": 6, "verified": 5, "visited": 2,
                                         "test_driven": 1, "quoted": 1}  # fmt: skip


def test_funnel_conversion_is_the_share_of_the_stage_before_with_one_decimal(
    consultant, walk_ins_and_calls
):
    # given the walk-ins: 4 leads, 3 verified, 2 visited, 1 test drive, 1 quote, no order
    # when the funnel is read
    conversions = row(figures(consultant), LeadSource.WALK_IN)["conversions"]
    # then each stage's rate is a percentage of the stage before; none after a stage nobody reached
    assert conversions == {
        "verified": Decimal("75.0"),
        "visited": Decimal("66.7"),
        "test_driven": Decimal("50.0"),
        "quoted": Decimal("100.0"),
        "ordered": Decimal("0.0"),
        "delivered": None,
    }


def test_funnel_by_model_groups_on_the_model_of_interest(consultant, branch):
    # given three leads for the Lavida and one, ordered, for the Tiguan L
    LeadFactory.create_batch(3, branch=branch, created_at=IN_PERIOD, model_of_interest="朗逸")
    LeadFactory(branch=branch, created_at=IN_PERIOD, model_of_interest="途观L", reached="ordered")
    # when the funnel is read by model
    result = figures(consultant, "model")
    # then there is a row per model, labelled with it
    assert [(row["key"], row["label"], row["counts"]["leads"]) for row in result["rows"]] == [
        ("朗逸", "朗逸", 3),
        ("途观L", "途观L", 1),
    ]
    assert row(result, "途观L")["counts"]["ordered"] == 1


def test_funnel_by_consultant_shows_names_and_unassigned_leads(sales_manager, branch):
    # given leads of two consultants and one nobody has taken yet
    chen = UserFactory(first_name="嘉豪", last_name="陈", branches=[branch])
    wang = UserFactory(first_name="Lei", last_name="Wang", branches=[branch])
    LeadFactory.create_batch(2, branch=branch, created_at=IN_PERIOD, consultant=chen)
    LeadFactory(branch=branch, created_at=IN_PERIOD, consultant=wang, reached="visited")
    LeadFactory(branch=branch, created_at=IN_PERIOD, consultant=None)
    # when the manager reads the funnel by consultant
    result = figures(sales_manager, "consultant")
    # then each consultant's row is keyed by id and labelled as colleagues write the name
    labels = {row["key"]: (str(row["label"]), row["counts"]["leads"]) for row in result["rows"]}
    assert labels == {chen.pk: ("陈嘉豪", 2), wang.pk: ("Lei Wang", 1), None: ("Unassigned", 1)}


def test_funnel_by_month_uses_shanghai_calendar_months(consultant, branch):
    # given a lead at 00:30 on 1 March and one at 04:00 on 1 April, Shanghai time (both still
    # the previous day in UTC)
    LeadFactory(branch=branch, created_at=datetime(2026, 3, 1, 0, 30, tzinfo=SHANGHAI))
    LeadFactory(branch=branch, created_at=datetime(2026, 4, 1, 4, 0, tzinfo=SHANGHAI))
    # when the funnel from February to April is read by month
    result = funnel_figures(
        user=consultant, start=date(2026, 2, 1), end=date(2026, 4, 30), dimension="month"
    )
    # then each lead counts in its Shanghai month, in calendar order
    assert [(row["key"], row["label"], row["counts"]["leads"]) for row in result["rows"]] == [
        (date(2026, 3, 1), "2026-03", 1),
        (date(2026, 4, 1), "2026-04", 1),
    ]


def test_funnel_counts_referral_leads(consultant, branch):
    # given two referrals by owners and a walk-in
    LeadFactory.create_batch(2, branch=branch, created_at=IN_PERIOD, source=LeadSource.REFERRAL)
    LeadFactory(branch=branch, created_at=IN_PERIOD)
    # when the funnel is read
    result = figures(consultant)
    # then the referrals are counted on their row and in the total
    assert row(result, LeadSource.REFERRAL)["referrals"] == 2
    assert row(result, LeadSource.WALK_IN)["referrals"] == 0
    assert result["total"]["referrals"] == 2


def test_funnel_counts_only_the_branches_the_user_sees(
    consultant, group_manager, branch, other_branch
):
    # given two leads here and three at the other branch
    LeadFactory.create_batch(2, branch=branch, created_at=IN_PERIOD)
    LeadFactory.create_batch(3, branch=other_branch, created_at=IN_PERIOD)
    # when the consultant, the group manager, and the group manager for one branch read it
    # then the consultant counts this branch only, the group manager both, or the one chosen
    assert figures(consultant)["total"]["counts"]["leads"] == 2
    assert figures(group_manager)["total"]["counts"]["leads"] == 5
    assert figures(group_manager, branch_id=other_branch.pk)["total"]["counts"]["leads"] == 3
    # and naming a branch they cannot see gives the consultant nothing
    assert figures(consultant, branch_id=other_branch.pk)["total"]["counts"]["leads"] == 0


def test_funnel_period_runs_from_shanghai_midnight_to_the_end_of_the_last_day(consultant, branch):
    # given leads on both sides of the period's first and last moment, Shanghai time
    first_moment = datetime(2026, 3, 1, tzinfo=SHANGHAI)
    end_of_period = datetime(2026, 4, 1, tzinfo=SHANGHAI)
    one_second = timedelta(seconds=1)
    for created_at in [first_moment - one_second, first_moment,
                       end_of_period - one_second, end_of_period]:  # fmt: skip
        LeadFactory(branch=branch, created_at=created_at)
    # when March is read
    # then only the two inside it count
    assert figures(consultant)["total"]["counts"]["leads"] == 2


@pytest.mark.parametrize(
    ("dimension", "queries"),
    # 2 to scope the user, 1 for the funnel, 1 for the traffic; +1 for the consultants' names.
    [("source", 4), ("model", 4), ("consultant", 5), ("month", 4)],
)
def test_funnel_query_count_does_not_grow_with_the_leads(
    sales_manager, branch, django_assert_num_queries, dimension, queries
):
    # given one lead
    LeadFactory(branch=branch, created_at=IN_PERIOD, consultant=sales_manager)
    # when the funnel is read, then it takes a fixed number of queries
    user = fresh(sales_manager)
    with django_assert_num_queries(queries):
        figures(user, dimension)
    # given forty more across consultants, sources, models, months and stages
    consultants = UserFactory.create_batch(4, branches=[branch])
    for n in range(40):
        LeadFactory(
            branch=branch,
            created_at=IN_PERIOD - timedelta(days=n % 9),
            consultant=consultants[n % 4],
            source=[LeadSource.WALK_IN, LeadSource.PHONE, LeadSource.WEBSITE][n % 3],
            model_of_interest=["朗逸", "途观L"][n % 2],
            reached=[None, "visited", "delivered"][n % 3],
        )
    # when it is read again, then it takes the same number
    user = fresh(sales_manager)
    with django_assert_num_queries(queries):
        result = figures(user, dimension)
    assert result["total"]["counts"]["leads"] == 41


def test_funnel_traffic_sums_the_branches_in_scope_over_the_period(
    consultant, group_manager, branch, other_branch
):
    # given this branch's counts on the first and last day of March and the day before,
    # and the other branch's count in March
    ShowroomTrafficFactory(branch=branch, day=START, first_walk_in=5, phone_inquiries=4)
    ShowroomTrafficFactory(branch=branch, day=END, first_walk_in=7, phone_inquiries=1)
    ShowroomTrafficFactory(branch=branch, day=START - timedelta(days=1), first_walk_in=100)
    ShowroomTrafficFactory(branch=other_branch, day=date(2026, 3, 10), first_walk_in=20)
    # when the consultant and the group manager read March
    mine, group = figures(consultant)["traffic"], figures(group_manager)["traffic"]
    # then each sums the days of the period in the branches they see
    assert mine["first_walk_in"] == 12
    assert mine["phone_inquiries"] == 5
    # the factory's defaults: 3 first with appointment, 2 + 1 return visits a day
    assert mine["first_visits"] == 12 + 2 * 3
    assert mine["visits"] == 12 + 2 * (3 + 2 + 1)
    assert group["first_walk_in"] == 32


def test_funnel_without_leads_or_traffic_is_all_zero(consultant):
    # given nothing recorded in March
    # when the funnel is read
    result = figures(consultant)
    # then there are no rows, a zero total with no conversion rates, and zero traffic
    assert result["rows"] == []
    assert result["total"]["counts"] == NO_STAGE
    assert set(result["total"]["conversions"].values()) == {None}
    assert result["traffic"]["visits"] == 0


def test_funnel_refuses_an_unknown_dimension(consultant):
    with pytest.raises(ValueError):
        figures(consultant, "colour")


# --- leads and follow-ups ---------------------------------------------------------------------

TODAY = date(2026, 3, 10)


def test_follow_up_today_lists_open_leads_due_or_overdue_oldest_first(
    consultant, branch, other_branch
):
    # given open leads overdue, due today and due tomorrow, closed leads with a past date,
    # a lead without a date, and a lead of another branch due today
    overdue = LeadFactory(branch=branch, next_follow_up_on=TODAY - timedelta(days=2))
    due = LeadFactory(branch=branch, next_follow_up_on=TODAY, reached="visited")
    LeadFactory(branch=branch, next_follow_up_on=TODAY + timedelta(days=1))
    LeadFactory(branch=branch, next_follow_up_on=TODAY, reached="ordered")  # won
    LeadFactory(branch=branch, next_follow_up_on=TODAY, status=LeadStatus.LOST)
    LeadFactory(branch=branch, next_follow_up_on=None)
    LeadFactory(branch=other_branch, next_follow_up_on=TODAY)
    # when the consultant opens today's follow-ups
    leads = list(follow_up_today(user=consultant, on=TODAY))
    # then the overdue lead comes first, then today's
    assert leads == [overdue, due]


def test_follow_up_today_narrows_to_one_consultant(consultant, sales_manager, branch):
    # given due leads of the consultant and of a colleague
    mine = LeadFactory(branch=branch, consultant=consultant, next_follow_up_on=TODAY)
    LeadFactory(branch=branch, consultant=sales_manager, next_follow_up_on=TODAY)
    # when the consultant's own list is read
    # then only their lead is on it
    assert list(follow_up_today(user=consultant, consultant=consultant, on=TODAY)) == [mine]


def test_follow_up_today_defaults_to_today_in_shanghai(consultant, branch):
    # given a lead due today and one due tomorrow, by the Shanghai calendar
    today = timezone.localdate()
    due = LeadFactory(branch=branch, next_follow_up_on=today)
    LeadFactory(branch=branch, next_follow_up_on=today + timedelta(days=1))
    # when the list is read without a date
    # then today's lead is on it
    assert list(follow_up_today(user=consultant)) == [due]


def test_overdue_follow_up_counts_per_consultant_in_one_query(
    sales_manager, branch, other_branch, django_assert_num_queries
):
    # given overdue open leads of two consultants and an unassigned one, and leads that are
    # not overdue: due today, closed, or of another branch
    chen = UserFactory(first_name="嘉豪", last_name="陈", branches=[branch])
    wang = UserFactory(first_name="Lei", last_name="Wang", branches=[branch])
    yesterday = TODAY - timedelta(days=1)
    LeadFactory.create_batch(2, branch=branch, consultant=chen, next_follow_up_on=yesterday)
    LeadFactory(branch=branch, consultant=chen, next_follow_up_on=TODAY)
    LeadFactory(branch=branch, consultant=chen, next_follow_up_on=yesterday, reached="ordered")
    LeadFactory(branch=branch, consultant=wang, next_follow_up_on=yesterday)
    LeadFactory(branch=branch, consultant=None, next_follow_up_on=yesterday)
    LeadFactory(branch=other_branch, consultant=wang, next_follow_up_on=yesterday)
    branch_ids_for(sales_manager)  # the user's scope, loaded once per request
    # when the manager reads the overdue counts
    with django_assert_num_queries(1):
        counts = overdue_follow_up_counts(user=sales_manager, on=TODAY)
    # then each consultant has their overdue count and name, the most overdue first
    assert [(row["consultant_id"], str(row["name"]), row["overdue"]) for row in counts] == [
        (chen.pk, "陈嘉豪", 2),
        (wang.pk, "Lei Wang", 1),
        (None, "Unassigned", 1),
    ]


def test_lead_list_shows_the_branch_leads_with_their_people_in_one_query(
    consultant, branch, other_branch, django_assert_num_queries
):
    # given referred leads with a consultant and a customer, and a lead of the other branch
    for _ in range(3):
        LeadFactory(
            branch=branch,
            consultant=consultant,
            source=LeadSource.REFERRAL,
            customer=CustomerFactory(branch=branch),
        )
    LeadFactory(branch=other_branch)
    branch_ids_for(consultant)
    # when the list is read and every row's related records shown
    with django_assert_num_queries(1):
        rows = [
            (lead.consultant.username, lead.branch.name, lead.customer.name, lead.referrer.name)
            for lead in lead_list(user=consultant)
        ]
    # then it holds the branch's three leads
    assert len(rows) == 3


# --- stock ----------------------------------------------------------------------------------


def arrived(days_ago: int, **kwargs):
    return StockVehicleFactory(
        arrival_date=timezone.localdate() - timedelta(days=days_ago), **kwargs
    )


def test_days_in_stock_count_shanghai_calendar_days(consultant, branch):
    # given a vehicle that arrived today and one that arrived ten days ago, Shanghai dates
    today, ten_days = arrived(0, branch=branch), arrived(10, branch=branch)
    # when the stock list is read, at any hour of the Shanghai day
    days = {vehicle.pk: vehicle.days_in_stock for vehicle in stock_list(user=consultant)}
    # then the days are counted from the Shanghai date
    assert days == {today.pk: 0, ten_days.pk: 10}


def test_stock_list_brings_the_allocated_order_and_customer_in_one_query(
    consultant, branch, other_branch, django_assert_num_queries
):
    # given an allocated vehicle, a free one, and one of the other branch
    order = OrderFactory(branch=branch, status=OrderStatus.ALLOCATED)
    free = arrived(5, branch=branch)
    arrived(5, branch=other_branch)
    branch_ids_for(consultant)
    # when the list is read with each row's order and customer
    with django_assert_num_queries(1):
        rows = {
            vehicle.pk: vehicle.order.customer.name if hasattr(vehicle, "order") else None
            for vehicle in stock_list(user=consultant)
        }
    # then the allocated vehicle shows its customer and the free one none
    assert rows == {order.stock_vehicle_id: order.customer.name, free.pk: None}


def test_stock_ageing_counts_held_vehicles_by_days_in_stock_bucket(
    consultant, branch, other_branch
):
    # given held vehicles (in stock, reserved, demo) on both sides of every bucket's edge,
    # and vehicles that are not held: in transit, sold, delivered, or at another branch
    for days, status in [(0, StockStatus.IN_STOCK), (30, StockStatus.RESERVED),
                         (31, StockStatus.DEMO), (60, StockStatus.IN_STOCK),
                         (61, StockStatus.IN_STOCK), (90, StockStatus.IN_STOCK),
                         (91, StockStatus.IN_STOCK), (400, StockStatus.RESERVED)]:  # fmt: skip
        arrived(days, branch=branch, status=status)
    StockVehicleFactory(branch=branch, status=StockStatus.IN_TRANSIT)
    arrived(100, branch=branch, status=StockStatus.SOLD)
    arrived(100, branch=branch, status=StockStatus.DELIVERED)
    arrived(100, branch=other_branch)
    # when the ageing is read
    buckets = stock_ageing(user=consultant)
    # then each bucket counts two vehicles, and says the days it covers for the drill-down
    assert [(b["key"], b["min_days"], b["max_days"], b["count"]) for b in buckets] == [
        ("0_30", 0, 30, 2),
        ("31_60", 31, 60, 2),
        ("61_90", 61, 90, 2),
        ("over_90", 91, None, 2),
    ]
