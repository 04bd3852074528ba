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
