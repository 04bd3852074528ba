"""A real Celery worker runs the follow-up call job end to end: the task travels through
Redis on a queue of its own to a worker subprocess working on this test's database, which
makes the day's call and records the run."""

import os
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery.result import EagerResult
from django.conf import settings
from django.db import connection
from django.utils import timezone

from customers.care.choices import CallReason, CallStatus
from customers.care.models import FollowUpCall
from customers.care.tasks import follow_up_calls_task
from dealer_crm.choices import JobStatus
from dealer_crm.models import JobRun
from dealer_crm.settings.base import redis_urls
from tests.factories import DeliveryFactory
from tests.test_smoke import ROOT, Processes, database_url, forget_queue, private_redis_url

BIN = Path(sys.executable).parent
RUN_TIMEOUT = 40


def reachable_redis() -> str:
    """The Redis URL of this run's worker (a database of its own); without Redis the test is
    skipped, except under CI, where Redis is part of the job and its absence a failure."""
    url = private_redis_url(os.environ.get("REDIS_URL") or settings.REDIS_URL)
    client = redis.Redis.from_url(redis_urls(url)[0], socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is unreachable under CI: {error}")
        pytest.skip(f"Redis is unreachable: {error}")
    finally:
        client.close()
    return url


def wait_for_run(processes: Processes, job: str) -> JobRun:
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        processes.check_alive()
        run = JobRun.objects.filter(job=job).exclude(status=JobStatus.RUNNING).first()
        if run is not None:
            return run
        time.sleep(0.25)
    processes.fail(f"the worker recorded no finished {job} run within {RUN_TIMEOUT}s")
    raise AssertionError  # unreachable: fail() raises


@pytest.mark.django_db(transaction=True)
def test_a_worker_on_redis_makes_the_days_calls_and_records_the_run(
    tmp_path, branch, consultant, customer_care
):
    # given a car delivered yesterday, its day-1 call due today
    redis_url = reachable_redis()
    delivery = DeliveryFactory(
        order__branch=branch, order__consultant=consultant,
        delivered_on=timezone.localdate() - timedelta(days=1),
    )  # fmt: skip
    # and a worker of the development settings (tasks not eager) on this test's database,
    # reading a queue nobody else reads
    queue = f"care-jobs-{uuid.uuid4().hex[:12]}"
    processes = Processes(
        tmp_path,
        {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "dealer_crm.settings.local",
            "DATABASE_URL": database_url(connection.settings_dict),
            "REDIS_URL": redis_url,
            "CELERY_QUEUE": queue,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        },
    )
    app = follow_up_calls_task.app
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    try:
        processes.start(
            "celery worker",
            [str(BIN / "celery"), "-A", "dealer_crm", "worker", "-l", "info", "--pool", "solo"]
            + ["-Q", queue, "-n", f"{queue}@%h", "--without-mingle", "--without-gossip"],
        )
        # when the job is sent through Redis
        with app.connection_for_write(redis_urls(redis_url)[1]) as broker:
            sent = follow_up_calls_task.apply_async(queue=queue, connection=broker)
        assert not isinstance(sent, EagerResult)
        # then the worker ran it: the run finished with one row, the call is made
        run = wait_for_run(processes, "follow_up_calls")
        if run.status != JobStatus.FINISHED:
            processes.fail(f"the run {run.status}: {run.error}")
        assert run.rows == 1 and run.finished_at is not None
        call = FollowUpCall.objects.get(delivery=delivery)
        assert (call.reason, call.status, call.due_on, call.assigned_to) == (
            CallReason.DELIVERY_DAY_1, CallStatus.DUE, timezone.localdate(), customer_care
        )  # fmt: skip
    finally:
        app.conf.task_always_eager = eager
        processes.stop()
        forget_queue(redis_urls(redis_url)[0], queue)
