"""The archive figures of DOMAIN §6 and §8 in the KPI registry (dealer_crm.kpis): the one
computation of each — completeness (goal 99% or more), nonconforming documents, missing
reports and penalty points per person (archives.selectors.archive_figures and
points_by_person count the same)."""

from django.db.models import Case, Count, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dealer_crm.choices import Role
from dealer_crm.kpis import LEVEL, Area, Direction, Kpi, Scope, Unit, records_link, register, tally

from .choices import FileStatus, PenaltyReason
from .models import FileSection, MissingArchiveReport, Nonconformity, PenaltyPoint
from .selectors import COMPLETENESS_GOAL

# A section's papers may come in and pass audit weeks after its day: the nightly job counts
# the last two months' days again.
COMPLETENESS_RESTATE_DAYS = 62
# Whoever files papers answers for them: consultants, advisors, the archive office.
FILING_ROLES = (Role.SALES_CONSULTANT, Role.SERVICE_ADVISOR, Role.CUSTOMER_CARE)
MISSING_KEYS = {"within_time": _("Within their 2 days"), "overdue": _("Overdue")}


def completeness(scope: Scope):
    """Of the sections of the deliveries and closed work orders of the scope's days that are
    due (their due time passed) or already complete, those complete now."""
    now = timezone.now()
    sections = (
        FileSection.objects.filter(
            vehicle_file__branch_id__in=scope.branch_ids,
            period_on__gte=scope.start,
            period_on__lte=scope.end,
        )
        .filter(Q(due_at__lt=now) | Q(complete=True))
        .exclude(vehicle_file__status=FileStatus.DISPOSED)
    )
    return tally(
        sections, scope, numerator=Count("pk", filter=Q(complete=True)), denominator=Count("pk")
    )


def nonconforming(scope: Scope):
    returned = Nonconformity.objects.filter(
        branch_id__in=scope.branch_ids,
        returned_at__gte=scope.since,
        returned_at__lt=scope.until,
    )
    return tally(returned, scope, numerator=Count("pk"), person="responsible")


def missing_reports(scope: Scope):
    """Missing-archive reports open at the scope's end, within their 2 days or overdue."""
    moment = scope.moment
    open_then = MissingArchiveReport.objects.filter(
        branch_id__in=scope.branch_ids, opened_at__lt=moment
    ).filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=moment))
    overdue = Case(When(due_by__lt=moment, then=Value("overdue")), default=Value("within_time"))
    return tally(open_then.annotate(due=overdue), scope, numerator=Count("pk"), key="due")


def penalty_points(scope: Scope):
    given = PenaltyPoint.objects.filter(
        branch_id__in=scope.branch_ids, given_at__gte=scope.since, given_at__lt=scope.until
    )
    return tally(given, scope, numerator=Sum("points"), person="person", key="reason")


# --- The records behind a value: the archive's lists filtered to the scope ---------------------


def incomplete_files(scope: Scope) -> str:
    return records_link("archives:file-list", scope, ("incomplete", "true"))


def returned_documents(scope: Scope) -> str:
    return records_link(
        "archives:nonconformity-list",
        scope,
        period="returned_at",
        person="responsible",
    )


def open_reports(scope: Scope) -> str:
    """The reports open now (the list tells no past state)."""
    return records_link("archives:missing-list", scope, ("open", "true"))


def points_given(scope: Scope) -> str:
    return records_link(
        "archives:points",
        scope,
        ("period", "custom"),
        ("start", scope.start.isoformat()),
        ("end", scope.end.isoformat()),
        person="person",
    )


ARCHIVES = {"area": Area.ARCHIVES, "app": "archives", "permission": "archives.view_reconciliation"}

register(
    Kpi(
        code="archives.completeness",
        name=_("Archive completeness"),
        definition=_(
            # xgettext:no-python-format
            "Of the file sections of the period's deliveries and closed work orders that are "
            "due (their submission time passed) or already complete, those complete now. The "
            "goal is 99% or more."
        ),
        unit=Unit.PERCENT,
        direction=Direction.HIGHER,
        measure=completeness,
        targets=True,
        goal=COMPLETENESS_GOAL,
        restate_days=COMPLETENESS_RESTATE_DAYS,
        records=incomplete_files,
        **ARCHIVES,
    ),
    Kpi(
        code="archives.nonconforming",
        name=_("Nonconforming documents"),
        definition=_(
            "Documents sent back by the audit in the period (不合格档案); a person's are those "
            "they answer for."
        ),
        unit=Unit.COUNT,
        direction=Direction.LOWER,
        measure=nonconforming,
        person_roles=FILING_ROLES,
        own_permission="archives.view_nonconformity",
        places="1",
        records=returned_documents,
        **ARCHIVES,
    ),
    Kpi(
        code="archives.missing_reports",
        name=_("Missing-archive reports"),
        definition=_(
            "Missing-archive reports open at the period's end, within their 2 days and overdue."
        ),
        unit=Unit.COUNT,
        direction=Direction.LOWER,
        measure=missing_reports,
        aggregation=LEVEL,
        breakdown=_("Due"),
        key_labels=lambda: dict(MISSING_KEYS),
        places="1",
        records=open_reports,
        **ARCHIVES,
    ),
    Kpi(
        code="archives.penalty_points",
        name=_("Penalty points"),
        definition=_(
            "Penalty points given in the period, per reason; a person's are the points given "
            "to them."
        ),
        unit=Unit.COUNT,
        direction=Direction.LOWER,
        measure=penalty_points,
        person_roles=FILING_ROLES,
        own_permission="archives.view_nonconformity",
        breakdown=_("Reason"),
        key_labels=lambda: dict(PenaltyReason.choices),
        places="1",
        records=points_given,
        **ARCHIVES,
    ),
)
