"""The call-centre pages: today's queue (mine or the branch's) with the day's results and the
month's completion rate, every call with its filters, and a call with its script, the
customer's card and the attempt form: reached with a score it is done, a low score with an
issue opens a complaint, not reached three times the customer is unreachable. Refused rules
show beside their field and change nothing; phone numbers are masked without view_pii; other
branches' calls are 404; the queue's and the list's queries do not grow with their rows."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from customers.care import services
from customers.care.choices import (
    CallOutcome,
    CallReason,
    CallStatus,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    Severity,
)
from customers.care.models import CallAttempt, Complaint, FollowUpCall
from customers.choices import CustomerKind
from customers.models import Customer
from dealer_crm.models import PiiAccess, display_name
from dealer_crm.pii import mask_phone
from tests.archives.helpers import closed_work_order
from tests.factories import ContactFactory, UserFactory
from tests.factories.sales import DeliveryFactory

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"care:{name}", args=args)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def calls_due(branch, count: int = 1, *, days_ago: int = 1) -> list[FollowUpCall]:
    """`count` cars of the branch delivered `days_ago`; the morning job makes their day-1
    calls (due yesterday's delivery + 1 day) and hands them to the branch's agent."""
    today = timezone.localdate()
    deliveries = [
        DeliveryFactory(order__branch=branch, delivered_on=today - timedelta(days=days_ago))
        for _ in range(count)
    ]
    services.follow_up_calls_generate(today=today)
    return list(
        FollowUpCall.objects.filter(
            delivery__in=deliveries, reason=CallReason.DELIVERY_DAY_1
        ).select_related("customer")
    )


def organizations(calls: list[FollowUpCall]) -> list:
    """Make each call's customer a company, without a mobile of its own, reached through a
    primary contact; the contacts are returned in the calls' order."""
    contacts = []
    for each in calls:
        Customer.objects.filter(pk=each.customer_id).update(
            kind=CustomerKind.ORGANIZATION, mobile=""
        )
        contacts.append(ContactFactory(customer=each.customer, is_primary=True))
    return contacts


@pytest.fixture
def call(branch, customer_care) -> FollowUpCall:
    return calls_due(branch)[0]


@pytest.fixture
def other_call(other_branch) -> FollowUpCall:
    UserFactory(username="other_care", roles=["customer_care"], branches=[other_branch])
    return calls_due(other_branch)[0]


def state(call: FollowUpCall) -> tuple:
    call.refresh_from_db()
    return (
        call.status, call.attempts, call.due_on, call.score, call.assigned_to_id,
        CallAttempt.objects.filter(call=call).count(), Complaint.objects.count(),
    )  # fmt: skip


def attempt(client, call, **data):
    return client.post(url("call-attempt", call.pk), data)


ISSUE = {
    "issue": "on",
    "category": ComplaintCategory.WAITING,
    "severity": Severity.MEDIUM,
    "description": "交车等了两个小时",
}


# --- Rendering and access ----------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_call_page_answers_the_agent_in_both_languages(client, customer_care, call, language):
    client.force_login(customer_care)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for page in [
        url("call-centre"),
        url("call-centre") + "?tab=branch",
        url("call-list"),
        url("call-detail", call.pk),
    ]:
        response = client.get(page)
        assert response.status_code == 200, page
        assert call.customer.name in response.content.decode(), page
        assert f'lang="{language}"' in response.content.decode(), page


def test_the_workshop_and_the_stockroom_have_no_call_pages(
    client, technician, parts_clerk, customer_care, call
):
    before = state(call)
    for person in [technician, parts_clerk]:
        client.force_login(person)
        for page in [
            url("call-centre"),
            url("call-list"),
            url("call-detail", call.pk),
        ]:
            assert client.get(page).status_code == 403, (person, page)
        outcome = {"outcome": CallOutcome.REACHED, "score": "5"}
        assert attempt(client, call, **outcome).status_code == 403
        moved = client.post(url("call-reassign", call.pk), {"to": customer_care.pk})
        assert moved.status_code == 403
    assert state(call) == before


def test_another_branch_call_answers_404_and_is_not_listed(client, customer_care, call, other_call):
    client.force_login(customer_care)
    before = state(other_call)
    assert client.get(url("call-detail", other_call.pk)).status_code == 404
    outcome = {"outcome": CallOutcome.REACHED, "score": "5"}
    assert attempt(client, other_call, **outcome).status_code == 404
    moved = client.post(url("call-reassign", other_call.pk), {"to": customer_care.pk})
    assert moved.status_code == 404
    assert state(other_call) == before
    for page in [url("call-centre") + "?tab=branch", url("call-list")]:
        rows = list(client.get(page).context["page"].object_list)
        assert rows == [call], page


def test_an_attempt_is_posted_never_got(client, customer_care, call):
    client.force_login(customer_care)
    assert client.get(url("call-attempt", call.pk)).status_code == 405
    assert client.get(url("call-reassign", call.pk)).status_code == 405


# --- The call centre ---------------------------------------------------------------------


def test_the_queue_is_mine_by_default_and_the_branch_on_its_tab(
    client, branch, customer_care, advisor
):
    mine, theirs = calls_due(branch, 2)
    services.call_reassign(call=theirs, to=advisor, by=customer_care)
    client.force_login(customer_care)

    own = client.get(url("call-centre"))
    everyone = client.get(url("call-centre"), {"tab": "branch"})

    assert list(own.context["page"].object_list) == [mine]
    assert {row.pk for row in everyone.context["page"].object_list} == {mine.pk, theirs.pk}
    assert own.context["queued"]["mine"] == 1 and own.context["queued"]["branch"] == 2
    assert f'href="{url("call-detail", mine.pk)}"' in own.content.decode()
    assert "Assigned to" not in own.content.decode()  # my own calls need no assignee column
    assert "Assigned to" in everyone.content.decode()


def test_an_overdue_call_is_flagged_and_a_future_one_is_not_queued(client, branch, customer_care):
    late = calls_due(branch, days_ago=3)[0]  # its day-1 call was due two days ago
    tomorrow = calls_due(branch)[0]
    tomorrow.due_on = timezone.localdate() + timedelta(days=1)
    tomorrow.save()
    client.force_login(customer_care)

    response = client.get(url("call-centre"))

    assert list(response.context["page"].object_list) == [late]
    row = response.content.decode().split(f'id="call-{late.pk}"')[1].split("</tr>")[0]
    assert "call-overdue" in row
    assert response.context["late"] == 1


def test_the_day_results_and_the_month_completion_rate(client, branch, customer_care):
    done, unreachable, waiting, _fourth = calls_due(branch, 4)
    services.call_attempt_record(call=done, outcome=CallOutcome.REACHED, score=5, by=customer_care)
    for _ in range(services.MAX_ATTEMPTS - 1):
        services.call_attempt_record(
            call=unreachable, outcome=CallOutcome.NO_ANSWER, by=customer_care
        )
    # the days pass: the call is due again today, and the third attempt fails too
    FollowUpCall.objects.filter(pk=unreachable.pk).update(due_on=timezone.localdate())
    services.call_attempt_record(call=unreachable, outcome=CallOutcome.NO_ANSWER, by=customer_care)
    client.force_login(customer_care)

    response = client.get(url("call-centre"))

    assert response.context["finished"] == {"done": 1, "unreachable": 1}
    month = response.context["month"]
    assert (month["done"], month["due"]) == (1, 4)
    page = response.content.decode()
    assert "25%" in page and "1 done of 4 due" in page
    assert "done ÷ due" in page  # the rate's definition is on the page
    assert list(response.context["page"].object_list) == [waiting, _fourth]


def test_an_empty_queue_says_so(client, customer_care):
    client.force_login(customer_care)
    response = client.get(url("call-centre"))
    assert response.status_code == 200
    assert "No call left to make today." in response.content.decode()
    assert response.context["month"]["completion"] is None
    assert 'id="completion-definition"' in response.content.decode()


# --- Logging an attempt ------------------------------------------------------------------


def test_a_customer_reached_with_a_score_makes_the_call_done(client, customer_care, call):
    client.force_login(customer_care)

    response = attempt(client, call, outcome=CallOutcome.REACHED, score="4", note="很满意")

    assert response.status_code == 302 and response.url == url("call-centre")
    call.refresh_from_db()
    assert (call.status, call.score, call.note, call.attempts) == (
        CallStatus.DONE, 4, "很满意", 1,
    )  # fmt: skip
    assert call.completed_by == customer_care and call.raised_complaint is None
    assert messages_of(response) == [f"Call to {call.customer.name} done: satisfaction 4 of 5."]
    detail = client.get(url("call-detail", call.pk)).content.decode()
    assert 'id="call-result"' in detail and 'id="attempt-form"' not in detail


def test_a_low_score_with_an_issue_opens_a_linked_complaint(client, customer_care, call):
    client.force_login(customer_care)

    response = attempt(client, call, outcome=CallOutcome.REACHED, score="2", **ISSUE)

    call.refresh_from_db()
    complaint = call.raised_complaint
    assert call.status == CallStatus.DONE and call.score == 2
    assert (complaint.channel, complaint.category, complaint.severity, complaint.status) == (
        ComplaintChannel.FOLLOW_UP, ComplaintCategory.WAITING, Severity.MEDIUM,
        ComplaintStatus.OPEN,
    )  # fmt: skip
    assert complaint.customer == call.customer and complaint.description == ISSUE["description"]
    [message] = messages_of(response)
    assert f"{complaint.number} opened" in message
    assert f'href="{url("complaint-detail", complaint.pk)}"' in message
    shown = client.get(url("call-centre")).content.decode()  # the next page says it, linked
    assert f'href="{url("complaint-detail", complaint.pk)}">Complaint {complaint.number}' in shown
    detail = client.get(url("call-detail", call.pk)).content.decode()
    assert f'href="{url("complaint-detail", complaint.pk)}" id="raised-complaint"' in detail


def test_a_customer_not_reached_three_times_is_unreachable(client, customer_care, call):
    client.force_login(customer_care)
    name, tomorrow = call.customer.name, timezone.localdate() + timedelta(days=1)
    expected = [
        f"{name} not reached: tried again tomorrow (attempt 1 of 3).",
        f"{name} not reached: tried again tomorrow (attempt 2 of 3).",
        f"{name} not reached after 3 attempts: marked unreachable.",
    ]
    for message in expected:
        response = client.post(
            url("call-attempt", call.pk), {"outcome": CallOutcome.NO_ANSWER}, follow=True
        )
        assert [str(each) for each in response.context["messages"]] == [message]
        call.refresh_from_db()
        if call.status == CallStatus.DUE:
            assert call.due_on == tomorrow

    assert (call.status, call.attempts) == (CallStatus.UNREACHABLE, 3)
    assert CallAttempt.objects.filter(call=call).count() == 3


def test_logging_a_call_already_done_is_a_conflict(client, customer_care, call):
    services.call_attempt_record(call=call, outcome=CallOutcome.REACHED, score=5, by=customer_care)
    before = state(call)
    client.force_login(customer_care)

    response = attempt(client, call, outcome=CallOutcome.REACHED, score="1", **ISSUE)

    assert response.status_code == 409
    assert messages_of(response) == ["This call is already done."]
    assert "This call is already done." in response.content.decode()
    assert state(call) == before


def test_a_missing_score_is_said_beside_the_score(client, customer_care, call):
    before = state(call)
    client.force_login(customer_care)

    response = attempt(client, call, outcome=CallOutcome.REACHED, note="")

    assert response.status_code == 400
    score_field = response.content.decode().split('id="score-field"')[1].split("</fieldset>")[0]
    assert "Ask the customer for a score from 1 to 5." in score_field
    assert state(call) == before


def test_a_missing_outcome_is_said_beside_the_outcome(client, customer_care, call):
    before = state(call)
    client.force_login(customer_care)

    response = attempt(client, call, score="3")

    assert response.status_code == 400
    assert response.context["attempt_form"].errors == {"outcome": ["Choose what came of the call."]}
    assert state(call) == before


def test_an_issue_needs_its_severity_and_a_customer_reached(client, customer_care, call):
    before = state(call)
    client.force_login(customer_care)

    no_severity = attempt(
        client, call, outcome=CallOutcome.REACHED, score="2", **{**ISSUE, "severity": ""}
    )
    not_reached = attempt(client, call, outcome=CallOutcome.BUSY, **ISSUE)

    assert no_severity.status_code == 400
    assert no_severity.context["attempt_form"].errors == {"severity": ["Choose the severity."]}
    assert not_reached.context["attempt_form"].errors == {
        "issue": ["An issue is raised by a customer reached."]
    }
    assert state(call) == before


def test_an_issue_left_unticked_opens_no_complaint(client, customer_care, call):
    client.force_login(customer_care)
    unticked = {key: value for key, value in ISSUE.items() if key != "issue"}

    attempt(client, call, outcome=CallOutcome.REACHED, score="3", **unticked)

    call.refresh_from_db()
    assert call.status == CallStatus.DONE and call.raised_complaint is None
    assert Complaint.objects.count() == 0


# --- Reassigning -------------------------------------------------------------------------


def test_a_call_is_handed_to_a_colleague_of_the_branch(
    client, customer_care, advisor, other_branch_user, call
):
    client.force_login(customer_care)
    form = client.get(url("call-detail", call.pk)).context["reassign_form"]
    offered = set(form.fields["to"].queryset)
    assert advisor in offered and other_branch_user not in offered
    assert customer_care not in offered  # already the call's

    refused = client.post(url("call-reassign", call.pk), {"to": other_branch_user.pk})
    assert refused.status_code == 400 and "to" in refused.context["reassign_form"].errors
    call.refresh_from_db()
    assert call.assigned_to == customer_care

    response = client.post(url("call-reassign", call.pk), {"to": advisor.pk})

    assert response.status_code == 302 and response.url == url("call-detail", call.pk)
    call.refresh_from_db()
    assert call.assigned_to == advisor
    assert messages_of(response) == [f"The call is now {display_name(advisor)}'s to make."]


def test_a_finished_call_offers_neither_attempt_nor_reassignment(client, customer_care, call):
    services.call_attempt_record(call=call, outcome=CallOutcome.REACHED, score=5, by=customer_care)
    client.force_login(customer_care)
    page = client.get(url("call-detail", call.pk)).content.decode()
    assert 'id="attempt-form"' not in page and 'id="reassign-panel"' not in page
    assert 'id="call-script"' not in page


# --- The call's page ---------------------------------------------------------------------


def test_the_script_follows_the_reason(client, customer_care, call):
    client.force_login(customer_care)
    page = client.get(url("call-detail", call.pk)).content.decode()
    script = page.split('id="call-script"')[1].split('id="attempt-panel"')[0]
    assert "You collected your" in script
    assert "features" in script
    assert "from 1 (not at all) to 5 (very)" in script


def test_the_card_links_the_record_the_call_is_about(
    client, branch, customer_care, advisor, technician, branch_manager, call
):
    work_order = closed_work_order(branch, advisor, technician)
    tomorrow = timezone.localdate() + timedelta(days=1)
    services.follow_up_calls_generate(today=tomorrow)
    service_call = FollowUpCall.objects.get(work_order=work_order)
    complaint = services.complaint_create(
        branch=branch, customer=call.customer, by=customer_care,
        data={"channel": ComplaintChannel.PHONE, "category": ComplaintCategory.PRICE,
              "severity": Severity.LOW, "description": "保养价格偏高"},
    )  # fmt: skip
    services.complaint_resolve(complaint=complaint, resolution="退还差价", by=branch_manager)
    services.complaint_confirm(complaint=complaint, by=customer_care)
    in_three_days = timezone.localdate() + timedelta(days=3)
    services.follow_up_calls_generate(today=in_three_days)
    complaint_call = FollowUpCall.objects.get(complaint=complaint)
    client.force_login(customer_care)

    expected = {
        call: reverse("sales:order-detail", args=[call.delivery.order_id]),
        service_call: reverse("service:work-order-detail", args=[work_order.pk]),
        complaint_call: url("complaint-detail", complaint.pk),
    }
    for each, link in expected.items():
        page = client.get(url("call-detail", each.pk)).content.decode()
        source = page.split('id="call-source"')[1].split("</dd>")[0]
        assert f'href="{link}"' in source, each.reason
    service_page = client.get(url("call-detail", service_call.pk)).content.decode()
    assert "Was the work done as promised" in service_page


def test_the_attempts_and_the_history_are_on_the_page(client, customer_care, call):
    services.call_attempt_record(
        call=call, outcome=CallOutcome.BUSY, note="在开会", by=customer_care
    )
    client.force_login(customer_care)
    response = client.get(url("call-detail", call.pk))
    page = response.content.decode()
    attempts = page.split('id="call-attempts"')[1].split("</ul>")[0]
    assert "Busy, call back" in attempts and "在开会" in attempts
    assert len(response.context["history"]) == 2  # made, then tried once


# --- Personal data -----------------------------------------------------------------------


def test_the_phone_is_masked_without_view_pii(client, sales_manager, customer_care, call):
    mobile = call.customer.mobile
    masked = mask_phone(mobile)
    pages = [url("call-centre") + "?tab=branch", url("call-list"), url("call-detail", call.pk)]

    client.force_login(sales_manager)
    for page in pages:
        shown = client.get(page).content.decode()
        assert masked in shown and mobile not in shown, page
        assert "tel:" not in shown, page
    assert not PiiAccess.objects.filter(user=sales_manager).exists()

    client.force_login(customer_care)
    for page in pages:
        shown = client.get(page).content.decode()
        assert mobile in shown, page
    detail = client.get(url("call-detail", call.pk)).content.decode()
    assert f'href="tel:{mobile}"' in detail
    logged = PiiAccess.objects.filter(user=customer_care, customer=call.customer)
    assert logged.count() == len(pages) + 1


def test_a_company_is_called_through_its_primary_contact(
    client, sales_manager, customer_care, call
):
    [contact] = organizations([call])
    masked = mask_phone(contact.mobile)

    client.force_login(sales_manager)
    queue = client.get(url("call-centre"), {"tab": "branch"}).content.decode()
    row = queue.split(f'id="call-{call.pk}"')[1].split("</tr>")[0]
    assert contact.name in row and masked in row and contact.mobile not in row

    client.force_login(customer_care)
    page = client.get(url("call-detail", call.pk)).content.decode()
    assert contact.name in page.split('id="call-contact"')[1].split("</dd>")[0]
    assert f'href="tel:{contact.mobile}"' in page.split('id="call-phone"')[1].split("</dd>")[0]
    greeting = page.split('class="script-greeting"')[1].split("</p>")[0]
    assert f"Hello, is this {contact.name}?" in greeting


# --- The list ----------------------------------------------------------------------------


def test_the_list_filters_by_status_reason_assignee_and_due_day(
    client, branch, customer_care, advisor
):
    done, reassigned, late = calls_due(branch, 3)
    services.call_attempt_record(call=done, outcome=CallOutcome.REACHED, score=4, by=customer_care)
    services.call_reassign(call=reassigned, to=advisor, by=customer_care)
    late.due_on = timezone.localdate() - timedelta(days=5)
    late.save()
    client.force_login(customer_care)

    def listed(**query) -> set[int]:
        response = client.get(url("call-list"), query)
        assert response.status_code == 200
        return {row.pk for row in response.context["page"].object_list}

    assert listed() == {done.pk, reassigned.pk, late.pk}
    assert listed(status=CallStatus.DONE) == {done.pk}
    assert listed(status=[CallStatus.DUE, CallStatus.UNREACHABLE]) == {reassigned.pk, late.pk}
    assert listed(reason=CallReason.SERVICE) == set()
    assert listed(assigned_to=advisor.pk) == {reassigned.pk}
    day = (timezone.localdate() - timedelta(days=2)).isoformat()
    assert listed(due_on_before=day) == {late.pk}
    assert listed(due_on_after=day) == {done.pk, reassigned.pk}


def test_the_list_sorts_and_survives_garbage(client, branch, customer_care):
    first, second = calls_due(branch, 2)
    first.due_on = timezone.localdate() - timedelta(days=4)
    first.save()
    client.force_login(customer_care)

    oldest_first = client.get(url("call-list"), {"sort": "due"}).context["page"].object_list
    newest_first = client.get(url("call-list")).context["page"].object_list

    assert list(oldest_first) == [first, second] and list(newest_first) == [second, first]
    garbage = {
        "status": "lost", "reason": "boredom", "assigned_to": "abc", "branch": "-1",
        "due_on_after": "yesterday", "sort": "drop table", "page": "last", "size": "1e9",
    }  # fmt: skip
    assert client.get(url("call-list"), garbage).status_code == 200
    assert client.get(url("call-centre"), {"tab": "everyone", "page": "x"}).status_code == 200


# --- Queries -----------------------------------------------------------------------------


def test_the_queue_and_the_list_cost_the_same_queries_for_1_and_5_calls(
    client, branch, customer_care, django_assert_max_num_queries
):
    client.force_login(customer_care)
    pages = [url("call-centre"), url("call-centre") + "?tab=branch", url("call-list")]

    def queries() -> dict:
        counted = {}
        for page in pages:
            with django_assert_max_num_queries(30) as captured:
                assert client.get(page).status_code == 200, page
            counted[page] = len(captured)
        return counted

    organizations(calls_due(branch, 1))
    one = queries()
    organizations(calls_due(branch, 4))
    five = queries()

    assert five == one
    assert client.get(url("call-list")).context["page"].paginator.count == 5
