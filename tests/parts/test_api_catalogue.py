"""The parts API's catalogue side: part numbers and their supersession, suppliers, bins, each
branch's stock with its levels and bin, the stock ledger and the parts figures."""

from decimal import Decimal

import pytest
from django.utils import timezone

from parts import services
from parts.choices import IssueKind, MoveKind, StocktakeScope
from parts.models import Bin, Part, PartStock, StockMove, Supplier
from tests.factories import BinFactory, PartFactory, SupplierFactory
from tests.factories.parts import stocked
from tests.parts.helpers import set_levels

pytestmark = pytest.mark.django_db

API = "/api/v1/"
TODAY = timezone.localdate()


def part_payload(**extra) -> dict:
    return {
        "number": "l06h905601a",
        "name": "火花塞",
        "classification": "wear",
        "unit": "piece",
        "price": "65.00",
        **extra,
    }


# --- parts ---------------------------------------------------------------------------------


def test_clerk_adds_a_part_number_in_capitals(api_as, parts_clerk):
    # given a supplier
    supplier = SupplierFactory()
    # when the clerk adds a part typed in lower case
    response = api_as(parts_clerk).post(f"{API}parts/", part_payload(supplier=supplier.pk))
    # then it is stored in capitals with its supplier
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["number"], body["supplier_name"], body["price"]) == (
        "L06H905601A",
        supplier.name,
        "65.00",
    )


def test_a_part_number_exists_once(api_as, parts_clerk):
    PartFactory(number="L06H905601A")
    response = api_as(parts_clerk).post(f"{API}parts/", part_payload())
    assert response.status_code == 400
    assert "number" in response.json()
    assert Part.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": "贵"}, "price"),
        ({"price": "-1.00"}, "price"),
        ({"classification": "gold"}, "classification"),
        ({"name": "火" * 101}, "name"),
        ({"supplier": 999999}, "supplier"),
    ],
    ids=["wrong-type", "negative-price", "unknown-choice", "too-long", "unknown-supplier"],
)
def test_bad_part_names_the_field(api_as, parts_clerk, change, field):
    response = api_as(parts_clerk).post(f"{API}parts/", part_payload(**change))
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Part.objects.exists()


def test_a_part_is_edited_but_its_number_never_changes(api_as, parts_clerk):
    part = PartFactory(number="06H905601A", price=Decimal("65.00"))
    response = api_as(parts_clerk).patch(
        f"{API}parts/{part.pk}/", {"number": "OTHER", "price": "70.00"}
    )
    assert response.status_code == 200, response.json()
    part.refresh_from_db()
    assert (part.number, part.price) == ("06H905601A", Decimal("70.00"))


def test_advisor_reads_the_catalogue_but_cannot_change_it(api_as, advisor):
    part = PartFactory()
    client = api_as(advisor)
    assert client.get(f"{API}parts/{part.pk}/").status_code == 200
    assert client.patch(f"{API}parts/{part.pk}/", {"price": "1.00"}).status_code == 403


def test_a_superseded_number_is_found_by_its_old_number(api_as, parts_clerk):
    # given an old number and its successor
    old, new = PartFactory(number="06H905601A"), PartFactory(number="06H905601B")
    client = api_as(parts_clerk)
    # when the old number is superseded and the catalogue searched for it among current numbers
    superseded = client.post(f"{API}parts/{old.pk}/supersede/", {"successor": new.pk})
    found = client.get(f"{API}parts/", {"search": "905601A", "current": "true"})
    # then the successor answers
    assert superseded.status_code == 200, superseded.json()
    assert superseded.json()["superseded_by_number"] == "06H905601B"
    assert [row["number"] for row in found.json()["results"]] == ["06H905601B"]


def test_a_supersession_cannot_run_in_a_circle(api_as, parts_clerk):
    old, new = PartFactory(), PartFactory()
    old.superseded_by = new
    old.save()
    response = api_as(parts_clerk).post(f"{API}parts/{new.pk}/supersede/", {"successor": old.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "supersession_loop"
    new.refresh_from_db()
    assert new.superseded_by is None


def test_parts_filter_by_classification(api_as, parts_clerk):
    wear, base = PartFactory(classification="wear"), PartFactory(classification="base")
    response = api_as(parts_clerk).get(f"{API}parts/", {"classification": "base"})
    ids = [row["id"] for row in response.json()["results"]]
    assert base.pk in ids and wear.pk not in ids


# --- suppliers -----------------------------------------------------------------------------


def test_clerk_adds_and_edits_a_supplier(api_as, parts_clerk):
    client = api_as(parts_clerk)
    created = client.post(f"{API}suppliers/", {"name": "博世配件", "lead_time_days": 3})
    edited = client.patch(f"{API}suppliers/{created.json()['id']}/", {"phone": "020-12345678"})
    assert created.status_code == 201, created.json()
    assert edited.status_code == 200
    assert Supplier.objects.get().phone == "020-12345678"


def test_a_supplier_name_exists_once(api_as, parts_clerk):
    SupplierFactory(name="博世配件")
    response = api_as(parts_clerk).post(f"{API}suppliers/", {"name": "博世配件"})
    assert response.status_code == 400 and "name" in response.json()
    assert Supplier.objects.count() == 1


# --- bins ----------------------------------------------------------------------------------


def test_clerk_adds_a_bin_to_their_branch(api_as, parts_clerk, branch):
    response = api_as(parts_clerk).post(f"{API}bins/", {"zone": "a", "shelf": "03", "level": "2"})
    assert response.status_code == 201, response.json()
    assert (response.json()["label"], response.json()["branch"]) == ("A-03-2", branch.pk)


def test_a_bin_exists_once(api_as, parts_clerk, branch):
    BinFactory(branch=branch, zone="A", shelf="03", level="2")
    response = api_as(parts_clerk).post(f"{API}bins/", {"zone": "A", "shelf": "03", "level": "2"})
    assert response.status_code == 400, response.json()
    assert Bin.objects.count() == 1


def test_bins_show_what_they_hold_and_filter_free_ones(api_as, parts_clerk, branch):
    # given a bin holding a part and a free one
    part = PartFactory(number="06H905601A")
    held = BinFactory(branch=branch)
    free = BinFactory(branch=branch)
    stocked(branch, part, parts_clerk, 1, bin=held)
    client = api_as(parts_clerk)
    # when the bins are listed, all and free only
    every = {row["id"]: row for row in client.get(f"{API}bins/").json()["results"]}
    free_only = client.get(f"{API}bins/", {"free": "true"}).json()["results"]
    # then the held bin names its part, and only the free one is free
    assert every[held.pk]["part_number"] == "06H905601A"
    assert every[free.pk]["part"] is None
    assert [row["id"] for row in free_only] == [free.pk]


# --- stock ---------------------------------------------------------------------------------


def test_stock_shows_available_and_value(api_as, parts_clerk, branch):
    # given 10 plugs at 50 CNY, 3 reserved for a job
    part = PartFactory()
    stocked(branch, part, parts_clerk, 10, cost="50.00")
    services.stock_reserve(branch=branch, part=part, amount=Decimal(3), by=parts_clerk)
    # when the stock is listed
    response = api_as(parts_clerk).get(f"{API}stock/")
    # then 7 are available and the shelf is worth 500 CNY
    [row] = response.json()["results"]
    assert (row["on_hand"], row["reserved"], row["available"], row["value"]) == (
        "10.000",
        "3.000",
        "7.000",
        "500.00",
    )
    assert row["last_move_at"] is not None


def test_stock_filters_to_what_needs_reordering(api_as, parts_clerk, branch):
    low, plenty = PartFactory(), PartFactory()
    stocked(branch, low, parts_clerk, 2)
    stocked(branch, plenty, parts_clerk, 50)
    for part in (low, plenty):
        set_levels(branch, part, parts_clerk, 2, 5, 20)
    response = api_as(parts_clerk).get(f"{API}stock/", {"to_reorder": "true"})
    assert [row["part"] for row in response.json()["results"]] == [low.pk]


def test_clerk_sets_stock_levels(api_as, parts_clerk, branch):
    stock = stocked(branch, PartFactory(), parts_clerk, 5)
    response = api_as(parts_clerk).post(
        f"{API}stock/{stock.pk}/levels/",
        {"min_quantity": "2", "max_quantity": "20", "reorder_point": "5"},
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["reorder_point"], response.json()["available"]) == ("5.000", "5.000")


def test_inconsistent_stock_levels_change_nothing(api_as, parts_clerk, branch):
    stock = stocked(branch, PartFactory(), parts_clerk, 5)
    response = api_as(parts_clerk).post(
        f"{API}stock/{stock.pk}/levels/",
        {"min_quantity": "10", "max_quantity": "20", "reorder_point": "5"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "stock_levels_inconsistent"
    stock.refresh_from_db()
    assert (stock.min_quantity, stock.reorder_point) == (0, 0)


def test_clerk_moves_a_part_to_another_bin(api_as, parts_clerk, branch):
    stock = stocked(branch, PartFactory(), parts_clerk, 5, bin=BinFactory(branch=branch))
    place = BinFactory(branch=branch, zone="B", shelf="01", level="1")
    response = api_as(parts_clerk).post(f"{API}stock/{stock.pk}/bin/", {"bin": place.pk})
    assert response.status_code == 200, response.json()
    assert response.json()["bin_label"] == "B-01-1"


def test_a_bin_taken_by_another_part_is_a_conflict(api_as, parts_clerk, branch):
    # given a bin holding one part, and another part in its own bin
    taken = BinFactory(branch=branch)
    stocked(branch, PartFactory(number="06H905601A"), parts_clerk, 1, bin=taken)
    own = BinFactory(branch=branch)
    stock = stocked(branch, PartFactory(), parts_clerk, 1, bin=own)
    # when the second part is put in the taken bin
    response = api_as(parts_clerk).post(f"{API}stock/{stock.pk}/bin/", {"bin": taken.pk})
    # then it is refused, naming what the bin holds, and the part stays where it was
    assert response.status_code == 409
    assert response.json()["code"] == "bin_taken"
    assert "06H905601A" in response.json()["detail"]
    stock.refresh_from_db()
    assert stock.bin == own


def test_a_move_into_a_frozen_zone_is_refused(api_as, parts_clerk, branch):
    # given zone Z frozen for a stocktake, and a part kept in zone A
    stocked(branch, PartFactory(), parts_clerk, 3, bin=BinFactory(branch=branch, zone="Z"))
    services.stocktake_start(branch=branch, scope=StocktakeScope.ZONE, zone="Z", by=parts_clerk)
    own = BinFactory(branch=branch, zone="A")
    stock = stocked(branch, PartFactory(), parts_clerk, 1, bin=own)
    # when the part is moved into a free bin of zone Z
    target = BinFactory(branch=branch, zone="Z")
    response = api_as(parts_clerk).post(f"{API}stock/{stock.pk}/bin/", {"bin": target.pk})
    # then the frozen zone refuses it and nothing moved
    assert response.status_code == 409
    assert response.json()["code"] == "stocktake_frozen"
    stock.refresh_from_db()
    assert stock.bin == own


def test_advisor_reads_stock_but_cannot_set_levels(api_as, advisor, parts_clerk, branch):
    stock = stocked(branch, PartFactory(), parts_clerk, 5)
    client = api_as(advisor)
    assert client.get(f"{API}stock/{stock.pk}/").status_code == 200
    response = client.post(
        f"{API}stock/{stock.pk}/levels/",
        {"min_quantity": "1", "max_quantity": "2", "reorder_point": "1"},
    )
    assert response.status_code == 403


# --- the ledger ----------------------------------------------------------------------------


def test_the_ledger_pages_by_cursor_newest_first(api_as, parts_clerk, branch):
    # given three receipts of a part and an unrelated part's receipt
    part = PartFactory(number="06H905601A")
    for _ in range(3):
        stocked(branch, part, parts_clerk, 1)
    stocked(branch, PartFactory(number="000000000"), parts_clerk, 1)
    client = api_as(parts_clerk)
    # when the ledger is read two at a time for the part, then the next page
    first = client.get(f"{API}stock-moves/", {"search": "905601A", "limit": 2}).json()
    second = client.get(first["next"]).json()
    # then the pages hold the part's three moves newest first, without a count
    balances = [row["balance_after"] for row in first["results"] + second["results"]]
    assert balances == ["3.000", "2.000", "1.000"]
    assert "count" not in first and second["next"] is None


def test_the_ledger_filters_by_kind(api_as, parts_clerk, branch):
    part = PartFactory()
    stocked(branch, part, parts_clerk, 5)
    services.stock_move_post(
        branch=branch, part=part, kind=MoveKind.COUNTER_SALE, amount=Decimal(2), by=parts_clerk
    )
    response = api_as(parts_clerk).get(f"{API}stock-moves/", {"kind": "counter_sale"})
    assert [row["quantity"] for row in response.json()["results"]] == ["-2.000"]
    assert StockMove.objects.count() == 2


# --- figures -------------------------------------------------------------------------------


def test_parts_figures_count_the_fill_rate(api_as, branch_manager, parts_clerk, branch):
    # given one line issued from stock and one request lost this month
    part = PartFactory()
    stocked(branch, part, parts_clerk, 5)
    services.part_issue_create(
        branch=branch, kind=IssueKind.COUNTER_SALE,
        lines=[{"part": part, "quantity": Decimal(1)}], by=parts_clerk,
    )  # fmt: skip
    services.lost_sale_record(
        branch=branch, part=part, quantity=Decimal(1), asked_by="王", by=parts_clerk
    )
    # when the branch manager reads the figures
    response = api_as(branch_manager).get(
        f"{API}parts-figures/", {"start": TODAY.replace(day=1).isoformat(), "end": TODAY}
    )
    # then half the lines were served from stock
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["lines_requested"], body["lines_served"], body["fill_rate"]) == (2, 1, "0.500")
    assert body["stock_value"] == "250.00"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "昨天", "end": "2026-01-31"}, "start"),
        ({"start": "2026-02-01", "end": "2026-01-31"}, "end"),
        ({"start": "2020-01-01", "end": "2026-01-31"}, "end"),
        ({"start": "2026-01-01", "end": "2026-01-31", "branch": 999999}, "branch"),
    ],
    ids=["not-a-date", "end-before-start", "too-long", "unknown-branch"],
)
def test_bad_figures_query_names_the_field(api_as, branch_manager, query, field):
    response = api_as(branch_manager).get(f"{API}parts-figures/", query)
    assert response.status_code == 400
    assert field in response.json()


def test_figures_without_dates_are_this_month_to_today(api_as, branch_manager):
    response = api_as(branch_manager).get(f"{API}parts-figures/")

    assert response.status_code == 200
    body = response.json()
    assert (body["start"], body["end"]) == (TODAY.replace(day=1).isoformat(), TODAY.isoformat())


def test_figures_of_another_branch_are_refused(api_as, branch_manager, other_branch):
    response = api_as(branch_manager).get(
        f"{API}parts-figures/",
        {"start": "2026-01-01", "end": "2026-01-31", "branch": other_branch.pk},
    )
    assert response.status_code == 400 and "branch" in response.json()


def test_figures_cost_the_same_queries_whatever_the_stock(
    api_as, branch_manager, parts_clerk, branch, django_assert_max_num_queries
):
    query = {"start": TODAY.replace(day=1).isoformat(), "end": TODAY.isoformat()}
    stocked(branch, PartFactory(), parts_clerk, 5)
    with django_assert_max_num_queries(15) as few:
        api_as(branch_manager).get(f"{API}parts-figures/", query)
    for _ in range(10):
        stocked(branch, PartFactory(), parts_clerk, 5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api_as(branch_manager).get(f"{API}parts-figures/", query)
    assert response.status_code == 200
    assert PartStock.objects.count() == 11


def test_clerk_keeps_a_part_at_the_branch_through_the_api(api_as, parts_clerk, branch):
    # given a new part number
    part = PartFactory()
    # when the clerk starts keeping it, twice
    first = api_as(parts_clerk).post(f"/api/v1/parts/{part.pk}/stock/", {}, format="json")
    again = api_as(parts_clerk).post(f"/api/v1/parts/{part.pk}/stock/", {}, format="json")
    # then one stock row at zero exists at the clerk's branch
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert PartStock.objects.get(part=part).branch == branch
    assert first.json()["on_hand"] == "0.000"


def test_keeping_a_part_at_another_branch_is_refused(api_as, parts_clerk, other_branch):
    part = PartFactory()

    response = api_as(parts_clerk).post(
        f"/api/v1/parts/{part.pk}/stock/", {"branch": other_branch.pk}, format="json"
    )

    assert response.status_code == 400
    assert "branch" in response.json()
    assert not PartStock.objects.exists()
