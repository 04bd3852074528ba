"""The service department's jobs: the hourly appointment reminders tell each advisor once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dealer_crm.models import Notification
from service import services
from service.choices import ServiceType
from service.tasks import appointment_reminders_task
from tests.factories import UserFactory
from tests.service.helpers import customer_car, fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def booked_in(branch, advisor, hours: float, by):
    (slot,) = services.slots_open(
        branch=branch, service_type=ServiceType.REPAIR,
        starts=[timezone.now() + timedelta(hours=hours)], capacity=3, by=by,
    )  # fmt: skip
    customer, vehicle = customer_car(branch)
    return services.appointment_book(
        slot=slot, customer=customer, vehicle=vehicle, advisor=advisor,
        contact_phone=customer.mobile, by=by,
    )  # fmt: skip


def test_the_reminder_job_tells_each_advisor_of_their_appointment_once(branch, advisor):
    # given two advisors each with an appointment tomorrow morning, and one next week
    colleague = UserFactory(roles=["service_advisor"], branches=[branch])
    mine = booked_in(branch, advisor, 3, advisor)
    theirs = booked_in(branch, colleague, 5, advisor)
    next_week = booked_in(branch, advisor, 24 * 7, advisor)

    # when the job runs
    sent = appointment_reminders_task()

    # then each advisor has one notice of their own appointment, and next week's waits
    assert sent == 2
    assert list(Notification.objects.filter(recipient=advisor).values_list("key", flat=True)) == [
        f"appointment-reminder-{mine.pk}"
    ]
    assert list(Notification.objects.filter(recipient=colleague).values_list("key", flat=True)) == [
        f"appointment-reminder-{theirs.pk}"
    ]
    assert fresh(mine).reminded_at is not None
    assert fresh(next_week).reminded_at is None


def test_a_rerun_of_the_reminder_job_sends_nothing(branch, advisor):
    # given the job ran for an appointment in 3 hours
    appointment = booked_in(branch, advisor, 3, advisor)
    appointment_reminders_task()
    reminded_at = fresh(appointment).reminded_at
    # when it runs again
    sent = appointment_reminders_task()
    # then nobody is told twice and the first reminder time stands
    assert sent == 0
    assert Notification.objects.filter(recipient=advisor).count() == 1
    assert fresh(appointment).reminded_at == reminded_at


def test_a_cancelled_appointment_is_not_reminded(branch, advisor):
    appointment = booked_in(branch, advisor, 3, advisor)
    services.appointment_cancel(appointment=appointment, by=advisor)
    assert appointment_reminders_task() == 0
    assert not Notification.objects.exists()
