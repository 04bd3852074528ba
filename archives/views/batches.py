"""Submission batch pages: the batches with their period, due time and lateness; a batch's
handover form (档案交接表) on screen with the archive's receipt, and printable. As thin as the
API: parse, call a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dealer_crm.audit import history_entries
from dealer_crm.pages import all_choice, apply_filters, call_service, paginate, sort, yes_no_choices
from dealer_crm.pii import can_view_pii
from dealer_crm.scoping import branch_ids_for

from .. import selectors, services
from ..choices import BatchStatus, SectionKind
from ..filters import SubmissionBatchFilter
from ..forms.oversight import BatchReceiveForm
from ..models import SubmissionBatch

BATCH_SORTS = {"period": "period_start", "due": "due_at", "received": "received_at"}


def _is_late(batch: SubmissionBatch, now) -> bool:
    """Flagged late, received after its due time, or still expected past it (the hourly job
    flags it soon)."""
    return batch.is_late or (batch.status == BatchStatus.EXPECTED and batch.due_at < now)


@login_required
@permission_required("archives.view_submissionbatch", raise_exception=True)
def batch_list(request):
    batches = (
        SubmissionBatch.objects.for_user(request.user)
        .select_related("branch", "received_by", "handed_over_by")
        .annotate(section_count=Count("sections"))
    )
    filterset, batches = apply_filters(request, SubmissionBatchFilter, batches)
    yes_no_choices(filterset, "late", _("Flagged late"), _("Not flagged"))
    all_choice(filterset, "kind", "status", "branch")
    batches, current_sort = sort(request, batches, BATCH_SORTS, "-period")
    page = paginate(request, batches)
    now = timezone.now()
    for batch in page.object_list:
        batch.late = _is_late(batch, now)
    return render(
        request,
        "archives/batch_list.html",
        {
            "filterset": filterset,
            "page": page,
            "sort": current_sort,
            "many_branches": len(branch_ids_for(request.user)) > 1,
        },
    )


def _load(request, pk: int) -> SubmissionBatch:
    return SubmissionBatch.objects.select_related(
        "branch", "handed_over_by", "received_by"
    ).get_for_user_or_404(request.user, pk=pk)


def _handover(batch: SubmissionBatch) -> dict:
    """The form's rows and counts: frozen at receipt, counted live while expected."""
    rows = selectors.batch_sections(batch)
    received = batch.status == BatchStatus.RECEIVED
    return {
        "batch": batch,
        "branch": batch.branch,
        "rows": rows,
        "is_sales": batch.kind == SectionKind.SALES,
        "file_count": batch.file_count if received else len(rows),
        "document_count": batch.document_count
        if received
        else sum(row.document_count for row in rows),
        "complete_count": sum(row.complete for row in rows),
        "late": _is_late(batch, timezone.now()),
    }


def _batch_page(request, batch: SubmissionBatch, form: BatchReceiveForm | None = None):
    user = request.user
    can_receive = batch.status == BatchStatus.EXPECTED and user.has_perm(
        "archives.change_submissionbatch"
    )
    context = _handover(batch)
    context.update(
        can_receive=can_receive,
        form=(form or BatchReceiveForm(batch=batch)) if can_receive else None,
        history=history_entries(batch, show_pii=can_view_pii(user)),
    )
    return render(request, "archives/batch_detail.html", context)


@login_required
@permission_required("archives.view_submissionbatch", raise_exception=True)
def batch_detail(request, pk: int):
    return _batch_page(request, _load(request, pk))


@login_required
@permission_required("archives.view_submissionbatch", raise_exception=True)
def batch_print(request, pk: int):
    context = _handover(_load(request, pk))
    context["printed_at"] = timezone.localtime()
    return render(request, "archives/batch_print.html", context)


@login_required
@permission_required("archives.change_submissionbatch", raise_exception=True)
@require_POST
def batch_receive(request, pk: int):
    batch = _load(request, pk)
    form = BatchReceiveForm(request.POST, batch=batch)
    received = form.is_valid() and call_service(
        form,
        lambda: services.batch_receive(
            batch=batch, handed_over_by=form.cleaned_data["handed_over_by"], by=request.user
        ),
    )
    if received:
        messages.success(
            request,
            _("%(batch)s received. Files: %(files)s, documents: %(documents)s.")
            % {
                "batch": received.number,
                "files": received.file_count,
                "documents": received.document_count,
            },
        )
        return redirect("archives:batch-detail", pk=batch.pk)
    if any(name != "__all__" for name in form.errors):
        return _batch_page(request, batch, form)
    for message in form.non_field_errors():
        messages.error(request, message)
    return redirect("archives:batch-detail", pk=batch.pk)
