"""Every write of the archive: files and sections opened from deliveries and work orders,
documents uploaded (type sniffed, checksum kept) and checked, the audit with nonconformity
records and penalty points, submission batches, exemptions, reconciliation with the system's
records, and retention: sealing and approved disposal."""

import hashlib
import re
import uuid
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import User
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.models import Vehicle
from dealer_crm.audit import attribute_to
from dealer_crm.choices import Role
from dealer_crm.errors import DomainError, StateConflict
from dealer_crm.models import Branch
from dealer_crm.notifications import branch_managers, notify
from dealer_crm.periods import LOCAL_TIME_ZONE, local_day_end
from dealer_crm.scoping import branch_ids_for
from sales.choices import OrderStatus
from sales.models import Delivery, Order
from service.choices import (
    InsuranceClaimStatus,
    ServiceType,
    WarrantyClaimStatus,
    WorkOrderStatus,
)
from service.models import WorkOrder

from .choices import (
    SALES_DOCUMENTS,
    SERVICE_DOCUMENTS,
    BatchStatus,
    DocumentKind,
    DocumentStatus,
    ExemptionReason,
    FileStatus,
    PenaltyReason,
    SectionKind,
)
from .models import (
    ArchiveDocument,
    Exemption,
    FileSection,
    MissingArchiveReport,
    Nonconformity,
    PenaltyPoint,
    Reconciliation,
    SubmissionBatch,
    VehicleFile,
)

# Scans: PDF, JPEG or PNG, told by their first bytes (the name's extension must agree).
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
}
SAFE_NAME = re.compile(r"[^\w.\- ()\u4e00-\u9fff]")
# A returned document comes back fixed within this time, else one more point.
REWORK_HOURS = 24
# A missing-archive report is due this long after it is opened.
MISSING_REPORT_DAYS = 2
# Service files of a day are due at 10:00 the next morning (collected at 15:00).
SERVICE_DUE_AT = time(10)
SERVICE_COLLECTED_AT = time(15)
# Retention (DOMAIN §6): kept 5 years after the last service; without service here for 3
# years, 5 years from the file's opening, then sealed.
RETENTION_YEARS = 5
DORMANT_YEARS = 3
# The invoice is dated within 24 hours of the PDI certificate: with dates only, the same day
# or the day next to it.
INVOICE_PDI_GAP = timedelta(days=1)
# Metadata the checks read, per document type.
REQUIRED_FACTS = {
    DocumentKind.PURCHASE_INVOICE: ("document_date", "name_on_document"),
    DocumentKind.PDI_CERTIFICATE: ("document_date",),
    DocumentKind.BUYER_ID: ("name_on_document",),
    DocumentKind.PDI_SHEET: ("document_date",),
    DocumentKind.PURCHASE_AGREEMENT: ("document_date",),
}
FACT_MESSAGES = {
    "document_date": gettext_lazy("Enter the date printed on the document."),
    "name_on_document": gettext_lazy("Enter the name printed on the document."),
}
# Work orders whose papers wait for a claim: exempt while it is in progress.
CLAIMS_IN_PROGRESS = Q(
    warranty_claims__status__in=[WarrantyClaimStatus.DRAFT, WarrantyClaimStatus.SUBMITTED]
) | Q(
    insurance_claim__status__in=[
        InsuranceClaimStatus.REPORTED,
        InsuranceClaimStatus.ASSESSED,
        InsuranceClaimStatus.APPROVED,
        InsuranceClaimStatus.REPAIRED,
    ]
)


def add_years(day: date, years: int) -> date:
    """The same day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# --- Files and sections -----------------------------------------------------------------------


def _refuse_sealed(vehicle_file: VehicleFile) -> None:
    if vehicle_file.status != FileStatus.ACTIVE:
        raise StateConflict(
            "file_sealed",
            _("File %(number)s is %(status)s: it can no longer be changed.")
            % {"number": vehicle_file.number, "status": vehicle_file.get_status_display()},
        )


def _file_for(vehicle: Vehicle, branch_id: int, on: date) -> VehicleFile:
    """The vehicle's one file, opened now if it has none (the unique key settles a race)."""
    existing = VehicleFile.objects.filter(vehicle=vehicle).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return VehicleFile.objects.create(
                branch_id=branch_id,
                vehicle=vehicle,
                opened_on=on,
                retain_until=add_years(on, RETENTION_YEARS),
            )
    except IntegrityError:
        return VehicleFile.objects.get(vehicle=vehicle)


def sales_due_at(delivered_on: date) -> datetime:
    """Sales files go to the archive every Monday: a week's deliveries by the end of the
    Monday after."""
    monday = delivered_on + timedelta(days=7 - delivered_on.weekday())
    return local_day_end(monday)


def service_due_at(closed_on: date) -> datetime:
    """A day's service files are due at 10:00 the next day."""
    return datetime.combine(closed_on + timedelta(days=1), SERVICE_DUE_AT, tzinfo=LOCAL_TIME_ZONE)


def service_documents_expected(work_order: WorkOrder) -> list[str]:
    """The papers a work order's file needs, by its type: always the work order, the
    settlement and the check-in/out sheet; the maintenance sheet for maintenance; a road test
    record where a road test is required; the rescue sheet after a rescue; the first
    maintenance voucher for 首保; warranty and maintenance certificate copies for 首保 and
    warranty claims."""
    wanted = {
        DocumentKind.WORK_ORDER,
        DocumentKind.SETTLEMENT,
        DocumentKind.CHECK_IN_OUT_SHEET,
    }
    if work_order.service_type == ServiceType.MAINTENANCE:
        wanted.add(DocumentKind.MAINTENANCE_SHEET)
    else:
        wanted.add(DocumentKind.ROAD_TEST_RECORD)
    if work_order.service_type == ServiceType.RESCUE or work_order.rescues.exists():
        wanted.add(DocumentKind.RESCUE_SHEET)
    if work_order.is_first_maintenance:
        wanted.add(DocumentKind.FIRST_MAINTENANCE_VOUCHER)
    if (
        work_order.is_first_maintenance
        or work_order.service_type == ServiceType.WARRANTY
        or work_order.warranty_claims.exists()
    ):
        wanted |= {DocumentKind.WARRANTY_CERTIFICATE, DocumentKind.MAINTENANCE_CERTIFICATE}
    return [kind for kind in SERVICE_DOCUMENTS if kind in wanted]


@transaction.atomic
def sales_section_open(*, delivery_id: int) -> FileSection:
    """The sales section of a delivered vehicle's file (opening the file); opening it twice
    gives the same section."""
    delivery = Delivery.objects.select_related("order").get(pk=delivery_id)
    existing = FileSection.objects.filter(delivery=delivery).first()
    if existing is not None:
        return existing
    vehicle_file = _file_for(delivery.vehicle, delivery.order.branch_id, delivery.delivered_on)
    section = FileSection.objects.create(
        vehicle_file=vehicle_file,
        kind=SectionKind.SALES,
        delivery=delivery,
        expected=list(SALES_DOCUMENTS),
        period_on=delivery.delivered_on,
        due_at=sales_due_at(delivery.delivered_on),
    )
    _section_refresh(section)
    return section


@transaction.atomic
def service_section_open(*, work_order_id: int) -> FileSection:
    """The service section of a closed work order (opening the vehicle's file at its first
    service); the file's last service and retention move with it. A sealed file is reopened:
    the vehicle is being serviced here again."""
    work_order = WorkOrder.objects.get(pk=work_order_id)
    existing = FileSection.objects.filter(work_order=work_order).first()
    if existing is not None:
        return existing
    closed_on = timezone.localdate(work_order.closed_at or timezone.now())
    vehicle_file = _file_for(work_order.vehicle, work_order.branch_id, closed_on)
    vehicle_file = VehicleFile.objects.select_for_update().get(pk=vehicle_file.pk)
    if vehicle_file.status != FileStatus.ACTIVE:
        vehicle_file.status, vehicle_file.sealed_at = FileStatus.ACTIVE, None
        vehicle_file.disposal_requested_by = vehicle_file.disposal_requested_at = None
        attribute_to(vehicle_file, None, f"reopened: serviced again on {work_order.number}")
    vehicle_file.last_service_on = max(filter(None, [vehicle_file.last_service_on, closed_on]))
    vehicle_file.retain_until = retention_date(vehicle_file, timezone.localdate())
    vehicle_file.save()
    section = FileSection.objects.create(
        vehicle_file=vehicle_file,
        kind=SectionKind.SERVICE,
        work_order=work_order,
        expected=service_documents_expected(work_order),
        period_on=closed_on,
        due_at=service_due_at(closed_on),
    )
    _section_refresh(section)
    return section


# --- Documents ----------------------------------------------------------------------------------


def _sniffed_type(upload: File) -> str:
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for content_type, signatures in SIGNATURES.items():
        if head.startswith(signatures):
            return content_type
    raise DomainError(
        "file_type_not_allowed",
        _("Upload a scan as PDF, JPEG or PNG; this file is none of them."),
        field="file",
    )


def _clean_name(name: str) -> str:
    """The file name as given, without any path: a name with one is refused."""
    if "/" in name or "\\" in name or name.startswith(".") or "\x00" in name:
        raise DomainError(
            "file_name_invalid",
            _("A file name cannot contain a path."),
            field="file",
        )
    cleaned = SAFE_NAME.sub("_", name).strip()[:120]
    if not cleaned:
        raise DomainError("file_name_invalid", _("The file has no name."), field="file")
    return cleaned


def _checked_upload(upload: File) -> tuple[str, str, str]:
    """(clean name, sniffed type, sha256) of an acceptable scan."""
    name = _clean_name(upload.name or "")
    if upload.size > MAX_DOCUMENT_BYTES:
        raise DomainError(
            "file_too_large",
            _("A scan is at most %(mb)s MB; this one is %(size).1f MB.")
            % {"mb": MAX_DOCUMENT_BYTES // (1024 * 1024), "size": upload.size / (1024 * 1024)},
            field="file",
        )
    if upload.size == 0:
        raise DomainError("file_empty", _("The file is empty."), field="file")
    content_type = _sniffed_type(upload)
    if not name.lower().endswith(EXTENSIONS[content_type]):
        raise DomainError(
            "file_type_mismatch",
            _("The file is a %(type)s but its name says otherwise; rename it and upload again.")
            % {"type": content_type.split("/")[1].upper()},
            field="file",
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return name, content_type, digest.hexdigest()


def _facts(kind: str, data: dict) -> dict:
    facts = {
        "document_date": data.get("document_date"),
        "name_on_document": (data.get("name_on_document") or "").strip(),
        "signed": bool(data.get("signed", False)),
        "stamped": bool(data.get("stamped", False)),
        "all_pages": bool(data.get("all_pages", True)),
    }
    for field in REQUIRED_FACTS.get(kind, ()):
        if not facts[field]:
            raise DomainError("document_fact_required", str(FACT_MESSAGES[field]), field=field)
    return facts


@transaction.atomic
def document_upload(
    *, section: FileSection, kind: str, upload: File, by: User, data: dict | None = None
) -> ArchiveDocument:
    """A scan filed into a section: PDF, JPEG or PNG by its content (the name must agree), at
    most 10 MB, no path in its name; stored with its SHA-256. The document's facts are what
    the checks read. A new upload of a type replaces the current one; sending back a
    returned document marks its record, and sending it back unchanged costs a point. The
    section's checks run at once."""
    section = (
        FileSection.objects.select_related("vehicle_file").select_for_update().get(pk=section.pk)
    )
    _refuse_sealed(section.vehicle_file)
    allowed = SALES_DOCUMENTS if section.kind == SectionKind.SALES else SERVICE_DOCUMENTS
    if kind not in allowed:
        raise DomainError(
            "document_not_expected",
            _("A %(section)s holds no %(kind)s.")
            % {
                "section": section.get_kind_display(),
                "kind": dict(DocumentKind.choices).get(kind, kind),
            },
            field="kind",
        )
    name, content_type, sha256 = _checked_upload(upload)
    facts = _facts(kind, data or {})
    current = (
        ArchiveDocument.objects.select_for_update()
        .filter(section=section, kind=kind)
        .exclude(status=DocumentStatus.REPLACED)
        .first()
    )
    if current is not None:
        current.status = DocumentStatus.REPLACED
        attribute_to(current, by, "replaced by a new upload").save()
    stored = default_storage.save(
        f"archives/{section.vehicle_file.branch_id}/{section.vehicle_file.number}/"
        f"{uuid.uuid4().hex}{EXTENSIONS[content_type][0]}",
        upload,
    )
    document = ArchiveDocument(
        section=section,
        kind=kind,
        original_name=name,
        content_type=content_type,
        size=upload.size,
        sha256=sha256,
        uploaded_by=by,
        **facts,
    )
    document.file.name = stored
    attribute_to(document, by).save()
    if current is not None:
        _resubmission(current, document, by)
    _section_refresh(section)
    return document


def _resubmission(previous: ArchiveDocument, document: ArchiveDocument, by: User) -> None:
    """A returned document comes back: its open record notes it (the first time counts for
    the 24 hours: later, one more point); the same file as returned, one more point."""
    record = (
        Nonconformity.objects.select_for_update()
        .select_related("document")
        .filter(Q(document=previous) | Q(resubmitted=previous), resolved_at__isnull=True)
        .first()
    )
    if record is None:
        return
    now = timezone.now()
    record.resubmitted = document
    record.resubmitted_at = record.resubmitted_at or now
    attribute_to(record, by).save()
    if record.resubmitted_at > record.due_by:
        _point(record, PenaltyReason.LATE_REWORK)
    if document.sha256 == record.document.sha256:
        _point(record, PenaltyReason.RETURNED_UNCHANGED)


def _point(record: Nonconformity, reason: str) -> bool:
    """One point for the record's responsible person, once per reason."""
    _point_row, created = PenaltyPoint.objects.get_or_create(
        nonconformity=record,
        reason=reason,
        defaults={"branch_id": record.branch_id, "person_id": record.responsible_id},
    )
    return created


# --- Checks -------------------------------------------------------------------------------------


# What a check finds, stored as a code with its values and shown in the reader's language.
FINDINGS = {
    "invoice_pdi_gap": gettext_lazy(
        "The invoice (%(invoice)s) is dated %(days)s days from the PDI certificate (%(pdi)s); "
        "at most 24 hours."
    ),
    "invoice_buyer_mismatch": gettext_lazy(
        "The invoice names %(invoice)s as buyer; the ID says %(id)s."
    ),
    "pdi_dates_differ": gettext_lazy(
        "The PDI certificate is dated %(certificate)s, the PDI sheet %(sheet)s."
    ),
    "agreement_incomplete": gettext_lazy("The purchase agreement lacks %(what)s."),
    "documents_missing": gettext_lazy("Missing: %(documents)s."),
}
AGREEMENT_PARTS = {
    "all_pages": gettext_lazy("every page"),
    "signed": gettext_lazy("the signature"),
    "stamped": gettext_lazy("the stamp"),
}


def finding_text(finding: dict) -> str:
    """A stored finding in the active language."""
    values = dict(finding.get("values", {}))
    if finding["code"] == "agreement_incomplete":
        values["what"] = ", ".join(str(AGREEMENT_PARTS[part]) for part in values["what"])
    if finding["code"] == "documents_missing":
        values["documents"] = "; ".join(
            str(DocumentKind(kind).label) for kind in values["documents"]
        )
    return str(FINDINGS[finding["code"]]) % values


def _normalized(name: str) -> str:
    return re.sub(r"\s+", "", name).casefold()


def sales_checks(documents: dict) -> list[dict]:
    """The checks of DOMAIN §6 on a sales file's current documents (by type): invoice dated
    within 24 hours of the PDI certificate, invoice buyer = the ID / organization name, PDI
    certificate date = the final PDI sheet date, agreement complete, signed and stamped."""
    found = []
    invoice = documents.get(DocumentKind.PURCHASE_INVOICE)
    certificate = documents.get(DocumentKind.PDI_CERTIFICATE)
    buyer_id = documents.get(DocumentKind.BUYER_ID)
    sheet = documents.get(DocumentKind.PDI_SHEET)
    agreement = documents.get(DocumentKind.PURCHASE_AGREEMENT)
    if invoice and certificate and invoice.document_date and certificate.document_date:
        gap = abs(invoice.document_date - certificate.document_date)
        if gap > INVOICE_PDI_GAP:
            found.append({"code": "invoice_pdi_gap", "values": {
                "invoice": invoice.document_date.isoformat(),
                "pdi": certificate.document_date.isoformat(),
                "days": gap.days,
            }})  # fmt: skip
    if (
        invoice
        and buyer_id
        and invoice.name_on_document
        and buyer_id.name_on_document
        and _normalized(invoice.name_on_document) != _normalized(buyer_id.name_on_document)
    ):
        found.append({"code": "invoice_buyer_mismatch", "values": {
            "invoice": invoice.name_on_document, "id": buyer_id.name_on_document,
        }})  # fmt: skip
    if (
        certificate
        and sheet
        and certificate.document_date
        and sheet.document_date
        and certificate.document_date != sheet.document_date
    ):
        found.append({"code": "pdi_dates_differ", "values": {
            "certificate": certificate.document_date.isoformat(),
            "sheet": sheet.document_date.isoformat(),
        }})  # fmt: skip
    if agreement:
        lacking = [part for part in AGREEMENT_PARTS if not getattr(agreement, part)]
        if lacking:
            found.append({"code": "agreement_incomplete", "values": {"what": lacking}})
    return found


def section_findings(section: FileSection, documents: dict) -> list[dict]:
    """Everything wrong with the section now: the checks, and the documents still missing."""
    found = sales_checks(documents) if section.kind == SectionKind.SALES else []
    missing = [kind for kind in section.expected if kind not in documents]
    if missing:
        found.append({"code": "documents_missing", "values": {"documents": missing}})
    return found


def _section_refresh(section: FileSection) -> FileSection:
    """Rerun the section's checks; complete when every expected document is in, audited
    conforming, and no check finds anything. A complete section resolves its missing report."""
    documents = {
        document.kind: document
        for document in section.documents.exclude(status=DocumentStatus.REPLACED)
    }
    section.findings = section_findings(section, documents)
    complete = not section.findings and all(
        documents[kind].status == DocumentStatus.CONFORMING for kind in section.expected
    )
    if complete != section.complete:
        section.complete = complete
        section.completed_at = timezone.now() if complete else None
    section.save()
    all_in = all(kind in documents for kind in section.expected)
    if all_in:
        MissingArchiveReport.objects.filter(section=section, resolved_at__isnull=True).update(
            resolved_at=timezone.now()
        )
    return section


@transaction.atomic
def section_check(*, section: FileSection) -> FileSection:
    """Run the section's checks again (an audit does, and anyone may)."""
    section = (
        FileSection.objects.select_for_update().select_related("vehicle_file").get(pk=section.pk)
    )
    _refuse_sealed(section.vehicle_file)
    return _section_refresh(section)


# --- Audit --------------------------------------------------------------------------------------


def _staff_of(branch_id: int, user: User | None) -> bool:
    return bool(
        user and user.is_active and Branch.objects.filter(pk=branch_id, staff__user=user).exists()
    )


def archivists(branch: Branch):
    """The branch's active archivists (customer care)."""
    return User.objects.filter(
        is_active=True, staff__branches=branch, groups__name=Role.CUSTOMER_CARE
    ).distinct()


def responsible_for(section: FileSection) -> User:
    """Who answers for a section's papers: the order's consultant, the work order's advisor."""
    if section.kind == SectionKind.SALES:
        return section.delivery.order.consultant
    return section.work_order.advisor


@transaction.atomic
def document_audit(
    *,
    document: ArchiveDocument,
    conforming: bool,
    by: User,
    reason: str = "",
    responsible: User | None = None,
) -> ArchiveDocument:
    """Review a document. Conforming, it counts toward the section's completeness (and
    resolves the record of the version it fixes). Nonconforming, it is returned with a
    record — the reason and the person responsible (the order's consultant or the work
    order's advisor unless named) — and one penalty point; it is due back fixed within 24
    hours."""
    document = (
        ArchiveDocument.objects.select_for_update()
        .select_related("section__vehicle_file")
        .get(pk=document.pk)
    )
    section = document.section
    _refuse_sealed(section.vehicle_file)
    if document.status != DocumentStatus.RECEIVED:
        raise StateConflict(
            "document_not_awaiting_audit",
            _("This document was already audited (%(status)s).")
            % {"status": document.get_status_display()},
        )
    now = timezone.now()
    document.audited_by, document.audited_at = by, now
    if conforming:
        document.status = DocumentStatus.CONFORMING
        attribute_to(document, by, "audited: conforming").save()
        Nonconformity.objects.filter(resubmitted=document, resolved_at__isnull=True).update(
            resolved_at=now
        )
    else:
        reason = reason.strip()
        if not reason:
            raise DomainError(
                "reason_required", _("Say what is wrong with the document."), field="reason"
            )
        branch_id = section.vehicle_file.branch_id
        responsible = responsible or responsible_for(section)
        if not _staff_of(branch_id, responsible):
            raise DomainError(
                "responsible_other_branch",
                _("The person responsible works in the file's branch."),
                field="responsible",
            )
        document.status = DocumentStatus.RETURNED
        attribute_to(document, by, f"returned: {reason}").save()
        Nonconformity.objects.filter(resubmitted=document, resolved_at__isnull=True).update(
            resolved_at=now
        )
        record = Nonconformity.objects.create(
            branch_id=branch_id,
            document=document,
            reason=reason,
            responsible=responsible,
            returned_by=by,
            due_by=now + timedelta(hours=REWORK_HOURS),
        )
        _point(record, PenaltyReason.NONCONFORMING)
        notify(
            recipients=[responsible],
            key=f"archives.returned.{document.pk}",
            title=_("Archive document returned: %(kind)s") % {"kind": document.get_kind_display()},
            body=_("%(file)s: %(reason)s. Send it back fixed within 24 hours.")
            % {"file": section.vehicle_file.number, "reason": reason},
            url=reverse("archives:file-detail", args=[section.vehicle_file_id]),
            branch=section.vehicle_file.branch,
        )
    section = FileSection.objects.select_for_update().get(pk=section.pk)
    _section_refresh(section)
    return document


def rework_overdue(*, now: datetime | None = None) -> int:
    """Hourly: a returned document not sent back within 24 hours costs its responsible one
    more point, once. Returns the points given."""
    now = now or timezone.now()
    given = 0
    overdue = Nonconformity.objects.filter(
        resolved_at__isnull=True, resubmitted__isnull=True, due_by__lt=now
    ).exclude(points__reason=PenaltyReason.LATE_REWORK)
    for record_id in overdue.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            record = Nonconformity.objects.select_for_update().get(pk=record_id)
            given += _point(record, PenaltyReason.LATE_REWORK)
    return given


# --- Submission batches -------------------------------------------------------------------------


def _period_of(section: FileSection) -> tuple[date, date, datetime]:
    if section.kind == SectionKind.SALES:
        start = section.period_on - timedelta(days=section.period_on.weekday())
        return start, start + timedelta(days=6), sales_due_at(section.period_on)
    return section.period_on, section.period_on, service_due_at(section.period_on)


def batches_prepare(*, now: datetime | None = None) -> int:
    """Hourly: every section of a period that has ended joins its period's batch (made when
    first needed); a batch not received by its due time is flagged late once, and the
    branch's archivists and managers told. Returns the batches flagged."""
    now = now or timezone.now()
    batches_assign(now=now)
    return batches_flag_late(now=now)


def batches_assign(*, now: datetime) -> None:
    """Every section of a period that has ended joins its period's batch."""
    today = timezone.localdate(now)
    waiting = FileSection.objects.filter(batch__isnull=True, period_on__lt=today).select_related(
        "vehicle_file"
    )
    for section in waiting.iterator():
        if section.kind == SectionKind.SALES and _period_of(section)[1] >= today:
            continue  # the week is not over
        start, end, due_at = _period_of(section)
        with transaction.atomic():
            batch, _created = SubmissionBatch.objects.get_or_create(
                branch_id=section.vehicle_file.branch_id,
                kind=section.kind,
                period_start=start,
                defaults={"period_end": end, "due_at": due_at},
            )
            FileSection.objects.filter(pk=section.pk, batch__isnull=True).update(batch=batch)


def batches_flag_late(*, now: datetime) -> int:
    """A batch not received by its due time is flagged late once and told to the branch's
    archivists and managers. Returns the batches flagged."""
    flagged = 0
    late = SubmissionBatch.objects.filter(
        status=BatchStatus.EXPECTED, due_at__lt=now, late_flagged_at__isnull=True
    ).select_related("branch")
    for batch in late:
        with transaction.atomic():
            if not SubmissionBatch.objects.filter(pk=batch.pk, late_flagged_at__isnull=True).update(
                late_flagged_at=now
            ):
                continue
            flagged += 1
            notify(
                recipients=[*branch_managers(batch.branch), *archivists(batch.branch)],
                key=f"archives.batch_late.{batch.pk}",
                title=_("Archive batch late: %(batch)s") % {"batch": batch.number},
                body=_("%(kind)s of %(start)s–%(end)s were due by %(due)s.")
                % {
                    "kind": batch.get_kind_display(),
                    "start": batch.period_start,
                    "end": batch.period_end,
                    "due": timezone.localtime(batch.due_at).strftime("%Y-%m-%d %H:%M"),
                },
                url=reverse("archives:batch-detail", args=[batch.pk]),
                branch=batch.branch,
            )
    return flagged


@transaction.atomic
def batch_receive(*, batch: SubmissionBatch, handed_over_by: User, by: User) -> SubmissionBatch:
    """The archive takes a batch over: the handover form (档案交接表) records who brought it,
    who received it, when, and how many files and documents it held."""
    batch = SubmissionBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status == BatchStatus.RECEIVED:
        raise StateConflict("batch_already_received", _("This batch was already received."))
    if not _staff_of(batch.branch_id, handed_over_by):
        raise DomainError(
            "handed_over_by_other_branch",
            _("The person handing over works in the batch's branch."),
            field="handed_over_by",
        )
    sections = FileSection.objects.filter(batch=batch)
    batch.file_count = sections.count()
    batch.document_count = (
        ArchiveDocument.objects.filter(section__batch=batch)
        .exclude(status=DocumentStatus.REPLACED)
        .count()
    )
    batch.status, batch.received_at = BatchStatus.RECEIVED, timezone.now()
    batch.received_by, batch.handed_over_by = by, handed_over_by
    attribute_to(batch, by).save()
    return batch


# --- Exemptions, reconciliation and missing reports ---------------------------------------------


@transaction.atomic
def exemption_grant(
    *, section: FileSection, reason: str, note: str, ends_on: date, by: User
) -> Exemption:
    """Excuse a section's papers until a day, with the reason; an open missing report of the
    section is resolved by it."""
    section = (
        FileSection.objects.select_for_update().select_related("vehicle_file").get(pk=section.pk)
    )
    _refuse_sealed(section.vehicle_file)
    note = note.strip()
    if not note:
        raise DomainError("note_required", _("Say why the papers are not due."), field="note")
    if ends_on < timezone.localdate():
        raise DomainError(
            "exemption_in_the_past", _("An exemption lasts until today or later."), field="ends_on"
        )
    exemption, _created = Exemption.objects.update_or_create(
        section=section,
        defaults={"reason": reason, "note": note, "ends_on": ends_on, "granted_by": by},
    )
    MissingArchiveReport.objects.filter(section=section, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )
    return exemption


def _exempt_claims(branch: Branch, today: date) -> None:
    """Service sections whose work order has a claim in progress are exempt until the claim
    is done (each run extends it to the day; an exemption lasting longer is kept)."""
    sections = (
        FileSection.objects.filter(
            vehicle_file__branch=branch,
            vehicle_file__status=FileStatus.ACTIVE,
            kind=SectionKind.SERVICE,
            complete=False,
            work_order__in=WorkOrder.objects.filter(CLAIMS_IN_PROGRESS),
        )
        .exclude(exemption__ends_on__gt=today)
        .select_related("work_order")
    )
    for section in sections:
        Exemption.objects.update_or_create(
            section=section,
            defaults={
                "reason": ExemptionReason.CLAIM_IN_PROGRESS,
                "note": _("Claim in progress on %(number)s.") % {"number": section.work_order},
                "ends_on": today,
                "granted_by": None,
            },
        )


def reconcile(*, branch: Branch, now: datetime | None = None) -> Reconciliation:
    """Compare the branch's archive with its records: every delivery and closed work order
    gets its section (opened now if the event was missed); a section of an active file
    whose papers are not in by their due time, and not exempt, opens a missing-archive
    report due in 2 days (a sealed file takes no papers, so it gets none).
    Orders not yet invoiced and work orders still in repair are counted as not due. The
    day's counts are kept: a rerun replaces them and adds what it opened."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    opened = 0
    for delivery_id in Delivery.objects.filter(
        order__branch=branch, archive_section__isnull=True
    ).values_list("pk", flat=True):
        sales_section_open(delivery_id=delivery_id)
        opened += 1
    for work_order_id in WorkOrder.objects.filter(
        branch=branch, status=WorkOrderStatus.CLOSED, archive_section__isnull=True
    ).values_list("pk", flat=True):
        service_section_open(work_order_id=work_order_id)
        opened += 1
    _exempt_claims(branch, today)
    sections = FileSection.objects.filter(vehicle_file__branch=branch)
    late = (
        sections.filter(due_at__lt=now, complete=False, missing_report__isnull=True)
        .exclude(Q(exemption__isnull=False) & Q(exemption__ends_on__gte=today))
        .filter(vehicle_file__status=FileStatus.ACTIVE)
    )
    reports_opened = 0
    for section in late.prefetch_related("documents"):
        received = {d.kind for d in section.documents.all() if d.status != DocumentStatus.REPLACED}
        if all(kind in received for kind in section.expected):
            continue
        with transaction.atomic():
            _report, created = MissingArchiveReport.objects.get_or_create(
                section=section,
                defaults={
                    "branch": branch,
                    "opened_at": now,
                    "due_by": now + timedelta(days=MISSING_REPORT_DAYS),
                },
            )
            reports_opened += created
    earlier = Reconciliation.objects.filter(branch=branch, day=today).first()
    if earlier is not None:  # the day's earlier runs count too
        opened += earlier.sections_opened
        reports_opened += earlier.reports_opened
    run, _created = Reconciliation.objects.update_or_create(
        branch=branch,
        day=today,
        defaults={
            "deliveries": Delivery.objects.filter(order__branch=branch).count(),
            "sales_sections": sections.filter(kind=SectionKind.SALES).count(),
            "work_orders": WorkOrder.objects.filter(
                branch=branch, status=WorkOrderStatus.CLOSED
            ).count(),
            "service_sections": sections.filter(kind=SectionKind.SERVICE).count(),
            "sections_opened": opened,
            "not_invoiced": Order.objects.filter(
                branch=branch, status__in=[OrderStatus.SIGNED, OrderStatus.ALLOCATED]
            ).count(),
            "in_repair": WorkOrder.objects.filter(branch=branch)
            .exclude(status=WorkOrderStatus.CLOSED)
            .count(),
            "exempt": Exemption.objects.filter(
                section__vehicle_file__branch=branch, ends_on__gte=today
            ).count(),
            "reports_opened": reports_opened,
            "reports_open": MissingArchiveReport.objects.filter(
                branch=branch, resolved_at__isnull=True
            ).count(),
            "run_at": now,
        },
    )
    return run


def missing_reports_flag_overdue(*, now: datetime | None = None) -> int:
    """Hourly: a missing report past its 2 days is flagged once and told to the branch's
    managers and archivists."""
    now = now or timezone.now()
    flagged = 0
    overdue = MissingArchiveReport.objects.filter(
        resolved_at__isnull=True, due_by__lt=now, overdue_flagged_at__isnull=True
    ).select_related("branch")
    for report in overdue:
        if not MissingArchiveReport.objects.filter(
            pk=report.pk, overdue_flagged_at__isnull=True
        ).update(overdue_flagged_at=now):
            continue
        flagged += 1
        notify(
            recipients=[*branch_managers(report.branch), *archivists(report.branch)],
            key=f"archives.missing_overdue.{report.pk}",
            title=_("Missing archive overdue: %(number)s") % {"number": report.number},
            url=reverse("archives:missing-detail", args=[report.pk]),
            branch=report.branch,
        )
    return flagged


# --- Retention ----------------------------------------------------------------------------------


def retention_date(vehicle_file: VehicleFile, today: date) -> date:
    """DOMAIN §6: serviced here within 3 years, kept 5 years after the last service;
    otherwise 5 years from the file's opening."""
    last = vehicle_file.last_service_on
    if last is not None and last > add_years(today, -DORMANT_YEARS):
        return add_years(last, RETENTION_YEARS)
    return add_years(vehicle_file.opened_on, RETENTION_YEARS)


def retention_apply(*, today: date | None = None) -> int:
    """Nightly: recompute every active file's retain-until date and seal (封存) those whose
    time has come; sealed files are read-only. Returns the files sealed."""
    today = today or timezone.localdate()
    sealed = 0
    active = VehicleFile.objects.filter(status=FileStatus.ACTIVE).order_by("pk")
    last_id = 0
    while True:
        chunk = list(active.filter(pk__gt=last_id)[:1000])
        if not chunk:
            return sealed
        last_id = chunk[-1].pk
        for vehicle_file in chunk:
            keep = retention_date(vehicle_file, today)
            if keep <= today:
                with transaction.atomic():
                    changed = VehicleFile.objects.filter(
                        pk=vehicle_file.pk, status=FileStatus.ACTIVE
                    ).update(status=FileStatus.SEALED, sealed_at=timezone.now(), retain_until=keep)
                    sealed += changed
            elif keep != vehicle_file.retain_until:
                VehicleFile.objects.filter(pk=vehicle_file.pk).update(retain_until=keep)


@transaction.atomic
def disposal_request(*, vehicle_file: VehicleFile, by: User) -> VehicleFile:
    """Put a sealed file forward for disposal; a manager approves it."""
    vehicle_file = VehicleFile.objects.select_for_update().get(pk=vehicle_file.pk)
    if vehicle_file.status != FileStatus.SEALED:
        raise StateConflict(
            "file_not_sealed", _("Only a sealed file whose retention has ended is disposed of.")
        )
    if vehicle_file.disposal_requested_at is not None:
        raise StateConflict("disposal_already_requested", _("Disposal was already requested."))
    vehicle_file.disposal_requested_by, vehicle_file.disposal_requested_at = by, timezone.now()
    attribute_to(vehicle_file, by, "disposal requested").save()
    notify(
        recipients=branch_managers(vehicle_file.branch),
        key=f"archives.disposal.{vehicle_file.pk}",
        title=_("Disposal to approve: %(number)s") % {"number": vehicle_file.number},
        url=reverse("archives:file-detail", args=[vehicle_file.pk]),
        branch=vehicle_file.branch,
    )
    return vehicle_file


@transaction.atomic
def disposal_approve(*, vehicle_file: VehicleFile, by: User) -> VehicleFile:
    """A manager approves a requested disposal: the scans are destroyed and the file keeps
    the record of what was destroyed, by whose approval and when. Nobody approves their own
    request."""
    vehicle_file = VehicleFile.objects.select_for_update().get(pk=vehicle_file.pk)
    if not by.has_perm("archives.approve_disposal") or vehicle_file.branch_id not in (
        branch_ids_for(by)
    ):
        raise DomainError("not_an_approver", _("Only a manager of the file's branch approves it."))
    if vehicle_file.status != FileStatus.SEALED or vehicle_file.disposal_requested_at is None:
        raise StateConflict("disposal_not_requested", _("Disposal of this file was not requested."))
    if vehicle_file.disposal_requested_by_id == by.pk:
        raise DomainError(
            "own_request", _("Someone other than the person who asked approves the disposal.")
        )
    documents = list(
        ArchiveDocument.objects.filter(section__vehicle_file=vehicle_file).order_by("pk")
    )
    vehicle_file.destroyed = [
        {
            "kind": document.kind,
            "name": document.original_name,
            "size": document.size,
            "sha256": document.sha256,
            "uploaded_at": document.uploaded_at.isoformat(),
        }
        for document in documents
    ]
    vehicle_file.status = FileStatus.DISPOSED
    vehicle_file.disposed_by, vehicle_file.disposed_at = by, timezone.now()
    attribute_to(vehicle_file, by, f"disposed: {len(documents)} documents destroyed").save()
    names = [document.file.name for document in documents if document.file.name]
    transaction.on_commit(lambda: [default_storage.delete(name) for name in names])
    return vehicle_file
