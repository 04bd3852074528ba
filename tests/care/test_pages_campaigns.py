"""The campaign (关怀活动) pages: the branch's campaigns with their success per segment against
the target; a draft written with a live count of its segment (only the customers who agreed
to marketing get the offer), each refusal beside its field; launched and closed through the
page; one more customer given the offer — never one without consent; the offers with their
redemption signed off, turned down or withdrawn. Other branches' campaigns and offers are
404, roles without the permission 403, and the lists cost the same number of queries
whatever their length."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from customers.care import services
from customers.care.choices import (
    CampaignStatus,
    MessageStatus,
    OfferKind,
    OfferStatus,
    TargetSegment,
)
from customers.care.models import Campaign, Offer
from dealer_crm.choices import Role
from service.choices import ServiceType
from tests.factories import CustomerFactory, UserFactory, VehicleFactory
from tests.service.helpers import open_work_order, ready_work_order, settle

pytestmark = pytest.mark.django_db

# Customers whose newest car is still under the manufacturer's warranty (not within 三包).
SEGMENT = TargetSegment.WARRANTY


def in_segment(branch, *, consent: bool, **fields):
    """A customer of `branch` in the warranty segment, who agreed to marketing or not."""
    if consent:
        fields.update(
            marketing_consent=True, consent_date=timezone.localdate(), consent_channel="sms"
        )
    customer = CustomerFactory(branch=branch, **fields)
    VehicleFactory(
        owner=customer,
        three_guarantees_end_date=None,
        warranty_end_date=timezone.localdate() + timedelta(days=365),
        warranty_end_km=None,
    )
    return customer


def audience(branch, consenting: int = 2, without: int = 1) -> list:
    """The segment's customers, those who agreed first; the segments computed as at night."""
    customers = [in_segment(branch, consent=True) for _ in range(consenting)]
    customers += [in_segment(branch, consent=False) for _ in range(without)]
    services.segments_compute(branch=branch)
    return customers


def campaign_data(**data) -> dict:
    today = timezone.localdate()
    return {
        "name": "质保期客户回厂关怀",
        "segment": SEGMENT,
        "offer": OfferKind.HALF_LABOUR,
        "message": "质保期内保养享工时五折。",
        "starts_on": today,
        "ends_on": today + timedelta(days=30),
        "target_rate": Decimal("30"),
        **data,
    }


def form_data(**data) -> dict:
    return {
        key: value.isoformat() if hasattr(value, "isoformat") else str(value)
        for key, value in campaign_data(**data).items()
    }


def draft(branch, by, **data) -> Campaign:
    return services.campaign_create(branch=branch, by=by, data=campaign_data(**data))


def launched(branch, by, **data) -> Campaign:
    """A campaign launched to the segment's consenting customers, each of them messaged."""
    campaign = draft(branch, by, **data)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.campaign_launch(campaign=campaign, by=by)
    campaign.refresh_from_db()
    return campaign


def requested(offer: Offer, branch, advisor) -> Offer:
    """The advisor asks to redeem the offer on the customer's open work order."""
    customer = offer.customer
    work_order = open_work_order(
        branch, advisor, customer=customer, vehicle=customer.vehicles.first()
    )
    return services.offer_redemption_request(offer=offer, work_order=work_order, by=advisor)


def detail_url(campaign) -> str:
    return reverse("care:campaign-detail", args=[campaign.pk])


def action_url(campaign, action: str) -> str:
    return reverse("care:campaign-action", args=[campaign.pk, action])


def offer_url(offer, action: str) -> str:
    return reverse("care:offer-action", args=[offer.pk, action])


def listed(response) -> list[int]:
    return [row.pk for row in response.context["page"]]


def follow(client, response):
    assert response.status_code == 302, response.content[:800]
    return client.get(response.url)


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def customers(branch) -> list:
    return audience(branch)


@pytest.fixture
def campaign(branch, branch_manager, customers) -> Campaign:
    return draft(branch, branch_manager)


@pytest.fixture
def running(branch, branch_manager, customers) -> Campaign:
    return launched(branch, branch_manager)


@pytest.fixture
def second_manager(branch):
    return UserFactory(username="sales_manager_2", roles=[Role.SALES_MANAGER], branches=[branch])


@pytest.fixture
def other_office(other_branch):
    """The other branch's manager and care agent in one: every permission, none of our
    records."""
    return UserFactory(
        roles=[Role.CUSTOMER_CARE, Role.BRANCH_MANAGER], branches=[other_branch], username="panyu"
    )


# --- Access --------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["branch_manager", "sales_manager", "group_manager"])
def test_managers_open_every_campaign_page(request, client, persona, campaign, running):
    client.force_login(request.getfixturevalue(persona))
    for url in [
        reverse("care:campaign-list"),
        reverse("care:campaign-create"),
        reverse("care:campaign-update", args=[campaign.pk]),
        detail_url(campaign),
        detail_url(running),
        reverse("care:campaign-preview") + f"?segment={SEGMENT}",
    ]:
        assert client.get(url).status_code == 200, url


def test_customer_care_reads_campaigns_but_neither_writes_nor_launches_them(
    client, customer_care, campaign, running
):
    client.force_login(customer_care)
    for url in [reverse("care:campaign-list"), detail_url(campaign), detail_url(running)]:
        assert client.get(url).status_code == 200, url
    page = client.get(reverse("care:campaign-list")).content.decode()
    assert 'id="campaign-new"' not in page
    page = client.get(detail_url(campaign)).content.decode()
    assert 'id="campaign-launch"' not in page and 'id="campaign-edit"' not in page
    assert client.get(reverse("care:campaign-create")).status_code == 403
    assert client.get(reverse("care:campaign-update", args=[campaign.pk])).status_code == 403
    assert client.post(reverse("care:campaign-create"), form_data()).status_code == 403
    assert client.post(action_url(campaign, "launch")).status_code == 403
    assert client.post(action_url(running, "close")).status_code == 403
    campaign.refresh_from_db()
    running.refresh_from_db()
    assert (campaign.status, running.status) == (CampaignStatus.DRAFT, CampaignStatus.LAUNCHED)
    assert Campaign.objects.count() == 2


@pytest.mark.parametrize("persona", ["advisor", "consultant", "technician"])
def test_roles_without_campaigns_are_refused_every_page(request, client, persona, campaign):
    client.force_login(request.getfixturevalue(persona))
    for url in [
        reverse("care:campaign-list"),
        reverse("care:campaign-create"),
        reverse("care:campaign-update", args=[campaign.pk]),
        detail_url(campaign),
        reverse("care:campaign-preview") + f"?segment={SEGMENT}",
    ]:
        assert client.get(url).status_code == 403, url
    assert client.post(action_url(campaign, "launch")).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_another_branchs_campaigns_and_offers_are_not_found_nor_listed(
    client, other_office, campaign, running, branch, advisor
):
    offer = requested(running.offers.first(), branch, advisor)
    client.force_login(other_office)
    assert listed(client.get(reverse("care:campaign-list"))) == []
    assert client.get(detail_url(campaign)).status_code == 404
    assert client.get(reverse("care:campaign-update", args=[campaign.pk])).status_code == 404
    preview = reverse("care:campaign-preview") + f"?segment={SEGMENT}&campaign={campaign.pk}"
    assert client.get(preview).status_code == 404
    assert client.post(action_url(campaign, "launch")).status_code == 404
    assert client.post(action_url(running, "close")).status_code == 404
    assert client.post(offer_url(offer, "sign-off")).status_code == 404
    assert client.post(offer_url(offer, "withdraw")).status_code == 404
    campaign.refresh_from_db()
    running.refresh_from_db()
    offer.refresh_from_db()
    assert (campaign.status, running.status) == (CampaignStatus.DRAFT, CampaignStatus.LAUNCHED)
    assert (offer.status, offer.signed_off_by) == (OfferStatus.REQUESTED, None)


def test_unknown_actions_are_not_found_and_an_action_address_leads_back(
    client, branch_manager, campaign, running
):
    client.force_login(branch_manager)
    offer = running.offers.first()
    assert client.post(action_url(campaign, "cancel")).status_code == 404
    assert client.post(offer_url(offer, "redeem")).status_code == 404
    assert client.get(offer_url(offer, "sign-off")).status_code == 405
    response = client.get(action_url(campaign, "launch"))
    assert (response.status_code, response.url) == (302, detail_url(campaign))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_pages_render_in_each_language(
    client, branch_manager, campaign, running, branch, advisor, language
):
    requested(running.offers.first(), branch, advisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(branch_manager)
    for url, marker in [
        (reverse("care:campaign-list"), 'id="segment-results"'),
        (reverse("care:campaign-create"), 'id="audience-counts"'),
        (reverse("care:campaign-update", args=[campaign.pk]), 'id="campaign-form"'),
        (detail_url(campaign), 'id="campaign-audience"'),
        (detail_url(running), 'class="btn btn-sm btn-success offer-sign-off"'),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert f'lang="{language}"' in page and marker in page, url


# --- A new campaign and its edits ----------------------------------------------------------


def test_a_manager_writes_a_draft_campaign(client, branch_manager, branch, customers):
    client.force_login(branch_manager)
    page = follow(client, client.post(reverse("care:campaign-create"), form_data()))
    campaign = Campaign.objects.get()
    assert page.wsgi_request.path == detail_url(campaign)
    assert (campaign.branch, campaign.created_by, campaign.status) == (
        branch, branch_manager, CampaignStatus.DRAFT,
    )  # fmt: skip
    assert (campaign.segment, campaign.offer, campaign.target_rate) == (
        SEGMENT, OfferKind.HALF_LABOUR, Decimal("30.00"),
    )  # fmt: skip
    assert campaign.offers.count() == 0
    assert any(campaign.number in message for message in shown_messages(page))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"segment": "everybody"}, "segment"),
        ({"offer": ""}, "offer"),
        ({"ends_on": "not a day"}, "ends_on"),
        ({"target_rate": "150"}, "target_rate"),
        ({"target_rate": "-1"}, "target_rate"),
        ({"message": "好" * 501}, "message"),
    ],
)
def test_a_campaign_with_a_bad_field_is_refused_beside_it(
    client, branch_manager, customers, overrides, field
):
    client.force_login(branch_manager)
    response = client.post(reverse("care:campaign-create"), {**form_data(), **overrides})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert Campaign.objects.count() == 0


def test_the_services_date_refusals_show_beside_the_last_day(client, branch_manager, customers):
    client.force_login(branch_manager)
    today = timezone.localdate()
    for starts_on, ends_on, words in [
        (today + timedelta(days=5), today + timedelta(days=1), "on or after the first"),
        (today - timedelta(days=10), today - timedelta(days=1), "last day has passed"),
    ]:
        response = client.post(
            reverse("care:campaign-create"),
            form_data(starts_on=starts_on, ends_on=ends_on),
        )
        assert response.status_code == 200
        form = response.context["form"]
        assert list(form.errors) == ["ends_on"] and words in form.errors["ends_on"][0]
        field = re.search(r'<input[^>]*id="id_ends_on"[^>]*>', response.content.decode())
        assert "is-invalid" in field.group(0)
    assert Campaign.objects.count() == 0


def test_a_draft_is_edited_and_a_launched_campaign_no_longer(
    client, branch_manager, campaign, running
):
    client.force_login(branch_manager)
    edit = reverse("care:campaign-update", args=[campaign.pk])
    assert client.get(edit).context["form"]["name"].value() == campaign.name
    response = client.post(edit, form_data(name="新名字", target_rate="45.5"))
    assert (response.status_code, response.url) == (302, detail_url(campaign))
    campaign.refresh_from_db()
    assert (campaign.name, campaign.target_rate) == ("新名字", Decimal("45.50"))

    edit = reverse("care:campaign-update", args=[running.pk])
    page = follow(client, client.get(edit))
    assert "Only a draft campaign can be changed." in shown_messages(page)
    response = client.post(edit, form_data(name="改不了"))
    assert (response.status_code, response.url) == (302, detail_url(running))
    running.refresh_from_db()
    assert running.name == campaign_data()["name"]
    assert 'id="campaign-edit"' not in client.get(detail_url(running)).content.decode()


# --- The count of the segment --------------------------------------------------------------


def test_the_preview_counts_the_segment_and_those_who_agreed_to_marketing(
    client, branch_manager, branch, other_branch, customers
):
    audience(other_branch, consenting=4, without=4)  # not ours: never counted
    client.force_login(branch_manager)
    preview = reverse("care:campaign-preview")
    response = client.get(preview, {"segment": SEGMENT})
    assert response.context["counts"] == {"customers": 3, "consenting": 2}
    page = response.content.decode()
    assert "3 customers in" in page and "2 agreed to marketing — only they get the offer" in page
    assert 'id="audience-empty"' not in page

    response = client.get(preview, {"segment": TargetSegment.KEY_CUSTOMERS})
    assert response.context["counts"] == {"customers": 0, "consenting": 0}
    assert 'id="audience-empty"' in response.content.decode()

    response = client.get(preview, {"segment": "anyone"})
    assert response.context["counts"] is None
    assert "Choose a segment" in response.content.decode()


def test_the_form_shows_the_count_of_its_segment_and_asks_for_it_on_change(
    client, branch_manager, campaign
):
    client.force_login(branch_manager)
    page = client.get(reverse("care:campaign-update", args=[campaign.pk])).content.decode()
    assert 'data-customers="3" data-consenting="2"' in page
    select = re.search(r'<select name="segment"[^>]*>', page).group(0)
    assert f'hx-get="{reverse("care:campaign-preview")}"' in select
    assert f'"campaign": "{campaign.pk}"' in select
    response = client.get(
        reverse("care:campaign-preview"), {"segment": SEGMENT, "campaign": campaign.pk}
    )
    assert response.context["counts"] == {"customers": 3, "consenting": 2}


# --- Launch and close ----------------------------------------------------------------------


def test_launching_gives_the_offer_only_to_those_who_agreed_and_messages_them(
    client, branch_manager, campaign, customers
):
    client.force_login(branch_manager)
    page = client.get(detail_url(campaign)).content.decode()
    assert "2 customers who agreed to marketing get the offer" in page
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(action_url(campaign, "launch"))
    page = follow(client, response)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.LAUNCHED and campaign.launched_at is not None
    offers = Offer.objects.filter(campaign=campaign)
    assert {offer.customer for offer in offers} == {customer for customer in customers[:2]}
    assert all(offer.message.status == MessageStatus.SENT for offer in offers)
    assert any("2 customers who agreed" in message for message in shown_messages(page))
    assert page.context["counts"]["offers"] == 2 and page.context["counts"]["contacted"] == 2

    # a second launch is refused and gives nobody a second offer
    page = follow(client, client.post(action_url(campaign, "launch")))
    assert "This campaign is already launched." in shown_messages(page)
    assert Offer.objects.filter(campaign=campaign).count() == 2


def test_a_campaign_nobody_agreed_to_is_not_launched(client, branch_manager, branch, customers):
    campaign = draft(branch, branch_manager, segment=TargetSegment.KEY_CUSTOMERS)
    client.force_login(branch_manager)
    page = client.get(detail_url(campaign)).content.decode()
    assert re.search(r'id="campaign-launch" disabled', page)
    page = follow(client, client.post(action_url(campaign, "launch")))
    assert any("nobody to reach" in message for message in shown_messages(page))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT and campaign.offers.count() == 0


def test_closing_stops_new_offers(client, branch_manager, running, branch):
    client.force_login(branch_manager)
    page = client.get(detail_url(running)).content.decode()
    assert 'id="campaign-close"' in page and 'id="assign-panel"' in page
    page = follow(client, client.post(action_url(running, "close")))
    running.refresh_from_db()
    assert running.status == CampaignStatus.CLOSED
    assert any("closed" in message for message in shown_messages(page))
    assert 'id="assign-panel"' not in page.content.decode()
    late = in_segment(branch, consent=True)
    page = follow(client, client.post(action_url(running, "assign"), {"assign-customer": late.pk}))
    assert "Offers are given from a launched campaign." in page.content.decode()
    assert not Offer.objects.filter(customer=late).exists()


# --- One more customer ---------------------------------------------------------------------


def test_a_customer_without_consent_is_refused_the_offer_and_nothing_is_created(
    client, customer_care, running, branch
):
    stranger = in_segment(branch, consent=False, name="司马懿")
    client.force_login(customer_care)
    response = client.post(action_url(running, "assign"), {"assign-customer": stranger.pk})
    assert response.status_code == 200
    refused = re.search(r'id="assign-refused">(.*?)</div>', response.content.decode(), re.S)
    assert "司马懿 has not agreed to marketing" in refused.group(1)
    assert response.context["assign_form"].domain_error.code == "no_marketing_consent"
    assert not Offer.objects.filter(customer=stranger).exists()
    assert Offer.objects.filter(campaign=running).count() == 2


def test_care_gives_the_offer_to_one_more_customer_once(client, customer_care, running, branch):
    newcomer = in_segment(branch, consent=True, name="诸葛亮")
    client.force_login(customer_care)
    page = follow(
        client, client.post(action_url(running, "assign"), {"assign-customer": newcomer.pk})
    )
    offer = Offer.objects.get(campaign=running, customer=newcomer)
    assert offer.message.status == MessageStatus.SENT
    assert any(offer.code in message for message in shown_messages(page))

    page = follow(
        client, client.post(action_url(running, "assign"), {"assign-customer": newcomer.pk})
    )
    assert "诸葛亮 already has this campaign's offer." in shown_messages(page)
    assert Offer.objects.filter(campaign=running, customer=newcomer).count() == 1


def test_a_customer_of_another_branch_cannot_be_chosen(
    client, customer_care, running, other_branch
):
    theirs = in_segment(other_branch, consent=True)
    client.force_login(customer_care)
    response = client.post(action_url(running, "assign"), {"assign-customer": theirs.pk})
    assert response.status_code == 200
    assert list(response.context["assign_form"].errors) == ["customer"]
    response = client.post(action_url(running, "assign"), {"assign-customer": "12²"})
    assert list(response.context["assign_form"].errors) == ["customer"]
    assert not Offer.objects.filter(customer=theirs).exists()


def test_the_picker_finds_the_branchs_customers_and_marks_those_without_consent(
    client, customer_care, running, branch, other_branch
):
    in_segment(branch, consent=True, name="欧阳修")
    quiet = in_segment(branch, consent=False, name="欧阳询")
    in_segment(other_branch, consent=True, name="欧阳锋")
    client.force_login(customer_care)
    response = client.get(detail_url(running), {"customer_search": "欧阳"})
    names = [customer.name for customer in response.context["customers"]]
    assert sorted(names) == ["欧阳修", "欧阳询"]
    options = response.content.decode()
    marked = re.search(
        rf'<option value="{quiet.pk}"[^>]*data-no-consent[^>]*>(.*?)</option>', options
    )
    assert marked and "no marketing consent" in marked.group(1)
    assert "<html" not in options


def test_the_picker_is_refused_to_a_role_without_campaigns(client, advisor, running):
    client.force_login(advisor)
    assert client.get(detail_url(running), {"customer_search": "欧阳"}).status_code == 403


# --- The offers and their redemption -------------------------------------------------------


def test_the_offers_are_filtered_by_status_and_found_by_code_or_name(
    client, branch_manager, running, branch, advisor
):
    first, second = running.offers.order_by("pk")
    requested(first, branch, advisor)
    client.force_login(branch_manager)

    def shown(**query) -> list[int]:
        response = client.get(detail_url(running), query)
        assert response.status_code == 200
        return listed(response)

    assert sorted(shown()) == sorted([first.pk, second.pk])
    assert shown(status=OfferStatus.REQUESTED) == [first.pk]
    assert shown(status=OfferStatus.ASSIGNED) == [second.pk]
    assert shown(search=second.code.lower()) == [second.pk]
    assert shown(search=first.customer.name[:2]) == [first.pk]
    # a status it does not know leaves the table whole and says so
    response = client.get(detail_url(running), {"status": "lost"})
    assert sorted(listed(response)) == sorted([first.pk, second.pk])
    assert response.context["filterset"].errors


def test_a_manager_signs_off_a_redemption_from_the_notification_link(
    client, second_manager, running, branch, advisor
):
    offer = requested(running.offers.first(), branch, advisor)
    client.force_login(second_manager)
    page = client.get(detail_url(running), {"status": "requested"})
    row = re.search(rf'id="offer-{offer.pk}"(.*?)</tr>', page.content.decode(), re.S).group(1)
    assert "offer-sign-off" in row and "offer-turn-down" in row and "offer-withdraw" in row
    response = client.post(offer_url(offer, "sign-off") + "?status=requested")
    assert response.status_code == 302
    assert response.url == detail_url(running) + "?status=requested#offers"
    offer.refresh_from_db()
    assert (offer.status, offer.signed_off_by) == (OfferStatus.APPROVED, second_manager)
    page = client.get(response.url)
    assert any("signed off" in message for message in shown_messages(page))


def test_a_turned_down_offer_goes_back_to_the_customer(
    client, branch_manager, running, branch, advisor
):
    offer = requested(running.offers.first(), branch, advisor)
    client.force_login(branch_manager)
    page = follow(client, client.post(offer_url(offer, "turn-down")))
    offer.refresh_from_db()
    assert (offer.status, offer.work_order, offer.requested_by) == (
        OfferStatus.ASSIGNED, None, None,
    )  # fmt: skip
    assert any("turned down" in message for message in shown_messages(page))


def test_the_manager_who_asked_cannot_sign_off_their_own_request(
    client, branch_manager, running, branch
):
    offer = requested(running.offers.first(), branch, branch_manager)
    client.force_login(branch_manager)
    page = client.get(detail_url(running)).content.decode()
    row = re.search(rf'id="offer-{offer.pk}"(.*?)</tr>', page, re.S).group(1)
    assert "offer-sign-off" not in row and "another manager signs off" in row
    page = follow(client, client.post(offer_url(offer, "sign-off")))
    assert "Another manager signs off a redemption you asked for." in shown_messages(page)
    offer.refresh_from_db()
    assert (offer.status, offer.signed_off_by) == (OfferStatus.REQUESTED, None)


def test_an_offer_not_asked_for_is_not_signed_off_nor_withdrawn(client, branch_manager, running):
    offer = running.offers.first()
    client.force_login(branch_manager)
    page = follow(client, client.post(offer_url(offer, "sign-off")))
    assert "Only an offer asked for at a work order is signed off." in shown_messages(page)
    page = follow(client, client.post(offer_url(offer, "withdraw")))
    assert "Only an offer asked for at a work order is withdrawn." in shown_messages(page)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ASSIGNED


def test_a_signed_off_offer_is_withdrawn_by_the_manager_or_the_advisor(
    client, branch_manager, second_manager, running, branch, advisor
):
    first, second = running.offers.order_by("pk")
    for offer in (first, second):
        requested(offer, branch, advisor)
        services.offer_sign_off(offer=offer, by=second_manager)
    work_order = Offer.objects.get(pk=second.pk).work_order
    client.force_login(branch_manager)
    page = follow(client, client.post(offer_url(first, "withdraw")))
    assert any("keeps it" in message for message in shown_messages(page))
    client.force_login(advisor)
    back = reverse("service:work-order-detail", args=[work_order.pk])
    response = client.post(offer_url(second, "withdraw"), {"next": back})
    assert (response.status_code, response.url) == (302, back)
    response = client.post(offer_url(second, "withdraw"), {"next": "https://evil.example/"})
    assert response.url.startswith(detail_url(running))
    for offer in (first, second):
        offer.refresh_from_db()
        assert (offer.status, offer.work_order, offer.signed_off_by) == (
            OfferStatus.ASSIGNED, None, None,
        )  # fmt: skip


def test_sign_off_and_withdrawal_take_their_permissions(
    client, customer_care, advisor, running, branch, second_manager
):
    offer = requested(running.offers.first(), branch, second_manager)
    client.force_login(customer_care)  # gives offers, signs nothing off
    for action in ("sign-off", "turn-down", "withdraw"):
        assert client.post(offer_url(offer, action)).status_code == 403, action
    page = client.get(detail_url(running)).content.decode()
    assert "offer-sign-off" not in page and "offer-withdraw" not in page
    client.force_login(advisor)  # asks for redemptions, signs nothing off
    assert client.post(offer_url(offer, "sign-off")).status_code == 403
    offer.refresh_from_db()
    assert (offer.status, offer.signed_off_by) == (OfferStatus.REQUESTED, None)


# --- The list and its success per segment --------------------------------------------------


def test_the_list_shows_each_campaigns_success_against_its_target(
    client, branch_manager, second_manager, branch, advisor, technician, customers
):
    ours = launched(branch, branch_manager, target_rate=Decimal("40"))
    missed = launched(branch, branch_manager, name="未达标活动", target_rate=Decimal("80"))
    waiting = draft(branch, branch_manager, segment=TargetSegment.KEY_CUSTOMERS)
    # one of ours' two offers redeemed at a settlement: 50% against 40%
    offer = ours.offers.order_by("pk").first()
    work_order = ready_work_order(
        branch, advisor, technician, customer=offer.customer,
        vehicle=offer.customer.vehicles.first(), service_type=ServiceType.REPAIR,
    )  # fmt: skip
    services.offer_redemption_request(offer=offer, work_order=work_order, by=advisor)
    services.offer_sign_off(offer=offer, by=second_manager)
    settle(work_order, advisor, paid=Decimal("100.00"))

    client.force_login(branch_manager)
    response = client.get(reverse("care:campaign-list"))
    page = response.content.decode()
    rows = {campaign.pk: campaign for campaign in response.context["page"]}
    assert (rows[ours.pk].rate, rows[ours.pk].met) == (Decimal("50.0"), True)
    assert (rows[missed.pk].rate, rows[missed.pk].met) == (Decimal("0.0"), False)
    assert (rows[waiting.pk].rate, rows[waiting.pk].met) == (None, None)
    ours_row = re.search(rf'id="campaign-{ours.pk}"(.*?)</tr>', page, re.S).group(1)
    assert "campaign-met" in ours_row and "50.0%" in ours_row
    missed_row = re.search(rf'id="campaign-{missed.pk}"(.*?)</tr>', page, re.S).group(1)
    assert "campaign-not-met" in missed_row
    # per segment: 1 of 4 offers redeemed, against (40% × 2 + 80% × 2) ÷ 4 = 60%
    results = {row["segment"]: row for row in response.context["results"]}
    row = results[SEGMENT]
    assert (row["campaigns"], row["offers"], row["redeemed"]) == (2, 4, 1)
    assert (row["rate"], row["target"], row["met"]) == (Decimal("25.0"), Decimal("60.0"), False)
    assert (
        results[TargetSegment.KEY_CUSTOMERS]["offers"],
        results[TargetSegment.KEY_CUSTOMERS]["rate"],
    ) == (0, None)
    table = re.search(r'id="segment-results"(.*?)</table>', page, re.S).group(1)
    warranty = re.search(r'id="segment-result-warranty"(.*?)</tr>', table, re.S).group(1)
    assert "25.0%" in warranty and "60.0%" in warranty and "campaign-not-met" in warranty
    assert "no offers given yet" in table

    # below the target while the offers are valid is no miss yet; once they expired it is
    assert "bi-hourglass-split" in missed_row
    yesterday = timezone.localdate() - timedelta(days=1)
    Campaign.objects.filter(pk=missed.pk).update(
        starts_on=yesterday - timedelta(days=30), ends_on=yesterday
    )
    page = client.get(reverse("care:campaign-list")).content.decode()
    missed_row = re.search(rf'id="campaign-{missed.pk}"(.*?)</tr>', page, re.S).group(1)
    assert "bi-x-circle" in missed_row and "offers expired" in missed_row

    # the per-segment table follows the filters
    response = client.get(reverse("care:campaign-list"), {"search": "未达标"})
    assert listed(response) == [missed.pk]
    [row] = response.context["results"]
    assert (row["campaigns"], row["offers"], row["redeemed"]) == (1, 2, 0)


def test_the_list_filters_searches_and_sorts(client, customer_care, branch, branch_manager):
    audience(branch)
    first = draft(branch, branch_manager, name="春季保养")
    second = launched(branch, branch_manager, name="夏季空调")
    third = draft(branch, branch_manager, name="秋季检测", segment=TargetSegment.LOST)
    client.force_login(customer_care)

    def shown(**query) -> list[int]:
        response = client.get(reverse("care:campaign-list"), query)
        assert response.status_code == 200
        return listed(response)

    assert sorted(shown()) == sorted([first.pk, second.pk, third.pk])
    assert shown(status=CampaignStatus.LAUNCHED) == [second.pk]
    assert sorted(shown(status=CampaignStatus.DRAFT)) == sorted([first.pk, third.pk])
    assert shown(segment=TargetSegment.LOST) == [third.pk]
    assert shown(search="夏季") == [second.pk]
    assert shown(search=first.number.lower()) == [first.pk]
    assert shown(sort="number") == [first.pk, second.pk, third.pk]
    assert shown(sort="-offers")[0] == second.pk
    # a filter it does not know leaves the list whole and says so
    response = client.get(reverse("care:campaign-list"), {"segment": "everybody"})
    assert sorted(listed(response)) == sorted([first.pk, second.pk, third.pk])
    assert response.context["filterset"].errors


def test_the_list_is_empty_with_a_way_forward(client, branch_manager, customer_care):
    client.force_login(branch_manager)
    page = client.get(reverse("care:campaign-list")).content.decode()
    assert "No campaigns yet." in page and reverse("care:campaign-create") in page
    page = client.get(reverse("care:campaign-list"), {"search": "无此活动"}).content.decode()
    assert "No campaign matches these filters." in page


# --- Speed ---------------------------------------------------------------------------------


def test_the_list_queries_do_not_grow_with_the_rows(
    client, branch_manager, branch, customers, django_assert_max_num_queries
):
    client.force_login(branch_manager)

    def queries() -> tuple[int, int]:
        with django_assert_max_num_queries(20) as captured:
            response = client.get(reverse("care:campaign-list"))
            assert response.status_code == 200
        return len(captured), len(response.context["page"])

    launched(branch, branch_manager)
    few, rows = queries()
    assert rows == 1
    for index in range(3):
        launched(branch, branch_manager, name=f"活动{index}", segment=SEGMENT)
    draft(branch, branch_manager, segment=TargetSegment.LOST)
    many, rows = queries()
    assert rows == 5
    assert many == few


def test_the_offers_table_queries_do_not_grow_with_the_rows(
    client, second_manager, branch, branch_manager, advisor, django_assert_max_num_queries
):
    audience(branch, consenting=6, without=0)
    running = launched(branch, branch_manager)
    offers = list(running.offers.order_by("pk"))
    client.force_login(second_manager)

    def queries(**query) -> tuple[int, int]:
        with django_assert_max_num_queries(30) as captured:
            response = client.get(detail_url(running), query)
            assert response.status_code == 200
        return len(captured), len(response.context["page"])

    requested(offers[0], branch, advisor)
    few, rows = queries(size=10, search=offers[0].code)
    assert rows == 1
    for offer in offers[1:4]:
        requested(offer, branch, advisor)
    services.offer_sign_off(offer=offers[1], by=branch_manager)
    many, rows = queries(size=10)
    assert rows == 6
    assert many == few
