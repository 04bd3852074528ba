"""The catalogue pages: part numbers with their stock and supersession chain, new and changed
parts, the replacement of an old number by a new one, and the suppliers. Refused rules are
shown beside the field and change nothing; the lists' queries do not grow with their rows."""

from decimal import Decimal
from functools import partial

import pytest
from django.conf import settings
from django.urls import reverse

from parts import services
from parts.choices import PartClass
from parts.models import Part, PartStock, Supplier
from tests.factories import BinFactory, PartFactory, SupplierFactory
from tests.parts import helpers

pytestmark = pytest.mark.django_db

NEW_PART = {
    "number": "5q0698151ab",
    "name": "前刹车片",
    "classification": PartClass.WEAR,
    "unit": "set",
    "fitting_models": "帕萨特 2019–2024",
    "price": "680.00",
    "supplier": "",
    "lead_time_days": "5",
}


# Deliveries in these tests come at 40 CNY on one purchase order.
receive = partial(helpers.receive, cost="40.00", document="PO00001")


# --- Rendering ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_catalogue_pages_render_for_the_parts_clerk_in_both_languages(
    client, parts_clerk, language
):
    part = PartFactory()
    supplier = SupplierFactory()
    client.force_login(parts_clerk)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for url in [
        reverse("parts:part-list"),
        reverse("parts:part-create"),
        reverse("parts:part-detail", args=[part.pk]),
        reverse("parts:part-edit", args=[part.pk]),
        reverse("parts:supplier-list"),
        reverse("parts:supplier-create"),
        reverse("parts:supplier-edit", args=[supplier.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'lang="{language}"' in response.content.decode(), url


def test_a_consultant_may_not_open_the_catalogue(client, consultant):
    part = PartFactory()
    supplier = SupplierFactory()
    client.force_login(consultant)
    for method, url in [
        ("get", reverse("parts:part-list")),
        ("get", reverse("parts:part-create")),
        ("get", reverse("parts:part-detail", args=[part.pk])),
        ("get", reverse("parts:part-edit", args=[part.pk])),
        ("post", reverse("parts:part-supersede", args=[part.pk])),
        ("get", reverse("parts:supplier-list")),
        ("get", reverse("parts:supplier-create")),
        ("get", reverse("parts:supplier-edit", args=[supplier.pk])),
    ]:
        assert getattr(client, method)(url).status_code == 403, url


def test_a_branch_manager_reads_the_catalogue_but_may_not_change_it(client, branch_manager):
    part = PartFactory()
    client.force_login(branch_manager)
    page = client.get(reverse("parts:part-detail", args=[part.pk])).content.decode()
    assert reverse("parts:part-edit", args=[part.pk]) not in page
    assert client.get(reverse("parts:part-edit", args=[part.pk])).status_code == 403


def test_an_unknown_part_is_not_found(client, parts_clerk):
    client.force_login(parts_clerk)
    assert client.get(reverse("parts:part-detail", args=[99999])).status_code == 404


# --- Part list ------------------------------------------------------------------------------


def test_searching_an_old_number_finds_the_number_that_replaced_it(client, parts_clerk):
    # given an old number replaced by a new one, and an unrelated part
    old = PartFactory(number="1K0698151A")
    new = PartFactory(number="1K0698151D", name="后刹车片")
    services.part_supersede(part=old, successor=new, by=parts_clerk)
    PartFactory(number="06J115403Q", name="机油滤清器")
    client.force_login(parts_clerk)
    # when the clerk searches the old number
    response = client.get(reverse("parts:part-list"), {"search": "151A"})
    # then both the old number and its replacement are listed
    assert {part.pk for part in response.context["page"]} == {old.pk, new.pk}
    assert "replaced by 1K0698151D" in response.content.decode()


def test_part_list_filters_by_classification_and_current_numbers(client, parts_clerk):
    wear = PartFactory(classification=PartClass.WEAR)
    accident = PartFactory(classification=PartClass.ACCIDENT)
    services.part_supersede(part=wear, successor=accident, by=parts_clerk)
    client.force_login(parts_clerk)

    def listed(**params) -> set[int]:
        return {p.pk for p in client.get(reverse("parts:part-list"), params).context["page"]}

    assert listed(classification=PartClass.ACCIDENT) == {accident.pk}
    assert listed(current="true") == {accident.pk}


def test_part_list_shows_on_hand_of_the_users_branches_only(
    client, parts_clerk, branch, other_branch
):
    # given 7 plugs here and 100 at the other branch
    part = PartFactory()
    receive(branch, part, parts_clerk, 7)
    receive(other_branch, part, parts_clerk, 100)
    client.force_login(parts_clerk)
    # then the clerk's list counts only the 7
    row = client.get(reverse("parts:part-list")).context["page"][0]
    assert row.on_hand_total == Decimal("7")


def test_part_list_sorts_by_price(client, parts_clerk):
    cheap = PartFactory(price=Decimal("10.00"))
    dear = PartFactory(price=Decimal("900.00"))
    client.force_login(parts_clerk)
    response = client.get(reverse("parts:part-list"), {"sort": "-price"})
    assert [p.pk for p in response.context["page"]] == [dear.pk, cheap.pk]


def test_an_empty_catalogue_says_so(client, parts_clerk):
    client.force_login(parts_clerk)
    assert (
        "No parts in the catalogue yet." in client.get(reverse("parts:part-list")).content.decode()
    )


@pytest.mark.parametrize(
    "params",
    [
        {"classification": "bogus", "page": "x", "sort": "-nonsense", "size": "7"},
        {"search": "%%%" * 100, "supplier": "abc", "current": "maybe"},
    ],
)
def test_bad_list_parameters_never_fail(client, parts_clerk, params):
    PartFactory()
    client.force_login(parts_clerk)
    assert client.get(reverse("parts:part-list"), params).status_code == 200
    assert client.get(reverse("parts:supplier-list"), params).status_code == 200


def test_list_queries_do_not_grow_with_the_rows(client, parts_clerk, branch, page_queries):
    client.force_login(parts_clerk)

    def add(count: int):
        for _index in range(count):
            old = PartFactory(supplier=SupplierFactory())
            services.part_supersede(part=old, successor=PartFactory(), by=parts_clerk)

    add(3)
    three = {
        url: page_queries(url)
        for url in [reverse("parts:part-list"), reverse("parts:supplier-list")]
    }
    add(10)
    assert {url: page_queries(url) for url in three} == three


# --- Part detail ----------------------------------------------------------------------------


def test_part_page_shows_stock_per_branch_the_chain_both_ways_and_recent_moves(
    client, parts_clerk, branch, other_branch
):
    # given a chain A → B → C, with B in stock here and at the other branch
    first = PartFactory(number="N000A")
    middle = PartFactory(number="N000B")
    last = PartFactory(number="N000C")
    services.part_supersede(part=first, successor=middle, by=parts_clerk)
    services.part_supersede(part=middle, successor=last, by=parts_clerk)
    bin_here = BinFactory(branch=branch, zone="C", shelf="07", level="3")
    services.bin_assign(branch=branch, part=middle, bin=bin_here, by=parts_clerk)
    receive(branch, middle, parts_clerk, 4)
    receive(other_branch, middle, parts_clerk, 9)
    client.force_login(parts_clerk)
    # when the clerk opens B
    response = client.get(reverse("parts:part-detail", args=[middle.pk]))
    page = response.content.decode()
    # then the old number and the new number are both linked
    assert [p.pk for p in response.context["predecessors"]] == [first.pk]
    assert [p.pk for p in response.context["successors"]] == [last.pk]
    assert reverse("parts:part-detail", args=[first.pk]) in page
    assert reverse("parts:part-detail", args=[last.pk]) in page
    # and only the clerk's branch stock is shown, with its bin and its move
    assert [s.branch_id for s in response.context["stocks"]] == [branch.pk]
    assert "C-07-3" in page
    assert [m.branch_id for m in response.context["moves"]] == [branch.pk]


def test_a_group_manager_sees_the_stock_of_every_branch(
    client, group_manager, parts_clerk, branch, other_branch
):
    part = PartFactory()
    receive(branch, part, parts_clerk, 1)
    receive(other_branch, part, parts_clerk, 2)
    client.force_login(group_manager)
    response = client.get(reverse("parts:part-detail", args=[part.pk]))
    assert {s.branch_id for s in response.context["stocks"]} == {branch.pk, other_branch.pk}


# --- Create, edit, supersede ----------------------------------------------------------------


def test_clerk_adds_a_part_and_its_number_is_stored_in_capitals(client, parts_clerk):
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:part-create"), NEW_PART)
    part = Part.objects.get(number="5Q0698151AB")
    assert response.status_code == 302
    assert response.url == reverse("parts:part-detail", args=[part.pk])
    assert (part.name, part.price, part.unit) == ("前刹车片", Decimal("680.00"), "set")


def test_a_known_number_is_refused_beside_the_number(client, parts_clerk):
    PartFactory(number="5Q0698151AB")
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:part-create"), NEW_PART)
    assert response.status_code == 200
    assert response.context["form"].errors["number"] == ["A part with this number already exists."]
    assert Part.objects.count() == 1


def test_a_negative_price_is_refused_beside_the_price(client, parts_clerk):
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:part-create"), {**NEW_PART, "price": "-1"})
    assert "price" in response.context["form"].errors
    assert not Part.objects.exists()


def test_clerk_edits_a_part_but_not_its_number(client, parts_clerk):
    part = PartFactory(number="06H905601A")
    supplier = SupplierFactory()
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:part-edit", args=[part.pk]),
        {**NEW_PART, "number": "CHANGED", "supplier": supplier.pk, "price": "70.00"},
    )
    assert response.status_code == 302
    part.refresh_from_db()
    assert (part.number, part.price, part.supplier) == ("06H905601A", Decimal("70.00"), supplier)
    # and the change is in the part's history on its page
    page = client.get(reverse("parts:part-detail", args=[part.pk])).content.decode()
    assert "65.00</del> → 70.00" in page


def test_clerk_replaces_an_old_number_by_a_new_one(client, parts_clerk):
    old = PartFactory()
    new = PartFactory(number="06H905601Z")
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:part-supersede", args=[old.pk]), {"superseded_by": "06h905601z"}
    )
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.superseded_by == new


def test_a_supersession_loop_is_refused_beside_the_new_number(client, parts_clerk):
    # given A replaced by B
    first = PartFactory()
    second = PartFactory()
    services.part_supersede(part=first, successor=second, by=parts_clerk)
    client.force_login(parts_clerk)
    # when B is to be replaced by A
    response = client.post(
        reverse("parts:part-supersede", args=[second.pk]), {"superseded_by": first.number}
    )
    # then it is refused beside the field and nothing changed
    assert response.status_code == 200
    errors = response.context["supersede_form"].errors["superseded_by"]
    assert errors == [f"{first.number} is itself replaced by {second.number}."]
    second.refresh_from_db()
    assert second.superseded_by is None


def test_an_unknown_new_number_is_refused(client, parts_clerk):
    part = PartFactory()
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:part-supersede", args=[part.pk]), {"superseded_by": "NOPE"}
    )
    assert response.context["supersede_form"].errors["superseded_by"] == [
        "No part with number NOPE in the catalogue."
    ]
    part.refresh_from_db()
    assert part.superseded_by is None


# --- Suppliers ------------------------------------------------------------------------------


def test_clerk_adds_and_edits_a_supplier(client, parts_clerk):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:supplier-create"),
        {
            "name": "广州配件有限公司",
            "contact": "李经理",
            "phone": "020-88886666",
            "lead_time_days": "3",
        },
    )
    assert response.status_code == 302
    supplier = Supplier.objects.get(name="广州配件有限公司")
    assert supplier.lead_time_days == 3
    response = client.post(
        reverse("parts:supplier-edit", args=[supplier.pk]),
        {"name": "广州配件有限公司", "contact": "王经理", "phone": "", "lead_time_days": "4"},
    )
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert (supplier.contact, supplier.lead_time_days) == ("王经理", 4)


def test_a_known_supplier_name_is_refused_beside_the_name(client, parts_clerk):
    SupplierFactory(name="上汽大众")
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:supplier-create"), {"name": "上汽大众", "lead_time_days": "7"}
    )
    assert "name" in response.context["form"].errors
    assert Supplier.objects.count() == 1


def test_supplier_list_searches_by_name(client, parts_clerk):
    wanted = SupplierFactory(name="博世汽车部件")
    SupplierFactory(name="马勒滤清器")
    client.force_login(parts_clerk)
    response = client.get(reverse("parts:supplier-list"), {"search": "博世"})
    assert [s.pk for s in response.context["page"]] == [wanted.pk]


def test_clerk_keeps_a_new_part_at_the_branch_and_sets_it_up(client, parts_clerk, branch):
    # given a new part number not kept at the clerk's branch
    part = PartFactory()
    client.force_login(parts_clerk)
    assert "Keep in stock at" in client.get(reverse("parts:part-detail", args=[part.pk])).text
    # when the clerk keeps it in stock there
    response = client.post(reverse("parts:part-stock-open", args=[part.pk]))
    # then its stock row exists at zero and the clerk lands on it to give a bin and levels
    stock = PartStock.objects.get(branch=branch, part=part)
    assert response.status_code == 302
    assert response["Location"] == reverse("parts:stock-detail", args=[stock.pk])
    assert "Keep in stock at" not in client.get(reverse("parts:part-detail", args=[part.pk])).text


def test_a_replaced_number_is_not_kept_and_the_page_says_why(client, parts_clerk):
    old, new = PartFactory(), PartFactory()
    services.part_supersede(part=old, successor=new, by=parts_clerk)
    client.force_login(parts_clerk)

    response = client.post(reverse("parts:part-stock-open", args=[old.pk]), follow=True)

    assert new.number in response.text
    assert not PartStock.objects.filter(part=old).exists()


def test_an_advisor_may_not_keep_a_part_in_stock(client, advisor):
    part = PartFactory()
    client.force_login(advisor)

    response = client.post(reverse("parts:part-stock-open", args=[part.pk]))

    assert response.status_code == 403
    assert not PartStock.objects.exists()
