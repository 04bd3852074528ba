"""A typed record number or id is read as plain 0-9 digits only: "CP00012", "cp12" and "12"
find record 12, while "12²" (str.isdigit() says yes, int() says no) or "１２" find nothing and
never answer a 500 — in the lists' searches, the API's filters and the pages' posted ids.
And a choice filter shared by a page and the API: one select on the page, several values
through the API."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from customers.care import services as care
from customers.care.choices import (
    ComplaintCategory,
    ComplaintChannel,
    OfferKind,
    Severity,
    TargetSegment,
)
from customers.care.filters import ComplaintFilter
from customers.care.models import Complaint
from dealer_crm.filters import number_pk, plain_id
from sales.forms.orders import OrderCreateForm
from tests.factories import CustomerFactory, PartFactory
from tests.factories.parts import draft_purchase_order

API = "/api/v1/"
TYPED_WRONG = ["12²", "²", "１２", "12 3", "1_2", "-12"]


# --- The helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, prefix, expected",
    [
        ("PO00012", "PO", 12),
        ("po12", "PO", 12),
        ("12", "PO", 12),
        ("  PO12 ", "PO", 12),
        ("CP00012", "cp", 12),
        ("12", "", 12),
        ("0", "", 0),
        ("999999999", "", 999_999_999),
        # the superscript two and other digits int() may or may not read
        ("12²", "PO", None),
        ("PO12²", "PO", None),
        ("²", "", None),
        ("１２", "", None),  # full-width
        ("١٢", "", None),  # Arabic-Indic
        # what int() would read but no one types as a number
        ("1_2", "", None),
        ("-12", "", None),
        ("+12", "", None),
        # another document's prefix, a separator, nothing after the prefix, too many digits
        ("CP12", "PO", None),
        ("PO-12", "PO", None),
        ("PO 12", "PO", None),
        ("PO", "PO", None),
        ("1234567890", "", None),
        ("", "", None),
        (None, "", None),
    ],
)
def test_a_typed_number_stands_for_a_record_only_in_plain_digits(typed, prefix, expected):
    assert number_pk(typed, prefix) == expected


@pytest.mark.parametrize(
    "submitted, expected",
    [
        ("12", "12"),
        (12, "12"),
        ("123456789012", "123456789012"),
        ("1234567890123", ""),
        ("12²", ""),
        ("１２", ""),
        (" 12", ""),
        ("12\n", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_a_submitted_id_is_plain_digits_or_nothing(submitted, expected):
    assert plain_id(submitted) == expected


# --- The lists' searches -------------------------------------------------------------------


def complaint(branch, by) -> Complaint:
    return care.complaint_create(
        branch=branch,
        customer=CustomerFactory(branch=branch, name="欧阳娜娜"),
        by=by,
        data={
            "channel": ComplaintChannel.PHONE,
            "category": ComplaintCategory.WAITING,
            "severity": Severity.MEDIUM,
            "description": "保养等了三个小时",
        },
    )


def campaign(branch, by):
    today = timezone.localdate()
    return care.campaign_create(
        branch=branch,
        by=by,
        data={
            "name": "质保期客户回厂关怀",
            "segment": TargetSegment.WARRANTY,
            "offer": OfferKind.HALF_LABOUR,
            "message": "质保期内保养享工时五折。",
            "starts_on": today,
            "ends_on": today + timedelta(days=30),
            "target_rate": Decimal("30"),
        },
    )


def page_rows(client, name: str, search: str) -> list[int]:
    response = client.get(reverse(name), {"search": search})
    assert response.status_code == 200, (search, response.status_code)
    return [row.pk for row in response.context["page"]]


def api_rows(client, path: str, search: str) -> list[int]:
    response = client.get(f"{API}{path}", {"search": search})
    assert response.status_code == 200, (search, response.status_code)
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.django_db
def test_the_complaints_are_found_by_number_and_a_mistyped_one_finds_none(
    client, api_as, branch, customer_care
):
    # given a complaint
    found = complaint(branch, customer_care)
    client.force_login(customer_care)
    api = api_as(customer_care)
    number = found.number  # CP000..
    # when its number is typed with or without the prefix, then the page and the API find it
    for typed in [number, number.lower(), str(found.pk)]:
        assert page_rows(client, "care:complaint-list", typed) == [found.pk]
        assert api_rows(api, "complaints/", typed) == [found.pk]
    # when it is typed with a superscript or full-width digit, then both answer, finding none
    for typed in [f"{number}²", f"CP{found.pk}²", f"{found.pk}²", *TYPED_WRONG]:
        assert page_rows(client, "care:complaint-list", typed) == []
        assert api_rows(api, "complaints/", typed) == []


@pytest.mark.django_db
def test_the_campaigns_are_found_by_number_and_a_mistyped_one_finds_none(
    client, api_as, branch, branch_manager
):
    found = campaign(branch, branch_manager)
    client.force_login(branch_manager)
    api = api_as(branch_manager)
    for typed in [found.number, found.number.lower(), str(found.pk)]:
        assert page_rows(client, "care:campaign-list", typed) == [found.pk]
        assert api_rows(api, "campaigns/", typed) == [found.pk]
    for typed in [f"{found.number}²", f"CA{found.pk}²", *TYPED_WRONG]:
        assert page_rows(client, "care:campaign-list", typed) == []
        assert api_rows(api, "campaigns/", typed) == []


@pytest.mark.django_db
def test_the_parts_documents_are_found_by_number_and_a_mistyped_one_finds_none(
    client, api_as, branch, parts_clerk
):
    order = draft_purchase_order(branch, parts_clerk, [(PartFactory(), 1, "1.00")])
    client.force_login(parts_clerk)
    api = api_as(parts_clerk)
    for typed in [order.number, order.number.lower(), str(order.pk)]:
        assert page_rows(client, "parts:purchase-order-list", typed) == [order.pk]
    for typed in [f"{order.number}²", f"PO{order.pk}²", *TYPED_WRONG]:
        assert page_rows(client, "parts:purchase-order-list", typed) == []
        assert api_rows(api, "purchase-orders/", typed) == []
        # the receipts are searched by their own number and by their order's
        page_rows(client, "parts:receipt-list", typed)
        api_rows(api, "receipts/", typed)


@pytest.mark.django_db
def test_the_work_order_and_vehicle_file_lists_answer_a_mistyped_number(
    client, advisor, customer_care
):
    for persona, name, typed in [
        (advisor, "service:work-order-list", "RO12²"),
        (customer_care, "archives:file-list", "VF12²"),
    ]:
        client.force_login(persona)
        assert page_rows(client, name, typed) == []


# --- Ids posted by pages and in API paths --------------------------------------------------


@pytest.mark.django_db
def test_a_loyalty_rule_of_a_mistyped_branch_is_not_found(api_as, branch, branch_manager):
    api = api_as(branch_manager)
    assert api.get(f"{API}loyalty-rules/{branch.pk}/").status_code == 200
    assert api.get(f"{API}loyalty-rules/{branch.pk}²/").status_code == 404


@pytest.mark.django_db
def test_a_satisfaction_grid_for_a_mistyped_criterion_is_refused_on_the_page(
    client, branch, branch_manager
):
    model = care.satisfaction_model_create(branch=branch, name="售后满意度", by=branch_manager)
    client.force_login(branch_manager)
    response = client.post(
        reverse("care:satisfaction-matrix", args=[model.pk]), {"parent": "1²"}, follow=True
    )
    assert response.status_code == 200
    assert "Choose the criteria to compare on the page." in response.content.decode()


@pytest.mark.django_db
def test_an_order_for_a_mistyped_customer_number_is_refused_beside_the_field(branch, consultant):
    customer = CustomerFactory(branch=branch)

    def form(typed: str) -> OrderCreateForm:
        return OrderCreateForm({"customer": typed}, user=consultant, branch_id=branch.pk)

    chosen = form(str(customer.pk))
    assert chosen.is_valid() and chosen.cleaned_data["customer"] == customer
    for typed in [f"{customer.pk}²", "²", "１"]:
        refused = form(typed)
        assert not refused.is_valid() and list(refused.errors) == ["customer"]


# --- One choice on the page, several through the API ---------------------------------------


@pytest.mark.django_db
def test_a_shared_choice_filter_takes_one_value_from_the_page_and_several_from_the_api(
    branch, customer_care
):
    # given a complaint by phone, one by WeChat and one walked in
    made = {
        channel: care.complaint_create(
            branch=branch,
            customer=CustomerFactory(branch=branch),
            by=customer_care,
            data={
                "channel": channel,
                "category": ComplaintCategory.WAITING,
                "severity": Severity.LOW,
                "description": "等待时间太长",
            },
        )
        for channel in [ComplaintChannel.PHONE, ComplaintChannel.WECHAT, ComplaintChannel.WALK_IN]
    }

    def shown(query: str) -> ComplaintFilter:
        return ComplaintFilter(QueryDict(query), queryset=Complaint.objects.all())

    # when the page's select sends one channel, then its complaints are listed and it stays
    # chosen in the select, headed "All"
    page = shown("channel=wechat")
    assert list(page.qs) == [made[ComplaintChannel.WECHAT]]
    select = str(page.form["channel"])
    assert '<option value="">All</option>' in select
    assert '<option value="wechat" selected>' in select
    # when an API client sends two, then both are listed
    api = shown("channel=phone&channel=walk_in")
    assert set(api.qs) == {made[ComplaintChannel.PHONE], made[ComplaintChannel.WALK_IN]}
    # when "All" is chosen, then nothing is filtered; an unknown channel is refused
    assert shown("channel=").qs.count() == 3
    refused = shown("channel=fax")
    assert not refused.is_valid() and list(refused.errors) == ["channel"]


@pytest.mark.django_db
def test_a_yes_no_filter_shows_the_answer_chosen():
    def select(query: str) -> str:
        filterset = ComplaintFilter(QueryDict(query), queryset=Complaint.objects.none())
        return str(filterset.form["overdue"])

    # the page's select, headed "All", keeps the answer the query string chose

    assert '<option value="true" selected>' in select("overdue=true")
    assert '<option value="false" selected>' in select("overdue=false")
    assert "selected" not in select("")
