"""Platform pages: sign in and out, the home page, the working-branch switch, notifications."""

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from customers.selectors import branch_overview
from sales.selectors import sales_overview

from .choices import Role
from .exports import Cell, Table, export_response
from .forms import FiguresForm, KpiTargetForm
from .kpis import (
    Area,
    Direction,
    Scope,
    Unit,
    closed_end,
    kpi_by_person,
    kpi_registry,
    kpi_series,
    kpi_values,
    kpi_values_by_branch,
    same_period_last_year,
)
from .models import Branch, KpiTarget, Notification, display_name
from .notifications import notification_mark_read, notifications_mark_all_read
from .pages import call_service, paginate
from .periods import LOCAL_TIME_ZONE, add_months
from .scoping import SESSION_BRANCH_KEY, branch_ids_for, working_branch
from .targets import kpi_target_delete, kpi_target_set, target_figures


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def home(request):
    branch = working_branch(request)
    overview = branch_overview(user=request.user, branch=branch) if branch else None
    sales = (
        sales_overview(user=request.user, branch=branch)
        if branch and request.user.has_perm("sales.view_lead")
        else None
    )
    return render(request, "home.html", {"branch": branch, "overview": overview, "sales": sales})


@login_required
@require_POST
def branch_switch(request):
    """Pick the branch new records are filed under, among the user's own."""
    try:
        branch_id = int(request.POST.get("branch", ""))
    except ValueError:
        branch_id = None
    if branch_id in branch_ids_for(request.user):
        request.session[SESSION_BRANCH_KEY] = branch_id
    else:
        messages.error(request, _("You do not work in that branch."))
    next_url = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    return HttpResponseRedirect(next_url)


@login_required
def notification_list(request):
    """The user's notifications, newest first."""
    page = paginate(request, Notification.objects.filter(recipient=request.user))
    return render(request, "notifications.html", {"page": page})


@login_required
@require_POST
def notification_read(request, pk: int):
    """Mark the notification read and follow its link (only to this site)."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    notification_mark_read(notification=notification, by=request.user)
    if notification.url and url_has_allowed_host_and_scheme(
        notification.url, allowed_hosts={request.get_host()}
    ):
        return HttpResponseRedirect(notification.url)
    return redirect("notifications")


@login_required
@require_POST
def notifications_read_all(request):
    notifications_mark_all_read(user=request.user)
    return redirect("notifications")


@login_required
def kpi_definitions(request):
    """Every figure of the dashboards with its written definition, grouped by area; one area
    (`?area=`) or the figures whose code, name or definition hold `?q=`."""
    area = request.GET.get("area", "")
    area = area if area in Area.values else ""
    search = request.GET.get("q", "").strip()[:100]
    kpis = [
        kpi
        for kpi in kpi_registry().values()
        if (not area or kpi.area == area)
        and (
            not search
            or any(search.lower() in str(text).lower()
                   for text in (kpi.code, kpi.name, kpi.definition))
        )
    ]  # fmt: skip
    groups = [
        (value, label, [kpi for kpi in kpis if kpi.area == value]) for value, label in Area.choices
    ]
    return render(
        request,
        "kpi_definitions.html",
        {
            "groups": [group for group in groups if group[2]],
            "areas": Area.choices,
            "area": area,
            "search": search,
            "units": dict(Unit.choices),
            "directions": dict(Direction.choices),
            "found": len(kpis),
        },
    )


# --- Figures: the dashboards of each role, targets, the monthly report --------------------------

CHANGE_CSS = {"better": "text-success", "worse": "text-danger", "same": "text-secondary"}
NUMBER_FORMATS = {
    Unit.COUNT: "#,##0",
    Unit.PERCENT: "0.0%",
    Unit.CNY: "#,##0.00",
    Unit.HOURS: "#,##0.0",
    Unit.DAYS: "#,##0.0",
    Unit.SCORE: "0.0",
    Unit.TIMES: "0.00",
}


def format_figure(kpi, value, *, signed: bool = False) -> str:
    """A figure's value as the pages show it, by its unit: 1,280 · 45.0% · ¥1,280.50 ·
    12.5 h · 3.2 d · 86.0 · 2.40×; a difference is signed, a rate's in percentage points."""
    if value is None:
        return "—"
    value = Decimal(value)
    sign = "+" if signed and value > 0 else ""
    unit = kpi.unit
    if unit == Unit.PERCENT:
        if signed:
            return _("%(value)s pt") % {"value": f"{sign}{value * 100:.1f}"}
        return f"{value * 100:.1f}%"
    if unit == Unit.CNY:
        return f"{sign}{'-' if value < 0 else ''}¥{abs(value):,.2f}"
    if unit == Unit.COUNT:
        text = f"{value:,.0f}" if value == value.to_integral() else f"{value:,.1f}"
        return f"{sign}{text}"
    if unit == Unit.HOURS:
        return _("%(value)s h") % {"value": f"{sign}{value:,.1f}"}
    if unit == Unit.DAYS:
        return _("%(value)s d") % {"value": f"{sign}{value:,.1f}"}
    if unit == Unit.TIMES:
        return f"{sign}{value:,.2f}×"
    return f"{sign}{value:,.1f}"


def _change(kpi, current, previous) -> tuple[Decimal | None, str]:
    """The change on last year and whether it is for the better (by the figure's direction)."""
    if current is None or previous is None:
        return None, ""
    change = current - previous
    if not change or kpi.direction == Direction.NEUTRAL:
        return change, "same"
    better = (change > 0) == (kpi.direction == Direction.HIGHER)
    return change, "better" if better else "worse"


def _value_cell(kpi, value, url: str = "") -> Cell:
    return Cell(
        format_figure(kpi, value),
        number=value,
        number_format=NUMBER_FORMATS.get(kpi.unit, ""),
        url=url if value is not None else "",
    )


def _reading_cells(reading, url: str, *, targets: bool = True) -> list[Cell]:
    """Value, last year, change, and (with `targets`) target and attainment of a reading."""
    kpi = reading.kpi
    current, previous = reading.current.value, reading.previous.value
    change, how = _change(kpi, current, previous)
    cells = [
        _value_cell(kpi, current, url),
        _value_cell(kpi, previous),
        Cell(
            format_figure(kpi, change, signed=True) if change is not None else "—",
            number=change,
            number_format=NUMBER_FORMATS.get(kpi.unit, ""),
            css=CHANGE_CSS.get(how, ""),
        ),
    ]
    if targets:
        attainment = reading.attainment
        cells += [
            _value_cell(kpi, reading.target),
            Cell(
                "—" if attainment is None else f"{attainment * 100:.0f}%",
                number=attainment,
                number_format="0%",
                css="" if attainment is None else ("text-success" if attainment >= 1 else ""),
            ),
        ]
    return cells


def _figure_cell(kpi) -> Cell:
    return Cell(
        str(kpi.name),
        url=f"{reverse('kpi-definitions')}?q={kpi.code}",
        title=str(kpi.definition),
    )


FIGURE_COLUMNS = [
    pgettext_lazy("column of a figures table", "Figure"),
    pgettext_lazy("column of a figures table", "Value"),
    pgettext_lazy("column of a figures table", "Last year"),
    pgettext_lazy("column of a figures table", "Change"),
    pgettext_lazy("column of a figures table", "Target"),
    pgettext_lazy("column of a figures table", "Attainment"),
]


# The dashboards, in the order a user holding several roles is offered them: (key, role, label,
# the areas its figures come from). Managers' dashboards read every area.
DASHBOARDS = [
    ("group", Role.GROUP_MANAGER, pgettext_lazy("dashboard", "Group"), None),
    ("branch", Role.BRANCH_MANAGER, pgettext_lazy("dashboard", "Branch"), None),
    ("consultant", Role.SALES_CONSULTANT, pgettext_lazy("dashboard", "Sales consultant"),
     [Area.SALES]),
    ("advisor", Role.SERVICE_ADVISOR, pgettext_lazy("dashboard", "Service advisor"),
     [Area.SERVICE]),
    ("parts", Role.PARTS_CLERK, pgettext_lazy("dashboard", "Parts clerk"), [Area.PARTS]),
    ("archivist", Role.CUSTOMER_CARE, pgettext_lazy("dashboard", "Customer care / archives"),
     [Area.ARCHIVES, Area.CUSTOMERS]),
]  # fmt: skip


def _dashboards_of(user) -> list[tuple]:
    roles = set(user.groups.values_list("name", flat=True))
    chosen = [board for board in DASHBOARDS if board[1] in roles or user.is_superuser]
    if not chosen and any(
        kpi.measured and user.has_perm(kpi.permission) for kpi in kpi_registry().values()
    ):
        # Another reader of a branch's figures (a sales manager…): the branch's, as far as
        # their permissions go.
        chosen = [DASHBOARDS[1]]
    return chosen


def _period_form(request, today):
    """The period picker, this month unless another period is picked (last month on the
    first of a month: a dashboard reads the days the nightly job has closed)."""
    query = request.GET.copy()
    if not query.get("period") and today.day == 1:
        query["period"] = "last_month"
    return FiguresForm.for_request(SimpleNamespace(GET=query, user=request.user))


def _year_months(year: int) -> list[date]:
    return [date(year, month, 1) for month in range(1, 13)]


def _trend_charts(kpis, branch_ids, end: date, today) -> dict:
    """Each figure's months this year and last year, for the trend charts: one query."""
    this_year, last_year = _year_months(end.year), _year_months(end.year - 1)
    series = kpi_series([kpi.code for kpi in kpis], branch_ids, last_year + this_year, today)

    def points(values):
        return [None if value is None else float(value) for value in values]

    return {
        kpi.code: {
            "name": str(kpi.name),
            "unit": kpi.unit,
            "this": points(series[kpi.code][12:]),
            "last": points(series[kpi.code][:12]),
        }
        for kpi in kpis
    }


def _person_bars(kpis, branch_ids, start, end, today) -> dict:
    """Each per-person figure's value per person, for the bars: two queries."""
    per_person = [kpi for kpi in kpis if kpi.per_person]
    values = kpi_by_person([kpi.code for kpi in per_person], branch_ids, start, end, today)
    people = {person for by_person in values.values() for person in by_person}
    names = {user.pk: display_name(user) for user in User.objects.filter(pk__in=people)}
    bars = {}
    for kpi in per_person:
        rows = sorted(values.get(kpi.code, {}).items(), key=lambda item: -(item[1].value or 0))
        if rows:
            bars[kpi.code] = {
                "name": str(kpi.name),
                "unit": kpi.unit,
                "labels": [names.get(person, str(person)) for person, _figure in rows],
                "values": [float(figure.value) for _person, figure in rows],
            }
    return bars


def _area_sections(kpis) -> list[tuple[str, str, list]]:
    return [
        (value, label, [kpi for kpi in kpis if kpi.area == value])
        for value, label in Area.choices
        if any(kpi.area == value for kpi in kpis)
    ]


def _manager_tables(user, branches, start, end, today, *, group: bool) -> tuple[list, list]:
    """The managers' tables: per area, each figure's value, last year, change, target and
    attainment; side by side per branch with the group's total for the group manager."""
    kpis = [kpi for kpi in kpi_registry().values() if kpi.measured and user.has_perm(
        kpi.permission)]  # fmt: skip
    branch_ids = [branch.pk for branch in branches]
    by_branch, total = kpi_values_by_branch([kpi.code for kpi in kpis], branch_ids, start, end,
                                            today)  # fmt: skip
    last = closed_end(end, today)
    tables = []
    for area, label, area_kpis in _area_sections(kpis):
        if group:
            columns = [FIGURE_COLUMNS[0], *[branch.name for branch in branches],
                       _("Group total"), *FIGURE_COLUMNS[2:]]  # fmt: skip
        else:
            columns = list(FIGURE_COLUMNS)
        rows = []
        for kpi in area_kpis:
            total_scope = Scope(tuple(branch_ids), start, last)
            row = [_figure_cell(kpi)]
            if group:
                row += [
                    _value_cell(kpi, by_branch[branch.pk][kpi.code].current.value,
                                kpi.records_url(Scope((branch.pk,), start, last)))
                    for branch in branches
                ]  # fmt: skip
            row += _reading_cells(total[kpi.code], kpi.records_url(total_scope))
            rows.append(row)
        tables.append(Table(area, str(label), columns, rows))
    return kpis, tables


def _role_tables(user, board, branch, start, end, today) -> tuple[list, list]:
    """A role's own figures (its records' values where the figure has them per person, the
    branch's otherwise), today included."""
    _key, role, _label, areas = board
    kpis = [
        kpi
        for kpi in kpi_registry().values()
        if kpi.measured and (kpi.area in areas or role in kpi.person_roles)
    ]
    mine = [kpi for kpi in kpis if role in kpi.person_roles and kpi.readable_by(user, own=True)]
    branch_kpis = [kpi for kpi in kpis if kpi not in mine and user.has_perm(kpi.permission)]
    own = kpi_values([kpi.code for kpi in mine], [branch.pk], start, end, person_id=user.pk,
                     today=today)  # fmt: skip
    branchs = kpi_values([kpi.code for kpi in branch_kpis], [branch.pk], start, end, today=today)
    end = min(end, today)
    columns = [FIGURE_COLUMNS[0], pgettext_lazy("column of a figures table", "Whose"),
               *FIGURE_COLUMNS[1:]]  # fmt: skip
    tables = []
    for area, label, area_kpis in _area_sections(mine + branch_kpis):
        rows = []
        for kpi in area_kpis:
            if kpi.code in own:
                scope = Scope((branch.pk,), start, end, person_id=user.pk)
                whose, reading = _("Mine"), own[kpi.code]
            else:
                scope = Scope((branch.pk,), start, end)
                whose, reading = _("The branch's"), branchs[kpi.code]
            rows.append([_figure_cell(kpi), Cell(str(whose)),
                         *_reading_cells(reading, kpi.records_url(scope))])  # fmt: skip
        tables.append(Table(area, str(label), columns, rows, numeric_from=2))
    return mine + branch_kpis, tables


@login_required
def figures_dashboard(request):
    """The figures of the user's role for a period (this month by default): a table and a
    trend per area, each number leading to its records; `?view=` picks among the user's
    dashboards, `?export=csv|xlsx` downloads the tables."""
    boards = _dashboards_of(request.user)
    if not boards:
        raise PermissionDenied
    board = next((b for b in boards if b[0] == request.GET.get("view")), boards[0])
    today = timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
    form = _period_form(request, today)
    context = {"form": form, "boards": boards, "board": board, "view": board[0]}
    if not form.is_valid():
        return render(request, "figures/dashboard.html", context)
    start, end = form.cleaned_data["start"], min(form.cleaned_data["end"], today)
    allowed = branch_ids_for(request.user)
    branch = form.cleaned_data.get("branch") or working_branch(request)
    if board[0] == "group":
        branches = list(Branch.objects.filter(pk__in=allowed).order_by("code"))
        kpis, tables = _manager_tables(request.user, branches, start, end, today, group=True)
        branch_ids = [b.pk for b in branches]
        last = closed_end(end, today)
    elif board[0] == "branch":
        branch_ids = [branch.pk]
        kpis, tables = _manager_tables(request.user, [branch], start, end, today, group=False)
        last = closed_end(end, today)
    else:
        branch_ids = [branch.pk]
        kpis, tables = _role_tables(request.user, board, branch, start, end, today)
        last = end
    name = f"figures-{board[0]}-{start:%Y%m%d}-{last:%Y%m%d}"
    download = export_response(request, tables, name)
    if download is not None:
        return download
    charts = {
        "trends": _trend_charts(kpis, branch_ids, end, today),
        "areas": {area: [kpi.code for kpi in some] for area, _l, some in _area_sections(kpis)},
        "persons": {},
    }
    if board[0] == "branch":
        charts["persons"] = _person_bars(kpis, branch_ids, start, end, today)
    previous_start, previous_end = same_period_last_year(start, last)
    context |= {
        "tables": tables,
        "charts": charts,
        "chart_labels": {
            "this_year": str(end.year),
            "last_year": str(end.year - 1),
            "months": [date_format(month, "M") for month in _year_months(end.year)],
        },
        "start": start,
        "end": last,
        "closed": board[0] in ("group", "branch"),
        "show_branch": board[0] != "group",
        "empty": start > last,
        "previous_start": previous_start,
        "previous_end": previous_end,
        "branch": branch if board[0] != "group" else None,
        "query": _without(request, "export", "table"),
        "view_query": _without(request, "view", "export", "table"),
    }
    return render(request, "figures/dashboard.html", context)


def _without(request, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _month_of(text: str, default: date) -> date:
    try:
        return date.fromisoformat(f"{text[:7]}-01")
    except ValueError:
        return default


@login_required
def figures_targets(request):
    """The month's targets of the user's branches, and (for a manager) the form setting one;
    `?export=csv|xlsx` downloads the list."""
    if not request.user.has_perm("dealer_crm.view_kpitarget"):
        raise PermissionDenied
    today = timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
    month = _month_of(request.GET.get("month", ""), today.replace(day=1))
    may_set = request.user.has_perm("dealer_crm.add_kpitarget") and request.user.has_perm(
        "dealer_crm.change_kpitarget"
    )
    figures = target_figures()
    form = KpiTargetForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        figures=figures,
        initial={"month": month},
    )
    if request.method == "POST":
        if not may_set:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            target = call_service(form, lambda: kpi_target_set(
                by=request.user, branch=data["branch"], code=data["code"],
                month=data["month"], value=data["value"], person=data["person"],
            ))  # fmt: skip
            if target is not None:
                messages.success(request, _("The target is set."))
                return redirect(f"{reverse('figures-targets')}?month={target.month:%Y-%m}")
    targets = (
        KpiTarget.objects.filter(branch_id__in=branch_ids_for(request.user), month=month)
        .select_related("branch", "person")
        .order_by("branch__code", "code", "person__username")
    )
    registry = kpi_registry()
    rows = []
    for target in targets:
        kpi = registry.get(target.code)
        rows.append([
            Cell(target.branch.name),
            Cell(str(kpi.name) if kpi else target.code),
            Cell(display_name(target.person) if target.person else str(_("The whole branch"))),
            _value_cell(kpi, target.value) if kpi else Cell(str(target.value)),
        ])  # fmt: skip
    table = Table(
        "targets",
        _("Targets of %(month)s") % {"month": f"{month:%Y-%m}"},
        [_("Branch"), FIGURE_COLUMNS[0], _("Person"), FIGURE_COLUMNS[4]],
        rows,
        numeric_from=3,
    )
    download = export_response(request, [table], f"targets-{month:%Y-%m}")
    if download is not None:
        return download
    return render(request, "figures/targets.html", {
        "form": form, "may_set": may_set, "table": table,
        "entries": list(zip(targets, rows, strict=True)),
        "month": month, "previous_month": add_months(month, -1), "next_month": add_months(month, 1),
        "query": _without(request, "export", "table"),
    })  # fmt: skip


@login_required
@require_POST
def figures_target_delete(request, pk: int):
    if not request.user.has_perm("dealer_crm.delete_kpitarget"):
        raise PermissionDenied
    target = get_object_or_404(KpiTarget, pk=pk, branch_id__in=branch_ids_for(request.user))
    kpi_target_delete(by=request.user, target=target)
    messages.success(request, _("The target is removed."))
    return redirect(f"{reverse('figures-targets')}?month={target.month:%Y-%m}")


@login_required
def figures_monthly(request):
    """A branch's month on one printable sheet: every figure the user may read, against the
    same month last year and its target (the month's closed days)."""
    if not request.user.has_perm("dealer_crm.view_kpitarget"):
        raise PermissionDenied
    today = timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
    month = _month_of(request.GET.get("month", ""), add_months(today.replace(day=1), -1))
    allowed = branch_ids_for(request.user)
    try:
        branch_id = int(request.GET.get("branch", ""))
    except ValueError:
        branch_id = None
    branch_id = branch_id if branch_id in allowed else (working_branch(request) or Branch()).pk
    if branch_id is None:
        raise PermissionDenied
    branch = Branch.objects.get(pk=branch_id)
    end = add_months(month, 1) - timedelta(days=1)
    _kpis, tables = _manager_tables(request.user, [branch], month, end, today, group=False)
    last = closed_end(end, today)
    download = export_response(request, tables, f"monthly-{branch.code}-{month:%Y-%m}")
    if download is not None:
        return download
    return render(request, "figures/monthly.html", {
        "branch": branch, "branches": Branch.objects.filter(pk__in=allowed).order_by("code"),
        "month": month, "end": last, "empty": month > last, "tables": tables,
        "previous_start": add_months(month, -12), "previous_end": add_months(last, -12),
        "generated_at": timezone.now(),
    })  # fmt: skip
