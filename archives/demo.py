"""The archive of the demo: every delivered vehicle and every closed work order of both
branches has its file, and the papers that fell due are filed, audited and handed over in
their batches by the archivist (林美玲, who works for both branches) — except what her day
holds, in each branch:

- the latest delivery: its seven papers sent in by the consultant, awaiting audit, the
  invoice dated three days after the PDI certificate (the journey returns it with a point
  and receives it fixed);
- the latest work order closed three or more days ago, whose papers never reached the
  archive and whose file was never opened (running the reconciliation opens it and reports
  it missing);
- yesterday's service batch, not yet received (the batches before were received on time,
  the last of them half an hour late);
- a settlement returned two days ago and not sent back (a late point), and, where a sales
  file fell due, an invoice returned and sent back fixed within the day.

Everything goes through the archive services with small generated PDF scans, then is moved
back to when it happened. Loading twice changes nothing.
"""

from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.utils import timezone

from dealer_crm.models import Branch
from dealer_crm.periods import LOCAL_TIME_ZONE
from sales.models import Delivery
from service.choices import WorkOrderStatus
from service.models import WorkOrder

from . import services
from .choices import SALES_DOCUMENTS, BatchStatus, DocumentKind
from .models import ArchiveDocument, FileSection, Nonconformity, PenaltyPoint, SubmissionBatch


def scan_pdf(*lines: str) -> bytes:
    """A one-page A4 PDF showing `lines` (ASCII), as a scanner would send it."""
    text = " ".join(f"({line.replace('(', '[').replace(')', ']')}) Tj 0 -28 Td" for line in lines)
    stream = f"BT /F1 16 Tf 72 770 Td {text} ET".encode("ascii", "replace")
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R"
        b"/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length %d>>stream\n" % len(stream) + stream + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    body, offsets = b"%PDF-1.4\n", []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return body


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TIME_ZONE)


def _facts(section: FileSection, kind: str) -> dict:
    """What a correct paper of the section says: dated the day, in the buyer's name."""
    day = section.period_on
    buyer = section.vehicle_file.vehicle.owner.name
    return {
        "document_date": day,
        "name_on_document": buyer
        if kind in (DocumentKind.PURCHASE_INVOICE, DocumentKind.BUYER_ID)
        else "",
        "signed": True,
        "stamped": True,
        "all_pages": True,
    }


def _upload(section: FileSection, kind: str, by: User, *, facts: dict | None = None, note=""):
    vehicle = section.vehicle_file.vehicle
    content = scan_pdf(
        str(DocumentKind(kind).label).split(" (")[0].upper(),
        f"{section.vehicle_file.number}  VIN {vehicle.vin}",
        f"{section.period_on.isoformat()} {note}",
    )
    return services.document_upload(
        section=section,
        kind=kind,
        upload=ContentFile(content, name=f"{kind}-{vehicle.vin[-6:]}.pdf"),
        by=by,
        data=facts or _facts(section, kind),
    )


def _filer(section: FileSection) -> User:
    return services.responsible_for(section)


def _receipt_day(section: FileSection) -> date:
    """The day the archive takes the section's papers over: the Monday after a delivery, the
    day after a work order was closed."""
    if section.kind == "sales":
        return section.period_on + timedelta(days=7 - section.period_on.weekday())
    return section.period_on + timedelta(days=1)


def _dated(section: FileSection) -> datetime:
    """Move the section's papers back: scanned in the evening of the delivery or just after
    the closing, audited at 11:00 on the day the archive takes them over. Returns the audit
    time."""
    audited_at = _at(_receipt_day(section), 11)
    scanned_at = (
        section.work_order.closed_at + timedelta(minutes=30)
        if section.work_order_id
        else _at(section.period_on, 17, 30)
    )
    ArchiveDocument.objects.filter(section=section).update(uploaded_at=scanned_at)
    ArchiveDocument.objects.filter(section=section, audited_at__isnull=False).update(
        audited_at=audited_at
    )
    FileSection.objects.filter(pk=section.pk, complete=True).update(completed_at=audited_at)
    return audited_at


def _file_and_audit(section: FileSection, archivist: User) -> None:
    """Every expected paper sent in and audited conforming."""
    filer = _filer(section)
    for kind in section.expected:
        document = _upload(section, kind, filer)
        services.document_audit(document=document, conforming=True, by=archivist)
    _dated(section)


def _returned_and_fixed(section: FileSection, archivist: User) -> None:
    """An invoice in the wrong name, returned, and sent back fixed within the day."""
    filer = _filer(section)
    for kind in section.expected:
        facts = _facts(section, kind)
        if kind == DocumentKind.PURCHASE_INVOICE:
            facts["name_on_document"] = facts["name_on_document"][:1] + "某"
        document = _upload(section, kind, filer, facts=facts)
        if kind != DocumentKind.PURCHASE_INVOICE:
            services.document_audit(document=document, conforming=True, by=archivist)
            continue
        returned = document
        services.document_audit(
            document=returned, conforming=False, by=archivist, reason="发票购买方与身份证姓名不符"
        )
        fixed = _upload(section, kind, filer, note="corrected")
        services.document_audit(document=fixed, conforming=True, by=archivist)
    returned_at = _dated(section)
    back_at, resolved_at = returned_at + timedelta(hours=5), returned_at + timedelta(hours=6)
    ArchiveDocument.objects.filter(pk=fixed.pk).update(uploaded_at=back_at, audited_at=resolved_at)
    FileSection.objects.filter(pk=section.pk).update(completed_at=resolved_at)
    Nonconformity.objects.filter(document=returned).update(
        returned_at=returned_at,
        due_by=returned_at + timedelta(hours=services.REWORK_HOURS),
        resubmitted_at=back_at,
        resolved_at=resolved_at,
    )
    PenaltyPoint.objects.filter(nonconformity__document=returned).update(given_at=returned_at)


def _returned_not_back(section: FileSection, archivist: User, now: datetime) -> None:
    """A settlement without the customer's signature, returned two days ago, still out."""
    filer = _filer(section)
    for kind in section.expected:
        document = _upload(section, kind, filer)
        if kind != DocumentKind.SETTLEMENT:
            services.document_audit(document=document, conforming=True, by=archivist)
            continue
        returned = document
        services.document_audit(
            document=returned, conforming=False, by=archivist, reason="结算单缺客户签字"
        )
    _dated(section)
    returned_at = now - timedelta(days=2)
    ArchiveDocument.objects.filter(pk=returned.pk).update(audited_at=returned_at)
    Nonconformity.objects.filter(document=returned).update(
        returned_at=returned_at, due_by=returned_at + timedelta(hours=services.REWORK_HOURS)
    )
    PenaltyPoint.objects.filter(nonconformity__document=returned).update(given_at=returned_at)


def _sent_for_audit(section: FileSection) -> None:
    """The journey's file: all seven papers in, the invoice dated three days after the PDI."""
    filer = _filer(section)
    for kind in SALES_DOCUMENTS:
        facts = _facts(section, kind)
        if kind == DocumentKind.PURCHASE_INVOICE:
            facts["document_date"] = section.period_on + timedelta(days=3)
        _upload(section, kind, filer, facts=facts)


def _batches(branch: Branch, archivist: User, now: datetime) -> None:
    """Batches of the ended periods; all but last week's sales files and yesterday's
    service files received on time, one of them an hour late."""
    services.batches_assign(now=now)
    today = timezone.localdate(now)
    this_monday = today - timedelta(days=today.weekday())
    waiting = SubmissionBatch.objects.filter(branch=branch).filter(
        period_start__gte=this_monday - timedelta(days=7), kind="sales"
    ) | SubmissionBatch.objects.filter(
        branch=branch, kind="service", period_start__gte=today - timedelta(days=1)
    )
    handers = {}
    for batch in SubmissionBatch.objects.filter(branch=branch).exclude(pk__in=waiting):
        section = batch.sections.first()
        if section is None:
            continue
        handers.setdefault(batch.kind, _filer(section))
        services.batch_receive(batch=batch, handed_over_by=handers[batch.kind], by=archivist)
        received_at = _at(_receipt_day(section), 10 if batch.kind == "sales" else 9)
        SubmissionBatch.objects.filter(pk=batch.pk).update(received_at=received_at)
    late = (
        SubmissionBatch.objects.filter(branch=branch, status=BatchStatus.RECEIVED, kind="service")
        .order_by("-period_start")
        .first()
    )
    if late is not None:  # brought half an hour after its 10:00
        late_at = late.due_at + timedelta(minutes=30)
        SubmissionBatch.objects.filter(pk=late.pk).update(received_at=late_at)
    services.batches_prepare(now=now)


def archives_demo_create(*, branches: list[Branch], users: dict[str, User]) -> None:
    """The archive of the demo branches (run by the Guangzhou archivist). Does nothing when
    the branches' files exist."""
    if FileSection.objects.filter(vehicle_file__branch__in=branches).exists():
        return
    archivist = users["customer_care"]
    now = timezone.now()
    today = timezone.localdate(now)
    for branch in branches:
        deliveries = list(
            Delivery.objects.filter(order__branch=branch).order_by("delivered_on", "pk")
        )
        closed = list(
            WorkOrder.objects.filter(branch=branch, status=WorkOrderStatus.CLOSED).order_by(
                "closed_at", "pk"
            )
        )
        missing = next(
            (
                work_order
                for work_order in reversed(closed)
                if timezone.localdate(work_order.closed_at) <= today - timedelta(days=3)
            ),
            None,
        )
        journey = deliveries[-1] if deliveries else None
        sections = [services.sales_section_open(delivery_id=d.pk) for d in deliveries]
        sections += [
            services.service_section_open(work_order_id=w.pk) for w in closed if w != missing
        ]
        due = [s for s in sections if s.due_at < now and s.delivery != journey]
        returned_fixed = next((s for s in due if s.kind == "sales"), None)
        returned_out = next(
            (
                s
                for s in reversed(due)
                if s.kind == "service" and s.period_on <= today - timedelta(days=4)
            ),
            None,
        )
        for section in due:
            if section == returned_fixed:
                _returned_and_fixed(section, archivist)
            elif section == returned_out:
                _returned_not_back(section, archivist, now)
            else:
                _file_and_audit(section, archivist)
        if journey is not None:
            _sent_for_audit(FileSection.objects.get(delivery=journey))
        _batches(branch, archivist, now)
    services.rework_overdue(now=now)
