"""The sales figures of the KPI registry on a small hand-built showroom: leads by source,
the verified, test-drive and closing rates of the funnel's cohort, showroom traffic,
deliveries, lost leads by reason and days in stock — per branch and per consultant, the
rates equal to the funnel's."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from dealer_crm.choices import Role
from dealer_crm.kpis import kpi_snapshots_compute, kpi_values
from dealer_crm.periods import LOCAL_TIME_ZONE
from sales.choices import LeadSource, LeadStatus, LostReason, StockStatus
from sales.selectors import funnel_figures
from tests.factories import (
    DeliveryFactory,
    LeadFactory,
    ShowroomTrafficFactory,
    StockVehicleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)


def read(branch, codes, start=TODAY, end=TODAY, person=None) -> dict:
    readings = kpi_values(codes, [branch.pk], start, end, person_id=person.pk if person else None)
    return {code: reading.current for code, reading in readings.items()}


@pytest.fixture
def showroom(branch, other_branch, consultant, other_branch_user):
    """Today's leads of the branch:
    walk-in ×4 (the consultant's): new; verified; visited and test-driven; visited, test-driven
                                   and ordered
    phone ×2 (unassigned): visited only; lost (price)
    plus a lead of the other branch, which never counts here."""
    lead = {"branch": branch, "consultant": consultant, "source": LeadSource.WALK_IN}
    LeadFactory(**lead)
    LeadFactory(**lead, reached="verified")
    LeadFactory(**lead, reached="test_driven")
    LeadFactory(**lead, reached="ordered")
    phone = {"branch": branch, "consultant": None, "source": LeadSource.PHONE}
    LeadFactory(**phone, reached="visited")
    LeadFactory(**phone, status=LeadStatus.LOST, lost_reason=LostReason.PRICE)
    LeadFactory(branch=other_branch, consultant=other_branch_user, reached="ordered")


def test_leads_by_source_and_the_funnels_rates(branch, consultant, showroom):
    figures = read(branch, ["sales.leads", "sales.verified_rate", "sales.test_drive_rate",
                            "sales.closing_rate"])  # fmt: skip
    leads = figures["sales.leads"]
    assert leads.value == 6
    assert {key: figure.value for key, figure in leads.breakdown.items()} == {
        "walk_in": 4,
        "phone": 2,
    }
    # verified: all but the new one and the lost one (lost before verification) → 4 of 6
    assert figures["sales.verified_rate"].value == Decimal("0.667")
    # of the 3 that visited, 2 test-drove and 1 ordered
    assert figures["sales.test_drive_rate"].value == Decimal("0.667")
    assert figures["sales.closing_rate"].value == Decimal("0.333")
    # the funnel counts the same cohort
    funnel = funnel_figures(user=consultant, start=TODAY, end=TODAY, dimension="source",
                            branch_id=branch.pk)["total"]  # fmt: skip
    assert funnel["counts"]["leads"] == 6
    assert funnel["conversions"]["verified"] == Decimal("66.7")
    assert funnel["conversions"]["test_driven"] == Decimal("66.7")


def test_a_consultants_own_funnel(branch, consultant, showroom):
    mine = read(branch, ["sales.leads", "sales.closing_rate", "sales.lost_leads"],
                person=consultant)  # fmt: skip
    # the four walk-ins, two of which visited and one ordered; the lost lead was unassigned
    assert mine["sales.leads"].value == 4
    assert mine["sales.closing_rate"].value == Decimal("0.500")
    assert mine["sales.lost_leads"].value == 0


def test_lost_leads_by_reason_are_counted_on_the_day_they_were_lost(branch, consultant):
    yesterday = TODAY - timedelta(days=1)
    lost = {"branch": branch, "consultant": consultant, "status": LeadStatus.LOST}
    LeadFactory(**lost, lost_reason=LostReason.PRICE)
    LeadFactory(**lost, lost_reason=LostReason.PRICE)
    LeadFactory(**lost, lost_reason=LostReason.COMPETITOR_BRAND,
                closed_at=datetime.combine(yesterday, time(9), tzinfo=LOCAL_TIME_ZONE))  # fmt: skip
    today = read(branch, ["sales.lost_leads"])["sales.lost_leads"]
    assert today.value == 2
    assert {key: figure.value for key, figure in today.breakdown.items()} == {"price": 2}
    # yesterday is read from its snapshot: none yet, so nothing of it is counted
    assert read(branch, ["sales.lost_leads"], start=yesterday)["sales.lost_leads"].value == 2
    kpi_snapshots_compute(day=yesterday, branch=branch)
    both = read(branch, ["sales.lost_leads"], start=yesterday)["sales.lost_leads"]
    assert both.value == 3 and both.breakdown["competitor_brand"].value == 1


def test_showroom_traffic_adds_first_and_return_visits(branch, other_branch):
    # 3 + 5 first visits, 2 + 1 return visits (and 4 phone inquiries, not visits)
    ShowroomTrafficFactory(branch=branch, day=TODAY)
    ShowroomTrafficFactory(branch=other_branch, day=TODAY)
    traffic = read(branch, ["sales.showroom_traffic"])["sales.showroom_traffic"]
    assert traffic.value == 11
    assert traffic.breakdown["first_visits"].value == 8
    assert traffic.breakdown["return_visits"].value == 3


def test_deliveries_against_the_consultants_and_the_branchs_month(branch, consultant):
    colleague = UserFactory(roles=[Role.SALES_CONSULTANT], branches=[branch])
    DeliveryFactory(order__branch=branch, order__consultant=consultant)
    DeliveryFactory(order__branch=branch, order__consultant=consultant)
    DeliveryFactory(order__branch=branch, order__consultant=colleague)
    DeliveryFactory(order__branch=branch, order__consultant=colleague,
                    delivered_on=TODAY - timedelta(days=40))  # fmt: skip
    assert read(branch, ["sales.deliveries"])["sales.deliveries"].value == 3
    assert read(branch, ["sales.deliveries"], person=consultant)["sales.deliveries"].value == 2
    assert read(branch, ["sales.deliveries"], person=colleague)["sales.deliveries"].value == 1


def test_days_in_stock_average_the_vehicles_held_and_fall_in_buckets(branch):
    # held: 10 and 50 days (in stock), 100 days (demo); not held: sold, in transit
    StockVehicleFactory(branch=branch, arrival_date=TODAY - timedelta(days=10))
    StockVehicleFactory(branch=branch, arrival_date=TODAY - timedelta(days=50))
    StockVehicleFactory(branch=branch, status=StockStatus.DEMO,
                        arrival_date=TODAY - timedelta(days=100))  # fmt: skip
    StockVehicleFactory(branch=branch, status=StockStatus.SOLD,
                        arrival_date=TODAY - timedelta(days=200))  # fmt: skip
    StockVehicleFactory(branch=branch, status=StockStatus.IN_TRANSIT)

    stock = read(branch, ["sales.days_in_stock"])["sales.days_in_stock"]

    assert stock.value == Decimal("53.3")  # (10 + 50 + 100) / 3
    assert {key: (figure.value, figure.denominator) for key, figure in stock.breakdown.items()} == {
        "0_30": (Decimal("10.0"), 1),
        "31_60": (Decimal("50.0"), 1),
        "over_90": (Decimal("100.0"), 1),
    }
    # last night's snapshot counts the days to yesterday's end
    kpi_snapshots_compute(day=TODAY - timedelta(days=1), branch=branch)
    yesterday = read(branch, ["sales.days_in_stock"], start=TODAY - timedelta(days=1),
                     end=TODAY - timedelta(days=1))["sales.days_in_stock"]  # fmt: skip
    assert yesterday.value == Decimal("52.3")
