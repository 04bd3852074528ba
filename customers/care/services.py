"""Every write of customer care: follow-up calls generated from deliveries, closed work
orders and closed complaints, and logged attempt by attempt; complaints from receipt to the
customer's confirmation, with deadlines by severity and escalation; inquiries and
suggestions with their answers; the nightly customer segments; reminders made and sent
through the notification layer, every message logged; the satisfaction models weighted by
the analytic hierarchy process (层次分析法), the call surveys and the 0–100 index they make;
the campaigns (关怀活动) and their offers, redeemed at a settlement with a manager's sign-off;
the loyalty points earned and redeemed."""

import math
import re
import secrets
import unicodedata
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Avg, Count, F, Max, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lunardate import LunarDate

from customers.models import Customer, OdometerReading, Vehicle
from customers.services import timeline_add
from dealer_crm.audit import attribute_to
from dealer_crm.choices import Role
from dealer_crm.errors import DomainError, StateConflict
from dealer_crm.models import Branch, display_name
from dealer_crm.notifications import branch_managers, notify
from dealer_crm.periods import add_months, local_day_end, local_day_start
from sales.choices import LeadStatus, OrderStatus
from sales.models import Delivery, Lead, Order
from service.choices import ServiceType, WorkOrderStatus
from service.models import Settlement, WorkOrder

from . import messaging, timeline
from .choices import (
    AbnormalReason,
    CallOutcome,
    CallReason,
    CallStatus,
    CampaignStatus,
    Channel,
    ComplaintChannel,
    ComplaintStatus,
    InquiryKind,
    Lifecycle,
    MessageStatus,
    OfferKind,
    OfferStatus,
    PointsKind,
    ReminderKind,
    Severity,
)
from .models import (
    CallAttempt,
    Campaign,
    ComparisonMatrix,
    Complaint,
    Criterion,
    CustomerSegment,
    FollowUpCall,
    Inquiry,
    LoyaltyAccount,
    LoyaltyRule,
    Message,
    Offer,
    PointsEntry,
    Reminder,
    SatisfactionModel,
    SurveyAnswer,
)
from .selectors import campaign_audience

# Follow-up calls after a delivery, by the day after it they fall due.
DELIVERY_CALL_DAYS = {
    CallReason.DELIVERY_DAY_1: 1,
    CallReason.DELIVERY_DAY_7: 7,
    CallReason.DELIVERY_DAY_30: 30,
}
# A service visit is called the day after closing (well within DOMAIN's 3 days); a closed
# complaint three days after the customer confirmed it. The dealer's own and pre-delivery
# jobs have no customer to call.
SERVICE_CALL_DAYS = 1
COMPLAINT_CALL_DAYS = 3
NO_CALL_SERVICE_TYPES = [ServiceType.INTERNAL, ServiceType.PDI]
# A call the job missed (it did not run that day) is still made on any of this many days
# from its due day on, and never after.
CATCH_UP_DAYS = 7
# A customer not reached is tried again the next day, three attempts in all.
MAX_ATTEMPTS = 3
# Response and resolution deadlines of a complaint, by severity.
COMPLAINT_DEADLINES = {
    Severity.CRITICAL: (timedelta(hours=2), timedelta(hours=24)),
    Severity.HIGH: (timedelta(hours=4), timedelta(hours=48)),
    Severity.MEDIUM: (timedelta(hours=24), timedelta(hours=72)),
    Severity.LOW: (timedelta(hours=48), timedelta(days=7)),
}
# Segments (DOMAIN §1): the expected service interval, key customers' share of a branch.
SERVICE_INTERVAL_DAYS = 183
NEAR_CHURN_FACTOR = Decimal("1.5")
LONG_INACTIVE_DAYS = 365
COMPLAINT_MONTHS_DAYS = 183
KEY_CUSTOMER_SHARE = Decimal("0.2")
# Visits that are not maintenance for the "repair only" segment.
REPAIR_TYPES = [
    ServiceType.REPAIR,
    ServiceType.BODYWORK,
    ServiceType.PAINT,
    ServiceType.WARRANTY,
    ServiceType.RESCUE,
]
CHUNK = 1000


def _staff_of(branch_id: int, user: User | None) -> bool:
    return bool(
        user and user.is_active and Branch.objects.filter(pk=branch_id, staff__user=user).exists()
    )


# --- Follow-up calls ------------------------------------------------------------------------


def _agent_for(branch_id: int, fallback: User) -> User:
    """The branch's customer-care agent with the fewest calls to make; the record's own
    consultant or advisor where the branch has none."""
    agents = list(
        User.objects.filter(
            is_active=True, staff__branches=branch_id, groups__name=Role.CUSTOMER_CARE
        )
        .distinct()
        .order_by("pk")
    )
    if not agents:
        return fallback
    load = dict(
        FollowUpCall.objects.filter(assigned_to__in=agents, status=CallStatus.DUE)
        .values_list("assigned_to")
        .annotate(n=Count("pk"))
    )
    return min(agents, key=lambda agent: (load.get(agent.pk, 0), agent.pk))


def _call(*, branch_id, customer_id, vehicle_id, reason, due_on, fallback, **record) -> bool:
    """Make the call once: the unique keys on its record keep a rerun from making it again."""
    with transaction.atomic():
        _row, created = FollowUpCall.objects.get_or_create(
            reason=reason,
            **record,
            defaults={
                "branch_id": branch_id,
                "customer_id": customer_id,
                "vehicle_id": vehicle_id,
                "due_on": due_on,
                "assigned_to": _agent_for(branch_id, fallback),
            },
        )
    return created


def follow_up_calls_generate(*, today: date | None = None) -> int:
    """Daily: the follow-up calls falling due today (or missed in the last week): day 1, 7
    and 30 after each delivery, the day after each closed work order, three days after each
    complaint the customer confirmed closed. Returns the calls made; a rerun makes none."""
    today = today or timezone.localdate()
    made = 0
    oldest = today - timedelta(days=max(DELIVERY_CALL_DAYS.values()) + CATCH_UP_DAYS - 1)
    deliveries = Delivery.objects.filter(
        delivered_on__gte=oldest, delivered_on__lte=today - timedelta(days=1)
    ).select_related("order__consultant", "vehicle")
    for delivery in deliveries.iterator(chunk_size=CHUNK):
        for reason, days in DELIVERY_CALL_DAYS.items():
            due_on = delivery.delivered_on + timedelta(days=days)
            if not due_on <= today < due_on + timedelta(days=CATCH_UP_DAYS):
                continue
            made += _call(
                branch_id=delivery.order.branch_id, customer_id=delivery.order.customer_id,
                vehicle_id=delivery.vehicle_id, reason=reason, due_on=due_on,
                fallback=delivery.order.consultant, delivery=delivery,
            )  # fmt: skip
    closed_since = local_day_start(today - timedelta(days=SERVICE_CALL_DAYS + CATCH_UP_DAYS - 1))
    work_orders = (
        WorkOrder.objects.filter(
            status=WorkOrderStatus.CLOSED,
            closed_at__gte=closed_since,
            closed_at__lt=local_day_start(today),
            follow_up_calls__isnull=True,
        )
        .exclude(service_type__in=NO_CALL_SERVICE_TYPES)
        .select_related("advisor")
    )
    for work_order in work_orders.iterator(chunk_size=CHUNK):
        due_on = timezone.localdate(work_order.closed_at) + timedelta(days=SERVICE_CALL_DAYS)
        made += _call(
            branch_id=work_order.branch_id, customer_id=work_order.customer_id,
            vehicle_id=work_order.vehicle_id, reason=CallReason.SERVICE, due_on=due_on,
            fallback=work_order.advisor, work_order=work_order,
        )  # fmt: skip
    confirmed_since = local_day_start(
        today - timedelta(days=COMPLAINT_CALL_DAYS + CATCH_UP_DAYS - 1)
    )
    complaints = Complaint.objects.filter(
        status=ComplaintStatus.CLOSED,
        confirmed_at__gte=confirmed_since,
        confirmed_at__lt=local_day_end(today - timedelta(days=COMPLAINT_CALL_DAYS)),
        follow_up_calls__isnull=True,
    ).select_related("owner")
    for complaint in complaints.iterator(chunk_size=CHUNK):
        due_on = timezone.localdate(complaint.confirmed_at) + timedelta(days=COMPLAINT_CALL_DAYS)
        made += _call(
            branch_id=complaint.branch_id, customer_id=complaint.customer_id,
            vehicle_id=complaint.vehicle_id, reason=CallReason.COMPLAINT, due_on=due_on,
            fallback=complaint.owner, complaint=complaint,
        )  # fmt: skip
    return made


@transaction.atomic
def call_attempt_record(
    *,
    call: FollowUpCall,
    outcome: str,
    by: User,
    score: int | None = None,
    note: str = "",
    issue: dict | None = None,
) -> FollowUpCall:
    """Log a try at a call. Reached, the call is done with the customer's satisfaction
    (1–5) and what they said; an issue raised opens a complaint (channel: follow-up call).
    Not reached, the call is due again tomorrow, until the third attempt, after which the
    customer is unreachable. A call already done is refused."""
    call = FollowUpCall.objects.select_for_update().get(pk=call.pk)
    if call.status != CallStatus.DUE:
        raise StateConflict(
            "call_not_due",
            _("This call is already %(status)s.")
            % {"status": str(call.get_status_display()).lower()},
        )
    if outcome not in CallOutcome.values:
        raise DomainError("outcome_invalid", _("Choose what came of the call."), field="outcome")
    reached = outcome == CallOutcome.REACHED
    if reached and score is None:
        raise DomainError(
            "score_required", _("Ask the customer for a score from 1 to 5."), field="score"
        )
    if score is not None and not 1 <= score <= 5:
        raise DomainError("score_invalid", _("A score is from 1 to 5."), field="score")
    if issue and not reached:
        raise DomainError(
            "issue_needs_customer", _("An issue is raised by a customer reached."), field="issue"
        )
    now = timezone.now()
    CallAttempt.objects.create(call=call, outcome=outcome, note=note.strip()[:300], by=by)
    call.attempts += 1
    if reached:
        call.status, call.score, call.note = CallStatus.DONE, score, note.strip()
        call.completed_by, call.completed_at = by, now
        if issue:
            call.raised_complaint = complaint_create(
                branch=call.branch,
                customer=call.customer,
                by=by,
                # what the call is about is the call's own, whatever the issue says
                data={
                    **issue,
                    "vehicle": call.vehicle,
                    "channel": ComplaintChannel.FOLLOW_UP,
                    "work_order": call.work_order,
                },
            )
        timeline_add(
            customer=call.customer,
            kind=timeline.CALL_DONE,
            detail=f"{call.get_reason_display()} · {score}/5",
            subject=call,
            actor=by,
        )
    elif call.attempts >= MAX_ATTEMPTS:
        call.status = CallStatus.UNREACHABLE
        call.completed_by, call.completed_at = by, now
    else:
        call.due_on = timezone.localdate(now) + timedelta(days=1)
    attribute_to(call, by, f"attempt {call.attempts}: {outcome}").save()
    return call


@transaction.atomic
def call_reassign(*, call: FollowUpCall, to: User, by: User) -> FollowUpCall:
    call = FollowUpCall.objects.select_for_update().get(pk=call.pk)
    if call.status != CallStatus.DUE:
        raise StateConflict("call_not_due", _("Only a call still to make is reassigned."))
    if not _staff_of(call.branch_id, to):
        raise DomainError(
            "assignee_other_branch", _("Assign it to someone of the branch."), field="to"
        )
    call.assigned_to = to
    attribute_to(call, by, "reassigned").save()
    return call


# --- Complaints -----------------------------------------------------------------------------


@transaction.atomic
def complaint_create(*, branch: Branch, customer: Customer, by: User, data: dict) -> Complaint:
    """Record a complaint: its deadlines follow its severity; the owner (the person who
    records it unless named) works in the branch. It goes on the customer's timeline."""
    data = dict(data)
    owner = data.pop("owner", None) or by
    if not _staff_of(branch.pk, owner):
        raise DomainError(
            "owner_other_branch", _("The owner works in the complaint's branch."), field="owner"
        )
    if customer.branch_id != branch.pk and not _staff_of(customer.branch_id, by):
        raise DomainError("customer_other_branch", _("Choose a customer of your branches."))
    vehicle, work_order = data.get("vehicle"), data.get("work_order")
    if vehicle is not None and vehicle.owner_id != customer.pk:
        raise DomainError(
            "vehicle_other_customer", _("Choose one of the customer's vehicles."), field="vehicle"
        )
    if work_order is not None and work_order.customer_id != customer.pk:
        raise DomainError(
            "work_order_other_customer",
            _("Choose a work order of the customer."),
            field="work_order",
        )
    severity = data.get("severity")
    if severity not in COMPLAINT_DEADLINES:
        raise DomainError("severity_invalid", _("Choose the severity."), field="severity")
    received_at = data.pop("received_at", None) or timezone.now()
    respond_in, resolve_in = COMPLAINT_DEADLINES[severity]
    complaint = Complaint(
        branch=branch,
        customer=customer,
        owner=owner,
        created_by=by,
        received_at=received_at,
        respond_by=received_at + respond_in,
        resolve_by=received_at + resolve_in,
        **data,
    )
    complaint.full_clean()
    attribute_to(complaint, by).save()
    timeline_add(
        customer=customer,
        kind=timeline.COMPLAINT_RECEIVED,
        detail=f"{complaint.number} · {complaint.get_category_display()}",
        subject=complaint,
        actor=by,
    )
    if owner != by:
        notify(
            recipients=[owner],
            key=f"care.complaint.{complaint.pk}",
            title=_("Complaint to handle: %(number)s") % {"number": complaint.number},
            url=complaint.get_absolute_url(),
            branch=branch,
        )
    return complaint


def _complaint_locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update().get(pk=complaint.pk)


@transaction.atomic
def complaint_respond(*, complaint: Complaint, response: str, by: User) -> Complaint:
    """The first response to the customer (by the respond-by deadline)."""
    complaint = _complaint_locked(complaint)
    if complaint.status != ComplaintStatus.OPEN:
        raise StateConflict("complaint_not_open", _("This complaint was already answered."))
    if not response.strip():
        raise DomainError("response_required", _("Write what was told to the customer."),
                          field="response")  # fmt: skip
    complaint.response, complaint.responded_at = response.strip(), timezone.now()
    complaint.status = ComplaintStatus.RESPONDED
    attribute_to(complaint, by).save()
    return complaint


@transaction.atomic
def complaint_resolve(*, complaint: Complaint, resolution: str, by: User) -> Complaint:
    """A manager records how the complaint was resolved; the customer confirms it next."""
    complaint = _complaint_locked(complaint)
    if not by.has_perm("care.resolve_complaint"):
        raise DomainError("not_a_manager", _("A manager resolves complaints."))
    if complaint.status not in (ComplaintStatus.OPEN, ComplaintStatus.RESPONDED):
        raise StateConflict("complaint_not_open", _("This complaint is already resolved."))
    if not resolution.strip():
        raise DomainError("resolution_required", _("Write how it was resolved."),
                          field="resolution")  # fmt: skip
    now = timezone.now()
    if complaint.responded_at is None:
        complaint.responded_at = now
    complaint.resolution, complaint.resolved_by, complaint.resolved_at = (
        resolution.strip(),
        by,
        now,
    )
    complaint.status = ComplaintStatus.RESOLVED
    attribute_to(complaint, by).save()
    timeline_add(
        customer=complaint.customer,
        kind=timeline.COMPLAINT_RESOLVED,
        detail=complaint.number,
        subject=complaint,
        actor=by,
    )
    return complaint


@transaction.atomic
def complaint_confirm(*, complaint: Complaint, by: User, note: str = "") -> Complaint:
    """The customer confirms the resolution: the complaint is closed (a follow-up call
    comes three days later)."""
    complaint = _complaint_locked(complaint)
    if complaint.status != ComplaintStatus.RESOLVED:
        raise StateConflict(
            "complaint_not_resolved", _("The customer confirms a resolved complaint.")
        )
    complaint.status, complaint.confirmed_at = ComplaintStatus.CLOSED, timezone.now()
    complaint.confirmation_note = note.strip()[:300]
    attribute_to(complaint, by).save()
    timeline_add(
        customer=complaint.customer,
        kind=timeline.COMPLAINT_CLOSED,
        detail=complaint.number,
        subject=complaint,
        actor=by,
    )
    return complaint


def complaints_escalate(*, now: datetime | None = None) -> int:
    """Hourly: a complaint without its first response past the respond-by time goes to
    level 1, one unresolved past its resolve-by time to level 2; each level is reached once
    and told to the owner and the branch's managers. Returns the escalations."""
    now = now or timezone.now()
    escalated = 0
    targets = [
        (1, Q(status=ComplaintStatus.OPEN, respond_by__lt=now)),
        (
            2,
            Q(
                status__in=[ComplaintStatus.OPEN, ComplaintStatus.RESPONDED],
                resolve_by__lt=now,
            ),
        ),
    ]
    for level, late in targets:
        for complaint in Complaint.objects.filter(late, escalation_level__lt=level).select_related(
            "branch", "owner"
        ):
            with transaction.atomic():
                if not Complaint.objects.filter(pk=complaint.pk, escalation_level__lt=level).update(
                    escalation_level=level, escalated_at=now
                ):
                    continue
                escalated += 1
                notify(
                    recipients=[complaint.owner, *branch_managers(complaint.branch)],
                    key=f"care.complaint_escalated.{complaint.pk}.{level}",
                    title=_("Complaint overdue: %(number)s") % {"number": complaint.number},
                    body=_("Not answered in time") if level == 1 else _("Not resolved in time"),
                    url=complaint.get_absolute_url(),
                    branch=complaint.branch,
                )
    return escalated


# --- Inquiries and suggestions --------------------------------------------------------------


@transaction.atomic
def inquiry_record(*, branch: Branch, customer: Customer, by: User, data: dict) -> Inquiry:
    """Log what a customer asked or proposed (answered at once when the answer is given)."""
    data = dict(data)
    answer = (data.pop("answer", "") or "").strip()
    inquiry = Inquiry(
        branch=branch,
        customer=customer,
        recorded_by=by,
        received_at=data.pop("received_at", None) or timezone.now(),
        **data,
    )
    if answer:
        inquiry.answer, inquiry.answered_by, inquiry.answered_at = answer, by, timezone.now()
    inquiry.full_clean()
    attribute_to(inquiry, by).save()
    timeline_add(
        customer=customer,
        kind=timeline.INQUIRY if inquiry.kind == InquiryKind.INQUIRY else timeline.SUGGESTION,
        detail=inquiry.subject[:120],
        subject=inquiry,
        actor=by,
    )
    return inquiry


@transaction.atomic
def inquiry_answer(*, inquiry: Inquiry, answer: str, by: User) -> Inquiry:
    inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if inquiry.answered_at is not None:
        raise StateConflict("inquiry_answered", _("This was already answered."))
    if not answer.strip():
        raise DomainError("answer_required", _("Write the answer."), field="answer")
    inquiry.answer, inquiry.answered_by, inquiry.answered_at = answer.strip(), by, timezone.now()
    attribute_to(inquiry, by).save()
    return inquiry


# --- Segments -------------------------------------------------------------------------------


def _by_customer(queryset, field: str, aggregate) -> dict:
    return dict(queryset.values_list(field).annotate(value=aggregate).values_list(field, "value"))


def _segment_rows(branch: Branch, today: date) -> list[CustomerSegment]:
    """Every customer of the branch with their segments, computed a chunk at a time."""
    year_ago = local_day_start(today - timedelta(days=365))
    half_year_ago = local_day_start(today - timedelta(days=COMPLAINT_MONTHS_DAYS))
    near_churn_days = int(SERVICE_INTERVAL_DAYS * NEAR_CHURN_FACTOR)
    rows = []
    ids = list(
        Customer.objects.filter(branch=branch, merged_into__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        closed = WorkOrder.objects.filter(customer_id__in=chunk, status=WorkOrderStatus.CLOSED)
        service_revenue = _by_customer(
            Settlement.objects.filter(work_order__customer_id__in=chunk, settled_at__gte=year_ago),
            "work_order__customer",
            Sum("customer_amount"),
        )
        sales_revenue = _by_customer(
            Order.objects.filter(
                customer_id__in=chunk, status=OrderStatus.DELIVERED, delivered_at__gte=year_ago
            ),
            "customer",
            Sum("total_price"),
        )
        last_visit = _by_customer(closed, "customer", Max("closed_at"))
        last_maintenance = _by_customer(
            closed.filter(service_type=ServiceType.MAINTENANCE), "customer", Max("closed_at")
        )
        last_repair = _by_customer(
            closed.filter(service_type__in=REPAIR_TYPES), "customer", Max("closed_at")
        )
        last_complaint = _by_customer(
            Complaint.objects.filter(customer_id__in=chunk, received_at__gte=half_year_ago),
            "customer",
            Max("received_at"),
        )
        vehicles: dict[int, tuple] = {}
        for owner, delivered_on, segment in (
            Vehicle.objects.filter(owner_id__in=chunk)
            .with_age_segment(today)
            .order_by("owner", F("delivery_date").desc(nulls_last=True), "-pk")
            .values_list("owner", "delivery_date", "age_segment")
        ):
            vehicles.setdefault(owner, (delivered_on, segment))
        lost = set(
            Lead.objects.filter(customer_id__in=chunk, status=LeadStatus.LOST).values_list(
                "customer", flat=True
            )
        ) | set(
            Customer.objects.filter(pk__in=chunk, ownerships__ended_on__isnull=False)
            .exclude(vehicles__isnull=False)
            .values_list("pk", flat=True)
        )
        for customer_id in chunk:
            visited = last_visit.get(customer_id)
            since = timezone.localdate(visited) if visited else None
            owned = vehicles.get(customer_id)
            # Idle since the last visit, or since the newest car was delivered if later.
            reference = max(filter(None, [since, owned[0] if owned else None]), default=None)
            abnormal = []
            if owned and reference:
                idle = (today - reference).days
                if near_churn_days < idle <= LONG_INACTIVE_DAYS:
                    abnormal.append(AbnormalReason.NEAR_CHURN)
                if idle > LONG_INACTIVE_DAYS:
                    abnormal.append(AbnormalReason.LONG_INACTIVE)
            complained = last_complaint.get(customer_id)
            if complained and (visited is None or visited < complained):
                abnormal.append(AbnormalReason.COMPLAINED)
            repaired = last_repair.get(customer_id)
            maintained = last_maintenance.get(customer_id)
            if repaired and repaired >= year_ago and (maintained is None or maintained < year_ago):
                abnormal.append(AbnormalReason.REPAIR_ONLY)
            if owned:
                lifecycle = Lifecycle.OWNER
            elif customer_id in lost:
                lifecycle = Lifecycle.LOST
            else:
                lifecycle = Lifecycle.PROSPECT
            revenue = (service_revenue.get(customer_id) or Decimal("0")) + (
                sales_revenue.get(customer_id) or Decimal("0")
            )
            rows.append(
                CustomerSegment(
                    customer_id=customer_id,
                    lifecycle=lifecycle,
                    revenue_12m=revenue,
                    abnormal=abnormal,
                    vehicle_age=owned[1] if owned else "",
                    last_visit_on=since,
                    computed_on=today,
                )
            )
    return rows


def _mark_key_customers(rows: list[CustomerSegment]) -> None:
    """The top 20% of the branch's customers by 12 months' revenue (of those with any);
    a customer level with the last of them is one too, never left out by a tie."""
    earning = sorted((row for row in rows if row.revenue_12m > 0), key=lambda r: -r.revenue_12m)
    keep = math.ceil(len(earning) * KEY_CUSTOMER_SHARE)
    if not keep:
        return
    least = earning[keep - 1].revenue_12m
    for row in earning:
        row.key_customer = row.revenue_12m >= least


def segments_compute(*, branch: Branch, today: date | None = None) -> int:
    """Recompute the segments of every customer of the branch (nightly, or on demand): a
    rerun replaces each customer's row. Returns the customers computed."""
    today = today or timezone.localdate()
    rows = _segment_rows(branch, today)
    _mark_key_customers(rows)
    fields = [
        "lifecycle", "revenue_12m", "key_customer", "abnormal", "vehicle_age", "last_visit_on",
        "computed_on",
    ]  # fmt: skip
    for start in range(0, len(rows), CHUNK):
        with transaction.atomic():
            CustomerSegment.objects.bulk_create(
                rows[start : start + CHUNK],
                update_conflicts=True,
                unique_fields=["customer"],
                update_fields=fields,
            )
    return len(rows)


# --- Reminders and messages -----------------------------------------------------------------

# How many days before the date it is about a reminder goes out, by kind.
REMINDER_LEAD_DAYS = {
    ReminderKind.MAINTENANCE: 7,
    ReminderKind.INSURANCE: 30,
    ReminderKind.INSPECTION: 30,
    ReminderKind.WARRANTY: 30,
    ReminderKind.BIRTHDAY: 0,
    ReminderKind.HOLIDAY: 1,
}
# Maintenance every 5,000 km or 6 months, whichever comes first (DOMAIN §7).
MAINTENANCE_KM = 5000
MAINTENANCE_MONTHS = 6
# Odometer history needed to project a vehicle's mileage.
MILEAGE_MIN_DAYS = 14
# Reminders of the last days are still made when the job missed them.
REMINDER_CATCH_UP_DAYS = 3
# The greetings sent to every customer who agreed to hear from us: (key, lunar?, month, day).
HOLIDAYS = [
    ("spring_festival", True, 1, 1),
    ("mid_autumn", True, 8, 15),
    ("national_day", False, 10, 1),
]
MESSAGE_TEXTS = {
    ReminderKind.MAINTENANCE: (
        gettext_lazy("Maintenance due"),
        gettext_lazy(
            "Dear %(name)s, your %(vehicle)s is due for maintenance around %(date)s "
            "(every 5,000 km or 6 months). Book a visit: %(branch)s, %(phone)s."
        ),
    ),
    ReminderKind.INSURANCE: (
        gettext_lazy("Insurance renewal"),
        gettext_lazy(
            "Dear %(name)s, the insurance of your %(vehicle)s runs out on %(date)s. "
            "%(branch)s can renew it for you: %(phone)s."
        ),
    ),
    ReminderKind.INSPECTION: (
        gettext_lazy("Annual inspection"),
        gettext_lazy(
            "Dear %(name)s, the annual inspection of your %(vehicle)s is due by %(date)s. "
            "%(branch)s can prepare it: %(phone)s."
        ),
    ),
    ReminderKind.WARRANTY: (
        gettext_lazy("Warranty expiry"),
        gettext_lazy(
            "Dear %(name)s, the warranty of your %(vehicle)s ends on %(date)s. A free check "
            "before then at %(branch)s: %(phone)s."
        ),
    ),
    ReminderKind.BIRTHDAY: (
        gettext_lazy("Happy birthday"),
        gettext_lazy("Dear %(name)s, %(branch)s wishes you a happy birthday!"),
    ),
    ReminderKind.HOLIDAY: (
        gettext_lazy("Season's greetings"),
        gettext_lazy("Dear %(name)s, %(branch)s wishes you and your family a happy holiday!"),
    ),
}


def lunar_to_solar(year: int, month: int, day: int) -> date:
    """The solar date of a lunar month and day in a lunar year; a 30th the month lacks that
    year falls on its 29th."""
    try:
        return LunarDate(year, month, day).to_solar_date()
    except ValueError:
        return LunarDate(year, month, day - 1).to_solar_date()


def birthday_in(customer: Customer, year: int) -> date | None:
    """The day the customer celebrates their birthday of a year: the solar date, or the
    solar date of their lunar birthday (农历生日) of that lunar year when they celebrate that
    one (late in a lunar year, it falls in January or February of the next solar year)."""
    born = customer.birthday
    if born is None:
        return None
    if customer.birthday_is_lunar:
        lunar = LunarDate.from_solar_date(born.year, born.month, born.day)
        return lunar_to_solar(year, lunar.month, lunar.day)
    if (born.month, born.day) == (2, 29):
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 2, 28)
    return born.replace(year=year)


def holidays_in(year: int) -> list[tuple[str, date]]:
    return [
        (key, lunar_to_solar(year, month, day) if lunar else date(year, month, day))
        for key, lunar, month, day in HOLIDAYS
    ]


def maintenance_due(vehicle: Vehicle, last_on: date, last_km: int, readings: list) -> date:
    """When a vehicle needs its next maintenance: 6 months after the last one, or sooner when
    its average daily mileage (from its odometer history) reaches 5,000 km first."""
    by_time = add_months(last_on, MAINTENANCE_MONTHS)
    readings = sorted(readings)  # (read_on, km)
    if len(readings) < 2 or (readings[-1][0] - readings[0][0]).days < MILEAGE_MIN_DAYS:
        return by_time
    (first_on, first_km), (latest_on, latest_km) = readings[0], readings[-1]
    per_day = (latest_km - first_km) / (latest_on - first_on).days
    if per_day <= 0:
        return by_time
    days_left = (last_km + MAINTENANCE_KM - latest_km) / per_day
    return min(by_time, latest_on + timedelta(days=max(0, math.floor(days_left))))


def _reminder(rows: list, customer_id, vehicle_id, kind, about_on, today) -> None:
    due_on = about_on - timedelta(days=REMINDER_LEAD_DAYS[kind])
    if today - timedelta(days=REMINDER_CATCH_UP_DAYS) <= due_on <= today:
        rows.append(
            Reminder(
                customer_id=customer_id, vehicle_id=vehicle_id, kind=kind, due_on=due_on,
                about_on=about_on,
            )
        )  # fmt: skip


def _vehicle_reminders(chunk: list[Vehicle], today: date) -> list[Reminder]:
    ids = [vehicle.pk for vehicle in chunk]
    readings: dict[int, list] = {}
    for vehicle_id, read_on, km in OdometerReading.objects.filter(
        vehicle_id__in=ids, is_replacement=False
    ).values_list("vehicle", "read_on", "km"):
        readings.setdefault(vehicle_id, []).append((read_on, km))
    last_maintenance: dict[int, tuple] = {}
    for vehicle_id, closed_at, km in (
        WorkOrder.objects.filter(
            vehicle_id__in=ids,
            status=WorkOrderStatus.CLOSED,
            service_type=ServiceType.MAINTENANCE,
        )
        .order_by("vehicle", "-closed_at")
        .values_list("vehicle", "closed_at", "mileage_in")
    ):
        last_maintenance.setdefault(vehicle_id, (timezone.localdate(closed_at), km))
    rows: list[Reminder] = []
    for vehicle in chunk:
        owner = vehicle.owner_id
        for kind, about_on in (
            (ReminderKind.INSURANCE, vehicle.insurance_expiry),
            (ReminderKind.INSPECTION, vehicle.inspection_due),
            (ReminderKind.WARRANTY, vehicle.warranty_end_date),
        ):
            if about_on:
                _reminder(rows, owner, vehicle.pk, kind, about_on, today)
        last = last_maintenance.get(vehicle.pk) or (
            (vehicle.delivery_date, 0) if vehicle.delivery_date else None
        )
        if last:
            due = maintenance_due(vehicle, last[0], last[1], readings.get(vehicle.pk, []))
            _reminder(rows, owner, vehicle.pk, ReminderKind.MAINTENANCE, due, today)
    return rows


def reminders_generate(*, today: date | None = None) -> int:
    """Nightly: the reminders whose day has come (or came in the last 3 days): maintenance
    (projected), insurance renewal, annual inspection and warranty expiry of every vehicle,
    customers' birthdays (solar or lunar as they celebrate them) and the holiday greetings.
    Each occasion is reminded once (a unique key); a rerun makes none twice. Returns the
    reminders made."""
    today = today or timezone.localdate()
    made = 0
    vehicles = Vehicle.objects.filter(owner__merged_into__isnull=True).order_by("pk")
    last_id = 0
    while chunk := list(vehicles.filter(pk__gt=last_id)[:CHUNK]):
        last_id = chunk[-1].pk
        made += _bulk(_vehicle_reminders(chunk, today))
    holidays = [
        (about_on, key)
        for year in (today.year, today.year + 1)
        for key, about_on in holidays_in(year)
    ]
    customers = Customer.objects.filter(merged_into__isnull=True).order_by("pk")
    last_id = 0
    while chunk := list(
        customers.filter(pk__gt=last_id).only("pk", "birthday", "birthday_is_lunar")[:CHUNK]
    ):
        last_id = chunk[-1].pk
        rows: list[Reminder] = []
        for customer in chunk:
            # Last year's too: a lunar birthday of the twelfth month falls in this January or
            # February, and a birthday of the last days of December is caught up in January.
            for year in (today.year - 1, today.year, today.year + 1):
                born = birthday_in(customer, year)
                if born:
                    _reminder(rows, customer.pk, None, ReminderKind.BIRTHDAY, born, today)
            for about_on, _key in holidays:
                _reminder(rows, customer.pk, None, ReminderKind.HOLIDAY, about_on, today)
        made += _bulk(rows)
    return made


def _bulk(rows: list[Reminder]) -> int:
    """Insert the reminders not made before; the unique key settles a race. Returns how
    many were new (looked up for this batch's customers only)."""
    if not rows:
        return 0
    made = set(
        Reminder.objects.filter(customer_id__in={row.customer_id for row in rows}).values_list(
            "customer", "vehicle", "kind", "about_on"
        )
    )
    new = [
        row for row in rows if (row.customer_id, row.vehicle_id, row.kind, row.about_on) not in made
    ]
    Reminder.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def _address(customer: Customer) -> tuple[str, str]:
    """The channel and address a customer is reached at: WeChat or SMS on their mobile (an
    organization's: its primary contact's) as they agreed, e-mail where that is all we
    have."""
    mobile = customer.mobile
    if not mobile:
        contact = customer.contacts.exclude(mobile="").order_by("-is_primary", "pk").first()
        mobile = contact.mobile if contact else ""
    if customer.consent_channel == Channel.WECHAT and mobile:
        return Channel.WECHAT, mobile
    if mobile:
        return Channel.SMS, mobile
    if customer.email:
        return Channel.EMAIL, customer.email
    return Channel.SMS, ""


def message_send(
    *, customer: Customer, subject: str, body: str, reminder: Reminder | None = None
) -> Message:
    """Send a message to a customer through their channel and log it: withheld without
    marketing consent or without an address; a channel's refusal is logged as failed."""
    channel, address = _address(customer)
    message = Message(
        customer=customer, reminder=reminder, channel=channel, address=address,
        language=translation.get_language() or settings.LANGUAGE_CODE, subject=subject,
        body=body,
    )  # fmt: skip
    if not customer.marketing_consent:
        message.status = MessageStatus.NO_CONSENT
    elif not address:
        message.status = MessageStatus.NO_ADDRESS
    else:
        try:
            messaging.deliver(channel, address, subject, body)
            message.status = MessageStatus.SENT
        except messaging.ChannelError as error:
            message.status, message.error = MessageStatus.FAILED, str(error)[:300]
    message.save()
    return message


def _text(reminder: Reminder) -> tuple[str, str]:
    customer, vehicle = reminder.customer, reminder.vehicle
    branch = customer.branch
    subject, body = MESSAGE_TEXTS[reminder.kind]
    values = {
        "name": customer.name,
        "vehicle": " ".join(filter(None, [vehicle.plate, vehicle.series])) if vehicle else "",
        "date": reminder.about_on.isoformat(),
        "branch": branch.name,
        "phone": branch.phone,
    }
    return str(subject), str(body) % values


def reminders_send(*, today: date | None = None) -> int:
    """Daily: send every reminder due by today that has no message yet, in the product's
    language; each reminder is sent at most once (its message is unique), so a rerun after a
    crash sends only the rest. Returns the messages logged."""
    today = today or timezone.localdate()
    logged = 0
    waiting = Reminder.objects.filter(due_on__lte=today, message__isnull=True).order_by("pk")
    last_id = 0
    with translation.override(settings.LANGUAGE_CODE):
        while chunk := list(
            waiting.filter(pk__gt=last_id).select_related("customer__branch", "vehicle")[:CHUNK]
        ):
            last_id = chunk[-1].pk
            for reminder in chunk:
                with transaction.atomic():
                    # Locked, so a second run at the same moment waits for this one's message
                    # and finds it, instead of sending the reminder a second time.
                    Reminder.objects.select_for_update().get(pk=reminder.pk)
                    if Message.objects.filter(reminder=reminder).exists():
                        continue
                    subject, body = _text(reminder)
                    message_send(
                        customer=reminder.customer, subject=subject, body=body, reminder=reminder
                    )
                    logged += 1
    return logged


# --- Satisfaction index ---------------------------------------------------------------------

# Saaty's random consistency index RI of a matrix of n rows, n = 1..15 (The Analytic
# Hierarchy Process, 1980): CR = CI / RI.
RANDOM_INDEX = (0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59)
# A matrix whose consistency ratio reaches this is refused: its judgements contradict.
CR_LIMIT = 0.1
MATRIX_MAX = len(RANDOM_INDEX)
# Saaty's scale runs from 1/9 to 9. A typed reciprocal (0.333 for 1/3, 0.143 for 1/7) is
# taken for the exact one within this relative tolerance.
SCALE_LOW, SCALE_HIGH = 1 / 9, 9
TOLERANCE = 0.005
# The power iteration stops when no weight moves by more than this (or after so many steps:
# on a positive matrix it converges geometrically, in a few dozen).
CONVERGED = 1e-12
MAX_ITERATIONS = 1000
SIX_PLACES = Decimal("0.000001")
# A judgement as typed: 3, 0.5 or 1/3 (full-width digits and slash too).
JUDGEMENT = re.compile(r"^(\d+(?:\.\d+)?)(?:/(\d+(?:\.\d+)?))?$")


def saaty_number(text: str) -> float | None:
    """The value of a judgement typed as 3, 0.5 or 1/3; None when it is not one."""
    match = JUDGEMENT.match(re.sub(r"\s", "", unicodedata.normalize("NFKC", text or "")))
    if not match:
        return None
    denominator = float(match[2]) if match[2] else 1.0
    return float(match[1]) / denominator if denominator else None


def saaty_text(value: float) -> str:
    """A judgement as it is written on Saaty's scale: 3, 1/3, or the number (2.5)."""
    if value <= 0:
        return _number(value)
    scaled = value if value >= 1 else 1 / value
    whole = round(scaled)
    if abs(scaled - whole) > TOLERANCE * whole:
        return _number(value)
    return str(whole) if value >= 1 else f"1/{whole}"


def _cell(row: int, column: int, names: list[str] | None) -> str:
    if names:
        return _("%(row)s over %(column)s") % {"row": names[row], "column": names[column]}
    return _("row %(row)s, column %(column)s") % {"row": row + 1, "column": column + 1}


def _cell_error(code: str, message: str, row: int, column: int) -> DomainError:
    return DomainError(code, message, field="values", extra={"row": row + 1, "column": column + 1})


def _number(value) -> str:
    return f"{value:.3g}"


def _principal_eigenvector(matrix: list[list[float]]) -> list[float]:
    """The principal eigenvector of a positive matrix, normalised to sum 1, by power
    iteration: w ← Aw / Σ(Aw) until it stops moving."""
    n = len(matrix)
    weights = [1 / n] * n
    for _step in range(MAX_ITERATIONS):
        product = [sum(a * w for a, w in zip(row, weights, strict=True)) for row in matrix]
        total = sum(product)
        following = [value / total for value in product]
        moved = max(abs(new - old) for new, old in zip(following, weights, strict=True))
        weights = following
        if moved < CONVERGED:
            break
    return weights


def ahp_priorities(
    values: list[list], names: list[str] | None = None
) -> tuple[list[float], float, float, float]:
    """The weights of a pairwise comparison matrix (its principal eigenvector, summing to 1),
    λmax, the consistency index CI = (λmax − n) / (n − 1) and the consistency ratio
    CR = CI / RI with Saaty's random index. The matrix is square (2×2 to 15×15), positive,
    1 on the diagonal, reciprocal (aji = 1 / aij) and on Saaty's scale (1/9 to 9); `names`
    (the criteria in row order) name a refused cell."""
    if (
        not isinstance(values, list | tuple)
        or not 2 <= len(values) <= MATRIX_MAX
        or any(not isinstance(row, list | tuple) or len(row) != len(values) for row in values)
    ):
        raise DomainError(
            "matrix_not_square",
            _("A comparison matrix is square, from 2×2 to 15×15: a row and a column per "
              "criterion compared."),
            field="values",
        )  # fmt: skip
    n = len(values)
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, int | float | Decimal | Fraction):
                raise _cell_error(
                    "matrix_not_number",
                    _("%(cell)s is not a number.") % {"cell": _cell(i, j, names)},
                    i,
                    j,
                )
            if not math.isfinite(value) or value <= 0:
                raise _cell_error(
                    "matrix_not_positive",
                    _("%(cell)s is %(value)s: every comparison is above zero, from 1/9 to 9.")
                    % {"cell": _cell(i, j, names), "value": value},
                    i,
                    j,
                )
    matrix = [[float(value) for value in row] for row in values]
    for i in range(n):
        if abs(matrix[i][i] - 1) > 1e-9:
            raise _cell_error(
                "matrix_diagonal",
                _("%(cell)s compares a criterion with itself: it is 1, not %(value)s.")
                % {"cell": _cell(i, i, names), "value": _number(matrix[i][i])},
                i,
                i,
            )
    for i in range(n):
        for j in range(i + 1, n):
            if abs(matrix[i][j] * matrix[j][i] - 1) > TOLERANCE:
                raise _cell_error(
                    "matrix_not_reciprocal",
                    _("%(cell)s is %(value)s, so %(mirror)s is its reciprocal %(expected)s, "
                      "not %(found)s.")
                    % {"cell": _cell(i, j, names), "value": _number(matrix[i][j]),
                       "mirror": _cell(j, i, names), "expected": _number(1 / matrix[i][j]),
                       "found": _number(matrix[j][i])},
                    j,
                    i,
                )  # fmt: skip
    for i in range(n):
        for j in range(n):
            if not SCALE_LOW * (1 - TOLERANCE) <= matrix[i][j] <= SCALE_HIGH * (1 + TOLERANCE):
                raise _cell_error(
                    "matrix_out_of_scale",
                    _("%(cell)s is %(value)s: comparisons are on Saaty's scale, from 1/9 to 9.")
                    % {"cell": _cell(i, j, names), "value": _number(matrix[i][j])},
                    i,
                    j,
                )
    weights = _principal_eigenvector(matrix)
    lambda_max = (
        sum(
            sum(a * w for a, w in zip(row, weights, strict=True)) / weight
            for row, weight in zip(matrix, weights, strict=True)
        )
        / n
    )
    # A consistent matrix has λmax = n; rounding must not make its CI negative.
    ci = max(0.0, (lambda_max - n) / (n - 1))
    random_index = RANDOM_INDEX[n - 1]
    return weights, lambda_max, ci, ci / random_index if random_index else 0.0


def _model_locked(model: SatisfactionModel) -> SatisfactionModel:
    return SatisfactionModel.objects.select_for_update().get(pk=model.pk)


def _parent_of(model: SatisfactionModel, parent: Criterion | None) -> None:
    if parent is not None and parent.model_id != model.pk:
        raise DomainError(
            "criterion_other_model", _("Choose a criterion of this model."), field="parent"
        )


@transaction.atomic
def satisfaction_model_create(*, branch: Branch, name: str, by: User) -> SatisfactionModel:
    """A new satisfaction model of the branch, without criteria and not active yet."""
    name = (name or "").strip()
    if not name:
        raise DomainError("name_required", _("Name the model."), field="name")
    if SatisfactionModel.objects.filter(branch=branch, name=name).exists():
        raise DomainError(
            "model_name_taken",
            _("%(branch)s already has a model named %(name)s.")
            % {"branch": branch.name, "name": name},
            field="name",
        )
    model = SatisfactionModel(branch=branch, name=name, created_by=by)
    model.full_clean()
    attribute_to(model, by).save()
    return model


@transaction.atomic
def criterion_add(
    *, model: SatisfactionModel, name: str, by: User, parent: Criterion | None = None
) -> Criterion:
    """Add a criterion to the model, or a sub-criterion under one of its criteria (two
    levels), after its siblings. Their comparison matrix no longer covers them all, so it is
    dropped and entered again. Once the model was activated its criteria are fixed."""
    model = _model_locked(model)
    if model.activated_at is not None:
        raise StateConflict(
            "model_in_use",
            _("This model is in use since %(day)s: its criteria are fixed. Create a new model "
              "to change them.")
            % {"day": timezone.localdate(model.activated_at).isoformat()},
        )  # fmt: skip
    _parent_of(model, parent)
    if parent is not None and parent.parent_id is not None:
        raise DomainError(
            "criterion_too_deep", _("Sub-criteria have no sub-criteria of their own."),
            field="parent",
        )  # fmt: skip
    name = (name or "").strip()
    if not name:
        raise DomainError("name_required", _("Name the criterion."), field="name")
    siblings = model.criteria.filter(parent=parent)
    if siblings.filter(name=name).exists():
        raise DomainError(
            "criterion_name_taken",
            _("There is already a criterion named %(name)s here.") % {"name": name},
            field="name",
        )
    if siblings.count() >= MATRIX_MAX:
        raise DomainError(
            "too_many_criteria",
            _("At most %(max)s criteria are compared together.") % {"max": MATRIX_MAX},
            field="name",
        )
    last = siblings.aggregate(last=Max("position"))["last"] or 0
    criterion = Criterion(model=model, parent=parent, name=name, position=last + 1)
    criterion.full_clean()
    attribute_to(criterion, by).save()
    for stale in ComparisonMatrix.objects.filter(model=model, parent=parent):
        attribute_to(stale, by, "a criterion was added: compared again").delete()
    return criterion


@transaction.atomic
def comparison_matrix_set(
    *, model: SatisfactionModel, parent: Criterion | None, values: list[list], by: User
) -> ComparisonMatrix:
    """Enter the pairwise comparisons of the criteria under `parent` (the top-level criteria
    when empty): rows and columns in the siblings' order. Their weights are the principal
    eigenvector; a matrix with CR ≥ 0.1 is refused with its CR and nothing changes."""
    model = _model_locked(model)
    _parent_of(model, parent)
    siblings = list(model.criteria.filter(parent=parent))
    names = [criterion.name for criterion in siblings]
    if len(siblings) < 2:
        raise DomainError(
            "too_few_criteria", _("Add at least two criteria here before comparing them."),
            field="values",
        )  # fmt: skip
    if (
        not isinstance(values, list | tuple)
        or len(values) != len(siblings)
        or any(not isinstance(row, list | tuple) or len(row) != len(siblings) for row in values)
    ):
        raise DomainError(
            "matrix_not_square",
            _("Enter a %(n)s×%(n)s matrix: a row and a column for each of %(names)s.")
            % {"n": len(siblings), "names": ", ".join(names)},
            field="values",
        )
    weights, lambda_max, ci, cr = ahp_priorities(values, names)
    if cr >= CR_LIMIT:
        raise DomainError(
            "matrix_inconsistent",
            _("These comparisons contradict each other too much: CR = %(cr)s, and it must be "
              "under 0.10. Review the judgements (if A is above B and B above C, A is above "
              "C) and enter them again.") % {"cr": f"{cr:.3f}"},
            field="values",
            extra={"cr": round(cr, 4), "ci": round(ci, 4), "lambda_max": round(lambda_max, 4)},
        )  # fmt: skip
    matrix = ComparisonMatrix.objects.filter(model=model, parent=parent).first()
    matrix = matrix or ComparisonMatrix(model=model, parent=parent)
    matrix.values = [[float(value) for value in row] for row in values]
    matrix.weights = [round(weight, 6) for weight in weights]
    # Truncated, so a CR just under the limit stays under it.
    matrix.lambda_max, matrix.ci, matrix.cr = (
        Decimal(figure).quantize(SIX_PLACES, rounding=ROUND_DOWN) for figure in (lambda_max, ci, cr)
    )
    matrix.entered_by, matrix.entered_at = by, timezone.now()
    attribute_to(matrix, by).save()
    return matrix


@transaction.atomic
def model_activate(*, model: SatisfactionModel, by: User) -> SatisfactionModel:
    """Make the model the one the branch's surveys answer, in place of the active one. Every
    set of two or more siblings must have its comparison matrix."""
    model = _model_locked(model)
    if model.active:
        raise StateConflict("model_already_active", _("This model is already the active one."))
    criteria = list(model.criteria.all())
    if not criteria:
        raise DomainError("model_empty", _("Add the criteria first."))
    compared = set(model.matrices.values_list("parent_id", flat=True))
    sizes: dict[int | None, int] = {}
    for criterion in criteria:
        sizes[criterion.parent_id] = sizes.get(criterion.parent_id, 0) + 1
    names = {criterion.pk: criterion.name for criterion in criteria}
    missing = [
        names[parent] if parent else _("the top-level criteria")
        for parent, size in sizes.items()
        if size >= 2 and parent not in compared
    ]
    if missing:
        raise DomainError(
            "matrices_missing",
            _("Compare these criteria first: %(sets)s.") % {"sets": ", ".join(missing)},
        )
    for current in SatisfactionModel.objects.select_for_update().filter(
        branch_id=model.branch_id, active=True
    ):
        current.active = False
        attribute_to(current, by, f"replaced by {model.name}").save()
    model.active = True
    model.activated_at = model.activated_at or timezone.now()
    attribute_to(model, by, "activated").save()
    return model


def criterion_weights(
    criteria: list[Criterion], matrices: list[ComparisonMatrix]
) -> dict[int, tuple[float | None, float | None]]:
    """{criterion id: (local weight, global weight)}: the local weight is its share among its
    siblings (1 when alone; unknown until they are compared), the global one the product of
    the local weights down the tree from the top."""
    siblings: dict[tuple[int, int | None], list[Criterion]] = {}
    for criterion in sorted(criteria, key=lambda c: (c.position, c.pk)):
        siblings.setdefault((criterion.model_id, criterion.parent_id), []).append(criterion)
    compared = {(matrix.model_id, matrix.parent_id): matrix.weights for matrix in matrices}
    local: dict[int, float | None] = {}
    for key, members in siblings.items():
        weights = compared.get(key)
        for index, criterion in enumerate(members):
            if len(members) == 1:
                local[criterion.pk] = 1.0
            elif weights and len(weights) == len(members):
                local[criterion.pk] = weights[index]
            else:
                local[criterion.pk] = None
    by_id = {criterion.pk: criterion for criterion in criteria}
    result = {}
    for criterion in criteria:
        weight, node = local[criterion.pk], criterion
        while weight is not None and node.parent_id is not None:
            node = by_id[node.parent_id]
            weight = None if local[node.pk] is None else weight * local[node.pk]
        result[criterion.pk] = (local[criterion.pk], weight)
    return result


def _served_by(call: FollowUpCall) -> int | None:
    """Who the customer's experience was with: the advisor of the work order (or of the one
    complained of), the consultant of a delivery."""
    if call.work_order_id:
        return call.work_order.advisor_id
    if call.delivery_id:
        return call.delivery.order.consultant_id
    if call.complaint_id and call.complaint.work_order_id:
        return call.complaint.work_order.advisor_id
    return None


@transaction.atomic
def survey_answers_record(*, call: FollowUpCall, answers: dict, by: User) -> list[SurveyAnswer]:
    """The customer's scores (1–5) of the leaf criteria of the branch's active satisfaction
    model, asked on a call made: {criterion id: score}. A criterion is answered once per
    call; the answers count on the day of the call, for the advisor who served the
    customer."""
    call = (
        FollowUpCall.objects.select_for_update(of=("self",))
        .select_related("work_order", "delivery__order", "complaint__work_order")
        .get(pk=call.pk)
    )
    if call.status != CallStatus.DONE:
        raise StateConflict(
            "call_not_done", _("The survey is asked once the customer was reached on the call.")
        )
    model = SatisfactionModel.objects.filter(branch_id=call.branch_id, active=True).first()
    if model is None:
        raise DomainError(
            "no_active_model",
            _("The branch has no active satisfaction model: a manager defines one first."),
        )
    if not answers:
        raise DomainError("answers_required", _("Give at least one score."), field="answers")
    leaves = {criterion.pk: criterion for criterion in model.criteria.filter(children=None)}
    work_order_id = call.work_order_id or (call.complaint.work_order_id if call.complaint else None)
    rows = []
    for key, score in answers.items():
        try:
            criterion = leaves.get(int(key))
        except (TypeError, ValueError):
            criterion = None
        if criterion is None:
            raise DomainError(
                "criterion_not_leaf",
                _("Scores are given to the criteria of the branch's active model that have no "
                  "sub-criteria."),
                field="answers",
            )  # fmt: skip
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise DomainError("score_invalid", _("A score is from 1 to 5."), field="answers")
        rows.append(
            SurveyAnswer(
                branch_id=call.branch_id, customer_id=call.customer_id, call=call,
                work_order_id=work_order_id, advisor_id=_served_by(call), criterion=criterion,
                score=score, answered_on=timezone.localdate(call.completed_at), recorded_by=by,
            )
        )  # fmt: skip
    answered = SurveyAnswer.objects.filter(call=call, criterion__in=[r.criterion for r in rows])
    if answered.exists():
        raise StateConflict("survey_answered", _("This call's survey was already recorded."))
    return SurveyAnswer.objects.bulk_create(rows)


def _score(average: float) -> float:
    """A 1–5 average on the 0–100 scale of the index."""
    return (average - 1) / 4 * 100


def _answers(branch_ids: list[int], start: date, end: date, advisor: User | None):
    answers = SurveyAnswer.objects.filter(
        branch_id__in=branch_ids, answered_on__gte=start, answered_on__lte=end
    )
    return answers if advisor is None else answers.filter(advisor=advisor)


def _leaves_of(criterion_ids) -> tuple[list[Criterion], dict]:
    """The leaf criteria of the models these criteria belong to, in tree order, with every
    criterion's weights."""
    models = Criterion.objects.filter(pk__in=criterion_ids).values("model")
    criteria = list(Criterion.objects.filter(model__in=models).select_related("parent"))
    weights = criterion_weights(criteria, list(ComparisonMatrix.objects.filter(model__in=models)))
    parents = {criterion.parent_id for criterion in criteria}
    leaves = sorted(
        (criterion for criterion in criteria if criterion.pk not in parents),
        key=lambda c: (
            c.model_id,
            c.parent.position if c.parent else c.position,
            c.parent_id is not None,
            c.position,
        ),
    )
    return leaves, weights


def _index(scores: dict[int, tuple[int, float]], weights: dict) -> tuple[float | None, int]:
    """The weighted 0–100 index of the leaves answered ({id: (answers, average)}), their
    global weights renormalised over them, and the answers counted."""
    weighted = total = 0.0
    for criterion_id, (_count, average) in scores.items():
        weight = weights.get(criterion_id, (None, None))[1]
        if weight:
            weighted += weight * _score(average)
            total += weight
    answers = sum(count for count, _average in scores.values())
    return (round(weighted / total, 1) if total else None), answers


def satisfaction_index(
    *, branch_ids: list[int], start: date, end: date, advisor: User | None = None
) -> dict:
    """The satisfaction index (0–100) of the branches' survey answers of a period (of one
    advisor's customers when given): each leaf criterion's average score mapped to 0–100
    ((s − 1) / 4 × 100) and weighted by its global weight; leaves nobody answered are left
    out and the others' weights renormalised. None without answers."""
    scores = {
        row["criterion"]: (row["n"], float(row["average"]))
        for row in _answers(branch_ids, start, end, advisor)
        .values("criterion")
        .annotate(n=Count("pk"), average=Avg("score"))
        .order_by()
    }
    leaves, weights = _leaves_of(list(scores))
    index, answers = _index(scores, weights)
    per_criterion = []
    for leaf in leaves:
        count, average = scores.get(leaf.pk, (0, None))
        per_criterion.append(
            {
                "criterion": leaf.pk,
                "name": leaf.name,
                "parent_name": leaf.parent.name if leaf.parent else None,
                "weight": None if weights[leaf.pk][1] is None else round(weights[leaf.pk][1], 4),
                "answers": count,
                "average": None if average is None else round(average, 2),
                "score": None if average is None else round(_score(average), 1),
            }
        )
    return {"index": index, "answers": answers, "per_criterion": per_criterion}


# The ways the index is broken down: by branch, by the advisor who served, by month.
INDEX_GROUPS = {"branch": F("branch"), "advisor": F("advisor"), "month": TruncMonth("answered_on")}


def satisfaction_indexes(
    *, branch_ids: list[int], start: date, end: date, by: str, advisor: User | None = None
) -> list[dict]:
    """The satisfaction index of each branch, advisor (None: not attributed) or month of the
    period: [{key, index, answers}] in the order of the keys, the same queries for any
    number of them."""
    scores: dict = {}
    for row in (
        _answers(branch_ids, start, end, advisor)
        .values("criterion", key=INDEX_GROUPS[by])
        .annotate(n=Count("pk"), average=Avg("score"))
        .order_by()
    ):
        scores.setdefault(row["key"], {})[row["criterion"]] = (row["n"], float(row["average"]))
    _leaves, weights = _leaves_of([pk for group in scores.values() for pk in group])
    indexes = []
    for key in sorted(scores, key=lambda key: (key is None, key)):
        index, answers = _index(scores[key], weights)
        indexes.append({"key": key, "index": index, "answers": answers})
    return indexes


def satisfaction_report(
    *, branch_ids: list[int], start: date, end: date, advisor: User | None = None
) -> dict:
    """The satisfaction index of a period with each leaf criterion's score, broken down by
    branch, by the advisor who served (None: not attributed) and by month, each named."""
    period = {"branch_ids": branch_ids, "start": start, "end": end, "advisor": advisor}
    report = satisfaction_index(**period)
    branches = satisfaction_indexes(by="branch", **period)
    advisors = satisfaction_indexes(by="advisor", **period)
    branch_names = dict(
        Branch.objects.filter(pk__in=[row["key"] for row in branches]).values_list("pk", "name")
    )
    people = {
        user.pk: display_name(user)
        for user in User.objects.filter(pk__in=[row["key"] for row in advisors if row["key"]])
    }
    return {
        **report,
        "branches": [
            {"branch": row["key"], "name": branch_names[row["key"]], **_figures(row)}
            for row in branches
        ],
        "advisors": [
            {"advisor": row["key"], "name": people.get(row["key"], ""), **_figures(row)}
            for row in advisors
        ],
        "months": [
            {"month": row["key"], **_figures(row)}
            for row in satisfaction_indexes(by="month", **period)
        ],
    }


def _figures(row: dict) -> dict:
    return {"index": row["index"], "answers": row["answers"]}


# --- Campaigns (关怀活动) ----------------------------------------------------------------------

# An offer's code: no 0/O or 1/I to misread over the phone.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
OFFER_TEXT = gettext_lazy(
    "%(message)s Your offer: %(offer)s, code %(code)s, valid until %(until)s. %(branch)s %(phone)s"
)
CAMPAIGN_FIELDS = ["name", "segment", "offer", "message", "starts_on", "ends_on", "target_rate"]


def _campaign_check(campaign: Campaign) -> None:
    if campaign.ends_on < campaign.starts_on:
        raise DomainError(
            "campaign_dates", _("The offers' last day is on or after the first."), field="ends_on"
        )
    if campaign.ends_on < timezone.localdate():
        raise DomainError("campaign_over", _("The offers' last day has passed."), field="ends_on")
    campaign.full_clean(exclude=["branch", "created_by"])


@transaction.atomic
def campaign_create(*, branch: Branch, by: User, data: dict) -> Campaign:
    """A draft campaign of the branch: a segment, an offer package, its dates and target."""
    campaign = Campaign(branch=branch, created_by=by, **{f: data[f] for f in CAMPAIGN_FIELDS})
    _campaign_check(campaign)
    attribute_to(campaign, by).save()
    return campaign


def _campaign_locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


@transaction.atomic
def campaign_update(*, campaign: Campaign, by: User, data: dict) -> Campaign:
    """Change a draft; a launched campaign's offers are out, so it is no longer changed."""
    campaign = _campaign_locked(campaign)
    if campaign.status != CampaignStatus.DRAFT:
        raise StateConflict("campaign_not_draft", _("Only a draft campaign can be changed."))
    for field in CAMPAIGN_FIELDS:
        if field in data:
            setattr(campaign, field, data[field])
    _campaign_check(campaign)
    attribute_to(campaign, by).save()
    return campaign


def _offer_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _codes_unique(offers: list[Offer]) -> None:
    """Draw again the code of a new offer that another offer (or one of these) already has: a
    clash is rare, but must neither fail the launch nor leave a customer without an offer.
    One query a round; a second round is next to never needed."""
    chosen: set[str] = set()
    pending = offers
    while pending:
        taken = set(
            Offer.objects.filter(code__in=[offer.code for offer in pending]).values_list(
                "code", flat=True
            )
        )
        clashing = []
        for offer in pending:
            if offer.code in taken or offer.code in chosen:
                offer.code = _offer_code()
                clashing.append(offer)
            else:
                chosen.add(offer.code)
        pending = clashing


def _offers_create(campaign: Campaign, customer_ids: list[int], by: User) -> int:
    """Offers for those customers who have none of this campaign yet, with their history (who
    launched it). The launch holds the campaign's lock, so nobody else adds offers to it
    meanwhile. Returns how many were made."""
    from simple_history.utils import bulk_create_with_history

    have = set(
        Offer.objects.filter(campaign=campaign, customer_id__in=customer_ids).values_list(
            "customer_id", flat=True
        )
    )
    new = [
        Offer(campaign=campaign, customer_id=pk, code=_offer_code())
        for pk in customer_ids
        if pk not in have
    ]
    _codes_unique(new)
    bulk_create_with_history(new, Offer, default_user=by)
    return len(new)


def campaign_launch(*, campaign: Campaign, by: User) -> int:
    """Launch a draft: an offer for every customer of the segment who agreed to marketing
    (walked in id chunks; customers without consent are never given one), then each is
    contacted by the contact job. Returns the offers made."""
    with transaction.atomic():
        campaign = _campaign_locked(campaign)
        if campaign.status != CampaignStatus.DRAFT:
            raise StateConflict("campaign_not_draft", _("This campaign is already launched."))
        _campaign_check(campaign)
        audience = campaign_audience(branch_id=campaign.branch_id, segment=campaign.segment)
        if not audience.exists():
            raise StateConflict(
                "campaign_no_audience",
                _("No customer of this segment agreed to marketing: there is nobody to reach."),
            )
        made, last_id = 0, 0
        while ids := list(
            audience.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:CHUNK]
        ):
            last_id = ids[-1]
            made += _offers_create(campaign, ids, by)
        campaign.status, campaign.launched_at = CampaignStatus.LAUNCHED, timezone.now()
        attribute_to(campaign, by).save()
    from .tasks import campaign_contact_task

    transaction.on_commit(lambda: campaign_contact_task.delay(campaign.pk))
    return made


@transaction.atomic
def offer_assign(*, campaign: Campaign, customer: Customer, by: User) -> Offer:
    """Give one more customer of the branch the offer of a launched campaign and contact
    them: only a customer who agreed to marketing, once per campaign."""
    campaign = _campaign_locked(campaign)
    if campaign.status != CampaignStatus.LAUNCHED:
        raise StateConflict(
            "campaign_not_launched", _("Offers are given from a launched campaign.")
        )
    if campaign.ends_on < timezone.localdate():
        raise StateConflict("campaign_over", _("The offers' last day has passed."))
    if customer.branch_id != campaign.branch_id:
        raise DomainError(
            "customer_other_branch", _("The customer belongs to another branch."), field="customer"
        )
    if not customer.marketing_consent:
        raise DomainError(
            "no_marketing_consent",
            _("%(customer)s has not agreed to marketing: campaigns never reach them.")
            % {"customer": customer.name},
            field="customer",
        )
    if Offer.objects.filter(campaign=campaign, customer=customer).exists():
        raise StateConflict(
            "offer_exists", _("%(customer)s already has this campaign's offer.")
            % {"customer": customer.name},
        )  # fmt: skip
    offer = Offer(campaign=campaign, customer=customer, code=_offer_code())
    _codes_unique([offer])
    attribute_to(offer, by).save()
    _offer_contact(offer)
    return offer


def _offer_contact(offer: Offer) -> None:
    """Send the offer in the product's language (not that of whoever gave it, in the page)
    and log it; only an offer that went out joins the customer's timeline."""
    campaign, customer = offer.campaign, offer.customer
    with translation.override(settings.LANGUAGE_CODE):
        body = OFFER_TEXT % {
            "message": campaign.message,
            "offer": OfferKind(campaign.offer).label,
            "code": offer.code,
            "until": campaign.ends_on.isoformat(),
            "branch": campaign.branch.name,
            "phone": campaign.branch.phone,
        }
        offer.message = message_send(customer=customer, subject=campaign.name, body=str(body))
    offer.save(update_fields=["message"])
    if offer.message.status == MessageStatus.SENT:
        timeline_add(
            customer=customer, kind=timeline.OFFER_SENT, subject=campaign,
            detail=f"{campaign.name} · {offer.code}",
        )  # fmt: skip


def campaign_contact(*, campaign: Campaign) -> int:
    """Send each offer of the campaign that has no message yet, in the product's language;
    each offer is sent at most once (locked and checked), so a rerun after a crash sends
    only the rest. A customer who withdrew consent meanwhile is logged, not messaged.
    Returns the messages logged."""
    logged, last_id = 0, 0
    waiting = Offer.objects.filter(campaign=campaign, message__isnull=True).order_by("pk")
    with translation.override(settings.LANGUAGE_CODE):
        while ids := list(waiting.filter(pk__gt=last_id).values_list("pk", flat=True)[:CHUNK]):
            last_id = ids[-1]
            for pk in ids:
                with transaction.atomic():
                    offer = (
                        Offer.objects.select_for_update(of=("self",))
                        .select_related("campaign__branch", "customer")
                        .get(pk=pk)
                    )
                    if offer.message_id is None:
                        _offer_contact(offer)
                        logged += 1
    return logged


@transaction.atomic
def campaign_close(*, campaign: Campaign, by: User) -> Campaign:
    """No more offers are given; those out stay redeemable until their last day."""
    campaign = _campaign_locked(campaign)
    if campaign.status != CampaignStatus.LAUNCHED:
        raise StateConflict("campaign_not_launched", _("Only a launched campaign is closed."))
    campaign.status = CampaignStatus.CLOSED
    attribute_to(campaign, by).save()
    return campaign


def _offer_locked(offer: Offer) -> Offer:
    return (
        Offer.objects.select_for_update(of=("self",))
        .select_related("campaign", "customer")
        .get(pk=offer.pk)
    )


def _offer_valid(offer: Offer) -> None:
    today = timezone.localdate()
    if offer.status == OfferStatus.REDEEMED:
        raise StateConflict(
            "offer_already_redeemed",
            _("Offer %(code)s was already redeemed at settlement %(settlement)s.")
            % {"code": offer.code, "settlement": offer.settlement},
        )
    if offer.campaign.ends_on < today:
        raise StateConflict(
            "offer_expired",
            _("Offer %(code)s expired on %(date)s.")
            % {"code": offer.code, "date": offer.campaign.ends_on.isoformat()},
        )
    if offer.campaign.starts_on > today:
        raise StateConflict(
            "offer_not_started",
            _("Offer %(code)s is valid from %(date)s.")
            % {"code": offer.code, "date": offer.campaign.starts_on.isoformat()},
        )


def offer_find(*, branch_ids: list[int], code: str) -> Offer:
    """The offer a customer shows (its code, any case, spaces ignored) among the branches'."""
    code = re.sub(r"\s", "", code).upper()
    offer = (
        Offer.objects.filter(campaign__branch_id__in=branch_ids, code=code)
        .select_related("campaign", "customer")
        .first()
    )
    if offer is None:
        raise DomainError(
            "offer_unknown", _("No offer has the code %(code)s.") % {"code": code}, field="code"
        )
    return offer


@transaction.atomic
def offer_redemption_request(*, offer: Offer, work_order: WorkOrder, by: User) -> Offer:
    """The advisor asks to redeem the customer's offer on their open work order: the offer
    valid today, the work order the offer customer's, at the campaign's branch, not settled
    and without another offer; free maintenance labour on a maintenance visit, the
    appointment gift on a visit booked ahead. The branch's managers are asked to sign off."""
    offer = _offer_locked(offer)
    _offer_valid(offer)
    if offer.status != OfferStatus.ASSIGNED:
        raise StateConflict(
            "offer_redemption_pending",
            _("Offer %(code)s is already asked for on work order %(work_order)s.")
            % {"code": offer.code, "work_order": offer.work_order},
        )
    work_order = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
    if work_order.customer_id != offer.customer_id:
        raise DomainError(
            "offer_other_customer",
            _("Offer %(code)s belongs to %(customer)s, not to this work order's customer.")
            % {"code": offer.code, "customer": offer.customer.name},
        )
    if work_order.branch_id != offer.campaign.branch_id:
        raise DomainError("offer_other_branch", _("The offer is redeemed at its own branch."))
    if work_order.status in (WorkOrderStatus.SETTLED, WorkOrderStatus.CLOSED):
        raise StateConflict(
            "work_order_settled", _("An offer is redeemed before the work order is settled.")
        )
    if Offer.objects.filter(work_order=work_order).exclude(status=OfferStatus.ASSIGNED).exists():
        raise StateConflict("work_order_has_offer", _("This work order already redeems an offer."))
    kind = offer.campaign.offer
    if kind == OfferKind.FREE_MAINTENANCE_LABOUR and work_order.service_type != (
        ServiceType.MAINTENANCE
    ):
        raise DomainError("offer_not_applicable", _("Free labour is for a maintenance visit."))
    if kind == OfferKind.APPOINTMENT_GIFT and work_order.appointment_id is None:
        raise DomainError(
            "offer_not_applicable", _("The appointment gift is for a visit booked ahead.")
        )
    offer.status, offer.work_order = OfferStatus.REQUESTED, work_order
    offer.requested_by, offer.requested_at = by, timezone.now()
    attribute_to(offer, by).save()
    notify(
        recipients=branch_managers(work_order.branch).exclude(pk=by.pk),
        # Each request anew (to the microsecond): one asked again after a turn-down is told.
        key=f"offer-sign-off-{offer.pk}-{offer.requested_at:%Y%m%d%H%M%S%f}",
        title=_("Sign off offer %(code)s on work order %(work_order)s")
        % {"code": offer.code, "work_order": work_order},
        body=f"{offer.customer.name} · {OfferKind(kind).label}",
        url=offer.campaign.get_absolute_url() + "?status=requested",
        branch=work_order.branch,
    )
    return offer


@transaction.atomic
def offer_sign_off(*, offer: Offer, by: User, approve: bool = True) -> Offer:
    """A manager other than the one who asked signs off the redemption (or turns it down,
    which gives the customer their offer back)."""
    offer = _offer_locked(offer)
    if offer.status != OfferStatus.REQUESTED:
        raise StateConflict(
            "offer_not_requested", _("Only an offer asked for at a work order is signed off.")
        )
    if offer.requested_by_id == by.pk:
        raise StateConflict(
            "sign_off_own_request", _("Another manager signs off a redemption you asked for.")
        )
    if approve:
        _offer_valid(offer)
        offer.status, offer.signed_off_by, offer.signed_off_at = (
            OfferStatus.APPROVED, by, timezone.now()
        )  # fmt: skip
    else:
        _offer_release(offer)
    attribute_to(offer, by).save()
    return offer


def _offer_release(offer: Offer) -> None:
    offer.status, offer.work_order = OfferStatus.ASSIGNED, None
    offer.requested_by = offer.requested_at = offer.signed_off_by = offer.signed_off_at = None


@transaction.atomic
def offer_withdraw(*, offer: Offer, by: User) -> Offer:
    """Take an offer off its work order before settlement: the customer keeps it."""
    offer = _offer_locked(offer)
    if offer.status not in (OfferStatus.REQUESTED, OfferStatus.APPROVED):
        raise StateConflict(
            "offer_not_requested", _("Only an offer asked for at a work order is withdrawn.")
        )
    _offer_release(offer)
    attribute_to(offer, by).save()
    return offer


def offer_value(offer: Offer, work_order: WorkOrder, labour: Decimal) -> Decimal:
    """What the offer takes off the bill: half the labour, or all of it on a maintenance
    visit; the gift packages are handed over and take nothing off."""
    kind = offer.campaign.offer
    if kind == OfferKind.HALF_LABOUR:
        return (labour / 2).quantize(Decimal("0.01"))
    if kind == OfferKind.FREE_MAINTENANCE_LABOUR:
        return labour
    return Decimal(0)


def offer_for_settlement(work_order: WorkOrder) -> Offer | None:
    """The signed-off offer a settlement of the work order redeems, locked and still valid,
    or None; an offer still waiting for its sign-off holds the settlement back."""
    offer = (
        Offer.objects.select_for_update(of=("self",))
        .select_related("campaign", "customer")
        .filter(work_order=work_order, status__in=[OfferStatus.REQUESTED, OfferStatus.APPROVED])
        .first()
    )
    if offer is None:
        return None
    if offer.status == OfferStatus.REQUESTED:
        raise StateConflict(
            "offer_awaiting_sign_off",
            _("Offer %(code)s waits for a manager's sign-off: sign it off or withdraw it first.")
            % {"code": offer.code},
        )
    _offer_valid(offer)
    return offer


def offer_redeem(*, offer: Offer, settlement: Settlement, value: Decimal, by: User) -> None:
    """Called by the settlement that redeems the offer, inside its transaction."""
    offer.status, offer.settlement, offer.value = OfferStatus.REDEEMED, settlement, value
    offer.redeemed_at = timezone.now()
    attribute_to(offer, by).save()
    timeline_add(
        customer=offer.customer, kind=timeline.OFFER_REDEEMED, subject=settlement, actor=by,
        detail=f"{offer.campaign.name} · {offer.code} · {OfferKind(offer.campaign.offer).label}",
    )  # fmt: skip


# --- Loyalty points ---------------------------------------------------------------------------

# A delivery or settlement the event's task missed is still credited by the nightly job for
# so many days.
POINTS_CATCH_UP_DAYS = 7


def loyalty_rule_for(branch: Branch) -> LoyaltyRule:
    """The branch's rules; the defaults until a manager sets them."""
    return LoyaltyRule.objects.filter(branch=branch).first() or LoyaltyRule(branch=branch)


@transaction.atomic
def loyalty_rule_set(*, branch: Branch, by: User, data: dict) -> LoyaltyRule:
    rule = LoyaltyRule.objects.select_for_update().filter(branch=branch).first() or LoyaltyRule(
        branch=branch
    )
    for field in ("purchase_points", "service_points", "referral_points"):
        setattr(rule, field, data[field])
    rule.updated_by = by
    rule.full_clean(exclude=["branch"])
    attribute_to(rule, by).save()
    return rule


def _account_locked(customer: Customer) -> LoyaltyAccount:
    LoyaltyAccount.objects.get_or_create(customer=customer)
    return LoyaltyAccount.objects.select_for_update().get(customer=customer)


def _points_add(*, customer: Customer, kind: str, points: int, by: User | None = None,
                note: str = "", **source) -> PointsEntry | None:  # fmt: skip
    """Post points to the customer's statement under their account's lock: an earning whose
    source (order, settlement) already earned is skipped, so every caller may rerun."""
    if points == 0:
        return None
    account = _account_locked(customer)
    if kind != PointsKind.REDEMPTION and PointsEntry.objects.filter(kind=kind, **source).exists():
        return None
    account.balance += points
    account.save(update_fields=["balance", "updated_at"])
    return PointsEntry.objects.create(
        account=account, kind=kind, points=points, balance=account.balance, created_by=by,
        note=note, **source,
    )  # fmt: skip


def _per_hundred(amount: Decimal, points: int) -> int:
    return int(amount // 100) * points


@transaction.atomic
def points_for_delivery(*, delivery: Delivery) -> int:
    """A delivered vehicle earns its buyer points per 100 CNY of the price, and the owner who
    referred the buyer the referral points. Returns the entries posted."""
    order = delivery.order
    rule = loyalty_rule_for(order.branch)
    posted = _points_add(
        customer=order.customer, kind=PointsKind.PURCHASE, order=order,
        points=_per_hundred(order.total_price, rule.purchase_points),
    )  # fmt: skip
    lead = order.lead
    referred = None
    if lead is not None and lead.referrer_id is not None:
        referred = _points_add(
            customer=lead.referrer, kind=PointsKind.REFERRAL, order=order,
            points=rule.referral_points, note=order.customer.name,
        )  # fmt: skip
    return (posted is not None) + (referred is not None)


@transaction.atomic
def points_for_settlement(*, settlement: Settlement) -> int:
    """A service visit earns the customer points per 100 CNY they paid (the insurer's share
    and a free visit earn nothing). Returns the entries posted."""
    work_order = settlement.work_order
    rule = loyalty_rule_for(work_order.branch)
    posted = _points_add(
        customer=work_order.customer, kind=PointsKind.SERVICE, settlement=settlement,
        points=_per_hundred(settlement.customer_amount, rule.service_points),
    )  # fmt: skip
    return int(posted is not None)


def points_catch_up(*, today: date | None = None) -> int:
    """Nightly: every delivery and settlement of the last days that has not earned its points
    yet does now (one transaction each, so a crash loses nothing done). Returns the entries
    posted."""
    since = (today or timezone.localdate()) - timedelta(days=POINTS_CATCH_UP_DAYS)
    deliveries = (
        Delivery.objects.filter(delivered_on__gte=since)
        .exclude(order__points_entries__kind=PointsKind.PURCHASE)
        .select_related("order__branch", "order__customer", "order__lead__referrer")
    )
    settlements = (
        Settlement.objects.filter(settled_at__gte=local_day_start(since), customer_amount__gte=100)
        .filter(points_entries__isnull=True)
        .select_related("work_order__branch", "work_order__customer")
    )
    return sum(
        points_for_delivery(delivery=delivery) for delivery in deliveries.order_by("pk")
    ) + sum(
        points_for_settlement(settlement=settlement) for settlement in settlements.order_by("pk")
    )


@transaction.atomic
def points_redeem(*, customer: Customer, points: int, note: str, by: User) -> PointsEntry:
    """Redeem points for what the customer chose (the note says what they were given): a
    positive number no larger than the balance."""
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise DomainError(
            "points_not_positive", _("Redeem a whole number of points above 0."), field="points"
        )
    if not note.strip():
        raise DomainError(
            "note_required", _("Say what the customer was given for the points."), field="note"
        )
    account = _account_locked(customer)
    if points > account.balance:
        raise DomainError(
            "points_insufficient",
            _("%(customer)s has %(balance)s points, fewer than %(points)s.")
            % {"customer": customer.name, "balance": account.balance, "points": points},
            field="points",
        )
    entry = _points_add(
        customer=customer, kind=PointsKind.REDEMPTION, points=-points, by=by, note=note.strip()
    )
    timeline_add(
        customer=customer, kind=timeline.POINTS_REDEEMED, actor=by, detail=f"{points} · {note}"
    )
    return entry


# --- A customer merged ------------------------------------------------------------------------


def customer_care_fold(*, keep: Customer, duplicate: Customer, by: User) -> None:
    """Before a duplicate customer's rows move to the kept record (inside the merge's
    transaction): their points and statement join the kept customer's account; of two offers
    of one campaign the one in use stays (an unused one is dropped, two in use refuse the
    merge); the duplicate's segments go, recomputed for the kept customer tonight."""
    CustomerSegment.objects.filter(customer=duplicate).delete()
    mine = {offer.campaign_id: offer for offer in Offer.objects.filter(customer=keep)}
    for offer in Offer.objects.filter(customer=duplicate, campaign_id__in=mine):
        unused = [o for o in (offer, mine[offer.campaign_id]) if o.status == OfferStatus.ASSIGNED]
        if not unused:
            raise StateConflict(
                "merge_offer_conflict",
                _("Both customers are redeeming offers of campaign %(campaign)s: finish or "
                  "withdraw one redemption first.") % {"campaign": offer.campaign},
            )  # fmt: skip
        attribute_to(unused[0], by, f"merge of #{duplicate.pk} into #{keep.pk}").delete()
    account = LoyaltyAccount.objects.select_for_update().filter(customer=duplicate).first()
    if account is None:
        return
    kept = _account_locked(keep)
    account.entries.update(account=kept)
    kept.balance += account.balance
    kept.save(update_fields=["balance", "updated_at"])
    account.delete()
