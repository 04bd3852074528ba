"""A campaign through the services: aimed at the customers who only come for repairs, the
count previewed, launched to those who agreed to marketing and contacted, one offer redeemed
at a settlement after another manager signed it off, the success rate against the target;
the settlement earns the customer loyalty points, which they redeem."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import TestCase
from django.utils import timezone

from customers.care import services
from customers.care.choices import (
    CampaignStatus,
    MessageStatus,
    OfferKind,
    OfferStatus,
    PointsKind,
    TargetSegment,
)
from customers.care.models import Offer
from customers.care.selectors import audience_counts, campaign_results, campaigns_with_counts
from dealer_crm.errors import DomainError
from service.choices import ServiceType
from tests.archives.helpers import closed_work_order
from tests.service.helpers import ready_work_order, settle

pytestmark = pytest.mark.django_db


def campaign_data(**data) -> dict:
    today = timezone.localdate()
    return {
        "name": "只修不保客户回厂关怀",
        "segment": TargetSegment.REPAIR_ONLY,
        "offer": OfferKind.HALF_LABOUR,
        "message": "好久不见，欢迎回店保养。",
        "starts_on": today,
        "ends_on": today + timedelta(days=30),
        "target_rate": Decimal("30"),
        **data,
    }


def test_a_repair_only_campaign_from_preview_to_redemption_and_points(
    branch, advisor, technician, branch_manager
):
    repair = {"service_type": ServiceType.REPAIR}
    with_consent = closed_work_order(branch, advisor, technician, **repair).customer
    without = closed_work_order(branch, advisor, technician, **repair).customer
    with_consent.marketing_consent, with_consent.consent_date = True, timezone.localdate()
    with_consent.consent_channel = "sms"
    with_consent.save()
    services.segments_compute(branch=branch)

    assert audience_counts(branch_id=branch.pk, segment=TargetSegment.REPAIR_ONLY) == {
        "customers": 2,
        "consenting": 1,
    }
    campaign = services.campaign_create(branch=branch, by=branch_manager, data=campaign_data())
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.campaign_launch(campaign=campaign, by=branch_manager) == 1
    offer = Offer.objects.get(campaign=campaign)
    assert offer.customer == with_consent and offer.message.status == MessageStatus.SENT
    assert offer.code in offer.message.body
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.LAUNCHED

    with pytest.raises(DomainError) as refused:
        services.offer_assign(campaign=campaign, customer=without, by=branch_manager)
    assert refused.value.code == "no_marketing_consent"
    assert Offer.objects.filter(campaign=campaign).count() == 1

    work_order = ready_work_order(
        branch, advisor, technician, customer=with_consent, vehicle=with_consent.vehicles.first(),
        service_type=ServiceType.REPAIR,
    )  # fmt: skip
    found = services.offer_find(branch_ids=[branch.pk], code=offer.code.lower())
    services.offer_redemption_request(offer=found, work_order=work_order, by=advisor)
    with pytest.raises(DomainError) as refused:
        settle(work_order, advisor)
    assert refused.value.code == "offer_awaiting_sign_off"
    with pytest.raises(DomainError) as refused:
        services.offer_sign_off(offer=offer, by=advisor)
    assert refused.value.code == "sign_off_own_request"
    services.offer_sign_off(offer=offer, by=branch_manager)

    # 1 h × 200 of labour: half of it off the bill
    settlement = settle(work_order, advisor, paid=Decimal("100.00"))
    assert settlement.discount == Decimal("100.00") and settlement.offer_code == offer.code
    offer.refresh_from_db()
    assert offer.status == OfferStatus.REDEEMED and offer.value == Decimal("100.00")

    again = ready_work_order(
        branch, advisor, technician, customer=with_consent, vehicle=with_consent.vehicles.first()
    )
    with pytest.raises(DomainError) as refused:
        services.offer_redemption_request(offer=offer, work_order=again, by=advisor)
    assert refused.value.code == "offer_already_redeemed"

    [row] = campaign_results(campaigns_with_counts(branch.campaigns.all()))
    assert (row["offers"], row["redeemed"], row["rate"], row["target"], row["met"]) == (
        1, 1, Decimal("1.000"), Decimal("0.300"), True,
    )  # fmt: skip

    # 100 CNY paid at 10 points per 100 CNY (the branch's default rule); each source once
    assert services.points_catch_up() >= 1
    assert services.points_catch_up() == 0
    account = with_consent.loyalty_account
    entry = account.entries.get(settlement=settlement)
    assert (entry.kind, entry.points) == (PointsKind.SERVICE, 10)
    with pytest.raises(DomainError) as refused:
        services.points_redeem(
            customer=with_consent, points=account.balance + 1, note="机油一桶", by=advisor
        )
    assert refused.value.code == "points_insufficient"
    earned = account.balance
    services.points_redeem(customer=with_consent, points=10, note="洗车一次", by=advisor)
    account.refresh_from_db()
    assert account.balance == earned - 10
    assert account.balance == sum(account.entries.values_list("points", flat=True))
