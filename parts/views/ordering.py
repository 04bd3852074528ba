"""Ordering pages: the reorder suggestions a clerk turns into purchase orders, and the emergency
orders for a customer (即购即销) from the advisor's request to the hand-over. As thin as the
API: parse, call a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from customers.forms import staff_choices
from customers.models import Customer
from customers.selectors import customers_matching
from dealer_crm.audit import history_entries
from dealer_crm.errors import DomainError
from dealer_crm.filters import plain_id
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.models import display_name
from dealer_crm.pages import call_service, paginate, sort
from dealer_crm.pii import can_view_pii
from dealer_crm.scoping import branch_ids_for, working_branch

from .. import services
from ..choices import EmergencyStatus, SuggestionStatus
from ..filters import EmergencyOrderFilter, ReorderSuggestionFilter
from ..forms.ordering import (
    CUSTOMER_CHOICES_LIMIT,
    CustomerSearchForm,
    EmergencyCancelForm,
    EmergencyConfirmForm,
    EmergencyDepositForm,
    EmergencyOrderForm,
    EmergencyQuoteForm,
    vehicle_choices,
)
from ..models import EmergencyOrder, ReorderSuggestion

# --- Reorder suggestions -------------------------------------------------------------------

SUGGESTION_SORTS = {
    "part": "part__number",
    "supplier": "part__supplier__name",
    "available": "available",
    "on_order": "on_order",
    "use": "daily_consumption",
    "lead_time": "lead_time_days",
    "reorder_point": "reorder_point",
    "suggested": "suggested_quantity",
    "computed": "computed_on",
}


def _back_to_suggestions(request):
    """Back to the list as it was filtered, or to the plain list."""
    target = request.POST.get("next", "")
    list_url = reverse("parts:suggestion-list")
    if target.startswith(list_url) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return redirect(target)
    return redirect(list_url)


@login_required
@permission_required("parts.view_reordersuggestion", raise_exception=True)
def suggestion_list(request):
    branch = working_branch(request)
    suggestions = (
        ReorderSuggestion.objects.for_user(request.user)
        .filter(branch=branch)
        .select_related("part", "part__supplier", "purchase_order")
    )
    latest = ReorderSuggestion.objects.filter(branch=branch).aggregate(day=Max("computed_on"))[
        "day"
    ]
    # By default: the open suggestions of the latest day computed; an emptied filter shows all.
    data = request.GET.copy()
    data.setdefault("status", SuggestionStatus.OPEN)
    if latest is not None:
        data.setdefault("computed_on", latest.isoformat())
    filterset = ReorderSuggestionFilter(data, queryset=suggestions, request=request)
    for name in ("branch", "part"):  # the working branch only; a part select would be huge
        filterset.filters.pop(name)
    filterset.form.fields["computed_on"].widget.input_type = "date"
    shown = filterset.qs if filterset.is_valid() else suggestions.none()
    bootstrap_widgets(filterset.form)
    shown, current_sort = sort(request, shown, SUGGESTION_SORTS, "part")
    return render(
        request,
        "parts/suggestion_list.html",
        {
            "filterset": filterset,
            "page": paginate(request, shown, default_size=50),
            "sort": current_sort,
            "branch": branch,
            "latest": latest,
            "today": timezone.localdate(),
            "filtered": bool(request.GET.keys() - {"sort", "page", "size"}),
        },
    )


@login_required
@permission_required("parts.add_reordersuggestion", raise_exception=True)
@require_POST
def suggestion_compute(request):
    """Recompute today's suggestions for the working branch now, without waiting for the
    nightly job; suggestions already ordered or dismissed today stay as they are."""
    branch = working_branch(request)
    if branch is None:
        messages.error(request, _("Your account is not linked to any branch."))
        return redirect("parts:suggestion-list")
    count = services.reorder_suggestions_compute(branch=branch, day=timezone.localdate())
    messages.success(
        request,
        ngettext(
            "Recomputed for %(branch)s: %(count)s part to order.",
            "Recomputed for %(branch)s: %(count)s parts to order.",
            count,
        )
        % {"branch": branch.name, "count": count},
    )
    return redirect("parts:suggestion-list")


@login_required
@permission_required(
    ["parts.change_reordersuggestion", "parts.add_purchaseorder"], raise_exception=True
)
@require_POST
def suggestion_order(request):
    """The ticked suggestions become draft stock orders, one per supplier."""
    ids = {value for value in request.POST.getlist("suggestions") if plain_id(value)}
    if not ids:
        messages.error(request, _("Tick at least one suggestion."))
        return _back_to_suggestions(request)
    chosen = list(ReorderSuggestion.objects.for_user(request.user).filter(pk__in=ids))
    if len(chosen) != len(ids):
        raise Http404  # another branch's suggestion, or none at all
    try:
        orders = services.purchase_orders_from_suggestions(suggestions=chosen, by=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
        return _back_to_suggestions(request)
    if len(orders) == 1:
        messages.success(
            request,
            _("Draft purchase order %(number)s made: check it and place it with the supplier.")
            % {"number": orders[0].number},
        )
        return redirect("parts:purchase-order-detail", pk=orders[0].pk)
    messages.success(
        request,
        _("%(count)s draft purchase orders made, one per supplier: %(numbers)s.")
        % {"count": len(orders), "numbers": ", ".join(order.number for order in orders)},
    )
    return redirect(f"{reverse('parts:purchase-order-list')}?status=draft")


@login_required
@permission_required("parts.change_reordersuggestion", raise_exception=True)
@require_POST
def suggestion_dismiss(request, pk: int):
    suggestion = ReorderSuggestion.objects.select_related("part").get_for_user_or_404(
        request.user, pk=pk
    )
    try:
        services.reorder_suggestion_dismiss(suggestion=suggestion, by=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request, _("Suggestion for %(part)s dismissed.") % {"part": suggestion.part.number}
        )
    return _back_to_suggestions(request)


# --- Emergency orders for a customer (即购即销) ----------------------------------------------

EMERGENCY_SORTS = {
    "requested": "created_at",
    "status": "status",
    "customer": "customer__name",
    "part": "part__number",
    "promised": "promised_on",
}
# The way an emergency order goes when nothing goes wrong; a cancelled one leaves it.
EMERGENCY_STEPS = [
    EmergencyStatus.REQUESTED,
    EmergencyStatus.QUOTED,
    EmergencyStatus.DEPOSIT_PAID,
    EmergencyStatus.ORDERED,
    EmergencyStatus.ARRIVED,
    EmergencyStatus.HANDED_OVER,
]
CANCELLABLE = EMERGENCY_STEPS[:4]
# Each step posted to emergency-order-step: its form, the permissions it needs, and the
# statuses in which the page offers it (the service decides; this only hides buttons).
STEP_FORMS = {
    "quote": EmergencyQuoteForm,
    "deposit": EmergencyDepositForm,
    "place": EmergencyConfirmForm,
    "hand-over": EmergencyConfirmForm,
    "cancel": EmergencyCancelForm,
}
STEP_PERMISSIONS = {
    "quote": ["parts.change_emergencyorder"],
    "deposit": ["parts.change_emergencyorder"],
    "place": ["parts.change_emergencyorder", "parts.add_purchaseorder"],
    "hand-over": ["parts.change_emergencyorder", "parts.add_partissue"],
    "cancel": ["parts.change_emergencyorder"],
}
STEP_OFFERED = {
    "quote": [EmergencyStatus.REQUESTED, EmergencyStatus.QUOTED],
    "deposit": [EmergencyStatus.QUOTED],
    "place": [EmergencyStatus.DEPOSIT_PAID],
    "hand-over": [EmergencyStatus.ARRIVED],
    "cancel": CANCELLABLE,
}


def _emergency_orders(user):
    return EmergencyOrder.objects.for_user(user).select_related(
        "branch", "customer", "vehicle", "part", "advisor", "supplier", "purchase_order", "issue"
    )


@login_required
@permission_required("parts.view_emergencyorder", raise_exception=True)
def emergency_order_list(request):
    orders = _emergency_orders(request.user)
    filterset = EmergencyOrderFilter(request.GET or None, queryset=orders, request=request)
    fields = filterset.form.fields
    # Only customers who have an emergency order: a branch's every owner would be too many.
    fields["customer"].queryset = (
        Customer.objects.filter(emergency_part_orders__branch_id__in=branch_ids_for(request.user))
        .distinct()
        .order_by("name")
    )
    fields["advisor"].queryset = staff_choices(request.user)
    fields["advisor"].label_from_instance = display_name
    if len(branch_ids_for(request.user)) < 2:
        del fields["branch"]
    orders = filterset.qs if filterset.is_bound and filterset.is_valid() else orders
    bootstrap_widgets(filterset.form)
    orders, current_sort = sort(request, orders, EMERGENCY_SORTS, "-requested")
    return render(
        request,
        "parts/emergency_list.html",
        {
            "filterset": filterset,
            "page": paginate(request, orders),
            "sort": current_sort,
            "show_pii": can_view_pii(request.user),
        },
    )


def _customer_options(request, branch):
    """The customer select's options for what was typed in the search box (htmx)."""
    search = CustomerSearchForm(request.GET)
    term = search.cleaned_data["customer_search"].strip() if search.is_valid() else ""
    customers = customers_matching(branch=branch, term=term, limit=CUSTOMER_CHOICES_LIMIT)
    only = customers[0] if len(customers) == 1 else None
    return render(
        request,
        "parts/emergency_customer_options.html",
        {
            "customers": customers,
            "term": term,
            "vehicles": vehicle_choices(only),
            "oob": True,
        },
    )


def _vehicle_options(request, branch):
    """The chosen customer's vehicles (htmx), when the customer select changes."""
    chosen = plain_id(request.GET.get("customer"))
    customer = (
        Customer.objects.active().filter(branch=branch, pk=chosen).first() if chosen else None
    )
    return render(
        request, "parts/emergency_vehicle_options.html", {"vehicles": vehicle_choices(customer)}
    )


INITIAL_FROM_QUERY = ["customer", "vehicle", "part_number", "quantity"]


@login_required
@permission_required("parts.add_emergencyorder", raise_exception=True)
@require_http_methods(["GET", "POST"])
def emergency_order_create(request):
    branch = working_branch(request)
    if branch is None:
        messages.error(request, _("Your account is not linked to any branch."))
        return redirect("parts:emergency-order-list")
    if request.method == "GET" and "customer_search" in request.GET:
        return _customer_options(request, branch)
    if request.method == "GET" and "vehicles" in request.GET:
        return _vehicle_options(request, branch)
    # ?customer=<id>&part_number=...: a customer's page or a lost sale can start a request.
    initial = {name: request.GET[name] for name in INITIAL_FROM_QUERY if name in request.GET}
    form = EmergencyOrderForm(
        request.POST or None, initial=initial if request.method == "GET" else None, branch=branch
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        order = call_service(
            form,
            lambda: services.emergency_order_request(
                branch=branch,
                customer=data["customer"],
                vehicle=data["vehicle"],
                part=data["part_number"],
                quantity=data["quantity"],
                note=data["note"],
                by=request.user,
            ),
        )
        if order:
            messages.success(
                request,
                _("Emergency order %(number)s requested for %(customer)s: the stockroom asks "
                  "the supplier for a quote.")
                % {"number": order.number, "customer": order.customer.name},
            )  # fmt: skip
            return redirect("parts:emergency-order-detail", pk=order.pk)
    return render(request, "parts/emergency_form.html", {"form": form, "branch": branch})


def _steps(order: EmergencyOrder) -> list[dict]:
    reached = EMERGENCY_STEPS.index(order.status) if order.status in EMERGENCY_STEPS else -1
    finished = order.status == EmergencyStatus.HANDED_OVER
    return [
        {
            "label": EmergencyStatus(step).label,
            "done": index < reached or finished,
            "current": index == reached and not finished,
        }
        for index, step in enumerate(EMERGENCY_STEPS)
    ]


def _initial(order: EmergencyOrder, step: str) -> dict:
    if step == "quote":
        return {
            "supplier": order.supplier_id or order.part.supplier_id,
            "quoted_unit_cost": order.quoted_unit_cost,
            "unit_price": order.unit_price if order.unit_price is not None else order.part.price,
            "promised_on": order.promised_on,
        }
    return {}


def _emergency_page(request, order: EmergencyOrder, failed: tuple[str, object] | None = None):
    """The order's page with the forms of the steps it may take now; a form that failed comes
    back bound, with its errors beside its fields."""
    user = request.user
    offered = {}
    for step, statuses in STEP_OFFERED.items():
        if order.status in statuses and user.has_perms(STEP_PERMISSIONS[step]):
            key = step.replace("-", "_")  # hand_over: a name the template can read
            if failed is not None and failed[0] == step:
                offered[key] = failed[1]
            else:
                offered[key] = STEP_FORMS[step](initial=_initial(order, step), prefix=step)
    total = order.unit_price * order.quantity if order.unit_price is not None else None
    return render(
        request,
        "parts/emergency_detail.html",
        {
            "order": order,
            "steps": _steps(order),
            "forms": offered,
            "open_panel": failed[0] if failed else "",
            "total": total,
            "balance": total - order.deposit if total is not None else None,
            "purchase_order": order.purchase_order,
            "issue": order.issue,
            "can_receive": order.status == EmergencyStatus.ORDERED
            and order.purchase_order is not None
            and user.has_perm("parts.add_receipt"),
            "show_pii": can_view_pii(user),
            "history": history_entries(order, show_pii=can_view_pii(user)),
        },
    )


@login_required
@permission_required("parts.view_emergencyorder", raise_exception=True)
def emergency_order_detail(request, pk: int):
    order = _emergency_orders(request.user).get_for_user_or_404(request.user, pk=pk)
    return _emergency_page(request, order)


def _run_step(step: str, order: EmergencyOrder, data: dict, by):
    if step == "quote":
        return services.emergency_order_quote(emergency_order=order, by=by, **data)
    if step == "deposit":
        return services.emergency_order_deposit(emergency_order=order, amount=data["amount"], by=by)
    if step == "place":
        return services.emergency_order_place(emergency_order=order, by=by)
    if step == "hand-over":
        return services.emergency_order_hand_over(emergency_order=order, by=by)
    return services.emergency_order_cancel(emergency_order=order, by=by, reason=data["reason"])


STEP_DONE = {
    "quote": gettext_lazy("Quote recorded for %(number)s: collect the customer's deposit next."),
    "deposit": gettext_lazy("Deposit recorded for %(number)s: the stockroom can place the order."),
    "place": gettext_lazy("%(number)s ordered from the supplier on an emergency purchase order."),
    "hand-over": gettext_lazy(
        "%(number)s handed over: an issue voucher takes the part out of stock."
    ),
    "cancel": gettext_lazy("Emergency order %(number)s cancelled."),
}


@login_required
@permission_required("parts.view_emergencyorder", raise_exception=True)
@require_http_methods(["GET", "POST"])
def emergency_order_step(request, pk: int, step: str):
    if step not in STEP_FORMS:
        raise Http404
    order = _emergency_orders(request.user).get_for_user_or_404(request.user, pk=pk)
    if request.method == "GET":
        # The address a refused step was shown at, reloaded or revisited: back to the order.
        return redirect("parts:emergency-order-detail", pk=order.pk)
    if not request.user.has_perms(STEP_PERMISSIONS[step]):
        raise PermissionDenied
    form = STEP_FORMS[step](request.POST, prefix=step)
    if form.is_valid() and call_service(
        form, lambda: _run_step(step, order, form.cleaned_data, request.user)
    ):
        messages.success(request, str(STEP_DONE[step]) % {"number": order.number})
        return redirect("parts:emergency-order-detail", pk=order.pk)
    if any(field != "__all__" for field in form.errors) or order.status in STEP_OFFERED[step]:
        return _emergency_page(request, order, failed=(step, form))
    # A step the order is not at (placing before the deposit): the refusal, on its page.
    for message in form.non_field_errors():
        messages.error(request, message)
    return redirect("parts:emergency-order-detail", pk=order.pk)
