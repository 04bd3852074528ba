"""The customer-care commands through the API: a follow-up call logged (reached, not reached,
with an issue that opens a complaint, twice), reassigned; a complaint recorded, answered,
resolved and confirmed; an inquiry recorded and answered; each refusal with its code and
nothing changed; Idempotency-Key replays; the filters of the lists."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.care import services
from customers.care.choices import ComplaintChannel
from customers.care.models import CallAttempt, Complaint, CustomerSegment, FollowUpCall, Inquiry
from dealer_crm.choices import Role
from dealer_crm.models import PiiAccess
from tests.archives.helpers import delivered_section
from tests.care.conftest import call_after_complaint, open_complaint
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/"
CARE_MODELS = [FollowUpCall, CallAttempt, Complaint, Inquiry, CustomerSegment]


def snapshot() -> dict:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in CARE_MODELS}


def post(client, url: str, body: dict | None = None, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(API + url, body or {}, format="json", **headers)


# --- follow-up calls ----------------------------------------------------------------------------


def test_a_call_reached_is_done_with_its_score(api_as, records, customer_care):
    # given a call due
    call = records["call"]
    # when the agent logs that the customer was reached and gave 5
    response = post(
        api_as(customer_care), f"follow-up-calls/{call.pk}/attempts/",
        {"outcome": "reached", "score": 5, "note": "很满意，谢谢"},
    )  # fmt: skip
    # then the call is done with the score, the note and its one attempt
    assert response.status_code == 200
    shown = response.json()
    assert (shown["status"], shown["score"], shown["attempts"]) == ("done", 5, 1)
    assert shown["completed_by"] == customer_care.pk and shown["raised_complaint"] is None
    assert [(each["outcome"], each["by"]) for each in shown["tries"]] == [
        ("reached", customer_care.pk)
    ]


def test_a_follow_up_logged_twice_is_refused(api_as, records, customer_care):
    # given a call already done
    call = records["call"]
    client = api_as(customer_care)
    post(client, f"follow-up-calls/{call.pk}/attempts/", {"outcome": "reached", "score": 4})
    before = snapshot()
    # when it is logged again
    response = post(
        client, f"follow-up-calls/{call.pk}/attempts/", {"outcome": "reached", "score": 1}
    )
    # then it is refused as not due, and nothing changed
    assert response.status_code == 409
    assert response.json()["code"] == "call_not_due"
    assert snapshot() == before


def test_an_issue_raised_on_the_call_opens_a_complaint(api_as, records, customer_care):
    # given a call due
    call = records["call"]
    # when the customer, reached, gives 2 and complains of the price
    response = post(
        api_as(customer_care), f"follow-up-calls/{call.pk}/attempts/",
        {"outcome": "reached", "score": 2, "note": "价格太贵",
         "issue": {"category": "price", "severity": "high", "description": "工时费比报价高"}},
    )  # fmt: skip
    # then a complaint is opened through the follow-up channel, owned by the agent, with the
    # deadlines of its severity
    assert response.status_code == 200
    complaint = Complaint.objects.get(pk=response.json()["raised_complaint"])
    assert (complaint.channel, complaint.category, complaint.severity) == (
        ComplaintChannel.FOLLOW_UP, "price", "high",
    )  # fmt: skip
    assert complaint.customer == call.customer and complaint.owner == customer_care
    assert complaint.respond_by - complaint.received_at == timedelta(hours=4)


def test_a_customer_not_reached_is_called_again_tomorrow(api_as, records, customer_care):
    call = records["call"]
    response = post(
        api_as(customer_care), f"follow-up-calls/{call.pk}/attempts/", {"outcome": "no_answer"}
    )
    assert response.status_code == 200
    shown = response.json()
    assert (shown["status"], shown["attempts"], shown["score"]) == ("due", 1, None)
    assert shown["due_on"] == str(timezone.localdate() + timedelta(days=1))


def test_a_call_is_reassigned_to_a_colleague(api_as, records, branch, customer_care):
    # given a second agent of the branch
    colleague = UserFactory(roles=[Role.CUSTOMER_CARE], branches=[branch])
    call = records["call"]
    # when the call is given to them
    response = post(
        api_as(customer_care), f"follow-up-calls/{call.pk}/reassign/", {"to": colleague.pk}
    )
    # then it is theirs
    assert response.status_code == 200
    assert response.json()["assigned_to"] == colleague.pk
    call.refresh_from_db()
    assert call.assigned_to == colleague


def test_the_calls_lists_filter_mine_and_mask_the_mobile_without_pii(
    api_as, records, branch, customer_care, sales_manager
):
    # given two calls due, one given to another agent
    mine = records["call"]
    colleague = UserFactory(roles=[Role.CUSTOMER_CARE], branches=[branch])
    customer = CustomerFactory(branch=branch)
    theirs = call_after_complaint(branch, customer, customer_care, sales_manager)
    services.call_reassign(call=theirs, to=colleague, by=sales_manager)
    # when the agent lists their own calls, and a sales manager lists every call due by then
    own = api_as(customer_care).get(f"{API}follow-up-calls/", {"mine": "true"})
    every = api_as(sales_manager).get(
        f"{API}follow-up-calls/", {"status": "due", "due_on_before": str(theirs.due_on)}
    )
    # then the agent sees theirs with the mobile (the view logged), the manager both masked
    assert [row["id"] for row in own.json()["results"]] == [mine.pk]
    assert own.json()["results"][0]["customer_mobile"] == mine.customer.mobile
    assert PiiAccess.objects.filter(user=customer_care, customer=mine.customer).exists()
    rows = every.json()["results"]
    assert {row["id"] for row in rows} == {mine.pk, theirs.pk}
    assert {row["customer_mobile"][3:7] for row in rows} == {"****"}


# --- complaints ---------------------------------------------------------------------------------


def test_a_complaint_is_recorded_with_the_deadlines_of_its_severity(
    api_as, records, consultant, branch, advisor
):
    # given a consultant facing the customer
    customer = records["customer"]
    # when they record a critical complaint for the service advisor to handle
    response = post(
        api_as(consultant), "complaints/",
        {"customer": customer.pk, "channel": "walk_in", "category": "service_quality",
         "severity": "critical", "description": "刚保养完发动机故障灯亮", "owner": advisor.pk},
    )  # fmt: skip
    # then it is numbered, open, owned by the advisor, due an answer in 2 hours and a
    # resolution in 24
    assert response.status_code == 201
    shown = response.json()
    complaint = Complaint.objects.get(pk=shown["id"])
    assert shown["number"] == complaint.number and shown["status"] == "open"
    assert (complaint.branch, complaint.owner, complaint.created_by) == (
        branch, advisor, consultant,
    )  # fmt: skip
    assert complaint.respond_by - complaint.received_at == timedelta(hours=2)
    assert complaint.resolve_by - complaint.received_at == timedelta(hours=24)


def test_a_complaint_goes_from_response_to_the_customers_confirmation(
    api_as, records, customer_care, branch_manager
):
    # given an open complaint
    complaint = records["complaint"]
    agent, manager = api_as(customer_care), api_as(branch_manager)
    # when the agent answers, the manager resolves and the customer confirms
    responded = post(agent, f"complaints/{complaint.pk}/respond/", {"response": "已道歉"})
    resolved = post(manager, f"complaints/{complaint.pk}/resolve/", {"resolution": "退工时费"})
    confirmed = post(agent, f"complaints/{complaint.pk}/confirm/", {"note": "接受"})
    # then it goes through each status to closed
    assert [r.status_code for r in (responded, resolved, confirmed)] == [200, 200, 200]
    assert [r.json()["status"] for r in (responded, resolved, confirmed)] == [
        "responded", "resolved", "closed",
    ]  # fmt: skip
    complaint.refresh_from_db()
    assert complaint.resolved_by == branch_manager and complaint.confirmation_note == "接受"


def test_the_complaints_list_filters_overdue_and_escalated(api_as, records, branch, customer_care):
    # given a low complaint received three days ago (past its 48 hours to answer), escalated
    late = open_complaint(
        branch, records["customer"], customer_care, severity="low",
        received_at=timezone.now() - timedelta(days=3),
    )  # fmt: skip
    services.complaints_escalate()
    client = api_as(customer_care)
    # when the lists of overdue, escalated and on-time complaints are read
    overdue = client.get(f"{API}complaints/", {"overdue": "true"}).json()["results"]
    escalated = client.get(f"{API}complaints/", {"escalated": "true"}).json()["results"]
    on_time = client.get(f"{API}complaints/", {"overdue": "false"}).json()["results"]
    # then the late one is overdue and escalated, the others on time
    assert [row["id"] for row in overdue] == [late.pk]
    assert [(row["id"], row["escalation_level"]) for row in escalated] == [(late.pk, 1)]
    assert {row["id"] for row in on_time} == {records["complaint"].pk, records["resolved"].pk,
                                              records["call"].complaint_id}  # fmt: skip


# --- inquiries ----------------------------------------------------------------------------------


def test_an_inquiry_answered_at_once_and_one_answered_later(api_as, records, advisor):
    # given an advisor on the phone
    client = api_as(advisor)
    customer = records["customer"]
    # when they log a question answered at once, and a suggestion answered afterwards
    asked = post(client, "inquiries/", {
        "customer": customer.pk, "kind": "inquiry", "channel": "phone",
        "subject": "首保是多少公里？", "answer": "5000公里或6个月",
    })  # fmt: skip
    proposed = post(client, "inquiries/", {
        "customer": customer.pk, "kind": "suggestion", "channel": "wechat",
        "subject": "休息区希望有充电插座",
    })  # fmt: skip
    answered = post(client, f"inquiries/{proposed.json()['id']}/answer/", {"answer": "已安排"})
    # then both are answered by the advisor
    assert (asked.status_code, proposed.status_code, answered.status_code) == (201, 201, 200)
    assert asked.json()["answered_by"] == answered.json()["answered_by"] == advisor.pk
    assert proposed.json()["answered_at"] is None and answered.json()["answered_at"]
    listed = client.get(f"{API}inquiries/", {"kind": "suggestion", "answered": "true"})
    assert [row["id"] for row in listed.json()["results"]] == [proposed.json()["id"]]


# --- refusals: a stable code, nothing changed ---------------------------------------------------

# (who, what, path with {record}, body, status, code or the field named)
REFUSALS = [
    ("customer_care", "reached without a score", "follow-up-calls/{call}/attempts/",
     {"outcome": "reached"}, 400, "score_required"),
    ("customer_care", "a score of 6", "follow-up-calls/{call}/attempts/",
     {"outcome": "reached", "score": 6}, 400, "score_invalid"),
    ("customer_care", "an issue without the customer", "follow-up-calls/{call}/attempts/",
     {"outcome": "busy", "issue": {"category": "other", "severity": "low", "description": "?"}},
     400, "issue_needs_customer"),
    ("customer_care", "an unknown outcome", "follow-up-calls/{call}/attempts/",
     {"outcome": "hung_up"}, 400, "outcome"),
    ("customer_care", "a reassignment to nobody", "follow-up-calls/{call}/reassign/",
     {"to": 999999}, 400, "to"),
    ("group_manager", "a reassignment to the other branch", "follow-up-calls/{call}/reassign/",
     {"to": "other_branch_user"}, 400, "assignee_other_branch"),
    ("group_manager", "an owner of the other branch", "complaints/",
     {"customer": "customer", "channel": "phone", "category": "other", "severity": "low",
      "description": "车内异味", "owner": "other_branch_user", "branch": "branch"},
     400, "owner_other_branch"),
    ("consultant", "an unknown severity", "complaints/",
     {"customer": "customer", "channel": "phone", "category": "other", "severity": "urgent",
      "description": "车内异味"}, 400, "severity"),
    ("consultant", "no description", "complaints/",
     {"customer": "customer", "channel": "phone", "category": "other", "severity": "low"},
     400, "description"),
    ("customer_care", "an empty response", "complaints/{complaint}/respond/",
     {"response": "  "}, 400, "response_required"),
    ("customer_care", "a response to a resolved complaint", "complaints/{resolved}/respond/",
     {"response": "已回复"}, 409, "complaint_not_open"),
    ("branch_manager", "an empty resolution", "complaints/{complaint}/resolve/",
     {"resolution": ""}, 400, "resolution_required"),
    ("branch_manager", "a second resolution", "complaints/{resolved}/resolve/",
     {"resolution": "再次处理"}, 409, "complaint_not_open"),
    ("customer_care", "confirming an open complaint", "complaints/{complaint}/confirm/",
     {"note": "好"}, 409, "complaint_not_resolved"),
    ("customer_care", "an empty answer", "inquiries/{inquiry}/answer/",
     {"answer": ""}, 400, "answer_required"),
    ("consultant", "an unknown kind", "inquiries/",
     {"customer": "customer", "kind": "praise", "channel": "phone", "subject": "好"},
     400, "kind"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("who", "what", "path", "body", "code", "expected"), REFUSALS, ids=[r[1] for r in REFUSALS]
)
def test_each_refusal_answers_its_code_and_changes_nothing(
    request, api_as, records, branch, other_branch_user, who, what, path, body, code, expected
):
    # given the branch's records, and a request the rules refuse
    names = {
        "customer": records["customer"].pk, "other_branch_user": other_branch_user.pk,
        "branch": branch.pk,
    }  # fmt: skip
    body = {key: names.get(value, value) if isinstance(value, str) else value
            for key, value in body.items()}  # fmt: skip
    url = path.format(**{name: getattr(records.get(name), "pk", None) for name in records})
    before = snapshot()
    # when it is sent
    response = post(api_as(request.getfixturevalue(who)), url, body)
    # then it is refused with its code (or beside its field), and nothing changed
    assert response.status_code == code, response.json()
    data = response.json()
    assert data.get("code") == expected or expected in data, data
    assert snapshot() == before


def test_an_inquiry_answered_twice_is_refused(api_as, records, customer_care):
    inquiry = records["inquiry"]
    client = api_as(customer_care)
    post(client, f"inquiries/{inquiry.pk}/answer/", {"answer": "可以"})
    before = snapshot()
    response = post(client, f"inquiries/{inquiry.pk}/answer/", {"answer": "不可以"})
    assert response.status_code == 409 and response.json()["code"] == "inquiry_answered"
    assert snapshot() == before


# --- Idempotency-Key --------------------------------------------------------------------------


def test_a_replayed_attempt_is_logged_once(api_as, records, customer_care):
    # given an attempt sent with a key
    call = records["call"]
    client = api_as(customer_care)
    body = {"outcome": "reached", "score": 3, "issue": {
        "category": "waiting", "severity": "low", "description": "交车慢"}}  # fmt: skip
    first = post(client, f"follow-up-calls/{call.pk}/attempts/", body, key="call-7f3a")
    # when the client retries it with the same key, then reuses the key for another body
    second = post(client, f"follow-up-calls/{call.pk}/attempts/", body, key="call-7f3a")
    reused = post(client, f"follow-up-calls/{call.pk}/attempts/", {"outcome": "busy"},
                  key="call-7f3a")  # fmt: skip
    # then the first answer comes back, one attempt and one complaint exist, and the reuse is
    # refused
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json() and second.headers["Idempotent-Replayed"] == "true"
    assert CallAttempt.objects.filter(call=call).count() == 1
    assert Complaint.objects.filter(channel=ComplaintChannel.FOLLOW_UP).count() == 1
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("resource", ["complaints/", "inquiries/"])
def test_a_replayed_complaint_or_inquiry_is_recorded_once(api_as, records, consultant, resource):
    # given a complaint or an inquiry sent twice with one key
    client = api_as(consultant)
    body = {
        "complaints/": {"customer": records["customer"].pk, "channel": "phone",
                        "category": "parts", "severity": "medium", "description": "缺件两周"},
        "inquiries/": {"customer": records["customer"].pk, "kind": "inquiry",
                       "channel": "phone", "subject": "延保怎么买？"},
    }[resource]  # fmt: skip
    model = {"complaints/": Complaint, "inquiries/": Inquiry}[resource]
    before = model.objects.count()
    first = post(client, resource, body, key="new-1")
    second = post(client, resource, body, key="new-1")
    # then one record is made and the retry gets its answer
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json() and second.headers["Idempotent-Replayed"] == "true"
    assert model.objects.count() == before + 1


@pytest.mark.parametrize(("action", "record", "who", "body", "status"), [
    ("resolve", "complaint", "branch_manager", {"resolution": "更换刹车片"}, "resolved"),
    ("confirm", "resolved", "customer_care", {"note": "满意"}, "closed"),
])  # fmt: skip
def test_a_replayed_resolution_or_confirmation_is_done_once(
    request, api_as, records, action, record, who, body, status
):
    # given a complaint resolved (or confirmed) with a key
    complaint = records[record]
    client = api_as(request.getfixturevalue(who))
    first = post(client, f"complaints/{complaint.pk}/{action}/", body, key=f"{action}-1")
    # when the client retries with the key, and then without one
    second = post(client, f"complaints/{complaint.pk}/{action}/", body, key=f"{action}-1")
    third = post(client, f"complaints/{complaint.pk}/{action}/", body)
    # then the retry gets the first answer, and a new request is refused: it was done once
    assert (first.status_code, second.status_code, third.status_code) == (200, 200, 409)
    assert second.json() == first.json() and first.json()["status"] == status


# --- segments, the report -------------------------------------------------------------------


def test_segments_are_recomputed_on_demand_and_shown_on_the_customer(api_as, branch, customer_care):
    # given a prospect without segments yet
    prospect = CustomerFactory(branch=branch)
    client = api_as(customer_care)
    before = client.get(f"{API}customers/{prospect.pk}/").json()["segment"]
    # when the agent recomputes the branch's segments
    recomputed = post(client, "customer-segments/recompute/")
    # then the branch's customers are computed, and the customer shows their segment
    assert recomputed.status_code == 200
    assert recomputed.json() == [{"branch": branch.pk, "customers": 1}]
    after = client.get(f"{API}customers/{prospect.pk}/").json()["segment"]
    assert before is None
    assert after == {
        "lifecycle": "prospect", "key_customer": False, "abnormal": [], "vehicle_age": "",
        "computed_on": str(timezone.localdate()),
    }  # fmt: skip


def test_customers_and_segments_filter_by_lifecycle_key_customer_and_reason(
    api_as, branch, consultant, customer_care
):
    # given a buyer delivered a car (owner, key customer by revenue), a prospect who
    # complained, and the segments computed
    buyer = delivered_section(branch, consultant).delivery.order.customer
    prospect = CustomerFactory(branch=branch)
    open_complaint(branch, prospect, customer_care)
    services.segments_compute(branch=branch)
    client = api_as(customer_care)

    def customers(**query) -> list[int]:
        return [row["id"] for row in client.get(f"{API}customers/", query).json()["results"]]

    def segments(**query) -> list[int]:
        rows = client.get(f"{API}customer-segments/", query).json()["results"]
        return [row["customer"] for row in rows]

    # when each list is filtered by segment, then it holds the customers of the segment
    assert customers(lifecycle="owner") == segments(lifecycle="owner") == [buyer.pk]
    assert customers(key_customer="true") == segments(key_customer="true") == [buyer.pk]
    assert customers(abnormal="complained") == segments(abnormal="complained") == [prospect.pk]
    assert customers(lifecycle="prospect") == segments(lifecycle="prospect") == [prospect.pk]
    unknown = client.get(f"{API}customers/", {"abnormal": "unknown_reason"})
    assert unknown.status_code == 400 and "abnormal" in unknown.json()


def test_the_after_sales_report_counts_the_periods_care(api_as, records, customer_care):
    # given the branch's records: three complaints, an inquiry, a call done
    call = records["call"]
    services.call_attempt_record(call=call, outcome="reached", score=4, by=customer_care)
    today = timezone.localdate()
    client = api_as(customer_care)
    # when the report of a period holding them is read, and one ending before it starts
    report = client.get(
        f"{API}care-report/", {"start": str(today), "end": str(call.due_on + timedelta(days=1))}
    )
    backwards = client.get(
        f"{API}care-report/", {"start": str(today), "end": str(today - timedelta(days=1))}
    )
    # then it counts them, and the backward period is refused beside its end
    assert report.status_code == 200
    data = report.json()
    assert data["complaints"]["total"] == 3 and data["complaints"]["closed"] == 1
    assert data["inquiries"] == {"total": 1, "answered": 0}
    assert data["suggestions"] == {"total": 0, "answered": 0}
    assert (data["calls"]["due"], data["calls"]["done"], data["calls"]["score"]) == (1, 1, 4)
    assert data["calls"]["completion"] == "1.000"
    assert backwards.status_code == 400 and "end" in backwards.json()


def test_a_refused_command_on_a_done_call_leaves_it_done(api_as, records, customer_care):
    # given a call done
    call = records["call"]
    services.call_attempt_record(call=call, outcome="reached", score=4, by=customer_care)
    before = snapshot()
    # when it is reassigned
    response = post(
        api_as(customer_care), f"follow-up-calls/{call.pk}/reassign/", {"to": customer_care.pk}
    )
    # then it is refused as not due
    assert response.status_code == 409 and response.json()["code"] == "call_not_due"
    assert snapshot() == before
