"""Issue voucher pages (出库单): made with its lines reserved, checked, picked, checked again and
handed over step by step, printed for signatures, returned to stock; and the lost sales the
shelf could not serve. As thin as the API: parse, call a service, render."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from customers.selectors import customers_matching
from dealer_crm.audit import history_entries
from dealer_crm.errors import DomainError
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.pages import apply_filters, call_service, paginate, sort
from dealer_crm.pii import can_view_pii
from dealer_crm.scoping import branch_ids_for, working_branch

from .. import services
from ..choices import ISSUE_STEPS, IssueKind, IssueStatus, LostSaleReason
from ..filters import LostSaleFilter, PartIssueFilter
from ..forms.issuing import (
    CUSTOMER_CHOICES_LIMIT,
    CustomerSearchForm,
    IssueCancelForm,
    IssueForm,
    IssueLineFormSet,
    IssueReturnForm,
    LostSaleForm,
)
from ..models import ZERO, LostSale, PartIssue, PartIssueLine, quantity_text

ISSUE_SORTS = {
    "number": "id",
    "created": "created_at",
    "status": "status",
    "kind": "kind",
    "work_order": "work_order_reference",
    "recipient": "recipient",
}
LOST_SALE_SORTS = {
    "at": "at",
    "part": "part__number",
    "quantity": "quantity",
    "reason": "reason",
    "asked_by": "asked_by",
}
# The steps of an issue in order, with the fields that say who took each and when.
STEP_FIELDS = {
    IssueStatus.CHECKED: "checked",
    IssueStatus.PICKED: "picked",
    IssueStatus.RECHECKED: "rechecked",
    IssueStatus.HANDED_OVER: "handed_over",
}
# Only parts that went to a job or over the counter come back to the shelf.
RETURNABLE_KINDS = (IssueKind.WORK_ORDER, IssueKind.COUNTER_SALE)


def _no_branch(request):
    messages.error(request, _("Your account is not linked to any branch."))
    return redirect("parts:issue-list")


def _issues(user):
    return PartIssue.objects.for_user(user).select_related(
        "branch", "customer", "supplier", "to_branch", "created_by"
    )


# --- list ---------------------------------------------------------------------------------------


@login_required
@permission_required("parts.view_partissue", raise_exception=True)
def issue_list(request):
    line_count = (
        PartIssueLine.objects.filter(issue=OuterRef("pk"))
        .values("issue")
        .annotate(total=Count("pk"))
        .values("total")
    )
    issues = _issues(request.user).annotate(line_count=Subquery(line_count))
    filterset, issues = apply_filters(request, PartIssueFilter, issues)
    issues, current_sort = sort(request, issues, ISSUE_SORTS, "-number")
    return render(
        request,
        "parts/issue_list.html",
        {
            "filterset": filterset,
            "page": paginate(request, issues),
            "sort": current_sort,
            "statuses": IssueStatus.choices,
            "chosen_statuses": request.GET.getlist("status"),
            "several_branches": len(branch_ids_for(request.user)) > 1,
        },
    )


# --- create -------------------------------------------------------------------------------------


def _customer_options(request, branch):
    """The customer select's options for what was typed in its search box (htmx)."""
    search = CustomerSearchForm(request.GET)
    term = search.cleaned_data["customer_search"].strip() if search.is_valid() else ""
    customers = customers_matching(branch=branch, term=term, limit=CUSTOMER_CHOICES_LIMIT)
    return render(
        request, "parts/issue_customer_options.html", {"customers": customers, "term": term}
    )


def _lost_sale_offer(form: IssueForm, error: DomainError | None) -> dict | None:
    """After `insufficient_stock`: what a one-click lost sale records."""
    if error is None or error.code != "insufficient_stock" or "part_number" not in error.extra:
        return None
    data = form.cleaned_data
    customer = data.get("customer")
    asked_by = (
        data.get("recipient")
        or (customer.name if customer else "")
        or data.get("work_order_reference")
        or ""
    )
    return {
        "part_number": error.extra["part_number"],
        "quantity": quantity_text(Decimal(error.extra["requested"])),
        "available": quantity_text(Decimal(error.extra["available"])),
        "asked_by": asked_by[:50],
    }


@login_required
@permission_required("parts.add_partissue", raise_exception=True)
@require_http_methods(["GET", "POST"])
def issue_create(request):
    branch = working_branch(request)
    if branch is None:
        return _no_branch(request)
    if request.htmx and "customer_search" in request.GET:
        return _customer_options(request, branch)
    data = request.POST or None
    initial = {"kind": request.GET.get("kind", IssueKind.WORK_ORDER)}
    form = IssueForm(data, branch=branch, initial=initial)
    lines = IssueLineFormSet(data, prefix="lines")
    lost_sale = None
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        service_lines = [line for line in (f.service_line() for f in lines.forms) if line]
        issue = call_service(
            form,
            lambda: services.part_issue_create(
                branch=branch, by=request.user, lines=service_lines, **form.cleaned_data
            ),
        )
        if issue:
            messages.success(
                request,
                _("Voucher %(number)s made; its parts are reserved.") % {"number": issue.number},
            )
            return redirect(issue)
        lost_sale = _lost_sale_offer(form, getattr(form, "domain_error", None))
    for line_form in lines.forms:
        bootstrap_widgets(line_form, mark_errors=lines.is_bound)
    return render(
        request,
        "parts/issue_form.html",
        {"form": form, "lines": lines, "branch": branch, "lost_sale": lost_sale},
    )


# --- detail and steps ---------------------------------------------------------------------------


def _steps(issue: PartIssue) -> list[dict]:
    steps = []
    for step, prefix in STEP_FIELDS.items():
        at = getattr(issue, f"{prefix}_at")
        steps.append(
            {
                "value": step,
                "label": IssueStatus(step).label,
                "by": getattr(issue, f"{prefix}_by"),
                "at": at,
                "done": at is not None,
                "next": issue.status == ISSUE_STEPS[step],
            }
        )
    return steps


def _load(request, pk: int) -> PartIssue:
    return (
        _issues(request.user)
        .select_related("checked_by", "picked_by", "rechecked_by", "handed_over_by")
        .get_for_user_or_404(request.user, pk=pk)
    )


def _issue_page(request, issue: PartIssue, *, status: int = 200, **bound):
    user = request.user
    lines = list(issue.lines.select_related("part", "requested_part"))
    may_change = user.has_perm("parts.change_partissue")
    returnable = (
        may_change and issue.status == IssueStatus.HANDED_OVER and issue.kind in RETURNABLE_KINDS
    )
    for line in lines:
        line.amount = line.quantity * line.unit_price
        line.cost_amount = None if line.unit_cost is None else line.quantity * line.unit_cost
        if returnable and line.returnable_quantity > 0:
            line.return_form = (
                bound["return_form"]
                if bound.get("return_line_id") == line.pk
                else IssueReturnForm(prefix=f"return-{line.pk}")
            )
    steps = _steps(issue)
    next_step = next((step for step in steps if step["next"]), None)
    open_voucher = issue.status not in (IssueStatus.HANDED_OVER, IssueStatus.CANCELLED)
    context = {
        "issue": issue,
        "lines": lines,
        "total": sum((line.amount for line in lines), ZERO),
        "total_cost": sum((line.cost_amount or ZERO for line in lines), ZERO),
        "steps": steps,
        "next_step": next_step if may_change else None,
        "can_cancel": may_change and open_voucher,
        "returnable": returnable,
        "cancel_form": bound.get("cancel_form") or IssueCancelForm(),
        "open_panel": bound.get("open_panel", ""),
        "history": history_entries(issue, show_pii=can_view_pii(user)),
    }
    return render(request, "parts/issue_detail.html", context, status=status)


@login_required
@permission_required("parts.view_partissue", raise_exception=True)
def issue_detail(request, pk: int):
    return _issue_page(request, _load(request, pk))


@login_required
@permission_required("parts.change_partissue", raise_exception=True)
@require_POST
def issue_advance(request, pk: int):
    issue = PartIssue.objects.get_for_user_or_404(request.user, pk=pk)
    step = request.POST.get("step", "")
    try:
        issue = services.part_issue_advance(issue=issue, step=step, by=request.user)
    except DomainError as refused:
        messages.error(request, str(refused.message))
    else:
        messages.success(
            request,
            _("Voucher %(number)s: %(step)s.")
            % {"number": issue.number, "step": issue.get_status_display().lower()},
        )
    return redirect("parts:issue-detail", pk=pk)


@login_required
@permission_required("parts.change_partissue", raise_exception=True)
@require_POST
def issue_cancel(request, pk: int):
    issue = PartIssue.objects.get_for_user_or_404(request.user, pk=pk)
    form = IssueCancelForm(request.POST)
    if form.is_valid():
        cancelled = call_service(
            form,
            lambda: services.part_issue_cancel(
                issue=issue, by=request.user, reason=form.cleaned_data["reason"]
            ),
        )
        if cancelled:
            messages.success(
                request,
                _("Voucher %(number)s cancelled; its parts are available again.")
                % {"number": issue.number},
            )
            return redirect("parts:issue-detail", pk=pk)
    if "reason" in form.errors:
        return _issue_page(
            request, _load(request, pk), status=400, cancel_form=form, open_panel="cancel"
        )
    for message in form.non_field_errors():
        messages.error(request, message)
    return redirect("parts:issue-detail", pk=pk)


@login_required
@permission_required("parts.change_partissue", raise_exception=True)
@require_POST
def issue_return(request, pk: int):
    line = (
        PartIssueLine.objects.select_related("issue")
        .filter(issue__in=PartIssue.objects.for_user(request.user))
        .filter(pk=pk)
        .first()
    )
    if line is None:
        raise Http404
    form = IssueReturnForm(request.POST, prefix=f"return-{line.pk}")
    if form.is_valid():
        move = call_service(
            form,
            lambda: services.part_return_to_stock(
                line=line,
                amount=form.cleaned_data["quantity"],
                by=request.user,
                reason=form.cleaned_data["reason"],
            ),
        )
        if move:
            messages.success(
                request,
                _("%(quantity)s × %(part)s back on the shelf.")
                % {"quantity": quantity_text(move.quantity), "part": move.part.number},
            )
            return redirect("parts:issue-detail", pk=line.issue_id)
    if any(field != "__all__" for field in form.errors):
        return _issue_page(
            request,
            _load(request, line.issue_id),
            status=400,
            return_form=form,
            return_line_id=line.pk,
        )
    for message in form.non_field_errors():
        messages.error(request, message)
    return redirect("parts:issue-detail", pk=line.issue_id)


@login_required
@permission_required("parts.view_partissue", raise_exception=True)
def issue_print(request, pk: int):
    issue = _load(request, pk)
    lines = list(issue.lines.select_related("part", "requested_part"))
    for line in lines:
        line.amount = line.quantity * line.unit_price
    return render(
        request,
        "parts/issue_print.html",
        {
            "issue": issue,
            "branch": issue.branch,
            "lines": lines,
            "total": sum((line.amount for line in lines), ZERO),
        },
    )


# --- lost sales ---------------------------------------------------------------------------------


@login_required
@permission_required("parts.view_lostsale", raise_exception=True)
def lost_sale_list(request):
    lost_sales = LostSale.objects.for_user(request.user).select_related(
        "part", "branch", "recorded_by"
    )
    filterset = LostSaleFilter(request.GET or None, queryset=lost_sales, request=request)
    # The part filter is a select of the whole catalogue: the page filters by number instead.
    del filterset.form.fields["part"]
    filterset.form.fields["since"].widget = forms.DateInput(attrs={"type": "date"})
    filterset.form.fields["until"].widget = forms.DateInput(attrs={"type": "date"})
    lost_sales = filterset.qs if filterset.is_bound and filterset.is_valid() else lost_sales
    number = request.GET.get("part_number", "").strip()[:40]
    if number:
        lost_sales = lost_sales.filter(part__number__icontains=number)
    bootstrap_widgets(filterset.form)
    lost_sales, current_sort = sort(request, lost_sales, LOST_SALE_SORTS, "-at")
    return render(
        request,
        "parts/lost_sale_list.html",
        {
            "filterset": filterset,
            "part_number": number,
            "page": paginate(request, lost_sales),
            "sort": current_sort,
            "several_branches": len(branch_ids_for(request.user)) > 1,
        },
    )


def _next_url(request) -> str | None:
    url = request.POST.get("next") or request.GET.get("next")
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return None


@login_required
@permission_required("parts.add_lostsale", raise_exception=True)
@require_http_methods(["GET", "POST"])
def lost_sale_create(request):
    branch = working_branch(request)
    if branch is None:
        messages.error(request, _("Your account is not linked to any branch."))
        return redirect("parts:lost-sale-list")
    initial = {
        name: request.GET[name] for name in ("part", "quantity", "asked_by") if name in request.GET
    }
    initial.setdefault("reason", LostSaleReason.OUT_OF_STOCK)
    form = LostSaleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        lost = call_service(
            form,
            lambda: services.lost_sale_record(
                branch=branch, by=request.user, **form.service_data()
            ),
        )
        if lost:
            messages.success(
                request,
                _("Lost sale of %(quantity)s × %(part)s recorded.")
                % {"quantity": quantity_text(lost.quantity), "part": lost.part.number},
            )
            return redirect(_next_url(request) or "parts:lost-sale-list")
    return render(
        request,
        "parts/lost_sale_form.html",
        {"form": form, "branch": branch, "next": _next_url(request) or ""},
    )
