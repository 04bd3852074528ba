"""Campaigns (关怀活动) and their offers through the API: a draft written and changed while a
draft, the count previewed, launched to the customers who agreed to marketing and contacted,
one more customer given the offer (never one without consent), closed; an offer asked for at
a work order, signed off by another manager, turned down or withdrawn, and redeemed by the
settlement (`work-orders/{id}/settle/`), which takes its value off the bill; the success per
segment. Each role's permissions, another branch's 404s, the refusals' codes with nothing
changed, the filters, and the lists' query counts."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from customers.care import services
from customers.care.choices import MessageStatus, OfferKind, TargetSegment
from customers.care.models import Campaign, Message, Offer
from dealer_crm.choices import Role
from service.choices import ServiceType
from service.models import Settlement
from tests.factories import CustomerFactory, UserFactory, VehicleFactory
from tests.service.helpers import ready_work_order

pytestmark = pytest.mark.django_db

API = "/api/v1/"
SEGMENT = TargetSegment.OUT_OF_WARRANTY


# --- the records -----------------------------------------------------------------------------


def out_of_warranty_customer(branch, *, consent: bool = True):
    """A customer of `branch` whose only car is out of warranty, who agreed to marketing
    (by SMS, today) unless `consent` is False."""
    customer = CustomerFactory(
        branch=branch,
        marketing_consent=consent,
        consent_date=timezone.localdate() if consent else None,
        consent_channel="sms" if consent else "",
    )
    VehicleFactory(
        owner=customer,
        transmission="automatic",
        three_guarantees_end_date=date(2023, 6, 1),
        warranty_end_date=date(2024, 6, 1),
    )
    return customer


def campaign_body(**data) -> dict:
    today = timezone.localdate()
    return {
        "name": "过保客户回厂关怀",
        "segment": SEGMENT,
        "offer": OfferKind.HALF_LABOUR,
        "message": "您的爱车已过保修期，回店保养工时五折。",
        "starts_on": str(today),
        "ends_on": str(today + timedelta(days=30)),
        "target_rate": "30.00",
        **data,
    }


def draft(branch, manager, **data) -> Campaign:
    body = campaign_body(**data)
    body["starts_on"] = date.fromisoformat(body["starts_on"])
    body["ends_on"] = date.fromisoformat(body["ends_on"])
    body["target_rate"] = Decimal(body["target_rate"])
    return services.campaign_create(branch=branch, by=manager, data=body)


def launched(branch, manager, **data) -> Campaign:
    """A campaign launched at the branch's out-of-warranty customers (the segments computed
    first); its offers are not sent yet (the contact job runs after the commit)."""
    services.segments_compute(branch=branch)
    campaign = draft(branch, manager, **data)
    services.campaign_launch(campaign=campaign, by=manager)
    campaign.refresh_from_db()
    return campaign


@pytest.fixture
def audience(branch):
    """Two customers of the segment, one of whom agreed to marketing, and a customer outside
    it who agreed too."""
    return {
        "consenting": out_of_warranty_customer(branch),
        "refusing": out_of_warranty_customer(branch, consent=False),
        "outside": CustomerFactory(
            branch=branch, marketing_consent=True, consent_date=timezone.localdate(),
            consent_channel="wechat",
        ),
    }  # fmt: skip


@pytest.fixture
def campaign(branch, branch_manager, audience) -> Campaign:
    return launched(branch, branch_manager)


@pytest.fixture
def offer(campaign, audience) -> Offer:
    return Offer.objects.get(campaign=campaign, customer=audience["consenting"])


@pytest.fixture
def work_order(branch, advisor, technician, audience):
    """The consenting customer's car, repaired (1 h × 200 of labour) and ready to settle."""
    customer = audience["consenting"]
    return ready_work_order(
        branch, advisor, technician, customer=customer, vehicle=customer.vehicles.get(),
        service_type=ServiceType.REPAIR,
    )  # fmt: skip


def snapshot() -> dict:
    """Every campaign, offer and message as the database holds them."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Campaign, Offer, Message, Settlement)
    }


def post(client, url: str, body: dict | None = None, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(API + url, body or {}, format="json", **headers)


def refused(response) -> tuple[int, str]:
    return response.status_code, response.json().get("code")


# --- campaigns: a draft, the preview, the launch ----------------------------------------------


def test_a_manager_writes_a_draft_of_their_branch(api_as, branch, branch_manager):
    # when a manager writes a campaign
    response = post(api_as(branch_manager), "campaigns/", campaign_body())
    # then it is a draft of their branch, reaching nobody yet
    assert response.status_code == 201, response.json()
    shown = response.json()
    campaign = Campaign.objects.get()
    assert shown["id"] == campaign.pk and shown["number"] == f"CA{campaign.pk:05d}"
    assert (shown["branch"], shown["status"], shown["created_by"]) == (
        branch.pk, "draft", branch_manager.pk,
    )  # fmt: skip
    assert (shown["segment"], shown["offer"], shown["target_rate"]) == (
        SEGMENT, "half_labour", "30.00",
    )  # fmt: skip
    assert (shown["offer_count"], shown["success_rate"], shown["target_met"]) == (0, None, None)


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"ends_on": str(date(2020, 1, 1)), "starts_on": str(date(2019, 12, 1))}, "ends_on",
         "campaign_over"),
        ({"ends_on": str(date.today() - timedelta(days=400))}, "ends_on", "campaign_dates"),
        ({"target_rate": "150"}, "target_rate", None),
        ({"segment": "everyone"}, "segment", None),
        ({"name": ""}, "name", None),
        ({"name": "活" * 101}, "name", None),
        ({"starts_on": "next monday"}, "starts_on", None),
    ],
)  # fmt: skip
def test_a_draft_with_bad_input_is_refused_and_nothing_is_made(
    api_as, branch_manager, change, field, code
):
    # when a campaign is written with a bad field
    response = post(api_as(branch_manager), "campaigns/", campaign_body(**change))
    # then it is refused beside that field (with the service's code for a rule), and none made
    assert response.status_code == 400
    assert field in response.json()
    assert response.json().get("code") == code
    assert not Campaign.objects.exists()


def test_a_draft_is_changed_until_it_is_launched(api_as, branch, branch_manager, audience):
    # given a draft
    services.segments_compute(branch=branch)
    campaign = draft(branch, branch_manager)
    client = api_as(branch_manager)
    # when its name and target are changed, then it is launched and changed again
    changed = client.patch(
        f"{API}campaigns/{campaign.pk}/", {"name": "过保客户秋季关怀", "target_rate": "40"}
    )
    post(client, f"campaigns/{campaign.pk}/launch/")
    before = snapshot()
    late = client.patch(f"{API}campaigns/{campaign.pk}/", {"name": "改名"})
    put = client.put(f"{API}campaigns/{campaign.pk}/", campaign_body())
    # then the draft took the change; the launched campaign is not changed (409), nor replaced
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["name"], changed.json()["target_rate"]) == ("过保客户秋季关怀", "40.00")
    assert refused(late) == (409, "campaign_not_draft")
    assert put.status_code == 405
    assert snapshot() == before


def test_the_preview_counts_the_segment_and_those_who_agreed(
    api_as, branch, other_branch, branch_manager, audience
):
    # given the branch's segments computed (two customers out of warranty, one consenting)
    services.segments_compute(branch=branch)
    client = api_as(branch_manager)
    # when the manager previews the segment, another segment, and names no segment
    preview = client.get(f"{API}campaigns/preview/", {"segment": SEGMENT})
    other = client.get(f"{API}campaigns/preview/", {"segment": TargetSegment.KEY_CUSTOMERS})
    missing = client.get(f"{API}campaigns/preview/")
    theirs = client.get(f"{API}campaigns/preview/", {"segment": SEGMENT, "branch": other_branch.pk})
    # then the counts are their branch's; a segment is required and another branch unknown
    assert preview.status_code == 200
    assert preview.json() == {
        "branch": branch.pk, "segment": SEGMENT, "customers": 2, "consenting": 1,
    }  # fmt: skip
    assert (other.json()["customers"], other.json()["consenting"]) == (0, 0)
    assert missing.status_code == 400 and "segment" in missing.json()
    assert theirs.status_code == 400 and "branch" in theirs.json()


def test_the_launch_reaches_only_those_who_agreed_and_contacts_them(
    api_as, branch, branch_manager, audience, django_capture_on_commit_callbacks
):
    # given a draft at the out-of-warranty customers, one of the two consenting
    services.segments_compute(branch=branch)
    campaign = draft(branch, branch_manager)
    client = api_as(branch_manager)
    # when it is launched (and the contact job runs after the commit)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, f"campaigns/{campaign.pk}/launch/", key="launch-1")
    replayed = post(client, f"campaigns/{campaign.pk}/launch/", key="launch-1")
    again = post(client, f"campaigns/{campaign.pk}/launch/")
    # then only the consenting customer has an offer, sent to them with its code
    assert response.status_code == 200, response.json()
    shown = response.json()
    assert shown["status"] == "launched" and shown["launched_at"]
    offer = Offer.objects.get(campaign=campaign)
    assert offer.customer == audience["consenting"]
    assert offer.message.status == MessageStatus.SENT and offer.code in offer.message.body
    detail = client.get(f"{API}campaigns/{campaign.pk}/").json()
    assert (detail["offer_count"], detail["contacted"], detail["redeemed"]) == (1, 1, 0)
    assert (detail["success_rate"], detail["target_met"]) == ("0.00", False)
    # and a replay with the key answers the same, a second launch is a conflict
    assert (replayed.status_code, replayed.json()) == (200, shown)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert refused(again) == (409, "campaign_not_draft")
    assert Offer.objects.count() == 1


def test_a_segment_nobody_agreed_in_is_not_launched(api_as, branch, branch_manager):
    # given a draft at a segment whose only customer did not agree to marketing
    out_of_warranty_customer(branch, consent=False)
    services.segments_compute(branch=branch)
    campaign = draft(branch, branch_manager)
    before = snapshot()
    # when it is launched
    response = post(api_as(branch_manager), f"campaigns/{campaign.pk}/launch/")
    # then it is refused, still a draft, with no offer made
    assert refused(response) == (409, "campaign_no_audience")
    assert snapshot() == before


# --- campaigns: one more customer, closing -----------------------------------------------------


def test_an_agent_gives_one_more_customer_the_offer(api_as, campaign, audience, customer_care):
    # when the care agent gives the offer to a consenting customer outside the segment
    customer = audience["outside"]
    response = post(api_as(customer_care), f"campaigns/{campaign.pk}/assign/",
                    {"customer": customer.pk})  # fmt: skip
    # then the customer has an offer, sent at once, and shown as the offers list shows it
    assert response.status_code == 201, response.json()
    shown = response.json()
    offer = Offer.objects.get(campaign=campaign, customer=customer)
    assert (shown["id"], shown["code"], shown["status"]) == (offer.pk, offer.code, "assigned")
    assert (shown["campaign"], shown["campaign_number"], shown["offer"]) == (
        campaign.pk, campaign.number, "half_labour",
    )  # fmt: skip
    assert shown["valid_until"] == str(campaign.ends_on)
    assert shown["message"] == offer.message_id and offer.message.status == MessageStatus.SENT


def test_a_customer_without_consent_is_never_given_the_offer(
    api_as, campaign, audience, customer_care
):
    # given the launched campaign, and a customer of its segment who did not agree
    before = snapshot()
    # when the agent gives them the offer
    response = post(api_as(customer_care), f"campaigns/{campaign.pk}/assign/",
                    {"customer": audience["refusing"].pk})  # fmt: skip
    # then it is refused beside the customer, and no offer nor message was made
    assert refused(response) == (400, "no_marketing_consent")
    assert "customer" in response.json()
    assert snapshot() == before


def test_the_offer_is_given_once_and_only_to_a_customer_of_ours(
    api_as, campaign, audience, customer_care, other_branch
):
    # given a customer already holding the offer, and a customer of the other branch
    client = api_as(customer_care)
    theirs = out_of_warranty_customer(other_branch)
    before = snapshot()
    # when the agent gives the offer to each
    twice = post(client, f"campaigns/{campaign.pk}/assign/",
                 {"customer": audience["consenting"].pk})  # fmt: skip
    other = post(client, f"campaigns/{campaign.pk}/assign/", {"customer": theirs.pk})
    unknown = post(client, f"campaigns/{campaign.pk}/assign/", {"customer": "someone"})
    # then the holder is refused as a conflict, the others as unknown; nothing changed
    assert refused(twice) == (409, "offer_exists")
    assert other.status_code == 400 and "customer" in other.json()
    assert unknown.status_code == 400 and "customer" in unknown.json()
    assert snapshot() == before


def test_a_closed_campaign_gives_no_more_offers(api_as, campaign, audience, branch_manager):
    # when the manager closes the campaign, then someone gives it to one more customer
    client = api_as(branch_manager)
    closed = post(client, f"campaigns/{campaign.pk}/close/")
    again = post(client, f"campaigns/{campaign.pk}/close/")
    assigned = post(client, f"campaigns/{campaign.pk}/assign/",
                    {"customer": audience["outside"].pk})  # fmt: skip
    # then it is closed with its offer still out; closing again and assigning are conflicts
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["offer_count"]) == ("closed", 1)
    assert refused(again) == (409, "campaign_not_launched")
    assert refused(assigned) == (409, "campaign_not_launched")
    assert not Offer.objects.filter(customer=audience["outside"]).exists()


def test_a_draft_gives_no_offer(api_as, branch, branch_manager, audience):
    campaign = draft(branch, branch_manager)
    response = post(api_as(branch_manager), f"campaigns/{campaign.pk}/assign/",
                    {"customer": audience["consenting"].pk})  # fmt: skip
    assert refused(response) == (409, "campaign_not_launched")
    assert not Offer.objects.exists()


# --- offers: redemption at a settlement -------------------------------------------------------


def settle_body(paid: str) -> dict:
    return {"payment_method": "wechat", "paid_amount": paid}


def test_a_signed_off_offer_is_redeemed_by_the_settlement_and_taken_off_the_bill(
    api_as, offer, work_order, advisor, branch_manager
):
    # given the customer's offer (half the labour off) and their car ready (200 of labour)
    desk, manager = api_as(advisor), api_as(branch_manager)
    # when the advisor asks to redeem it, then tries to settle before the sign-off
    requested = post(desk, f"offers/{offer.pk}/request-redemption/",
                     {"work_order": work_order.pk})  # fmt: skip
    early = post(desk, f"work-orders/{work_order.pk}/settle/", settle_body("100.00"))
    # then the offer waits for a manager, and the settlement is held back for it
    assert requested.status_code == 200, requested.json()
    shown = requested.json()
    assert (shown["status"], shown["work_order"], shown["requested_by"]) == (
        "requested", work_order.pk, advisor.pk,
    )  # fmt: skip
    assert shown["work_order_number"] == work_order.number
    assert refused(early) == (409, "offer_awaiting_sign_off")
    assert not Settlement.objects.exists()

    # when the manager signs it off and the advisor settles the work order
    signed = post(manager, f"offers/{offer.pk}/sign-off/")
    settled = post(desk, f"work-orders/{work_order.pk}/settle/", settle_body("100.00"))
    # then the settlement took half the labour off and redeemed the offer at that value
    assert signed.status_code == 200
    assert (signed.json()["status"], signed.json()["signed_off_by"]) == (
        "approved", branch_manager.pk,
    )  # fmt: skip
    assert settled.status_code == 201, settled.json()
    assert (settled.json()["discount"], settled.json()["offer_code"]) == ("100.00", offer.code)
    redeemed = api_as(advisor).get(f"{API}offers/{offer.pk}/").json()
    assert (redeemed["status"], redeemed["value"]) == ("redeemed", "100.00")
    assert redeemed["settlement"] == settled.json()["id"] and redeemed["redeemed_at"]
    campaign = api_as(branch_manager).get(f"{API}campaigns/{offer.campaign_id}/").json()
    assert (campaign["redeemed"], campaign["success_rate"], campaign["target_met"]) == (
        1, "100.00", True,
    )  # fmt: skip


def test_a_redeemed_offer_is_not_redeemed_twice(
    api_as, branch, offer, work_order, advisor, technician, branch_manager
):
    # given the offer redeemed at a settlement, and the customer back with another visit
    services.offer_redemption_request(offer=offer, work_order=work_order, by=advisor)
    services.offer_sign_off(offer=offer, by=branch_manager)
    post(api_as(advisor), f"work-orders/{work_order.pk}/settle/", settle_body("100.00"))
    again = ready_work_order(branch, advisor, technician, customer=offer.customer,
                             vehicle=offer.customer.vehicles.get())  # fmt: skip
    before = snapshot()
    # when the advisor asks to redeem it on the new work order, and a manager signs it off
    response = post(api_as(advisor), f"offers/{offer.pk}/request-redemption/",
                    {"work_order": again.pk})  # fmt: skip
    signed = post(api_as(branch_manager), f"offers/{offer.pk}/sign-off/")
    # then it is refused as already redeemed, and nothing changed
    assert refused(response) == (409, "offer_already_redeemed")
    assert refused(signed) == (409, "offer_not_requested")
    assert snapshot() == before


def test_an_expired_offer_is_not_redeemed(api_as, offer, work_order, advisor):
    # given a campaign whose offers' last day was yesterday
    today = timezone.localdate()
    Campaign.objects.filter(pk=offer.campaign_id).update(
        starts_on=today - timedelta(days=30), ends_on=today - timedelta(days=1)
    )
    before = snapshot()
    # when the advisor asks to redeem the offer
    response = post(api_as(advisor), f"offers/{offer.pk}/request-redemption/",
                    {"work_order": work_order.pk})  # fmt: skip
    # then it is refused as expired, and nothing changed
    assert refused(response) == (409, "offer_expired")
    assert snapshot() == before


def test_an_offer_is_redeemed_only_on_its_customer_work_order(
    api_as, branch, offer, advisor, technician, other_branch
):
    # given another customer's work order, and a work order of the other branch
    someone_else = ready_work_order(branch, advisor, technician)
    other_advisor = UserFactory(roles=[Role.SERVICE_ADVISOR], branches=[other_branch])
    other_technician = UserFactory(roles=[Role.TECHNICIAN], branches=[other_branch])
    theirs = ready_work_order(other_branch, other_advisor, other_technician)
    client = api_as(advisor)
    before = snapshot()
    # when the advisor names each
    wrong_customer = post(client, f"offers/{offer.pk}/request-redemption/",
                          {"work_order": someone_else.pk})  # fmt: skip
    other_branch_order = post(client, f"offers/{offer.pk}/request-redemption/",
                              {"work_order": theirs.pk})  # fmt: skip
    missing = post(client, f"offers/{offer.pk}/request-redemption/", {})
    # then the first is refused by the rule, the others as unknown or missing; nothing changed
    assert refused(wrong_customer) == (400, "offer_other_customer")
    assert other_branch_order.status_code == 400 and "work_order" in other_branch_order.json()
    assert missing.status_code == 400 and "work_order" in missing.json()
    assert snapshot() == before


def test_a_redemption_turned_down_gives_the_customer_the_offer_back(
    api_as, offer, work_order, advisor, branch_manager
):
    # given a redemption asked for
    services.offer_redemption_request(offer=offer, work_order=work_order, by=advisor)
    # when the manager turns it down
    response = post(api_as(branch_manager), f"offers/{offer.pk}/sign-off/", {"approve": False})
    # then the offer is the customer's again, on no work order
    assert response.status_code == 200
    shown = response.json()
    assert (shown["status"], shown["work_order"], shown["requested_by"]) == (
        "assigned", None, None,
    )  # fmt: skip


def test_nobody_signs_off_their_own_request(api_as, branch, offer, work_order):
    # given someone who is both an advisor and a manager, who asked to redeem the offer
    both = UserFactory(roles=[Role.SERVICE_ADVISOR, Role.BRANCH_MANAGER], branches=[branch])
    client = api_as(both)
    post(client, f"offers/{offer.pk}/request-redemption/", {"work_order": work_order.pk})
    before = snapshot()
    # when they sign it off themselves
    response = post(client, f"offers/{offer.pk}/sign-off/")
    # then another manager has to
    assert refused(response) == (409, "sign_off_own_request")
    assert snapshot() == before


def test_the_advisor_or_a_manager_withdraws_a_redemption_the_agent_cannot(
    api_as, offer, work_order, advisor, branch_manager, customer_care
):
    # given a redemption asked for
    services.offer_redemption_request(offer=offer, work_order=work_order, by=advisor)
    # when the care agent, then the advisor withdraws it, then the manager withdraws again
    agent = post(api_as(customer_care), f"offers/{offer.pk}/withdraw/")
    withdrawn = post(api_as(advisor), f"offers/{offer.pk}/withdraw/")
    again = post(api_as(branch_manager), f"offers/{offer.pk}/withdraw/")
    # then the agent is refused, the advisor's withdrawal gives the offer back, and there is
    # nothing left for the manager to withdraw
    assert agent.status_code == 403
    assert withdrawn.status_code == 200
    assert (withdrawn.json()["status"], withdrawn.json()["work_order"]) == ("assigned", None)
    assert refused(again) == (409, "offer_not_requested")


def test_a_manager_withdraws_a_signed_off_offer_before_settlement(
    api_as, offer, work_order, advisor, branch_manager
):
    services.offer_redemption_request(offer=offer, work_order=work_order, by=advisor)
    services.offer_sign_off(offer=offer, by=branch_manager)
    response = post(api_as(branch_manager), f"offers/{offer.pk}/withdraw/")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["signed_off_by"]) == ("assigned", None)


# --- lists, filters, results -------------------------------------------------------------------


def test_the_campaigns_filter_by_status_segment_offer_and_name(
    api_as, branch, branch_manager, campaign
):
    # given the launched campaign and a draft of another segment and offer
    other = draft(branch, branch_manager, name="重点客户年度礼遇", segment="key_customers",
                  offer="oil_filter")  # fmt: skip
    client = api_as(branch_manager)

    def ids(**query) -> list[int]:
        response = client.get(f"{API}campaigns/", query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    # then each filter finds its campaign
    assert ids(status="launched") == [campaign.pk]
    assert ids(status="draft") == [other.pk]
    assert ids(segment="key_customers") == [other.pk]
    assert ids(offer="half_labour") == [campaign.pk]
    assert ids(search="年度") == [other.pk]
    assert ids(search=campaign.number.lower()) == [campaign.pk]
    assert ids(ordering="id") == [campaign.pk, other.pk]
    assert ids(ordering="-id") == [other.pk, campaign.pk]
    assert client.get(f"{API}campaigns/", {"status": "finished"}).status_code == 400


def test_the_offers_filter_by_campaign_status_customer_work_order_and_code(
    api_as, branch, branch_manager, advisor, audience, offer, work_order
):
    # given a second campaign's offer to the same customer, and the first asked for
    second = launched(branch, branch_manager, name="第二期关怀")
    other = Offer.objects.get(campaign=second)
    services.offer_redemption_request(offer=offer, work_order=work_order, by=advisor)
    client = api_as(advisor)

    def ids(**query) -> list[int]:
        response = client.get(f"{API}offers/", query)
        assert response.status_code == 200, response.json()
        return sorted(row["id"] for row in response.json()["results"])

    # then each filter finds its offers; a code is read in any case, spaces ignored
    assert ids() == sorted([offer.pk, other.pk])
    assert ids(campaign=second.pk) == [other.pk]
    assert ids(status="requested") == [offer.pk]
    assert ids(customer=audience["consenting"].pk) == sorted([offer.pk, other.pk])
    assert ids(work_order=work_order.pk) == [offer.pk]
    spoken = f"{offer.code[:4].lower()} {offer.code[4:].lower()}"
    assert ids(code=spoken) == [offer.pk]
    assert ids(code="ZZZZZZZZ") == []


def test_the_results_give_the_success_per_segment(
    api_as, branch, branch_manager, offer, work_order, advisor
):
    # given the out-of-warranty campaign's offer redeemed, and a key-customer draft
    draft(branch, branch_manager, segment="key_customers")
    services.offer_redemption_request(offer=offer, work_order=work_order, by=advisor)
    services.offer_sign_off(offer=offer, by=branch_manager)
    post(api_as(advisor), f"work-orders/{work_order.pk}/settle/", settle_body("100.00"))
    client = api_as(branch_manager)
    # when the manager reads the results, all of them and the drafts only
    response = client.get(f"{API}campaigns/results/")
    drafts = client.get(f"{API}campaigns/results/", {"status": "draft"})
    # then each segment has its campaigns, offers and redemptions against the target
    assert response.status_code == 200
    rows = {row["segment"]: row for row in response.json()}
    assert rows[SEGMENT] | {"label": None} == {
        "segment": SEGMENT, "label": None, "campaigns": 1, "offers": 1, "redeemed": 1,
        "rate": "1.000", "target": "0.300", "met": True,
    }  # fmt: skip
    assert rows["key_customers"]["offers"] == 0 and rows["key_customers"]["met"] is None
    assert [row["segment"] for row in drafts.json()] == ["key_customers"]


# --- permissions, other branches, query counts ------------------------------------------------


def test_anonymous_clients_are_told_to_log_in(api_client, campaign, offer):
    answers = [
        api_client.get(f"{API}campaigns/").status_code,
        api_client.get(f"{API}offers/{offer.pk}/").status_code,
        post(api_client, f"campaigns/{campaign.pk}/close/").status_code,
    ]
    assert answers == [401, 401, 401]
    assert Campaign.objects.get().status == "launched"


@pytest.mark.parametrize(
    ("persona", "method", "path"),
    [
        ("consultant", "get", "campaigns/"),
        ("consultant", "post", "campaigns/{campaign}/launch/"),
        ("consultant", "get", "offers/"),
        ("advisor", "get", "campaigns/"),
        ("advisor", "post", "offers/{offer}/sign-off/"),
        ("advisor", "post", "campaigns/{campaign}/assign/"),
        ("customer_care", "post", "campaigns/"),
        ("customer_care", "post", "campaigns/{campaign}/launch/"),
        ("customer_care", "post", "campaigns/{campaign}/close/"),
        ("customer_care", "patch", "campaigns/{campaign}/"),
        ("customer_care", "post", "offers/{offer}/request-redemption/"),
        ("customer_care", "post", "offers/{offer}/sign-off/"),
        ("branch_manager", "post", "offers/{offer}/request-redemption/"),
        ("technician", "get", "offers/"),
    ],
)
def test_each_role_is_refused_what_it_may_not_do(
    request, api_as, campaign, offer, audience, work_order, persona, method, path
):
    # given a role, and a request that would otherwise be accepted
    client = api_as(request.getfixturevalue(persona))
    url = API + path.format(campaign=campaign.pk, offer=offer.pk)
    body = {
        "campaigns/": campaign_body(),
        "campaigns/{campaign}/assign/": {"customer": audience["outside"].pk},
        "campaigns/{campaign}/": {"name": "改名"},
        "offers/{offer}/request-redemption/": {"work_order": work_order.pk},
    }.get(path, {})
    before = snapshot()
    # when it sends it
    response = getattr(client, method)(url, body, format="json")
    # then it is forbidden, and nothing changed
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(
    ("persona", "path", "expected"),
    [
        ("customer_care", "campaigns/", 200),
        ("customer_care", "campaigns/results/", 200),
        ("customer_care", "offers/", 200),
        ("advisor", "offers/", 200),
        ("sales_manager", "campaigns/preview/?segment=lost", 200),
    ],
)
def test_each_role_reads_what_it_may(request, api_as, campaign, persona, path, expected):
    response = api_as(request.getfixturevalue(persona)).get(API + path)
    assert response.status_code == expected


@pytest.fixture
def other_office(other_branch):
    """The other branch's agent, advisor and manager in one: every permission, none of our
    records."""
    roles = [Role.CUSTOMER_CARE, Role.SERVICE_ADVISOR, Role.BRANCH_MANAGER]
    return UserFactory(roles=roles, branches=[other_branch], username="panyu_office")


def test_another_branch_campaigns_and_offers_are_not_found(
    api_as, campaign, offer, audience, work_order, other_office
):
    # given our campaign and offer, and the other branch's all-round user
    client = api_as(other_office)
    before = snapshot()
    # when they reach each through every endpoint naming it
    answers = {
        "campaign": client.get(f"{API}campaigns/{campaign.pk}/"),
        "change": client.patch(f"{API}campaigns/{campaign.pk}/", {"name": "改名"}),
        "launch": post(client, f"campaigns/{campaign.pk}/launch/"),
        "close": post(client, f"campaigns/{campaign.pk}/close/"),
        "assign": post(client, f"campaigns/{campaign.pk}/assign/",
                       {"customer": audience["outside"].pk}),
        "offer": client.get(f"{API}offers/{offer.pk}/"),
        "request": post(client, f"offers/{offer.pk}/request-redemption/",
                        {"work_order": work_order.pk}),
        "sign-off": post(client, f"offers/{offer.pk}/sign-off/"),
        "withdraw": post(client, f"offers/{offer.pk}/withdraw/"),
    }  # fmt: skip
    lists = {
        path: client.get(API + path).json()
        for path in ("campaigns/", "offers/", "campaigns/results/")
    }
    # then none exists for them, their lists are empty, and nothing changed
    assert {
        name: refused(r) for name, r in answers.items() if refused(r) != (404, "not_found")
    } == {}
    assert lists == {"campaigns/": {"count": 0, "next": None, "previous": None, "results": []},
                     "offers/": {"next": None, "previous": None, "results": []},
                     "campaigns/results/": []}  # fmt: skip
    assert snapshot() == before


def test_a_group_manager_sees_every_branch_campaigns(
    api_as, branch, other_branch, branch_manager, campaign, group_manager
):
    # given a campaign in each branch
    manager = UserFactory(roles=[Role.BRANCH_MANAGER], branches=[other_branch])
    out_of_warranty_customer(other_branch)
    theirs = launched(other_branch, manager)
    # when the group manager reads the campaigns and closes the other branch's
    listed = api_as(group_manager).get(f"{API}campaigns/").json()["results"]
    closed = post(api_as(group_manager), f"campaigns/{theirs.pk}/close/")
    # then both are listed, and the other branch's is theirs to close
    assert sorted(row["id"] for row in listed) == sorted([campaign.pk, theirs.pk])
    assert closed.status_code == 200 and closed.json()["branch"] == other_branch.pk


def _queries(user, url: str, assert_max_queries) -> tuple[int, int]:
    """Queries of one request, as a fresh client of a freshly loaded user would make."""
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    with assert_max_queries(12) as captured:
        response = client.get(url, {"limit": 50})
    assert response.status_code == 200
    return len(captured), len(response.json()["results"])


def test_the_campaign_list_queries_do_not_grow_with_the_rows(
    branch, branch_manager, audience, django_assert_max_num_queries
):
    # given one launched campaign, measured, and then five
    launched(branch, branch_manager)
    one, shown = _queries(branch_manager, f"{API}campaigns/", django_assert_max_num_queries)
    for n in range(4):
        launched(branch, branch_manager, name=f"关怀活动 {n}")
    five, shown_five = _queries(branch_manager, f"{API}campaigns/", django_assert_max_num_queries)
    # then five cost what one does
    assert (shown, shown_five) == (1, 5)
    assert five == one


def test_the_offer_list_queries_do_not_grow_with_the_rows(
    branch, branch_manager, campaign, django_assert_max_num_queries
):
    # given one offer, measured, and then five, each customer with a car
    one, shown = _queries(branch_manager, f"{API}offers/", django_assert_max_num_queries)
    for _ in range(4):
        customer = out_of_warranty_customer(branch)
        services.offer_assign(campaign=campaign, customer=customer, by=branch_manager)
    five, shown_five = _queries(branch_manager, f"{API}offers/", django_assert_max_num_queries)
    assert (shown, shown_five) == (1, 5)
    assert five == one
