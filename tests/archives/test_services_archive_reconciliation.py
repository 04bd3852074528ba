"""Reconciliation: every delivery and closed work order has its section; a section past its
due time with papers missing, not exempt, opens one missing-archive report due in 2 days;
exemptions (not yet invoiced, still in repair, a claim in progress) carry a reason and a
last day; the day's counts are kept once per day; reports past their 2 days are flagged."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from archives import services
from archives.choices import ExemptionReason, FileStatus
from archives.models import (
    Exemption,
    FileSection,
    MissingArchiveReport,
    Reconciliation,
    VehicleFile,
)
from dealer_crm.models import Notification
from sales.choices import OrderStatus
from service import services as service_services
from service.choices import ServiceType, WarrantyClaimStatus
from service.models import WarrantyClaim
from tests.archives.helpers import (
    closed_work_order,
    deliver,
    delivered_section,
    file_papers,
    invoiced_order,
    refusal,
)
from tests.factories import PartFactory
from tests.factories.sales import OrderFactory
from tests.service.helpers import (
    counts,
    fresh,
    in_progress_work_order,
    open_work_order,
    ready_work_order,
    settle,
    state,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


@pytest.fixture
def section(branch, consultant):
    return delivered_section(branch, consultant)


def after_due(section, **delta) -> timezone.datetime:
    return section.due_at + (timedelta(**delta) if delta else timedelta(minutes=1))


def day_of(moment):
    return timezone.localdate(moment)


def exempt(section, by, ends_on, reason=ExemptionReason.NOT_INVOICED):
    return services.exemption_grant(
        section=section, reason=reason, note="发票未到", ends_on=ends_on, by=by
    )


# --- sections for every record ----------------------------------------------------------------


def test_a_delivery_or_a_closed_work_order_without_a_section_gets_one(
    branch, consultant, advisor, technician
):
    delivery = deliver(invoiced_order(branch, consultant), consultant)  # its event never ran
    work_order = ready_work_order(branch, advisor, technician)
    settle(work_order, advisor)
    service_services.work_order_close(work_order=work_order, by=advisor)
    assert not FileSection.objects.exists()

    run = services.reconcile(branch=branch)
    assert FileSection.objects.get(delivery=delivery).vehicle_file.vehicle_id == delivery.vehicle_id
    assert FileSection.objects.get(work_order=work_order).expected
    assert (run.sections_opened, run.deliveries, run.sales_sections) == (2, 1, 1)
    assert (run.work_orders, run.service_sections) == (1, 1)


def test_unfinished_business_is_counted_as_not_due(branch, consultant, advisor, technician):
    for status in [OrderStatus.DRAFT, OrderStatus.SIGNED, OrderStatus.ALLOCATED,
                   OrderStatus.INVOICED, OrderStatus.CANCELLED]:  # fmt: skip
        OrderFactory(branch=branch, consultant=consultant, status=status)
    open_work_order(branch, advisor)
    in_progress_work_order(branch, advisor, technician)
    closed_work_order(branch, advisor, technician)
    run = services.reconcile(branch=branch)
    assert (run.not_invoiced, run.in_repair, run.work_orders) == (2, 2, 1)


# --- missing reports --------------------------------------------------------------------------


def test_a_section_past_due_with_papers_missing_opens_one_report_due_in_2_days(
    branch, section, consultant
):
    file_papers(section, consultant, kinds=section.expected[:6])
    assert services.reconcile(branch=branch, now=section.due_at).reports_opened == 0
    assert not MissingArchiveReport.objects.exists()

    now = after_due(section)
    run = services.reconcile(branch=branch, now=now)
    report = MissingArchiveReport.objects.get()
    assert (report.section_id, report.branch, report.opened_at, report.due_by) == (
        section.pk,
        branch,
        now,
        now + timedelta(days=2),
    )
    assert (run.reports_opened, run.reports_open) == (1, 1)


def test_a_section_with_every_paper_in_opens_no_report(branch, section, consultant):
    file_papers(section, consultant)  # not audited yet: not complete, but all in
    assert not fresh(section).complete
    assert services.reconcile(branch=branch, now=after_due(section)).reports_opened == 0
    assert not MissingArchiveReport.objects.exists()


def test_a_section_of_a_sealed_file_opens_no_report(branch, section):
    VehicleFile.objects.filter(pk=section.vehicle_file_id).update(
        status=FileStatus.SEALED, sealed_at=timezone.now()
    )
    assert services.reconcile(branch=branch, now=after_due(section)).reports_opened == 0
    assert not MissingArchiveReport.objects.exists()


def test_another_branchs_sections_are_not_reported_here(other_branch, section):
    assert services.reconcile(branch=other_branch, now=after_due(section)).reports_opened == 0
    assert not MissingArchiveReport.objects.exists()


def test_reconciling_again_the_same_day_keeps_one_row_and_adds_what_it_opened(branch, section):
    first = services.reconcile(branch=branch, now=after_due(section))
    second = services.reconcile(branch=branch, now=after_due(section, hours=3))
    assert second.pk == first.pk and Reconciliation.objects.count() == 1
    # the report the first run opened still counts for the day; the rerun opened none
    assert (fresh(second).run_at, second.reports_opened, second.reports_open) == (
        after_due(section, hours=3),
        1,
        1,
    )
    assert MissingArchiveReport.objects.count() == 1


def test_a_report_resolves_when_the_papers_are_all_in(branch, section, consultant):
    services.reconcile(branch=branch, now=after_due(section))
    file_papers(section, consultant, kinds=section.expected[:6])
    assert MissingArchiveReport.objects.get().resolved_at is None
    file_papers(section, consultant, kinds=section.expected[6:])
    assert MissingArchiveReport.objects.get().resolved_at is not None
    assert services.reconcile(branch=branch, now=after_due(section, days=1)).reports_open == 0


def test_a_report_past_its_2_days_is_flagged_once_and_told(
    branch, section, customer_care, branch_manager
):
    services.reconcile(branch=branch, now=after_due(section))
    report = MissingArchiveReport.objects.get()
    assert services.missing_reports_flag_overdue(now=report.due_by) == 0
    assert services.missing_reports_flag_overdue(now=report.due_by + timedelta(minutes=1)) == 1
    assert services.missing_reports_flag_overdue(now=report.due_by + timedelta(hours=1)) == 0
    assert fresh(report).overdue_flagged_at == report.due_by + timedelta(minutes=1)
    assert sorted(
        Notification.objects.filter(key=f"archives.missing_overdue.{report.pk}").values_list(
            "recipient__username", flat=True
        )
    ) == sorted([customer_care.username, branch_manager.username])


def test_a_resolved_report_is_never_flagged(branch, section, consultant):
    services.reconcile(branch=branch, now=after_due(section))
    file_papers(section, consultant)
    report = MissingArchiveReport.objects.get()
    assert services.missing_reports_flag_overdue(now=report.due_by + timedelta(days=1)) == 0
    assert fresh(report).overdue_flagged_at is None


# --- exemptions -------------------------------------------------------------------------------


def test_an_exemption_keeps_the_report_away_until_its_last_day(branch, section, customer_care):
    ends_on = day_of(after_due(section))
    exemption = exempt(section, customer_care, ends_on)
    assert (exemption.reason, exemption.granted_by, exemption.ends_on) == (
        ExemptionReason.NOT_INVOICED,
        customer_care,
        ends_on,
    )
    run = services.reconcile(branch=branch, now=after_due(section))
    assert (run.reports_opened, run.exempt) == (0, 1)
    assert not MissingArchiveReport.objects.exists()

    run = services.reconcile(branch=branch, now=after_due(section, days=1))
    assert (run.reports_opened, run.exempt) == (1, 0)


def test_an_exemption_resolves_the_open_report(branch, section, customer_care):
    services.reconcile(branch=branch, now=after_due(section))
    exempt(section, customer_care, timezone.localdate() + timedelta(days=30))
    assert MissingArchiveReport.objects.get().resolved_at is not None


@pytest.mark.parametrize(
    ("note", "days", "code", "field"),
    [("  ", 3, "note_required", "note"), ("发票未到", -1, "exemption_in_the_past", "ends_on")],
)
def test_an_exemption_needs_a_reason_and_a_day_to_come(
    section, customer_care, note, days, code, field
):
    before = (state(section), counts(Exemption))
    error = refusal(
        lambda: services.exemption_grant(
            section=section, reason=ExemptionReason.NOT_INVOICED, note=note,
            ends_on=timezone.localdate() + timedelta(days=days), by=customer_care,
        )
    )  # fmt: skip
    assert (error.code, error.field) == (code, field)
    assert (state(section), counts(Exemption)) == before


def warranty_claim(work_order):
    service_services.work_order_certificates_checked(work_order=work_order, by=work_order.advisor)
    return service_services.warranty_claim_create(
        work_order=work_order, failed_part=PartFactory(name="点火线圈"), cause="点火线圈击穿",
        labour_amount=Decimal("120.00"), parts_amount=Decimal("260.00"), by=work_order.advisor,
    )  # fmt: skip


def test_a_work_order_with_a_claim_in_progress_is_exempt_by_itself(branch, advisor, technician):
    work_order = closed_work_order(
        branch, advisor, technician, service_type=ServiceType.WARRANTY, prepare=warranty_claim
    )
    section = work_order.archive_section
    now = after_due(section)
    run = services.reconcile(branch=branch, now=now)
    assert (run.reports_opened, run.exempt) == (0, 1)
    exemption = Exemption.objects.get(section=section)
    assert (exemption.reason, exemption.granted_by, exemption.ends_on) == (
        ExemptionReason.CLAIM_IN_PROGRESS,
        None,
        day_of(now),
    )
    # the next day the claim is still in progress: still exempt
    assert services.reconcile(branch=branch, now=after_due(section, days=1)).reports_opened == 0
    # once the manufacturer paid, the papers are due
    WarrantyClaim.objects.filter(work_order=work_order).update(status=WarrantyClaimStatus.PAID)
    assert services.reconcile(branch=branch, now=after_due(section, days=2)).reports_opened == 1


def test_a_claim_does_not_shorten_a_longer_exemption(branch, advisor, technician, customer_care):
    work_order = closed_work_order(
        branch, advisor, technician, service_type=ServiceType.WARRANTY, prepare=warranty_claim
    )
    section = work_order.archive_section
    ends_on = timezone.localdate() + timedelta(days=10)
    exempt(section, customer_care, ends_on, reason=ExemptionReason.IN_REPAIR)
    before = state(section.exemption)
    services.reconcile(branch=branch, now=after_due(section))
    assert state(section.exemption) == before
