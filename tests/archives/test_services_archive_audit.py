"""The audit: every document reviewed once; a nonconforming one sent back with its record
(不合格档案记录) — the reason, the person responsible, one penalty point, 24 hours to bring
it back fixed — else one more point; sent back unchanged, one more point; each reason once
per record; a person's points summed for the managers."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from archives import selectors, services
from archives.choices import DocumentKind, DocumentStatus, PenaltyReason
from archives.models import ArchiveDocument, Nonconformity, PenaltyPoint
from dealer_crm.models import Notification
from tests.archives.helpers import (
    PDF,
    closed_work_order,
    delivered_section,
    refusal,
    scan,
)
from tests.service.helpers import counts, fresh, state

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

REASON = "发票日期与 PDI 相差 3 天"


@pytest.fixture
def section(branch, consultant):
    return delivered_section(branch, consultant)


@pytest.fixture
def delivery_form(section, consultant):
    return send(section, consultant, PDF + b"first")


def send(section, by, content: bytes) -> ArchiveDocument:
    """The delivery form uploaded (again) as `content`."""
    return services.document_upload(
        section=section, kind=DocumentKind.DELIVERY_FORM, upload=scan("交车单.pdf", content),
        by=by,
    )  # fmt: skip


def returned(document, archivist, **kw) -> Nonconformity:
    services.document_audit(document=document, conforming=False, by=archivist, reason=REASON, **kw)
    return Nonconformity.objects.get(document=document)


def points(**filters) -> list[tuple]:
    return list(
        PenaltyPoint.objects.filter(**filters)
        .order_by("pk")
        .values_list("person__username", "reason", "points")
    )


def unchanged_by(call, document):
    """`call`'s refusal, after checking the document and the records did not move."""
    before = (state(document), counts(Nonconformity, PenaltyPoint, Notification))
    error = refusal(call)
    assert (state(document), counts(Nonconformity, PenaltyPoint, Notification)) == before
    return error


# --- the review ----------------------------------------------------------------------------


def test_a_conforming_document_is_marked_so_with_who_and_when(delivery_form, customer_care):
    services.document_audit(document=delivery_form, conforming=True, by=customer_care)
    document = fresh(delivery_form)
    assert (document.status, document.audited_by) == (DocumentStatus.CONFORMING, customer_care)
    assert timezone.now() - document.audited_at < timedelta(minutes=1)
    assert counts(Nonconformity, PenaltyPoint) == {"Nonconformity": 0, "PenaltyPoint": 0}


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_nonconforming_document_needs_a_reason(delivery_form, customer_care, reason):
    error = unchanged_by(
        lambda: services.document_audit(
            document=delivery_form, conforming=False, by=customer_care, reason=reason
        ),
        delivery_form,
    )
    assert (error.code, error.field) == ("reason_required", "reason")


def test_a_returned_sales_paper_is_recorded_against_the_consultant_with_a_point(
    section, delivery_form, consultant, customer_care
):
    record = returned(delivery_form, customer_care)
    assert fresh(delivery_form).status == DocumentStatus.RETURNED
    assert (record.reason, record.responsible, record.returned_by, record.branch_id) == (
        REASON,
        consultant,
        customer_care,
        section.vehicle_file.branch_id,
    )
    assert timedelta(hours=24) - timedelta(seconds=5) < record.due_by - record.returned_at
    assert record.due_by - record.returned_at <= timedelta(hours=24)
    assert points() == [(consultant.username, PenaltyReason.NONCONFORMING, 1)]
    notice = Notification.objects.get()
    assert (notice.recipient, notice.key, notice.url) == (
        consultant,
        f"archives.returned.{delivery_form.pk}",
        reverse("archives:file-detail", args=[section.vehicle_file_id]),
    )
    assert REASON in notice.body


def test_a_returned_service_paper_is_recorded_against_the_advisor(
    branch, advisor, technician, customer_care
):
    section = closed_work_order(branch, advisor, technician).archive_section
    document = services.document_upload(
        section=section, kind=DocumentKind.WORK_ORDER, upload=scan(), by=advisor
    )
    record = returned(document, customer_care)
    assert record.responsible == advisor
    assert points() == [(advisor.username, PenaltyReason.NONCONFORMING, 1)]
    assert Notification.objects.get().recipient == advisor


def test_the_archivist_may_name_another_person_of_the_branch(
    delivery_form, customer_care, sales_manager
):
    record = returned(delivery_form, customer_care, responsible=sales_manager)
    assert record.responsible == sales_manager
    assert points() == [(sales_manager.username, PenaltyReason.NONCONFORMING, 1)]
    assert Notification.objects.get().recipient == sales_manager


def test_nobody_of_another_branch_answers_for_the_paper(
    delivery_form, customer_care, other_branch_user
):
    error = unchanged_by(
        lambda: services.document_audit(
            document=delivery_form, conforming=False, by=customer_care, reason=REASON,
            responsible=other_branch_user,
        ),
        delivery_form,
    )  # fmt: skip
    assert (error.code, error.field) == ("responsible_other_branch", "responsible")


@pytest.mark.parametrize("first", [True, False], ids=["conforming", "returned"])
@pytest.mark.parametrize("second", [True, False], ids=["conforming", "returned"])
def test_a_document_is_audited_once(delivery_form, customer_care, first, second):
    services.document_audit(
        document=delivery_form, conforming=first, by=customer_care, reason=REASON
    )
    error = unchanged_by(
        lambda: services.document_audit(
            document=delivery_form, conforming=second, by=customer_care, reason=REASON
        ),
        delivery_form,
    )
    assert error.code == "document_not_awaiting_audit"


def test_a_replaced_version_is_not_audited(section, delivery_form, consultant, customer_care):
    send(section, consultant, PDF + b"second")
    error = unchanged_by(
        lambda: services.document_audit(document=delivery_form, conforming=True, by=customer_care),
        delivery_form,
    )
    assert error.code == "document_not_awaiting_audit"


# --- coming back within 24 hours ------------------------------------------------------------


def test_sent_back_fixed_in_time_costs_nothing_more_and_its_audit_resolves_the_record(
    section, delivery_form, consultant, customer_care
):
    record = returned(delivery_form, customer_care)
    fixed = send(section, consultant, PDF + b"fixed")
    record.refresh_from_db()
    assert (record.resubmitted, record.resolved_at) == (fixed, None)
    assert record.returned_at <= record.resubmitted_at <= record.due_by
    services.document_audit(document=fixed, conforming=True, by=customer_care)
    record.refresh_from_db()
    assert record.resolved_at is not None
    assert services.rework_overdue(now=record.due_by + timedelta(hours=1)) == 0
    assert points() == [(consultant.username, PenaltyReason.NONCONFORMING, 1)]


def test_sent_back_after_24_hours_costs_one_more_point_once(
    section, delivery_form, consultant, customer_care
):
    record = returned(delivery_form, customer_care)
    Nonconformity.objects.filter(pk=record.pk).update(due_by=timezone.now() - timedelta(minutes=1))
    send(section, consultant, PDF + b"fixed late")
    send(section, consultant, PDF + b"fixed again")
    assert services.rework_overdue(now=timezone.now() + timedelta(days=1)) == 0
    assert points() == [
        (consultant.username, PenaltyReason.NONCONFORMING, 1),
        (consultant.username, PenaltyReason.LATE_REWORK, 1),
    ]


def test_not_sent_back_in_24_hours_costs_one_more_point_once(
    section, delivery_form, consultant, customer_care
):
    record = returned(delivery_form, customer_care)
    assert services.rework_overdue(now=record.due_by - timedelta(minutes=1)) == 0
    assert services.rework_overdue(now=record.due_by + timedelta(minutes=1)) == 1
    assert services.rework_overdue(now=record.due_by + timedelta(hours=5)) == 0
    Nonconformity.objects.filter(pk=record.pk).update(due_by=timezone.now() - timedelta(minutes=1))
    send(section, consultant, PDF + b"fixed at last")
    assert points() == [
        (consultant.username, PenaltyReason.NONCONFORMING, 1),
        (consultant.username, PenaltyReason.LATE_REWORK, 1),
    ]


def test_sent_back_unchanged_costs_one_more_point_once(
    section, delivery_form, consultant, customer_care
):
    record = returned(delivery_form, customer_care)
    again = send(section, consultant, PDF + b"first")
    assert again.sha256 == delivery_form.sha256
    send(section, consultant, PDF + b"first")
    assert fresh(record).resolved_at is None
    assert points() == [
        (consultant.username, PenaltyReason.NONCONFORMING, 1),
        (consultant.username, PenaltyReason.RETURNED_UNCHANGED, 1),
    ]


def test_a_persons_points_are_summed_for_the_period(
    section, delivery_form, consultant, customer_care, advisor, technician
):
    record = returned(delivery_form, customer_care)
    Nonconformity.objects.filter(pk=record.pk).update(due_by=timezone.now() - timedelta(minutes=1))
    send(section, consultant, PDF + b"first")  # late and unchanged
    work_order = closed_work_order(branch=section.vehicle_file.branch, advisor=advisor,
                                   technician=technician)  # fmt: skip
    paper = services.document_upload(
        section=work_order.archive_section, kind=DocumentKind.SETTLEMENT, upload=scan(), by=advisor
    )
    returned(paper, customer_care)
    today = timezone.localdate()
    rows = selectors.points_by_person(
        branch_ids=[section.vehicle_file.branch_id], start=today, end=today
    )
    columns = ["person__username", "points", "nonconforming", "late", "unchanged"]
    assert [tuple(row[column] for column in columns) for row in rows] == [
        (consultant.username, 3, 1, 1, 1),
        (advisor.username, 1, 1, None, None),
    ]
    yesterday = today - timedelta(days=1)
    assert (
        selectors.points_by_person(
            branch_ids=[section.vehicle_file.branch_id], start=yesterday, end=yesterday
        )
        == []
    )
