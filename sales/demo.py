"""The sales funnel of the demo: vehicle stock, three months of leads at every stage, test
drives, quotes (one awaiting a manager's approval), orders, deliveries and showroom traffic.

Everything goes through the sales services, then is moved back in time to when it would have
happened. Unlike the customer demo, which is dated from a fixed anchor day, the funnel is
dated from the day it is loaded: a consultant's "today" list must have today's calls in it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import F
from django.utils import timezone

from customers.models import Customer
from dealer_crm.models import Branch, Notification

from . import services
from .choices import (
    ActivityKind,
    ActivityOutcome,
    DeliveryCheck,
    DeliveryDocument,
    IntentLevel,
    LeadSource,
    LostReason,
    PaymentKind,
    PaymentMethod,
    StockStatus,
    TradeInDecision,
)
from .models import Activity, Lead, Order, Quote, ShowroomTraffic

# How far along the funnel each demo lead gets, as cumulative shares of the leads.
REACHES = [
    ("verified", 0.80),
    ("visited", 0.55),
    ("test_driven", 0.38),
    ("quoted", 0.28),
    ("ordered", 0.16),
    ("delivered", 0.09),
]
SOURCES = (
    [LeadSource.WALK_IN] * 5 + [LeadSource.PHONE] * 3 + [LeadSource.WEBSITE] * 4
    + [LeadSource.THIRD_PARTY] * 4 + [LeadSource.REFERRAL] * 2 + [LeadSource.CAMPAIGN]
    + [LeadSource.AUTO_SHOW]
)  # fmt: skip
ROUTES = ["店外环线 8 公里", "高速试驾线 15 公里", "城市道路 10 公里"]
TRAFFIC_COUNTERS = ShowroomTraffic.COUNTERS


@dataclass(frozen=True)
class StockModel:
    brand: str
    series: str
    configuration: str
    list_price: Decimal
    colours: tuple[str, ...]
    vin: Callable[[int], str]  # model year → a fresh valid VIN


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _shift_lead(lead: Lead, created: datetime) -> None:
    """Move a lead and what was written with it back to `created`, keeping their spacing."""
    current = Lead.objects.get(pk=lead.pk)
    delta = created - current.created_at
    stamps = [
        "created_at", "handed_over_at", "first_response_at", "status_changed_at", "verified_at",
        "contacted_at", "visited_at", "quoted_at", "ordered_at", "closed_at",
    ]  # fmt: skip
    Lead.objects.filter(pk=lead.pk).update(
        **{stamp: F(stamp) + delta for stamp in stamps if getattr(current, stamp) is not None}
    )
    Activity.objects.filter(lead=lead).update(occurred_at=F("occurred_at") + delta)
    Quote.objects.filter(lead=lead).update(created_at=F("created_at") + delta)
    Quote.objects.filter(lead=lead, sent_at__isnull=False).update(sent_at=F("sent_at") + delta)
    # Signed back then; allocation, invoice and delivery of the delivered ones happen today.
    for field in ("signed_at", "created_at"):
        Order.objects.filter(lead=lead, **{f"{field}__isnull": False}).update(
            **{field: F(field) + delta}
        )


def sales_demo_create(
    builder,
    *,
    branch: Branch,
    models: list[StockModel],
    consultants: list[User],
    manager: User,
    inspector: User,
    owners: list[Customer],
    lead_count: int,
    today: date | None = None,
) -> None:
    rng = builder.rng
    today = today or timezone.localdate()

    # Stock: vehicles that arrived over the last four months, two in transit, two demo cars.
    stock = []
    for number in range(lead_count // 3 + 8):
        model = rng.choice(models)
        arrived = today - timedelta(days=rng.randint(3, 120)) if number > 1 else None
        vehicle = services.stock_vehicle_create(
            branch=branch,
            by=manager,
            data={
                "vin": model.vin(today.year),
                "brand": model.brand,
                "series": model.series,
                "configuration": model.configuration,
                "colour": rng.choice(model.colours),
                "model_year": today.year,
                "list_price": model.list_price,
                "status": StockStatus.IN_TRANSIT if arrived is None else StockStatus.IN_STOCK,
                "arrival_date": arrived,
            },
        )
        if arrived is not None and rng.random() < 0.85:
            done_on = min(arrived + timedelta(days=1), today)
            vehicle = services.stock_vehicle_record_pdi(
                stock_vehicle=vehicle, by=inspector, done_on=done_on
            )
        stock.append(vehicle)
    demo_cars = []
    for vehicle in [v for v in stock if v.arrival_date][:2]:
        demo_cars.append(
            services.stock_vehicle_set_demo(stock_vehicle=vehicle, by=manager, demo=True)
        )
    for_sale = [v for v in stock if v not in demo_cars]

    # Showroom traffic for the last 30 days (today's count is still going).
    for days_ago in range(30, -1, -1):
        counts = {counter: rng.randint(0, 6) for counter in TRAFFIC_COUNTERS}
        if days_ago == 0:
            counts = {counter: value // 3 for counter, value in counts.items()}
        services.showroom_traffic_save(
            branch=branch, by=manager, day=today - timedelta(days=days_ago), counts=counts
        )

    # Leads, the oldest first, each taken as far as its share of the funnel allows.
    for number in range(lead_count):
        created_day = today - timedelta(days=int(90 * (1 - number / lead_count)))
        consultant = rng.choice(consultants)
        source = rng.choice(SOURCES)
        model = rng.choice(models)
        name = builder.person_name(rng.choice(["male", "female"]))
        lead = services.lead_create(
            branch=branch,
            by=consultant,
            data={
                "source": source,
                "name": name,
                "mobile": builder.mobile(),
                "model_of_interest": model.series,
                "budget": Decimal(int(round(model.list_price * rng.choice([9, 10, 11]) / 10, -4))),
                "intent_level": rng.choice(IntentLevel.values),
                "expected_purchase_date": created_day + timedelta(days=rng.choice([7, 15, 30, 60])),
                "referrer": rng.choice(owners) if source == LeadSource.REFERRAL else None,
                "consultant": consultant,
            },
        )
        share = rng.random()
        reached = {stage for stage, cut in REACHES if share < cut}
        age = (today - created_day).days
        if "verified" in reached:
            services.lead_verify(lead=lead, by=consultant)
        if "visited" in reached:
            services.activity_log(
                lead=lead, by=consultant, kind=ActivityKind.VISIT, outcome=ActivityOutcome.REACHED
            )
        elif "verified" in reached:
            services.activity_log(
                lead=lead,
                by=consultant,
                kind=ActivityKind.CALL,
                outcome=rng.choice([ActivityOutcome.CONSIDERING, ActivityOutcome.APPOINTMENT]),
            )
        if "test_driven" in reached and demo_cars and age >= 2:
            start = _at(created_day + timedelta(days=1), 9 + number % 9, 30 * (number % 2))
            drive = services.test_drive_book(
                lead=lead,
                by=consultant,
                data={
                    "demo_vehicle": demo_cars[number % len(demo_cars)],
                    "driver_name": name,
                    "driver_licence_number": builder.resident_id(
                        "440106",
                        date(1975 + number % 25, 1 + number % 12, 1 + number % 27),
                        "male",
                    ),
                    "starts_at": start,
                    "ends_at": start + timedelta(minutes=30),
                    "route": rng.choice(ROUTES),
                    "agreement_signed": True,
                },
            )
            services.test_drive_complete(
                test_drive=drive,
                by=consultant,
                agreement_signed=True,
                feedback="动力满意，空间够用",
            )
        order = None
        if "quoted" in reached:
            trade_in = None
            if rng.random() < 0.3:
                trade_in = services.trade_in_appraise(
                    lead=lead,
                    by=consultant,
                    data={
                        "brand": "大众",
                        "series": "宝来",
                        "model_year": today.year - rng.randint(5, 10),
                        "odometer_km": rng.randint(60, 160) * 1000,
                        "appraised_value": Decimal(rng.randint(30, 60) * 1000),
                        "offered_value": Decimal(rng.randint(28, 55) * 1000),
                        "condition_note": "车况良好，无重大事故",
                    },
                )
                services.trade_in_decide(
                    trade_in=trade_in, by=consultant, decision=TradeInDecision.ACCEPTED
                )
            quote = services.quote_create(
                lead=lead,
                by=consultant,
                data={
                    "brand": model.brand,
                    "series": model.series,
                    "configuration": model.configuration,
                    "colour": rng.choice(model.colours),
                    "list_price": model.list_price,
                    "discount": Decimal(rng.choice([2000, 3000, 5000, 8000])),
                    "accessories": "脚垫、行车记录仪、贴膜",
                    "accessories_price": Decimal("3800"),
                    "insurance_price": Decimal("6800"),
                    "registration_fee": Decimal("500"),
                    "trade_in": trade_in,
                    "valid_until": today + timedelta(days=7),
                },
            )
            services.quote_submit(quote=quote, by=consultant)
            if quote.needs_approval:
                services.quote_approve(quote=quote, by=manager, note="本月冲量，同意")
            services.quote_send(quote=quote, by=consultant)
            if "ordered" in reached:
                order = services.order_create(quote=quote, by=consultant)
                services.order_sign(order=order, by=consultant)
                services.payment_record(
                    order=order,
                    by=consultant,
                    data={
                        "kind": PaymentKind.DEPOSIT,
                        "amount": Decimal("5000"),
                        "paid_on": min(created_day + timedelta(days=3), today),
                        "method": PaymentMethod.WECHAT,
                    },
                )
        if order is not None and "delivered" in reached:
            vehicle = next(
                (v for v in for_sale if v.series == order.series and v.pdi_done_on), None
            )
            if vehicle is not None and vehicle.pdi_done_on <= today:
                for_sale.remove(vehicle)
                services.order_allocate(order=order, stock_vehicle=vehicle, by=consultant)
                services.payment_record(
                    order=order,
                    by=consultant,
                    data={
                        "kind": PaymentKind.FINAL,
                        "amount": order.total_price - Decimal("5000"),
                        "paid_on": today,
                        "method": PaymentMethod.TRANSFER,
                    },
                )
                services.order_invoice(
                    order=order, by=consultant, invoice_number=f"4400{branch.pk}{number:06d}"
                )
                services.delivery_record(
                    order=order,
                    by=consultant,
                    delivered_on=today,
                    checklist=list(DeliveryCheck.values),
                    documents=list(DeliveryDocument.values),
                    odometer_km=8,
                )
        lead.refresh_from_db()
        if lead.is_open and age > 45 and rng.random() < 0.5:
            services.lead_lose(lead=lead, by=consultant, reason=rng.choice(LostReason.values))
        elif lead.is_open and not lead.is_verified and age > 20 and rng.random() < 0.3:
            services.lead_invalidate(lead=lead, by=consultant, note="空号")
        _shift_lead(lead, _at(created_day, 10 + number % 8))
        lead.refresh_from_db()
        if lead.is_open:
            # Spread the open leads' next calls: a few overdue, some today, the rest ahead.
            due = today + timedelta(days=rng.choice([-3, -1, 0, 0, 0, 1, 2, 5]))
            Lead.objects.filter(pk=lead.pk).update(next_follow_up_on=due)

    # One quote waits for the manager: a discount above the branch's limit.
    waiting = Lead.objects.filter(branch=branch, status="test_driven").order_by("-pk").first()
    if waiting is not None:
        quote = services.quote_create(
            lead=waiting,
            by=waiting.consultant,
            data={
                "brand": models[0].brand,
                "series": models[0].series,
                "configuration": models[0].configuration,
                "colour": models[0].colours[0],
                "list_price": models[0].list_price,
                "discount": branch.quote_discount_limit + Decimal("5000"),
                "insurance_price": Decimal("6800"),
                "registration_fee": Decimal("500"),
                "valid_until": today + timedelta(days=7),
            },
        )
        services.quote_submit(quote=quote, by=waiting.consultant, note="客户对比了竞品报价")


def sales_demo_finish() -> None:
    """What the scheduled jobs would have done by now: flag the leads past their deadlines.
    The notices of the past three months are read; the missed deadlines and the discount still
    awaiting approval are news."""
    pending = [
        quote.get_absolute_url() for quote in Quote.objects.filter(status="pending_approval")
    ]
    Notification.objects.exclude(url__in=pending).update(read_at=timezone.now())
    services.lead_deadlines_check()
