"""The record of scheduled jobs: `recorded` leaves one JobRun row per run — running while
the job works, then finished with the rows it made or changed, or failed with its error,
which the caller still gets."""

from decimal import Decimal

import pytest
from django.utils import timezone

from dealer_crm.choices import JobStatus
from dealer_crm.jobs import recorded
from dealer_crm.models import JobRun

pytestmark = pytest.mark.django_db


def job_returning(result):
    @recorded("test_job")
    def job():
        return result

    return job


@pytest.mark.parametrize(
    ("result", "rows"),
    [
        (7, 7),
        (0, 0),
        (None, 0),
        (True, 0),
        ({"batches_flagged": 2, "rework_points": 0, "reports_flagged": 3}, 5),
        ({"calls": 2, "by_branch": {"tianhe": 3, "panyu": 1}, "names": ["a", "b"]}, 8),
        ([101, 102, 103], 3),
        ((), 0),
        ("done", 0),
        (Decimal("2.5"), 0),
    ],
)
def test_a_finished_run_records_the_rows_of_its_result(result, rows):
    # given a job returning `result`
    started = timezone.now()
    # when it runs
    returned = job_returning(result)()
    # then the caller gets the result and one finished run records its rows
    assert returned == result
    run = JobRun.objects.get()
    assert (run.job, run.status, run.rows, run.error) == ("test_job", JobStatus.FINISHED, rows, "")
    assert started <= run.started_at <= run.finished_at <= timezone.now()


def test_a_run_is_on_record_as_running_while_the_job_works():
    seen = []

    @recorded("slow_job")
    def job(branch_id, *, day):
        seen.append(list(JobRun.objects.values_list("job", "status", "finished_at")))
        return branch_id + day

    assert job(40, day=2) == 42
    assert seen == [[("slow_job", JobStatus.RUNNING, None)]]
    assert job.__name__ == "job"


def test_a_failed_run_records_the_error_and_the_caller_still_gets_it():
    # given a job that fails half-way
    @recorded("failing_job")
    def job():
        raise LookupError("branch 7 is gone")

    # when it runs
    with pytest.raises(LookupError, match="branch 7 is gone"):
        job()
    # then its run failed, with the error, and counted no rows
    run = JobRun.objects.get()
    assert (run.job, run.status, run.rows, run.error) == (
        "failing_job", JobStatus.FAILED, 0, "LookupError('branch 7 is gone')"
    )  # fmt: skip
    assert run.finished_at is not None and run.started_at <= run.finished_at


def test_a_long_error_is_kept_in_part():
    @recorded("failing_job")
    def job():
        raise ValueError("x" * 5000)

    with pytest.raises(ValueError):
        job()
    assert len(JobRun.objects.get().error) == 2000


def test_each_run_leaves_its_own_row():
    outcomes = iter([3, RuntimeError("redis down"), 0])

    @recorded("flaky_job")
    def job():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    job()
    with pytest.raises(RuntimeError):
        job()
    job()
    assert list(JobRun.objects.order_by("pk").values_list("status", "rows")) == [
        (JobStatus.FINISHED, 3), (JobStatus.FAILED, 0), (JobStatus.FINISHED, 0)
    ]  # fmt: skip
