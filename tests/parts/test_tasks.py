"""The nightly parts job: each active branch's reorder suggestions, safe to run again."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from parts import services
from parts.choices import SuggestionStatus
from parts.models import ReorderSuggestion
from parts.tasks import reorder_suggestions_task
from tests.factories import BranchFactory, PartFactory, SupplierFactory
from tests.parts.helpers import set_levels

pytestmark = pytest.mark.django_db


def due_for_ordering(branch, part, by, maximum=10):
    """Levels that put the part at or below its reorder point with nothing on hand."""
    set_levels(branch, part, by, 4, 4, maximum)


def rows():
    return sorted(
        ReorderSuggestion.objects.values_list(
            "branch_id", "part_id", "computed_on", "suggested_quantity", "status"
        )
    )


@pytest.fixture
def closed_branch(dealer_group):
    return BranchFactory(group=dealer_group, code="closed", is_active=False)


def test_the_job_computes_every_active_branch(branch, other_branch, closed_branch, parts_clerk):
    # given a part due at each branch, one of them closed
    part = PartFactory(supplier=SupplierFactory())
    due_for_ordering(branch, part, parts_clerk, maximum=10)
    due_for_ordering(other_branch, part, parts_clerk, maximum=20)
    due_for_ordering(closed_branch, part, parts_clerk)
    # when the job runs for a day
    opened = reorder_suggestions_task("2026-03-02")
    # then both active branches have their suggestion for that day, the closed one none
    assert opened == 2
    assert rows() == sorted(
        [
            (branch.pk, part.pk, date(2026, 3, 2), Decimal(10), SuggestionStatus.OPEN),
            (other_branch.pk, part.pk, date(2026, 3, 2), Decimal(20), SuggestionStatus.OPEN),
        ]
    )


def test_running_the_job_twice_leaves_the_same_rows(branch, other_branch, parts_clerk):
    for part in (PartFactory(), PartFactory()):
        due_for_ordering(branch, part, parts_clerk)
        due_for_ordering(other_branch, part, parts_clerk)
    reorder_suggestions_task("2026-03-02")
    first = rows()

    reorder_suggestions_task("2026-03-02")

    assert rows() == first
    assert len(first) == 4


def test_a_rerun_keeps_what_was_acted_on(branch, parts_clerk):
    part = PartFactory()
    due_for_ordering(branch, part, parts_clerk)
    reorder_suggestions_task("2026-03-02")
    services.reorder_suggestion_dismiss(suggestion=ReorderSuggestion.objects.get(), by=parts_clerk)

    assert reorder_suggestions_task("2026-03-02") == 0

    assert list(ReorderSuggestion.objects.values_list("status", flat=True)) == [
        SuggestionStatus.DISMISSED
    ]


def test_without_a_day_the_job_computes_today(branch, parts_clerk):
    due_for_ordering(branch, PartFactory(), parts_clerk)

    reorder_suggestions_task()

    assert ReorderSuggestion.objects.get().computed_on == timezone.localdate()


def test_each_day_keeps_its_own_suggestions(branch, parts_clerk):
    due_for_ordering(branch, PartFactory(), parts_clerk)

    reorder_suggestions_task("2026-03-02")
    reorder_suggestions_task("2026-03-03")

    assert sorted(ReorderSuggestion.objects.values_list("computed_on", flat=True)) == [
        date(2026, 3, 2),
        date(2026, 3, 3),
    ]
