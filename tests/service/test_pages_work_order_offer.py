"""The campaign offer on the work order page: the advisor enters the code the customer shows (or
picks one of the customer's open offers), a manager other than the one who asked signs it off
or turns it down, and the settlement takes its value off what the customer owes and redeems
it; every refusal of the service is shown under the code and changes nothing; a technician
sees no offer panel and an advisor cannot sign off; the page's queries do not grow with the
customer's offers."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.care import services as care
from customers.care.choices import OfferKind, OfferStatus, TargetSegment
from customers.care.models import Campaign, Offer
from dealer_crm.choices import Role
from service.choices import PaymentMethod, WorkOrderStatus
from service.models import Settlement
from tests.factories import CustomerFactory, UserFactory, VehicleFactory
from tests.service.helpers import fresh, open_work_order, ready_work_order, settle

pytestmark = pytest.mark.django_db


# --- Given ------------------------------------------------------------------------------------


def consenting_customer(branch):
    """A customer of `branch` who agreed to marketing, with a car under the manufacturer's
    warranty: in the segment the campaigns below aim at."""
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


def launched(branch, manager, *, offer=OfferKind.HALF_LABOUR, name="质保期客户回厂关怀"):
    """A campaign of the branch launched to the warranty segment (segments computed first):
    every consenting customer of it has an offer."""
    care.segments_compute(branch=branch)
    today = timezone.localdate()
    campaign = care.campaign_create(
        branch=branch,
        by=manager,
        data={
            "name": name,
            "segment": TargetSegment.WARRANTY,
            "offer": offer,
            "message": "质保期内回店享优惠。",
            "starts_on": today,
            "ends_on": today + timedelta(days=30),
            "target_rate": Decimal("30"),
        },
    )
    care.campaign_launch(campaign=campaign, by=manager)
    return campaign


def offer_of(campaign, customer) -> Offer:
    return Offer.objects.get(campaign=campaign, customer=customer)


def ready_for(customer, advisor, technician, **data):
    """The customer's work order ready to settle: 1 h of labour at 200 CNY."""
    return ready_work_order(
        customer.branch, advisor, technician, customer=customer,
        vehicle=customer.vehicles.first(), **data,
    )  # fmt: skip


def detail(work_order) -> str:
    return reverse("service:work-order-detail", args=[work_order.pk])


def action(work_order, name: str) -> str:
    return reverse("service:work-order-action", args=[work_order.pk, name])


def page_after(client, response) -> str:
    """The page the user sees after a POST: the redirect followed, or the page re-rendered."""
    if response.status_code == 302:
        response = client.get(response.url)
    return response.content.decode()


@pytest.fixture
def customer(branch):
    return consenting_customer(branch)


@pytest.fixture
def campaign(branch, branch_manager, customer):
    return launched(branch, branch_manager)


@pytest.fixture
def offer(campaign, customer) -> Offer:
    return offer_of(campaign, customer)


@pytest.fixture
def work_order(customer, advisor, technician):
    return ready_for(customer, advisor, technician)


# --- The journey ----------------------------------------------------------------------------


def test_an_offer_asked_for_signed_off_and_redeemed_at_settlement_through_the_page(
    client, advisor, branch_manager, offer, work_order
):
    # given the customer's half-labour offer and their work order of 200 CNY of labour
    client.force_login(advisor)
    page = client.get(detail(work_order)).content.decode()
    assert 'id="offer-panel"' in page and f'id="redeem-{offer.code}"' in page
    assert 'value="200.00"' in page  # the customer owes the whole bill

    # when the advisor enters the code the customer shows, in lower case with a space
    response = client.post(
        action(work_order, "offer-request"), {"code": f"{offer.code[:4].lower()} {offer.code[4:]}"}
    )
    # then the offer waits on the work order for a manager's sign-off
    page = page_after(client, response)
    offer.refresh_from_db()
    assert (offer.status, offer.work_order, offer.requested_by) == (
        OfferStatus.REQUESTED, work_order, advisor,
    )  # fmt: skip
    assert f"Offer {offer.code} asked for on {work_order.number}" in page
    assert "Redemption awaiting sign-off" in page and "100.00 CNY" in page
    assert 'id="action-offer-sign-off"' not in page  # the advisor does not sign off
    assert 'value="200.00"' in page  # not off the bill before it is signed off

    # when the advisor settles before the sign-off, then the service's refusal is shown
    response = client.post(
        action(work_order, "settle"),
        {"discount": "0", "payment_method": PaymentMethod.WECHAT, "paid_amount": "200.00"},
    )
    assert (
        f"Offer {offer.code} waits for a manager&#x27;s sign-off: sign it off or withdraw it"
        in page_after(client, response)
    )
    assert not Settlement.objects.exists()

    # when the branch manager signs it off on the work order page
    client.force_login(branch_manager)
    assert 'id="action-offer-sign-off"' in client.get(detail(work_order)).content.decode()
    response = client.post(action(work_order, "offer-sign-off"), {"offer": offer.pk})
    assert f"Offer {offer.code} signed off for {work_order.number}" in page_after(client, response)
    offer.refresh_from_db()
    assert (offer.status, offer.signed_off_by) == (OfferStatus.APPROVED, branch_manager)

    # then the advisor's settle panel takes half the labour off what the customer owes
    client.force_login(advisor)
    page = client.get(detail(work_order)).content.decode()
    assert 'id="settle-offer"' in page and "−100.00" in page
    assert 'value="100.00"' in page
    response = client.post(
        action(work_order, "settle"),
        {"discount": "0", "payment_method": PaymentMethod.WECHAT, "paid_amount": "100.00"},
    )
    page = page_after(client, response)
    assert "100.00 CNY received" in page

    # and the settlement carries the discount and the offer is redeemed
    settlement = Settlement.objects.get(work_order=work_order)
    assert (settlement.discount, settlement.paid_amount, settlement.offer_code) == (
        Decimal("100.00"), Decimal("100.00"), offer.code,
    )  # fmt: skip
    offer.refresh_from_db()
    assert (offer.status, offer.settlement, offer.value) == (
        OfferStatus.REDEEMED, settlement, Decimal("100.00"),
    )  # fmt: skip
    assert 'id="settlement-offer"' in page and offer.code in page
    assert 'id="offer-panel"' not in page  # settled: nothing more to ask for


def test_the_customer_owes_less_by_the_offer_whatever_discount_is_added(
    client, advisor, branch_manager, offer, work_order
):
    # given a signed-off half-labour offer (100 off 200)
    care.offer_redemption_request(offer=offer, work_order=work_order, by=advisor)
    care.offer_sign_off(offer=offer, by=branch_manager)
    client.force_login(advisor)
    # when the advisor adds a discount of 20 but collects what the page showed before it
    response = client.post(
        action(work_order, "settle"),
        {"discount": "20", "payment_method": PaymentMethod.CASH, "paid_amount": "100.00"},
    )
    # then the service's amount is named beside the payment, and nothing is settled
    assert response.status_code == 400
    assert "The customer pays 80.00" in response.content.decode()
    assert not Settlement.objects.exists()
    # and with 80 collected the settlement holds both discounts
    client.post(
        action(work_order, "settle"),
        {"discount": "20", "payment_method": PaymentMethod.CASH, "paid_amount": "80.00"},
    )
    assert Settlement.objects.get(work_order=work_order).discount == Decimal("120.00")


def test_a_gift_offer_is_redeemed_without_taking_anything_off_the_bill(
    client, branch, advisor, technician, branch_manager, customer
):
    # given an engine-bay care package signed off on the customer's work order
    campaign = launched(branch, branch_manager, offer=OfferKind.ENGINE_BAY_CARE)
    offer = offer_of(campaign, customer)
    work_order = ready_for(customer, advisor, technician)
    care.offer_redemption_request(offer=offer, work_order=work_order, by=advisor)
    care.offer_sign_off(offer=offer, by=branch_manager)
    client.force_login(advisor)
    # when the advisor opens the page, then the gift is said to take nothing off
    page = client.get(detail(work_order)).content.decode()
    assert "nothing comes off the bill" in page and 'value="200.00"' in page
    # and the whole bill is settled, the gift redeemed at 0
    client.post(
        action(work_order, "settle"),
        {"discount": "0", "payment_method": PaymentMethod.CASH, "paid_amount": "200.00"},
    )
    offer.refresh_from_db()
    assert (offer.status, offer.value) == (OfferStatus.REDEEMED, Decimal("0.00"))


# --- Refusals ---------------------------------------------------------------------------------


def _another_customers_offer(branch, manager, advisor, technician, customer, offer):
    other = consenting_customer(branch)
    campaign = launched(branch, manager, name="第二个活动")
    return offer_of(campaign, other).code


def _expired(branch, manager, advisor, technician, customer, offer):
    Campaign.objects.filter(pk=offer.campaign_id).update(
        starts_on=timezone.localdate() - timedelta(days=10),
        ends_on=timezone.localdate() - timedelta(days=1),
    )
    return offer.code


def _already_redeemed(branch, manager, advisor, technician, customer, offer):
    earlier = ready_for(customer, advisor, technician)
    care.offer_redemption_request(offer=offer, work_order=earlier, by=advisor)
    care.offer_sign_off(offer=offer, by=manager)
    settle(earlier, advisor, paid=Decimal("100.00"))
    return offer.code


def _free_labour_on_a_repair(branch, manager, advisor, technician, customer, offer):
    campaign = launched(
        branch, manager, offer=OfferKind.FREE_MAINTENANCE_LABOUR, name="保养工时全免"
    )
    return offer_of(campaign, customer).code


def _another_branchs(branch, manager, advisor, technician, customer, offer):
    other_branch = type(branch).objects.exclude(pk=branch.pk).get()
    theirs = consenting_customer(other_branch)
    their_manager = UserFactory(roles=[Role.BRANCH_MANAGER], branches=[other_branch])
    return offer_of(launched(other_branch, their_manager), theirs).code


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (lambda *args: "ZZZZ9999", "No offer has the code ZZZZ9999."),
        (_another_customers_offer, "not to this work order&#x27;s customer"),
        (_expired, "expired on"),
        (_already_redeemed, "was already redeemed at settlement"),
        (_free_labour_on_a_repair, "Free labour is for a maintenance visit."),
        (_another_branchs, "No offer has the code"),
    ],
    ids=["unknown", "other-customer", "expired", "redeemed", "not-applicable", "other-branch"],
)
def test_a_refused_code_is_shown_under_it_and_nothing_changes(
    client, branch, other_branch, advisor, technician, branch_manager, customer, offer, given,
    message,
):  # fmt: skip
    # given a code the service refuses on the customer's repair work order
    code = given(branch, branch_manager, advisor, technician, customer, offer)
    work_order = ready_for(customer, advisor, technician)
    offers_before = {row.pk: (row.status, row.work_order_id) for row in Offer.objects.all()}
    client.force_login(advisor)
    # when the advisor enters it
    response = client.post(action(work_order, "offer-request"), {"code": code})
    # then the page comes back with the refusal under the code, which is kept
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert 'id="offer-code"' in page and "is-invalid" in page and f'value="{code}"' in page
    # and no offer changed
    assert {row.pk: (row.status, row.work_order_id) for row in Offer.objects.all()} == (
        offers_before
    )


def test_an_empty_or_too_long_code_is_refused_beside_the_field(client, advisor, work_order):
    client.force_login(advisor)
    for code in ["", "X" * 21]:
        response = client.post(action(work_order, "offer-request"), {"code": code})
        assert response.status_code == 400
        assert "is-invalid" in response.content.decode()
    assert not Offer.objects.exclude(status=OfferStatus.ASSIGNED).exists()


def test_a_second_offer_on_the_same_work_order_is_refused(
    client, branch, advisor, branch_manager, customer, offer, work_order
):
    # given an offer already asked for on the work order
    care.offer_redemption_request(offer=offer, work_order=work_order, by=advisor)
    second = offer_of(launched(branch, branch_manager, name="第二个活动"), customer)
    client.force_login(advisor)
    # when the advisor enters another of the customer's codes
    response = client.post(action(work_order, "offer-request"), {"code": second.code})
    # then it is refused, the first stays
    assert "This work order already redeems an offer." in page_after(client, response)
    assert fresh(second).status == OfferStatus.ASSIGNED
    assert fresh(offer).status == OfferStatus.REQUESTED


# --- Open offers, withdraw, turn down -------------------------------------------------------


def test_the_customers_open_offers_are_listed_and_redeemed_in_one_click(
    client, branch, advisor, branch_manager, customer, offer, work_order
):
    # given the customer's two open offers, one of a campaign over, and another customer's
    other = consenting_customer(branch)
    second = offer_of(launched(branch, branch_manager, name="第二个活动"), customer)
    over = offer_of(launched(branch, branch_manager, name="已结束的活动"), customer)
    Campaign.objects.filter(pk=over.campaign_id).update(
        starts_on=timezone.localdate() - timedelta(days=10),
        ends_on=timezone.localdate() - timedelta(days=1),
    )
    others = list(other.offers.values_list("code", flat=True))
    assert len(others) == 2
    client.force_login(advisor)
    # when the advisor opens the page
    page = client.get(detail(work_order)).content.decode()
    # then only the customer's offers valid today are listed
    assert f'id="redeem-{offer.code}"' in page and f'id="redeem-{second.code}"' in page
    assert over.code not in page
    assert not any(code in page for code in others)
    # when they click "Redeem on this work order"
    response = client.post(action(work_order, "offer-request"), {"code": second.code})
    # then it is asked for and the list gives way to the offer's status
    page = page_after(client, response)
    assert fresh(second).status == OfferStatus.REQUESTED
    assert fresh(offer).status == OfferStatus.ASSIGNED
    assert 'id="open-offers"' not in page and 'id="offer-on-work-order"' in page


def test_the_advisor_withdraws_the_offer_and_the_customer_keeps_it(
    client, advisor, offer, work_order
):
    care.offer_redemption_request(offer=offer, work_order=work_order, by=advisor)
    client.force_login(advisor)
    page = client.get(detail(work_order)).content.decode()
    assert 'id="action-offer-withdraw"' in page and "data-confirm" in page
    # when the advisor withdraws it
    response = client.post(action(work_order, "offer-withdraw"), {"offer": offer.pk})
    # then the customer has it back, and it is listed to be redeemed again
    page = page_after(client, response)
    offer.refresh_from_db()
    assert (offer.status, offer.work_order, offer.requested_by) == (
        OfferStatus.ASSIGNED, None, None,
    )  # fmt: skip
    assert f"Offer {offer.code} taken off {work_order.number}" in page
    assert f'id="redeem-{offer.code}"' in page


def test_a_manager_turns_the_offer_down(client, advisor, branch_manager, offer, work_order):
    care.offer_redemption_request(offer=offer, work_order=work_order, by=advisor)
    client.force_login(branch_manager)
    response = client.post(action(work_order, "offer-turn-down"), {"offer": offer.pk})
    assert "turned down" in page_after(client, response)
    offer.refresh_from_db()
    assert (offer.status, offer.work_order, offer.signed_off_by) == (
        OfferStatus.ASSIGNED, None, None,
    )  # fmt: skip


@pytest.mark.parametrize("posted", ["", "abc", "99999999", "9" * 40])
def test_an_offer_not_on_the_work_order_is_not_signed_off(
    client, branch, advisor, technician, branch_manager, customer, offer, work_order, posted
):
    # given the offer asked for on another work order of the customer
    elsewhere = ready_for(customer, advisor, technician)
    care.offer_redemption_request(offer=offer, work_order=elsewhere, by=advisor)
    client.force_login(branch_manager)
    # when the manager posts a sign-off on this work order, for it or for nothing sensible
    for value in [posted, str(offer.pk)]:
        response = client.post(action(work_order, "offer-sign-off"), {"offer": value})
        # then it is refused as out of date and nothing changes
        assert "no longer on this work order" in page_after(client, response)
    assert fresh(offer).status == OfferStatus.REQUESTED


# --- Permissions ------------------------------------------------------------------------------


def test_a_technician_sees_no_offer_panel_and_may_not_ask(
    client, technician, advisor, offer, work_order
):
    care.offer_redemption_request(offer=offer, work_order=work_order, by=advisor)
    client.force_login(technician)
    page = client.get(detail(work_order)).content.decode()
    assert 'id="offer-panel"' not in page and offer.code not in page
    for name in ["offer-request", "offer-withdraw", "offer-sign-off"]:
        response = client.post(action(work_order, name), {"code": offer.code, "offer": offer.pk})
        assert response.status_code == 403, name
    assert fresh(offer).status == OfferStatus.REQUESTED


def test_an_advisor_cannot_sign_off(client, advisor, offer, work_order):
    care.offer_redemption_request(offer=offer, work_order=work_order, by=advisor)
    client.force_login(advisor)
    page = client.get(detail(work_order)).content.decode()
    assert 'id="action-offer-sign-off"' not in page and 'id="action-offer-turn-down"' not in page
    for name in ["offer-sign-off", "offer-turn-down"]:
        assert client.post(action(work_order, name), {"offer": offer.pk}).status_code == 403
    assert fresh(offer).status == OfferStatus.REQUESTED


def test_a_manager_who_asked_does_not_sign_off_their_own_request(
    client, branch, branch_manager, offer, work_order
):
    # given an advisor who is also a manager asks for the offer
    both = UserFactory(
        username="advisor_manager", roles=[Role.SERVICE_ADVISOR, Role.BRANCH_MANAGER],
        branches=[branch],
    )  # fmt: skip
    client.force_login(both)
    client.post(action(work_order, "offer-request"), {"code": offer.code})
    assert fresh(offer).status == OfferStatus.REQUESTED
    # then they are offered no sign-off, and a posted one is refused
    page = client.get(detail(work_order)).content.decode()
    assert 'id="action-offer-sign-off"' not in page
    assert "Another manager signs off a redemption you asked for." in page
    response = client.post(action(work_order, "offer-sign-off"), {"offer": offer.pk})
    assert "Another manager signs off a redemption you asked for." in page_after(client, response)
    assert fresh(offer).status == OfferStatus.REQUESTED
    # and another manager does
    client.force_login(branch_manager)
    client.post(action(work_order, "offer-sign-off"), {"offer": offer.pk})
    assert fresh(offer).status == OfferStatus.APPROVED


def test_a_manager_without_an_offer_on_the_work_order_sees_no_panel(
    client, branch_manager, offer, work_order
):
    client.force_login(branch_manager)
    assert 'id="offer-panel"' not in client.get(detail(work_order)).content.decode()


def test_an_open_work_order_takes_an_offer_too(client, branch, advisor, customer, offer):
    work_order = open_work_order(
        branch, advisor, customer=customer, vehicle=customer.vehicles.first()
    )
    assert work_order.status == WorkOrderStatus.OPEN
    client.force_login(advisor)
    client.post(action(work_order, "offer-request"), {"code": offer.code})
    assert fresh(offer).work_order == work_order


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_offer_panel_renders_in_both_languages(
    client, advisor, branch_manager, offer, work_order, language
):
    care.offer_redemption_request(offer=offer, work_order=work_order, by=advisor)
    client.force_login(branch_manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(detail(work_order))
    assert response.status_code == 200
    assert f'lang="{language}"' in response.content.decode()
    assert 'id="action-offer-sign-off"' in response.content.decode()


# --- Speed --------------------------------------------------------------------------------------


def test_the_pages_queries_do_not_grow_with_the_customers_offers(
    client, branch, advisor, technician, branch_manager
):
    # given one customer with one open offer and another with three
    few, many = consenting_customer(branch), consenting_customer(branch)
    launched(branch, branch_manager, name="活动一")
    for name in ["活动二", "活动三"]:
        campaign = launched(branch, branch_manager, name=name)
        Offer.objects.filter(campaign=campaign, customer=few).delete()
    assert (few.offers.count(), many.offers.count()) == (1, 3)
    orders = [ready_for(customer, advisor, technician) for customer in (few, many)]
    client.force_login(advisor)
    counts = []
    for work_order in orders + orders:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(detail(work_order))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] and counts[2] == counts[3], counts
