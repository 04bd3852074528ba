"""Front-desk pages: the day's slots and appointments, opening slots, booking, an appointment's
page, and its cancel / no-show. As thin as the API: parse, call a service, render."""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from customers.models import Customer
from customers.selectors import customers_matching
from dealer_crm.audit import history_entries
from dealer_crm.errors import DomainError
from dealer_crm.filters import plain_id
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.pages import call_service
from dealer_crm.pii import can_view_pii
from dealer_crm.scoping import working_branch
from parts.forms.ordering import CUSTOMER_CHOICES_LIMIT

from .. import selectors, services
from ..choices import AppointmentStatus
from ..forms.appointments import (
    AppointmentForm,
    CustomerSearchForm,
    DayForm,
    SlotsOpenForm,
    slot_label,
    vehicle_choices,
)
from ..models import Appointment, ServiceSlot


def no_branch(request, to: str = "home"):
    messages.error(request, _("Your account is not linked to any branch."))
    return redirect(to)


def next_url(request, default: str) -> str:
    """Where to go after an action: the page it came from (`next`), else `default`."""
    target = request.POST.get("next") or request.GET.get("next")
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return default


def day_url(day: date) -> str:
    return f"{reverse('service:appointment-day')}?day={day.isoformat()}"


# --- The front desk's day ------------------------------------------------------------------


def _day_page(request, branch, day: date, slots_form: SlotsOpenForm | None = None):
    now = timezone.now()
    rows = [
        {"slot": slot, "appointments": booked, "begun": slot.starts_at <= now}
        for slot, booked in selectors.front_desk_day(branch_id=branch.pk, day=day)
    ]
    user = request.user
    today = timezone.localdate()
    appointments = [appointment for row in rows for appointment in row["appointments"]]
    bound = slots_form is not None
    if slots_form is None and user.has_perm("service.add_serviceslot"):
        slots_form = SlotsOpenForm(initial={"day": day})
    return render(
        request,
        "service/appointment_day.html",
        {
            "branch": branch,
            "day": day,
            "today": today,
            "is_today": day == today,
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "rows": rows,
            "capacity": sum(row["slot"].capacity for row in rows),
            "booked": sum(row["slot"].booked for row in rows),
            "expected": sum(a.status == AppointmentStatus.BOOKED for a in appointments),
            "checked_in": sum(a.status == AppointmentStatus.CHECKED_IN for a in appointments),
            "slots_form": slots_form,
            "open_slots_form": bound,
            "show_pii": can_view_pii(user),
        },
    )


@login_required
@permission_required("service.view_appointment", raise_exception=True)
def appointment_day(request):
    """The front desk's day: slots in time order with their bookings, check-in at a click."""
    branch = working_branch(request)
    if branch is None:
        return no_branch(request)
    return _day_page(request, branch, DayForm(request.GET or None).chosen_day())


@login_required
@permission_required("service.add_serviceslot", raise_exception=True)
@require_http_methods(["GET", "POST"])
def slots_open(request):
    """Open a day's slots from the front desk's page; a refused form comes back on that page."""
    branch = working_branch(request)
    if branch is None:
        return no_branch(request)
    if request.method == "GET":
        return redirect("service:appointment-day")
    form = SlotsOpenForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        slots = call_service(
            form,
            lambda: services.slots_open(
                branch=branch,
                service_type=data["service_type"],
                starts=form.starts(),
                capacity=data["capacity"],
                minutes=data["every"],
                by=request.user,
            ),
        )
        if slots:
            messages.success(
                request,
                ngettext(
                    "%(count)s slot open on %(day)s.",
                    "%(count)s slots open on %(day)s.",
                    len(slots),
                )
                % {"count": len(slots), "day": data["day"].isoformat()},
            )
            return redirect(day_url(data["day"]))
        bootstrap_widgets(form)
    day = form.cleaned_data.get("day") if hasattr(form, "cleaned_data") else None
    return _day_page(request, branch, day or timezone.localdate(), slots_form=form)


# --- Booking -------------------------------------------------------------------------------


def customer_options(request, branch, *, brief: bool = False):
    """The customer select's options for what was typed in the search box (htmx); when one
    customer matches, their vehicles come along (and, at check-in, the brief of an only car)."""
    search = CustomerSearchForm(request.GET)
    term = search.cleaned_data["customer_search"].strip() if search.is_valid() else ""
    customers = customers_matching(branch=branch, term=term, limit=CUSTOMER_CHOICES_LIMIT)
    only = customers[0] if len(customers) == 1 else None
    return render(
        request,
        "service/appointment_customer_options.html",
        {"customers": customers, "term": term, **_vehicles_of(only, brief=brief)},
    )


def vehicle_options(request, branch, *, brief: bool = False):
    """The chosen customer's vehicles (htmx), when the customer select changes."""
    chosen = plain_id(request.GET.get("customer"))
    customer = (
        Customer.objects.active().filter(branch=branch, pk=chosen).first() if chosen else None
    )
    return render(
        request,
        "service/appointment_vehicle_options.html",
        _vehicles_of(customer, brief=brief),
    )


def _vehicles_of(customer: Customer | None, *, brief: bool) -> dict:
    choices = vehicle_choices(customer)
    only = customer.vehicles.order_by("-id").first() if len(choices) == 2 else None
    context = {"vehicles": choices, "selected": only.pk if only else None}
    if brief:
        context["with_brief"] = True
        context["vehicle"] = only
        context["brief"] = selectors.check_in_brief(vehicle=only) if only else None
    return context


def _slot_options(request, branch):
    form = AppointmentForm(request.GET, branch=branch, user=request.user)
    return render(
        request, "service/slot_options.html", {"choices": form.fields["slot"].widget.choices}
    )


INITIAL_FROM_QUERY = ["day", "service_type", "customer", "vehicle"]


@login_required
@permission_required("service.add_appointment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def appointment_create(request):
    branch = working_branch(request)
    if branch is None:
        return no_branch(request, "service:appointment-day")
    if request.method == "GET":
        if "customer_search" in request.GET:
            return customer_options(request, branch)
        if "vehicles" in request.GET:
            return vehicle_options(request, branch)
        if "slots" in request.GET:
            return _slot_options(request, branch)
    initial = {"advisor": request.user.pk, "day": timezone.localdate()}
    if request.method == "GET":
        initial.update(
            {name: request.GET[name] for name in INITIAL_FROM_QUERY if name in request.GET}
        )
        # ?slot=<id> from a slot's row on the day's page: that slot, its day and type.
        chosen = plain_id(request.GET.get("slot"))
        slot = ServiceSlot.objects.filter(branch=branch, pk=chosen).first() if chosen else None
        if slot is not None:
            initial.update(
                slot=slot.pk,
                day=timezone.localtime(slot.starts_at).date(),
                service_type=slot.service_type,
            )
    form = AppointmentForm(
        request.POST or None,
        initial=initial if request.method == "GET" else None,
        branch=branch,
        user=request.user,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        appointment = call_service(
            form,
            lambda: services.appointment_book(
                slot=data["slot"],
                customer=data["customer"],
                vehicle=data["vehicle"],
                advisor=data["advisor"],
                contact_phone=data["contact_phone"].strip() or data["customer"].mobile,
                complaint=data["complaint"],
                by=request.user,
            ),
        )
        if appointment:
            messages.success(
                request,
                _("%(customer)s booked for %(slot)s.")
                % {"customer": appointment.customer.name, "slot": slot_label(appointment.slot)},
            )
            return redirect(day_url(timezone.localtime(appointment.slot.starts_at).date()))
        bootstrap_widgets(form)  # mark the field a refused rule names
    return render(
        request,
        "service/appointment_form.html",
        {"form": form, "branch": branch, "show_pii": can_view_pii(request.user)},
    )


# --- One appointment -----------------------------------------------------------------------


def _appointments(user):
    return Appointment.objects.for_user(user).select_related(
        "branch", "slot", "customer", "vehicle", "advisor", "created_by", "work_order"
    )


@login_required
@permission_required("service.view_appointment", raise_exception=True)
def appointment_detail(request, pk: int):
    appointment = _appointments(request.user).get_for_user_or_404(request.user, pk=pk)
    show_pii = can_view_pii(request.user)
    return render(
        request,
        "service/appointment_detail.html",
        {
            "appointment": appointment,
            "day": timezone.localtime(appointment.slot.starts_at).date(),
            "begun": appointment.slot.starts_at <= timezone.now(),
            "show_pii": show_pii,
            "history": history_entries(appointment, show_pii=show_pii),
        },
    )


APPOINTMENT_STEPS = {
    "cancel": (
        services.appointment_cancel,
        gettext_lazy("Appointment of %(customer)s cancelled; the slot is free again."),
    ),
    "no-show": (
        services.appointment_no_show,
        gettext_lazy("%(customer)s recorded as a no-show."),
    ),
}


@login_required
@permission_required("service.view_appointment", raise_exception=True)
def appointment_step(request, pk: int, step: str):
    """Cancel or record a no-show (POST); a refusal comes back as the page's message."""
    if step not in APPOINTMENT_STEPS:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.has_perm("service.change_appointment"):
        raise PermissionDenied
    appointment = _appointments(request.user).get_for_user_or_404(request.user, pk=pk)
    service, done = APPOINTMENT_STEPS[step]
    try:
        service(appointment=appointment, by=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, str(done) % {"customer": appointment.customer.name})
    return redirect(next_url(request, reverse("service:appointment-detail", args=[pk])))
