"""Every write of the service department: slots and appointments, work orders from check-in
to close, their lines, added items, recommendations, checklist, road tests, settlement,
claims and roadside rescue. Parts are reserved and issued through `parts.services` only."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.contrib.postgres.search import TrigramSimilarity
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, override
from simple_history.utils import bulk_create_with_history

from customers.choices import OdometerSource, Transmission
from customers.models import Customer, Vehicle
from customers.services import odometer_record, timeline_add
from dealer_crm.audit import attribute_to
from dealer_crm.errors import DomainError, StateConflict
from dealer_crm.models import Branch, display_name
from parts import services as parts_services
from parts.choices import IssueKind, IssueStatus
from parts.models import Part

from . import events, timeline
from .choices import (
    EDITABLE_STATUSES,
    WORK_ORDER_TRANSITIONS,
    AppointmentStatus,
    ChecklistResult,
    InsuranceClaimStatus,
    RecommendationStatus,
    RescueStatus,
    ServiceType,
    WarrantyClaimStatus,
    WorkOrderStatus,
)
from .models import (
    ZERO,
    AddedItem,
    Appointment,
    ChecklistItem,
    InsuranceClaim,
    LabourLine,
    PartLine,
    Recommendation,
    Rescue,
    RoadTest,
    ServiceSlot,
    Settlement,
    SettlementLine,
    TyreReading,
    WarrantyClaim,
    WorkOrder,
)

# The settled total may exceed the estimate by this much without the customer's approval.
OVERRUN_LIMIT = Decimal("0.10")
# A repair of the same complaint on the same vehicle within this many days is a comeback.
COMEBACK_DAYS = 30
COMEBACK_SIMILARITY = 0.3
# Below this tread depth a tyre's replacement is recommended (3.0–6.5 mm is normal).
TREAD_MINIMUM_MM = Decimal("3.0")
# Recommended items by mileage (建议维修项目): (from km, to km, items, items not for a manual
# gearbox).
THIRTY_THOUSAND_ITEMS = [
    gettext_noop("Spark plugs"),
    gettext_noop("Engine oil"),
    gettext_noop("Oil filter"),
    gettext_noop("Air filter"),
    gettext_noop("Cabin filter"),
]
SIXTY_THOUSAND_ITEMS = [
    *THIRTY_THOUSAND_ITEMS,
    gettext_noop("Brake fluid"),
    gettext_noop("Power-steering fluid"),
]
MILEAGE_RECOMMENDATIONS = [
    (29_000, 31_000, THIRTY_THOUSAND_ITEMS, []),
    (59_000, 61_000, SIXTY_THOUSAND_ITEMS, [gettext_noop("Gearbox oil")]),
]
# The maintenance checklist (保养表) every maintenance work order starts with.
CHECKLIST_ITEMS = [
    gettext_noop("Engine oil and filter"),
    gettext_noop("Air filter"),
    gettext_noop("Cabin filter"),
    gettext_noop("Spark plugs"),
    gettext_noop("Brake fluid level"),
    gettext_noop("Coolant level"),
    gettext_noop("Brake pads and discs"),
    gettext_noop("Lights and horn"),
    gettext_noop("Wipers and washer fluid"),
    gettext_noop("Battery"),
    gettext_noop("Belts and hoses"),
    gettext_noop("Underbody and leaks"),
]
TYRES_ON_A_CAR = 4


# --- Slots and appointments ----------------------------------------------------------------


@transaction.atomic
def slots_open(
    *, branch: Branch, service_type: str, starts: list[datetime], capacity: int, by: User,
    minutes: int = 30,
) -> list[ServiceSlot]:  # fmt: skip
    """Open bookable slots (an existing one keeps its bookings and takes the new capacity,
    never below what is booked)."""
    if capacity < 1:
        raise DomainError("capacity_not_positive", _("A slot takes at least one car."))
    slots = []
    for start in starts:
        slot, _created = ServiceSlot.objects.select_for_update().get_or_create(
            branch=branch,
            service_type=service_type,
            starts_at=start,
            defaults={"capacity": capacity, "minutes": minutes},
        )
        if slot.booked > capacity:
            raise StateConflict(
                "capacity_below_booked",
                _("%(slot)s already has %(booked)s bookings.")
                % {"slot": slot, "booked": slot.booked},
            )
        slot.capacity, slot.minutes = capacity, minutes
        attribute_to(slot, by).save()
        slots.append(slot)
    return slots


def _vehicle_of(customer: Customer, vehicle: Vehicle, branch: Branch) -> None:
    if customer.branch_id != branch.pk:
        raise DomainError(
            "customer_other_branch", _("The customer belongs to another branch."), field="customer"
        )
    if vehicle.owner_id != customer.pk:
        raise DomainError(
            "vehicle_not_customers", _("The vehicle is not the customer's."), field="vehicle"
        )


@transaction.atomic
def appointment_book(
    *,
    slot: ServiceSlot,
    customer: Customer,
    vehicle: Vehicle,
    advisor: User,
    contact_phone: str,
    by: User,
    complaint: str = "",
) -> Appointment:
    """Book a vehicle into a slot while it has room; the slot's count changes under its lock."""
    slot = ServiceSlot.objects.select_for_update().get(pk=slot.pk)
    _vehicle_of(customer, vehicle, slot.branch)
    if slot.starts_at < timezone.now():
        raise DomainError("slot_past", _("This slot has passed."), field="slot")
    if slot.booked >= slot.capacity:
        raise StateConflict(
            "slot_full", _("%(slot)s is fully booked.") % {"slot": slot}, field="slot"
        )
    appointment = Appointment(
        branch_id=slot.branch_id, slot=slot, customer=customer, vehicle=vehicle, advisor=advisor,
        contact_phone=contact_phone, complaint=complaint, created_by=by,
    )  # fmt: skip
    appointment.full_clean()
    attribute_to(appointment, by).save()
    slot.booked += 1  # under the slot's lock
    attribute_to(slot, by).save(update_fields=["booked"])
    return appointment


def _appointment_locked(appointment: Appointment) -> Appointment:
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status != AppointmentStatus.BOOKED:
        raise StateConflict(
            "appointment_not_booked",
            _("This appointment is %(status)s.") % {"status": appointment.get_status_display()},
        )
    return appointment


def _free_slot(appointment: Appointment, by: User) -> None:
    slot = ServiceSlot.objects.select_for_update().get(pk=appointment.slot_id)
    slot.booked -= 1  # under the slot's lock
    attribute_to(slot, by).save(update_fields=["booked"])


@transaction.atomic
def appointment_cancel(*, appointment: Appointment, by: User) -> Appointment:
    appointment = _appointment_locked(appointment)
    appointment.status = AppointmentStatus.CANCELLED
    attribute_to(appointment, by).save()
    _free_slot(appointment, by)
    return appointment


@transaction.atomic
def appointment_no_show(*, appointment: Appointment, by: User) -> Appointment:
    """The customer did not come: recorded once the slot has begun."""
    appointment = _appointment_locked(appointment)
    if appointment.slot.starts_at > timezone.now():
        raise DomainError("slot_not_begun", _("A no-show is recorded once the slot has begun."))
    appointment.status = AppointmentStatus.NO_SHOW
    attribute_to(appointment, by).save()
    return appointment


@transaction.atomic
def appointment_reminders_mark(*, now: datetime | None = None, within: timedelta) -> list[int]:
    """The booked appointments starting within `within` not yet reminded, marked reminded;
    returns their ids (the job tells each advisor). Marking first makes a rerun send none."""
    now = now or timezone.now()
    due = list(
        Appointment.objects.select_for_update(skip_locked=True)
        .filter(
            status=AppointmentStatus.BOOKED,
            reminded_at__isnull=True,
            slot__starts_at__gt=now,
            slot__starts_at__lte=now + within,
        )
        .values_list("pk", flat=True)
    )
    Appointment.objects.filter(pk__in=due).update(reminded_at=now)
    return due


# --- Opening a work order (check-in) -------------------------------------------------------


def _comeback_of(vehicle: Vehicle, complaint: str, service_type: str) -> WorkOrder | None:
    """The vehicle's last repair of the same complaint within 30 days, if any."""
    if service_type not in (ServiceType.REPAIR, ServiceType.WARRANTY):
        return None
    since = timezone.now() - timedelta(days=COMEBACK_DAYS)
    return (
        WorkOrder.objects.filter(
            vehicle=vehicle,
            service_type__in=[ServiceType.REPAIR, ServiceType.WARRANTY],
            opened_at__gte=since,
        )
        .annotate(similarity=TrigramSimilarity("complaint", complaint))
        .filter(similarity__gte=COMEBACK_SIMILARITY)
        .order_by("-similarity", "-opened_at")
        .first()
    )


def mileage_recommendations(vehicle: Vehicle, km: int) -> list[str]:
    """What the mileage calls for: at 29,000–31,000 km plugs, oil and the filters; at
    59,000–61,000 km also the fluids, and gearbox oil unless the gearbox is manual."""
    for low, high, items, not_manual in MILEAGE_RECOMMENDATIONS:
        if low <= km <= high:
            return items + ([] if vehicle.transmission == Transmission.MANUAL else not_manual)
    return []


@transaction.atomic
def work_order_open(
    *,
    branch: Branch,
    customer: Customer,
    vehicle: Vehicle,
    by: User,
    data: dict,
    appointment: Appointment | None = None,
    odometer_replaced: bool = False,
) -> WorkOrder:
    """接车: open the work order. The contact phone must have been confirmed with the
    customer; the mileage is recorded as an odometer reading (never lower than the last one
    unless the odometer was replaced); the estimate is given; the mileage's recommended items
    and those declined at earlier visits are put before the customer; a repair of the same
    complaint within 30 days is flagged as a comeback."""
    _vehicle_of(customer, vehicle, branch)
    if not data.get("phone_confirmed"):
        raise DomainError(
            "phone_not_confirmed",
            _("Read the contact phone back to the customer and tick that it is confirmed."),
            field="phone_confirmed",
        )
    if appointment is not None:
        appointment = _appointment_locked(appointment)
        if appointment.vehicle_id != vehicle.pk:
            raise DomainError(
                "appointment_other_vehicle",
                _("The appointment is for another vehicle."),
                field="vehicle",
            )
    work_order = WorkOrder(
        branch=branch, customer=customer, vehicle=vehicle, appointment=appointment,
        created_by=by, **{"advisor": by, **data},
    )  # fmt: skip
    work_order.plate = work_order.plate.strip().upper()
    work_order.full_clean(exclude=["odometer_reading"])
    try:
        work_order.odometer_reading = odometer_record(
            vehicle=vehicle,
            km=work_order.mileage_in,
            read_on=timezone.localdate(),
            by=by,
            source=OdometerSource.WORK_ORDER,
            is_replacement=odometer_replaced,
        )
    except DomainError as error:
        error.field = "mileage_in"  # the reading's km is the work order's mileage in
        raise
    work_order.comeback_of = _comeback_of(vehicle, work_order.complaint, work_order.service_type)
    attribute_to(work_order, by).save()
    if appointment is not None:
        appointment.status = AppointmentStatus.CHECKED_IN
        attribute_to(appointment, by).save()
    # Items not done at earlier visits are put before the customer again, once.
    earlier = Recommendation.objects.filter(
        vehicle=vehicle, status__in=[RecommendationStatus.OPEN, RecommendationStatus.DECLINED]
    ).exclude(work_order=work_order)
    # description → (tyre, tread): a worn tyre keeps what it was recommended for.
    items = {item: ("", None) for item in mileage_recommendations(vehicle, work_order.mileage_in)}
    for description, tyre, tread in earlier.values_list("description", "tyre_position", "tread_mm"):
        items.setdefault(description, (tyre, tread))
    earlier.update(status=RecommendationStatus.CARRIED)
    for description, (tyre, tread) in items.items():
        attribute_to(
            Recommendation(
                vehicle=vehicle,
                work_order=work_order,
                description=description,
                tyre_position=tyre,
                tread_mm=tread,
            ),  # fmt: skip
            by,
        ).save()
    if work_order.service_type == ServiceType.MAINTENANCE:
        bulk_create_with_history(
            [ChecklistItem(work_order=work_order, name=name) for name in CHECKLIST_ITEMS],
            ChecklistItem,
            default_user=by,
        )
    return work_order


def _work_order_locked(work_order: WorkOrder, *statuses: str) -> WorkOrder:
    work_order = (
        WorkOrder.objects.select_for_update(of=("self",))
        .select_related("branch", "vehicle", "customer")
        .get(pk=work_order.pk)
    )
    if statuses and work_order.status not in statuses:
        raise StateConflict(
            "work_order_wrong_status",
            _("Work order %(number)s is %(status)s.")
            % {"number": work_order.number, "status": work_order.get_status_display()},
        )
    return work_order


def _editable(work_order: WorkOrder) -> WorkOrder:
    return _work_order_locked(work_order, *EDITABLE_STATUSES)


def _added_item_of(work_order: WorkOrder, added_item: AddedItem | None) -> None:
    if added_item is not None and added_item.work_order_id != work_order.pk:
        raise DomainError(
            "added_item_other_work_order",
            _("That added item belongs to another work order."),
            field="added_item",
        )


def _technician_of(work_order: WorkOrder, technician: User | None) -> User:
    if technician is None:
        raise DomainError(
            "technician_required", _("Name the technician who does it."), field="technician"
        )
    if not Branch.objects.filter(pk=work_order.branch_id, staff__user=technician).exists():
        raise DomainError(
            "technician_other_branch",
            _("The technician does not work in this branch."),
            field="technician",
        )
    return technician


# --- Lines and added items -----------------------------------------------------------------


@transaction.atomic
def labour_line_add(
    *,
    work_order: WorkOrder,
    operation: str,
    standard_hours: Decimal,
    rate: Decimal,
    technician: User | None,
    by: User,
    added_item: AddedItem | None = None,
) -> LabourLine:
    """A labour operation at standard hours × rate; every line names its technician."""
    work_order = _editable(work_order)
    _added_item_of(work_order, added_item)
    line = LabourLine(
        work_order=work_order,
        operation=operation,
        standard_hours=standard_hours,
        rate=rate,
        technician=_technician_of(work_order, technician),
        added_item=added_item,
    )
    line.full_clean()
    attribute_to(line, by).save()
    return line


@transaction.atomic
def part_line_add(
    *,
    work_order: WorkOrder,
    part: Part,
    quantity: Decimal,
    by: User,
    unit_price: Decimal | None = None,
    added_item: AddedItem | None = None,
) -> PartLine:
    """Parts for the job, reserved at once through an issue voucher of the stockroom; the
    stockroom issues them when the technician takes them. Parts for an added item are
    reserved only once the customer has confirmed it."""
    work_order = _editable(work_order)
    _added_item_of(work_order, added_item)
    if added_item is not None and not added_item.confirmed:
        raise StateConflict(
            "added_item_unconfirmed",
            _("The customer has not confirmed “%(item)s” yet.") % {"item": added_item},
        )
    issue = parts_services.part_issue_create(
        branch=work_order.branch,
        kind=IssueKind.WORK_ORDER,
        lines=[{"part": part, "quantity": quantity, "unit_price": unit_price}],
        work_order_reference=work_order.number,
        customer=work_order.customer,
        by=by,
    )
    issued = issue.lines.get()
    line = PartLine(
        work_order=work_order,
        part=issued.part,
        quantity=issued.quantity,
        unit_price=issued.unit_price,
        issue=issue,
        added_item=added_item,
    )
    attribute_to(line, by).save()
    return line


@transaction.atomic
def part_line_remove(*, line: PartLine, by: User) -> None:
    """Take a parts line off before its parts are issued: the reservation is released."""
    line = PartLine.objects.select_related("issue").get(pk=line.pk)
    _editable(line.work_order)
    if line.issue.status == IssueStatus.HANDED_OVER:
        raise StateConflict(
            "parts_already_issued",
            _("These parts were already handed over; return them to stock instead."),
        )
    parts_services.part_issue_cancel(
        issue=line.issue, by=by, reason=_("Taken off work order %(number)s") % {
            "number": line.work_order.number
        },
    )  # fmt: skip
    line.delete()


@transaction.atomic
def labour_line_remove(*, line: LabourLine, by: User) -> None:
    line = LabourLine.objects.get(pk=line.pk)
    _editable(line.work_order)
    if line.done_at is not None:
        raise StateConflict("labour_done", _("This operation is already signed as done."))
    line.delete()


@transaction.atomic
def added_item_add(
    *, work_order: WorkOrder, description: str, estimate: Decimal, by: User
) -> AddedItem:
    """增项: work found after check-in, to be put to the customer."""
    work_order = _editable(work_order)
    item = AddedItem(
        work_order=work_order, description=description, estimate=estimate, requested_by=by
    )
    item.full_clean()
    attribute_to(item, by).save()
    return item


@transaction.atomic
def added_item_confirm(
    *, added_item: AddedItem, confirmed_by: str, method: str, by: User,
    at: datetime | None = None,
) -> AddedItem:  # fmt: skip
    """Record the customer's yes: who, when and how."""
    item = AddedItem.objects.select_for_update().get(pk=added_item.pk)
    _editable(item.work_order)
    if item.confirmed:
        raise StateConflict("added_item_confirmed", _("This item is already confirmed."))
    if not confirmed_by.strip():
        raise DomainError("confirmed_by_required", _("Who confirmed it?"), field="confirmed_by")
    if not method:
        raise DomainError("method_required", _("How did the customer confirm it?"), field="method")
    at = at or timezone.now()
    if at > timezone.now():
        raise DomainError("time_in_future", _("That time has not come yet."), field="at")
    item.confirmed_by, item.confirmation_method, item.confirmed_at = (
        confirmed_by.strip(),
        method,
        at,
    )
    item.full_clean()
    attribute_to(item, by).save()
    return item


@transaction.atomic
def labour_line_sign(*, line: LabourLine, by: User, at: datetime | None = None) -> LabourLine:
    """The technician signs the operation done. Work on an added item the customer has not
    confirmed does not start."""
    line = (
        LabourLine.objects.select_for_update(of=("self",))
        .select_related("added_item")
        .get(pk=line.pk)
    )
    _work_order_locked(line.work_order, WorkOrderStatus.IN_PROGRESS)
    if line.added_item is not None and not line.added_item.confirmed:
        raise StateConflict(
            "added_item_unconfirmed",
            _("The customer has not confirmed “%(item)s” yet.") % {"item": line.added_item},
        )
    if by.pk != line.technician_id and not by.has_perm("service.release_workorder"):
        raise DomainError(
            "not_the_technician",
            _("Only %(technician)s, or a team lead for them, signs this operation.")
            % {"technician": display_name(line.technician)},
        )
    at = at or timezone.now()
    if at > timezone.now():
        raise DomainError("time_in_future", _("That time has not come yet."), field="at")
    line.done_at = at
    attribute_to(line, by).save()
    return line


@transaction.atomic
def recommendation_decide(
    *, recommendation: Recommendation, accepted: bool, by: User
) -> Recommendation:
    """The customer takes a recommended item, or declines it (carried to the next visit)."""
    recommendation = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
    _editable(recommendation.work_order)
    recommendation.status = (
        RecommendationStatus.ACCEPTED if accepted else RecommendationStatus.DECLINED
    )
    recommendation.decided_at = timezone.now()
    attribute_to(recommendation, by).save()
    return recommendation


# --- Maintenance checklist and road test ---------------------------------------------------


@transaction.atomic
def checklist_item_mark(*, item: ChecklistItem, result: str, by: User) -> ChecklistItem:
    item = ChecklistItem.objects.select_for_update().get(pk=item.pk)
    _work_order_locked(item.work_order, WorkOrderStatus.IN_PROGRESS)
    if result not in ChecklistResult.values:
        raise DomainError("checklist_result_unknown", _("Tick or strike the item."))
    item.result, item.marked_by, item.marked_at = result, by, timezone.now()
    attribute_to(item, by).save()
    return item


@transaction.atomic
def tyre_reading_record(
    *, work_order: WorkOrder, position: str, pressure_bar: Decimal, tread_mm: Decimal, by: User
) -> TyreReading:
    """A tyre's pressure in bar and tread depth in mm; below 3.0 mm its replacement is
    recommended."""
    work_order = _work_order_locked(work_order, WorkOrderStatus.IN_PROGRESS)
    reading = TyreReading.objects.filter(work_order=work_order, position=position).first()
    reading = reading or TyreReading(work_order=work_order, position=position)
    reading.pressure_bar, reading.tread_mm, reading.measured_by = pressure_bar, tread_mm, by
    reading.full_clean()
    attribute_to(reading, by).save()
    # One recommendation per tyre, following its latest reading; stored in the catalogue's
    # English, shown in the reader's language.
    worn = Recommendation.objects.filter(work_order=work_order, tyre_position=position)
    if reading.tread_mm < TREAD_MINIMUM_MM:
        with override("en"):
            description = str(
                Recommendation(tyre_position=position, tread_mm=reading.tread_mm).label
            )
        worn.delete()
        attribute_to(
            Recommendation(
                vehicle=work_order.vehicle,
                work_order=work_order,
                description=description,
                tyre_position=position,
                tread_mm=reading.tread_mm,
            ),  # fmt: skip
            by,
        ).save()
    else:
        worn.filter(status=RecommendationStatus.OPEN).delete()
    return reading


@transaction.atomic
def road_test_record(
    *, work_order: WorkOrder, tested_by: User, tested_at: datetime, distance_km: int,
    passed: bool, by: User, note: str = "",
) -> RoadTest:  # fmt: skip
    work_order = _work_order_locked(
        work_order, WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.QUALITY_CHECK
    )
    if tested_at > timezone.now():
        raise DomainError("time_in_future", _("That time has not come yet."), field="tested_at")
    test = RoadTest(
        work_order=work_order, tested_by=tested_by, tested_at=tested_at,
        distance_km=distance_km, passed=passed, note=note,
    )  # fmt: skip
    test.full_clean()
    attribute_to(test, by).save()
    return test


# --- Status ---------------------------------------------------------------------------------


def _move(work_order: WorkOrder, status: str, by: User) -> WorkOrder:
    if WORK_ORDER_TRANSITIONS.get(status) != work_order.status:
        raise StateConflict(
            "work_order_illegal_transition",
            _("Work order %(number)s is %(current)s: it cannot become %(next)s.")
            % {
                "number": work_order.number,
                "current": work_order.get_status_display(),
                "next": WorkOrderStatus(status).label,
            },
        )
    work_order.status = status
    attribute_to(work_order, by).save()
    return work_order


@transaction.atomic
def work_order_start(*, work_order: WorkOrder, by: User) -> WorkOrder:
    work_order = _work_order_locked(work_order)
    work_order.started_at = timezone.now()
    return _move(work_order, WorkOrderStatus.IN_PROGRESS, by)


@transaction.atomic
def work_order_submit_for_qc(*, work_order: WorkOrder, by: User) -> WorkOrder:
    """Hand the car to quality check: every operation signed by its technician and, for
    maintenance, every checklist item ticked or struck and every tyre measured."""
    work_order = _work_order_locked(work_order)
    lines = list(work_order.labour_lines.all())
    if not lines:
        raise DomainError("no_labour", _("Add the work done before quality check."))
    unsigned = [line.operation for line in lines if line.done_at is None]
    if unsigned:
        raise StateConflict(
            "labour_not_signed",
            _("Not signed by the technician yet: %(lines)s.") % {"lines": ", ".join(unsigned)},
        )
    if work_order.service_type == ServiceType.MAINTENANCE:
        if work_order.checklist_items.filter(result="").exists():
            raise StateConflict(
                "checklist_incomplete",
                _("Tick or strike every item of the maintenance checklist."),
            )
        if work_order.tyre_readings.exclude(position="spare").count() < TYRES_ON_A_CAR:
            raise StateConflict(
                "tyres_not_measured", _("Measure the pressure and tread of all four tyres.")
            )
    return _move(work_order, WorkOrderStatus.QUALITY_CHECK, by)


@transaction.atomic
def work_order_quality_check(
    *, work_order: WorkOrder, inspector: User, at: datetime, passed: bool, by: User,
    note: str = "",
) -> WorkOrder:  # fmt: skip
    """质检: the inspector signs after every technician (a failed check sends the car back to
    the workshop). Every type except maintenance needs a passed road test first."""
    work_order = _work_order_locked(work_order, WorkOrderStatus.QUALITY_CHECK)
    if at > timezone.now():
        raise DomainError("time_in_future", _("That time has not come yet."), field="at")
    if not passed:
        work_order.qc_by, work_order.qc_at = None, None
        work_order.status = WorkOrderStatus.IN_PROGRESS
        attribute_to(work_order, by, f"QC failed: {note}"[:100]).save()
        return work_order
    last_technician = max(line.done_at for line in work_order.labour_lines.all())
    if at < last_technician:
        raise DomainError(
            "qc_before_technician",
            _("Quality check at %(qc)s is earlier than the technician's sign-off at %(tech)s.")
            % {
                "qc": f"{timezone.localtime(at):%H:%M}",
                "tech": f"{timezone.localtime(last_technician):%H:%M}",
            },
            field="at",
        )
    if (
        work_order.service_type != ServiceType.MAINTENANCE
        and not work_order.road_tests.filter(passed=True).exists()
    ):
        raise StateConflict(
            "road_test_required", _("Record a passed road test before quality check.")
        )
    work_order.qc_by, work_order.qc_at = inspector, at
    attribute_to(work_order, by).save()
    return work_order


@transaction.atomic
def work_order_release(
    *, work_order: WorkOrder, team_lead: User, at: datetime, by: User
) -> WorkOrder:
    """The team lead signs after QC: the car is ready for the customer."""
    work_order = _work_order_locked(work_order)
    if work_order.qc_at is None:
        raise StateConflict("qc_not_signed", _("Quality check has not signed this car off."))
    if at > timezone.now():
        raise DomainError("time_in_future", _("That time has not come yet."), field="at")
    if at < work_order.qc_at:
        raise DomainError(
            "team_lead_before_qc",
            _("The team lead cannot sign before quality check (%(qc)s).")
            % {"qc": f"{timezone.localtime(work_order.qc_at):%H:%M}"},
            field="at",
        )
    work_order.team_lead_by, work_order.team_lead_at = team_lead, at
    work_order.ready_at = timezone.now()
    return _move(work_order, WorkOrderStatus.READY, by)


@transaction.atomic
def work_order_approve_overrun(
    *, work_order: WorkOrder, approved_by: str, method: str, by: User
) -> WorkOrder:
    """The customer accepts a total more than 10% above the estimate (recorded)."""
    work_order = _work_order_locked(
        work_order, WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.QUALITY_CHECK,
        WorkOrderStatus.READY,
    )  # fmt: skip
    if not approved_by.strip():
        raise DomainError("confirmed_by_required", _("Who approved it?"), field="approved_by")
    if not method:
        raise DomainError("method_required", _("How did the customer confirm it?"), field="method")
    work_order.overrun_approved_by = approved_by.strip()
    work_order.overrun_approval_method = method
    work_order.overrun_approved_at = timezone.now()
    work_order.full_clean(exclude=["odometer_reading"])
    attribute_to(work_order, by).save()
    return work_order


@transaction.atomic
def work_order_certificates_checked(*, work_order: WorkOrder, by: User) -> WorkOrder:
    """The warranty and maintenance certificates (保修手册 / 保养手册) were seen in the file."""
    work_order = _work_order_locked(work_order)
    work_order.certificates_checked_at, work_order.certificates_checked_by = timezone.now(), by
    attribute_to(work_order, by).save()
    return work_order


def work_order_totals(work_order: WorkOrder) -> dict:
    labour = sum((line.amount for line in work_order.labour_lines.all()), ZERO)
    parts = sum((line.amount for line in work_order.part_lines.all()), ZERO)
    return {"labour": labour, "parts": parts, "total": labour + parts}


def insurer_pays(work_order: WorkOrder, total: Decimal) -> Decimal:
    """What the work order's insurance claim pays of the bill, once the insurer approved it."""
    claim = InsuranceClaim.objects.filter(work_order=work_order).first()
    if (
        claim is None
        or claim.assessed_amount is None
        or claim.status
        in (
            InsuranceClaimStatus.REPORTED,
            InsuranceClaimStatus.ASSESSED,
        )
    ):
        return ZERO
    return claim.insurer_share_of(total)


@transaction.atomic
def work_order_settle(
    *,
    work_order: WorkOrder,
    payment_method: str,
    paid_amount: Decimal,
    by: User,
    discount: Decimal = ZERO,
) -> Settlement:
    """结算: only a car signed off by QC and the team lead; first maintenance and warranty
    work need their certificates; every part issued; a total more than 10% above the
    estimate needs the customer's approval; the settlement's lines are the work order's;
    the insurer's share is split from the customer's, who pays theirs in full; a campaign
    offer signed off on the work order is redeemed, its value taken off the bill."""
    from customers.care.services import offer_for_settlement, offer_redeem, offer_value

    work_order = _work_order_locked(work_order)
    if work_order.status != WorkOrderStatus.READY:
        raise StateConflict(
            "work_order_not_ready",
            _("Only a work order that passed quality check and the team lead can be settled."),
        )
    needs_certificates = (
        work_order.is_first_maintenance or work_order.service_type == ServiceType.WARRANTY
    )
    if needs_certificates and work_order.certificates_checked_at is None:
        raise StateConflict(
            "certificates_missing",
            _("First maintenance and warranty work need the warranty and maintenance "
              "certificates checked in the file."),
        )  # fmt: skip
    pending = [
        line.part.number
        for line in work_order.part_lines.select_related("issue", "part")
        if line.issue.status != IssueStatus.HANDED_OVER
    ]
    if pending:
        raise StateConflict(
            "parts_not_issued",
            _("Parts not yet handed over by the stockroom: %(parts)s.")
            % {"parts": ", ".join(pending)},
        )
    totals = work_order_totals(work_order)
    offer = offer_for_settlement(work_order)
    offer_amount = offer_value(offer, work_order, totals["labour"]) if offer else ZERO
    if discount < 0 or discount + offer_amount > totals["total"]:
        raise DomainError(
            "discount_out_of_range",
            _("The discount is between 0 and the total less the offer."),
            field="discount",
        )
    discount += offer_amount
    total = totals["total"] - discount
    limit = (work_order.estimate * (1 + OVERRUN_LIMIT)).quantize(Decimal("0.01"))
    if total > limit and work_order.overrun_approved_at is None:
        raise StateConflict(
            "overrun_not_approved",
            _("The total %(total)s exceeds the estimate %(estimate)s by more than 10%%: the "
              "customer must approve the overrun first.")
            % {"total": f"{total:,.2f}", "estimate": f"{work_order.estimate:,.2f}"},
        )  # fmt: skip
    insurer = insurer_pays(work_order, total)
    customer_amount = total - insurer
    if paid_amount != customer_amount:
        raise DomainError(
            "payment_mismatch",
            _("The customer pays %(amount)s.") % {"amount": f"{customer_amount:,.2f}"},
            field="paid_amount",
        )
    settlement = Settlement(
        work_order=work_order, labour_total=totals["labour"], parts_total=totals["parts"],
        discount=discount, total=total, insurer_amount=insurer, customer_amount=customer_amount,
        payment_method=payment_method, paid_amount=paid_amount,
        offer_code=offer.code if offer else "", settled_by=by,
    )  # fmt: skip
    settlement.full_clean(exclude=["work_order"])
    attribute_to(settlement, by).save()
    SettlementLine.objects.bulk_create(
        [
            SettlementLine(
                settlement=settlement,
                is_labour=True,
                description=line.operation,
                quantity=line.standard_hours,
                unit_price=line.rate,
                amount=line.amount,
            )  # fmt: skip
            for line in work_order.labour_lines.all()
        ]
        + [
            SettlementLine(
                settlement=settlement,
                is_labour=False,
                description=str(line.part),
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
            )  # fmt: skip
            for line in work_order.part_lines.select_related("part")
        ]
    )
    if offer:
        offer_redeem(offer=offer, settlement=settlement, value=offer_amount, by=by)
    work_order.settled_at = timezone.now()
    _move(work_order, WorkOrderStatus.SETTLED, by)
    return settlement


@transaction.atomic
def work_order_close(*, work_order: WorkOrder, by: User) -> WorkOrder:
    """The customer has the car back: the work order goes on the customer's timeline and
    archives and customer care are told (`service.events.work_order_closed`)."""
    work_order = _work_order_locked(work_order)
    work_order.closed_at = timezone.now()
    _move(work_order, WorkOrderStatus.CLOSED, by)
    timeline_add(
        customer=work_order.customer,
        kind=timeline.WORK_ORDER_CLOSED,
        detail=f"{work_order.number}|{work_order.service_type}|{work_order.mileage_in}",
        subject=work_order,
        actor=by,
    )
    events.publish_work_order_closed(work_order.pk)
    return work_order


# --- Claims ---------------------------------------------------------------------------------


@transaction.atomic
def warranty_claim_create(
    *, work_order: WorkOrder, failed_part: Part, cause: str, labour_amount: Decimal,
    parts_amount: Decimal, by: User,
) -> WarrantyClaim:  # fmt: skip
    """索赔: a warranty claim needs the certificates checked in the file."""
    work_order = _work_order_locked(work_order)
    if work_order.certificates_checked_at is None:
        raise StateConflict(
            "certificates_missing",
            _("Check the warranty and maintenance certificates before claiming."),
        )
    claim = WarrantyClaim(
        work_order=work_order, failed_part=failed_part, cause=cause,
        labour_amount=labour_amount, parts_amount=parts_amount, created_by=by,
    )  # fmt: skip
    claim.full_clean()
    attribute_to(claim, by).save()
    return claim


WARRANTY_STEPS = {
    WarrantyClaimStatus.SUBMITTED: [WarrantyClaimStatus.DRAFT],
    WarrantyClaimStatus.APPROVED: [WarrantyClaimStatus.SUBMITTED],
    WarrantyClaimStatus.REJECTED: [WarrantyClaimStatus.SUBMITTED],
    WarrantyClaimStatus.PAID: [WarrantyClaimStatus.APPROVED],
}
INSURANCE_STEPS = {
    InsuranceClaimStatus.ASSESSED: [InsuranceClaimStatus.REPORTED],
    InsuranceClaimStatus.APPROVED: [InsuranceClaimStatus.ASSESSED],
    InsuranceClaimStatus.REPAIRED: [InsuranceClaimStatus.APPROVED],
    InsuranceClaimStatus.PAID: [InsuranceClaimStatus.REPAIRED],
}


def _claim_step(claim, status: str, steps: dict) -> None:
    if claim.status not in steps.get(status, []):
        raise StateConflict(
            "claim_illegal_transition",
            _("The claim is %(current)s: it cannot become %(next)s.")
            % {"current": claim.get_status_display(), "next": status},
        )
    claim.status = status


@transaction.atomic
def warranty_claim_advance(
    *, claim: WarrantyClaim, status: str, by: User, manufacturer_reference: str = ""
) -> WarrantyClaim:
    claim = WarrantyClaim.objects.select_for_update().get(pk=claim.pk)
    _claim_step(claim, status, WARRANTY_STEPS)
    if manufacturer_reference:
        claim.manufacturer_reference = manufacturer_reference
    attribute_to(claim, by).save()
    return claim


@transaction.atomic
def insurance_claim_create(*, work_order: WorkOrder, by: User, data: dict) -> InsuranceClaim:
    """保险理赔 for an accident repair (bodywork or paint)."""
    work_order = _work_order_locked(work_order)
    if work_order.service_type not in (ServiceType.BODYWORK, ServiceType.PAINT, ServiceType.REPAIR):
        raise DomainError("not_an_accident_repair", _("Insurance claims are for accident repairs."))
    claim = InsuranceClaim(work_order=work_order, created_by=by, **data)
    if claim.accident_date and claim.accident_date > timezone.localdate():
        raise DomainError(
            "date_in_future", _("The accident date has not come yet."), field="accident_date"
        )
    claim.full_clean()
    attribute_to(claim, by).save()
    return claim


@transaction.atomic
def insurance_claim_advance(
    *, claim: InsuranceClaim, status: str, by: User, assessed_amount: Decimal | None = None,
    assessor: str = "",
) -> InsuranceClaim:  # fmt: skip
    """Reported → assessed (with the assessor and the amount) → approved → repaired → paid."""
    claim = InsuranceClaim.objects.select_for_update().get(pk=claim.pk)
    _claim_step(claim, status, INSURANCE_STEPS)
    if status == InsuranceClaimStatus.ASSESSED:
        if assessed_amount is None or assessed_amount < 0:
            raise DomainError(
                "assessed_amount_required", _("Enter the assessed amount."), field="assessed_amount"
            )
        if claim.customer_share > assessed_amount:
            raise DomainError(
                "share_above_assessed",
                _("The customer's share cannot exceed the assessed amount."),
                field="customer_share",
            )
        claim.assessed_amount, claim.assessor = assessed_amount, assessor or claim.assessor
    attribute_to(claim, by).save()
    return claim


# --- Roadside rescue ------------------------------------------------------------------------


@transaction.atomic
def rescue_log(*, branch: Branch, by: User, data: dict) -> Rescue:
    rescue = Rescue(branch=branch, created_by=by, **data)
    if rescue.customer_id and rescue.customer.branch_id != branch.pk:
        raise DomainError(
            "customer_other_branch", _("The customer belongs to another branch."), field="customer"
        )
    if rescue.called_at and rescue.called_at > timezone.now():
        raise DomainError("time_in_future", _("That time has not come yet."), field="called_at")
    if rescue.vehicle_id and rescue.customer_id and rescue.vehicle.owner_id != rescue.customer_id:
        raise DomainError(
            "vehicle_not_customers", _("The vehicle is not the customer's."), field="vehicle"
        )
    rescue.full_clean()
    attribute_to(rescue, by).save()
    return rescue


@transaction.atomic
def rescue_dispatch(*, rescue: Rescue, to: User, by: User, at: datetime | None = None) -> Rescue:
    rescue = Rescue.objects.select_for_update().get(pk=rescue.pk)
    if rescue.status != RescueStatus.CALLED:
        raise StateConflict("rescue_wrong_status", _("This rescue is already dispatched."))
    _technician_of(rescue, to)  # someone of the rescue's branch
    at = at or timezone.now()
    if at < rescue.called_at or at > timezone.now():
        raise DomainError(
            "time_out_of_order", _("Dispatch comes after the call, and not later than now."),
            field="at",
        )  # fmt: skip
    rescue.dispatched_to, rescue.dispatched_at, rescue.status = to, at, RescueStatus.DISPATCHED
    attribute_to(rescue, by).save()
    return rescue


@transaction.atomic
def rescue_arrive(*, rescue: Rescue, by: User, at: datetime | None = None) -> Rescue:
    rescue = Rescue.objects.select_for_update().get(pk=rescue.pk)
    if rescue.status != RescueStatus.DISPATCHED:
        raise StateConflict("rescue_wrong_status", _("Nobody has been dispatched yet."))
    at = at or timezone.now()
    if at < rescue.dispatched_at or at > timezone.now():
        raise DomainError(
            "time_out_of_order", _("Arrival comes after dispatch, and not later than now."),
            field="at",
        )  # fmt: skip
    rescue.arrived_at, rescue.status = at, RescueStatus.ARRIVED
    attribute_to(rescue, by).save()
    return rescue


@transaction.atomic
def rescue_cancel(*, rescue: Rescue, by: User, note: str = "") -> Rescue:
    """The caller no longer needs help (found help elsewhere, fixed it): closed, no outcome."""
    rescue = Rescue.objects.select_for_update().get(pk=rescue.pk)
    if rescue.status not in (RescueStatus.CALLED, RescueStatus.DISPATCHED):
        raise StateConflict("rescue_wrong_status", _("This rescue is already over."))
    rescue.status, rescue.note = RescueStatus.CANCELLED, note or rescue.note
    attribute_to(rescue, by).save()
    return rescue


@transaction.atomic
def rescue_finish(
    *, rescue: Rescue, outcome: str, by: User, work_order: WorkOrder | None = None,
    note: str = "",
) -> Rescue:  # fmt: skip
    rescue = Rescue.objects.select_for_update().get(pk=rescue.pk)
    if rescue.status != RescueStatus.ARRIVED:
        raise StateConflict("rescue_wrong_status", _("The rescue team has not arrived yet."))
    if work_order is not None and work_order.branch_id != rescue.branch_id:
        raise DomainError(
            "work_order_other_branch", _("That work order is another branch's."),
            field="work_order",
        )  # fmt: skip
    rescue.outcome, rescue.work_order, rescue.status = outcome, work_order, RescueStatus.DONE
    rescue.note = note or rescue.note
    rescue.full_clean()
    attribute_to(rescue, by).save()
    return rescue
