"""GET /api/v1/fleet-figures/: the fleet figures of a period for REST clients."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from fleet import services
from fleet.choices import AccountClass, DealStage
from tests.fleet.helpers import UNIT_PRICE, delivered

pytestmark = pytest.mark.django_db

URL = "/api/v1/fleet-figures/"


def test_the_figures_of_a_won_deal_and_a_tier_in_progress(
    api_as, branch, fleet_manager, sales_manager
):
    # given a protected account with this year's agreement for 30 units, 12 delivered, and a
    # deal won after a discount decided in time
    account = services.account_register(
        branch=branch, by=fleet_manager,
        data={"name": "广州畅行汽车租赁有限公司", "account_class": AccountClass.RENTAL,
              "credit_code": "91350100M000100Y43"},
    )  # fmt: skip
    services.account_confirm(account=account, by=sales_manager)
    agreement = services.agreement_sign(
        account=account, signed_on=date(timezone.localdate().year, 1, 2), agreed_units=30,
        by=fleet_manager,
    )  # fmt: skip
    services.tier_bands_set(
        agreement=agreement, by=fleet_manager,
        bands=[{"from_units": 1, "to_units": None, "support_per_unit": Decimal("2000.00")}],
    )  # fmt: skip
    deal = services.deal_create(
        account=account, by=fleet_manager, data={"title": "车队更新"},
        lines=[{"brand": "大众", "series": "朗逸", "quantity": 12}],
    )  # fmt: skip
    request = services.discount_request_create(
        deal=deal, discount_per_unit=Decimal("500.00"), units=12, justification="竞品",
        by=fleet_manager,
    )  # fmt: skip
    services.request_decide(request=request, approve=True, by=sales_manager)
    order = services.fleet_order_price(
        deal=deal, line=deal.lines.get(), quantity=12, unit_price=UNIT_PRICE, agreement=agreement,
        by=fleet_manager,
    )  # fmt: skip
    delivered(order, fleet_manager)
    services.deal_set_stage(deal=deal, stage=DealStage.WON, reason="价格胜出", by=fleet_manager)

    # when a manager reads this month's figures
    response = api_as(sales_manager).get(URL)

    # then each figure is what its definition gives
    assert response.status_code == 200
    body = response.json()
    assert (body["protected"], body["won"], body["lost"], body["win_rate"]) == (1, 1, 0, "1.000")
    assert (body["decided"], body["decided_in_time"], body["approval_rate"]) == (1, 1, "1.000")
    (row,) = body["attainment"]
    assert (row["account_name"], row["delivered"], row["agreed"], row["ratio"]) == (
        "广州畅行汽车租赁有限公司", 12, 30, "0.400",
    )  # fmt: skip
    assert body["pipeline_deals"] == 0


def test_a_consultant_may_not_read_the_fleet_figures(api_as, consultant):
    assert api_as(consultant).get(URL).status_code == 403


def test_a_bad_period_is_refused(api_as, sales_manager):
    response = api_as(sales_manager).get(URL, {"start": "2026-02-01", "end": "2026-01-01"})
    assert response.status_code == 400 and "end" in response.json()
