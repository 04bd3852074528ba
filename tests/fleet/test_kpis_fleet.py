"""The fleet figures of the KPI registry on a small hand-built fleet book: pipeline value by
stage, protected accounts, tier attainment and approvals within 48 hours — the numbers
fleet_figures gives for the same records."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from dealer_crm.kpis import kpi_snapshots_compute, kpi_values
from fleet import services
from fleet.choices import DealStage
from fleet.models import DiscountRequest
from fleet.selectors import fleet_figures
from tests.fleet.helpers import agreement_with_tiers, deal_for, delivered, priced, protect, register

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
CODES = [
    "fleet.pipeline_value",
    "fleet.protected_accounts",
    "fleet.tier_attainment",
    "fleet.approvals_in_time",
]


def values(branch, start=TODAY, end=TODAY) -> dict:
    return kpi_values(CODES, [branch.pk], start, end)


@pytest.fixture
def fleet_book(branch, other_branch, fleet_manager, sales_manager, other_branch_user):
    """A protected account with this year's agreement for 30 units and 12 delivered; two
    open deals (tender 800,000, negotiation 500,000) and a won one; two discount requests
    decided today, one of them after its 48 hours; another branch's protected account."""
    rental = protect(
        register(branch, fleet_manager), confirmed_on=TODAY, until=TODAY + timedelta(days=90)
    )
    agreement = agreement_with_tiers(
        rental, fleet_manager, signed_on=date(TODAY.year, 1, 2),
        bands=[{"from_units": 1, "to_units": None, "support_per_unit": Decimal("2000.00")}],
    )  # fmt: skip
    agreement.agreed_units = 30
    agreement.save(update_fields=["agreed_units"])
    won = deal_for(rental, fleet_manager, quantity=12, expected_value=Decimal("1200000.00"))
    delivered(priced(won, agreement, fleet_manager, 12), fleet_manager)
    services.deal_set_stage(deal=won, stage=DealStage.WON, reason="价格胜出", by=fleet_manager)
    tender = deal_for(rental, fleet_manager, expected_value=Decimal("800000.00"))
    services.deal_set_stage(deal=tender, stage=DealStage.TENDER, by=fleet_manager)
    negotiation = deal_for(rental, fleet_manager, expected_value=Decimal("500000.00"))
    services.deal_set_stage(deal=negotiation, stage=DealStage.NEGOTIATION, by=fleet_manager)
    for deal in (tender, negotiation):
        request = services.discount_request_create(
            deal=deal, discount_per_unit=Decimal("500.00"), units=5, justification="竞品",
            by=fleet_manager,
        )  # fmt: skip
        services.request_decide(request=request, approve=True, by=sales_manager)
    DiscountRequest.objects.filter(deal=negotiation).update(
        due_by=timezone.now() - timedelta(hours=1)
    )
    protect(register(other_branch, other_branch_user), confirmed_on=TODAY, until=TODAY)
    return {"rental": rental}


def test_the_fleet_figures_of_a_small_book(branch, fleet_book):
    readings = values(branch)
    pipeline = readings["fleet.pipeline_value"].current
    assert pipeline.value == Decimal("1300000.00")
    assert {key: figure.value for key, figure in pipeline.breakdown.items()} == {
        "tender": Decimal("800000.00"),
        "negotiation": Decimal("500000.00"),
    }
    assert readings["fleet.protected_accounts"].current.value == 1
    assert readings["fleet.approvals_in_time"].current.value == Decimal("0.500")
    figures = fleet_figures(branch_ids=[branch.pk], start=TODAY, end=TODAY)
    assert (figures["pipeline_value"], figures["protected"], figures["approval_rate"]) == (
        Decimal("1300000.00"), 1, Decimal("0.500"),
    )  # fmt: skip


def test_tier_attainment_is_taken_nightly(branch, fleet_book):
    # not live: nothing for today until the nightly job took it
    assert values(branch)["fleet.tier_attainment"].current.value is None
    yesterday = TODAY - timedelta(days=1)
    kpi_snapshots_compute(day=yesterday, branch=branch)
    attainment = values(branch, yesterday, TODAY)["fleet.tier_attainment"].current
    # 12 delivered of 30 agreed, for the one account with an agreement
    assert (attainment.value, attainment.numerator, attainment.denominator) == (
        Decimal("0.400"), 12, 30,
    )  # fmt: skip
    assert attainment.breakdown[str(fleet_book["rental"].pk)].value == Decimal("0.400")
