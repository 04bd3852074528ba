"""The archive figures of the KPI registry on the small known archive of the archive figures:
completeness against its 99% goal, nonconforming documents, missing reports within time and
overdue, penalty points per person and reason — and a missing report's state on a past day."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from archives import selectors, services
from archives.choices import DocumentKind
from archives.models import FileSection, MissingArchiveReport
from dealer_crm.kpis import kpi_snapshots_compute, kpi_values
from tests.archives.helpers import (
    audit_conforming,
    closed_work_order,
    delivered_section,
    file_papers,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

CODES = [
    "archives.completeness",
    "archives.nonconforming",
    "archives.missing_reports",
    "archives.penalty_points",
]


def due_yesterday(section) -> FileSection:
    FileSection.objects.filter(pk=section.pk).update(due_at=timezone.now() - timedelta(days=1))
    section.refresh_from_db()
    return section


@pytest.fixture
def archive(branch, other_branch, consultant, advisor, technician, customer_care,
            other_branch_user):  # fmt: skip
    """Three service sections of today fell due: one complete, two with papers missing (one
    paper of them returned, a point for the advisor); a sales section not due yet; the two
    open missing reports, one past its 2 days; another branch's section due."""
    complete = closed_work_order(branch, advisor, technician).archive_section
    audit_conforming(file_papers(complete, advisor).values(), customer_care)
    due_yesterday(complete)
    missing = [
        due_yesterday(closed_work_order(branch, advisor, technician).archive_section)
        for _n in range(2)
    ]
    (returned,) = file_papers(missing[0], advisor, kinds=[DocumentKind.WORK_ORDER]).values()
    services.document_audit(document=returned, conforming=False, by=customer_care, reason="缺页")
    delivered_section(branch, consultant)
    services.reconcile(branch=branch)
    MissingArchiveReport.objects.filter(section=missing[1]).update(
        due_by=timezone.now() - timedelta(minutes=1)
    )
    due_yesterday(delivered_section(other_branch, other_branch_user))


def test_the_archive_figures_of_a_small_archive(branch, advisor, consultant, archive):
    today = timezone.localdate()
    readings = kpi_values(CODES, [branch.pk], today, today)
    completeness = readings["archives.completeness"]
    # one of the three sections due is complete: far from the 99% goal
    assert (completeness.current.value, completeness.kpi.goal) == (
        Decimal("0.333"), Decimal("0.99"),
    )  # fmt: skip
    assert readings["archives.nonconforming"].current.value == 1
    missing = readings["archives.missing_reports"].current
    assert missing.value == 2
    assert {key: figure.value for key, figure in missing.breakdown.items()} == {
        "overdue": 1,
        "within_time": 1,
    }
    points = readings["archives.penalty_points"].current
    assert (points.value, points.breakdown["nonconforming"].value) == (1, 1)
    # the advisor answers for the returned paper; the consultant for nothing
    mine = kpi_values(["archives.penalty_points", "archives.nonconforming"], [branch.pk],
                      today, today, person_id=advisor.pk)  # fmt: skip
    assert mine["archives.penalty_points"].current.value == 1
    assert mine["archives.nonconforming"].current.value == 1
    theirs = kpi_values(["archives.penalty_points"], [branch.pk], today, today,
                        person_id=consultant.pk)  # fmt: skip
    assert theirs["archives.penalty_points"].current.value == 0
    # the archive figures count the same
    figures = selectors.archive_figures(branch_ids=[branch.pk], start=today, end=today)
    assert (figures["completeness"], figures["nonconforming"]) == (Decimal("0.333"), 1)
    assert (figures["missing_open"], figures["missing_overdue"]) == (2, 1)


def test_a_missing_report_resolved_today_was_open_yesterday(branch, archive):
    today = timezone.localdate()
    report = MissingArchiveReport.objects.filter(branch=branch).first()
    MissingArchiveReport.objects.filter(pk=report.pk).update(
        opened_at=timezone.now() - timedelta(days=3)
    )
    MissingArchiveReport.objects.filter(pk=report.pk).update(resolved_at=timezone.now())
    kpi_snapshots_compute(day=today - timedelta(days=1), branch=branch)

    def open_on(day):
        return kpi_values(["archives.missing_reports"], [branch.pk], day, day)[
            "archives.missing_reports"
        ].current.value

    assert (open_on(today - timedelta(days=1)), open_on(today)) == (1, 1)
