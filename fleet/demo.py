"""The fleet department of the demo, in the Guangzhou branch: six large accounts that are
also customers of the branch (same names and credit codes), one of them an affiliate of
another, their buying centres and monthly progress reports; this year's agreement of the taxi
company with its volume tiers, and deals at every stage — the taxi company's won deal priced in
two batches of 秦PLUS EV at 125,000 CNY a vehicle (the first's 12 sales orders delivered and
its support settled; the second priced at the higher tier, its 13 sales orders signed and
waiting for vehicles), a tender, a negotiation with a discount awaiting the manager, an
overdue discount request flagged, a special configuration approved, a lost deal — and an
account whose protection lapsed when its three months ended, and a driving school awaiting
confirmation.

The rental company of the branch (广州悦途汽车租赁有限公司) is left unregistered: it is the
one the demo's journey registers. Everything goes through the fleet services, run by the
demo fleet manager and decided by the sales manager; the first batch's vehicles arrive in
stock (the sales manager), pass their PDI (the technician) and are allocated, paid, invoiced
and handed over through the sales services by the fleet manager, the orders' consultant.
Then everything is moved back in time to when it happened, the batches and their sales
orders never before the agreement was signed (their deliveries count toward its tiers).
Loading twice changes nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from customers.choices import CustomerKind
from customers.models import Customer, TimelineEntry
from customers.timeline import VEHICLE_ADDED
from dealer_crm.models import Branch
from dealer_crm.periods import add_months
from sales import services as sales_services
from sales.choices import DeliveryCheck, DeliveryDocument, PaymentKind, PaymentMethod, StockStatus
from sales.models import Order
from sales.timeline import ORDER_SIGNED, VEHICLE_DELIVERED

from . import services
from .choices import AccountClass, Attitude, BuyingRole, DealStage
from .models import (
    DiscountRequest,
    FleetAccount,
    FleetDeal,
    FleetOrder,
    ProgressReport,
    SpecialConfigurationRequest,
)

TAXI = "广州市穗通出租汽车有限公司"
GOVERNMENT = "广州市天河区机关事务管理局"
LOGISTICS = "广东南粤物流有限公司"
COLD_CHAIN = "广州南粤冷链运输有限公司"  # an affiliate of the logistics company
SOFTWARE = "广州华粤信息科技有限公司"
DRIVING_SCHOOL = "广州安驾机动车驾驶员培训有限公司"
# The affiliate is no customer of the branch: its code is its own (Baiyun district, the
# organization code's and the credit code's check characters computed).
COLD_CHAIN_CODE = "91440111MA5CKL7Q07"
# This year's agreement of the taxi company: support per unit by cumulative delivered units.
TIERS = [
    {"from_units": 1, "to_units": 10, "support_per_unit": Decimal("2000.00")},
    {"from_units": 11, "to_units": 30, "support_per_unit": Decimal("3000.00")},
    {"from_units": 31, "to_units": None, "support_per_unit": Decimal("4000.00")},
]
FIRST_BATCH, SECOND_BATCH = 12, 13
# A fresh valid VIN of a series and model year.
VinMaker = Callable[[str, int], str]
# The taxi company's model: 秦PLUS EV 出行版, its list price and the price agreed per vehicle.
TAXI_BRAND, TAXI_SERIES = "比亚迪", "秦PLUS EV"
TAXI_LIST_PRICE, TAXI_UNIT_PRICE = Decimal("129800.00"), Decimal("125000.00")


@dataclass(frozen=True)
class AccountPlan:
    name: str
    account_class: str
    registered_days_ago: int
    confirmed_days_ago: int | None  # None: awaiting confirmation
    members: tuple[tuple[str, str, str, str, str], ...] = ()  # name, title, role, phone, attitude


_DM, _USER, _INF, _INFO = (
    BuyingRole.DECISION_MAKER, BuyingRole.USER, BuyingRole.INFLUENCER, BuyingRole.INFORMANT,
)  # fmt: skip
_FOR, _NEUTRAL, _AGAINST = Attitude.SUPPORTER, Attitude.NEUTRAL, Attitude.OPPONENT

# fmt: off
ACCOUNTS = [
    AccountPlan(TAXI, AccountClass.TAXI, 70, 64, (
        ("黄志坚", "总经理", _DM, "13902287415", _FOR),
        ("陈伟雄", "车队队长", _USER, "13719044826", _FOR),
        ("莫丽娟", "财务总监", _INF, "13580372291", _NEUTRAL),
        ("谭家明", "调度主管", _INFO, "15013468827", _FOR),
    )),
    AccountPlan(GOVERNMENT, AccountClass.GOVERNMENT, 48, 45, (
        ("钟国平", "副局长", _DM, "13802416637", _NEUTRAL),
        ("梁振东", "车辆管理科科长", _USER, "13926153308", _FOR),
        ("区慧玲", "采购专员", _INFO, "18826471952", _NEUTRAL),
    )),
    AccountPlan(LOGISTICS, AccountClass.ENTERPRISE, 82, 78, (
        ("冯启航", "副总裁", _DM, "13600042718", _NEUTRAL),
        ("罗晓峰", "采购经理", _INF, "13826088143", _AGAINST),
    )),
    AccountPlan(COLD_CHAIN, AccountClass.ENTERPRISE, 33, 30, (
        ("叶文康", "总经理", _DM, "13533607294", _FOR),
    )),
    AccountPlan(SOFTWARE, AccountClass.ENTERPRISE, 104, 100, (
        ("苏嘉怡", "行政主管", _USER, "13760218845", _NEUTRAL),
    )),
    AccountPlan(DRIVING_SCHOOL, AccountClass.RENTAL, 3, None, (
        ("潘永强", "教练组长", _USER, "13631470286", _FOR),
    )),
]
PROGRESS = [
    "拜访车队负责人，了解车辆更新计划与预算",
    "提交试驾车辆安排，关键用户试驾反馈良好",
    "报价方案已提交，等待对方内部评审",
    "跟进评审意见，补充售后服务与金融方案",
]
# fmt: on


class _Clock:
    """Moments of the demo, days before now; the batches never before the agreement."""

    def __init__(self, today: date):
        self.today = today
        self.now = timezone.now()

    def at(self, days_ago: int, hour: int = 10, not_before: date | None = None) -> datetime:
        day = self.today - timedelta(days=days_ago)
        if not_before is not None and day < not_before:
            day = not_before
        moment = timezone.make_aware(datetime.combine(day, time(hour)))
        return min(moment, self.now)


def _account(plan: AccountPlan, code: str, *, branch: Branch, parent: FleetAccount | None,
             fleet_manager: User, manager: User, clock: _Clock) -> FleetAccount:  # fmt: skip
    account = services.account_register(
        branch=branch, by=fleet_manager,
        data={"name": plan.name, "account_class": plan.account_class, "credit_code": code,
              "parent": parent},
    )  # fmt: skip
    FleetAccount.objects.filter(pk=account.pk).update(
        registered_at=clock.at(plan.registered_days_ago, 9)
    )
    for index, (name, title, role, phone, attitude) in enumerate(plan.members):
        services.buying_centre_member_add(
            account=account, by=fleet_manager,
            data={"name": name, "title": title, "role": role, "phone": phone,
                  "attitude": attitude,
                  "last_contact_on": clock.today - timedelta(days=3 + 5 * index)},
        )  # fmt: skip
    if plan.confirmed_days_ago is None:
        return account
    services.account_confirm(account=account, by=manager)
    confirmed = clock.at(plan.confirmed_days_ago, 15)
    FleetAccount.objects.filter(pk=account.pk).update(
        confirmed_at=confirmed,
        protected_until=add_months(timezone.localdate(confirmed), services.PROTECTION_MONTHS),
    )
    # A report for each month since the confirmation; the lapsing account stopped reporting.
    month = timezone.localdate(confirmed).replace(day=1)
    last = clock.today.replace(day=1)
    if plan.name == SOFTWARE:
        last = add_months(month, 1)
    for index in range(12):
        if month > last:
            break
        report = services.progress_report_add(
            account=account, month=month, summary=PROGRESS[index % len(PROGRESS)],
            by=fleet_manager,
        )  # fmt: skip
        reported = max(timezone.make_aware(datetime.combine(month, time(11))), confirmed)
        ProgressReport.objects.filter(pk=report.pk).update(reported_at=min(reported, clock.now))
        month = add_months(month, 1)
    account.refresh_from_db()
    return account


def _deal(
    account: FleetAccount, *, by: User, clock: _Clock, days_ago: int, brand: str, series: str,
    quantity: int, data: dict, configuration: str = "", colour: str = "",
) -> FleetDeal:  # fmt: skip
    deal = services.deal_create(
        account=account, by=by, data=data,
        lines=[{"brand": brand, "series": series, "configuration": configuration,
                "colour": colour, "quantity": quantity}],
    )  # fmt: skip
    FleetDeal.objects.filter(pk=deal.pk).update(created_at=clock.at(days_ago, 14))
    return deal


def _requested(model, request, *, clock: _Clock, days_ago: int, decided_hours: int | None = None):
    """Move a request back to when it was made (its 48 hours with it), and its decision."""
    requested = clock.at(days_ago, 10)
    due = requested + timedelta(hours=services.DECISION_HOURS)
    model.objects.filter(pk=request.pk).update(requested_at=requested, due_by=due)
    if decided_hours is not None:
        model.objects.filter(pk=request.pk).update(
            decided_at=min(requested + timedelta(hours=decided_hours), clock.now)
        )


def _batch_priced_at(batch: FleetOrder, priced: datetime) -> None:
    """Move a batch and its signed sales orders back to when it was priced."""
    FleetOrder.objects.filter(pk=batch.pk).update(priced_at=priced)
    orders = Order.objects.filter(fleet_order=batch)
    orders.update(created_at=priced, signed_at=priced)
    TimelineEntry.objects.filter(kind=ORDER_SIGNED, object_id__in=orders.values("pk")).update(
        occurred_at=priced
    )


def _batch_delivered(batch: FleetOrder, *, users: dict[str, User], clock: _Clock,
                     not_before: date, vin: VinMaker) -> None:  # fmt: skip
    """Each sales order of the batch gets its vehicle, which arrived and passed its PDI, is
    paid in full, invoiced and handed over with every check and paper, a month ago."""
    manager, inspector, fleet_manager = (
        users["sales_manager"], users["technician"], users["fleet_manager"],
    )  # fmt: skip
    arrived, inspected = clock.today - timedelta(days=34), clock.today - timedelta(days=33)
    allocated = clock.at(33, 11, not_before=not_before)
    paid_on = timezone.localdate(clock.at(32, 10, not_before=not_before))
    invoiced = clock.at(31, 14, not_before=not_before)
    delivered = clock.at(30, 15, not_before=not_before)
    line = batch.line
    orders = list(Order.objects.filter(fleet_order=batch).order_by("pk"))
    vins = [vin(line.series, clock.today.year) for _order in orders]
    for order, vin in zip(orders, vins, strict=True):
        vehicle = sales_services.stock_vehicle_create(
            branch=order.branch, by=manager,
            data={"vin": vin, "brand": line.brand, "series": line.series,
                  "configuration": line.configuration, "colour": line.colour,
                  "model_year": clock.today.year, "list_price": TAXI_LIST_PRICE,
                  "status": StockStatus.IN_TRANSIT},
        )  # fmt: skip
        sales_services.stock_vehicle_arrive(stock_vehicle=vehicle, by=manager, arrival_date=arrived)
        vehicle = sales_services.stock_vehicle_record_pdi(
            stock_vehicle=vehicle, by=inspector, done_on=inspected
        )
        sales_services.order_allocate(order=order, stock_vehicle=vehicle, by=fleet_manager)
        sales_services.payment_record(
            order=order, by=fleet_manager,
            data={"kind": PaymentKind.FINAL, "amount": order.total_price, "paid_on": paid_on,
                  "method": PaymentMethod.TRANSFER},
        )  # fmt: skip
        sales_services.order_invoice(
            order=order, by=fleet_manager, invoice_number=f"4401{order.branch_id}{order.pk:06d}"
        )
        delivery = sales_services.delivery_record(
            order=order, by=fleet_manager, delivered_on=timezone.localdate(delivered),
            checklist=list(DeliveryCheck.values), documents=list(DeliveryDocument.values),
        )  # fmt: skip
        TimelineEntry.objects.filter(customer_id=order.customer_id).filter(
            Q(kind=VEHICLE_ADDED, object_id=delivery.vehicle_id)
            | Q(kind=VEHICLE_DELIVERED, object_id=delivery.pk)
        ).update(occurred_at=delivered)
    Order.objects.filter(fleet_order=batch).update(
        allocated_at=allocated, invoiced_at=invoiced, delivered_at=delivered
    )


def _taxi_deal_won(account: FleetAccount, *, users: dict[str, User], clock: _Clock,
                   vin: VinMaker) -> FleetDeal:  # fmt: skip
    """This year's agreement with its tiers, and the deal won: a discount approved, the first
    batch priced on the first tier, delivered through sales and settled; the second priced on
    the higher tier, its sales orders waiting for vehicles. When the agreement was signed
    only days ago, the steps all fall on its day and keep their order by the hour."""
    fleet_manager, manager = users["fleet_manager"], users["sales_manager"]
    signed_on = min(date(clock.today.year, 1, 8), clock.today)
    agreement = services.agreement_sign(
        account=account, signed_on=signed_on, by=fleet_manager, agreed_units=40,
        terms="年度采购 40 台；支持按累计交车台数分档，每批交车后结算",
    )  # fmt: skip
    services.tier_bands_set(agreement=agreement, bands=TIERS, by=fleet_manager)
    deal = _deal(
        account, by=fleet_manager, clock=clock, days_ago=60, brand=TAXI_BRAND,
        series=TAXI_SERIES, configuration="出行版 网约车专用", colour="雪域白",
        quantity=FIRST_BATCH + SECOND_BATCH,
        data={"title": "穗通出租车年度更新（秦PLUS EV）", "competitors": "广汽埃安、吉利几何",
              "expected_value": Decimal("3237500.00")},
    )  # fmt: skip
    for stage in (DealStage.REQUIREMENTS, DealStage.NEGOTIATION):
        services.deal_set_stage(deal=deal, stage=stage, by=fleet_manager)
    discount = services.discount_request_create(
        deal=deal, discount_per_unit=Decimal("1500.00"), units=FIRST_BATCH + SECOND_BATCH,
        justification="广汽埃安报价低 2,000 元/台，客户要求跟进", by=fleet_manager,
    )  # fmt: skip
    services.request_decide(request=discount, approve=True, by=manager, note="同意，按年度协议执行")
    _requested(DiscountRequest, discount, clock=clock, days_ago=50, decided_hours=20)
    services.deal_set_stage(
        deal=deal, stage=DealStage.WON, by=fleet_manager,
        reason="价格与充电桩配套方案胜出，分两批交车",
    )  # fmt: skip
    FleetDeal.objects.filter(pk=deal.pk).update(closed_at=clock.at(45, 16))

    line = deal.lines.get()
    first = services.fleet_order_price(
        deal=deal, line=line, quantity=FIRST_BATCH, unit_price=TAXI_UNIT_PRICE,
        agreement=agreement, by=fleet_manager,
    )  # fmt: skip
    _batch_priced_at(first, clock.at(44, 9, not_before=signed_on))
    _batch_delivered(first, users=users, clock=clock, not_before=signed_on, vin=vin)
    # The receiver counts the deliveries once the demo's transaction commits: too late for
    # the second batch's tier, so they are counted now (counting again changes nothing).
    first = services.fleet_order_count_deliveries(fleet_order_id=first.pk)
    services.fleet_order_settle(order=first, amount=first.support_due, by=fleet_manager)
    FleetOrder.objects.filter(pk=first.pk).update(settled_at=clock.at(20, 16, not_before=signed_on))
    second = services.fleet_order_price(
        deal=deal, line=line, quantity=SECOND_BATCH, unit_price=TAXI_UNIT_PRICE,
        agreement=agreement, by=fleet_manager,
    )  # fmt: skip
    _batch_priced_at(second, clock.at(6, 17, not_before=signed_on))
    return deal


def fleet_demo_create(
    *, branch: Branch, users: dict[str, User], vin: VinMaker, today: date | None = None
) -> None:
    """The fleet department of the Guangzhou branch (the demo fleet manager's; the sales
    manager confirms and decides); `vin` makes the delivered taxis' VINs the way the rest of
    the demo makes them. Does nothing when its accounts are registered."""
    today = today or timezone.localdate()
    clock = _Clock(today)
    fleet_manager, manager = users["fleet_manager"], users["sales_manager"]
    codes = dict(
        Customer.objects.filter(
            branch=branch, kind=CustomerKind.ORGANIZATION, name__in=[p.name for p in ACCOUNTS]
        ).values_list("name", "credit_code")
    )
    codes[COLD_CHAIN] = COLD_CHAIN_CODE
    missing = [plan.name for plan in ACCOUNTS if not codes.get(plan.name)]
    if missing:
        raise RuntimeError(f"fleet demo: the branch's customers lack {', '.join(missing)}")
    if FleetAccount.objects.filter(credit_code__in=codes.values()).exists():
        return

    accounts: dict[str, FleetAccount] = {}
    for plan in ACCOUNTS:
        parent = accounts[LOGISTICS] if plan.name == COLD_CHAIN else None
        accounts[plan.name] = _account(
            plan, codes[plan.name], branch=branch, parent=parent, fleet_manager=fleet_manager,
            manager=manager, clock=clock,
        )  # fmt: skip

    _taxi_deal_won(accounts[TAXI], users=users, clock=clock, vin=vin)

    # A tender of the government, its livery approved by the manager.
    tender = _deal(
        accounts[GOVERNMENT], by=fleet_manager, clock=clock, days_ago=40, brand="丰田",
        series="凯美瑞", configuration="2.5HE 精英版", colour="铂金珍珠白", quantity=8,
        data={"title": "天河区公务用车更新采购", "tender_on": today + timedelta(days=12),
              "procurement_centre": "广州公共资源交易中心", "competitors": "一汽丰田、广汽本田",
              "expected_value": Decimal("1576000.00")},
    )  # fmt: skip
    for stage in (DealStage.REQUIREMENTS, DealStage.TENDER):
        services.deal_set_stage(deal=tender, stage=stage, by=fleet_manager)
    livery = services.special_configuration_request(
        deal=tender, description="公务用车统一标识：车身两侧喷涂“公务用车”字样及编号", units=8,
        justification="招标文件要求交车前完成标识喷涂", by=fleet_manager,
    )  # fmt: skip
    services.request_decide(request=livery, approve=True, by=manager, note="同意，厂家可加装")
    _requested(SpecialConfigurationRequest, livery, clock=clock, days_ago=9, decided_hours=26)

    # The logistics group negotiates; its discount request waits for the manager today.
    negotiation = _deal(
        accounts[LOGISTICS], by=fleet_manager, clock=clock, days_ago=70, brand="大众",
        series="途观L", configuration="330TSI 两驱智享版", colour="曜石黑", quantity=20,
        data={"title": "南粤物流区域经理用车", "competitors": "本田冠道、丰田汉兰达",
              "expected_value": Decimal("4380000.00")},
    )  # fmt: skip
    for stage in (DealStage.REQUIREMENTS, DealStage.NEGOTIATION):
        services.deal_set_stage(deal=negotiation, stage=stage, by=fleet_manager)
    services.discount_request_create(
        deal=negotiation, discount_per_unit=Decimal("6000.00"), units=20,
        justification="客户采购经理倾向竞品，需价格支持争取决策人", by=fleet_manager,
    )  # fmt: skip

    # Its affiliate's request went three days without a decision: flagged overdue.
    requirements = _deal(
        accounts[COLD_CHAIN], by=fleet_manager, clock=clock, days_ago=25, brand="丰田",
        series="汉兰达", configuration="2.5L 双擎四驱尊贵版", colour="墨晶黑", quantity=6,
        data={"title": "南粤冷链管理层用车", "expected_value": Decimal("1650000.00")},
    )  # fmt: skip
    services.deal_set_stage(deal=requirements, stage=DealStage.REQUIREMENTS, by=fleet_manager)
    overdue = services.discount_request_create(
        deal=requirements, discount_per_unit=Decimal("5000.00"), units=6,
        justification="与母公司南粤物流同享集团客户价格", by=fleet_manager,
    )  # fmt: skip
    _requested(DiscountRequest, overdue, clock=clock, days_ago=3)

    # The software company went to a competitor, and its protection ended.
    lost = _deal(
        accounts[SOFTWARE], by=fleet_manager, clock=clock, days_ago=95, brand="奥迪", series="A6L",
        configuration="45 TFSI 臻选动感型", quantity=3,
        data={"title": "华粤信息高管用车", "competitors": "宝马5系",
              "expected_value": Decimal("1260000.00")},
    )  # fmt: skip
    services.deal_set_stage(
        deal=lost, stage=DealStage.LOST, by=fleet_manager,
        reason="客户选择了竞品的融资租赁方案",
    )  # fmt: skip
    FleetDeal.objects.filter(pk=lost.pk).update(closed_at=clock.at(80, 17))

    # The driving school, awaiting confirmation, asks for coaching cars.
    _deal(
        accounts[DRIVING_SCHOOL], by=fleet_manager, clock=clock, days_ago=2, brand="大众",
        series="朗逸", configuration="1.5L 手动 教练车改装", quantity=10,
        data={"title": "安驾驾校教练车更新", "expected_value": Decimal("1000000.00")},
    )  # fmt: skip

    # What the daily and hourly jobs find today: the ended protection, the overdue request.
    services.protections_lapse(today=today)
    services.requests_flag_overdue()
