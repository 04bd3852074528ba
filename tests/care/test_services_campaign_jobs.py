"""The jobs of campaigns and loyalty points as Celery runs them: the contact after a launch,
the points credited on a delivery and on a closed work order, and the nightly catch-up of
the points; each run twice posts or sends nothing twice, a run stopped half-way is finished
by the next, the nightly job leaves its JobRun row, and the queries grow by a fixed number
for each row."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.care import services
from customers.care.choices import (
    AbnormalReason,
    Lifecycle,
    MessageStatus,
    OfferKind,
    PointsKind,
    TargetSegment,
)
from customers.care.models import Campaign, CustomerSegment, LoyaltyAccount, Message, PointsEntry
from customers.care.tasks import (
    campaign_contact_task,
    delivery_points_task,
    loyalty_points_task,
    settlement_points_task,
)
from customers.choices import ConsentChannel
from dealer_crm.choices import JobStatus
from dealer_crm.models import JobRun
from sales.choices import LeadSource, OrderStatus
from service.choices import PaymentMethod
from service.models import Settlement
from tests.factories import CustomerFactory, DeliveryFactory, LeadFactory, OrderFactory
from tests.service.helpers import open_work_order, ready_work_order, settle

pytestmark = pytest.mark.django_db


class SmsProvider:
    sent: list[str] = []

    def send(self, address: str, subject: str, body: str) -> None:
        SmsProvider.sent.append(address)


@pytest.fixture
def provider(settings) -> list[str]:
    settings.SMS_BACKEND = settings.WECHAT_BACKEND = f"{__name__}.SmsProvider"
    SmsProvider.sent = []
    return SmsProvider.sent


def runs(job: str) -> list[tuple]:
    return list(
        JobRun.objects.filter(job=job).order_by("pk").values_list("status", "rows", "error")
    )


# --- The contact after a launch -------------------------------------------------------------


def launched(branch, by, customers: int) -> tuple[Campaign, list]:
    """A campaign launched to `customers` repair-only customers who agreed to marketing; the
    contact job not run yet."""
    reached = [
        CustomerFactory(
            branch=branch,
            marketing_consent=True,
            consent_date=date(2025, 1, 1),
            consent_channel=ConsentChannel.SMS,
        )  # fmt: skip
        for _n in range(customers)
    ]
    CustomerSegment.objects.bulk_create(
        CustomerSegment(
            customer=customer,
            lifecycle=Lifecycle.OWNER,
            revenue_12m=Decimal("0"),
            abnormal=[AbnormalReason.REPAIR_ONLY],
            computed_on=timezone.localdate(),
        )  # fmt: skip
        for customer in reached
    )
    campaign = services.campaign_create(
        branch=branch, by=by,
        data={
            "name": "只修不保客户回厂关怀", "segment": TargetSegment.REPAIR_ONLY,
            "offer": OfferKind.HALF_LABOUR, "message": "好久不见，欢迎回店保养。",
            "starts_on": timezone.localdate(),
            "ends_on": timezone.localdate() + timedelta(days=30), "target_rate": Decimal("30"),
        },
    )  # fmt: skip
    services.campaign_launch(campaign=campaign, by=by)
    return campaign, reached


def test_the_contact_job_run_twice_sends_each_offer_once(branch, branch_manager, provider):
    # given a campaign launched to three customers
    campaign, reached = launched(branch, branch_manager, 3)
    # when the contact job runs, then runs again
    first = campaign_contact_task.delay(campaign.pk).get()
    second = campaign_contact_task.delay(campaign.pk).get()
    # then each customer got one message, and the second run sent nothing
    assert (first, second) == (3, 0)
    assert sorted(provider) == sorted(customer.mobile for customer in reached)
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 3


def test_a_contact_job_stopped_half_way_is_finished_by_the_next_run(
    monkeypatch, branch, branch_manager, provider
):
    # given a campaign launched to four customers, and a worker that dies after two messages
    campaign, reached = launched(branch, branch_manager, 4)
    send = services.message_send

    def dies_at_the_third(**message):
        if len(provider) == 2:
            raise SystemError("worker lost")
        return send(**message)

    monkeypatch.setattr(services, "message_send", dies_at_the_third)
    with pytest.raises(SystemError, match="worker lost"):
        campaign_contact_task(campaign.pk)
    sent = list(campaign.offers.filter(message__isnull=False).values_list("pk", "message"))
    assert len(sent) == Message.objects.count() == 2
    # when the job runs again, healthy
    monkeypatch.setattr(services, "message_send", send)
    assert campaign_contact_task.delay(campaign.pk).get() == 2
    # then the two left were sent, the first two untouched, and nobody got two messages
    assert sorted(provider) == sorted(customer.mobile for customer in reached)
    assert set(sent) <= set(campaign.offers.values_list("pk", "message"))
    assert Message.objects.count() == 4
    assert campaign_contact_task.delay(campaign.pk).get() == 0


# --- Points on events -----------------------------------------------------------------------


def delivered(branch, *, days_ago: int = 0, referred: bool = False):
    """A car of 117,900 delivered `days_ago` (a row: no event sent), through a referral."""
    buyer = CustomerFactory(branch=branch)
    lead = (
        LeadFactory(
            branch=branch,
            customer=buyer,
            source=LeadSource.REFERRAL,
            referrer=CustomerFactory(branch=branch),
        )  # fmt: skip
        if referred
        else None
    )
    return DeliveryFactory(
        order=OrderFactory(branch=branch, customer=buyer, lead=lead, status=OrderStatus.DELIVERED),
        delivered_on=timezone.localdate() - timedelta(days=days_ago),
    )


def settled(branch, advisor, *, paid: str = "500.00"):
    """A settlement row of `paid`, all the customer's, on an open work order."""
    return Settlement.objects.create(
        work_order=open_work_order(branch, advisor), labour_total=Decimal(paid),
        parts_total=Decimal("0.00"), total=Decimal(paid), customer_amount=Decimal(paid),
        payment_method=PaymentMethod.WECHAT, paid_amount=Decimal(paid), settled_by=advisor,
    )  # fmt: skip


def entries() -> list[tuple]:
    return list(PointsEntry.objects.order_by("pk").values_list("pk", "kind", "points", "balance"))


def test_the_delivery_job_run_twice_credits_once(branch):
    delivery = delivered(branch, referred=True)
    first = delivery_points_task.delay(delivery.pk).get()
    posted = entries()
    assert (first, delivery_points_task.delay(delivery.pk).get()) == (2, 0)
    assert entries() == posted
    assert sorted(kind for _pk, kind, _points, _balance in posted) == [
        PointsKind.PURCHASE,
        PointsKind.REFERRAL,
    ]


def test_the_settlement_job_run_twice_credits_once(branch, advisor, technician):
    work_order = ready_work_order(branch, advisor, technician)
    settle(work_order, advisor)
    first = settlement_points_task.delay(work_order.pk).get()
    second = settlement_points_task.delay(work_order.pk).get()
    assert (first, second) == (1, 0)
    assert [(kind, points) for _pk, kind, points, _b in entries()] == [(PointsKind.SERVICE, 20)]


# --- The nightly catch-up -------------------------------------------------------------------


def test_the_nightly_points_job_run_twice_credits_once_and_records_its_runs(branch, advisor):
    # given two deliveries (one referred) and a settlement the events missed
    delivered(branch, days_ago=1, referred=True)
    delivered(branch, days_ago=6)
    settled(branch, advisor)
    # when the nightly job runs, then runs again
    first = loyalty_points_task.delay().get()
    posted = entries()
    second = loyalty_points_task.delay().get()
    # then the first posted the four entries, the second nothing; both runs are on record
    assert (first, second) == (4, 0)
    assert entries() == posted
    assert runs("loyalty_points") == [(JobStatus.FINISHED, 4, ""), (JobStatus.FINISHED, 0, "")]


def test_a_nightly_points_job_stopped_half_way_is_finished_by_the_next_run(
    monkeypatch, branch, advisor
):
    # given four deliveries and two settlements the events missed, and a worker that dies
    # as it is about to credit the third delivery
    deliveries = [delivered(branch, days_ago=2) for _n in range(4)]
    settlements = [settled(branch, advisor) for _n in range(2)]
    credit = services.points_for_delivery
    credited = []

    def dies_at_the_third(**delivery):
        if len(credited) == 2:
            raise SystemError("worker lost")
        credited.append(credit(**delivery))
        return credited[-1]

    monkeypatch.setattr(services, "points_for_delivery", dies_at_the_third)
    with pytest.raises(SystemError, match="worker lost"):
        loyalty_points_task()
    kept = entries()
    assert len(kept) == 2
    # when the job runs again, healthy
    monkeypatch.setattr(services, "points_for_delivery", credit)
    rerun = loyalty_points_task.delay().get()
    # then it credits exactly the two deliveries and two settlements left, once each
    assert rerun == 4
    assert entries()[:2] == kept
    buyers = [delivery.order.customer for delivery in deliveries]
    payers = [settlement.work_order.customer for settlement in settlements]
    balances = dict(LoyaltyAccount.objects.values_list("customer", "balance"))
    assert balances == {
        **{buyer.pk: 1179 for buyer in buyers},
        **{payer.pk: 50 for payer in payers},
    }
    failed, finished = JobRun.objects.filter(job="loyalty_points").order_by("pk")
    assert (failed.status, failed.error) == (JobStatus.FAILED, "SystemError('worker lost')")
    assert (finished.status, finished.rows) == (JobStatus.FINISHED, 4)


# The queries the catch-up issues for a referred delivery and a settlement: for each of the
# three entries, the branch's rule, the account (made when missing) locked, the check that
# the source has not earned, the balance and the entry; the savepoints around each.
QUERIES_PER_ROW = 30


def test_the_catch_up_queries_grow_by_a_fixed_number_per_row(
    branch, advisor, django_assert_max_num_queries
):
    def missed(rows: int) -> None:
        for _n in range(rows):
            delivered(branch, days_ago=1, referred=True)
            settled(branch, advisor)

    # given a referred delivery and a settlement the events missed, caught up
    missed(1)
    with CaptureQueriesContext(connection) as one:
        assert services.points_catch_up() == 3
    # when five of each are caught up, then each pair took at most a fixed number more
    missed(5)
    with django_assert_max_num_queries(len(one) + 4 * QUERIES_PER_ROW):
        assert services.points_catch_up() == 15
