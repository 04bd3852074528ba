"""Quote and trade-in services: the total worked out from its parts, the discount approval with
its history, revisions, and the customer's decision on a trade-in offer."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from customers.models import TimelineEntry
from dealer_crm.choices import Role
from dealer_crm.errors import DomainError, StateConflict
from dealer_crm.models import Notification
from sales import services
from sales.choices import (
    ApprovalDecision,
    LeadSource,
    LeadStatus,
    QuoteStatus,
    TradeInDecision,
)
from sales.models import Lead, Quote, QuoteApproval, TradeIn
from tests.factories import UserFactory, vin

pytestmark = pytest.mark.django_db

LIMIT = Decimal("3000.00")  # a branch's default quote_discount_limit


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def refusal(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def fresh(instance):
    return type(instance).objects.get(pk=instance.pk)


def new_lead(branch, by, mobile="13912345678") -> Lead:
    return services.lead_create(
        branch=branch,
        by=by,
        data={
            "source": LeadSource.PHONE,
            "name": "陈志远",
            "mobile": mobile,
            "model_of_interest": "帕萨特",
            "intent_level": "A",
        },
    )


def verified_lead(branch, by, mobile="13912345678") -> Lead:
    return services.lead_verify(lead=new_lead(branch, by, mobile), by=by)


def quote_data(**overrides) -> dict:
    return {
        "brand": "大众",
        "series": "帕萨特",
        "configuration": "330TSI 豪华版",
        "colour": "星空蓝",
        "list_price": Decimal("209900.00"),
        "discount": Decimal("2000.00"),
        "accessories": "脚垫、行车记录仪",
        "accessories_price": Decimal("1800.00"),
        "insurance_price": Decimal("6200.00"),
        "registration_fee": Decimal("500.00"),
        **overrides,
    }


def new_quote(lead, by, **overrides) -> Quote:
    return services.quote_create(lead=lead, by=by, data=quote_data(**overrides))


def trade_in_data(**overrides) -> dict:
    return {
        "brand": "本田",
        "series": "雅阁",
        "model_year": 2017,
        "vin": vin(31, prefix="LHGCR265", year_code="H"),
        "plate": "粤A3K7M2",
        "odometer_km": 98_000,
        "condition_note": "左后门有划痕",
        "appraised_value": Decimal("72000.00"),
        "offered_value": Decimal("68000.00"),
        **overrides,
    }


def appraised(lead, by, **overrides) -> TradeIn:
    return services.trade_in_appraise(lead=lead, by=by, data=trade_in_data(**overrides))


def approvals(quote) -> list[tuple]:
    return list(
        QuoteApproval.objects.filter(quote=quote)
        .order_by("at", "id")
        .values_list("decision", "by__username", "discount", "note")
    )


# --- quotes: the total ------------------------------------------------------------------


def test_quote_before_verification_is_refused(branch, consultant):
    # given a lead nobody has verified by phone
    lead = new_lead(branch, consultant)
    # when a quote is drawn up
    error = refusal(lambda: new_quote(lead, consultant))
    # then it is refused and no quote exists
    assert isinstance(error, StateConflict) and error.code == "lead_not_verified"
    assert not Quote.objects.exists()


def test_quote_total_is_worked_out_from_its_parts_never_typed(branch, consultant):
    # given a verified lead
    lead = verified_lead(branch, consultant)
    # when a quote is made with a total typed in
    quote = new_quote(lead, consultant, total=Decimal("1.00"))
    # then the total is list price − discount + accessories + insurance + registration
    assert fresh(quote).total == Decimal("209900") - 2000 + 1800 + 6200 + 500


def test_editing_a_draft_quote_works_the_total_out_again(branch, consultant):
    # given a draft quote
    quote = new_quote(verified_lead(branch, consultant), consultant)
    # when the insurance is dropped and the accessories change
    services.quote_update(
        quote=quote,
        by=consultant,
        data={"insurance_price": Decimal("0"), "accessories_price": Decimal("3000")},
    )
    # then the total follows
    assert fresh(quote).total == Decimal("209900") - 2000 + 3000 + 500


def test_discount_above_the_list_price_is_refused(branch, consultant):
    # given a verified lead
    lead = verified_lead(branch, consultant)
    # when the discount is more than the car costs
    with pytest.raises(ValidationError) as caught:
        new_quote(lead, consultant, list_price=Decimal("100000"), discount=Decimal("100001"))
    # then it is refused beside the discount
    assert "discount" in caught.value.message_dict
    assert not Quote.objects.exists()


def test_quote_belongs_to_the_lead_consultant_and_branch(branch, consultant, sales_manager):
    # given a consultant's verified lead
    lead = verified_lead(branch, consultant)
    # when the sales manager drafts the quote for it
    quote = new_quote(lead, sales_manager)
    # then the quote is the lead's consultant's, in the lead's branch
    quote = fresh(quote)
    assert quote.consultant == consultant and quote.branch == branch
    assert quote.status == QuoteStatus.DRAFT


# --- quotes: the discount limit ---------------------------------------------------------


def test_quote_within_the_discount_limit_is_sent_at_once_and_the_lead_is_quoted(branch, consultant):
    # given a customer's lead and a quote at the branch's discount limit
    lead = verified_lead(branch, consultant)
    customer = services.lead_link_customer(lead=lead, by=consultant)
    quote = new_quote(lead, consultant, discount=LIMIT)
    assert not fresh(quote).needs_approval
    # when it is sent
    services.quote_send(quote=quote, by=consultant)
    # then it is sent, the lead is quoted and the customer's timeline shows the quote
    quote = fresh(quote)
    assert quote.status == QuoteStatus.SENT and quote.sent_at is not None
    lead = fresh(lead)
    assert lead.status == LeadStatus.QUOTED and lead.quoted_at == quote.sent_at
    assert TimelineEntry.objects.filter(customer=customer, kind="quote_sent").exists()
    assert not QuoteApproval.objects.exists()


def test_discount_above_the_limit_cannot_be_sent_before_approval(branch, consultant):
    # given a quote one yuan over the branch's discount limit
    lead = verified_lead(branch, consultant)
    quote = new_quote(lead, consultant, discount=LIMIT + Decimal("1"))
    # when it is sent as a draft, and again while awaiting approval
    draft = refusal(lambda: services.quote_send(quote=quote, by=consultant))
    services.quote_submit(quote=quote, by=consultant)
    pending = refusal(lambda: services.quote_send(quote=quote, by=consultant))
    # then both are refused; the quote awaits approval and the lead is not quoted
    assert isinstance(draft, StateConflict)
    assert draft.code == pending.code == "quote_needs_approval"
    quote = fresh(quote)
    assert quote.needs_approval and quote.status == QuoteStatus.PENDING_APPROVAL
    assert quote.sent_at is None
    assert fresh(lead).status == LeadStatus.VERIFIED


def test_the_branch_sets_its_own_discount_limit(branch, other_branch, consultant):
    # given a branch that lets consultants give 8,000 CNY, and another at 1,000
    branch.quote_discount_limit = Decimal("8000")
    branch.save()
    other_branch.quote_discount_limit = Decimal("1000")
    other_branch.save()
    their_consultant = UserFactory(roles=[Role.SALES_CONSULTANT], branches=[other_branch])
    # when both quote a 5,000 CNY discount
    ours = new_quote(verified_lead(branch, consultant), consultant, discount=Decimal("5000"))
    theirs = new_quote(
        verified_lead(other_branch, their_consultant, mobile="13812345678"),
        their_consultant,
        discount=Decimal("5000"),
    )
    # then only the other branch's quote needs approval
    assert not fresh(ours).needs_approval
    assert fresh(theirs).needs_approval


def test_submitting_a_discount_within_the_limit_approves_it_at_once(branch, consultant):
    # given a quote within the limit
    quote = new_quote(verified_lead(branch, consultant), consultant)
    # when it is submitted
    services.quote_submit(quote=quote, by=consultant)
    # then it is approved without asking anyone
    assert fresh(quote).status == QuoteStatus.APPROVED
    assert not QuoteApproval.objects.exists() and not Notification.objects.exists()


def test_submitting_a_discount_asks_the_branch_managers(
    branch, consultant, sales_manager, branch_manager, other_branch
):
    # given a quote over the limit, and a sales manager of another branch
    UserFactory(roles=[Role.SALES_MANAGER], branches=[other_branch])
    quote = new_quote(verified_lead(branch, consultant), consultant, discount=Decimal("9000"))
    # when it is submitted
    services.quote_submit(quote=quote, by=consultant, note="客户对比了竞品报价")
    # then it awaits approval, the step is on record and this branch's managers are asked
    assert fresh(quote).status == QuoteStatus.PENDING_APPROVAL
    assert approvals(quote) == [
        (ApprovalDecision.SUBMITTED, consultant.username, Decimal("9000.00"), "客户对比了竞品报价")
    ]
    assert set(Notification.objects.values_list("recipient", flat=True)) == {
        sales_manager.pk,
        branch_manager.pk,
    }


def test_approved_discount_can_be_sent(branch, consultant, sales_manager):
    # given a quote over the limit, submitted and approved by the sales manager
    lead = verified_lead(branch, consultant)
    quote = new_quote(lead, consultant, discount=Decimal("9000"))
    services.quote_submit(quote=quote, by=consultant)
    services.quote_approve(quote=quote, by=sales_manager, note="同意")
    # when the consultant sends it
    services.quote_send(quote=quote, by=consultant)
    # then it is sent and the consultant was told of the approval
    assert fresh(quote).status == QuoteStatus.SENT
    assert fresh(lead).status == LeadStatus.QUOTED
    assert Notification.objects.filter(recipient=consultant).count() == 1


def test_consultant_cannot_approve_their_own_discount(branch, consultant):
    # given a consultant's quote awaiting approval
    quote = new_quote(verified_lead(branch, consultant), consultant, discount=Decimal("9000"))
    services.quote_submit(quote=quote, by=consultant)
    # when the consultant approves it
    error = refusal(lambda: services.quote_approve(quote=quote, by=consultant))
    # then it is refused; the quote still awaits approval, with no approval on record
    assert isinstance(error, StateConflict) and error.code == "own_discount_approval"
    assert fresh(quote).status == QuoteStatus.PENDING_APPROVAL
    assert [step[0] for step in approvals(quote)] == [ApprovalDecision.SUBMITTED]


def test_consultant_cannot_approve_a_discount_on_their_quote_submitted_by_another(
    branch, consultant, sales_manager
):
    # given a consultant who is also allowed to approve (say, acting manager), and their quote
    # that the sales manager submitted
    quote = new_quote(verified_lead(branch, consultant), consultant, discount=Decimal("9000"))
    services.quote_submit(quote=quote, by=sales_manager)
    # when the consultant approves it
    error = refusal(lambda: services.quote_approve(quote=quote, by=consultant))
    # then it is refused: the quote is theirs
    assert error.code == "own_discount_approval"
    assert fresh(quote).status == QuoteStatus.PENDING_APPROVAL


def test_manager_who_submitted_a_discount_cannot_approve_it(
    branch, consultant, sales_manager, branch_manager
):
    # given a consultant's quote the sales manager submitted on their behalf
    quote = new_quote(verified_lead(branch, consultant), consultant, discount=Decimal("9000"))
    services.quote_submit(quote=quote, by=sales_manager)
    # when the same manager approves it
    error = refusal(lambda: services.quote_approve(quote=quote, by=sales_manager))
    # then it is refused, and the branch manager may approve it instead
    assert error.code == "own_discount_approval"
    assert fresh(quote).status == QuoteStatus.PENDING_APPROVAL
    services.quote_approve(quote=quote, by=branch_manager)
    assert fresh(quote).status == QuoteStatus.APPROVED


def test_consultant_cannot_reject_their_own_discount_either(branch, consultant):
    # given a consultant's quote awaiting approval
    quote = new_quote(verified_lead(branch, consultant), consultant, discount=Decimal("9000"))
    services.quote_submit(quote=quote, by=consultant)
    # when they reject it themselves
    error = refusal(lambda: services.quote_reject(quote=quote, by=consultant, note="撤回"))
    # then it is refused
    assert error.code == "own_discount_approval"
    assert fresh(quote).status == QuoteStatus.PENDING_APPROVAL


def test_rejecting_a_discount_needs_a_note(branch, consultant, sales_manager):
    # given a quote awaiting approval
    quote = new_quote(verified_lead(branch, consultant), consultant, discount=Decimal("9000"))
    services.quote_submit(quote=quote, by=consultant)
    # when the manager rejects it without saying why
    error = refusal(lambda: services.quote_reject(quote=quote, by=sales_manager, note="  "))
    # then it is refused beside the note; nothing is decided
    assert error.code == "reject_note_required" and error.field == "note"
    assert fresh(quote).status == QuoteStatus.PENDING_APPROVAL
    assert len(approvals(quote)) == 1


def test_rejected_quote_is_revised_and_resubmitted_with_its_history_kept(
    branch, consultant, sales_manager
):
    # given a quote whose 9,000 CNY discount the manager rejected
    quote = new_quote(verified_lead(branch, consultant), consultant, discount=Decimal("9000"))
    services.quote_submit(quote=quote, by=consultant)
    services.quote_reject(quote=quote, by=sales_manager, note="最多让利6000")
    assert fresh(quote).status == QuoteStatus.REJECTED
    # when the consultant revises it to 6,000 and submits again, and the manager approves
    services.quote_update(quote=quote, by=consultant, data={"discount": Decimal("6000")})
    assert fresh(quote).status == QuoteStatus.DRAFT
    services.quote_submit(quote=quote, by=consultant, note="已按要求调整")
    services.quote_approve(quote=quote, by=sales_manager)
    # then it is approved at the revised figures, every step on record in order
    quote = fresh(quote)
    assert quote.status == QuoteStatus.APPROVED
    assert quote.total == Decimal("209900") - 6000 + 1800 + 6200 + 500
    assert approvals(quote) == [
        (ApprovalDecision.SUBMITTED, consultant.username, Decimal("9000.00"), ""),
        (ApprovalDecision.REJECTED, sales_manager.username, Decimal("9000.00"), "最多让利6000"),
        (ApprovalDecision.SUBMITTED, consultant.username, Decimal("6000.00"), "已按要求调整"),
        (ApprovalDecision.APPROVED, sales_manager.username, Decimal("6000.00"), ""),
    ]


def test_rejected_quote_cannot_be_sent(branch, consultant, sales_manager):
    # given a rejected quote
    quote = new_quote(verified_lead(branch, consultant), consultant, discount=Decimal("9000"))
    services.quote_submit(quote=quote, by=consultant)
    services.quote_reject(quote=quote, by=sales_manager, note="折扣过大")
    # when it is sent
    error = refusal(lambda: services.quote_send(quote=quote, by=consultant))
    # then it is refused
    assert error.code == "quote_needs_approval"
    assert fresh(quote).status == QuoteStatus.REJECTED


def quote_in(status, branch, consultant, sales_manager) -> Quote:
    quote = new_quote(verified_lead(branch, consultant), consultant, discount=Decimal("9000"))
    services.quote_submit(quote=quote, by=consultant)
    if status in (QuoteStatus.APPROVED, QuoteStatus.SENT):
        services.quote_approve(quote=quote, by=sales_manager)
    if status == QuoteStatus.SENT:
        services.quote_send(quote=quote, by=consultant)
    return quote


@pytest.mark.parametrize(
    "status", [QuoteStatus.PENDING_APPROVAL, QuoteStatus.APPROVED, QuoteStatus.SENT]
)
def test_quote_is_edited_only_as_a_draft_or_after_rejection(
    branch, consultant, sales_manager, status
):
    # given a quote awaiting approval, approved or sent
    quote = quote_in(status, branch, consultant, sales_manager)
    # when its discount is raised
    error = refusal(
        lambda: services.quote_update(
            quote=quote, by=consultant, data={"discount": Decimal("15000")}
        )
    )
    # then it is refused and the quote is as it was
    assert isinstance(error, StateConflict) and error.code == "quote_not_editable"
    quote = fresh(quote)
    assert quote.status == status and quote.discount == Decimal("9000.00")


@pytest.mark.parametrize("status", [QuoteStatus.DRAFT, QuoteStatus.APPROVED, QuoteStatus.SENT])
def test_only_a_quote_awaiting_approval_is_approved_or_rejected(
    branch, consultant, sales_manager, status
):
    # given a quote that is not awaiting approval
    if status == QuoteStatus.DRAFT:
        quote = new_quote(verified_lead(branch, consultant), consultant, discount=Decimal("9000"))
    else:
        quote = quote_in(status, branch, consultant, sales_manager)
    steps = len(approvals(quote))
    # when the manager approves or rejects it
    approve = refusal(lambda: services.quote_approve(quote=quote, by=sales_manager))
    reject = refusal(lambda: services.quote_reject(quote=quote, by=sales_manager, note="不行"))
    # then both are state conflicts and nothing is added to the history
    assert approve.code == reject.code == "quote_not_pending"
    assert fresh(quote).status == status and len(approvals(quote)) == steps


@pytest.mark.parametrize("status", [QuoteStatus.PENDING_APPROVAL, QuoteStatus.SENT])
def test_quote_is_submitted_only_as_a_draft_or_after_rejection(
    branch, consultant, sales_manager, status
):
    # given a quote awaiting approval or sent
    quote = quote_in(status, branch, consultant, sales_manager)
    # when it is submitted (again)
    error = refusal(lambda: services.quote_submit(quote=quote, by=consultant))
    # then it is refused
    assert error.code == "quote_not_draft"
    assert fresh(quote).status == status


def test_editing_a_quote_up_to_the_limit_drops_the_need_for_approval(branch, consultant):
    # given a draft quote over the limit
    quote = new_quote(verified_lead(branch, consultant), consultant, discount=Decimal("9000"))
    assert fresh(quote).needs_approval
    # when the discount is brought down to the limit
    services.quote_update(quote=quote, by=consultant, data={"discount": LIMIT})
    # then it can be sent straight away
    services.quote_send(quote=quote, by=consultant)
    assert fresh(quote).status == QuoteStatus.SENT


# --- trade-ins --------------------------------------------------------------------------


def test_trade_in_is_appraised_for_the_lead_pending_the_customer(branch, consultant):
    # given a verified lead with a car to trade in
    lead = verified_lead(branch, consultant)
    # when it is appraised
    trade_in = appraised(lead, consultant, vin=vin(31, prefix="LHGCR265", year_code="H").lower())
    # then the offer awaits the customer's decision, the VIN normalized
    trade_in = fresh(trade_in)
    assert trade_in.decision == TradeInDecision.PENDING
    assert trade_in.appraised_by == consultant and trade_in.branch == branch
    assert trade_in.vin == trade_in.vin.upper()


def test_accepted_trade_in_counts_in_the_linked_quote_total(branch, consultant):
    # given a draft quote carrying a trade-in offer the customer has not decided on
    lead = verified_lead(branch, consultant)
    trade_in = appraised(lead, consultant)
    quote = new_quote(lead, consultant, trade_in=trade_in)
    before = fresh(quote)
    assert before.trade_in_value == 0
    # when the customer accepts the offer
    services.trade_in_decide(trade_in=trade_in, by=consultant, decision=TradeInDecision.ACCEPTED)
    # then the offered value comes off the quote's total
    after = fresh(quote)
    assert after.trade_in_value == Decimal("68000.00")
    assert after.total == before.total - Decimal("68000.00")


def test_quote_made_with_an_accepted_trade_in_counts_it(branch, consultant):
    # given a trade-in the customer already accepted
    lead = verified_lead(branch, consultant)
    trade_in = appraised(lead, consultant)
    services.trade_in_decide(trade_in=trade_in, by=consultant, decision=TradeInDecision.ACCEPTED)
    # when a quote is made with it
    quote = new_quote(lead, consultant, trade_in=trade_in)
    # then its value is credited
    assert fresh(quote).total == Decimal("209900") - 2000 + 1800 + 6200 + 500 - 68000


def test_a_declined_trade_in_comes_off_its_draft_quote(branch, consultant):
    # given a draft quote carrying a pending trade-in
    lead = verified_lead(branch, consultant)
    trade_in = appraised(lead, consultant)
    quote = new_quote(lead, consultant, trade_in=trade_in)
    # when the customer declines the offer
    services.trade_in_decide(trade_in=trade_in, by=consultant, decision=TradeInDecision.DECLINED)
    # then the quote no longer carries it and can still be edited
    quote = fresh(quote)
    assert quote.trade_in is None and quote.trade_in_value == 0
    services.quote_update(quote=quote, by=consultant, data={"note": "客户保留旧车"})


def test_trade_in_decision_is_taken_once(branch, consultant):
    # given a trade-in the customer declined
    lead = verified_lead(branch, consultant)
    trade_in = appraised(lead, consultant)
    services.trade_in_decide(trade_in=trade_in, by=consultant, decision=TradeInDecision.DECLINED)
    # when the decision is changed to accepted
    error = refusal(
        lambda: services.trade_in_decide(
            trade_in=trade_in, by=consultant, decision=TradeInDecision.ACCEPTED
        )
    )
    # then it is refused and the refusal stands
    assert isinstance(error, StateConflict) and error.code == "trade_in_decided"
    assert fresh(trade_in).decision == TradeInDecision.DECLINED


def test_trade_in_decision_is_accepted_or_declined(branch, consultant):
    # given a pending trade-in
    trade_in = appraised(verified_lead(branch, consultant), consultant)
    # when the decision is set back to pending
    error = refusal(
        lambda: services.trade_in_decide(
            trade_in=trade_in, by=consultant, decision=TradeInDecision.PENDING
        )
    )
    # then it is refused
    assert error.code == "trade_in_decision_invalid"
    assert fresh(trade_in).decision == TradeInDecision.PENDING


@pytest.mark.parametrize("when", ["create", "update"])
def test_declined_trade_in_cannot_be_put_on_a_quote(branch, consultant, when):
    # given a trade-in offer the customer declined
    lead = verified_lead(branch, consultant)
    trade_in = appraised(lead, consultant)
    services.trade_in_decide(trade_in=trade_in, by=consultant, decision=TradeInDecision.DECLINED)
    quote = new_quote(lead, consultant) if when == "update" else None
    # when a quote is made with it, or a draft quote is changed to carry it
    error = refusal(
        lambda: (
            new_quote(lead, consultant, trade_in=trade_in)
            if when == "create"
            else services.quote_update(quote=quote, by=consultant, data={"trade_in": trade_in})
        )
    )
    # then it is refused beside the trade-in
    assert error.code == "trade_in_declined" and error.field == "trade_in"
    assert not Quote.objects.filter(trade_in=trade_in).exists()


def test_trade_in_of_another_lead_cannot_be_put_on_a_quote(branch, consultant):
    # given a trade-in appraised for another lead
    other_lead = verified_lead(branch, consultant, mobile="13812345678")
    trade_in = appraised(other_lead, consultant)
    # when a quote of this lead carries it
    error = refusal(
        lambda: new_quote(verified_lead(branch, consultant), consultant, trade_in=trade_in)
    )
    # then it is refused
    assert error.code == "trade_in_other_lead"
    assert not Quote.objects.exists()


def test_trade_in_is_credited_on_one_quote_only(branch, consultant):
    # given a trade-in already on one quote
    lead = verified_lead(branch, consultant)
    trade_in = appraised(lead, consultant)
    first = new_quote(lead, consultant, trade_in=trade_in)
    # when a second quote for another model carries it too
    error = refusal(lambda: new_quote(lead, consultant, series="迈腾", trade_in=trade_in))
    # then it is refused, naming the first quote
    assert error.code == "trade_in_on_other_quote"
    assert first.number in error.message
    assert Quote.objects.count() == 1


def test_trade_in_on_a_quote_past_draft_cannot_be_decided_and_nothing_changes(
    branch, consultant, sales_manager
):
    # given a quote with a pending trade-in, submitted for approval
    lead = verified_lead(branch, consultant)
    trade_in = appraised(lead, consultant)
    quote = new_quote(lead, consultant, discount=Decimal("9000"), trade_in=trade_in)
    services.quote_submit(quote=quote, by=consultant)
    total = fresh(quote).total
    # when the customer accepts the trade-in offer
    error = refusal(
        lambda: services.trade_in_decide(
            trade_in=trade_in, by=consultant, decision=TradeInDecision.ACCEPTED
        )
    )
    # then it is refused (the quote must be revised first) and nothing is half-applied
    assert error.code == "quote_not_editable"
    assert fresh(trade_in).decision == TradeInDecision.PENDING
    assert fresh(quote).total == total


def test_trade_in_credit_larger_than_the_price_is_refused(branch, consultant):
    # given an accepted trade-in worth more than the new car after discount
    lead = verified_lead(branch, consultant)
    trade_in = appraised(
        lead, consultant, appraised_value=Decimal("260000"), offered_value=Decimal("250000")
    )
    services.trade_in_decide(trade_in=trade_in, by=consultant, decision=TradeInDecision.ACCEPTED)
    # when a quote carries it
    error = refusal(lambda: new_quote(lead, consultant, trade_in=trade_in))
    # then it is refused: the figures need checking
    assert error.code == "quote_total_negative"
    assert not Quote.objects.exists()


def test_trade_in_for_a_lost_lead_is_refused(branch, consultant):
    # given a lead lost on price
    lead = verified_lead(branch, consultant)
    services.lead_lose(lead=lead, by=consultant, reason="price")
    # when its car is appraised
    error = refusal(lambda: appraised(lead, consultant))
    # then it is refused
    assert error.code == "lead_closed"
    assert not TradeIn.objects.exists()


def test_quote_sent_to_a_customer_records_when(branch, consultant):
    # given a quote within the limit
    lead = verified_lead(branch, consultant)
    quote = new_quote(lead, consultant)
    before = timezone.now()
    # when it is sent
    services.quote_send(quote=quote, by=consultant)
    # then it records when it went out
    assert fresh(quote).sent_at >= before
