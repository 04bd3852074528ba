"""The service figures of DOMAIN §8 in the KPI registry (dealer_crm.kpis): the one computation
of each — entries (入库台次), revenue per entry (单车产值), labour hours sold, the appointment
rate, comebacks and technician productivity (service.selectors.service_figures counts the
same)."""

from django.db.models import CharField, Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Concat, TruncDate
from django.utils.translation import gettext_lazy as _

from dealer_crm.choices import Role
from dealer_crm.kpis import Area, Direction, Kpi, Scope, Unit, records_link, register, tally
from dealer_crm.periods import LOCAL_TIME_ZONE

from .models import LabourLine, Settlement, WorkOrder

MONEY = DecimalField(max_digits=14, decimal_places=2)


def _opened(scope: Scope):
    """The entries: work orders opened (checked in) in the scope."""
    return WorkOrder.objects.filter(
        branch_id__in=scope.branch_ids, opened_at__gte=scope.since, opened_at__lt=scope.until
    )


def _settled(scope: Scope):
    return Settlement.objects.filter(
        work_order__branch_id__in=scope.branch_ids,
        settled_at__gte=scope.since,
        settled_at__lt=scope.until,
    )


def _lines_sold(scope: Scope):
    """Labour lines of the work orders settled in the scope: the hours sold."""
    return LabourLine.objects.filter(
        work_order__branch_id__in=scope.branch_ids,
        work_order__settlement__settled_at__gte=scope.since,
        work_order__settlement__settled_at__lt=scope.until,
    )


def entries(scope: Scope):
    return tally(_opened(scope), scope, numerator=Count("pk"), person="advisor")


def revenue_per_entry(scope: Scope):
    return tally(
        _settled(scope),
        scope,
        numerator=Sum("total", output_field=MONEY),
        denominator=Count("pk"),
        person="work_order__advisor",
    )


def labour_hours(scope: Scope):
    return tally(
        _lines_sold(scope),
        scope,
        numerator=Sum("standard_hours"),
        person="work_order__advisor",
    )


def appointment_rate(scope: Scope):
    return tally(
        _opened(scope),
        scope,
        numerator=Count("pk", filter=Q(appointment__isnull=False)),
        denominator=Count("pk"),
        person="advisor",
    )


def comebacks(scope: Scope):
    return tally(
        _opened(scope),
        scope,
        numerator=Count("pk", filter=Q(comeback_of__isnull=False)),
        person="advisor",
    )


def technician_productivity(scope: Scope):
    """Hours sold per technician-day: a technician who sold hours on a day counts one day."""
    technician_day = Concat(
        "technician_id",
        Value(":"),
        TruncDate("work_order__settlement__settled_at", tzinfo=LOCAL_TIME_ZONE),
        output_field=CharField(),
    )
    return tally(
        _lines_sold(scope),
        scope,
        numerator=Sum("standard_hours"),
        denominator=Count(technician_day, distinct=True),
        person="technician",
    )


# --- The records behind a value: the work-order list filtered to the scope ----------------------


def _work_orders(when: str, *query: tuple[str, str], person: bool = True):
    """The work orders opened (`when` "opened") or settled ("settled") in the scope, of its
    branch (when one) and its advisor (`person`)."""

    return lambda scope: records_link(
        "service:work-order-list",
        scope,
        *query,
        period=when,
        person="advisor" if person else "",
    )


SERVICE = {
    "area": Area.SERVICE,
    "app": "service",
    "permission": "service.view_settlement",
    "own_permission": "service.view_workorder",
    "person_roles": (Role.SERVICE_ADVISOR,),
}

register(
    Kpi(
        code="service.entries",
        name=_("Entries (入库台次)"),
        definition=_(
            "Work orders opened (vehicles checked in) in the period, against the month's "
            "target; an advisor's are the work orders they opened."
        ),
        unit=Unit.COUNT,
        direction=Direction.HIGHER,
        measure=entries,
        targets=True,
        places="1",
        records=_work_orders("opened"),
        **SERVICE,
    ),
    Kpi(
        code="service.revenue_per_entry",
        name=_("Revenue per entry (单车产值)"),
        definition=_(
            "Total of the settlements made in the period ÷ the work orders settled, against "
            "the month's target."
        ),
        unit=Unit.CNY,
        direction=Direction.HIGHER,
        measure=revenue_per_entry,
        targets=True,
        places="0.01",
        records=_work_orders("settled"),
        **SERVICE,
    ),
    Kpi(
        code="service.labour_hours",
        name=_("Labour hours sold"),
        definition=_(
            "Standard hours of the labour lines of the work orders settled in the period."
        ),
        unit=Unit.HOURS,
        direction=Direction.HIGHER,
        measure=labour_hours,
        places="0.01",
        records=_work_orders("settled"),
        **SERVICE,
    ),
    Kpi(
        code="service.appointment_rate",
        name=_("Appointment rate"),
        definition=_("Entries of the period that came from an appointment ÷ entries."),
        unit=Unit.PERCENT,
        direction=Direction.HIGHER,
        measure=appointment_rate,
        records=_work_orders("opened"),
        **SERVICE,
    ),
    Kpi(
        code="service.comebacks",
        name=_("Comebacks"),
        definition=_(
            "Entries of the period that repeat a repair of the same complaint within 30 days."
        ),
        unit=Unit.COUNT,
        direction=Direction.LOWER,
        measure=comebacks,
        places="1",
        records=_work_orders("opened", ("comeback", "true")),
        **SERVICE,
    ),
    Kpi(
        code="service.technician_productivity",
        name=_("Technician productivity"),
        definition=_(
            "Labour hours sold on the work orders settled in the period ÷ technician-days "
            "(each technician who sold hours on a day counts one day); a technician's are "
            "their own hours ÷ their days."
        ),
        unit=Unit.HOURS,
        direction=Direction.HIGHER,
        measure=technician_productivity,
        places="0.01",
        records=_work_orders("settled", person=False),
        **{**SERVICE, "person_roles": (Role.TECHNICIAN,)},
    ),
)
