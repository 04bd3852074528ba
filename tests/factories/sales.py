"""The sales funnel's rows, created directly (not through the services) and always valid
against the database's CHECK constraints: a lead past 'new' is verified, a lost lead has its
reason, a referral its referrer, an arrived vehicle its arrival date, an allocated order its
vehicle, an invoiced order its invoice number, a cancelled order its reason."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from customers.validators import resident_id_check_digit
from sales.choices import (
    LEAD_CLOSED,
    ActivityKind,
    ActivityOutcome,
    ApprovalDecision,
    DeliveryCheck,
    DeliveryDocument,
    DepositHandling,
    LeadSource,
    LeadStatus,
    LostReason,
    OrderStatus,
    PaymentKind,
    PaymentMethod,
    StockStatus,
    TestDriveStatus,
)
from sales.models import (
    Activity,
    Delivery,
    Lead,
    LeadDeadlineBreach,
    Order,
    Payment,
    Quote,
    QuoteApproval,
    ShowroomTraffic,
    StockVehicle,
    TestDrive,
    TradeIn,
)

from .customers import CustomerFactory, VehicleFactory, chinese_name, mobile, plate, vin
from .platform import BranchFactory, UserFactory

# The lead's stage times in funnel order; `LeadFactory(reached="quoted")` sets every one up to
# quoted_at, each an hour after the one before, as a lead that went that far would have them.
STAGE_TIMES = [
    "verified_at",
    "visited_at",
    "test_driven_at",
    "quoted_at",
    "ordered_at",
    "delivered_at",
]
STATUS_AT_STAGE = {
    "verified": LeadStatus.VERIFIED,
    "visited": LeadStatus.VISITED,
    "test_driven": LeadStatus.TEST_DRIVEN,
    "quoted": LeadStatus.QUOTED,
    "ordered": LeadStatus.WON,
    "delivered": LeadStatus.WON,
}
# The statuses a lead may hold without having been verified (lead_progress_needs_verification).
UNVERIFIED_STATUSES = [LeadStatus.NEW, LeadStatus.LOST, LeadStatus.INVALID]
# The stock status of the vehicle an order in this status holds.
STOCK_STATUS_OF_ORDER = {
    OrderStatus.ALLOCATED: StockStatus.RESERVED,
    OrderStatus.INVOICED: StockStatus.SOLD,
    OrderStatus.DELIVERED: StockStatus.DELIVERED,
}
INVOICED_ORDER_STATUSES = [OrderStatus.INVOICED, OrderStatus.DELIVERED]


def resident_id(n: int) -> str:
    """A valid resident ID number (Guangzhou Tianhe, born 1990-01-01), unique for n < 1000."""
    first17 = f"44010619900101{n % 1000:03d}"
    return first17 + resident_id_check_digit(first17)


def _stage_time(field: str) -> factory.LazyAttribute:
    def at(lead):
        position = STAGE_TIMES.index(field)
        reached = STAGE_TIMES.index(f"{lead.reached}_at") if lead.reached else -1
        needs_verification = field == "verified_at" and lead.status not in UNVERIFIED_STATUSES
        if position <= reached or needs_verification:
            return lead.created_at + timedelta(hours=position + 1)
        return None

    return factory.LazyAttribute(at)


def _now_if(condition) -> factory.LazyAttribute:
    return factory.LazyAttribute(lambda o: timezone.now() if condition(o) else None)


class LeadFactory(factory.django.DjangoModelFactory):
    """A walk-in lead; `reached="<funnel stage>"` builds one that got that far."""

    class Meta:
        model = Lead

    class Params:
        reached = None  # verified, visited, test_driven, quoted, ordered or delivered

    branch = factory.SubFactory(BranchFactory)
    source = LeadSource.WALK_IN
    name = factory.Sequence(chinese_name)
    # 1394xxxxxxx, apart from the customers' 1390xxxxxxx, so a lead never matches one by chance.
    mobile = factory.Sequence(lambda n: mobile(40_000_000 + n))
    model_of_interest = "朗逸"
    status = factory.LazyAttribute(lambda o: STATUS_AT_STAGE.get(o.reached, LeadStatus.NEW))
    lost_reason = factory.LazyAttribute(
        lambda o: LostReason.OTHER if o.status == LeadStatus.LOST else ""
    )
    referrer = factory.Maybe(
        factory.LazyAttribute(lambda o: o.source == LeadSource.REFERRAL),
        yes_declaration=factory.SubFactory(
            CustomerFactory, branch=factory.SelfAttribute("..branch")
        ),
        no_declaration=None,
    )
    created_at = factory.LazyFunction(timezone.now)
    handed_over_at = factory.SelfAttribute("created_at")
    verified_at = _stage_time("verified_at")
    visited_at = _stage_time("visited_at")
    test_driven_at = _stage_time("test_driven_at")
    quoted_at = _stage_time("quoted_at")
    ordered_at = _stage_time("ordered_at")
    delivered_at = _stage_time("delivered_at")
    closed_at = _now_if(lambda o: o.status in LEAD_CLOSED)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    lead = factory.SubFactory(LeadFactory)
    kind = ActivityKind.CALL
    outcome = ActivityOutcome.REACHED
    note = "客户在比较几款车型，周末来店"
    by = factory.SubFactory(UserFactory)


class StockVehicleFactory(factory.django.DjangoModelFactory):
    """A vehicle in stock since today; `status=StockStatus.IN_TRANSIT` has not arrived."""

    class Meta:
        model = StockVehicle

    branch = factory.SubFactory(BranchFactory)
    # Serials from 600000 up: apart from VehicleFactory's (800000 up) and the small ones tests
    # spell out, so a delivered stock vehicle can become a customer's vehicle with its VIN.
    vin = factory.Sequence(lambda n: vin(600_000 + n))
    brand = "大众"
    series = "朗逸"
    configuration = "1.5L 自动舒适版"
    colour = "白色"
    model_year = 2026
    list_price = Decimal("119900.00")
    status = StockStatus.IN_STOCK
    arrival_date = factory.LazyAttribute(
        lambda o: None if o.status == StockStatus.IN_TRANSIT else timezone.localdate()
    )


def _next_hour():
    return timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


class TestDriveFactory(factory.django.DjangoModelFactory):
    """A booked test drive in a demo car of its own, an hour after the previous one built."""

    class Meta:
        model = TestDrive

    branch = factory.SubFactory(BranchFactory)
    lead = factory.SubFactory(LeadFactory, branch=factory.SelfAttribute("..branch"))
    demo_vehicle = factory.SubFactory(
        StockVehicleFactory, branch=factory.SelfAttribute("..branch"), status=StockStatus.DEMO
    )
    consultant = factory.SubFactory(UserFactory)
    driver_name = factory.SelfAttribute("lead.name")
    driver_licence_number = factory.Sequence(resident_id)
    # Apart in time, so tests sharing a demo car do not trip the no-double-booking constraint.
    starts_at = factory.Sequence(lambda n: _next_hour() + timedelta(hours=n))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(minutes=30))
    route = "天河路—珠江新城环线"
    status = TestDriveStatus.BOOKED
    agreement_signed = factory.LazyAttribute(lambda o: o.status == TestDriveStatus.DONE)


class TradeInFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TradeIn

    branch = factory.SubFactory(BranchFactory)
    lead = factory.SubFactory(LeadFactory, branch=factory.SelfAttribute("..branch"))
    brand = "本田"
    series = "雅阁"
    model_year = 2018
    vin = factory.Sequence(lambda n: vin(n, prefix="LHGCV165", year_code="J"))
    plate = factory.Sequence(lambda n: plate(50_000 + n))
    odometer_km = 86_000
    appraised_value = Decimal("85000.00")
    offered_value = Decimal("80000.00")
    appraised_by = factory.SubFactory(UserFactory)


class QuoteFactory(factory.django.DjangoModelFactory):
    """A draft quote whose total is what its prices add up to."""

    class Meta:
        model = Quote

    branch = factory.SubFactory(BranchFactory)
    lead = factory.SubFactory(LeadFactory, branch=factory.SelfAttribute("..branch"))
    consultant = factory.SubFactory(UserFactory)
    brand = "大众"
    series = "朗逸"
    configuration = "1.5L 自动舒适版"
    colour = "白色"
    list_price = Decimal("119900.00")
    discount = Decimal("2000.00")
    # The model's own formula, so the factory never disagrees with the service.
    total = factory.LazyAttribute(
        lambda o: Quote(
            list_price=o.list_price,
            discount=o.discount,
            accessories_price=o.accessories_price,
            insurance_price=o.insurance_price,
            registration_fee=o.registration_fee,
            trade_in_value=o.trade_in_value,
        ).computed_total()
    )
    accessories_price = Decimal("0.00")
    insurance_price = Decimal("0.00")
    registration_fee = Decimal("0.00")
    trade_in_value = Decimal("0.00")


class QuoteApprovalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuoteApproval

    quote = factory.SubFactory(QuoteFactory)
    decision = ApprovalDecision.SUBMITTED
    discount = factory.SelfAttribute("quote.discount")
    by = factory.SubFactory(UserFactory)


class OrderFactory(factory.django.DjangoModelFactory):
    """A draft order; a later status brings what it needs (signed time, vehicle, invoice)."""

    class Meta:
        model = Order

    branch = factory.SubFactory(BranchFactory)
    customer = factory.SubFactory(CustomerFactory, branch=factory.SelfAttribute("..branch"))
    consultant = factory.SubFactory(UserFactory)
    brand = "大众"
    series = "朗逸"
    configuration = "1.5L 自动舒适版"
    colour = "白色"
    total_price = Decimal("117900.00")
    status = OrderStatus.DRAFT
    signed_at = _now_if(lambda o: o.status not in (OrderStatus.DRAFT, OrderStatus.CANCELLED))
    stock_vehicle = factory.Maybe(
        factory.LazyAttribute(lambda o: o.status in STOCK_STATUS_OF_ORDER),
        yes_declaration=factory.SubFactory(
            StockVehicleFactory,
            branch=factory.SelfAttribute("..branch"),
            status=factory.LazyAttribute(lambda v: STOCK_STATUS_OF_ORDER[v.factory_parent.status]),
        ),
        no_declaration=None,
    )
    allocated_at = _now_if(lambda o: o.stock_vehicle is not None)
    invoice_number = factory.Maybe(
        factory.LazyAttribute(lambda o: o.status in INVOICED_ORDER_STATUSES),
        yes_declaration=factory.Sequence(lambda n: f"4400{n:08d}"),
        no_declaration="",
    )
    invoiced_at = _now_if(lambda o: o.status in INVOICED_ORDER_STATUSES)
    delivered_at = _now_if(lambda o: o.status == OrderStatus.DELIVERED)
    cancelled_at = _now_if(lambda o: o.status == OrderStatus.CANCELLED)
    cancel_reason = factory.LazyAttribute(
        lambda o: "客户贷款未获批准" if o.status == OrderStatus.CANCELLED else ""
    )
    deposit_handling = factory.LazyAttribute(
        lambda o: DepositHandling.REFUNDED if o.status == OrderStatus.CANCELLED else ""
    )


class PaymentFactory(factory.django.DjangoModelFactory):
    """A deposit paid today by WeChat Pay."""

    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    kind = PaymentKind.DEPOSIT
    amount = Decimal("5000.00")
    paid_on = factory.LazyFunction(timezone.localdate)
    method = PaymentMethod.WECHAT
    reference = factory.Sequence(lambda n: f"WX{n:010d}")
    recorded_by = factory.SubFactory(UserFactory)


class DeliveryFactory(factory.django.DjangoModelFactory):
    """A delivered order handed over today, its stock vehicle now the customer's vehicle."""

    class Meta:
        model = Delivery

    order = factory.SubFactory(OrderFactory, status=OrderStatus.DELIVERED)
    delivered_on = factory.LazyFunction(timezone.localdate)
    delivered_by = factory.SubFactory(UserFactory)
    checklist = factory.LazyFunction(lambda: list(DeliveryCheck.values))
    documents = factory.LazyFunction(lambda: list(DeliveryDocument.values))
    vehicle = factory.SubFactory(
        VehicleFactory,
        owner=factory.SelfAttribute("..order.customer"),
        vin=factory.SelfAttribute("..order.stock_vehicle.vin"),
        model_year=factory.SelfAttribute("..order.stock_vehicle.model_year"),
        delivery_date=factory.SelfAttribute("..delivered_on"),
    )


class LeadDeadlineBreachFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadDeadlineBreach

    lead = factory.SubFactory(LeadFactory)
    kind = LeadDeadlineBreach.Kind.FIRST_RESPONSE
    due_at = factory.LazyAttribute(lambda o: o.lead.handed_over_at + timedelta(hours=24))


class ShowroomTrafficFactory(factory.django.DjangoModelFactory):
    """One day's showroom count; each one built is a day earlier than the one before."""

    class Meta:
        model = ShowroomTraffic

    branch = factory.SubFactory(BranchFactory)
    day = factory.Sequence(lambda n: timezone.localdate() - timedelta(days=n))
    first_with_appointment = 3
    first_walk_in = 5
    return_with_appointment = 2
    return_walk_in = 1
    phone_inquiries = 4
