"""The stock pages: each branch's stock of a part with its levels and bin, the bin map a clerk
finds parts by, and the ledger of stock moves. Refused rules are shown and change nothing;
other branches' stock is 404; the lists' queries do not grow with their rows."""

from decimal import Decimal
from functools import partial

import pytest
from django.conf import settings
from django.urls import reverse

from parts import services
from parts.choices import MoveKind, PartClass
from parts.models import Bin, PartStock
from tests.factories import BinFactory, PartFactory
from tests.parts import helpers

pytestmark = pytest.mark.django_db


def receive(branch, part, clerk, amount, cost="40.00", document="PO00001") -> PartStock:
    """`amount` of `part` received at `cost`: the part's stock row at the branch."""
    helpers.receive(branch, part, clerk, amount, cost, document=document)
    return PartStock.objects.get(branch=branch, part=part)


# Counter sales in these tests name their voucher.
sell = partial(helpers.take, kind=MoveKind.COUNTER_SALE, document="IV00001", reason="柜台销售")


@pytest.fixture
def stock(branch, parts_clerk):
    return receive(branch, PartFactory(), parts_clerk, 10)


@pytest.fixture
def other_stock(other_branch, parts_clerk):
    return receive(other_branch, PartFactory(), parts_clerk, 3)


# --- Rendering and access -----------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_stock_pages_render_for_the_parts_clerk_in_both_languages(
    client, parts_clerk, stock, language
):
    BinFactory(branch=stock.branch)
    client.force_login(parts_clerk)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for url in [
        reverse("parts:stock-list"),
        reverse("parts:stock-detail", args=[stock.pk]),
        reverse("parts:bin-map"),
        reverse("parts:move-list"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'lang="{language}"' in response.content.decode(), url


def test_a_consultant_may_not_see_or_change_stock(client, consultant, stock):
    client.force_login(consultant)
    for method, url in [
        ("get", reverse("parts:stock-list")),
        ("get", reverse("parts:stock-detail", args=[stock.pk])),
        ("post", reverse("parts:stock-levels", args=[stock.pk])),
        ("post", reverse("parts:stock-bin", args=[stock.pk])),
        ("get", reverse("parts:bin-map")),
        ("post", reverse("parts:bin-create")),
        ("get", reverse("parts:move-list")),
    ]:
        assert getattr(client, method)(url).status_code == 403, url


def test_a_branch_manager_reads_stock_but_may_not_change_it(client, branch_manager, stock):
    client.force_login(branch_manager)
    page = client.get(reverse("parts:stock-detail", args=[stock.pk])).content.decode()
    assert 'id="bin-panel"' not in page
    assert 'id="stock-levels-save"' not in page
    response = client.post(
        reverse("parts:stock-levels", args=[stock.pk]),
        {"min_quantity": "1", "reorder_point": "2", "max_quantity": "3"},
    )
    assert response.status_code == 403


def test_another_branch_stock_is_not_found(client, parts_clerk, other_stock, other_branch):
    free = BinFactory(branch=other_branch)
    client.force_login(parts_clerk)
    assert client.get(reverse("parts:stock-detail", args=[other_stock.pk])).status_code == 404
    response = client.post(
        reverse("parts:stock-levels", args=[other_stock.pk]),
        {"min_quantity": "1", "reorder_point": "2", "max_quantity": "3"},
    )
    assert response.status_code == 404
    response = client.post(reverse("parts:stock-bin", args=[other_stock.pk]), {"bin": free.pk})
    assert response.status_code == 404
    other_stock.refresh_from_db()
    assert (other_stock.reorder_point, other_stock.bin) == (Decimal("0"), None)


# --- Stock list -----------------------------------------------------------------------------


def test_stock_list_shows_quantities_value_and_highlights_what_to_reorder(
    client, parts_clerk, branch
):
    # given a plug at its reorder point and oil well above it
    plug = receive(branch, PartFactory(number="PLUG1"), parts_clerk, 4, cost="25.00")
    helpers.set_levels(branch, plug.part, parts_clerk, 2, 5, 20)
    oil = receive(branch, PartFactory(number="OIL01", unit="litre"), parts_clerk, 50)
    client.force_login(parts_clerk)
    response = client.get(reverse("parts:stock-list"))
    page = response.content.decode()
    rows = {row.part.number: row for row in response.context["page"]}
    # then value and available are computed, and only the plug's row is highlighted
    assert rows["PLUG1"].stock_value == Decimal("100.00")
    assert rows["PLUG1"].available_quantity == Decimal("4")
    assert page.count('data-to-reorder="1"') == 1
    assert reverse("parts:stock-detail", args=[oil.pk]) in page


def test_stock_list_filters(client, parts_clerk, branch):
    zone_b = BinFactory(branch=branch, zone="B")
    binned = receive(branch, PartFactory(classification=PartClass.ACCIDENT), parts_clerk, 2)
    services.bin_assign(branch=branch, part=binned.part, bin=zone_b, by=parts_clerk)
    loose = receive(branch, PartFactory(), parts_clerk, 1)
    sell(branch, loose.part, parts_clerk, 1)
    low = receive(branch, PartFactory(), parts_clerk, 1)
    helpers.set_levels(branch, low.part, parts_clerk, 0, 3, 0)
    client.force_login(parts_clerk)

    def listed(**params) -> set[int]:
        return {s.pk for s in client.get(reverse("parts:stock-list"), params).context["page"]}

    assert listed(zone="B") == {binned.pk}
    assert listed(classification=PartClass.ACCIDENT) == {binned.pk}
    assert listed(to_reorder="true") == {low.pk}
    assert listed(in_stock="true") == {binned.pk, low.pk}
    assert listed(no_bin="true") == {loose.pk, low.pk}
    assert listed(search=binned.part.number) == {binned.pk}


def test_stock_list_shows_only_the_users_branches(client, parts_clerk, stock, other_stock):
    client.force_login(parts_clerk)
    response = client.get(reverse("parts:stock-list"))
    assert [s.pk for s in response.context["page"]] == [stock.pk]


def test_stock_list_sorts_by_value(client, parts_clerk, branch):
    small = receive(branch, PartFactory(), parts_clerk, 1, cost="10.00")
    large = receive(branch, PartFactory(), parts_clerk, 10, cost="90.00")
    client.force_login(parts_clerk)
    response = client.get(reverse("parts:stock-list"), {"sort": "-value"})
    assert [s.pk for s in response.context["page"]] == [large.pk, small.pk]


def test_an_empty_stock_list_says_so(client, parts_clerk):
    client.force_login(parts_clerk)
    page = client.get(reverse("parts:stock-list")).content.decode()
    assert "Nothing in stock yet" in page


# --- Stock detail ---------------------------------------------------------------------------


def test_stock_page_shows_the_rows_moves_and_history(client, parts_clerk, stock):
    sell(stock.branch, stock.part, parts_clerk, 3)
    client.force_login(parts_clerk)
    response = client.get(reverse("parts:stock-detail", args=[stock.pk]))
    page = response.content.decode()
    assert [m.quantity for m in response.context["moves"]] == [Decimal("-3"), Decimal("10")]
    assert "柜台销售" in page
    assert response.context["history"]


def test_clerk_sets_the_stock_levels(client, parts_clerk, stock):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:stock-levels", args=[stock.pk]),
        {"min_quantity": "2", "reorder_point": "5", "max_quantity": "20"},
    )
    assert response.status_code == 302
    stock.refresh_from_db()
    assert (stock.min_quantity, stock.reorder_point, stock.max_quantity) == (
        Decimal("2"),
        Decimal("5"),
        Decimal("20"),
    )


def test_a_reorder_point_above_the_maximum_is_refused_beside_it(client, parts_clerk, stock):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:stock-levels", args=[stock.pk]),
        {"min_quantity": "2", "reorder_point": "50", "max_quantity": "20"},
    )
    assert response.status_code == 200
    assert response.context["levels_form"].errors["reorder_point"] == [
        "The reorder point lies between the minimum and the maximum."
    ]
    stock.refresh_from_db()
    assert stock.reorder_point == Decimal("0")


def test_negative_levels_are_refused_on_the_page(client, parts_clerk, stock):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:stock-levels", args=[stock.pk]),
        {"min_quantity": "-1", "reorder_point": "0", "max_quantity": "0"},
    )
    assert "Stock levels cannot be negative." in response.content.decode()
    stock.refresh_from_db()
    assert stock.min_quantity == Decimal("0")


def test_clerk_puts_a_part_in_a_free_bin_and_moves_it(client, parts_clerk, stock):
    first = BinFactory(branch=stock.branch, zone="A", shelf="01", level="1")
    second = BinFactory(branch=stock.branch, zone="A", shelf="01", level="2")
    client.force_login(parts_clerk)
    assert (
        client.post(reverse("parts:stock-bin", args=[stock.pk]), {"bin": first.pk}).status_code
        == 302
    )
    stock.refresh_from_db()
    assert stock.bin == first
    assert (
        client.post(reverse("parts:stock-bin", args=[stock.pk]), {"bin": second.pk}).status_code
        == 302
    )
    stock.refresh_from_db()
    assert stock.bin == second


def test_a_taken_bin_is_refused_and_names_what_it_holds(client, parts_clerk, stock, branch):
    # given bin A-09-1 holding another part
    place = BinFactory(branch=branch, zone="A", shelf="09", level="1")
    holder = receive(branch, PartFactory(number="HOLDER1", name="空气滤芯"), parts_clerk, 1)
    services.bin_assign(branch=branch, part=holder.part, bin=place, by=parts_clerk)
    client.force_login(parts_clerk)
    # when the clerk chooses it for this part
    response = client.post(reverse("parts:stock-bin", args=[stock.pk]), {"bin": place.pk})
    # then it is refused beside the bin and nothing moved
    assert response.status_code == 200
    assert response.context["bin_form"].errors["bin"] == [
        "Bin A-09-1 already holds HOLDER1 空气滤芯."
    ]
    assert "HOLDER1" in response.content.decode()
    stock.refresh_from_db()
    assert stock.bin is None


def test_a_bin_of_another_branch_cannot_be_chosen(client, parts_clerk, stock, other_branch):
    foreign = BinFactory(branch=other_branch)
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:stock-bin", args=[stock.pk]), {"bin": foreign.pk})
    assert "bin" in response.context["bin_form"].errors
    stock.refresh_from_db()
    assert stock.bin is None


# --- Bin map --------------------------------------------------------------------------------


def test_bin_map_shows_zones_shelves_and_what_each_bin_holds(
    client, parts_clerk, branch, other_branch, stock
):
    held = BinFactory(branch=branch, zone="A", shelf="01", level="1")
    BinFactory(branch=branch, zone="A", shelf="01", level="2")
    BinFactory(branch=branch, zone="B", shelf="04", level="1")
    BinFactory(branch=other_branch, zone="Z", shelf="99", level="9")
    services.bin_assign(branch=branch, part=stock.part, bin=held, by=parts_clerk)
    client.force_login(parts_clerk)
    response = client.get(reverse("parts:bin-map"))
    page = response.content.decode()
    assert [zone for zone, _shelves in response.context["zones"]] == ["A", "B"]
    assert (response.context["bin_count"], response.context["free_count"]) == (3, 2)
    assert reverse("parts:stock-detail", args=[stock.pk]) in page
    assert stock.part.number in page
    assert "Z-99-9" not in page


def test_an_empty_bin_map_says_so(client, parts_clerk):
    client.force_login(parts_clerk)
    assert 'id="bin-map-empty"' in client.get(reverse("parts:bin-map")).content.decode()


def test_clerk_adds_a_bin_at_the_working_branch(client, parts_clerk, branch):
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:bin-create"), {"zone": "c", "shelf": "02", "level": "3"})
    assert response.status_code == 302
    assert Bin.objects.filter(branch=branch, zone="C", shelf="02", level="3").exists()


def test_a_bin_that_exists_is_refused(client, parts_clerk, branch):
    BinFactory(branch=branch, zone="C", shelf="02", level="3")
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:bin-create"), {"zone": "C", "shelf": "02", "level": "3"})
    assert response.status_code == 200
    assert "This bin already exists." in response.content.decode()
    assert Bin.objects.filter(branch=branch).count() == 1


def test_a_bin_without_a_level_is_refused_beside_it(client, parts_clerk, branch):
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:bin-create"), {"zone": "C", "shelf": "02"})
    assert "level" in response.context["bin_form"].errors
    assert not Bin.objects.exists()


# --- Ledger ---------------------------------------------------------------------------------


def test_ledger_lists_newest_first_with_who_why_and_balance(client, parts_clerk, stock):
    sell(stock.branch, stock.part, parts_clerk, 4)
    client.force_login(parts_clerk)
    response = client.get(reverse("parts:move-list"))
    moves = list(response.context["page"])
    assert [(m.quantity, m.balance_after) for m in moves] == [
        (Decimal("-4"), Decimal("6")),
        (Decimal("10"), Decimal("10")),
    ]
    assert "柜台销售" in response.content.decode()


def test_ledger_filters_by_kind_part_number_and_document(
    client, parts_clerk, stock, other_stock, branch
):
    sell(branch, stock.part, parts_clerk, 1)
    other = receive(branch, PartFactory(), parts_clerk, 2, document="PO00077")
    client.force_login(parts_clerk)

    def listed(**params) -> list[tuple]:
        response = client.get(reverse("parts:move-list"), params)
        return [(m.part_id, m.kind) for m in response.context["page"]]

    assert listed(kind=MoveKind.COUNTER_SALE) == [(stock.part_id, MoveKind.COUNTER_SALE)]
    assert listed(part_number=other.part.number.lower()) == [(other.part_id, MoveKind.RECEIPT)]
    assert listed(document="00077") == [(other.part_id, MoveKind.RECEIPT)]
    # and another branch's moves never show
    assert other_stock.part_id not in {part for part, _kind in listed()}


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "bogus", "since": "yesterday", "page": "x", "sort": "-nonsense"},
        {"to_reorder": "maybe", "zone": "x" * 300, "size": "7", "branch": "abc"},
    ],
)
def test_bad_list_parameters_never_fail(client, parts_clerk, stock, params):
    client.force_login(parts_clerk)
    for url in [reverse("parts:stock-list"), reverse("parts:move-list")]:
        assert client.get(url, params).status_code == 200, url


def test_list_queries_do_not_grow_with_the_rows(client, parts_clerk, branch, page_queries):
    client.force_login(parts_clerk)
    urls = [reverse("parts:stock-list"), reverse("parts:move-list"), reverse("parts:bin-map")]

    def add(count: int):
        for _index in range(count):
            stock = receive(branch, PartFactory(), parts_clerk, 5)
            sell(branch, stock.part, parts_clerk, 1)
            services.bin_assign(
                branch=branch, part=stock.part, bin=BinFactory(branch=branch), by=parts_clerk
            )

    add(3)
    three = {url: page_queries(url) for url in urls}
    add(10)
    assert {url: page_queries(url) for url in urls} == three
