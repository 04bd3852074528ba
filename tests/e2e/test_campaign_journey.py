"""A campaign (关怀活动) from its draft to a redeemed offer, in a real browser.

The branch manager writes a campaign of 50% off labour for the customers who come only for
repairs, the page counting the segment as it is chosen — two customers, one of whom agreed to
marketing —, and launches it after confirming: that customer gets an offer with its code and
a message. The customer brings the car in: on the open work order the service advisor types
the code and asks to redeem it; the manager signs it off from the campaign's requested
offers; the advisor settles, half the labour coming off the bill. The campaign then counts
one offer redeemed of one, its success rate over the target.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Browser, expect

from customers.care import services
from customers.care.choices import (
    CampaignStatus,
    MessageStatus,
    OfferKind,
    OfferStatus,
    TargetSegment,
)
from customers.care.models import Campaign, Offer
from service.choices import ServiceType, WorkOrderStatus
from service.models import WorkOrder
from service.services import work_order_totals
from tests.archives.helpers import closed_work_order
from tests.e2e.helpers import log_in, submit
from tests.service.helpers import ready_work_order

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/e2e-campaign-journey.png"
NAME = "只修不保客户回厂保养关怀"
MESSAGE = "好久不见！本月回店保养工时五折。"
LABOUR = Decimal("200.00")  # the open work order: 1 h at 200 CNY
HALF = Decimal("100.00")


@dataclass
class Repairs:
    manager: object
    advisor: object
    customer: object  # repairs only, agreed to marketing
    work_order: WorkOrder  # the customer's car in again, ready to settle


@pytest.fixture
def repairs(transactional_db) -> Repairs:
    """A branch with its advisor, technician and manager; two customers who only ever came
    for repairs (one agreed to marketing by SMS), the nightly segments computed; the one who
    agreed is back with a repair done and signed off, 1 h of labour at 200 CNY."""
    from customers.services import customer_update
    from dealer_crm.choices import Role
    from dealer_crm.roles import roles_sync
    from tests.factories import BranchFactory, DealerGroupFactory, UserFactory

    roles_sync()  # a flush between transactional tests may have taken the role groups
    group = DealerGroupFactory(name="华通汽车集团")
    branch = BranchFactory(group=group, code="e2e-campaign", name="天河大众4S店", city="广州市")

    def staff(username: str, role: str, surname: str, given_name: str):
        return UserFactory(
            username=username, roles=[role], branches=[branch], last_name=surname,
            first_name=given_name,
        )  # fmt: skip

    advisor = staff("advisor", Role.SERVICE_ADVISOR, "黄", "伟明")
    technician = staff("technician", Role.TECHNICIAN, "赵", "强")
    manager = staff("branch_manager", Role.BRANCH_MANAGER, "周", "建华")
    repair = {"service_type": ServiceType.REPAIR}
    customer = closed_work_order(branch, advisor, technician, **repair).customer
    closed_work_order(branch, advisor, technician, **repair)  # no consent: never reached
    agreed_on = timezone.localdate() - timedelta(days=30)
    customer = customer_update(
        customer=customer, by=manager,
        data={"marketing_consent": True, "consent_date": agreed_on, "consent_channel": "sms"},
    )  # fmt: skip
    services.segments_compute(branch=branch)
    work_order = ready_work_order(
        branch, advisor, technician, customer=customer, vehicle=customer.vehicles.first(),
        **repair,
    )  # fmt: skip
    assert work_order_totals(work_order)["labour"] == LABOUR
    return Repairs(manager, advisor, customer, work_order)


def in_chinese(label) -> str:
    """A label of the pages as the Chinese catalogue has it (the English until translated)."""
    with translation.override("zh-hans"):
        return str(label)


def test_a_manager_launches_a_campaign_and_an_offer_is_redeemed_at_a_signed_off_settlement(
    browser: Browser, live_server, repairs: Repairs
):
    # The manager writes a campaign: choosing the segment counts it, 2 customers, 1 reachable.
    manager = log_in(browser, live_server, "branch_manager")
    manager.goto("/care/campaigns/")
    with manager.expect_navigation():
        manager.click("#campaign-new")
    manager.fill("#id_name", NAME)
    manager.select_option("#id_segment", TargetSegment.REPAIR_ONLY)
    expect(manager.locator("#audience-customers")).to_have_text("2")
    expect(manager.locator("#audience-consenting")).to_have_text("1")
    manager.select_option("#id_offer", OfferKind.HALF_LABOUR)
    manager.fill("#id_message", MESSAGE)
    submit(manager, "#campaign-submit")
    campaign = Campaign.objects.get()
    today = timezone.localdate()
    assert (campaign.name, campaign.segment, campaign.offer, campaign.status) == (
        NAME, TargetSegment.REPAIR_ONLY, OfferKind.HALF_LABOUR, CampaignStatus.DRAFT,
    )  # fmt: skip
    assert (campaign.starts_on, campaign.target_rate) == (today, Decimal(30))
    assert campaign.ends_on > today
    expect(manager.locator("h1")).to_contain_text(NAME)
    expect(manager.locator("#campaign-audience #audience-consenting")).to_have_text("1")

    # Launching asks first, then the one customer who agreed gets the offer and a message.
    asked = []
    manager.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    submit(manager, "#campaign-launch")
    assert campaign.number in asked[0]
    campaign.refresh_from_db()
    offer = Offer.objects.get(campaign=campaign)
    assert campaign.status == CampaignStatus.LAUNCHED and campaign.launched_at is not None
    assert offer.customer == repairs.customer and offer.message.status == MessageStatus.SENT
    assert offer.code in offer.message.body
    expect(manager.locator("#campaign-status")).to_have_text(
        in_chinese(CampaignStatus.LAUNCHED.label)
    )
    expect(manager.locator("#count-offers")).to_have_text("1")
    expect(manager.locator("#count-contacted")).to_have_text("1")
    row = manager.locator(f"#offer-{offer.pk}")
    expect(row).to_contain_text(offer.code)
    expect(row).to_contain_text(repairs.customer.name)
    expect(row).to_contain_text(in_chinese(OfferStatus.ASSIGNED.label))

    # At the workshop the advisor types the code the customer shows and asks to redeem it.
    work_order = repairs.work_order
    advisor = log_in(browser, live_server, "advisor")
    advisor.goto(f"/service/work-orders/{work_order.pk}/")
    expect(advisor.locator("#open-offers")).to_contain_text(offer.code)
    advisor.fill("#offer-code", offer.code.lower())
    submit(advisor, "#action-offer-request")
    offer.refresh_from_db()
    assert (offer.status, offer.work_order, offer.requested_by) == (
        OfferStatus.REQUESTED, work_order, repairs.advisor,
    )  # fmt: skip
    expect(advisor.locator("#offer-status")).to_contain_text(
        in_chinese(OfferStatus.REQUESTED.label)
    )
    expect(advisor.locator("#offer-value")).to_contain_text(f"{HALF:,.2f}")
    expect(advisor.locator("#offer-awaiting")).to_be_visible()  # not settled before sign-off

    # The manager signs it off from the campaign's requested offers.
    manager.goto(f"/care/campaigns/{campaign.pk}/")
    expect(manager.locator("#count-requested")).to_have_text("1")
    with manager.expect_navigation():
        manager.click("#count-requested a")
    requested = manager.locator(f"#offer-{offer.pk}")
    expect(requested).to_contain_text(work_order.number)
    with manager.expect_navigation():
        requested.locator(".offer-sign-off").click()
    offer.refresh_from_db()
    assert (offer.status, offer.signed_off_by) == (OfferStatus.APPROVED, repairs.manager)
    expect(manager.locator("#count-approved")).to_have_text("1")
    expect(manager.locator("#count-requested")).to_have_text("0")
    expect(manager.locator(f"#offer-{offer.pk}")).to_have_count(0)  # none left to sign off

    # The advisor settles: half the labour comes off, the customer pays the rest.
    advisor.reload()
    expect(advisor.locator("#settle-offer")).to_contain_text(f"{HALF:,.2f}")
    expect(advisor.locator("#customer-owes")).to_have_text(f"{LABOUR - HALF:,.2f}")
    expect(advisor.locator("#settle-paid_amount")).to_have_value(f"{LABOUR - HALF:.2f}")
    submit(advisor, "#action-settle")
    work_order.refresh_from_db()
    settlement = work_order.settlement
    offer.refresh_from_db()
    assert work_order.status == WorkOrderStatus.SETTLED
    assert (settlement.discount, settlement.paid_amount, settlement.offer_code) == (
        HALF, LABOUR - HALF, offer.code,
    )  # fmt: skip
    assert (offer.status, offer.value, offer.settlement) == (
        OfferStatus.REDEEMED, HALF, settlement,
    )  # fmt: skip
    expect(advisor.locator("#settlement-offer")).to_contain_text(offer.code)

    # The campaign counts one redeemed of one: 100% against its 30% target.
    manager.goto(f"/care/campaigns/{campaign.pk}/")
    expect(manager.locator("#count-redeemed")).to_have_text("1")
    expect(manager.locator("#count-rate .campaign-met")).to_contain_text("100.0%")
    expect(manager.locator("#count-rate")).to_contain_text("30%")
    expect(manager.locator(f"#offer-{offer.pk}")).to_contain_text(
        in_chinese(OfferStatus.REDEEMED.label)
    )
    manager.screenshot(path=SCREENSHOT, full_page=True)
    manager.goto("/care/campaigns/")
    result = manager.locator(f"#segment-result-{TargetSegment.REPAIR_ONLY}")
    expect(result).to_contain_text(in_chinese(TargetSegment.REPAIR_ONLY.label))
    expect(result.locator(".campaign-met")).to_contain_text("100.0%")
