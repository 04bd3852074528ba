"""The complaint (投诉) and inquiry (咨询, 建议) pages: the complaints with their filters,
deadlines and escalation; a new complaint for a customer found by the picker, each refusal
beside its field; a complaint walked respond → resolve (a manager only) → confirm, with the
follow-up call it brings; the inquiries logged and answered in the list, never twice. Other
branches' records are 404, roles without care permissions 403, and the lists cost the same
number of queries whatever their length."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from customers.care import services
from customers.care.choices import (
    CallOutcome,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    InquiryKind,
    Severity,
)
from customers.care.models import Complaint, FollowUpCall, Inquiry
from dealer_crm.choices import Role
from tests.archives.helpers import closed_work_order
from tests.factories import CustomerFactory, UserFactory, VehicleFactory
from tests.service.helpers import open_work_order

pytestmark = pytest.mark.django_db


def recorded(branch, by, customer=None, *, hours_ago: float = 0, **data) -> Complaint:
    """A complaint of a customer of the branch, received `hours_ago`."""
    return services.complaint_create(
        branch=branch,
        customer=customer or CustomerFactory(branch=branch),
        by=by,
        data={
            "channel": ComplaintChannel.PHONE,
            "category": ComplaintCategory.WAITING,
            "severity": Severity.MEDIUM,
            "description": "交车等了两个小时",
            "received_at": timezone.now() - timedelta(hours=hours_ago),
            **data,
        },
    )


def logged(branch, by, customer=None, **data) -> Inquiry:
    return services.inquiry_record(
        branch=branch,
        customer=customer or CustomerFactory(branch=branch),
        by=by,
        data={
            "kind": InquiryKind.INQUIRY,
            "channel": ComplaintChannel.WECHAT,
            "subject": "首保需要预约吗？",
            **data,
        },
    )


def complaint_form(customer, owner, **overrides) -> dict:
    return {
        "customer": customer.pk,
        "vehicle": "",
        "channel": ComplaintChannel.WALK_IN,
        "category": ComplaintCategory.SERVICE_QUALITY,
        "severity": Severity.HIGH,
        "description": "保养后发动机灯又亮了",
        "owner": owner.pk,
        "work_order": "",
        **overrides,
    }


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def action_url(complaint, action: str) -> str:
    return reverse("care:complaint-action", args=[complaint.pk, action])


def detail_url(complaint) -> str:
    return reverse("care:complaint-detail", args=[complaint.pk])


def follow(client, response):
    assert response.status_code == 302, response.content[:800]
    return client.get(response.url)


def listed(response) -> list[int]:
    return [row.pk for row in response.context["page"]]


@pytest.fixture
def customer(branch):
    return CustomerFactory(branch=branch, name="欧阳娜娜")


@pytest.fixture
def complaint(branch, customer_care, customer):
    return recorded(branch, customer_care, customer)


@pytest.fixture
def other_care(other_branch):
    return UserFactory(username="other_care", roles=[Role.CUSTOMER_CARE], branches=[other_branch])


# --- Access --------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["customer_care", "consultant", "advisor", "branch_manager"])
def test_care_and_front_line_roles_open_every_page(request, client, persona, complaint, branch):
    user = request.getfixturevalue(persona)
    logged(branch, user)
    client.force_login(user)
    for url in [
        reverse("care:complaint-list"),
        reverse("care:complaint-create"),
        detail_url(complaint),
        reverse("care:inquiry-list"),
        reverse("care:inquiry-create"),
    ]:
        assert client.get(url).status_code == 200, url


def test_a_technician_is_refused_every_page_and_changes_nothing(
    client, technician, complaint, branch, customer_care, customer
):
    inquiry = logged(branch, customer_care)
    client.force_login(technician)
    for url in [
        reverse("care:complaint-list"),
        reverse("care:complaint-create"),
        detail_url(complaint),
        reverse("care:inquiry-list"),
        reverse("care:inquiry-create"),
    ]:
        assert client.get(url).status_code == 403, url
    assert (
        client.post(action_url(complaint, "respond"), {"respond-response": "x"}).status_code == 403
    )
    response = client.post(
        reverse("care:inquiry-answer", args=[inquiry.pk]), {f"answer-{inquiry.pk}-answer": "x"}
    )
    assert response.status_code == 403
    response = client.post(reverse("care:complaint-create"), complaint_form(customer, technician))
    assert response.status_code == 403
    complaint.refresh_from_db()
    inquiry.refresh_from_db()
    assert (complaint.status, complaint.response) == (ComplaintStatus.OPEN, "")
    assert inquiry.answered_at is None
    assert Complaint.objects.count() == 1


def test_another_branchs_complaints_and_inquiries_are_not_found_nor_listed(
    client, other_care, complaint, branch, customer_care
):
    inquiry = logged(branch, customer_care)
    client.force_login(other_care)
    assert listed(client.get(reverse("care:complaint-list"))) == []
    assert listed(client.get(reverse("care:inquiry-list"))) == []
    assert client.get(detail_url(complaint)).status_code == 404
    response = client.post(action_url(complaint, "respond"), {"respond-response": "已致电"})
    assert response.status_code == 404
    response = client.post(
        reverse("care:inquiry-answer", args=[inquiry.pk]), {f"answer-{inquiry.pk}-answer": "x"}
    )
    assert response.status_code == 404
    complaint.refresh_from_db()
    inquiry.refresh_from_db()
    assert (complaint.status, inquiry.answered_at) == (ComplaintStatus.OPEN, None)


def test_an_unknown_step_is_not_found(client, customer_care, complaint):
    client.force_login(customer_care)
    assert client.post(action_url(complaint, "forgive")).status_code == 404


def test_a_step_address_opened_in_the_browser_leads_back_to_the_complaint(
    client, customer_care, complaint
):
    client.force_login(customer_care)
    response = client.get(action_url(complaint, "respond"))
    assert (response.status_code, response.url) == (302, detail_url(complaint))
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.OPEN


# --- A new complaint -----------------------------------------------------------------------


def test_customer_care_records_a_complaint_with_its_vehicle_and_work_order(
    client, customer_care, branch, advisor, customer
):
    # given a customer of the branch with a car serviced under a work order
    vehicle = VehicleFactory(owner=customer)
    work_order = open_work_order(branch, advisor, customer=customer, vehicle=vehicle)
    client.force_login(customer_care)
    # when the agent records the complaint, naming the advisor as its owner
    response = client.post(
        reverse("care:complaint-create"),
        complaint_form(customer, advisor, vehicle=vehicle.pk, work_order=work_order.pk),
    )
    # then it is recorded with the deadlines of its severity and its page opens
    complaint = Complaint.objects.get()
    assert response.url == detail_url(complaint)
    assert (complaint.branch, complaint.customer, complaint.vehicle, complaint.work_order) == (
        branch,
        customer,
        vehicle,
        work_order,
    )
    assert (complaint.owner, complaint.created_by) == (advisor, customer_care)
    assert complaint.respond_by - complaint.received_at == timedelta(hours=4)
    assert complaint.resolve_by - complaint.received_at == timedelta(hours=48)
    page = follow(client, response).content.decode()
    assert f"Complaint {complaint.number} recorded" in page
    assert work_order.number in page
    assert complaint.history.count() == 1


def test_a_consultant_records_a_complaint_owned_by_themselves_by_default(
    client, consultant, customer
):
    client.force_login(consultant)
    response = client.get(reverse("care:complaint-create"))
    assert response.context["form"]["owner"].value() == consultant.pk
    response = client.post(reverse("care:complaint-create"), complaint_form(customer, consultant))
    assert response.status_code == 302
    assert Complaint.objects.get().owner == consultant


def test_the_customer_page_link_prefills_the_customer_and_offers_their_records(
    client, customer_care, branch, advisor, customer
):
    vehicle = VehicleFactory(owner=customer, plate="粤A12345")
    work_order = open_work_order(branch, advisor, vehicle=vehicle)
    client.force_login(customer_care)
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    link = f"{reverse('care:complaint-create')}?customer={customer.pk}"
    assert link in page
    assert f"{reverse('care:inquiry-create')}?customer={customer.pk}" in page
    page = client.get(link).content.decode()
    assert re.search(rf'<option value="{customer.pk}" selected>欧阳娜娜', page)
    assert "粤A12345" in page and work_order.number in page


def test_the_picker_offers_only_the_branchs_customers(
    client, customer_care, branch, other_branch, advisor, customer
):
    vehicle = VehicleFactory(owner=customer, plate="粤A54321")
    work_order = open_work_order(branch, advisor, vehicle=vehicle)
    CustomerFactory(branch=other_branch, name="欧阳修")
    client.force_login(customer_care)
    url = reverse("care:complaint-create")
    page = client.get(url, {"customer_search": "欧阳"}).content.decode()
    assert "欧阳娜娜" in page and "欧阳修" not in page
    # the only match is chosen: its vehicles and work orders are offered at once
    assert "粤A54321" in page and work_order.number in page
    page = client.get(url, {"records": "1", "customer": customer.pk}).content.decode()
    assert "粤A54321" in page and work_order.number in page
    page = client.get(reverse("care:inquiry-create"), {"customer_search": "欧阳"}).content
    assert "欧阳娜娜" in page.decode() and "欧阳修" not in page.decode()


def test_another_branchs_customer_cannot_be_chosen(client, customer_care, other_branch):
    stranger = CustomerFactory(branch=other_branch)
    client.force_login(customer_care)
    page = client.get(reverse("care:complaint-create"), {"customer": stranger.pk})
    assert stranger.name not in page.content.decode()
    response = client.post(
        reverse("care:complaint-create"), complaint_form(stranger, customer_care)
    )
    assert response.status_code == 200
    assert "customer" in response.context["form"].errors
    assert not Complaint.objects.exists()


def test_an_owner_of_another_branch_is_refused_beside_the_owner(
    client, customer_care, other_care, customer
):
    client.force_login(customer_care)
    response = client.post(reverse("care:complaint-create"), complaint_form(customer, other_care))
    form = response.context["form"]
    assert form.domain_error.code == "owner_other_branch"
    assert form.errors["owner"] == ["The owner works in the complaint's branch."]
    assert "The owner works in the complaint&#x27;s branch." in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_complaint_without_its_severity_is_refused_beside_it(client, customer_care, customer):
    client.force_login(customer_care)
    response = client.post(
        reverse("care:complaint-create"), complaint_form(customer, customer_care, severity="")
    )
    form = response.context["form"]
    assert form.domain_error.code == "severity_invalid"
    assert form.errors["severity"] == ["Choose the severity."]
    assert not Complaint.objects.exists()


def test_another_customers_vehicle_and_work_order_are_refused(
    client, customer_care, branch, advisor, customer
):
    someone_else = CustomerFactory(branch=branch)
    their_car = VehicleFactory(owner=someone_else)
    their_order = open_work_order(branch, advisor, customer=someone_else, vehicle=their_car)
    client.force_login(customer_care)
    response = client.post(
        reverse("care:complaint-create"),
        complaint_form(customer, customer_care, vehicle=their_car.pk, work_order=their_order.pk),
    )
    errors = response.context["form"].errors
    assert errors["vehicle"] == errors["work_order"] == ["Choose one of this customer's."]
    assert not Complaint.objects.exists()


def test_a_complaint_without_its_facts_is_explained(client, customer_care):
    client.force_login(customer_care)
    response = client.post(reverse("care:complaint-create"), {"severity": Severity.LOW})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"customer", "channel", "category", "description", "owner"} <= set(errors)
    assert not Complaint.objects.exists()


def test_the_form_shows_the_deadlines_of_each_severity(client, customer_care):
    client.force_login(customer_care)
    page = client.get(reverse("care:complaint-create")).content.decode()
    expected = {
        Severity.CRITICAL: ("2 hours", "24 hours"),
        Severity.HIGH: ("4 hours", "48 hours"),
        Severity.MEDIUM: ("24 hours", "3 days"),
        Severity.LOW: ("48 hours", "7 days"),
    }
    for severity, (respond, resolve) in expected.items():
        row = re.search(rf'id="deadline-{severity}">(.*?)</tr>', page, re.S).group(1)
        assert f"<td>{respond}</td>" in row and f">{resolve}</td>" in row, severity


@pytest.mark.parametrize("severity", Severity.values)
def test_each_severity_sets_the_deadlines_shown_on_the_complaint(
    client, customer_care, customer, severity
):
    client.force_login(customer_care)
    response = client.post(
        reverse("care:complaint-create"), complaint_form(customer, customer_care, severity=severity)
    )
    complaint = Complaint.objects.get()
    respond_in, resolve_in = services.COMPLAINT_DEADLINES[severity]
    assert complaint.respond_by - complaint.received_at == respond_in
    assert complaint.resolve_by - complaint.received_at == resolve_in
    page = follow(client, response).content.decode()
    deadlines = re.search(r'id="complaint-deadlines"(.*?)</ul>', page, re.S).group(1)
    assert local(complaint.respond_by) in deadlines and local(complaint.resolve_by) in deadlines
    assert "left" in deadlines and "overdue" not in deadlines


# --- The steps -----------------------------------------------------------------------------


def test_respond_resolve_and_confirm_then_the_follow_up_call(
    client, customer_care, consultant, branch_manager, complaint
):
    # the agent gives the first response
    client.force_login(customer_care)
    page = client.get(detail_url(complaint)).content.decode()
    assert 'id="respond-panel"' in page and 'id="resolve-panel"' not in page
    response = client.post(
        action_url(complaint, "respond"), {"respond-response": "已致歉，约周六复检"}
    )
    page = follow(client, response).content.decode()
    complaint.refresh_from_db()
    assert (complaint.status, complaint.response) == (
        ComplaintStatus.RESPONDED,
        "已致歉，约周六复检",
    )
    assert "First response recorded" in page
    assert 'id="respond-panel"' not in page

    # the agent cannot resolve it: a manager does
    response = client.post(action_url(complaint, "resolve"), {"resolve-resolution": "免费复检"})
    page = follow(client, response).content.decode()
    assert "A manager resolves complaints." in page
    complaint.refresh_from_db()
    assert (complaint.status, complaint.resolution) == (ComplaintStatus.RESPONDED, "")

    # nor can a consultant, who may not change complaints at all
    client.force_login(consultant)
    page = client.get(detail_url(complaint)).content.decode()
    assert 'id="resolve-panel"' not in page and 'id="confirm-panel"' not in page
    response = client.post(action_url(complaint, "resolve"), {"resolve-resolution": "免费复检"})
    assert response.status_code == 403
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RESPONDED

    # the branch manager resolves it
    client.force_login(branch_manager)
    assert 'id="resolve-panel"' in client.get(detail_url(complaint)).content.decode()
    response = client.post(
        action_url(complaint, "resolve"), {"resolve-resolution": "免费复检并更换传感器"}
    )
    page = follow(client, response).content.decode()
    complaint.refresh_from_db()
    assert (complaint.status, complaint.resolved_by) == (ComplaintStatus.RESOLVED, branch_manager)
    assert "ask the customer to confirm it" in page and 'id="confirm-panel"' in page

    # the agent records the customer's confirmation
    client.force_login(customer_care)
    response = client.post(action_url(complaint, "confirm"), {"confirm-note": "问题已解决，满意"})
    page = follow(client, response).content.decode()
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.CLOSED
    assert complaint.confirmation_note == "问题已解决，满意"
    assert "a follow-up call falls due in 3 days" in page
    assert 'id="follow-up-call"' in page and "The daily job makes it 3 days" in page
    assert [step["done"] for step in client.get(detail_url(complaint)).context["steps"]] == [
        True
    ] * 4

    # three days later the call is made, and shown on the complaint
    day = timezone.localdate(complaint.confirmed_at) + timedelta(days=3)
    services.follow_up_calls_generate(today=day)
    call = FollowUpCall.objects.get(complaint=complaint)
    page = client.get(detail_url(complaint)).content.decode()
    assert reverse("care:call-detail", args=[call.pk]) in page
    assert f"Due on {day:%Y-%m-%d}" in page
    assert complaint.history.count() == 4


def test_an_empty_response_is_refused_beside_its_field(client, customer_care, complaint):
    client.force_login(customer_care)
    response = client.post(action_url(complaint, "respond"), {"respond-response": "   "})
    assert response.status_code == 200
    form = response.context["forms"]["respond"]
    assert form.domain_error.code == "response_required"
    assert form.errors["response"] == ["Write what was told to the customer."]
    complaint.refresh_from_db()
    assert (complaint.status, complaint.responded_at) == (ComplaintStatus.OPEN, None)


def test_an_empty_resolution_is_refused_beside_its_field(client, branch_manager, complaint):
    client.force_login(branch_manager)
    response = client.post(action_url(complaint, "resolve"), {"resolve-resolution": ""})
    form = response.context["forms"]["resolve"]
    assert form.domain_error.code == "resolution_required"
    assert "resolution" in form.errors
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.OPEN


def test_responding_twice_and_confirming_too_early_are_refused(client, customer_care, complaint):
    services.complaint_respond(complaint=complaint, response="已回电", by=customer_care)
    client.force_login(customer_care)
    response = client.post(action_url(complaint, "respond"), {"respond-response": "再次回电"})
    assert "This complaint was already answered." in follow(client, response).content.decode()
    response = client.post(action_url(complaint, "confirm"), {"confirm-note": "满意"})
    page = follow(client, response).content.decode()
    assert "The customer confirms a resolved complaint." in page
    complaint.refresh_from_db()
    assert (complaint.status, complaint.response, complaint.confirmed_at) == (
        ComplaintStatus.RESPONDED,
        "已回电",
        None,
    )


def test_a_late_complaint_shows_overdue_and_its_escalation(client, customer_care, branch, customer):
    # a critical complaint received three hours ago: two hours to respond, so late
    late = recorded(branch, customer_care, customer, severity=Severity.CRITICAL, hours_ago=3)
    services.complaints_escalate()
    client.force_login(customer_care)
    page = client.get(detail_url(late)).content.decode()
    respond = re.search(r'id="deadline-respond"(.*?)</li>', page, re.S).group(1)
    assert "list-group-item-danger" in page and "overdue by" in respond
    assert 'id="complaint-escalation"' in page and "Level 1" in page
    row = re.search(rf'id="complaint-{late.pk}"(.*?)</tr>', page_of_list(client), re.S).group(1)
    assert "respond-late" in row and "Level 1" in row


def page_of_list(client, **query) -> str:
    return client.get(reverse("care:complaint-list"), query).content.decode()


def test_the_call_that_raised_the_complaint_is_shown(
    client, branch, advisor, technician, customer_care
):
    closed = closed_work_order(branch, advisor, technician)
    services.follow_up_calls_generate(today=timezone.localdate() + timedelta(days=1))
    call = services.call_attempt_record(
        call=FollowUpCall.objects.get(work_order=closed),
        outcome=CallOutcome.REACHED,
        by=customer_care,
        score=1,
        note="洗车没洗干净",
        issue={
            "category": ComplaintCategory.SERVICE_QUALITY,
            "severity": Severity.LOW,
            "description": "车内没有清洁",
        },
    )
    client.force_login(customer_care)
    page = client.get(detail_url(call.raised_complaint)).content.decode()
    assert 'id="raising-call"' in page
    assert reverse("care:call-detail", args=[call.pk]) in page
    assert "satisfaction 1/5" in page and "洗车没洗干净" in page


# --- The list ------------------------------------------------------------------------------


def test_the_list_filters_and_searches(
    client, customer_care, branch_manager, branch, other_branch, other_care
):
    named = CustomerFactory(branch=branch, name="司马光")
    waiting = recorded(branch, customer_care, named)
    critical = recorded(
        branch, customer_care, severity=Severity.CRITICAL, hours_ago=3,
        category=ComplaintCategory.PRICE, channel=ComplaintChannel.WECHAT,
    )  # fmt: skip
    managed = recorded(branch, customer_care, owner=branch_manager, hours_ago=24 * 10)
    services.complaint_respond(complaint=managed, response="已回电", by=customer_care)
    services.complaints_escalate()
    recorded(other_branch, other_care)
    client.force_login(customer_care)

    def shown(**query) -> set[int]:
        return set(listed(client.get(reverse("care:complaint-list"), query)))

    assert shown() == {waiting.pk, critical.pk, managed.pk}
    assert shown(search="司马") == {waiting.pk}
    assert shown(search=critical.number) == {critical.pk}
    assert shown(search=critical.number.lower()) == {critical.pk}
    assert shown(status=ComplaintStatus.RESPONDED) == {managed.pk}
    assert shown(status=[ComplaintStatus.OPEN, ComplaintStatus.RESPONDED]) == shown()
    assert shown(severity=Severity.CRITICAL) == {critical.pk}
    assert shown(category=ComplaintCategory.PRICE) == {critical.pk}
    assert shown(channel=ComplaintChannel.WECHAT) == {critical.pk}
    assert shown(owner=branch_manager.pk) == {managed.pk}
    assert shown(overdue="true") == {critical.pk, managed.pk}
    assert shown(overdue="false") == {waiting.pk}
    assert shown(escalated="true") == {critical.pk, managed.pk}
    assert shown(escalated="false") == {waiting.pk}
    assert shown(customer=named.pk) == {waiting.pk}
    day = timezone.localdate(managed.received_at).isoformat()
    assert shown(received_after=day, received_before=day) == {managed.pk}
    assert shown(received_after=timezone.localdate().isoformat()) == {waiting.pk, critical.pk}
    # another branch's person is no owner to filter by: the list stays whole, with the error
    response = client.get(reverse("care:complaint-list"), {"owner": other_care.pk})
    assert response.context["filterset"].errors and len(listed(response)) == 3
    # sorted by severity, the most severe first
    response = client.get(reverse("care:complaint-list"), {"sort": "-severity"})
    assert listed(response)[0] == critical.pk


def test_the_list_shows_a_row_of_each_complaint(client, customer_care, complaint):
    client.force_login(customer_care)
    page = page_of_list(client)
    row = re.search(rf'id="complaint-{complaint.pk}"(.*?)</tr>', page, re.S).group(1)
    for shown in [
        complaint.number,
        "欧阳娜娜",
        "Waiting time",
        "Medium",
        timezone.localtime(complaint.respond_by).strftime("%m-%d %H:%M"),
        timezone.localtime(complaint.resolve_by).strftime("%m-%d %H:%M"),
        "Open",
    ]:
        assert shown in row, shown
    assert "respond-late" not in row


def test_the_list_queries_do_not_grow_with_the_rows(
    client, customer_care, branch, branch_manager, django_assert_max_num_queries
):
    client.force_login(customer_care)

    def add(count: int):
        for index in range(count):
            complaint = recorded(
                branch, customer_care, hours_ago=index * 30, owner=branch_manager,
                vehicle=None,
            )  # fmt: skip
            if index % 2:
                services.complaint_respond(complaint=complaint, response="已回电", by=customer_care)

    def queries() -> tuple[int, int]:
        with django_assert_max_num_queries(20) as captured:
            response = client.get(reverse("care:complaint-list"))
            assert response.status_code == 200
        return len(captured), len(response.context["page"])

    add(1)
    few, rows = queries()
    assert rows == 1
    add(4)
    services.complaints_escalate()
    many, rows = queries()
    assert rows == 5
    assert many == few


# --- Inquiries and suggestions -------------------------------------------------------------


def test_a_consultant_logs_an_inquiry_answered_at_once(client, consultant, customer):
    client.force_login(consultant)
    response = client.post(
        reverse("care:inquiry-create"),
        {
            "customer": customer.pk,
            "kind": InquiryKind.INQUIRY,
            "channel": ComplaintChannel.PHONE,
            "subject": "首保在多少公里？",
            "answer": "7500公里或6个月",
        },
    )
    assert response.url == reverse("care:inquiry-list")
    inquiry = Inquiry.objects.get()
    assert (inquiry.customer, inquiry.recorded_by, inquiry.answered_by) == (
        customer,
        consultant,
        consultant,
    )
    page = follow(client, response).content.decode()
    assert "7500公里或6个月" in page and "answered by" in page


def test_a_suggestion_logged_unanswered_is_answered_in_the_list_once(
    client, customer_care, customer
):
    client.force_login(customer_care)
    page = client.get(reverse("care:inquiry-create"), {"customer": customer.pk}).content
    assert re.search(rf'<option value="{customer.pk}" selected>', page.decode())
    response = client.post(
        reverse("care:inquiry-create"),
        {
            "customer": customer.pk,
            "kind": InquiryKind.SUGGESTION,
            "channel": ComplaintChannel.WECHAT,
            "subject": "休息区希望增加充电插座",
            "answer": "",
        },
    )
    page = follow(client, response).content.decode()
    suggestion = Inquiry.objects.get()
    assert suggestion.kind == InquiryKind.SUGGESTION and suggestion.answered_at is None
    assert "answer it from the list" in page
    assert reverse("care:inquiry-answer", args=[suggestion.pk]) in page
    # answered from the list, the filters riding along
    answer_url = f"{reverse('care:inquiry-answer', args=[suggestion.pk])}?kind=suggestion"
    response = client.post(answer_url, {f"answer-{suggestion.pk}-answer": "下月加装"})
    assert response.url == f"{reverse('care:inquiry-list')}?kind=suggestion"
    suggestion.refresh_from_db()
    assert (suggestion.answer, suggestion.answered_by) == ("下月加装", customer_care)
    answered_at = suggestion.answered_at
    # a second answer is refused, the first kept
    response = client.post(answer_url, {f"answer-{suggestion.pk}-answer": "改为年底"})
    assert "This was already answered." in follow(client, response).content.decode()
    suggestion.refresh_from_db()
    assert (suggestion.answer, suggestion.answered_at) == ("下月加装", answered_at)


def test_an_empty_answer_is_refused_beside_it_in_the_list(client, customer_care, branch):
    inquiry = logged(branch, customer_care)
    client.force_login(customer_care)
    response = client.post(
        f"{reverse('care:inquiry-answer', args=[inquiry.pk])}?answered=false",
        {f"answer-{inquiry.pk}-answer": "  "},
    )
    assert response.status_code == 200
    row = next(row for row in response.context["page"] if row.pk == inquiry.pk)
    assert row.answer_form.domain_error.code == "answer_required"
    assert row.answer_form.errors["answer"] == ["Write the answer."]
    assert "Write the answer." in response.content.decode()
    inquiry.refresh_from_db()
    assert inquiry.answered_at is None


def test_an_inquiry_without_its_subject_is_explained(client, customer_care, customer):
    client.force_login(customer_care)
    response = client.post(
        reverse("care:inquiry-create"),
        {"customer": customer.pk, "kind": "complaint", "channel": ComplaintChannel.PHONE},
    )
    assert {"kind", "subject"} <= set(response.context["form"].errors)
    assert not Inquiry.objects.exists()


def test_the_inquiries_filter_by_kind_answer_and_search(client, customer_care, branch):
    asked = logged(branch, customer_care, CustomerFactory(branch=branch, name="诸葛亮"))
    proposed = logged(
        branch, customer_care, kind=InquiryKind.SUGGESTION, subject="周末延长营业时间",
        answer="已转交店长",
    )  # fmt: skip
    client.force_login(customer_care)

    def shown(**query) -> list[int]:
        return listed(client.get(reverse("care:inquiry-list"), query))

    assert set(shown()) == {asked.pk, proposed.pk}
    assert shown(kind=InquiryKind.SUGGESTION) == [proposed.pk]
    assert shown(answered="false") == [asked.pk]
    assert shown(answered="true") == [proposed.pk]
    assert shown(search="诸葛") == [asked.pk]
    assert shown(search="营业时间") == [proposed.pk]


def test_the_inquiry_list_queries_do_not_grow_with_the_rows(
    client, customer_care, branch, django_assert_max_num_queries
):
    client.force_login(customer_care)

    def queries() -> int:
        with django_assert_max_num_queries(20) as captured:
            assert client.get(reverse("care:inquiry-list")).status_code == 200
        return len(captured)

    logged(branch, customer_care)
    few = queries()
    for index in range(4):
        logged(branch, customer_care, answer="已答复" if index % 2 else "")
    assert queries() == few


# --- Languages and the customer page -------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_pages_render_in_each_language(client, customer_care, complaint, branch, language):
    logged(branch, customer_care)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(customer_care)
    for url, marker in [
        (reverse("care:complaint-list"), 'id="complaint-table"'),
        (reverse("care:complaint-create"), 'id="severity-deadlines"'),
        (detail_url(complaint), 'id="complaint-steps"'),
        (reverse("care:inquiry-list"), 'id="inquiry-table"'),
        (reverse("care:inquiry-create"), 'id="inquiry-form"'),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert f'lang="{language}"' in page and marker in page, url


def test_the_customer_page_lists_the_customers_complaints(
    client, customer_care, technician, complaint, customer
):
    client.force_login(customer_care)
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    card = re.search(r'id="customer-complaints"(.*?)</ul>', page, re.S).group(1)
    assert complaint.number in card and detail_url(complaint) in card
    client.force_login(technician)
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert 'id="customer-complaints"' not in page and 'id="customer-complaint"' not in page
