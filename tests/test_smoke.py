"""Production smoke test: the three processes of docker-compose.yml, started for real.

gunicorn, a Celery worker and Celery beat run as subprocesses with the production settings
against the PostgreSQL test database and the Redis of this test run. The test proves that a
request is served (`/readyz` checks PostgreSQL and Redis) and that a task scheduled by beat
is executed by the worker (a Heartbeat row appears).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.db import connection
from django_celery_beat.models import PeriodicTask

from dealer_crm.models import Heartbeat
from dealer_crm.settings.base import redis_urls

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HEARTBEAT_TASK = "dealer_crm.tasks.heartbeat_task"
READY_TIMEOUT = 40
HEARTBEAT_TIMEOUT = 40


def database_url(settings_dict: dict) -> str:
    """The DATABASE_URL of the database this test uses (pytest-django's test_<name>)."""
    options = dict(settings_dict.get("OPTIONS") or {})
    host = settings_dict.get("HOST") or options.pop("host", "")
    credentials = quote(settings_dict.get("USER") or "", safe="")
    if settings_dict.get("PASSWORD"):
        credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    name = settings_dict["NAME"]
    if host.startswith("/"):
        # A Unix socket directory: django-environ splits a percent-encoded absolute path
        # into HOST (the directory) and NAME.
        url = f"postgres://{credentials}@{port}/{quote(f'{host}/{name}', safe='')}"
    else:
        url = f"postgres://{credentials}@{host}{port}/{quote(name, safe='')}"
    return url + (f"?{urlencode(options)}" if options else "")


def private_redis_url(url: str) -> str:
    """Another database number on a TCP Redis, so nothing here meets a developer's worker.

    A Unix socket is the embedded Redis of this checkout (./dev); it is used as it is. On
    both, the jobs also travel on a queue of their own (CELERY_QUEUE)."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        return url
    current = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{15 if current != 15 else 14}"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Processes:
    """The subprocesses of one test; their output goes to files that failures quote."""

    def __init__(self, folder: Path, env: dict[str, str]):
        self.folder = folder
        self.env = env
        self.started: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, name: str, command: list[str]) -> None:
        log = self.folder / f"{name.replace(' ', '-')}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stop() also reaches pool processes
            )
        self.started.append((name, process, log))

    def outputs(self) -> str:
        sections = []
        for name, process, log in self.started:
            text = log.read_text(errors="replace")[-6000:] if log.exists() else ""
            state = "running" if process.poll() is None else f"exit code {process.returncode}"
            sections.append(f"----- {name} ({state}) -----\n{text}")
        return "\n".join(sections)

    def fail(self, message: str) -> None:
        pytest.fail(f"{message}\n\n{self.outputs()}", pytrace=False)

    def check_alive(self) -> None:
        for name, process, _log in self.started:
            if process.poll() is not None:
                self.fail(f"{name} exited early with code {process.returncode}")

    def stop(self, timeout: float = 15) -> None:
        for _name, process, _log in self.started:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + timeout
        for _name, process, _log in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_sync_schedules(env: dict[str, str]) -> None:
    """What the web container runs before gunicorn, with the processes' settings."""
    result = subprocess.run(
        [sys.executable, "manage.py", "sync_schedules"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        pytest.fail(f"manage.py sync_schedules failed:\n{result.stdout}\n{result.stderr}")


def keep_only_heartbeat() -> None:
    """Pause the other schedules: this test waits for the heartbeat alone."""
    heartbeats = PeriodicTask.objects.filter(task=HEARTBEAT_TASK, enabled=True)
    assert heartbeats.exists(), "sync_schedules did not schedule dealer_crm.tasks.heartbeat_task"
    PeriodicTask.objects.exclude(task=HEARTBEAT_TASK).update(enabled=False)


def forget_queue(redis_url: str, queue: str) -> None:
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
    try:
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    except redis.RedisError:
        pass  # best effort: an unused queue left in Redis harms nobody
    finally:
        client.close()


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def wait_for_readyz(processes: Processes, url: str) -> tuple[int, dict]:
    deadline = time.monotonic() + READY_TIMEOUT
    answer: tuple[int, dict] | None = None
    while time.monotonic() < deadline:
        processes.check_alive()
        try:
            answer = get_json(url)
            if answer[0] == 200:
                return answer
        except (OSError, ValueError):
            pass  # not listening yet
        time.sleep(0.25)
    processes.fail(f"GET {url} did not answer 200 within {READY_TIMEOUT}s (last answer: {answer})")
    raise AssertionError  # unreachable: fail() raises


def wait_for_heartbeat(processes: Processes, after_pk: int) -> Heartbeat:
    deadline = time.monotonic() + HEARTBEAT_TIMEOUT
    while time.monotonic() < deadline:
        processes.check_alive()
        heartbeat = Heartbeat.objects.filter(pk__gt=after_pk).first()
        if heartbeat is not None:
            return heartbeat
        time.sleep(0.5)
    processes.fail(f"no Heartbeat row was written within {HEARTBEAT_TIMEOUT}s")
    raise AssertionError  # unreachable: fail() raises


@pytest.mark.django_db(transaction=True)
def test_gunicorn_worker_and_beat_serve_requests_and_run_scheduled_heartbeat(tmp_path):
    # Given the production settings pointed at this test's database and Redis
    redis_url = private_redis_url(os.environ.get("REDIS_URL") or settings.REDIS_URL)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dealer_crm.settings.production",
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": redis_url,
        "SECRET_KEY": f"smoke-test-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_COOKIES": "false",
        "HEARTBEAT_SECONDS": "2",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    # Beat sends to, and the worker reads, a queue no other worker on this Redis knows.
    queue = f"smoke-{uuid.uuid4().hex[:12]}"
    env["CELERY_QUEUE"] = queue
    run_sync_schedules(env)
    keep_only_heartbeat()
    last_heartbeat = Heartbeat.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    port = free_port()
    processes = Processes(tmp_path, env)
    try:
        # When gunicorn, a worker and beat start as docker-compose starts them
        processes.start(
            "gunicorn",
            [str(BIN / "gunicorn"), "dealer_crm.wsgi:application"]
            + ["--bind", f"127.0.0.1:{port}", "--workers", "2", "--access-logfile", "-"],
        )
        processes.start(
            "celery worker",
            [str(BIN / "celery"), "-A", "dealer_crm", "worker", "-l", "info"]
            + ["--concurrency", "1", "-Q", queue, "-n", f"{queue}@%h"]
            + ["--without-mingle", "--without-gossip"],
        )
        processes.start(
            "celery beat",
            [str(BIN / "celery"), "-A", "dealer_crm", "beat", "-l", "info"]
            + ["-S", "django_celery_beat.schedulers:DatabaseScheduler"]
            + ["--pidfile", str(tmp_path / "celerybeat.pid")]
            + ["--schedule", str(tmp_path / "celerybeat-schedule")],
        )

        # Then /readyz answers OK: gunicorn serves, PostgreSQL and Redis are reachable
        status, body = wait_for_readyz(processes, f"http://127.0.0.1:{port}/readyz")
        if status != 200 or body.get("status") != "ok":
            processes.fail(f"/readyz answered {status} {body}")

        # And the heartbeat scheduled by beat was executed by the worker
        heartbeat = wait_for_heartbeat(processes, after_pk=last_heartbeat)
        if not heartbeat.worker:
            processes.fail(f"the heartbeat row names no worker: {heartbeat.pk}")
    finally:
        processes.stop()
        forget_queue(redis_urls(redis_url)[0], queue)
