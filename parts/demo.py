"""The stockroom of the demo: suppliers, a catalogue of about forty parts, bins in three zones,
stock levels, and three months of history — stock orders placed and received (one short),
work-order issues and counter sales, a return to stock, a transfer between the branches, lost
sales, a posted stocktake — then what waits today: a purchase order to receive, parts at their
reorder point, the day's reorder suggestions and an emergency order quoted for a customer.

Everything goes through the parts services, then is moved back in time to when it happened.
The events of both branches run in time order (a transfer touches both ledgers), and each
event's stock moves are dated right after it runs, so every ledger reads in time order with
its balances. Like the sales funnel, the history is dated from the day it is loaded.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal

from django.contrib.auth.models import User
from django.db.models import Max
from django.utils import timezone

from customers.choices import CustomerKind
from customers.models import Customer, Vehicle
from dealer_crm.models import Branch

from . import services
from .choices import (
    WHOLE_UNITS,
    IssueKind,
    IssueStatus,
    LostSaleReason,
    OrderKind,
    PartClass,
    Unit,
)
from .models import (
    Bin,
    EmergencyOrder,
    LostSale,
    Part,
    PartIssue,
    PartStock,
    PurchaseOrder,
    Receipt,
    StockMove,
    Stocktake,
    StocktakeLine,
    Supplier,
    quantity_text,
)

# How many days of history the stockroom has, and when the stock orders go out.
HISTORY_DAYS = 84
OPENING_ORDER_DAY = 92
REPLENISHMENT_DAYS = [64, 43, 22]  # every three weeks
SHORT_DELIVERY_DAY = 22  # that day's genuine-parts order arrives one line short
COST_SHARE = Decimal("0.62")  # what the dealer pays of the list price


@dataclass(frozen=True)
class SupplierSpec:
    name: str
    contact: str
    phone: str
    lead_time_days: int


SUPPLIERS = {
    "svw": SupplierSpec("上汽大众配件中心", "王建平", "021-69558800", 5),
    "gtmc": SupplierSpec("广汽丰田配件中心", "刘志远", "020-82128866", 4),
    "bosch": SupplierSpec("博世汽车配件（广州）有限公司", "赵海峰", "020-87326688", 3),
    "michelin": SupplierSpec("米其林轮胎华南分销中心", "孙立明", "020-83886699", 7),
    "mobil": SupplierSpec("美孚润滑油广东经销商", "钱志刚", "020-38776655", 3),
    "varta": SupplierSpec("瓦尔塔蓄电池华南仓", "何家伟", "020-36228811", 4),
}

VW, TOYOTA, BOTH = "vw", "toyota", "both"


@dataclass(frozen=True)
class PartSpec:
    number: str
    name: str
    classification: str
    fits: str
    unit: str
    price: str
    supplier: str
    zone: str  # A: fast movers by the counter; B; C: heavy parts, low levels only
    levels: tuple[int, int, int]  # minimum, reorder point, maximum; (0, 0, 0): not restocked
    stocked_by: str  # VW (Guangzhou), TOYOTA (Shenzhen) or BOTH; "" for parts not stocked


# The catalogue: number | name | classification | fits | unit | price (CNY) | supplier | zone |
# minimum, reorder point, maximum ("0 0 0": not restocked) | stocked by (vw: Guangzhou, which
# sells Volkswagen; toyota: Shenzhen; both; "-": not stocked).
CATALOGUE_TABLE = """
06L115562B       | 机油滤清器                 | maintenance | 帕萨特 迈腾 途观L      | piece | 68   | svw      | A | 0 0 0     | vw
06L115562        | 机油滤清器（旧号）         | maintenance | 帕萨特 迈腾 途观L      | piece | 68   | svw      | A | 4 8 20    | vw
04E115561H       | 机油滤清器                 | maintenance | 朗逸                   | piece | 45   | svw      | A | 2 3 8     | vw
G052195M4        | 原厂机油 5W-30             | consumable  | 帕萨特 迈腾 途观L 朗逸 | litre | 98   | svw      | A | 10 20 60  | vw
N90813202        | 放油螺塞                   | base        | 帕萨特 迈腾 途观L 朗逸 | piece | 12   | svw      | A | 4 6 20    | vw
5Q0129620D       | 空气滤清器                 | maintenance | 帕萨特 迈腾 途观L      | piece | 138  | svw      | A | 2 3 8     | vw
5Q0819653        | 空调滤清器                 | maintenance | 帕萨特 迈腾 途观L 朗逸 | piece | 158  | svw      | A | 2 3 8     | vw
06K905601B       | 火花塞                     | maintenance | 帕萨特 迈腾 途观L      | piece | 95   | svw      | A | 4 8 24    | vw
06H905601A       | 火花塞（旧号）             | maintenance | 帕萨特 迈腾 途观L      | piece | 95   | svw      | A | 0 0 0     | -
5Q0698151D       | 前刹车片                   | wear        | 帕萨特 迈腾 途观L      | set   | 680  | svw      | B | 1 2 4     | vw
5Q0698451K       | 后刹车片                   | wear        | 帕萨特 迈腾 途观L      | set   | 480  | svw      | B | 1 2 4     | vw
3G0615301A       | 前刹车盘                   | wear        | 帕萨特 迈腾            | piece | 890  | svw      | C | 2 2 4     | vw
B000750M3        | 刹车油 DOT4                | consumable  | 帕萨特 迈腾 途观L 朗逸 | litre | 110  | svw      | A | 2 3 10    | vw
G013A8JM1        | 防冻液 G13                 | consumable  | 帕萨特 迈腾 途观L 朗逸 | litre | 75   | svw      | C | 8 10 30   | vw
06L121111H       | 水泵总成                   | maintenance | 帕萨特 迈腾            | piece | 1380 | svw      | B | 1 1 2     | vw
3GD807221        | 前保险杠                   | accident    | 帕萨特                 | piece | 2860 | svw      | C | 0 0 1     | vw
3GD941005        | 左前大灯总成 LED           | accident    | 帕萨特                 | piece | 6980 | svw      | B | 0 0 0     | vw
3GD941006        | 右前大灯总成 LED           | accident    | 帕萨特                 | piece | 6980 | svw      | B | 0 0 0     | -
5QD413031        | 前减震器                   | maintenance | 途观L                  | piece | 1650 | svw      | C | 0 0 0     | -
90915-YZZN1      | 机油滤清器                 | maintenance | 凯美瑞 汉兰达 雷凌     | piece | 45   | gtmc     | A | 4 6 20    | toyota
08880-83264      | 原厂机油 0W-20             | consumable  | 凯美瑞 汉兰达 雷凌     | litre | 85   | gtmc     | A | 10 20 60  | toyota
90341-12012      | 放油螺塞                   | base        | 凯美瑞 汉兰达 雷凌     | piece | 10   | gtmc     | A | 4 6 20    | toyota
90430-12031      | 放油螺塞垫片               | base        | 凯美瑞 汉兰达 雷凌     | piece | 3    | gtmc     | A | 10 15 50  | toyota
17801-F0050      | 空气滤清器                 | maintenance | 凯美瑞 汉兰达          | piece | 128  | gtmc     | A | 2 3 8     | toyota
87139-0E040      | 空调滤清器                 | maintenance | 凯美瑞 汉兰达 雷凌     | piece | 168  | gtmc     | A | 2 3 8     | toyota
90919-01275      | 火花塞                     | maintenance | 凯美瑞 汉兰达          | piece | 128  | gtmc     | A | 4 8 24    | toyota
04465-33471      | 前刹车片                   | wear        | 凯美瑞                 | set   | 720  | gtmc     | B | 1 2 4     | toyota
04465-33450      | 前刹车片（旧号）           | wear        | 凯美瑞                 | set   | 720  | gtmc     | B | 0 0 0     | -
04466-33220      | 后刹车片                   | wear        | 凯美瑞                 | set   | 520  | gtmc     | B | 1 2 4     | toyota
08823-80011      | 刹车油                     | consumable  | 凯美瑞 汉兰达 雷凌     | litre | 95   | gtmc     | A | 2 3 10    | toyota
08889-80072      | 超长效冷却液               | consumable  | 凯美瑞 汉兰达 雷凌     | litre | 68   | gtmc     | C | 8 10 30   | toyota
52119-06B90      | 前保险杠                   | accident    | 凯美瑞                 | piece | 2480 | gtmc     | C | 0 0 1     | toyota
81150-06D10      | 左前大灯总成               | accident    | 凯美瑞                 | piece | 5200 | gtmc     | B | 0 0 0     | toyota
3397007187       | 博世雨刮片 A187S           | wear        | 帕萨特 迈腾 凯美瑞     | set   | 268  | bosch    | A | 2 3 8     | both
3397118982       | 博世雨刮片 A982S           | wear        | 朗逸 雷凌 轩逸          | set   | 238  | bosch    | A | 2 3 6     | both
1987302777       | 博世卤素灯泡 H7            | wear        | 朗逸 雷凌 轩逸          | piece | 45   | bosch    | B | 4 6 20    | both
H6-70-L-T2       | 瓦尔塔蓄电池 70Ah          | base        | 帕萨特 迈腾 途观L 凯美瑞 汉兰达 | piece | 880 | varta | C | 1 2 4     | both
L2-400           | 瓦尔塔蓄电池 60Ah          | base        | 朗逸 雷凌 轩逸          | piece | 720  | varta    | C | 1 2 4     | both
PRIMACY4-2355518 | 米其林轮胎 浩悦4 235/55 R18 | base      | 途观L 汉兰达           | piece | 1280 | michelin | C | 4 4 8     | both
PRIMACY4-2155517 | 米其林轮胎 浩悦4 215/55 R17 | base      | 帕萨特 迈腾 凯美瑞     | piece | 980  | michelin | C | 4 4 8     | both
PRIMACY4-2055516 | 米其林轮胎 浩悦4 205/55 R16 | base      | 朗逸 雷凌 轩逸          | piece | 760  | michelin | C | 4 4 8     | both
MOBIL-S2000-5W30 | 美孚速霸2000 5W-30         | consumable  | 通用                   | litre | 62   | mobil    | A | 8 12 40   | both
"""  # noqa: E501


def _catalogue(table: str) -> list[PartSpec]:
    specs = []
    for row in table.strip().splitlines():
        number, name, classification, fits, unit, price, supplier, zone, levels, stocked_by = (
            cell.strip() for cell in row.split("|")
        )
        minimum, point, maximum = (int(level) for level in levels.split())
        specs.append(
            PartSpec(
                number,
                name,
                PartClass(classification),
                fits,
                Unit(unit),
                price,
                supplier,
                zone,
                (minimum, point, maximum),
                "" if stocked_by == "-" else stocked_by,
            )  # fmt: skip
        )
    return specs


CATALOGUE = _catalogue(CATALOGUE_TABLE)

# Old numbers and what replaced them (旧号换新号); the oil filter's is replaced during the
# history, while its old stock is still on the shelf.
SUPERSEDED_FROM_THE_START = {"06H905601A": "06K905601B", "04465-33450": "04465-33471"}
SUPERSEDED_IN_HISTORY = ("06L115562", "06L115562B")
SUPERSESSION_DAY = 75
DEAD_STOCK = {VW: "3GD941005", TOYOTA: "81150-06D10"}  # received 14 months ago, never moved

# Bins: zone → (shelves, levels). Heavy parts (zone C) sit on the two lowest levels only.
BIN_LAYOUT = {"A": (4, 4), "B": (3, 4), "C": (5, 2)}


@dataclass(frozen=True)
class Job:
    """A kind of work-order issue or counter sale: lines of (part number, quantity, share of
    the jobs that take the line)."""

    lines: tuple[tuple[str, str, float], ...]
    per_day: float


MAINTENANCE_JOBS = {
    VW: Job(
        (
            ("06L115562B", "1", 0.75),
            ("04E115561H", "1", 0.25),
            ("G052195M4", "5", 1.0),
            ("N90813202", "1", 1.0),
            ("5Q0129620D", "1", 0.3),
            ("5Q0819653", "1", 0.35),
            ("06K905601B", "4", 0.12),
            ("B000750M3", "1", 0.1),
        ),
        0.2,
    ),
    TOYOTA: Job(
        (
            ("90915-YZZN1", "1", 1.0),
            ("08880-83264", "4", 1.0),
            ("90341-12012", "1", 0.5),
            ("90430-12031", "1", 1.0),
            ("17801-F0050", "1", 0.3),
            ("87139-0E040", "1", 0.35),
            ("90919-01275", "4", 0.12),
            ("08823-80011", "1", 0.1),
        ),
        0.2,
    ),
}
BRAKE_JOBS = {
    VW: Job((("5Q0698151D", "1", 0.7), ("5Q0698451K", "1", 0.4), ("3G0615301A", "2", 0.25)), 0.05),
    TOYOTA: Job((("04465-33471", "1", 0.7), ("04466-33220", "1", 0.4)), 0.05),
}
COUNTER_SALES = {
    VW: Job(
        (
            ("3397007187", "1", 0.35),
            ("3397118982", "1", 0.2),
            ("1987302777", "2", 0.2),
            ("H6-70-L-T2", "1", 0.12),
            ("L2-400", "1", 0.08),
            ("PRIMACY4-2355518", "2", 0.08),
            ("PRIMACY4-2155517", "2", 0.1),
            ("PRIMACY4-2055516", "4", 0.05),
            ("MOBIL-S2000-5W30", "4", 0.2),
            ("G013A8JM1", "2", 0.1),
        ),
        0.15,
    ),
    TOYOTA: Job(
        (
            ("3397007187", "1", 0.35),
            ("3397118982", "1", 0.25),
            ("1987302777", "2", 0.2),
            ("H6-70-L-T2", "1", 0.1),
            ("L2-400", "1", 0.1),
            ("PRIMACY4-2355518", "2", 0.08),
            ("PRIMACY4-2155517", "2", 0.1),
            ("PRIMACY4-2055516", "4", 0.06),
            ("MOBIL-S2000-5W30", "4", 0.2),
            ("08889-80072", "2", 0.1),
        ),
        0.15,
    ),
}


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _last_id(model) -> int:
    return model.objects.aggregate(last=Max("pk"))["last"] or 0


class Agenda:
    """The events of every stockroom, run in time order; each one's stock moves and lost
    sales are dated to its moment as soon as it has run."""

    def __init__(self) -> None:
        self.events: list[tuple[datetime, int, Callable[[datetime], None]]] = []

    def add(self, when: datetime, event: Callable[[datetime], None]) -> None:
        self.events.append((when, len(self.events), event))

    def run(self) -> None:
        for when, _order, event in sorted(self.events, key=lambda entry: entry[:2]):
            last_move, last_lost_sale = _last_id(StockMove), _last_id(LostSale)
            event(when)
            StockMove.objects.filter(pk__gt=last_move).update(at=when)
            LostSale.objects.filter(pk__gt=last_lost_sale).update(at=when)


@dataclass
class Stockroom:
    """One branch's stockroom in the demo and who works in it."""

    branch: Branch
    make: str  # VW or TOYOTA: the parts it stocks besides those of both
    clerk: User
    approver: User
    technician: User
    advisor: User | None = None
    rng: random.Random = field(default_factory=random.Random)
    customers: list[Customer] = field(default_factory=list)
    parts: dict[str, Part] = field(default_factory=dict)
    agenda: Agenda = field(default_factory=Agenda)
    superseded_on: date = date.min  # when the oil filter's old number was replaced
    work_orders: int = 0

    def stocks(self, spec: PartSpec) -> bool:
        return spec.stocked_by in (self.make, BOTH)


def _quantity(part: Part, amount: Decimal) -> Decimal:
    if part.unit in WHOLE_UNITS:
        return amount.to_integral_value(rounding=ROUND_CEILING)
    return amount


def _cost(room: Stockroom, part: Part) -> Decimal:
    """What the supplier charges this time: about the usual share of the list price."""
    drift = Decimal(room.rng.choice(["0.98", "1", "1", "1", "1.03"]))
    return (part.price * COST_SHARE * drift).quantize(Decimal("0.01"))


def _stock(room: Stockroom, part: Part) -> PartStock | None:
    return PartStock.objects.filter(branch=room.branch, part=part).first()


def _order_place(
    room: Stockroom,
    supplier: Supplier,
    lines: list[tuple[Part, Decimal]],
    when: datetime,
    *,
    note: str = "",
) -> PurchaseOrder:
    order = services.purchase_order_create(
        branch=room.branch,
        supplier=supplier,
        kind=OrderKind.STOCK,
        lines=[
            {"part": part, "quantity": quantity, "unit_cost": _cost(room, part)}
            for part, quantity in lines
        ],
        by=room.clerk,
        expected_on=(when + timedelta(days=supplier.lead_time_days)).date(),
        note=note,
    )
    services.purchase_order_place(purchase_order=order, by=room.clerk)
    PurchaseOrder.objects.filter(pk=order.pk).update(created_at=when, ordered_at=when)
    return order


def _order_receive(
    room: Stockroom, order: PurchaseOrder, when: datetime, *, short_line: bool = False
) -> Receipt:
    """Check the delivery box by box and line by line, then put it away and register it."""
    lines = list(order.lines.select_related("part").order_by("pk"))
    short = None
    if short_line:
        short = max(lines, key=lambda line: (line.part.unit in WHOLE_UNITS, line.outstanding))
    entries = []
    for line in lines:
        received, note = line.outstanding, ""
        if line is short:
            missing = _quantity(line.part, line.outstanding / 3)
            received = line.outstanding - missing
            note = f"欠 {quantity_text(missing)}，供应商下批补发"
        entries.append(
            {"order_line": line, "received_quantity": received, "checked": True, "note": note}
        )
    boxes = max(1, len(lines) // 2)
    receipt = services.receipt_check(
        purchase_order=order,
        by=room.clerk,
        boxes_expected=boxes,
        boxes_counted=boxes,
        packaging_intact=True,
        lines=entries,
        delivery_note=f"DN{when:%y%m%d}{order.pk:04d}",
    )
    services.receipt_register(receipt=receipt, by=room.clerk)
    Receipt.objects.filter(pk=receipt.pk).update(
        checked_at=when, registered_at=when + timedelta(minutes=40)
    )
    return receipt


def _order_and_receive(
    agenda: Agenda,
    room: Stockroom,
    supplier: Supplier,
    placed: datetime,
    lines: Callable[[], list[tuple[Part, Decimal]]],
    *,
    short_line: bool = False,
    note: str = "",
) -> None:
    """A stock order placed at `placed` with the lines worked out then, received after the
    supplier's lead time."""
    placed_order: list[PurchaseOrder] = []

    def place(when: datetime) -> None:
        wanted = lines()
        if wanted:
            placed_order.append(_order_place(room, supplier, wanted, when, note=note))

    def receive(when: datetime) -> None:
        if placed_order:
            _order_receive(room, placed_order[0], when, short_line=short_line)

    agenda.add(placed, place)
    received = placed.date() + timedelta(days=supplier.lead_time_days)
    agenda.add(_at(received, 9, 15), receive)


def _to_restock(room: Stockroom, supplier: Supplier) -> list[tuple[Part, Decimal]]:
    """The supplier's parts at or below their reorder point, ordered up to the maximum."""
    wanted = []
    stocks = PartStock.objects.filter(
        branch=room.branch, part__supplier=supplier, part__superseded_by__isnull=True
    ).select_related("part")
    for stock in stocks.order_by("part__number"):
        if stock.max_quantity and stock.available <= stock.reorder_point:
            wanted.append((stock.part, _quantity(stock.part, stock.max_quantity - stock.available)))
    return [(part, quantity) for part, quantity in wanted if quantity > 0]


def _source(room: Stockroom, part: Part, quantity: Decimal) -> Part | None:
    """The number to write on the voucher for a request, or None when the shelf cannot serve
    it. An old number is served by its own stock while it lasts, then by the new number (the
    service's rule); asked for a new number, the clerk first gives the old stock it replaced."""
    current = services.part_current(part)
    if current.pk != part.pk:
        candidates = [part, current]
    else:
        candidates = [*Part.objects.filter(superseded_by=part).order_by("pk"), part]
    for candidate in candidates:
        stock = _stock(room, candidate)
        if stock is not None and stock.available >= quantity:
            return part if candidate.pk == current.pk else candidate
    return None


def _issue(
    room: Stockroom,
    kind: str,
    lines: list[tuple[Part, Decimal]],
    when: datetime,
    **document,
) -> PartIssue | None:
    """An issue voucher taken through its steps — checked, picked, checked again, handed over —
    for what the shelf can give; what it cannot is recorded as a lost sale."""
    served = []
    for part, quantity in lines:
        source = _source(room, part, quantity)
        if source is not None:
            served.append({"part": source, "quantity": quantity})
        elif kind in (IssueKind.WORK_ORDER, IssueKind.COUNTER_SALE):
            services.lost_sale_record(
                branch=room.branch,
                part=part,
                quantity=quantity,
                asked_by=document.get("recipient") or room.technician.get_full_name(),
                by=room.clerk,
            )
    if not served:
        return None
    issue = services.part_issue_create(branch=room.branch, kind=kind, lines=served, by=room.clerk,
                                       **document)  # fmt: skip
    for step in (IssueStatus.CHECKED, IssueStatus.PICKED, IssueStatus.RECHECKED):
        services.part_issue_advance(issue=issue, step=step, by=room.clerk)
    services.part_issue_advance(issue=issue, step=IssueStatus.HANDED_OVER, by=room.clerk)
    minutes = timedelta(minutes=1)
    PartIssue.objects.filter(pk=issue.pk).update(
        created_at=when, checked_at=when + 2 * minutes, picked_at=when + 6 * minutes,
        rechecked_at=when + 8 * minutes, handed_over_at=when + 10 * minutes,
    )  # fmt: skip
    return issue


def _job_lines(room: Stockroom, job: Job, *, old_numbers: bool) -> list[tuple[Part, Decimal]]:
    lines = []
    for number, quantity, share in job.lines:
        if room.rng.random() < share:
            if number == SUPERSEDED_IN_HISTORY[1] and old_numbers:
                number = SUPERSEDED_IN_HISTORY[0]  # the technician still writes the old number
            lines.append((room.parts[number], Decimal(quantity)))
    return lines


def _work_order_issue(room: Stockroom, job: Job, day: date, hour: int) -> None:
    lines = _job_lines(room, job, old_numbers=day < room.superseded_on or room.rng.random() < 0.4)
    if not lines:
        return
    room.work_orders += 1
    reference = f"RO{day:%y%m%d}{room.work_orders:03d}"

    def run(when: datetime) -> None:
        _issue(room, IssueKind.WORK_ORDER, lines, when, work_order_reference=reference,
               recipient=room.technician.get_full_name())  # fmt: skip

    room.agenda.add(_at(day, hour, room.rng.choice([0, 15, 30])), run)


def _counter_sale(room: Stockroom, day: date) -> None:
    lines = _job_lines(room, COUNTER_SALES[room.make], old_numbers=False)
    if not lines:
        return
    customer = room.rng.choice(room.customers) if room.rng.random() < 0.7 else None

    def run(when: datetime) -> None:
        _issue(room, IssueKind.COUNTER_SALE, lines, when, customer=customer,
               recipient=customer.name if customer else "散客")  # fmt: skip

    room.agenda.add(_at(day, 15, room.rng.choice([0, 20, 40])), run)


def _catalogue_create(by: User) -> tuple[dict[str, Supplier], dict[str, Part]]:
    suppliers = {
        key: services.supplier_create(
            by=by,
            data={
                "name": spec.name,
                "contact": spec.contact,
                "phone": spec.phone,
                "lead_time_days": spec.lead_time_days,
            },
        )
        for key, spec in SUPPLIERS.items()
    }
    parts = {}
    for spec in CATALOGUE:
        parts[spec.number] = services.part_create(
            by=by,
            data={
                "number": spec.number,
                "name": spec.name,
                "classification": spec.classification,
                "fitting_models": spec.fits,
                "unit": spec.unit,
                "price": Decimal(spec.price),
                "supplier": suppliers[spec.supplier],
                "lead_time_days": SUPPLIERS[spec.supplier].lead_time_days,
            },
        )
    for old, new in SUPERSEDED_FROM_THE_START.items():
        parts[old] = services.part_supersede(part=parts[old], successor=parts[new], by=by)
    return suppliers, parts


def _shelves_create(room: Stockroom) -> None:
    """The bins, and each stocked part in the next free bin of its zone."""
    free: dict[str, list[Bin]] = {}
    for zone, (shelves, levels) in BIN_LAYOUT.items():
        free[zone] = [
            services.bin_create(
                branch=room.branch,
                by=room.clerk,
                data={"zone": zone, "shelf": f"{shelf:02d}", "level": str(level)},
            )
            for shelf in range(1, shelves + 1)
            for level in range(1, levels + 1)
        ]
    for spec in CATALOGUE:
        if not room.stocks(spec):
            continue
        part = room.parts[spec.number]
        services.bin_assign(
            branch=room.branch, part=part, bin=free[spec.zone].pop(0), by=room.clerk
        )
        minimum, point, maximum = (Decimal(level) for level in spec.levels)
        services.stock_levels_set(
            branch=room.branch, part=part, by=room.clerk, min_quantity=minimum,
            max_quantity=maximum, reorder_point=point,
        )  # fmt: skip


def _history_plan(room: Stockroom, suppliers: dict[str, Supplier], today: date) -> None:
    agenda, rng = room.agenda, room.rng
    stocked = [spec for spec in CATALOGUE if room.stocks(spec) and spec.levels[2]]
    own_suppliers = sorted({spec.supplier for spec in stocked})

    # A headlamp bought for a repair that never came: on the shelf for 14 months (呆滞件).
    dead = room.parts[DEAD_STOCK[room.make]]
    _order_and_receive(
        agenda, room, dead.supplier, _at(today - timedelta(days=420), 10),
        lambda: [(dead, Decimal(1))], note="事故车预订，客户未取",
    )  # fmt: skip

    # The shelves are filled three months ago, one order per supplier.
    for key in own_suppliers:
        specs = [spec for spec in stocked if spec.supplier == key]
        _order_and_receive(
            agenda, room, suppliers[key], _at(today - timedelta(days=OPENING_ORDER_DAY), 10),
            lambda specs=specs: [(room.parts[s.number], Decimal(s.levels[2])) for s in specs],
            note="期初备货",
        )  # fmt: skip

    # Every two weeks, what has fallen to its reorder point is ordered up to the maximum.
    for days_ago in REPLENISHMENT_DAYS:
        for key in own_suppliers:
            _order_and_receive(
                agenda, room, suppliers[key], _at(today - timedelta(days=days_ago), 11),
                lambda key=key: _to_restock(room, suppliers[key]),
                short_line=room.make == VW and key == "svw"
                and days_ago == SHORT_DELIVERY_DAY,
                note="补货订单",
            )  # fmt: skip

    # The jobs and counter sales of every day.
    for days_ago in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=days_ago)
        if rng.random() < MAINTENANCE_JOBS[room.make].per_day:
            _work_order_issue(room, MAINTENANCE_JOBS[room.make], day, 9)
        if rng.random() < BRAKE_JOBS[room.make].per_day:
            _work_order_issue(room, BRAKE_JOBS[room.make], day, 11)
        if rng.random() < COUNTER_SALES[room.make].per_day:
            _counter_sale(room, day)

    # An accident repair takes the front bumper off the shelf.
    bumper = room.parts["3GD807221" if room.make == VW else "52119-06B90"]
    room.work_orders += 1
    reference = f"RO{today - timedelta(days=38):%y%m%d}{room.work_orders:03d}"
    agenda.add(
        _at(today - timedelta(days=38), 16),
        lambda when: _issue(room, IssueKind.WORK_ORDER, [(bumper, Decimal(1))], when,
                            work_order_reference=reference, note="事故车维修，保险定损",
                            recipient=room.technician.get_full_name()),
    )  # fmt: skip


def _guangzhou_events(room: Stockroom, shenzhen: Stockroom, suppliers, today: date) -> None:
    """What only the Guangzhou stockroom did: the oil filter's new number, a return, a
    transfer to Shenzhen, a lost sale, the stocktake of zone A, and what waits today."""
    agenda, parts = room.agenda, room.parts
    old, new = (parts[number] for number in SUPERSEDED_IN_HISTORY)

    def supersede(when: datetime) -> None:
        services.part_supersede(part=old, successor=new, by=room.clerk)
        old_stock = _stock(room, old)
        for part, levels in [(new, old_stock), (old, None)]:
            services.stock_levels_set(
                branch=room.branch, part=part, by=room.clerk,
                min_quantity=levels.min_quantity if levels else Decimal(0),
                max_quantity=levels.max_quantity if levels else Decimal(0),
                reorder_point=levels.reorder_point if levels else Decimal(0),
            )  # fmt: skip

    agenda.add(_at(today - timedelta(days=SUPERSESSION_DAY), 8), supersede)

    # Two sets of front pads taken for a job that needed one: one comes back (退库).
    room.work_orders += 1
    reference = f"RO{today - timedelta(days=41):%y%m%d}{room.work_orders:03d}"
    issued: list[PartIssue] = []

    def brake_job(when: datetime) -> None:
        pads = [(parts["5Q0698151D"], Decimal(2))]
        issue = _issue(room, IssueKind.WORK_ORDER, pads, when, work_order_reference=reference,
                       recipient=room.technician.get_full_name())  # fmt: skip
        if issue is not None:
            issued.append(issue)

    def return_one(when: datetime) -> None:
        if issued:
            services.part_return_to_stock(
                line=issued[0].lines.get(), amount=Decimal(1), by=room.clerk,
                reason="只更换了前轴一套，多领一套退库",
            )  # fmt: skip

    agenda.add(_at(today - timedelta(days=41), 10, 45), brake_job)
    agenda.add(_at(today - timedelta(days=40), 9, 40), return_one)

    # Shenzhen ran out of 215/55 R17 tyres: two come over from Guangzhou.
    def transfer(when: datetime) -> None:
        tyres = [(parts["PRIMACY4-2155517"], Decimal(2))]
        _issue(room, IssueKind.TRANSFER, tyres, when, to_branch=shenzhen.branch,
               recipient="物流 陈师傅", note="南山店缺货调拨")  # fmt: skip

    agenda.add(_at(today - timedelta(days=34), 14, 10), transfer)

    # A customer asks for a part the branch does not stock.
    agenda.add(
        _at(today - timedelta(days=20), 11, 5),
        lambda when: services.lost_sale_record(
            branch=room.branch, part=parts["3GD941006"], quantity=Decimal(1),
            asked_by=room.customers[3].name, reason=LostSaleReason.NOT_STOCKED, by=room.clerk,
            note="客户询价后未订",
        ),
    )  # fmt: skip

    # The stocktake of zone A, the fast movers: one drain plug fewer on the shelf than in the
    # book. Counted by the clerk, approved by the branch manager.
    def stocktake(when: datetime) -> None:
        taken = services.stocktake_start(branch=room.branch, scope="zone", zone="A",
                                         by=room.clerk, note="月度循环盘点 A 区")  # fmt: skip
        counts = {}
        for line in taken.lines.select_related("part"):
            counted = line.book_quantity
            if line.part.number == "N90813202" and counted:
                counted -= 1
            counts[line.pk] = counted
        services.stocktake_count(stocktake=taken, counts=counts, by=room.clerk)
        services.stocktake_approve(stocktake=taken, by=room.approver)
        Stocktake.objects.filter(pk=taken.pk).update(created_at=when, approved_at=when)
        StocktakeLine.objects.filter(stocktake=taken).update(counted_at=when)

    agenda.add(_at(today - timedelta(days=10), 18), stocktake)

    # The genuine-parts order placed two days ago, waiting to be received today; the front
    # shock absorbers are new to the branch and need a bin when they are put away.
    def open_order(when: datetime) -> None:
        lines = _to_restock(room, suppliers["svw"])
        listed = {part.pk for part, _quantity in lines}
        for number, quantity in [("06L115562B", 12), ("G052195M4", 40), ("5Q0698151D", 4)]:
            if parts[number].pk not in listed:
                lines.append((parts[number], Decimal(quantity)))
        lines.append((parts["5QD413031"], Decimal(2)))
        _order_place(room, suppliers["svw"], lines, when, note="周补货，含途观L减震器")

    agenda.add(_at(today - timedelta(days=2), 10, 30), open_order)


# Yesterday's sales take these down to their reorder point: today's suggestions order them.
RUN_DOWN = {
    VW: {
        IssueKind.WORK_ORDER: ["5Q0129620D", "5Q0819653"],
        IssueKind.COUNTER_SALE: ["PRIMACY4-2355518", "H6-70-L-T2", "3397007187"],
    },
    TOYOTA: {IssueKind.COUNTER_SALE: ["L2-400", "1987302777", "PRIMACY4-2155517"]},
}


def _run_down_plan(room: Stockroom, today: date) -> None:
    """A fleet's service day and a big counter sale yesterday: what they take leaves the parts
    at their reorder point."""
    yesterday = today - timedelta(days=1)
    room.work_orders += 1
    documents = {
        IssueKind.WORK_ORDER: {
            "work_order_reference": f"RO{yesterday:%y%m%d}{room.work_orders:03d}",
            "recipient": room.technician.get_full_name(),
            "note": "车队批量保养",
        },
        IssueKind.COUNTER_SALE: {
            "customer": room.customers[5],
            "recipient": room.customers[5].name,
        },
    }
    for hour, (kind, numbers) in enumerate(RUN_DOWN[room.make].items(), start=10):

        def run(when: datetime, kind=kind, numbers=numbers) -> None:
            lines = []
            for number in numbers:
                stock = _stock(room, room.parts[number])
                if stock is not None and stock.available > stock.reorder_point:
                    lines.append((room.parts[number], stock.available - stock.reorder_point))
            if lines:
                _issue(room, kind, lines, when, **documents[kind])

        room.agenda.add(_at(yesterday, hour, 30), run)


def _emergency_order_quoted(room: Stockroom, suppliers, today: date) -> None:
    """A customer's Passat needs the right headlamp the branch does not stock: requested by
    the advisor yesterday, quoted by the supplier, waiting for the customer's deposit."""
    vehicle = (
        Vehicle.objects.filter(owner__branch=room.branch, series="帕萨特", owner__kind="person")
        .select_related("owner")
        .order_by("pk")
        .first()
    )
    customer = vehicle.owner if vehicle else room.customers[0]
    last_lost_sale = _last_id(LostSale)
    order = services.emergency_order_request(
        branch=room.branch, customer=customer, vehicle=vehicle, part=room.parts["3GD941006"],
        quantity=Decimal(1), by=room.advisor or room.clerk, note="右前大灯破损，客户要求原厂件",
    )  # fmt: skip
    services.emergency_order_quote(
        emergency_order=order, supplier=suppliers["svw"], quoted_unit_cost=Decimal("4380.00"),
        unit_price=Decimal("6980.00"), promised_on=today + timedelta(days=5), by=room.clerk,
    )  # fmt: skip
    requested = _at(today - timedelta(days=1), 16, 20)
    EmergencyOrder.objects.filter(pk=order.pk).update(created_at=requested)
    LostSale.objects.filter(pk__gt=last_lost_sale).update(at=requested)


def parts_demo_create(
    *,
    volkswagen: Branch,
    toyota: Branch,
    users: dict[str, User],
    today: date | None = None,
) -> None:
    """The stockrooms of the Volkswagen branch (Guangzhou, with the demo parts clerk) and the
    Toyota branch (Shenzhen, run by the group manager in the demo)."""
    today = today or timezone.localdate()
    clerk = users["parts_clerk"]
    suppliers, parts = _catalogue_create(clerk)
    rooms = [
        Stockroom(volkswagen, VW, clerk, users["branch_manager"], users["technician"],
                  advisor=users["advisor"]),
        Stockroom(toyota, TOYOTA, users["group_manager"], users["group_manager"],
                  users["technician"]),
    ]  # fmt: skip
    agenda = Agenda()
    for room in rooms:
        room.rng = random.Random(f"parts-demo-{room.make}")
        room.agenda = agenda
        room.parts = parts
        room.superseded_on = today - timedelta(days=SUPERSESSION_DAY)
        room.customers = list(
            Customer.objects.filter(branch=room.branch, kind=CustomerKind.PERSON).order_by("pk")[
                :40
            ]
        )
        _shelves_create(room)
        _history_plan(room, suppliers, today)
        _run_down_plan(room, today)
    _guangzhou_events(rooms[0], rooms[1], suppliers, today)
    agenda.run()
    _emergency_order_quoted(rooms[0], suppliers, today)
    for room in rooms:
        services.reorder_suggestions_compute(branch=room.branch, day=today)
