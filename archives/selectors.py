"""Reads of the archive: the archivist's work queue, a file with its sections in filing
order, the handover form of a batch, penalty points per person and the archive figures."""

from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import Count, Prefetch, Q, Sum
from django.utils import timezone

from dealer_crm.figures import ratio
from dealer_crm.periods import local_day_end, local_day_start

from .choices import SALES_DOCUMENTS, SERVICE_DOCUMENTS, BatchStatus, DocumentStatus, FileStatus
from .models import (
    ArchiveDocument,
    FileSection,
    MissingArchiveReport,
    Nonconformity,
    PenaltyPoint,
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


def points_by_person(*, branch_ids: list[int], start: date, end: date) -> list[dict]:
    """Penalty points given in the period (both days included), per person, most first."""
    return list(
        PenaltyPoint.objects.filter(
            branch_id__in=branch_ids,
            given_at__gte=local_day_start(start),
            given_at__lt=local_day_end(end),
        )
        .values("person", "person__first_name", "person__last_name", "person__username")
        # The total last: once annotated, "points" names the total, not the column.
        .annotate(
            nonconforming=Sum("points", filter=Q(reason="nonconforming")),
            late=Sum("points", filter=Q(reason="late_rework")),
            unchanged=Sum("points", filter=Q(reason="returned_unchanged")),
            points=Sum("points"),
        )
        .order_by("-points", "person__username")
    )


def archive_figures(*, branch_ids: list[int], start: date, end: date) -> dict:
    """The archive figures of DOMAIN §6 for the branches and the period (both days included).

    - completeness: of the sections of the period's deliveries and closed work orders that
      are due (their due time passed) or already complete, those complete now; a section
      still within its submission time counts once it is complete. The goal is 99% or more;
    - nonconforming documents: documents returned in the period;
    - missing reports: open now, and of them past their 2 days;
    - penalty points per person given in the period.
    """
    now = timezone.now()
    since, until = local_day_start(start), min(local_day_end(end), now)
    due = (
        FileSection.objects.filter(
            vehicle_file__branch_id__in=branch_ids, period_on__gte=start, period_on__lte=end
        )
        .filter(Q(due_at__lt=now) | Q(complete=True))
        .exclude(vehicle_file__status=FileStatus.DISPOSED)
    )
    sections = due.aggregate(total=Count("pk"), complete=Count("pk", filter=Q(complete=True)))
    nonconforming = Nonconformity.objects.filter(
        branch_id__in=branch_ids, returned_at__gte=since, returned_at__lt=until
    ).count()
    reports = MissingArchiveReport.objects.filter(
        branch_id__in=branch_ids, resolved_at__isnull=True
    ).aggregate(open=Count("pk"), overdue=Count("pk", filter=Q(due_by__lt=timezone.now())))
    completeness = ratio(sections["complete"], sections["total"])
    return {
        "sections_due": sections["total"],
        "sections_complete": sections["complete"],
        "completeness": completeness,
        "meets_goal": completeness is not None and completeness >= COMPLETENESS_GOAL,
        "goal": COMPLETENESS_GOAL,
        "nonconforming": nonconforming,
        "missing_open": reports["open"],
        "missing_overdue": reports["overdue"],
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
