"""The archive's oversight pages: submission batches with their handover form (on screen,
received, printed), nonconformity records and penalty points, missing-archive reports,
reconciliation run from the page, retention with disposal requested and approved by another
manager, and the archive figures. Each page answers the archivist and the managers, refuses
the roles without its permission, answers 404 for another branch's records, and costs the same
queries for 1 row as for 5."""

from datetime import datetime, time, timedelta

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from archives import services
from archives.choices import (
    BatchStatus,
    DocumentKind,
    FileStatus,
    SectionKind,
)
from archives.models import (
    FileSection,
    MissingArchiveReport,
    Nonconformity,
    PenaltyPoint,
    Reconciliation,
    SubmissionBatch,
    VehicleFile,
)
from dealer_crm.choices import Role
from dealer_crm.periods import LOCAL_TIME_ZONE
from tests.archives.helpers import PDF, closed_work_order, delivered_section, scan
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"archives:{name}", args=args)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def tomorrow_at(hour: int) -> datetime:
    return datetime.combine(
        timezone.localdate() + timedelta(days=1), time(hour), tzinfo=LOCAL_TIME_ZONE
    )


def upload(section, kind, by, content: bytes = b""):
    return services.document_upload(
        section=section, kind=kind, upload=scan(f"{kind}.pdf", PDF + kind.encode() + content),
        by=by, data={"document_date": section.period_on, "name_on_document": "王芳"},
    )  # fmt: skip


def past_due(section: FileSection) -> FileSection:
    """The section's papers were due an hour ago."""
    FileSection.objects.filter(pk=section.pk).update(due_at=timezone.now() - timedelta(hours=1))
    section.refresh_from_db()
    return section


def returned(section, consultant, customer_care, kind=DocumentKind.DELIVERY_FORM) -> Nonconformity:
    """A document of the section filed and returned as nonconforming (one point)."""
    document = upload(section, kind, consultant)
    services.document_audit(
        document=document, conforming=False, by=customer_care, reason="缺少客户签字"
    )
    return Nonconformity.objects.get(document=document)


def sealed(section: FileSection) -> VehicleFile:
    """The section's file sealed, its retention over."""
    VehicleFile.objects.filter(pk=section.vehicle_file_id).update(
        status=FileStatus.SEALED, sealed_at=timezone.now(), retain_until=timezone.localdate()
    )
    return VehicleFile.objects.get(pk=section.vehicle_file_id)


@pytest.fixture
def work_order_section(branch, advisor, technician) -> FileSection:
    return closed_work_order(branch, advisor, technician).archive_section


@pytest.fixture
def batch(work_order_section) -> SubmissionBatch:
    """Today's service files, batched the next morning before they are due at 10:00."""
    services.batches_prepare(now=tomorrow_at(9))
    return SubmissionBatch.objects.get(sections=work_order_section)


@pytest.fixture
def sales_section(branch, consultant) -> FileSection:
    return delivered_section(branch, consultant)


@pytest.fixture
def report(sales_section, branch) -> MissingArchiveReport:
    services.reconcile(branch=branch, now=past_due(sales_section).due_at + timedelta(minutes=1))
    return MissingArchiveReport.objects.get(section=sales_section)


@pytest.fixture
def other_records(other_branch, other_branch_user) -> dict:
    """A batch, a missing report and a sealed file of the other branch."""
    section = past_due(delivered_section(other_branch, other_branch_user))
    services.reconcile(branch=other_branch, now=section.due_at + timedelta(minutes=1))
    batch = SubmissionBatch.objects.create(
        branch=other_branch, kind=SectionKind.SALES, period_start=section.period_on,
        period_end=section.period_on, due_at=section.due_at,
    )  # fmt: skip
    return {
        "batch": batch,
        "report": MissingArchiveReport.objects.get(section=section),
        "file": sealed(section),
    }


LIST_PAGES = [
    "batch-list",
    "nonconformity-list",
    "points",
    "missing-list",
    "reconciliation-list",
    "retention",
    "figures",
]


# --- Access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["customer_care", "branch_manager", "group_manager"])
def test_every_page_answers_the_archivist_and_the_managers(
    request, client, persona, batch, report, consultant, customer_care
):
    # given a batch, a missing report, a returned document and a run
    returned(report.section, consultant, customer_care)
    services.reconcile(branch=batch.branch)
    client.force_login(request.getfixturevalue(persona))
    pages = [url(name) for name in LIST_PAGES] + [
        url("batch-detail", batch.pk),
        url("batch-print", batch.pk),
        url("missing-detail", report.pk),
    ]
    # when each page is opened, then it answers
    for page in pages:
        assert client.get(page).status_code == 200, page


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_pages_render_in_both_languages(client, customer_care, batch, report, language):
    client.force_login(customer_care)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for page in [
        *(url(name) for name in LIST_PAGES),
        url("batch-detail", batch.pk),
        url("batch-print", batch.pk),
        url("missing-detail", report.pk),
    ]:
        response = client.get(page)
        assert response.status_code == 200, page
        assert f'lang="{language}"' in response.content.decode(), page


def test_a_technician_has_none_of_these_pages(
    client, technician, batch, report, advisor, sales_section
):
    client.force_login(technician)
    for page in [
        *(url(name) for name in LIST_PAGES),
        url("batch-detail", batch.pk),
        url("batch-print", batch.pk),
        url("missing-detail", report.pk),
    ]:
        assert client.get(page).status_code == 403, page
    vehicle_file = sealed(sales_section)
    runs = list(Reconciliation.objects.values_list("pk", "run_at"))
    # and none of the actions, which change nothing
    answers = [
        client.post(url("batch-receive", batch.pk), {"handed_over_by": advisor.pk}).status_code,
        client.post(url("reconciliation-run")).status_code,
        client.post(url("disposal", vehicle_file.pk, "request")).status_code,
    ]
    assert answers == [403, 403, 403]
    batch.refresh_from_db()
    vehicle_file.refresh_from_db()
    assert batch.status == BatchStatus.EXPECTED
    assert list(Reconciliation.objects.values_list("pk", "run_at")) == runs
    assert vehicle_file.disposal_requested_at is None


def test_a_consultant_reads_the_records_but_not_the_points_batches_or_figures(
    client, consultant, customer_care, batch, report
):
    # given a document of the consultant returned with a point
    record = returned(report.section, consultant, customer_care)
    client.force_login(consultant)
    # then the records list answers, without the points column
    response = client.get(url("nonconformity-list"))
    assert response.status_code == 200
    assert [row.pk for row in response.context["page"]] == [record.pk]
    assert not response.context["show_points"]
    # the retention page answers without its buttons; the rest is refused
    retention = client.get(url("retention"))
    assert retention.status_code == 200 and b"Request disposal" not in retention.content
    for page in [
        url("points"),
        url("batch-list"),
        url("batch-detail", batch.pk),
        url("missing-list"),
        url("missing-detail", report.pk),
        url("reconciliation-list"),
        url("figures"),
    ]:
        assert client.get(page).status_code == 403, page


def test_another_branch_batch_report_and_file_answer_404(
    client, customer_care, branch_manager, advisor, other_records
):
    client.force_login(customer_care)
    other_batch, other_report, other_file = (
        other_records["batch"], other_records["report"], other_records["file"],
    )  # fmt: skip
    for page in [
        url("batch-detail", other_batch.pk),
        url("batch-print", other_batch.pk),
        url("missing-detail", other_report.pk),
    ]:
        assert client.get(page).status_code == 404, page
    receive = client.post(url("batch-receive", other_batch.pk), {"handed_over_by": advisor.pk})
    request = client.post(url("disposal", other_file.pk, "request"))
    client.force_login(branch_manager)
    approve = client.post(url("disposal", other_file.pk, "approve"))
    assert [receive.status_code, request.status_code, approve.status_code] == [404, 404, 404]
    other_batch.refresh_from_db()
    other_file.refresh_from_db()
    assert other_batch.status == BatchStatus.EXPECTED
    assert other_file.disposal_requested_at is None and other_file.status == FileStatus.SEALED


def test_the_lists_leave_out_another_branch(client, customer_care, batch, report, other_records):
    client.force_login(customer_care)
    assert [b.pk for b in client.get(url("batch-list")).context["page"]] == [batch.pk]
    assert [r.pk for r in client.get(url("missing-list")).context["page"]] == [report.pk]
    assert list(client.get(url("retention")).context["page"]) == []


# --- Batches and their handover form ---------------------------------------------------------


def test_the_batch_list_filters_late_batches(client, customer_care, batch, branch):
    # given a second batch, flagged late
    late = SubmissionBatch.objects.create(
        branch=branch, kind=SectionKind.SALES, period_start=timezone.localdate() - timedelta(14),
        period_end=timezone.localdate() - timedelta(8), due_at=timezone.now() - timedelta(7),
        late_flagged_at=timezone.now() - timedelta(6),
    )  # fmt: skip
    client.force_login(customer_care)
    response = client.get(url("batch-list"))
    page = response.content.decode()
    # then it carries the late badge, and the filter finds it alone
    assert "late-badge" in page[page.index(f'id="batch-{late.pk}"') :].split("</tr>")[0]
    assert "late-badge" not in page[page.index(f'id="batch-{batch.pk}"') :].split("</tr>")[0]
    assert [b.pk for b in client.get(url("batch-list"), {"late": "true"}).context["page"]] == [
        late.pk
    ]
    assert [b.pk for b in client.get(url("batch-list"), {"kind": "service"}).context["page"]] == [
        batch.pk
    ]


def test_the_handover_form_lists_the_files_of_the_batch(
    client, customer_care, batch, work_order_section, advisor
):
    upload(work_order_section, DocumentKind.WORK_ORDER, advisor)
    client.force_login(customer_care)
    response = client.get(url("batch-detail", batch.pk))
    page = response.content.decode()
    vehicle = work_order_section.vehicle_file.vehicle
    # then the row shows the file, the vehicle, its owner and the work order
    assert f'id="batch-row-{work_order_section.pk}"' in page
    for text in [
        work_order_section.vehicle_file.number, vehicle.vin, vehicle.owner.name,
        work_order_section.work_order.number,
    ]:  # fmt: skip
        assert text in page, text
    assert (response.context["file_count"], response.context["document_count"]) == (1, 1)
    # and the archivist may receive it
    assert 'id="batch-receive"' in page


def test_receiving_a_batch_freezes_its_counts(
    client, customer_care, batch, work_order_section, advisor
):
    upload(work_order_section, DocumentKind.WORK_ORDER, advisor)
    client.force_login(customer_care)
    # when the archivist receives the batch from the advisor
    response = client.post(url("batch-receive", batch.pk), {"handed_over_by": advisor.pk})
    # then it is received with its counts, by whom and from whom
    assert response.status_code == 302 and response["Location"] == url("batch-detail", batch.pk)
    assert messages_of(response) == [f"{batch.number} received. Files: 1, documents: 1."]
    batch.refresh_from_db()
    assert batch.status == BatchStatus.RECEIVED
    assert (batch.file_count, batch.document_count) == (1, 1)
    assert (batch.received_by, batch.handed_over_by) == (customer_care, advisor)
    # a later upload leaves the form's counts as they were at receipt
    upload(work_order_section, DocumentKind.SETTLEMENT, advisor)
    page = client.get(url("batch-detail", batch.pk))
    assert (page.context["file_count"], page.context["document_count"]) == (1, 1)
    assert page.context["form"] is None and b'id="batch-receive"' not in page.content


def test_a_second_receive_is_refused_with_a_message(
    client, customer_care, batch, advisor, branch_manager
):
    services.batch_receive(batch=batch, handed_over_by=advisor, by=customer_care)
    before = SubmissionBatch.objects.get(pk=batch.pk)
    client.force_login(customer_care)
    # when the batch is received again
    response = client.post(url("batch-receive", batch.pk), {"handed_over_by": branch_manager.pk})
    # then the page says so and nothing changed
    assert response.status_code == 302
    assert messages_of(response) == ["This batch was already received."]
    after = SubmissionBatch.objects.get(pk=batch.pk)
    assert (after.handed_over_by, after.received_at) == (advisor, before.received_at)


def test_receiving_needs_a_person_of_the_batch_branch(
    client, customer_care, batch, other_branch_user
):
    client.force_login(customer_care)
    for data in [{}, {"handed_over_by": other_branch_user.pk}, {"handed_over_by": "abc"}]:
        response = client.post(url("batch-receive", batch.pk), data)
        assert response.status_code == 200
        assert response.context["form"].errors["handed_over_by"], data
    batch.refresh_from_db()
    assert batch.status == BatchStatus.EXPECTED


def test_the_print_page_has_the_rows_totals_and_signature_boxes(
    client, customer_care, batch, work_order_section, advisor
):
    services.batch_receive(batch=batch, handed_over_by=advisor, by=customer_care)
    client.force_login(customer_care)
    response = client.get(url("batch-print", batch.pk))
    page = response.content.decode()
    assert "档案交接表" in page and batch.branch.name in page
    assert f'id="print-row-{work_order_section.pk}"' in page
    assert work_order_section.work_order.number in page
    signatures = page[page.index('id="print-signatures"') :]
    assert signatures.count('class="signature') == 2
    assert "Handed over by" in signatures and "Received by" in signatures
    assert 'id="print-totals"' in page


# --- Nonconformities and points ----------------------------------------------------------------


def test_the_records_list_filters_open_overdue_and_responsible(
    client, customer_care, consultant, sales_section, branch
):
    # given two records of the consultant: one overdue, one sent back fixed
    overdue = returned(sales_section, consultant, customer_care)
    Nonconformity.objects.filter(pk=overdue.pk).update(due_by=timezone.now() - timedelta(hours=1))
    fixed = returned(sales_section, consultant, customer_care, DocumentKind.PURCHASE_INVOICE)
    resubmitted = upload(sales_section, DocumentKind.PURCHASE_INVOICE, consultant, b"fixed")
    services.document_audit(document=resubmitted, conforming=True, by=customer_care)
    client.force_login(customer_care)

    def listed(**query) -> list[int]:
        return [r.pk for r in client.get(url("nonconformity-list"), query).context["page"]]

    # then each filter finds its record
    assert sorted(listed()) == sorted([overdue.pk, fixed.pk])
    assert listed(open="true") == [overdue.pk]
    assert listed(open="false") == [fixed.pk]
    assert listed(overdue="true") == [overdue.pk]
    assert sorted(listed(responsible=consultant.pk)) == sorted([overdue.pk, fixed.pk])
    assert listed(responsible=customer_care.pk) == []
    page = client.get(url("nonconformity-list")).content.decode()
    row = page[page.index(f'id="nonconformity-{overdue.pk}"') :].split("</tr>")[0]
    assert "table-danger" in row and "Overdue" in row


def test_the_points_page_shows_points_per_person_with_links(
    client, branch_manager, customer_care, consultant, advisor, sales_section, work_order_section
):
    # given two points of the consultant (one record sent back unchanged) and one of the advisor
    record = returned(sales_section, consultant, customer_care)
    services.document_upload(
        section=sales_section, kind=DocumentKind.DELIVERY_FORM, by=consultant,
        upload=scan("again.pdf", record.document.file.read()), data={},
    )  # fmt: skip
    returned(work_order_section, advisor, customer_care, DocumentKind.WORK_ORDER)
    client.force_login(branch_manager)
    # when the manager opens the points of this month
    response = client.get(url("points"))
    # then each person has their total and reasons, most first
    people = response.context["people"]
    assert [(row["person"], row["points"]) for row in people] == [
        (consultant.pk, 2), (advisor.pk, 1),
    ]  # fmt: skip
    assert (people[0]["nonconforming"], people[0]["unchanged"]) == (1, 1)
    assert f"responsible={consultant.pk}" in people[0]["records_url"]
    assert people[0]["records_url"] in response.content.decode().replace("&amp;", "&")
    # the drill-down lists the points, and one person's on asking
    assert response.context["page"].paginator.count == 3
    theirs = client.get(url("points"), {"person": advisor.pk})
    assert [point.person_id for point in theirs.context["page"]] == [advisor.pk]


def test_the_points_page_takes_a_custom_period(
    client, branch_manager, consultant, customer_care, sales_section
):
    returned(sales_section, consultant, customer_care)
    client.force_login(branch_manager)
    last_year = timezone.localdate() - timedelta(days=400)
    # when a period with no point is asked for
    response = client.get(
        url("points"),
        {"period": "custom", "start": last_year.isoformat(), "end": last_year.isoformat()},
    )
    # then no person is listed; a period ending before it starts is refused beside the field
    assert response.context["people"] == [] and response.context["total"] == 0
    wrong = client.get(
        url("points"), {"period": "custom", "start": "2026-03-02", "end": "2026-03-01"}
    )
    assert wrong.status_code == 200 and wrong.context["people"] is None
    assert wrong.context["form"].errors["end"]


# --- Missing reports and reconciliation --------------------------------------------------------


def test_the_missing_list_filters_and_the_detail_shows_what_is_missing(
    client, customer_care, report, work_order_section, branch
):
    # given a second report, for a work order, flagged overdue
    past_due(work_order_section)
    services.reconcile(branch=branch)
    overdue = MissingArchiveReport.objects.get(section=work_order_section)
    MissingArchiveReport.objects.filter(pk=overdue.pk).update(
        due_by=timezone.now() - timedelta(hours=1), overdue_flagged_at=timezone.now()
    )
    client.force_login(customer_care)

    def listed(**query) -> list[int]:
        return [r.pk for r in client.get(url("missing-list"), query).context["page"]]

    assert sorted(listed(open="true")) == sorted([report.pk, overdue.pk])
    assert listed(overdue="true") == [overdue.pk]
    assert listed(kind="sales") == [report.pk]
    # when the archivist opens the overdue one
    response = client.get(url("missing-detail", overdue.pk))
    page = response.content.decode()
    # then it shows the work order, the file, the overdue badge and the papers missing
    assert response.context["overdue"] and 'id="report-overdue"' in page
    assert work_order_section.work_order.number in page
    assert url("file-detail", work_order_section.vehicle_file_id) in page
    assert any(finding.startswith("Missing:") for finding in response.context["findings"])
    assert f"#section-{work_order_section.pk}" in page and 'id="report-exempt"' in page


def test_a_resolved_report_offers_no_action(client, customer_care, report):
    MissingArchiveReport.objects.filter(pk=report.pk).update(resolved_at=timezone.now())
    client.force_login(customer_care)
    response = client.get(url("missing-detail", report.pk))
    assert not response.context["is_open"] and b'id="report-exempt"' not in response.content


def test_running_reconciliation_from_the_page_opens_a_missing_report(
    client, customer_care, work_order_section, branch
):
    # given a closed work order whose papers were due an hour ago
    past_due(work_order_section)
    client.force_login(customer_care)
    came_from = url("missing-list") + "?open=true"
    # when the archivist runs the reconciliation from the missing reports page
    response = client.post(url("reconciliation-run"), HTTP_REFERER=came_from)
    # then today's run is kept, a report is opened, and the page they came from comes back
    assert response.status_code == 302 and response["Location"] == came_from
    run = Reconciliation.objects.get(branch=branch, day=timezone.localdate())
    assert (run.work_orders, run.service_sections, run.reports_opened) == (1, 1, 1)
    report = MissingArchiveReport.objects.get(section=work_order_section)
    assert report.due_by == report.opened_at + timedelta(days=2)
    assert messages_of(response) == [
        f"Reconciled {branch.name}. Files opened: 0; missing reports opened: 1; "
        "missing reports open: 1."
    ]
    listed = client.get(url("reconciliation-list"))
    assert [r.pk for r in listed.context["page"]] == [run.pk]


def test_the_run_goes_back_only_to_a_page_of_ours(client, branch_manager, branch):
    client.force_login(branch_manager)
    response = client.post(url("reconciliation-run"), HTTP_REFERER="https://evil.example/x")
    assert response["Location"] == url("reconciliation-list")
    assert Reconciliation.objects.filter(branch=branch).count() == 1
    assert client.get(url("reconciliation-run")).status_code == 405


# --- Retention and disposal --------------------------------------------------------------------


@pytest.fixture
def archivist_manager(branch):
    """Someone who both puts files forward and approves disposals."""
    return UserFactory(
        username="archive_lead", roles=[Role.CUSTOMER_CARE, Role.BRANCH_MANAGER], branches=[branch]
    )


def test_disposal_is_requested_then_approved_by_another_manager(
    client, archivist_manager, branch_manager, sales_section, consultant
):
    upload(sales_section, DocumentKind.DELIVERY_FORM, consultant)
    vehicle_file = sealed(sales_section)
    client.force_login(archivist_manager)
    # when the file is put forward for disposal
    response = client.post(url("disposal", vehicle_file.pk, "request"))
    assert response["Location"] == url("retention")
    vehicle_file.refresh_from_db()
    assert vehicle_file.disposal_requested_by == archivist_manager
    # then its requester cannot approve it: refused with the message, nothing changed
    page = client.get(url("retention")).content.decode()
    row = page[page.index(f'id="disposal-{vehicle_file.pk}"') :].split("</tr>")[0]
    assert "approve-" not in row and "Another manager approves your request" in row
    response = client.post(url("disposal", vehicle_file.pk, "approve"))
    assert messages_of(response) == [
        f"{vehicle_file.number}: Someone other than the person who asked approves the disposal."
    ]
    vehicle_file.refresh_from_db()
    assert vehicle_file.status == FileStatus.SEALED
    # and another manager approves it: disposed, with the record of what was destroyed
    client.force_login(branch_manager)
    page = client.get(url("retention")).content.decode()
    assert f'id="approve-{vehicle_file.pk}"' in page
    response = client.post(url("disposal", vehicle_file.pk, "approve"))
    assert messages_of(response)[0].startswith(f"{vehicle_file.number} disposed of")
    vehicle_file.refresh_from_db()
    assert vehicle_file.status == FileStatus.DISPOSED and vehicle_file.disposed_by == branch_manager
    assert [item["kind"] for item in vehicle_file.destroyed] == [DocumentKind.DELIVERY_FORM]
    assert [f.pk for f in client.get(url("retention")).context["recently_disposed"]] == [
        vehicle_file.pk
    ]


def test_disposal_refusals_come_back_as_messages(
    client, customer_care, branch_manager, sales_section
):
    client.force_login(customer_care)
    # an active file cannot be put forward
    response = client.post(url("disposal", sales_section.vehicle_file_id, "request"))
    assert messages_of(response) == [
        f"{sales_section.vehicle_file.number}: Only a sealed file whose retention has ended is "
        "disposed of."
    ]
    vehicle_file = sealed(sales_section)
    # the archivist does not approve, and an unknown action is not one
    assert client.post(url("disposal", vehicle_file.pk, "approve")).status_code == 403
    assert client.post(url("disposal", vehicle_file.pk, "destroy")).status_code == 404
    # a manager cannot approve what nobody asked for
    client.force_login(branch_manager)
    response = client.post(url("disposal", vehicle_file.pk, "approve"))
    assert messages_of(response) == [
        f"{vehicle_file.number}: Disposal of this file was not requested."
    ]
    vehicle_file.refresh_from_db()
    assert vehicle_file.status == FileStatus.SEALED and vehicle_file.disposal_requested_at is None


def test_the_retention_page_lists_files_due_and_recently_sealed(
    client, customer_care, sales_section, work_order_section
):
    # given one file sealed now by the nightly job and one sealed long ago
    services.retention_apply(today=services.add_years(timezone.localdate(), 6))
    VehicleFile.objects.filter(pk=work_order_section.vehicle_file_id).update(
        sealed_at=timezone.now() - timedelta(days=90)
    )
    client.force_login(customer_care)
    response = client.get(url("retention"))
    page = response.content.decode()
    # then both are due for disposal, only the first was sealed recently
    assert {f.pk for f in response.context["page"]} == {
        sales_section.vehicle_file_id, work_order_section.vehicle_file_id,
    }  # fmt: skip
    assert [f.pk for f in response.context["recently_sealed"]] == [sales_section.vehicle_file_id]
    assert f'id="request-{sales_section.vehicle_file_id}"' in page
    assert 'id="retention-rules"' in page and "5 years after its last service" in page


# --- Figures -----------------------------------------------------------------------------------


def test_the_figures_count_a_known_data_set(
    client, branch_manager, customer_care, consultant, branch
):
    # given two sales sections due an hour ago, one complete, the other with a returned paper
    done, open_section = (past_due(delivered_section(branch, consultant)) for _ in range(2))
    FileSection.objects.filter(pk=done.pk).update(complete=True, completed_at=timezone.now())
    returned(open_section, consultant, customer_care)
    services.reconcile(branch=branch)
    due_day = timezone.localtime(open_section.due_at).date()
    client.force_login(branch_manager)
    # when the manager reads the figures of the days they fell due
    response = client.get(
        url("figures"),
        {"period": "custom", "start": due_day.isoformat(), "end": timezone.localdate().isoformat()},
    )
    # then half the sections are complete, under the goal
    cards = {card.key: card for card in response.context["cards"]}
    assert cards["completeness"].value == "50.0%" and cards["completeness"].good is False
    assert cards["sections"].value == "2"
    assert (cards["nonconforming"].value, cards["missing_open"].value) == ("1", "1")
    assert (cards["missing_overdue"].value, cards["points"].value) == ("0", "1")
    assert [(row["person"], row["points"]) for row in response.context["people"]] == [
        (consultant.pk, 1)
    ]
    # and each figure links to the list behind it
    page = response.content.decode().replace("&amp;", "&")
    assert f"returned_at_after={due_day.isoformat()}" in page
    assert url("file-list") + "?incomplete=true" in page
    assert url("missing-list") + "?open=true" in page
    nonconforming = client.get(
        url("nonconformity-list"),
        {"returned_at_after": due_day.isoformat(), "returned_at_before": timezone.localdate()},
    )
    assert nonconforming.context["page"].paginator.count == 1


def test_the_figures_show_a_dash_when_nothing_fell_due(client, branch_manager):
    client.force_login(branch_manager)
    response = client.get(url("figures"))
    cards = {card.key: card for card in response.context["cards"]}
    assert cards["completeness"].value == "—" and cards["completeness"].good is None
    assert cards["sections"].value == "0"


def test_a_group_manager_reads_one_branch_or_all(
    client, group_manager, branch, other_branch, consultant, other_branch_user
):
    past_due(delivered_section(branch, consultant))
    past_due(delivered_section(other_branch, other_branch_user))
    client.force_login(group_manager)
    everything = client.get(url("figures"), {"period": "this_year"})
    one = client.get(url("figures"), {"period": "this_year", "branch": other_branch.pk})
    assert everything.context["figures"]["sections_due"] == 2
    assert one.context["figures"]["sections_due"] == 1
    assert f"branch={other_branch.pk}" in one.content.decode()


# --- Query counts ------------------------------------------------------------------------------


def test_the_lists_cost_the_same_queries_for_1_and_5_rows(
    client, customer_care, consultant, branch, django_assert_max_num_queries
):
    client.force_login(customer_care)
    pages = [url(name) for name in LIST_PAGES]
    made = []

    def rows(how_many: int) -> None:
        """One more of each row: batch, record with its point, report, run and sealed file."""
        for _ in range(how_many):
            index = len(made)
            section = delivered_section(branch, consultant)
            returned(section, consultant, customer_care)
            MissingArchiveReport.objects.create(
                branch=branch, section=section, opened_at=timezone.now(),
                due_by=timezone.now() + timedelta(days=2),
            )  # fmt: skip
            day = timezone.localdate() - timedelta(days=7 * (index + 1))
            SubmissionBatch.objects.create(
                branch=branch, kind=SectionKind.SALES, period_start=day, period_end=day,
                due_at=timezone.now(), status=BatchStatus.RECEIVED, received_by=customer_care,
                received_at=timezone.now(), handed_over_by=consultant,
            )  # fmt: skip
            services.reconcile(branch=branch, now=timezone.now() - timedelta(days=index))
            sealed(section)
            made.append(section)

    def queries() -> dict:
        counted = {}
        for page in pages:
            with django_assert_max_num_queries(40) as captured:
                assert client.get(page).status_code == 200, page
            counted[page] = len(captured)
        return counted

    rows(1)
    one = queries()
    rows(4)
    five = queries()
    assert five == one
    assert client.get(url("missing-list")).context["page"].paginator.count == 5
    assert client.get(url("retention")).context["page"].paginator.count == 5
    assert PenaltyPoint.objects.count() == 5


def test_garbage_in_the_query_string_never_breaks_a_list(client, branch_manager, batch, report):
    client.force_login(branch_manager)
    garbage = {
        "status": "lost", "kind": "boat", "late": "maybe", "open": "x", "overdue": "2",
        "responsible": "abc", "person": "999999", "reason": "bored", "branch": "-1",
        "returned_at_after": "yesterday", "day_before": "2026-13-45", "period": "forever",
        "start": "x", "end": "2026-02-30", "sort": "drop table", "page": "last", "size": "1e9",
    }  # fmt: skip
    for name in LIST_PAGES:
        response = client.get(url(name), garbage)
        assert response.status_code == 200, name
