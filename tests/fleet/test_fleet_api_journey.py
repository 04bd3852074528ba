"""A rental company won through the API: registered, confirmed, its buying centre recorded, an
agreement with two tiers, a deal for 30 vehicles, a discount approved by the sales manager, a
first batch of 15 priced into 15 signed sales orders which sales delivers, a second batch
priced on the higher tier, the support settled and the statement read — and a sister branch's
registration of the same company refused; a registration retried with its Idempotency-Key is
made once."""

import pytest
from django.utils import timezone

from dealer_crm.choices import Role
from fleet.models import FleetAccount
from sales.choices import DeliveryCheck, DeliveryDocument
from tests.factories import StockVehicleFactory, UserFactory
from tests.fleet.helpers import FLEET_MODELS, REAL_CODE, counts

pytestmark = pytest.mark.django_db

API = "/api/v1/"

RENTAL = {"name": "广州畅行汽车租赁有限公司", "account_class": "rental"}


def ok(response, code: int = 200) -> dict:
    assert response.status_code == code, response.json()
    return response.json()


def batch_orders(client, batch: dict) -> list[dict]:
    """The sales orders of a fleet batch, as the orders API lists them."""
    return ok(client.get(f"{API}orders/", {"fleet_order": batch["id"], "limit": 100}))["results"]


def hand_over(client, order: dict, capture_on_commit) -> dict:
    """Sales delivers one signed order through the API: a vehicle that passed its PDI is
    allocated, the order paid and invoiced, and the vehicle handed over; what the delivery
    sets off after its commit runs."""
    today = str(timezone.localdate())
    vehicle = StockVehicleFactory(
        branch_id=order["branch"], brand=order["brand"], series=order["series"],
        pdi_done_on=timezone.localdate(),
    )  # fmt: skip
    url = f"{API}orders/{order['id']}/"
    ok(client.post(url + "allocate/", {"stock_vehicle": vehicle.pk}))
    ok(
        client.post(
            f"{API}payments/",
            {
                "order": order["id"],
                "kind": "final",
                "amount": order["total_price"],
                "paid_on": today,
            },
        ),
        201,
    )
    ok(client.post(url + "invoice/", {"invoice_number": f"INV{order['id']:08d}"}))
    with capture_on_commit(execute=True):
        ok(
            client.post(
                f"{API}deliveries/",
                {
                    "order": order["id"],
                    "checklist": list(DeliveryCheck.values),
                    "documents": list(DeliveryDocument.values),
                },
            ),
            201,
        )
    return ok(client.get(url))


def test_a_rental_company_from_registration_to_its_settlement_statement(
    api_as, fleet_manager, sales_manager, django_capture_on_commit_callbacks
):
    fleet, manager = api_as(fleet_manager), api_as(sales_manager)
    year_start = timezone.localdate().replace(month=1, day=1)

    # given the fleet manager registers a rental company and the sales manager confirms it
    account = ok(
        fleet.post(f"{API}fleet-accounts/", {**RENTAL, "credit_code": REAL_CODE.lower()}), 201
    )
    assert (account["status"], account["credit_code"]) == ("registered", REAL_CODE)
    assert account["account_manager"] == fleet_manager.pk
    confirmed = ok(manager.post(f"{API}fleet-accounts/{account['id']}/confirm/"))
    assert confirmed["status"] == "protected" and confirmed["protected_until"]
    # and records its decision maker
    centre = ok(
        fleet.post(
            f"{API}fleet-accounts/{account['id']}/buying-centre/",
            {"name": "周经理", "role": "decision_maker", "phone": "13800138000"},
        ),
        201,
    )
    assert [(m["name"], m["role"]) for m in centre["buying_centre"]] == [
        ("周经理", "decision_maker")
    ]
    assert centre["buying_centre"][0]["phone"] == "138****8000"  # no view_pii

    # and this year's agreement with two tiers: 1000 per unit up to 10, 2500 from the 11th
    agreement = ok(
        fleet.post(
            f"{API}fleet-agreements/", {"account": account["id"], "signed_on": str(year_start)}
        ),
        201,
    )
    assert agreement["valid_until"] == f"{year_start.year}-12-31"
    tiers = ok(
        fleet.post(
            f"{API}fleet-agreements/{agreement['id']}/tiers/",
            {"bands": [
                {"from_units": 1, "to_units": 10, "support_per_unit": "1000.00"},
                {"from_units": 11, "to_units": None, "support_per_unit": "2500.00"},
            ]},
        )
    )  # fmt: skip
    assert [(b["from_units"], b["to_units"]) for b in tiers["bands"]] == [(1, 10), (11, None)]

    # and a deal for 30 vehicles, with a discount the sales manager approves
    deal = ok(
        fleet.post(
            f"{API}fleet-deals/",
            {"account": account["id"], "title": "2026年租赁车队更新",
             "lines": [{"brand": "大众", "series": "朗逸", "configuration": "1.5L 舒适版",
                        "quantity": 30}]},
        ),
        201,
    )  # fmt: skip
    (line,) = deal["lines"]
    assert (line["brand"], line["series"], line["quantity"]) == ("大众", "朗逸", 30)
    price = {"line": line["id"], "quantity": 15, "unit_price": "98000.00",
             "agreement": agreement["id"]}  # fmt: skip
    request = ok(
        fleet.post(
            f"{API}discount-requests/",
            {"deal": deal["id"], "discount_per_unit": "800.00", "units": 30,
             "justification": "竞品报价低 1,000 元/台"},
        ),
        201,
    )  # fmt: skip
    approved = ok(manager.post(f"{API}discount-requests/{request['id']}/approve/"))
    assert (approved["status"], approved["decided_by"]) == ("approved", sales_manager.pk)

    # when the first batch of 15 is priced: 15 signed sales orders of the line's model
    first = ok(fleet.post(f"{API}fleet-deals/{deal['id']}/orders/", price), 201)
    orders = batch_orders(fleet, first)
    assert len(orders) == 15
    assert {
        (o["fleet_order"], o["status"], o["brand"], o["series"], o["total_price"],
         o["consultant"]) for o in orders
    } == {(first["id"], "signed", "大众", "朗逸", "98000.00", fleet_manager.pk)}  # fmt: skip
    assert len({o["customer"] for o in orders}) == 1
    # and sales delivers each of them
    handed = [hand_over(fleet, order, django_capture_on_commit_callbacks) for order in orders]
    assert {o["status"] for o in handed} == {"delivered"}
    delivered = ok(fleet.get(f"{API}fleet-orders/{first['id']}/"))
    # and the second batch is priced, and the first's support settled
    second = ok(fleet.post(f"{API}fleet-deals/{deal['id']}/orders/", price), 201)
    settled = ok(fleet.post(f"{API}fleet-orders/{first['id']}/settle/", {"amount": "15000.00"}))

    # then the first batch took the first tier and the second the higher one
    assert (first["support_per_unit"], first["tier_from_units"]) == ("1000.00", 1)
    assert (delivered["delivered_units"], delivered["support_due"]) == (15, "15000.00")
    assert delivered["delivered_at"] == max(o["delivered_at"] for o in handed)
    assert (second["support_per_unit"], second["units_before"]) == ("2500.00", 15)
    assert settled["support_settled"] == "15000.00"
    # and each batch lists only its own sales orders
    assert {o["id"] for o in batch_orders(fleet, first)} == {o["id"] for o in orders}
    assert [o["fleet_order"] for o in batch_orders(fleet, second)] == [second["id"]] * 15
    # and the batches list their model and price per vehicle
    rows = ok(fleet.get(f"{API}fleet-orders/", {"deal": deal["id"]}))["results"]
    assert {(r["id"], r["line"], r["unit_price"], r["quantity"]) for r in rows} == {
        (first["id"], line["id"], "98000.00", 15), (second["id"], line["id"], "98000.00", 15),
    }  # fmt: skip
    # and the statement shows each batch, what is due on the delivered one, and what is settled
    statement = ok(fleet.get(f"{API}fleet-deals/{deal['id']}/statement/"))
    assert [o["support_per_unit"] for o in statement["orders"]] == ["1000.00", "2500.00"]
    assert (statement["units"], statement["delivered"]) == (30, 15)
    assert (statement["due"], statement["settled"], statement["open"]) == (
        "15000.00",
        "15000.00",
        "0.00",
    )


def test_another_branch_cannot_register_a_protected_account(
    api_as, branch, other_branch, fleet_manager, sales_manager
):
    # given an account our branch registered and the manager confirmed
    ours = ok(
        api_as(fleet_manager).post(f"{API}fleet-accounts/", {**RENTAL, "credit_code": REAL_CODE}),
        201,
    )
    ok(api_as(sales_manager).post(f"{API}fleet-accounts/{ours['id']}/confirm/"))
    rival = UserFactory(username="rival", roles=[Role.FLEET_MANAGER], branches=[other_branch])
    before = counts(*FLEET_MODELS)

    # when a fleet manager of the sister branch registers the same credit code
    response = api_as(rival).post(
        f"{API}fleet-accounts/", {"name": "畅行租赁", "account_class": "rental",
                                  "credit_code": REAL_CODE}
    )  # fmt: skip

    # then it is refused as protected, without naming our branch to them, and nothing is made
    assert response.status_code == 409
    assert response.json()["code"] == "account_protected"
    assert branch.name not in response.json()["detail"]
    assert counts(*FLEET_MODELS) == before
    assert FleetAccount.objects.get().branch == branch


def test_a_registration_sent_twice_with_its_key_is_made_once(api_as, fleet_manager):
    # given a registration sent with an Idempotency-Key
    client = api_as(fleet_manager)
    body = {**RENTAL, "credit_code": REAL_CODE}
    first = client.post(f"{API}fleet-accounts/", body, HTTP_IDEMPOTENCY_KEY="register-1")

    # when the client retries it with the same key
    again = client.post(f"{API}fleet-accounts/", body, HTTP_IDEMPOTENCY_KEY="register-1")

    # then the first answer comes back, marked as replayed, and one account exists
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert FleetAccount.objects.count() == 1
    # while a new request without the key is refused as a duplicate
    assert client.post(f"{API}fleet-accounts/", body).json()["code"] == "account_exists"
