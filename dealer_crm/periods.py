"""Calendar days as the dealership lives them: Asia/Shanghai, whatever time zone is active."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

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
