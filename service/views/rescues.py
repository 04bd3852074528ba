"""Roadside rescue pages (救援): the calls of a day, logging a call, and one rescue from the call
to its outcome (dispatched, arrived, done). As thin as the API: parse, call a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from customers.models import Customer
from customers.selectors import customers_matching
from dealer_crm.audit import history_entries
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.models import display_name
from dealer_crm.pages import call_service, paginate, sort
from dealer_crm.pii import can_view_pii
from dealer_crm.scoping import branch_ids_for, working_branch
from parts.forms.ordering import (
    CUSTOMER_CHOICES_LIMIT,
    CustomerSearchForm,
    plain_id,
    vehicle_choices,
)

from .. import services
from ..choices import RescueStatus
from ..filters import RescueFilter
from ..forms.rescues import STEP_FORMS, RescueForm
from ..models import Rescue

RESCUE_SORTS = {"called": "called_at", "status": "status", "location": "location"}
# The way a rescue goes: each step's status, and the time the page shows beside it.
RESCUE_STEPS = [
    (RescueStatus.CALLED, "called_at"),
    (RescueStatus.DISPATCHED, "dispatched_at"),
    (RescueStatus.ARRIVED, "arrived_at"),
    (RescueStatus.DONE, None),
]
# The status in which the page offers each step (the service decides; this only hides forms).
STEP_OFFERED = {
    "dispatch": RescueStatus.CALLED,
    "arrive": RescueStatus.DISPATCHED,
    "finish": RescueStatus.ARRIVED,
}
STEP_DONE = {
    "dispatch": gettext_lazy("%(technician)s is on the way."),
    "arrive": gettext_lazy("Arrival recorded: record the outcome once the car is dealt with."),
    "finish": gettext_lazy("Rescue done: %(outcome)s."),
}


def _rescues(user):
    return Rescue.objects.for_user(user).select_related(
        "branch", "customer", "vehicle", "dispatched_to", "work_order"
    )


@login_required
@permission_required("service.view_rescue", raise_exception=True)
def rescue_list(request):
    rescues = _rescues(request.user)
    filterset = RescueFilter(request.GET or None, queryset=rescues, request=request)
    filterset.form.fields["day"].widget.input_type = "date"
    if len(branch_ids_for(request.user)) < 2:
        del filterset.form.fields["branch"]
    rescues = filterset.qs if filterset.is_bound and filterset.is_valid() else rescues
    bootstrap_widgets(filterset.form)
    rescues, current_sort = sort(request, rescues, RESCUE_SORTS, "-called")
    return render(
        request,
        "service/rescue_list.html",
        {
            "filterset": filterset,
            "page": paginate(request, rescues),
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
        {"customers": customers, "term": term, "vehicles": vehicle_choices(only), "oob": True},
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


@login_required
@permission_required("service.add_rescue", raise_exception=True)
@require_http_methods(["GET", "POST"])
def rescue_create(request):
    branch = working_branch(request)
    if branch is None:
        messages.error(request, _("Your account is not linked to any branch."))
        return redirect("service:rescue-list")
    if request.method == "GET" and "customer_search" in request.GET:
        return _customer_options(request, branch)
    if request.method == "GET" and "vehicles" in request.GET:
        return _vehicle_options(request, branch)
    form = RescueForm(request.POST or None, branch=branch)
    if request.method == "POST" and form.is_valid():
        rescue = call_service(
            form,
            lambda: services.rescue_log(branch=branch, by=request.user, data=form.service_data()),
        )
        if rescue:
            messages.success(
                request,
                _("Call from %(caller)s logged: dispatch a technician.")
                % {"caller": rescue.caller_name},
            )
            return redirect("service:rescue-detail", pk=rescue.pk)
    return render(request, "service/rescue_form.html", {"form": form, "branch": branch})


def _steps(rescue: Rescue) -> list[dict]:
    order = [status for status, _moment in RESCUE_STEPS]
    reached = order.index(rescue.status) if rescue.status in order else -1
    finished = rescue.status == RescueStatus.DONE
    return [
        {
            "label": RescueStatus(status).label,
            "at": getattr(rescue, moment) if moment else None,
            "done": index < reached or finished,
            "current": index == reached and not finished,
        }
        for index, (status, moment) in enumerate(RESCUE_STEPS)
    ]


def _rescue_page(request, rescue: Rescue, failed: tuple[str, object] | None = None):
    """The rescue with the form of the step it may take now; a form that failed comes back
    bound, with its errors beside its fields."""
    forms = {}
    if request.user.has_perm("service.change_rescue"):
        for step, status in STEP_OFFERED.items():
            if failed is not None and failed[0] == step:
                forms[step] = failed[1]
            elif rescue.status == status:
                forms[step] = STEP_FORMS[step](branch_id=rescue.branch_id, prefix=step)
    show_pii = can_view_pii(request.user)
    return render(
        request,
        "service/rescue_detail.html",
        {
            "rescue": rescue,
            "steps": _steps(rescue),
            "forms": forms,
            "show_pii": show_pii,
            "history": history_entries(rescue, show_pii=show_pii),
        },
    )


@login_required
@permission_required("service.view_rescue", raise_exception=True)
def rescue_detail(request, pk: int):
    rescue = _rescues(request.user).get_for_user_or_404(request.user, pk=pk)
    return _rescue_page(request, rescue)


def _run_step(step: str, rescue: Rescue, data: dict, by):
    if step == "dispatch":
        return services.rescue_dispatch(rescue=rescue, to=data["technician"], at=data["at"], by=by)
    if step == "arrive":
        return services.rescue_arrive(rescue=rescue, at=data["at"], by=by)
    return services.rescue_finish(
        rescue=rescue,
        outcome=data["outcome"],
        work_order=data["work_order"],
        note=data["note"].strip(),
        by=by,
    )


@login_required
@permission_required("service.view_rescue", raise_exception=True)
@require_http_methods(["GET", "POST"])
def rescue_step(request, pk: int, step: str):
    if step not in STEP_FORMS:
        raise Http404
    rescue = _rescues(request.user).get_for_user_or_404(request.user, pk=pk)
    if request.method == "GET":
        # The address a refused step was shown at, reloaded or revisited: back to the rescue.
        return redirect("service:rescue-detail", pk=rescue.pk)
    if not request.user.has_perm("service.change_rescue"):
        raise PermissionDenied
    form = STEP_FORMS[step](request.POST, branch_id=rescue.branch_id, prefix=step)
    done = form.is_valid() and call_service(
        form, lambda: _run_step(step, rescue, form.cleaned_data, request.user)
    )
    if done:
        messages.success(
            request,
            str(STEP_DONE[step])
            % {
                "technician": display_name(form.cleaned_data.get("technician")),
                "outcome": done.get_outcome_display(),
            },
        )
        return redirect("service:rescue-detail", pk=rescue.pk)
    if any(field != "__all__" for field in form.errors) or rescue.status == STEP_OFFERED[step]:
        return _rescue_page(request, rescue, failed=(step, form))
    # A step the rescue is not at (finishing before arrival): the refusal, on its page.
    for message in form.non_field_errors():
        messages.error(request, message)
    return redirect("service:rescue-detail", pk=rescue.pk)
