"""A rental company won through the services: registered and protected, its buying centre
recorded, a deal for 30 vehicles priced in two batches on the agreement's tiers, a discount
approved by the manager, the first batch's sales orders delivered in sales, the support
settled — and a sister branch's attempt to register the same company refused."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from dealer_crm.errors import StateConflict
from fleet import selectors, services
from fleet.choices import AccountClass, BuyingRole, ProtectionStatus, RequestStatus
from sales.choices import OrderStatus
from tests.factories import UserFactory
from tests.fleet.helpers import delivered

pytestmark = pytest.mark.django_db

RENTAL_CODE = "91350100M000100Y43"


def test_a_rental_company_from_registration_to_its_settlement_statement(
    branch, other_branch, fleet_manager, sales_manager
):
    # given the fleet manager registers a rental company and the manager confirms it
    account = services.account_register(
        branch=branch,
        by=fleet_manager,
        data={"name": "广州畅行汽车租赁有限公司", "account_class": AccountClass.RENTAL,
              "credit_code": RENTAL_CODE.lower()},
    )  # fmt: skip
    services.account_confirm(account=account, by=sales_manager)
    account.refresh_from_db()
    assert account.status == ProtectionStatus.PROTECTED
    services.buying_centre_member_add(
        account=account, by=fleet_manager,
        data={"name": "周经理", "role": BuyingRole.DECISION_MAKER, "phone": "13800138000"},
    )  # fmt: skip

    # when a sister branch tries to register the same company, it is refused
    rival = UserFactory(username="rival", roles=["fleet_manager"], branches=[other_branch])
    with pytest.raises(StateConflict) as refused:
        services.account_register(
            branch=other_branch, by=rival,
            data={"name": "畅行租赁", "account_class": AccountClass.RENTAL,
                  "credit_code": RENTAL_CODE},
        )  # fmt: skip
    assert refused.value.code == "account_protected"
    assert branch.name not in str(refused.value.message)  # not named to a fleet manager

    # and a deal for 30 vehicles is priced in two batches of 15 on this year's tiers
    agreement = services.agreement_sign(
        account=account, signed_on=date(timezone.localdate().year, 1, 15), by=fleet_manager
    )
    services.tier_bands_set(
        agreement=agreement, by=fleet_manager,
        bands=[
            {"from_units": 1, "to_units": 10, "support_per_unit": Decimal("2000.00")},
            {"from_units": 11, "to_units": None, "support_per_unit": Decimal("3500.00")},
        ],
    )  # fmt: skip
    deal = services.deal_create(
        account=account, by=fleet_manager, data={"title": "2026年租赁车队更新"},
        lines=[{"brand": "大众", "series": "朗逸", "configuration": "1.5L 舒适版",
                "quantity": 30}],
    )  # fmt: skip
    line = deal.lines.get()
    request = services.discount_request_create(
        deal=deal, discount_per_unit=Decimal("800.00"), units=30,
        justification="竞品报价低 1,000 元/台", by=fleet_manager,
    )  # fmt: skip
    services.request_decide(request=request, approve=True, by=sales_manager)
    first = services.fleet_order_price(
        deal=deal, line=line, quantity=15, unit_price=Decimal("98000.00"), agreement=agreement,
        by=fleet_manager,
    )  # fmt: skip
    delivered(first, fleet_manager)
    second = services.fleet_order_price(
        deal=deal, line=line, quantity=15, unit_price=Decimal("98000.00"), agreement=agreement,
        by=fleet_manager,
    )  # fmt: skip
    services.fleet_order_settle(order=first, amount=Decimal("30000.00"), by=fleet_manager)

    # then the first batch kept the first tier, the second took the higher one
    request.refresh_from_db()
    first.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    assert (first.support_per_unit, second.support_per_unit) == (
        Decimal("2000.00"),
        Decimal("3500.00"),
    )
    # and the first batch's 15 sales orders are delivered, the second's 15 wait for vehicles
    assert list(first.sales_orders.values_list("status", flat=True)) == [OrderStatus.DELIVERED] * 15
    assert list(second.sales_orders.values_list("status", flat=True)) == [OrderStatus.SIGNED] * 15
    # and the statement shows what is due on the delivered batch and what is settled
    statement = selectors.settlement_statement(deal=deal)
    assert (statement["units"], statement["delivered"]) == (30, 15)
    assert (statement["due"], statement["settled"], statement["open"]) == (
        Decimal("30000.00"),
        Decimal("30000.00"),
        Decimal("0.00"),
    )
