"""Every write of the sales funnel: leads and their follow-up, showroom traffic, test drives,
trade-ins, quotes and their approval, orders and payments, stock vehicles and delivery."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from customers.models import Customer, Vehicle
from customers.services import customer_create, timeline_add, vehicle_add
from customers.vin import normalize_vin
from dealer_crm.audit import attribute_to
from dealer_crm.choices import Role
from dealer_crm.errors import DomainError, StateConflict
from dealer_crm.models import Branch, display_name
from dealer_crm.notifications import branch_managers, notify
from dealer_crm.templatetags.crm import money

from . import timeline
from .choices import (
    LEAD_PROGRESS,
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
    QuoteStatus,
    StockStatus,
    TestDriveStatus,
    TradeInDecision,
)
from .events import publish_vehicle_delivered
from .models import (
    ZERO,
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

LEAD_EDITABLE_FIELDS = [
    "source", "name", "mobile", "model_of_interest", "budget", "intent_level",
    "expected_purchase_date", "referrer", "note",
]  # fmt: skip
# The stage time each status stamps when a lead first reaches it.
STAGE_FIELDS = {
    LeadStatus.VERIFIED: "verified_at",
    LeadStatus.CONTACTED: "contacted_at",
    LeadStatus.VISITED: "visited_at",
    LeadStatus.TEST_DRIVEN: "test_driven_at",
    LeadStatus.QUOTED: "quoted_at",
    LeadStatus.WON: "ordered_at",
}
# Outcomes of a call or message that mean the customer was actually spoken to.
REACHED_OUTCOMES = {
    ActivityOutcome.REACHED,
    ActivityOutcome.APPOINTMENT,
    ActivityOutcome.CONSIDERING,
    ActivityOutcome.NOT_INTERESTED,
}
# Documents the customer must leave the showroom with; insurance and registration papers are
# often handled by the customer or arrive later.
REQUIRED_DELIVERY_DOCUMENTS = {
    DeliveryDocument.INVOICE,
    DeliveryDocument.CERTIFICATE,
    DeliveryDocument.MANUAL,
    DeliveryDocument.WARRANTY,
    DeliveryDocument.KEYS,
}
ASSIGNABLE_ROLES = [Role.SALES_CONSULTANT, Role.SALES_MANAGER, Role.FLEET_MANAGER]


# --- Leads --------------------------------------------------------------------------------


def _lock(model, pk: int):
    return model.objects.select_for_update().get(pk=pk)


def _refuse_closed(lead: Lead) -> None:
    if not lead.is_open:
        raise StateConflict(
            "lead_closed",
            _("This lead is %(status)s; it can no longer change.")
            % {"status": lead.get_status_display().lower()},
        )


def _refuse_unverified(lead: Lead) -> None:
    if not lead.is_verified:
        raise StateConflict(
            "lead_not_verified", _("Verify the lead by phone before going further.")
        )


def _next_follow_up(lead: Lead, after: date) -> date:
    return after + timedelta(days=lead.branch.follow_up_days(lead.intent_level))


def _advance(lead: Lead, status: str, at: datetime) -> None:
    """Move an open lead forward to `status`, stamping every stage it passes: a lead that is
    test-driven has also visited, whatever was logged."""
    if not lead.is_open or LEAD_PROGRESS.index(status) <= LEAD_PROGRESS.index(lead.status):
        return
    for stage in LEAD_PROGRESS[1 : LEAD_PROGRESS.index(status) + 1]:
        if getattr(lead, STAGE_FIELDS[stage]) is None:
            setattr(lead, STAGE_FIELDS[stage], at)
    lead.status = status
    lead.status_changed_at = at
    if status == LeadStatus.WON:
        lead.closed_at = at
        lead.next_follow_up_on = None


def _responded(lead: Lead, at: datetime) -> None:
    if lead.first_response_at is None:
        lead.first_response_at = at


def _staff_of_branch(user: User | None, branch: Branch) -> bool:
    return bool(
        user
        and user.is_active
        and user.groups.filter(name__in=ASSIGNABLE_ROLES).exists()
        and user.staff.branches.filter(pk=branch.pk).exists()
    )


def _check_referrer(lead: Lead) -> None:
    if lead.referrer_id and lead.referrer.merged_into_id:
        raise DomainError(
            "customer_merged",
            _("The referring owner was merged into another record."),
            field="referrer",
        )


def _flag_duplicates(lead: Lead) -> None:
    """An open lead or a customer of the branch with the same mobile is flagged, not refused:
    the consultant decides whether it is the same person."""
    lead.duplicate_of = (
        Lead.objects.open()
        .filter(branch=lead.branch, mobile=lead.mobile)
        .exclude(pk=lead.pk)
        .order_by("-created_at")
        .first()
    )
    lead.matching_customer = (
        Customer.objects.active()
        .filter(branch=lead.branch, mobile=lead.mobile)
        .order_by("-id")
        .first()
        if lead.customer_id is None
        else None
    )


@transaction.atomic
def lead_create(*, branch: Branch, by: User, data: dict) -> Lead:
    """Capture a lead. The person entering it is its consultant unless one is named; a walk-in
    is answered on the spot, so its first response is now."""
    now = timezone.now()
    lead = Lead(branch=branch, created_by=by if by.is_authenticated else None, **data)
    if lead.consultant_id is None and _staff_of_branch(by, branch):
        lead.consultant = by
    elif lead.consultant_id and not _staff_of_branch(lead.consultant, branch):
        raise DomainError(
            "lead_assignee_invalid",
            _("Leads go to sales staff of the lead's branch."),
            field="consultant",
        )
    lead.handed_over_at = lead.created_at = now
    lead.full_clean(exclude=["duplicate_of", "matching_customer"])
    _check_referrer(lead)
    if lead.source == LeadSource.WALK_IN:
        lead.first_response_at = now
    lead.next_follow_up_on = timezone.localdate()
    _flag_duplicates(lead)
    attribute_to(lead, by).save()
    return lead


@transaction.atomic
def lead_update(*, lead: Lead, by: User, data: dict) -> Lead:
    lead = _lock(Lead, lead.pk)
    _refuse_closed(lead)
    intent_before, mobile_before = lead.intent_level, lead.mobile
    for field, value in data.items():
        if field not in LEAD_EDITABLE_FIELDS:
            raise ValueError(f"{field} is not edited through lead_update")
        setattr(lead, field, value)
    lead.full_clean(exclude=["duplicate_of", "matching_customer"])
    _check_referrer(lead)
    if lead.intent_level != intent_before:
        last = lead.activities.order_by("-occurred_at").first()
        since = timezone.localtime(last.occurred_at).date() if last else timezone.localdate()
        lead.next_follow_up_on = _next_follow_up(lead, since)
    if lead.mobile != mobile_before:
        _flag_duplicates(lead)
    attribute_to(lead, by).save()
    return lead


@transaction.atomic
def lead_verify(*, lead: Lead, by: User, note: str = "") -> Lead:
    """Confirm by phone that the lead is a real prospect: from then on it is qualified."""
    lead = _lock(Lead, lead.pk)
    _refuse_closed(lead)
    if lead.is_verified:
        raise StateConflict("lead_already_verified", _("This lead is already verified."))
    now = timezone.now()
    lead.verified_by = by
    activity = Activity(
        lead=lead,
        kind=ActivityKind.CALL,
        outcome=ActivityOutcome.REACHED,
        note=note or _("Verified by phone"),
        occurred_at=now,
        by=by,
        next_follow_up_on=_next_follow_up(lead, timezone.localdate()),
    )
    attribute_to(activity, by).save()
    _responded(lead, now)
    _advance(lead, LeadStatus.VERIFIED, now)
    lead.next_follow_up_on = _next_follow_up(lead, timezone.localdate())
    attribute_to(lead, by, "verified").save()
    return lead


@transaction.atomic
def lead_assign(*, lead: Lead, consultant: User, by: User) -> Lead:
    lead = _lock(Lead, lead.pk)
    _refuse_closed(lead)
    if not _staff_of_branch(consultant, lead.branch):
        raise DomainError(
            "lead_assignee_invalid",
            _("Leads go to sales staff of the lead's branch."),
            field="consultant",
        )
    if lead.consultant_id == consultant.pk:
        return lead
    lead.consultant = consultant
    attribute_to(lead, by, "assigned").save()
    notify(
        recipients=[consultant],
        key=f"lead-assigned-{lead.pk}-{timezone.now().timestamp()}",
        title=_("Lead assigned to you: %(lead)s") % {"lead": lead},
        url=lead.get_absolute_url(),
        branch=lead.branch,
    )
    return lead


@transaction.atomic
def activity_log(
    *,
    lead: Lead,
    by: User,
    kind: str,
    outcome: str,
    note: str = "",
    occurred_at: datetime | None = None,
    next_follow_up_on: date | None = None,
) -> Activity:
    """Log a call, visit or message. The next follow-up follows the lead's intent level unless
    the consultant agreed a date with the customer."""
    lead = _lock(Lead, lead.pk)
    _refuse_closed(lead)
    now = timezone.now()
    occurred_at = occurred_at or now
    if occurred_at > now + timedelta(minutes=5):
        raise DomainError(
            "activity_in_future",
            _("An activity cannot be logged ahead of time."),
            field="occurred_at",
        )
    day = timezone.localtime(occurred_at).date()
    if next_follow_up_on is not None and next_follow_up_on < day:
        raise DomainError(
            "follow_up_in_past",
            _("The next follow-up cannot be before the activity."),
            field="next_follow_up_on",
        )
    activity = Activity(
        lead=lead,
        kind=kind,
        outcome=outcome,
        note=note,
        occurred_at=occurred_at,
        by=by,
        next_follow_up_on=next_follow_up_on or _next_follow_up(lead, day),
    )
    activity.full_clean()
    attribute_to(activity, by).save()
    _responded(lead, occurred_at)
    # Until a lead is verified it stays new: an unqualified lead is not yet in the funnel.
    if lead.is_verified:
        if kind == ActivityKind.VISIT:
            _advance(lead, LeadStatus.VISITED, occurred_at)
        elif outcome in REACHED_OUTCOMES:
            _advance(lead, LeadStatus.CONTACTED, occurred_at)
    lead.next_follow_up_on = activity.next_follow_up_on
    attribute_to(lead, by).save()
    return activity


def _close(lead: Lead, by: User, status: str, note: str) -> Lead:
    now = timezone.now()
    lead.status, lead.closing_note = status, note
    lead.status_changed_at = lead.closed_at = now
    lead.next_follow_up_on = None
    lead.full_clean(exclude=["duplicate_of", "matching_customer"])
    attribute_to(lead, by, status).save()
    return lead


@transaction.atomic
def lead_lose(*, lead: Lead, by: User, reason: str, note: str = "") -> Lead:
    """战败: the customer bought elsewhere or gave up; the reason feeds the lost-reason figures."""
    lead = _lock(Lead, lead.pk)
    _refuse_closed(lead)
    if reason not in LostReason.values:
        raise DomainError(
            "lost_reason_required", _("Choose why the lead was lost."), field="reason"
        )
    lead.lost_reason = reason
    return _close(lead, by, LeadStatus.LOST, note)


@transaction.atomic
def lead_invalidate(*, lead: Lead, by: User, note: str) -> Lead:
    """A wrong number, a test entry, a dealer calling: not a prospect at all."""
    lead = _lock(Lead, lead.pk)
    _refuse_closed(lead)
    if not note.strip():
        raise DomainError("invalid_note_required", _("Say why the lead is invalid."), field="note")
    return _close(lead, by, LeadStatus.INVALID, note.strip())


@transaction.atomic
def lead_link_customer(*, lead: Lead, by: User, customer: Customer | None = None) -> Customer:
    """Link the lead to an existing customer, or make one from what the lead already holds."""
    lead = _lock(Lead, lead.pk)
    if lead.customer_id:
        if customer is None or customer.pk == lead.customer_id:
            return lead.customer
        raise StateConflict(
            "lead_already_linked",
            _("This lead is already linked to %(name)s.") % {"name": lead.customer.name},
        )
    if customer is None:
        customer = customer_create(
            branch=lead.branch,
            by=by,
            data={
                "name": lead.name,
                "mobile": lead.mobile,
                "source": lead.source,
                "consultant": lead.consultant,
            },
        )
    elif customer.merged_into_id:
        raise DomainError(
            "customer_merged", _("This customer was merged into another record."), field="customer"
        )
    elif customer.branch_id != lead.branch_id:
        raise DomainError(
            "customer_other_branch",
            _("The customer belongs to another branch."),
            field="customer",
        )
    lead.customer, lead.matching_customer = customer, None
    attribute_to(lead, by, "linked to customer").save()
    timeline_add(
        customer=customer,
        kind=timeline.LEAD_LINKED,
        detail=str(lead),
        subject=lead,
        actor=by,
    )
    return customer


# --- Response deadlines -------------------------------------------------------------------

DEADLINE_CHUNK = 500


def _breach(lead: Lead, kind: str, due_at: datetime) -> bool:
    """Record one missed deadline and tell the branch's managers; False if already known."""
    breach, created = LeadDeadlineBreach.objects.get_or_create(
        lead=lead, kind=kind, defaults={"due_at": due_at}
    )
    if not created:
        return False
    # A job has no reader; the notice is written in the dealership's language.
    with translation.override(settings.LANGUAGE_CODE):
        notify(
            recipients=branch_managers(lead.branch),
            key=f"lead-breach-{breach.pk}",
            title=_("%(kind)s: %(lead)s") % {"kind": breach.get_kind_display(), "lead": lead},
            body=_("Due %(due)s; consultant %(consultant)s.")
            % {
                "due": timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M"),
                "consultant": display_name(lead.consultant),
            },
            url=lead.get_absolute_url(),
            branch=lead.branch,
        )
    return True


def lead_deadlines_check(*, now: datetime | None = None) -> int:
    """Flag leads that got no first response within the branch's hours (24) or no status
    update within its days (7) of being handed over. Runs in id-ordered chunks, one
    transaction per lead; a rerun finds the breaches recorded and creates nothing twice."""
    now = now or timezone.now()
    flagged = 0
    for branch in Branch.objects.filter(is_active=True):
        checks = [
            (
                LeadDeadlineBreach.Kind.FIRST_RESPONSE,
                {"first_response_at__isnull": True},
                timedelta(hours=branch.lead_first_response_hours),
            ),
            (
                LeadDeadlineBreach.Kind.STATUS_UPDATE,
                {"status_changed_at__isnull": True},
                timedelta(days=branch.lead_status_update_days),
            ),
        ]
        for kind, pending, allowed in checks:
            overdue = (
                Lead.objects.open()
                .filter(branch=branch, handed_over_at__lt=now - allowed, **pending)
                .exclude(deadline_breaches__kind=kind)
                .select_related("branch", "consultant")
                .order_by("pk")
            )
            last_pk = 0
            while chunk := list(overdue.filter(pk__gt=last_pk)[:DEADLINE_CHUNK]):
                for lead in chunk:
                    with transaction.atomic():
                        flagged += _breach(lead, kind, lead.handed_over_at + allowed)
                last_pk = chunk[-1].pk
    return flagged


# --- Showroom traffic ---------------------------------------------------------------------


def _traffic_day(day: date) -> None:
    if day > timezone.localdate():
        raise DomainError(
            "traffic_future_day", _("Traffic cannot be counted ahead of the day."), field="day"
        )


@transaction.atomic
def showroom_traffic_count(
    *, branch: Branch, by: User, day: date, counter: str, step: int = 1
) -> ShowroomTraffic:
    """One tap at the front desk: add (or, to correct a slip, take back) one visitor."""
    if counter not in ShowroomTraffic.COUNTERS or step not in (1, -1):
        raise DomainError("traffic_counter_unknown", _("Unknown traffic counter."))
    _traffic_day(day)
    traffic, _created = ShowroomTraffic.objects.get_or_create(branch=branch, day=day)
    rows = ShowroomTraffic.objects.filter(pk=traffic.pk)
    if step < 0:
        rows = rows.filter(**{f"{counter}__gte": 1})
    if not rows.update(**{counter: F(counter) + step}):
        raise DomainError("traffic_below_zero", _("This count is already zero."))
    traffic.refresh_from_db()
    attribute_to(traffic, by)
    traffic.save()  # a history row for the tap, with who made it
    return traffic


@transaction.atomic
def showroom_traffic_save(*, branch: Branch, by: User, day: date, counts: dict) -> ShowroomTraffic:
    """Set a day's counts as a whole (the end-of-day sheet, or a correction)."""
    _traffic_day(day)
    traffic, _created = ShowroomTraffic.objects.select_for_update().get_or_create(
        branch=branch, day=day
    )
    for counter, value in counts.items():
        if counter not in ShowroomTraffic.COUNTERS:
            raise DomainError("traffic_counter_unknown", _("Unknown traffic counter."))
        setattr(traffic, counter, value)
    traffic.full_clean()
    attribute_to(traffic, by).save()
    return traffic


# --- Stock vehicles -----------------------------------------------------------------------


def _refuse_known_vin(vin: str, exclude_pk: int | None = None) -> None:
    if StockVehicle.objects.filter(vin=vin).exclude(pk=exclude_pk).exists():
        raise DomainError(
            "duplicate_vin", _("A stock vehicle with this VIN already exists."), field="vin"
        )
    if Vehicle.objects.filter(vin=vin).exists():
        raise DomainError(
            "duplicate_vin",
            _("This VIN is already registered to a customer's vehicle."),
            field="vin",
        )


@transaction.atomic
def stock_vehicle_create(*, branch: Branch, by: User, data: dict) -> StockVehicle:
    vehicle = StockVehicle(branch=branch, **data)
    if vehicle.status not in (StockStatus.IN_TRANSIT, StockStatus.IN_STOCK, StockStatus.DEMO):
        raise DomainError(
            "stock_status_invalid",
            _("A new stock vehicle is in transit, in stock or a demo car."),
            field="status",
        )
    if vehicle.status != StockStatus.IN_TRANSIT and vehicle.arrival_date is None:
        vehicle.arrival_date = timezone.localdate()
    vehicle.vin = normalize_vin(vehicle.vin)
    _refuse_known_vin(vehicle.vin)
    vehicle.full_clean()
    attribute_to(vehicle, by).save()
    return vehicle


STOCK_EDITABLE_FIELDS = ["brand", "series", "configuration", "colour", "model_year", "list_price"]


@transaction.atomic
def stock_vehicle_update(*, stock_vehicle: StockVehicle, by: User, data: dict) -> StockVehicle:
    vehicle = _lock(StockVehicle, stock_vehicle.pk)
    if vehicle.status in (StockStatus.SOLD, StockStatus.DELIVERED):
        raise StateConflict(
            "stock_vehicle_sold", _("A sold vehicle's details come from its invoice.")
        )
    for field, value in data.items():
        if field not in STOCK_EDITABLE_FIELDS:
            raise ValueError(f"{field} is not edited through stock_vehicle_update")
        setattr(vehicle, field, value)
    vehicle.full_clean()
    attribute_to(vehicle, by).save()
    return vehicle


@transaction.atomic
def stock_vehicle_arrive(
    *, stock_vehicle: StockVehicle, by: User, arrival_date: date
) -> StockVehicle:
    vehicle = _lock(StockVehicle, stock_vehicle.pk)
    if vehicle.arrival_date is not None:
        raise StateConflict("vehicle_already_arrived", _("This vehicle has already arrived."))
    if arrival_date > timezone.localdate():
        raise DomainError(
            "arrival_in_future", _("An arrival cannot be in the future."), field="arrival_date"
        )
    vehicle.arrival_date = arrival_date
    if vehicle.status == StockStatus.IN_TRANSIT:
        vehicle.status = StockStatus.IN_STOCK
    attribute_to(vehicle, by, "arrived").save()
    return vehicle


@transaction.atomic
def stock_vehicle_record_pdi(
    *, stock_vehicle: StockVehicle, by: User, done_on: date, note: str = ""
) -> StockVehicle:
    """售前检查 (PDI): done on arrival, before any customer gets the car."""
    vehicle = _lock(StockVehicle, stock_vehicle.pk)
    if vehicle.arrival_date is None:
        raise StateConflict(
            "vehicle_not_arrived", _("The vehicle has not arrived; inspect it when it does.")
        )
    if done_on < vehicle.arrival_date or done_on > timezone.localdate():
        raise DomainError(
            "pdi_date_invalid",
            _("The inspection is dated between the arrival (%(date)s) and today.")
            % {"date": vehicle.arrival_date.isoformat()},
            field="done_on",
        )
    if vehicle.status == StockStatus.DELIVERED:
        raise StateConflict("stock_vehicle_delivered", _("This vehicle was already delivered."))
    vehicle.pdi_done_on, vehicle.pdi_by, vehicle.pdi_note = done_on, by, note
    attribute_to(vehicle, by, "PDI").save()
    return vehicle


@transaction.atomic
def stock_vehicle_set_demo(*, stock_vehicle: StockVehicle, by: User, demo: bool) -> StockVehicle:
    """Turn an unsold vehicle in stock into a demo car, or back."""
    vehicle = _lock(StockVehicle, stock_vehicle.pk)
    before, after = (
        (StockStatus.IN_STOCK, StockStatus.DEMO)
        if demo
        else (StockStatus.DEMO, StockStatus.IN_STOCK)
    )
    if vehicle.status != before:
        raise StateConflict(
            "stock_status_conflict",
            _("Only a vehicle that is %(status)s can be changed this way.")
            % {"status": StockStatus(before).label.lower()},
        )
    if (
        not demo
        and vehicle.test_drives.filter(
            status=TestDriveStatus.BOOKED, ends_at__gt=timezone.now()
        ).exists()
    ):
        raise StateConflict(
            "demo_car_booked", _("This demo car has test drives booked; cancel them first.")
        )
    vehicle.status = after
    attribute_to(vehicle, by).save()
    return vehicle


# --- Test drives --------------------------------------------------------------------------


@transaction.atomic
def test_drive_book(*, lead: Lead, by: User, data: dict) -> TestDrive:
    """Book a demo car for a slot. Overlapping bookings of one car are refused here with a
    clear message, and by the database's exclusion constraint under concurrent requests."""
    lead = _lock(Lead, lead.pk)
    _refuse_closed(lead)
    _refuse_unverified(lead)
    demo_vehicle = data.get("demo_vehicle")
    if demo_vehicle is not None:
        demo_vehicle = _lock(StockVehicle, demo_vehicle.pk)
        if demo_vehicle.status != StockStatus.DEMO or demo_vehicle.branch_id != lead.branch_id:
            raise DomainError(
                "not_a_demo_car",
                _("Choose a demo car of this branch."),
                field="demo_vehicle",
            )
    test_drive = TestDrive(
        branch=lead.branch,
        lead=lead,
        consultant=lead.consultant or by,
        **{**data, "demo_vehicle": demo_vehicle},
    )
    test_drive.full_clean(validate_constraints=False)
    clash = TestDrive.objects.filter(
        demo_vehicle=demo_vehicle,
        starts_at__lt=test_drive.ends_at,
        ends_at__gt=test_drive.starts_at,
    ).exclude(status=TestDriveStatus.CANCELLED)
    if clash.exists():
        other = clash.order_by("starts_at").first()
        raise StateConflict(
            "demo_car_booked",
            _("This demo car is booked from %(start)s to %(end)s.")
            % {
                "start": timezone.localtime(other.starts_at).strftime("%Y-%m-%d %H:%M"),
                "end": timezone.localtime(other.ends_at).strftime("%H:%M"),
            },
            field="starts_at",
        )
    try:
        with transaction.atomic():
            attribute_to(test_drive, by).save()
    except IntegrityError:
        raise StateConflict(
            "demo_car_booked", _("This demo car is already booked at that time."), field="starts_at"
        ) from None
    _responded(lead, timezone.now())
    attribute_to(lead, by).save()
    return test_drive


@transaction.atomic
def test_drive_complete(
    *, test_drive: TestDrive, by: User, agreement_signed: bool, feedback: str = ""
) -> TestDrive:
    test_drive = _lock(TestDrive, test_drive.pk)
    if test_drive.status != TestDriveStatus.BOOKED:
        raise StateConflict(
            "test_drive_not_booked", _("Only a booked test drive can be completed.")
        )
    if not (agreement_signed or test_drive.agreement_signed):
        raise DomainError(
            "agreement_not_signed",
            _("The customer signs the test-drive agreement before driving."),
            field="agreement_signed",
        )
    if test_drive.starts_at > timezone.now():
        raise StateConflict("test_drive_not_started", _("This test drive has not started yet."))
    test_drive.status, test_drive.agreement_signed = TestDriveStatus.DONE, True
    test_drive.feedback = feedback
    attribute_to(test_drive, by).save()
    lead = _lock(Lead, test_drive.lead_id)
    _advance(lead, LeadStatus.TEST_DRIVEN, test_drive.starts_at)
    attribute_to(lead, by).save()
    if lead.customer_id:
        timeline_add(
            customer=lead.customer,
            kind=timeline.TEST_DRIVE_DONE,
            detail=str(test_drive.demo_vehicle),
            subject=test_drive,
            actor=by,
        )
    return test_drive


@transaction.atomic
def test_drive_cancel(*, test_drive: TestDrive, by: User, reason: str = "") -> TestDrive:
    test_drive = _lock(TestDrive, test_drive.pk)
    if test_drive.status != TestDriveStatus.BOOKED:
        raise StateConflict(
            "test_drive_not_booked", _("Only a booked test drive can be cancelled.")
        )
    test_drive.status = TestDriveStatus.CANCELLED
    attribute_to(test_drive, by, reason).save()
    return test_drive


# --- Trade-ins ----------------------------------------------------------------------------

TRADE_IN_FIELDS = [
    "brand", "series", "model_year", "vin", "plate", "odometer_km", "condition_note",
    "appraised_value", "offered_value", "appraised_on",
]  # fmt: skip


@transaction.atomic
def trade_in_appraise(*, lead: Lead, by: User, data: dict) -> TradeIn:
    lead = _lock(Lead, lead.pk)
    _refuse_closed(lead)
    trade_in = TradeIn(branch=lead.branch, lead=lead, appraised_by=by, **data)
    trade_in.full_clean()
    attribute_to(trade_in, by).save()
    return trade_in


@transaction.atomic
def trade_in_decide(*, trade_in: TradeIn, by: User, decision: str) -> TradeIn:
    """The customer accepts the offer (it then counts in the quote) or declines it (it then
    comes off the draft quote it was on)."""
    trade_in = _lock(TradeIn, trade_in.pk)
    if trade_in.decision != TradeInDecision.PENDING:
        raise StateConflict("trade_in_decided", _("The customer has already decided."))
    if decision not in (TradeInDecision.ACCEPTED, TradeInDecision.DECLINED):
        raise DomainError("trade_in_decision_invalid", _("Accepted or declined."), field="decision")
    trade_in.decision = decision
    attribute_to(trade_in, by).save()
    quote = Quote.objects.filter(trade_in=trade_in).first()
    if quote is not None:
        if quote.status not in (QuoteStatus.DRAFT, QuoteStatus.REJECTED):
            raise StateConflict(
                "quote_not_editable",
                _("Quote %(number)s is already %(status)s; revise it to change its trade-in.")
                % {"number": quote.number, "status": quote.get_status_display().lower()},
            )
        if decision == TradeInDecision.DECLINED:
            quote.trade_in = None
        _price(quote)
        attribute_to(quote, by).save()
    return trade_in


# --- Quotes -------------------------------------------------------------------------------


def _price(quote: Quote) -> None:
    """Work out the trade-in credit, the total and whether the discount needs approval."""
    trade_in = quote.trade_in
    accepted = trade_in is not None and trade_in.decision == TradeInDecision.ACCEPTED
    quote.trade_in_value = trade_in.offered_value if accepted else ZERO
    quote.total = quote.computed_total()
    if quote.total < 0:
        raise DomainError(
            "quote_total_negative",
            _("The trade-in credit is larger than the price; check the figures."),
            field="trade_in",
        )
    quote.needs_approval = quote.discount > quote.branch.quote_discount_limit


def _check_trade_in(quote: Quote) -> None:
    if quote.trade_in_id is None:
        return
    # Decide on the stored offer, not the caller's copy, and hold it while the quote is priced.
    trade_in = quote.trade_in = _lock(TradeIn, quote.trade_in_id)
    if trade_in.lead_id != quote.lead_id:
        raise DomainError(
            "trade_in_other_lead", _("This trade-in belongs to another lead."), field="trade_in"
        )
    if trade_in.decision == TradeInDecision.DECLINED:
        raise DomainError(
            "trade_in_declined", _("The customer declined this trade-in offer."), field="trade_in"
        )
    taken = Quote.objects.filter(trade_in=trade_in).exclude(pk=quote.pk).first()
    if taken is not None:
        raise DomainError(
            "trade_in_on_other_quote",
            _("This trade-in is already on quote %(number)s.") % {"number": taken.number},
            field="trade_in",
        )


@transaction.atomic
def quote_create(*, lead: Lead, by: User, data: dict) -> Quote:
    lead = _lock(Lead, lead.pk)
    _refuse_closed(lead)
    _refuse_unverified(lead)
    quote = Quote(branch=lead.branch, lead=lead, consultant=lead.consultant or by, **data)
    _check_trade_in(quote)
    quote.full_clean(exclude=["total", "trade_in_value"])
    _price(quote)
    attribute_to(quote, by).save()
    return quote


@transaction.atomic
def quote_update(*, quote: Quote, by: User, data: dict) -> Quote:
    """Change a draft or a rejected quote; any change needs a fresh submission."""
    quote = _lock(Quote, quote.pk)
    if quote.status not in (QuoteStatus.DRAFT, QuoteStatus.REJECTED):
        raise StateConflict(
            "quote_not_editable",
            _("A quote that is %(status)s cannot be changed; make a new one.")
            % {"status": quote.get_status_display().lower()},
        )
    for field, value in data.items():
        if field not in Quote.PRICED_FIELDS:
            raise ValueError(f"{field} is not edited through quote_update")
        setattr(quote, field, value)
    quote.status = QuoteStatus.DRAFT
    _check_trade_in(quote)
    quote.full_clean(exclude=["total", "trade_in_value"])
    _price(quote)
    attribute_to(quote, by).save()
    return quote


@transaction.atomic
def quote_submit(*, quote: Quote, by: User, note: str = "") -> Quote:
    """Ask a sales manager to approve a discount above the branch's limit; a discount within
    it is approved at once."""
    quote = _lock(Quote, quote.pk)
    if quote.status not in (QuoteStatus.DRAFT, QuoteStatus.REJECTED):
        raise StateConflict(
            "quote_not_draft", _("Only a draft or rejected quote can be submitted.")
        )
    if not quote.needs_approval:
        quote.status = QuoteStatus.APPROVED
        attribute_to(quote, by, "within the discount limit").save()
        return quote
    quote.status = QuoteStatus.PENDING_APPROVAL
    attribute_to(quote, by).save()
    step = QuoteApproval.objects.create(
        quote=quote, decision=ApprovalDecision.SUBMITTED, discount=quote.discount, by=by, note=note
    )
    notify(
        recipients=branch_managers(quote.branch).exclude(pk=by.pk),
        key=f"quote-approval-{step.pk}",
        title=_("Discount to approve: %(quote)s, %(discount)s CNY")
        % {"quote": quote, "discount": money(quote.discount)},
        url=quote.get_absolute_url(),
        branch=quote.branch,
    )
    return quote


def _decide(quote: Quote, by: User, decision: str, note: str) -> Quote:
    quote = _lock(Quote, quote.pk)
    if quote.status != QuoteStatus.PENDING_APPROVAL:
        raise StateConflict("quote_not_pending", _("This quote is not awaiting approval."))
    submitted = quote.approvals.filter(decision=ApprovalDecision.SUBMITTED).last()
    if by.pk in (quote.consultant_id, submitted.by_id if submitted else None):
        raise StateConflict(
            "own_discount_approval", _("A discount is approved by someone other than its author.")
        )
    quote.status = (
        QuoteStatus.APPROVED if decision == ApprovalDecision.APPROVED else QuoteStatus.REJECTED
    )
    attribute_to(quote, by, note).save()
    QuoteApproval.objects.create(
        quote=quote, decision=decision, discount=quote.discount, by=by, note=note
    )
    notify(
        recipients=[quote.consultant],
        key=f"quote-decided-{quote.pk}-{quote.approvals.count()}",
        title=_("%(quote)s: %(decision)s")
        % {"quote": quote, "decision": ApprovalDecision(decision).label},
        body=note,
        url=quote.get_absolute_url(),
        branch=quote.branch,
    )
    return quote


@transaction.atomic
def quote_approve(*, quote: Quote, by: User, note: str = "") -> Quote:
    return _decide(quote, by, ApprovalDecision.APPROVED, note)


@transaction.atomic
def quote_reject(*, quote: Quote, by: User, note: str) -> Quote:
    if not note.strip():
        raise DomainError(
            "reject_note_required",
            _("Tell the consultant why the discount is refused."),
            field="note",
        )
    return _decide(quote, by, ApprovalDecision.REJECTED, note.strip())


@transaction.atomic
def quote_send(*, quote: Quote, by: User) -> Quote:
    """Give the quote to the customer. A discount above the limit must be approved first."""
    quote = _lock(Quote, quote.pk)
    if quote.status == QuoteStatus.DRAFT and not quote.needs_approval:
        quote.status = QuoteStatus.APPROVED
    if quote.status != QuoteStatus.APPROVED:
        code, message = (
            ("quote_needs_approval", _("A sales manager must approve this discount first."))
            if quote.needs_approval
            else ("quote_not_approved", _("Only an approved quote can be sent."))
        )
        raise StateConflict(code, message)
    now = timezone.now()
    quote.status, quote.sent_at = QuoteStatus.SENT, now
    attribute_to(quote, by).save()
    lead = _lock(Lead, quote.lead_id)
    _advance(lead, LeadStatus.QUOTED, now)
    attribute_to(lead, by).save()
    if lead.customer_id:
        timeline_add(
            customer=lead.customer,
            kind=timeline.QUOTE_SENT,
            detail=f"{quote}, {money(quote.total)} CNY",
            subject=quote,
            actor=by,
        )
    return quote


# --- Orders -------------------------------------------------------------------------------


@transaction.atomic
def order_create(*, quote: Quote, by: User, customer: Customer | None = None) -> Order:
    """Draft the purchase agreement from a sent quote; the lead becomes (or is linked to) the
    buying customer without retyping."""
    quote = _lock(Quote, quote.pk)
    if quote.status != QuoteStatus.SENT:
        raise StateConflict(
            "quote_not_sent", _("An order is made from a quote sent to the customer.")
        )
    if Order.objects.filter(quote=quote).exists():
        raise StateConflict("quote_has_order", _("This quote already has an order."))
    buyer = lead_link_customer(lead=quote.lead, by=by, customer=customer)
    order = Order(
        branch=quote.branch,
        customer=buyer,
        lead=quote.lead,
        quote=quote,
        consultant=quote.consultant,
        brand=quote.brand,
        series=quote.series,
        configuration=quote.configuration,
        colour=quote.colour,
        total_price=quote.total,
    )
    order.full_clean()
    attribute_to(order, by).save()
    return order


@transaction.atomic
def orders_create_for_fleet(
    *, fleet_order, customer: Customer, consultant: User, by: User, vehicle: dict
) -> list[Order]:
    """One signed purchase agreement per vehicle of a priced fleet batch, at the batch's
    price; each is then allocated, paid, invoiced and delivered like any other order.
    `vehicle` holds brand, series, configuration and colour."""
    now = timezone.now()
    orders = []
    for _unit in range(fleet_order.quantity):
        order = Order(
            branch_id=fleet_order.deal.branch_id,
            customer=customer,
            fleet_order=fleet_order,
            consultant=consultant,
            total_price=fleet_order.unit_price,
            status=OrderStatus.SIGNED,
            signed_at=now,
            **vehicle,
        )
        order.full_clean()
        orders.append(order)
    orders = bulk_create_with_history(orders, Order, default_user=by)
    timeline_add(
        customer=customer,
        kind=timeline.ORDER_SIGNED,
        detail=f"{orders[0].number}–{orders[-1].number} {vehicle['brand']} {vehicle['series']}"
        f" × {len(orders)}, {money(fleet_order.unit_price)} CNY",
        subject=orders[0],
        actor=by,
    )
    return orders


def _refuse_order_status(order: Order, allowed: tuple, code: str, message) -> None:
    if order.status not in allowed:
        raise StateConflict(code, message, extra={"status": order.status})


@transaction.atomic
def order_sign(*, order: Order, by: User) -> Order:
    order = _lock(Order, order.pk)
    _refuse_order_status(
        order, (OrderStatus.DRAFT,), "order_not_draft", _("Only a draft order can be signed.")
    )
    now = timezone.now()
    order.status, order.signed_at = OrderStatus.SIGNED, now
    attribute_to(order, by).save()
    if order.lead_id:
        lead = _lock(Lead, order.lead_id)
        _advance(lead, LeadStatus.WON, now)
        attribute_to(lead, by, "order signed").save()
    timeline_add(
        customer=order.customer,
        kind=timeline.ORDER_SIGNED,
        detail=f"{order.number} {order.brand} {order.series}, {money(order.total_price)} CNY",
        subject=order,
        actor=by,
    )
    return order


def paid_total(order: Order) -> Decimal:
    return order.payments.filter(paid_on__isnull=False).aggregate(total=Sum("amount"))[
        "total"
    ] or Decimal("0.00")


@transaction.atomic
def payment_record(*, order: Order, by: User, data: dict) -> Payment:
    """Record a payment received (paid_on) or scheduled (due_on). What is received never
    exceeds the order's price."""
    order = _lock(Order, order.pk)
    _refuse_order_status(
        order,
        (OrderStatus.DRAFT, OrderStatus.SIGNED, OrderStatus.ALLOCATED, OrderStatus.INVOICED),
        "order_closed",
        _("No payments are taken on a delivered or cancelled order."),
    )
    payment = Payment(order=order, recorded_by=by, **data)
    payment.full_clean(validate_constraints=False)
    if payment.amount <= 0:  # payment_amount_positive, with a message instead of a 500
        raise DomainError(
            "payment_amount_not_positive", _("A payment is more than zero."), field="amount"
        )
    if payment.paid_on is None and payment.due_on is None:
        raise DomainError(
            "payment_date_required", _("Give the date paid or the date due."), field="paid_on"
        )
    if payment.paid_on:
        _receive_check(order, payment)
    attribute_to(payment, by).save()
    return payment


def _receive_check(order: Order, payment: Payment) -> None:
    if payment.paid_on > timezone.localdate():
        raise DomainError(
            "payment_in_future", _("A payment cannot be received in the future."), field="paid_on"
        )
    outstanding = order.total_price - paid_total(order)
    if payment.amount > outstanding:
        raise DomainError(
            "overpayment",
            _("Only %(outstanding)s CNY is outstanding on this order.")
            % {"outstanding": outstanding},
            field="amount",
        )


@transaction.atomic
def payment_receive(
    *, payment: Payment, by: User, paid_on: date, method: str = "", reference: str = ""
) -> Payment:
    """A scheduled payment arrives."""
    order = _lock(Order, payment.order_id)
    payment = _lock(Payment, payment.pk)
    if payment.paid_on is not None:
        raise StateConflict("payment_already_paid", _("This payment was already received."))
    payment.paid_on, payment.method, payment.reference = paid_on, method, reference
    payment.full_clean()
    _receive_check(order, payment)
    attribute_to(payment, by).save()
    return payment


@transaction.atomic
def order_allocate(*, order: Order, stock_vehicle: StockVehicle, by: User) -> Order:
    """Allocate one stock vehicle to a signed order. The vehicle row is locked, so of two
    orders racing for one VIN exactly one gets it; the unique key on the order backs it up."""
    order = _lock(Order, order.pk)
    _refuse_order_status(
        order,
        (OrderStatus.SIGNED,),
        "order_not_signed",
        _("A vehicle is allocated to a signed order that has none yet."),
    )
    vehicle = _lock(StockVehicle, stock_vehicle.pk)
    if vehicle.branch_id != order.branch_id:
        raise DomainError(
            "vehicle_other_branch", _("This vehicle is stocked by another branch."), field="vin"
        )
    # A vehicle in transit may be reserved: it is invoiced once it has arrived.
    if not vehicle.is_available or Order.objects.filter(stock_vehicle=vehicle).exists():
        raise StateConflict(
            "vehicle_not_available",
            _("Vehicle %(vin)s is %(status)s and cannot be allocated.")
            % {"vin": vehicle.vin, "status": vehicle.get_status_display().lower()},
            field="vin",
        )
    vehicle.status = StockStatus.RESERVED
    attribute_to(vehicle, by, f"allocated to {order.number}").save()
    order.stock_vehicle, order.status, order.allocated_at = (
        vehicle,
        OrderStatus.ALLOCATED,
        timezone.now(),
    )
    try:
        with transaction.atomic():
            attribute_to(order, by).save()
    except IntegrityError:
        raise StateConflict(
            "vehicle_not_available",
            _("This vehicle was just allocated to another order."),
            field="vin",
        ) from None
    return order


def _duplicate_invoice_number() -> DomainError:
    return DomainError(
        "duplicate_invoice_number",
        _("Another order has this invoice number."),
        field="invoice_number",
    )


@transaction.atomic
def order_invoice(*, order: Order, by: User, invoice_number: str) -> Order:
    """开票: the vehicle is sold once the customer has paid in full."""
    order = _lock(Order, order.pk)
    _refuse_order_status(
        order,
        (OrderStatus.ALLOCATED,),
        "order_not_allocated",
        _("Invoice an order once a vehicle is allocated to it."),
    )
    invoice_number = invoice_number.strip()
    if not invoice_number:
        raise DomainError(
            "invoice_number_required", _("Enter the invoice number."), field="invoice_number"
        )
    if order.stock_vehicle.arrival_date is None:
        raise StateConflict(
            "vehicle_not_arrived",
            _("Vehicle %(vin)s is still in transit; invoice it once it has arrived.")
            % {"vin": order.stock_vehicle.vin},
        )
    outstanding = order.total_price - paid_total(order)
    if outstanding > 0:
        raise DomainError(
            "order_not_paid",
            _("%(outstanding)s CNY is still outstanding; invoice once paid in full.")
            % {"outstanding": outstanding},
            extra={"outstanding": str(outstanding)},
        )
    if Order.objects.filter(invoice_number=invoice_number).exists():
        raise _duplicate_invoice_number()
    order.status, order.invoice_number = OrderStatus.INVOICED, invoice_number
    order.invoiced_at = timezone.now()
    try:
        with transaction.atomic():
            attribute_to(order, by).save()
    except IntegrityError:  # the same number recorded on another order a moment ago
        raise _duplicate_invoice_number() from None
    vehicle = _lock(StockVehicle, order.stock_vehicle_id)
    vehicle.status = StockStatus.SOLD
    attribute_to(vehicle, by, f"invoiced on {order.number}").save()
    return order


def _lose_won_lead(order: Order, by: User, lost_reason: str) -> None:
    lead = _lock(Lead, order.lead_id)
    standing = lead.orders.exclude(status=OrderStatus.CANCELLED).exclude(pk=order.pk)
    if lead.status != LeadStatus.WON or standing.exists():
        return
    if lost_reason not in LostReason.values:
        raise DomainError(
            "lost_reason_required", _("Choose why the lead was lost."), field="lost_reason"
        )
    lead.lost_reason = lost_reason
    _close(lead, by, LeadStatus.LOST, order.cancel_reason)


@transaction.atomic
def order_cancel(
    *,
    order: Order,
    by: User,
    reason: str,
    deposit_handling: str = "",
    lost_reason: str = LostReason.OTHER,
) -> Order:
    """Cancel with a reason and, when a deposit was paid, what happens to it. An allocated
    vehicle goes back into stock. The lead the signed order had won is lost after all, for
    `lost_reason`, unless another order of it still stands."""
    order = _lock(Order, order.pk)
    _refuse_order_status(
        order,
        (OrderStatus.DRAFT, OrderStatus.SIGNED, OrderStatus.ALLOCATED, OrderStatus.INVOICED),
        "order_not_cancellable",
        _("A delivered or cancelled order cannot be cancelled."),
    )
    if not reason.strip():
        raise DomainError(
            "cancel_reason_required", _("Say why the order is cancelled."), field="reason"
        )
    paid = paid_total(order)
    if paid > 0 and deposit_handling not in (
        DepositHandling.REFUNDED,
        DepositHandling.FORFEITED,
        DepositHandling.TRANSFERRED,
    ):
        raise DomainError(
            "deposit_handling_required",
            _("%(paid)s CNY was paid; record whether it is refunded, kept or moved.")
            % {"paid": paid},
            field="deposit_handling",
        )
    if order.stock_vehicle_id:
        vehicle = _lock(StockVehicle, order.stock_vehicle_id)
        vehicle.status = StockStatus.IN_STOCK if vehicle.arrival_date else StockStatus.IN_TRANSIT
        attribute_to(vehicle, by, f"released from {order.number}").save()
    order.status, order.cancel_reason = OrderStatus.CANCELLED, reason.strip()
    order.deposit_handling = deposit_handling if paid > 0 else DepositHandling.NONE
    order.cancelled_at, order.stock_vehicle = timezone.now(), None
    attribute_to(order, by, reason).save()
    if order.lead_id:
        _lose_won_lead(order, by, lost_reason)
    timeline_add(
        customer=order.customer,
        kind=timeline.ORDER_CANCELLED,
        detail=f"{order.number}: {order.cancel_reason}",
        subject=order,
        actor=by,
    )
    return order


# --- Delivery -----------------------------------------------------------------------------


@transaction.atomic
def delivery_record(
    *,
    order: Order,
    by: User,
    delivered_on: date,
    checklist: list[str],
    documents: list[str],
    odometer_km: int = 0,
    plate: str = "",
    note: str = "",
) -> Delivery:
    """交车: only an invoiced order whose vehicle passed its PDI, with every check done and
    the papers handed over. The car becomes the customer's vehicle (ownership from today)
    and `vehicle_delivered` is published for the archive and customer care."""
    order = _lock(Order, order.pk)
    _refuse_order_status(
        order,
        (OrderStatus.INVOICED,),
        "order_not_invoiced",
        _("Only an invoiced order can be delivered."),
    )
    stock = _lock(StockVehicle, order.stock_vehicle_id)
    if stock.pdi_done_on is None:
        raise StateConflict(
            "pdi_missing", _("The vehicle has no pre-delivery inspection (PDI) on record.")
        )
    if delivered_on > timezone.localdate() or delivered_on < stock.pdi_done_on:
        raise DomainError(
            "delivery_date_invalid",
            _("Delivery is dated between the PDI (%(date)s) and today.")
            % {"date": stock.pdi_done_on.isoformat()},
            field="delivered_on",
        )
    missing_checks = [c.label for c in DeliveryCheck if c not in checklist]
    if missing_checks:
        raise DomainError(
            "checklist_incomplete",
            _("Not yet done: %(items)s.") % {"items": "; ".join(str(m) for m in missing_checks)},
            field="checklist",
        )
    missing_documents = [
        d.label for d in DeliveryDocument if d in REQUIRED_DELIVERY_DOCUMENTS and d not in documents
    ]
    if missing_documents:
        raise DomainError(
            "documents_missing",
            _("Hand over: %(items)s.") % {"items": "; ".join(str(m) for m in missing_documents)},
            field="documents",
        )
    vehicle = vehicle_add(
        owner=order.customer,
        by=by,
        data={
            "vin": stock.vin,
            "plate": plate,
            "brand": stock.brand,
            "series": stock.series,
            "model_year": stock.model_year,
            "colour": stock.colour,
            "delivery_date": delivered_on,
            "odometer_km": odometer_km,
        },
    )
    delivery = Delivery(
        order=order,
        delivered_on=delivered_on,
        delivered_by=by,
        checklist=sorted(set(checklist)),
        documents=sorted(set(documents)),
        odometer_km=odometer_km,
        note=note,
        vehicle=vehicle,
    )
    delivery.full_clean()
    attribute_to(delivery, by).save()
    now = timezone.now()
    order.status, order.delivered_at = OrderStatus.DELIVERED, now
    attribute_to(order, by).save()
    stock.status = StockStatus.DELIVERED
    attribute_to(stock, by, f"delivered on {order.number}").save()
    if order.lead_id:
        lead = _lock(Lead, order.lead_id)
        lead.delivered_at = lead.delivered_at or now
        attribute_to(lead, by, "delivered").save()
    timeline_add(
        customer=order.customer,
        kind=timeline.VEHICLE_DELIVERED,
        detail=f"{order.number}: {vehicle}",
        subject=delivery,
        actor=by,
    )
    publish_vehicle_delivered(delivery.pk)
    return delivery
