"""Schedules live in code and are synced into django-celery-beat."""

from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from dealer_crm.schedules import MANAGED_DESCRIPTION, schedules_sync

pytestmark = pytest.mark.django_db

DECLARED = {
    "heartbeat": {"task": "dealer_crm.tasks.heartbeat_task", "schedule": 60},
    "nightly": {
        "task": "dealer_crm.tasks.heartbeat_purge_task",
        "schedule": crontab(hour=3, minute=15),
        "kwargs": {"days": 7},
    },
}


def managed_tasks() -> dict[str, PeriodicTask]:
    return {
        task.name: task for task in PeriodicTask.objects.filter(description=MANAGED_DESCRIPTION)
    }


def test_first_sync_creates_every_declared_task():
    # given an empty beat database
    # when the declared schedule is synced
    counts = schedules_sync(DECLARED)
    # then one periodic task per entry exists, with its interval or crontab
    assert counts == (2, 0, 0)
    tasks = managed_tasks()
    assert tasks["heartbeat"].interval.every == 60
    assert tasks["nightly"].crontab.hour == "3"
    assert tasks["nightly"].crontab.minute == "15"
    assert tasks["nightly"].kwargs == '{"days": 7}'


def test_second_sync_updates_instead_of_creating():
    # given a synced schedule whose heartbeat interval then changed in code
    schedules_sync(DECLARED)
    changed = {**DECLARED, "heartbeat": {**DECLARED["heartbeat"], "schedule": timedelta(minutes=5)}}
    # when it is synced again
    counts = schedules_sync(changed)
    # then nothing new is created and the interval follows the code
    assert counts == (0, 2, 0)
    assert len(managed_tasks()) == 2
    assert managed_tasks()["heartbeat"].interval.every == 300


def test_task_removed_from_code_is_deleted():
    # given a synced schedule
    schedules_sync(DECLARED)
    # when one entry is dropped from the code and the schedule is synced again
    counts = schedules_sync({"heartbeat": DECLARED["heartbeat"]})
    # then its periodic task is gone
    assert counts == (0, 1, 1)
    assert set(managed_tasks()) == {"heartbeat"}


def test_sync_leaves_tasks_made_by_hand_alone():
    # given a periodic task someone created in the admin
    schedules_sync(DECLARED)
    PeriodicTask.objects.create(
        name="manual report",
        task="dealer_crm.tasks.heartbeat_task",
        interval=managed_tasks()["heartbeat"].interval,
    )
    # when the code's schedule is synced
    schedules_sync(DECLARED)
    # then the hand-made task is still there
    assert PeriodicTask.objects.filter(name="manual report").exists()


def test_sync_schedules_command_twice_creates_then_updates(capsys):
    # given the settings' schedule
    declared = len(settings.CELERY_BEAT_SCHEDULE)
    # when the command runs twice
    call_command("sync_schedules")
    first = capsys.readouterr().out
    call_command("sync_schedules")
    second = capsys.readouterr().out
    # then the first run creates every task and the second only updates them
    assert f"{declared} created, 0 updated, 0 removed" in first
    assert f"0 created, {declared} updated, 0 removed" in second
    assert len(managed_tasks()) == declared


def test_beat_starting_after_the_sync_adds_no_second_copy():
    # given the code's schedule synced into the database
    from django_celery_beat.schedulers import ModelEntry

    from dealer_crm.celery import app

    call_command("sync_schedules")
    # when beat starts and installs the same schedule from the Celery configuration
    # (DatabaseScheduler.update_from_dict does exactly this for each entry)
    for name, entry in app.conf.beat_schedule.items():
        ModelEntry.from_entry(name, app=app, **entry)
    # then every declared task exists exactly once, and nothing else was added
    names = list(PeriodicTask.objects.values_list("name", flat=True))
    assert sorted(names) == sorted(settings.CELERY_BEAT_SCHEDULE)
