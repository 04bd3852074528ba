"""Stocktake pages (盘点): freeze a scope, count it bin by bin on a tablet, compare the book
with what was counted, approve or cancel. As thin as the API: parse, call a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Q, QuerySet
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dealer_crm.audit import history_entries
from dealer_crm.errors import DomainError
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.pages import apply_filters, call_service, paginate, sort
from dealer_crm.pii import can_view_pii
from dealer_crm.scoping import branch_ids_for, working_branch

from .. import selectors, services
from ..choices import StocktakeStatus
from ..filters import StocktakeFilter
from ..forms.stocktake import StocktakeCountForm, StocktakeLineSearchForm, StocktakeStartForm
from ..models import Stocktake, StocktakeLine

STOCKTAKE_SORTS = {
    "number": "id",
    "created": "created_at",
    "status": "status",
    "scope": "scope",
    "approved": "approved_at",
}
LINE_SORTS = {
    "bin": "bin_label",
    "part": "part__number",
    "book": "book_quantity",
    "counted": "counted_quantity",
    "difference": "difference_quantity",
    "value": "difference_amount",
}
COUNT_PAGE_SIZE = 50


def _stocktakes(user):
    return Stocktake.objects.for_user(user).select_related("branch", "created_by", "approved_by")


def _load(request, pk: int) -> Stocktake:
    return _stocktakes(request.user).get_for_user_or_404(request.user, pk=pk)


# --- list and start -----------------------------------------------------------------------------


@login_required
@permission_required("parts.view_stocktake", raise_exception=True)
def stocktake_list(request):
    stocktakes = _stocktakes(request.user).annotate(
        line_count=Count("lines"),
        counted_count=Count("lines", filter=Q(lines__counted_quantity__isnull=False)),
    )
    filterset, stocktakes = apply_filters(request, StocktakeFilter, stocktakes)
    stocktakes, current_sort = sort(request, stocktakes, STOCKTAKE_SORTS, "-number")
    return render(
        request,
        "parts/stocktake_list.html",
        {
            "filterset": filterset,
            "page": paginate(request, stocktakes),
            "sort": current_sort,
            "several_branches": len(branch_ids_for(request.user)) > 1,
        },
    )


@login_required
@permission_required("parts.add_stocktake", raise_exception=True)
@require_http_methods(["GET", "POST"])
def stocktake_create(request):
    branch = working_branch(request)
    if branch is None:
        messages.error(request, _("Your account is not linked to any branch."))
        return redirect("parts:stocktake-list")
    form = StocktakeStartForm(request.POST or None, branch=branch, initial={"scope": "zone"})
    if request.method == "POST" and form.is_valid():
        stocktake = call_service(
            form,
            lambda: services.stocktake_start(branch=branch, by=request.user, **form.cleaned_data),
        )
        if stocktake:
            messages.success(
                request,
                _("Stocktake %(number)s started: %(scope)s is frozen for counting.")
                % {"number": stocktake.number, "scope": stocktake.scope_label},
            )
            return redirect("parts:stocktake-count", pk=stocktake.pk)
    return render(request, "parts/stocktake_form.html", {"form": form, "branch": branch})


# --- compare, approve, cancel -------------------------------------------------------------------


def _search(lines: QuerySet[StocktakeLine], form: StocktakeLineSearchForm) -> QuerySet:
    if not form.is_valid():
        return lines
    term = form.cleaned_data["search"].strip()
    if term:
        lines = lines.filter(Q(bin_label__icontains=term) | Q(part__number__icontains=term))
    show = form.cleaned_data["show"]
    if show == "uncounted":
        lines = lines.filter(counted_quantity__isnull=True)
    elif show == "differences":
        lines = lines.filter(counted_quantity__isnull=False).exclude(difference_quantity=0)
    return lines


@login_required
@permission_required("parts.view_stocktake", raise_exception=True)
def stocktake_detail(request, pk: int):
    stocktake = _load(request, pk)
    lines = selectors.stocktake_compared_lines(stocktake)
    totals = selectors.stocktake_totals(lines)
    search = StocktakeLineSearchForm(request.GET)
    lines, current_sort = sort(request, _search(lines, search), LINE_SORTS, "bin")
    counting = stocktake.status == StocktakeStatus.COUNTING
    user = request.user
    return render(
        request,
        "parts/stocktake_detail.html",
        {
            "stocktake": stocktake,
            "page": paginate(request, lines, default_size=50),
            "sort": current_sort,
            "search": search,
            "totals": totals,
            "counting": counting,
            "can_count": counting and user.has_perm("parts.change_stocktake"),
            "can_approve": counting and user.has_perm("parts.approve_stocktake"),
            "can_cancel": counting and user.has_perm("parts.change_stocktake"),
            "history": history_entries(stocktake, show_pii=can_view_pii(user)),
        },
    )


def _act(request, stocktake: Stocktake, action, success: str):
    try:
        action()
    except DomainError as refused:
        messages.error(request, str(refused.message))
    else:
        messages.success(request, success)
    return redirect("parts:stocktake-detail", pk=stocktake.pk)


@login_required
@permission_required("parts.approve_stocktake", raise_exception=True)
@require_POST
def stocktake_approve(request, pk: int):
    stocktake = Stocktake.objects.get_for_user_or_404(request.user, pk=pk)
    return _act(
        request,
        stocktake,
        lambda: services.stocktake_approve(stocktake=stocktake, by=request.user),
        _("Stocktake %(number)s approved; the gains and losses are posted to the ledger.")
        % {"number": stocktake.number},
    )


@login_required
@permission_required("parts.change_stocktake", raise_exception=True)
@require_POST
def stocktake_cancel(request, pk: int):
    stocktake = Stocktake.objects.get_for_user_or_404(request.user, pk=pk)
    return _act(
        request,
        stocktake,
        lambda: services.stocktake_cancel(stocktake=stocktake, by=request.user),
        _("Stocktake %(number)s cancelled; nothing was adjusted and the scope is free again.")
        % {"number": stocktake.number},
    )


# --- the count page (tablet) --------------------------------------------------------------------


def _count_page(request, stocktake: Stocktake, *, typed=None, errors=None, status=200):
    search = StocktakeLineSearchForm(request.GET)
    bootstrap_widgets(search)
    lines = _search(selectors.stocktake_compared_lines(stocktake), search).order_by(
        "bin_label", "part__number", "pk"
    )
    page = paginate(request, lines, default_size=COUNT_PAGE_SIZE)
    typed, errors = typed or {}, errors or {}
    for line in page:
        line.typed = typed.get(f"count-{line.pk}")
        line.error = errors.get(line.pk)
    return render(
        request,
        "parts/stocktake_count.html",
        {
            "stocktake": stocktake,
            "page": page,
            "search": search,
            "progress": selectors.stocktake_progress(stocktake),
            "query": request.GET.urlencode(),
        },
        status=status,
    )


def _count_row(request, stocktake: Stocktake, line_id: int, *, typed=None, error=None):
    line = selectors.stocktake_compared_lines(stocktake).filter(pk=line_id).first()
    if line is None:
        return render(request, "parts/stocktake_count_error.html", {"error": error}, status=400)
    line.typed, line.error = typed, error
    return render(
        request,
        "parts/stocktake_count_row.html",
        {
            "stocktake": stocktake,
            "line": line,
            "progress": selectors.stocktake_progress(stocktake),
            "oob": True,
        },
    )  # 200 even when refused: htmx swaps only successful answers, and the row shows why


@login_required
@permission_required("parts.change_stocktake", raise_exception=True)
@require_http_methods(["GET", "POST"])
def stocktake_count(request, pk: int):
    """Count on a tablet. htmx saves one line and gets its row back; a plain form POST saves
    every line typed on the page and comes back to it."""
    stocktake = _load(request, pk)
    if stocktake.status != StocktakeStatus.COUNTING:
        messages.info(
            request,
            _("Stocktake %(number)s is %(status)s: there is nothing left to count.")
            % {"number": stocktake.number, "status": stocktake.get_status_display().lower()},
        )
        return redirect("parts:stocktake-detail", pk=pk)
    if request.method == "GET":
        return _count_page(request, stocktake)
    form = StocktakeCountForm(request.POST)
    saved = None
    if form.is_valid():
        saved = call_service(
            form,
            lambda: services.stocktake_count(
                stocktake=stocktake, counts=form.counts(), by=request.user
            ),
        )
    refused = " ".join(form.non_field_errors())
    line_errors = form.line_errors()
    if request.htmx:
        line_ids = [int(key.split("-", 1)[1]) for key in form.fields]
        if len(line_ids) != 1:
            return render(
                request,
                "parts/stocktake_count_error.html",
                {"error": _("Save one line at a time.")},
                status=400,
            )
        line_id = line_ids[0]
        error = line_errors.get(line_id) or refused or None
        typed = request.POST.get(f"count-{line_id}") if error else None
        return _count_row(request, stocktake, line_id, typed=typed, error=error)
    if saved is not None:
        counted = len(form.counts())
        if counted:
            messages.success(
                request,
                _("%(count)s lines saved.") % {"count": counted},
            )
        else:
            messages.info(request, _("Nothing typed: no line was saved."))
        url = reverse("parts:stocktake-count", args=[pk])
        query = request.GET.urlencode()
        return redirect(f"{url}?{query}" if query else url)
    if refused:
        messages.error(request, refused + " " + _("No line was saved."))
    typed = {key: request.POST.get(key) for key in form.fields}
    return _count_page(request, stocktake, typed=typed, errors=line_errors, status=400)
