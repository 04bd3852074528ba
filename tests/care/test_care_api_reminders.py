"""The reminders and messages API: read-only lists (cursor pagination) and records of the
reminders the daily job made and of every message sent or withheld. The call centre and the
managers read them, the showroom and the workshop are refused, anonymous clients are told to
log in; another branch's records do not exist; mobile numbers are masked without view_pii and
unmasked views are logged; filters narrow the lists and bad ones answer 400; writes answer 405;
the queries do not grow with the rows."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from customers.care.choices import Channel, MessageStatus, ReminderKind
from customers.care.models import Message, Reminder
from dealer_crm.choices import PiiChannel
from dealer_crm.models import PiiAccess
from dealer_crm.pii import mask_phone
from tests.care.test_pages_reminders import TODAY, customers_reminded

pytestmark = pytest.mark.django_db

API = "/api/v1/"
LISTS = ["reminders/", "messages/"]


def snapshot() -> dict:
    return {
        model.__name__: list(model.objects.order_by("pk").values()) for model in (Reminder, Message)
    }


def records_of(customer) -> dict:
    """The customer's insurance reminder and its message, by list."""
    reminder = Reminder.objects.get(customer=customer, kind=ReminderKind.INSURANCE)
    return {"reminders/": reminder.pk, "messages/": reminder.message.pk}


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def mine(branch):
    return customers_reminded(branch)[0]


@pytest.fixture
def theirs(other_branch):
    return customers_reminded(other_branch)[0]


# --- Who may read ----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["customer_care", "sales_manager", "branch_manager"])
def test_the_call_centre_and_the_managers_read_both(request, api_as, mine, persona):
    client = api_as(request.getfixturevalue(persona))
    for path, pk in records_of(mine).items():
        assert ids(client.get(API + path)) == {pk}, path
        assert client.get(f"{API}{path}{pk}/").status_code == 200, path


@pytest.mark.parametrize("persona", ["consultant", "advisor", "technician"])
def test_the_showroom_and_the_workshop_are_refused(request, api_as, mine, persona):
    client = api_as(request.getfixturevalue(persona))
    for path, pk in records_of(mine).items():
        assert client.get(API + path).status_code == 403, path
        assert client.get(f"{API}{path}{pk}/").status_code == 403, path


def test_anonymous_clients_are_told_to_log_in(api_client, mine):
    for path, pk in records_of(mine).items():
        assert api_client.get(API + path).status_code == 401, path
        assert api_client.get(f"{API}{path}{pk}/").status_code == 401, path


def test_nothing_can_be_written(api_as, customer_care, branch_manager, mine):
    # given the records, and those who may read them
    before = snapshot()
    for user in (customer_care, branch_manager):
        client = api_as(user)
        for path, pk in records_of(mine).items():
            # when they try to create, change or delete one
            answers = {
                "post": client.post(API + path, {"customer": mine.pk}, format="json"),
                "put": client.put(f"{API}{path}{pk}/", {"status": "sent"}, format="json"),
                "patch": client.patch(f"{API}{path}{pk}/", {"status": "sent"}, format="json"),
                "delete": client.delete(f"{API}{path}{pk}/"),
            }
            # then the method is not allowed, and nothing changed
            assert {m: r.status_code for m, r in answers.items()} == dict.fromkeys(answers, 405)
    assert snapshot() == before


# --- Branches --------------------------------------------------------------------------------


def test_another_branchs_records_do_not_exist(api_as, customer_care, group_manager, mine, theirs):
    client = api_as(customer_care)
    for path in LISTS:
        assert ids(client.get(API + path)) == {records_of(mine)[path]}, path
        assert client.get(f"{API}{path}{records_of(theirs)[path]}/").status_code == 404, path
        # naming their customer in a filter is refused
        response = client.get(API + path, {"customer": theirs.pk})
        assert response.status_code == 400 and "customer" in response.json(), path
    # and the group manager reads both branches
    client = api_as(group_manager)
    for path in LISTS:
        expected = {records_of(mine)[path], records_of(theirs)[path]}
        assert ids(client.get(API + path)) == expected, path


# --- What a record says ----------------------------------------------------------------------


def test_a_reminder_says_what_when_and_what_became_of_it(api_as, customer_care, branch, mine):
    waiting = Reminder.objects.create(
        customer=mine, kind=ReminderKind.BIRTHDAY, due_on=TODAY, about_on=TODAY
    )
    client = api_as(customer_care)
    sent = records_of(mine)
    body = client.get(f"{API}reminders/{sent['reminders/']}/").json()
    vehicle = mine.vehicles.get()
    assert body == {
        "id": sent["reminders/"], "customer": mine.pk, "customer_name": mine.name,
        "vehicle": vehicle.pk, "plate": vehicle.plate, "kind": ReminderKind.INSURANCE,
        "due_on": TODAY.isoformat(), "about_on": (TODAY + timedelta(days=30)).isoformat(),
        "message": sent["messages/"], "message_status": MessageStatus.SENT,
        "created_at": body["created_at"],
    }  # fmt: skip
    body = client.get(f"{API}reminders/{waiting.pk}/").json()
    assert (body["vehicle"], body["plate"], body["message"], body["message_status"]) == (
        None, None, None, None
    )  # fmt: skip


def test_a_message_carries_its_text_and_outcome(api_as, customer_care, mine):
    message = Message.objects.get(customer=mine)
    body = api_as(customer_care).get(f"{API}messages/{message.pk}/").json()
    assert body == {
        "id": message.pk, "customer": mine.pk, "customer_name": mine.name,
        "reminder": message.reminder_id, "reminder_kind": ReminderKind.INSURANCE,
        "channel": Channel.SMS, "address": mine.mobile, "language": "en",
        "subject": message.subject, "body": message.body, "status": MessageStatus.SENT,
        "error": "", "sent_at": body["sent_at"],
    }  # fmt: skip
    assert mine.name in body["body"]


def test_mobile_numbers_are_masked_without_view_pii_and_logged_when_shown(
    api_as, branch, sales_manager, customer_care, mine
):
    # given an SMS and an e-mail sent
    [mailed] = customers_reminded(branch, mobile="", email="li@example.com")
    # when a manager without view_pii reads the log, the mobile is masked and the e-mail
    # (not a phone number) shows; nothing is logged
    rows = api_as(sales_manager).get(API + "messages/").json()["results"]
    addresses = {row["customer"]: row["address"] for row in rows}
    assert addresses == {mine.pk: mask_phone(mine.mobile), mailed.pk: "li@example.com"}
    assert not PiiAccess.objects.filter(user=sales_manager).exists()
    # when the agent reads it, the mobile shows, and the view is logged
    rows = api_as(customer_care).get(API + "messages/").json()["results"]
    assert {row["address"] for row in rows} == {mine.mobile, "li@example.com"}
    logged = PiiAccess.objects.filter(user=customer_care, channel=PiiChannel.API)
    assert set(logged.values_list("customer", flat=True)) == {mine.pk, mailed.pk}


# --- Filters and pages -----------------------------------------------------------------------


def test_the_reminders_filter_by_kind_day_and_what_became_of_them(api_as, branch, customer_care):
    [sent] = customers_reminded(branch)
    [withheld] = customers_reminded(branch, consent=False)
    later = Reminder.objects.create(
        customer=sent, kind=ReminderKind.BIRTHDAY, due_on=TODAY + timedelta(days=3),
        about_on=TODAY + timedelta(days=3),
    )  # fmt: skip
    client = api_as(customer_care)

    def listed(**query) -> set[int]:
        return ids(client.get(API + "reminders/", query))

    sent_one, withheld_one = records_of(sent)["reminders/"], records_of(withheld)["reminders/"]
    assert listed() == {sent_one, withheld_one, later.pk}
    assert listed(kind=ReminderKind.BIRTHDAY) == {later.pk}
    assert listed(state="waiting") == {later.pk}
    assert listed(state="sent") == {sent_one}
    assert listed(state="withheld") == {withheld_one}
    assert listed(state="failed") == set()
    assert listed(due_on_after=(TODAY + timedelta(days=1)).isoformat()) == {later.pk}
    assert listed(due_on_before=TODAY.isoformat()) == {sent_one, withheld_one}
    assert listed(customer=withheld.pk) == {withheld_one}
    for bad, field in [
        ({"kind": "oil"}, "kind"), ({"state": "lost"}, "state"),
        ({"due_on_after": "soon"}, "due_on"), ({"customer": "x"}, "customer"),
    ]:  # fmt: skip
        response = client.get(API + "reminders/", bad)
        assert response.status_code == 400 and field in response.json(), bad


def test_the_messages_filter_by_channel_status_day_and_customer(api_as, branch, customer_care):
    [texted] = customers_reminded(branch, name="陈静")
    [mailed] = customers_reminded(branch, mobile="", email="li@example.com")
    [withheld] = customers_reminded(branch, consent=False)
    client = api_as(customer_care)

    def listed(**query) -> set[int]:
        return ids(client.get(API + "messages/", query))

    def message_of(customer) -> int:
        return records_of(customer)["messages/"]

    everyone = {message_of(texted), message_of(mailed), message_of(withheld)}
    assert listed() == everyone
    assert listed(channel=Channel.EMAIL) == {message_of(mailed)}
    assert listed(status=MessageStatus.NO_CONSENT) == {message_of(withheld)}
    assert listed(status=MessageStatus.SENT) == {message_of(texted), message_of(mailed)}
    assert listed(search="陈静") == {message_of(texted)}
    assert listed(customer=mailed.pk) == {message_of(mailed)}
    today = timezone.localdate()
    assert listed(sent_after=today.isoformat(), sent_before=today.isoformat()) == everyone
    assert listed(sent_after=(today + timedelta(days=1)).isoformat()) == set()
    for bad in [{"channel": "fax"}, {"status": "lost"}, {"sent_after": "yesterday"}]:
        response = client.get(API + "messages/", bad)
        assert response.status_code == 400 and set(response.json()) >= set(bad), bad


def test_the_lists_page_by_cursor(api_as, branch, customer_care):
    customers_reminded(branch, 3)
    client = api_as(customer_care)
    for path in LISTS:
        first = client.get(API + path, {"limit": 2}).json()
        assert "count" not in first and first["next"], path
        second = client.get(first["next"]).json()
        rows = [row["id"] for row in first["results"] + second["results"]]
        assert len(rows) == len(set(rows)) == 3 and rows == sorted(rows, reverse=True), path


@pytest.mark.parametrize("path", LISTS)
def test_list_queries_do_not_grow_with_the_rows(
    branch, customer_care, django_assert_max_num_queries, path
):
    def queries() -> tuple[int, int]:
        client = APIClient()
        client.force_authenticate(User.objects.get(pk=customer_care.pk))
        with django_assert_max_num_queries(12) as captured:
            response = client.get(API + path, {"limit": 50})
        return len(captured), len(ids(response))

    customers_reminded(branch, 1)
    one, shown_one = queries()
    customers_reminded(branch, 4, consent=False)
    five, shown_five = queries()
    assert (shown_one, shown_five) == (1, 5)
    assert five == one
