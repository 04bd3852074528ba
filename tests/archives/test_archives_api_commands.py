"""The archive's commands and reads through the API: a file's detail with its sections and
findings, the audit with its record and point, the batch's handover, exemptions, the
reconciliation run, disposal with its approval, the disposal list and the figures; each
refusal with its stable code and nothing changed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from archives import services
from archives.choices import (
    BatchStatus,
    DocumentKind,
    DocumentStatus,
    ExemptionReason,
    FileStatus,
    PenaltyReason,
)
from archives.models import (
    ArchiveDocument,
    Exemption,
    MissingArchiveReport,
    Nonconformity,
    PenaltyPoint,
    Reconciliation,
    SubmissionBatch,
    VehicleFile,
)
from dealer_crm.choices import Role
from tests.archives.helpers import PDF, delivered_section, file_sales_papers, scan
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

API = "/api/v1/"


@pytest.fixture
def section(branch, consultant):
    """A sales section delivered 10 days ago: its papers are overdue."""
    return delivered_section(branch, consultant, days_ago=10)


@pytest.fixture
def form(section, consultant):
    """The delivery form, filed and awaiting audit."""
    return services.document_upload(
        section=section, kind=DocumentKind.DELIVERY_FORM, upload=scan("form.pdf"), by=consultant
    )


def refused(response, status: int, code: str, field: str | None = None) -> dict:
    body = response.json()
    assert (response.status_code, body.get("code")) == (status, code), body
    assert body["detail"]
    if field:
        assert body[field] == [body["detail"]]
    return body


def row(instance) -> dict:
    return type(instance).objects.filter(pk=instance.pk).values().get()


def seal(vehicle_file) -> None:
    VehicleFile.objects.filter(pk=vehicle_file.pk).update(
        status=FileStatus.SEALED,
        sealed_at=timezone.now(),
        retain_until=timezone.localdate() - timedelta(days=1),
    )


# --- files and sections -------------------------------------------------------------------------


def test_a_file_shows_its_sections_findings_and_documents(
    api_as, section, form, consultant, customer_care
):
    # given a sales file with its delivery form filed, in its week's batch, exempted
    services.batches_prepare()
    services.reconcile(branch=section.vehicle_file.branch)
    services.exemption_grant(
        section=section, reason=ExemptionReason.NOT_INVOICED, note="发票未开",
        ends_on=timezone.localdate(), by=customer_care,
    )  # fmt: skip
    # when the consultant opens the file
    response = api_as(consultant).get(f"{API}vehicle-files/{section.vehicle_file_id}/")
    # then it shows the vehicle, and its sales section in filing order
    assert response.status_code == 200
    body = response.json()
    vehicle = section.delivery.vehicle
    assert (body["number"], body["vin"], body["owner_name"], body["status"]) == (
        section.vehicle_file.number, vehicle.vin, vehicle.owner.name, FileStatus.ACTIVE,
    )  # fmt: skip
    (shown,) = body["sections"]
    assert shown["kind"] == "sales" and shown["record_number"] == section.delivery.order.number
    assert shown["expected"][:2] == [DocumentKind.DELIVERY_FORM, DocumentKind.PURCHASE_INVOICE]
    assert [document["id"] for document in shown["documents"]] == [form.pk]
    # with what the checks found, as a code and a message in the reader's language
    (finding,) = shown["findings"]
    assert finding["code"] == "documents_missing"
    assert finding["message"].startswith("Missing: Purchase invoice (购车发票); ")
    assert shown["complete"] is False
    # and its batch, exemption and resolved missing report
    assert shown["batch_number"] == SubmissionBatch.objects.get().number
    assert shown["exemption"]["reason"] == ExemptionReason.NOT_INVOICED
    assert shown["missing_report"]["resolved_at"] is not None
    assert body["destroyed"] == []


def test_the_checks_flag_an_invoice_dated_3_days_from_the_pdi(api_as, section, consultant):
    # given the seven papers, the invoice dated 3 days after the PDI certificate
    later = section.period_on + timedelta(days=3)
    file_sales_papers(
        section, consultant,
        overrides={DocumentKind.PURCHASE_INVOICE: {"document_date": later}},
    )  # fmt: skip
    # when the consultant reruns the checks
    response = api_as(consultant).post(f"{API}file-sections/{section.pk}/check/")
    # then the gap is found, with its values, and the section is not complete
    assert response.status_code == 200
    (finding,) = response.json()["findings"]
    assert finding["code"] == "invoice_pdi_gap" and finding["values"]["days"] == 3
    assert "at most 24 hours" in finding["message"]
    assert response.json()["complete"] is False


def test_files_are_found_by_number_vin_tail_and_status(api_as, branch, section, consultant):
    # given a second file, sealed
    sealed = delivered_section(branch, consultant).vehicle_file
    seal(sealed)
    client = api_as(consultant)

    def found(**query) -> list[int]:
        response = client.get(f"{API}vehicle-files/", query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    vin = section.delivery.vehicle.vin
    assert found(search=section.vehicle_file.number) == [section.vehicle_file_id]
    assert found(search=vin[-6:]) == [section.vehicle_file_id]
    assert found(status=FileStatus.SEALED) == [sealed.pk]
    assert found() == [sealed.pk, section.vehicle_file_id]
    assert found(incomplete="true") == [sealed.pk, section.vehicle_file_id]
    assert client.get(f"{API}vehicle-files/", {"status": "lost"}).status_code == 400


def test_sections_are_filtered_by_due_and_kind(api_as, branch, section, consultant):
    # given an overdue sales section and one delivered today
    today = delivered_section(branch, consultant)
    client = api_as(consultant)
    # when the due ones are asked for
    due = client.get(f"{API}file-sections/", {"due": "true"}).json()["results"]
    sales = client.get(f"{API}file-sections/", {"kind": "sales"}).json()["results"]
    # then only the overdue one is, and both are sales sections
    assert [row["id"] for row in due] == [section.pk]
    assert {row["id"] for row in sales} == {section.pk, today.pk}


# --- the audit ----------------------------------------------------------------------------------


def test_a_conforming_audit_counts_and_a_second_audit_is_refused(api_as, form, customer_care):
    # when the archivist audits the delivery form as conforming
    client = api_as(customer_care)
    url = f"{API}archive-documents/{form.pk}/audit/"
    response = client.post(url, {"conforming": True})
    # then it is conforming, audited by them
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["audited_by"]) == (DocumentStatus.CONFORMING, customer_care.pk)
    # and auditing it again is a conflict that changes nothing
    before = row(form)
    second = client.post(url, {"conforming": False, "reason": "x"})
    refused(second, 409, "document_not_awaiting_audit")
    assert row(form) == before and not Nonconformity.objects.exists()


def test_a_returned_document_gets_its_record_and_point(api_as, form, consultant, customer_care):
    # when the archivist returns the delivery form
    response = api_as(customer_care).post(
        f"{API}archive-documents/{form.pk}/audit/", {"conforming": False, "reason": "缺签字"}
    )
    # then it is returned with a record naming the consultant, due back in 24 hours
    assert response.status_code == 200, response.json()
    record = Nonconformity.objects.get(document=form)
    assert response.json()["status"] == DocumentStatus.RETURNED
    assert response.json()["nonconformity"] == record.pk
    assert (record.reason, record.responsible, record.returned_by) == (
        "缺签字", consultant, customer_care,
    )  # fmt: skip
    # which the consultant sees, open, without seeing the points
    client = api_as(consultant)
    records = client.get(f"{API}nonconformities/", {"open": "true"}).json()["results"]
    assert [(item["id"], item["responsible"]) for item in records] == [(record.pk, consultant.pk)]
    assert client.get(f"{API}nonconformities/{record.pk}/").json()["reason"] == "缺签字"
    assert client.get(f"{API}penalty-points/").status_code == 403
    # while the archivist sees the consultant's point
    points = api_as(customer_care).get(f"{API}penalty-points/", {"person": consultant.pk}).json()
    assert [(p["reason"], p["points"], p["nonconformity"]) for p in points["results"]] == [
        (PenaltyReason.NONCONFORMING, 1, record.pk)
    ]


def test_a_returned_document_may_name_another_colleague(api_as, form, advisor, customer_care):
    response = api_as(customer_care).post(
        f"{API}archive-documents/{form.pk}/audit/",
        {"conforming": False, "reason": "盖章不清", "responsible": advisor.pk},
    )
    assert response.status_code == 200
    assert Nonconformity.objects.get(document=form).responsible == advisor
    assert PenaltyPoint.objects.get().person == advisor


def test_a_return_without_a_reason_is_refused(api_as, form, customer_care):
    before = row(form)
    response = api_as(customer_care).post(
        f"{API}archive-documents/{form.pk}/audit/", {"conforming": False, "reason": "  "}
    )
    refused(response, 400, "reason_required", "reason")
    assert row(form) == before and not Nonconformity.objects.exists()


def test_the_responsible_person_works_in_the_files_branch(
    api_as, form, branch, other_branch, other_branch_user
):
    # given an archivist of both branches, naming a consultant of the other as responsible
    archivist = UserFactory(roles=[Role.CUSTOMER_CARE], branches=[branch, other_branch])
    before = row(form)
    response = api_as(archivist).post(
        f"{API}archive-documents/{form.pk}/audit/",
        {"conforming": False, "reason": "缺页", "responsible": other_branch_user.pk},
    )
    refused(response, 400, "responsible_other_branch", "responsible")
    assert row(form) == before and not PenaltyPoint.objects.exists()


def test_a_sealed_files_document_is_not_audited(api_as, form, section, customer_care):
    seal(section.vehicle_file)
    before = row(form)
    response = api_as(customer_care).post(
        f"{API}archive-documents/{form.pk}/audit/", {"conforming": True}
    )
    refused(response, 409, "file_sealed")
    assert row(form) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "conforming"), ({"conforming": "perhaps"}, "conforming"),
     ({"conforming": False, "reason": "x" * 301}, "reason"),
     ({"conforming": False, "reason": "x", "responsible": 999999}, "responsible")],
)  # fmt: skip
def test_bad_audit_input_is_refused_beside_its_field(api_as, form, customer_care, body, field):
    response = api_as(customer_care).post(f"{API}archive-documents/{form.pk}/audit/", body)
    assert response.status_code == 400 and field in response.json(), response.json()
    form.refresh_from_db()
    assert form.status == DocumentStatus.RECEIVED


def test_an_audit_sent_twice_with_one_key_is_done_once(api_as, form, customer_care):
    client = api_as(customer_care)
    url = f"{API}archive-documents/{form.pk}/audit/"
    body = {"conforming": False, "reason": "缺页"}
    first = client.post(url, body, HTTP_IDEMPOTENCY_KEY="audit-1")
    again = client.post(url, body, HTTP_IDEMPOTENCY_KEY="audit-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Nonconformity.objects.count() == PenaltyPoint.objects.count() == 1


def test_the_audit_queue_lists_what_awaits_audit(api_as, form, section, consultant, customer_care):
    # given a second scan, already audited
    other = services.document_upload(
        section=section, kind=DocumentKind.CONFORMITY_CERTIFICATE, upload=scan("coc.pdf", PDF),
        by=consultant,
    )  # fmt: skip
    services.document_audit(document=other, conforming=True, by=customer_care)
    # when the archivist asks for the scans received
    response = api_as(customer_care).get(f"{API}archive-documents/", {"status": "received"})
    # then only the one awaiting audit is listed
    assert [item["id"] for item in response.json()["results"]] == [form.pk]


# --- batches ------------------------------------------------------------------------------------


@pytest.fixture
def batch(section, form):
    services.batches_prepare()
    return SubmissionBatch.objects.get()


def test_a_batch_shows_its_handover_rows(api_as, batch, section, customer_care):
    response = api_as(customer_care).get(f"{API}archive-batches/{batch.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert (body["number"], body["status"], body["kind"]) == (batch.number, "expected", "sales")
    (shown,) = body["sections"]
    assert (shown["section"], shown["vehicle_file_number"], shown["document_count"]) == (
        section.pk, section.vehicle_file.number, 1,
    )  # fmt: skip
    assert shown["record_number"] == section.delivery.order.number


def test_receiving_a_batch_records_the_handover_once(api_as, batch, consultant, customer_care):
    # when the archivist receives the batch the consultant brings
    client = api_as(customer_care)
    url = f"{API}archive-batches/{batch.pk}/receive/"
    response = client.post(url, {"handed_over_by": consultant.pk})
    # then the handover form records who, when and how many
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["handed_over_by"], body["received_by"]) == (
        BatchStatus.RECEIVED, consultant.pk, customer_care.pk,
    )  # fmt: skip
    assert (body["file_count"], body["document_count"]) == (1, 1)
    assert body["received_at"] and len(body["sections"]) == 1
    # and receiving it again is a conflict
    before = row(batch)
    refused(client.post(url, {"handed_over_by": consultant.pk}), 409, "batch_already_received")
    assert row(batch) == before


def test_a_receipt_replayed_with_its_key_is_not_a_conflict(
    api_as, batch, consultant, customer_care
):
    client = api_as(customer_care)
    url = f"{API}archive-batches/{batch.pk}/receive/"
    first = client.post(url, {"handed_over_by": consultant.pk}, HTTP_IDEMPOTENCY_KEY="r-1")
    again = client.post(url, {"handed_over_by": consultant.pk}, HTTP_IDEMPOTENCY_KEY="r-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()


def test_the_bringer_works_in_the_batchs_branch(
    api_as, batch, branch, other_branch, other_branch_user
):
    archivist = UserFactory(roles=[Role.CUSTOMER_CARE], branches=[branch, other_branch])
    before = row(batch)
    response = api_as(archivist).post(
        f"{API}archive-batches/{batch.pk}/receive/", {"handed_over_by": other_branch_user.pk}
    )
    refused(response, 400, "handed_over_by_other_branch", "handed_over_by")
    assert row(batch) == before


def test_batches_are_filtered_by_status(api_as, batch, consultant, customer_care):
    client = api_as(customer_care)
    expected = client.get(f"{API}archive-batches/", {"status": "expected"}).json()
    assert [shown["id"] for shown in expected["results"]] == [batch.pk]
    services.batch_receive(batch=batch, handed_over_by=consultant, by=customer_care)
    assert client.get(f"{API}archive-batches/", {"status": "expected"}).json()["results"] == []


# --- exemptions, reconciliation, missing reports -----------------------------------------------


def test_a_reconciliation_run_opens_a_missing_report(api_as, branch, section, customer_care):
    # when the archivist runs the reconciliation of their branch
    client = api_as(customer_care)
    response = client.post(f"{API}archive-reconciliations/run/", {})
    # then the day's counts come back, with the overdue section's report opened
    assert response.status_code == 200, response.json()
    (run,) = response.json()
    assert (run["branch"], run["deliveries"], run["sales_sections"], run["reports_opened"]) == (
        branch.pk, 1, 1, 1,
    )  # fmt: skip
    report = MissingArchiveReport.objects.get(section=section)
    reports = client.get(f"{API}missing-archive-reports/", {"open": "true"}).json()["results"]
    assert [(r["id"], r["number"], r["section"]) for r in reports] == [
        (report.pk, report.number, section.pk)
    ]
    detail = client.get(f"{API}missing-archive-reports/{report.pk}/").json()
    assert detail["record_number"] == section.delivery.order.number
    assert [r["id"] for r in client.get(f"{API}archive-reconciliations/").json()["results"]] == [
        run["id"]
    ]


def test_a_branch_manager_runs_one_named_branch(api_as, branch, branch_manager):
    response = api_as(branch_manager).post(
        f"{API}archive-reconciliations/run/", {"branch": branch.pk}
    )
    assert response.status_code == 200
    assert [run["branch"] for run in response.json()] == [branch.pk]
    assert Reconciliation.objects.get().branch == branch


def test_a_run_replayed_with_its_key_is_run_once(api_as, branch, section, customer_care):
    client = api_as(customer_care)
    url = f"{API}archive-reconciliations/run/"
    first = client.post(url, {}, HTTP_IDEMPOTENCY_KEY="run-1")
    again = client.post(url, {}, HTTP_IDEMPOTENCY_KEY="run-1")
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert first.json()[0]["reports_opened"] == 1


def test_an_exemption_resolves_the_missing_report(api_as, branch, section, customer_care):
    # given the section's missing report
    services.reconcile(branch=branch)
    # when the archivist exempts the section until tomorrow
    tomorrow = timezone.localdate() + timedelta(days=1)
    client = api_as(customer_care)
    response = client.post(
        f"{API}file-sections/{section.pk}/exempt/",
        {"reason": ExemptionReason.IN_REPAIR, "note": "车辆仍在维修", "ends_on": str(tomorrow)},
    )
    # then the section shows the exemption and its report is resolved
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["exemption"]["reason"], body["exemption"]["ends_on"]) == (
        ExemptionReason.IN_REPAIR, str(tomorrow),
    )  # fmt: skip
    assert body["missing_report"]["resolved_at"] is not None
    listed = client.get(f"{API}exemptions/").json()["results"]
    assert [(e["section"], e["granted_by"]) for e in listed] == [(section.pk, customer_care.pk)]


@pytest.mark.parametrize(
    ("note", "days", "code", "field"),
    [("  ", 1, "note_required", "note"), ("在修", -1, "exemption_in_the_past", "ends_on")],
)
def test_an_exemption_needs_a_note_and_a_day_ahead(
    api_as, section, customer_care, note, days, code, field
):
    ends_on = timezone.localdate() + timedelta(days=days)
    response = api_as(customer_care).post(
        f"{API}file-sections/{section.pk}/exempt/",
        {"reason": ExemptionReason.IN_REPAIR, "note": note, "ends_on": str(ends_on)},
    )
    refused(response, 400, code, field)
    assert not Exemption.objects.exists()


def test_a_sealed_file_is_not_exempted(api_as, section, customer_care):
    seal(section.vehicle_file)
    response = api_as(customer_care).post(
        f"{API}file-sections/{section.pk}/exempt/",
        {"reason": ExemptionReason.IN_REPAIR, "note": "在修", "ends_on": str(timezone.localdate())},
    )
    refused(response, 409, "file_sealed")
    assert not Exemption.objects.exists()


# --- retention and disposal ---------------------------------------------------------------------


def test_the_disposal_list_holds_only_sealed_files(
    api_as, branch, section, consultant, customer_care
):
    sealed = delivered_section(branch, consultant).vehicle_file
    seal(sealed)
    response = api_as(customer_care).get(f"{API}retention/")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [sealed.pk]


def test_a_sealed_file_is_disposed_of_with_a_managers_approval(
    api_as, section, form, customer_care, branch_manager
):
    # given a sealed file holding a scan
    seal(section.vehicle_file)
    url = f"{API}vehicle-files/{section.vehicle_file_id}/"
    # when the archivist requests its disposal and the manager approves it
    requested = api_as(customer_care).post(url + "disposal-request/")
    approved = api_as(branch_manager).post(url + "disposal-approve/")
    # then the file is disposed of, keeping the list of what was destroyed
    assert (requested.status_code, approved.status_code) == (200, 200), approved.json()
    assert requested.json()["disposal_requested_by"] == customer_care.pk
    body = approved.json()
    assert (body["status"], body["disposed_by"]) == (FileStatus.DISPOSED, branch_manager.pk)
    assert [(item["kind"], item["sha256"]) for item in body["destroyed"]] == [
        (form.kind, form.sha256)
    ]
    # and its scan cannot be fetched any more
    download = api_as(customer_care).get(f"{API}archive-documents/{form.pk}/download/")
    assert (download.status_code, download.json()["code"]) == (404, "document_destroyed")


def test_an_active_file_is_not_put_forward_for_disposal(api_as, section, customer_care):
    before = row(section.vehicle_file)
    response = api_as(customer_care).post(
        f"{API}vehicle-files/{section.vehicle_file_id}/disposal-request/"
    )
    refused(response, 409, "file_not_sealed")
    assert row(section.vehicle_file) == before


def test_disposal_is_requested_once_and_approved_only_when_requested(
    api_as, section, customer_care, branch_manager
):
    seal(section.vehicle_file)
    url = f"{API}vehicle-files/{section.vehicle_file_id}/"
    before = row(section.vehicle_file)
    refused(api_as(branch_manager).post(url + "disposal-approve/"), 409, "disposal_not_requested")
    assert row(section.vehicle_file) == before
    client = api_as(customer_care)
    assert client.post(url + "disposal-request/").status_code == 200
    requested = row(section.vehicle_file)
    refused(client.post(url + "disposal-request/"), 409, "disposal_already_requested")
    assert row(section.vehicle_file) == requested


def test_nobody_approves_their_own_disposal_request(api_as, branch, section):
    # given someone who may both request and approve
    both = UserFactory(roles=[Role.CUSTOMER_CARE, Role.BRANCH_MANAGER], branches=[branch])
    seal(section.vehicle_file)
    client = api_as(both)
    url = f"{API}vehicle-files/{section.vehicle_file_id}/"
    assert client.post(url + "disposal-request/").status_code == 200
    requested = row(section.vehicle_file)
    # when they approve their own request
    refused(client.post(url + "disposal-approve/"), 400, "own_request")
    # then the file is still sealed
    assert row(section.vehicle_file) == requested


def test_a_disposal_request_replayed_with_its_key_is_not_a_conflict(api_as, section, customer_care):
    seal(section.vehicle_file)
    url = f"{API}vehicle-files/{section.vehicle_file_id}/disposal-request/"
    client = api_as(customer_care)
    first = client.post(url, HTTP_IDEMPOTENCY_KEY="d-1")
    again = client.post(url, HTTP_IDEMPOTENCY_KEY="d-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()


# --- figures ------------------------------------------------------------------------------------


def test_the_figures_show_completeness_and_points(
    api_as, branch, section, form, consultant, customer_care
):
    # given the overdue section, not complete, and a returned document
    services.document_audit(document=form, conforming=False, by=customer_care, reason="缺页")
    services.reconcile(branch=branch)
    start = timezone.localdate() - timedelta(days=30)
    # when the archivist reads the month's figures
    response = api_as(customer_care).get(
        f"{API}archive-figures/", {"start": str(start), "branch": branch.pk}
    )
    # then the section counts as due and not complete, with one point for the consultant
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["sections_due"], body["sections_complete"], body["completeness"]) == (
        1, 0, "0.000",
    )  # fmt: skip
    assert (body["goal"], body["meets_goal"]) == ("0.99", False)
    assert (body["nonconforming"], body["missing_open"]) == (1, 1)
    assert body["points"] == [
        {"person": consultant.pk, "name": "李小明", "points": 1, "nonconforming": 1, "late": 0,
         "unchanged": 0},
    ]  # fmt: skip
    assert body["start"] == str(start)


def test_figures_over_a_backwards_period_are_refused(api_as, customer_care):
    today = timezone.localdate()
    response = api_as(customer_care).get(
        f"{API}archive-figures/", {"start": str(today), "end": str(today - timedelta(days=1))}
    )
    assert response.status_code == 400 and "end" in response.json()


def test_nothing_is_ever_edited_or_deleted(api_as, section, form, customer_care):
    client = api_as(customer_care)
    assert client.patch(f"{API}vehicle-files/{section.vehicle_file_id}/", {}).status_code == 405
    assert client.delete(f"{API}archive-documents/{form.pk}/").status_code == 405
    assert client.post(f"{API}archive-documents/", {}).status_code == 405
    assert ArchiveDocument.objects.filter(pk=form.pk).exists()
