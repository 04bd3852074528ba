"""Across the customer-care API: anonymous clients are told to log in, roles without the
permission are refused and change nothing, another branch's records do not exist, lists show
only the caller's branches (a group manager's all of them), and every list costs a fixed
number of queries."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from customers.care import services, tasks
from customers.care.models import CallAttempt, Complaint, CustomerSegment, FollowUpCall, Inquiry
from dealer_crm.models import JobRun
from tests.care.conftest import call_after_complaint, open_complaint, record_inquiry
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/"
CARE_MODELS = [FollowUpCall, CallAttempt, Complaint, Inquiry, CustomerSegment]

# list path → the model its rows are.
LISTS = {
    "follow-up-calls/": FollowUpCall,
    "complaints/": Complaint,
    "inquiries/": Inquiry,
    "customer-segments/": CustomerSegment,
}

# (method, path with {} for the id, record): every endpoint that names one record.
DETAIL_ENDPOINTS = [
    ("get", "follow-up-calls/{}/", "call"),
    ("post", "follow-up-calls/{}/attempts/", "call"),
    ("post", "follow-up-calls/{}/reassign/", "call"),
    ("get", "complaints/{}/", "complaint"),
    ("post", "complaints/{}/respond/", "complaint"),
    ("post", "complaints/{}/resolve/", "complaint"),
    ("post", "complaints/{}/confirm/", "resolved"),
    ("get", "inquiries/{}/", "inquiry"),
    ("post", "inquiries/{}/answer/", "inquiry"),
]
ENDPOINTS = [
    *[("get", path, None) for path in LISTS],
    ("get", "job-runs/", None),
    ("get", "care-report/", None),
    ("post", "complaints/", None),
    ("post", "inquiries/", None),
    ("post", "customer-segments/recompute/", None),
    *DETAIL_ENDPOINTS,
]

# What each role may not reach (the rest it may: read, or command with a valid body).
EVERYTHING = {(method, path) for method, path, _record in ENDPOINTS}
# Those facing customers record complaints and inquiries and answer inquiries; the calls,
# the complaints' handling, the segments' recompute, the report and the jobs are not theirs.
RECORDING_REFUSED = {
    ("get", "follow-up-calls/"), ("get", "follow-up-calls/{}/"),
    ("post", "follow-up-calls/{}/attempts/"), ("post", "follow-up-calls/{}/reassign/"),
    ("post", "complaints/{}/respond/"), ("post", "complaints/{}/resolve/"),
    ("post", "complaints/{}/confirm/"), ("post", "customer-segments/recompute/"),
    ("get", "care-report/"), ("get", "job-runs/"),
}  # fmt: skip
REFUSED = {
    "technician": EVERYTHING,
    "parts_clerk": EVERYTHING,
    "fleet_manager": EVERYTHING,
    "consultant": RECORDING_REFUSED,
    "advisor": RECORDING_REFUSED,
    "customer_care": {("post", "complaints/{}/resolve/"), ("get", "job-runs/")},
    "sales_manager": set(),
    "branch_manager": set(),
}


def snapshot() -> dict:
    """Every care row as the database holds it."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in CARE_MODELS}


def body_for(path: str, records: dict, colleague) -> dict:
    """A body the endpoint would accept from someone allowed to send it."""
    customer = records["customer"].pk
    bodies = {
        "follow-up-calls/{}/attempts/": {"outcome": "reached", "score": 4, "note": "很满意"},
        "follow-up-calls/{}/reassign/": {"to": colleague.pk},
        "complaints/{}/respond/": {"response": "已致电客户说明原因"},
        "complaints/{}/resolve/": {"resolution": "免费返修并致歉"},
        "complaints/{}/confirm/": {"note": "满意"},
        "inquiries/{}/answer/": {"answer": "周六日均营业"},
        "complaints/": {
            "customer": customer, "channel": "walk_in", "category": "attitude",
            "severity": "low", "description": "前台态度冷淡",
        },
        "inquiries/": {
            "customer": customer, "kind": "suggestion", "channel": "wechat",
            "subject": "希望增加夜间接车",
        },
    }  # fmt: skip
    return bodies.get(path, {})


def reach(client, method: str, path: str, records: dict, colleague):
    """The endpoint asked as `client`, naming its record and sending a valid body."""
    record = next(
        (records[name] for m, p, name in ENDPOINTS if (m, p) == (method, path) and name), None
    )
    url = API + (path.format(record.pk) if record else path)
    if method == "get":
        return client.get(url)
    return client.post(url, body_for(path, records, colleague), format="json")


# --- 401, 403 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "record"), ENDPOINTS)
def test_anonymous_clients_get_401(api_client, records, customer_care, method, path, record):
    # given every care record, and a client that did not log in
    before = snapshot()
    # when it reaches an endpoint
    response = reach(api_client, method, path, records, customer_care)
    # then it is told to log in, and nothing changed
    assert response.status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize("persona", [name for name, refused in REFUSED.items() if refused])
def test_each_role_is_refused_what_its_permissions_do_not_allow(
    request, api_as, records, customer_care, persona
):
    # given a role, and the endpoints it may not reach
    client = api_as(request.getfixturevalue(persona))
    before = snapshot()
    # when it reaches each of them (commands with a body that would otherwise be accepted)
    answers = {
        f"{method} {path}": reach(client, method, path, records, customer_care).status_code
        for method, path in sorted(REFUSED[persona])
    }
    # then each is refused as forbidden, and nothing changed
    assert {key: code for key, code in answers.items() if code != 403} == {}
    assert snapshot() == before


@pytest.mark.parametrize("persona", ["consultant", "advisor", "customer_care", "sales_manager"])
def test_each_role_reads_what_its_permissions_allow(request, api_as, records, persona):
    # given a role of customer care, and the reads it is not refused
    client = api_as(request.getfixturevalue(persona))
    allowed = [
        (method, path)
        for method, path, _record in ENDPOINTS
        if method == "get" and (method, path) not in REFUSED[persona]
    ]
    # when it reads them
    answers = {
        path: reach(client, method, path, records, None).status_code for method, path in allowed
    }
    # then every one answers
    assert answers and {path: code for path, code in answers.items() if code != 200} == {}


def test_a_consultant_records_complaints_and_inquiries_but_handles_no_call(
    api_as, records, consultant, customer_care
):
    # given the branch's records, and a sales consultant
    client = api_as(consultant)
    call, complaint = records["call"], records["complaint"]
    # when they record a complaint and an inquiry, and try to log the call and resolve
    answers = [
        reach(client, "post", path, records, customer_care).status_code
        for path in (
            "complaints/",
            "inquiries/",
            "follow-up-calls/{}/attempts/",
            "complaints/{}/resolve/",
        )
    ]
    # then the records are made, the call and the resolution refused and left as they were
    assert answers == [201, 201, 403, 403]
    assert Complaint.objects.filter(created_by=consultant).count() == 1
    assert Inquiry.objects.filter(recorded_by=consultant).count() == 1
    call.refresh_from_db()
    complaint.refresh_from_db()
    assert (call.status, call.attempts) == ("due", 0)
    assert (complaint.status, complaint.resolution) == ("open", "")


def test_the_care_agent_may_handle_a_complaint_but_not_resolve_it(api_as, records, customer_care):
    # given an open complaint
    client = api_as(customer_care)
    complaint = records["complaint"]
    # when the agent answers the customer, then tries to resolve it
    responded = reach(client, "post", "complaints/{}/respond/", records, customer_care)
    resolved = reach(client, "post", "complaints/{}/resolve/", records, customer_care)
    # then the response is recorded, the resolution refused
    assert (responded.status_code, resolved.status_code) == (200, 403)
    complaint.refresh_from_db()
    assert (complaint.status, complaint.resolved_by) == ("responded", None)


# --- another branch: 404 on every record, nothing in the lists -------------------------------


def test_another_branch_record_is_not_found_on_any_endpoint(api_as, records, other_care_office):
    # given our records, and the other branch's agent-manager
    client = api_as(other_care_office)
    before = snapshot()
    answers = {}
    # when they reach each record through every endpoint naming it
    for method, path, _record in DETAIL_ENDPOINTS:
        response = reach(client, method, path, records, other_care_office)
        answers[f"{method} {path}"] = (response.status_code, response.json().get("code"))
    # then none exists for them, and nothing was changed
    assert {key: answer for key, answer in answers.items() if answer != (404, "not_found")} == {}
    assert snapshot() == before


@pytest.mark.parametrize("path", LISTS)
def test_lists_hide_another_branch_records(api_as, records, other_care_office, path):
    response = api_as(other_care_office).get(API + path)
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_another_branch_customer_and_people_cannot_be_named(
    api_as, records, theirs, customer_care, other_care_office
):
    # given our agent, and the other branch's customer and agent-manager
    client = api_as(customer_care)
    before = snapshot()
    complaint = body_for("complaints/", records, customer_care)
    inquiry = body_for("inquiries/", records, customer_care)
    # when the agent names them on a complaint, an inquiry, a reassignment, the report and
    # the recompute
    answers = {
        "complaint customer": client.post(
            f"{API}complaints/", {**complaint, "customer": theirs["customer"].pk}
        ),
        "complaint owner": client.post(
            f"{API}complaints/", {**complaint, "owner": other_care_office.pk}
        ),
        "inquiry customer": client.post(
            f"{API}inquiries/", {**inquiry, "customer": theirs["customer"].pk}
        ),
        "reassign to": client.post(
            f"{API}follow-up-calls/{records['call'].pk}/reassign/", {"to": other_care_office.pk}
        ),
        "report branch": client.get(f"{API}care-report/", {"branch": theirs["customer"].branch_id}),
        "recompute branch": client.post(
            f"{API}customer-segments/recompute/", {"branch": theirs["customer"].branch_id}
        ),
    }
    # then each id is unknown beside its field, and nothing changed
    fields = {
        "complaint customer": "customer", "complaint owner": "owner",
        "inquiry customer": "customer", "reassign to": "to", "report branch": "branch",
        "recompute branch": "branch",
    }  # fmt: skip
    assert {
        name: response.json()
        for name, response in answers.items()
        if response.status_code != 400 or fields[name] not in response.json()
    } == {}
    assert snapshot() == before


@pytest.mark.parametrize("path", LISTS)
def test_group_manager_lists_every_branch(api_as, records, theirs, group_manager, path):
    # given the same records in both branches
    expected = set(LISTS[path].objects.values_list("pk", flat=True))
    # when the group manager reads the list
    response = api_as(group_manager).get(API + path)
    # then it holds both branches' rows
    assert response.status_code == 200
    shown = {row["id"] for row in response.json()["results"]}
    assert shown == expected and len(shown) >= 2


def test_group_manager_handles_and_recomputes_both_branches(
    api_as, records, theirs, branch, other_branch, group_manager
):
    # when the group manager resolves the other branch's complaint and recomputes the segments
    client = api_as(group_manager)
    resolved = client.post(
        f"{API}complaints/{theirs['complaint'].pk}/resolve/", {"resolution": "更换配件"}
    )
    recomputed = client.post(f"{API}customer-segments/recompute/")
    # then the complaint is theirs to resolve and every branch is recomputed
    assert resolved.status_code == 200 and resolved.json()["branch"] == other_branch.pk
    assert resolved.json()["status"] == "resolved"
    assert recomputed.status_code == 200
    assert sorted(row["branch"] for row in recomputed.json()) == sorted(
        [branch.pk, other_branch.pk]
    )


# --- query counts ------------------------------------------------------------------------------


def _rows(path: str, branch, agent, manager, n: int) -> None:
    """n more rows of the list at `path`, each with everything the list shows of it."""
    for _ in range(n):
        customer = CustomerFactory(branch=branch)
        if path == "follow-up-calls/":
            call_after_complaint(branch, customer, agent, manager)
        elif path == "complaints/":
            open_complaint(branch, customer, agent)
        elif path == "inquiries/":
            record_inquiry(branch, customer, agent, answer="可以，周末照常营业")
        elif path == "customer-segments/":
            services.segments_compute(branch=branch)
        elif path == "job-runs/":
            tasks.complaints_escalate_task()


def _queries(user, url: str, assert_max_queries) -> tuple[int, int]:
    """Queries of one request, as a fresh client of a freshly loaded user would make."""
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    with assert_max_queries(12) as captured:
        response = client.get(url, {"limit": 50})
    assert response.status_code == 200
    return len(captured), len(response.json()["results"])


@pytest.mark.parametrize("path", [*LISTS, "job-runs/"])
def test_list_queries_do_not_grow_with_the_rows(
    branch, customer_care, branch_manager, django_assert_max_num_queries, path
):
    # given one row, measured, and then five
    _rows(path, branch, customer_care, branch_manager, 1)
    one, shown = _queries(branch_manager, API + path, django_assert_max_num_queries)
    _rows(path, branch, customer_care, branch_manager, 4)
    five, shown_five = _queries(branch_manager, API + path, django_assert_max_num_queries)
    # then five rows cost what one does
    assert (shown, shown_five) == (1, 5)
    assert five == one, (path, one, five)


def test_call_detail_queries_do_not_grow_with_the_attempts(
    branch, customer_care, branch_manager, django_assert_max_num_queries
):
    # given a call tried once, measured, and then three times
    call = call_after_complaint(branch, CustomerFactory(branch=branch), customer_care,
                                branch_manager)  # fmt: skip
    url = f"{API}follow-up-calls/{call.pk}/"
    services.call_attempt_record(call=call, outcome="no_answer", by=customer_care)
    one, _shown = _queries_of_detail(branch_manager, url, django_assert_max_num_queries)
    for _ in range(2):
        services.call_attempt_record(call=call, outcome="busy", by=customer_care)
    three, shown = _queries_of_detail(branch_manager, url, django_assert_max_num_queries)
    # then three attempts cost what one does
    assert len(shown["tries"]) == 3
    assert three == one


def _queries_of_detail(user, url: str, assert_max_queries) -> tuple[int, dict]:
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    with assert_max_queries(12) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.json()


# --- the schema ---------------------------------------------------------------------------------


def test_the_schema_documents_the_key_on_the_care_writes(api_as, customer_care):
    # given the schema
    schema = api_as(customer_care).get("/api/schema/", {"format": "json"}).json()
    # when the care operations taking an Idempotency-Key are gathered
    documented = {
        path
        for path, operations in schema["paths"].items()
        if any(
            parameter["name"] == "Idempotency-Key"
            for parameter in operations.get("post", {}).get("parameters", [])
        )
    }
    # then the attempts, the complaints and inquiries made, the resolution and the
    # confirmation take one
    assert {
        "/api/v1/follow-up-calls/{id}/attempts/",
        "/api/v1/complaints/",
        "/api/v1/complaints/{id}/resolve/",
        "/api/v1/complaints/{id}/confirm/",
        "/api/v1/inquiries/",
    } <= documented


def test_job_runs_are_the_managers_to_read(api_as, branch_manager, customer_care):
    # given a scheduled job that ran
    tasks.complaints_escalate_task()
    run = JobRun.objects.get()
    # when a manager and an agent read the runs
    managed = api_as(branch_manager).get(f"{API}job-runs/", {"job": "complaints_escalate"})
    refused = api_as(customer_care).get(f"{API}job-runs/")
    # then the manager sees it finished, and the agent is refused
    assert managed.status_code == 200
    assert [(row["id"], row["status"]) for row in managed.json()["results"]] == [
        (run.pk, "finished")
    ]
    assert refused.status_code == 403
