"""Work-order pages: check-in (接车), the list, and the technician board for the workshop's
screen. As thin as the API: parse, call a service, render."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from customers.models import Vehicle
from dealer_crm.filters import plain_id
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.models import display_name
from dealer_crm.pages import apply_filters, call_service, paginate, sort
from dealer_crm.pii import can_view_pii
from dealer_crm.scoping import branch_ids_for, working_branch

from .. import selectors, services
from ..choices import AppointmentStatus, ServiceType, WorkOrderStatus
from ..filters import WorkOrderFilter
from ..forms.work_orders import CheckInForm, initial_from_appointment
from ..models import Appointment
from .appointments import customer_options, no_branch, vehicle_options

# --- The list ------------------------------------------------------------------------------

WORK_ORDER_SORTS = {
    "number": "id",
    "opened": "opened_at",
    "plate": "plate",
    "customer": "customer__name",
    "type": "service_type",
    "advisor": "advisor__first_name",
    "status": "status",
    "estimate": "estimate",
}


@login_required
@permission_required("service.view_workorder", raise_exception=True)
def work_order_list(request):
    work_orders = selectors.work_order_list(user=request.user)
    filterset, work_orders = apply_filters(request, WorkOrderFilter, work_orders)
    fields = filterset.form.fields
    fields["advisor"].label_from_instance = display_name
    for name in ("opened_after", "opened_before"):
        fields[name].widget.input_type = "date"
    fields["search"].widget.attrs["placeholder"] = _("RO number, plate, VIN end or contact")
    fields["comeback"].widget = forms.Select(
        choices=[("", _("All")), ("true", _("Comebacks only")), ("false", _("No comebacks"))],
        attrs={"class": "form-select"},
    )
    work_orders, current_sort = sort(request, work_orders, WORK_ORDER_SORTS, "-number")
    return render(
        request,
        "service/work_order_list.html",
        {
            "filterset": filterset,
            "page": paginate(request, work_orders),
            "sort": current_sort,
            "statuses": WorkOrderStatus.choices,
            "chosen_statuses": request.GET.getlist("status"),
            "several_branches": len(branch_ids_for(request.user)) > 1,
            "show_pii": can_view_pii(request.user),
            "filtered": bool(request.GET.keys() - {"sort", "page", "size"}),
        },
    )


# --- Check-in (接车) -------------------------------------------------------------------------


def _brief(request, branch):
    """What the chosen vehicle brings to check-in (htmx), when the vehicle select changes."""
    chosen = plain_id(request.GET.get("vehicle"))
    vehicle = Vehicle.objects.filter(owner__branch=branch, pk=chosen).first() if chosen else None
    return render(
        request,
        "service/work_order_form_brief.html",
        {
            "vehicle": vehicle,
            "brief": selectors.check_in_brief(vehicle=vehicle) if vehicle else None,
        },
    )


def _appointment(request, branch) -> Appointment | None:
    """The appointment checked in (?appointment= on the way in, a hidden field on submit)."""
    source = request.POST if request.method == "POST" else request.GET
    chosen = plain_id(source.get("appointment"))
    if not chosen:
        return None
    return (
        Appointment.objects.select_related("slot", "customer", "vehicle")
        .filter(branch=branch)
        .get_for_user_or_404(request.user, pk=chosen)
    )


@login_required
@permission_required("service.add_workorder", raise_exception=True)
@require_http_methods(["GET", "POST"])
def work_order_create(request):
    """接车: open a work order, from an appointment or for a walk-in."""
    branch = working_branch(request)
    if branch is None:
        return no_branch(request, "service:work-order-list")
    if request.method == "GET":
        if "customer_search" in request.GET:
            return customer_options(request, branch, brief=True)
        if "vehicles" in request.GET:
            return vehicle_options(request, branch, brief=True)
        if "brief" in request.GET:
            return _brief(request, branch)
    appointment = _appointment(request, branch)
    if appointment is not None and appointment.status != AppointmentStatus.BOOKED:
        messages.error(
            request,
            _("This appointment is %(status)s: it cannot be checked in.")
            % {"status": appointment.get_status_display()},
        )
        return redirect("service:appointment-detail", pk=appointment.pk)
    if request.method == "GET":
        initial = {"service_type": request.GET.get("service_type", ServiceType.MAINTENANCE)}
        initial.update({name: request.GET[name] for name in ("customer",) if name in request.GET})
        if appointment is not None:
            initial.update(
                initial_from_appointment(appointment, show_pii=can_view_pii(request.user))
            )
        form = CheckInForm(initial=initial, branch=branch, user=request.user)
    else:
        form = CheckInForm(request.POST, branch=branch, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        customer, vehicle = data["customer"], data["vehicle"]
        work_order = call_service(
            form,
            lambda: services.work_order_open(
                branch=branch,
                customer=customer,
                vehicle=vehicle,
                appointment=appointment,
                odometer_replaced=data["odometer_replaced"],
                data=form.service_data(customer, vehicle, appointment),
                by=request.user,
            ),
        )
        if work_order:
            messages.success(
                request,
                _("%(number)s opened for %(plate)s.")
                % {"number": work_order.number, "plate": work_order.plate},
            )
            return redirect("service:work-order-detail", pk=work_order.pk)
        bootstrap_widgets(form)  # mark the field a refused rule names
    vehicle = _chosen_vehicle(form, branch)
    brief = selectors.check_in_brief(vehicle=vehicle) if vehicle else None
    if brief and brief["last_reading"]:
        form.mileage_at_least(brief["last_reading"].km)
    return render(
        request,
        "service/work_order_form.html",
        {
            "form": form,
            "branch": branch,
            "appointment": appointment,
            "vehicle": vehicle,
            "brief": brief,
            "show_pii": can_view_pii(request.user),
        },
    )


def _chosen_vehicle(form: CheckInForm, branch) -> Vehicle | None:
    chosen = plain_id(form["vehicle"].value())
    customer = getattr(form, "chosen_customer", None)
    if not chosen or customer is None:
        return None
    return Vehicle.objects.filter(owner=customer, pk=chosen).first()


# --- The technician board ------------------------------------------------------------------


@login_required
@permission_required("service.view_labourline", raise_exception=True)
def technician_board(request):
    """Every technician's operations on the cars in the workshop, for the workshop's screen."""
    branch = working_branch(request)
    if branch is None:
        return no_branch(request)
    columns = [
        {
            "technician": technician,
            "lines": lines,
            "to_do": sum(line.done_at is None for line in lines),
            "hours": sum(line.standard_hours for line in lines if line.done_at is None),
        }
        for technician, lines in selectors.technician_board(branch_id=branch.pk)
    ]
    return render(
        request,
        "service/board.html",
        {"branch": branch, "columns": columns},
    )
