"""Oversight pages of the archive: the nonconformity records (不合格档案记录) and the penalty
points per person, the missing-archive reports (缺档报告), the reconciliation runs with a run
on demand, retention with the disposal request and its approval, and the archive figures.
As thin as the API: parse, call a service, render."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy
from django.views.decorators.http import require_POST

from dealer_crm.audit import history_entries
from dealer_crm.errors import DomainError
from dealer_crm.forms import FiguresForm
from dealer_crm.models import Branch, display_name
from dealer_crm.pages import all_choice, apply_filters, paginate, sort, yes_no_choices
from dealer_crm.periods import local_day_end, local_day_start
from dealer_crm.pii import can_view_pii
from dealer_crm.scoping import branch_ids_for

from .. import selectors, services
from ..choices import FileStatus
from ..filters import (
    MissingArchiveReportFilter,
    NonconformityFilter,
    PenaltyPointFilter,
    ReconciliationFilter,
)
from ..models import MissingArchiveReport, Nonconformity, PenaltyPoint, Reconciliation, VehicleFile

NOTHING = "—"
# A record or report is open until resolved ("Open" alone reads as a verb in Chinese).
OPEN = pgettext_lazy("archive record", "Open")
RESOLVED = pgettext_lazy("archive record", "Resolved")
NONCONFORMITY_SORTS = {"returned": "returned_at", "due": "due_by"}
MISSING_SORTS = {"opened": "opened_at", "due": "due_by"}
RECONCILIATION_SORTS = {"day": "day", "run": "run_at"}
# What a POST on a file's disposal does: the permission it needs and the service it calls.
DISPOSAL_ACTIONS = {
    "request": ("archives.request_disposal", services.disposal_request),
    "approve": ("archives.approve_disposal", services.disposal_approve),
}
# Files sealed this recently are listed on the retention page.
RECENTLY_SEALED_DAYS = 30
RECENT_ROWS = 10


def _list_url(name: str, query: list[tuple[str, str]]) -> str:
    return f"{reverse(name)}?{urlencode(query)}" if query else reverse(name)


def _safe_back(request, default: str) -> str:
    """The page the action came from (`next`, else the referrer) when it is one of ours."""
    target = request.POST.get("next") or request.META.get("HTTP_REFERER", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _scope(request, form: FiguresForm) -> tuple[list[int], list[tuple[str, str]]]:
    """The branches a valid period form reads, and the query that keeps the branch in links."""
    chosen = form.cleaned_data["branch"]
    if chosen:
        return [chosen.pk], [("branch", str(chosen.pk))]
    return branch_ids_for(request.user), []


def _period_query(form: FiguresForm, branch_query: list[tuple[str, str]]) -> list:
    """The query string that opens a page on the same period and branch."""
    return [
        ("period", form.cleaned_data["period"] or "custom"),
        ("start", form.cleaned_data["start"].isoformat()),
        ("end", form.cleaned_data["end"].isoformat()),
        *branch_query,
    ]


# --- Nonconformity records and penalty points --------------------------------------------------


@login_required
@permission_required("archives.view_nonconformity", raise_exception=True)
def nonconformity_list(request):
    records = (
        Nonconformity.objects.for_user(request.user)
        .select_related(
            "branch", "responsible", "returned_by", "resubmitted",
            "document__section__vehicle_file",
        )
        .annotate(point_total=Sum("points__points"))
    )  # fmt: skip
    filterset, records = apply_filters(request, NonconformityFilter, records)
    filterset.form.fields["responsible"].label_from_instance = display_name
    yes_no_choices(filterset, "open", OPEN, RESOLVED)
    yes_no_choices(filterset, "overdue", _("Past 24 hours"), _("Not past 24 hours"))
    all_choice(filterset, "responsible", "branch")
    records, current_sort = sort(request, records, NONCONFORMITY_SORTS, "-returned")
    page = paginate(request, records)
    now = timezone.now()
    for record in page.object_list:
        record.overdue = (
            record.resolved_at is None and record.resubmitted_id is None and record.due_by < now
        )
    return render(
        request,
        "archives/nonconformity_list.html",
        {
            "filterset": filterset,
            "page": page,
            "sort": current_sort,
            "show_points": request.user.has_perm("archives.view_penaltypoint"),
            "many_branches": len(branch_ids_for(request.user)) > 1,
        },
    )


def _people(rows: list[dict], period_query: list[tuple[str, str]]) -> list[dict]:
    """Each person's points of the period, with the links behind them: their points on this
    page, their nonconformity records in the list."""
    people = User.objects.in_bulk([row["person"] for row in rows])
    branch_query = [pair for pair in period_query if pair[0] == "branch"]
    for row in rows:
        person = str(row["person"])
        row["name"] = display_name(people.get(row["person"]))
        row["points_url"] = _list_url("archives:points", [*period_query, ("person", person)])
        row["records_url"] = _list_url(
            "archives:nonconformity-list", [("responsible", person), *branch_query]
        )
    return rows


@login_required
@permission_required("archives.view_penaltypoint", raise_exception=True)
def points_page(request):
    form = FiguresForm.for_request(request)
    form.is_valid()
    context = {"form": form, "people": None}
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        branch_ids, branch_query = _scope(request, form)
        period_query = _period_query(form, branch_query)
        points = (
            PenaltyPoint.objects.for_user(request.user)
            .filter(
                branch_id__in=branch_ids,
                given_at__gte=local_day_start(start),
                given_at__lt=local_day_end(end),
            )
            .select_related("person", "nonconformity__document__section__vehicle_file")
            .order_by("-given_at", "-pk")
        )
        filterset, points = apply_filters(request, PenaltyPointFilter, points)
        filterset.form.fields["person"].label_from_instance = display_name
        all_choice(filterset, "person", "reason")
        people = _people(
            selectors.points_by_person(branch_ids=branch_ids, start=start, end=end), period_query
        )
        context.update(
            people=people,
            total=sum(row["points"] for row in people),
            filterset=filterset,
            page=paginate(request, points),
            start=start,
            end=end,
            many_branches=len(branch_ids) > 1,
        )
    return render(request, "archives/points.html", context)


# --- Missing-archive reports --------------------------------------------------------------------


def _reports():
    return MissingArchiveReport.objects.select_related(
        "branch", "section__vehicle_file__vehicle__owner", "section__delivery__order",
        "section__work_order",
    )  # fmt: skip


@login_required
@permission_required("archives.view_missingarchivereport", raise_exception=True)
def missing_list(request):
    filterset, reports = apply_filters(
        request, MissingArchiveReportFilter, _reports().for_user(request.user)
    )
    yes_no_choices(filterset, "open", OPEN, RESOLVED)
    yes_no_choices(filterset, "overdue", _("Flagged overdue"), _("Not flagged"))
    all_choice(filterset, "kind", "branch")
    reports, current_sort = sort(request, reports, MISSING_SORTS, "-opened")
    page = paginate(request, reports)
    now = timezone.now()
    for report in page.object_list:
        report.overdue = report.resolved_at is None and report.due_by < now
    return render(
        request,
        "archives/missing_list.html",
        {
            "filterset": filterset,
            "page": page,
            "sort": current_sort,
            "many_branches": len(branch_ids_for(request.user)) > 1,
        },
    )


@login_required
@permission_required("archives.view_missingarchivereport", raise_exception=True)
def missing_detail(request, pk: int):
    report = (
        _reports()
        .select_related("section__exemption__granted_by")
        .get_for_user_or_404(request.user, pk=pk)
    )
    section = report.section
    is_open = report.resolved_at is None
    return render(
        request,
        "archives/missing_detail.html",
        {
            "report": report,
            "section": section,
            "findings": [services.finding_text(finding) for finding in section.findings],
            "is_open": is_open,
            "overdue": is_open and report.due_by < timezone.now(),
            "can_exempt": is_open
            and section.vehicle_file.status == FileStatus.ACTIVE
            and request.user.has_perm("archives.add_exemption"),
            "history": history_entries(report, show_pii=can_view_pii(request.user)),
        },
    )


# --- Reconciliation ------------------------------------------------------------------------------


@login_required
@permission_required("archives.view_reconciliation", raise_exception=True)
def reconciliation_list(request):
    runs = Reconciliation.objects.for_user(request.user).select_related("branch")
    filterset, runs = apply_filters(request, ReconciliationFilter, runs)
    all_choice(filterset, "branch")
    runs, current_sort = sort(request, runs, RECONCILIATION_SORTS, "-day")
    page = paginate(request, runs)
    for run in page.object_list:
        run.sales_gap = run.deliveries != run.sales_sections
        run.service_gap = run.work_orders != run.service_sections
    return render(
        request,
        "archives/reconciliation_list.html",
        {
            "filterset": filterset,
            "page": page,
            "sort": current_sort,
            "many_branches": len(branch_ids_for(request.user)) > 1,
        },
    )


@login_required
@permission_required("archives.add_reconciliation", raise_exception=True)
@require_POST
def reconciliation_run(request):
    branches = list(Branch.objects.filter(pk__in=branch_ids_for(request.user)).order_by("code"))
    if not branches:
        messages.error(request, _("Your account is not linked to any branch."))
        return redirect("archives:reconciliation-list")
    runs = [services.reconcile(branch=branch) for branch in branches]
    messages.success(
        request,
        _(
            "Reconciled %(branches)s. Files opened: %(opened)s; missing reports opened: "
            "%(reports)s; missing reports open: %(open)s."
        )
        % {
            "branches": ", ".join(branch.name for branch in branches),
            "opened": sum(run.sections_opened for run in runs),
            "reports": sum(run.reports_opened for run in runs),
            "open": sum(run.reports_open for run in runs),
        },
    )
    return redirect(_safe_back(request, reverse("archives:reconciliation-list")))


# --- Retention ----------------------------------------------------------------------------------


@login_required
@permission_required("archives.view_vehiclefile", raise_exception=True)
def retention_page(request):
    user = request.user
    due = selectors.due_for_disposal(branch_ids=branch_ids_for(user)).select_related("branch")
    page = paginate(request, due)
    can_request = user.has_perm("archives.request_disposal")
    can_approve = user.has_perm("archives.approve_disposal")
    for vehicle_file in page.object_list:
        requested = vehicle_file.disposal_requested_at is not None
        vehicle_file.can_request = can_request and not requested
        vehicle_file.can_approve = (
            can_approve and requested and vehicle_file.disposal_requested_by_id != user.pk
        )
        vehicle_file.own_request = requested and vehicle_file.disposal_requested_by_id == user.pk
    files = VehicleFile.objects.for_user(user).select_related("vehicle__owner")
    since = timezone.now() - timedelta(days=RECENTLY_SEALED_DAYS)
    return render(
        request,
        "archives/retention.html",
        {
            "page": page,
            "recently_sealed": list(
                files.filter(status=FileStatus.SEALED, sealed_at__gte=since).order_by(
                    "-sealed_at", "-pk"
                )[:RECENT_ROWS]
            ),
            "recently_disposed": list(
                files.filter(status=FileStatus.DISPOSED)
                .select_related("disposal_requested_by", "disposed_by")
                .order_by("-disposed_at", "-pk")[:RECENT_ROWS]
            ),
            "recent_days": RECENTLY_SEALED_DAYS,
            "many_branches": len(branch_ids_for(user)) > 1,
            "retention_years": services.RETENTION_YEARS,
            "dormant_years": services.DORMANT_YEARS,
        },
    )


@login_required
@require_POST
def disposal_action(request, pk: int, action: str):
    if action not in DISPOSAL_ACTIONS:
        raise Http404
    permission, service = DISPOSAL_ACTIONS[action]
    if not request.user.has_perm(permission):
        raise PermissionDenied
    vehicle_file = VehicleFile.objects.get_for_user_or_404(request.user, pk=pk)
    try:
        service(vehicle_file=vehicle_file, by=request.user)
    except DomainError as error:
        messages.error(request, f"{vehicle_file.number}: {error.message}")
    else:
        done = (
            _("Disposal of %(number)s requested: another manager approves it.")
            if action == "request"
            else _("%(number)s disposed of: its scans are destroyed, the record of them is kept.")
        )
        messages.success(request, done % {"number": vehicle_file.number})
    return redirect(_safe_back(request, reverse("archives:retention")))


# --- Figures ------------------------------------------------------------------------------------


@dataclass
class Figure:
    key: str
    title: str
    value: str
    definition: str
    detail: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)
    # True: meets its goal, False: misses it, None: no goal (or nothing to judge).
    good: bool | None = None


def _percent(value: Decimal | None) -> str:
    return NOTHING if value is None else f"{value * 100:.1f}%"


def _cards(figures: dict, period_query: list, branch_query: list) -> list[Figure]:
    """The cards, in the order an archive manager reads them."""
    start, end = figures["start"].isoformat(), figures["end"].isoformat()
    incomplete = _list_url("archives:file-list", [("incomplete", "true"), *branch_query])
    missing = "archives:missing-list"
    completeness = figures["completeness"]
    return [
        Figure(
            "completeness",
            _("Completeness"),
            _percent(completeness),
            _(
                "Of the sections of the period's deliveries and closed work orders that are "
                "due or already complete, those complete now. Complete: every expected "
                "document in, audited conforming, and no check finding anything. A section "
                "still within its submission time counts once complete. Goal: %(goal)s or "
                "more."
            )
            % {"goal": _percent(figures["goal"])},
            _("Goal %(goal)s") % {"goal": _percent(figures["goal"])},
            [(_("Files with incomplete sections"), incomplete)],
            None if completeness is None else figures["meets_goal"],
        ),
        Figure(
            "sections",
            _("Sections due"),
            str(figures["sections_due"]),
            _(
                "Sales and service sections of the period's deliveries and closed work "
                "orders whose papers are due (their due time has passed) or already "
                "complete, and how many of them are complete."
            ),
            _("%(complete)s complete · %(open)s not complete")
            % {
                "complete": figures["sections_complete"],
                "open": figures["sections_due"] - figures["sections_complete"],
            },
            [(_("Files with incomplete sections"), incomplete)],
        ),
        Figure(
            "nonconforming",
            _("Nonconforming documents"),
            str(figures["nonconforming"]),
            _("Documents the archive returned as nonconforming in the period."),
            links=[
                (
                    _("The nonconformity records"),
                    _list_url(
                        "archives:nonconformity-list",
                        [("returned_at_after", start), ("returned_at_before", end), *branch_query],
                    ),
                )
            ],
        ),
        Figure(
            "missing_open",
            _("Missing reports open"),
            str(figures["missing_open"]),
            _(
                "Missing-archive reports open now, whatever the period: a delivery or work "
                "order whose papers did not reach the archive by their due time."
            ),
            links=[(_("Open reports"), _list_url(missing, [("open", "true"), *branch_query]))],
        ),
        Figure(
            "missing_overdue",
            _("Missing reports overdue"),
            str(figures["missing_overdue"]),
            _("Of the open missing-archive reports, those past their 2 days."),
            links=[
                (
                    _("Overdue reports"),
                    _list_url(missing, [("open", "true"), ("overdue", "true"), *branch_query]),
                )
            ],
            good=False if figures["missing_overdue"] else None,
        ),
        Figure(
            "points",
            _("Penalty points"),
            str(sum(row["points"] for row in figures["points"])),
            _(
                "Points given in the period: one for a nonconforming document, one more when "
                "it is not back fixed within 24 hours, one more when it comes back unchanged."
            ),
            ngettext("%(people)s person", "%(people)s people", len(figures["points"]))
            % {"people": len(figures["points"])},
            [
                (_("Per person"), "#points"),
                (_("Points page"), _list_url("archives:points", period_query)),
            ],
        ),
    ]


@login_required
@permission_required("archives.view_reconciliation", raise_exception=True)
def figures_page(request):
    form = FiguresForm.for_request(request)
    form.is_valid()
    context = {"form": form, "figures": None}
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        branch_ids, branch_query = _scope(request, form)
        period_query = _period_query(form, branch_query)
        figures = selectors.archive_figures(branch_ids=branch_ids, start=start, end=end)
        figures.update(start=start, end=end)
        context.update(
            figures=figures,
            cards=_cards(figures, period_query, branch_query),
            people=_people(figures["points"], period_query),
            show_points=request.user.has_perm("archives.view_penaltypoint"),
            many_branches=len(branch_ids) > 1,
        )
    return render(request, "archives/figures.html", context)
