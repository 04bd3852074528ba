"""Reads of the archive: the archivist's work queue, a file with its sections in filing
order, the handover form of a batch, penalty points per person and the archive figures."""

from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from dealer_crm.kpis import Scope, kpi_get

from .choices import SALES_DOCUMENTS, SERVICE_DOCUMENTS, BatchStatus, DocumentStatus, FileStatus
from .models import (
    ArchiveDocument,
    FileSection,
    MissingArchiveReport,
    Nonconformity,
    SubmissionBatch,
    VehicleFile,
)

# The archive's completeness goal (DOMAIN §6).
COMPLETENESS_GOAL = Decimal("0.99")
QUEUE_ROWS = 20


def work_queue(*, branch_ids: list[int], now: datetime | None = None) -> dict:
    """What the archivist does next: batches to receive, documents to audit, and what is
    overdue — rework past its 24 hours, missing reports past their 2 days, late batches."""
    now = now or timezone.now()
    to_receive = SubmissionBatch.objects.filter(
        branch_id__in=branch_ids, status=BatchStatus.EXPECTED
    ).order_by("due_at", "pk")
    to_audit = ArchiveDocument.objects.filter(
        section__vehicle_file__branch_id__in=branch_ids, status=DocumentStatus.RECEIVED
    ).select_related("section__vehicle_file__vehicle", "uploaded_by")
    rework = Nonconformity.objects.filter(
        branch_id__in=branch_ids, resolved_at__isnull=True, resubmitted__isnull=True
    ).select_related("document__section__vehicle_file", "responsible")
    missing = MissingArchiveReport.objects.filter(
        branch_id__in=branch_ids, resolved_at__isnull=True
    ).select_related("section__vehicle_file__vehicle", "section__delivery__order",
                     "section__work_order")  # fmt: skip
    return {
        "to_receive": list(to_receive[:QUEUE_ROWS]),
        "to_receive_count": to_receive.count(),
        "to_audit": list(to_audit.order_by("uploaded_at", "pk")[:QUEUE_ROWS]),
        "to_audit_count": to_audit.count(),
        "rework": list(rework.order_by("due_by", "pk")[:QUEUE_ROWS]),
        "rework_overdue_count": rework.filter(due_by__lt=now).count(),
        "missing": list(missing.order_by("due_by", "pk")[:QUEUE_ROWS]),
        "missing_overdue_count": missing.filter(due_by__lt=now).count(),
        "late_batches_count": to_receive.filter(due_at__lt=now).count(),
        "now": now,
    }


def file_sections(vehicle_file: VehicleFile) -> list[FileSection]:
    """The file's sections, sales first, each with its expected documents in filing order as
    `slots` (kind, current document or None) and its extra papers, its earlier versions
    and their records."""
    documents = ArchiveDocument.objects.select_related(
        "uploaded_by", "audited_by", "nonconformity__responsible"
    ).order_by("pk")
    sections = list(
        vehicle_file.sections.select_related(
            "delivery__order__consultant", "work_order__advisor", "batch", "exemption",
            "missing_report",
        ).prefetch_related(Prefetch("documents", queryset=documents))
    )  # fmt: skip
    for section in sections:
        order = SALES_DOCUMENTS if section.kind == "sales" else SERVICE_DOCUMENTS
        current = {d.kind: d for d in section.documents.all() if d.status != "replaced"}
        section.slots = [(kind, current.get(kind)) for kind in order if kind in section.expected]
        section.extras = [
            document for kind, document in current.items() if kind not in section.expected
        ]
        section.earlier = [d for d in section.documents.all() if d.status == "replaced"]
    return sections


def batch_sections(batch: SubmissionBatch) -> list[FileSection]:
    """The handover form's rows: each file of the batch with its record and documents."""
    return list(
        batch.sections.select_related(
            "vehicle_file__vehicle__owner", "delivery__order", "work_order"
        )
        .annotate(
            document_count=Count("documents", filter=~Q(documents__status=DocumentStatus.REPLACED))
        )
        .order_by("period_on", "pk")
    )


# The page's columns of each penalty reason.
POINT_COLUMNS = {
    "nonconforming": "nonconforming",
    "late": "late_rework",
    "unchanged": "returned_unchanged",
}


def points_by_person(*, branch_ids: list[int], start: date, end: date) -> list[dict]:
    """Penalty points given in the period (both days included), per person, most first: the
    KPI registry's penalty points (archives.kpis), each person's per reason."""
    scope = Scope(tuple(branch_ids), start, end, by_person=True)
    values = kpi_get("archives.penalty_points").measure(scope)
    people = User.objects.in_bulk({person for person, _key in values if person is not None})
    rows = []
    for person_id, person in people.items():
        total = values[(person_id, "")].numerator
        reasons = {
            column: int(values[(person_id, reason)].numerator)
            if (person_id, reason) in values
            else None
            for column, reason in POINT_COLUMNS.items()
        }
        rows.append(
            {
                "person": person_id,
                "person__first_name": person.first_name,
                "person__last_name": person.last_name,
                "person__username": person.username,
                **reasons,
                "points": int(total),
            }
        )
    return sorted(rows, key=lambda row: (-row["points"], row["person__username"]))


def archive_figures(*, branch_ids: list[int], start: date, end: date) -> dict:
    """The archive figures of DOMAIN §6 for the branches and the period (both days included),
    each the KPI registry's (archives.kpis: one computation of each) measured over the period.

    - completeness: of the sections of the period's deliveries and closed work orders that
      are due (their due time passed) or already complete, those complete now. The goal is
      99% or more;
    - nonconforming documents: documents returned in the period;
    - missing reports: open at the period's end (now, for a period up to today), and of them
      past their 2 days;
    - penalty points per person given in the period.
    """
    scope = Scope(tuple(branch_ids), start, end)
    sections = kpi_get("archives.completeness").measure(scope)[(None, "")]
    nonconforming = kpi_get("archives.nonconforming").measure(scope)[(None, "")]
    reports = kpi_get("archives.missing_reports").measure(scope)
    overdue = reports.get((None, "overdue"))
    completeness = kpi_get("archives.completeness").value(sections)
    return {
        "sections_due": int(sections.denominator),
        "sections_complete": int(sections.numerator),
        "completeness": completeness,
        "meets_goal": completeness is not None and completeness >= COMPLETENESS_GOAL,
        "goal": COMPLETENESS_GOAL,
        "nonconforming": int(nonconforming.numerator),
        "missing_open": int(reports[(None, "")].numerator),
        "missing_overdue": int(overdue.numerator) if overdue else 0,
        "points": points_by_person(branch_ids=branch_ids, start=start, end=end),
    }


def due_for_disposal(*, branch_ids: list[int]):
    """Sealed files whose retention has ended, oldest first: the disposal list."""
    return (
        VehicleFile.objects.filter(branch_id__in=branch_ids, status=FileStatus.SEALED)
        .select_related("vehicle__owner", "disposal_requested_by")
        .order_by("retain_until", "pk")
    )


def branch_staff(branch_id: int):
    """The active people working in a branch: who hands a batch over, who answers for a
    returned document."""
    return (
        User.objects.filter(is_active=True, staff__branches=branch_id)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
