"""Lead services: capture, phone verification, the status flow, assignment, duplicates, the
customer link and follow-up dates (DOMAIN §2)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from customers.models import Customer, TimelineEntry
from dealer_crm.choices import Role
from dealer_crm.errors import DomainError, StateConflict
from dealer_crm.models import Notification
from sales import services
from sales.choices import (
    ActivityKind,
    ActivityOutcome,
    IntentLevel,
    LeadSource,
    LeadStatus,
    LostReason,
)
from sales.models import Activity, Lead
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def lead_data(**overrides) -> dict:
    return {
        "source": LeadSource.WEBSITE,
        "name": "王小明",
        "mobile": "13912345678",
        "model_of_interest": "途观L",
        "intent_level": IntentLevel.B,
        **overrides,
    }


def new_lead(branch, by, **overrides) -> Lead:
    return services.lead_create(branch=branch, by=by, data=lead_data(**overrides))


def verified_lead(branch, by, **overrides) -> Lead:
    lead = new_lead(branch, by, **overrides)
    return services.lead_verify(lead=lead, by=by)


def refusal(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def fresh(lead: Lead) -> Lead:
    return Lead.objects.get(pk=lead.pk)


# --- capture ----------------------------------------------------------------------------


def test_lead_entered_by_a_consultant_is_theirs_new_and_due_for_a_call_today(branch, consultant):
    # given a consultant of the branch
    # when they enter a website lead
    lead = new_lead(branch, consultant)
    # then it is theirs, new, unanswered and due for its first call today
    lead = fresh(lead)
    assert lead.consultant == consultant and lead.created_by == consultant
    assert lead.status == LeadStatus.NEW and not lead.is_verified
    assert lead.first_response_at is None
    assert lead.next_follow_up_on == TODAY


def test_walk_in_lead_is_answered_on_the_spot(branch, consultant):
    # given a customer walking into the showroom
    # when the consultant enters the walk-in lead
    lead = new_lead(branch, consultant, source=LeadSource.WALK_IN)
    # then its first response is now: nobody waits for a call back
    assert fresh(lead).first_response_at is not None


@pytest.mark.parametrize(
    "source",
    [s for s in LeadSource.values if s != LeadSource.REFERRAL],
)
def test_lead_is_captured_from_every_source_of_the_funnel(branch, consultant, source):
    # given a lead from one of the dealership's sources
    # when it is entered
    lead = new_lead(branch, consultant, source=source)
    # then the source is kept for the funnel figures
    assert fresh(lead).source == source


def test_lead_sources_are_those_of_the_domain():
    # given / when the sources a lead may come from / then they are DOMAIN §2's eight
    assert set(LeadSource.values) == {
        "walk_in", "phone", "website", "referral", "campaign", "auto_show", "third_party",
        "fleet",
    }  # fmt: skip


def test_referral_lead_names_the_referring_owner(branch, consultant):
    # given an owner who refers a friend
    owner = CustomerFactory(branch=branch)
    # when the referral lead is entered naming the owner
    lead = new_lead(branch, consultant, source=LeadSource.REFERRAL, referrer=owner)
    # then the owner is recorded (for the referral points)
    assert fresh(lead).referrer == owner


def test_referral_lead_without_the_referring_owner_is_refused(branch, consultant):
    # given / when a referral lead is entered without its owner
    with pytest.raises(ValidationError) as caught:
        new_lead(branch, consultant, source=LeadSource.REFERRAL)
    # then it is refused beside the referrer field, and nothing is saved
    assert "referrer" in caught.value.message_dict
    assert not Lead.objects.exists()


def test_referral_by_a_merged_owner_is_refused(branch, consultant):
    # given an owner record merged into another
    keep = CustomerFactory(branch=branch)
    merged = CustomerFactory(branch=branch, merged_into=keep)
    # when a referral lead names the merged record
    error = refusal(
        lambda: new_lead(branch, consultant, source=LeadSource.REFERRAL, referrer=merged)
    )
    # then it is refused, and nothing is saved
    assert error.code == "customer_merged" and error.field == "referrer"
    assert not Lead.objects.exists()


def test_unknown_intent_level_is_refused(branch, consultant):
    # given / when a lead is entered with an intent level that does not exist
    with pytest.raises(ValidationError) as caught:
        new_lead(branch, consultant, intent_level="Z")
    # then it is refused and nothing is saved
    assert "intent_level" in caught.value.message_dict
    assert not Lead.objects.exists()


# --- phone verification -----------------------------------------------------------------


def test_lead_stays_new_after_a_call_until_it_is_verified(branch, consultant):
    # given a new website lead
    lead = new_lead(branch, consultant)
    # when the consultant reaches the customer by phone, without verifying the lead
    services.activity_log(
        lead=lead, by=consultant, kind=ActivityKind.CALL, outcome=ActivityOutcome.REACHED
    )
    # then the call is a first response, but the lead is still new and outside the funnel
    lead = fresh(lead)
    assert lead.first_response_at is not None
    assert lead.status == LeadStatus.NEW
    assert lead.verified_at is None and lead.contacted_at is None
    assert lead.status_changed_at is None


def test_showroom_visit_of_an_unverified_lead_does_not_move_it(branch, consultant):
    # given a new lead
    lead = new_lead(branch, consultant)
    # when a visit is logged before anyone verified it
    services.activity_log(
        lead=lead, by=consultant, kind=ActivityKind.VISIT, outcome=ActivityOutcome.REACHED
    )
    # then it stays new: visits are counted for qualified leads only
    lead = fresh(lead)
    assert lead.status == LeadStatus.NEW and lead.visited_at is None


def test_verifying_by_phone_qualifies_the_lead(branch, consultant):
    # given a new lead
    lead = new_lead(branch, consultant)
    # when the consultant verifies it by phone
    services.lead_verify(lead=lead, by=consultant, note="确认购车意向")
    # then it is verified, by whom and when, with the call on record
    lead = fresh(lead)
    assert lead.status == LeadStatus.VERIFIED
    assert lead.verified_by == consultant and lead.verified_at is not None
    assert lead.first_response_at is not None and lead.status_changed_at is not None
    call = Activity.objects.get(lead=lead)
    assert call.kind == ActivityKind.CALL and call.note == "确认购车意向"


def test_verifying_a_lead_twice_is_refused(branch, consultant):
    # given a verified lead
    lead = verified_lead(branch, consultant)
    verified_at = fresh(lead).verified_at
    # when it is verified again
    error = refusal(lambda: services.lead_verify(lead=lead, by=consultant))
    # then it is a state conflict and the first verification stands
    assert isinstance(error, StateConflict) and error.code == "lead_already_verified"
    assert fresh(lead).verified_at == verified_at
    assert Activity.objects.filter(lead=lead).count() == 1


# --- status flow ------------------------------------------------------------------------


def test_call_reaching_a_verified_lead_marks_it_contacted(branch, consultant):
    # given a verified lead
    lead = verified_lead(branch, consultant)
    # when the consultant reaches the customer
    services.activity_log(
        lead=lead, by=consultant, kind=ActivityKind.CALL, outcome=ActivityOutcome.APPOINTMENT
    )
    # then the lead is contacted
    lead = fresh(lead)
    assert lead.status == LeadStatus.CONTACTED and lead.contacted_at is not None


def test_unanswered_call_does_not_mark_a_lead_contacted(branch, consultant):
    # given a verified lead
    lead = verified_lead(branch, consultant)
    # when the customer does not pick up
    services.activity_log(
        lead=lead, by=consultant, kind=ActivityKind.CALL, outcome=ActivityOutcome.NOT_REACHED
    )
    # then the lead stays verified
    lead = fresh(lead)
    assert lead.status == LeadStatus.VERIFIED and lead.contacted_at is None


def test_showroom_visit_marks_a_verified_lead_visited_and_stamps_every_stage_before(
    branch, consultant
):
    # given a verified lead never called since
    lead = verified_lead(branch, consultant)
    # when the customer visits the showroom
    services.activity_log(
        lead=lead, by=consultant, kind=ActivityKind.VISIT, outcome=ActivityOutcome.REACHED
    )
    # then the lead is visited, and contacted too for the funnel figures
    lead = fresh(lead)
    assert lead.status == LeadStatus.VISITED
    assert lead.visited_at is not None and lead.contacted_at == lead.visited_at


def test_lead_never_moves_back_along_the_funnel(branch, consultant):
    # given a lead that visited the showroom
    lead = verified_lead(branch, consultant)
    services.activity_log(
        lead=lead, by=consultant, kind=ActivityKind.VISIT, outcome=ActivityOutcome.REACHED
    )
    visited_at = fresh(lead).status_changed_at
    # when a later phone call reaches the customer
    services.activity_log(
        lead=lead, by=consultant, kind=ActivityKind.CALL, outcome=ActivityOutcome.REACHED
    )
    # then it is still visited, its status unchanged
    lead = fresh(lead)
    assert lead.status == LeadStatus.VISITED and lead.status_changed_at == visited_at


def test_losing_a_lead_needs_its_lost_reason(branch, consultant):
    # given an open lead
    lead = verified_lead(branch, consultant)
    # when it is marked lost without a reason
    error = refusal(lambda: services.lead_lose(lead=lead, by=consultant, reason=""))
    # then it is refused beside the reason, and the lead is still open
    assert error.code == "lost_reason_required" and error.field == "reason"
    assert fresh(lead).status == LeadStatus.VERIFIED


def test_lost_lead_keeps_its_reason_and_needs_no_more_follow_up(branch, consultant):
    # given an open lead due for follow-up
    lead = verified_lead(branch, consultant)
    # when the customer bought another brand
    services.lead_lose(
        lead=lead, by=consultant, reason=LostReason.COMPETITOR_BRAND, note="买了丰田"
    )
    # then the lead is lost with its reason and no follow-up date
    lead = fresh(lead)
    assert lead.status == LeadStatus.LOST
    assert lead.lost_reason == LostReason.COMPETITOR_BRAND and lead.closing_note == "买了丰田"
    assert lead.closed_at is not None and lead.next_follow_up_on is None


def test_unverified_lead_can_be_lost_or_invalid(branch, consultant):
    # given two new leads nobody could verify
    unreachable = new_lead(branch, consultant, mobile="13912340001")
    wrong_number = new_lead(branch, consultant, mobile="13912340002")
    # when one is lost and the other invalid
    services.lead_lose(lead=unreachable, by=consultant, reason=LostReason.UNREACHABLE)
    services.lead_invalidate(lead=wrong_number, by=consultant, note="空号")
    # then both are closed
    assert fresh(unreachable).status == LeadStatus.LOST
    assert fresh(wrong_number).status == LeadStatus.INVALID


def test_invalidating_a_lead_needs_a_note(branch, consultant):
    # given a new lead
    lead = new_lead(branch, consultant)
    # when it is marked invalid without saying why
    error = refusal(lambda: services.lead_invalidate(lead=lead, by=consultant, note="  "))
    # then it is refused and the lead stays new
    assert error.code == "invalid_note_required"
    assert fresh(lead).status == LeadStatus.NEW


@pytest.mark.parametrize(
    "change",
    [
        lambda lead, by: services.lead_verify(lead=lead, by=by),
        lambda lead, by: services.lead_update(lead=lead, by=by, data={"intent_level": "H"}),
        lambda lead, by: services.lead_lose(lead=lead, by=by, reason=LostReason.PRICE),
        lambda lead, by: services.lead_invalidate(lead=lead, by=by, note="重复"),
        lambda lead, by: services.lead_assign(lead=lead, by=by, consultant=by),
        lambda lead, by: services.activity_log(
            lead=lead, by=by, kind=ActivityKind.CALL, outcome=ActivityOutcome.REACHED
        ),
    ],
    ids=["verify", "update", "lose", "invalidate", "assign", "activity"],
)
def test_closed_lead_can_no_longer_change(branch, consultant, change):
    # given a lead lost to another dealer
    lead = new_lead(branch, consultant)
    services.lead_lose(lead=lead, by=consultant, reason=LostReason.OTHER_DEALER)
    before = fresh(lead)
    # when anything is done to it
    error = refusal(lambda: change(lead, consultant))
    # then it is a state conflict and nothing changed
    assert isinstance(error, StateConflict) and error.code == "lead_closed"
    after = fresh(lead)
    assert (after.status, after.lost_reason, after.intent_level) == (
        before.status,
        before.lost_reason,
        before.intent_level,
    )
    assert not Activity.objects.filter(lead=lead).exists()


# --- assignment -------------------------------------------------------------------------


def test_lead_is_assigned_to_a_consultant_of_its_branch_who_is_told(
    branch, sales_manager, consultant
):
    # given a lead the sales manager entered (a manager is sales staff, so it is theirs)
    lead = new_lead(branch, sales_manager)
    # when the manager assigns it to a consultant
    services.lead_assign(lead=lead, consultant=consultant, by=sales_manager)
    # then the consultant has it and an in-app notice
    assert fresh(lead).consultant == consultant
    assert Notification.objects.filter(recipient=consultant, url=lead.get_absolute_url()).exists()


def test_lead_is_reassigned_to_another_consultant_of_its_branch(branch, sales_manager, consultant):
    # given a lead of a consultant
    lead = new_lead(branch, consultant)
    colleague = UserFactory(roles=[Role.SALES_CONSULTANT], branches=[branch])
    # when the manager reassigns it to a colleague
    services.lead_assign(lead=lead, consultant=colleague, by=sales_manager)
    # then the colleague has it and is told
    assert fresh(lead).consultant == colleague
    assert Notification.objects.filter(recipient=colleague).count() == 1
    assert not Notification.objects.filter(recipient=consultant).exists()


def test_lead_cannot_be_assigned_to_a_consultant_of_another_branch(
    branch, sales_manager, consultant, other_branch_user
):
    # given a lead of the branch
    lead = new_lead(branch, consultant)
    # when it is assigned to a consultant of another branch
    error = refusal(
        lambda: services.lead_assign(lead=lead, consultant=other_branch_user, by=sales_manager)
    )
    # then it is refused, the lead stays with its consultant and nobody is told
    assert error.code == "lead_assignee_invalid" and error.field == "consultant"
    assert fresh(lead).consultant == consultant
    assert not Notification.objects.exists()


@pytest.mark.parametrize("persona", ["advisor", "parts_clerk", "customer_care", "technician"])
def test_lead_cannot_be_assigned_to_staff_outside_sales(
    request, branch, sales_manager, consultant, persona
):
    # given a lead and a colleague of the branch who does not sell cars
    lead = new_lead(branch, consultant)
    colleague = request.getfixturevalue(persona)
    # when the lead is assigned to them
    error = refusal(lambda: services.lead_assign(lead=lead, consultant=colleague, by=sales_manager))
    # then it is refused and the lead stays with its consultant
    assert error.code == "lead_assignee_invalid"
    assert fresh(lead).consultant == consultant


def test_lead_cannot_be_assigned_to_a_consultant_who_left(branch, sales_manager, consultant):
    # given a lead and a consultant whose account is deactivated
    lead = new_lead(branch, sales_manager)
    consultant.is_active = False
    consultant.save()
    # when the lead is assigned to them
    error = refusal(
        lambda: services.lead_assign(lead=lead, consultant=consultant, by=sales_manager)
    )
    # then it is refused
    assert error.code == "lead_assignee_invalid"
    assert fresh(lead).consultant == sales_manager


def test_lead_entered_for_a_consultant_of_another_branch_is_refused(
    branch, sales_manager, other_branch_user
):
    # given / when a lead is entered naming a consultant of another branch
    error = refusal(lambda: new_lead(branch, sales_manager, consultant=other_branch_user))
    # then it is refused and nothing is saved
    assert error.code == "lead_assignee_invalid"
    assert not Lead.objects.exists()


def test_lead_entered_by_customer_care_waits_for_a_consultant(branch, customer_care):
    # given customer care taking a hotline call
    # when they enter the lead
    lead = new_lead(branch, customer_care, source=LeadSource.PHONE)
    # then nobody outside sales becomes its consultant
    assert fresh(lead).consultant is None


# --- duplicates -------------------------------------------------------------------------


def test_lead_with_the_mobile_of_an_open_lead_is_flagged_not_refused(branch, consultant):
    # given an open lead
    first = new_lead(branch, consultant, mobile="13912345678")
    # when another lead arrives with the same number typed with +86 and spaces
    second = new_lead(branch, consultant, mobile="+86 139 1234 5678", source=LeadSource.PHONE)
    # then it is saved and flagged as a possible duplicate of the first
    second = fresh(second)
    assert second.mobile == "13912345678"
    assert second.duplicate_of == first
    assert fresh(first).duplicate_of is None


def test_lead_with_the_mobile_of_a_customer_is_flagged_with_that_customer(branch, consultant):
    # given an existing customer
    customer = CustomerFactory(branch=branch, mobile="13912345678")
    # when a lead arrives with the customer's number
    lead = new_lead(branch, consultant, mobile="139-1234-5678")
    # then the lead points at the existing customer
    assert fresh(lead).matching_customer == customer


def test_closed_lead_with_the_same_mobile_is_not_a_duplicate(branch, consultant):
    # given a lead lost last month
    old = new_lead(branch, consultant)
    services.lead_lose(lead=old, by=consultant, reason=LostReason.POSTPONED)
    # when the customer comes back as a new lead
    lead = new_lead(branch, consultant, source=LeadSource.WALK_IN)
    # then it is not flagged: only open leads are duplicates
    assert fresh(lead).duplicate_of is None


def test_changing_a_lead_mobile_to_an_open_lead_number_flags_it(branch, consultant):
    # given two open leads with different numbers
    first = new_lead(branch, consultant, mobile="13912345678")
    second = new_lead(branch, consultant, mobile="13812345678")
    assert fresh(second).duplicate_of is None
    # when the second's number is corrected to the first's
    services.lead_update(lead=second, by=consultant, data={"mobile": "13912345678"})
    # then it is flagged
    assert fresh(second).duplicate_of == first


# --- lead to customer -------------------------------------------------------------------


def test_lead_becomes_a_customer_without_retyping(branch, consultant):
    # given a verified lead from the website
    lead = verified_lead(branch, consultant, name="王小明", mobile="+86 13912345678")
    # when it is made a customer
    customer = services.lead_link_customer(lead=lead, by=consultant)
    # then the customer carries what the lead held, and the lead points at it
    customer = Customer.objects.get(pk=customer.pk)
    assert (customer.name, customer.mobile, customer.source, customer.consultant) == (
        "王小明",
        "13912345678",
        LeadSource.WEBSITE,
        consultant,
    )
    assert customer.branch == branch
    assert fresh(lead).customer == customer
    assert TimelineEntry.objects.filter(customer=customer, kind="lead_linked").exists()


def test_lead_links_to_the_existing_customer_it_matched(branch, consultant):
    # given a lead flagged as matching an existing customer
    customer = CustomerFactory(branch=branch, mobile="13912345678")
    lead = new_lead(branch, consultant)
    # when the consultant links it to that customer
    linked = services.lead_link_customer(lead=lead, by=consultant, customer=customer)
    # then no new customer is made and the match is settled
    assert linked == customer and Customer.objects.count() == 1
    lead = fresh(lead)
    assert lead.customer == customer and lead.matching_customer is None


def test_lead_cannot_link_a_customer_of_another_branch(branch, other_branch, consultant):
    # given a customer of another branch
    stranger = CustomerFactory(branch=other_branch)
    lead = new_lead(branch, consultant)
    # when the lead is linked to them
    error = refusal(
        lambda: services.lead_link_customer(lead=lead, by=consultant, customer=stranger)
    )
    # then it is refused
    assert error.code == "customer_other_branch"
    assert fresh(lead).customer is None


def test_lead_linked_to_a_customer_is_not_relinked_to_another(branch, consultant):
    # given a lead linked to its customer
    lead = new_lead(branch, consultant)
    first = services.lead_link_customer(lead=lead, by=consultant)
    other = CustomerFactory(branch=branch)
    # when it is linked again without a customer, and then to someone else
    again = services.lead_link_customer(lead=lead, by=consultant)
    error = refusal(lambda: services.lead_link_customer(lead=lead, by=consultant, customer=other))
    # then the first link stands and no second customer is created
    assert again == first
    assert isinstance(error, StateConflict) and error.code == "lead_already_linked"
    assert fresh(lead).customer == first
    assert Customer.objects.filter(mobile=lead.mobile).count() == 1


# --- follow-up dates --------------------------------------------------------------------


@pytest.mark.parametrize(("intent", "days"), [("H", 1), ("A", 3), ("B", 7), ("C", 14)])
def test_activity_sets_the_next_follow_up_by_intent_level(branch, consultant, intent, days):
    # given a verified lead at an intent level
    lead = verified_lead(branch, consultant, intent_level=intent)
    # when the consultant logs a call today
    activity = services.activity_log(
        lead=lead, by=consultant, kind=ActivityKind.CALL, outcome=ActivityOutcome.CONSIDERING
    )
    # then the next follow-up is that many days away, on the activity and the lead
    assert activity.next_follow_up_on == TODAY + timedelta(days=days)
    assert fresh(lead).next_follow_up_on == TODAY + timedelta(days=days)


def test_verification_sets_the_next_follow_up_by_intent_level(branch, consultant):
    # given a new A-level lead (due today)
    lead = new_lead(branch, consultant, intent_level="A")
    # when it is verified
    services.lead_verify(lead=lead, by=consultant)
    # then the next call is three days away
    assert fresh(lead).next_follow_up_on == TODAY + timedelta(days=3)


def test_branch_sets_its_own_follow_up_intervals(branch, consultant):
    # given a branch that follows up A leads every 2 days and C leads every 10
    branch.follow_up_days_a, branch.follow_up_days_c = 2, 10
    branch.save()
    a_lead = verified_lead(branch, consultant, intent_level="A", mobile="13912340001")
    c_lead = verified_lead(branch, consultant, intent_level="C", mobile="13912340002")
    # when calls are logged on both
    for lead in (a_lead, c_lead):
        services.activity_log(
            lead=lead, by=consultant, kind=ActivityKind.CALL, outcome=ActivityOutcome.REACHED
        )
    # then the branch's intervals apply
    assert fresh(a_lead).next_follow_up_on == TODAY + timedelta(days=2)
    assert fresh(c_lead).next_follow_up_on == TODAY + timedelta(days=10)


def test_changing_the_intent_level_recomputes_the_next_follow_up(branch, consultant):
    # given a B-level lead called today (next call in a week)
    lead = verified_lead(branch, consultant, intent_level="B")
    services.activity_log(
        lead=lead, by=consultant, kind=ActivityKind.CALL, outcome=ActivityOutcome.REACHED
    )
    assert fresh(lead).next_follow_up_on == TODAY + timedelta(days=7)
    # when the customer now means to buy this week
    services.lead_update(lead=lead, by=consultant, data={"intent_level": "H"})
    # then the next call is tomorrow
    assert fresh(lead).next_follow_up_on == TODAY + timedelta(days=1)


def test_intent_change_counts_from_the_last_activity(branch, consultant):
    # given a C-level lead whose only call, four days ago, was logged late
    lead = new_lead(branch, consultant, intent_level="C")
    four_days_ago = timezone.now() - timedelta(days=4)
    services.activity_log(
        lead=lead,
        by=consultant,
        kind=ActivityKind.CALL,
        outcome=ActivityOutcome.REACHED,
        occurred_at=four_days_ago,
    )
    # when the intent rises to A
    services.lead_update(lead=lead, by=consultant, data={"intent_level": "A"})
    # then the next call was due three days after that call: it is overdue now
    lead = fresh(lead)
    assert lead.next_follow_up_on == timezone.localtime(four_days_ago).date() + timedelta(days=3)
    assert lead.follow_up_overdue


def test_follow_up_date_agreed_with_the_customer_overrides_the_interval(branch, consultant):
    # given an H-level lead
    lead = verified_lead(branch, consultant, intent_level="H")
    # when the customer asks to be called back in five days
    agreed = TODAY + timedelta(days=5)
    services.activity_log(
        lead=lead,
        by=consultant,
        kind=ActivityKind.CALL,
        outcome=ActivityOutcome.CONSIDERING,
        next_follow_up_on=agreed,
    )
    # then that date is kept
    assert fresh(lead).next_follow_up_on == agreed


def test_follow_up_before_the_activity_is_refused(branch, consultant):
    # given a lead
    lead = verified_lead(branch, consultant)
    due_before = fresh(lead).next_follow_up_on
    # when a call is logged with its follow-up yesterday
    error = refusal(
        lambda: services.activity_log(
            lead=lead,
            by=consultant,
            kind=ActivityKind.CALL,
            outcome=ActivityOutcome.REACHED,
            next_follow_up_on=TODAY - timedelta(days=1),
        )
    )
    # then it is refused and nothing is logged
    assert error.code == "follow_up_in_past"
    assert Activity.objects.filter(lead=lead).count() == 1  # the verification call
    assert fresh(lead).next_follow_up_on == due_before


def test_activity_logged_ahead_of_time_is_refused(branch, consultant):
    # given a lead
    lead = new_lead(branch, consultant)
    # when a call is logged for tomorrow
    error = refusal(
        lambda: services.activity_log(
            lead=lead,
            by=consultant,
            kind=ActivityKind.CALL,
            outcome=ActivityOutcome.REACHED,
            occurred_at=timezone.now() + timedelta(days=1),
        )
    )
    # then it is refused, and the lead still has no response
    assert error.code == "activity_in_future"
    assert not Activity.objects.filter(lead=lead).exists()
    assert fresh(lead).first_response_at is None
