"""Reads about the sales funnel that join or aggregate."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.contrib.auth.models import User
from django.db.models import Count, DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from dealer_crm.errors import DomainError
from dealer_crm.models import display_name
from dealer_crm.periods import LOCAL_TIME_ZONE

from .choices import LeadSource, QuoteStatus, StockStatus
from .models import ZERO, Lead, Order, Payment, Quote, ShowroomTraffic, StockVehicle


class FunnelStage(NamedTuple):
    key: str
    label: Promise
    field: str  # the Lead time stamp set when a lead first reaches the stage


FUNNEL_STAGES = [
    FunnelStage("leads", _("Leads"), "created_at"),
    FunnelStage("verified", _("Verified"), "verified_at"),
    FunnelStage("visited", _("Visits"), "visited_at"),
    FunnelStage("test_driven", _("Test drives"), "test_driven_at"),
    FunnelStage("quoted", _("Quotes"), "quoted_at"),
    FunnelStage("ordered", _("Orders"), "ordered_at"),
    FunnelStage("delivered", _("Deliveries"), "delivered_at"),
]
FUNNEL_DIMENSIONS = [
    ("source", _("Source")),
    ("model", _("Model")),
    ("consultant", _("Sales consultant")),
    ("month", _("Month")),
]
# Vehicles the branch holds and pays for while they wait: the ones that age.
HELD_STOCK_STATUSES = [StockStatus.IN_STOCK, StockStatus.RESERVED, StockStatus.DEMO]
# (key, label, first day, last day or None): the days-in-stock buckets of the ageing report.
STOCK_AGE_BUCKETS = [
    ("0_30", _("0–30 days"), 0, 30),
    ("31_60", _("31–60 days"), 31, 60),
    ("61_90", _("61–90 days"), 61, 90),
    ("over_90", _("over 90 days"), 91, None),
]

# The longest period the funnel counts in one go: three years, leap days included.
MAX_FUNNEL_DAYS = 366 * 3
ONE_DECIMAL = Decimal("0.1")


def conversion_rate(earlier: int, later: int) -> Decimal | None:
    """later / earlier as a percentage with one decimal; None when nobody reached `earlier`."""
    if not earlier:
        return None
    return (Decimal(later) * 100 / earlier).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def _funnel_row(key, label, counts: dict[str, int], referrals: int) -> dict:
    conversions = {
        later.key: conversion_rate(counts[earlier.key], counts[later.key])
        for earlier, later in zip(FUNNEL_STAGES, FUNNEL_STAGES[1:], strict=False)
    }
    return {
        "key": key,
        "label": label,
        "counts": counts,
        "conversions": conversions,
        "referrals": referrals,
    }


def _group_labels(dimension: str, keys: list) -> dict:
    if dimension == "source":
        labels = dict(LeadSource.choices)
        return {key: labels.get(key, key) for key in keys}
    if dimension == "consultant":
        users = User.objects.filter(pk__in=[key for key in keys if key is not None])
        labels = {user.pk: display_name(user) for user in users}
        return {key: labels[key] if key is not None else _("Unassigned") for key in keys}
    if dimension == "month":
        return {key: f"{key:%Y-%m}" for key in keys}
    return {key: key for key in keys}


def funnel_figures(
    *, user: User, start: date, end: date, dimension: str, branch_id: int | None = None
) -> dict:
    """The funnel of the leads created from `start` to `end` (Shanghai dates, both included)
    that the user may see, one row per value of `dimension`, and the period's showroom traffic.

    Returns {"stages", "dimension", "start", "end", "rows", "total", "traffic"}. A row is
    {"key", "label", "counts": {stage: n}, "conversions": {stage: % from the stage before, or
    None}, "referrals": n}; `key` is what drills down (a source or model, a consultant's id,
    the month's first day). The counts are one cohort's: a lead created in the period counts
    at every stage it has reached by now, whenever it got there: the KPI registry's cohort and
    stage counts (sales.kpis lead_cohort and stage_reached, which its lead figures count with),
    grouped.
    """
    if end < start:
        raise DomainError("period_reversed", _("The period ends before it starts."), field="end")
    if (end - start).days > MAX_FUNNEL_DAYS:
        raise DomainError(
            "period_too_long", _("Choose a period of at most three years."), field="end"
        )
    group_by = {
        "source": F("source"),
        "model": F("model_of_interest"),
        "consultant": F("consultant"),
        "month": TruncMonth("created_at", tzinfo=LOCAL_TIME_ZONE),
    }
    if dimension not in group_by:
        raise ValueError(f"Unknown funnel dimension {dimension!r}")
    # The registry's counting (sales.kpis imports this module, hence the late import).
    from .kpis import lead_cohort, stage_reached

    leads = lead_cohort(Lead.objects.for_user(user), start, end)
    traffic = ShowroomTraffic.objects.for_user(user).filter(day__range=(start, end))
    if branch_id is not None:
        leads = leads.filter(branch_id=branch_id)
        traffic = traffic.filter(branch_id=branch_id)

    stage_counts = {stage.key: stage_reached(stage.key) for stage in FUNNEL_STAGES}
    groups = list(
        leads.annotate(group=group_by[dimension])
        .order_by()
        .values("group")
        .annotate(**stage_counts, referrals=Count("pk", filter=Q(referrer__isnull=False)))
    )
    if dimension == "month":
        for group in groups:
            group["group"] = timezone.localdate(group["group"], LOCAL_TIME_ZONE)
    labels = _group_labels(dimension, [group["group"] for group in groups])
    rows = [
        _funnel_row(
            group["group"],
            labels[group["group"]],
            {stage.key: group[stage.key] for stage in FUNNEL_STAGES},
            group["referrals"],
        )
        for group in groups
    ]
    if dimension == "month":
        rows.sort(key=lambda row: row["key"])
    else:
        rows.sort(key=lambda row: (-row["counts"]["leads"], str(row["label"])))
    # Every lead is in exactly one group, so the groups add up to the total.
    total = _funnel_row(
        None,
        _("Total"),
        {stage.key: sum(row["counts"][stage.key] for row in rows) for stage in FUNNEL_STAGES},
        sum(row["referrals"] for row in rows),
    )
    return {
        "stages": FUNNEL_STAGES,
        "dimension": dimension,
        "start": start,
        "end": end,
        "rows": rows,
        "total": total,
        "traffic": showroom_traffic_totals(traffic),
    }


def showroom_traffic_totals(traffic: QuerySet[ShowroomTraffic]) -> dict[str, int]:
    """The counters summed over the given days, with the model's derived totals."""
    totals = traffic.aggregate(
        **{counter: Coalesce(Sum(counter), 0) for counter in ShowroomTraffic.COUNTERS}
    )
    summed = ShowroomTraffic(**totals)
    return {
        **totals,
        "first_visits": summed.first_visits,
        "return_visits": summed.return_visits,
        "with_appointment": summed.with_appointment,
        "without_appointment": summed.without_appointment,
        "visits": summed.visits,
    }


def lead_list(*, user: User) -> QuerySet[Lead]:
    """The lead list's base: the user's branches' leads, with what a row shows."""
    return Lead.objects.for_user(user).select_related(
        "consultant", "branch", "customer", "referrer"
    )


def follow_up_today(
    *, user: User, consultant: User | None = None, on: date | None = None
) -> QuerySet[Lead]:
    """Open leads whose follow-up is due on `on` (today in Shanghai) or overdue, oldest first."""
    leads = Lead.objects.for_user(user).follow_up_due(on or timezone.localdate())
    if consultant is not None:
        leads = leads.filter(consultant=consultant)
    return leads.select_related("consultant", "branch").order_by("next_follow_up_on", "pk")


def overdue_follow_up_counts(*, user: User, on: date | None = None) -> list[dict]:
    """Per consultant, the open leads whose follow-up date has passed: for the manager's view.

    [{"consultant_id", "name", "overdue"}], most overdue first; unassigned leads under None.
    One query: the names come with the counts.
    """
    rows = (
        Lead.objects.for_user(user)
        .open()
        .filter(next_follow_up_on__lt=on or timezone.localdate())
        .order_by()
        .values(
            "consultant",
            "consultant__username",
            "consultant__first_name",
            "consultant__last_name",
        )
        .annotate(overdue=Count("pk"))
    )
    counts = [
        {
            "consultant_id": row["consultant"],
            "name": _("Unassigned")
            if row["consultant"] is None
            else display_name(
                User(
                    username=row["consultant__username"],
                    first_name=row["consultant__first_name"],
                    last_name=row["consultant__last_name"],
                )
            ),
            "overdue": row["overdue"],
        }
        for row in rows
    ]
    return sorted(counts, key=lambda row: (-row["overdue"], str(row["name"])))


def _days_in_stock_between(low: int, high: int | None) -> Q:
    # The first bucket has no lower bound, so every held vehicle falls in exactly one bucket.
    condition = Q(days_in_stock__gte=low) if low else Q()
    return condition & Q(days_in_stock__lte=high) if high is not None else condition


def stock_list(*, user: User) -> QuerySet[StockVehicle]:
    """Stock with days in stock and, for an allocated vehicle, its order and customer."""
    return (
        StockVehicle.objects.for_user(user)
        .with_days_in_stock()
        .select_related("branch", "order__customer")
    )


def stock_ageing(*, user: User) -> list[dict]:
    """How long the held vehicles (in stock, reserved, demo) have stood, by bucket.

    [{"key", "label", "min_days", "max_days", "count"}]; min/max drill down through
    StockVehicleFilter's min_days_in_stock / max_days_in_stock.
    """
    held = (
        StockVehicle.objects.for_user(user)
        .filter(status__in=HELD_STOCK_STATUSES)
        .with_days_in_stock()
    )
    counts = held.aggregate(
        **{
            key: Count("pk", filter=_days_in_stock_between(low, high))
            for key, _label, low, high in STOCK_AGE_BUCKETS
        }
    )
    return [
        {"key": key, "label": label, "min_days": low, "max_days": high, "count": counts[key]}
        for key, label, low, high in STOCK_AGE_BUCKETS
    ]


def sales_overview(*, user: User, branch) -> dict:
    """The home page's sales figures for one branch: the user's follow-ups due today and
    overdue, the branch's open leads, discounts awaiting approval and stock on hand."""
    today = timezone.localdate()
    leads = Lead.objects.for_user(user).filter(branch=branch).open()
    mine = leads.filter(consultant=user, next_follow_up_on__lte=today).aggregate(
        due=Count("pk"), overdue=Count("pk", filter=Q(next_follow_up_on__lt=today))
    )
    return {
        "follow_ups_due": mine["due"],
        "follow_ups_overdue": mine["overdue"],
        "open_leads": leads.count(),
        "quotes_to_approve": Quote.objects.for_user(user)
        .filter(branch=branch, status=QuoteStatus.PENDING_APPROVAL)
        .count(),
        "stock_on_hand": StockVehicle.objects.for_user(user)
        .filter(branch=branch, status=StockStatus.IN_STOCK)
        .count(),
    }


def orders_with_paid_total():
    """Orders with `paid_total`, the payments received, summed in the same query."""
    paid = (
        Payment.objects.filter(order=OuterRef("pk"), paid_on__isnull=False)
        .order_by()
        .values("order")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Order.objects.select_related("customer", "stock_vehicle").annotate(
        paid_total=Coalesce(
            Subquery(paid), Value(ZERO), output_field=DecimalField(max_digits=12, decimal_places=2)
        )
    )
