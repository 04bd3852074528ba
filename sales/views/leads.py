"""Lead pages: the list, the consultant's day, capture and edit, and the lead's file with its
actions (verify, log activity, assign, lose, invalidate, link a customer, trade-ins).

As thin as the API: parse a form, call a service, render. A refused rule shows beside its field
on a form page, or as a message after a POST-only action.
"""

from collections.abc import Callable
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from customers.selectors import customers_matching
from dealer_crm.audit import history_entries
from dealer_crm.choices import PiiChannel
from dealer_crm.errors import DomainError
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.models import Branch, display_name
from dealer_crm.pages import call_service, paginate, sort
from dealer_crm.periods import local_day_start
from dealer_crm.pii import can_view_pii, pii_access_log
from dealer_crm.scoping import branch_ids_for, working_branch

from .. import selectors, services
from ..choices import LEAD_PROGRESS, ActivityOutcome, IntentLevel, TestDriveStatus
from ..filters import LeadFilter
from ..forms.leads import (
    REFERRER_CHOICES_LIMIT,
    ActivityForm,
    AssignForm,
    InvalidateForm,
    LeadForm,
    LinkCustomerForm,
    LoseForm,
    ReferrerSearchForm,
    TradeInDecideForm,
    TradeInForm,
    VerifyForm,
)
from ..models import Lead, TestDrive, TradeIn
from ..services import ASSIGNABLE_ROLES, STAGE_FIELDS

LEAD_SORTS = {
    "created": "created_at",
    "name": "name",
    "model": "model_of_interest",
    "intent": "intent_rank",
    "status": "status_rank",
    "follow_up": "next_follow_up_on",
}
# Outcomes offered as one-click buttons on the follow-up list; the rest are in the full form.
QUICK_OUTCOMES = [
    ActivityOutcome.REACHED,
    ActivityOutcome.NOT_REACHED,
    ActivityOutcome.APPOINTMENT,
    ActivityOutcome.CONSIDERING,
    ActivityOutcome.NOT_INTERESTED,
]
# The follow-up list shows this many leads; the full list is one click away.
TODAY_LIMIT = 200


# --- helpers --------------------------------------------------------------------------------


def _lead(request, pk: int, *related: str) -> Lead:
    """The lead if the user's branches hold it; 404 otherwise."""
    return Lead.objects.select_related("branch", *related).get_for_user_or_404(request.user, pk=pk)


def show_lead_pii(request, leads) -> bool:
    """True when the user sees phone numbers unmasked; the view is logged against the leads."""
    if not can_view_pii(request.user):
        return False
    pii_access_log(
        user=request.user,
        lead_ids=[lead.pk for lead in leads],
        channel=PiiChannel.PAGE,
        path=request.get_full_path(),
    )
    return True


def _next_url(request, default: str) -> str:
    """Where to go after an action: the page it came from (?next=), else `default`."""
    target = request.POST.get("next") or request.GET.get("next")
    # A path of this site only: a bare word would be taken for a URL name by redirect().
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return default


def run_action(request, service: Callable, success: str) -> bool:
    """Run a service from a POST-only action; a refusal becomes the page's error message."""
    try:
        service()
    except DomainError as error:
        messages.error(request, str(error.message))
        return False
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return False
    messages.success(request, success)
    return True


def _ranked(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """Annotate the funnel position and the intent order (H first), for sorting."""
    return leads.annotate(
        status_rank=Case(
            *[When(status=status, then=Value(i)) for i, status in enumerate(LEAD_PROGRESS)],
            default=Value(len(LEAD_PROGRESS)),
            output_field=IntegerField(),
        ),
        intent_rank=Case(
            *[When(intent_level=level, then=Value(i)) for i, level in enumerate(IntentLevel)],
            output_field=IntegerField(),
        ),
    )


def _sales_staff_choices(user: User) -> QuerySet[User]:
    return (
        User.objects.filter(
            staff__branches__in=branch_ids_for(user), groups__name__in=ASSIGNABLE_ROLES
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def _limit_filter_choices(form, user: User) -> None:
    """Of the branches' staff (BranchScopedFilterSet), offer the sales staff by name."""
    form.fields["consultant"].queryset = _sales_staff_choices(user)
    form.fields["consultant"].label_from_instance = display_name
    for name in ("created_after", "created_before"):
        form.fields[name].widget.input_type = "date"
        form.fields[name].widget.format = "%Y-%m-%d"


def _days_overdue(lead: Lead, today) -> int:
    return (today - lead.next_follow_up_on).days if lead.next_follow_up_on else 0


# --- list and the consultant's day ----------------------------------------------------------


@login_required
@permission_required("sales.view_lead", raise_exception=True)
def lead_list(request):
    leads = _ranked(selectors.lead_list(user=request.user))
    unassigned = request.GET.get("consultant") == "null"  # LeadFilter's "Unassigned"
    filterset = LeadFilter(request.GET or None, queryset=leads, request=request)
    _limit_filter_choices(filterset.form, request.user)
    leads = filterset.qs if filterset.is_bound and filterset.is_valid() else leads
    bootstrap_widgets(filterset.form)
    leads, current_sort = sort(request, leads, LEAD_SORTS, "-created")
    page = paginate(request, leads)
    show_pii = show_lead_pii(request, page)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "sales/lead_list.html",
        {
            "filterset": filterset,
            "page": page,
            "show_pii": show_pii,
            "sort": current_sort,
            "query": query.urlencode(),
            "unassigned": unassigned,
            "several_branches": len(branch_ids_for(request.user)) > 1,
            "today": timezone.localdate(),
        },
    )


@login_required
@permission_required("sales.view_lead", raise_exception=True)
def follow_up_today(request):
    """The consultant's morning page: who to call today, the overdue first; today's test
    drives; and for a manager, who on the team is behind."""
    today = timezone.localdate()
    now = timezone.now()
    leads = list(
        selectors.follow_up_today(user=request.user, consultant=request.user, on=today)[
            : TODAY_LIMIT + 1
        ]
    )
    truncated = len(leads) > TODAY_LIMIT
    leads = leads[:TODAY_LIMIT]
    for lead in leads:
        lead.days_overdue = _days_overdue(lead, today)
        if lead.first_response_at is None:
            lead.respond_by = lead.handed_over_at + timedelta(
                hours=lead.branch.lead_first_response_hours
            )
            lead.response_late = lead.respond_by < now
    overdue = [lead for lead in leads if lead.days_overdue > 0]
    test_drives = []
    if request.user.has_perm("sales.view_testdrive"):
        test_drives = (
            TestDrive.objects.for_user(request.user)
            .filter(
                consultant=request.user,
                status=TestDriveStatus.BOOKED,
                starts_at__gte=local_day_start(today),
                starts_at__lt=local_day_start(today + timedelta(days=1)),
            )
            .select_related("lead", "demo_vehicle")
            .order_by("starts_at")
        )
    unverified = (
        Lead.objects.for_user(request.user)
        .open()
        .filter(consultant=request.user, verified_at__isnull=True)
        .count()
    )
    team = unassigned_open = None
    if request.user.has_perm("sales.assign_lead"):
        team = selectors.overdue_follow_up_counts(user=request.user, on=today)
        unassigned_open = (
            Lead.objects.for_user(request.user).open().filter(consultant__isnull=True).count()
        )
    return render(
        request,
        "sales/lead_today.html",
        {
            "leads": leads,
            "overdue_count": len(overdue),
            "due_count": len(leads) - len(overdue),
            "truncated": truncated,
            "test_drives": test_drives,
            "unverified": unverified,
            "team": team,
            "unassigned_open": unassigned_open,
            "today": today,
            "show_pii": show_lead_pii(request, leads),
            "quick_outcomes": [(o.value, o.label) for o in QUICK_OUTCOMES],
        },
    )


# --- capture and edit -------------------------------------------------------------------------


def _referrer_options(request, branch: Branch):
    """The referrer select's options for what was typed in its search box (htmx)."""
    search = ReferrerSearchForm(request.GET)
    term = search.cleaned_data["referrer_search"].strip() if search.is_valid() else ""
    customers = customers_matching(branch=branch, term=term, limit=REFERRER_CHOICES_LIMIT)
    return render(
        request,
        "sales/_lead_referrer_options.html",
        {"customers": customers, "term": term, "limit": REFERRER_CHOICES_LIMIT},
    )


INITIAL_FROM_QUERY = ["source", "referrer", "name", "mobile", "model_of_interest"]


@login_required
@permission_required("sales.add_lead", raise_exception=True)
@require_http_methods(["GET", "POST"])
def lead_create(request):
    branch = working_branch(request)
    if branch is None:
        messages.error(request, _("Your account is not linked to any branch."))
        return redirect("sales:lead-list")
    if request.htmx and "referrer_search" in request.GET:
        return _referrer_options(request, branch)
    # ?source=referral&referrer=<customer>: a customer's page can start a referral.
    initial = {name: request.GET[name] for name in INITIAL_FROM_QUERY if name in request.GET}
    form = LeadForm(
        request.POST or None,
        initial=initial,
        branch=branch,
        may_assign=request.user.has_perm("sales.assign_lead"),
    )
    if request.method == "POST" and form.is_valid():
        lead = call_service(
            form,
            lambda: services.lead_create(branch=branch, by=request.user, data=form.service_data()),
        )
        if lead:
            messages.success(request, _("Lead %(name)s created.") % {"name": lead.name})
            return redirect(lead)
    return render(request, "sales/lead_form.html", {"form": form, "branch": branch})


@login_required
@permission_required("sales.change_lead", raise_exception=True)
@require_http_methods(["GET", "POST"])
def lead_edit(request, pk: int):
    lead = _lead(request, pk)
    if request.htmx and "referrer_search" in request.GET:
        return _referrer_options(request, lead.branch)
    form = LeadForm(request.POST or None, instance=lead, branch=lead.branch, may_assign=False)
    if request.method == "POST" and form.is_valid():
        updated = call_service(
            form,
            lambda: services.lead_update(lead=lead, by=request.user, data=form.service_data()),
        )
        if updated:
            messages.success(request, _("Changes saved."))
            return redirect(updated)
    lead.refresh_from_db()  # the header shows the saved lead, not the rejected input
    return render(request, "sales/lead_form.html", {"form": form, "lead": lead})


# --- the lead's file --------------------------------------------------------------------------


def _progress(lead: Lead) -> tuple[list[dict], int]:
    """The funnel stages with when the lead reached each, and how far along it is (percent).

    A stage counts as passed when the lead is beyond it, even without its own time stamp (a
    lead whose first visit is logged has been contacted, whatever was logged before)."""
    fields = {LEAD_PROGRESS[0]: "created_at", **STAGE_FIELDS}
    stages = [
        {"key": status, "label": status.label, "at": getattr(lead, fields[status])}
        for status in LEAD_PROGRESS
    ]
    if lead.status in LEAD_PROGRESS:
        position = LEAD_PROGRESS.index(lead.status)
    else:  # lost or invalid: as far as it got
        position = max((i for i, stage in enumerate(stages) if stage["at"]), default=0)
    for i, stage in enumerate(stages):
        stage["passed"] = i <= position
        stage["current"] = i == position
    return stages, round(100 * position / (len(stages) - 1))


@login_required
@permission_required("sales.view_lead", raise_exception=True)
def lead_detail(request, pk: int):
    lead = _lead(
        request,
        pk,
        "consultant",
        "referrer",
        "customer",
        "duplicate_of__consultant",
        "matching_customer",
        "created_by",
        "verified_by",
    )
    show_pii = show_lead_pii(request, [lead])
    user = request.user
    stages, progress_percent = _progress(lead)
    open_lead = lead.is_open
    context = {
        "lead": lead,
        "show_pii": show_pii,
        "stages": stages,
        "progress_percent": progress_percent,
        "today": timezone.localdate(),
        "activities": lead.activities.select_related("by")[:100],
        "test_drives": lead.test_drives.select_related("demo_vehicle", "consultant"),
        "trade_ins": lead.trade_ins.select_related("appraised_by", "quote"),
        "quotes": lead.quotes.select_related("consultant", "trade_in"),
        "orders": lead.orders.select_related("customer", "stock_vehicle"),
        "breaches": lead.deadline_breaches.all(),
        "history": history_entries(lead, show_pii=show_pii),
        "duplicate_open": lead.duplicate_of is not None and lead.duplicate_of.is_open,
        "activity_form": ActivityForm() if open_lead else None,
        "verify_form": VerifyForm() if open_lead and not lead.is_verified else None,
        "assign_form": (
            AssignForm(branch=lead.branch, initial={"consultant": lead.consultant_id})
            if open_lead and user.has_perm("sales.assign_lead")
            else None
        ),
        "lose_form": LoseForm() if open_lead else None,
        "invalidate_form": InvalidateForm() if open_lead else None,
    }
    return render(request, "sales/lead_detail.html", context)


@login_required
@permission_required("sales.change_lead", raise_exception=True)
@require_POST
def lead_verify(request, pk: int):
    """Confirm by phone that the lead is real. From the follow-up list (htmx) its row is
    swapped for the result; otherwise the page goes back where it came from."""
    lead = _lead(request, pk)
    form = VerifyForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        lead = services.lead_verify(lead=lead, by=request.user, note=note)
    except DomainError as error:
        if request.htmx:
            return _row_result(request, lead, errors=[str(error.message)])
        messages.error(request, str(error.message))
    else:
        done = _("Lead verified: it now counts as a qualified lead.")
        if request.htmx:
            return _row_result(request, lead, message=done)
        messages.success(request, done)
    return redirect(_next_url(request, lead.get_absolute_url()))


def _row_result(request, lead: Lead, *, message: str = "", errors=()):
    """The follow-up list's row after an action: what was done, or why it was refused."""
    return render(
        request,
        "sales/_lead_today_logged.html",
        {"lead": lead, "message": message, "errors": errors},
    )


def _form_errors(form) -> list[str]:
    return [
        str(error) if name == "__all__" else f"{form.fields[name].label}: {error}"
        for name, errors in form.errors.items()
        for error in errors
    ]


def _action_page(request, lead: Lead, *, form, title: str, action: str, submit: str, danger=False):
    """A lead action's own page: its form with what was refused, and where no modal opens."""
    return render(
        request,
        "sales/lead_action.html",
        {
            "lead": lead,
            "form": form,
            "title": title,
            "action": action,
            "submit": submit,
            "danger": danger,
        },
    )


@login_required
@permission_required("sales.assign_lead", raise_exception=True)
@require_http_methods(["GET", "POST"])
def lead_assign(request, pk: int):
    lead = _lead(request, pk, "consultant")
    form = AssignForm(
        request.POST or None, branch=lead.branch, initial={"consultant": lead.consultant_id}
    )
    if request.method == "POST" and form.is_valid():
        consultant = form.cleaned_data["consultant"]
        assigned = call_service(
            form,
            lambda: services.lead_assign(lead=lead, consultant=consultant, by=request.user),
        )
        if assigned:
            messages.success(
                request,
                _("Lead assigned to %(name)s.") % {"name": display_name(consultant)},
            )
            return redirect(_next_url(request, lead.get_absolute_url()))
    return _action_page(
        request,
        lead,
        form=form,
        title=_("Assign the lead"),
        action=reverse("sales:lead-assign", args=[lead.pk]),
        submit=_("Assign"),
    )


@login_required
@permission_required("sales.add_activity", raise_exception=True)
@require_http_methods(["GET", "POST"])
def activity_create(request, pk: int):
    """Log a call, visit or message. From the follow-up list (htmx) the row is swapped for
    what was logged; without htmx the page goes back where it came from."""
    lead = _lead(request, pk)
    form = ActivityForm(request.POST or None)
    activity = None
    if request.method == "POST" and form.is_valid():
        activity = call_service(
            form, lambda: services.activity_log(lead=lead, by=request.user, **form.cleaned_data)
        )
    if activity:
        done = _("Logged: %(activity)s. Next follow-up %(date)s.") % {
            "activity": activity,
            "date": activity.next_follow_up_on.isoformat(),
        }
        if request.htmx:
            return _row_result(request, lead, message=done)
        messages.success(request, done)
        return redirect(_next_url(request, lead.get_absolute_url()))
    if request.method == "POST" and request.htmx:
        return _row_result(request, lead, errors=_form_errors(form))
    return _action_page(
        request,
        lead,
        form=form,
        title=_("Log an activity"),
        action=reverse("sales:activity-create", args=[lead.pk]),
        submit=_("Log activity"),
    )


@login_required
@permission_required("sales.change_lead", raise_exception=True)
@require_http_methods(["GET", "POST"])
def lead_lose(request, pk: int):
    lead = _lead(request, pk)
    form = LoseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        lost = call_service(
            form,
            lambda: services.lead_lose(
                lead=lead,
                by=request.user,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            ),
        )
        if lost:
            messages.success(request, _("The lead is marked lost."))
            return redirect(lead)
    return _action_page(
        request,
        lead,
        form=form,
        title=_("Mark the lead lost"),
        action=reverse("sales:lead-lose", args=[lead.pk]),
        submit=_("Mark lost"),
        danger=True,
    )


@login_required
@permission_required("sales.change_lead", raise_exception=True)
@require_http_methods(["GET", "POST"])
def lead_invalidate(request, pk: int):
    lead = _lead(request, pk)
    form = InvalidateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        closed = call_service(
            form,
            lambda: services.lead_invalidate(
                lead=lead, by=request.user, note=form.cleaned_data["note"]
            ),
        )
        if closed:
            messages.success(request, _("The lead is marked invalid."))
            return redirect(lead)
    return _action_page(
        request,
        lead,
        form=form,
        title=_("Mark the lead invalid"),
        action=reverse("sales:lead-invalidate", args=[lead.pk]),
        submit=_("Mark invalid"),
        danger=True,
    )


@login_required
@permission_required("sales.change_lead", raise_exception=True)
@require_POST
def lead_link_customer(request, pk: int):
    """Link the lead to a customer of its branch, or (no customer given) make one from it."""
    lead = _lead(request, pk)
    form = LinkCustomerForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("customer", [])))
        return redirect(lead)
    customer = form.cleaned_data["customer"]
    if customer is None and not request.user.has_perm("customers.add_customer"):
        raise PermissionDenied
    outcome = {}

    def link():
        outcome["customer"] = services.lead_link_customer(
            lead=lead, by=request.user, customer=customer
        )

    if run_action(request, link, _("The lead is linked to its customer record.")):
        messages.info(
            request,
            _("Customer: %(name)s (#%(number)s).")
            % {"name": outcome["customer"].name, "number": outcome["customer"].pk},
        )
    return redirect(lead)


# --- trade-ins --------------------------------------------------------------------------------


@login_required
@permission_required("sales.add_tradein", raise_exception=True)
@require_http_methods(["GET", "POST"])
def trade_in_create(request, pk: int):
    lead = _lead(request, pk)
    form = TradeInForm(request.POST or None, initial={"appraised_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        trade_in = call_service(
            form,
            lambda: services.trade_in_appraise(
                lead=lead, by=request.user, data=dict(form.cleaned_data)
            ),
        )
        if trade_in:
            messages.success(request, _("Trade-in %(car)s appraised.") % {"car": trade_in})
            return redirect(lead)
    return render(request, "sales/lead_trade_in_form.html", {"lead": lead, "form": form})


@login_required
@permission_required("sales.change_tradein", raise_exception=True)
@require_POST
def trade_in_decide(request, pk: int):
    trade_in = TradeIn.objects.select_related("lead").get_for_user_or_404(request.user, pk=pk)
    form = TradeInDecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Accepted or declined."))
    else:
        decision = form.cleaned_data["decision"]
        run_action(
            request,
            lambda: services.trade_in_decide(trade_in=trade_in, by=request.user, decision=decision),
            _("The customer's decision on %(car)s is recorded.") % {"car": trade_in},
        )
    return redirect(_next_url(request, trade_in.lead.get_absolute_url()))
