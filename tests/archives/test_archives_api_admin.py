"""The archive in the Django admin: every record readable for back-office questions, none
added, changed or deleted there, and no scan reachable through a storage link."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from archives import services
from archives.choices import DocumentKind, ExemptionReason
from archives.models import (
    ArchiveDocument,
    Exemption,
    FileSection,
    MissingArchiveReport,
    Nonconformity,
    PenaltyPoint,
    Reconciliation,
    SubmissionBatch,
    VehicleFile,
)
from tests.archives.helpers import delivered_section, scan

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

MODELS = [
    VehicleFile, FileSection, ArchiveDocument, Nonconformity, PenaltyPoint, SubmissionBatch,
    Exemption, MissingArchiveReport, Reconciliation,
]  # fmt: skip


@pytest.fixture
def admin_client_with_records(client, branch, consultant, customer_care):
    """A superuser's browser, and one record of every archive model."""
    section = delivered_section(branch, consultant, days_ago=10)
    document = services.document_upload(
        section=section, kind=DocumentKind.DELIVERY_FORM, upload=scan(), by=consultant
    )
    services.document_audit(document=document, conforming=False, by=customer_care, reason="缺页")
    services.batches_prepare()
    services.reconcile(branch=branch)
    services.exemption_grant(
        section=section, reason=ExemptionReason.IN_REPAIR, note="在修",
        ends_on=timezone.localdate(), by=customer_care,
    )  # fmt: skip
    client.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_every_archive_record_is_read_but_never_added_or_deleted(admin_client_with_records, model):
    # given one record of the model
    record = model.objects.get()
    name = f"admin:archives_{model._meta.model_name}"
    client = admin_client_with_records
    # when the admin lists it, opens it, and tries to add or delete one
    listed = client.get(reverse(f"{name}_changelist"))
    opened = client.get(reverse(f"{name}_change", args=[record.pk]))
    added = client.get(reverse(f"{name}_add"))
    deleted = client.post(reverse(f"{name}_delete", args=[record.pk]), {"post": "yes"})
    # then it is read, and neither added nor deleted
    assert (listed.status_code, opened.status_code) == (200, 200)
    assert (added.status_code, deleted.status_code) == (403, 403)
    assert model.objects.filter(pk=record.pk).exists()


def test_a_scan_is_never_linked_from_the_admin(admin_client_with_records):
    # given a filed scan, stored under the media root
    document = ArchiveDocument.objects.get()
    client = admin_client_with_records
    # when the admin opens it and its section
    pages = [
        client.get(reverse("admin:archives_archivedocument_change", args=[document.pk])),
        client.get(reverse("admin:archives_filesection_change", args=[document.section_id])),
    ]
    # then its name and checksum are shown, never a link to the stored file
    for page in pages:
        html = page.content.decode()
        assert document.original_name in html
        assert document.file.name not in html
