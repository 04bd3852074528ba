"""Customer care of the demo, run by the care agent 林美玲 for both branches: five weeks of
follow-up calls generated day by day as the daily job does and made on their days — most
customers reached and satisfied, a few not reached three times, one unhappy customer whose
call opened a complaint that was resolved, confirmed and called back — then today's queue
still to call. Complaints in each state (one critical, unanswered past its two hours and
escalated), inquiries and suggestions with their answers (one still unanswered), the
customers' segments computed, and the scheduled jobs' first runs on the operations page.
Each branch's satisfaction model 售后满意度 is active with the survey of every call made.

Loyalty: the Guangzhou manager set the branch's points rules (Shenzhen keeps the defaults);
every delivery and settlement of the history earned its points in time order, referrers
their referral points, a few customers redeemed points for a gift, and the nightly points
job ran once with nothing left to credit. Campaigns: Guangzhou
launched 50% off labour for the customers who come only for repairs (each consenting one
given an offer and contacted; none redeemed yet, as no such customer's car is in the
workshop) ending in three weeks, and drafted free maintenance labour for the near-churn
customers; Shenzhen launched a can of oil for its key customers.

Everything goes through the care services, then is moved back to when it happened. Loading
twice changes nothing.
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from customers import services as customer_services
from customers.choices import ConsentChannel, CustomerKind
from customers.models import Customer, TimelineEntry
from dealer_crm.models import Branch
from dealer_crm.periods import LOCAL_TIME_ZONE
from sales.models import Delivery
from service.models import Settlement

from . import selectors, services, tasks, timeline
from .choices import (
    CallOutcome,
    CallStatus,
    ComplaintCategory,
    ComplaintChannel,
    InquiryKind,
    OfferKind,
    PointsKind,
    Severity,
    TargetSegment,
)
from .models import (
    CallAttempt,
    Campaign,
    Complaint,
    FollowUpCall,
    Inquiry,
    Message,
    Offer,
    PointsEntry,
)

HISTORY_DAYS = 35
SEED = 20261201
NOTES = {
    5: ["交车讲解很详细，很满意", "顾问服务热情", "保养很快，价格透明", "洗车很干净"],
    4: ["整体满意，等待时间稍长", "车况良好", "希望能提前短信提醒取车"],
    3: ["一般，休息区太吵", "价格偏高"],
}


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TIME_ZONE)


def _made(call: FollowUpCall, agent: User, rng: random.Random, unhappy: bool) -> None:
    """Make a past call on its day: reached and scored, or three times not reached."""
    day = call.due_on
    if not unhappy and rng.random() < 0.12:
        for attempt in range(services.MAX_ATTEMPTS):
            services.call_attempt_record(call=call, outcome=CallOutcome.NO_ANSWER, by=agent)
            CallAttempt.objects.filter(pk=call.tries.order_by("-pk").first().pk).update(
                at=min(_at(day + timedelta(days=attempt), 10 + attempt), timezone.now())
            )
        last_try = day + timedelta(days=services.MAX_ATTEMPTS - 1)
        FollowUpCall.objects.filter(pk=call.pk).update(
            due_on=last_try, completed_at=call.tries.order_by("-pk").first().at
        )
        return
    if unhappy:
        score, note = 2, "交车时等了两个多小时，没人告知进度"
        issue = {
            "category": ComplaintCategory.WAITING,
            "severity": Severity.MEDIUM,
            "description": "客户回访反映：取车时等待两个多小时，期间无人告知维修进度。",
        }
    else:
        score = rng.choice([5, 5, 5, 4, 4, 3])
        note, issue = rng.choice(NOTES[score]), None
    call = services.call_attempt_record(
        call=call, outcome=CallOutcome.REACHED, by=agent, score=score, note=note, issue=issue
    )
    called_at = _at(day, 10, rng.randint(0, 59))
    FollowUpCall.objects.filter(pk=call.pk).update(completed_at=called_at)
    CallAttempt.objects.filter(call=call).update(at=called_at)
    if call.raised_complaint_id:
        Complaint.objects.filter(pk=call.raised_complaint_id).update(
            received_at=called_at,
            respond_by=called_at + services.COMPLAINT_DEADLINES[Severity.MEDIUM][0],
            resolve_by=called_at + services.COMPLAINT_DEADLINES[Severity.MEDIUM][1],
        )


def _calls(today: date, agent: User, manager: User, rng: random.Random) -> None:
    """The daily job run for each of the last five weeks, each day's calls made that day;
    the unhappy customer's complaint resolved and confirmed, then called back."""
    unhappy_done = False
    for back in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=back)
        services.follow_up_calls_generate(today=day)
        made = FollowUpCall.objects.filter(status=CallStatus.DUE, due_on__lte=day - timedelta(1))
        for call in made:
            unhappy = not unhappy_done and call.work_order_id is not None and back < 20
            _made(call, agent, rng, unhappy)
            unhappy_done = unhappy_done or unhappy
    raised = Complaint.objects.filter(raised_by_call__isnull=False).first()
    if raised is not None:
        received = raised.received_at
        services.complaint_respond(
            complaint=raised, response="已致电致歉，说明当日工位紧张的原因", by=agent
        )
        services.complaint_resolve(
            complaint=raised,
            resolution="赠送一次免费保养工时并安排专人跟进取车进度提醒",
            by=manager,
        )
        services.complaint_confirm(complaint=raised, by=agent, note="客户表示接受，谢谢关心")
        Complaint.objects.filter(pk=raised.pk).update(
            responded_at=received + timedelta(hours=3),
            resolved_at=received + timedelta(days=1),
            confirmed_at=received + timedelta(days=2),
        )
        confirmed_on = timezone.localdate(received + timedelta(days=2))
        for back in range((today - confirmed_on).days, -1, -1):
            services.follow_up_calls_generate(today=today - timedelta(days=back))
        callback = FollowUpCall.objects.filter(complaint=raised, due_on__lt=today).first()
        if callback is not None:  # the customer is satisfied with how it was put right
            _made(callback, agent, random.Random(SEED), unhappy=False)


def _complaints(branch: Branch, agent: User, manager: User, now: datetime) -> None:
    customers = list(Customer.objects.filter(branch=branch).order_by("pk")[5:9])
    if len(customers) < 4:
        return
    services.complaint_create(
        branch=branch, customer=customers[0], by=agent,
        data={"channel": ComplaintChannel.PHONE, "category": ComplaintCategory.SERVICE_QUALITY,
              "severity": Severity.CRITICAL, "received_at": now - timedelta(hours=3),
              "description": "保养后第二天发动机故障灯亮，要求立即处理"},
    )  # fmt: skip
    responded = services.complaint_create(
        branch=branch, customer=customers[1], by=agent,
        data={"channel": ComplaintChannel.WECHAT, "category": ComplaintCategory.PRICE,
              "severity": Severity.MEDIUM, "description": "结算金额比报价高 300 元，未事先告知",
              "received_at": now - timedelta(hours=20)},
    )  # fmt: skip
    services.complaint_respond(
        complaint=responded, response="已核对结算单，增项为刹车油更换，正与客户沟通", by=agent
    )
    resolved = services.complaint_create(
        branch=branch, customer=customers[2], by=agent,
        data={"channel": ComplaintChannel.WALK_IN, "category": ComplaintCategory.ATTITUDE,
              "severity": Severity.LOW, "description": "前台接待态度冷淡", "received_at":
              now - timedelta(days=3)},
    )  # fmt: skip
    services.complaint_respond(complaint=resolved, response="已向客户致歉", by=agent)
    services.complaint_resolve(
        complaint=resolved, resolution="接待人员已培训，店长致电致歉", by=manager
    )
    Complaint.objects.filter(pk=responded.pk).update(responded_at=now - timedelta(hours=18))
    Complaint.objects.filter(pk=resolved.pk).update(
        responded_at=now - timedelta(days=3) + timedelta(hours=5),
        resolved_at=now - timedelta(days=1),
    )
    services.complaints_escalate(now=now)


def _inquiries(branch: Branch, agent: User, now: datetime) -> None:
    customers = list(Customer.objects.filter(branch=branch).order_by("pk")[10:16])
    asked = [
        (InquiryKind.INQUIRY, "首保需要带哪些资料？", "带行驶证和保养手册，首保免工时费。"),
        (InquiryKind.INQUIRY, "周末可以预约保养吗？", "周六日 8:30–17:30 均可预约。"),
        (InquiryKind.INQUIRY, "原厂轮胎可以换品牌吗？", "可以，配件部可提供米其林、马牌报价。"),
        (InquiryKind.SUGGESTION, "希望休息区增加儿童游乐角", "已转店长，计划下季度改造。"),
        (InquiryKind.SUGGESTION, "建议取车前发微信提醒", "感谢建议，已反馈服务部。"),
        (InquiryKind.INQUIRY, "延保产品怎么收费？", ""),
    ]
    for index, (customer, (kind, subject, answer)) in enumerate(
        zip(customers, asked, strict=False)
    ):
        inquiry = services.inquiry_record(
            branch=branch, customer=customer, by=agent,
            data={"kind": kind, "channel": ComplaintChannel.PHONE, "subject": subject,
                  "answer": answer, "received_at": now - timedelta(days=12 - 2 * index)},
        )  # fmt: skip
        if answer:
            Inquiry.objects.filter(pk=inquiry.pk).update(
                answered_at=now - timedelta(days=12 - 2 * index) + timedelta(minutes=20)
            )


def _timeline_dated() -> None:
    """Move the care entries of the customers' timelines to when their events happened."""
    moments = [
        (FollowUpCall, timeline.CALL_DONE, "completed_at"),
        (Complaint, timeline.COMPLAINT_RECEIVED, "received_at"),
        (Complaint, timeline.COMPLAINT_RESOLVED, "resolved_at"),
        (Complaint, timeline.COMPLAINT_CLOSED, "confirmed_at"),
        (Inquiry, timeline.INQUIRY, "received_at"),
        (Inquiry, timeline.SUGGESTION, "received_at"),
    ]
    for model, kind, field in moments:
        kind_of = ContentType.objects.get_for_model(model)
        for pk, moment in model.objects.exclude(**{field: None}).values_list("pk", field):
            TimelineEntry.objects.filter(kind=kind, content_type=kind_of, object_id=pk).update(
                occurred_at=moment
            )


def care_demo_create(*, branches: list[Branch], users: dict[str, User]) -> None:
    """Customer care of the demo branches. Does nothing when their calls exist."""
    if FollowUpCall.objects.filter(branch__in=branches).exists():
        return
    agent, manager = users["customer_care"], users["branch_manager"]
    rng = random.Random(SEED)
    now = timezone.now()
    _calls(timezone.localdate(now), agent, manager, rng)
    for branch in branches:
        resolver = manager if manager.staff.branches.filter(pk=branch.pk).exists() else None
        _complaints(branch, agent, resolver or users["group_manager"], now)
        _inquiries(branch, agent, now)
    _timeline_dated()
    tasks.follow_up_calls_task()
    tasks.complaints_escalate_task()
    tasks.segments_task()
    for branch in branches:
        in_branch = manager.staff.branches.filter(pk=branch.pk).exists()
        _satisfaction(branch, manager if in_branch else users["group_manager"], agent, rng)
    for branch in branches:
        main = manager.staff.branches.filter(pk=branch.pk).exists()
        _loyalty(branch, manager if main else users["group_manager"], agent, main, now)
        _campaigns(branch, manager if main else users["group_manager"], now, main)
    tasks.loyalty_points_task()  # the nightly job's first run: nothing left to credit


# --- The satisfaction index ---------------------------------------------------------------

# 售后满意度: 维修质量 matters most, then 服务态度, then 交车时效 (CR 0.003); under 维修质量 a
# first-time fix three times a transparent price.
SATISFACTION_CRITERIA = {"服务态度": [], "维修质量": ["一次修复", "价格透明"], "交车时效": []}
SATISFACTION_TOP = [[1, 1 / 3, 2], [3, 1, 5], [1 / 2, 1 / 5, 1]]
SATISFACTION_QUALITY = [[1, 3], [1 / 3, 1]]


def _survey(call: FollowUpCall, leaves: dict, rng: random.Random) -> dict[int, int]:
    """The scores a customer gives, around the satisfaction they gave on the call; the
    unhappy customer who waited two hours marks the delivery time lowest."""
    if call.raised_complaint_id:
        scores = {"服务态度": 2, "一次修复": 3, "价格透明": 3, "交车时效": 1}
    else:
        scores = {
            name: min(5, max(1, call.score + rng.choice([0, 0, 0, -1, 1]))) for name in leaves
        }
    return {leaves[name].pk: score for name, score in scores.items()}


def _satisfaction(branch: Branch, manager: User, agent: User, rng: random.Random) -> None:
    """The branch's model 售后满意度 compared and activated by its manager, and the survey of
    every call made, recorded by the agent."""
    model = services.satisfaction_model_create(branch=branch, name="售后满意度", by=manager)
    tops = {}
    for name, subs in SATISFACTION_CRITERIA.items():
        tops[name] = services.criterion_add(model=model, name=name, by=manager)
        for sub in subs:
            services.criterion_add(model=model, name=sub, parent=tops[name], by=manager)
    services.comparison_matrix_set(model=model, parent=None, values=SATISFACTION_TOP, by=manager)
    services.comparison_matrix_set(
        model=model, parent=tops["维修质量"], values=SATISFACTION_QUALITY, by=manager
    )
    services.model_activate(model=model, by=manager)
    leaves = {criterion.name: criterion for criterion in model.criteria.filter(children=None)}
    done = FollowUpCall.objects.filter(branch=branch, status=CallStatus.DONE).order_by("pk")
    for call in done:
        services.survey_answers_record(call=call, answers=_survey(call, leaves, rng), by=agent)


# --- Loyalty points -------------------------------------------------------------------------

# The Guangzhou manager doubled the service points to bring owners back to the workshop.
LOYALTY_RULE = {"purchase_points": 1, "service_points": 20, "referral_points": 3000}
# What the customers with the most points chose, and how many days ago; in Shenzhen, whose
# visits earn half as much, a smaller gift.
REDEMPTIONS = [(300, "机油一桶（4L）", 9), (200, "精致洗车一次", 4)]
OTHER_REDEMPTIONS = [(100, "玻璃水两瓶", 6)]


def _loyalty(branch: Branch, manager: User, agent: User, main: bool, now: datetime) -> None:
    """The manager of the main branch sets its rules (the other keeps the defaults); every
    delivery and settlement of the history is credited in the order they happened (so each
    statement's running balance is true), each entry dated when its handover or visit was;
    then the customers with the most points redeem some for a gift."""
    if main:
        services.loyalty_rule_set(branch=branch, by=manager, data=LOYALTY_RULE)
    events = [
        (min(now, _at(delivery.delivered_on, 16)), "delivery", delivery)
        for delivery in Delivery.objects.filter(order__branch=branch).select_related(
            "order__branch", "order__customer", "order__lead__referrer"
        )
    ] + [
        (settlement.settled_at, "settlement", settlement)
        for settlement in Settlement.objects.filter(work_order__branch=branch).select_related(
            "work_order__branch", "work_order__customer"
        )
    ]
    events.sort(key=lambda event: (event[0], event[1], event[2].pk))
    for moment, kind, source in events:
        last = PointsEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        if kind == "delivery":
            services.points_for_delivery(delivery=source)
        else:
            services.points_for_settlement(settlement=source)
        PointsEntry.objects.filter(pk__gt=last).update(created_at=moment)
    today = timezone.localdate(now)
    for points, note, days_ago in REDEMPTIONS if main else OTHER_REDEMPTIONS:
        moment = _at(today - timedelta(days=days_ago), 15)
        # The richest owner who had the points then and has earned nothing since, so the
        # redemption takes its place at the end of the statement.
        customer = (
            Customer.objects.filter(
                branch=branch, kind=CustomerKind.PERSON, loyalty_account__balance__gte=points
            )
            .exclude(loyalty_account__entries__created_at__gte=moment)
            .exclude(loyalty_account__entries__kind=PointsKind.REDEMPTION)
            .order_by("-loyalty_account__balance", "pk")
            .first()
        )
        if customer is None:
            continue
        entry = services.points_redeem(customer=customer, points=points, note=note, by=agent)
        PointsEntry.objects.filter(pk=entry.pk).update(created_at=moment)
        TimelineEntry.objects.filter(customer=customer, kind=timeline.POINTS_REDEEMED).update(
            occurred_at=moment
        )


# --- Campaigns --------------------------------------------------------------------------------

REPAIR_ONLY_CAMPAIGN = {
    "name": "只修不保客户回厂保养关怀",
    "segment": TargetSegment.REPAIR_ONLY,
    "offer": OfferKind.HALF_LABOUR,
    "message": "好久不见！定期保养让爱车少跑维修，本月回店保养工时五折。",
    "target_rate": Decimal(25),
}
NEAR_CHURN_CAMPAIGN = {
    "name": "濒临流失客户免费保养工时",
    "segment": TargetSegment.NEAR_CHURN,
    "offer": OfferKind.FREE_MAINTENANCE_LABOUR,
    "message": "感谢您一直以来的信任，下次保养工时全免，期待您回店。",
    "target_rate": Decimal(20),
}
KEY_CUSTOMER_CAMPAIGN = {
    "name": "重点客户答谢：赠机油一桶",
    "segment": TargetSegment.KEY_CUSTOMERS,
    "offer": OfferKind.CAN_OF_OIL,
    "message": "感谢您对本店的长期支持，到店即赠原厂机油一桶。",
    "target_rate": Decimal(40),
}


def _consenting_repair_only(branch: Branch, manager: User, now: datetime) -> None:
    """The campaign needs somebody to reach: if no repair-only customer agreed to marketing,
    the first one with a mobile agrees on the phone (recorded with its date and channel)."""
    if selectors.campaign_audience(branch_id=branch.pk, segment=TargetSegment.REPAIR_ONLY).exists():
        return
    customer = (
        selectors.campaign_audience(
            branch_id=branch.pk, segment=TargetSegment.REPAIR_ONLY, consenting=False
        )
        .exclude(mobile="")
        .order_by("pk")
        .first()
    )
    if customer is not None:
        agreed_on = timezone.localdate(now) - timedelta(days=10)
        customer_services.customer_update(
            customer=customer, by=manager,
            data={"marketing_consent": True, "consent_date": agreed_on,
                  "consent_channel": ConsentChannel.PHONE},
        )  # fmt: skip


def _launched(branch: Branch, manager: User, data: dict, starts_on: date, ends_on: date) -> None:
    """A campaign launched on its first day and every offer contacted that morning, moved
    back to then. Skipped when the segment has nobody who agreed to marketing."""
    if not selectors.campaign_audience(branch_id=branch.pk, segment=data["segment"]).exists():
        return
    campaign = services.campaign_create(
        branch=branch, by=manager, data={**data, "starts_on": starts_on, "ends_on": ends_on}
    )
    services.campaign_launch(campaign=campaign, by=manager)
    services.campaign_contact(campaign=campaign)  # the contact job, run here and now
    launched, contacted = _at(starts_on, 9, 30), _at(starts_on, 10)
    Campaign.objects.filter(pk=campaign.pk).update(
        created_at=launched - timedelta(days=2), launched_at=launched
    )
    offers = Offer.objects.filter(campaign=campaign)
    offers.update(created_at=launched)
    Message.objects.filter(offer__in=offers).update(sent_at=contacted)
    TimelineEntry.objects.filter(
        kind=timeline.OFFER_SENT,
        content_type=ContentType.objects.get_for_model(Campaign),
        object_id=campaign.pk,
    ).update(occurred_at=contacted)


def _campaigns(branch: Branch, manager: User, now: datetime, main: bool) -> None:
    """Guangzhou: the repair-only campaign running for a week more than two, and the
    near-churn one drafted for next week; Shenzhen: its key customers' can of oil."""
    today = timezone.localdate(now)
    if not main:
        starts_on, ends_on = today - timedelta(days=10), today + timedelta(days=20)
        _launched(branch, manager, KEY_CUSTOMER_CAMPAIGN, starts_on, ends_on)
        return
    _consenting_repair_only(branch, manager, now)
    _launched(branch, manager, REPAIR_ONLY_CAMPAIGN, today - timedelta(6), today + timedelta(21))
    services.campaign_create(
        branch=branch, by=manager,
        data={**NEAR_CHURN_CAMPAIGN, "starts_on": today + timedelta(7),
              "ends_on": today + timedelta(37)},
    )  # fmt: skip
