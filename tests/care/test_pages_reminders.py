"""The reminder pages: the reminders the daily job made, with the day each goes out and what
became of its message, and the log of every message sent or withheld with its text. Open to
the call centre and the managers, refused to the showroom and the workshop; another branch's
rows never show; mobile numbers are masked without view_pii; filters narrow the lists and
garbage leaves them whole; the queries do not grow with the rows."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.care import messaging, services
from customers.care.choices import Channel, MessageStatus, ReminderKind
from customers.care.models import Message, Reminder
from customers.choices import ConsentChannel
from dealer_crm.models import PiiAccess
from dealer_crm.pii import mask_phone
from tests.factories import CustomerFactory, UserFactory, VehicleFactory

pytestmark = pytest.mark.django_db

# A day far from every holiday greeting, so only the reminders a test sets up are made.
TODAY = date(2026, 5, 10)
PAGES = ["reminder-list", "message-list"]


def url(name: str) -> str:
    return reverse(f"care:{name}")


class RefusingProvider:
    def send(self, address: str, subject: str, body: str) -> None:
        raise messaging.ChannelError("号码已停机 (number out of service)")


def customers_reminded(
    branch, count: int = 1, *, consent: bool = True, vehicle: dict | None = None, **fields
) -> list:
    """`count` customers of `branch` (with `fields`) whose car's insurance runs out 30 days
    from TODAY, reminded and sent that day (withheld without consent); the customers."""
    customers = [
        CustomerFactory(
            branch=branch,
            marketing_consent=consent,
            consent_date=date(2025, 1, 1) if consent else None,
            consent_channel=ConsentChannel.SMS if consent else "",
            **fields,
        )  # fmt: skip
        for _ in range(count)
    ]
    for customer in customers:
        VehicleFactory(
            owner=customer, insurance_expiry=TODAY + timedelta(days=30), **(vehicle or {})
        )
    services.reminders_generate(today=TODAY)
    services.reminders_send(today=TODAY)
    return customers


def waiting_reminder(customer, due_on=TODAY) -> Reminder:
    """A birthday reminder made but not sent yet."""
    return Reminder.objects.create(
        customer=customer, kind=ReminderKind.BIRTHDAY, due_on=due_on, about_on=due_on
    )


def shown(client, name: str, **query) -> set[int]:
    response = client.get(url(name), query)
    assert response.status_code == 200
    return {row.pk for row in response.context["page"].object_list}


# --- Access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("persona", ["customer_care", "sales_manager", "branch_manager"])
def test_the_call_centre_and_the_managers_see_both_pages_in_both_languages(
    request, client, settings, branch, persona, language
):
    [customer] = customers_reminded(branch)
    client.force_login(request.getfixturevalue(persona))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for name in PAGES:
        response = client.get(url(name))
        assert response.status_code == 200, name
        page = response.content.decode()
        assert customer.name in page and f'lang="{language}"' in page, name
    # and the menu leads to them
    menu = client.get(reverse("care:call-list")).content.decode()
    assert url("reminder-list") in menu and url("message-list") in menu


@pytest.mark.parametrize("persona", ["consultant", "advisor", "technician"])
def test_the_showroom_and_the_workshop_are_refused(request, client, branch, persona):
    customers_reminded(branch)
    client.force_login(request.getfixturevalue(persona))
    for name in PAGES:
        assert client.get(url(name)).status_code == 403, name
    menu = client.get(reverse("customers:list")).content.decode()
    assert url("reminder-list") not in menu and url("message-list") not in menu


def test_anonymous_visitors_are_sent_to_log_in(client, branch):
    for name in PAGES:
        response = client.get(url(name))
        assert response.status_code == 302 and "login" in response.url, name


def test_another_branchs_reminders_and_messages_never_show(
    client, branch, other_branch, customer_care, group_manager
):
    # given a reminder and its message in each branch
    [mine] = customers_reminded(branch)
    [theirs] = customers_reminded(other_branch)
    my_reminders = set(Reminder.objects.filter(customer=mine).values_list("pk", flat=True))
    my_messages = set(Message.objects.filter(customer=mine).values_list("pk", flat=True))
    # then our agent sees ours only, even naming their customer
    client.force_login(customer_care)
    assert shown(client, "reminder-list") == my_reminders
    assert shown(client, "message-list") == my_messages
    for name in PAGES:
        response = client.get(url(name), {"customer": theirs.pk})
        assert theirs.name not in response.content.decode(), name
        assert response.context["filterset"].errors, name
    # and the group manager sees both, with the branch to tell them apart
    client.force_login(group_manager)
    assert len(shown(client, "reminder-list")) == len(shown(client, "message-list")) == 2
    assert other_branch.name in client.get(url("message-list")).content.decode()


# --- The reminder list -----------------------------------------------------------------------


def test_the_reminder_list_shows_each_reminder_with_its_message(client, branch, customer_care):
    # given a reminder sent, one withheld, and one waiting for tomorrow
    [sent] = customers_reminded(branch, vehicle={"plate": "粤A12345"})
    [refused] = customers_reminded(branch, consent=False)
    later = waiting_reminder(sent, due_on=timezone.localdate() + timedelta(days=1))
    client.force_login(customer_care)
    # when the agent opens the list
    page = client.get(url("reminder-list")).content.decode()
    # then each row says who, which car, what, when, and what became of it
    insurance = Reminder.objects.get(customer=sent, kind=ReminderKind.INSURANCE)
    row = page.split(f'id="reminder-{insurance.pk}"')[1].split("</tr>")[0]
    expiry = (TODAY + timedelta(days=30)).isoformat()
    for part in [sent.name, "粤A12345", "Insurance renewal", expiry, TODAY.isoformat(), "Sent"]:
        assert part in row, part
    refused_row = page.split(f'id="reminder-{Reminder.objects.get(customer=refused).pk}"')[1]
    assert "Not sent: no consent" in refused_row.split("</tr>")[0]
    assert "Scheduled" in page.split(f'id="reminder-{later.pk}"')[1].split("</tr>")[0]


def test_the_reminder_list_filters_by_kind_day_and_what_became_of_it(
    client, branch, customer_care, settings
):
    # given an insurance reminder sent, one withheld, one failed, and a birthday waiting
    [sent] = customers_reminded(branch)
    [withheld] = customers_reminded(branch, consent=False)
    settings.SMS_BACKEND = f"{__name__}.RefusingProvider"
    [failed] = customers_reminded(branch)
    birthday = waiting_reminder(sent, due_on=TODAY + timedelta(days=3))

    def reminder_of(customer) -> int:
        return Reminder.objects.get(customer=customer, kind=ReminderKind.INSURANCE).pk

    client.force_login(customer_care)
    everyone = {reminder_of(sent), reminder_of(withheld), reminder_of(failed), birthday.pk}
    assert shown(client, "reminder-list") == everyone
    assert shown(client, "reminder-list", kind=ReminderKind.BIRTHDAY) == {birthday.pk}
    assert shown(client, "reminder-list", state="waiting") == {birthday.pk}
    assert shown(client, "reminder-list", state="sent") == {reminder_of(sent)}
    assert shown(client, "reminder-list", state="failed") == {reminder_of(failed)}
    assert shown(client, "reminder-list", state="withheld") == {reminder_of(withheld)}
    after = (TODAY + timedelta(days=1)).isoformat()
    assert shown(client, "reminder-list", due_on_after=after) == {birthday.pk}
    assert shown(client, "reminder-list", due_on_before=TODAY.isoformat()) == everyone - {
        birthday.pk
    }
    assert shown(client, "reminder-list", customer=withheld.pk) == {reminder_of(withheld)}
    # garbage leaves the list whole
    garbage = {
        "kind": "oil", "state": "lost", "due_on_after": "soon", "customer": "9" * 30,
        "branch": "x", "page": "last",
    }  # fmt: skip
    assert shown(client, "reminder-list", **garbage) == everyone


def test_the_empty_reminder_list_says_when_reminders_are_made(client, branch, customer_care):
    client.force_login(customer_care)
    page = client.get(url("reminder-list")).content.decode()
    assert "No reminders yet" in page
    filtered = client.get(url("reminder-list"), {"kind": ReminderKind.HOLIDAY})
    assert "No reminder matches these filters." in filtered.content.decode()


# --- The message log -------------------------------------------------------------------------


def test_the_message_log_shows_the_text_the_channel_and_the_outcome(
    client, branch, customer_care, settings
):
    # given a message sent, one withheld, and one the provider refused
    [sent] = customers_reminded(branch, name="陈静", vehicle={"plate": "粤B54321"})
    customers_reminded(branch, consent=False)
    settings.SMS_BACKEND = f"{__name__}.RefusingProvider"
    [failed] = customers_reminded(branch)
    client.force_login(customer_care)
    # when the agent opens the log
    page = client.get(url("message-list")).content.decode()
    # then the sent text is there in full, and the refusal with its reason
    message = Message.objects.get(customer=sent)
    row = page.split(f'id="message-{message.pk}"')[1].split("</tr>")[0]
    for part in ["陈静", "粤B54321", message.subject, "SMS", "Sent", sent.mobile]:
        assert part in row, part
    refused = Message.objects.get(customer=failed)
    row = page.split(f'id="message-{refused.pk}"')[1].split("</tr>")[0]
    assert "Failed" in row and "号码已停机 (number out of service)" in row
    assert "Not sent: no consent" in page


def test_the_message_log_filters_by_channel_status_day_and_customer(client, branch, customer_care):
    # given an SMS sent, an e-mail sent, and a message withheld
    [texted] = customers_reminded(branch, name="陈静")
    [mailed] = customers_reminded(branch, mobile="", email="li@example.com")
    [withheld] = customers_reminded(branch, consent=False)

    def message_of(customer) -> int:
        return Message.objects.get(customer=customer).pk

    client.force_login(customer_care)
    everyone = {message_of(texted), message_of(mailed), message_of(withheld)}
    assert shown(client, "message-list") == everyone
    assert shown(client, "message-list", channel=Channel.EMAIL) == {message_of(mailed)}
    assert shown(client, "message-list", status=MessageStatus.NO_CONSENT) == {message_of(withheld)}
    assert shown(client, "message-list", search="陈静") == {message_of(texted)}
    assert shown(client, "message-list", search=texted.mobile) == {message_of(texted)}
    assert shown(client, "message-list", customer=mailed.pk) == {message_of(mailed)}
    today = timezone.localdate()
    assert shown(client, "message-list", sent_after=today.isoformat()) == everyone
    yesterday = (today - timedelta(days=1)).isoformat()
    assert shown(client, "message-list", sent_before=yesterday) == set()
    garbage = {"channel": "fax", "status": "lost", "sent_after": "yesterday", "page": "0"}
    assert shown(client, "message-list", **garbage) == everyone


def test_the_empty_message_log_says_what_will_be_logged(client, branch, customer_care):
    client.force_login(customer_care)
    assert "No messages yet" in client.get(url("message-list")).content.decode()


def test_the_lists_page_by_25(client, branch, customer_care):
    customers_reminded(branch, 27)
    client.force_login(customer_care)
    for name in PAGES:
        first = client.get(url(name)).context["page"]
        second = client.get(url(name), {"page": 2}).context["page"]
        assert (len(first.object_list), len(second.object_list)) == (25, 2), name
        assert not {row.pk for row in first} & {row.pk for row in second}, name


# --- Personal data ---------------------------------------------------------------------------


def test_mobile_numbers_are_masked_without_view_pii_and_logged_when_shown(
    client, branch, sales_manager, customer_care
):
    # given an SMS and an e-mail sent
    [texted] = customers_reminded(branch)
    customers_reminded(branch, mobile="", email="li@example.com")
    masked = mask_phone(texted.mobile)
    # when a manager without view_pii opens the log, the mobile is masked (the e-mail is not
    # a phone number: it shows) and nothing is logged
    client.force_login(sales_manager)
    page = client.get(url("message-list")).content.decode()
    assert masked in page and texted.mobile not in page
    assert "li@example.com" in page
    assert not PiiAccess.objects.filter(user=sales_manager).exists()
    # when the agent opens it, the mobile shows, and the view is logged
    client.force_login(customer_care)
    assert texted.mobile in client.get(url("message-list")).content.decode()
    assert PiiAccess.objects.filter(user=customer_care, customer=texted).count() == 1


# --- Queries ---------------------------------------------------------------------------------


def test_both_lists_cost_the_same_queries_for_1_and_5_rows(
    client, branch, customer_care, django_assert_max_num_queries
):
    client.force_login(customer_care)

    def queries() -> dict:
        counted = {}
        for name in PAGES:
            with django_assert_max_num_queries(25) as captured:
                assert client.get(url(name)).status_code == 200, name
            counted[name] = len(captured)
        return counted

    customers_reminded(branch, 1)
    one = queries()
    customers_reminded(branch, 4, consent=False)
    more = queries()
    assert more == one
    assert len(client.get(url("message-list")).context["page"].object_list) == 5


def test_a_customer_of_another_branch_is_not_named_by_the_filter(
    client, branch, other_branch, customer_care
):
    agent = UserFactory(roles=["customer_care"], branches=[other_branch])
    [theirs] = customers_reminded(other_branch)
    client.force_login(customer_care)
    response = client.get(url("reminder-list"), {"customer": theirs.pk})
    assert response.context["customer"] is None
    client.force_login(agent)
    response = client.get(url("reminder-list"), {"customer": theirs.pk})
    assert response.context["customer"] == theirs
