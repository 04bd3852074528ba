"""Across the sales API: another branch's records are invisible on every endpoint, lists
show only the caller's branches, and every list costs a fixed number of queries."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from dealer_crm.choices import Role
from sales.choices import OrderStatus
from tests.factories import (
    ActivityFactory,
    CustomerFactory,
    DeliveryFactory,
    LeadFactory,
    OrderFactory,
    PaymentFactory,
    QuoteApprovalFactory,
    QuoteFactory,
    ShowroomTrafficFactory,
    StockVehicleFactory,
    TestDriveFactory,
    TradeInFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/"
TODAY = timezone.localdate()

LISTS = [
    "leads/",
    "leads/follow-ups/",
    "activities/",
    "showroom-traffic/",
    "stock-vehicles/",
    "test-drives/",
    "trade-ins/",
    "quotes/",
    "orders/",
    "payments/",
    "deliveries/",
]

# (method, path with {} for the id, record, body): every endpoint that names one record.
DETAIL_ENDPOINTS = [
    ("get", "leads/{}/", "lead", None),
    ("patch", "leads/{}/", "lead", {"note": "x"}),
    ("put", "leads/{}/", "lead", {"note": "x"}),
    ("post", "leads/{}/verify/", "lead", {}),
    ("post", "leads/{}/assign/", "lead", {}),
    ("post", "leads/{}/lose/", "lead", {"reason": "price"}),
    ("post", "leads/{}/invalidate/", "lead", {"note": "x"}),
    ("post", "leads/{}/link-customer/", "lead", {}),
    ("get", "activities/{}/", "activity", None),
    ("get", "showroom-traffic/{}/", "traffic", None),
    ("patch", "showroom-traffic/{}/", "traffic", {"first_walk_in": 1}),
    ("get", "stock-vehicles/{}/", "stock", None),
    ("patch", "stock-vehicles/{}/", "stock", {"colour": "黑色"}),
    ("post", "stock-vehicles/{}/arrive/", "stock", {}),
    ("post", "stock-vehicles/{}/pdi/", "stock", {}),
    ("post", "stock-vehicles/{}/demo/", "stock", {}),
    ("get", "test-drives/{}/", "test_drive", None),
    ("post", "test-drives/{}/complete/", "test_drive", {"agreement_signed": True}),
    ("post", "test-drives/{}/cancel/", "test_drive", {}),
    ("get", "trade-ins/{}/", "trade_in", None),
    ("post", "trade-ins/{}/decide/", "trade_in", {"decision": "accepted"}),
    ("get", "quotes/{}/", "quote", None),
    ("patch", "quotes/{}/", "quote", {"discount": "1.00"}),
    ("post", "quotes/{}/submit/", "quote", {}),
    ("post", "quotes/{}/approve/", "quote", {}),
    ("post", "quotes/{}/reject/", "quote", {"note": "x"}),
    ("post", "quotes/{}/send/", "quote", {}),
    ("get", "orders/{}/", "order", None),
    ("post", "orders/{}/sign/", "order", {}),
    ("post", "orders/{}/allocate/", "order", {"vin": "LSVAB2BM0MN000001"}),
    ("post", "orders/{}/invoice/", "order", {"invoice_number": "1"}),
    ("post", "orders/{}/cancel/", "order", {"reason": "x"}),
    ("get", "payments/{}/", "payment", None),
    ("post", "payments/{}/receive/", "payment", {}),
    ("get", "deliveries/{}/", "delivery", None),
]
# What a consultant of the other branch may do at all: the rest is 403 before any lookup.
CONSULTANT_FORBIDDEN = {
    "leads/{}/assign/",
    "stock-vehicles/{}/",
    "stock-vehicles/{}/arrive/",
    "stock-vehicles/{}/pdi/",
    "stock-vehicles/{}/demo/",
    "quotes/{}/approve/",
    "quotes/{}/reject/",
    "orders/{}/cancel/",
}


@pytest.fixture
def records(branch, consultant) -> dict:
    """One record of each sales resource in the personas' branch."""
    lead = LeadFactory(branch=branch, consultant=consultant, reached="verified")
    order = OrderFactory(branch=branch, status=OrderStatus.SIGNED)
    return {
        "lead": lead,
        "activity": ActivityFactory(lead=lead, by=consultant),
        "traffic": ShowroomTrafficFactory(branch=branch),
        "stock": StockVehicleFactory(branch=branch),
        "test_drive": TestDriveFactory(branch=branch, lead=lead),
        "trade_in": TradeInFactory(branch=branch, lead=lead),
        "quote": QuoteFactory(branch=branch, lead=lead),
        "order": order,
        "payment": PaymentFactory(order=order, paid_on=None, due_on=TODAY),
        "delivery": DeliveryFactory(order__branch=branch),
    }


@pytest.fixture
def other_branch_manager(other_branch):
    """A branch manager of the other branch: every sales permission, none of our records."""
    return UserFactory(roles=[Role.BRANCH_MANAGER], branches=[other_branch])


def call(client, method: str, url: str, body):
    return getattr(client, method)(url, body) if body is not None else getattr(client, method)(url)


@pytest.mark.parametrize(("method", "path", "record", "body"), DETAIL_ENDPOINTS)
def test_another_branch_record_is_not_found(
    api_as, other_branch_manager, records, method, path, record, body
):
    # given a record of the branch and a manager of the other branch, who may do everything
    url = API + path.format(records[record].pk)
    # when they reach it through the endpoint
    response = call(api_as(other_branch_manager), method, url, body)
    # then it does not exist for them
    assert response.status_code == 404, (url, response.json())
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path", "record", "body"),
    [endpoint for endpoint in DETAIL_ENDPOINTS if endpoint[1] not in CONSULTANT_FORBIDDEN],
)
def test_another_branch_consultant_gets_not_found(
    api_as, other_branch_user, records, method, path, record, body
):
    url = API + path.format(records[record].pk)
    response = call(api_as(other_branch_user), method, url, body)
    assert response.status_code == 404, (url, response.json())


@pytest.mark.parametrize("path", LISTS)
def test_lists_hide_another_branch_records(api_as, other_branch_user, records, path):
    # given records of the branch only
    # when a consultant of the other branch lists them
    response = api_as(other_branch_user).get(API + path)
    # then the list is empty
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("path", [p for p in LISTS if p != "leads/follow-ups/"])
def test_group_manager_lists_every_branch(api_as, group_manager, records, path):
    response = api_as(group_manager).get(API + path)
    assert response.status_code == 200
    assert len(response.json()["results"]) >= 1


@pytest.mark.parametrize("path", LISTS)
def test_anonymous_clients_get_401_on_every_list(api_client, path):
    assert api_client.get(API + path).status_code == 401


def test_records_of_another_branch_cannot_be_referenced(api_as, other_branch_user, records):
    # given the branch's lead, quote, order and stock vehicle
    client = api_as(other_branch_user)
    lead, order = records["lead"], records["order"]
    # when a consultant of the other branch names them in new records
    answers = {
        "activities": client.post(
            f"{API}activities/", {"lead": lead.pk, "kind": "call", "outcome": "reached"}
        ),
        "quotes": client.post(
            f"{API}quotes/",
            {"lead": lead.pk, "brand": "大众", "series": "朗逸", "list_price": "1"},
        ),
        "trade-ins": client.post(
            f"{API}trade-ins/",
            {
                "lead": lead.pk,
                "brand": "本田",
                "series": "雅阁",
                "appraised_value": "1",
                "offered_value": "1",
            },
        ),  # fmt: skip
        "orders": client.post(f"{API}orders/", {"quote": records["quote"].pk}),
        "payments": client.post(
            f"{API}payments/",
            {"order": order.pk, "kind": "deposit", "amount": "1", "paid_on": TODAY.isoformat()},
        ),
        "deliveries": client.post(
            f"{API}deliveries/", {"order": order.pk, "checklist": [], "documents": []}
        ),
        "test-drives": client.post(
            f"{API}test-drives/",
            {
                "lead": lead.pk,
                "demo_vehicle": records["stock"].pk,
                "driver_name": "王",
                "driver_licence_number": "11010519491231002X",
                "starts_at": "2026-01-01T10:00:00+08:00",
                "ends_at": "2026-01-01T10:30:00+08:00",
                "route": "x",
            },
        ),  # fmt: skip
    }
    # then each id is unknown: a field error, not the record
    for name, response in answers.items():
        assert response.status_code == 400, (name, response.json())
    assert "lead" in answers["activities"].json()
    assert "quote" in answers["orders"].json()
    assert "order" in answers["payments"].json()
    assert {"lead", "demo_vehicle"} <= set(answers["test-drives"].json())


def test_consultant_files_new_records_only_in_their_branches(api_as, consultant, other_branch):
    response = api_as(consultant).post(
        f"{API}leads/",
        {"branch": other_branch.pk, "source": "walk_in", "name": "王小明",
         "mobile": "13912345678", "model_of_interest": "朗逸"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "branch" in response.json()


# --- query counts ---------------------------------------------------------------------


def _rows(path: str, branch, consultant, n: int) -> None:
    """n more rows of the list at `path`, each with what the list shows of it."""
    for _ in range(n):
        if path in ("leads/", "leads/follow-ups/"):
            LeadFactory(
                branch=branch,
                consultant=consultant,
                source="referral",
                next_follow_up_on=TODAY - timedelta(days=1),
                customer=CustomerFactory(branch=branch),
            )
        elif path == "activities/":
            ActivityFactory(lead__branch=branch, by=consultant)
        elif path == "showroom-traffic/":
            ShowroomTrafficFactory(branch=branch)
        elif path == "stock-vehicles/":
            OrderFactory(branch=branch, status=OrderStatus.ALLOCATED)
            StockVehicleFactory(branch=branch)
        elif path == "test-drives/":
            TestDriveFactory(branch=branch)
        elif path == "trade-ins/":
            TradeInFactory(branch=branch)
        elif path == "quotes/":
            QuoteApprovalFactory(quote=QuoteFactory(branch=branch))
        elif path == "orders/":
            order = OrderFactory(branch=branch, status=OrderStatus.ALLOCATED)
            PaymentFactory(order=order)
        elif path == "payments/":
            PaymentFactory(order__branch=branch)
        elif path == "deliveries/":
            DeliveryFactory(order__branch=branch)


def _queries(user: User, url: str, assert_max_queries) -> tuple[int, int]:
    """Queries of one request, as a fresh client of a freshly loaded user would make."""
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    with assert_max_queries(15) as captured:
        response = client.get(url, {"limit": 50})
    assert response.status_code == 200
    return len(captured), len(response.json()["results"])


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("persona", ["consultant", "customer_care"])
def test_list_queries_do_not_grow_with_the_rows(
    request, branch, consultant, django_assert_max_num_queries, path, persona
):
    # given one row, measured, and then twenty
    user = request.getfixturevalue(persona)
    _rows(path, branch, consultant, 1)
    one, shown = _queries(user, API + path, django_assert_max_num_queries)
    _rows(path, branch, consultant, 19)
    twenty, shown_twenty = _queries(user, API + path, django_assert_max_num_queries)
    # then twenty rows cost what one does
    assert shown >= 1 and shown_twenty >= 20 or path == "leads/follow-ups/"
    assert twenty == one, (path, one, twenty)
