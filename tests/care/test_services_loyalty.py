"""Loyalty points through the services: a delivered car earns its buyer points per full 100
CNY of the price at the branch's rule of the day, and the owner who referred them the
referral points; a service visit earns points on what the customer paid, the insurer's
share left out; nothing is posted for nothing; each source earns once however often it is
credited, by the events as the delivery or the closing commits, or by the nightly catch-up
of the last seven days; points are redeemed for what the customer was given, never more
than the balance, which is always the sum of the statement."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import TestCase
from django.utils import timezone

from customers.care import services
from customers.care.choices import PointsKind
from customers.care.models import LoyaltyAccount, LoyaltyRule, PointsEntry
from customers.care.tasks import settlement_points_task
from customers.models import TimelineEntry
from dealer_crm.periods import local_day_start
from sales.choices import LeadSource, OrderStatus
from service import services as service_services
from service.choices import InsuranceClaimStatus, PaymentMethod, ServiceType
from service.models import Settlement
from tests.archives.helpers import deliver, invoiced_order
from tests.factories import (
    CustomerFactory,
    DeliveryFactory,
    LeadFactory,
    OrderFactory,
    VehicleFactory,
)
from tests.factories.concurrency import run_in_threads
from tests.service.helpers import counts, open_work_order, ready_work_order, refusal, settle

pytestmark = pytest.mark.django_db


def delivered(branch, *, price="117900.00", referrer=None, days_ago: int = 0, buyer=None):
    """A car delivered `days_ago` (a row, no event sent), bought through a referral of
    `referrer` when given."""
    buyer = buyer or CustomerFactory(branch=branch)
    lead = (
        LeadFactory(branch=branch, customer=buyer, source=LeadSource.REFERRAL, referrer=referrer)
        if referrer
        else None
    )
    return DeliveryFactory(
        order=OrderFactory(
            branch=branch, customer=buyer, lead=lead, status=OrderStatus.DELIVERED,
            total_price=Decimal(price),
        ),
        delivered_on=timezone.localdate() - timedelta(days=days_ago),
    )  # fmt: skip


def settled(branch, advisor, *, paid: str, days_ago: int = 0) -> Settlement:
    """A settlement of `paid`, all the customer's, `days_ago` (a row on an open work order:
    only its amounts and its day matter to the points)."""
    work_order = open_work_order(branch, advisor)
    settlement = Settlement.objects.create(
        work_order=work_order, labour_total=Decimal(paid), parts_total=Decimal("0.00"),
        total=Decimal(paid), customer_amount=Decimal(paid), payment_method=PaymentMethod.WECHAT,
        paid_amount=Decimal(paid), settled_by=advisor,
    )  # fmt: skip
    at = local_day_start(timezone.localdate() - timedelta(days=days_ago)) + timedelta(hours=10)
    Settlement.objects.filter(pk=settlement.pk).update(settled_at=at)
    return settlement


def rule(branch, by, **points) -> LoyaltyRule:
    data = {"purchase_points": 1, "service_points": 10, "referral_points": 2000, **points}
    return services.loyalty_rule_set(branch=branch, by=by, data=data)


def balance(customer) -> int:
    account = LoyaltyAccount.objects.filter(customer=customer).first()
    return account.balance if account else 0


def statement(customer) -> list[tuple]:
    return list(
        PointsEntry.objects.filter(account__customer=customer)
        .order_by("pk")
        .values_list("kind", "points", "balance")
    )


def with_points(customer, points: int) -> LoyaltyAccount:
    """The customer's account holding `points`, earned by a purchase."""
    delivery = delivered(customer.branch, buyer=customer, price=f"{points * 100}.00")
    services.points_for_delivery(delivery=delivery)
    return LoyaltyAccount.objects.get(customer=customer)


# --- Rules --------------------------------------------------------------------------------


def test_the_branch_earns_by_the_default_rule_until_a_manager_sets_one(
    branch, other_branch, branch_manager
):
    default = services.loyalty_rule_for(branch)
    assert (default.pk, default.purchase_points) == (None, 1)
    assert (default.service_points, default.referral_points) == (10, 2000)
    set_rule = rule(branch, branch_manager, purchase_points=3)
    assert services.loyalty_rule_for(branch) == set_rule
    assert services.loyalty_rule_for(other_branch).purchase_points == 1
    assert (set_rule.updated_by, set_rule.history.get().history_user) == (
        branch_manager, branch_manager,
    )  # fmt: skip


# --- Purchases and referrals --------------------------------------------------------------


def test_a_delivered_car_earns_its_buyer_points_per_full_hundred_of_the_price(branch):
    # given a car of 117,950.99 delivered, at the default 1 point per 100 CNY
    delivery = delivered(branch, price="117950.99")
    # when its points are credited
    posted = services.points_for_delivery(delivery=delivery)
    # then the buyer earned 1,179 points, the order named on the statement
    buyer = delivery.order.customer
    assert posted == 1
    entry = PointsEntry.objects.get()
    assert (entry.account.customer, entry.kind, entry.points, entry.balance, entry.order) == (
        buyer, PointsKind.PURCHASE, 1179, 1179, delivery.order,
    )  # fmt: skip
    assert balance(buyer) == 1179


def test_a_changed_rule_earns_at_the_new_rate(branch, branch_manager):
    # given a car delivered under the default rule, then the rule raised to 3 per 100
    before = delivered(branch, price="100000.00")
    services.points_for_delivery(delivery=before)
    rule(branch, branch_manager, purchase_points=3)
    # when the next car is delivered
    after = delivered(branch, price="100000.00")
    services.points_for_delivery(delivery=after)
    # then it earns at the new rate; the first keeps what it earned
    assert balance(before.order.customer) == 1000
    assert balance(after.order.customer) == 3000


def test_a_rule_of_another_branch_does_not_count(branch, other_branch, group_manager):
    rule(other_branch, group_manager, purchase_points=5)
    delivery = delivered(branch, price="100000.00")
    services.points_for_delivery(delivery=delivery)
    assert balance(delivery.order.customer) == 1000


def test_the_owner_who_referred_the_buyer_earns_the_referral_points(branch, branch_manager):
    # given an owner whose referral bought a car, at 1,500 points a referral
    rule(branch, branch_manager, referral_points=1500)
    owner = CustomerFactory(branch=branch)
    delivery = delivered(branch, price="100000.00", referrer=owner)
    # when the delivery's points are credited
    assert services.points_for_delivery(delivery=delivery) == 2
    # then the owner earned the referral, the note naming the buyer, and the buyer their
    # purchase points
    buyer = delivery.order.customer
    referral = PointsEntry.objects.get(account__customer=owner)
    assert (referral.kind, referral.points, referral.order, referral.note) == (
        PointsKind.REFERRAL, 1500, delivery.order, buyer.name,
    )  # fmt: skip
    assert statement(buyer) == [(PointsKind.PURCHASE, 1000, 1000)]


def test_a_car_bought_without_a_referral_earns_nobody_else_points(branch):
    delivery = delivered(branch)
    services.points_for_delivery(delivery=delivery)
    assert list(PointsEntry.objects.values_list("kind", flat=True)) == [PointsKind.PURCHASE]


# --- Service visits -----------------------------------------------------------------------


def test_a_service_visit_earns_points_on_what_the_customer_paid(branch, advisor, technician):
    # given a repair of 3 h × 183.50 = 550.50, paid in full by the customer
    work_order = ready_work_order(
        branch, advisor, technician, hours="3.0", rate="183.50", estimate=Decimal("550.50")
    )
    settlement = settle(work_order, advisor)
    # when its points are credited, then 5 full hundreds earned 50 points
    assert services.points_for_settlement(settlement=settlement) == 1
    entry = PointsEntry.objects.get()
    assert (entry.account.customer, entry.kind, entry.points, entry.settlement) == (
        work_order.customer, PointsKind.SERVICE, 50, settlement,
    )  # fmt: skip


def test_the_insurers_share_earns_no_points(branch, advisor, technician):
    # given a 5,000 bodywork bill, the insurer paying 3,500 and the customer their 1,500
    work_order = ready_work_order(
        branch, advisor, technician, hours="25.0", rate="200.00", estimate=Decimal("5000.00"),
        service_type=ServiceType.BODYWORK, complaint="左前翼子板碰撞凹陷",
    )  # fmt: skip
    claim = service_services.insurance_claim_create(
        work_order=work_order, by=advisor,
        data={
            "insurer": "中国人保财险", "policy_number": "PDAA202444010000001234",
            "claim_number": "RDAA202444010000005678", "accident_date": date(2025, 5, 3),
            "customer_share": Decimal("500.00"),
        },
    )  # fmt: skip
    for step in (InsuranceClaimStatus.ASSESSED, InsuranceClaimStatus.APPROVED):
        claim = service_services.insurance_claim_advance(
            claim=claim, status=step, by=advisor, assessed_amount=Decimal("4000.00"),
            assessor="李定损",
        )  # fmt: skip
    settlement = settle(work_order, advisor, paid="1500.00")
    assert (settlement.total, settlement.insurer_amount) == (Decimal("5000.00"), Decimal("3500.00"))
    # when its points are credited, then only the customer's 1,500 earned: 150 points
    services.points_for_settlement(settlement=settlement)
    assert statement(work_order.customer) == [(PointsKind.SERVICE, 150, 150)]


@pytest.mark.parametrize("paid", ["0.00", "99.99"])
def test_a_visit_paid_below_a_hundred_earns_nothing(branch, advisor, paid):
    settlement = settled(branch, advisor, paid=paid)
    assert services.points_for_settlement(settlement=settlement) == 0
    assert counts(PointsEntry, LoyaltyAccount) == {"PointsEntry": 0, "LoyaltyAccount": 0}


def test_a_rule_of_no_points_posts_nothing(branch, branch_manager, advisor):
    rule(branch, branch_manager, purchase_points=0, service_points=0, referral_points=0)
    owner = CustomerFactory(branch=branch)
    assert services.points_for_delivery(delivery=delivered(branch, referrer=owner)) == 0
    assert services.points_for_settlement(settlement=settled(branch, advisor, paid="800.00")) == 0
    assert not PointsEntry.objects.exists()


# --- Each source once ---------------------------------------------------------------------


def test_each_delivery_and_settlement_earns_once(branch, advisor):
    # given a referred car delivered and a visit settled, both credited
    owner = CustomerFactory(branch=branch)
    delivery = delivered(branch, referrer=owner)
    settlement = settled(branch, advisor, paid="800.00")
    services.points_for_delivery(delivery=delivery)
    services.points_for_settlement(settlement=settlement)
    earned = list(PointsEntry.objects.order_by("pk").values_list("pk", "points"))
    # when they are credited again
    again = (
        services.points_for_delivery(delivery=delivery),
        services.points_for_settlement(settlement=settlement),
    )
    # then nothing more was posted and no balance moved
    assert again == (0, 0)
    assert list(PointsEntry.objects.order_by("pk").values_list("pk", "points")) == earned
    assert balance(owner) == 2000
    assert balance(delivery.order.customer) == 1179
    assert balance(settlement.work_order.customer) == 80


def test_the_catch_up_credits_what_the_events_missed_and_only_once(branch, advisor):
    # given a delivery credited by its event, one missed, and a visit missed
    credited = delivered(branch, days_ago=1)
    services.points_for_delivery(delivery=credited)
    missed = delivered(branch, days_ago=2, referrer=CustomerFactory(branch=branch))
    visit = settled(branch, advisor, paid="300.00", days_ago=3)
    # when the nightly catch-up runs, then runs again
    first, second = services.points_catch_up(), services.points_catch_up()
    # then it posted the missed purchase, referral and visit, once
    assert (first, second) == (3, 0)
    assert balance(missed.order.customer) == 1179
    assert balance(missed.order.lead.referrer) == 2000
    assert balance(visit.work_order.customer) == 30
    assert balance(credited.order.customer) == 1179
    assert PointsEntry.objects.count() == 4


def test_the_catch_up_reaches_back_seven_days_only(branch, advisor):
    # given deliveries and settlements of 7 and 8 days ago, none credited
    recent = [delivered(branch, days_ago=7), settled(branch, advisor, paid="500.00", days_ago=7)]
    old = [delivered(branch, days_ago=8), settled(branch, advisor, paid="500.00", days_ago=8)]
    # when the catch-up runs
    assert services.points_catch_up() == 2
    # then those of the last seven days earned, the older ones did not
    assert balance(recent[0].order.customer) == 1179
    assert balance(recent[1].work_order.customer) == 50
    assert balance(old[0].order.customer) == balance(old[1].work_order.customer) == 0


def test_the_catch_up_counts_its_days_back_from_the_day_it_is_told(branch, advisor):
    delivery = delivered(branch, days_ago=20)
    settlement = settled(branch, advisor, paid="500.00", days_ago=20)
    assert services.points_catch_up(today=timezone.localdate() - timedelta(days=14)) == 2
    assert balance(delivery.order.customer) == 1179
    assert balance(settlement.work_order.customer) == 50


# --- The events ---------------------------------------------------------------------------


def test_a_delivery_credits_the_points_once_it_commits(branch, consultant):
    # given an invoiced order
    order = invoiced_order(branch, consultant)
    # when it is delivered: nothing is credited until the delivery commits
    with TestCase.captureOnCommitCallbacks(execute=True):
        deliver(order, consultant)
        assert not PointsEntry.objects.exists()
    # then the buyer earned their purchase points, once
    earned = int(order.total_price // 100)
    assert statement(order.customer) == [(PointsKind.PURCHASE, earned, earned)]


def test_closing_a_work_order_credits_the_visits_points_once_it_commits(
    branch, advisor, technician
):
    # given a visit of 2 h × 200 settled (settling alone credits nothing)
    work_order = ready_work_order(
        branch, advisor, technician, hours="2.0", estimate=Decimal("400.00")
    )
    settle(work_order, advisor)
    assert not PointsEntry.objects.exists()
    # when the car is handed back and the closing commits
    with TestCase.captureOnCommitCallbacks(execute=True):
        service_services.work_order_close(work_order=work_order, by=advisor)
    # then the customer earned 40 points for the 400 paid
    assert statement(work_order.customer) == [(PointsKind.SERVICE, 40, 40)]


def test_a_work_order_without_a_settlement_earns_nothing(branch, advisor):
    assert settlement_points_task(open_work_order(branch, advisor).pk) == 0
    assert not PointsEntry.objects.exists()


# --- Redemption ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "note", "code"),
    [
        (0, "洗车一次", "points_not_positive"),
        (-50, "洗车一次", "points_not_positive"),
        (True, "洗车一次", "points_not_positive"),
        ("50", "洗车一次", "points_not_positive"),
        (50, "   ", "note_required"),
        (501, "机油一桶", "points_insufficient"),
    ],
    ids=["zero", "negative", "a-yes", "text", "no-note", "more-than-the-balance"],
)
def test_a_redemption_out_of_the_rules_is_refused_and_changes_nothing(
    branch, advisor, points, note, code
):
    # given a customer holding 500 points
    customer = CustomerFactory(branch=branch)
    with_points(customer, 500)
    before = counts(PointsEntry, TimelineEntry)
    # when they redeem out of the rules
    error = refusal(
        lambda: services.points_redeem(customer=customer, points=points, note=note, by=advisor)
    )
    # then it is refused beside the field at fault and nothing changed
    assert (error.code, error.field) == (code, "note" if code == "note_required" else "points")
    assert balance(customer) == 500
    assert counts(PointsEntry, TimelineEntry) == before


def test_a_customer_without_an_account_has_nothing_to_redeem(branch, advisor):
    customer = CustomerFactory(branch=branch)
    error = refusal(
        lambda: services.points_redeem(customer=customer, points=1, note="洗车", by=advisor)
    )
    assert error.code == "points_insufficient"
    assert not PointsEntry.objects.exists()


def test_points_are_redeemed_down_to_nothing(branch, advisor):
    # given a customer holding 500 points
    customer = CustomerFactory(branch=branch)
    with_points(customer, 500)
    # when they redeem 200, then the other 300
    first = services.points_redeem(customer=customer, points=200, note=" 机油一桶 ", by=advisor)
    services.points_redeem(customer=customer, points=300, note="洗车三次", by=advisor)
    # then the statement shows both with the balance after each, the note as given, who
    # recorded it, and the balance is 0
    assert statement(customer) == [
        (PointsKind.PURCHASE, 500, 500),
        (PointsKind.REDEMPTION, -200, 300),
        (PointsKind.REDEMPTION, -300, 0),
    ]
    assert (first.note, first.created_by) == ("机油一桶", advisor)
    assert balance(customer) == 0
    redeemed = TimelineEntry.objects.filter(customer=customer, kind="points_redeemed")
    assert [entry.actor for entry in redeemed] == [advisor, advisor]


def test_the_balance_is_the_sum_of_the_statement_line_by_line(
    branch, branch_manager, advisor, technician
):
    # given a customer who bought a car, referred a friend, had a visit and redeemed twice
    rule(branch, branch_manager, referral_points=800)
    customer = CustomerFactory(branch=branch)
    services.points_for_delivery(delivery=delivered(branch, buyer=customer, price="98000.00"))
    services.points_for_delivery(delivery=delivered(branch, referrer=customer))
    services.points_redeem(customer=customer, points=1000, note="保养套餐", by=advisor)
    work_order = open_work_order(
        branch, advisor, customer=customer,
        vehicle=VehicleFactory(owner=customer, transmission="automatic"),
    )  # fmt: skip
    settlement = Settlement.objects.create(
        work_order=work_order, labour_total=Decimal("1250.00"), parts_total=Decimal("0.00"),
        total=Decimal("1250.00"), customer_amount=Decimal("1250.00"),
        payment_method=PaymentMethod.CASH, paid_amount=Decimal("1250.00"), settled_by=advisor,
    )  # fmt: skip
    services.points_for_settlement(settlement=settlement)
    services.points_redeem(customer=customer, points=500, note="洗车", by=advisor)
    # then each line's balance is the one before plus its points, and the account holds
    # the last of them, the sum of the statement
    lines = statement(customer)
    assert [points for _kind, points, _balance in lines] == [980, 800, -1000, 120, -500]
    running = 0
    for _kind, points, after in lines:
        running += points
        assert after == running
    assert balance(customer) == running == 400


@pytest.mark.django_db(transaction=True)
def test_two_redemptions_at_once_never_overdraw_the_account(branch, advisor):
    # given a customer holding 100 points
    customer = CustomerFactory(branch=branch)
    with_points(customer, 100)

    def redeem():
        return services.points_redeem(customer=customer, points=60, note="机油一桶", by=advisor)

    # when two desks redeem 60 each at the same moment
    results = run_in_threads(redeem, redeem)
    # then one went through and the other was refused; 40 are left
    assert sorted(type(result).__name__ for result in results) == ["DomainError", "PointsEntry"]
    refused = next(result for result in results if not isinstance(result, PointsEntry))
    assert refused.code == "points_insufficient"
    assert balance(customer) == 40
    assert statement(customer) == [
        (PointsKind.PURCHASE, 100, 100),
        (PointsKind.REDEMPTION, -60, 40),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_source_credited_twice_at_once_earns_once(branch):
    delivery = delivered(branch)
    results = run_in_threads(
        lambda: services.points_for_delivery(delivery=delivery),
        lambda: services.points_for_delivery(delivery=delivery),
    )
    assert sorted(results) == [0, 1]
    assert balance(delivery.order.customer) == 1179
