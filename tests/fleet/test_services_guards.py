"""Who may confirm, which agreements still price, and whose requests a manager decides."""

from datetime import date
from decimal import Decimal

import pytest

from dealer_crm.choices import Role
from fleet import services
from fleet.choices import ProtectionStatus, RequestStatus
from fleet.models import FleetOrder
from sales.models import Order
from tests.factories import UserFactory
from tests.fleet.helpers import UNIT_PRICE, agreement_with_tiers, deal_for, fresh, refusal

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_a_fleet_manager_does_not_confirm_their_own_registration(account, fleet_manager):
    # when the fleet manager who registered the account tries to protect it
    error = refusal(lambda: services.account_confirm(account=account, by=fleet_manager))
    # then only a manager may, and the account is still awaiting confirmation
    assert error.code == "not_an_approver"
    assert fresh(account).status == ProtectionStatus.REGISTERED


def test_an_agreement_that_has_run_out_prices_nothing(account, fleet_manager):
    # given last year's agreement
    last_year = agreement_with_tiers(account, fleet_manager, signed_on=date(2024, 3, 1))
    deal = deal_for(account, fleet_manager)
    # when a batch is priced on it
    error = refusal(
        lambda: services.fleet_order_price(
            deal=deal, line=deal.lines.get(), quantity=5, unit_price=UNIT_PRICE,
            agreement=last_year, by=fleet_manager,
        )
    )  # fmt: skip
    # then it is refused, and nothing is priced: no batch, no sales order
    assert (error.code, error.field) == ("agreement_not_running", "agreement")
    assert not FleetOrder.objects.exists()
    assert not Order.objects.exists()


def test_a_manager_of_another_branch_does_not_decide_this_branchs_request(
    account, fleet_manager, other_branch
):
    # given a discount request of this branch and a sales manager of another
    deal = deal_for(account, fleet_manager)
    request = services.discount_request_create(
        deal=deal, discount_per_unit=Decimal("500.00"), units=10, justification="竞品",
        by=fleet_manager,
    )  # fmt: skip
    elsewhere = UserFactory(
        username="panyu_manager", roles=[Role.SALES_MANAGER], branches=[other_branch]
    )
    # when they approve it
    error = refusal(lambda: services.request_decide(request=request, approve=True, by=elsewhere))
    # then it is refused and the request still waits
    assert error.code == "not_an_approver"
    assert fresh(request).status == RequestStatus.PENDING
