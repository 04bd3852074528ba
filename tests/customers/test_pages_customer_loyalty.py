"""The loyalty card of the customer page: the points balance with a link to the statement for
those who may read points, and the customer's campaign offers not yet redeemed and still valid
for those who may read offers; a role with neither sees no card."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.care import services as care
from customers.care.choices import OfferKind, OfferStatus, TargetSegment
from customers.care.models import Campaign, Offer
from tests.factories import CustomerFactory, VehicleFactory
from tests.service.helpers import ready_work_order, settle

pytestmark = pytest.mark.django_db


def consenting_customer(branch):
    """A customer who agreed to marketing, with a car under the manufacturer's warranty."""
    customer = CustomerFactory(
        branch=branch,
        marketing_consent=True,
        consent_date=timezone.localdate(),
        consent_channel="sms",
    )
    VehicleFactory(
        owner=customer,
        transmission="automatic",
        three_guarantees_end_date=None,
        warranty_end_date=timezone.localdate() + timedelta(days=365),
        warranty_end_km=None,
    )
    return customer


def launched(branch, manager, name: str) -> Campaign:
    """A half-labour campaign launched to the branch's warranty segment."""
    care.segments_compute(branch=branch)
    today = timezone.localdate()
    campaign = care.campaign_create(
        branch=branch,
        by=manager,
        data={
            "name": name,
            "segment": TargetSegment.WARRANTY,
            "offer": OfferKind.HALF_LABOUR,
            "message": "质保期内回店享工时五折。",
            "starts_on": today,
            "ends_on": today + timedelta(days=20),
            "target_rate": Decimal("30"),
        },
    )
    care.campaign_launch(campaign=campaign, by=manager)
    return campaign


def page_of(client, user, customer) -> str:
    client.force_login(user)
    response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 200
    return response.content.decode()


def card_of(page: str) -> str:
    """The loyalty card's HTML (the page from the card on when it is there)."""
    start = page.find('id="customer-loyalty"')
    assert start != -1, "no loyalty card"
    return page[start : page.index("Master-data completeness", start)]


@pytest.fixture
def customer(branch):
    return consenting_customer(branch)


@pytest.fixture
def offers(branch, branch_manager, advisor, technician, customer) -> dict:
    """The customer's offers: one open, one asked for on a work order, one redeemed, one of a
    campaign whose last day has passed."""
    made = {
        name: Offer.objects.get(campaign=launched(branch, branch_manager, title), customer=customer)
        for name, title in [
            ("open", "质保期客户回厂关怀"),
            ("asked", "春季保养关怀"),
            ("redeemed", "老客户回馈"),
            ("over", "已结束的活动"),
        ]
    }
    vehicle = customer.vehicles.first()
    for name in ("asked", "redeemed"):
        work_order = ready_work_order(
            branch, advisor, technician, customer=customer, vehicle=vehicle
        )
        made[name] = care.offer_redemption_request(
            offer=made[name], work_order=work_order, by=advisor
        )
    care.offer_sign_off(offer=made["redeemed"], by=branch_manager)
    settle(work_order, advisor, paid=Decimal("100.00"))
    made["redeemed"].refresh_from_db()
    Campaign.objects.filter(pk=made["over"].campaign_id).update(
        starts_on=timezone.localdate() - timedelta(days=10),
        ends_on=timezone.localdate() - timedelta(days=1),
    )
    return made


def test_the_advisor_sees_the_points_and_the_open_offers(client, advisor, customer, offers):
    # given 10 points earned at the 100 CNY settlement, 3 of them redeemed
    settlement = offers["redeemed"].settlement
    assert care.points_for_settlement(settlement=settlement) == 1
    care.points_redeem(customer=customer, points=3, note="洗车一次", by=advisor)
    # when the advisor opens the customer
    card = card_of(page_of(client, advisor, customer))
    # then the balance links to the statement
    assert '<strong class="fs-5" id="customer-points">7</strong>' in card
    assert reverse("care:loyalty-statement", args=[customer.pk]) in card
    # and the open offer and the one asked for are listed with their campaign and last day,
    # not the redeemed one nor the one whose last day has passed
    open_offer = offers["open"]
    assert open_offer.code in card and "质保期客户回厂关怀" in card
    assert open_offer.campaign.ends_on.isoformat() in card
    assert offers["asked"].code in card and "Redemption awaiting sign-off" in card
    assert offers["redeemed"].code not in card and offers["over"].code not in card
    assert Offer.objects.get(pk=offers["redeemed"].pk).status == OfferStatus.REDEEMED


def test_a_customer_without_an_account_has_no_points_and_no_offers(client, advisor, customer):
    card = card_of(page_of(client, advisor, customer))
    assert '<strong class="fs-5" id="customer-points">0</strong>' in card
    assert "No open campaign offer." in card


def test_a_consultant_sees_the_points_but_not_the_offers(client, consultant, customer, offers):
    # a sales consultant reads points (care.view_loyaltyaccount) but not offers
    card = card_of(page_of(client, consultant, customer))
    assert 'id="customer-points"' in card
    assert 'id="customer-offers"' not in card and offers["open"].code not in card


def test_a_technician_sees_no_loyalty_card(client, technician, customer, offers):
    page = page_of(client, technician, customer)
    assert 'id="customer-loyalty"' not in page and offers["open"].code not in page


def test_customer_care_sees_the_offers(client, customer_care, customer, offers):
    card = card_of(page_of(client, customer_care, customer))
    assert offers["open"].code in card and 'id="customer-points"' in card
