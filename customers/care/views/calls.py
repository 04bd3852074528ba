"""Call-centre pages: today's queue of follow-up calls (mine or the branch's) with the day's
results and the month's completion rate, every call with filters, and a call with its script,
the customer's card, its attempts and the form to log the next one or hand it to a colleague.
As thin as the API: parse, call a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dealer_crm.audit import history_entries
from dealer_crm.choices import PiiChannel
from dealer_crm.models import display_name
from dealer_crm.pages import all_choice, apply_filters, call_service, paginate, sort
from dealer_crm.periods import local_day_end, local_day_start, period_bounds
from dealer_crm.pii import can_view_pii, pii_access_log
from dealer_crm.scoping import branch_ids_for

from .. import selectors, services
from ..choices import CallReason, CallStatus
from ..filters import CallFilter
from ..forms.calls import CallAttemptForm, CallReassignForm
from ..models import FollowUpCall

# The call centre's two queues: the calls assigned to me, and every call of my branches.
QUEUE_TABS = ("mine", "branch")
CALL_SORTS = {
    "due": "due_on",
    "customer": "customer__name",
    "attempts": "attempts",
    "score": "score",
}


def _show_pii(request, customer_ids) -> bool:
    """True when the user sees phone numbers unmasked (and the view is logged)."""
    if not can_view_pii(request.user):
        return False
    pii_access_log(
        user=request.user,
        customer_ids=customer_ids,
        channel=PiiChannel.PAGE,
        path=request.get_full_path(),
    )
    return True


def _annotate(calls, today) -> None:
    """Each call's overdue flag, and whom it asks for on which number: a person themself; an
    organization its primary contact (the first of its contacts), else its own number."""
    for call in calls:
        call.overdue = call.status == CallStatus.DUE and call.due_on < today
        customer = call.customer
        call.contact = None if customer.is_person else next(iter(customer.contacts.all()), None)
        reached_on = call.contact or customer
        call.phone = reached_on.mobile or reached_on.landline


# --- The call centre and the list -----------------------------------------------------------


@login_required
@permission_required("care.change_followupcall", raise_exception=True)
def call_centre(request):
    """Today's queue: the calls due today or earlier, oldest first, mine unless the branch's
    tab is open; what was finished today; the month's completion rate."""
    user = request.user
    today = timezone.localdate()
    branch_ids = branch_ids_for(user)
    tab = request.GET.get("tab", "mine")
    if tab not in QUEUE_TABS:
        tab = "mine"
    queue = selectors.call_queue(branch_ids=branch_ids, today=today)
    mine, late = Q(assigned_to=user), Q(due_on__lt=today)
    queued = queue.aggregate(
        branch=Count("pk"),
        mine=Count("pk", filter=mine),
        branch_overdue=Count("pk", filter=late),
        mine_overdue=Count("pk", filter=mine & late),
    )
    queue = queue.prefetch_related("customer__contacts")
    page = paginate(request, queue.filter(mine) if tab == "mine" else queue)
    _annotate(page.object_list, today)
    finished = FollowUpCall.objects.filter(
        branch_id__in=branch_ids,
        completed_at__gte=local_day_start(today),
        completed_at__lt=local_day_end(today),
    )
    if tab == "mine":
        finished = finished.filter(completed_by=user)
    start, end = period_bounds("this_month", today)
    return render(
        request,
        "care/call_centre.html",
        {
            "tab": tab,
            "queued": queued,
            "waiting": queued[tab],
            "late": queued[f"{tab}_overdue"],
            "page": page,
            "today": today,
            "finished": finished.aggregate(
                done=Count("pk", filter=Q(status=CallStatus.DONE)),
                unreachable=Count("pk", filter=Q(status=CallStatus.UNREACHABLE)),
            ),
            "month": selectors.call_results(branch_ids=branch_ids, start=start, end=end),
            "month_start": start,
            "show_pii": _show_pii(request, [call.customer_id for call in page.object_list]),
            "many_branches": len(branch_ids) > 1,
            "max_attempts": services.MAX_ATTEMPTS,
        },
    )


@login_required
@permission_required("care.view_followupcall", raise_exception=True)
def call_list(request):
    calls = (
        FollowUpCall.objects.for_user(request.user)
        .select_related("customer", "vehicle", "assigned_to", "branch")
        .prefetch_related("customer__contacts")
    )
    filterset, calls = apply_filters(request, CallFilter, calls)
    filterset.form.fields["assigned_to"].label_from_instance = display_name
    all_choice(filterset, "assigned_to", "branch")
    calls, current_sort = sort(request, calls, CALL_SORTS, "-due")
    page = paginate(request, calls)
    _annotate(page.object_list, timezone.localdate())
    return render(
        request,
        "care/call_list.html",
        {
            "filterset": filterset,
            "page": page,
            "sort": current_sort,
            "statuses": CallStatus.choices,
            "chosen_statuses": request.GET.getlist("status"),
            "reasons": CallReason.choices,
            "chosen_reasons": request.GET.getlist("reason"),
            "show_pii": _show_pii(request, [call.customer_id for call in page.object_list]),
            "many_branches": len(branch_ids_for(request.user)) > 1,
        },
    )


# --- A call --------------------------------------------------------------------------------


def _load(request, pk: int) -> FollowUpCall:
    return FollowUpCall.objects.select_related(
        "branch", "customer", "vehicle", "assigned_to", "completed_by", "delivery__order",
        "work_order", "complaint", "raised_complaint",
    ).get_for_user_or_404(request.user, pk=pk)  # fmt: skip


def _call_page(request, call: FollowUpCall, *, status: int = 200, **forms):
    """The call's page; a form that failed is passed in bound, with its errors."""
    user = request.user
    is_due = call.status == CallStatus.DUE
    _annotate([call], timezone.localdate())
    can_change = is_due and user.has_perm("care.change_followupcall")
    show_pii = _show_pii(request, [call.customer_id])
    reassign_form = forms.get("reassign_form") or CallReassignForm(call=call)
    return render(
        request,
        "care/call_detail.html",
        {
            "call": call,
            "customer": call.customer,
            "is_due": is_due,
            "can_change": can_change,
            "attempt_form": forms.get("attempt_form") or CallAttemptForm(),
            "reassign_form": reassign_form,
            "can_reassign": can_change and reassign_form.fields["to"].queryset.exists(),
            "attempts": list(call.tries.select_related("by")),
            "max_attempts": services.MAX_ATTEMPTS,
            "show_pii": show_pii,
            "history": history_entries(call, show_pii=show_pii),
        },
        status=status,
    )


def _refused(request, call: FollowUpCall, form, key: str):
    """After a refused POST: the call's page again with the form's errors beside its fields;
    a refused state change (a call already done) is said at the top. The answer carries the
    refusal's status (400, or 409)."""
    for message in form.non_field_errors():
        messages.error(request, message)
    error = getattr(form, "domain_error", None)
    return _call_page(
        request,
        _load(request, call.pk),
        status=error.status_code if error else 400,
        **{key: form},
    )


@login_required
@permission_required("care.view_followupcall", raise_exception=True)
def call_detail(request, pk: int):
    return _call_page(request, _load(request, pk))


def _logged(call: FollowUpCall) -> str:
    """What the logged attempt came to, said to the agent."""
    if call.status == CallStatus.DONE:
        done = _("Call to %(customer)s done: satisfaction %(score)s of 5.") % {
            "customer": call.customer.name,
            "score": call.score,
        }
        complaint = call.raised_complaint
        if complaint is None:
            return done
        return format_html(
            '{} <a class="alert-link" href="{}">{}</a>',
            done,
            complaint.get_absolute_url(),
            _("Complaint %(number)s opened.") % {"number": complaint.number},
        )
    if call.status == CallStatus.UNREACHABLE:
        return _("%(customer)s not reached after %(max)s attempts: marked unreachable.") % {
            "customer": call.customer.name,
            "max": services.MAX_ATTEMPTS,
        }
    return _("%(customer)s not reached: tried again tomorrow (attempt %(attempt)s of %(max)s).") % {
        "customer": call.customer.name,
        "attempt": call.attempts,
        "max": services.MAX_ATTEMPTS,
    }


@login_required
@permission_required("care.change_followupcall", raise_exception=True)
@require_POST
def call_attempt(request, pk: int):
    call = _load(request, pk)
    form = CallAttemptForm(request.POST)
    logged = form.is_valid() and call_service(
        form,
        lambda: services.call_attempt_record(call=call, by=request.user, **form.service_data()),
    )
    if not logged:
        return _refused(request, call, form, "attempt_form")
    messages.success(request, _logged(logged))
    return redirect("care:call-centre")


@login_required
@permission_required("care.change_followupcall", raise_exception=True)
@require_POST
def call_reassign(request, pk: int):
    call = _load(request, pk)
    form = CallReassignForm(request.POST, call=call)
    reassigned = form.is_valid() and call_service(
        form,
        lambda: services.call_reassign(call=call, to=form.cleaned_data["to"], by=request.user),
    )
    if not reassigned:
        return _refused(request, call, form, "reassign_form")
    messages.success(
        request,
        _("The call is now %(person)s's to make.")
        % {"person": display_name(reassigned.assigned_to)},
    )
    return redirect("care:call-detail", pk=call.pk)
