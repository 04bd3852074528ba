"""The figures managers read (DOMAIN §8), each defined once: the registry, the nightly
snapshots and the reading of a period's values.

Every app registers its figures in its own `kpis.py` (`register(Kpi(...))`); the registry
finds those modules the first time it is asked. A figure's `measure(scope)` is the one
computation of it in the whole codebase: it returns, per (person, breakdown key), a numerator
and a denominator (None for a plain count or sum) of the scope's branches and days. The
nightly job stores a day's numbers in `KpiSnapshot`; a period's value adds the days up (a
flow: Σ numerator ÷ Σ denominator) or takes its last day's (a level: a stock at a day's end),
or combines the two (turnover: what was used ÷ the average stock). Past days are read from
the snapshots only; today's numbers are computed live.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import Role
from .figures import ratio
from .models import Branch, KpiSnapshot, KpiTarget
from .periods import (
    LOCAL_TIME_ZONE,
    PRESET_PERIODS,
    add_months,
    local_day_end,
    local_day_start,
    period_bounds,
)

ZERO = Decimal("0")


class Unit(models.TextChoices):
    COUNT = "count", pgettext_lazy("unit of a figure", "count")
    PERCENT = "percent", _("percent (a share from 0 to 1)")
    CNY = "cny", _("CNY")
    HOURS = "hours", _("hours")
    DAYS = "days", pgettext_lazy("unit of a figure", "days")
    SCORE = "score", _("score (0–100)")
    TIMES = "times", _("times in the period")


class Direction(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    LOWER = "lower", _("Lower is better")
    NEUTRAL = "neutral", _("Neither: read it in context")


class Area(models.TextChoices):
    SALES = "sales", pgettext_lazy("area of figures", "Sales")
    SERVICE = "service", pgettext_lazy("area of figures", "Service")
    CUSTOMERS = "customers", pgettext_lazy("area of figures", "Customers")
    PARTS = "parts", pgettext_lazy("area of figures", "Parts")
    FLEET = "fleet", pgettext_lazy("area of figures", "Fleet")
    ARCHIVES = "archives", pgettext_lazy("area of figures", "Archives")
    NETWORK = "network", pgettext_lazy("area of figures", "Network")


class Over(models.TextChoices):
    """How a period takes its days' numbers."""

    SUM = "sum", _("the days added up")
    LAST = "last", _("the last day's")
    AVERAGE = "average", _("the daily average")


@dataclass(frozen=True)
class Aggregation:
    numerator: str
    denominator: str

    @property
    def code(self) -> str:
        if self == FLOW:
            return "flow"
        if self == LEVEL:
            return "level"
        return f"{self.numerator}/{self.denominator}"

    @property
    def label(self) -> str:
        if self == FLOW:
            return _("Flow: the period's days added up")
        if self == LEVEL:
            return _("Level: the period's last day")
        return _("Numerator: %(numerator)s; denominator: %(denominator)s") % {
            "numerator": Over(self.numerator).label,
            "denominator": Over(self.denominator).label,
        }


FLOW = Aggregation(Over.SUM, Over.SUM)
LEVEL = Aggregation(Over.LAST, Over.LAST)


@dataclass(frozen=True)
class Measure:
    """A figure's numbers: its value is numerator ÷ denominator, or the numerator alone when
    the denominator is None (a count or a sum)."""

    numerator: Decimal
    denominator: Decimal | None = None

    def __post_init__(self):
        object.__setattr__(self, "numerator", Decimal(self.numerator or 0))
        if self.denominator is not None:
            object.__setattr__(self, "denominator", Decimal(self.denominator))

    def __add__(self, other: Measure) -> Measure:
        if self.denominator is None and other.denominator is None:
            return Measure(self.numerator + other.numerator)
        return Measure(
            self.numerator + other.numerator,
            (self.denominator or ZERO) + (other.denominator or ZERO),
        )


@dataclass(frozen=True)
class Scope:
    """What a figure is measured over: branches, Shanghai days from `start` to `end` (both
    included), one person's records (`person_id`) or every person's apart (`by_person`)."""

    branch_ids: tuple[int, ...]
    start: date
    end: date
    person_id: int | None = None
    by_person: bool = False

    @property
    def since(self):
        return local_day_start(self.start)

    @property
    def until(self):
        return local_day_end(self.end)

    @property
    def moment(self):
        """The end of the scope, or now while its last day lasts: a level's moment."""
        return min(self.until, timezone.now())


# (person id or None, breakdown key or "") → the numbers.
Values = dict[tuple[int | None, str], Measure]


def records_link(
    route: str,
    scope: Scope,
    *query: tuple[str, str],
    period: str = "",
    person: str = "",
    branch: bool = True,
) -> str:
    """A figure's `records`: the list page `route` filtered by `query`, the scope's days by
    the list's `<period>_after` / `<period>_before` filters, the scope's branch when it has
    one (and the list has a `branch` filter) and, by the `person` parameter, the scope's
    person when it has one."""
    if period:
        query += (
            (f"{period}_after", scope.start.isoformat()),
            (f"{period}_before", scope.end.isoformat()),
        )
    one_branch = branch and len(scope.branch_ids) == 1
    query += (("branch", str(scope.branch_ids[0])),) if one_branch else ()
    query += ((person, str(scope.person_id)),) if person and scope.person_id else ()
    return f"{reverse(route)}?{urlencode(query)}"


@dataclass(frozen=True)
class Kpi:
    """One figure: what it means, how a period takes its days, who may read it, and the
    function that measures it (None while the records it needs do not exist)."""

    code: str
    name: Promise
    definition: Promise
    unit: str
    direction: str
    area: str
    app: str
    # The permission to read the branch's and the group's values.
    permission: str
    measure: Callable[[Scope], Values] | None
    aggregation: Aggregation = FLOW
    # Whose values it also has, one per person (the roles of those people), and the
    # permission to read one's own.
    person_roles: tuple[str, ...] = ()
    own_permission: str = ""
    # Monthly targets are set for it (deliveries, entries, revenue per entry, completeness).
    targets: bool = False
    goal: Decimal | None = None
    # What its breakdown keys are (a source, a reason…), and their labels where they are fixed.
    breakdown: Promise | None = None
    key_labels: Callable[[], dict[str, str]] | None = None
    # A value that is no ratio of sums (the satisfaction index): made from the breakdown.
    combine: Callable[[dict[str, Measure]], Decimal | None] | None = None
    # A day's numbers keep changing for this many days (a cohort: the leads of a day that are
    # verified by now): the nightly job computes them again.
    restate_days: int = 0
    # The records tell its value on a past day; else only the nightly job records it (a state
    # the records do not date, such as the customers' segments now).
    history: bool = True
    # Computed live for today; else a period ending today takes last night's value.
    live: bool = True
    places: str = "0.001"
    # The page listing the records behind a value: the app's list URL filtered to the scope
    # (its branch, days and person), or None where no list shows them.
    records: Callable[[Scope], str] | None = None

    def records_url(self, scope: Scope) -> str:
        return self.records(scope) if self.records else ""

    @property
    def measured(self) -> bool:
        return self.measure is not None

    @property
    def per_person(self) -> bool:
        return bool(self.person_roles)

    @property
    def person_roles_label(self) -> str:
        return ", ".join(str(Role(role).label) for role in self.person_roles)

    def value(self, numbers: Measure | None) -> Decimal | None:
        if numbers is None:
            return None
        if numbers.denominator is None:
            return numbers.numerator.quantize(Decimal(self.places))
        return ratio(numbers.numerator, numbers.denominator, self.places)

    def readable_by(self, user, *, own: bool = False) -> bool:
        """May `user` read this figure: the branches' values, or (own) their own values."""
        if user.has_perm(self.permission):
            return True
        return bool(own and self.per_person and self.own_permission) and user.has_perm(
            self.own_permission
        )


# --- The registry ------------------------------------------------------------------------------

_registry: dict[str, Kpi] = {}
_discovered = threading.Event()
_discovering = threading.Lock()


def register(*kpis: Kpi) -> None:
    for kpi in kpis:
        if kpi.code in _registry and _registry[kpi.code] != kpi:
            raise ValueError(f"Figure {kpi.code!r} is registered twice")
        _registry[kpi.code] = kpi


def kpi_registry() -> dict[str, Kpi]:
    """Every figure by code, in the order of DOMAIN §8's areas, each app's in its order."""
    if not _discovered.is_set():
        with _discovering:
            if not _discovered.is_set():
                autodiscover_modules("kpis")
                _discovered.set()
    areas = list(Area.values)
    return dict(sorted(_registry.items(), key=lambda item: areas.index(item[1].area)))


def kpi_get(code: str) -> Kpi:
    return kpi_registry()[code]


# --- Measuring ---------------------------------------------------------------------------------


def tally(
    queryset: QuerySet,
    scope: Scope,
    *,
    numerator,
    denominator=None,
    person: str | None = None,
    key: str | None = None,
) -> Values:
    """A figure's numbers from one aggregate query: `numerator` and `denominator` are
    aggregates, `person` the path to the person the figure is per, `key` the breakdown's field.
    The figure itself is the sum of its keys' numbers (a breakdown that partitions it)."""
    zero = Measure(ZERO, None if denominator is None else ZERO)
    values: Values = {(None, ""): zero}
    if scope.person_id is not None:
        if person is None:
            return values
        queryset = queryset.filter(**{person: scope.person_id})
    group = ([person] if scope.by_person and person else []) + ([key] if key else [])
    aggregates = {"n": numerator} | ({} if denominator is None else {"d": denominator})
    rows = (
        queryset.order_by().values(*group).annotate(**aggregates)
        if group
        else [queryset.aggregate(**aggregates)]
    )
    for row in rows:
        who = row[person] if scope.by_person and person else None
        numbers = Measure(
            Decimal(row["n"] or 0), None if denominator is None else Decimal(row["d"] or 0)
        )
        for slot in {"", str(row[key])} if key else {""}:
            values[(who, slot)] = values.get((who, slot), zero) + numbers
    return values


def one_value(numbers: Measure, breakdown: dict[str, Measure] | None = None) -> Values:
    """The numbers of a figure without persons, and its breakdown keys' (if any)."""
    return {(None, ""): numbers} | {(None, key): m for key, m in (breakdown or {}).items()}


# --- Snapshots ---------------------------------------------------------------------------------

# pg_advisory_xact_lock's class for "a branch's figures are being written".
SNAPSHOT_LOCK = 7_301


def _computable(kpi: Kpi, day: date, today: date) -> bool:
    """A state the records do not date is taken only for yesterday or today."""
    return kpi.measure is not None and (kpi.history or day >= today - timedelta(days=1))


def kpi_snapshots_compute(
    *,
    day: date,
    branch: Branch | int,
    codes: Iterable[str] | None = None,
    today: date | None = None,
) -> int:
    """Compute the figures (all, or `codes`) of one day of one branch, and replace that day's
    rows of them in one transaction: a rerun writes the same rows again. Returns the rows."""
    today = today or timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
    branch_id = branch if isinstance(branch, int) else branch.pk
    wanted = None if codes is None else set(codes)
    kpis = [
        kpi
        for kpi in kpi_registry().values()
        if (wanted is None or kpi.code in wanted) and _computable(kpi, day, today)
    ]
    people = _people_by_role(branch_id, {role for kpi in kpis for role in kpi.person_roles})
    rows: list[KpiSnapshot] = []
    for kpi in kpis:
        values = kpi.measure(Scope((branch_id,), day, day, by_person=kpi.per_person))
        totals: dict[str, Measure] = {}
        for (person, key), numbers in values.items():
            # The branch's numbers are its people's added up, the unassigned records included.
            totals[key] = totals[key] + numbers if key in totals else numbers
            if person is not None:
                rows.append(_snapshot(day, branch_id, person, kpi.code, key, numbers))
        # Everyone of the role has a row, so a missing row means "not computed", never zero.
        zero = Measure(ZERO, None if totals[""].denominator is None else ZERO)
        staff = set().union(*(people.get(role, set()) for role in kpi.person_roles))
        for person in staff - {p for p, _k in values if p}:
            rows.append(_snapshot(day, branch_id, person, kpi.code, "", zero))
        rows += [_snapshot(day, branch_id, None, kpi.code, key, m) for key, m in totals.items()]
    with transaction.atomic():
        with connection.cursor() as cursor:  # one writer of a branch's figures at a time
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [SNAPSHOT_LOCK, branch_id])
        KpiSnapshot.objects.filter(
            day=day, branch_id=branch_id, code__in=[kpi.code for kpi in kpis]
        ).delete()
        KpiSnapshot.objects.bulk_create(rows)
    return len(rows)


def _people_by_role(branch_id: int, roles: set[str]) -> dict[str, set[int]]:
    """The active staff of the branch holding each role."""
    if not roles:
        return {}
    people: dict[str, set[int]] = defaultdict(set)
    for user_id, role in User.objects.filter(
        is_active=True, staff__branches=branch_id, groups__name__in=roles
    ).values_list("pk", "groups__name"):
        people[role].add(user_id)
    return people


def _snapshot(day, branch_id, person_id, code, key, numbers: Measure) -> KpiSnapshot:
    return KpiSnapshot(
        day=day, branch_id=branch_id, person_id=person_id, code=code, key=key,
        numerator=numbers.numerator, denominator=numbers.denominator,
    )  # fmt: skip


def kpi_snapshots_nightly(*, today: date | None = None, branch_ids=None) -> dict[str, int]:
    """Yesterday's figures of every active branch, and the days that the figures still
    changing (cohorts) restate. Each (branch, day) is its own transaction: a stopped run
    loses at most one, and a rerun completes it. Returns the rows written per branch."""
    today = today or timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
    yesterday = today - timedelta(days=1)
    restating = [kpi for kpi in kpi_registry().values() if kpi.restate_days and kpi.measure]
    deepest = max((kpi.restate_days for kpi in restating), default=0)
    branches = Branch.objects.filter(is_active=True).order_by("code")
    if branch_ids is not None:
        branches = branches.filter(pk__in=branch_ids)
    written = {}
    for branch in branches:
        rows = kpi_snapshots_compute(day=yesterday, branch=branch, today=today)
        for back in range(1, deepest + 1):
            codes = [kpi.code for kpi in restating if kpi.restate_days >= back]
            rows += kpi_snapshots_compute(
                day=yesterday - timedelta(days=back), branch=branch, codes=codes, today=today
            )
        written[branch.code] = rows
    return written


def kpi_snapshots_backfill(
    *, start: date, end: date, branches: Iterable[Branch], progress: Callable | None = None
) -> int:
    """Compute every figure the records can tell for each day from `start` to `end` (both
    included) and each branch: the history before the nightly job ran, or after a fix."""
    today = timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
    total = 0
    day = start
    while day <= end:
        for branch in branches:
            rows = kpi_snapshots_compute(day=day, branch=branch, today=today)
            total += rows
            if progress:
                progress(day, branch, rows)
        day += timedelta(days=1)
    return total


# --- Periods -----------------------------------------------------------------------------------

PERIOD_UNITS = ["day", "week", "month", "year"]
KPI_PERIODS = PERIOD_UNITS + PRESET_PERIODS + ["custom"]


def kpi_period(period: str, on: date, today: date) -> tuple[date, date]:
    """The first and last day of the day, week (Monday to Sunday), month or year holding `on`,
    or of a preset period of dealer_crm.periods counted from `on`; a period in progress ends
    today."""
    if period == "day":
        start, end = on, on
    elif period == "week":
        start = on - timedelta(days=on.weekday())
        end = start + timedelta(days=6)
    elif period == "month":
        start = on.replace(day=1)
        end = add_months(start, 1) - timedelta(days=1)
    elif period == "year":
        start, end = on.replace(month=1, day=1), on.replace(month=12, day=31)
    else:
        start, end = period_bounds(period, on)
    return start, min(end, today)


def same_period_last_year(start: date, end: date) -> tuple[date, date]:
    return add_months(start, -12), add_months(end, -12)


# --- Reading -----------------------------------------------------------------------------------


@dataclass
class Figure:
    """A figure's value over a period with its numbers, and its breakdown's."""

    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    breakdown: dict[str, Figure] = field(default_factory=dict)


@dataclass
class KpiReading:
    kpi: Kpi
    start: date
    end: date
    current: Figure
    previous: Figure
    previous_start: date
    previous_end: date
    target: Decimal | None = None

    @property
    def attainment(self) -> Decimal | None:
        if self.target is None or self.current.value is None:
            return None
        return ratio(self.current.value, self.target)


@dataclass
class _Days:
    """A period's numbers of one figure and key: summed over its days, and its last day's."""

    sum_n: Decimal = ZERO
    sum_d: Decimal | None = None
    last_n: Decimal | None = None
    last_d: Decimal | None = None

    def add(self, n, d) -> None:
        self.sum_n += n or ZERO
        if d is not None:
            self.sum_d = (self.sum_d or ZERO) + d


def _snapshot_days(
    kpis: list[Kpi], branch_ids, person_id, start: date, last: date
) -> dict[str, dict[str, _Days]]:
    """One query: each figure's and key's snapshot numbers from `start` to `last`."""
    found: dict[str, dict[str, _Days]] = defaultdict(dict)
    if start > last or not kpis:
        return found
    person = {"person_id": person_id} if person_id is not None else {"person__isnull": True}
    rows = (
        KpiSnapshot.objects.filter(
            code__in=[kpi.code for kpi in kpis],
            branch_id__in=branch_ids,
            day__gte=start,
            day__lte=last,
            **person,
        )
        .order_by()
        .values("code", "key")
        .annotate(
            n=Sum("numerator"),
            d=Sum("denominator"),
            last_n=Sum("numerator", filter=Q(day=last)),
            last_d=Sum("denominator", filter=Q(day=last)),
        )
    )
    for row in rows:
        found[row["code"]][row["key"]] = _Days(row["n"], row["d"], row["last_n"], row["last_d"])
    return found


def _over(how: str, sum_part, last_part, days: int, denominator: bool):
    if how == Over.LAST:
        return last_part
    if how == Over.AVERAGE:
        return None if sum_part is None or not days else sum_part / days
    return ZERO if sum_part is None and not denominator else sum_part


def _figure(kpi: Kpi, days: dict[str, _Days], counted_days: int) -> Figure:
    breakdown = {}
    measures = {}
    for key, numbers in days.items():
        how = kpi.aggregation
        n = _over(how.numerator, numbers.sum_n, numbers.last_n, counted_days, False)
        d = _over(how.denominator, numbers.sum_d, numbers.last_d, counted_days, True)
        if n is None:
            figure = Figure(None, None, None)
        else:
            measure = Measure(n, d)
            measures[key] = measure
            figure = Figure(kpi.value(measure), n, d)
        if key:
            breakdown[key] = figure
        else:
            main = figure
    if "" not in days:
        main = Figure(None, None, None)
    if kpi.combine is not None:
        main.value = kpi.combine({key: m for key, m in measures.items() if key})
    main.breakdown = breakdown
    return main


def _period_figures(kpis, branch_ids, person_id, start, end, today) -> dict[str, Figure]:
    """Each figure over a period: the past days from the snapshots, today live."""
    last_past = min(end, today - timedelta(days=1))
    snapshots = _snapshot_days(kpis, branch_ids, person_id, start, last_past)
    past_days = max((last_past - start).days + 1, 0)
    figures = {}
    for kpi in kpis:
        if kpi.measure is None or (person_id is not None and not kpi.per_person):
            figures[kpi.code] = Figure(None, None, None)  # not measured, or not per person
            continue
        days = snapshots.get(kpi.code, {})
        live = end >= today and kpi.live
        if live:
            scope = Scope(tuple(branch_ids), today, today, person_id=person_id)
            for (_person, key), numbers in kpi.measure(scope).items():
                slot = days.setdefault(key, _Days())
                slot.add(numbers.numerator, numbers.denominator)
                slot.last_n, slot.last_d = numbers.numerator, numbers.denominator
        figures[kpi.code] = _figure(kpi, days, past_days + (1 if live else 0))
    return figures


def _targets(kpis, branch_ids, person_id, start, end) -> dict[str, Decimal]:
    """The month's targets, when the period is one month (or its days so far): a count's of
    several branches add up, a rate's only of one branch."""
    month = start.replace(day=1)
    with_targets = [kpi.code for kpi in kpis if kpi.targets]
    if start != month or end >= add_months(month, 1) or not with_targets:
        return {}
    person = {"person_id": person_id} if person_id is not None else {"person__isnull": True}
    rows = (
        KpiTarget.objects.filter(
            code__in=with_targets, branch_id__in=branch_ids, month=month, **person
        )
        .order_by()
        .values("code")
        .annotate(total=Sum("value"), branches=models.Count("branch", distinct=True))
    )
    units = {kpi.code: kpi.unit for kpi in kpis}
    return {
        row["code"]: row["total"]
        for row in rows
        if units[row["code"]] == Unit.COUNT or (row["branches"] == 1 and len(branch_ids) == 1)
    }


def kpi_values(
    codes: Iterable[str],
    branch_ids: Iterable[int],
    start: date,
    end: date,
    person_id: int | None = None,
    today: date | None = None,
) -> dict[str, KpiReading]:
    """The figures over the branches and the period (both days included; a period ends today
    at the latest), of one person's records when `person_id` is given, with the same period
    last year and the month's target. Past days come from the snapshots, today is computed
    live: two snapshot queries, one for targets and today's live queries, whatever the
    period's length or the records' number."""
    today = today or timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
    end = min(end, today)
    registry = kpi_registry()
    kpis = [registry[code] for code in codes]
    branch_ids = list(branch_ids)
    current = _period_figures(kpis, branch_ids, person_id, start, end, today)
    previous_start, previous_end = same_period_last_year(start, end)
    previous = _period_figures(kpis, branch_ids, person_id, previous_start, previous_end, today)
    targets = _targets(kpis, branch_ids, person_id, start, end)
    return {
        kpi.code: KpiReading(
            kpi=kpi,
            start=start,
            end=end,
            current=current[kpi.code],
            previous=previous[kpi.code],
            previous_start=previous_start,
            previous_end=previous_end,
            target=targets.get(kpi.code),
        )
        for kpi in kpis
    }


# --- The network (DOMAIN §8): no regions or outlets are recorded yet ----------------------------

NETWORK = {
    "area": Area.NETWORK,
    "app": "dealer_crm",
    "permission": "dealer_crm.view_branch",
    "measure": None,
    "aggregation": LEVEL,
}

register(
    Kpi(
        code="network.channel_ratio",
        name=_("Channel ratio"),
        definition=_(
            "Per region: own outlets ÷ (own outlets + competitors' outlets), at the period's end."
        ),
        unit=Unit.PERCENT,
        direction=Direction.HIGHER,
        **NETWORK,
    ),
    Kpi(
        code="network.new_outlet_rate",
        name=_("New-outlet rate"),
        definition=_("Per region: own outlets now ÷ own outlets a year before."),
        unit=Unit.PERCENT,
        direction=Direction.HIGHER,
        **NETWORK,
    ),
    Kpi(
        code="network.key_dealer_ratio",
        name=_("Key-dealer ratio"),
        # xgettext:no-python-format
        definition=_("Per region: key outlets ÷ own outlets; 30–40% is healthy."),
        unit=Unit.PERCENT,
        direction=Direction.NEUTRAL,
        **NETWORK,
    ),
    Kpi(
        code="network.key_region_coverage",
        name=_("Key-region coverage"),
        definition=_("Outlets in key regions ÷ key regions."),
        unit=Unit.PERCENT,
        direction=Direction.HIGHER,
        **NETWORK,
    ),
)


# --- Reading for the dashboards: closed days, several branches, series, persons ----------------


def closed_end(end: date, today: date | None = None) -> date:
    """The last day of a period the nightly job has closed: yesterday at the latest."""
    today = today or timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
    return min(end, today - timedelta(days=1))


def _grouped_days(kpis: list[Kpi], branch_ids, start: date, last: date, by: str, person=None):
    """One query: each figure's and key's snapshot numbers from `start` to `last`, apart per
    `by` (branch_id or person_id); `person` None reads the branches' rows, "any" the persons'."""
    found: dict = defaultdict(lambda: defaultdict(dict))
    if start > last or not kpis:
        return found
    persons = {"person__isnull": person is None}
    rows = (
        KpiSnapshot.objects.filter(
            code__in=[kpi.code for kpi in kpis],
            branch_id__in=list(branch_ids),
            day__gte=start,
            day__lte=last,
            **persons,
        )
        .order_by()
        .values(by, "code", "key")
        .annotate(
            n=Sum("numerator"),
            d=Sum("denominator"),
            last_n=Sum("numerator", filter=Q(day=last)),
            last_d=Sum("denominator", filter=Q(day=last)),
        )
    )
    for row in rows:
        found[row[by]][row["code"]][row["key"]] = _Days(
            row["n"], row["d"], row["last_n"], row["last_d"]
        )
    return found


def _added(parts: Iterable[dict[str, dict[str, _Days]]]) -> dict[str, dict[str, _Days]]:
    """Several branches' numbers as one: sums and last days added up."""
    total: dict[str, dict[str, _Days]] = defaultdict(dict)
    for part in parts:
        for code, keys in part.items():
            for key, days in keys.items():
                slot = total[code].setdefault(key, _Days(last_n=None, last_d=None))
                slot.add(days.sum_n, days.sum_d)
                if days.last_n is not None:
                    slot.last_n = (slot.last_n or ZERO) + days.last_n
                if days.last_d is not None:
                    slot.last_d = (slot.last_d or ZERO) + days.last_d
    return total


def _closed_figures(kpis, days_by_code, start, last) -> dict[str, Figure]:
    counted = max((last - start).days + 1, 0)
    return {
        kpi.code: (
            _figure(kpi, days_by_code.get(kpi.code, {}), counted)
            if kpi.measure is not None
            else Figure(None, None, None)
        )
        for kpi in kpis
    }


def kpi_values_by_branch(
    codes: Iterable[str],
    branch_ids: Iterable[int],
    start: date,
    end: date,
    today: date | None = None,
) -> tuple[dict[int, dict[str, KpiReading]], dict[str, KpiReading]]:
    """The figures of each branch and of the branches together over the period's closed days
    (to yesterday; a dashboard reads the nightly snapshots only), with the same days last year
    and the month's targets: three queries whatever the branches or the period's length.
    Returns ({branch id: {code: reading}}, {code: the branches' total reading})."""
    today = today or timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
    end = closed_end(end, today)
    registry = kpi_registry()
    kpis = [registry[code] for code in codes]
    branch_ids = list(branch_ids)
    previous_start, previous_end = same_period_last_year(start, end)
    current = _grouped_days(kpis, branch_ids, start, end, "branch_id")
    previous = _grouped_days(kpis, branch_ids, previous_start, previous_end, "branch_id")
    targets: dict[int, dict[str, Decimal]] = defaultdict(dict)
    month = start.replace(day=1)
    with_targets = [kpi.code for kpi in kpis if kpi.targets]
    if start == month and end < add_months(month, 1) and with_targets and start <= end:
        for target in KpiTarget.objects.filter(
            code__in=with_targets, branch_id__in=branch_ids, month=month, person__isnull=True
        ).values("branch_id", "code", "value"):
            targets[target["branch_id"]][target["code"]] = target["value"]

    def readings(now, before, goals) -> dict[str, KpiReading]:
        figures = _closed_figures(kpis, now, start, end)
        earlier = _closed_figures(kpis, before, previous_start, previous_end)
        return {
            kpi.code: KpiReading(
                kpi=kpi, start=start, end=end, current=figures[kpi.code],
                previous=earlier[kpi.code], previous_start=previous_start,
                previous_end=previous_end, target=goals.get(kpi.code),
            )
            for kpi in kpis
        }  # fmt: skip

    by_branch = {
        branch_id: readings(current.get(branch_id, {}), previous.get(branch_id, {}),
                            targets.get(branch_id, {}))
        for branch_id in branch_ids
    }  # fmt: skip
    # The group's target: a count's add up over the branches that have one each; a rate's
    # only when there is one branch.
    group_targets = {}
    for kpi in kpis:
        values = [targets[b][kpi.code] for b in branch_ids if kpi.code in targets.get(b, {})]
        if values and (
            len(branch_ids) == 1 or (kpi.unit == Unit.COUNT and len(values) == len(branch_ids))
        ):
            group_targets[kpi.code] = sum(values, ZERO)
    total = readings(
        _added(current[b] for b in branch_ids if b in current),
        _added(previous[b] for b in branch_ids if b in previous),
        group_targets,
    )
    return by_branch, total


def kpi_by_person(
    codes: Iterable[str], branch_ids: Iterable[int], start: date, end: date, today=None
) -> dict[str, dict[int, Figure]]:
    """Each per-person figure's value per person over the period's closed days: one query."""
    today = today or timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
    end = closed_end(end, today)
    registry = kpi_registry()
    kpis = [registry[code] for code in codes if registry[code].per_person]
    rows = _grouped_days(kpis, branch_ids, start, end, "person_id", person="any")
    values: dict[str, dict[int, Figure]] = defaultdict(dict)
    for person_id, by_code in rows.items():
        for kpi, figure in _closed_figures(kpis, by_code, start, end).items():
            if figure.value is not None:
                values[kpi][person_id] = figure
    return values


def kpi_series(
    codes: Iterable[str],
    branch_ids: Iterable[int],
    months: list[date],
    today: date | None = None,
) -> dict[str, list[Decimal | None]]:
    """Each figure's value per month (first days in `months`; a month in progress to
    yesterday) over the branches, from the snapshots in one query; None where no day of the
    month has been computed."""
    today = today or timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
    registry = kpi_registry()
    kpis = [registry[code] for code in codes]
    series: dict[str, list[Decimal | None]] = {kpi.code: [None] * len(months) for kpi in kpis}
    spans = [
        (month, closed_end(add_months(month, 1) - timedelta(days=1), today)) for month in months
    ]
    spans = [(first, last) for first, last in spans if first <= last]
    if not kpis or not spans:
        return series
    rows = (
        KpiSnapshot.objects.filter(
            code__in=[kpi.code for kpi in kpis],
            branch_id__in=list(branch_ids),
            person__isnull=True,
            day__gte=min(first for first, _last in spans),
            day__lte=max(last for _first, last in spans),
        )
        .annotate(month=TruncMonth("day"))
        .order_by()
        .values("month", "code", "key")
        .annotate(
            n=Sum("numerator"),
            d=Sum("denominator"),
            last_n=Sum("numerator", filter=Q(day__in=[last for _first, last in spans])),
            last_d=Sum("denominator", filter=Q(day__in=[last for _first, last in spans])),
        )
    )
    found: dict = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        month = row["month"]
        month = month.date() if hasattr(month, "date") else month
        found[month][row["code"]][row["key"]] = _Days(
            row["n"], row["d"], row["last_n"], row["last_d"]
        )
    index = {month: position for position, month in enumerate(months)}
    for first, last in spans:
        if first not in found:
            continue
        for code, figure in _closed_figures(kpis, found[first], first, last).items():
            series[code][index[first]] = figure.value
    return series
