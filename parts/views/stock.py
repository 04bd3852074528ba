"""Stock pages: each branch's stock of a part with its levels and bin, the bin map of the
stockroom, and the ledger of stock moves. As thin as the API: parse, call a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dealer_crm.audit import history_entries
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.pages import (
    COUNT_CAP,
    PAGE_SIZES,
    CappedPaginator,
    apply_filters,
    call_service,
    paginate,
    sort,
)
from dealer_crm.pii import can_view_pii
from dealer_crm.scoping import working_branch

from .. import selectors, services
from ..choices import MoveKind, PartClass
from ..filters import PartStockFilter, StockMoveFilter
from ..forms.stock import BinAssignForm, BinForm, StockLevelsForm
from ..models import Bin, PartStock, StockMove

STOCK_SORTS = {
    "part": "part__number",
    "bin": "bin_label",
    "on_hand": "on_hand",
    "reserved": "reserved",
    "available": "available_quantity",
    "cost": "average_cost",
    "value": "stock_value",
    "reorder_point": "reorder_point",
    "last_move": "last_move_at",
}
MOVE_SORTS = {
    "at": "at",
    "part": "part__number",
    "kind": "kind",
    "quantity": "quantity",
    "document": "document",
}
# The moves a stock row's page shows.
RECENT_MOVES = 50
# The ledger grows without bound: its pages count at most this many moves.


@login_required
@permission_required("parts.view_partstock", raise_exception=True)
def stock_list(request):
    stock = selectors.stock_list(user=request.user).annotate(
        bin_label=Concat(F("bin__zone"), Value("-"), F("bin__shelf"), Value("-"), F("bin__level"))
    )
    filterset, stock = apply_filters(request, PartStockFilter, stock)
    stock, current_sort = sort(request, stock, STOCK_SORTS, "part")
    zones = (
        Bin.objects.for_user(request.user)
        .order_by("zone")
        .values_list("zone", flat=True)
        .distinct()
    )
    return render(
        request,
        "parts/stock_list.html",
        {
            "filterset": filterset,
            "page": paginate(request, stock),
            "sort": current_sort,
            "zones": list(zones),
            "classifications": PartClass.choices,
        },
    )


def _load(request, pk: int) -> PartStock:
    return (
        selectors.stock_list(user=request.user)
        .select_related("part__superseded_by")
        .get_for_user_or_404(request.user, pk=pk)
    )


def _stock_page(request, stock: PartStock, **forms):
    user = request.user
    for form in forms.values():
        bootstrap_widgets(form)  # also marks a field the service refused
    can_change = user.has_perm("parts.change_partstock")
    return render(
        request,
        "parts/stock_detail.html",
        {
            "stock": stock,
            "part": stock.part,
            "moves": list(
                StockMove.objects.filter(branch_id=stock.branch_id, part_id=stock.part_id)
                .select_related("by")
                .order_by("-at", "-id")[:RECENT_MOVES]
            ),
            "can_change": can_change,
            "levels_form": forms.get("levels_form") or StockLevelsForm(stock=stock),
            "bin_form": forms.get("bin_form") or BinAssignForm(stock=stock),
            "to_reorder": stock.reorder_point > 0 and stock.available <= stock.reorder_point,
            "history": history_entries(stock, show_pii=can_view_pii(user)),
        },
    )


@login_required
@permission_required("parts.view_partstock", raise_exception=True)
def stock_detail(request, pk: int):
    return _stock_page(request, _load(request, pk))


@login_required
@permission_required("parts.change_partstock", raise_exception=True)
@require_POST
def stock_levels(request, pk: int):
    stock = _load(request, pk)
    form = StockLevelsForm(request.POST, stock=stock)
    if form.is_valid() and call_service(
        form,
        lambda: services.stock_levels_set(
            branch=stock.branch, part=stock.part, by=request.user, **form.cleaned_data
        ),
    ):
        messages.success(request, _("Stock levels of %(part)s saved.") % {"part": stock.part})
        return redirect("parts:stock-detail", pk=stock.pk)
    # Refused: the form comes back on the page with the message beside the levels.
    return _stock_page(request, stock, levels_form=form)


@login_required
@permission_required("parts.change_partstock", raise_exception=True)
@require_POST
def stock_bin(request, pk: int):
    stock = _load(request, pk)
    form = BinAssignForm(request.POST, stock=stock)
    if form.is_valid():
        chosen = form.cleaned_data["bin"]
        if call_service(
            form,
            lambda: services.bin_assign(
                branch=stock.branch, part=stock.part, bin=chosen, by=request.user
            ),
        ):
            messages.success(
                request,
                _("%(part)s is kept in bin %(bin)s.") % {"part": stock.part.number, "bin": chosen},
            )
            return redirect("parts:stock-detail", pk=stock.pk)
    return _stock_page(request, stock, bin_form=form)


# --- Bins ----------------------------------------------------------------------------------


def _bin_map_page(request, branch, bin_form=None):
    if bin_form is not None:
        bootstrap_widgets(bin_form)  # also marks a field the service refused
    zones = selectors.bin_map(branch_id=branch.pk) if branch else []
    cells = [cell for _zone, shelves in zones for _shelf, row in shelves for cell in row]
    return render(
        request,
        "parts/bin_map.html",
        {
            "branch": branch,
            "zones": zones,
            "bin_count": len(cells),
            "free_count": sum(1 for cell in cells if cell.stock is None),
            "bin_form": bin_form or BinForm(),
            "open_panel": "bin" if bin_form is not None else "",
        },
    )


@login_required
@permission_required("parts.view_bin", raise_exception=True)
def bin_map(request):
    return _bin_map_page(request, working_branch(request))


@login_required
@permission_required("parts.add_bin", raise_exception=True)
@require_http_methods(["GET", "POST"])
def bin_create(request):
    branch = working_branch(request)
    if branch is None:
        messages.error(request, _("Your account is not linked to any branch."))
        return redirect("parts:bin-map")
    if request.method == "GET":
        return redirect("parts:bin-map")
    form = BinForm(request.POST)
    if form.is_valid():
        place = call_service(
            form,
            lambda: services.bin_create(branch=branch, by=request.user, data=form.cleaned_data),
        )
        if place:
            messages.success(request, _("Bin %(bin)s added.") % {"bin": place})
            return redirect("parts:bin-map")
    return _bin_map_page(request, branch, bin_form=form)


# --- The ledger ----------------------------------------------------------------------------


def _capped_page(request, queryset):
    try:
        size = int(request.GET.get("size", 50))
    except ValueError:
        size = 50
    size = size if size in PAGE_SIZES else 50
    return CappedPaginator(queryset, size).get_page(request.GET.get("page"))


@login_required
@permission_required("parts.view_stockmove", raise_exception=True)
def move_list(request):
    moves = StockMove.objects.for_user(request.user).select_related("part", "by", "branch")
    filterset, moves = apply_filters(request, StockMoveFilter, moves)
    moves, current_sort = sort(request, moves, MOVE_SORTS, "-at")
    page = _capped_page(request, moves)
    return render(
        request,
        "parts/move_list.html",
        {
            "filterset": filterset,
            "page": page,
            "capped": page.paginator.count >= COUNT_CAP,
            "sort": current_sort,
            "kinds": MoveKind.choices,
            "chosen_kinds": request.GET.getlist("kind"),
        },
    )
