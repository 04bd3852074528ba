"""Order pages: the purchase agreement from its quote to the handover, with its payments.
As thin as the API: parse, call a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from customers.forms import staff_choices
from dealer_crm.audit import history_entries
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.models import display_name
from dealer_crm.pages import call_service, paginate, sort
from dealer_crm.pii import can_view_pii
from dealer_crm.templatetags.crm import money

from .. import selectors, services
from ..choices import LeadStatus, LostReason, OrderStatus
from ..filters import OrderFilter
from ..forms.orders import (
    NEW_CUSTOMER,
    AllocateForm,
    CancelForm,
    DeliveryForm,
    InvoiceForm,
    OrderCreateForm,
    OrderSignForm,
    PaymentForm,
    PaymentReceiveForm,
)
from ..models import ZERO, Order, Payment, Quote

ORDER_SORTS = {
    "created": "created_at",
    "signed": "signed_at",
    "total": "total_price",
    "status": "status",
    "customer": "customer__name",
}
# The way an order goes when nothing goes wrong; a cancelled order leaves it.
ORDER_STEPS = [
    OrderStatus.DRAFT,
    OrderStatus.SIGNED,
    OrderStatus.ALLOCATED,
    OrderStatus.INVOICED,
    OrderStatus.DELIVERED,
]
OPEN_STATUSES = ORDER_STEPS[:-1]


def _orders(user):
    return Order.objects.for_user(user).select_related(
        "customer", "consultant", "branch", "stock_vehicle"
    )


@login_required
@permission_required("sales.view_order", raise_exception=True)
def order_list(request):
    orders = selectors.orders_with_paid_total().for_user(request.user).select_related("consultant")
    filterset = OrderFilter(request.GET or None, queryset=orders, request=request)
    consultant = filterset.form.fields["consultant"]
    consultant.queryset = staff_choices(request.user)
    consultant.label_from_instance = display_name
    orders = filterset.qs if filterset.is_bound and filterset.is_valid() else orders
    bootstrap_widgets(filterset.form)
    orders, current_sort = sort(request, orders, ORDER_SORTS, "-created")
    return render(
        request,
        "sales/order_list.html",
        {
            "filterset": filterset,
            "page": paginate(request, orders),
            "sort": current_sort,
            "statuses": OrderStatus.choices,
            "chosen_statuses": request.GET.getlist("status"),
        },
    )


def _order_steps(order: Order) -> list[dict]:
    reached = ORDER_STEPS.index(order.status) if order.status in ORDER_STEPS else -1
    return [
        {
            "label": OrderStatus(step).label,
            "done": index < reached or order.status == OrderStatus.DELIVERED,
            "current": index == reached and order.status != OrderStatus.DELIVERED,
        }
        for index, step in enumerate(ORDER_STEPS)
    ]


def _order_page(request, order: Order, **forms):
    """The order's page; a form that failed is passed in bound, with its errors."""
    user = request.user
    payments = list(order.payments.select_related("recorded_by"))
    paid = sum((p.amount for p in payments if p.paid_on), ZERO)
    for payment in payments:
        if not payment.paid_on:
            payment.receive_form = (
                forms["receive_form"]
                if payment.pk == forms.get("receive_payment_id")
                else PaymentReceiveForm(prefix=f"receive-{payment.pk}")
            )
    is_open = order.status in OPEN_STATUSES
    can_allocate = order.status == OrderStatus.SIGNED and user.has_perm("sales.change_order")
    context = {
        "order": order,
        "customer": order.customer,
        "stock_vehicle": order.stock_vehicle,
        "delivery": getattr(order, "delivery", None),
        "payments": payments,
        "paid": paid,
        "outstanding": order.total_price - paid,
        "scheduled": sum((p.amount for p in payments if not p.paid_on), ZERO),
        "steps": _order_steps(order),
        "is_open": is_open,
        "can_sign": order.status == OrderStatus.DRAFT and user.has_perm("sales.change_order"),
        "can_allocate": can_allocate,
        "can_invoice": order.status == OrderStatus.ALLOCATED
        and user.has_perm("sales.change_order"),
        "can_deliver": order.status == OrderStatus.INVOICED and user.has_perm("sales.add_delivery"),
        "can_cancel": is_open and user.has_perm("sales.cancel_order"),
        # Nothing left to pay, nothing to record (a refund is not a payment).
        "can_pay": is_open and paid < order.total_price and user.has_perm("sales.add_payment"),
        "can_receive": is_open and user.has_perm("sales.change_payment"),
        "sign_form": forms.get("sign_form") or OrderSignForm(),
        "payment_form": forms.get("payment_form") or PaymentForm(),
        "invoice_form": forms.get("invoice_form") or InvoiceForm(),
        "cancel_form": forms.get("cancel_form")
        or CancelForm(money_paid=paid > 0, won_lead=_won_lead(order)),
        "receive_payment_id": forms.get("receive_payment_id"),
        "open_panel": forms.get("open_panel", ""),
        "history": history_entries(order, show_pii=can_view_pii(user)),
    }
    if can_allocate:
        context["allocate_form"] = forms.get("allocate_form") or AllocateForm(
            order=order, user=user
        )
    return render(request, "sales/order_detail.html", context)


def _failed(request, order: Order, form, **forms):
    """After a refused POST: a form with field errors comes back on the page beside its
    fields; a refused state change is a message on the order's page."""
    if any(field != "__all__" for field in form.errors):
        return _order_page(request, order, **forms)
    for message in form.non_field_errors():
        messages.error(request, message)
    return redirect("sales:order-detail", pk=order.pk)


def _load(request, pk: int) -> Order:
    return (
        _orders(request.user)
        .select_related("quote", "lead", "delivery__vehicle", "fleet_order")
        .get_for_user_or_404(request.user, pk=pk)
    )


@login_required
@permission_required("sales.view_order", raise_exception=True)
def order_detail(request, pk: int):
    return _order_page(request, _load(request, pk))


@login_required
@permission_required("sales.add_order", raise_exception=True)
@require_http_methods(["GET", "POST"])
def order_create(request, pk: int):
    quote = Quote.objects.select_related(
        "branch", "consultant", "lead__customer", "lead__matching_customer", "order"
    ).get_for_user_or_404(request.user, pk=pk)
    existing = getattr(quote, "order", None)
    if existing is not None:
        messages.info(request, _("This quote already has an order."))
        return redirect("sales:order-detail", pk=existing.pk)
    lead = quote.lead
    form = OrderCreateForm(request.POST or None, user=request.user, branch_id=quote.branch_id)
    if request.method == "POST" and form.is_valid():
        order = call_service(
            form,
            lambda: services.order_create(
                quote=quote, by=request.user, customer=form.cleaned_data["customer"]
            ),
        )
        if order:
            messages.success(
                request,
                _("Order %(number)s drafted for %(name)s.")
                % {"number": order.number, "name": order.customer.name},
            )
            return redirect("sales:order-detail", pk=order.pk)
    error = getattr(form, "domain_error", None)
    duplicates = error.extra.get("duplicates", []) if error else []
    if lead.customer_id:
        candidates = [{"id": lead.customer.pk, "name": lead.customer.name, "linked": True}]
    else:
        candidates = [{"id": d["id"], "name": d["name"]} for d in duplicates]
        if lead.matching_customer and lead.matching_customer.pk not in {
            d["id"] for d in candidates
        }:
            candidates.insert(
                0, {"id": lead.matching_customer.pk, "name": lead.matching_customer.name}
            )
    chosen = form.data.get("customer") or (str(candidates[0]["id"]) if candidates else NEW_CUSTOMER)
    if duplicates and chosen == NEW_CUSTOMER:
        chosen = str(duplicates[0]["id"])
    return render(
        request,
        "sales/order_create.html",
        {
            "form": form,
            "quote": quote,
            "lead": lead,
            "candidates": candidates,
            "offer_new": not lead.customer_id and not duplicates,
            "duplicates": duplicates,
            "chosen": chosen,
            "new_customer": NEW_CUSTOMER,
            "show_pii": can_view_pii(request.user),
        },
    )


@login_required
@permission_required("sales.change_order", raise_exception=True)
@require_POST
def order_sign(request, pk: int):
    order = _load(request, pk)
    form = OrderSignForm(request.POST)
    if form.is_valid() and call_service(
        form, lambda: services.order_sign(order=order, by=request.user)
    ):
        messages.success(request, _("Order %(number)s signed.") % {"number": order.number})
        return redirect("sales:order-detail", pk=order.pk)
    return _failed(request, order, form, sign_form=form)


@login_required
@permission_required("sales.add_payment", raise_exception=True)
@require_POST
def payment_create(request, pk: int):
    order = _load(request, pk)
    form = PaymentForm(request.POST)
    if form.is_valid():
        payment = call_service(
            form,
            lambda: services.payment_record(order=order, by=request.user, data=form.service_data()),
        )
        if payment:
            messages.success(
                request,
                _("%(kind)s of %(amount)s CNY recorded.")
                % {"kind": payment.get_kind_display(), "amount": money(payment.amount)},
            )
            return redirect("sales:order-detail", pk=order.pk)
    return _failed(request, order, form, payment_form=form, open_panel="payment")


@login_required
@permission_required("sales.change_payment", raise_exception=True)
@require_POST
def payment_receive(request, pk: int):
    payment = Payment.objects.get_for_user_or_404(request.user, pk=pk)
    order = _load(request, payment.order_id)
    form = PaymentReceiveForm(request.POST, prefix=f"receive-{payment.pk}")
    if form.is_valid():
        data = form.cleaned_data
        received = call_service(
            form,
            lambda: services.payment_receive(
                payment=payment,
                by=request.user,
                paid_on=data["paid_on"],
                method=data["method"],
                reference=data["reference"],
            ),
        )
        if received:
            messages.success(
                request,
                _("%(kind)s of %(amount)s CNY received.")
                % {"kind": received.get_kind_display(), "amount": money(received.amount)},
            )
            return redirect("sales:order-detail", pk=order.pk)
    return _failed(request, order, form, receive_form=form, receive_payment_id=payment.pk)


@login_required
@permission_required("sales.change_order", raise_exception=True)
@require_POST
def order_allocate(request, pk: int):
    order = _load(request, pk)
    form = AllocateForm(request.POST, order=order, user=request.user)
    if form.is_valid() and call_service(
        form,
        lambda: services.order_allocate(
            order=order, stock_vehicle=form.cleaned_data["vehicle"], by=request.user
        ),
    ):
        messages.success(
            request,
            _("Vehicle %(vin)s allocated to %(number)s.")
            % {"vin": form.cleaned_data["vehicle"].vin, "number": order.number},
        )
        return redirect("sales:order-detail", pk=order.pk)
    return _failed(request, order, form, allocate_form=form)


@login_required
@permission_required("sales.change_order", raise_exception=True)
@require_POST
def order_invoice(request, pk: int):
    order = _load(request, pk)
    form = InvoiceForm(request.POST)
    if form.is_valid() and call_service(
        form,
        lambda: services.order_invoice(
            order=order, by=request.user, invoice_number=form.cleaned_data["invoice_number"]
        ),
    ):
        messages.success(request, _("Order %(number)s invoiced.") % {"number": order.number})
        return redirect("sales:order-detail", pk=order.pk)
    return _failed(request, order, form, invoice_form=form)


def _won_lead(order: Order) -> bool:
    """Whether cancelling loses the lead this order won (the form then asks why)."""
    return bool(order.lead_id) and order.lead.status == LeadStatus.WON


@login_required
@permission_required("sales.cancel_order", raise_exception=True)
@require_POST
def order_cancel(request, pk: int):
    order = _load(request, pk)
    form = CancelForm(
        request.POST, money_paid=services.paid_total(order) > 0, won_lead=_won_lead(order)
    )
    if form.is_valid() and call_service(
        form,
        lambda: services.order_cancel(
            order=order,
            by=request.user,
            reason=form.cleaned_data["reason"],
            deposit_handling=form.cleaned_data.get("deposit_handling", ""),
            lost_reason=form.cleaned_data.get("lost_reason", LostReason.OTHER),
        ),
    ):
        messages.success(request, _("Order %(number)s cancelled.") % {"number": order.number})
        return redirect("sales:order-detail", pk=order.pk)
    return _failed(request, order, form, cancel_form=form, open_panel="cancel")


@login_required
@permission_required("sales.add_delivery", raise_exception=True)
@require_http_methods(["GET", "POST"])
def delivery_create(request, pk: int):
    order = _load(request, pk)
    delivery = getattr(order, "delivery", None)
    if delivery is not None:
        messages.info(
            request,
            _("This order was delivered on %(date)s.")
            % {"date": delivery.delivered_on.isoformat()},
        )
        return redirect("sales:order-detail", pk=order.pk)
    form = DeliveryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        delivered = call_service(
            form,
            lambda: services.delivery_record(
                order=order,
                by=request.user,
                delivered_on=data["delivered_on"],
                checklist=data["checklist"],
                documents=data["documents"],
                odometer_km=data["odometer_km"],
                plate=data["plate"],
                note=data["note"],
            ),
        )
        if delivered:
            messages.success(
                request,
                _("%(number)s delivered: the car is now %(name)s's vehicle.")
                % {"number": order.number, "name": order.customer.name},
            )
            return redirect("sales:order-detail", pk=order.pk)
    return render(
        request,
        "sales/delivery_form.html",
        {"form": form, "order": order, "stock_vehicle": order.stock_vehicle},
    )
