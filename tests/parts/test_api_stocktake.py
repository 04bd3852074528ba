"""Stocktakes through the API: a scope frozen, counted, approved by whoever may approve, and
posted as gains and losses; while it counts, no stock move touches the scope."""

from decimal import Decimal

import pytest

from parts.choices import IssueKind, IssueStatus, MoveKind, StocktakeStatus
from parts.models import PartIssue, PartStock, StockMove, Stocktake
from tests.factories import BinFactory, PartFactory
from tests.factories.parts import stocked
from tests.parts.helpers import voucher, walk

pytestmark = pytest.mark.django_db

API = "/api/v1/"
STOCKTAKES = f"{API}stocktakes/"


@pytest.fixture
def zone_b(branch, parts_clerk):
    """Zone B holds 10 plugs at 50 CNY and 4 litres of oil at 80 CNY."""
    plug = PartFactory(number="06H905601A")
    oil = PartFactory(number="G052167M2", unit="litre", name="机油")
    stocked(branch, plug, parts_clerk, 10, cost="50.00", bin=BinFactory(branch=branch, zone="B"))
    stocked(branch, oil, parts_clerk, 4, cost="80.00", bin=BinFactory(branch=branch, zone="B"))
    return {"plug": plug, "oil": oil}


def start(client, **extra):
    return client.post(STOCKTAKES, {"scope": "zone", "zone": "b", **extra})


def counts_for(body, **by_number) -> dict:
    return {
        "counts": [
            {"line": line["id"], "quantity": by_number[line["part_number"]]}
            for line in body["lines"]
        ]
    }


def on_hand(branch, part) -> Decimal:
    return PartStock.objects.get(branch=branch, part=part).on_hand


def test_a_zone_is_counted_and_the_differences_posted_on_approval(
    api_as, parts_clerk, branch_manager, branch, zone_b
):
    # given zone B frozen by the clerk
    clerk = api_as(parts_clerk)
    started = start(clerk)
    stocktake_id = started.json()["id"]
    # when 9 plugs and 4.5 litres are counted and the branch manager approves
    counted = clerk.post(
        f"{STOCKTAKES}{stocktake_id}/counts/",
        counts_for(started.json(), **{"06H905601A": "9", "G052167M2": "4.5"}),
    )
    approved = api_as(branch_manager).post(f"{STOCKTAKES}{stocktake_id}/approve/")
    # then the book was frozen, the differences valued, and stock adjusted by moves
    assert started.status_code == 201, started.json()
    assert [line["book_quantity"] for line in started.json()["lines"]] == ["10.000", "4.000"]
    assert (started.json()["zone"], started.json()["line_count"]) == ("B", 2)
    assert counted.status_code == 200, counted.json()
    assert [line["difference_value"] for line in counted.json()["lines"]] == ["-50.00", "40.00"]
    assert (counted.json()["gain_value"], counted.json()["loss_value"]) == ("40.00", "50.00")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == StocktakeStatus.POSTED
    assert approved.json()["approved_by"] == branch_manager.pk
    assert (on_hand(branch, zone_b["plug"]), on_hand(branch, zone_b["oil"])) == (9, Decimal("4.5"))
    assert set(StockMove.objects.filter(document=approved.json()["number"]).values_list(
        "kind", flat=True
    )) == {MoveKind.STOCKTAKE_GAIN, MoveKind.STOCKTAKE_LOSS}  # fmt: skip


def test_the_list_shows_how_far_counting_has_got(api_as, parts_clerk, zone_b):
    client = api_as(parts_clerk)
    body = start(client).json()
    client.post(
        f"{STOCKTAKES}{body['id']}/counts/",
        {"counts": [{"line": body["lines"][0]["id"], "quantity": "10"}]},
    )
    [row] = client.get(STOCKTAKES, {"status": "counting"}).json()["results"]
    assert (row["line_count"], row["counted_count"]) == (2, 1)
    assert "lines" not in row


def test_an_advisor_cannot_approve_a_stocktake(api_as, advisor, parts_clerk, branch, zone_b):
    # given a fully counted stocktake
    body = start(api_as(parts_clerk)).json()
    api_as(parts_clerk).post(
        f"{STOCKTAKES}{body['id']}/counts/",
        counts_for(body, **{"06H905601A": "8", "G052167M2": "4"}),
    )
    # when an advisor approves it
    response = api_as(advisor).post(f"{STOCKTAKES}{body['id']}/approve/")
    # then it is refused and the stock is as it was
    assert response.status_code == 403
    assert Stocktake.objects.get().status == StocktakeStatus.COUNTING
    assert on_hand(branch, zone_b["plug"]) == 10


def test_a_branch_manager_cannot_count(api_as, branch_manager, parts_clerk, zone_b):
    body = start(api_as(parts_clerk)).json()
    response = api_as(branch_manager).post(
        f"{STOCKTAKES}{body['id']}/counts/",
        counts_for(body, **{"06H905601A": "8", "G052167M2": "4"}),
    )
    assert response.status_code == 403


def test_an_uncounted_stocktake_cannot_be_approved(api_as, parts_clerk, branch, zone_b):
    stocktake_id = start(api_as(parts_clerk)).json()["id"]
    response = api_as(parts_clerk).post(f"{STOCKTAKES}{stocktake_id}/approve/")
    assert response.status_code == 409 and response.json()["code"] == "stocktake_not_counted"
    assert not StockMove.objects.filter(kind=MoveKind.STOCKTAKE_LOSS).exists()


@pytest.mark.parametrize(
    ("quantity", "code"), [("-1", "quantity_negative"), ("8.5", "quantity_not_whole")]
)
def test_a_bad_count_changes_nothing(api_as, parts_clerk, zone_b, quantity, code):
    body = start(api_as(parts_clerk)).json()
    plug_line = body["lines"][0]
    response = api_as(parts_clerk).post(
        f"{STOCKTAKES}{body['id']}/counts/",
        {"counts": [{"line": plug_line["id"], "quantity": quantity}]},
    )
    assert response.status_code == 400 and response.json()["code"] == code
    assert Stocktake.objects.get().lines.filter(counted_quantity__isnull=False).count() == 0


@pytest.mark.parametrize(
    ("counts", "field"),
    [
        ({"counts": []}, "counts"),
        ({"counts": [{"line": "一", "quantity": "1"}]}, "counts"),
        ({"counts": [{"line": 999999, "quantity": "1"}]}, "code"),
        ({}, "counts"),
    ],
    ids=["empty", "wrong-type", "unknown-line", "missing"],
)
def test_bad_counts_are_refused(api_as, parts_clerk, zone_b, counts, field):
    body = start(api_as(parts_clerk)).json()
    response = api_as(parts_clerk).post(f"{STOCKTAKES}{body['id']}/counts/", counts)
    assert response.status_code == 400, response.json()
    assert field in response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "zone", "zone": ""}, "non_field_errors"),
        ({"scope": "classification"}, "non_field_errors"),
        ({"scope": "shelf"}, "scope"),
        ({"scope": "zone", "zone": "Z" * 11}, "zone"),
    ],
    ids=["zone-missing", "classification-missing", "unknown-scope", "too-long"],
)
def test_a_bad_scope_freezes_nothing(api_as, parts_clerk, zone_b, body, field):
    response = api_as(parts_clerk).post(STOCKTAKES, body)
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Stocktake.objects.exists()


def test_an_empty_scope_is_refused(api_as, parts_clerk, zone_b):
    response = start(api_as(parts_clerk), zone="Q")
    assert response.status_code == 400 and response.json()["code"] == "stocktake_scope_empty"


def test_two_stocktakes_cannot_freeze_the_same_stock(api_as, parts_clerk, zone_b):
    client = api_as(parts_clerk)
    start(client)
    response = client.post(STOCKTAKES, {"scope": "all"})
    assert response.status_code == 409 and response.json()["code"] == "stocktake_overlaps"
    assert Stocktake.objects.count() == 1


def test_a_frozen_scope_takes_no_stock_moves(api_as, parts_clerk, branch, zone_b):
    # given a voucher for 2 plugs ready to hand over, then zone B frozen
    plug = zone_b["plug"]
    issue = voucher(branch, parts_clerk, [(plug, 2)], IssueKind.COUNTER_SALE)
    walk(issue, parts_clerk, IssueStatus.RECHECKED)
    client = api_as(parts_clerk)
    start(client)
    moves = StockMove.objects.count()
    # when the plugs are handed over
    response = client.post(f"{API}part-issues/{issue.pk}/hand-over/")
    # then the frozen scope refuses it: the voucher waits, stock and ledger are unchanged
    assert response.status_code == 409
    assert response.json()["code"] == "stocktake_frozen"
    assert PartIssue.objects.get().status == IssueStatus.RECHECKED
    assert on_hand(branch, plug) == 10 and StockMove.objects.count() == moves


def test_a_cancelled_stocktake_frees_its_scope(api_as, parts_clerk, zone_b):
    client = api_as(parts_clerk)
    stocktake_id = start(client).json()["id"]
    cancelled = client.post(f"{STOCKTAKES}{stocktake_id}/cancel/")
    again = client.post(f"{STOCKTAKES}{stocktake_id}/cancel/")
    restarted = start(client)
    assert cancelled.json()["status"] == StocktakeStatus.CANCELLED
    assert again.status_code == 409 and again.json()["code"] == "stocktake_closed"
    assert restarted.status_code == 201


def test_an_approval_sent_twice_with_one_key_posts_once(
    api_as, parts_clerk, branch_manager, branch, zone_b
):
    body = start(api_as(parts_clerk)).json()
    api_as(parts_clerk).post(
        f"{STOCKTAKES}{body['id']}/counts/",
        counts_for(body, **{"06H905601A": "8", "G052167M2": "4"}),
    )
    client, url = api_as(branch_manager), f"{STOCKTAKES}{body['id']}/approve/"
    first = client.post(url, HTTP_IDEMPOTENCY_KEY="st-1")
    again = client.post(url, HTTP_IDEMPOTENCY_KEY="st-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert on_hand(branch, zone_b["plug"]) == 8
    assert StockMove.objects.filter(kind=MoveKind.STOCKTAKE_LOSS).count() == 1
