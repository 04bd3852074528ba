"""The purchase order and receiving pages: an order drafted with its lines, placed, cancelled
or closed short; the checklist filled at the dock (验收单); the put-away to free bins and the
registration that books the parts into stock; the printed receipt. Refused rules show their
message beside the right field and change nothing; other branches' documents are 404; the
lists' queries do not grow with their rows."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from parts import services
from parts.choices import OrderKind, PurchaseOrderStatus, ReceiptStatus
from parts.models import PartStock, PurchaseOrder, Receipt, StockMove
from tests.factories import BinFactory, PartFactory, SupplierFactory
from tests.factories.parts import draft_purchase_order, placed_purchase_order
from tests.parts.helpers import checked

pytestmark = pytest.mark.django_db


@pytest.fixture
def plug():
    return PartFactory(number="101905617C", name="火花塞")


@pytest.fixture
def filter_part():
    return PartFactory(number="06L115562B", name="机油滤清器")


@pytest.fixture
def order(branch, parts_clerk, plug, filter_part):
    return placed_purchase_order(
        branch, parts_clerk, [(plug, 10, "30.00"), (filter_part, 4, "45.00")]
    )


@pytest.fixture
def other_order(other_branch, parts_clerk, plug):
    return placed_purchase_order(other_branch, parts_clerk, [(plug, 2, "30.00")])


def checklist(order, **overrides) -> dict:
    """The dock checklist with every outstanding line counted in full and ticked."""
    data = {
        "delivery_note": "SD-2026-0415",
        "boxes_expected": "2",
        "boxes_counted": "2",
        "packaging_intact": "yes",
        "packaging_note": "",
        "note": "",
    }
    for line in order.lines.all():
        data[f"line-{line.pk}-received_quantity"] = str(line.outstanding.normalize())
        data[f"line-{line.pk}-damaged_quantity"] = "0"
        data[f"line-{line.pk}-note"] = ""
        data[f"line-{line.pk}-checked"] = "on"
    data.update(overrides)
    return data


def line_of(order, part):
    return order.lines.get(part=part)


# --- Rendering and access -----------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_receiving_pages_render_for_the_parts_clerk_in_both_languages(
    client, parts_clerk, order, plug, filter_part, language
):
    receipt = checked(order, parts_clerk, {plug: (10, 0), filter_part: (4, 0)})
    client.force_login(parts_clerk)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for url in [
        reverse("parts:purchase-order-list"),
        reverse("parts:purchase-order-create"),
        reverse("parts:purchase-order-detail", args=[order.pk]),
        reverse("parts:receipt-create", args=[order.pk]),
        reverse("parts:receipt-list"),
        reverse("parts:receipt-detail", args=[receipt.pk]),
        reverse("parts:receipt-print", args=[receipt.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'lang="{language}"' in response.content.decode(), url


def test_a_consultant_may_not_open_orders_or_receipts(client, consultant, order, parts_clerk):
    receipt = checked(order, parts_clerk, {line.part: (1, 0) for line in order.lines.all()})
    client.force_login(consultant)
    for method, url in [
        ("get", reverse("parts:purchase-order-list")),
        ("get", reverse("parts:purchase-order-create")),
        ("get", reverse("parts:purchase-order-detail", args=[order.pk])),
        ("post", reverse("parts:purchase-order-place", args=[order.pk])),
        ("post", reverse("parts:purchase-order-cancel", args=[order.pk])),
        ("post", reverse("parts:purchase-order-close", args=[order.pk])),
        ("get", reverse("parts:receipt-create", args=[order.pk])),
        ("get", reverse("parts:receipt-list")),
        ("get", reverse("parts:receipt-detail", args=[receipt.pk])),
        ("post", reverse("parts:receipt-register", args=[receipt.pk])),
        ("get", reverse("parts:receipt-print", args=[receipt.pk])),
    ]:
        assert getattr(client, method)(url).status_code == 403, url


def test_another_branch_order_and_receipt_are_not_found(
    client, parts_clerk, other_order, other_branch, plug
):
    receipt = checked(other_order, parts_clerk, {plug: (2, 0)})
    BinFactory(branch=other_branch)
    client.force_login(parts_clerk)
    for method, url in [
        ("get", reverse("parts:purchase-order-detail", args=[other_order.pk])),
        ("post", reverse("parts:purchase-order-place", args=[other_order.pk])),
        ("post", reverse("parts:purchase-order-cancel", args=[other_order.pk])),
        ("post", reverse("parts:purchase-order-close", args=[other_order.pk])),
        ("get", reverse("parts:receipt-create", args=[other_order.pk])),
        ("post", reverse("parts:receipt-create", args=[other_order.pk])),
        ("get", reverse("parts:receipt-detail", args=[receipt.pk])),
        ("post", reverse("parts:receipt-register", args=[receipt.pk])),
        ("get", reverse("parts:receipt-print", args=[receipt.pk])),
    ]:
        assert getattr(client, method)(url).status_code == 404, url
    receipt.refresh_from_db()
    assert receipt.status == ReceiptStatus.CHECKED


def test_a_branch_manager_reads_orders_but_may_not_receive(client, branch_manager, order):
    client.force_login(branch_manager)
    page = client.get(reverse("parts:purchase-order-detail", args=[order.pk])).content.decode()
    assert 'id="order-receive"' not in page
    assert client.get(reverse("parts:receipt-create", args=[order.pk])).status_code == 403


# --- Purchase order list ------------------------------------------------------------------


def test_order_list_filters_by_status_supplier_and_search(client, parts_clerk, branch, plug):
    bosch = SupplierFactory(name="博世")
    draft = draft_purchase_order(branch, parts_clerk, [(plug, 1, "1.00")], supplier=bosch)
    placed = placed_purchase_order(branch, parts_clerk, [(PartFactory(number="XYZ99"), 1, "1.00")])
    client.force_login(parts_clerk)

    def listed(**params) -> set[int]:
        response = client.get(reverse("parts:purchase-order-list"), params)
        return {o.pk for o in response.context["page"]}

    assert listed(status="draft") == {draft.pk}
    assert listed(status=["draft", "ordered"]) == {draft.pk, placed.pk}
    assert listed(supplier=bosch.pk) == {draft.pk}
    assert listed(search="博世") == {draft.pk}
    assert listed(search="xyz9") == {placed.pk}
    assert listed(search=placed.number) == {placed.pk}


def test_order_list_shows_value_and_only_the_users_branch(client, parts_clerk, order, other_order):
    client.force_login(parts_clerk)
    response = client.get(reverse("parts:purchase-order-list"))
    rows = list(response.context["page"])
    assert [o.pk for o in rows] == [order.pk]
    assert rows[0].order_value == Decimal("480.00")  # 10 × 30 + 4 × 45


def test_empty_lists_say_so(client, parts_clerk):
    client.force_login(parts_clerk)
    assert (
        "No purchase orders yet."
        in client.get(reverse("parts:purchase-order-list")).content.decode()
    )
    assert "No receipts yet" in client.get(reverse("parts:receipt-list")).content.decode()


# --- Purchase order create ----------------------------------------------------------------


def order_form(supplier, *rows) -> dict:
    data = {
        "supplier": supplier.pk,
        "kind": OrderKind.STOCK,
        "expected_on": "2026-05-01",
        "note": "月度补货",
        "lines-TOTAL_FORMS": "5",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "100",
    }
    for index, (number, quantity, cost) in enumerate(rows):
        data[f"lines-{index}-part"] = number
        data[f"lines-{index}-quantity"] = quantity
        data[f"lines-{index}-unit_cost"] = cost
    return data


def test_clerk_drafts_an_order_with_lines_leaving_blank_rows_out(
    client, parts_clerk, branch, plug, filter_part
):
    supplier = SupplierFactory()
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:purchase-order-create"),
        order_form(supplier, (plug.number.lower(), "10", "30.00"), (filter_part.number, "4", "")),
    )
    order = PurchaseOrder.objects.get()
    assert response.url == reverse("parts:purchase-order-detail", args=[order.pk])
    assert (order.branch, order.status, order.note) == (
        branch,
        PurchaseOrderStatus.DRAFT,
        "月度补货",
    )
    lines = {line.part: line for line in order.lines.all()}
    assert lines[plug].quantity == Decimal("10")
    assert lines[filter_part].unit_cost == Decimal("0.00")  # no stock yet: average cost 0


def test_an_order_without_lines_is_refused(client, parts_clerk):
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:purchase-order-create"), order_form(SupplierFactory()))
    assert response.status_code == 200
    assert "Add at least one part." in response.content.decode()
    assert not PurchaseOrder.objects.exists()


def test_a_part_listed_twice_is_refused(client, parts_clerk, plug):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:purchase-order-create"),
        order_form(SupplierFactory(), (plug.number, "1", ""), (plug.number, "2", "")),
    )
    assert "Each part goes on one line." in response.content.decode()
    assert not PurchaseOrder.objects.exists()


def test_an_unknown_part_number_is_refused_on_its_row(client, parts_clerk):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:purchase-order-create"), order_form(SupplierFactory(), ("NOPE1", "1", ""))
    )
    assert response.context["formset"].forms[0].errors["part"] == [
        "No part with number NOPE1 in the catalogue."
    ]
    assert not PurchaseOrder.objects.exists()


def test_half_a_spark_plug_is_refused_on_its_row(client, parts_clerk, plug):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:purchase-order-create"),
        order_form(SupplierFactory(), (plug.number, "1.5", "")),
    )
    errors = response.context["formset"].forms[0].errors["quantity"]
    assert errors == [f"{plug.number} is counted in whole piece."]
    assert not PurchaseOrder.objects.exists()


# --- Place, cancel, close -----------------------------------------------------------------


def test_clerk_places_a_draft(client, parts_clerk, branch, plug):
    draft = draft_purchase_order(branch, parts_clerk, [(plug, 1, "1.00")])
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:purchase-order-place", args=[draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == PurchaseOrderStatus.ORDERED


def test_placing_an_order_twice_is_refused_with_a_message(client, parts_clerk, order):
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:purchase-order-place", args=[order.pk]), follow=True)
    assert "Only a draft order can be placed." in response.content.decode()
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.ORDERED


def test_clerk_cancels_an_order_with_a_reason(client, parts_clerk, order):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:purchase-order-cancel", args=[order.pk]), {"cancel-reason": "供应商缺货"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (PurchaseOrderStatus.CANCELLED, "供应商缺货")


def test_cancelling_without_a_reason_is_refused_beside_the_reason(client, parts_clerk, order):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:purchase-order-cancel", args=[order.pk]), {"cancel-reason": " "}
    )
    assert response.status_code == 200
    assert response.context["cancel_form"].errors["reason"] == ["Say why the order is cancelled."]
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.ORDERED


def test_a_partly_received_order_cannot_be_cancelled_but_closes_short(
    client, parts_clerk, order, plug, filter_part
):
    # given half the plugs received and registered
    receipt = checked(order, parts_clerk, {plug: (5, 0), filter_part: (4, 0)})
    services.receipt_register(
        receipt=receipt,
        by=parts_clerk,
        bins={line.pk: BinFactory(branch=order.branch) for line in receipt.lines.all()},
    )
    client.force_login(parts_clerk)
    # when the clerk tries to cancel it, it is refused with a message
    response = client.post(
        reverse("parts:purchase-order-cancel", args=[order.pk]),
        {"cancel-reason": "不要了"},
        follow=True,
    )
    assert "can only be closed, not cancelled" in response.content.decode()
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.PARTLY_RECEIVED
    # and closing short with a reason works
    response = client.post(
        reverse("parts:purchase-order-close", args=[order.pk]), {"close-reason": "厂家停产"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.RECEIVED
    assert "厂家停产" in order.note


def test_order_page_offers_receive_only_when_ordered(client, parts_clerk, branch, plug, order):
    draft = draft_purchase_order(branch, parts_clerk, [(plug, 1, "1.00")])
    client.force_login(parts_clerk)
    draft_page = client.get(reverse("parts:purchase-order-detail", args=[draft.pk])).content
    placed_page = client.get(reverse("parts:purchase-order-detail", args=[order.pk])).content
    assert b'id="order-receive"' not in draft_page
    assert b'id="order-place"' in draft_page
    assert b'id="order-receive"' in placed_page


# --- Receipt check ------------------------------------------------------------------------


def test_clerk_fills_the_checklist_and_the_receipt_keeps_the_discrepancies(
    client, parts_clerk, order, plug, filter_part
):
    client.force_login(parts_clerk)
    plug_line, filter_line = line_of(order, plug), line_of(order, filter_part)
    # when 8 plugs arrive (2 short) and 4 filters, one of them damaged
    response = client.post(
        reverse("parts:receipt-create", args=[order.pk]),
        checklist(
            order,
            **{
                f"line-{plug_line.pk}-received_quantity": "8",
                f"line-{filter_line.pk}-damaged_quantity": "1",
                f"line-{filter_line.pk}-note": "外盒压坏",
            },
        ),
    )
    receipt = Receipt.objects.get()
    assert response.url == reverse("parts:receipt-detail", args=[receipt.pk])
    assert (receipt.delivery_note, receipt.status) == ("SD-2026-0415", ReceiptStatus.CHECKED)
    lines = {line.part: line for line in receipt.lines.all()}
    assert lines[plug].discrepancies == ["short"]
    assert lines[filter_part].discrepancies == ["damaged"]
    # and nothing is in stock until it is put away and registered
    assert not StockMove.objects.exists()
    # and the receipt's page shows the badges
    page = client.get(response.url).content.decode()
    assert 'data-discrepancy="short"' in page
    assert 'data-discrepancy="damaged"' in page


def test_an_unchecked_line_is_refused_on_that_line(client, parts_clerk, order, plug):
    client.force_login(parts_clerk)
    plug_line = line_of(order, plug)
    data = checklist(order)
    del data[f"line-{plug_line.pk}-checked"]
    response = client.post(reverse("parts:receipt-create", args=[order.pk]), data)
    assert response.status_code == 200
    row = next(row for row in response.context["rows"] if row.order_line == plug_line)
    assert row.errors["checked"] == [f"Check line {plug.number} before filling the receipt."]
    assert not Receipt.objects.exists()


def test_a_box_count_difference_must_be_explained_beside_the_findings(client, parts_clerk, order):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:receipt-create", args=[order.pk]), checklist(order, boxes_counted="1")
    )
    assert response.context["form"].errors["packaging_note"] == [
        "The boxes counted differ from the delivery note: note what was found."
    ]
    assert not Receipt.objects.exists()


def test_damaged_packaging_must_be_described(client, parts_clerk, order):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:receipt-create", args=[order.pk]), checklist(order, packaging_intact="no")
    )
    assert response.context["form"].errors["packaging_note"] == [
        "Describe the damage to the packaging."
    ]
    assert not Receipt.objects.exists()


def test_more_damaged_than_counted_is_refused_on_the_damaged_field(
    client, parts_clerk, order, filter_part
):
    client.force_login(parts_clerk)
    filter_line = line_of(order, filter_part)
    response = client.post(
        reverse("parts:receipt-create", args=[order.pk]),
        checklist(order, **{f"line-{filter_line.pk}-damaged_quantity": "5"}),
    )
    row = next(row for row in response.context["rows"] if row.order_line == filter_line)
    assert row.errors["damaged_quantity"] == [
        f"More damaged than counted on line {filter_part.number}."
    ]
    assert not Receipt.objects.exists()


def test_a_receipt_with_nothing_counted_is_refused(client, parts_clerk, order):
    client.force_login(parts_clerk)
    zeros = {f"line-{line.pk}-received_quantity": "0" for line in order.lines.all()}
    response = client.post(
        reverse("parts:receipt-create", args=[order.pk]), checklist(order, **zeros)
    )
    assert "Nothing was counted on this receipt." in response.content.decode()
    assert not Receipt.objects.exists()


def test_a_draft_order_cannot_be_received(client, parts_clerk, branch, plug):
    draft = draft_purchase_order(branch, parts_clerk, [(plug, 1, "1.00")])
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:receipt-create", args=[draft.pk]), checklist(draft))
    assert "Place the order before receiving against it." in response.content.decode()
    assert not Receipt.objects.exists()


def test_missing_box_counts_are_refused_beside_them(client, parts_clerk, order):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:receipt-create", args=[order.pk]),
        checklist(order, boxes_expected="", boxes_counted="abc"),
    )
    errors = response.context["form"].errors
    assert "boxes_expected" in errors and "boxes_counted" in errors
    assert not Receipt.objects.exists()


# --- Put away and register ----------------------------------------------------------------


def test_clerk_puts_away_to_free_bins_and_registers_the_stock(
    client, parts_clerk, branch, order, plug, filter_part
):
    # given the plug already kept in a bin, the filter without one, and 3 of 4 filters good
    plug_bin = BinFactory(branch=branch, zone="A", shelf="01", level="1")
    free = BinFactory(branch=branch, zone="B", shelf="02", level="1")
    services.bin_assign(branch=branch, part=plug, bin=plug_bin, by=parts_clerk)
    receipt = checked(order, parts_clerk, {plug: (10, 0), filter_part: (4, 1)})
    filter_line = receipt.lines.get(part=filter_part)
    client.force_login(parts_clerk)
    # then only the filter is offered a free bin (the plug's own bin is not)
    form = client.get(reverse("parts:receipt-detail", args=[receipt.pk])).context["put_away_form"]
    assert list(form.fields) == [f"bin-{filter_line.pk}"]
    assert list(form.fields[f"bin-{filter_line.pk}"].queryset) == [free]
    # when the clerk chooses the free bin and registers
    response = client.post(
        reverse("parts:receipt-register", args=[receipt.pk]), {f"bin-{filter_line.pk}": free.pk}
    )
    assert response.status_code == 302
    # then the accepted quantities are in stock, in their bins, and the damaged filter is
    # still outstanding on the order
    receipt.refresh_from_db()
    order.refresh_from_db()
    assert receipt.status == ReceiptStatus.REGISTERED
    assert order.status == PurchaseOrderStatus.PARTLY_RECEIVED
    assert line_of(order, filter_part).outstanding == Decimal("1")
    filters = PartStock.objects.get(branch=branch, part=filter_part)
    assert (filters.on_hand, filters.bin) == (Decimal("3"), free)
    assert PartStock.objects.get(branch=branch, part=plug).on_hand == Decimal("10")


def test_registering_without_a_bin_is_refused_beside_that_line(
    client, parts_clerk, branch, order, plug, filter_part
):
    BinFactory(branch=branch)
    receipt = checked(order, parts_clerk, {plug: (10, 0), filter_part: (4, 0)})
    filter_line = receipt.lines.get(part=filter_part)
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:receipt-register", args=[receipt.pk]), {})
    assert response.status_code == 200
    errors = response.context["put_away_form"].errors
    assert len(errors) == 1
    assert list(errors.values())[0] == [
        f"{plug.number} has no bin yet: choose where it is put away."
    ]
    assert f"bin-{filter_line.pk}" not in errors
    receipt.refresh_from_db()
    assert receipt.status == ReceiptStatus.CHECKED
    assert not StockMove.objects.exists()


def test_two_lines_into_one_bin_is_refused_and_nothing_is_booked(
    client, parts_clerk, branch, order, plug, filter_part
):
    only = BinFactory(branch=branch, zone="A", shelf="01", level="1")
    receipt = checked(order, parts_clerk, {plug: (10, 0), filter_part: (4, 0)})
    lines = list(receipt.lines.all())
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:receipt-register", args=[receipt.pk]),
        {f"bin-{line.pk}": only.pk for line in lines},
    )
    assert response.status_code == 200
    assert "already holds" in response.content.decode()
    receipt.refresh_from_db()
    assert receipt.status == ReceiptStatus.CHECKED
    assert not StockMove.objects.exists()
    assert not PartStock.objects.filter(bin=only).exists()


def test_a_registered_receipt_cannot_be_registered_again(
    client, parts_clerk, branch, order, plug, filter_part
):
    receipt = checked(order, parts_clerk, {plug: (10, 0), filter_part: (4, 0)})
    services.receipt_register(
        receipt=receipt,
        by=parts_clerk,
        bins={line.pk: BinFactory(branch=branch) for line in receipt.lines.all()},
    )
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:receipt-register", args=[receipt.pk]), follow=True)
    assert "This receipt is already registered." in response.content.decode()
    assert StockMove.objects.count() == 2


# --- Print and list -----------------------------------------------------------------------


def test_printed_receipt_shows_header_lines_discrepancies_and_signatures(
    client, parts_clerk, order, plug, filter_part
):
    receipt = checked(order, parts_clerk, {plug: (8, 0), filter_part: (4, 1)})
    client.force_login(parts_clerk)
    page = client.get(reverse("parts:receipt-print", args=[receipt.pk])).content.decode()
    assert receipt.number in page and order.number in page
    assert plug.number in page and filter_part.number in page
    assert "Short" in page and "Damaged" in page
    assert page.count('class="signature') == 3


def test_receipt_list_searches_and_counts_discrepancies(
    client, parts_clerk, order, plug, filter_part
):
    receipt = checked(order, parts_clerk, {plug: (8, 0), filter_part: (4, 0)})
    client.force_login(parts_clerk)
    response = client.get(reverse("parts:receipt-list"), {"search": order.number})
    rows = list(response.context["page"])
    assert [r.pk for r in rows] == [receipt.pk]
    assert (rows[0].line_count, rows[0].discrepancy_count) == (2, 1)
    response = client.get(reverse("parts:receipt-list"), {"status": ReceiptStatus.REGISTERED})
    assert list(response.context["page"]) == []


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus", "page": "x", "sort": "-nonsense", "size": "7"},
        {"search": "PO" + "9" * 40, "supplier": "abc", "kind": "x", "branch": "-1"},
    ],
)
def test_bad_list_parameters_never_fail(client, parts_clerk, order, params):
    client.force_login(parts_clerk)
    for url in [reverse("parts:purchase-order-list"), reverse("parts:receipt-list")]:
        assert client.get(url, params).status_code == 200, url


def test_list_queries_do_not_grow_with_the_rows(client, parts_clerk, branch, page_queries):
    client.force_login(parts_clerk)
    urls = [reverse("parts:purchase-order-list"), reverse("parts:receipt-list")]

    def add(count: int):
        for _index in range(count):
            part = PartFactory()
            order = placed_purchase_order(branch, parts_clerk, [(part, 2, "5.00")])
            checked(order, parts_clerk, {part: (1, 0)})

    add(3)
    three = {url: page_queries(url) for url in urls}
    add(10)
    assert {url: page_queries(url) for url in urls} == three
