"""Reads of customer care: the call queue, the completion rate of follow-up calls, the
counts per segment, the after-sales report of a period, a campaign's audience and the
campaigns' success per segment."""

from datetime import date
from decimal import Decimal

from django.db.models import Avg, Count, F, Q
from django.utils import timezone

from customers.models import Customer
from dealer_crm.figures import ratio
from dealer_crm.kpis import Measure, Scope, kpi_get
from dealer_crm.periods import local_day_end, local_day_start
from service.choices import AppointmentStatus
from service.models import Appointment, InsuranceClaim, Rescue

from .choices import (
    AbnormalReason,
    CallStatus,
    ComplaintStatus,
    InquiryKind,
    Lifecycle,
    MessageStatus,
    OfferStatus,
    TargetSegment,
)
from .models import Complaint, CustomerSegment, FollowUpCall, Inquiry

ZERO_MEASURE = Measure(Decimal(0))


def call_queue(*, branch_ids: list[int], today: date | None = None):
    """Calls still to make, due today or earlier (oldest first): the call centre's queue."""
    today = today or timezone.localdate()
    return (
        FollowUpCall.objects.filter(
            branch_id__in=branch_ids, status=CallStatus.DUE, due_on__lte=today
        )
        .select_related("customer", "vehicle", "assigned_to")
        .order_by("due_on", "pk")
    )


def call_results(*, branch_ids: list[int], start: date, end: date) -> dict:
    """Follow-up calls due in the period (both days included): done, unreachable, still to
    make, the completion rate (done ÷ due: the KPI registry's follow-up completion) and the
    average satisfaction of those done."""
    completion = kpi_get("customers.follow_up_completion")
    measured = completion.measure(Scope(tuple(branch_ids), start, end))[(None, "")]
    calls = FollowUpCall.objects.filter(
        branch_id__in=branch_ids, due_on__gte=start, due_on__lte=end
    ).exclude(status=CallStatus.CANCELLED)
    counts = calls.aggregate(
        unreachable=Count("pk", filter=Q(status=CallStatus.UNREACHABLE)),
        open=Count("pk", filter=Q(status=CallStatus.DUE)),
        score=Avg("score", filter=Q(status=CallStatus.DONE)),
    )
    return {
        "due": int(measured.denominator),
        "done": int(measured.numerator),
        **counts,
        "completion": completion.value(measured),
    }


def segment_counts(*, branch_ids: list[int]) -> dict:
    """How many customers of the branches are in each segment now; the customers with each
    reason to reach out are the KPI registry's abnormal customers (customers.kpis)."""
    segments = CustomerSegment.objects.filter(customer__branch_id__in=branch_ids)
    counts = segments.aggregate(
        customers=Count("pk"),
        key=Count("pk", filter=Q(key_customer=True)),
        **{
            f"lifecycle_{value}": Count("pk", filter=Q(lifecycle=value))
            for value in Lifecycle.values
        },
    )
    today = timezone.localdate()
    abnormal = kpi_get("customers.abnormal").measure(Scope(tuple(branch_ids), today, today))
    for value in AbnormalReason.values:
        counts[f"abnormal_{value}"] = int(abnormal.get((None, value), ZERO_MEASURE).numerator)
    counts["computed_on"] = (
        segments.order_by("-computed_on").values_list("computed_on", flat=True).first()
    )
    return counts


def after_sales_report(*, branch_ids: list[int], start: date, end: date) -> dict:
    """The after-sales report of DOMAIN §7 for the period (both days included): appointments,
    inquiries, rescues, insurance claims, suggestions, complaints and follow-up results, each
    with how it was handled."""
    since, until = local_day_start(start), local_day_end(end)
    appointments = Appointment.objects.filter(
        branch_id__in=branch_ids, slot__starts_at__gte=since, slot__starts_at__lt=until
    ).aggregate(
        total=Count("pk"),
        checked_in=Count("pk", filter=Q(status=AppointmentStatus.CHECKED_IN)),
        no_show=Count("pk", filter=Q(status=AppointmentStatus.NO_SHOW)),
        cancelled=Count("pk", filter=Q(status=AppointmentStatus.CANCELLED)),
    )
    inquiries = Inquiry.objects.filter(
        branch_id__in=branch_ids, received_at__gte=since, received_at__lt=until
    )
    asked = {
        kind: inquiries.filter(kind=kind).aggregate(
            total=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False))
        )
        for kind in InquiryKind.values
    }
    rescues = (
        Rescue.objects.filter(branch_id__in=branch_ids, called_at__gte=since, called_at__lt=until)
        .values("status")
        .annotate(n=Count("pk"))
    )
    claims = (
        InsuranceClaim.objects.filter(
            work_order__branch_id__in=branch_ids,
            created_at__gte=since,
            created_at__lt=until,
        )
        .values("status")
        .annotate(n=Count("pk"))
    )
    complaints = Complaint.objects.filter(
        branch_id__in=branch_ids, received_at__gte=since, received_at__lt=until
    ).aggregate(
        total=Count("pk"),
        responded_in_time=Count("pk", filter=Q(responded_at__lte=F("respond_by"))),
        resolved=Count(
            "pk", filter=Q(status__in=[ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED])
        ),
        closed=Count("pk", filter=Q(status=ComplaintStatus.CLOSED)),
        escalated=Count("pk", filter=Q(escalation_level__gt=0)),
    )
    return {
        "appointments": appointments,
        "inquiries": asked[InquiryKind.INQUIRY],
        "suggestions": asked[InquiryKind.SUGGESTION],
        "rescues": {row["status"]: row["n"] for row in rescues},
        "insurance_claims": {row["status"]: row["n"] for row in claims},
        "complaints": complaints,
        "calls": call_results(branch_ids=branch_ids, start=start, end=end),
    }


# What each target segment of a campaign means in the nightly segments.
SEGMENT_FILTERS = {
    **{
        TargetSegment(reason): Q(segment__abnormal__contains=[reason])
        for reason in AbnormalReason.values
    },
    TargetSegment.KEY_CUSTOMERS: Q(segment__key_customer=True),
    TargetSegment.LOST: Q(segment__lifecycle=Lifecycle.LOST),
    **{
        TargetSegment(age): Q(segment__vehicle_age=age)
        for age in ["three_guarantees", "warranty", "out_of_warranty"]
    },
}


def campaign_audience(*, branch_id: int, segment: str, consenting: bool = True):
    """The branch's customers in a segment as of the last nightly run; by default only those
    who agreed to marketing, the only ones a campaign may reach (DOMAIN §1). A customer merged
    into another keeps their old segments row but is reached as the record kept, never twice."""
    customers = Customer.objects.active().filter(SEGMENT_FILTERS[segment], branch_id=branch_id)
    return customers.filter(marketing_consent=True) if consenting else customers


def audience_counts(*, branch_id: int, segment: str) -> dict:
    """A campaign's count preview: customers in the segment, and those of them it may reach."""
    return campaign_audience(branch_id=branch_id, segment=segment, consenting=False).aggregate(
        customers=Count("pk"), consenting=Count("pk", filter=Q(marketing_consent=True))
    )


def campaigns_with_counts(campaigns):
    """Campaigns with their offers counted: offers, contacted (the message went out; one
    withheld or refused by the channel reached nobody) and redeemed."""
    return campaigns.annotate(
        offer_count=Count("offers"),
        contacted=Count("offers", filter=Q(offers__message__status=MessageStatus.SENT)),
        redeemed=Count("offers", filter=Q(offers__status=OfferStatus.REDEEMED)),
    )


def campaign_results(campaigns) -> list[dict]:
    """Per target segment: its campaigns, their offers, how many were redeemed, the success
    rate (redeemed ÷ offers) and the target rate (the campaigns' targets weighted by their
    offers), in the segments' order."""
    segments: dict[str, dict] = {}
    for campaign in campaigns_with_counts(campaigns).order_by():
        row = segments.setdefault(
            campaign.segment,
            {"segment": campaign.segment, "campaigns": 0, "offers": 0, "redeemed": 0,
             "expected": Decimal(0)},
        )  # fmt: skip
        row["campaigns"] += 1
        row["offers"] += campaign.offer_count
        row["redeemed"] += campaign.redeemed
        row["expected"] += campaign.target_rate / 100 * campaign.offer_count
    rows = [segments[value] for value in TargetSegment.values if value in segments]
    for row in rows:
        row["label"] = TargetSegment(row["segment"]).label
        row["rate"] = ratio(row["redeemed"], row["offers"])
        row["target"] = ratio(row.pop("expected"), row["offers"])
        row["met"] = None if row["rate"] is None else row["rate"] >= row["target"]
    return rows
