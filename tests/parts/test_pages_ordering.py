"""The ordering pages: reorder suggestions turned into draft purchase orders, and emergency
orders for a customer (即购即销) from the advisor's request to the hand-over. Refused rules are
shown and change nothing; other branches' records are 404; lists cost the same number of
queries whatever their length."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from dealer_crm.models import Notification
from parts import services
from parts.choices import (
    EmergencyStatus,
    OrderKind,
    PurchaseOrderStatus,
    SuggestionStatus,
)
from parts.models import EmergencyOrder, LostSale, PurchaseOrder, ReorderSuggestion
from tests.factories import (
    BinFactory,
    CustomerFactory,
    PartFactory,
    SupplierFactory,
    VehicleFactory,
)
from tests.parts.helpers import delivered, set_levels

pytestmark = pytest.mark.django_db


def stock_to_reorder(branch, clerk, *, supplier=None, reorder_point=4, maximum=10):
    """A part the branch keeps between levels and has none of: the compute suggests it."""
    part = PartFactory(supplier=supplier)
    set_levels(branch, part, clerk, 2, reorder_point, maximum)
    return part


def computed(branch) -> list[ReorderSuggestion]:
    services.reorder_suggestions_compute(branch=branch, day=timezone.localdate())
    return list(ReorderSuggestion.objects.filter(branch=branch).order_by("part__number"))


@pytest.fixture
def supplier():
    return SupplierFactory(name="上汽大众华南配件中心")


@pytest.fixture
def suggestion(branch, parts_clerk, supplier):
    stock_to_reorder(branch, parts_clerk, supplier=supplier)
    (suggestion,) = computed(branch)
    return suggestion


@pytest.fixture
def customer(branch):
    return CustomerFactory(branch=branch, name="王建国")


@pytest.fixture
def part(supplier):
    return PartFactory(number="5Q0698151A", name="前刹车片", supplier=supplier)


@pytest.fixture
def emergency(branch, advisor, customer, part):
    return services.emergency_order_request(
        branch=branch, customer=customer, part=part, quantity=Decimal(2), by=advisor
    )


def quoted(order, clerk, supplier, price="480.00"):
    return services.emergency_order_quote(
        emergency_order=order,
        supplier=supplier,
        quoted_unit_cost=Decimal("300.00"),
        unit_price=Decimal(price),
        by=clerk,
    )


def follow(client, response):
    assert response.status_code == 302, response.content[:800]
    return client.get(response.url)


# --- Reorder suggestions: rendering and permissions ---------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_suggestion_list_shows_the_figures_each_suggestion_worked_from(
    client, parts_clerk, suggestion, language
):
    # given the day's suggestion for a part with none on the shelf
    client.force_login(parts_clerk)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    # when the clerk opens the list
    response = client.get(reverse("parts:suggestion-list"))
    # then it shows the suggestion with its explanation, in the clerk's language
    assert response.status_code == 200
    page = response.content.decode()
    assert f'lang="{language}"' in page
    assert [s.pk for s in response.context["page"]] == [suggestion.pk]
    assert suggestion.part.number in page
    assert 'id="suggestion-explained"' in page
    assert 'id="suggestion-order"' in page


def test_suggestion_list_shows_the_latest_day_and_open_ones_by_default(
    client, parts_clerk, branch, suggestion, supplier
):
    # given yesterday's open suggestion, and today's: one open, one dismissed
    yesterday = ReorderSuggestion.objects.create(
        branch=branch,
        part=PartFactory(supplier=supplier),
        computed_on=timezone.localdate() - timezone.timedelta(days=1),
        available=0,
        on_order=0,
        daily_consumption=0,
        lead_time_days=7,
        reorder_point=4,
        suggested_quantity=10,
    )
    other = stock_to_reorder(branch, parts_clerk, supplier=supplier)
    computed(branch)
    dismissed = ReorderSuggestion.objects.get(branch=branch, part=other)
    services.reorder_suggestion_dismiss(suggestion=dismissed, by=parts_clerk)
    client.force_login(parts_clerk)
    # when the list opens without filters, then only today's open one is listed
    # (a recompute replaces the day's open suggestions, so they are told apart by part)
    response = client.get(reverse("parts:suggestion-list"))
    assert [s.part_id for s in response.context["page"]] == [suggestion.part_id]
    # and emptied filters show every day and status
    response = client.get(reverse("parts:suggestion-list"), {"status": "", "computed_on": ""})
    assert {s.part_id for s in response.context["page"]} == {
        suggestion.part_id,
        dismissed.part_id,
        yesterday.part_id,
    }


def test_suggestion_list_filters_by_supplier(client, parts_clerk, branch, suggestion):
    other_supplier = SupplierFactory()
    stock_to_reorder(branch, parts_clerk, supplier=other_supplier)
    computed(branch)
    client.force_login(parts_clerk)
    response = client.get(reverse("parts:suggestion-list"), {"supplier": other_supplier.pk})
    assert [s.part.supplier_id for s in response.context["page"]] == [other_supplier.pk]


def test_suggestion_list_is_empty_with_a_hint_before_any_compute(client, parts_clerk):
    client.force_login(parts_clerk)
    response = client.get(reverse("parts:suggestion-list"))
    assert response.status_code == 200
    assert "Recompute now" in response.content.decode()
    assert 'id="suggestion-empty"' in response.content.decode()


def test_advisor_may_read_suggestions_but_not_act_on_them(client, advisor, suggestion):
    client.force_login(advisor)
    response = client.get(reverse("parts:suggestion-list"))
    assert response.status_code == 200
    assert 'id="suggestion-order"' not in response.content.decode()
    assert client.post(reverse("parts:suggestion-compute")).status_code == 403
    response = client.post(reverse("parts:suggestion-order"), {"suggestions": [suggestion.pk]})
    assert response.status_code == 403
    url = reverse("parts:suggestion-dismiss", args=[suggestion.pk])
    assert client.post(url).status_code == 403
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.OPEN


def test_a_sales_consultant_is_refused_every_suggestion_page(client, consultant, suggestion):
    client.force_login(consultant)
    assert client.get(reverse("parts:suggestion-list")).status_code == 403
    for url in (
        reverse("parts:suggestion-compute"),
        reverse("parts:suggestion-order"),
        reverse("parts:suggestion-dismiss", args=[suggestion.pk]),
    ):
        assert client.post(url, {"suggestions": [suggestion.pk]}).status_code == 403, url


def test_another_branch_suggestion_is_not_found_nor_listed(client, other_clerk, suggestion):
    client.force_login(other_clerk)
    response = client.get(reverse("parts:suggestion-list"), {"status": "", "computed_on": ""})
    assert list(response.context["page"]) == []
    url = reverse("parts:suggestion-dismiss", args=[suggestion.pk])
    assert client.post(url).status_code == 404
    response = client.post(reverse("parts:suggestion-order"), {"suggestions": [suggestion.pk]})
    assert response.status_code == 404
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.OPEN
    assert not PurchaseOrder.objects.exists()


# --- Reorder suggestions: writes ----------------------------------------------------------


def test_recompute_now_suggests_for_the_working_branch_today(client, parts_clerk, branch, supplier):
    # given a part at its reorder point and no suggestions yet
    stock_to_reorder(branch, parts_clerk, supplier=supplier)
    client.force_login(parts_clerk)
    # when the clerk recomputes
    response = follow(client, client.post(reverse("parts:suggestion-compute")))
    # then today's suggestion is there, with the count in the message
    (suggestion,) = ReorderSuggestion.objects.filter(branch=branch)
    assert suggestion.computed_on == timezone.localdate()
    assert suggestion.suggested_quantity == Decimal(10)
    assert "1 part to order" in response.content.decode()
    assert [s.pk for s in response.context["page"]] == [suggestion.pk]


def test_ticked_suggestions_of_one_supplier_make_one_draft_order(
    client, parts_clerk, branch, supplier
):
    # given two suggestions for parts of the same supplier
    stock_to_reorder(branch, parts_clerk, supplier=supplier)
    stock_to_reorder(branch, parts_clerk, supplier=supplier, maximum=20)
    first, second = computed(branch)
    client.force_login(parts_clerk)
    # when both are ticked and ordered
    response = client.post(
        reverse("parts:suggestion-order"), {"suggestions": [first.pk, second.pk]}
    )
    # then one draft stock order holds both lines, and the page goes to it
    (order,) = PurchaseOrder.objects.all()
    assert response.status_code == 302
    assert response.url == reverse("parts:purchase-order-detail", args=[order.pk])
    assert order.status == PurchaseOrderStatus.DRAFT
    assert order.kind == OrderKind.STOCK
    assert sorted(order.lines.values_list("quantity", flat=True)) == [Decimal(10), Decimal(20)]
    assert set(ReorderSuggestion.objects.values_list("status", flat=True)) == {"ordered"}


def test_suggestions_of_two_suppliers_make_two_orders_and_go_to_the_order_list(
    client, parts_clerk, branch, supplier
):
    stock_to_reorder(branch, parts_clerk, supplier=supplier)
    stock_to_reorder(branch, parts_clerk, supplier=SupplierFactory())
    ids = [s.pk for s in computed(branch)]
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:suggestion-order"), {"suggestions": ids})
    assert response.status_code == 302
    assert response.url.startswith(reverse("parts:purchase-order-list"))
    assert PurchaseOrder.objects.count() == 2


def test_a_part_without_supplier_is_refused_clearly_and_nothing_is_ordered(
    client, parts_clerk, branch, supplier
):
    # given a suggestion for a part with a supplier and one without
    stock_to_reorder(branch, parts_clerk, supplier=supplier)
    orphan = stock_to_reorder(branch, parts_clerk, supplier=None)
    ids = [s.pk for s in computed(branch)]
    client.force_login(parts_clerk)
    page = client.get(reverse("parts:suggestion-list")).content.decode()
    assert "no-supplier" in page  # the row says so before anyone ticks it
    # when both are ordered
    response = follow(client, client.post(reverse("parts:suggestion-order"), {"suggestions": ids}))
    # then the refusal names the part, and nothing was ordered
    page = response.content.decode()
    assert f"{orphan.number} has no supplier" in page
    assert not PurchaseOrder.objects.exists()
    assert set(ReorderSuggestion.objects.values_list("status", flat=True)) == {"open"}


def test_ordering_nothing_ticked_is_refused_with_a_message(client, parts_clerk, suggestion):
    client.force_login(parts_clerk)
    response = follow(client, client.post(reverse("parts:suggestion-order"), {"suggestions": "x"}))
    assert "Tick at least one suggestion." in response.content.decode()
    assert not PurchaseOrder.objects.exists()


def test_dismiss_takes_a_suggestion_off_the_open_list(client, parts_clerk, suggestion):
    client.force_login(parts_clerk)
    next_url = reverse("parts:suggestion-list") + "?sort=-suggested"
    url = reverse("parts:suggestion-dismiss", args=[suggestion.pk])
    response = client.post(url, {"next": next_url})
    assert response.url == next_url
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.DISMISSED
    # and a second dismissal is refused with the service's message
    response = follow(client, client.post(url))
    assert "already acted on" in response.content.decode()


def test_dismiss_ignores_a_next_that_leaves_the_site(client, parts_clerk, suggestion):
    client.force_login(parts_clerk)
    url = reverse("parts:suggestion-dismiss", args=[suggestion.pk])
    response = client.post(url, {"next": "https://evil.example/"})
    assert response.url == reverse("parts:suggestion-list")


def test_suggestion_list_queries_do_not_grow_with_the_rows(
    client, parts_clerk, branch, supplier, django_assert_max_num_queries
):
    client.force_login(parts_clerk)

    def queries() -> int:
        with django_assert_max_num_queries(25) as captured:
            response = client.get(reverse("parts:suggestion-list"))
            assert response.status_code == 200
        return len(captured), len(response.context["page"])

    for _ in range(3):
        stock_to_reorder(branch, parts_clerk, supplier=supplier)
    computed(branch)
    few, rows = queries()
    assert rows == 3
    for _ in range(10):
        stock_to_reorder(branch, parts_clerk, supplier=SupplierFactory())
    computed(branch)
    many, rows = queries()
    assert rows == 13
    assert many == few


# --- Emergency orders: request ------------------------------------------------------------


def test_advisor_requests_an_emergency_order_for_a_customer(
    client, advisor, branch, customer, part
):
    # given the customer's car
    vehicle = VehicleFactory(owner=customer)
    client.force_login(advisor)
    assert client.get(reverse("parts:emergency-order-create")).status_code == 200
    # when the advisor asks for two brake pads by part number, in lower case
    response = client.post(
        reverse("parts:emergency-order-create"),
        {
            "customer": customer.pk,
            "vehicle": vehicle.pk,
            "part_number": "5q0698151a",
            "quantity": "2",
            "note": "客户下午来取",
        },
    )
    # then the order is requested and counted as a lost sale
    order = EmergencyOrder.objects.get()
    assert response.url == reverse("parts:emergency-order-detail", args=[order.pk])
    assert (order.customer, order.vehicle, order.part) == (customer, vehicle, part)
    assert order.status == EmergencyStatus.REQUESTED
    assert order.advisor == advisor
    assert order.branch == branch
    assert LostSale.objects.filter(part=part, reason="emergency_order").count() == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"quantity": "0"}, "quantity", "A quantity is more than zero."),
        ({"quantity": "1.5"}, "quantity", "is counted in whole"),
        ({"part_number": "NOPE-1"}, "part_number", "No part NOPE-1 in the catalogue"),
        ({"customer": "999999"}, "customer", "Select a valid choice"),
    ],
)
def test_a_refused_request_shows_why_beside_the_field_and_saves_nothing(
    client, advisor, customer, part, change, field, message
):
    client.force_login(advisor)
    data = {"customer": customer.pk, "part_number": part.number, "quantity": "2", **change}
    response = client.post(reverse("parts:emergency-order-create"), data)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert message.split(" NOPE")[0] in response.content.decode()
    assert not EmergencyOrder.objects.exists()
    assert not LostSale.objects.exists()


def test_another_customers_vehicle_is_refused(client, advisor, branch, customer, part):
    # given a car of another customer of the branch
    stranger_car = VehicleFactory(owner=CustomerFactory(branch=branch))
    client.force_login(advisor)
    response = client.post(
        reverse("parts:emergency-order-create"),
        {
            "customer": customer.pk,
            "vehicle": stranger_car.pk,
            "part_number": part.number,
            "quantity": "1",
        },
    )
    assert response.context["form"].errors["vehicle"] == ["The vehicle is not the customer's."]
    assert not EmergencyOrder.objects.exists()


def test_another_branch_customer_cannot_be_chosen(client, advisor, other_branch, part):
    stranger = CustomerFactory(branch=other_branch)
    client.force_login(advisor)
    data = {"customer": stranger.pk, "part_number": part.number, "quantity": "1"}
    response = client.post(reverse("parts:emergency-order-create"), data)
    assert "customer" in response.context["form"].errors
    assert not EmergencyOrder.objects.exists()


def test_customer_search_offers_the_branchs_customers_and_their_vehicles(
    client, advisor, branch, other_branch, customer
):
    # given the customer with a car, and a namesake at the other branch
    vehicle = VehicleFactory(owner=customer, plate="粤A12345")
    CustomerFactory(branch=other_branch, name="王建国")
    client.force_login(advisor)
    # when the advisor searches by name
    url = reverse("parts:emergency-order-create")
    response = client.get(url, {"customer_search": "王建"}, HTTP_HX_REQUEST="true")
    # then only this branch's customer is offered, chosen, with the car in the vehicle select
    page = response.content.decode()
    assert [c.pk for c in response.context["customers"]] == [customer.pk]
    assert f'value="{customer.pk}" selected' in page
    assert "粤A12345" in page
    assert customer.mobile not in page  # the phone is masked
    # and choosing the customer loads the car
    response = client.get(url, {"vehicles": "1", "customer": customer.pk})
    assert f'value="{vehicle.pk}"' in response.content.decode()
    response = client.get(url, {"vehicles": "1", "customer": "²"})
    assert response.status_code == 200


def test_a_customer_page_can_start_a_request(client, advisor, customer):
    client.force_login(advisor)
    response = client.get(reverse("parts:emergency-order-create"), {"customer": customer.pk})
    assert f'value="{customer.pk}" selected' in response.content.decode()


# --- Emergency orders: list, detail, permissions ------------------------------------------


def test_emergency_pages_render_for_the_clerk_and_the_advisor(
    client, parts_clerk, advisor, emergency
):
    for user in (parts_clerk, advisor):
        client.force_login(user)
        for url in (
            reverse("parts:emergency-order-list"),
            reverse("parts:emergency-order-detail", args=[emergency.pk]),
        ):
            response = client.get(url)
            assert response.status_code == 200, url
            assert emergency.number in response.content.decode()


def test_detail_shows_the_step_bar_and_the_quote_form_first(client, parts_clerk, emergency):
    client.force_login(parts_clerk)
    page = client.get(reverse("parts:emergency-order-detail", args=[emergency.pk])).content
    page = page.decode()
    assert 'id="emergency-steps"' in page
    assert 'aria-current="step"' in page
    assert 'id="emergency-quote"' in page
    assert 'id="emergency-deposit"' not in page
    assert "Change history" in page


def test_emergency_list_filters_by_status_and_advisor(
    client, parts_clerk, branch, advisor, emergency, customer, part, supplier
):
    other = services.emergency_order_request(
        branch=branch, customer=customer, part=part, quantity=Decimal(1), by=parts_clerk
    )
    quoted(other, parts_clerk, supplier)
    client.force_login(parts_clerk)
    url = reverse("parts:emergency-order-list")
    response = client.get(url, {"status": "quoted"})
    assert [o.pk for o in response.context["page"]] == [other.pk]
    response = client.get(url, {"advisor": advisor.pk})
    assert [o.pk for o in response.context["page"]] == [emergency.pk]
    response = client.get(url, {"customer": customer.pk, "sort": "status"})
    assert [o.pk for o in response.context["page"]] == [other.pk, emergency.pk]


def test_a_sales_consultant_is_refused_every_emergency_page(client, consultant, emergency):
    client.force_login(consultant)
    for url in (
        reverse("parts:emergency-order-list"),
        reverse("parts:emergency-order-create"),
        reverse("parts:emergency-order-detail", args=[emergency.pk]),
    ):
        assert client.get(url).status_code == 403, url
    url = reverse("parts:emergency-order-step", args=[emergency.pk, "quote"])
    assert client.post(url).status_code == 403


def test_another_branch_emergency_order_is_not_found(client, other_clerk, emergency):
    client.force_login(other_clerk)
    assert (
        client.get(reverse("parts:emergency-order-list")).context["page"].object_list.count() == 0
    )
    url = reverse("parts:emergency-order-detail", args=[emergency.pk])
    assert client.get(url).status_code == 404
    for step in ("quote", "deposit", "place", "hand-over", "cancel"):
        url = reverse("parts:emergency-order-step", args=[emergency.pk, step])
        assert client.post(url).status_code == 404, step


def test_an_unknown_step_is_not_found(client, parts_clerk, emergency):
    client.force_login(parts_clerk)
    url = reverse("parts:emergency-order-step", args=[emergency.pk, "teleport"])
    assert client.post(url).status_code == 404


def test_the_advisor_may_not_place_the_purchase_order(
    client, advisor, parts_clerk, emergency, supplier
):
    order = quoted(emergency, parts_clerk, supplier)
    services.emergency_order_deposit(emergency_order=order, amount=Decimal(100), by=advisor)
    client.force_login(advisor)
    url = reverse("parts:emergency-order-step", args=[emergency.pk, "place"])
    assert client.post(url).status_code == 403
    emergency.refresh_from_db()
    assert emergency.status == EmergencyStatus.DEPOSIT_PAID


def test_emergency_list_queries_do_not_grow_with_the_rows(
    client, parts_clerk, advisor, branch, part, django_assert_max_num_queries
):
    client.force_login(parts_clerk)

    def add(count: int):
        for _ in range(count):
            services.emergency_order_request(
                branch=branch,
                customer=CustomerFactory(branch=branch),
                vehicle=None,
                part=part,
                quantity=Decimal(1),
                by=advisor,
            )

    def queries() -> int:
        with django_assert_max_num_queries(25) as captured:
            response = client.get(reverse("parts:emergency-order-list"))
            assert response.status_code == 200
        return len(captured), len(response.context["page"])

    add(3)
    few, rows = queries()
    assert rows == 3
    add(10)
    many, rows = queries()
    assert rows == 13
    assert many == few


# --- Emergency orders: the steps ----------------------------------------------------------


def step(client, order, name, data=None):
    return client.post(reverse("parts:emergency-order-step", args=[order.pk, name]), data or {})


def test_the_whole_journey_from_quote_to_hand_over(
    client, parts_clerk, advisor, branch, emergency, supplier, part
):
    client.force_login(parts_clerk)
    # when the clerk records the supplier's quote
    promised = (timezone.localdate() + timezone.timedelta(days=3)).isoformat()
    response = step(
        client,
        emergency,
        "quote",
        {
            "quote-supplier": supplier.pk,
            "quote-quoted_unit_cost": "300.00",
            "quote-unit_price": "480.00",
            "quote-promised_on": promised,
        },
    )
    assert response.status_code == 302
    emergency.refresh_from_db()
    assert emergency.status == EmergencyStatus.QUOTED
    assert emergency.unit_price == Decimal("480.00")
    assert emergency.promised_on.isoformat() == promised
    # and the customer's deposit
    step(client, emergency, "deposit", {"deposit-amount": "300"})
    emergency.refresh_from_db()
    assert emergency.status == EmergencyStatus.DEPOSIT_PAID
    assert emergency.deposit == Decimal("300")
    # and the order is placed
    step(client, emergency, "place")
    emergency.refresh_from_db()
    purchase = emergency.purchase_order
    assert emergency.status == EmergencyStatus.ORDERED
    assert (purchase.kind, purchase.status) == (OrderKind.EMERGENCY, PurchaseOrderStatus.ORDERED)
    page = client.get(reverse("parts:emergency-order-detail", args=[emergency.pk])).content
    assert purchase.number in page.decode()
    assert 'id="awaiting-arrival"' in page.decode()
    # and the purchase order is received and put away
    (line,) = purchase.lines.all()
    delivered(purchase, parts_clerk, {line.part: 2}, bin=BinFactory(branch=branch))
    emergency.refresh_from_db()
    assert emergency.status == EmergencyStatus.ARRIVED
    assert Notification.objects.filter(recipient=advisor).exists()
    page = client.get(reverse("parts:emergency-order-detail", args=[emergency.pk])).content
    assert 'id="emergency-hand-over"' in page.decode()
    # when the part is handed over
    step(client, emergency, "hand-over")
    # then an issue voucher to the customer is linked at the quoted price
    emergency.refresh_from_db()
    assert emergency.status == EmergencyStatus.HANDED_OVER
    issue_line = emergency.issue.lines.get()
    assert (issue_line.part, issue_line.unit_price) == (part, Decimal("480.00"))
    page = client.get(reverse("parts:emergency-order-detail", args=[emergency.pk])).content
    assert emergency.issue.number in page.decode()


def test_a_deposit_above_the_price_is_refused_beside_the_field(
    client, parts_clerk, emergency, supplier
):
    # given a quote of 2 × 480 = 960 CNY
    quoted(emergency, parts_clerk, supplier)
    client.force_login(parts_clerk)
    # when a deposit of 1,000 CNY is recorded
    response = step(client, emergency, "deposit", {"deposit-amount": "1000"})
    # then it is refused with the price, and nothing changed
    assert response.status_code == 200
    assert "at most the price, 960.00 CNY" in response.content.decode()
    assert response.context["forms"]["deposit"].errors["amount"]
    emergency.refresh_from_db()
    assert emergency.status == EmergencyStatus.QUOTED
    assert emergency.deposit == 0


def test_placing_before_the_deposit_is_refused(client, parts_clerk, emergency, supplier):
    quoted(emergency, parts_clerk, supplier)
    client.force_login(parts_clerk)
    response = follow(client, step(client, emergency, "place"))
    assert f"Emergency order {emergency.number} is Quoted." in response.content.decode()
    emergency.refresh_from_db()
    assert emergency.status == EmergencyStatus.QUOTED
    assert not PurchaseOrder.objects.exists()


def test_a_promised_date_in_the_past_is_refused(client, parts_clerk, emergency, supplier):
    client.force_login(parts_clerk)
    response = step(
        client,
        emergency,
        "quote",
        {
            "quote-supplier": supplier.pk,
            "quote-quoted_unit_cost": "300",
            "quote-unit_price": "480",
            "quote-promised_on": "2020-01-01",
        },
    )
    assert response.context["forms"]["quote"].errors["promised_on"] == [
        "The promised date has passed."
    ]
    emergency.refresh_from_db()
    assert emergency.status == EmergencyStatus.REQUESTED


def test_a_quote_with_bad_input_is_answered_not_a_500(client, parts_clerk, emergency):
    client.force_login(parts_clerk)
    response = step(
        client,
        emergency,
        "quote",
        {"quote-supplier": "abc", "quote-quoted_unit_cost": "-1", "quote-unit_price": "x" * 300},
    )
    assert response.status_code == 200
    assert set(response.context["forms"]["quote"].errors) >= {
        "supplier",
        "quoted_unit_cost",
        "unit_price",
    }
    emergency.refresh_from_db()
    assert emergency.status == EmergencyStatus.REQUESTED


def test_cancelling_needs_a_reason_and_the_confirmation(client, advisor, emergency):
    client.force_login(advisor)
    # when the advisor cancels without ticking the confirmation
    response = step(client, emergency, "cancel", {"cancel-reason": "客户不要了"})
    assert response.context["forms"]["cancel"].errors["confirm"] == ["Tick the box to confirm."]
    emergency.refresh_from_db()
    assert emergency.status == EmergencyStatus.REQUESTED
    # and then with it
    step(client, emergency, "cancel", {"cancel-reason": "客户不要了", "cancel-confirm": "on"})
    emergency.refresh_from_db()
    assert emergency.status == EmergencyStatus.CANCELLED
    assert emergency.cancel_reason == "客户不要了"
    page = client.get(reverse("parts:emergency-order-detail", args=[emergency.pk])).content
    assert 'id="emergency-cancelled"' in page.decode()


def test_cancelling_an_ordered_part_cancels_its_purchase_order(
    client, parts_clerk, emergency, supplier
):
    order = quoted(emergency, parts_clerk, supplier)
    services.emergency_order_deposit(emergency_order=order, amount=Decimal(100), by=parts_clerk)
    services.emergency_order_place(emergency_order=order, by=parts_clerk)
    client.force_login(parts_clerk)
    step(client, emergency, "cancel", {"cancel-reason": "供应商缺货", "cancel-confirm": "on"})
    emergency.refresh_from_db()
    assert emergency.status == EmergencyStatus.CANCELLED
    assert emergency.purchase_order.status == PurchaseOrderStatus.CANCELLED


def test_opening_a_step_address_goes_back_to_the_order_and_changes_nothing(
    client, parts_clerk, emergency
):
    # given the address a refused step was shown at (a reload, a language switch)
    client.force_login(parts_clerk)
    url = reverse("parts:emergency-order-step", args=[emergency.pk, "cancel"])
    # when it is opened, then it leads back to the order, still requested
    response = client.get(url)
    assert response.url == reverse("parts:emergency-order-detail", args=[emergency.pk])
    emergency.refresh_from_db()
    assert emergency.status == EmergencyStatus.REQUESTED
