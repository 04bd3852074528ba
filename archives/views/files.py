"""The archivist's work queue and the file pages: the vehicle files, a file with its sections
and their papers in filing order — uploads, checks, audit, exemptions — the documents, and a
scan's download (only through the branch check, never a media URL). As thin as the API:
parse, call a service, render."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from dealer_crm.audit import history_entries
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.models import display_name
from dealer_crm.pages import apply_filters, call_service, paginate, sort, yes_no_choices
from dealer_crm.pii import can_view_pii
from dealer_crm.scoping import branch_ids_for

from .. import selectors, services
from ..choices import (
    SALES_DOCUMENTS,
    SERVICE_DOCUMENTS,
    DocumentKind,
    DocumentStatus,
    FileStatus,
    SectionKind,
)
from ..filters import ArchiveDocumentFilter, VehicleFileFilter
from ..forms.files import (
    FACTS,
    FACTS_ASKED,
    DocumentAuditForm,
    DocumentUploadForm,
    ExemptionForm,
)
from ..models import ArchiveDocument, FileSection, Nonconformity, VehicleFile

FILE_SORTS = {
    "number": "pk",
    "vin": "vehicle__vin",
    "plate": "vehicle__plate",
    "owner": "vehicle__owner__name",
    "status": "status",
    "kept": "retain_until",
}
DOCUMENT_SORTS = {"uploaded": "uploaded_at", "kind": "kind", "file": "section__vehicle_file_id"}
PRINTED_FACTS = ("document_date", "name_on_document")
# The key of the "another paper" form of a section, beside the keys of its slots' forms.
OTHER_PAPER = "other"


# --- The work queue ------------------------------------------------------------------------------


@login_required
@permission_required("archives.audit_archivedocument", raise_exception=True)
def work_queue_page(request):
    """What to receive, what to audit and what is overdue, for the user's branches."""
    queue = selectors.work_queue(branch_ids=branch_ids_for(request.user))
    now = queue["now"]
    for batch in queue["to_receive"]:
        batch.late = batch.is_late or batch.due_at < now
    return render(
        request,
        "archives/queue.html",
        {
            **queue,
            "late_rework": [record for record in queue["rework"] if record.due_by < now],
            "late_missing": [report for report in queue["missing"] if report.due_by < now],
            "late_batches": [batch for batch in queue["to_receive"] if batch.late],
            "overdue_count": queue["rework_overdue_count"]
            + queue["missing_overdue_count"]
            + queue["late_batches_count"],
        },
    )


# --- The files -----------------------------------------------------------------------------------


@login_required
@permission_required("archives.view_vehiclefile", raise_exception=True)
def file_list(request):
    files = (
        VehicleFile.objects.for_user(request.user)
        .select_related("vehicle__owner", "branch")
        .annotate(
            # distinct: the search and the incomplete filter join the sections again
            section_count=Count("sections", distinct=True),
            complete_count=Count("sections", filter=Q(sections__complete=True), distinct=True),
        )
    )
    filterset, files = apply_filters(request, VehicleFileFilter, files)
    yes_no_choices(filterset, "incomplete", _("Incomplete"), _("Complete"))
    files, current_sort = sort(request, files, FILE_SORTS, "-number")
    return render(
        request,
        "archives/file_list.html",
        {
            "filterset": filterset,
            "page": paginate(request, files),
            "sort": current_sort,
            "statuses": FileStatus.choices,
            "chosen_statuses": request.GET.getlist("status"),
            "many_branches": len(branch_ids_for(request.user)) > 1,
        },
    )


def _load(request, pk: int) -> VehicleFile:
    return VehicleFile.objects.select_related(
        "branch", "vehicle__owner", "disposal_requested_by", "disposed_by"
    ).get_for_user_or_404(request.user, pk=pk)


def _section(request, pk: int) -> FileSection:
    return FileSection.objects.select_related(
        "vehicle_file", "delivery__order", "work_order"
    ).get_for_user_or_404(request.user, pk=pk)


def _at_section(section: FileSection) -> str:
    return f"{reverse('archives:file-detail', args=[section.vehicle_file_id])}#section-{section.pk}"


@dataclass
class Row:
    """A paper of a section on the file's page: its place, the current document and its
    record, and the forms the user may use on it."""

    kind: str
    label: str
    document: ArchiveDocument | None
    expected: bool = True
    record: Nonconformity | None = None
    overdue: bool = False
    facts: list[tuple[str, object]] = field(default_factory=list)
    upload_form: DocumentUploadForm | None = None
    upload_folded: bool = False
    audit_form: DocumentAuditForm | None = None


def _facts(document: ArchiveDocument) -> list[tuple[str, object]]:
    """(label, value) of the facts the checks read from the paper, and a date or a name it
    carries anyway."""
    asked = FACTS_ASKED.get(document.kind, ())
    return [
        (ArchiveDocument._meta.get_field(fact).verbose_name, getattr(document, fact))
        for fact in FACTS
        if fact in asked or (fact in PRINTED_FACTS and getattr(document, fact))
    ]


def _upload_key(section: FileSection, kind: str) -> str:
    return f"upload-{section.pk}-{kind if kind in section.expected else OTHER_PAPER}"


def _other_papers(section: FileSection) -> list[str]:
    """Papers of the section's kind that it does not expect and does not hold yet."""
    held = {document.kind for document in section.documents.all()}
    order = SALES_DOCUMENTS if section.kind == SectionKind.SALES else SERVICE_DOCUMENTS
    return [kind for kind in order if kind not in section.expected and kind not in held]


def _upload_form(section: FileSection, kind: str, *args) -> DocumentUploadForm:
    """The form of a slot (its paper fixed and its facts asked) or of another paper."""
    key = _upload_key(section, kind)
    if key.endswith(OTHER_PAPER):
        return DocumentUploadForm(*args, offered=_other_papers(section), auto_id=f"{key}-%s")
    return DocumentUploadForm(*args, kind=kind, auto_id=f"{key}-%s")


def _rows(section, can: dict, staff: list[User], failed: dict, now) -> list[Row]:
    """The section's papers in filing order, the extra ones it holds, and a place to file
    another paper of its kind."""
    rows = [Row(kind, DocumentKind(kind).label, document) for kind, document in section.slots]
    rows += [
        Row(document.kind, document.get_kind_display(), document, expected=False)
        for document in section.extras
    ]
    for row in rows:
        document = row.document
        if can["upload"] and row.expected:
            key = _upload_key(section, row.kind)
            row.upload_form = failed.get(key) or _upload_form(section, row.kind)
            # A paper in and not returned is replaced only on purpose: its form stays folded.
            row.upload_folded = document is not None and document.status != DocumentStatus.RETURNED
        if document is None:
            continue
        row.facts = _facts(document)
        row.record = getattr(document, "nonconformity", None)
        row.overdue = (
            row.record is not None
            and row.record.resolved_at is None
            and row.record.resubmitted_id is None
            and row.record.due_by < now
        )
        if can["audit"] and document.status == DocumentStatus.RECEIVED:
            row.audit_form = failed.get(f"audit-{document.pk}") or DocumentAuditForm(
                staff=staff,
                initial={"responsible": services.responsible_for(section).pk},
                auto_id=f"audit-{document.pk}-%s",
            )
    if can["upload"] and _other_papers(section):
        key = _upload_key(section, OTHER_PAPER)
        rows.append(
            Row(
                OTHER_PAPER,
                _("Another paper"),
                None,
                expected=False,
                upload_form=failed.get(key) or _upload_form(section, OTHER_PAPER),
                upload_folded=True,
            )
        )
    return rows


def _file_page(request, vehicle_file: VehicleFile, failed: dict | None = None, status=200):
    """The file's page; a form that failed comes back bound (and open), with its errors, in
    its place."""
    failed = failed or {}
    user = request.user
    active = vehicle_file.status == FileStatus.ACTIVE
    can = {
        "upload": active and user.has_perm("archives.add_archivedocument"),
        "audit": active and user.has_perm("archives.audit_archivedocument"),
        "exempt": active and user.has_perm("archives.add_exemption"),
        "check": active and user.has_perm("archives.view_filesection"),
    }
    sealed = vehicle_file.status == FileStatus.SEALED
    requested = vehicle_file.disposal_requested_at is not None
    can["request_disposal"] = (
        sealed and not requested and user.has_perm("archives.request_disposal")
    )
    can["approve_disposal"] = (
        sealed
        and requested
        and vehicle_file.disposal_requested_by_id != user.pk
        and user.has_perm("archives.approve_disposal")
    )
    staff = list(selectors.branch_staff(vehicle_file.branch_id)) if can["audit"] else []
    now = timezone.now()
    sections = selectors.file_sections(vehicle_file)
    for section in sections:
        section.rows = _rows(section, can, staff, failed, now)
        section.finding_texts = [services.finding_text(finding) for finding in section.findings]
        section.exemption_now = getattr(section, "exemption", None)
        section.report = getattr(section, "missing_report", None)
        if can["exempt"] and not section.complete:
            section.exempt_form = failed.get(f"exempt-{section.pk}") or ExemptionForm(
                auto_id=f"exempt-{section.pk}-%s"
            )
    destroyed = [
        {
            **item,
            "label": DocumentKind(item["kind"]).label,
            "uploaded_at": datetime.fromisoformat(item["uploaded_at"]),
        }
        for item in vehicle_file.destroyed
    ]
    return render(
        request,
        "archives/file_detail.html",
        {
            "file": vehicle_file,
            "vehicle": vehicle_file.vehicle,
            "sections": sections,
            "can": can,
            "active": active,
            "destroyed": destroyed,
            "now": now,
            "history": history_entries(vehicle_file, show_pii=can_view_pii(user)),
        },
        status=status,
    )


@login_required
@permission_required("archives.view_vehiclefile", raise_exception=True)
def file_detail(request, pk: int):
    return _file_page(request, _load(request, pk))


def _run(form, service: Callable):
    """The service's result once the form is valid; None when the form or the rule refuses."""
    return call_service(form, service) if form.is_valid() else None


def _failed(request, section: FileSection, key: str, form):
    """After a refused POST: the file's page again with the form in its place and the errors
    beside its fields; a refused state change (a sealed file, a document already audited) is
    said at the top. The answer carries the refusal's status (400, or 409)."""
    # The paper's kind is hidden in a slot's form: its refusal is said at the top too.
    for message in [*form.non_field_errors(), *form.errors.get("kind", [])]:
        messages.error(request, message)
    bootstrap_widgets(form)  # also marks a field the service refused
    error = getattr(form, "domain_error", None)
    return _file_page(
        request,
        _load(request, section.vehicle_file_id),
        {key: form},
        status=error.status_code if error else 400,
    )


@login_required
@permission_required("archives.add_archivedocument", raise_exception=True)
@require_POST
def document_upload(request, pk: int):
    section = _section(request, pk)
    kind = request.POST.get("kind", "")
    form = _upload_form(section, kind, request.POST, request.FILES)
    document = _run(
        form,
        lambda: services.document_upload(
            section=section,
            kind=form.cleaned_data["kind"],
            upload=form.cleaned_data["file"],
            by=request.user,
            data=form.facts(),
        ),
    )
    if document is None:
        return _failed(request, section, _upload_key(section, kind), form)
    messages.success(
        request,
        _("%(document)s filed in %(file)s: it awaits the archive's audit.")
        % {"document": document.get_kind_display(), "file": section.vehicle_file.number},
    )
    return redirect(_at_section(section))


@login_required
@permission_required("archives.view_filesection", raise_exception=True)
@require_POST
def section_check(request, pk: int):
    section = services.section_check(section=_section(request, pk))
    if section.findings:
        messages.warning(
            request,
            ngettext(
                "Checked again: %(count)s thing to put right.",
                "Checked again: %(count)s things to put right.",
                len(section.findings),
            )
            % {"count": len(section.findings)},
        )
    else:
        messages.success(request, _("Checked again: the checks find nothing wrong."))
    return redirect(_at_section(section))


@login_required
@permission_required("archives.add_exemption", raise_exception=True)
@require_POST
def section_exempt(request, pk: int):
    section = _section(request, pk)
    key = f"exempt-{section.pk}"
    form = ExemptionForm(request.POST, auto_id=f"{key}-%s")
    exemption = _run(
        form,
        lambda: services.exemption_grant(
            section=section,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
            ends_on=form.cleaned_data["ends_on"],
            by=request.user,
        ),
    )
    if exemption is None:
        return _failed(request, section, key, form)
    messages.success(
        request,
        _("The papers of %(section)s are exempt until %(day)s.")
        % {"section": section, "day": exemption.ends_on.isoformat()},
    )
    return redirect(_at_section(section))


@login_required
@permission_required("archives.audit_archivedocument", raise_exception=True)
@require_POST
def document_audit(request, pk: int):
    document = ArchiveDocument.objects.select_related(
        "section__vehicle_file", "section__delivery__order", "section__work_order"
    ).get_for_user_or_404(request.user, pk=pk)
    section = document.section
    key = f"audit-{document.pk}"
    form = DocumentAuditForm(
        request.POST,
        staff=list(selectors.branch_staff(section.vehicle_file.branch_id)),
        auto_id=f"{key}-%s",
    )
    audited = _run(
        form,
        lambda: services.document_audit(
            document=document,
            conforming=form.cleaned_data["conforming"],
            by=request.user,
            reason=form.cleaned_data["reason"],
            responsible=form.cleaned_data["responsible"],
        ),
    )
    if audited is None:
        return _failed(request, section, key, form)
    paper = audited.get_kind_display()
    if audited.status == DocumentStatus.CONFORMING:
        messages.success(request, _("%(document)s audited: conforming.") % {"document": paper})
    else:
        record = audited.nonconformity
        messages.warning(
            request,
            _(
                "%(document)s returned to %(person)s, with a penalty point: due back fixed by "
                "%(due)s."
            )
            % {
                "document": paper,
                "person": display_name(record.responsible),
                "due": timezone.localtime(record.due_by).strftime("%Y-%m-%d %H:%M"),
            },
        )
    return redirect(_at_section(section))


# --- The documents -------------------------------------------------------------------------------


@login_required
@permission_required("archives.view_archivedocument", raise_exception=True)
def document_list(request):
    documents = ArchiveDocument.objects.for_user(request.user).select_related(
        "section__vehicle_file__vehicle", "section__vehicle_file__branch", "uploaded_by",
        "audited_by",
    )  # fmt: skip
    filterset, documents = apply_filters(request, ArchiveDocumentFilter, documents)
    documents, current_sort = sort(request, documents, DOCUMENT_SORTS, "-uploaded")
    return render(
        request,
        "archives/document_list.html",
        {
            "filterset": filterset,
            "page": paginate(request, documents),
            "sort": current_sort,
            "statuses": DocumentStatus.choices,
            "chosen_statuses": request.GET.getlist("status"),
            "kinds": DocumentKind.choices,
            "chosen_kind": request.GET.get("kind", ""),
            "many_branches": len(branch_ids_for(request.user)) > 1,
        },
    )


@login_required
@permission_required("archives.view_archivedocument", raise_exception=True)
def document_download(request, pk: int):
    """The scan as an attachment under its original name and its sniffed type, for a user of
    the file's branch; a disposed file's scans are gone."""
    document = ArchiveDocument.objects.select_related("section__vehicle_file").get_for_user_or_404(
        request.user, pk=pk
    )
    if document.section.vehicle_file.status == FileStatus.DISPOSED:
        raise Http404
    try:
        scan = document.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        scan,
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
