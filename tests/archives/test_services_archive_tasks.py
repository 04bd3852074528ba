"""The archive's scheduled jobs and event tasks: each may run again (a retry, a second
worker, a rerun by hand) and makes nothing twice."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from archives import services
from archives.choices import DocumentKind, FileStatus
from archives.models import (
    FileSection,
    MissingArchiveReport,
    Nonconformity,
    PenaltyPoint,
    Reconciliation,
    SubmissionBatch,
    VehicleFile,
)
from archives.tasks import (
    archive_hourly_task,
    reconciliation_task,
    retention_task,
    sales_section_open_task,
    service_section_open_task,
)
from dealer_crm.models import Branch, Notification
from service import services as service_services
from tests.archives.helpers import (
    deliver,
    delivered_section,
    file_papers,
    invoiced_order,
)
from tests.factories import VehicleFactory
from tests.service.helpers import counts, ready_work_order, settle, state

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

WATCHED = (
    VehicleFile, FileSection, SubmissionBatch, PenaltyPoint, MissingArchiveReport,
    Reconciliation, Notification,
)  # fmt: skip


def test_the_section_tasks_open_each_section_once(branch, consultant, advisor, technician):
    delivery = deliver(invoiced_order(branch, consultant), consultant)
    work_order = ready_work_order(branch, advisor, technician)
    settle(work_order, advisor)
    service_services.work_order_close(work_order=work_order, by=advisor)
    sales = [sales_section_open_task.delay(delivery.pk).get() for _run in range(2)]
    service = [service_section_open_task.delay(work_order.pk).get() for _run in range(2)]
    assert sales[0] == sales[1] == FileSection.objects.get(delivery=delivery).pk
    assert service[0] == service[1] == FileSection.objects.get(work_order=work_order).pk
    assert counts(FileSection, VehicleFile) == {"FileSection": 2, "VehicleFile": 2}


def test_the_hourly_job_flags_and_points_once(branch, consultant, customer_care, branch_manager):
    # two weeks ago: its batch was due last Monday; papers missing; one paper returned
    today = timezone.localdate()
    section = delivered_section(branch, consultant, days_ago=today.weekday() + 14)
    (document,) = file_papers(section, consultant, kinds=[DocumentKind.DELIVERY_FORM]).values()
    services.document_audit(document=document, conforming=False, by=customer_care, reason="缺页")
    Nonconformity.objects.update(due_by=timezone.now() - timedelta(hours=1))
    services.reconcile(branch=branch)
    MissingArchiveReport.objects.update(due_by=timezone.now() - timedelta(hours=1))

    first = archive_hourly_task.delay().get()
    assert first == {"batches_flagged": 1, "rework_points": 1, "reports_flagged": 1}
    before = counts(*WATCHED), [state(row) for row in SubmissionBatch.objects.all()]
    assert archive_hourly_task.delay().get() == {
        "batches_flagged": 0,
        "rework_points": 0,
        "reports_flagged": 0,
    }
    assert (counts(*WATCHED), [state(row) for row in SubmissionBatch.objects.all()]) == before


def test_the_nightly_reconciliation_keeps_one_row_per_branch_and_day(
    branch, other_branch, consultant
):
    section = delivered_section(branch, consultant, days_ago=timezone.localdate().weekday() + 14)
    assert reconciliation_task.delay().get() == Branch.objects.count() == 2
    assert MissingArchiveReport.objects.get().section_id == section.pk
    before = counts(*WATCHED)
    assert reconciliation_task.delay().get() == 2
    assert counts(*WATCHED) == before
    assert sorted(Reconciliation.objects.values_list("branch", "day")) == sorted(
        [(branch.pk, timezone.localdate()), (other_branch.pk, timezone.localdate())]
    )


def test_the_nightly_retention_seals_once(branch):
    opened = services.add_years(timezone.localdate(), -6)
    vehicle_file = VehicleFile.objects.create(
        branch=branch, vehicle=VehicleFactory(), opened_on=opened, retain_until=date.max
    )
    assert retention_task.delay().get() == 1
    vehicle_file.refresh_from_db()
    assert vehicle_file.status == FileStatus.SEALED
    before = state(vehicle_file)
    assert retention_task.delay().get() == 0
    assert state(vehicle_file) == before
