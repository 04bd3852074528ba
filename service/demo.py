"""The service department of the demo: two months of closed work orders — maintenance at
various mileages, repairs, a comeback, a towed car from a roadside rescue, a bodywork job paid
by the insurer, a warranty job with its claim — then what waits today: the week's slots, the
day's appointments (one of them the car at 29,800 km the demo's check-in journey takes in at
30,000 km; another whose owner declined items at the last visit), two cars in the workshop
(one waiting for quality check), a rescue team on its way, and yesterday's no-show.

Everything goes through the service and parts services, then is moved back in time to when it
happened, as the stockroom's demo does: each visit's times follow one another (opened, parts
handed over, the technician's, QC's and the team lead's signatures, settled, closed). The
parts a visit takes are issued by the stockroom only when the shelf had them at that moment
and keeps them afterwards, and each stock move is dated to its moment with the balances after
it carried along, so every ledger still reads in time order. Shenzhen has no advisor or
technician login: there the group manager runs the front desk, the workshop and the shelf.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import F, Max, Min
from django.utils import timezone

from customers.choices import CustomerKind, OdometerSource, Transmission
from customers.models import OdometerReading, TimelineEntry, Vehicle
from customers.services import odometer_record
from dealer_crm.models import Branch
from parts import services as parts_services
from parts.choices import IssueStatus
from parts.models import Part, PartIssue, PartStock, StockMove

from . import services
from .choices import (
    ChecklistResult,
    ConfirmationMethod,
    FuelLevel,
    InsuranceClaimStatus,
    PaymentMethod,
    RescueOutcome,
    ServiceType,
    TyrePosition,
    WarrantyClaimStatus,
)
from .models import (
    AddedItem,
    Appointment,
    ChecklistItem,
    InsuranceClaim,
    ServiceSlot,
    Settlement,
    TyreReading,
    WarrantyClaim,
    WorkOrder,
)

HISTORY_DAYS = 60
SLOT_DAYS = 5  # today, then the weekdays of the coming five days
SLOT_FIRST, SLOT_LAST = time(8, 30), time(16, 30)
SLOT_CAPACITY = {ServiceType.MAINTENANCE: 3, ServiceType.REPAIR: 2}
VW, TOYOTA = "vw", "toyota"
MAKE_BRAND = {VW: "大众", TOYOTA: "丰田"}
LABOUR_RATE = {VW: Decimal("260.00"), TOYOTA: Decimal("240.00")}
VISITS_PER_DAY = {VW: 0.22, TOYOTA: 0.1}
# The demo's check-in journey: this car's last reading, and the mileage it is checked in at.
JOURNEY_KM = 29_800
# Booking a slot that has begun is refused; the demo books its past appointments into the
# slot moved this far ahead for the moment of booking.
BOOKING_SHIFT = timedelta(days=3650)
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Job:
    """A kind of visit: the complaint in the customer's words, the labour (operation, hours)
    and the parts (number, quantity, share of the visits that take it)."""

    service_type: str
    complaint: str
    labour: tuple[tuple[str, str], ...]
    parts: tuple[tuple[str, str, float], ...] = ()


MAINTENANCE = {
    VW: Job(
        ServiceType.MAINTENANCE,
        "常规保养，顺便检查一下底盘",
        (("常规保养：更换机油机滤", "1.0"),),
        (("06L115562B", "1", 1.0), ("G052195M4", "5", 1.0), ("N90813202", "1", 1.0),
         ("5Q0129620D", "1", 0.3), ("5Q0819653", "1", 0.35)),
    ),
    TOYOTA: Job(
        ServiceType.MAINTENANCE,
        "常规保养",
        (("常规保养：更换机油机滤", "1.0"),),
        (("90915-YZZN1", "1", 1.0), ("08880-83264", "4", 1.0), ("90430-12031", "1", 1.0),
         ("17801-F0050", "1", 0.3), ("87139-0E040", "1", 0.35)),
    ),
}  # fmt: skip
REPAIRS = {
    VW: [
        Job(ServiceType.REPAIR, "踩刹车时前轮有异响", (("更换前刹车片", "1.2"),),
            (("5Q0698151D", "1", 1.0),)),
        Job(ServiceType.REPAIR, "雨刮刮不干净，挡风玻璃有水痕", (("更换雨刮片", "0.2"),),
            (("3397007187", "1", 1.0),)),
        Job(ServiceType.REPAIR, "早上打不着火，电瓶亏电", (("蓄电池检测及更换", "0.5"),),
            (("H6-70-L-T2", "1", 1.0),)),
        Job(ServiceType.REPAIR, "空调出风有异味",
            (("空调系统清洗", "0.8"), ("更换空调滤清器", "0.3")), (("5Q0819653", "1", 1.0),)),
        Job(ServiceType.REPAIR, "左前近光灯不亮", (("更换前照灯灯泡", "0.3"),),
            (("1987302777", "1", 1.0),)),
    ],
    TOYOTA: [
        Job(ServiceType.REPAIR, "踩刹车时前轮有异响", (("更换前刹车片", "1.2"),),
            (("04465-33471", "1", 1.0),)),
        Job(ServiceType.REPAIR, "雨刮刮不干净，挡风玻璃有水痕", (("更换雨刮片", "0.2"),),
            (("3397007187", "1", 1.0),)),
        Job(ServiceType.REPAIR, "空调出风有异味",
            (("空调系统清洗", "0.8"), ("更换空调滤清器", "0.3")), (("87139-0E040", "1", 1.0),)),
        Job(ServiceType.REPAIR, "左前近光灯不亮", (("更换前照灯灯泡", "0.3"),),
            (("1987302777", "1", 1.0),)),
    ],
}  # fmt: skip
BODYWORK = Job(
    ServiceType.BODYWORK,
    "倒车时前保险杠刮到立柱，保险杠开裂",
    (("前保险杠拆装", "1.0"), ("钣金修复", "2.5"), ("前保险杠喷漆", "4.0")),
    (("3GD807221", "1", 1.0),),
)
WARRANTY = Job(
    ServiceType.WARRANTY,
    "水温表偏高，仪表亮冷却液报警灯",
    (("更换水泵总成", "2.5"), ("冷却系统排气", "0.5")),
    (("06L121111H", "1", 1.0), ("G013A8JM1", "4", 1.0)),
)
COMEBACK = Job(
    ServiceType.REPAIR,
    "怠速时发动机抖动，故障灯亮",
    (("发动机故障诊断", "1.0"), ("更换火花塞", "0.8")),
    (("06K905601B", "4", 1.0),),
)
COMEBACK_AGAIN = Job(
    ServiceType.REPAIR,
    "怠速时发动机抖动，故障灯又亮了",
    (("发动机故障诊断", "1.0"), ("点火线圈检测", "0.5")),
)
AIR_CONDITIONING = Job(ServiceType.REPAIR, "空调制冷效果差", (("空调系统检测及加注冷媒", "1.0"),))
TOWED = Job(
    ServiceType.RESCUE,
    "路上熄火后无法启动，拖车进厂",
    (("蓄电池检测及更换", "0.5"), ("充电系统检测", "0.5")),
    (("H6-70-L-T2", "1", 1.0),),
)
STEERING = Job(ServiceType.REPAIR, "转方向盘时有异响", (("转向系统检查", "0.8"),))
TODAY_REPAIR = Job(
    ServiceType.REPAIR,
    "刹车时方向盘抖动",
    (("前刹车盘检查", "0.5"), ("更换前刹车片", "1.2")),
    (("5Q0698151D", "1", 1.0),),
)
# Vehicle B's maintenance at 60,000 km: what the customer takes and what they leave for later.
SIXTY_THOUSAND = Job(
    ServiceType.MAINTENANCE,
    "六万公里保养",
    (("常规保养：更换机油机滤", "1.0"), ("更换空气滤清器、空调滤清器", "0.5"),
     ("更换火花塞", "0.8")),
    (("06L115562B", "1", 1.0), ("G052195M4", "5", 1.0), ("N90813202", "1", 1.0),
     ("5Q0129620D", "1", 1.0), ("5Q0819653", "1", 1.0), ("06K905601B", "4", 1.0)),
)  # fmt: skip
DECLINED_AT_SIXTY = {"Brake fluid", "Power-steering fluid", "Gearbox oil"}
WORN_TYRES = {TyrePosition.REAR_LEFT: Decimal("2.6"), TyrePosition.REAR_RIGHT: Decimal("2.8")}


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _last_id(model) -> int:
    return model.objects.aggregate(last=Max("pk"))["last"] or 0


@dataclass
class Workshop:
    """One branch's service department in the demo and who works in it."""

    branch: Branch
    make: str
    advisor: User
    technician: User
    clerk: User
    today: date
    now: datetime
    rng: random.Random
    parts: dict[str, Part] = field(default_factory=dict)
    vehicles: list[Vehicle] = field(default_factory=list)  # not yet given a role
    last_read: dict[int, date] = field(default_factory=dict)  # vehicle → its last reading

    @property
    def rate(self) -> Decimal:
        return LABOUR_RATE[self.make]


# --- Vehicles -------------------------------------------------------------------------------


def _contact(vehicle: Vehicle) -> tuple[str, str]:
    customer = vehicle.owner
    if customer.kind == CustomerKind.ORGANIZATION:
        contact = customer.contacts.filter(is_primary=True).first()
        return (contact.name, contact.mobile) if contact else ("", "")
    return customer.name, customer.mobile


def _pool(shop: Workshop) -> None:
    """The branch's vehicles that can visit: plated, with a phone to reach the owner, the
    branch's own make first."""
    vehicles = (
        Vehicle.objects.filter(owner__branch=shop.branch, owner__merged_into__isnull=True)
        .exclude(plate="")
        .select_related("owner")
        .annotate(last_read=Max("odometer_readings__read_on"))
        .order_by("pk")
    )
    own, others = [], []
    for vehicle in vehicles:
        if vehicle.last_read is None or not all(_contact(vehicle)):
            continue
        shop.last_read[vehicle.pk] = vehicle.last_read
        (own if vehicle.brand == MAKE_BRAND[shop.make] else others).append(vehicle)
    shop.vehicles = own + others


def _take(shop: Workshop, day: date, *, km: tuple[int, int] = (0, 10**7),
          series: str = "", automatic: bool = False, person: bool = False,
          ) -> Vehicle | None:  # fmt: skip
    """A vehicle last read before `day`, within `km`, for one role only."""
    for vehicle in shop.vehicles:
        if (
            shop.last_read[vehicle.pk] < day
            and km[0] <= (vehicle.odometer_km or 0) <= km[1]
            and (not series or vehicle.series == series)
            and not (automatic and vehicle.transmission == Transmission.MANUAL)
            and not (person and vehicle.owner.kind != CustomerKind.PERSON)
        ):
            shop.vehicles.remove(vehicle)
            return vehicle
    return None


def _take_any(shop: Workshop, day: date) -> Vehicle | None:
    """A vehicle for an ordinary visit: mostly of the branch's make, picked at random."""
    candidates = [v for v in shop.vehicles if shop.last_read[v.pk] < day]
    if not candidates:
        return None
    own = [v for v in candidates if v.brand == MAKE_BRAND[shop.make]]
    vehicle = shop.rng.choice(own if own and shop.rng.random() < 0.85 else candidates)
    shop.vehicles.remove(vehicle)
    return vehicle


def _km_on(shop: Workshop, vehicle: Vehicle, day: date) -> int:
    """What the odometer shows on `day`: the last reading and the usual daily distance."""
    days = (day - shop.last_read[vehicle.pk]).days
    return (vehicle.odometer_km or 0) + max(50, days * shop.rng.randint(25, 55))


# --- The stockroom's ledger -----------------------------------------------------------------


def _balance_before(branch: Branch, part: Part, when: datetime) -> Decimal:
    move = (
        StockMove.objects.filter(branch=branch, part=part, at__lte=when).order_by("-at", "-id")
    ).first()
    return move.balance_after if move else Decimal(0)


def _served(shop: Workshop, part: Part, quantity: Decimal) -> Part:
    """The number the stockroom issues for `part`: an old number's stock first (旧号换新号)."""
    for old in Part.objects.filter(superseded_by=part).order_by("pk"):
        stock = PartStock.objects.filter(branch=shop.branch, part=old).first()
        if stock is not None and stock.available >= quantity:
            return old
    return part


def _shelf_has(shop: Workshop, part: Part, quantity: Decimal, when: datetime) -> bool:
    """Whether the shelf had `quantity` at `when`, and keeps enough for every move after it,
    and has it available now."""
    stock = PartStock.objects.filter(branch=shop.branch, part=part).first()
    if stock is None or stock.available < quantity:
        return False
    if _balance_before(shop.branch, part, when) < quantity:
        return False
    later = StockMove.objects.filter(branch=shop.branch, part=part, at__gt=when)
    lowest = later.aggregate(lowest=Min("balance_after"))["lowest"]
    return lowest is None or lowest >= quantity


def _moves_date(moves: list[StockMove], when: datetime) -> None:
    """Date moves just posted to `when`: each takes the balance it had then, and every later
    move of its part carries the difference."""
    for move in moves:
        before = _balance_before(move.branch, move.part, when)
        StockMove.objects.filter(branch=move.branch, part=move.part, at__gt=when).exclude(
            pk=move.pk
        ).update(balance_after=F("balance_after") + move.quantity)
        StockMove.objects.filter(pk=move.pk).update(at=when, balance_after=before + move.quantity)


# --- One visit ------------------------------------------------------------------------------


@dataclass
class Visit:
    """A work order in the making, and the clock it runs by."""

    shop: Workshop
    vehicle: Vehicle
    job: Job
    opened: datetime
    km: int
    work_order: WorkOrder | None = None
    appointment: Appointment | None = None
    days: int = 0  # how many days the car stays in the workshop

    def time(self, minutes: int) -> datetime:
        """A moment of the day the car comes in, never later than now."""
        return min(self.opened + timedelta(minutes=minutes), self.shop.now)

    def finish(self, minutes: int) -> datetime:
        """A moment of the car's last day in the workshop."""
        return min(self.opened + timedelta(days=self.days, minutes=minutes), self.shop.now)


def _book(shop: Workshop, vehicle: Vehicle, service_type: str, starts_at: datetime,
          booked_at: datetime, complaint: str) -> Appointment:  # fmt: skip
    (slot,) = services.slots_open(
        branch=shop.branch, service_type=service_type, starts=[starts_at],
        capacity=SLOT_CAPACITY.get(service_type, 2), by=shop.advisor,
    )  # fmt: skip
    begun = starts_at <= timezone.now()
    if begun:
        ServiceSlot.objects.filter(pk=slot.pk).update(starts_at=F("starts_at") + BOOKING_SHIFT)
    appointment = services.appointment_book(
        slot=slot, customer=vehicle.owner, vehicle=vehicle, advisor=shop.advisor,
        contact_phone=_contact(vehicle)[1], complaint=complaint, by=shop.advisor,
    )  # fmt: skip
    if begun:
        ServiceSlot.objects.filter(pk=slot.pk).update(starts_at=starts_at)
    Appointment.objects.filter(pk=appointment.pk).update(created_at=min(booked_at, shop.now))
    return appointment


def _estimate(shop: Workshop, job: Job, parts: list[tuple[Part, Decimal]]) -> Decimal:
    labour = sum((Decimal(hours) * shop.rate for _op, hours in job.labour), Decimal(0))
    total = labour + sum((part.price * quantity for part, quantity in parts), Decimal(0))
    factor = Decimal(str(shop.rng.choice([0.95, 1.0, 1.0, 1.05])))
    return (total * factor / 10).quantize(Decimal("1")) * 10


def _parts_wanted(shop: Workshop, job: Job) -> list[tuple[Part, Decimal]]:
    wanted = []
    for number, quantity, share in job.parts:
        if number in shop.parts and (share >= 1 or shop.rng.random() < share):
            wanted.append((shop.parts[number], Decimal(quantity)))
    return wanted


def _open(visit: Visit, *, appointment: Appointment | None = None,
          first_maintenance: bool = False) -> list[tuple[Part, Decimal]]:  # fmt: skip
    """接车: the work order opened at the visit's time, its reading dated that day."""
    shop, vehicle = visit.shop, visit.vehicle
    parts = _parts_wanted(shop, visit.job)
    name, phone = _contact(vehicle)
    work_order = services.work_order_open(
        branch=shop.branch, customer=vehicle.owner, vehicle=vehicle, appointment=appointment,
        by=shop.advisor,
        data={
            "service_type": visit.job.service_type, "is_first_maintenance": first_maintenance,
            "contact_name": name, "contact_phone": phone, "phone_confirmed": True,
            "plate": vehicle.plate, "mileage_in": visit.km,
            "fuel_level": shop.rng.choice(FuelLevel.values[1:]), "complaint": visit.job.complaint,
            "estimate": _estimate(shop, visit.job, parts),
            "items_left": shop.rng.choice(["", "", "行车记录仪", "雨伞一把"]),
        },
    )  # fmt: skip
    WorkOrder.objects.filter(pk=work_order.pk).update(opened_at=visit.opened)
    OdometerReading.objects.filter(pk=work_order.odometer_reading_id).update(
        read_on=timezone.localdate(visit.opened)
    )
    shop.last_read[vehicle.pk] = timezone.localdate(visit.opened)
    vehicle.odometer_km = visit.km
    visit.work_order = work_order
    return parts


def _part_line(visit: Visit, part: Part, quantity: Decimal, *, minutes: int = 10,
               added_item: AddedItem | None = None) -> bool:  # fmt: skip
    """The advisor asks for the part, the clerk issues it — if the shelf had it then."""
    shop = visit.shop
    requested, handed_over = visit.time(minutes), visit.time(minutes + 10)
    if not _shelf_has(shop, _served(shop, part, quantity), quantity, handed_over):
        return False
    line = services.part_line_add(
        work_order=visit.work_order, part=part, quantity=quantity, by=shop.advisor,
        added_item=added_item,
    )  # fmt: skip
    last_move = _last_id(StockMove)
    for step in (IssueStatus.CHECKED, IssueStatus.PICKED, IssueStatus.RECHECKED,
                 IssueStatus.HANDED_OVER):  # fmt: skip
        parts_services.part_issue_advance(issue=line.issue, step=step, by=shop.clerk)
    PartIssue.objects.filter(pk=line.issue_id).update(
        created_at=requested, checked_at=requested + 2 * MINUTE, picked_at=requested + 5 * MINUTE,
        rechecked_at=requested + 7 * MINUTE, handed_over_at=handed_over,
    )  # fmt: skip
    _moves_date(list(StockMove.objects.filter(pk__gt=last_move)), handed_over)
    return True


def _lines(visit: Visit, parts: list[tuple[Part, Decimal]], **kwargs) -> None:
    shop = visit.shop
    for operation, hours in visit.job.labour:
        services.labour_line_add(
            work_order=visit.work_order, operation=operation, standard_hours=Decimal(hours),
            rate=shop.rate, technician=shop.technician, by=shop.advisor, **kwargs,
        )  # fmt: skip
    for part, quantity in parts:
        _part_line(visit, part, quantity, **kwargs)


def _decide(visit: Visit, declined: set[str] = frozenset()) -> None:
    """The customer decides on the recommended items at check-in."""
    for recommendation in visit.work_order.recommendations.all():
        services.recommendation_decide(
            recommendation=recommendation,
            accepted=recommendation.description not in declined,
            by=visit.shop.advisor,
        )
    visit.work_order.recommendations.update(decided_at=visit.time(5))


def _workshop(visit: Visit, *, worn: dict[str, Decimal] | None = None, marked: int = 99) -> None:
    """The car goes in: the checklist (its first `marked` items) and the tyres for a
    maintenance, and the tyres whenever a tread was found worn."""
    shop, work_order = visit.shop, visit.work_order
    services.work_order_start(work_order=work_order, by=shop.advisor)
    WorkOrder.objects.filter(pk=work_order.pk).update(started_at=visit.time(20))
    if work_order.service_type == ServiceType.MAINTENANCE or worn:
        for position in TyrePosition.values[:4]:
            tread = (worn or {}).get(position) or Decimal(str(shop.rng.randint(40, 65) / 10))
            services.tyre_reading_record(
                work_order=work_order, position=position, tread_mm=tread,
                pressure_bar=Decimal(str(shop.rng.choice([2.3, 2.4, 2.5]))), by=shop.technician,
            )  # fmt: skip
        TyreReading.objects.filter(work_order=work_order).update(measured_at=visit.time(40))
    items = list(work_order.checklist_items.all())[:marked]
    for index, item in enumerate(items):
        struck = item.name == "Spark plugs" and visit.km % 30_000 > 2_000
        result = ChecklistResult.STRUCK if struck else ChecklistResult.DONE
        services.checklist_item_mark(item=item, result=result, by=shop.technician)
        ChecklistItem.objects.filter(pk=item.pk).update(marked_at=visit.time(45 + index * 3))


def _sign(visit: Visit) -> None:
    for line in visit.work_order.labour_lines.all():
        services.labour_line_sign(line=line, by=visit.shop.technician, at=visit.finish(90))


def _to_quality_check(visit: Visit) -> None:
    shop, work_order = visit.shop, visit.work_order
    _sign(visit)
    if work_order.service_type != ServiceType.MAINTENANCE:
        services.road_test_record(
            work_order=work_order, tested_by=shop.technician, tested_at=visit.finish(100),
            distance_km=shop.rng.choice([3, 5, 8]), passed=True, by=shop.technician,
            note="无异响，制动、转向正常",
        )  # fmt: skip
    services.work_order_submit_for_qc(work_order=work_order, by=shop.technician)


def _ready(visit: Visit) -> None:
    shop, work_order = visit.shop, visit.work_order
    _to_quality_check(visit)
    services.work_order_quality_check(
        work_order=work_order, inspector=shop.technician, at=visit.finish(110), passed=True,
        by=shop.technician,
    )  # fmt: skip
    services.work_order_release(
        work_order=work_order, team_lead=shop.technician, at=visit.finish(120), by=shop.technician
    )
    WorkOrder.objects.filter(pk=work_order.pk).update(ready_at=visit.finish(120))


def _settle_and_close(visit: Visit, *, insurer_pays: Decimal = Decimal(0),
                      warranty: bool = False) -> Settlement:  # fmt: skip
    """结算 and the car handed back late in the afternoon of its last day."""
    shop, work_order = visit.shop, visit.work_order
    total = services.work_order_totals(work_order)["total"]
    discount = total if warranty else Decimal(0)  # the manufacturer pays through the claim
    paid = total - discount - insurer_pays
    settlement = services.work_order_settle(
        work_order=work_order, by=shop.advisor, discount=discount, paid_amount=paid,
        payment_method=PaymentMethod.NONE if not paid
        else shop.rng.choice([PaymentMethod.WECHAT, PaymentMethod.WECHAT, PaymentMethod.ALIPAY,
                              PaymentMethod.CARD]),
    )  # fmt: skip
    services.work_order_close(work_order=work_order, by=shop.advisor)
    last_day = timezone.localdate(visit.opened) + timedelta(days=visit.days)
    settled = max(visit.finish(240), _at(last_day, 16, shop.rng.choice([0, 20, 40])))
    settled, closed = min(settled, shop.now), min(settled + 10 * MINUTE, shop.now)
    WorkOrder.objects.filter(pk=work_order.pk).update(settled_at=settled, closed_at=closed)
    Settlement.objects.filter(pk=settlement.pk).update(settled_at=settled)
    TimelineEntry.objects.filter(
        kind="work_order_closed", object_id=work_order.pk, customer=work_order.customer
    ).update(occurred_at=closed)
    return settlement


# --- The history ----------------------------------------------------------------------------


def _visit(shop: Workshop, vehicle: Vehicle, job: Job, day: date, *, hour: int = 9,
           minute: int = 0, km: int | None = None, booked: bool | None = None,
           days: int = 0) -> Visit:  # fmt: skip
    """A visit on `day`, most of them booked a day or three before."""
    opened = _at(day, hour, minute)
    visit = Visit(shop, vehicle, job, opened, km or _km_on(shop, vehicle, day), days=days)
    if booked if booked is not None else shop.rng.random() < 0.6:
        slot_at = opened.replace(minute=opened.minute // 30 * 30)
        visit.appointment = _book(
            shop, vehicle, _slot_type(job), slot_at,
            opened - timedelta(days=shop.rng.randint(1, 3), hours=2), job.complaint,
        )  # fmt: skip
    return visit


def _closed_visit(shop: Workshop, vehicle: Vehicle, job: Job, day: date, **kwargs) -> Visit:
    """An ordinary visit from check-in to close."""
    visit = _visit(shop, vehicle, job, day, **kwargs)
    first = job.service_type == ServiceType.MAINTENANCE and visit.km < 8_000
    parts = _open(visit, appointment=visit.appointment, first_maintenance=first)
    if first:
        services.work_order_certificates_checked(work_order=visit.work_order, by=shop.advisor)
        WorkOrder.objects.filter(pk=visit.work_order.pk).update(
            certificates_checked_at=visit.time(3)
        )
    _decide(visit)
    _lines(visit, parts)
    _workshop(visit)
    _ready(visit)
    _settle_and_close(visit)
    return visit


def _added_item_visit(shop: Workshop, vehicle: Vehicle, day: date) -> None:
    """A maintenance where the technician finds worn rear pads: the customer agrees by phone,
    and to the total going more than 10% over the estimate."""
    visit = _visit(shop, vehicle, MAINTENANCE[shop.make], day, booked=True)
    parts = _open(visit, appointment=visit.appointment)
    _decide(visit)
    _lines(visit, parts)
    _workshop(visit)
    work_order = visit.work_order
    item = services.added_item_add(
        work_order=work_order, description="后刹车片磨损到限，建议更换", by=shop.advisor,
        estimate=Decimal("1010.00"),
    )  # fmt: skip
    name = _contact(vehicle)[0]
    item = services.added_item_confirm(
        added_item=item, confirmed_by=name, method=ConfirmationMethod.PHONE, by=shop.advisor,
        at=visit.time(75),
    )  # fmt: skip
    AddedItem.objects.filter(pk=item.pk).update(requested_at=visit.time(65))
    services.labour_line_add(
        work_order=work_order, operation="更换后刹车片", standard_hours=Decimal("1.0"),
        rate=shop.rate, technician=shop.technician, by=shop.advisor, added_item=item,
    )  # fmt: skip
    pads = shop.parts.get("5Q0698451K" if shop.make == VW else "04466-33220")
    if pads is not None:
        _part_line(visit, pads, Decimal(1), minutes=80, added_item=item)
    services.work_order_approve_overrun(
        work_order=work_order, approved_by=name, method=ConfirmationMethod.PHONE, by=shop.advisor
    )
    WorkOrder.objects.filter(pk=work_order.pk).update(overrun_approved_at=visit.time(76))
    _ready(visit)
    _settle_and_close(visit)


def _bodywork_visit(shop: Workshop, vehicle: Vehicle, day: date) -> None:
    """An accident repair over three days, assessed and paid by the insurer; the customer pays
    their own share."""
    visit = _visit(shop, vehicle, BODYWORK, day, hour=10, booked=False, days=3)
    parts = _open(visit)
    _lines(visit, parts)
    work_order = visit.work_order
    claim = services.insurance_claim_create(
        work_order=work_order, by=shop.advisor,
        data={
            "insurer": "中国人民财产保险股份有限公司广州市分公司",
            "policy_number": f"PDAA{day:%Y}4401{work_order.pk:08d}",
            "claim_number": f"RDAA{day:%Y}4401{work_order.pk + 4000:08d}",
            "accident_date": day - timedelta(days=1), "customer_share": Decimal("500.00"),
        },
    )  # fmt: skip
    assessed = services.work_order_totals(work_order)["total"]
    services.insurance_claim_advance(
        claim=claim, status=InsuranceClaimStatus.ASSESSED, by=shop.advisor,
        assessed_amount=assessed, assessor="李定损",
    )  # fmt: skip
    services.insurance_claim_advance(claim=claim, status=InsuranceClaimStatus.APPROVED,
                                     by=shop.advisor)  # fmt: skip
    InsuranceClaim.objects.filter(pk=claim.pk).update(created_at=visit.time(30))
    _workshop(visit)
    _ready(visit)
    _settle_and_close(visit, insurer_pays=assessed - claim.customer_share)
    for status in (InsuranceClaimStatus.REPAIRED, InsuranceClaimStatus.PAID):
        services.insurance_claim_advance(claim=claim, status=status, by=shop.advisor)


def _warranty_visit(shop: Workshop, vehicle: Vehicle, day: date) -> None:
    """A failed water pump under warranty: the certificates checked, the claim submitted and
    approved by the manufacturer, nothing for the customer to pay."""
    visit = _visit(shop, vehicle, WARRANTY, day, hour=9, minute=30, booked=False)
    parts = _open(visit)
    work_order = visit.work_order
    services.work_order_certificates_checked(work_order=work_order, by=shop.advisor)
    WorkOrder.objects.filter(pk=work_order.pk).update(certificates_checked_at=visit.time(3))
    _lines(visit, parts)
    totals = services.work_order_totals(work_order)
    pump = shop.parts.get("06L121111H")
    if pump is not None:
        claim = services.warranty_claim_create(
            work_order=work_order, failed_part=pump, cause="水泵轴承漏水，冷却液流失",
            labour_amount=totals["labour"], parts_amount=totals["parts"], by=shop.advisor,
        )  # fmt: skip
        services.warranty_claim_advance(
            claim=claim, status=WarrantyClaimStatus.SUBMITTED, by=shop.advisor,
            manufacturer_reference=f"SVW-WC-{day:%y%m}{claim.pk:05d}",
        )  # fmt: skip
        services.warranty_claim_advance(
            claim=claim, status=WarrantyClaimStatus.APPROVED, by=shop.advisor
        )
        WarrantyClaim.objects.filter(pk=claim.pk).update(created_at=visit.time(60))
    _workshop(visit)
    _ready(visit)
    _settle_and_close(visit, warranty=True)


def _rescue_visit(shop: Workshop, vehicle: Vehicle, day: date) -> None:
    """A car that would not start on the road: the team dispatched and arrived, the car towed
    in and repaired the same day."""
    called = _at(day, 7, 40)
    name, phone = _contact(vehicle)
    rescue = services.rescue_log(
        branch=shop.branch, by=shop.advisor,
        data={"customer": vehicle.owner, "vehicle": vehicle, "caller_name": name,
              "caller_phone": phone, "called_at": called, "location": "广州市天河区广园快速路"
              "天河立交往东约 500 米", "problem": "等红灯时熄火，再也打不着"},
    )  # fmt: skip
    services.rescue_dispatch(rescue=rescue, to=shop.technician, by=shop.advisor,
                             at=called + 10 * MINUTE)  # fmt: skip
    services.rescue_arrive(rescue=rescue, by=shop.technician, at=called + 45 * MINUTE)
    visit = _visit(shop, vehicle, TOWED, day, hour=9, minute=20, booked=False)
    parts = _open(visit)
    services.rescue_finish(
        rescue=rescue, outcome=RescueOutcome.TOWED, work_order=visit.work_order,
        by=shop.technician, note="现场搭电无效，拖车回厂",
    )  # fmt: skip
    _lines(visit, parts)
    _workshop(visit)
    _ready(visit)
    _settle_and_close(visit)


def _history(shop: Workshop, specials: dict[int, Callable[[date], object]]) -> None:
    """Two months of visits in time order: the ordinary ones at random, the special ones on
    their days."""
    jobs = [MAINTENANCE[shop.make]] * 3 + REPAIRS[shop.make]
    for days_ago in range(HISTORY_DAYS, 0, -1):
        day = shop.today - timedelta(days=days_ago)
        if days_ago in specials:
            specials[days_ago](day)
        # The history opens with a visit on its first day, then comes at random.
        if shop.rng.random() < VISITS_PER_DAY[shop.make] or days_ago == HISTORY_DAYS:
            vehicle = _take_any(shop, day)
            if vehicle is not None:
                hour = shop.rng.choice([8, 9, 10, 13])
                _closed_visit(shop, vehicle, shop.rng.choice(jobs), day, hour=hour,
                              minute=shop.rng.choice([40, 50]))  # fmt: skip


# --- Guangzhou's special visits -------------------------------------------------------------


def _guangzhou_specials(
    shop: Workshop,
) -> tuple[dict[int, Callable[[date], object]], dict[str, Vehicle | None]]:
    """The visits the demo shows on purpose, and the cars they keep for today."""
    today = shop.today
    cars = {
        "journey": _take(
            shop, today - timedelta(days=38), km=(12_000, 26_000), automatic=True, person=True
        ),
        "declined": _take(shop, today - timedelta(days=19), km=(45_000, 59_000), automatic=True),
        "comeback": _take(shop, today - timedelta(days=24), km=(20_000, 120_000)),
        "bodywork": _take(shop, today - timedelta(days=13), series="帕萨特")
        or _take(shop, today - timedelta(days=13)),
        "warranty": None,
        "towed": _take(shop, today - timedelta(days=16)),
        "added_item": _take(shop, today - timedelta(days=45)),
    }
    warranty_day = today - timedelta(days=27)
    for vehicle in list(shop.vehicles):
        if (
            vehicle.brand == MAKE_BRAND[VW]
            and shop.last_read[vehicle.pk] < warranty_day
            and vehicle.warranty_end_date
            and vehicle.warranty_end_date > today
            and (vehicle.odometer_km or 0) < (vehicle.warranty_end_km or 10**7) - 5_000
        ):
            shop.vehicles.remove(vehicle)
            cars["warranty"] = vehicle
            break

    def journey_first_visit(day: date) -> None:
        # An air-conditioning repair at 26,800 km: both rear tyres found worn, the customer
        # will see to them later; the recommendations come back at the next check-in.
        vehicle = cars["journey"]
        visit = _visit(shop, vehicle, AIR_CONDITIONING, day, hour=14,
                       km=max(26_800, (vehicle.odometer_km or 0) + 100), booked=True)  # fmt: skip
        _open(visit, appointment=visit.appointment)
        _lines(visit, [])
        _workshop(visit, worn=WORN_TYRES)
        for recommendation in visit.work_order.recommendations.all():
            services.recommendation_decide(
                recommendation=recommendation, accepted=False, by=shop.advisor
            )
        visit.work_order.recommendations.update(decided_at=visit.time(50))
        _ready(visit)
        _settle_and_close(visit)

    def sixty_thousand(day: date) -> None:
        vehicle = cars["declined"]
        visit = _visit(shop, vehicle, SIXTY_THOUSAND, day, hour=9, km=59_600, booked=True)
        parts = _open(visit, appointment=visit.appointment)
        _decide(visit, declined=DECLINED_AT_SIXTY)
        _lines(visit, parts)
        _workshop(visit)
        _ready(visit)
        _settle_and_close(visit)

    def comeback(day: date) -> None:
        _closed_visit(shop, cars["comeback"], COMEBACK, day, hour=10, booked=False)

    def comeback_again(day: date) -> None:
        # Back 13 days later with the same complaint: flagged as a comeback at check-in.
        _closed_visit(shop, cars["comeback"], COMEBACK_AGAIN, day, hour=8, minute=50,
                      booked=False)  # fmt: skip

    specials = {
        45: lambda day: cars["added_item"] and _added_item_visit(shop, cars["added_item"], day),
        38: lambda day: cars["journey"] and journey_first_visit(day),
        27: lambda day: cars["warranty"] and _warranty_visit(shop, cars["warranty"], day),
        24: lambda day: cars["comeback"] and comeback(day),
        19: lambda day: cars["declined"] and sixty_thousand(day),
        16: lambda day: cars["towed"] and _rescue_visit(shop, cars["towed"], day),
        13: lambda day: cars["bodywork"] and _bodywork_visit(shop, cars["bodywork"], day),
        11: lambda day: cars["comeback"] and comeback_again(day),
    }
    return specials, cars


# --- Today ----------------------------------------------------------------------------------


def _slots_open(shop: Workshop) -> None:
    """Today's slots and the coming weekdays': 08:30–16:30 every half hour."""
    times = []
    moment = datetime.combine(shop.today, SLOT_FIRST)
    while moment.time() <= SLOT_LAST:
        times.append(moment.time())
        moment += timedelta(minutes=30)
    for offset in range(SLOT_DAYS + 1):
        day = shop.today + timedelta(days=offset)
        if offset and day.weekday() >= 5:
            continue
        for service_type, capacity in SLOT_CAPACITY.items():
            services.slots_open(
                branch=shop.branch, service_type=service_type, capacity=capacity,
                starts=[_at(day, moment.hour, moment.minute) for moment in times],
                by=shop.advisor,
            )  # fmt: skip


def _today_visit(shop: Workshop, vehicle: Vehicle, job: Job, slot_at: datetime) -> Visit:
    """A car booked for this morning and checked in, its clock running up to now."""
    appointment = _book(shop, vehicle, _slot_type(job), slot_at,
                        slot_at - timedelta(days=2), job.complaint)  # fmt: skip
    opened = max(shop.now - timedelta(minutes=150), _at(shop.today, 0, 1))
    visit = Visit(shop, vehicle, job, opened, _km_on(shop, vehicle, shop.today))
    parts = _open(visit, appointment=appointment)
    _decide(visit)
    _lines(visit, parts)
    return visit


def _slot_type(job: Job) -> str:
    return ServiceType.MAINTENANCE if job.service_type == ServiceType.MAINTENANCE else (
        ServiceType.REPAIR)  # fmt: skip


def _today(shop: Workshop, cars: dict[str, Vehicle | None]) -> None:
    """The front desk's and the workshop's day: appointments, two cars in the workshop, a
    rescue team on its way, yesterday's no-show."""
    today, yesterday = shop.today, shop.today - timedelta(days=1)
    in_progress = _take(shop, today)
    waiting_qc = _take(shop, today)
    if in_progress is not None:
        visit = _today_visit(shop, in_progress, MAINTENANCE[shop.make], _at(today, 8, 30))
        _workshop(visit, marked=7)
    if waiting_qc is not None:
        job = TODAY_REPAIR if shop.make == VW else REPAIRS[TOYOTA][0]
        visit = _today_visit(shop, waiting_qc, job, _at(today, 9, 0))
        _workshop(visit)
        _to_quality_check(visit)

    # The journey's car: last read at 29,800 km when its owner booked yesterday.
    journey = cars.get("journey")
    if journey is not None:
        odometer_record(
            vehicle=journey, km=JOURNEY_KM, read_on=yesterday, by=shop.advisor,
            source=OdometerSource.MANUAL, note="预约时客户报里程",
        )  # fmt: skip
        _book(shop, journey, ServiceType.MAINTENANCE, _at(today, 10, 0),
              shop.now - timedelta(days=1), "三万公里保养")  # fmt: skip
    declined = cars.get("declined")
    if declined is not None:
        _book(shop, declined, ServiceType.REPAIR, _at(today, 9, 30),
              shop.now - timedelta(days=1), STEERING.complaint)  # fmt: skip
    later = [
        (_at(today, 14, 0), REPAIRS[shop.make][1]),
        (_at(today, 15, 30), MAINTENANCE[shop.make]),
        (_at(today + timedelta(days=1), 9, 0), MAINTENANCE[shop.make]),
    ]
    for slot_at, job in later:
        vehicle = _take(shop, today)
        if vehicle is not None:
            _book(shop, vehicle, _slot_type(job), slot_at, shop.now - timedelta(days=2),
                  job.complaint)  # fmt: skip

    no_show = _take(shop, yesterday)
    if no_show is not None:
        appointment = _book(shop, no_show, ServiceType.MAINTENANCE, _at(yesterday, 15, 0),
                            shop.now - timedelta(days=4), "常规保养")  # fmt: skip
        services.appointment_no_show(appointment=appointment, by=shop.advisor)


def _rescue_dispatched(shop: Workshop) -> None:
    """A call half an hour ago: the technician is on the way."""
    vehicle = _take(shop, shop.today)
    called = shop.now - timedelta(minutes=35)
    name, phone = _contact(vehicle) if vehicle else ("陈先生", "13826451187")
    rescue = services.rescue_log(
        branch=shop.branch, by=shop.advisor,
        data={"customer": vehicle.owner if vehicle else None, "vehicle": vehicle,
              "caller_name": name, "caller_phone": phone, "called_at": called,
              "location": "广州市天河区中山大道西 BRT 体育中心站附近",
              "problem": "爆胎，备胎气压不足"},
    )  # fmt: skip
    services.rescue_dispatch(rescue=rescue, to=shop.technician, by=shop.advisor,
                             at=called + 8 * MINUTE)  # fmt: skip


# --- The demo -------------------------------------------------------------------------------


def service_demo_create(
    *,
    volkswagen: Branch,
    toyota: Branch,
    users: dict[str, User],
    today: date | None = None,
) -> None:
    """The service departments of the Volkswagen branch (Guangzhou, with the demo advisor and
    technician) and the Toyota branch (Shenzhen, run by the group manager in the demo). Does
    nothing when their service history exists: the work orders opened before today, which only
    the demo back-dates (what was entered by hand today stays and is worked around)."""
    today = today or timezone.localdate()
    now = timezone.now()
    if WorkOrder.objects.filter(
        branch__in=[volkswagen, toyota], opened_at__lt=_at(today, 0)
    ).exists():
        return
    parts = {part.number: part for part in Part.objects.all()}
    manager = users["group_manager"]
    shops = [
        Workshop(volkswagen, VW, users["advisor"], users["technician"], users["parts_clerk"],
                 today, now, random.Random("service-demo-vw"), parts),
        Workshop(toyota, TOYOTA, manager, manager, manager, today, now,
                 random.Random("service-demo-toyota"), parts),
    ]  # fmt: skip
    for shop in shops:
        _pool(shop)
        specials, cars = _guangzhou_specials(shop) if shop.make == VW else ({}, {})
        _history(shop, specials)
        _slots_open(shop)
        _today(shop, cars)
    _rescue_dispatched(shops[0])
