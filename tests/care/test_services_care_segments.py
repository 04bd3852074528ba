"""The nightly customer segments (DOMAIN §1) through segments_compute, on concrete dates:
the abnormal reasons to reach out, the lifecycle, the key customers of a branch by their
last 12 months' revenue, the age segment of the newest car; one row per customer, replaced
by a rerun; a fixed number of queries per chunk of customers."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.care import services
from customers.care.choices import (
    AbnormalReason,
    ComplaintCategory,
    ComplaintChannel,
    Lifecycle,
    Severity,
)
from customers.care.models import CustomerSegment
from customers.choices import VehicleAgeSegment
from customers.models import VehicleOwnership
from customers.services import vehicle_transfer
from dealer_crm.periods import local_day_start
from sales.choices import LeadStatus, OrderStatus
from service.choices import ServiceType
from service.models import Settlement, WorkOrder
from tests.archives.helpers import closed_work_order
from tests.factories import CustomerFactory, LeadFactory, OrderFactory, VehicleFactory
from tests.service.helpers import state

pytestmark = pytest.mark.django_db

NEAR_CHURN = AbnormalReason.NEAR_CHURN
LONG_INACTIVE = AbnormalReason.LONG_INACTIVE
COMPLAINED = AbnormalReason.COMPLAINED
REPAIR_ONLY = AbnormalReason.REPAIR_ONLY


@pytest.fixture
def today():
    return timezone.localdate()


def days_ago(today: date, days: int):
    """Three in the afternoon, `days` before `today`, Asia/Shanghai."""
    return local_day_start(today - timedelta(days=days)) + timedelta(hours=15)


def owner(branch):
    """A customer and their car, delivered in June 2021."""
    customer = CustomerFactory(branch=branch)
    VehicleFactory(owner=customer, transmission="automatic")
    return customer


def visit(customer, staff, today, *, days: int, service_type=ServiceType.MAINTENANCE):
    """A service visit of the customer's car, closed and settled `days` before `today`."""
    advisor, technician = staff
    vehicle = customer.vehicles.order_by("pk").first()
    work_order = closed_work_order(
        customer.branch, advisor, technician, vehicle=vehicle, service_type=service_type
    )
    WorkOrder.objects.filter(pk=work_order.pk).update(closed_at=days_ago(today, days))
    Settlement.objects.filter(work_order=work_order).update(settled_at=days_ago(today, days))
    return work_order


def complaint(customer, by, today, *, days: int):
    return services.complaint_create(
        branch=customer.branch, customer=customer, by=by,
        data={"channel": ComplaintChannel.PHONE, "category": ComplaintCategory.ATTITUDE,
              "severity": Severity.LOW, "description": "前台态度差",
              "received_at": days_ago(today, days)},
    )  # fmt: skip


def bought(customer, price: str, *, at=None, status=OrderStatus.DELIVERED):
    order = OrderFactory(
        branch=customer.branch, customer=customer, status=status, total_price=Decimal(price)
    )
    if at is not None:
        type(order).objects.filter(pk=order.pk).update(delivered_at=at)
    return order


def segment(customer) -> CustomerSegment:
    return CustomerSegment.objects.get(customer=customer)


@pytest.fixture
def staff(advisor, technician):
    return advisor, technician


# --- abnormal customers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_visit", "abnormal"),
    [
        (200, []),
        (274, []),
        (275, [NEAR_CHURN]),
        (300, [NEAR_CHURN]),
        (365, [NEAR_CHURN]),
        (366, [LONG_INACTIVE]),
        (400, [LONG_INACTIVE]),
    ],
)
def test_near_churn_after_one_and_a_half_service_intervals_long_inactive_after_a_year(
    branch, staff, today, last_visit, abnormal
):
    # given an owner whose last (maintenance) visit was `last_visit` days ago
    customer = owner(branch)
    visit(customer, staff, today, days=last_visit)
    # when the segments are computed
    services.segments_compute(branch=branch, today=today)
    # then near churn past 1.5 × 183 days, long inactive (and only that) past 365
    row = segment(customer)
    assert row.abnormal == abnormal
    assert row.last_visit_on == today - timedelta(days=last_visit)


def test_an_owner_never_seen_in_the_workshop_counts_from_the_delivery(branch, today):
    customer = CustomerFactory(branch=branch)
    VehicleFactory(owner=customer, delivery_date=today - timedelta(days=300))
    services.segments_compute(branch=branch, today=today)
    assert (segment(customer).abnormal, segment(customer).last_visit_on) == ([NEAR_CHURN], None)


def test_a_car_delivered_after_the_last_visit_starts_the_count_again(branch, staff, today):
    # given an owner last in the workshop 400 days ago who bought a new car a month ago
    customer = owner(branch)
    visit(customer, staff, today, days=400)
    VehicleFactory(owner=customer, delivery_date=today - timedelta(days=30))
    # when the segments are computed
    services.segments_compute(branch=branch, today=today)
    # then they are not inactive
    assert segment(customer).abnormal == []


def test_a_prospect_is_never_inactive(branch, today):
    prospect = CustomerFactory(branch=branch)
    services.segments_compute(branch=branch, today=today)
    assert segment(prospect).abnormal == []


@pytest.mark.parametrize(
    ("complained", "last_visit", "abnormal"),
    [
        (60, 90, [COMPLAINED]),  # two months ago, not back since
        (60, 30, []),  # came back after complaining
        (240, 250, []),  # eight months ago: too long ago
    ],
)
def test_complained_in_the_last_six_months_and_not_back_since(
    branch, staff, customer_care, today, complained, last_visit, abnormal
):
    customer = owner(branch)
    visit(customer, staff, today, days=last_visit)
    complaint(customer, customer_care, today, days=complained)
    services.segments_compute(branch=branch, today=today)
    assert segment(customer).abnormal == abnormal


def test_a_complaint_without_any_visit_counts(branch, customer_care, today):
    prospect = CustomerFactory(branch=branch)
    complaint(prospect, customer_care, today, days=60)
    services.segments_compute(branch=branch, today=today)
    assert segment(prospect).abnormal == [COMPLAINED]


@pytest.mark.parametrize(
    ("visits", "abnormal"),
    [
        ([(90, ServiceType.REPAIR)], [REPAIR_ONLY]),
        ([(90, ServiceType.BODYWORK), (400, ServiceType.MAINTENANCE)], [REPAIR_ONLY]),
        ([(90, ServiceType.REPAIR), (180, ServiceType.MAINTENANCE)], []),
        ([(180, ServiceType.REPAIR), (90, ServiceType.MAINTENANCE)], []),
        ([(400, ServiceType.REPAIR)], [LONG_INACTIVE]),
    ],
)
def test_repair_only_is_repairs_without_maintenance_in_the_last_twelve_months(
    branch, staff, today, visits, abnormal
):
    customer = owner(branch)
    for days, service_type in visits:
        visit(customer, staff, today, days=days, service_type=service_type)
    services.segments_compute(branch=branch, today=today)
    assert segment(customer).abnormal == abnormal


# --- lifecycle and the newest car ------------------------------------------------------------


def test_lifecycle_prospect_owner_or_lost(branch, consultant, today):
    # given a prospect, an owner, a prospect whose lead was lost, and a former owner
    prospect = CustomerFactory(branch=branch)
    car_owner = owner(branch)
    gave_up = CustomerFactory(branch=branch)
    LeadFactory(branch=branch, customer=gave_up, status=LeadStatus.LOST)
    former = CustomerFactory(branch=branch)
    sold = VehicleFactory(owner=former)
    VehicleOwnership.objects.create(vehicle=sold, customer=former, started_on=date(2021, 6, 1))
    vehicle_transfer(
        vehicle=sold, new_owner=CustomerFactory(branch=branch), by=consultant,
        transferred_on=today - timedelta(days=10),
    )  # fmt: skip
    # when the segments are computed
    services.segments_compute(branch=branch, today=today)
    # then each has the lifecycle stage they are at
    assert [segment(c).lifecycle for c in (prospect, car_owner, gave_up, former)] == [
        Lifecycle.PROSPECT, Lifecycle.OWNER, Lifecycle.LOST, Lifecycle.LOST
    ]  # fmt: skip
    assert segment(former).vehicle_age == ""


def test_an_owner_with_a_lost_lead_is_still_an_owner(branch, today):
    customer = owner(branch)
    LeadFactory(branch=branch, customer=customer, status=LeadStatus.LOST)
    services.segments_compute(branch=branch, today=today)
    assert segment(customer).lifecycle == Lifecycle.OWNER


def test_the_vehicle_age_is_that_of_the_newest_car(branch, today):
    # given a customer whose newer car (registered first) is within 三包, the older long out
    customer = CustomerFactory(branch=branch)
    VehicleFactory(
        owner=customer, delivery_date=today - timedelta(days=100), odometer_km=3_000,
        three_guarantees_end_date=today + timedelta(days=600), three_guarantees_end_km=50_000,
        warranty_end_date=today + timedelta(days=1000),
    )  # fmt: skip
    VehicleFactory(
        owner=customer, delivery_date=date(2015, 5, 1), odometer_km=150_000,
        three_guarantees_end_date=date(2017, 5, 1), three_guarantees_end_km=50_000,
        warranty_end_date=date(2018, 5, 1),
    )  # fmt: skip
    no_dates = CustomerFactory(branch=branch)
    VehicleFactory(owner=no_dates, delivery_date=None)
    # when the segments are computed
    services.segments_compute(branch=branch, today=today)
    # then the age segment is the newer car's
    assert segment(customer).vehicle_age == VehicleAgeSegment.THREE_GUARANTEES
    assert segment(no_dates).vehicle_age == VehicleAgeSegment.UNKNOWN


# --- key customers --------------------------------------------------------------------------


def test_revenue_is_settlements_paid_by_the_customer_and_cars_delivered_in_12_months(
    branch, staff, today
):
    # given an owner with a visit settled this spring, one last year, a car delivered this
    # year, one delivered 13 months ago and an order not delivered yet
    customer = owner(branch)
    recent = visit(customer, staff, today, days=30, service_type=ServiceType.REPAIR)
    visit(customer, staff, today, days=400, service_type=ServiceType.REPAIR)
    bought(customer, "117900.00", at=days_ago(today, 100))
    bought(customer, "98000.00", at=days_ago(today, 395))
    bought(customer, "150000.00", status=OrderStatus.INVOICED)
    # when the segments are computed
    services.segments_compute(branch=branch, today=today)
    # then the revenue is the recent settlement's customer share and the recent car
    assert segment(customer).revenue_12m == recent.settlement.customer_amount + Decimal("117900")


def test_key_customers_are_the_top_fifth_of_the_branch_by_revenue(branch, other_branch, today):
    # given ten customers with revenue, three without, and big spenders at the other branch
    earning = [CustomerFactory(branch=branch) for _n in range(10)]
    for n, customer in enumerate(earning, start=1):
        bought(customer, f"{n * 10_000}.00")
    idle = [CustomerFactory(branch=branch) for _n in range(3)]
    for _n in range(5):
        bought(CustomerFactory(branch=other_branch), "900000.00")
    # when the branch's segments are computed
    services.segments_compute(branch=branch, today=today)
    # then exactly the two biggest (20%) are key customers
    key = set(CustomerSegment.objects.filter(key_customer=True).values_list("customer", flat=True))
    assert key == {earning[9].pk, earning[8].pk}
    assert all(not segment(customer).key_customer for customer in idle)
    assert segment(earning[9]).revenue_12m == Decimal("100000.00")


def test_customers_level_with_the_last_key_customer_are_key_too(branch, today):
    # given ten customers with revenue, the second and third biggest spending the same
    earning = [CustomerFactory(branch=branch) for _n in range(10)]
    for customer, price in zip(earning, [90, 50, 50, 40, 30, 20, 10, 5, 4, 3], strict=True):
        bought(customer, f"{price * 1000}.00")
    services.segments_compute(branch=branch, today=today)
    key = set(CustomerSegment.objects.filter(key_customer=True).values_list("customer", flat=True))
    assert key == {earning[0].pk, earning[1].pk, earning[2].pk}


@pytest.mark.parametrize(("with_revenue", "key"), [(0, 0), (1, 1), (5, 1), (6, 2)])
def test_a_fifth_is_rounded_up_and_customers_without_revenue_are_never_key(
    branch, today, with_revenue, key
):
    for n in range(with_revenue):
        bought(CustomerFactory(branch=branch), f"{(n + 1) * 1000}.00")
    for _n in range(4):
        CustomerFactory(branch=branch)
    services.segments_compute(branch=branch, today=today)
    assert CustomerSegment.objects.filter(key_customer=True).count() == key
    assert not CustomerSegment.objects.filter(key_customer=True, revenue_12m=0).exists()


# --- reruns, branches, queries --------------------------------------------------------------


def test_a_rerun_replaces_each_customers_row(branch, staff, today):
    # given segments computed yesterday
    customer = owner(branch)
    other = CustomerFactory(branch=branch)
    assert services.segments_compute(branch=branch, today=today - timedelta(days=1)) == 2
    first = segment(customer).pk
    # when the customer came in since and the segments are computed again
    visit(customer, staff, today, days=0)
    assert services.segments_compute(branch=branch, today=today) == 2
    # then each customer still has one row, now up to date
    assert CustomerSegment.objects.count() == 2
    row = segment(customer)
    assert (row.pk, row.last_visit_on, row.computed_on) == (first, today, today)
    assert segment(other).computed_on == today


def test_computing_one_branch_leaves_the_other_untouched(branch, other_branch, today):
    ours = CustomerFactory(branch=branch)
    theirs = CustomerFactory(branch=other_branch)
    services.segments_compute(branch=other_branch, today=today - timedelta(days=5))
    before = state(segment(theirs))
    assert services.segments_compute(branch=branch, today=today) == 1
    assert segment(ours).computed_on == today
    assert state(segment(theirs)) == before


def test_merged_customers_are_not_computed(branch, today):
    kept = CustomerFactory(branch=branch)
    CustomerFactory(branch=branch, merged_into=kept)
    assert services.segments_compute(branch=branch, today=today) == 1
    assert list(CustomerSegment.objects.values_list("customer", flat=True)) == [kept.pk]


def customers_with_history(branch, consultant, customer_care, today, n: int) -> None:
    """`n` customers, each with a car, a car bought this year, a lost lead and a complaint."""
    for _n in range(n):
        customer = owner(branch)
        bought(customer, "100000.00")
        LeadFactory(branch=branch, customer=customer, status=LeadStatus.LOST)
        complaint(customer, customer_care, today, days=20)


def queries_of_compute(branch, today) -> int:
    with CaptureQueriesContext(connection) as queries:
        services.segments_compute(branch=branch, today=today)
    return len(queries)


def test_the_queries_grow_with_the_chunks_not_the_customers(
    monkeypatch, branch, consultant, customer_care, today
):
    # given 3 customers with their history, then 30, all in one chunk
    customers_with_history(branch, consultant, customer_care, today, 3)
    three = queries_of_compute(branch, today)
    customers_with_history(branch, consultant, customer_care, today, 27)
    thirty = queries_of_compute(branch, today)
    # when the 30 are computed in one, two and three chunks
    by_chunks = []
    for size in (30, 15, 10):
        monkeypatch.setattr(services, "CHUNK", size)
        by_chunks.append(queries_of_compute(branch, today))
    # then 30 customers take as many queries as 3, and each chunk adds the same number
    assert thirty == three
    assert by_chunks[0] == thirty
    assert by_chunks[2] - by_chunks[1] == by_chunks[1] - by_chunks[0] > 0
    assert CustomerSegment.objects.count() == 30
