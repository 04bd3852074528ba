"""Across the fleet API: anonymous clients are told to log in, roles without the permission are
refused, another branch's records are invisible on every endpoint, and every list costs a fixed
number of queries."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from dealer_crm.choices import Role
from fleet import services
from fleet.choices import ProtectionStatus, RequestStatus
from fleet.models import FleetAccount
from tests.factories import UserFactory
from tests.fleet.helpers import agreement_with_tiers, counts, deal_for, priced, register, state

pytestmark = pytest.mark.django_db

API = "/api/v1/"

LISTS = [
    "fleet-accounts/",
    "fleet-deals/",
    "fleet-orders/",
    "fleet-agreements/",
    "discount-requests/",
    "special-configuration-requests/",
]

# A deal line of one vehicle, as a client sends it.
ONE_VEHICLE = {"brand": "大众", "series": "朗逸", "quantity": 1}

# (method, path with {} for the id, record): every endpoint that names one record.
DETAIL_ENDPOINTS = [
    ("get", "fleet-accounts/{}/", "account"),
    ("post", "fleet-accounts/{}/confirm/", "account"),
    ("post", "fleet-accounts/{}/reassign/", "account"),
    ("get", "fleet-accounts/{}/progress-reports/", "account"),
    ("post", "fleet-accounts/{}/progress-reports/", "account"),
    ("post", "fleet-accounts/{}/buying-centre/", "account"),
    ("get", "fleet-deals/{}/", "deal"),
    ("post", "fleet-deals/{}/stage/", "deal"),
    ("post", "fleet-deals/{}/orders/", "deal"),
    ("get", "fleet-deals/{}/statement/", "deal"),
    ("get", "fleet-orders/{}/", "order"),
    ("post", "fleet-orders/{}/settle/", "order"),
    ("get", "fleet-agreements/{}/", "agreement"),
    ("post", "fleet-agreements/{}/tiers/", "agreement"),
    ("get", "discount-requests/{}/", "discount"),
    ("post", "discount-requests/{}/approve/", "discount"),
    ("post", "discount-requests/{}/refuse/", "discount"),
    ("get", "special-configuration-requests/{}/", "configuration"),
    ("post", "special-configuration-requests/{}/approve/", "configuration"),
    ("post", "special-configuration-requests/{}/refuse/", "configuration"),
]


def discount(deal, by):
    return services.discount_request_create(
        deal=deal, discount_per_unit=Decimal("500.00"), units=10, justification="竞品", by=by
    )


def configuration(deal, by):
    return services.special_configuration_request(
        deal=deal, description="警用涂装", units=10, justification="公安采购", by=by
    )


@pytest.fixture
def records(branch, fleet_manager) -> dict:
    """One record of each fleet resource in the fleet manager's branch."""
    account = register(branch, fleet_manager)
    deal = deal_for(account, fleet_manager)
    agreement = agreement_with_tiers(account, fleet_manager)
    return {
        "account": account,
        "deal": deal,
        "agreement": agreement,
        "order": priced(deal, agreement, fleet_manager, 5),
        "discount": discount(deal, fleet_manager),
        "configuration": configuration(deal, fleet_manager),
    }


@pytest.fixture
def other_fleet_office(other_branch):
    """A fleet and sales manager of the other branch: every fleet permission, none of our
    records."""
    return UserFactory(
        roles=[Role.FLEET_MANAGER, Role.SALES_MANAGER], branches=[other_branch], username="panyu"
    )


# --- 401, 403 --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", LISTS)
def test_anonymous_clients_get_401(api_client, path):
    assert api_client.get(API + path).status_code == 401


@pytest.mark.parametrize("path", LISTS)
def test_a_sales_consultant_cannot_read_fleet_lists(api_as, consultant, records, path):
    # given a sales consultant, who has no fleet permission
    # when they read a fleet list
    response = api_as(consultant).get(API + path)
    # then it is refused
    assert response.status_code == 403


def test_a_fleet_manager_cannot_confirm_an_account(api_as, fleet_manager, records):
    # when the fleet manager confirms their own registration
    url = f"{API}fleet-accounts/{records['account'].pk}/confirm/"
    response = api_as(fleet_manager).post(url)
    # then it is refused for lack of the permission, and the account is not protected
    assert response.status_code == 403
    assert FleetAccount.objects.get(pk=records["account"].pk).status == ProtectionStatus.REGISTERED


@pytest.mark.parametrize(
    ("path", "record"),
    [
        ("discount-requests/{}/approve/", "discount"),
        ("discount-requests/{}/refuse/", "discount"),
        ("special-configuration-requests/{}/approve/", "configuration"),
        ("special-configuration-requests/{}/refuse/", "configuration"),
        ("fleet-accounts/{}/reassign/", "account"),
    ],
)
def test_a_fleet_manager_cannot_decide_requests_or_reassign(
    api_as, fleet_manager, records, path, record
):
    # given a colleague's pending request (a fleet manager may not decide any)
    colleague = UserFactory(
        roles=[Role.FLEET_MANAGER], branches=[fleet_manager.staff.branches.get()]
    )
    # when a fleet manager decides it
    response = api_as(colleague).post(API + path.format(records[record].pk), {"note": "不行"})
    # then it is refused, and the request is still pending
    assert response.status_code == 403
    for name in ("discount", "configuration"):
        records[name].refresh_from_db()
        assert records[name].status == RequestStatus.PENDING


def test_a_sales_manager_only_reads_and_decides(api_as, sales_manager, records):
    # given a sales manager, who confirms and approves but does not file fleet records
    client = api_as(sales_manager)
    # when they read the deals and try to open one
    listed = client.get(f"{API}fleet-deals/")
    made = client.post(
        f"{API}fleet-deals/",
        {"account": records["account"].pk, "title": "x", "lines": [ONE_VEHICLE]},
    )
    # then the list is theirs to read, the new deal is not theirs to make
    assert listed.status_code == 200 and len(listed.json()["results"]) == 1
    assert made.status_code == 403


def test_batches_are_no_longer_delivered_through_the_fleet_api(api_as, fleet_manager, records):
    # given a priced batch, whose vehicles sales delivers
    order = records["order"]
    before = (state(order), counts())
    # when a client still posts a delivery of the batch to the fleet API
    response = api_as(fleet_manager).post(f"{API}fleet-orders/{order.pk}/deliver/", {"units": 5})
    # then there is no such action, and nothing was delivered
    assert response.status_code in (404, 405)
    assert (state(order), counts()) == before


def test_fleet_records_are_never_edited_or_deleted(api_as, fleet_manager, records):
    url = f"{API}fleet-deals/{records['deal'].pk}/"
    client = api_as(fleet_manager)
    assert client.patch(url, {"title": "改名"}).status_code == 405
    assert client.delete(url).status_code == 405
    assert client.post(f"{API}fleet-orders/", {}).status_code == 405
    records["deal"].refresh_from_db()
    assert records["deal"].title == "租赁车队更新"


# --- another branch: 404 on every record, 400 on every id in a body --------------------------


def test_another_branch_record_is_not_found_on_any_endpoint(api_as, other_fleet_office, records):
    # given one record of each kind in our branch, and a fleet office of the other branch
    client = api_as(other_fleet_office)
    answers = {}
    # when they reach each record through every endpoint naming it
    for method, path, record in DETAIL_ENDPOINTS:
        response = getattr(client, method)(API + path.format(records[record].pk))
        answers[f"{method} {path}"] = (response.status_code, response.json().get("code"))
    # then none exists for them, and nothing was changed
    assert {key: answer for key, answer in answers.items() if answer != (404, "not_found")} == {}
    assert FleetAccount.objects.get(pk=records["account"].pk).status == ProtectionStatus.REGISTERED
    records["discount"].refresh_from_db()
    assert records["discount"].status == RequestStatus.PENDING


@pytest.mark.parametrize("path", LISTS)
def test_lists_hide_another_branch_records(api_as, other_fleet_office, records, path):
    response = api_as(other_fleet_office).get(API + path)
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("path", LISTS)
def test_group_manager_lists_every_branch(api_as, group_manager, records, path):
    response = api_as(group_manager).get(API + path)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_records_of_another_branch_cannot_be_named_in_a_body(
    api_as, fleet_manager, other_branch, other_fleet_office, records
):
    # given an account, deal and agreement of the other branch
    theirs = register(other_branch, other_fleet_office)
    their_deal = deal_for(theirs, other_fleet_office)
    their_agreement = agreement_with_tiers(theirs, other_fleet_office)
    our_line = records["deal"].lines.get()
    before = counts()
    client = api_as(fleet_manager)
    # when our fleet manager names them in requests (each beside otherwise good input)
    answers = {
        "account": client.post(
            f"{API}fleet-deals/",
            {"account": theirs.pk, "title": "x", "lines": [ONE_VEHICLE]},
        ),
        "deal": client.post(
            f"{API}discount-requests/",
            {"deal": their_deal.pk, "discount_per_unit": "1.00", "units": 1, "justification": "x"},
        ),
        "agreement": client.post(
            f"{API}fleet-deals/{records['deal'].pk}/orders/",
            {"line": our_line.pk, "quantity": 1, "unit_price": "100000.00",
             "agreement": their_agreement.pk},
        ),
        "line": client.post(
            f"{API}fleet-deals/{records['deal'].pk}/orders/",
            {"line": their_deal.lines.get().pk, "quantity": 1, "unit_price": "100000.00",
             "agreement": records["agreement"].pk},
        ),
        "parent": client.post(
            f"{API}fleet-accounts/",
            {"name": "x", "account_class": "rental", "credit_code": "91440300192317458F",
             "parent": theirs.pk},
        ),
        "account_manager": client.post(
            f"{API}fleet-accounts/",
            {"name": "x", "account_class": "rental", "credit_code": "91440300192317458F",
             "account_manager": other_fleet_office.pk},
        ),
    }  # fmt: skip
    # then each id is unknown: a field error naming it alone, and nothing was made
    for field, response in answers.items():
        assert response.status_code == 400, (field, response.json())
        assert set(response.json()) == {field}, (field, response.json())
    assert counts() == before


# --- query counts ---------------------------------------------------------------------------


def _rows(path: str, records: dict, by, n: int) -> None:
    """n more rows of the list at `path`, each with everything the list shows of it."""
    branch = records["account"].branch
    for _ in range(n):
        if path == "fleet-accounts/":
            register(branch, by)
        elif path == "fleet-deals/":
            deal_for(register(branch, by), by)
        elif path == "fleet-orders/":
            priced(records["deal"], records["agreement"], by, 1)
        elif path == "fleet-agreements/":
            agreement_with_tiers(records["account"], by)
        elif path == "discount-requests/":
            discount(records["deal"], by)
        elif path == "special-configuration-requests/":
            configuration(records["deal"], by)


def _queries(user: User, url: str, assert_max_queries) -> tuple[int, int]:
    """Queries of one request, as a fresh client of a freshly loaded user would make."""
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    with assert_max_queries(10) as captured:
        response = client.get(url, {"limit": 50})
    assert response.status_code == 200
    return len(captured), len(response.json()["results"])


@pytest.mark.parametrize("path", LISTS)
def test_list_queries_do_not_grow_with_the_rows(
    fleet_manager, records, django_assert_max_num_queries, path
):
    # given two rows (one from the fixture), measured, and then twelve
    _rows(path, records, fleet_manager, 1)
    two, shown = _queries(fleet_manager, API + path, django_assert_max_num_queries)
    _rows(path, records, fleet_manager, 10)
    twelve, shown_twelve = _queries(fleet_manager, API + path, django_assert_max_num_queries)
    # then twelve rows cost what two do
    assert (shown, shown_twelve) == (2, 12)
    assert twelve == two, (path, two, twelve)
