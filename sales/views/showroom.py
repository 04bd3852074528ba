"""Showroom pages: the front desk's traffic counters (展厅客流) and test drives (试乘试驾).

The traffic counters are big tap buttons that POST to `traffic-count`; with htmx the counter
panel is swapped in place, without JavaScript the form posts and the page comes back.
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from dealer_crm.audit import history_entries
from dealer_crm.errors import DomainError
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.models import display_name
from dealer_crm.pages import call_service, paginate
from dealer_crm.scoping import branch_ids_for, working_branch

from .. import selectors, services
from ..choices import StockStatus, TestDriveStatus
from ..filters import TestDriveFilter
from ..forms.showroom import (
    TestDriveCancelForm,
    TestDriveCompleteForm,
    TestDriveForm,
    TrafficCountForm,
    TrafficDayForm,
    demo_car_label,
)
from ..models import Lead, ShowroomTraffic, StockVehicle, TestDrive
from ..services import ASSIGNABLE_ROLES
from .leads import run_action, show_lead_pii

# The front desk's five counters: (field, short label for the tap button, icon).
TRAFFIC_COUNTERS = [
    (
        "first_with_appointment",
        gettext_lazy("First visit, with appointment"),
        "bi-calendar-check",
        "btn-primary",
    ),
    ("first_walk_in", gettext_lazy("First visit, walk-in"), "bi-door-open", "btn-primary"),
    (
        "return_with_appointment",
        gettext_lazy("Return visit, with appointment"),
        "bi-calendar2-heart",
        "btn-success",
    ),
    ("return_walk_in", gettext_lazy("Return visit, walk-in"), "bi-arrow-repeat", "btn-success"),
    ("phone_inquiries", gettext_lazy("Phone inquiry"), "bi-telephone", "btn-dark"),
]
TRAFFIC_TABLE_DAYS = 30
TEST_DRIVE_TABS = ("upcoming", "past")


# --- showroom traffic -------------------------------------------------------------------------


def _traffic_context(branch, day) -> dict:
    """The chosen day's counters and the last 30 days' table, with their totals."""
    today = timezone.localdate()
    first_day = today - timedelta(days=TRAFFIC_TABLE_DAYS - 1)
    recorded = {
        traffic.day: traffic
        for traffic in ShowroomTraffic.objects.filter(
            branch=branch, day__range=(min(first_day, day), today)
        )
    }
    current = recorded.get(day) or ShowroomTraffic(branch=branch, day=day)
    days = [
        recorded.get(first_day + timedelta(days=n))
        or ShowroomTraffic(branch=branch, day=first_day + timedelta(days=n))
        for n in range(TRAFFIC_TABLE_DAYS)
    ]
    days.reverse()
    return {
        "branch": branch,
        "day": day,
        "today": today,
        "yesterday": today - timedelta(days=1),
        "is_today": day == today,
        "traffic": current,
        "counters": [
            {
                "name": name,
                "label": label,
                "icon": icon,
                "style": style,
                "value": getattr(current, name),
            }
            for name, label, icon, style in TRAFFIC_COUNTERS
        ],
        "days": days,
        "totals": selectors.showroom_traffic_totals(
            ShowroomTraffic.objects.filter(branch=branch, day__range=(first_day, today))
        ),
        "first_day": first_day,
    }


def _no_branch(request):
    messages.error(request, _("Your account is not linked to any branch."))
    return redirect("home")


@login_required
@permission_required("sales.view_showroomtraffic", raise_exception=True)
def traffic(request):
    """The front desk's page: tap a counter as each visitor or call comes in."""
    branch = working_branch(request)
    if branch is None:
        return _no_branch(request)
    day_form = TrafficDayForm(request.GET or None)
    day = day_form.chosen_day()
    context = _traffic_context(branch, day)
    context["day_form"] = day_form
    return render(request, "sales/traffic.html", context)


@login_required
@permission_required("sales.add_showroomtraffic", raise_exception=True)
@require_POST
def traffic_count(request):
    """One tap (+1) or undo (−1). htmx gets the counter panel back; a plain POST a redirect."""
    branch = working_branch(request)
    if branch is None:
        return _no_branch(request)
    form = TrafficCountForm(request.POST)
    today = timezone.localdate()
    error = None
    if not form.is_valid():
        error = _("Unknown traffic counter.")
    else:
        data = form.cleaned_data
        try:
            services.showroom_traffic_count(
                branch=branch,
                by=request.user,
                day=data["day"],
                counter=data["counter"],
                step=data["step"],
            )
        except DomainError as refused:
            error = str(refused.message)
    day = form.cleaned_data.get("day") if hasattr(form, "cleaned_data") else None
    day = min(day or today, today)
    if request.htmx:
        context = _traffic_context(branch, day)
        context["error"] = error
        return render(request, "sales/traffic_tap.html", context)
    if error:
        messages.error(request, error)
    url = reverse("sales:traffic")
    return redirect(url if day == today else f"{url}?day={day.isoformat()}")


# --- test drives ------------------------------------------------------------------------------


def _test_drive(request, pk: int) -> TestDrive:
    return TestDrive.objects.select_related(
        "lead", "lead__customer", "demo_vehicle", "consultant", "branch"
    ).get_for_user_or_404(request.user, pk=pk)


@login_required
@permission_required("sales.add_testdrive", raise_exception=True)
@require_http_methods(["GET", "POST"])
def test_drive_create(request, pk: int):
    lead = Lead.objects.select_related("branch").get_for_user_or_404(request.user, pk=pk)
    form = TestDriveForm(request.POST or None, lead=lead)
    if request.method == "POST" and form.is_valid():
        test_drive = call_service(
            form,
            lambda: services.test_drive_book(lead=lead, by=request.user, data=form.service_data()),
        )
        if test_drive:
            messages.success(
                request,
                _("Test drive booked for %(when)s.")
                % {"when": timezone.localtime(test_drive.starts_at).strftime("%Y-%m-%d %H:%M")},
            )
            return redirect(test_drive)
    # The demo cars' coming bookings, so a free slot can be picked at a glance.
    booked = (
        TestDrive.objects.filter(
            branch_id=lead.branch_id, status=TestDriveStatus.BOOKED, ends_at__gte=timezone.now()
        )
        .select_related("demo_vehicle", "lead")
        .order_by("starts_at")[:30]
    )
    return render(
        request, "sales/test_drive_form.html", {"form": form, "lead": lead, "booked": booked}
    )


def _limit_test_drive_filter_choices(form, user: User) -> None:
    branches = branch_ids_for(user)
    cars = form.fields["demo_vehicle"]
    cars.queryset = (
        StockVehicle.objects.filter(branch_id__in=branches)
        .filter(Q(status=StockStatus.DEMO) | Q(test_drives__isnull=False))
        .distinct()
        .order_by("series", "vin")
    )
    cars.label_from_instance = demo_car_label
    consultants = form.fields["consultant"]
    consultants.queryset = (
        User.objects.filter(staff__branches__in=branches, groups__name__in=ASSIGNABLE_ROLES)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
    consultants.label_from_instance = display_name
    form.fields["date"].widget.input_type = "date"
    form.fields["date"].widget.format = "%Y-%m-%d"


@login_required
@permission_required("sales.view_testdrive", raise_exception=True)
def test_drive_list(request):
    """Coming test drives first (soonest at the top), then the past ones (latest first)."""
    now = timezone.now()
    drives = TestDrive.objects.for_user(request.user).select_related(
        "lead", "demo_vehicle", "consultant", "branch"
    )
    filterset = TestDriveFilter(request.GET or None, queryset=drives, request=request)
    _limit_test_drive_filter_choices(filterset.form, request.user)
    drives = filterset.qs if filterset.is_bound and filterset.is_valid() else drives
    bootstrap_widgets(filterset.form)
    tab = request.GET.get("when")
    if tab == "upcoming":
        drives = drives.filter(ends_at__gte=now).order_by("starts_at", "pk")
    elif tab == "past":
        drives = drives.filter(ends_at__lt=now).order_by("-starts_at", "-pk")
    else:
        tab = ""
        is_past = Case(
            When(ends_at__lt=now, then=Value(1)), default=Value(0), output_field=IntegerField()
        )
        drives = drives.annotate(is_past=is_past).order_by(
            "is_past",
            Case(When(is_past=0, then=F("starts_at"))).asc(),
            F("starts_at").desc(),
            "pk",
        )
    page = paginate(request, drives)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("when", None)
    return render(
        request,
        "sales/test_drive_list.html",
        {
            "filterset": filterset,
            "page": page,
            "tab": tab,
            "query": query.urlencode(),
            "now": now,
            "several_branches": len(branch_ids_for(request.user)) > 1,
        },
    )


def _test_drive_page(request, test_drive: TestDrive, complete_form=None, cancel_form=None):
    show_pii = show_lead_pii(request, [test_drive.lead])
    booked = test_drive.status == TestDriveStatus.BOOKED
    cancel_reason = ""
    if test_drive.status == TestDriveStatus.CANCELLED:
        # The service keeps the reason on the cancelling change in the record's history.
        cancelling = test_drive.history.filter(status=TestDriveStatus.CANCELLED).last()
        cancel_reason = cancelling.history_change_reason if cancelling else ""
    may_change = request.user.has_perm("sales.change_testdrive")
    return render(
        request,
        "sales/test_drive_detail.html",
        {
            "drive": test_drive,
            "show_pii": show_pii,
            "started": test_drive.starts_at <= timezone.now(),
            "cancel_reason": cancel_reason,
            "complete_form": (
                complete_form
                or TestDriveCompleteForm(initial={"agreement_signed": test_drive.agreement_signed})
            )
            if booked and may_change
            else None,
            "cancel_form": (cancel_form or TestDriveCancelForm())
            if booked and may_change
            else None,
            "history": history_entries(test_drive, show_pii=show_pii),
        },
    )


@login_required
@permission_required("sales.view_testdrive", raise_exception=True)
def test_drive_detail(request, pk: int):
    return _test_drive_page(request, _test_drive(request, pk))


@login_required
@permission_required("sales.change_testdrive", raise_exception=True)
@require_http_methods(["GET", "POST"])
def test_drive_complete(request, pk: int):
    test_drive = _test_drive(request, pk)
    if request.method == "GET":
        return redirect(test_drive)
    form = TestDriveCompleteForm(request.POST)
    if form.is_valid():
        done = call_service(
            form,
            lambda: services.test_drive_complete(
                test_drive=test_drive,
                by=request.user,
                agreement_signed=form.cleaned_data["agreement_signed"],
                feedback=form.cleaned_data["feedback"],
            ),
        )
        if done:
            messages.success(request, _("Test drive completed; the lead is test-driven."))
            return redirect(test_drive)
    return _test_drive_page(request, test_drive, complete_form=form)


@login_required
@permission_required("sales.change_testdrive", raise_exception=True)
@require_POST
def test_drive_cancel(request, pk: int):
    test_drive = _test_drive(request, pk)
    form = TestDriveCancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    run_action(
        request,
        lambda: services.test_drive_cancel(test_drive=test_drive, by=request.user, reason=reason),
        _("Test drive cancelled; the demo car is free again."),
    )
    return redirect(test_drive)
