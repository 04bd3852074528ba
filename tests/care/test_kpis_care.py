"""The customer figures of the KPI registry on small hand-built records: retention, abnormal
customers by reason, follow-up completion, complaints and the time to resolve them, the
satisfaction index (from per-criterion snapshots, equal to the service's index) and campaign
success per segment."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import TestCase
from django.utils import timezone

from customers.care import selectors, services
from customers.care.choices import CallOutcome, OfferStatus, TargetSegment
from customers.care.models import Complaint, FollowUpCall, Offer
from dealer_crm.kpis import kpi_snapshots_compute, kpi_values
from service.choices import ServiceType
from service.models import WorkOrder
from tests.archives.helpers import closed_work_order, media  # noqa: F401 - a fixture
from tests.care.conftest import open_complaint, resolved_complaint
from tests.care.test_campaign_journey_services import campaign_data
from tests.care.test_services_satisfaction import MAY, answer, scored  # noqa: F401
from tests.factories import CustomerFactory, DeliveryFactory, VehicleFactory
from tests.service.helpers import ready_work_order, settle

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YESTERDAY = TODAY - timedelta(days=1)


def value(code, branch, start=TODAY, end=TODAY, person=None):
    readings = kpi_values([code], [branch.pk], start, end, person_id=person.pk if person else None)
    return readings[code].current


def test_the_satisfaction_index_of_a_month_from_its_days(branch, branch_manager, scored):  # noqa: F811
    # given the May answers of two advisors on the 12th, and one more on the 20th
    answer(scored, branch, "交车时效", 5, on=date(2025, 5, 20), by=branch_manager)
    for day in (date(2025, 5, 12), date(2025, 5, 20)):
        kpi_snapshots_compute(day=day, branch=branch)

    # when May is read from the snapshots of its days
    may = value("customers.satisfaction_index", branch, **MAY)

    # then the index is the model's: (2/7·75 + 3/7·100 + 1/7·0 + 1/7·100) = 78.6
    assert may.value == Decimal("78.6")
    assert services.satisfaction_index(branch_ids=[branch.pk], **MAY)["index"] == 78.6
    # each criterion's average score (1–5) is kept
    assert may.breakdown[str(scored["服务态度"].pk)].value == Decimal("4.00")
    # and each advisor's is their customers' only
    li = value("customers.satisfaction_index", branch, person=scored["li"], **MAY)
    wang = value("customers.satisfaction_index", branch, person=scored["wang"], **MAY)
    assert (li.value, wang.value) == (Decimal("100.0"), Decimal("33.3"))
    # a period without answers has no index
    april = value("customers.satisfaction_index", branch, date(2025, 4, 1), date(2025, 4, 30))
    assert april.value is None


def test_complaints_and_the_hours_to_resolve_them(branch, customer_care, branch_manager):
    customer = CustomerFactory(branch=branch)
    open_complaint(branch, customer, customer_care)
    open_complaint(branch, customer, customer_care)
    quick = resolved_complaint(branch, customer, customer_care, branch_manager)
    slow = resolved_complaint(branch, customer, customer_care, branch_manager)
    # received 2 and 6 hours before they were resolved
    for complaint, hours in ((quick, 2), (slow, 6)):
        Complaint.objects.filter(pk=complaint.pk).update(
            received_at=complaint.resolved_at - timedelta(hours=hours)
        )

    assert value("customers.complaints", branch).value == 4
    assert value("customers.complaint_resolution_hours", branch).value == Decimal("4.0")
    # the agent handles them all
    assert value("customers.complaints", branch, person=customer_care).value == 4


def test_follow_up_completion_of_the_calls_due(branch, consultant, customer_care):
    # given two delivery calls due today (made by the daily job), one of them reached
    for _n in range(2):
        DeliveryFactory(order__branch=branch, order__consultant=consultant,
                        delivered_on=YESTERDAY)  # fmt: skip
    services.follow_up_calls_generate(today=TODAY)
    first, second = FollowUpCall.objects.filter(due_on=TODAY).order_by("pk")
    services.call_attempt_record(call=first, outcome=CallOutcome.REACHED, by=customer_care,
                                 score=5)  # fmt: skip

    completion = value("customers.follow_up_completion", branch)

    assert (completion.value, completion.numerator, completion.denominator) == (
        Decimal("0.500"), 1, 2,
    )  # fmt: skip
    assert selectors.call_results(branch_ids=[branch.pk], start=TODAY, end=TODAY)[
        "completion"
    ] == Decimal("0.500")
    assert value("customers.follow_up_completion", branch, person=customer_care).value == (
        Decimal("0.500")
    )
    assert second.assigned_to == customer_care


@pytest.mark.usefixtures("media")
def test_retention_of_the_customers_serviced_the_year_before(branch, advisor, technician):
    # given three customers' closed work orders
    def visit(days_ago, customer=None):
        vehicle = customer.vehicles.first() if customer else None
        work_order = closed_work_order(branch, advisor, technician, vehicle=vehicle)
        WorkOrder.objects.filter(pk=work_order.pk).update(
            closed_at=timezone.now() - timedelta(days=days_ago)
        )
        return work_order.customer

    came_back = visit(500)
    visit(100, came_back)  # serviced in both years: retained
    visit(400)  # only the year before: not retained
    visit(100)  # only the last 12 months: not in the base

    # retention is taken nightly
    assert value("customers.retention", branch).value is None
    kpi_snapshots_compute(day=YESTERDAY, branch=branch)
    retention = value("customers.retention", branch, YESTERDAY, TODAY)
    assert (retention.value, retention.numerator, retention.denominator) == (
        Decimal("0.500"), 1, 2,
    )  # fmt: skip


def test_abnormal_customers_by_reason_from_the_nightly_segments(
    branch, customer_care, branch_manager
):
    # given a customer whose car came two years ago, never back since, who complained; and a
    # customer without reasons
    complained = CustomerFactory(branch=branch)
    VehicleFactory(owner=complained, delivery_date=TODAY - timedelta(days=730))
    open_complaint(branch, complained, customer_care)
    CustomerFactory(branch=branch)
    services.segments_compute(branch=branch)

    abnormal = value("customers.abnormal", branch)

    # then one customer has reasons to be reached out to, and two reasons
    assert abnormal.value == 1
    assert {key: figure.value for key, figure in abnormal.breakdown.items()} == {
        "complained": 1,
        "long_inactive": 1,
    }
    assert selectors.segment_counts(branch_ids=[branch.pk])["abnormal_complained"] == 1


@pytest.mark.usefixtures("media")
def test_campaign_success_of_the_offers_given(branch, advisor, technician, branch_manager):
    # given two repair-only customers who agreed to marketing, each given the campaign's offer
    customers = []
    for _n in range(2):
        customer = closed_work_order(
            branch, advisor, technician, service_type=ServiceType.REPAIR
        ).customer
        customer.marketing_consent, customer.consent_date = True, TODAY
        customer.consent_channel = "sms"
        customer.save()
        customers.append(customer)
    services.segments_compute(branch=branch)
    campaign = services.campaign_create(branch=branch, by=branch_manager, data=campaign_data())
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.campaign_launch(campaign=campaign, by=branch_manager) == 2
    # and one of them redeemed at a settlement
    offer = Offer.objects.get(campaign=campaign, customer=customers[0])
    work_order = ready_work_order(
        branch, advisor, technician, customer=customers[0],
        vehicle=customers[0].vehicles.first(), service_type=ServiceType.REPAIR,
    )  # fmt: skip
    services.offer_redemption_request(offer=offer, work_order=work_order, by=advisor)
    services.offer_sign_off(offer=offer, by=branch_manager)
    settle(work_order, advisor, paid=Decimal("100.00"))
    assert Offer.objects.filter(status=OfferStatus.REDEEMED).count() == 1

    success = value("customers.campaign_success", branch)

    assert success.value == Decimal("0.500")
    assert success.breakdown[TargetSegment.REPAIR_ONLY].value == Decimal("0.500")
    [row] = selectors.campaign_results(branch.campaigns.all())
    assert row["rate"] == Decimal("0.500")
