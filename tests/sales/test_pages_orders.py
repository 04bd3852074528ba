"""The order pages: an order made from a sent quote for the lead's customer, signed, paid,
given a vehicle, invoiced and delivered, or cancelled. Refused rules are shown and change
nothing; other branches' orders are 404; the list's queries do not grow with its rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, Vehicle
from dealer_crm.choices import Role
from sales.choices import (
    DeliveryCheck,
    DeliveryDocument,
    DepositHandling,
    LeadStatus,
    LostReason,
    OrderStatus,
    PaymentKind,
    QuoteStatus,
    StockStatus,
)
from sales.models import Delivery, Order, Payment
from tests.factories import (
    CustomerFactory,
    LeadFactory,
    OrderFactory,
    PaymentFactory,
    QuoteFactory,
    StockVehicleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def sent_quote(branch, consultant):
    lead = LeadFactory(
        branch=branch, consultant=consultant, reached="quoted", name="赵建华", mobile="13811112222"
    )
    return QuoteFactory(branch=branch, lead=lead, consultant=consultant, status=QuoteStatus.SENT)


@pytest.fixture
def order(branch, consultant):
    return OrderFactory(branch=branch, consultant=consultant)


@pytest.fixture
def signed_order(branch, consultant):
    return OrderFactory(branch=branch, consultant=consultant, status=OrderStatus.SIGNED)


@pytest.fixture
def invoiced_order(branch, consultant):
    """Invoiced and paid, its vehicle inspected (PDI) on arrival."""
    order = OrderFactory(branch=branch, consultant=consultant, status=OrderStatus.INVOICED)
    vehicle = order.stock_vehicle
    vehicle.pdi_done_on = vehicle.arrival_date = TODAY() - timedelta(days=3)
    vehicle.save()
    PaymentFactory(order=order, amount=order.total_price)
    return order


def follow(client, response):
    assert response.status_code == 302, response.content[:800]
    return client.get(response.url)


# --- Rendering ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_order_pages_render_for_the_consultant_in_both_languages(
    client, consultant, sent_quote, order, invoiced_order, language
):
    PaymentFactory(order=order, paid_on=None, due_on=TODAY() + timedelta(days=10))
    client.force_login(consultant)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for url in [
        reverse("sales:order-list"),
        reverse("sales:order-create", args=[sent_quote.pk]),
        reverse("sales:order-detail", args=[order.pk]),
        reverse("sales:order-detail", args=[invoiced_order.pk]),
        reverse("sales:delivery-create", args=[invoiced_order.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'lang="{language}"' in response.content.decode(), url


def test_order_page_shows_money_payments_steps_and_history(client, consultant, order):
    PaymentFactory(order=order, amount=Decimal("5000.00"))
    PaymentFactory(order=order, amount=Decimal("20000.00"), paid_on=None, due_on=TODAY())
    client.force_login(consultant)
    page = client.get(reverse("sales:order-detail", args=[order.pk])).content.decode()
    assert "117,900.00" in page  # total
    assert "112,900.00" in page  # outstanding after the 5,000 deposit
    assert "20,000.00" in page  # scheduled
    assert reverse("customers:detail", args=[order.customer_id]) in page
    assert 'id="order-steps"' in page
    assert "Change history" in page
    assert 'id="sign-panel"' in page


def test_a_delivered_order_links_to_the_customers_new_vehicle(client, consultant, invoiced_order):
    client.force_login(consultant)
    client.post(reverse("sales:delivery-create", args=[invoiced_order.pk]), delivery_form())
    page = client.get(reverse("sales:order-detail", args=[invoiced_order.pk])).content.decode()
    vehicle = Vehicle.objects.get(vin=invoiced_order.stock_vehicle.vin)
    assert reverse("customers:vehicle-detail", args=[vehicle.pk]) in page


# --- Permissions and branches -------------------------------------------------------------


def order_urls(order, quote, payment) -> list[tuple[str, str]]:
    return [
        ("get", reverse("sales:order-create", args=[quote.pk])),
        ("get", reverse("sales:order-detail", args=[order.pk])),
        ("post", reverse("sales:order-sign", args=[order.pk])),
        ("post", reverse("sales:payment-create", args=[order.pk])),
        ("post", reverse("sales:payment-receive", args=[payment.pk])),
        ("post", reverse("sales:order-allocate", args=[order.pk])),
        ("post", reverse("sales:order-invoice", args=[order.pk])),
        ("post", reverse("sales:order-cancel", args=[order.pk])),
        ("get", reverse("sales:delivery-create", args=[order.pk])),
    ]


def test_a_role_without_sales_permissions_is_refused_every_order_page(
    client, parts_clerk, order, sent_quote
):
    payment = PaymentFactory(order=order, paid_on=None, due_on=TODAY())
    client.force_login(parts_clerk)
    assert client.get(reverse("sales:order-list")).status_code == 403
    for method, url in order_urls(order, sent_quote, payment):
        assert getattr(client, method)(url).status_code == 403, url


def test_a_consultant_may_not_cancel_an_order(client, consultant, signed_order):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:order-cancel", args=[signed_order.pk]), {"reason": "客户改变主意"}
    )
    assert response.status_code == 403
    signed_order.refresh_from_db()
    assert signed_order.status == OrderStatus.SIGNED


def test_another_branch_order_is_not_found(
    client, other_branch, other_branch_user, order, sent_quote
):
    payment = PaymentFactory(order=order, paid_on=None, due_on=TODAY())
    manager = UserFactory(roles=[Role.SALES_MANAGER], branches=[other_branch])
    for user in (other_branch_user, manager):
        client.force_login(user)
        for method, url in order_urls(order, sent_quote, payment):
            if user == other_branch_user and "cancel" in url:
                continue  # a consultant may not cancel at all (403)
            assert getattr(client, method)(url).status_code == 404, url
    response = client.get(reverse("sales:order-list"))
    assert list(response.context["page"]) == []


# --- Order from a quote -------------------------------------------------------------------


def test_order_for_the_existing_customer_with_the_leads_phone(
    client, consultant, sent_quote, branch
):
    # given a customer of the branch with the lead's mobile phone, flagged on the lead
    customer = CustomerFactory(branch=branch, name="赵建华", mobile="13811112222")
    lead = sent_quote.lead
    lead.matching_customer = customer
    lead.save()
    client.force_login(consultant)
    page = client.get(reverse("sales:order-create", args=[sent_quote.pk])).content.decode()
    assert f'value="{customer.pk}" checked' in page
    # when the consultant keeps the existing customer
    response = client.post(
        reverse("sales:order-create", args=[sent_quote.pk]), {"customer": customer.pk}
    )
    # then the draft order is that customer's, at the quote's total
    order = Order.objects.get()
    assert response.url == reverse("sales:order-detail", args=[order.pk])
    assert order.customer == customer
    assert order.total_price == sent_quote.total
    assert order.status == OrderStatus.DRAFT
    assert Customer.objects.count() == 1


def test_order_with_a_new_customer_made_from_the_lead(client, consultant, sent_quote):
    client.force_login(consultant)
    response = client.post(reverse("sales:order-create", args=[sent_quote.pk]), {"customer": "new"})
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert (customer.name, customer.mobile) == ("赵建华", "13811112222")
    assert Order.objects.get().customer == customer


def test_a_possible_duplicate_customer_is_offered_instead_of_created(
    client, consultant, sent_quote, branch
):
    # given a customer with the lead's phone that the lead was not flagged with
    existing = CustomerFactory(branch=branch, name="赵建华", mobile="13811112222")
    client.force_login(consultant)
    # when the consultant asks for a new customer
    response = client.post(reverse("sales:order-create", args=[sent_quote.pk]), {"customer": "new"})
    # then the duplicate is shown to pick, and nothing is created
    page = response.content.decode()
    assert response.status_code == 200
    assert "already exists" in page
    assert f'value="{existing.pk}"' in page
    assert Customer.objects.count() == 1
    assert not Order.objects.exists()
    # and picking it makes the order
    client.post(reverse("sales:order-create", args=[sent_quote.pk]), {"customer": existing.pk})
    assert Order.objects.get().customer == existing


def test_an_unsent_quote_gets_no_order(client, consultant, branch):
    quote = QuoteFactory(branch=branch, lead=LeadFactory(branch=branch, reached="visited"))
    client.force_login(consultant)
    response = client.post(reverse("sales:order-create", args=[quote.pk]), {"customer": "new"})
    assert "sent to the customer" in response.content.decode()
    assert not Order.objects.exists()
    assert not Customer.objects.exists()


def test_a_customer_of_another_branch_cannot_be_chosen(
    client, consultant, sent_quote, other_branch
):
    stranger = CustomerFactory(branch=other_branch)
    client.force_login(consultant)
    response = client.post(
        reverse("sales:order-create", args=[sent_quote.pk]), {"customer": stranger.pk}
    )
    assert response.status_code == 200
    assert not Order.objects.exists()


# --- Signing and payments -----------------------------------------------------------------


def test_consultant_signs_the_order_and_the_lead_is_won(client, consultant, sent_quote):
    client.force_login(consultant)
    client.post(reverse("sales:order-create", args=[sent_quote.pk]), {"customer": "new"})
    order = Order.objects.get()
    response = client.post(reverse("sales:order-sign", args=[order.pk]), {"confirm": "on"})
    assert response.status_code == 302
    order.refresh_from_db()
    sent_quote.lead.refresh_from_db()
    assert order.status == OrderStatus.SIGNED
    assert sent_quote.lead.status == LeadStatus.WON


def test_signing_needs_the_confirmation(client, consultant, order):
    client.force_login(consultant)
    response = client.post(reverse("sales:order-sign", args=[order.pk]), {})
    assert response.status_code == 200
    assert response.context["sign_form"].errors["confirm"]
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT


def test_signing_twice_is_refused_with_the_services_message(client, consultant, signed_order):
    client.force_login(consultant)
    response = client.post(reverse("sales:order-sign", args=[signed_order.pk]), {"confirm": "on"})
    assert "Only a draft order can be signed" in follow(client, response).content.decode()


def test_a_received_deposit_is_recorded(client, consultant, signed_order):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:payment-create", args=[signed_order.pk]),
        {"kind": PaymentKind.DEPOSIT, "amount": "5000", "paid_on": TODAY().isoformat(),
         "method": "wechat", "reference": "WX123"},
    )  # fmt: skip
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (payment.amount, payment.paid_on, payment.recorded_by) == (
        Decimal("5000.00"), TODAY(), consultant
    )  # fmt: skip


def test_a_scheduled_payment_is_received_later(client, consultant, signed_order):
    client.force_login(consultant)
    client.post(
        reverse("sales:payment-create", args=[signed_order.pk]),
        {"kind": PaymentKind.FINAL, "amount": "50000", "due_on": TODAY().isoformat()},
    )
    payment = Payment.objects.get()
    assert payment.paid_on is None
    page = client.get(reverse("sales:order-detail", args=[signed_order.pk])).content.decode()
    assert reverse("sales:payment-receive", args=[payment.pk]) in page
    prefix = f"receive-{payment.pk}"
    response = client.post(
        reverse("sales:payment-receive", args=[payment.pk]),
        {f"{prefix}-paid_on": TODAY().isoformat(), f"{prefix}-method": "transfer"},
    )
    assert response.status_code == 302
    payment.refresh_from_db()
    assert (payment.paid_on, payment.method) == (TODAY(), "transfer")


def test_an_overpayment_is_shown_beside_the_amount(client, consultant, signed_order):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:payment-create", args=[signed_order.pk]),
        {"kind": PaymentKind.DEPOSIT, "amount": "500000", "paid_on": TODAY().isoformat()},
    )
    assert response.status_code == 200
    assert "is outstanding" in " ".join(response.context["payment_form"].errors["amount"])
    assert not Payment.objects.exists()


def test_a_zero_payment_is_refused_by_the_form(client, consultant, signed_order):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:payment-create", args=[signed_order.pk]),
        {"kind": PaymentKind.DEPOSIT, "amount": "0", "paid_on": TODAY().isoformat()},
    )
    assert response.status_code == 200
    assert response.context["payment_form"].errors["amount"]
    assert not Payment.objects.exists()


# --- Allocation, invoice, cancellation ----------------------------------------------------


def test_consultant_allocates_a_vehicle_from_the_list(client, consultant, signed_order, branch):
    other_model = StockVehicleFactory(branch=branch, series="帕萨特")
    matching = StockVehicleFactory(branch=branch)
    client.force_login(consultant)
    page = client.get(reverse("sales:order-detail", args=[signed_order.pk])).content.decode()
    # the order's model is offered first
    assert page.index(matching.vin) < page.index(other_model.vin)
    response = client.post(
        reverse("sales:order-allocate", args=[signed_order.pk]), {"stock_vehicle": matching.pk}
    )
    assert response.status_code == 302
    signed_order.refresh_from_db()
    matching.refresh_from_db()
    assert signed_order.status == OrderStatus.ALLOCATED
    assert signed_order.stock_vehicle == matching
    assert matching.status == StockStatus.RESERVED


def test_allocation_by_typed_vin(client, consultant, signed_order, branch):
    vehicle = StockVehicleFactory(branch=branch)
    client.force_login(consultant)
    client.post(
        reverse("sales:order-allocate", args=[signed_order.pk]), {"vin": vehicle.vin.lower()}
    )
    signed_order.refresh_from_db()
    assert signed_order.stock_vehicle == vehicle


def test_allocating_an_unavailable_vin_is_refused_beside_the_vin(
    client, consultant, signed_order, branch
):
    # given a vehicle already reserved for another order
    taken = OrderFactory(branch=branch, status=OrderStatus.ALLOCATED).stock_vehicle
    client.force_login(consultant)
    # when its VIN is typed
    response = client.post(
        reverse("sales:order-allocate", args=[signed_order.pk]), {"vin": taken.vin}
    )
    # then the service's message is beside the VIN and nothing changed
    assert response.status_code == 200
    assert "cannot be allocated" in " ".join(response.context["allocate_form"].errors["vin"])
    signed_order.refresh_from_db()
    assert signed_order.status == OrderStatus.SIGNED
    assert signed_order.stock_vehicle is None


def test_a_vin_of_another_branch_is_not_found(client, consultant, signed_order, other_branch):
    elsewhere = StockVehicleFactory(branch=other_branch)
    client.force_login(consultant)
    response = client.post(
        reverse("sales:order-allocate", args=[signed_order.pk]), {"vin": elsewhere.vin}
    )
    assert response.context["allocate_form"].errors["vin"]
    signed_order.refresh_from_db()
    assert signed_order.stock_vehicle is None


def test_a_paid_order_is_invoiced(client, consultant, branch):
    order = OrderFactory(branch=branch, status=OrderStatus.ALLOCATED)
    PaymentFactory(order=order, amount=order.total_price)
    client.force_login(consultant)
    client.post(reverse("sales:order-invoice", args=[order.pk]), {"invoice_number": "44001234"})
    order.refresh_from_db()
    assert (order.status, order.invoice_number) == (OrderStatus.INVOICED, "44001234")
    assert order.stock_vehicle.status == StockStatus.SOLD


def test_an_unpaid_order_is_not_invoiced(client, consultant, branch):
    order = OrderFactory(branch=branch, status=OrderStatus.ALLOCATED)
    client.force_login(consultant)
    response = client.post(
        reverse("sales:order-invoice", args=[order.pk]), {"invoice_number": "44001234"}
    )
    assert "still outstanding" in follow(client, response).content.decode()
    order.refresh_from_db()
    assert (order.status, order.invoice_number) == (OrderStatus.ALLOCATED, "")


def test_cancelling_a_paid_order_asks_what_happens_to_the_deposit(
    client, sales_manager, signed_order
):
    PaymentFactory(order=signed_order)
    client.force_login(sales_manager)
    page = client.get(reverse("sales:order-detail", args=[signed_order.pk])).content.decode()
    assert 'name="deposit_handling"' in page
    response = client.post(
        reverse("sales:order-cancel", args=[signed_order.pk]), {"reason": "贷款未批"}
    )
    assert response.status_code == 200
    assert response.context["cancel_form"].errors["deposit_handling"]
    signed_order.refresh_from_db()
    assert signed_order.status == OrderStatus.SIGNED
    client.post(
        reverse("sales:order-cancel", args=[signed_order.pk]),
        {"reason": "贷款未批", "deposit_handling": DepositHandling.REFUNDED},
    )
    signed_order.refresh_from_db()
    assert signed_order.status == OrderStatus.CANCELLED
    assert signed_order.deposit_handling == DepositHandling.REFUNDED


def test_an_unpaid_order_is_cancelled_without_deposit_question(client, sales_manager, order):
    client.force_login(sales_manager)
    page = client.get(reverse("sales:order-detail", args=[order.pk])).content.decode()
    assert 'name="deposit_handling"' not in page
    client.post(reverse("sales:order-cancel", args=[order.pk]), {"reason": "客户改变主意"})
    order.refresh_from_db()
    assert (order.status, order.deposit_handling) == (OrderStatus.CANCELLED, DepositHandling.NONE)


def test_cancelling_the_order_of_a_won_lead_asks_why_and_loses_the_lead(
    client, sales_manager, branch, consultant
):
    # given a signed order whose lead it won
    lead = LeadFactory(branch=branch, reached="ordered", status=LeadStatus.WON)
    order = OrderFactory(branch=branch, consultant=consultant, lead=lead, status=OrderStatus.SIGNED)
    client.force_login(sales_manager)
    page = client.get(reverse("sales:order-detail", args=[order.pk])).content.decode()
    assert 'name="lost_reason"' in page
    # when the manager cancels it: the customer bought another brand
    client.post(
        reverse("sales:order-cancel", args=[order.pk]),
        {"reason": "客户改买竞品", "lost_reason": LostReason.COMPETITOR_BRAND},
    )
    # then the lead is lost for that reason
    lead.refresh_from_db()
    assert (lead.status, lead.lost_reason) == (LeadStatus.LOST, LostReason.COMPETITOR_BRAND)


# --- Delivery -----------------------------------------------------------------------------


def delivery_form(**overrides) -> dict:
    return {
        "delivered_on": TODAY().isoformat(),
        "odometer_km": "12",
        "plate": "",
        "checklist": list(DeliveryCheck.values),
        "documents": list(DeliveryDocument.values),
        "note": "",
        **overrides,
    }


def test_delivery_form_marks_the_required_documents(client, consultant, invoiced_order):
    client.force_login(consultant)
    response = client.get(reverse("sales:delivery-create", args=[invoiced_order.pk]))
    page = response.content.decode()
    for value in DeliveryCheck.values:
        assert f'value="{value}"' in page
    options = {o["value"]: o["required"] for o in response.context["form"].document_options()}
    assert options["invoice"] is True and options["insurance"] is False


def test_an_invoiced_inspected_order_is_delivered(client, consultant, invoiced_order):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:delivery-create", args=[invoiced_order.pk]), delivery_form(plate="粤A12345")
    )
    assert response.status_code == 302
    invoiced_order.refresh_from_db()
    delivery = Delivery.objects.get()
    assert invoiced_order.status == OrderStatus.DELIVERED
    assert delivery.vehicle.owner == invoiced_order.customer
    assert delivery.vehicle.plate == "粤A12345"
    assert delivery.odometer_km == 12


def test_delivery_without_pdi_is_refused_with_the_services_message(
    client, consultant, invoiced_order
):
    vehicle = invoiced_order.stock_vehicle
    vehicle.pdi_done_on = None
    vehicle.save()
    client.force_login(consultant)
    response = client.post(
        reverse("sales:delivery-create", args=[invoiced_order.pk]), delivery_form()
    )
    assert response.status_code == 200
    assert "no pre-delivery inspection" in response.content.decode()
    invoiced_order.refresh_from_db()
    assert invoiced_order.status == OrderStatus.INVOICED
    assert not Delivery.objects.exists()
    assert not Vehicle.objects.exists()


def test_delivery_of_an_order_not_invoiced_is_refused(client, consultant, signed_order):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:delivery-create", args=[signed_order.pk]), delivery_form()
    )
    assert "Only an invoiced order can be delivered" in response.content.decode()
    assert not Delivery.objects.exists()


def test_a_missing_document_is_shown_beside_the_documents(client, consultant, invoiced_order):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:delivery-create", args=[invoiced_order.pk]),
        delivery_form(documents=["invoice", "manual"]),
    )
    assert response.status_code == 200
    assert "Hand over" in " ".join(response.context["form"].errors["documents"])
    assert not Delivery.objects.exists()


# --- List ---------------------------------------------------------------------------------


def test_order_list_filters_by_status_and_customer(client, consultant, branch, order, signed_order):
    client.force_login(consultant)
    response = client.get(reverse("sales:order-list"), {"status": "signed"})
    assert [o.pk for o in response.context["page"]] == [signed_order.pk]
    response = client.get(reverse("sales:order-list"), {"search": order.customer.name})
    assert order.pk in [o.pk for o in response.context["page"]]


def test_order_list_queries_do_not_grow_with_the_rows(
    client, consultant, branch, django_assert_max_num_queries
):
    client.force_login(consultant)

    def queries() -> int:
        with django_assert_max_num_queries(20) as captured:
            assert client.get(reverse("sales:order-list")).status_code == 200
        return len(captured)

    def one_order():
        order = OrderFactory(branch=branch, consultant=consultant, status=OrderStatus.ALLOCATED)
        PaymentFactory(order=order)

    one_order()
    one = queries()
    for _ in range(19):
        one_order()
    assert queries() == one


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("sales:order-allocate", {"stock_vehicle": "abc"}),
        ("sales:order-allocate", {"stock_vehicle": "999999", "vin": "NOT-A-VIN"}),
        ("sales:payment-create", {"kind": "gift", "amount": "lots", "paid_on": "yesterday"}),
        ("sales:order-invoice", {"invoice_number": "x" * 100}),
    ],
)
def test_bad_input_is_answered_on_the_page(client, consultant, signed_order, url_name, data):
    client.force_login(consultant)
    response = client.post(reverse(url_name, args=[signed_order.pk]), data)
    assert response.status_code in (200, 302)
    signed_order.refresh_from_db()
    assert signed_order.status == OrderStatus.SIGNED
    assert not Payment.objects.exists()


def test_bad_order_list_parameters_never_fail(client, consultant, order):
    client.force_login(consultant)
    response = client.get(
        reverse("sales:order-list"), {"status": "bogus", "consultant": "x", "sort": "zzz"}
    )
    assert response.status_code == 200
