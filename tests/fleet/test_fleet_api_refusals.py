"""Bad input to the fleet API: refused with a stable code (or DRF's field errors) and a clear
message, and nothing changed."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from dealer_crm.choices import Role
from fleet import services
from fleet.choices import ProtectionStatus, RequestStatus
from fleet.models import DealLine, FleetAgreement, FleetDeal, FleetOrder
from sales.models import Order
from tests.factories import UserFactory
from tests.fleet.helpers import (
    FLEET_MODELS,
    agreement_with_tiers,
    counts,
    deal_for,
    lapse,
    priced,
    state,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

API = "/api/v1/"


def refused(response, status: int, code: str, field: str | None = None) -> dict:
    body = response.json()
    assert (response.status_code, body.get("code")) == (status, code), body
    assert body["detail"]
    if field:
        assert body[field] == [body["detail"]]
    return body


def discount(deal, by):
    return services.discount_request_create(
        deal=deal, discount_per_unit=Decimal("500.00"), units=10, justification="竞品", by=by
    )


@pytest.fixture
def deal(account, fleet_manager):
    return deal_for(account, fleet_manager)


def test_overlapping_tier_bands_are_refused_and_the_tiers_kept(api_as, account, fleet_manager):
    # given an agreement with two tiers
    agreement = agreement_with_tiers(account, fleet_manager)
    before = list(agreement.bands.values_list("from_units", "to_units", "support_per_unit"))
    # when tiers 1–10 and 8–20 are sent
    response = api_as(fleet_manager).post(
        f"{API}fleet-agreements/{agreement.pk}/tiers/",
        {"bands": [
            {"from_units": 1, "to_units": 10, "support_per_unit": "1000.00"},
            {"from_units": 8, "to_units": 20, "support_per_unit": "2000.00"},
        ]},
    )  # fmt: skip
    # then they are refused beside the bands, and the earlier tiers stand
    body = refused(response, 400, "tier_bands_overlap", field="bands")
    assert "overlap" in body["detail"]
    assert list(agreement.bands.values_list("from_units", "to_units", "support_per_unit")) == before


def test_an_agreement_whose_validity_contradicts_the_rule_is_refused(
    api_as, account, fleet_manager
):
    # given an agreement signed before 1 July, said to run to the end of the next year
    signed_on = timezone.localdate().replace(month=3, day=1)
    if signed_on > timezone.localdate():  # early in the year: last year's March
        signed_on = signed_on.replace(year=signed_on.year - 1)
    # when it is recorded
    response = api_as(fleet_manager).post(
        f"{API}fleet-agreements/",
        {"account": account.pk, "signed_on": str(signed_on),
         "valid_until": str(date(signed_on.year + 1, 12, 31))},
    )  # fmt: skip
    # then it is refused, naming the date it runs to, and no agreement is recorded
    body = refused(response, 400, "agreement_dates_contradict", field="valid_until")
    assert f"{signed_on.year}-12-31" in body["detail"]
    assert not FleetAgreement.objects.exists()


def test_a_request_refused_cannot_then_be_approved(
    api_as, deal, fleet_manager, sales_manager, branch_manager
):
    # given a discount request the sales manager refused
    request = discount(deal, fleet_manager)
    url = f"{API}discount-requests/{request.pk}/"
    refusal = api_as(sales_manager).post(url + "refuse/", {"note": "超出授权"})
    assert refusal.status_code == 200, refusal.json()
    # when the branch manager approves it
    response = api_as(branch_manager).post(url + "approve/")
    # then it is refused as decided, and stays refused by the sales manager
    refused(response, 409, "request_decided")
    request.refresh_from_db()
    assert (request.status, request.decided_by) == (RequestStatus.REFUSED, sales_manager)


def test_nobody_approves_their_own_request(api_as, branch, deal):
    # given a fleet director who both asks for discounts and approves them
    director = UserFactory(roles=[Role.FLEET_MANAGER, Role.SALES_MANAGER], branches=[branch])
    client = api_as(director)
    created = client.post(
        f"{API}discount-requests/",
        {"deal": deal.pk, "discount_per_unit": "600.00", "units": 10, "justification": "竞品"},
    )
    assert created.status_code == 201, created.json()
    # when they approve their own request
    response = client.post(f"{API}discount-requests/{created.json()['id']}/approve/")
    # then it is refused, and it still waits for someone else
    refused(response, 400, "own_request")
    assert client.get(f"{API}discount-requests/{created.json()['id']}/").json()["status"] == (
        "pending"
    )


def test_a_refusal_without_a_reason_is_refused(api_as, deal, fleet_manager, sales_manager):
    request = discount(deal, fleet_manager)
    response = api_as(sales_manager).post(f"{API}discount-requests/{request.pk}/refuse/", {})
    refused(response, 400, "reason_required", field="note")
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "fleet-deals/{deal}/orders/",
            {"line": "{line}", "quantity": 0, "unit_price": "100000.00",
             "agreement": "{agreement}"},
            "quantity",
        ),
        (
            "discount-requests/",
            {"deal": "{deal}", "discount_per_unit": "100.00", "units": 0, "justification": "x"},
            "units",
        ),
        (
            "special-configuration-requests/",
            {"deal": "{deal}", "description": "警用涂装", "units": 0, "justification": "x"},
            "units",
        ),
    ],
)  # fmt: skip
def test_a_quantity_of_zero_is_refused(api_as, account, deal, fleet_manager, path, body, field):
    # given a deal, an agreement and a batch priced on it
    agreement = agreement_with_tiers(account, fleet_manager)
    order = priced(deal, agreement, fleet_manager, 5)
    ids = {"deal": deal.pk, "agreement": agreement.pk, "line": deal.lines.get().pk}
    body = {key: ids[value.strip("{}")] if value in ("{deal}", "{agreement}", "{line}") else value
            for key, value in body.items()}  # fmt: skip
    before, order_before = counts(*FLEET_MODELS), state(order)
    # when zero vehicles are sent
    response = api_as(fleet_manager).post(API + path.format(**ids), body)
    # then it is refused beside the quantity, and nothing changed
    refused(response, 400, "quantity_not_positive", field=field)
    assert counts(*FLEET_MODELS) == before
    assert state(order) == order_before


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"unit_price": "0.00"}, "price_not_positive", "unit_price"),
        ({"line": "{other_line}"}, "line_other_deal", "line"),
        ({"quantity": 26}, "batch_exceeds_line", "quantity"),
    ],
    ids=["no price per vehicle", "another deal's model", "more than the model's units left"],
)
def test_a_batch_the_deal_does_not_allow_is_refused(
    api_as, account, deal, fleet_manager, change, code, field
):
    # given a deal for 30 with a batch of 5 priced, and another deal of the account
    agreement = agreement_with_tiers(account, fleet_manager)
    priced(deal, agreement, fleet_manager, 5)
    other_line = deal_for(account, fleet_manager, title="公务车").lines.get()
    body = {"line": deal.lines.get().pk, "quantity": 5, "unit_price": "100000.00",
            "agreement": agreement.pk, **change}  # fmt: skip
    if body["line"] == "{other_line}":
        body["line"] = other_line.pk
    before = counts(*FLEET_MODELS)
    # when a batch is priced without a price, of the other deal's model, or beyond the 25 left
    response = api_as(fleet_manager).post(f"{API}fleet-deals/{deal.pk}/orders/", body)
    # then it is refused beside the field, and no batch, sales order or customer is made
    refused(response, 400, code, field=field)
    assert counts(*FLEET_MODELS) == before


def test_a_deal_with_a_line_of_zero_is_refused_whole(api_as, account, fleet_manager):
    # when a deal is opened with one good line and one of zero vehicles
    response = api_as(fleet_manager).post(
        f"{API}fleet-deals/",
        {"account": account.pk, "title": "公务车采购",
         "lines": [{"brand": "大众", "series": "帕萨特", "quantity": 5},
                   {"brand": "大众", "series": "朗逸", "quantity": 0}]},
    )  # fmt: skip
    # then it is refused, and neither the deal nor its first line was kept
    refused(response, 400, "quantity_not_positive", field="lines")
    assert (FleetDeal.objects.count(), DealLine.objects.count()) == (0, 0)


def test_a_special_deal_needs_its_negotiated_support(api_as, account, fleet_manager):
    agreement = agreement_with_tiers(account, fleet_manager)
    deal = deal_for(account, fleet_manager, quantity=51)
    response = api_as(fleet_manager).post(
        f"{API}fleet-deals/{deal.pk}/orders/",
        {"line": deal.lines.get().pk, "quantity": 51, "unit_price": "100000.00",
         "agreement": agreement.pk},
    )  # fmt: skip
    refused(response, 400, "special_deal_needs_terms", field="negotiated_support")
    assert not FleetOrder.objects.exists()
    assert not Order.objects.exists()


def test_an_account_not_lapsed_is_not_reassigned(api_as, account, other_branch, group_manager):
    # given a registered account whose protection did not lapse, and a colleague elsewhere
    colleague = UserFactory(roles=[Role.FLEET_MANAGER], branches=[other_branch])
    url = f"{API}fleet-accounts/{account.pk}/reassign/"
    body = {"branch": other_branch.pk, "account_manager": colleague.pk}
    # when the group manager gives it to the other branch, it is refused
    refused(api_as(group_manager).post(url, body), 409, "account_not_lapsed")
    assert state(account)["branch_id"] != other_branch.pk
    # and once it lapsed, it is given
    lapse(account)
    moved = api_as(group_manager).post(url, body)
    assert moved.status_code == 200, moved.json()
    assert (moved.json()["branch"], moved.json()["status"]) == (
        other_branch.pk,
        ProtectionStatus.REGISTERED,
    )


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"name", "account_class", "credit_code"}),
        ({"name": "x", "account_class": "airline", "credit_code": "9144030071526726XG"},
         {"account_class"}),
        ({"name": "x" * 101, "account_class": "rental", "credit_code": "9144030071526726XG"},
         {"name"}),
        ({"name": "x", "account_class": "rental", "credit_code": "9144030071526726X1"},
         {"credit_code"}),
        ({"name": "x", "account_class": "rental", "credit_code": "x", "parent": "abc"},
         {"parent"}),
    ],
)  # fmt: skip
def test_a_registration_with_bad_fields_is_refused_beside_them(api_as, fleet_manager, body, fields):
    response = api_as(fleet_manager).post(f"{API}fleet-accounts/", body)
    assert response.status_code == 400, response.json()
    assert fields <= set(response.json()), response.json()
    assert counts(*FLEET_MODELS) == {model.__name__: 0 for model in FLEET_MODELS}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("fleet-deals/{deal}/orders/", {"quantity": "abc"}, "quantity"),
        ("fleet-deals/{deal}/orders/", {"quantity": 10**9}, "quantity"),
        ("fleet-deals/{deal}/orders/", {"quantity": 1, "unit_price": "abc"}, "unit_price"),
        ("fleet-deals/{deal}/orders/", {"quantity": 1, "unit_price": "-1.00"}, "unit_price"),
        ("fleet-deals/{deal}/orders/", {"quantity": 1, "line": "abc"}, "line"),
        ("fleet-deals/{deal}/orders/", {"quantity": 1, "line": 10**9}, "line"),
        ("fleet-deals/{deal}/orders/", {"quantity": 1}, "line"),
        ("fleet-deals/{deal}/stage/", {"stage": "signed"}, "stage"),
        ("fleet-accounts/{account}/progress-reports/", {"month": "last month", "summary": "x"},
         "month"),
        ("fleet-agreements/", {"account": "{account}", "signed_on": "2026-02-30"}, "signed_on"),
        ("fleet-agreements/{agreement}/tiers/", {"bands": []}, "bands"),
        ("fleet-orders/{order}/settle/", {"amount": "1.234"}, "amount"),
    ],
)  # fmt: skip
def test_wrong_types_are_refused_beside_the_field(
    api_as, account, deal, fleet_manager, path, body, field
):
    agreement = agreement_with_tiers(account, fleet_manager)
    ids = {"deal": deal.pk, "account": account.pk, "agreement": agreement.pk}
    ids["order"] = priced(deal, agreement, fleet_manager, 5).pk
    body = {key: ids["account"] if value == "{account}" else value for key, value in body.items()}
    before = counts(*FLEET_MODELS)
    response = api_as(fleet_manager).post(API + path.format(**ids), body)
    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    assert counts(*FLEET_MODELS) == before


def test_a_progress_report_not_on_the_first_is_refused(api_as, account, fleet_manager):
    month = timezone.localdate().replace(day=1)
    client = api_as(fleet_manager)
    url = f"{API}fleet-accounts/{account.pk}/progress-reports/"
    refused(client.post(url, {"month": str(month.replace(day=2)), "summary": "拜访"}), 400,
            "month_not_first", field="month")  # fmt: skip
    # while the month's first day is reported, and listed
    assert client.post(url, {"month": str(month), "summary": "拜访采购中心"}).status_code == 201
    assert [r["month"] for r in client.get(url).json()] == [str(month)]
