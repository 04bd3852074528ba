"""Customer care in the Django admin: every record readable for back-office questions, none
added, changed or deleted there — calls, complaints and inquiries move only through their
services."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from customers.care import services
from customers.care.models import CallAttempt, Complaint, CustomerSegment, FollowUpCall, Inquiry

pytestmark = pytest.mark.django_db

MODELS = [FollowUpCall, CallAttempt, Complaint, Inquiry, CustomerSegment]


@pytest.fixture
def admin_client_with_records(client, records, customer_care):
    """A superuser's browser, and care records with one attempt at the call."""
    services.call_attempt_record(call=records["call"], outcome="no_answer", by=customer_care)
    client.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_every_care_record_is_read_but_never_added_changed_or_deleted(
    admin_client_with_records, model
):
    # given a record of the model, as it is stored
    record = model.objects.order_by("pk").first()
    stored = model.objects.filter(pk=record.pk).values().get()
    name = f"admin:care_{model._meta.model_name}"
    client = admin_client_with_records
    # when the admin lists it, opens it, tries to change it, to add one and to delete it
    listed = client.get(reverse(f"{name}_changelist"))
    opened = client.get(reverse(f"{name}_change", args=[record.pk]))
    client.post(reverse(f"{name}_change", args=[record.pk]), {"note": "改", "status": "closed"})
    added = client.get(reverse(f"{name}_add"))
    deleted = client.post(reverse(f"{name}_delete", args=[record.pk]), {"post": "yes"})
    # then it is read, and neither changed, added nor deleted
    assert (listed.status_code, opened.status_code) == (200, 200)
    assert (added.status_code, deleted.status_code) == (403, 403)
    assert model.objects.filter(pk=record.pk).values().get() == stored


def test_a_call_shows_its_attempts(admin_client_with_records, records):
    call = records["call"]
    page = admin_client_with_records.get(reverse("admin:care_followupcall_change", args=[call.pk]))
    assert "No answer" in page.content.decode()
