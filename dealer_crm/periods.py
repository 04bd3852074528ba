"""Calendar days as the dealership lives them: Asia/Shanghai, whatever time zone is active."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils.translation import gettext_lazy as _

LOCAL_TIME_ZONE = ZoneInfo(settings.TIME_ZONE)


def local_day_start(day: date) -> datetime:
    """The moment a calendar day starts in Asia/Shanghai, whatever time zone is active.

    Periods compare created_at against these bounds rather than `created_at__date`, so the
    (branch, -created_at) index serves them.
    """
    return datetime.combine(day, time.min, tzinfo=LOCAL_TIME_ZONE)


def local_day_end(day: date) -> datetime:
    """The moment after a calendar day ends in Asia/Shanghai (the next day's start); for the
    last day a calendar has, its last moment."""
    if day == date.max:
        return datetime.combine(day, time.max, tzinfo=LOCAL_TIME_ZONE)
    return local_day_start(day + timedelta(days=1))


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter (31 Jan + 1
    month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    next_month = date(year + month // 12, month % 12 + 1, 1)
    return min(day.replace(year=year, month=month, day=1) + timedelta(days=day.day - 1),
               next_month - timedelta(days=1))  # fmt: skip


# --- The periods figures pages offer ---------------------------------------------------------

PERIODS = [
    ("this_month", _("This month")),
    ("last_month", _("Last month")),
    ("this_year", _("This year")),
    ("custom", _("Custom")),
]
PRESET_PERIODS = [key for key, _label in PERIODS if key != "custom"]
# A longer custom period is most likely a typing slip (2205 for 2025).
MAX_PERIOD_DAYS = 5 * 366


def period_bounds(period: str, today: date) -> tuple[date, date]:
    """The first and last day a preset period stands for; a period in progress ends today."""
    month_start = today.replace(day=1)
    if period == "last_month":
        start = month_start - relativedelta(months=1)
        return start, month_start - timedelta(days=1)
    if period == "last_90_days":
        return today - timedelta(days=89), today
    if period == "this_year":
        return today.replace(month=1, day=1), today
    return month_start, today
