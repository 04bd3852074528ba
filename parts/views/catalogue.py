"""Catalogue pages: part numbers, their stock in the user's branches, their replacement by new
numbers (旧号换新号), and the suppliers. As thin as the API: parse, call a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Q, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dealer_crm.audit import history_entries
from dealer_crm.errors import DomainError
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.pages import apply_filters, call_service, paginate, sort
from dealer_crm.pii import can_view_pii
from dealer_crm.scoping import branch_ids_for, sees_all_branches, working_branch

from .. import services
from ..filters import PartFilter, SupplierFilter
from ..forms.catalogue import PartForm, SupersedeForm, SupplierForm
from ..models import Part, PartStock, StockMove, Supplier

PART_SORTS = {
    "number": "number",
    "name": "name",
    "classification": "classification",
    "price": "price",
    "supplier": "supplier__name",
    "on_hand": "on_hand_total",
}
SUPPLIER_SORTS = {"name": "name", "contact": "contact", "lead_time": "lead_time_days"}
# How many of a part's latest moves its page shows.
RECENT_MOVES = 20
# A supersession chain longer than this is a data error; the page stops walking it.
MAX_CHAIN = services.MAX_SUPERSESSIONS


def _stock_condition(user) -> Q:
    """The stock rows of the branches the user sees."""
    if sees_all_branches(user):
        return Q()
    return Q(stocks__branch__in=branch_ids_for(user))


@login_required
@permission_required("parts.view_part", raise_exception=True)
def part_list(request):
    parts = Part.objects.select_related("supplier", "superseded_by").annotate(
        on_hand_total=Sum("stocks__on_hand", filter=_stock_condition(request.user))
    )
    filterset, parts = apply_filters(request, PartFilter, parts)
    parts, current_sort = sort(request, parts, PART_SORTS, "number")
    return render(
        request,
        "parts/part_list.html",
        {"filterset": filterset, "page": paginate(request, parts), "sort": current_sort},
    )


@login_required
@permission_required("parts.add_part", raise_exception=True)
@require_http_methods(["GET", "POST"])
def part_create(request):
    form = PartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        part = call_service(
            form, lambda: services.part_create(by=request.user, data=form.service_data())
        )
        if part:
            messages.success(request, _("Part %(number)s added.") % {"number": part.number})
            return redirect("parts:part-detail", pk=part.pk)
    return render(request, "parts/part_form.html", {"form": bootstrap_widgets(form)})


@login_required
@permission_required("parts.change_part", raise_exception=True)
@require_http_methods(["GET", "POST"])
def part_edit(request, pk: int):
    part = get_object_or_404(Part, pk=pk)
    form = PartForm(request.POST or None, instance=part)
    if request.method == "POST" and form.is_valid():
        updated = call_service(
            form,
            lambda: services.part_update(part=part, by=request.user, data=form.service_data()),
        )
        if updated:
            messages.success(request, _("Changes saved."))
            return redirect("parts:part-detail", pk=part.pk)
    return render(request, "parts/part_form.html", {"form": bootstrap_widgets(form), "part": part})


def _successors(part: Part) -> list[Part]:
    """The numbers that replaced this one, oldest first."""
    chain, current = [], part
    while current.superseded_by_id and len(chain) < MAX_CHAIN:
        current = Part.objects.get(pk=current.superseded_by_id)
        chain.append(current)
    return chain


def _predecessors(part: Part) -> list[Part]:
    """The old numbers this one replaced, the most recent first (one query per generation)."""
    found, generation = [], [part.pk]
    while generation and len(found) < MAX_CHAIN:
        older = list(Part.objects.filter(superseded_by__in=generation).order_by("number"))
        found.extend(older)
        generation = [old.pk for old in older]
    return found


def _part_page(request, part: Part, supersede_form=None):
    user = request.user
    stocks = list(
        PartStock.objects.for_user(user).filter(part=part).select_related("branch", "bin")
    )
    moves = list(
        StockMove.objects.for_user(user)
        .filter(part=part)
        .select_related("branch", "by")
        .order_by("-at", "-id")[:RECENT_MOVES]
    )
    branch = working_branch(request)
    return render(
        request,
        "parts/part_detail.html",
        {
            "part": part,
            "stocks": stocks,
            # A current number not yet kept at the working branch can be taken into stock there.
            "can_open_stock": branch is not None
            and part.superseded_by_id is None
            and user.has_perm("parts.change_partstock")
            and all(stock.branch_id != branch.pk for stock in stocks),
            "working_branch": branch,
            "moves": moves,
            "successors": _successors(part),
            "predecessors": _predecessors(part),
            "can_edit": user.has_perm("parts.change_part"),
            "supersede_form": bootstrap_widgets(supersede_form or SupersedeForm(part=part)),
            "open_panel": "supersede" if supersede_form is not None else "",
            "history": history_entries(part, show_pii=can_view_pii(user)),
        },
    )


@login_required
@permission_required("parts.view_part", raise_exception=True)
def part_detail(request, pk: int):
    part = get_object_or_404(Part.objects.select_related("supplier", "superseded_by"), pk=pk)
    return _part_page(request, part)


@login_required
@permission_required("parts.change_part", raise_exception=True)
@require_POST
def part_supersede(request, pk: int):
    part = get_object_or_404(Part.objects.select_related("supplier", "superseded_by"), pk=pk)
    form = SupersedeForm(request.POST, part=part)
    if form.is_valid():
        successor = form.cleaned_data["superseded_by"]
        done = call_service(
            form,
            lambda: services.part_supersede(part=part, successor=successor, by=request.user),
        )
        if done:
            messages.success(
                request,
                _("%(old)s is replaced by %(new)s.")
                % {"old": part.number, "new": successor.number},
            )
            return redirect("parts:part-detail", pk=part.pk)
    return _part_page(request, part, supersede_form=form)


@login_required
@permission_required("parts.change_partstock", raise_exception=True)
@require_POST
def part_stock_open(request, pk: int):
    part = get_object_or_404(Part, pk=pk)
    branch = working_branch(request)
    if branch is None:
        messages.error(request, _("Your account is not linked to any branch."))
        return redirect("parts:part-detail", pk=part.pk)
    try:
        stock = services.stock_open(branch=branch, part=part, by=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("parts:part-detail", pk=part.pk)
    messages.success(
        request,
        _("%(part)s is kept at %(branch)s: give it a bin and its levels.")
        % {"part": part.number, "branch": branch.name},
    )
    return redirect("parts:stock-detail", pk=stock.pk)


# --- Suppliers -----------------------------------------------------------------------------


@login_required
@permission_required("parts.view_supplier", raise_exception=True)
def supplier_list(request):
    suppliers = Supplier.objects.all()
    filterset, suppliers = apply_filters(request, SupplierFilter, suppliers)
    suppliers, current_sort = sort(request, suppliers, SUPPLIER_SORTS, "name")
    return render(
        request,
        "parts/supplier_list.html",
        {"filterset": filterset, "page": paginate(request, suppliers), "sort": current_sort},
    )


@login_required
@permission_required("parts.add_supplier", raise_exception=True)
@require_http_methods(["GET", "POST"])
def supplier_create(request):
    form = SupplierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        supplier = call_service(
            form, lambda: services.supplier_create(by=request.user, data=form.service_data())
        )
        if supplier:
            messages.success(request, _("Supplier %(name)s added.") % {"name": supplier.name})
            return redirect("parts:supplier-list")
    return render(request, "parts/supplier_form.html", {"form": bootstrap_widgets(form)})


@login_required
@permission_required("parts.change_supplier", raise_exception=True)
@require_http_methods(["GET", "POST"])
def supplier_edit(request, pk: int):
    supplier = get_object_or_404(Supplier, pk=pk)
    form = SupplierForm(request.POST or None, instance=supplier)
    if request.method == "POST" and form.is_valid():
        updated = call_service(
            form,
            lambda: services.supplier_update(
                supplier=supplier, by=request.user, data=form.service_data()
            ),
        )
        if updated:
            messages.success(request, _("Changes saved."))
            return redirect("parts:supplier-list")
    return render(
        request,
        "parts/supplier_form.html",
        {
            "form": bootstrap_widgets(form),
            "supplier": supplier,
            "history": history_entries(supplier, show_pii=can_view_pii(request.user)),
        },
    )
