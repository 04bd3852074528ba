"""Catalogue services: part numbers, supersession (旧号换新号), editable fields, stock levels and
bins (一个零件号一个货位)."""

from decimal import Decimal
from functools import partial

import pytest
from django.core.exceptions import ValidationError

from dealer_crm.errors import StateConflict
from parts import services
from parts.choices import PartClass, StocktakeScope
from parts.models import Bin, Part, PartStock
from tests.factories import BinFactory, PartFactory, SupplierFactory
from tests.parts import helpers
from tests.parts.helpers import fresh, refusal, set_levels

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

# Deliveries in these tests name a document.
receive = partial(helpers.receive, document="PO-TEST")


def part_data(**overrides) -> dict:
    data = {
        "number": "l06h905601a",
        "name": "火花塞",
        "classification": PartClass.WEAR,
        "unit": "piece",
        "price": Decimal("65.00"),
    }
    return {**data, **overrides}


# --- part numbers --------------------------------------------------------------------------


def test_a_part_number_is_stored_trimmed_and_upper_cased(parts_clerk):
    part = services.part_create(by=parts_clerk, data=part_data(number="  l06h905601a "))

    assert fresh(part).number == "L06H905601A"


def test_a_part_number_is_unique_whatever_its_case(parts_clerk):
    # given L06H905601A in the catalogue
    services.part_create(by=parts_clerk, data=part_data(number="L06H905601A"))
    # when the same number is typed in lower case
    with pytest.raises(ValidationError) as refused:
        services.part_create(by=parts_clerk, data=part_data(number="l06h905601a", name="别的"))
    # then it is refused on the number, and the catalogue still holds one part
    assert "number" in refused.value.message_dict
    assert Part.objects.filter(number="L06H905601A").count() == 1
    assert not Part.objects.filter(name="别的").exists()


def test_a_new_part_keeps_its_history_author(parts_clerk):
    part = services.part_create(by=parts_clerk, data=part_data())

    assert part.history.first().history_user == parts_clerk


# --- supersession --------------------------------------------------------------------------


def test_part_current_of_a_part_not_replaced_is_the_part_itself():
    part = PartFactory()

    assert services.part_current(part) == part


def test_part_current_follows_the_chain_to_the_newest_number(parts_clerk):
    # given 3 numbers, each replaced by the next
    old, newer, newest = PartFactory(), PartFactory(), PartFactory()
    services.part_supersede(part=old, successor=newer, by=parts_clerk)
    services.part_supersede(part=newer, successor=newest, by=parts_clerk)
    # then the old and the middle number both lead to the newest, and the newest is itself
    assert services.part_current(old) == newest
    assert services.part_current(newer) == newest
    assert services.part_current(newest) == newest


def test_a_part_cannot_replace_itself(parts_clerk):
    part = PartFactory()

    error = refusal(lambda: services.part_supersede(part=part, successor=part, by=parts_clerk))

    assert error.code == "supersession_loop"
    assert fresh(part).superseded_by is None


def test_a_supersession_loop_through_a_chain_is_refused_and_nothing_changes(parts_clerk):
    # given old → middle → newest
    old, middle, newest = PartFactory(), PartFactory(), PartFactory()
    services.part_supersede(part=old, successor=middle, by=parts_clerk)
    services.part_supersede(part=middle, successor=newest, by=parts_clerk)
    # when the newest is said to be replaced by the old number
    error = refusal(lambda: services.part_supersede(part=newest, successor=old, by=parts_clerk))
    # then it is refused, naming both numbers, and the newest is still the end of the chain
    assert error.code == "supersession_loop"
    assert error.field == "superseded_by"
    assert newest.number in str(error.message) and old.number in str(error.message)
    assert fresh(newest).superseded_by is None
    assert services.part_current(old) == newest


def test_a_chain_stored_in_a_circle_is_reported_not_followed_forever():
    # given a loop written straight to the database, past the service
    first, second = PartFactory(), PartFactory()
    Part.objects.filter(pk=first.pk).update(superseded_by=second)
    Part.objects.filter(pk=second.pk).update(superseded_by=first)
    # when its current number is asked for, then it is refused rather than looping
    assert refusal(lambda: services.part_current(first)).code == "supersession_loop"


# --- editing a part ------------------------------------------------------------------------


def test_part_update_changes_the_editable_fields(parts_clerk):
    part, supplier = PartFactory(), SupplierFactory()

    services.part_update(
        part=part,
        by=parts_clerk,
        data={"name": "火花塞(铱金)", "price": Decimal("88.00"), "supplier": supplier},
    )

    part = fresh(part)
    assert (part.name, part.price, part.supplier) == ("火花塞(铱金)", Decimal("88.00"), supplier)
    assert part.history.first().history_user == parts_clerk


@pytest.mark.parametrize("field", ["number", "superseded_by"])
def test_part_update_refuses_a_field_that_is_not_editable(parts_clerk, field):
    # given a part, and another one to point at
    part, other = PartFactory(name="火花塞"), PartFactory()
    value = "NEW-NUMBER" if field == "number" else other
    # when the number or the successor is changed through an edit, with a new name alongside
    error = refusal(
        lambda: services.part_update(
            part=part, by=parts_clerk, data={"name": "改过的名字", field: value}
        )
    )
    # then it is refused on that field and nothing changed, not even the name
    assert (error.code, error.field) == ("field_not_editable", field)
    part_now = fresh(part)
    assert (part_now.number, part_now.name, part_now.superseded_by) == (part.number, "火花塞", None)


# --- stock levels --------------------------------------------------------------------------


def test_stock_levels_are_kept_when_min_reorder_point_and_max_are_in_order(branch, parts_clerk):
    part = PartFactory()

    set_levels(branch, part, parts_clerk, 2, 5, 20)

    held = PartStock.objects.get(branch=branch, part=part)
    assert (held.min_quantity, held.reorder_point, held.max_quantity) == (2, 5, 20)


@pytest.mark.parametrize(
    ("minimum", "reorder_point", "maximum", "code"),
    [
        (6, 5, 20, "stock_levels_inconsistent"),  # minimum above the reorder point
        (2, 25, 20, "stock_levels_inconsistent"),  # reorder point above the maximum
        (6, 5, 0, "stock_levels_inconsistent"),  # no maximum, but the minimum is above
        (-1, 5, 20, "quantity_negative"),
        (2, -5, 20, "quantity_negative"),
        (2, 5, -20, "quantity_negative"),
    ],
)
def test_inconsistent_or_negative_stock_levels_are_refused_and_nothing_changes(
    branch, parts_clerk, minimum, reorder_point, maximum, code
):
    # given levels 2 / 5 / 20
    part = PartFactory()
    set_levels(branch, part, parts_clerk, 2, 5, 20)
    # when they are set out of order or below zero
    error = refusal(lambda: set_levels(branch, part, parts_clerk, minimum, reorder_point, maximum))
    # then it is refused and the levels stay
    assert error.code == code
    held = PartStock.objects.get(branch=branch, part=part)
    assert (held.min_quantity, held.reorder_point, held.max_quantity) == (2, 5, 20)


def test_a_maximum_of_zero_means_no_maximum(branch, parts_clerk):
    part = PartFactory()

    set_levels(branch, part, parts_clerk, 2, 50, 0)

    assert PartStock.objects.get(branch=branch, part=part).reorder_point == 50


def test_stock_levels_are_per_branch(branch, other_branch, parts_clerk):
    part = PartFactory()

    set_levels(branch, part, parts_clerk, 2, 5, 20)
    set_levels(other_branch, part, parts_clerk, 0, 1, 3)

    assert PartStock.objects.get(branch=branch, part=part).max_quantity == 20
    assert PartStock.objects.get(branch=other_branch, part=part).max_quantity == 3


# --- bins ----------------------------------------------------------------------------------


def test_a_new_bin_is_stored_upper_cased(branch, parts_clerk):
    place = services.bin_create(
        branch=branch, by=parts_clerk, data={"zone": " a ", "shelf": "03", "level": "2"}
    )

    assert str(fresh(place)) == "A-03-2"


def test_the_same_bin_twice_in_a_branch_is_refused(branch, other_branch, parts_clerk):
    services.bin_create(
        branch=branch, by=parts_clerk, data={"zone": "A", "shelf": "03", "level": "2"}
    )
    with pytest.raises(ValidationError):
        services.bin_create(
            branch=branch, by=parts_clerk, data={"zone": "a", "shelf": "03", "level": "2"}
        )
    # the same place in another branch is another bin
    services.bin_create(
        branch=other_branch, by=parts_clerk, data={"zone": "A", "shelf": "03", "level": "2"}
    )
    assert Bin.objects.filter(zone="A", shelf="03", level="2").count() == 2


def test_a_part_has_one_bin_per_branch_a_second_bin_moves_it(branch, parts_clerk):
    # given a plug in A-01
    part = PartFactory()
    first, second = BinFactory(branch=branch), BinFactory(branch=branch)
    services.bin_assign(branch=branch, part=part, bin=first, by=parts_clerk)
    # when it is given another bin
    services.bin_assign(branch=branch, part=part, bin=second, by=parts_clerk)
    # then it is in the second only, and the first is free for another part
    assert PartStock.objects.filter(branch=branch, part=part).count() == 1
    assert PartStock.objects.get(branch=branch, part=part).bin == second
    other = services.bin_assign(branch=branch, part=PartFactory(), bin=first, by=parts_clerk)
    assert other.bin == first


def test_the_same_part_has_its_own_bin_in_each_branch(branch, other_branch, parts_clerk):
    part = PartFactory()
    here, there = BinFactory(branch=branch), BinFactory(branch=other_branch)

    services.bin_assign(branch=branch, part=part, bin=here, by=parts_clerk)
    services.bin_assign(branch=other_branch, part=part, bin=there, by=parts_clerk)

    assert PartStock.objects.get(branch=branch, part=part).bin == here
    assert PartStock.objects.get(branch=other_branch, part=part).bin == there


def test_a_bin_holding_another_part_is_refused_and_nothing_changes(branch, parts_clerk):
    # given a plug in one bin and a filter in another
    plug, oil_filter = PartFactory(), PartFactory(name="机油滤清器")
    plug_bin, filter_bin = BinFactory(branch=branch), BinFactory(branch=branch)
    services.bin_assign(branch=branch, part=plug, bin=plug_bin, by=parts_clerk)
    services.bin_assign(branch=branch, part=oil_filter, bin=filter_bin, by=parts_clerk)
    # when the filter is moved into the plug's bin
    error = refusal(
        lambda: services.bin_assign(branch=branch, part=oil_filter, bin=plug_bin, by=parts_clerk)
    )
    # then it is refused naming what the bin holds, and both stay where they were
    assert isinstance(error, StateConflict)
    assert (error.code, error.field) == ("bin_taken", "bin")
    assert plug.number in str(error.message)
    assert PartStock.objects.get(branch=branch, part=plug).bin == plug_bin
    assert PartStock.objects.get(branch=branch, part=oil_filter).bin == filter_bin


def test_a_bin_of_another_branch_is_refused_and_no_stock_row_is_made(
    branch, other_branch, parts_clerk
):
    part = PartFactory()

    error = refusal(
        lambda: services.bin_assign(
            branch=branch, part=part, bin=BinFactory(branch=other_branch), by=parts_clerk
        )
    )

    assert error.code == "bin_other_branch"
    assert not PartStock.objects.filter(part=part).exists()


def test_a_bin_move_is_logged_in_the_stock_rows_history(branch, parts_clerk):
    part = PartFactory()
    first = BinFactory(branch=branch, zone="A", shelf="01", level="1")
    second = BinFactory(branch=branch, zone="B", shelf="02", level="3")

    services.bin_assign(branch=branch, part=part, bin=first, by=parts_clerk)
    services.bin_assign(branch=branch, part=part, bin=second, by=parts_clerk)

    reasons = list(
        PartStock.objects.get(branch=branch, part=part)
        .history.order_by("history_id")
        .values_list("history_change_reason", "history_user")
    )
    assert ("bin — → A-01-1", parts_clerk.pk) in reasons
    assert reasons[-1] == ("bin A-01-1 → B-02-3", parts_clerk.pk)


def test_assigning_the_bin_a_part_is_already_in_changes_nothing(branch, parts_clerk):
    part, place = PartFactory(), BinFactory(branch=branch)
    stock = services.bin_assign(branch=branch, part=part, bin=place, by=parts_clerk)
    versions = stock.history.count()

    services.bin_assign(branch=branch, part=part, bin=place, by=parts_clerk)

    assert stock.history.count() == versions


def test_a_bin_move_out_of_a_frozen_zone_is_refused(branch, parts_clerk):
    # given a plug on hand in zone A, and zone A frozen for a stocktake
    part = PartFactory()
    in_a, in_b = BinFactory(branch=branch, zone="A"), BinFactory(branch=branch, zone="B")
    services.bin_assign(branch=branch, part=part, bin=in_a, by=parts_clerk)
    receive(branch, part, parts_clerk, 5)
    stocktake = services.stocktake_start(
        branch=branch, scope=StocktakeScope.ZONE, zone="A", by=parts_clerk
    )
    # when it is moved to zone B
    error = refusal(lambda: services.bin_assign(branch=branch, part=part, bin=in_b, by=parts_clerk))
    # then it is refused naming the stocktake, and it stays in zone A
    assert error.code == "stocktake_frozen"
    assert stocktake.number in str(error.message)
    assert PartStock.objects.get(branch=branch, part=part).bin == in_a


def test_a_bin_move_into_a_frozen_zone_is_refused(branch, parts_clerk):
    # given a plug in zone B, and zone A frozen (it has stock of another part)
    part, counted_part = PartFactory(), PartFactory()
    in_a, other_in_a = BinFactory(branch=branch, zone="A"), BinFactory(branch=branch, zone="A")
    in_b = BinFactory(branch=branch, zone="B")
    services.bin_assign(branch=branch, part=counted_part, bin=in_a, by=parts_clerk)
    services.bin_assign(branch=branch, part=part, bin=in_b, by=parts_clerk)
    stocktake = services.stocktake_start(
        branch=branch, scope=StocktakeScope.ZONE, zone="A", by=parts_clerk
    )
    # when the plug is moved into zone A
    error = refusal(
        lambda: services.bin_assign(branch=branch, part=part, bin=other_in_a, by=parts_clerk)
    )
    # then it is refused naming the stocktake, and the plug stays in zone B
    assert error.code == "stocktake_frozen"
    assert stocktake.number in str(error.message)
    assert PartStock.objects.get(branch=branch, part=part).bin == in_b


def test_bins_outside_a_frozen_zone_still_move(branch, parts_clerk):
    part, counted_part = PartFactory(), PartFactory()
    services.bin_assign(
        branch=branch, part=counted_part, bin=BinFactory(branch=branch, zone="A"), by=parts_clerk
    )
    services.stocktake_start(branch=branch, scope=StocktakeScope.ZONE, zone="A", by=parts_clerk)
    target = BinFactory(branch=branch, zone="C")

    services.bin_assign(branch=branch, part=part, bin=target, by=parts_clerk)

    assert PartStock.objects.get(branch=branch, part=part).bin == target


def test_the_ledger_is_untouched_by_catalogue_changes(branch, parts_clerk):
    part = PartFactory()
    receive(branch, part, parts_clerk, 4)
    services.bin_assign(branch=branch, part=part, bin=BinFactory(branch=branch), by=parts_clerk)
    set_levels(branch, part, parts_clerk, 1, 2, 10)

    assert helpers.ledger_total(branch, part) == helpers.stock(branch, part).on_hand == 4


# --- suppliers -----------------------------------------------------------------------------


def test_a_supplier_is_created_and_updated_with_its_author(parts_clerk):
    supplier = services.supplier_create(
        by=parts_clerk, data={"name": "广州骏达配件", "lead_time_days": 5}
    )

    services.supplier_update(supplier=supplier, by=parts_clerk, data={"lead_time_days": 3})

    supplier = fresh(supplier)
    assert supplier.lead_time_days == 3
    assert supplier.history.first().history_user == parts_clerk


def test_a_supplier_name_is_unique(parts_clerk):
    services.supplier_create(by=parts_clerk, data={"name": "广州骏达配件"})

    with pytest.raises(ValidationError):
        services.supplier_create(by=parts_clerk, data={"name": "广州骏达配件"})


def test_a_part_is_kept_at_a_branch_before_its_first_delivery(branch, parts_clerk):
    # given a new part number never stocked at the branch
    part = PartFactory()
    # when the clerk starts keeping it there
    stock = services.stock_open(branch=branch, part=part, by=parts_clerk)
    # then its stock row is at zero, ready for levels; opening it again changes nothing
    assert (stock.on_hand, stock.reserved, stock.bin) == (0, 0, None)
    assert services.stock_open(branch=branch, part=part, by=parts_clerk).pk == stock.pk
    assert PartStock.objects.filter(part=part).count() == 1


def test_a_replaced_number_is_not_taken_into_stock(branch, parts_clerk):
    # given an old number replaced by a new one
    old, new = PartFactory(), PartFactory()
    services.part_supersede(part=old, successor=new, by=parts_clerk)
    # when the clerk tries to keep the old number
    error = refusal(lambda: services.stock_open(branch=branch, part=old, by=parts_clerk))
    # then it is refused, naming the new number, and nothing is created
    assert error.code == "part_superseded"
    assert new.number in str(error.message)
    assert not PartStock.objects.filter(part=old).exists()
