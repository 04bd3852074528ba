"""Reminders and the messages they send, through the services: birthdays on the day the
customer celebrates (lunar birthdays checked against published dates of the Chinese calendar),
every kind of reminder made on its lead day, caught up for three days and made once,
maintenance projected from the odometer; each reminder sent once through the customer's
channel — WeChat or SMS on the mobile, e-mail through Django's mail when there is no mobile —
and withheld without consent or an address, every message logged; a send that stopped
half-way is finished by the next run without sending anything twice."""

import logging
import smtplib
import time
from datetime import date, datetime, timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.care import messaging, services, tasks
from customers.care.choices import Channel, MessageStatus, ReminderKind
from customers.care.models import Message, Reminder
from customers.choices import ConsentChannel
from dealer_crm.choices import JobStatus
from dealer_crm.models import JobRun
from service.choices import ServiceType
from service.models import WorkOrder
from tests.archives.helpers import closed_work_order
from tests.factories import CustomerFactory, VehicleFactory
from tests.factories.concurrency import run_in_threads
from tests.factories.customers import OdometerReadingFactory

pytestmark = pytest.mark.django_db

# A day far from every holiday greeting, so only the reminders a test sets up are made.
TODAY = date(2026, 5, 10)
PROVIDER = f"{__name__}.{{}}"  # the providers below, as settings name them


class Provider:
    """An SMS or WeChat provider standing in for the real one: keeps what it was given."""

    channel = ""
    sent: list[tuple] = []

    def send(self, address: str, subject: str, body: str) -> None:
        Provider.sent.append((self.channel, address, subject, body))


class SmsProvider(Provider):
    channel = Channel.SMS


class WeChatProvider(Provider):
    channel = Channel.WECHAT


class SlowSmsProvider(SmsProvider):
    """A provider that takes its time to answer, so two runs overlap on one message."""

    def send(self, address: str, subject: str, body: str) -> None:
        time.sleep(0.3)
        super().send(address, subject, body)


class RefusingProvider:
    def send(self, address: str, subject: str, body: str) -> None:
        raise messaging.ChannelError("余额不足 (account balance too low)")


class RefusingMailServer(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({"li@example.com": (550, b"mailbox unavailable")})


@pytest.fixture
def provider(settings) -> list[tuple]:
    """SMS and WeChat configured with the stand-in providers; what they sent, in order."""
    settings.SMS_BACKEND = PROVIDER.format("SmsProvider")
    settings.WECHAT_BACKEND = PROVIDER.format("WeChatProvider")
    Provider.sent = []
    return Provider.sent


def agreed(branch, channel=ConsentChannel.SMS, **fields):
    """A customer who agreed to hear from the dealership, through `channel`."""
    return CustomerFactory(
        branch=branch, marketing_consent=True, consent_date=date(2025, 1, 1),
        consent_channel=channel, **fields,
    )  # fmt: skip


def insured(customer, **fields):
    """The customer's car, its insurance running out 30 days from TODAY: reminded today."""
    return VehicleFactory(owner=customer, insurance_expiry=TODAY + timedelta(days=30), **fields)


def reminded(customer, **vehicle) -> Message:
    """The insurance reminder of the customer's car made and sent today; its message."""
    insured(customer, **vehicle)
    services.reminders_generate(today=TODAY)
    services.reminders_send(today=TODAY)
    return Message.objects.get(customer=customer)


def made(kind=None) -> list[tuple]:
    reminders = Reminder.objects.order_by("pk")
    if kind:
        reminders = reminders.filter(kind=kind)
    return list(reminders.values_list("kind", "about_on", "due_on"))


# --- Birthdays and holidays ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "celebrated"),
    [
        # born on Chinese New Year 1990 (27 January, lunar 1/1)
        (date(1990, 1, 27), {2024: date(2024, 2, 10), 2025: date(2025, 1, 29),
                             2026: date(2026, 2, 17), 2027: date(2027, 2, 6)}),
        # born on Mid-Autumn 1990 (3 October, lunar 8/15); 2025 had a leap sixth month
        (date(1990, 10, 3), {2024: date(2024, 9, 17), 2025: date(2025, 10, 6),
                             2026: date(2026, 9, 25)}),
        # born on the Dragon Boat festival 1990 (28 May, lunar 5/5)
        (date(1990, 5, 28), {2026: date(2026, 6, 19)}),
    ],
)  # fmt: skip
def test_a_lunar_birthday_falls_on_the_published_date_of_its_festival(branch, born, celebrated):
    customer = CustomerFactory(branch=branch, birthday=born, birthday_is_lunar=True)
    assert {year: services.birthday_in(customer, year) for year in celebrated} == celebrated


def test_a_solar_birthday_is_celebrated_on_its_solar_date(branch):
    customer = CustomerFactory(branch=branch, birthday=date(1990, 10, 3), birthday_is_lunar=False)
    assert services.birthday_in(customer, 2026) == date(2026, 10, 3)
    assert services.birthday_in(CustomerFactory(branch=branch), 2026) is None


def test_a_29_february_birthday_is_greeted_on_28_february_in_a_common_year(branch):
    # given a customer born on 29 February 2000
    customer = agreed(branch, birthday=date(2000, 2, 29))
    assert services.birthday_in(customer, 2028) == date(2028, 2, 29)
    # when the job runs on 28 February 2026 (no 29th that year)
    services.reminders_generate(today=date(2026, 2, 28))
    # then the greeting is made for that day
    assert made(ReminderKind.BIRTHDAY) == [
        (ReminderKind.BIRTHDAY, date(2026, 2, 28), date(2026, 2, 28))
    ]


def test_a_lunar_30th_is_celebrated_on_the_29th_when_the_month_has_29_days(branch):
    # given a customer born on 大年三十 (lunar 12/30) of the lunar year 2023: 9 February 2024;
    # the twelfth months of 2024 to 2028 have 29 days, so New Year's Eve is their 29th
    customer = agreed(branch, birthday=date(2024, 2, 9), birthday_is_lunar=True)
    assert services.lunar_to_solar(2025, 12, 30) == date(2026, 2, 16)  # 除夕 2026
    assert services.birthday_in(customer, 2024) == date(2025, 1, 28)  # 除夕 2025
    # when the job runs on New Year's Eve 2026 (the day before the 17 February New Year)
    services.reminders_generate(today=date(2026, 2, 16))
    # then the birthday is greeted that day
    assert made(ReminderKind.BIRTHDAY) == [
        (ReminderKind.BIRTHDAY, date(2026, 2, 16), date(2026, 2, 16))
    ]
    # and on New Year's Eve 2027 (5 February) too
    services.reminders_generate(today=date(2027, 2, 5))
    assert made(ReminderKind.BIRTHDAY)[-1] == (
        ReminderKind.BIRTHDAY, date(2027, 2, 5), date(2027, 2, 5)
    )  # fmt: skip


def test_a_new_years_eve_birthday_missed_is_caught_up_in_january(branch):
    # given a birthday on 31 December, and the job did not run that day
    agreed(branch, birthday=date(1985, 12, 31))
    # when it runs on 2 January
    services.reminders_generate(today=date(2027, 1, 2))
    # then the greeting of 31 December is still made
    assert made(ReminderKind.BIRTHDAY) == [
        (ReminderKind.BIRTHDAY, date(2026, 12, 31), date(2026, 12, 31))
    ]


def test_the_holiday_greetings_of_2024_and_2027():
    assert dict(services.holidays_in(2024)) == {
        "spring_festival": date(2024, 2, 10),
        "mid_autumn": date(2024, 9, 17),
        "national_day": date(2024, 10, 1),
    }
    assert dict(services.holidays_in(2027))["spring_festival"] == date(2027, 2, 6)


# --- Each kind on its lead day ---------------------------------------------------------------

# The date each kind is about in the lead-day test, and how many days before it goes out.
ABOUT = date(2026, 6, 15)
LEAD = {
    ReminderKind.INSURANCE: 30,
    ReminderKind.INSPECTION: 30,
    ReminderKind.WARRANTY: 30,
    ReminderKind.MAINTENANCE: 7,
    ReminderKind.BIRTHDAY: 0,
    ReminderKind.HOLIDAY: 1,
}


def occasion(branch, kind) -> date:
    """A customer (and car) with one occasion of `kind`; the date it is about."""
    customer = agreed(branch)
    if kind == ReminderKind.INSURANCE:
        VehicleFactory(owner=customer, insurance_expiry=ABOUT)
    elif kind == ReminderKind.INSPECTION:
        VehicleFactory(owner=customer, inspection_due=ABOUT)
    elif kind == ReminderKind.WARRANTY:
        VehicleFactory(owner=customer, warranty_end_date=ABOUT)
    elif kind == ReminderKind.MAINTENANCE:
        # delivered 15 December 2025, no odometer history: due 6 months later
        VehicleFactory(owner=customer, delivery_date=date(2025, 12, 15))
    elif kind == ReminderKind.BIRTHDAY:
        customer.birthday = date(1988, 6, 15)
        customer.save()
    else:
        return date(2026, 10, 1)  # National Day
    return ABOUT


@pytest.mark.parametrize("kind", ReminderKind.values)
@pytest.mark.parametrize(
    ("days_late", "expected"), [(-1, False), (0, True), (1, True), (3, True), (4, False)]
)
def test_each_kind_is_made_on_its_lead_day_and_caught_up_for_three_days(
    branch, kind, days_late, expected
):
    # given one occasion of the kind
    about_on = occasion(branch, kind)
    due_on = about_on - timedelta(days=LEAD[kind])
    # when the job runs `days_late` after its lead day (the day before it: -1)
    services.reminders_generate(today=due_on + timedelta(days=days_late))
    # then the reminder is made, due on its lead day, from that day to three days after only
    assert made(kind) == ([(kind, about_on, due_on)] if expected else [])


def test_a_reminder_is_made_once_and_the_database_refuses_a_second(branch):
    # given a car whose insurance runs out in 30 days, and a birthday today
    customer = agreed(branch, birthday=date(1990, TODAY.month, TODAY.day))
    vehicle = insured(customer)
    first = services.reminders_generate(today=TODAY)
    kept = list(Reminder.objects.order_by("pk").values())
    # when the job runs again that day, and the next
    again = services.reminders_generate(today=TODAY)
    next_day = services.reminders_generate(today=TODAY + timedelta(days=1))
    # then it made the two reminders once
    assert (first, again, next_day) == (2, 0, 0)
    assert list(Reminder.objects.order_by("pk").values()) == kept
    # and the database itself refuses a second reminder of an occasion, with or without a car
    for kind, car, about_on in [
        (ReminderKind.INSURANCE, vehicle, vehicle.insurance_expiry),
        (ReminderKind.BIRTHDAY, None, TODAY),
    ]:
        with pytest.raises(IntegrityError), transaction.atomic():
            Reminder.objects.create(
                customer=customer, vehicle=car, kind=kind, due_on=TODAY, about_on=about_on
            )
    assert Reminder.objects.count() == 2


def test_merged_customers_are_not_reminded(branch):
    survivor = agreed(branch)
    merged = agreed(branch, birthday=date(1990, TODAY.month, TODAY.day), merged_into=survivor)
    insured(merged)
    assert services.reminders_generate(today=TODAY) == 0


# --- Maintenance projected from the odometer -------------------------------------------------


def maintenance_made(today) -> list[tuple]:
    services.reminders_generate(today=today)
    return made(ReminderKind.MAINTENANCE)


def test_maintenance_is_projected_from_the_daily_mileage_ignoring_a_replaced_odometer(branch):
    # given a car delivered on 1 January driven 50 km a day (1,500 km in 30 days), then its
    # odometer replaced (a reading of 100 km)
    car = VehicleFactory(owner=agreed(branch), delivery_date=date(2026, 1, 1))
    OdometerReadingFactory(vehicle=car, read_on=date(2026, 1, 11), km=500)
    OdometerReadingFactory(vehicle=car, read_on=date(2026, 2, 10), km=2000)
    OdometerReadingFactory(vehicle=car, read_on=date(2026, 2, 20), km=100, is_replacement=True)
    # when the job runs a week before the 5,000 km are reached: 60 days after 10 February
    due = date(2026, 4, 11)
    assert maintenance_made(due - timedelta(days=8)) == []
    # then the reminder is made, about that day, before the 6 months (1 July) are up
    assert maintenance_made(due - timedelta(days=7)) == [
        (ReminderKind.MAINTENANCE, due, due - timedelta(days=7))
    ]


def test_less_than_14_days_of_odometer_history_falls_back_to_6_months(branch):
    # given a car delivered on 1 January whose only readings are 9 days apart (a fast pace)
    car = VehicleFactory(owner=agreed(branch), delivery_date=date(2026, 1, 1))
    OdometerReadingFactory(vehicle=car, read_on=date(2026, 2, 1), km=3000)
    OdometerReadingFactory(vehicle=car, read_on=date(2026, 2, 10), km=4900)
    # when the job runs through February, when that pace would have reached 5,000 km, and
    # around the 6 months
    for day in range(20):
        services.reminders_generate(today=date(2026, 2, 1) + timedelta(days=day))
    for day in (23, 24, 25):
        services.reminders_generate(today=date(2026, 6, day))
    # then the only maintenance reminder is the one of the 6 months: 1 July, sent 24 June
    assert made(ReminderKind.MAINTENANCE) == [
        (ReminderKind.MAINTENANCE, date(2026, 7, 1), date(2026, 6, 24))
    ]


def test_maintenance_counts_from_the_last_maintenance_work_orders_mileage(
    branch, advisor, technician
):
    # given a car delivered long ago, maintained on 1 March at 20,000 km after a month of
    # 100 km a day (17,000 km on 30 January)
    car = VehicleFactory(owner=agreed(branch), delivery_date=date(2024, 1, 1))
    OdometerReadingFactory(vehicle=car, read_on=date(2026, 1, 30), km=17_000)
    work_order = closed_work_order(
        branch, advisor, technician, vehicle=car, service_type=ServiceType.MAINTENANCE,
        mileage_in=20_000,
    )  # fmt: skip
    maintained = timezone.make_aware(datetime(2026, 3, 1, 15, 0))
    WorkOrder.objects.filter(pk=work_order.pk).update(closed_at=maintained)
    car.odometer_readings.filter(km=20_000).update(read_on=date(2026, 3, 1))
    # when the job runs
    due = date(2026, 4, 20)  # 25,000 km at 100 km a day: 50 days after 1 March
    for day in range(-10, 1):
        services.reminders_generate(today=due - timedelta(days=7 - day))
    # then the maintenance is due 5,000 km after the work order's mileage
    assert made(ReminderKind.MAINTENANCE) == [
        (ReminderKind.MAINTENANCE, due, due - timedelta(days=7))
    ]


# --- Sending: who gets what, through which channel -------------------------------------------


def test_nothing_is_sent_without_consent_and_the_refusal_is_logged(branch, provider):
    # given a customer who never agreed to marketing messages
    customer = CustomerFactory(branch=branch, marketing_consent=False)
    # when the insurance reminder is sent
    message = reminded(customer)
    # then nothing went out, and the message is logged as withheld
    assert provider == [] and mail.outbox == []
    assert (message.status, message.channel, message.address) == (
        MessageStatus.NO_CONSENT, Channel.SMS, customer.mobile
    )  # fmt: skip
    assert message.reminder.kind == ReminderKind.INSURANCE


def test_a_customer_without_a_mobile_or_an_e_mail_is_logged_as_not_reachable(branch, provider):
    customer = agreed(branch, mobile="", email="")
    message = reminded(customer)
    assert provider == [] and mail.outbox == []
    assert (message.status, message.address) == (MessageStatus.NO_ADDRESS, "")


def test_a_customer_who_agreed_through_wechat_gets_a_wechat_message(branch, provider):
    customer = agreed(branch, channel=ConsentChannel.WECHAT, email="wang@example.com")
    message = reminded(customer)
    assert (message.status, message.channel, message.address) == (
        MessageStatus.SENT, Channel.WECHAT, customer.mobile
    )  # fmt: skip
    assert provider == [(Channel.WECHAT, customer.mobile, message.subject, message.body)]
    assert mail.outbox == []


@pytest.mark.parametrize("channel", [ConsentChannel.SMS, ConsentChannel.PAPER])
def test_other_customers_get_an_sms_on_their_mobile_even_with_an_e_mail(branch, provider, channel):
    customer = agreed(branch, channel=channel, email="wang@example.com")
    message = reminded(customer)
    assert (message.status, message.channel, message.address) == (
        MessageStatus.SENT, Channel.SMS, customer.mobile
    )  # fmt: skip
    assert provider == [(Channel.SMS, customer.mobile, message.subject, message.body)]
    assert mail.outbox == []


def test_a_customer_with_only_an_e_mail_gets_it_through_djangos_mail(branch, provider):
    # given a customer who has no mobile, only an e-mail address
    customer = agreed(branch, mobile="", email="li@example.com")
    # when the reminder is sent
    message = reminded(customer, plate="粤A12345")
    # then it went out by mail, as logged
    assert (message.status, message.channel, message.address) == (
        MessageStatus.SENT, Channel.EMAIL, "li@example.com"
    )  # fmt: skip
    assert provider == []
    [sent] = mail.outbox
    assert sent.to == ["li@example.com"]
    assert (sent.subject, sent.body) == (message.subject, message.body)
    assert "粤A12345" in sent.body


def test_a_mail_server_refusing_the_e_mail_is_logged_as_failed(branch, provider, settings):
    settings.EMAIL_BACKEND = PROVIDER.format("RefusingMailServer")
    message = reminded(agreed(branch, mobile="", email="li@example.com"))
    assert message.status == MessageStatus.FAILED
    assert "li@example.com" in message.error


def test_without_a_provider_an_sms_is_written_to_the_messages_log(branch, settings, caplog):
    # given no SMS provider configured
    settings.SMS_BACKEND = ""
    customer = agreed(branch)
    # when the reminder is sent
    with caplog.at_level(logging.INFO, logger="dealer_crm.messages"):
        message = reminded(customer)
    # then the message is in the log, and logged as sent
    [record] = [r for r in caplog.records if r.name == "dealer_crm.messages"]
    assert customer.mobile in record.getMessage() and message.body in record.getMessage()
    assert message.status == MessageStatus.SENT


def test_a_provider_refusing_the_message_is_logged_as_failed_with_its_reason(branch, settings):
    settings.SMS_BACKEND = PROVIDER.format("RefusingProvider")
    message = reminded(agreed(branch))
    assert (message.status, message.error) == (
        MessageStatus.FAILED, "余额不足 (account balance too low)"
    )  # fmt: skip
    # a failed message is not retried by the next run
    assert services.reminders_send(today=TODAY) == 0


def test_a_message_outside_a_reminder_goes_through_the_same_channel(branch, provider):
    customer = agreed(branch)
    message = services.message_send(customer=customer, subject="通知", body="您的爱车已修好")
    assert (message.status, message.reminder) == (MessageStatus.SENT, None)
    assert provider == [(Channel.SMS, customer.mobile, "通知", "您的爱车已修好")]


# --- The texts -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_text_names_the_customer_the_car_and_the_date_in_the_products_language(
    branch, provider, settings, language
):
    # given the product set to a language
    settings.LANGUAGE_CODE = language
    customer = agreed(branch, name="陈静")
    # when the reminder is sent
    message = reminded(customer, plate="粤B54321", series="帕萨特")
    # then the text says who, which car and when, in that language
    expiry = (TODAY + timedelta(days=30)).isoformat()
    for part in ["陈静", "粤B54321 帕萨特", expiry, branch.name]:
        assert part in message.body, part
    assert message.language == language
    assert provider == [(Channel.SMS, customer.mobile, message.subject, message.body)]


@pytest.mark.parametrize("kind", ReminderKind.values)
def test_every_kind_has_a_text_that_names_the_customer(branch, provider, kind):
    about_on = occasion(branch, kind)
    services.reminders_generate(today=about_on - timedelta(days=LEAD[kind]))
    services.reminders_send(today=about_on)
    [message] = Message.objects.filter(reminder__kind=kind)
    assert message.customer.name in message.body and message.subject
    if kind in (ReminderKind.BIRTHDAY, ReminderKind.HOLIDAY):
        assert message.reminder.vehicle is None
    else:
        assert about_on.isoformat() in message.body


# --- Sending once ----------------------------------------------------------------------------


def test_sending_twice_sends_each_reminder_once(branch, provider):
    for _ in range(3):
        insured(agreed(branch))
    services.reminders_generate(today=TODAY)
    assert services.reminders_send(today=TODAY) == 3
    assert services.reminders_send(today=TODAY) == 0
    assert len(provider) == Message.objects.count() == 3


def test_reminders_not_yet_due_are_not_sent(branch, provider):
    insured(agreed(branch))
    services.reminders_generate(today=TODAY)
    assert services.reminders_send(today=TODAY - timedelta(days=1)) == 0
    assert provider == [] and not Message.objects.exists()


def test_a_send_that_crashed_half_way_is_finished_by_the_next_run(branch, provider, monkeypatch):
    # given five reminders due, and the worker dies while handing over the third
    customers = [agreed(branch) for _ in range(5)]
    for customer in customers:
        insured(customer)
    services.reminders_generate(today=TODAY)
    deliver = messaging.deliver
    handed = []

    def dies_at_the_third(*args):
        if len(handed) == 2:
            raise SystemError("worker lost")
        handed.append(args)
        deliver(*args)

    monkeypatch.setattr(messaging, "deliver", dies_at_the_third)
    with pytest.raises(SystemError, match="worker lost"):
        services.reminders_send(today=TODAY)
    assert len(provider) == Message.objects.count() == 2
    # when the next run goes through
    monkeypatch.setattr(messaging, "deliver", deliver)
    assert services.reminders_send(today=TODAY) == 3
    # then every customer got their reminder exactly once
    reached = sorted(address for _channel, address, _subject, _body in provider)
    assert reached == sorted(customer.mobile for customer in customers)
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 5


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_once(branch, settings):
    # given two reminders due, and a provider slow to answer
    settings.SMS_BACKEND = PROVIDER.format("SlowSmsProvider")
    Provider.sent = []
    for _ in range(2):
        insured(agreed(branch))
    services.reminders_generate(today=TODAY)
    # when two workers send at the same moment
    results = run_in_threads(
        lambda: services.reminders_send(today=TODAY),
        lambda: services.reminders_send(today=TODAY),
    )
    # then neither failed, and each customer got one message
    assert not any(isinstance(result, Exception) for result in results), results
    assert sorted(results) in ([0, 2], [1, 1])
    assert len(Provider.sent) == Message.objects.count() == 2


# --- The daily job ---------------------------------------------------------------------------


def test_the_daily_job_makes_and_sends_and_records_its_run(branch, provider, monkeypatch):
    # given two customers with their insurance due today, one without consent
    insured(agreed(branch))
    insured(CustomerFactory(branch=branch))
    localdate = timezone.localdate
    monkeypatch.setattr(
        timezone, "localdate", lambda value=None, *args: localdate(value, *args) if value else TODAY
    )
    # when the job runs, then again
    first = tasks.reminders_task.delay().get()
    second = tasks.reminders_task.delay().get()
    # then it made two reminders and logged their two messages (one sent), once
    assert (first, second) == ({"made": 2, "sent": 2}, {"made": 0, "sent": 0})
    assert len(provider) == 1
    runs = JobRun.objects.filter(job="reminders").order_by("pk")
    assert list(runs.values_list("status", "rows")) == [
        (JobStatus.FINISHED, 4), (JobStatus.FINISHED, 0)
    ]  # fmt: skip
