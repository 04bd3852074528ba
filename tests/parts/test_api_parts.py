"""Across the parts API: anonymous clients are told to log in, roles without the permission
are refused, another branch's records are invisible on every endpoint and unknown in every
body, and every list costs a fixed number of queries."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from parts import services
from parts.choices import IssueKind, IssueStatus, StocktakeScope
from parts.models import (
    EmergencyOrder,
    LostSale,
    PartIssue,
    PurchaseOrder,
    Receipt,
    ReorderSuggestion,
    StockMove,
    Stocktake,
)
from tests.factories import (
    BinFactory,
    CustomerFactory,
    PartFactory,
    SupplierFactory,
)
from tests.factories.parts import placed_purchase_order, stocked
from tests.parts.helpers import checked, delivered, voucher, walk

pytestmark = pytest.mark.django_db

API = "/api/v1/"
TODAY = timezone.localdate()

LISTS = [
    "parts/",
    "suppliers/",
    "bins/",
    "stock/",
    "stock-moves/",
    "purchase-orders/",
    "receipts/",
    "part-issues/",
    "lost-sales/",
    "stocktakes/",
    "reorder-suggestions/",
    "emergency-orders/",
]
BRANCH_LISTS = [path for path in LISTS if path not in ("parts/", "suppliers/")]

# (method, path with {} for the id, record, body): every endpoint that names one record.
DETAIL_ENDPOINTS = [
    ("get", "bins/{}/", "bin", None),
    ("get", "stock/{}/", "stock", None),
    ("post", "stock/{}/levels/", "stock", {"min_quantity": 1, "max_quantity": 9,
                                           "reorder_point": 2}),
    ("post", "stock/{}/bin/", "stock", {}),
    ("get", "stock-moves/{}/", "move", None),
    ("get", "purchase-orders/{}/", "purchase_order", None),
    ("post", "purchase-orders/{}/place/", "purchase_order", {}),
    ("post", "purchase-orders/{}/cancel/", "purchase_order", {"reason": "x"}),
    ("post", "purchase-orders/{}/close/", "purchase_order", {"reason": "x"}),
    ("get", "receipts/{}/", "receipt", None),
    ("post", "receipts/{}/register/", "receipt", {}),
    ("get", "part-issues/{}/", "issue", None),
    ("post", "part-issues/{}/check/", "issue", {}),
    ("post", "part-issues/{}/pick/", "issue", {}),
    ("post", "part-issues/{}/recheck/", "issue", {}),
    ("post", "part-issues/{}/hand-over/", "issue", {}),
    ("post", "part-issues/{}/cancel/", "issue", {"reason": "x"}),
    ("post", "part-issues/{}/return/", "issue", {"line": 1, "quantity": 1, "reason": "x"}),
    ("get", "lost-sales/{}/", "lost_sale", None),
    ("get", "stocktakes/{}/", "stocktake", None),
    ("post", "stocktakes/{}/counts/", "stocktake", {"counts": [{"line": 1, "quantity": 1}]}),
    ("post", "stocktakes/{}/approve/", "stocktake", {}),
    ("post", "stocktakes/{}/cancel/", "stocktake", {}),
    ("get", "reorder-suggestions/{}/", "suggestion", None),
    ("post", "reorder-suggestions/{}/dismiss/", "suggestion", {}),
    ("get", "emergency-orders/{}/", "emergency", None),
    ("post", "emergency-orders/{}/quote/", "emergency", {}),
    ("post", "emergency-orders/{}/deposit/", "emergency", {"amount": "1.00"}),
    ("post", "emergency-orders/{}/place/", "emergency", {}),
    ("post", "emergency-orders/{}/hand-over/", "emergency", {}),
    ("post", "emergency-orders/{}/cancel/", "emergency", {"reason": "x"}),
]  # fmt: skip


def call(client, method: str, url: str, body):
    return getattr(client, method)(url, body) if body is not None else getattr(client, method)(url)


def suggestion(branch, part, **extra) -> ReorderSuggestion:
    return ReorderSuggestion.objects.create(
        branch=branch, part=part, computed_on=TODAY, available=Decimal(0), on_order=Decimal(0),
        daily_consumption=Decimal("0.5"), lead_time_days=7, reorder_point=Decimal(4),
        suggested_quantity=Decimal(10), **extra,
    )  # fmt: skip


@pytest.fixture
def records(branch, parts_clerk, advisor) -> dict:
    """One record of each branch-scoped parts resource in the personas' branch."""
    supplier = SupplierFactory()
    part = PartFactory(supplier=supplier)
    stock = stocked(branch, part, parts_clerk, 20, bin=BinFactory(branch=branch, zone="A"))
    order = placed_purchase_order(branch, parts_clerk, [(part, 5, "30.00")], supplier=supplier)
    receipt = checked(order, parts_clerk)
    issue = voucher(branch, parts_clerk, [(part, 1)], IssueKind.COUNTER_SALE)
    counted = PartFactory()
    stocked(branch, counted, parts_clerk, 3, bin=BinFactory(branch=branch, zone="Z"))
    stocktake = services.stocktake_start(
        branch=branch, scope=StocktakeScope.ZONE, zone="Z", by=parts_clerk
    )
    return {
        "part": part,
        "bin": stock.bin,
        "stock": stock,
        "move": part.moves.get(),
        "purchase_order": order,
        "receipt": receipt,
        "issue": issue,
        "lost_sale": services.lost_sale_record(
            branch=branch, part=part, quantity=Decimal(2), asked_by="王师傅", by=parts_clerk
        ),
        "stocktake": stocktake,
        "suggestion": suggestion(branch, part),
        "emergency": services.emergency_order_request(
            branch=branch,
            customer=CustomerFactory(branch=branch),
            part=part,
            quantity=Decimal(1),
            by=advisor,
        ),
    }


# --- 401, 403, 404 ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*LISTS, "parts-figures/?start=2026-01-01&end=2026-01-31"])
def test_anonymous_clients_get_401(api_client, path):
    assert api_client.get(API + path).status_code == 401


@pytest.mark.parametrize("path", [*LISTS, "parts-figures/?start=2026-01-01&end=2026-01-31"])
def test_a_role_without_parts_permissions_is_refused(api_as, consultant, path):
    # given a sales consultant, who has nothing to do with the stockroom
    # when they read a parts list
    response = api_as(consultant).get(API + path)
    # then it is refused
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "path", "record", "body"), DETAIL_ENDPOINTS)
def test_another_branch_record_is_not_found(
    api_as, other_clerk, records, method, path, record, body
):
    # given a record of the branch and a parts clerk of the other branch
    url = API + path.format(records[record].pk)
    # when they reach it through the endpoint
    response = call(api_as(other_clerk), method, url, body)
    # then it does not exist for them
    assert response.status_code == 404, (url, response.json())
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("path", BRANCH_LISTS)
def test_lists_hide_another_branch_records(api_as, other_clerk, records, path):
    response = api_as(other_clerk).get(API + path)
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("path", BRANCH_LISTS)
def test_group_manager_lists_every_branch(api_as, group_manager, records, path):
    response = api_as(group_manager).get(API + path)
    assert response.status_code == 200
    assert len(response.json()["results"]) >= 1


def test_records_of_another_branch_cannot_be_referenced(api_as, other_clerk, records):
    # given the branch's purchase order, receipt line, bin, suggestion and customer
    client = api_as(other_clerk)
    order, customer = records["purchase_order"], records["emergency"].customer
    counts = PurchaseOrder.objects.count(), Receipt.objects.count()
    # when a parts clerk of the other branch names them in their own requests
    answers = {
        "receipt": client.post(
            f"{API}receipts/",
            {"purchase_order": order.pk, "boxes_expected": 1, "boxes_counted": 1,
             "packaging_intact": True,
             "lines": [{"order_line": order.lines.get().pk, "received_quantity": 1,
                        "checked": True}]},
        ),
        "issue": client.post(
            f"{API}part-issues/",
            {"kind": "counter_sale", "customer": customer.pk,
             "lines": [{"part": records["part"].pk, "quantity": 1}]},
        ),
        "order": client.post(
            f"{API}reorder-suggestions/order/", {"suggestions": [records["suggestion"].pk]}
        ),
        "emergency": client.post(
            f"{API}emergency-orders/",
            {"customer": customer.pk, "part": records["part"].pk, "quantity": 1},
        ),
    }  # fmt: skip
    # then each id is unknown: a field error naming it, and nothing was made
    for name, response in answers.items():
        assert response.status_code == 400, (name, response.json())
    assert {"purchase_order", "lines"} <= set(answers["receipt"].json())
    assert "customer" in answers["issue"].json()
    assert "suggestions" in answers["order"].json()
    assert "customer" in answers["emergency"].json()
    assert (PurchaseOrder.objects.count(), Receipt.objects.count()) == counts


def test_another_branch_bin_cannot_be_assigned(api_as, parts_clerk, records, other_branch):
    # given a bin of the other branch
    foreign = BinFactory(branch=other_branch)
    # when our clerk puts our stock in it
    response = api_as(parts_clerk).post(
        f"{API}stock/{records['stock'].pk}/bin/", {"bin": foreign.pk}
    )
    # then the bin does not exist for them and the part stays where it was
    assert response.status_code == 400
    assert "bin" in response.json()
    records["stock"].refresh_from_db()
    assert records["stock"].bin == records["bin"]


def test_clerk_files_new_records_only_in_their_branches(api_as, parts_clerk, other_branch):
    response = api_as(parts_clerk).post(
        f"{API}bins/", {"branch": other_branch.pk, "zone": "A", "shelf": "1", "level": "1"}
    )
    assert response.status_code == 400
    assert "branch" in response.json()


@pytest.mark.parametrize(
    ("persona", "method", "path", "body"),
    [
        ("advisor", "post", "parts/", {"number": "X1", "name": "x"}),
        ("advisor", "post", "purchase-orders/", {}),
        ("advisor", "post", "part-issues/", {}),
        ("advisor", "post", "stocktakes/", {"scope": "all"}),
        ("advisor", "post", "reorder-suggestions/compute/", {}),
        ("branch_manager", "post", "bins/", {"zone": "A", "shelf": "1", "level": "1"}),
        ("branch_manager", "post", "lost-sales/", {}),
        ("branch_manager", "post", "emergency-orders/", {}),
    ],
)
def test_reading_roles_cannot_write_the_stockroom(request, api_as, persona, method, path, body):
    # given an advisor or a branch manager, who read the stockroom
    client = api_as(request.getfixturevalue(persona))
    # when they make a stockroom document
    response = call(client, method, API + path, body)
    # then it is refused for lack of the permission
    assert response.status_code == 403, response.json()


@pytest.mark.parametrize("path", ["stock-moves/", "stock/"])
def test_the_ledger_and_stock_cannot_be_written_directly(api_as, parts_clerk, path):
    response = api_as(parts_clerk).post(API + path, {"part": 1, "quantity": 1})
    assert response.status_code == 405


def test_documents_are_never_deleted(api_as, parts_clerk, records):
    url = f"{API}purchase-orders/{records['purchase_order'].pk}/"
    assert api_as(parts_clerk).delete(url).status_code == 405
    assert PurchaseOrder.objects.filter(pk=records["purchase_order"].pk).exists()


# --- query counts ---------------------------------------------------------------------------


def _rows(path: str, branch, clerk, advisor, n: int) -> None:
    """n more rows of the list at `path`, each with everything the list shows of it."""
    for _ in range(n):
        supplier = SupplierFactory()
        part = PartFactory(supplier=supplier, superseded_by=PartFactory())
        if path == "suppliers/":
            continue
        if path in ("bins/", "stock/", "stock-moves/"):
            stocked(branch, part, clerk, 5, bin=BinFactory(branch=branch))
        elif path in ("purchase-orders/", "receipts/"):
            other = PartFactory()
            order = placed_purchase_order(
                branch, clerk, [(part, 4, "10.00"), (other, 2, "5.00")], supplier=supplier
            )
            if path == "receipts/":
                services.receipt_check(
                    purchase_order=order, by=clerk, boxes_expected=1, boxes_counted=1,
                    packaging_intact=True,
                    lines=[{"order_line": line, "received_quantity": line.quantity,
                            "checked": True} for line in order.lines.all()],
                )  # fmt: skip
        elif path == "part-issues/":
            stocked(branch, part, clerk, 5)
            services.part_issue_create(
                branch=branch, kind=IssueKind.COUNTER_SALE,
                customer=CustomerFactory(branch=branch),
                lines=[{"part": part, "quantity": Decimal(1)}], by=clerk,
            )  # fmt: skip
        elif path == "lost-sales/":
            services.lost_sale_record(
                branch=branch, part=part, quantity=Decimal(1), asked_by="王", by=clerk
            )
        elif path == "stocktakes/":
            zone = f"Z{Stocktake.objects.count()}"
            stocked(branch, part, clerk, 5, bin=BinFactory(branch=branch, zone=zone))
            stocktake = services.stocktake_start(
                branch=branch, scope=StocktakeScope.ZONE, zone=zone, by=clerk
            )
            line = stocktake.lines.get()
            services.stocktake_count(stocktake=stocktake, counts={line.pk: 5}, by=clerk)
        elif path == "reorder-suggestions/":
            suggestion(branch, part)
        elif path == "emergency-orders/":
            services.emergency_order_request(
                branch=branch, customer=CustomerFactory(branch=branch), part=part,
                quantity=Decimal(1), by=advisor,
            )  # fmt: skip


def _queries(user: User, url: str, assert_max_queries) -> tuple[int, int]:
    """Queries of one request, as a fresh client of a freshly loaded user would make."""
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    with assert_max_queries(12) as captured:
        response = client.get(url, {"limit": 50})
    assert response.status_code == 200
    return len(captured), len(response.json()["results"])


@pytest.mark.parametrize("path", LISTS)
def test_list_queries_do_not_grow_with_the_rows(
    branch, parts_clerk, advisor, django_assert_max_num_queries, path
):
    # given two rows, measured, and then twelve
    _rows(path, branch, parts_clerk, advisor, 2)
    two, shown = _queries(parts_clerk, API + path, django_assert_max_num_queries)
    _rows(path, branch, parts_clerk, advisor, 10)
    twelve, shown_twelve = _queries(parts_clerk, API + path, django_assert_max_num_queries)
    # then twelve rows cost what two do
    assert shown >= 2 and shown_twelve >= 12
    assert twelve == two, (path, two, twelve)


def test_stocktake_detail_queries_do_not_grow_with_its_lines(branch, parts_clerk):
    def detail_queries(count: int) -> int:
        zone = f"Q{count}"
        for _ in range(count):
            stocked(branch, PartFactory(), parts_clerk, 3, bin=BinFactory(branch=branch, zone=zone))
        stocktake = services.stocktake_start(
            branch=branch, scope=StocktakeScope.ZONE, zone=zone, by=parts_clerk
        )
        client = APIClient()
        client.force_authenticate(User.objects.get(pk=parts_clerk.pk))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{API}stocktakes/{stocktake.pk}/")
        assert len(response.json()["lines"]) == count
        return len(captured)

    # given a stocktake of two lines and one of twelve
    # then reading either costs the same
    assert detail_queries(2) == detail_queries(12)


# --- every POST that moves stock or money or makes a document replays -----------------------

# Every parts endpoint taking an Idempotency-Key (tests/dealer_crm/test_idempotency.py counts
# them with the sales ones against the schema).
IDEMPOTENT_ENDPOINTS = [
    "purchase-orders", "receipts", "receipts-register", "part-issues", "part-issues-hand-over",
    "part-issues-return", "lost-sales", "stocktakes", "stocktakes-approve",
    "reorder-suggestions-order", "emergency-orders", "emergency-orders-deposit",
    "emergency-orders-place", "emergency-orders-hand-over",
]  # fmt: skip


def _emergency(branch, clerk, advisor, *, until: str):
    part = PartFactory()
    order = services.emergency_order_request(
        branch=branch, customer=CustomerFactory(branch=branch), part=part, quantity=Decimal(1),
        by=advisor,
    )  # fmt: skip
    if until == "requested":
        return order
    order = services.emergency_order_quote(
        emergency_order=order, supplier=SupplierFactory(), quoted_unit_cost=Decimal(40),
        unit_price=Decimal(90), by=clerk,
    )  # fmt: skip
    if until == "quoted":
        return order
    order = services.emergency_order_deposit(emergency_order=order, amount=Decimal(30), by=clerk)
    if until == "deposit_paid":
        return order
    order = services.emergency_order_place(emergency_order=order, by=clerk)
    delivered(order.purchase_order, clerk, bin=BinFactory(branch=branch))
    order.refresh_from_db()
    return order


def _endpoint(name, branch, clerk, advisor, manager):
    """(user, path, body, model counted) of a request to `name` that succeeds."""
    part = PartFactory(supplier=SupplierFactory())
    stocked(branch, part, clerk, 10, bin=BinFactory(branch=branch, zone="K"))
    if name == "purchase-orders":
        body = {"supplier": SupplierFactory().pk, "lines": [{"part": part.pk, "quantity": 2}]}
        return clerk, "purchase-orders/", body, PurchaseOrder
    if name == "receipts":
        order = placed_purchase_order(branch, clerk, [(part, 2, "30.00")])
        body = {"purchase_order": order.pk, "boxes_expected": 1, "boxes_counted": 1,
                "packaging_intact": True,
                "lines": [{"order_line": order.lines.get().pk, "received_quantity": 2,
                           "checked": True}]}  # fmt: skip
        return clerk, "receipts/", body, Receipt
    if name == "receipts-register":
        receipt = checked(placed_purchase_order(branch, clerk, [(part, 1, "30.00")]), clerk)
        return clerk, f"receipts/{receipt.pk}/register/", {}, StockMove
    if name == "part-issues":
        body = {"kind": "counter_sale", "lines": [{"part": part.pk, "quantity": 1}]}
        return clerk, "part-issues/", body, PartIssue
    if name == "part-issues-hand-over":
        issue = voucher(branch, clerk, [(part, 1)], IssueKind.COUNTER_SALE)
        issue = walk(issue, clerk, IssueStatus.RECHECKED)
        return clerk, f"part-issues/{issue.pk}/hand-over/", {}, StockMove
    if name == "part-issues-return":
        issue = voucher(branch, clerk, [(part, 1)], IssueKind.COUNTER_SALE)
        issue = walk(issue, clerk, IssueStatus.HANDED_OVER)
        body = {"line": issue.lines.get().pk, "quantity": 1, "reason": "未使用"}
        return clerk, f"part-issues/{issue.pk}/return/", body, StockMove
    if name == "lost-sales":
        body = {"part": part.pk, "quantity": 1, "asked_by": "王"}
        return advisor, "lost-sales/", body, LostSale
    if name == "stocktakes":
        return clerk, "stocktakes/", {"scope": "zone", "zone": "K"}, Stocktake
    if name == "stocktakes-approve":
        stocktake = services.stocktake_start(branch=branch, scope="zone", zone="K", by=clerk)
        counts = {line.pk: Decimal(9) for line in stocktake.lines.all()}
        services.stocktake_count(stocktake=stocktake, counts=counts, by=clerk)
        return manager, f"stocktakes/{stocktake.pk}/approve/", {}, StockMove
    if name == "reorder-suggestions-order":
        body = {"suggestions": [suggestion(branch, part).pk]}
        return clerk, "reorder-suggestions/order/", body, PurchaseOrder
    if name == "emergency-orders":
        body = {"customer": CustomerFactory(branch=branch).pk, "part": part.pk, "quantity": 1}
        return advisor, "emergency-orders/", body, EmergencyOrder
    # A deposit makes nothing new: the order's history shows it was taken.
    until, user, command, body, model = {
        "emergency-orders-deposit": ("quoted", advisor, "deposit", {"amount": "30.00"},
                                     EmergencyOrder.history.model),
        "emergency-orders-place": ("deposit_paid", clerk, "place", {}, PurchaseOrder),
        "emergency-orders-hand-over": ("arrived", clerk, "hand-over", {}, PartIssue),
    }[name]  # fmt: skip
    order = _emergency(branch, clerk, advisor, until=until)
    return user, f"emergency-orders/{order.pk}/{command}/", body, model


@pytest.mark.parametrize("name", IDEMPOTENT_ENDPOINTS)
def test_every_stock_money_and_document_post_replays(
    api_as, branch, parts_clerk, advisor, branch_manager, name
):
    # given a request that succeeds, sent with a key
    user, path, body, model = _endpoint(name, branch, parts_clerk, advisor, branch_manager)
    client = api_as(user)
    before = model.objects.count()
    first = client.post(API + path, body, HTTP_IDEMPOTENCY_KEY=f"key-{name}")
    after_first = model.objects.count()
    # when it is sent again with the key
    second = client.post(API + path, body, HTTP_IDEMPOTENCY_KEY=f"key-{name}")
    # then the second answer is the first one, and the work was done once
    assert 200 <= first.status_code < 300, first.json()
    assert (second.status_code, second.json()) == (first.status_code, first.json())
    assert second.headers["Idempotent-Replayed"] == "true"
    assert before < after_first == model.objects.count()


def test_the_schema_documents_the_key_on_every_parts_endpoint_named(api_as, parts_clerk):
    # given the schema, and the parts resources
    schema = api_as(parts_clerk).get("/api/schema/", {"format": "json"}).json()
    resources = {path.strip("/") for path in LISTS}
    # when the parts operations taking an Idempotency-Key are gathered
    documented = {
        path
        for path, operations in schema["paths"].items()
        if path.split("/")[3] in resources
        and any(p["name"] == "Idempotency-Key" for p in operations.get("post", {}).get(
            "parameters", []))
    }  # fmt: skip
    # then they are exactly the ones replayed above
    assert len(documented) == len(IDEMPOTENT_ENDPOINTS)
    assert "/api/v1/part-issues/{id}/hand-over/" in documented
