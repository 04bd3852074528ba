"""The archive figures of DOMAIN §6 on a small known archive — completeness against its 99%
goal, nonconforming documents, open and overdue missing reports, points per person — and
the archivist's work queue; both read in a fixed number of queries however many rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from archives import selectors, services
from archives.choices import DocumentKind
from archives.models import FileSection, MissingArchiveReport
from tests.archives.helpers import (
    audit_conforming,
    closed_work_order,
    delivered_section,
    file_papers,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


def due_yesterday(section) -> FileSection:
    FileSection.objects.filter(pk=section.pk).update(due_at=timezone.now() - timedelta(days=1))
    section.refresh_from_db()
    return section


def test_the_figures_of_a_small_archive(
    branch, other_branch, consultant, advisor, technician, customer_care, other_branch_user
):
    # three service sections fell due yesterday: one complete, two with papers missing
    complete = closed_work_order(branch, advisor, technician).archive_section
    audit_conforming(file_papers(complete, advisor).values(), customer_care)
    complete = due_yesterday(complete)
    assert complete.complete
    missing = [
        due_yesterday(closed_work_order(branch, advisor, technician).archive_section)
        for _n in range(2)
    ]
    # one paper of them returned (a point for the advisor); a sales section not due yet
    (returned,) = file_papers(missing[0], advisor, kinds=[DocumentKind.WORK_ORDER]).values()
    services.document_audit(document=returned, conforming=False, by=customer_care, reason="缺页")
    delivered_section(branch, consultant)
    # the two open reports, one of them past its 2 days
    services.reconcile(branch=branch)
    MissingArchiveReport.objects.filter(section=missing[1]).update(
        due_by=timezone.now() - timedelta(minutes=1)
    )
    # another branch's section due yesterday does not count here
    due_yesterday(delivered_section(other_branch, other_branch_user))

    today = timezone.localdate()
    figures = selectors.archive_figures(
        branch_ids=[branch.pk], start=today - timedelta(days=1), end=today
    )
    assert {key: value for key, value in figures.items() if key != "points"} == {
        "sections_due": 3,
        "sections_complete": 1,
        "completeness": Decimal("0.333"),
        "meets_goal": False,
        "goal": Decimal("0.99"),
        "nonconforming": 1,
        "missing_open": 2,
        "missing_overdue": 1,
    }
    assert [(row["person"], row["points"]) for row in figures["points"]] == [(advisor.pk, 1)]


def test_completeness_is_none_when_nothing_fell_due(branch, consultant):
    delivered_section(branch, consultant)  # due next week
    today = timezone.localdate()
    figures = selectors.archive_figures(branch_ids=[branch.pk], start=today, end=today)
    assert (figures["sections_due"], figures["completeness"], figures["meets_goal"]) == (
        0,
        None,
        False,
    )


def test_a_complete_archive_meets_the_goal(branch, advisor, technician, customer_care):
    section = closed_work_order(branch, advisor, technician).archive_section
    audit_conforming(file_papers(section, advisor).values(), customer_care)
    due_yesterday(section)
    today = timezone.localdate()
    figures = selectors.archive_figures(
        branch_ids=[branch.pk], start=today - timedelta(days=1), end=today
    )
    assert (figures["completeness"], figures["meets_goal"]) == (Decimal("1.000"), True)


# --- constant query counts --------------------------------------------------------------------


def archive_work(branch, consultant, customer_care):
    """A sales section of two weeks ago in its batch, two papers to audit, one returned, and
    a missing report."""
    section = delivered_section(branch, consultant, days_ago=timezone.localdate().weekday() + 14)
    papers = file_papers(
        section, consultant, kinds=[DocumentKind.DELIVERY_FORM, DocumentKind.BUYER_ID,
                                    DocumentKind.CONFORMITY_CERTIFICATE],
    )  # fmt: skip
    services.document_audit(
        document=papers[DocumentKind.DELIVERY_FORM], conforming=False, by=customer_care,
        reason="缺页",
    )  # fmt: skip
    services.batches_prepare()
    services.reconcile(branch=branch)


def queries_of(read) -> int:
    with CaptureQueriesContext(connection) as queries:
        read()
    return len(queries)


def read_queue(branch_ids):
    """The queue with what its page shows of each row."""
    queue = selectors.work_queue(branch_ids=branch_ids)
    queue["shown"] = (
        [batch.number for batch in queue["to_receive"]]
        + [(d.section.vehicle_file.vehicle.vin, d.uploaded_by.username) for d in queue["to_audit"]]
        + [
            (r.document.section.vehicle_file.number, r.responsible.username)
            for r in queue["rework"]
        ]
        + [(r.section.vehicle_file.vehicle.vin, str(r.section)) for r in queue["missing"]]
    )
    return queue


def read_figures(branch_ids):
    today = timezone.localdate()
    return selectors.archive_figures(branch_ids=branch_ids, start=today - timedelta(days=30),
                                     end=today)  # fmt: skip


def test_the_queue_and_the_figures_take_the_same_queries_for_more_rows(
    branch, consultant, customer_care
):
    archive_work(branch, consultant, customer_care)
    queue = read_queue([branch.pk])
    assert (queue["to_audit_count"], len(queue["rework"]), len(queue["missing"])) == (2, 1, 1)
    few = (queries_of(lambda: read_queue([branch.pk])),
           queries_of(lambda: read_figures([branch.pk])))  # fmt: skip

    for _n in range(3):
        archive_work(branch, consultant, customer_care)
    queue = read_queue([branch.pk])
    assert (queue["to_audit_count"], len(queue["rework"]), len(queue["missing"])) == (8, 4, 4)
    assert len(read_figures([branch.pk])["points"]) == 1
    many = (queries_of(lambda: read_queue([branch.pk])),
            queries_of(lambda: read_figures([branch.pk])))  # fmt: skip
    assert many == few


def test_a_section_completed_before_its_due_time_counts_at_once(branch, consultant, customer_care):
    # a sales section delivered today, due next week; another one not yet complete
    section = delivered_section(branch, consultant)
    delivered_section(branch, consultant)
    today = timezone.localdate()

    def figures():
        return selectors.archive_figures(branch_ids=[branch.pk], start=today, end=today)

    assert (figures()["sections_due"], figures()["completeness"]) == (0, None)
    # when its papers are all in and audited conforming
    audit_conforming(file_papers(section, consultant).values(), customer_care)
    # then it counts, complete, while the other one still waits for its due time
    assert (figures()["sections_due"], figures()["completeness"]) == (1, Decimal("1.000"))
