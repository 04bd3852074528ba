"""A duplicate customer merged into the kept record brings their customer care along: their
points and statement join the kept account, of two offers of one campaign the one in use
stays (two in use refuse the merge, nothing changed), and their segments are dropped."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers import services as customer_services
from customers.care import services
from customers.care.choices import OfferKind, OfferStatus, TargetSegment
from customers.care.models import (
    Campaign,
    CustomerSegment,
    LoyaltyAccount,
    Offer,
    PointsEntry,
)
from dealer_crm.errors import DomainError
from tests.care.test_services_loyalty import delivered
from tests.factories import CustomerFactory
from tests.service.helpers import open_work_order

pytestmark = pytest.mark.django_db


def in_use(offer, work_order) -> None:
    """The offer asked for on a work order (awaiting a manager's sign-off)."""
    Offer.objects.filter(pk=offer.pk).update(status=OfferStatus.REQUESTED, work_order=work_order)


def a_campaign(branch, by) -> Campaign:
    today = timezone.localdate()
    return Campaign.objects.create(
        branch=branch, name="回厂关怀", segment=TargetSegment.REPAIR_ONLY,
        offer=OfferKind.CAN_OF_OIL, message="欢迎回店", starts_on=today,
        ends_on=today + timedelta(days=10), target_rate=Decimal(20), created_by=by,
    )  # fmt: skip


def test_points_and_statement_join_the_kept_account(branch, branch_manager):
    keep, duplicate = CustomerFactory(branch=branch), CustomerFactory(branch=branch)
    services.points_for_delivery(delivery=delivered(branch, price="100000.00", buyer=keep))
    services.points_for_delivery(delivery=delivered(branch, price="50000.00", buyer=duplicate))
    CustomerSegment.objects.create(
        customer=duplicate, lifecycle="owner", revenue_12m=0, computed_on=timezone.localdate()
    )

    customer_services.customer_merge(keep=keep, duplicate=duplicate, by=branch_manager)

    account = LoyaltyAccount.objects.get(customer=keep)
    assert account.balance == 1000 + 500
    assert sorted(account.entries.values_list("points", flat=True)) == [500, 1000]
    assert not LoyaltyAccount.objects.filter(customer=duplicate).exists()
    assert PointsEntry.objects.count() == 2
    assert not CustomerSegment.objects.filter(customer=duplicate).exists()


def test_of_two_offers_of_one_campaign_the_one_in_use_stays(branch, branch_manager, advisor):
    keep, duplicate = CustomerFactory(branch=branch), CustomerFactory(branch=branch)
    campaign = a_campaign(branch, branch_manager)
    unused = Offer.objects.create(campaign=campaign, customer=keep, code="KEEPAAAA")
    used = Offer.objects.create(campaign=campaign, customer=duplicate, code="DUPBBBBB")
    in_use(used, open_work_order(branch, advisor))

    customer_services.customer_merge(keep=keep, duplicate=duplicate, by=branch_manager)

    assert list(Offer.objects.filter(customer=keep).values_list("code", flat=True)) == ["DUPBBBBB"]
    assert not Offer.objects.filter(pk=unused.pk).exists()
    assert Offer.history.filter(id=unused.pk, history_type="-").exists()


def test_two_offers_in_use_refuse_the_merge(branch, branch_manager, advisor):
    keep, duplicate = CustomerFactory(branch=branch), CustomerFactory(branch=branch)
    campaign = a_campaign(branch, branch_manager)
    work_order = open_work_order(branch, advisor)
    for customer, code in ((keep, "KEEPAAAA"), (duplicate, "DUPBBBBB")):
        in_use(Offer.objects.create(campaign=campaign, customer=customer, code=code), work_order)

    with pytest.raises(DomainError) as refused:
        customer_services.customer_merge(keep=keep, duplicate=duplicate, by=branch_manager)

    assert refused.value.code == "merge_offer_conflict"
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id is None
    assert Offer.objects.filter(customer=duplicate).count() == 1
