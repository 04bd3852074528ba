"""Retention (DOMAIN §6): a vehicle serviced here within 3 years is kept until 5 years after
its last service, any other 5 years from the file's opening; then the file is sealed
(封存) and read-only until the vehicle is serviced here again; a sealed file is disposed
of only on a request approved by a manager other than the one who asked, with a record of
what was destroyed."""

from datetime import date, timedelta

import pytest
from django.core.files.storage import default_storage
from django.test import TestCase
from django.utils import timezone

from archives import services
from archives.choices import DocumentKind, ExemptionReason, FileStatus
from archives.models import ArchiveDocument, Exemption, Nonconformity, VehicleFile
from dealer_crm.choices import Role
from dealer_crm.errors import StateConflict
from dealer_crm.models import Notification
from tests.archives.helpers import (
    PDF,
    closed_work_order,
    delivered_section,
    file_papers,
    refusal,
    scan,
    stored_files,
)
from tests.factories import UserFactory, VehicleFactory
from tests.service.helpers import counts, fresh, state

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

TODAY = date(2025, 6, 15)


# --- the retain-until date --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opened_on", "last_service_on", "today", "kept_until"),
    [
        # serviced here a year ago: 5 years after the last service
        (date(2019, 3, 1), date(2024, 6, 15), TODAY, date(2029, 6, 15)),
        # never serviced here: 5 years from the file's opening
        (date(2022, 3, 1), None, TODAY, date(2027, 3, 1)),
        # last serviced 4 years ago: 5 years from the opening (already past)
        (date(2020, 1, 10), date(2021, 6, 15), TODAY, date(2025, 1, 10)),
        # serviced exactly 3 years ago is no service in 3 years; a day later it is
        (date(2020, 1, 10), date(2022, 6, 15), TODAY, date(2025, 1, 10)),
        (date(2020, 1, 10), date(2022, 6, 16), TODAY, date(2027, 6, 16)),
        # 29 February: the 28th of February five years on
        (date(2024, 2, 29), None, TODAY, date(2029, 2, 28)),
        (date(2020, 5, 1), date(2024, 2, 29), TODAY, date(2029, 2, 28)),
        (date(2020, 5, 1), date(2024, 2, 29), date(2027, 2, 28), date(2029, 2, 28)),
    ],
)
def test_the_retain_until_date_follows_domain_6(opened_on, last_service_on, today, kept_until):
    vehicle_file = VehicleFile(opened_on=opened_on, last_service_on=last_service_on)
    assert services.retention_date(vehicle_file, today) == kept_until


def test_29_february_moves_to_the_28th_only_in_common_years():
    assert services.add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert services.add_years(date(2024, 2, 29), 5) == date(2029, 2, 28)
    assert services.add_years(date(2024, 2, 29), -3) == date(2021, 2, 28)


# --- sealing ----------------------------------------------------------------------------------


def a_file(branch, opened_on, last_service_on=None, **fields) -> VehicleFile:
    return VehicleFile.objects.create(
        branch=branch, vehicle=VehicleFactory(), opened_on=opened_on,
        last_service_on=last_service_on, retain_until=fields.pop("retain_until", opened_on),
        **fields,
    )  # fmt: skip


def test_sealing_takes_exactly_the_files_whose_time_has_come(branch):
    due_today = a_file(branch, date(2020, 6, 15))
    due_tomorrow = a_file(branch, date(2020, 6, 16))
    serviced = a_file(branch, date(2019, 1, 1), date(2024, 1, 1), retain_until=date(2020, 1, 1))
    dormant = a_file(branch, date(2018, 1, 1), date(2021, 6, 14))
    sealed = a_file(branch, date(2010, 1, 1), status=FileStatus.SEALED, sealed_at=timezone.now())
    sealed_before = state(sealed)

    assert services.retention_apply(today=TODAY) == 2
    assert [
        (fresh(f).status, fresh(f).retain_until)
        for f in [due_today, due_tomorrow, serviced, dormant]
    ] == [
        (FileStatus.SEALED, date(2025, 6, 15)),
        (FileStatus.ACTIVE, date(2025, 6, 16)),
        (FileStatus.ACTIVE, date(2029, 1, 1)),
        (FileStatus.SEALED, date(2023, 1, 1)),
    ]
    assert fresh(due_today).sealed_at is not None
    assert state(sealed) == sealed_before

    before = [state(f) for f in VehicleFile.objects.order_by("pk")]
    assert services.retention_apply(today=TODAY) == 0
    assert [state(f) for f in VehicleFile.objects.order_by("pk")] == before


@pytest.fixture
def sealed_section(branch, consultant):
    """A delivered vehicle's file with two papers in, sealed five years on."""
    section = delivered_section(branch, consultant)
    file_papers(section, consultant, kinds=[DocumentKind.DELIVERY_FORM, DocumentKind.BUYER_ID])
    services.retention_apply(today=services.add_years(section.vehicle_file.opened_on, 5))
    section.vehicle_file.refresh_from_db()
    assert section.vehicle_file.status == FileStatus.SEALED
    return section


def unchanged_by(call, section):
    """`call`'s refusal, after checking nothing of the file moved."""
    watched = (ArchiveDocument, Nonconformity, Exemption)
    before = (
        state(section), state(section.vehicle_file), counts(*watched),
        [state(d) for d in section.documents.order_by("pk")],
        stored_files(default_storage.location),
    )  # fmt: skip
    error = refusal(call)
    assert (
        state(section), state(section.vehicle_file), counts(*watched),
        [state(d) for d in section.documents.order_by("pk")],
        stored_files(default_storage.location),
    ) == before  # fmt: skip
    return error


def test_a_sealed_file_takes_no_upload(sealed_section, consultant):
    error = unchanged_by(
        lambda: services.document_upload(
            section=sealed_section, kind=DocumentKind.DELIVERY_FORM,
            upload=scan("again.pdf", PDF + b"again"), by=consultant,
        ),
        sealed_section,
    )  # fmt: skip
    assert isinstance(error, StateConflict) and error.code == "file_sealed"


@pytest.mark.parametrize("conforming", [True, False])
def test_a_sealed_file_takes_no_audit(sealed_section, customer_care, conforming):
    document = sealed_section.documents.first()
    error = unchanged_by(
        lambda: services.document_audit(
            document=document, conforming=conforming, by=customer_care, reason="缺页"
        ),
        sealed_section,
    )
    assert error.code == "file_sealed"


def test_a_sealed_file_takes_no_exemption(sealed_section, customer_care):
    error = unchanged_by(
        lambda: services.exemption_grant(
            section=sealed_section, reason=ExemptionReason.NOT_INVOICED, note="发票未到",
            ends_on=timezone.localdate() + timedelta(days=3), by=customer_care,
        ),
        sealed_section,
    )  # fmt: skip
    assert error.code == "file_sealed"


def test_servicing_the_vehicle_again_reopens_its_sealed_file(
    sealed_section, customer_care, advisor, technician
):
    vehicle_file = sealed_section.vehicle_file
    services.disposal_request(vehicle_file=vehicle_file, by=customer_care)
    work_order = closed_work_order(
        vehicle_file.branch, advisor, technician, vehicle=vehicle_file.vehicle, plate="粤A12345"
    )
    vehicle_file.refresh_from_db()
    assert work_order.archive_section.vehicle_file_id == vehicle_file.pk
    assert (vehicle_file.status, vehicle_file.sealed_at) == (FileStatus.ACTIVE, None)
    today = timezone.localdate()
    assert (vehicle_file.last_service_on, vehicle_file.retain_until) == (
        today,
        services.add_years(today, 5),
    )
    # the disposal asked for while it was sealed is off
    assert (vehicle_file.disposal_requested_by, vehicle_file.disposal_requested_at) == (None, None)
    assert services.retention_apply(today=services.add_years(today, 5) - timedelta(days=1)) == 0


# --- disposal ---------------------------------------------------------------------------------


def test_only_a_sealed_file_is_put_forward_for_disposal(branch, consultant, customer_care):
    vehicle_file = delivered_section(branch, consultant).vehicle_file
    before = state(vehicle_file)
    error = refusal(lambda: services.disposal_request(vehicle_file=vehicle_file, by=customer_care))
    assert error.code == "file_not_sealed"
    assert state(vehicle_file) == before


def test_disposal_is_requested_once_and_the_managers_told(
    sealed_section, customer_care, branch_manager
):
    vehicle_file = sealed_section.vehicle_file
    services.disposal_request(vehicle_file=vehicle_file, by=customer_care)
    vehicle_file.refresh_from_db()
    assert vehicle_file.disposal_requested_by == customer_care
    assert vehicle_file.disposal_requested_at is not None
    assert Notification.objects.get(key=f"archives.disposal.{vehicle_file.pk}").recipient == (
        branch_manager
    )
    before = state(vehicle_file)
    error = refusal(lambda: services.disposal_request(vehicle_file=vehicle_file, by=branch_manager))
    assert error.code == "disposal_already_requested"
    assert state(vehicle_file) == before


def test_a_disposal_not_requested_is_not_approved(sealed_section, branch_manager):
    vehicle_file = sealed_section.vehicle_file
    before = state(vehicle_file)
    error = refusal(lambda: services.disposal_approve(vehicle_file=vehicle_file, by=branch_manager))
    assert error.code == "disposal_not_requested"
    assert state(vehicle_file) == before


def test_nobody_approves_the_disposal_they_asked_for(sealed_section, branch_manager, media):
    vehicle_file = sealed_section.vehicle_file
    services.disposal_request(vehicle_file=vehicle_file, by=branch_manager)
    before = (state(vehicle_file), stored_files(media))
    error = refusal(lambda: services.disposal_approve(vehicle_file=vehicle_file, by=branch_manager))
    assert error.code == "own_request"
    assert (state(vehicle_file), stored_files(media)) == before


@pytest.mark.parametrize("who", ["the archivist", "a consultant", "another branch's manager"])
def test_only_a_manager_of_the_branch_approves_a_disposal(
    sealed_section, customer_care, consultant, other_branch, who, media
):
    vehicle_file = sealed_section.vehicle_file
    services.disposal_request(vehicle_file=vehicle_file, by=customer_care)
    approver = {
        "the archivist": UserFactory(roles=[Role.CUSTOMER_CARE], branches=[vehicle_file.branch]),
        "a consultant": consultant,
        "another branch's manager": UserFactory(
            roles=[Role.BRANCH_MANAGER], branches=[other_branch]
        ),
    }[who]
    before = (state(vehicle_file), stored_files(media))
    error = refusal(lambda: services.disposal_approve(vehicle_file=vehicle_file, by=approver))
    assert error.code == "not_an_approver"
    assert (state(vehicle_file), stored_files(media)) == before


def test_an_approved_disposal_records_what_was_destroyed_and_deletes_the_scans(
    sealed_section, customer_care, branch_manager, media
):
    vehicle_file = sealed_section.vehicle_file
    documents = list(ArchiveDocument.objects.filter(section=sealed_section).order_by("pk"))
    assert len(stored_files(media)) == 2
    services.disposal_request(vehicle_file=vehicle_file, by=customer_care)
    with TestCase.captureOnCommitCallbacks() as callbacks:
        services.disposal_approve(vehicle_file=vehicle_file, by=branch_manager)
    assert len(stored_files(media)) == 2  # not before the approval is committed
    for callback in callbacks:
        callback()
    assert stored_files(media) == []

    vehicle_file.refresh_from_db()
    assert (vehicle_file.status, vehicle_file.disposed_by) == (FileStatus.DISPOSED, branch_manager)
    assert vehicle_file.disposed_at is not None
    assert vehicle_file.destroyed == [
        {
            "kind": document.kind,
            "name": document.original_name,
            "size": document.size,
            "sha256": document.sha256,
            "uploaded_at": document.uploaded_at.isoformat(),
        }
        for document in documents
    ]
    assert {entry["kind"] for entry in vehicle_file.destroyed} == {
        DocumentKind.DELIVERY_FORM,
        DocumentKind.BUYER_ID,
    }
    before = state(vehicle_file)
    error = refusal(lambda: services.disposal_approve(vehicle_file=vehicle_file, by=branch_manager))
    assert error.code == "disposal_not_requested"
    assert state(vehicle_file) == before
