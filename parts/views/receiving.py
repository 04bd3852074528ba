"""Purchase order and receiving pages: the order to a supplier, the checklist filled at the
dock when the parts arrive (验收单), the put-away to the bins and registration (入库登记), and
the printed receipt. As thin as the API: parse, call a service, render."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, DecimalField, F, Q, Sum
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dealer_crm.audit import history_entries
from dealer_crm.errors import DomainError
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.pages import apply_filters, call_service, paginate, sort
from dealer_crm.pii import can_view_pii
from dealer_crm.scoping import working_branch

from .. import services
from ..choices import OrderKind, PurchaseOrderStatus, ReceiptStatus
from ..filters import PurchaseOrderFilter, ReceiptFilter
from ..forms.receiving import (
    PurchaseOrderForm,
    PurchaseOrderLineFormSet,
    PutAwayForm,
    ReasonForm,
    ReceiptCheckForm,
    ReceiptLineCheckForm,
)
from ..models import Bin, Part, PartStock, PurchaseOrder, Receipt

ORDER_SORTS = {
    "number": "pk",
    "created": "created_at",
    "expected": "expected_on",
    "supplier": "supplier__name",
    "status": "status",
    "value": "order_value",
}
RECEIPT_SORTS = {
    "number": "pk",
    "checked": "checked_at",
    "order": "purchase_order_id",
    "supplier": "purchase_order__supplier__name",
    "status": "status",
}
# Orders a receipt can be checked against; the service refuses the others and says why.
RECEIVABLE = (PurchaseOrderStatus.ORDERED, PurchaseOrderStatus.PARTLY_RECEIVED)
CENT = Decimal("0.01")
# How many part numbers the order form suggests as one types.
PART_SUGGESTIONS = 1000
VALUE = DecimalField(max_digits=16, decimal_places=2)
# Where a refused line of the checklist shows its message.
LINE_ERROR_FIELDS = {
    "line_not_checked": "checked",
    "damaged_exceeds_received": "damaged_quantity",
    "quantity_not_whole": "received_quantity",
    "quantity_not_positive": "received_quantity",
    "quantity_negative": "received_quantity",
}


def _row_refused(error: DomainError, rows: list, number_of) -> object | None:
    """The row of the part a refused line names (the error's `part_number`)."""
    number = error.extra.get("part_number")
    return next((row for row in rows if number and number_of(row) == number), None)


# --- Purchase orders -----------------------------------------------------------------------


@login_required
@permission_required("parts.view_purchaseorder", raise_exception=True)
def purchase_order_list(request):
    orders = (
        PurchaseOrder.objects.for_user(request.user)
        .select_related("supplier", "branch", "created_by")
        .annotate(
            line_count=Count("lines"),
            order_value=Sum(F("lines__quantity") * F("lines__unit_cost"), output_field=VALUE),
        )
    )
    filterset, orders = apply_filters(request, PurchaseOrderFilter, orders)
    term = request.GET.get("search", "").strip()[:60]
    orders, current_sort = sort(request, orders, ORDER_SORTS, "-number")
    return render(
        request,
        "parts/purchase_order_list.html",
        {
            "filterset": filterset,
            "page": paginate(request, orders),
            "sort": current_sort,
            "search": term,
            "statuses": PurchaseOrderStatus.choices,
            "chosen_statuses": request.GET.getlist("status"),
        },
    )


@login_required
@permission_required("parts.add_purchaseorder", raise_exception=True)
@require_http_methods(["GET", "POST"])
def purchase_order_create(request):
    branch = working_branch(request)
    if branch is None:
        messages.error(request, _("Your account is not linked to any branch."))
        return redirect("parts:purchase-order-list")
    form = PurchaseOrderForm(
        request.POST or None,
        initial={"kind": OrderKind.STOCK, "supplier": request.GET.get("supplier")},
    )
    formset = PurchaseOrderLineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        rows = [row for row in formset.forms if row.has_changed()]

        def create():
            try:
                return services.purchase_order_create(
                    branch=branch,
                    by=request.user,
                    lines=formset.lines(),
                    **form.cleaned_data,
                )
            except DomainError as error:
                row = _row_refused(error, rows, lambda row: row.cleaned_data["part"].number)
                if row is None or error.field != "quantity":
                    raise
                row.add_error("quantity", str(error.message))
                return None

        order = call_service(form, create)
        if order:
            messages.success(
                request,
                _("Purchase order %(number)s drafted: check it and place it with %(supplier)s.")
                % {"number": order.number, "supplier": order.supplier},
            )
            return redirect("parts:purchase-order-detail", pk=order.pk)
    for each in [form, *formset.forms]:
        bootstrap_widgets(each)  # also marks a field the service refused
    return render(
        request,
        "parts/purchase_order_form.html",
        {
            "form": form,
            "formset": formset,
            "branch": branch,
            # Suggestions as the number is typed: the current numbers of the catalogue.
            "part_numbers": Part.objects.filter(superseded_by__isnull=True)
            .order_by("number")
            .values_list("number", "name")[:PART_SUGGESTIONS],
        },
    )


def _load_order(request, pk: int) -> PurchaseOrder:
    return PurchaseOrder.objects.select_related(
        "supplier", "branch", "created_by"
    ).get_for_user_or_404(request.user, pk=pk)


def _order_page(request, order: PurchaseOrder, **forms):
    user = request.user
    lines = list(order.lines.select_related("part"))
    for line in lines:
        line.amount = (line.quantity * line.unit_cost).quantize(CENT)
    can_change = user.has_perm("parts.change_purchaseorder")
    return render(
        request,
        "parts/purchase_order_detail.html",
        {
            "order": order,
            "lines": lines,
            "order_value": sum((line.amount for line in lines), Decimal("0")),
            "receipts": list(order.receipts.select_related("checked_by", "registered_by")),
            "can_place": can_change and order.status == PurchaseOrderStatus.DRAFT,
            "can_cancel": can_change
            and order.status in (PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.ORDERED),
            "can_close": can_change and order.status == PurchaseOrderStatus.PARTLY_RECEIVED,
            "can_receive": user.has_perm("parts.add_receipt") and order.status in RECEIVABLE,
            "cancel_form": forms.get("cancel_form") or ReasonForm(prefix="cancel"),
            "close_form": forms.get("close_form") or ReasonForm(prefix="close"),
            "open_panel": forms.get("open_panel", ""),
            "history": history_entries(order, show_pii=can_view_pii(user)),
        },
    )


@login_required
@permission_required("parts.view_purchaseorder", raise_exception=True)
def purchase_order_detail(request, pk: int):
    return _order_page(request, _load_order(request, pk))


def _failed(request, order: PurchaseOrder, form, **forms):
    """A reason missing comes back beside the field; a refused state change is a message on
    the order's page."""
    if any(field != "__all__" for field in form.errors):
        return _order_page(request, order, **forms)
    for message in form.non_field_errors():
        messages.error(request, message)
    return redirect("parts:purchase-order-detail", pk=order.pk)


@login_required
@permission_required("parts.change_purchaseorder", raise_exception=True)
@require_POST
def purchase_order_place(request, pk: int):
    order = _load_order(request, pk)
    try:
        services.purchase_order_place(purchase_order=order, by=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("Purchase order %(number)s placed with %(supplier)s.")
            % {"number": order.number, "supplier": order.supplier},
        )
    return redirect("parts:purchase-order-detail", pk=order.pk)


@login_required
@permission_required("parts.change_purchaseorder", raise_exception=True)
@require_POST
def purchase_order_cancel(request, pk: int):
    order = _load_order(request, pk)
    form = ReasonForm(request.POST, prefix="cancel")
    if form.is_valid() and call_service(
        form,
        lambda: services.purchase_order_cancel(
            purchase_order=order, by=request.user, reason=form.cleaned_data["reason"]
        ),
    ):
        messages.success(
            request, _("Purchase order %(number)s cancelled.") % {"number": order.number}
        )
        return redirect("parts:purchase-order-detail", pk=order.pk)
    return _failed(request, order, form, cancel_form=form, open_panel="cancel")


@login_required
@permission_required("parts.change_purchaseorder", raise_exception=True)
@require_POST
def purchase_order_close(request, pk: int):
    order = _load_order(request, pk)
    form = ReasonForm(request.POST, prefix="close")
    if form.is_valid() and call_service(
        form,
        lambda: services.purchase_order_close(
            purchase_order=order, by=request.user, reason=form.cleaned_data["reason"]
        ),
    ):
        messages.success(
            request,
            _("Purchase order %(number)s closed: the rest will not come.")
            % {"number": order.number},
        )
        return redirect("parts:purchase-order-detail", pk=order.pk)
    return _failed(request, order, form, close_form=form, open_panel="close")


# --- Receipts ------------------------------------------------------------------------------


@login_required
@permission_required("parts.add_receipt", raise_exception=True)
@require_http_methods(["GET", "POST"])
def receipt_create(request, pk: int):
    order = _load_order(request, pk)
    outstanding = [line for line in order.lines.select_related("part") if line.outstanding]
    data = request.POST or None
    form = ReceiptCheckForm(data)
    rows = [ReceiptLineCheckForm(data, order_line=line) for line in outstanding]
    if request.method == "POST" and form.is_valid() & all([row.is_valid() for row in rows]):

        def check():
            try:
                return services.receipt_check(
                    purchase_order=order,
                    by=request.user,
                    lines=[row.entry() for row in rows],
                    **form.cleaned_data,
                )
            except DomainError as error:
                # A refused line shows its message on that line of the checklist.
                row = _row_refused(error, rows, lambda r: r.order_line.part.number)
                if row is None or error.field not in ("lines", "quantity"):
                    raise
                row.add_error(
                    LINE_ERROR_FIELDS.get(error.code, "received_quantity"), str(error.message)
                )
                return None

        receipt = call_service(form, check)
        if receipt:
            messages.success(
                request,
                _("Receipt %(number)s checked: put the parts away and register them.")
                % {"number": receipt.number},
            )
            return redirect("parts:receipt-detail", pk=receipt.pk)
    for each in [form, *rows]:
        bootstrap_widgets(each)  # also marks a field the service refused
    return render(
        request,
        "parts/receipt_form.html",
        {
            "order": order,
            "form": form,
            "rows": rows,
            "receivable": order.status in RECEIVABLE,
            "line_errors": any(row.errors for row in rows),
        },
    )


@login_required
@permission_required("parts.view_receipt", raise_exception=True)
def receipt_list(request):
    receipts = (
        Receipt.objects.for_user(request.user)
        .select_related("purchase_order__supplier", "branch", "checked_by")
        .annotate(
            line_count=Count("lines"),
            discrepancy_count=Count(
                "lines",
                filter=~Q(lines__received_quantity=F("lines__expected_quantity"))
                | Q(lines__damaged_quantity__gt=0),
            ),
        )
    )
    filterset, receipts = apply_filters(request, ReceiptFilter, receipts)
    term = request.GET.get("search", "").strip()[:60]
    receipts, current_sort = sort(request, receipts, RECEIPT_SORTS, "-number")
    return render(
        request,
        "parts/receipt_list.html",
        {
            "filterset": filterset,
            "page": paginate(request, receipts),
            "sort": current_sort,
            "search": term,
            "statuses": ReceiptStatus.choices,
        },
    )


def _load_receipt(request, pk: int) -> Receipt:
    return Receipt.objects.select_related(
        "purchase_order__supplier", "branch", "checked_by", "registered_by"
    ).get_for_user_or_404(request.user, pk=pk)


def _put_away_form(receipt: Receipt, lines: list, data=None) -> PutAwayForm:
    """A free bin to choose for each accepted line whose part has no bin at the branch."""
    accepted = [line for line in lines if line.accepted_quantity > 0]
    with_bin = set(
        PartStock.objects.filter(
            branch_id=receipt.branch_id,
            part_id__in=[line.part_id for line in accepted],
            bin__isnull=False,
        ).values_list("part_id", flat=True)
    )
    free_bins = Bin.objects.filter(branch_id=receipt.branch_id, stock__isnull=True)
    return PutAwayForm(
        data,
        lines=[line for line in accepted if line.part_id not in with_bin],
        free_bins=free_bins,
    )


def _receipt_lines(receipt: Receipt) -> list:
    return list(receipt.lines.select_related("part", "bin", "order_line"))


def _receipt_page(request, receipt: Receipt, put_away_form=None):
    user = request.user
    lines = _receipt_lines(receipt)
    can_register = receipt.status == ReceiptStatus.CHECKED and user.has_perm("parts.change_receipt")
    if can_register and put_away_form is None:
        put_away_form = _put_away_form(receipt, lines)
    elif put_away_form is not None:
        bootstrap_widgets(put_away_form)  # also marks a field the service refused
    bins_held = {}
    if receipt.status == ReceiptStatus.CHECKED:
        bins_held = {
            stock.part_id: stock.bin
            for stock in PartStock.objects.filter(
                branch_id=receipt.branch_id,
                part_id__in=[line.part_id for line in lines],
                bin__isnull=False,
            ).select_related("bin")
        }
    for line in lines:
        line.put_away_to = line.bin or bins_held.get(line.part_id)
        line.bin_field = (
            put_away_form[PutAwayForm.field_name(line)]
            if put_away_form is not None and PutAwayForm.field_name(line) in put_away_form.fields
            else None
        )
    return render(
        request,
        "parts/receipt_detail.html",
        {
            "receipt": receipt,
            "order": receipt.purchase_order,
            "lines": lines,
            "can_register": can_register,
            "put_away_form": put_away_form,
            "history": history_entries(receipt, show_pii=can_view_pii(user)),
        },
    )


@login_required
@permission_required("parts.view_receipt", raise_exception=True)
def receipt_detail(request, pk: int):
    return _receipt_page(request, _load_receipt(request, pk))


@login_required
@permission_required("parts.change_receipt", raise_exception=True)
@require_POST
def receipt_register(request, pk: int):
    receipt = _load_receipt(request, pk)
    lines = _receipt_lines(receipt)
    form = _put_away_form(receipt, lines, request.POST)
    if form.is_valid():
        bins = form.bins()

        def register():
            try:
                return services.receipt_register(receipt=receipt, by=request.user, bins=bins)
            except DomainError as error:
                # A part without a bin, or a bin already taken: beside that line's choice.
                line = _row_refused(error, form.lines, lambda line: line.part.number)
                if line is None:
                    raise
                form.add_error(PutAwayForm.field_name(line), str(error.message))
                return None

        if call_service(form, register):
            messages.success(
                request,
                _("Receipt %(number)s put away and registered: the parts are in stock.")
                % {"number": receipt.number},
            )
            return redirect("parts:receipt-detail", pk=receipt.pk)
    if form.errors and not any(field != "__all__" for field in form.errors):
        for message in form.non_field_errors():
            messages.error(request, message)
        return redirect("parts:receipt-detail", pk=receipt.pk)
    return _receipt_page(request, receipt, put_away_form=form)


@login_required
@permission_required("parts.view_receipt", raise_exception=True)
def receipt_print(request, pk: int):
    receipt = _load_receipt(request, pk)
    return render(
        request,
        "parts/receipt_print.html",
        {
            "receipt": receipt,
            "branch": receipt.branch,
            "order": receipt.purchase_order,
            "lines": _receipt_lines(receipt),
        },
    )
