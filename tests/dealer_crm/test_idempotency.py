"""Idempotency-Key: a POST sent twice with the same key is done once and answered the same."""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from dealer_crm.idempotency import idempotency_purge
from dealer_crm.models import IdempotencyRecord
from dealer_crm.tasks import idempotency_purge_task
from sales import services
from sales.choices import OrderStatus, QuoteStatus
from sales.models import Delivery, Lead, Order, Payment, Quote, TestDrive
from tests.factories import (
    LeadFactory,
    OrderFactory,
    QuoteFactory,
    StockVehicleFactory,
    resident_id,
)

pytestmark = pytest.mark.django_db

PAYMENTS = "/api/v1/payments/"
LEADS = "/api/v1/leads/"
TODAY = timezone.localdate()


@pytest.fixture
def order(branch, consultant):
    return OrderFactory(branch=branch, consultant=consultant, status=OrderStatus.SIGNED)


def deposit(order, amount: str = "5000.00") -> dict:
    return {"order": order.pk, "kind": "deposit", "amount": amount, "paid_on": TODAY.isoformat()}


def post(client, url: str, body: dict, key: str | None, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(url, body, format="json", **headers, **extra)


# --- replay ---------------------------------------------------------------------------


def test_replayed_payment_returns_the_first_answer_and_moves_money_once(api_as, consultant, order):
    # given a deposit recorded with an idempotency key
    client = api_as(consultant)
    first = post(client, PAYMENTS, deposit(order), "pay-7f3a")
    # when the client retries the same request with the same key
    second = post(client, PAYMENTS, deposit(order), "pay-7f3a")
    # then the same answer comes back, marked as a replay, and one payment exists
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Payment.objects.filter(order=order).count() == 1


def test_the_same_body_in_another_key_order_is_a_replay(api_as, consultant, order):
    client = api_as(consultant)
    body = deposit(order)
    first = post(client, PAYMENTS, body, "k-1")
    second = post(client, PAYMENTS, dict(reversed(list(body.items()))), "k-1")
    assert second.json() == first.json()
    assert Payment.objects.count() == 1


def test_without_a_key_every_post_is_done(api_as, consultant, order):
    client = api_as(consultant)
    post(client, PAYMENTS, deposit(order, "100.00"), None)
    post(client, PAYMENTS, deposit(order, "100.00"), None)
    assert Payment.objects.count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_replayed_lead_capture_creates_one_lead(api_as, consultant):
    client = api_as(consultant)
    body = {
        "source": "walk_in",
        "name": "王小明",
        "mobile": "13912345678",
        "model_of_interest": "朗逸",
    }
    first = post(client, LEADS, body, "lead-1")
    second = post(client, LEADS, body, "lead-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["id"] == first.json()["id"]
    assert Lead.objects.count() == 1


def test_replayed_command_is_not_done_twice(api_as, consultant, branch):
    # given a draft order signed with a key
    order = OrderFactory(branch=branch, consultant=consultant)
    client = api_as(consultant)
    first = post(client, f"/api/v1/orders/{order.pk}/sign/", {}, "sign-1")
    # when the sign is retried with the key, and then without it
    replay = post(client, f"/api/v1/orders/{order.pk}/sign/", {}, "sign-1")
    fresh = post(client, f"/api/v1/orders/{order.pk}/sign/", {}, None)
    # then the retry gets the first answer; only a new request meets the conflict
    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json()
    assert fresh.status_code == 409


def test_replay_answers_in_the_first_language(api_as, consultant, order):
    client = api_as(consultant)
    first = post(client, PAYMENTS, deposit(order), "lang", HTTP_ACCEPT_LANGUAGE="en")
    second = post(client, PAYMENTS, deposit(order), "lang", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert second.json() == first.json()


# --- reuse and refusals ---------------------------------------------------------------


def test_key_reused_with_another_body_is_refused(api_as, consultant, order):
    # given a deposit of 5,000 recorded with a key
    client = api_as(consultant)
    post(client, PAYMENTS, deposit(order, "5000.00"), "pay-1")
    # when the key is sent with a deposit of 6,000
    response = post(client, PAYMENTS, deposit(order, "6000.00"), "pay-1")
    # then it is refused with 422 and nothing more is recorded
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert response.json()["detail"]
    assert list(Payment.objects.values_list("amount", flat=True)) == [Decimal("5000.00")]


def test_key_reused_on_another_endpoint_is_refused(api_as, consultant, order):
    client = api_as(consultant)
    post(client, PAYMENTS, deposit(order), "shared")
    response = post(client, f"/api/v1/orders/{order.pk}/sign/", {}, "shared")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


def test_key_reuse_message_follows_the_language_and_keeps_its_code(api_as, consultant, order):
    client = api_as(consultant)
    post(client, PAYMENTS, deposit(order), "pay-2")
    response = post(
        client, PAYMENTS, deposit(order, "1.00"), "pay-2", HTTP_ACCEPT_LANGUAGE="zh-Hans"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


def test_refused_request_keeps_no_answer_and_may_be_corrected(api_as, consultant, order):
    # given a payment refused as an overpayment, sent with a key
    client = api_as(consultant)
    refused = post(client, PAYMENTS, deposit(order, "999999.00"), "pay-3")
    # when the client corrects the amount and retries with the same key
    corrected = post(client, PAYMENTS, deposit(order, "5000.00"), "pay-3")
    # then the correction is done: a refusal changed nothing and was not kept
    assert refused.status_code == 400 and refused.json()["code"] == "overpayment"
    assert corrected.status_code == 201
    assert Payment.objects.count() == 1


def test_conflict_is_not_kept_either(api_as, consultant, branch):
    order = OrderFactory(branch=branch, consultant=consultant, status=OrderStatus.CANCELLED)
    client = api_as(consultant)
    post(client, f"/api/v1/orders/{order.pk}/sign/", {}, "sign-2")
    assert not IdempotencyRecord.objects.exists()


def test_keys_belong_to_their_user(api_as, consultant, sales_manager, order):
    # given a consultant's deposit recorded with a key
    post(api_as(consultant), PAYMENTS, deposit(order, "100.00"), "same-key")
    # when a colleague uses the same key for their own request
    response = post(api_as(sales_manager), PAYMENTS, deposit(order, "200.00"), "same-key")
    # then theirs is done too
    assert response.status_code == 201
    assert Payment.objects.count() == 2


def test_key_older_than_a_day_starts_afresh(api_as, consultant, order):
    # given a deposit recorded with a key 25 hours ago
    client = api_as(consultant)
    post(client, PAYMENTS, deposit(order, "100.00"), "old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    # when the key is used again, even with another body
    response = post(client, PAYMENTS, deposit(order, "200.00"), "old")
    # then it is a new request
    assert response.status_code == 201
    assert Payment.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.parametrize("key", ["", "k" * 256, "付款-1", "tab\there"])
def test_malformed_key_is_refused(api_as, consultant, order, key):
    response = post(api_as(consultant), PAYMENTS, deposit(order), key)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_invalid"
    assert not Payment.objects.exists()


def test_replay_still_needs_the_permission(api_as, consultant, customer_care, order):
    post(api_as(consultant), PAYMENTS, deposit(order), "perm")
    response = post(api_as(customer_care), PAYMENTS, deposit(order), "perm")
    assert response.status_code == 403


# --- every endpoint that creates a document or moves money ------------------------------


@pytest.fixture
def endpoints(branch, consultant, sales_manager):
    """(user, path, body) for each POST that takes an Idempotency-Key, ready to succeed."""
    lead = LeadFactory(branch=branch, consultant=consultant, reached="verified")
    demo = StockVehicleFactory(branch=branch, status="demo")
    sent = QuoteFactory(branch=branch, lead=lead, consultant=consultant, status=QuoteStatus.SENT)
    draft = OrderFactory(branch=branch, consultant=consultant)
    signed = OrderFactory(branch=branch, consultant=consultant, status=OrderStatus.SIGNED)
    allocated = OrderFactory(branch=branch, consultant=consultant, status=OrderStatus.ALLOCATED)
    paid = OrderFactory(branch=branch, consultant=consultant, status=OrderStatus.ALLOCATED)
    services.payment_record(
        order=paid, by=consultant, data={"kind": "final", "amount": paid.total_price,
                                         "paid_on": TODAY},
    )  # fmt: skip
    invoiced = OrderFactory(branch=branch, consultant=consultant, status=OrderStatus.INVOICED)
    invoiced.stock_vehicle.pdi_done_on = TODAY
    invoiced.stock_vehicle.save()
    scheduled = services.payment_record(
        order=signed, by=consultant, data={"kind": "instalment", "amount": Decimal("100"),
                                           "due_on": TODAY},
    )  # fmt: skip
    free_car = StockVehicleFactory(branch=branch)
    start = timezone.now() + timedelta(days=1)
    return {
        "leads": (consultant, LEADS, {"source": "walk_in", "name": "李雷", "mobile": "13912340000",
                                      "model_of_interest": "朗逸"}),
        "activities": (consultant, "/api/v1/activities/", {"lead": lead.pk, "kind": "call",
                                                           "outcome": "reached"}),
        "traffic-count": (consultant, "/api/v1/showroom-traffic/count/",
                          {"counter": "first_walk_in"}),
        "stock-vehicles": (sales_manager, "/api/v1/stock-vehicles/",
                           {"vin": "LSVAB2BM0MN000001", "brand": "大众", "series": "朗逸",
                            "list_price": "1"}),
        "test-drives": (consultant, "/api/v1/test-drives/",
                        {"lead": lead.pk, "demo_vehicle": demo.pk, "driver_name": "李雷",
                         "driver_licence_number": resident_id(5), "starts_at": start.isoformat(),
                         "ends_at": (start + timedelta(minutes=30)).isoformat(), "route": "x"}),
        "trade-ins": (consultant, "/api/v1/trade-ins/",
                      {"lead": lead.pk, "brand": "本田", "series": "雅阁", "appraised_value": "1",
                       "offered_value": "1"}),
        "quotes": (consultant, "/api/v1/quotes/", {"lead": lead.pk, "brand": "大众",
                                                   "series": "朗逸", "list_price": "100"}),
        "orders": (consultant, "/api/v1/orders/", {"quote": sent.pk}),
        "orders-sign": (consultant, f"/api/v1/orders/{draft.pk}/sign/", {}),
        "orders-allocate": (consultant, f"/api/v1/orders/{signed.pk}/allocate/",
                            {"stock_vehicle": free_car.pk}),
        "orders-invoice": (consultant, f"/api/v1/orders/{paid.pk}/invoice/",
                           {"invoice_number": "4400123"}),
        "orders-cancel": (sales_manager, f"/api/v1/orders/{allocated.pk}/cancel/",
                          {"reason": "客户放弃"}),
        "payments": (consultant, PAYMENTS, deposit(signed, "10.00")),
        "payments-receive": (consultant, f"{PAYMENTS}{scheduled.pk}/receive/", {}),
        "deliveries": (consultant, "/api/v1/deliveries/",
                       {"order": invoiced.pk, "checklist": ["exterior", "interior", "functions",
                                                            "fuel", "accessories", "service_intro"],
                        "documents": ["invoice", "certificate", "manual", "warranty", "keys"]}),
    }  # fmt: skip


ENDPOINT_NAMES = [
    "leads", "activities", "traffic-count", "stock-vehicles", "test-drives", "trade-ins",
    "quotes", "orders", "orders-sign", "orders-allocate", "orders-invoice", "orders-cancel",
    "payments", "payments-receive", "deliveries",
]  # fmt: skip
SALES_RESOURCES = {
    "leads", "activities", "showroom-traffic", "stock-vehicles", "test-drives", "trade-ins",
    "quotes", "orders", "payments", "deliveries",
}  # fmt: skip
COUNTED = {
    "leads": Lead,
    "quotes": Quote,
    "orders": Order,
    "payments": Payment,
    "deliveries": Delivery,
    "test-drives": TestDrive,
}


@pytest.mark.parametrize("name", ENDPOINT_NAMES)
def test_every_document_and_money_post_replays(api_as, endpoints, name):
    # given a request that succeeds, sent with a key
    user, path, body = endpoints[name]
    client = api_as(user)
    model = COUNTED.get(name)
    before = model.objects.count() if model else None
    first = post(client, path, body, f"key-{name}")
    # when it is sent again with the key
    second = post(client, path, body, f"key-{name}")
    # then the second answer is the first one, and the work was done once
    assert 200 <= first.status_code < 300, first.json()
    assert (second.status_code, second.json()) == (first.status_code, first.json())
    assert second.headers["Idempotent-Replayed"] == "true"
    if model:
        assert model.objects.count() == before + 1


def test_schema_documents_the_header_on_those_endpoints(api_as, consultant):
    schema = api_as(consultant).get("/api/schema/", {"format": "json"}).json()
    documented = {
        (path, method)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    }
    assert ("/api/v1/payments/", "post") in documented
    assert ("/api/v1/orders/{id}/allocate/", "post") in documented
    # Each app replays its own endpoints (the stockroom's in tests/parts/test_api_parts.py).
    sales = {entry for entry in documented if entry[0].split("/")[3] in SALES_RESOURCES}
    assert len(sales) == len(ENDPOINT_NAMES)
    payment = schema["paths"]["/api/v1/payments/"]["post"]
    assert "422" in payment["responses"]


# --- concurrency ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_do_not_both_run(branch, consultant, monkeypatch):
    # given a signed order, and a payment service slow enough for two requests to overlap
    order = OrderFactory(branch=branch, consultant=consultant, status=OrderStatus.SIGNED)
    record_payment = services.payment_record

    def slow_payment_record(**kwargs):
        time.sleep(0.5)
        return record_payment(**kwargs)

    monkeypatch.setattr(services, "payment_record", slow_payment_record)
    answers = []

    def send():
        client = APIClient()
        client.force_authenticate(consultant)
        try:
            answers.append(post(client, PAYMENTS, deposit(order), "race-1"))
        finally:
            connection.close()

    # when the same request with the same key is sent twice at once
    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then one payment is recorded and both get its answer
    assert Payment.objects.filter(order=order).count() == 1
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert sorted(a.headers.get("Idempotent-Replayed", "") for a in answers) == ["", "true"]


# --- purge ----------------------------------------------------------------------------


def test_nightly_purge_forgets_answers_older_than_a_day(api_as, consultant, order):
    # given an answer kept 25 hours ago and one kept now
    client = api_as(consultant)
    post(client, PAYMENTS, deposit(order, "100.00"), "old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    post(client, PAYMENTS, deposit(order, "100.00"), "new")
    # when the purge task runs, twice
    first, second = idempotency_purge_task(), idempotency_purge_task()
    # then the old one is gone, the new one kept, and the rerun finds nothing
    assert (first, second) == (1, 0)
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_purge_walks_in_chunks(api_as, consultant, order, monkeypatch):
    from dealer_crm import idempotency

    monkeypatch.setattr(idempotency, "PURGE_CHUNK", 2)
    client = api_as(consultant)
    for n in range(5):
        post(client, PAYMENTS, deposit(order, "1.00"), f"k{n}")
    assert idempotency_purge(now=timezone.now() + timedelta(days=2)) == 5
    assert not IdempotencyRecord.objects.exists()


def test_purge_is_scheduled_nightly():
    entry = next(
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "dealer_crm.tasks.idempotency_purge_task"
    )
    assert entry["schedule"].hour == {3}
