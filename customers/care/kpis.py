"""The customer figures of DOMAIN §8 in the KPI registry (dealer_crm.kpis): the one
computation of each — retention, abnormal customers by reason, follow-up completion,
complaints and their time to resolve, the satisfaction index and campaign success
(customers.care.selectors and the satisfaction index of customers.care.services count the
same)."""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Extract
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from dealer_crm.choices import Role
from dealer_crm.kpis import (
    LEVEL,
    Area,
    Direction,
    Kpi,
    Measure,
    Scope,
    Unit,
    one_value,
    records_link,
    register,
    tally,
)
from service.choices import WorkOrderStatus
from service.models import WorkOrder

from . import services
from .choices import AbnormalReason, CallStatus, ComplaintStatus, OfferStatus, TargetSegment
from .models import Complaint, CustomerSegment, FollowUpCall, Offer, SurveyAnswer

YEAR = timedelta(days=365)
# A call due on a day may be made, or given up, for some weeks after.
CALLS_RESTATE_DAYS = 31
# An offer may be redeemed until its campaign ends, a quarter at most after it was given.
OFFERS_RESTATE_DAYS = 92
HOURS = DecimalField(max_digits=20, decimal_places=4)


def retention(scope: Scope):
    """Of the customers whose vehicle was serviced here (a work order closed) in the year
    before the last 12 months, those serviced again in the last 12 months, at the scope's
    end."""
    moment = scope.until
    boundary = moment - YEAR
    per_customer = (
        WorkOrder.objects.filter(
            branch_id__in=scope.branch_ids,
            status=WorkOrderStatus.CLOSED,
            closed_at__gte=boundary - YEAR,
            closed_at__lt=moment,
        )
        .values("customer")
        .annotate(
            before=Count("pk", filter=Q(closed_at__lt=boundary)),
            since=Count("pk", filter=Q(closed_at__gte=boundary)),
        )
    )
    counts = per_customer.aggregate(
        base=Count("customer", filter=Q(before__gt=0)),
        back=Count("customer", filter=Q(before__gt=0, since__gt=0)),
    )
    return one_value(Measure(Decimal(counts["back"]), Decimal(counts["base"])))


def abnormal_customers(scope: Scope):
    """Customers of the branches with at least one reason to reach out (as of the last nightly
    segments), and per reason (a customer may have several)."""
    counts = CustomerSegment.objects.filter(customer__branch_id__in=scope.branch_ids).aggregate(
        any_reason=Count("pk", filter=~Q(abnormal=[])),
        **{
            reason: Count("pk", filter=Q(abnormal__contains=[reason]))
            for reason in AbnormalReason.values
        },
    )
    any_reason = counts.pop("any_reason")
    return one_value(
        Measure(Decimal(any_reason)),
        {reason: Measure(Decimal(count)) for reason, count in counts.items() if count},
    )


def follow_up_completion(scope: Scope):
    calls = FollowUpCall.objects.filter(
        branch_id__in=scope.branch_ids, due_on__gte=scope.start, due_on__lte=scope.end
    ).exclude(status=CallStatus.CANCELLED)
    return tally(
        calls,
        scope,
        numerator=Count("pk", filter=Q(status=CallStatus.DONE)),
        denominator=Count("pk"),
        person="assigned_to",
    )


def complaints(scope: Scope):
    received = Complaint.objects.filter(
        branch_id__in=scope.branch_ids, received_at__gte=scope.since, received_at__lt=scope.until
    )
    return tally(received, scope, numerator=Count("pk"), person="owner")


def complaint_resolution_hours(scope: Scope):
    resolved = Complaint.objects.filter(
        branch_id__in=scope.branch_ids, resolved_at__gte=scope.since, resolved_at__lt=scope.until
    )
    seconds = Extract(F("resolved_at") - F("received_at"), "epoch")
    return tally(
        resolved,
        scope,
        numerator=ExpressionWrapper(Sum(seconds) / Value(3600), output_field=HOURS),
        denominator=Count("pk"),
        person="owner",
    )


def satisfaction_scores(scope: Scope):
    """Per leaf criterion, the scores given in the scope's survey answers and their number:
    the index is made from them (`satisfaction_index`)."""
    answers = SurveyAnswer.objects.filter(
        branch_id__in=scope.branch_ids,
        answered_on__gte=scope.start,
        answered_on__lte=scope.end,
    )
    return tally(
        answers,
        scope,
        numerator=Sum("score"),
        denominator=Count("pk"),
        person="advisor",
        key="criterion",
    )


def satisfaction_index(breakdown: dict[str, Measure]) -> Decimal | None:
    """The index of the AHP model (customers.care.services.satisfaction_index) from each
    criterion's summed scores and answers."""
    scores = {
        int(key): (int(m.denominator), float(m.numerator / m.denominator))
        for key, m in breakdown.items()
        if m.denominator
    }
    if not scores:
        return None
    _leaves, weights = services._leaves_of(list(scores))
    index, _answers = services._index(scores, weights)
    return None if index is None else Decimal(str(index))


def campaign_success(scope: Scope):
    """Of the campaign offers given in the scope, those redeemed by now, per target segment."""
    offers = Offer.objects.filter(
        campaign__branch_id__in=scope.branch_ids,
        created_at__gte=scope.since,
        created_at__lt=scope.until,
    )
    return tally(
        offers,
        scope,
        numerator=Count("pk", filter=Q(status=OfferStatus.REDEEMED)),
        denominator=Count("pk"),
        key="campaign__segment",
    )


# --- The records behind a value: the care lists filtered to the scope ---------------------------


def segments(scope: Scope) -> str:
    """The segments page: the customers per reason, each count leading to its customers."""
    return reverse("care:segments")


def calls_due(scope: Scope) -> str:
    """The calls due in the period, the cancelled ones left out."""
    kept = [status for status in CallStatus.values if status != CallStatus.CANCELLED]
    return records_link(
        "care:call-list",
        scope,
        *(("status", status) for status in kept),
        period="due_on",
        person="assigned_to",
    )


def complaints_received(scope: Scope) -> str:
    return records_link(
        "care:complaint-list",
        scope,
        period="received",
        person="owner",
    )


def complaints_resolved(scope: Scope) -> str:
    """The resolved and closed complaints (the list has no filter by the day resolved)."""
    return records_link(
        "care:complaint-list",
        scope,
        ("status", ComplaintStatus.RESOLVED.value),
        ("status", ComplaintStatus.CLOSED.value),
        person="owner",
    )


def survey_answers(scope: Scope) -> str:
    return records_link(
        "care:satisfaction-answers",
        scope,
        ("start", scope.start.isoformat()),
        ("end", scope.end.isoformat()),
        person="advisor",
    )


def campaigns(scope: Scope) -> str:
    return records_link("care:campaign-list", scope)


CUSTOMERS = {"area": Area.CUSTOMERS, "app": "care"}
CARE_AGENTS = {
    "person_roles": (Role.CUSTOMER_CARE,),
    "own_permission": "care.view_followupcall",
    "permission": "care.view_followupcall",
}

register(
    Kpi(
        code="customers.retention",
        name=_("Customer retention"),
        definition=_(
            "Of the customers whose vehicle was serviced here (a work order closed) in the year "
            "before the last 12 months, the share serviced again in the last 12 months, at the "
            "period's end."
        ),
        unit=Unit.PERCENT,
        direction=Direction.HIGHER,
        measure=retention,
        aggregation=LEVEL,
        permission="care.view_customersegment",
        live=False,
        **CUSTOMERS,
    ),
    Kpi(
        code="customers.abnormal",
        name=_("Abnormal customers by reason"),
        definition=_(
            "Customers with at least one reason to reach out at the period's end (near churn, "
            "long inactive, complained, repairs only), and per reason; from the nightly "
            "customer segments."
        ),
        unit=Unit.COUNT,
        direction=Direction.LOWER,
        measure=abnormal_customers,
        aggregation=LEVEL,
        permission="care.view_customersegment",
        breakdown=_("Reason"),
        key_labels=lambda: dict(AbnormalReason.choices),
        history=False,
        places="1",
        records=segments,
        **CUSTOMERS,
    ),
    Kpi(
        code="customers.follow_up_completion",
        name=_("Follow-up completion"),
        definition=_(
            "Of the follow-up calls due in the period (cancelled ones left out), the share "
            "done; an agent's are the calls assigned to them."
        ),
        unit=Unit.PERCENT,
        direction=Direction.HIGHER,
        measure=follow_up_completion,
        restate_days=CALLS_RESTATE_DAYS,
        records=calls_due,
        **CUSTOMERS,
        **CARE_AGENTS,
    ),
    Kpi(
        code="customers.complaints",
        name=_("Complaints"),
        definition=_("Complaints received in the period; a person's are those they handle."),
        unit=Unit.COUNT,
        direction=Direction.LOWER,
        measure=complaints,
        places="1",
        records=complaints_received,
        **CUSTOMERS,
        **{
            **CARE_AGENTS,
            "permission": "care.view_complaint",
            "own_permission": "care.view_complaint",
        },
    ),
    Kpi(
        code="customers.complaint_resolution_hours",
        name=_("Time to resolve a complaint"),
        definition=_(
            "Of the complaints resolved in the period, the average hours from receipt to "
            "resolution."
        ),
        unit=Unit.HOURS,
        direction=Direction.LOWER,
        measure=complaint_resolution_hours,
        places="0.1",
        records=complaints_resolved,
        **CUSTOMERS,
        **{
            **CARE_AGENTS,
            "permission": "care.view_complaint",
            "own_permission": "care.view_complaint",
        },
    ),
    Kpi(
        code="customers.satisfaction_index",
        name=_("Satisfaction index"),
        definition=_(
            "The survey answers of the period combined by the branch's AHP model: each leaf "
            "criterion's average score on a 0–100 scale, weighted by its global weight (the "
            "weights of criteria nobody answered shared out over the others); an advisor's are "
            "the answers of the customers they served."
        ),
        unit=Unit.SCORE,
        direction=Direction.HIGHER,
        measure=satisfaction_scores,
        combine=satisfaction_index,
        permission="care.view_satisfactionmodel",
        person_roles=(Role.SERVICE_ADVISOR,),
        own_permission="service.view_workorder",
        breakdown=_("Criterion"),
        places="0.01",
        records=survey_answers,
        **CUSTOMERS,
    ),
    Kpi(
        code="customers.campaign_success",
        name=_("Campaign success"),
        definition=_(
            "Of the campaign offers given in the period, the share redeemed by now, per target "
            "segment."
        ),
        unit=Unit.PERCENT,
        direction=Direction.HIGHER,
        measure=campaign_success,
        permission="care.view_campaign",
        breakdown=_("Target segment"),
        key_labels=lambda: dict(TargetSegment.choices),
        restate_days=OFFERS_RESTATE_DAYS,
        records=campaigns,
        **CUSTOMERS,
    ),
)
