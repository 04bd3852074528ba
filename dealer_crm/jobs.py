"""The record of scheduled jobs: `recorded` wraps a job's body so each run leaves a JobRun
row — started, finished or failed with its error, and the rows the job made or changed (the
job's return value when it is a number, or the sum of a dict's numbers)."""

import functools
from collections.abc import Callable

from django.utils import timezone

from .choices import JobStatus
from .models import JobRun


def _rows(result) -> int:
    if isinstance(result, bool) or result is None:
        return 0
    if isinstance(result, int):
        return result
    if isinstance(result, dict):
        return sum(_rows(value) for value in result.values())
    if isinstance(result, list | tuple):
        return len(result)
    return 0


def recorded(job: str) -> Callable:
    """Decorate a job's function: its runs are kept as JobRun rows under `job`."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def run(*args, **kwargs):
            record = JobRun.objects.create(job=job)
            try:
                result = function(*args, **kwargs)
            except BaseException as error:  # a stopped worker's run is not left "running"
                JobRun.objects.filter(pk=record.pk).update(
                    status=JobStatus.FAILED, finished_at=timezone.now(), error=repr(error)[:2000]
                )
                raise
            JobRun.objects.filter(pk=record.pk).update(
                status=JobStatus.FINISHED, finished_at=timezone.now(), rows=_rows(result)
            )
            return result

        return run

    return decorate
