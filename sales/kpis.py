"""The sales figures of DOMAIN §8 in the KPI registry (dealer_crm.kpis): the one computation
of each. The rates are the funnel's: of the leads created in the period, those that reached a
stage by now — `lead_cohort` and `stage_reached` count them, here and in the funnel
(sales.selectors.funnel_figures, which groups the same counts by source, model, consultant or
month)."""

from collections.abc import Callable
from datetime import date

from django.db.models import (
    Case,
    Count,
    DateField,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import ExtractDay
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
)
from dealer_crm.kpis import tally as tally_of
from dealer_crm.periods import local_day_end, local_day_start

from .choices import LeadSource, LeadStatus, LostReason
from .models import Delivery, Lead, ShowroomTraffic, StockVehicle
from .selectors import FUNNEL_STAGES, HELD_STOCK_STATUSES, STOCK_AGE_BUCKETS

# A lead's stages can still be reached for a quarter after it came in: the nightly job
# counts those days' cohorts again.
COHORT_RESTATE_DAYS = 92
TRAFFIC_KEYS = {"first_visits": _("First visits"), "return_visits": _("Return visits")}
STAGE_FIELDS = {stage.key: stage.field for stage in FUNNEL_STAGES}


def lead_cohort(leads: QuerySet[Lead], start: date, end: date) -> QuerySet[Lead]:
    """Of `leads`, those created from `start` to `end` (Shanghai days, both included): the
    cohort the lead figures and the funnel count."""
    return leads.filter(created_at__gte=local_day_start(start), created_at__lt=local_day_end(end))


def stage_reached(stage: str) -> Count:
    """Of a cohort, the leads that reached the funnel stage `stage` (a FUNNEL_STAGES key) by
    now, whenever they got there."""
    return Count("pk", filter=Q(**{f"{STAGE_FIELDS[stage]}__isnull": False}))


def _leads_created(scope: Scope) -> QuerySet[Lead]:
    return lead_cohort(Lead.objects.filter(branch_id__in=scope.branch_ids), scope.start, scope.end)


def leads_by_source(scope: Scope):
    return tally_of(
        _leads_created(scope),
        scope,
        numerator=stage_reached("leads"),
        person="consultant",
        key="source",
    )


def _conversion(later: str, earlier: str):
    """Of the period's leads that reached the stage `earlier`, those that reached `later` by
    now."""

    def measure(scope: Scope):
        return tally_of(
            _leads_created(scope),
            scope,
            numerator=stage_reached(later),
            denominator=stage_reached(earlier),
            person="consultant",
        )

    return measure


def showroom_traffic(scope: Scope):
    traffic = ShowroomTraffic.objects.filter(
        branch_id__in=scope.branch_ids, day__gte=scope.start, day__lte=scope.end
    ).aggregate(**{counter: Sum(counter) for counter in ShowroomTraffic.COUNTERS})
    summed = ShowroomTraffic(**{key: value or 0 for key, value in traffic.items()})
    return one_value(
        Measure(summed.visits),
        {
            "first_visits": Measure(summed.first_visits),
            "return_visits": Measure(summed.return_visits),
        },
    )


def deliveries(scope: Scope):
    handed_over = Delivery.objects.filter(
        order__branch_id__in=scope.branch_ids,
        delivered_on__gte=scope.start,
        delivered_on__lte=scope.end,
    )
    return tally_of(handed_over, scope, numerator=Count("pk"), person="order__consultant")


def lost_reasons(scope: Scope):
    lost = Lead.objects.filter(
        branch_id__in=scope.branch_ids,
        status=LeadStatus.LOST,
        closed_at__gte=scope.since,
        closed_at__lt=scope.until,
    )
    return tally_of(lost, scope, numerator=Count("pk"), person="consultant", key="lost_reason")


def _age_bucket() -> Case:
    return Case(
        *[
            When(
                Q(days__gte=low) & (Q(days__lte=high) if high is not None else Q()), then=Value(key)
            )
            for key, _label, low, high in STOCK_AGE_BUCKETS
        ],
        default=Value(STOCK_AGE_BUCKETS[0][0]),
    )


def days_in_stock(scope: Scope):
    """The vehicles held now (in stock, reserved, demo), their days since arrival counted to
    the scope's last day, by the ageing report's buckets."""
    held = (
        StockVehicle.objects.filter(
            branch_id__in=scope.branch_ids,
            status__in=HELD_STOCK_STATUSES,
            arrival_date__lte=scope.end,
        )
        .annotate(days=ExtractDay(Value(scope.end, output_field=DateField()) - F("arrival_date")))
        .annotate(bucket=_age_bucket())
    )
    return tally_of(
        held,
        scope,
        numerator=Sum("days", output_field=IntegerField()),
        denominator=Count("pk"),
        key="bucket",
    )


# --- The records behind a value: the list pages filtered to the scope ---------------------------


def _leads_of(*stage: tuple[str, str]) -> Callable[[Scope], str]:
    """The period's leads (a cohort), or those of them that reached a stage."""
    return lambda scope: records_link(
        "sales:lead-list",
        scope,
        *stage,
        period="created",
        person="consultant",
    )


def delivered_orders(scope: Scope) -> str:
    return records_link(
        "sales:order-list",
        scope,
        period="delivered",
        person="consultant",
    )


def lost_leads(scope: Scope) -> str:
    return records_link(
        "sales:lead-list",
        scope,
        ("status", LeadStatus.LOST.value),
        period="closed",
        person="consultant",
    )


def traffic_day(scope: Scope) -> str:
    """The front desk's page of the period's last day (it shows the month's days too)."""
    return records_link("sales:traffic", scope, ("day", scope.end.isoformat()), branch=False)


def held_stock(scope: Scope) -> str:
    return records_link(
        "sales:stock-list", scope, *(("status", s.value) for s in HELD_STOCK_STATUSES)
    )


SALES = {
    "area": Area.SALES,
    "app": "sales",
    "permission": "sales.view_funnel",
    "own_permission": "sales.view_lead",
    "person_roles": (Role.SALES_CONSULTANT,),
}


def _labels(choices) -> Callable[[], dict]:
    return lambda: dict(choices)


register(
    Kpi(
        code="sales.leads",
        name=_("Leads by source"),
        definition=_(
            "Leads created in the period (by the day they came in), per source; a consultant's "
            "are the leads assigned to them."
        ),
        unit=Unit.COUNT,
        direction=Direction.HIGHER,
        measure=leads_by_source,
        breakdown=_("Source"),
        key_labels=_labels(LeadSource.choices),
        places="1",
        records=_leads_of(),
        **SALES,
    ),
    Kpi(
        code="sales.verified_rate",
        name=_("Verified rate"),
        definition=_(
            "Of the leads created in the period, the share verified by phone by now "
            "(qualified leads ÷ leads)."
        ),
        unit=Unit.PERCENT,
        direction=Direction.HIGHER,
        measure=_conversion("verified", "leads"),
        restate_days=COHORT_RESTATE_DAYS,
        records=_leads_of(),
        **SALES,
    ),
    Kpi(
        code="sales.showroom_traffic",
        name=_("Showroom traffic"),
        definition=_(
            "Visits logged at the front desk in the period: first and return visits, with and "
            "without an appointment (phone inquiries not included)."
        ),
        unit=Unit.COUNT,
        direction=Direction.HIGHER,
        measure=showroom_traffic,
        breakdown=_("Visit"),
        key_labels=lambda: dict(TRAFFIC_KEYS),
        places="1",
        records=traffic_day,
        **{**SALES, "person_roles": (), "own_permission": ""},
    ),
    Kpi(
        code="sales.test_drive_rate",
        name=_("Test-drive rate"),
        definition=_(
            "Of the leads created in the period that visited the showroom, the share that "
            "test-drove by now."
        ),
        unit=Unit.PERCENT,
        direction=Direction.HIGHER,
        measure=_conversion("test_driven", "visited"),
        restate_days=COHORT_RESTATE_DAYS,
        records=_leads_of(("stage", "visited")),
        **SALES,
    ),
    Kpi(
        code="sales.closing_rate",
        name=_("Closing rate"),
        definition=_(
            "Of the leads created in the period that visited the showroom, the share that "
            "signed an order by now."
        ),
        unit=Unit.PERCENT,
        direction=Direction.HIGHER,
        measure=_conversion("ordered", "visited"),
        restate_days=COHORT_RESTATE_DAYS,
        records=_leads_of(("stage", "visited")),
        **SALES,
    ),
    Kpi(
        code="sales.deliveries",
        name=_("Deliveries"),
        definition=_(
            "Vehicles handed over to customers in the period (by delivery date), against the "
            "month's target; a consultant's are those of their orders."
        ),
        unit=Unit.COUNT,
        direction=Direction.HIGHER,
        measure=deliveries,
        targets=True,
        places="1",
        records=delivered_orders,
        **SALES,
    ),
    Kpi(
        code="sales.lost_leads",
        name=_("Lost leads by reason"),
        definition=_("Leads marked lost (战败) in the period, per lost reason."),
        unit=Unit.COUNT,
        direction=Direction.LOWER,
        measure=lost_reasons,
        breakdown=_("Lost reason"),
        key_labels=_labels(LostReason.choices),
        places="1",
        records=lost_leads,
        **SALES,
    ),
    Kpi(
        code="sales.days_in_stock",
        name=_("Days in stock"),
        definition=_(
            "The average days since arrival of the vehicles held (in stock, reserved, demo) at "
            "the period's end, per ageing bucket. Taken nightly: the records keep no past stock."
        ),
        unit=Unit.DAYS,
        direction=Direction.LOWER,
        measure=days_in_stock,
        aggregation=LEVEL,
        breakdown=_("Ageing bucket"),
        key_labels=lambda: {key: label for key, label, _low, _high in STOCK_AGE_BUCKETS},
        history=False,
        places="0.1",
        records=held_stock,
        **{**SALES, "person_roles": (), "own_permission": ""},
    ),
)
