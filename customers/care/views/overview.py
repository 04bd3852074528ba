"""Overview pages of customer care: how many customers are in each segment (recomputed on
demand), the after-sales report of a period on screen and on paper, and the runs of the
scheduled jobs. As thin as the API: parse, call a service or a selector, render."""

from dataclasses import dataclass, field
from datetime import timedelta

from celery.schedules import crontab
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext
from django.views.decorators.http import require_POST

from customers.choices import VehicleAgeSegment
from dealer_crm.choices import JobStatus
from dealer_crm.forms import BootstrapFormMixin, FiguresForm
from dealer_crm.models import Branch, Heartbeat, JobRun
from dealer_crm.scoping import branch_ids_for
from service.choices import InsuranceClaimStatus, RescueStatus

from .. import selectors, services, tasks
from ..choices import AbnormalReason, CallStatus, ComplaintStatus, InquiryKind, Lifecycle
from ..models import CustomerSegment

NOTHING = "—"
# The calls a period's completion rate counts: all but the cancelled ones.
CALLS_DUE = [CallStatus.DUE, CallStatus.DONE, CallStatus.UNREACHABLE]

# --- Segments ------------------------------------------------------------------------------------

LIFECYCLE_DEFINITIONS = {
    Lifecycle.PROSPECT: gettext_lazy("No vehicle with us yet, and not lost."),
    Lifecycle.OWNER: gettext_lazy("Owns at least one vehicle on record."),
    Lifecycle.LOST: gettext_lazy("A lost lead, or a former owner with no vehicle now."),
}
# DOMAIN §1: the four reasons to reach out to a customer (异常客户).
ABNORMAL_DEFINITIONS = {
    AbnormalReason.NEAR_CHURN: gettext_lazy(
        "Last visit older than 1.5 × the 6-month service interval, but within 12 months "
        "(counted from the delivery before a first visit)."
    ),
    AbnormalReason.LONG_INACTIVE: gettext_lazy(
        "No visit for over 12 months (counted from the delivery before a first visit)."
    ),
    AbnormalReason.COMPLAINED: gettext_lazy("A complaint in the last 6 months and no visit since."),
    AbnormalReason.REPAIR_ONLY: gettext_lazy(
        "Repairs but no maintenance visit in the last 12 months."
    ),
}


@dataclass
class SegmentCount:
    key: str
    label: str
    count: int
    url: str
    definition: str = ""


def _customers(query: list[tuple[str, str]]) -> str:
    """The customer list filtered by one segment."""
    return f"{reverse('customers:list')}?{urlencode(query)}"


def _segment_groups(counts: dict, vehicle_ages: dict) -> list[tuple[str, str, list]]:
    """(key, title, counts) of each kind of segment, each count with its customers' link."""
    share = f"{services.KEY_CUSTOMER_SHARE * 100:.0f}%"
    return [
        (
            "lifecycle",
            _("Lifecycle"),
            [
                SegmentCount(
                    f"lifecycle-{value}",
                    label,
                    counts[f"lifecycle_{value}"],
                    _customers([("lifecycle", value)]),
                    LIFECYCLE_DEFINITIONS[value],
                )
                for value, label in Lifecycle.choices
            ],
        ),
        (
            "key",
            _("Key customers (重点客户)"),
            [
                SegmentCount(
                    "key-customer",
                    _("Key customers"),
                    counts["key"],
                    _customers([("key_customer", "true")]),
                    _(
                        "The top %(share)s of each branch's customers by their revenue of the "
                        "last 12 months: what they paid for service and the vehicles delivered "
                        "to them."
                    )
                    % {"share": share},
                )
            ],
        ),
        (
            "abnormal",
            _("Abnormal customers (异常客户)"),
            [
                SegmentCount(
                    f"abnormal-{value}",
                    label,
                    counts[f"abnormal_{value}"],
                    _customers([("abnormal", value)]),
                    ABNORMAL_DEFINITIONS[value],
                )
                for value, label in AbnormalReason.choices
            ],
        ),
        (
            "vehicle_age",
            _("Vehicle age of the newest vehicle"),
            [
                SegmentCount(
                    f"vehicle-age-{value}",
                    label,
                    vehicle_ages.get(value, 0),
                    _customers([("vehicle_age", value)]),
                )
                for value, label in VehicleAgeSegment.choices
            ],
        ),
    ]


@login_required
@permission_required("care.view_customersegment", raise_exception=True)
def segments_page(request):
    branch_ids = branch_ids_for(request.user)
    counts = selectors.segment_counts(branch_ids=branch_ids)
    vehicle_ages = dict(
        CustomerSegment.objects.filter(customer__branch_id__in=branch_ids)
        .exclude(vehicle_age="")
        .order_by()
        .values_list("vehicle_age")
        .annotate(n=Count("pk"))
    )
    return render(
        request,
        "care/segments.html",
        {
            "counts": counts,
            "groups": _segment_groups(counts, vehicle_ages),
            "many_branches": len(branch_ids) > 1,
        },
    )


@login_required
@permission_required("care.change_customersegment", raise_exception=True)
@require_POST
def segments_recompute(request):
    branches = list(Branch.objects.filter(pk__in=branch_ids_for(request.user)).order_by("code"))
    if not branches:
        messages.error(request, _("Your account is not linked to any branch."))
        return redirect("care:segments")
    # The worker recomputes them (a large branch takes a while); the page shows the counts of
    # the last run finished, with its date.
    for branch in branches:
        tasks.segments_task.delay(branch.pk)
    messages.success(
        request,
        _("The segments of %(branches)s are being recomputed: reload this page in a minute.")
        % {"branches": ", ".join(branch.name for branch in branches)},
    )
    return redirect("care:segments")


# --- The after-sales report --------------------------------------------------------------------


@dataclass
class Line:
    label: str
    value: int | str
    url: str = ""


@dataclass
class Section:
    key: str
    title: str
    icon: str
    lines: list[Line]
    links: list[tuple[str, str]] = field(default_factory=list)


class _Links:
    """The list behind each number, for a user allowed to open that list (else no link)."""

    def __init__(self, user, branch_query: list[tuple[str, str]]):
        self.user, self.branch_query = user, branch_query

    def __call__(self, permission: str, name: str, query: list[tuple[str, str]]) -> str:
        if not self.user.has_perm(permission):
            return ""
        query = [*query, *self.branch_query]
        return f"{reverse(name)}?{urlencode(query)}" if query else reverse(name)


def _percent(value) -> str:
    return NOTHING if value is None else f"{value * 100:.1f}%"


def _sections(report: dict, start, end, link: _Links) -> list[Section]:
    """The report's sections in the order of DOMAIN §7, each number with its list."""
    received = [("received_at_after", start.isoformat()), ("received_at_before", end.isoformat())]
    due = [("due_on_after", start.isoformat()), ("due_on_before", end.isoformat())]
    single_day = [("day", start.isoformat())] if start == end else []
    appointments, complaints, calls = report["appointments"], report["complaints"], report["calls"]
    received_label = pgettext("complaints, inquiries", "Received")

    def complaint_list(*query) -> str:
        return link("care.view_complaint", "care:complaint-list", [*query, *received])

    def call_list(*query) -> str:
        return link("care.view_followupcall", "care:call-list", [*query, *due])

    def asked(kind: str, title: str, icon: str) -> Section:
        counts = report["inquiries" if kind == InquiryKind.INQUIRY else "suggestions"]

        def inquiry_list(*query) -> str:
            return link(
                "care.view_inquiry", "care:inquiry-list", [("kind", kind), *query, *received]
            )

        return Section(kind, title, icon, [
            Line(received_label, counts["total"], inquiry_list()),
            Line(_("Answered"), counts["answered"], inquiry_list(("answered", "true"))),
            Line(
                _("Not answered yet"),
                counts["total"] - counts["answered"],
                inquiry_list(("answered", "false")),
            ),
        ])  # fmt: skip

    def by_status(counts: dict, choices, permission: str, name: str, day: list) -> list[Line]:
        """All of the period's, then each status; the lists filter a day at most, not a period."""
        lines = [Line(_("In all"), sum(counts.values()), link(permission, name, day))]
        for value, label in choices:
            listed = link(permission, name, [("status", value), *day])
            lines.append(Line(label, counts.get(value, 0), listed))
        return lines

    return [
        Section("appointments", _("Appointments"), "bi-calendar-check", [
            Line(_("Booked for the period"), appointments["total"]),
            Line(_("Checked in"), appointments["checked_in"]),
            Line(_("No-show"), appointments["no_show"]),
            Line(_("Cancelled"), appointments["cancelled"]),
            Line(
                _("Still booked"),
                appointments["total"] - appointments["checked_in"] - appointments["no_show"]
                - appointments["cancelled"],
            ),
        ], [(
            _("The front desk's day"),
            link("service.view_appointment", "service:appointment-day", single_day),
        )]),
        asked(InquiryKind.INQUIRY, _("Inquiries (咨询)"), "bi-question-circle"),
        Section("rescues", _("Roadside rescues"), "bi-truck", by_status(
            report["rescues"], RescueStatus.choices, "service.view_rescue", "service:rescue-list",
            single_day,
        )),
        Section("insurance_claims", _("Insurance claims"), "bi-shield-check", by_status(
            report["insurance_claims"], InsuranceClaimStatus.choices,
            "service.view_insuranceclaim", "service:insurance-claim-list", [],
        )),
        asked(InquiryKind.SUGGESTION, _("Suggestions (建议)"), "bi-lightbulb"),
        Section("complaints", _("Complaints (投诉)"), "bi-exclamation-octagon", [
            Line(received_label, complaints["total"], complaint_list()),
            Line(_("Answered in time"), complaints["responded_in_time"]),
            Line(
                _("Resolved"),
                complaints["resolved"],
                complaint_list(
                    ("status", ComplaintStatus.RESOLVED), ("status", ComplaintStatus.CLOSED)
                ),
            ),
            Line(
                _("Closed, confirmed by the customer"),
                complaints["closed"],
                complaint_list(("status", ComplaintStatus.CLOSED)),
            ),
            Line(_("Escalated"), complaints["escalated"], complaint_list(("escalated", "true"))),
        ]),
        Section("calls", _("Follow-up calls (回访)"), "bi-telephone", [
            Line(
                _("Due in the period"),
                calls["due"],
                call_list(*(("status", status) for status in CALLS_DUE)),
            ),
            Line(_("Done"), calls["done"], call_list(("status", CallStatus.DONE))),
            Line(
                _("Unreachable"),
                calls["unreachable"],
                call_list(("status", CallStatus.UNREACHABLE)),
            ),
            Line(_("Still to call"), calls["open"], call_list(("status", CallStatus.DUE))),
            Line(_("Completion rate"), _percent(calls["completion"])),
            Line(
                _("Average satisfaction (1–5)"),
                NOTHING if calls["score"] is None else f"{calls['score']:.2f}",
            ),
        ]),
    ]  # fmt: skip


@login_required
@permission_required("care.view_followupcall", raise_exception=True)
def after_sales_report_page(request):
    form = FiguresForm.for_request(request)
    form.is_valid()
    context = {"form": form, "sections": None, "layout": "base.html"}
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        chosen = form.cleaned_data["branch"]
        branch_ids = [chosen.pk] if chosen else branch_ids_for(request.user)
        branch_query = [("branch", str(chosen.pk))] if chosen else []
        report = selectors.after_sales_report(branch_ids=branch_ids, start=start, end=end)
        branches = list(Branch.objects.filter(pk__in=branch_ids).order_by("code"))
        query = request.GET.copy()
        query.pop("print", None)
        screen_url = f"{reverse('care:report')}?{query.urlencode()}"
        query["print"] = "1"
        context.update(
            sections=_sections(report, start, end, _Links(request.user, branch_query)),
            start=start,
            end=end,
            branches=branches,
            # The printed sheet's letterhead: the branch the report is for, when only one.
            branch=branches[0] if len(branches) == 1 else None,
            print_url=f"{reverse('care:report')}?{query.urlencode()}",
            screen_url=screen_url,
            printed_at=timezone.now(),
        )
        if request.GET.get("print"):
            context["layout"] = "print_base.html"
    return render(request, "care/report.html", context)


# --- Scheduled jobs ------------------------------------------------------------------------------

# Each entry of settings.CELERY_BEAT_SCHEDULE: the name its runs are recorded under
# (dealer_crm.jobs.recorded) and what it does, in a manager's words.
JOBS = {
    "purge-old-heartbeats": ("heartbeat_purge", gettext_lazy("Old heartbeats purged")),
    "purge-idempotency-records": (
        "idempotency_purge",
        gettext_lazy("Idempotency keys older than a day forgotten"),
    ),
    "lead-deadlines-check": (
        "lead_deadlines_check",
        gettext_lazy("Leads past their response deadline flagged"),
    ),
    "appointment-reminders": (
        "appointment_reminders",
        gettext_lazy("Advisors told of tomorrow's appointments"),
    ),
    "fleet-protections-lapse": (
        "protections_lapse",
        gettext_lazy("Fleet account protections lapsed"),
    ),
    "fleet-requests-overdue": (
        "requests_flag_overdue",
        gettext_lazy("Fleet requests undecided after 48 hours flagged"),
    ),
    "reorder-suggestions": ("reorder_suggestions", gettext_lazy("Parts reorder suggestions")),
    "archive-hourly": (
        "archive_hourly",
        gettext_lazy("Archive batches, rework and missing reports checked"),
    ),
    "archive-reconciliation": ("reconciliation", gettext_lazy("Archive reconciliation")),
    "archive-retention": ("retention", gettext_lazy("Archive retention: files sealed")),
    "follow-up-calls": ("follow_up_calls", gettext_lazy("Follow-up calls of the day made due")),
    "complaints-escalate": (
        "complaints_escalate",
        gettext_lazy("Overdue complaints escalated"),
    ),
    "customer-segments": ("segments", gettext_lazy("Customer segments recomputed")),
    "reminders": ("reminders", gettext_lazy("Reminders of the day made and sent")),
    "loyalty-points": (
        "loyalty_points",
        gettext_lazy("Loyalty points of deliveries and service visits credited"),
    ),
    "kpi-snapshots": ("kpi_snapshots", gettext_lazy("Yesterday's figures stored for dashboards")),
}
# The heartbeat proves beat and a worker run; it records beats, not runs.
HEARTBEAT = "heartbeat"
JOB_LABELS = {job: label for job, label in JOBS.values()}
RUNS_PER_PAGE = 50
RUN_BADGES = {JobStatus.RUNNING: "info", JobStatus.FINISHED: "success", JobStatus.FAILED: "danger"}
# A run still going after this long most likely lost its worker; the next run finishes its work.
STALLED_AFTER = timedelta(hours=1)


def schedule_in_words(schedule) -> str:
    """`crontab(hour=2, minute=30)` → "daily 02:30"; `crontab(minute=10)` → "hourly at :10";
    `crontab(minute="*/15")` → "every 15 minutes"; 60 (seconds) → "every 60 seconds"."""
    if isinstance(schedule, crontab):
        minutes, hours = sorted(schedule.minute), sorted(schedule.hour)
        every_day = (
            len(schedule.day_of_week) == 7
            and len(schedule.day_of_month) == 31
            and len(schedule.month_of_year) == 12
        )
        if every_day and len(minutes) == 1 and len(hours) == 1:
            return _("daily %(time)s") % {"time": f"{hours[0]:02d}:{minutes[0]:02d}"}
        if every_day and len(minutes) == 1 and len(hours) == 24:
            return _("hourly at :%(minute)s") % {"minute": f"{minutes[0]:02d}"}
        steps = {
            later - earlier
            for earlier, later in zip(minutes, [*minutes[1:], 60 + minutes[0]], strict=True)
        }
        if every_day and len(hours) == 24 and len(steps) == 1 and len(minutes) > 1:
            step = steps.pop()
            return ngettext("every %(n)s minute", "every %(n)s minutes", step) % {"n": step}
        return "cron: " + " ".join(
            str(part)
            for part in (
                schedule._orig_minute,
                schedule._orig_hour,
                schedule._orig_day_of_month,
                schedule._orig_month_of_year,
                schedule._orig_day_of_week,
            )
        )
    seconds = int(schedule.total_seconds() if isinstance(schedule, timedelta) else schedule)
    return ngettext("every %(n)s second", "every %(n)s seconds", seconds) % {"n": seconds}


def duration_in_words(run: JobRun) -> str:
    if run.finished_at is None:
        return NOTHING
    seconds = (run.finished_at - run.started_at).total_seconds()
    if seconds < 60:
        return _("%(seconds)s s") % {"seconds": f"{seconds:.1f}"}
    minutes, seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return _("%(minutes)s min %(seconds)s s") % {"minutes": minutes, "seconds": seconds}
    hours, minutes = divmod(minutes, 60)
    return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}


@dataclass
class Job:
    entry: str
    job: str
    label: str
    schedule: str
    last: JobRun | None


class RunsForm(BootstrapFormMixin, forms.Form):
    """Which job's runs the table lists, and where the page starts (`before` / `after` a run,
    newest first): the runs grow without end, so pages step by run instead of counting."""

    job = forms.ChoiceField(label=gettext_lazy("Job"), required=False)
    before = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    after = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, jobs: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["job"].choices = [("", gettext_lazy("All jobs")), *jobs]


def _mark(run: JobRun, now) -> JobRun:
    run.label = JOB_LABELS.get(run.job, run.job)
    run.duration = duration_in_words(run)
    run.stalled = run.status == JobStatus.RUNNING and run.started_at < now - STALLED_AFTER
    run.badge = "warning" if run.stalled else RUN_BADGES[run.status]
    return run


def _runs_page(form: RunsForm) -> tuple[list[JobRun], int | None, int | None]:
    """A page of runs newest first, and the runs the older and newer pages step from."""
    runs = JobRun.objects.order_by("-pk")
    data = form.cleaned_data if form.is_valid() else {}
    if data.get("job"):
        runs = runs.filter(job=data["job"])
    if data.get("after") is not None:
        page = list(runs.filter(pk__gt=data["after"]).order_by("pk")[: RUNS_PER_PAGE + 1])
        newer = page[RUNS_PER_PAGE - 1].pk if len(page) > RUNS_PER_PAGE else None
        page = page[:RUNS_PER_PAGE][::-1]
        older = page[-1].pk if page else None
        return page, older, newer
    if data.get("before"):
        runs = runs.filter(pk__lt=data["before"])
    page = list(runs[: RUNS_PER_PAGE + 1])
    older = page[RUNS_PER_PAGE - 1].pk if len(page) > RUNS_PER_PAGE else None
    page = page[:RUNS_PER_PAGE]
    newer = page[0].pk if page and data.get("before") else None
    return page, older, newer


@login_required
@permission_required("dealer_crm.view_jobrun", raise_exception=True)
def operations_page(request):
    now = timezone.now()
    latest = {
        run.job: _mark(run, now)
        for run in JobRun.objects.order_by("job", "-started_at", "-pk").distinct("job")
    }
    jobs = []
    for entry, declared in settings.CELERY_BEAT_SCHEDULE.items():
        if entry == HEARTBEAT:
            continue
        job, label = JOBS.get(entry, (entry, entry))
        jobs.append(
            Job(entry, job, label, schedule_in_words(declared["schedule"]), latest.get(job))
        )
    # Runs recorded under a name no longer scheduled (or started by hand) are listed too.
    known = {job.job for job in jobs}
    jobs += [
        Job("", name, run.label, _("not scheduled"), run)
        for name, run in sorted(latest.items())
        if name not in known
    ]
    form = RunsForm(request.GET or None, jobs=[(job.job, job.label) for job in jobs])
    runs, older, newer = _runs_page(form)
    query = (
        {"job": form.cleaned_data["job"]} if form.is_valid() and form.cleaned_data["job"] else {}
    )
    heartbeat = Heartbeat.objects.order_by("-beat_at").first()
    heartbeat_every = timedelta(seconds=settings.HEARTBEAT_SECONDS)
    return render(
        request,
        "care/operations.html",
        {
            "jobs": jobs,
            "form": form,
            "runs": [_mark(run, now) for run in runs],
            "older_url": f"?{urlencode({**query, 'before': older})}" if older else "",
            "newer_url": f"?{urlencode({**query, 'after': newer})}" if newer else "",
            "newest_url": f"?{urlencode(query)}" if newer else "",
            "heartbeat": heartbeat,
            "heartbeat_schedule": schedule_in_words(heartbeat_every),
            # Beat or the workers are down when three beats in a row are missing.
            "heartbeat_late": heartbeat is None or heartbeat.beat_at < now - 3 * heartbeat_every,
        },
    )
