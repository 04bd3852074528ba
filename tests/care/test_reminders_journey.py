"""Reminders through the services: lunar birthdays on their published solar dates, the
holidays of a year, a maintenance projected from the odometer, made once and sent once
through the logging SMS backend with consent, withheld without it."""

from datetime import date, timedelta

import pytest
from django.utils import translation

from customers.care import services
from customers.care.choices import Channel, MessageStatus, ReminderKind
from customers.care.models import Message, Reminder
from customers.choices import CustomerKind
from tests.factories.customers import ContactFactory, CustomerFactory, VehicleFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("born", "year", "celebrated"),
    [
        # born on lunar 1990-04-26 (solar 1990-05-20): in 2026 lunar 4/26 is 11 June
        (date(1990, 5, 20), 2026, date(2026, 6, 11)),
        # born on Chinese New Year 2000 (5 February): New Year 2026 is 17 February
        (date(2000, 2, 5), 2026, date(2026, 2, 17)),
    ],
)
def test_a_lunar_birthday_falls_on_its_published_solar_date(branch, born, year, celebrated):
    customer = CustomerFactory(branch=branch, birthday=born, birthday_is_lunar=True)
    assert services.birthday_in(customer, year) == celebrated


def test_the_holidays_of_2026(branch):
    assert dict(services.holidays_in(2026)) == {
        "spring_festival": date(2026, 2, 17),
        "mid_autumn": date(2026, 9, 25),
        "national_day": date(2026, 10, 1),
    }


def test_maintenance_is_projected_from_the_odometer(branch):
    vehicle = VehicleFactory(owner=CustomerFactory(branch=branch), delivery_date=date(2026, 1, 1))
    readings = [(date(2026, 1, 1), 0), (date(2026, 2, 10), 2000)]  # 50 km a day
    # 5,000 km are reached 100 days after delivery, before the 6 months
    assert services.maintenance_due(vehicle, date(2026, 1, 1), 0, readings) == date(2026, 4, 11)
    # driven little, the 6 months come first
    slow = [(date(2026, 1, 1), 0), (date(2026, 2, 10), 200)]
    assert services.maintenance_due(vehicle, date(2026, 1, 1), 0, slow) == date(2026, 7, 1)


def test_a_reminder_is_made_once_and_sent_once_with_consent(branch):
    today = date(2026, 12, 1)
    agreed = CustomerFactory(
        branch=branch, marketing_consent=True, consent_date=date(2026, 1, 1),
        consent_channel=Channel.SMS,
    )  # fmt: skip
    refused = CustomerFactory(branch=branch, marketing_consent=False)
    for customer in (agreed, refused):
        VehicleFactory(owner=customer, insurance_expiry=today + timedelta(days=30))
    assert services.reminders_generate(today=today) >= 2
    made = Reminder.objects.filter(kind=ReminderKind.INSURANCE).count()
    assert services.reminders_generate(today=today) == 0
    with translation.override("en"):
        assert services.reminders_send(today=today) >= made
    assert services.reminders_send(today=today) == 0
    sent = Message.objects.get(customer=agreed, reminder__kind=ReminderKind.INSURANCE)
    assert (sent.status, sent.channel) == (MessageStatus.SENT, Channel.SMS)
    assert Message.objects.get(customer=refused, reminder__kind=ReminderKind.INSURANCE).status == (
        MessageStatus.NO_CONSENT
    )


def test_an_organization_is_reached_through_its_primary_contact(branch):
    company = CustomerFactory(
        branch=branch, kind=CustomerKind.ORGANIZATION, mobile="", marketing_consent=True,
        consent_date=date(2026, 1, 1), consent_channel=Channel.SMS,
    )  # fmt: skip
    ContactFactory(customer=company, mobile="13800138000", is_primary=True)
    message = services.message_send(customer=company, subject="s", body="b")
    assert (message.status, message.channel, message.address) == (
        MessageStatus.SENT,
        Channel.SMS,
        "13800138000",
    )
