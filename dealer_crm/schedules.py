"""Schedules are declared in code (settings.CELERY_BEAT_SCHEDULE); this copies them into
django-celery-beat's tables, which beat reads. Rows keep the declared names, the same names
django-celery-beat's scheduler itself uses, so nothing runs twice. Rows this sync made but the
code no longer declares are removed; tasks made by hand in the admin are left alone."""

import json
from datetime import timedelta

from celery.schedules import crontab
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

MANAGED_DESCRIPTION = "Declared in code: settings.CELERY_BEAT_SCHEDULE"


def _schedule_fields(schedule) -> dict:
    if isinstance(schedule, crontab):
        cron, _ = CrontabSchedule.objects.get_or_create(
            minute=schedule._orig_minute,
            hour=schedule._orig_hour,
            day_of_week=schedule._orig_day_of_week,
            day_of_month=schedule._orig_day_of_month,
            month_of_year=schedule._orig_month_of_year,
            timezone="Asia/Shanghai",
        )
        return {"crontab": cron, "interval": None}
    seconds = schedule.total_seconds() if isinstance(schedule, timedelta) else float(schedule)
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=int(seconds), period=IntervalSchedule.SECONDS
    )
    return {"interval": interval, "crontab": None}


def schedules_sync(declared: dict) -> tuple[int, int, int]:
    created = updated = 0
    names = []
    for key, entry in declared.items():
        name = key
        names.append(name)
        defaults = {
            "description": MANAGED_DESCRIPTION,
            "task": entry["task"],
            "args": json.dumps(list(entry.get("args", []))),
            "kwargs": json.dumps(entry.get("kwargs", {})),
            "enabled": True,
            **_schedule_fields(entry["schedule"]),
        }
        _task, was_created = PeriodicTask.objects.update_or_create(name=name, defaults=defaults)
        created += was_created
        updated += not was_created
    removed, _ = (
        PeriodicTask.objects.filter(description=MANAGED_DESCRIPTION)
        .exclude(name__in=names)
        .delete()
    )
    return created, updated, removed
