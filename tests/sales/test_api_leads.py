"""The sales API for leads, their activities and follow-ups: CRUD, commands, masking,
filters, permissions and bad input."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dealer_crm.models import PiiAccess
from sales.choices import LeadSource, LeadStatus
from sales.models import Activity, Lead
from tests.factories import ActivityFactory, CustomerFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

LEADS = "/api/v1/leads/"
ACTIVITIES = "/api/v1/activities/"
TODAY = timezone.localdate()


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def lead(branch, consultant):
    """A verified lead of the branch, followed by the consultant."""
    return LeadFactory(branch=branch, consultant=consultant, reached="verified")


@pytest.fixture
def new_lead(branch, consultant):
    return LeadFactory(branch=branch, consultant=consultant, mobile="13812345678")


# --- create, read, update -------------------------------------------------------------


def test_consultant_captures_a_lead_and_follows_it(api_as, consultant, branch):
    # given a consultant at the front desk
    # when they capture a walk-in through the API
    response = api_as(consultant).post(
        LEADS,
        {
            "source": LeadSource.WALK_IN,
            "name": "王小明",
            "mobile": "13912345678",
            "model_of_interest": "途观L",
            "budget": "220000",
            "intent_level": "H",
        },
    )
    # then the lead is theirs, answered at once and due for follow-up today
    assert response.status_code == 201, response.json()
    body = response.json()
    lead = Lead.objects.get(pk=body["id"])
    assert (lead.branch, lead.consultant, lead.status) == (branch, consultant, LeadStatus.NEW)
    assert body["budget"] == "220000.00"
    assert body["consultant"] == consultant.pk
    assert body["next_follow_up_on"] == TODAY.isoformat()
    assert body["first_response_at"] is not None
    assert body["follow_up_overdue"] is False


def test_new_lead_with_a_known_mobile_is_flagged_as_duplicate(api_as, consultant, new_lead):
    # given an open lead with a mobile number
    # when another lead with the same number is captured
    response = api_as(consultant).post(
        LEADS,
        {
            "source": "phone",
            "name": "王先生",
            "mobile": "138 1234 5678",
            "model_of_interest": "朗逸",
        },
    )
    # then it is created and points at the earlier lead
    assert response.status_code == 201, response.json()
    assert response.json()["duplicate_of"] == new_lead.pk


def test_referral_lead_needs_its_referrer(api_as, consultant):
    # given a referral without the referring owner
    # when it is captured
    response = api_as(consultant).post(
        LEADS,
        {
            "source": "referral",
            "name": "李华",
            "mobile": "13912345679",
            "model_of_interest": "朗逸",
        },
    )
    # then the referrer field is named
    assert response.status_code == 400
    assert "referrer" in response.json()


def test_lead_mobile_is_masked_for_a_consultant(api_as, consultant, new_lead):
    # given a lead with a mobile phone
    # when a consultant (no view_pii) lists and opens leads
    client = api_as(consultant)
    row = client.get(LEADS).json()["results"][0]
    detail = client.get(f"{LEADS}{new_lead.pk}/").json()
    # then the number is masked in both
    assert row["mobile"] == detail["mobile"] == "138****5678"


def test_lead_mobile_is_shown_in_full_to_customer_care(api_as, customer_care, new_lead):
    # given a lead with a mobile phone
    # when customer care (view_pii) opens it
    body = api_as(customer_care).get(f"{LEADS}{new_lead.pk}/").json()
    # then the number is in full
    assert body["mobile"] == "13812345678"


def test_consultant_updates_an_open_lead(api_as, consultant, lead):
    # given an open lead at intent level B
    # when the consultant raises it to H
    response = api_as(consultant).patch(
        f"{LEADS}{lead.pk}/", {"intent_level": "H", "note": "本周来店"}
    )
    # then the lead changes and its next follow-up moves to tomorrow
    assert response.status_code == 200, response.json()
    lead.refresh_from_db()
    assert (lead.intent_level, lead.note) == ("H", "本周来店")
    assert lead.next_follow_up_on == TODAY + timedelta(days=1)


def test_consultant_cannot_be_changed_by_update(api_as, consultant, sales_manager, lead):
    # given a lead of a consultant
    # when an update names another consultant
    response = api_as(consultant).patch(f"{LEADS}{lead.pk}/", {"consultant": sales_manager.pk})
    # then the field is ignored: assignment goes through assign/
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.consultant == consultant


def test_closed_lead_cannot_be_edited(api_as, consultant, branch):
    # given a lost lead
    lead = LeadFactory(branch=branch, status=LeadStatus.LOST)
    # when it is edited
    response = api_as(consultant).patch(f"{LEADS}{lead.pk}/", {"note": "再联系"})
    # then it is refused as an illegal state change
    assert response.status_code == 409
    assert response.json()["code"] == "lead_closed"


def test_leads_are_not_deleted_through_the_api(api_as, branch_manager, lead):
    # given a lead
    # when a branch manager tries to delete it
    response = api_as(branch_manager).delete(f"{LEADS}{lead.pk}/")
    # then the method is not allowed and the lead stays
    assert response.status_code == 405
    assert Lead.objects.filter(pk=lead.pk).exists()


# --- commands -------------------------------------------------------------------------


def test_consultant_verifies_a_new_lead(api_as, consultant, new_lead):
    # given a new lead
    # when the consultant verifies it by phone
    response = api_as(consultant).post(f"{LEADS}{new_lead.pk}/verify/", {"note": "确认购车意向"})
    # then it is verified, and the call is logged
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == LeadStatus.VERIFIED
    assert response.json()["verified_by"] == consultant.pk
    assert Activity.objects.get(lead=new_lead).note == "确认购车意向"


def test_verifying_twice_is_a_conflict(api_as, consultant, lead):
    # given a verified lead
    # when it is verified again
    response = api_as(consultant).post(f"{LEADS}{lead.pk}/verify/")
    # then the conflict has its code
    assert response.status_code == 409
    assert response.json()["code"] == "lead_already_verified"


def test_sales_manager_assigns_a_lead(api_as, sales_manager, branch, lead):
    # given a lead and a second consultant of the branch
    from dealer_crm.choices import Role

    colleague = UserFactory(roles=[Role.SALES_CONSULTANT], branches=[branch])
    # when the sales manager assigns the lead to the colleague
    response = api_as(sales_manager).post(f"{LEADS}{lead.pk}/assign/", {"consultant": colleague.pk})
    # then the lead is the colleague's
    assert response.status_code == 200, response.json()
    assert response.json()["consultant"] == colleague.pk


def test_consultant_may_not_assign_leads(api_as, consultant, sales_manager, lead):
    # given a lead
    # when a consultant tries to assign it
    response = api_as(consultant).post(
        f"{LEADS}{lead.pk}/assign/", {"consultant": sales_manager.pk}
    )
    # then it is forbidden
    assert response.status_code == 403


def test_lead_cannot_go_to_a_technician(api_as, sales_manager, technician, lead):
    # given a technician of the branch
    # when a manager assigns a lead to them
    response = api_as(sales_manager).post(
        f"{LEADS}{lead.pk}/assign/", {"consultant": technician.pk}
    )
    # then the rule refuses it, beside the field
    assert response.status_code == 400
    assert response.json()["code"] == "lead_assignee_invalid"
    assert "consultant" in response.json()


def test_assigning_to_another_branch_consultant_is_unknown(
    api_as, sales_manager, other_branch_user, lead
):
    # given a consultant of another branch
    # when a manager assigns the lead to them
    response = api_as(sales_manager).post(
        f"{LEADS}{lead.pk}/assign/", {"consultant": other_branch_user.pk}
    )
    # then that user does not exist as far as the request goes
    assert response.status_code == 400
    assert "consultant" in response.json()


def test_consultant_loses_a_lead_with_its_reason(api_as, consultant, lead):
    # given an open lead
    # when it is lost to a competitor
    response = api_as(consultant).post(
        f"{LEADS}{lead.pk}/lose/", {"reason": "competitor_brand", "note": "买了丰田"}
    )
    # then it is closed as lost with the reason
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["lost_reason"], body["closing_note"]) == (
        "lost",
        "competitor_brand",
        "买了丰田",
    )


def test_losing_needs_a_known_reason(api_as, consultant, lead):
    # given an open lead
    # when it is lost without a reason and with an unknown one
    client = api_as(consultant)
    missing = client.post(f"{LEADS}{lead.pk}/lose/", {})
    unknown = client.post(f"{LEADS}{lead.pk}/lose/", {"reason": "weather"})
    # then both are field errors
    assert missing.status_code == unknown.status_code == 400
    assert "reason" in missing.json() and "reason" in unknown.json()


def test_invalidating_needs_a_note(api_as, consultant, lead):
    # given an open lead
    # when it is invalidated without saying why, then with a reason
    client = api_as(consultant)
    blank = client.post(f"{LEADS}{lead.pk}/invalidate/", {"note": " "})
    done = client.post(f"{LEADS}{lead.pk}/invalidate/", {"note": "空号"})
    # then the first is refused by the rule, the second closes the lead
    assert blank.status_code == 400
    assert blank.json()["code"] == "invalid_note_required"
    assert done.status_code == 200
    assert done.json()["status"] == LeadStatus.INVALID


def test_lead_becomes_a_customer(api_as, consultant, lead):
    # given a lead not yet linked to a customer
    # when the consultant makes a customer of it
    response = api_as(consultant).post(f"{LEADS}{lead.pk}/link-customer/", {})
    # then the lead points at a new customer with its name and mobile
    assert response.status_code == 200, response.json()
    lead.refresh_from_db()
    assert response.json()["customer"] == lead.customer_id
    assert (lead.customer.name, lead.customer.mobile) == (lead.name, lead.mobile)


def test_lead_links_to_an_existing_customer_of_the_branch(api_as, consultant, branch, lead):
    # given a customer of the branch
    customer = CustomerFactory(branch=branch)
    # when the lead is linked to them
    response = api_as(consultant).post(
        f"{LEADS}{lead.pk}/link-customer/", {"customer": customer.pk}
    )
    # then it is linked
    assert response.status_code == 200
    assert response.json()["customer"] == customer.pk


def test_lead_cannot_link_another_branch_customer(api_as, consultant, other_branch, lead):
    # given a customer of another branch
    customer = CustomerFactory(branch=other_branch)
    # when the lead is linked to them
    response = api_as(consultant).post(
        f"{LEADS}{lead.pk}/link-customer/", {"customer": customer.pk}
    )
    # then that customer does not exist for the request
    assert response.status_code == 400
    assert "customer" in response.json()


# --- follow-ups and activities --------------------------------------------------------


def test_follow_ups_are_the_callers_due_and_overdue_leads(
    api_as, consultant, sales_manager, branch
):
    # given the consultant's leads due yesterday, today and next week, a closed one, and a
    # colleague's overdue lead
    overdue = LeadFactory(
        branch=branch, consultant=consultant, next_follow_up_on=TODAY - timedelta(days=1)
    )
    due = LeadFactory(branch=branch, consultant=consultant, next_follow_up_on=TODAY)
    LeadFactory(branch=branch, consultant=consultant, next_follow_up_on=TODAY + timedelta(days=7))
    LeadFactory(
        branch=branch,
        consultant=consultant,
        status=LeadStatus.LOST,
        next_follow_up_on=TODAY - timedelta(days=3),
    )
    LeadFactory(
        branch=branch, consultant=sales_manager, next_follow_up_on=TODAY - timedelta(days=2)
    )
    # when the consultant asks for their follow-ups
    response = api_as(consultant).get(f"{LEADS}follow-ups/")
    # then the overdue one comes first, marked overdue, then today's
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [overdue.pk, due.pk]
    assert [row["follow_up_overdue"] for row in rows] == [True, False]


def test_consultant_logs_a_visit(api_as, consultant, lead):
    # given a verified lead
    # when a showroom visit is logged with an agreed follow-up date
    response = api_as(consultant).post(
        ACTIVITIES,
        {
            "lead": lead.pk,
            "kind": "visit",
            "outcome": "considering",
            "note": "看了途观L",
            "next_follow_up_on": (TODAY + timedelta(days=2)).isoformat(),
        },
    )
    # then the activity is recorded and the lead moves to visited
    assert response.status_code == 201, response.json()
    assert response.json()["by"] == consultant.pk
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VISITED
    assert lead.next_follow_up_on == TODAY + timedelta(days=2)


def test_activity_in_the_future_is_refused(api_as, consultant, lead):
    # given a lead
    # when an activity is logged for tomorrow
    response = api_as(consultant).post(
        ACTIVITIES,
        {
            "lead": lead.pk,
            "kind": "call",
            "outcome": "reached",
            "occurred_at": (timezone.now() + timedelta(days=1)).isoformat(),
        },
    )
    # then the rule refuses it beside the field
    assert response.status_code == 400
    assert response.json()["code"] == "activity_in_future"
    assert "occurred_at" in response.json()


def test_activities_filter_by_lead_with_cursor_pages(api_as, consultant, branch, lead):
    # given three activities of the lead and one of another lead
    for _ in range(3):
        ActivityFactory(lead=lead, by=consultant)
    ActivityFactory(lead=LeadFactory(branch=branch), by=consultant)
    # when the lead's activities are listed two at a time
    client = api_as(consultant)
    first = client.get(ACTIVITIES, {"lead": lead.pk, "limit": 2}).json()
    second = client.get(first["next"]).json()
    # then the pages hold the lead's three, with a cursor and no count
    assert "count" not in first
    assert len(first["results"]) == 2 and len(second["results"]) == 1
    assert {row["lead"] for row in first["results"] + second["results"]} == {lead.pk}


def test_activities_cannot_be_edited(api_as, consultant, lead):
    # given a logged activity
    activity = ActivityFactory(lead=lead, by=consultant)
    # when it is changed
    response = api_as(consultant).patch(f"{ACTIVITIES}{activity.pk}/", {"note": "改"})
    # then the method is not allowed
    assert response.status_code == 405


# --- lists and filters ----------------------------------------------------------------


def test_leads_filter_by_status_search_and_follow_up(api_as, consultant, branch):
    # given a new, a verified and an overdue lead
    new = LeadFactory(branch=branch, name="张伟", model_of_interest="朗逸")
    verified = LeadFactory(branch=branch, reached="verified", model_of_interest="途观L")
    overdue = LeadFactory(branch=branch, next_follow_up_on=TODAY - timedelta(days=2))
    client = api_as(consultant)
    # when filtered by status, by a search term and by overdue follow-up
    by_status = client.get(LEADS, {"status": "verified"})
    by_search = client.get(LEADS, {"search": "途观"})
    by_follow_up = client.get(LEADS, {"follow_up": "overdue"})
    # then each returns its lead
    assert ids(by_status) == [verified.pk]
    assert ids(by_search) == [verified.pk]
    assert ids(by_follow_up) == [overdue.pk]
    assert new.pk in ids(client.get(LEADS, {"ordering": "name"}))


def test_leads_list_is_paginated_with_a_count(api_as, consultant, branch):
    # given three leads
    LeadFactory.create_batch(3, branch=branch)
    # when the first two are asked for
    body = api_as(consultant).get(LEADS, {"limit": 2}).json()
    # then the page says how many there are and where the next page is
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]


# --- permissions and bad input --------------------------------------------------------


def test_technician_cannot_create_a_lead(api_as, technician):
    # given a technician (no sales permissions)
    # when they capture a lead
    response = api_as(technician).post(
        LEADS,
        {
            "source": "walk_in",
            "name": "王小明",
            "mobile": "13912345678",
            "model_of_interest": "朗逸",
        },
    )
    # then it is forbidden and nothing is created
    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_technician_cannot_read_leads(api_as, technician, lead):
    # given a lead
    # when a technician lists leads
    response = api_as(technician).get(LEADS)
    # then reading is forbidden too
    assert response.status_code == 403


def test_anonymous_client_is_told_to_authenticate(api_client, lead):
    # given no credentials
    # when leads are listed
    response = api_client.get(LEADS)
    # then the answer is 401 with the token challenge
    assert response.status_code == 401


VALID_LEAD = {
    "source": "walk_in",
    "name": "王小明",
    "mobile": "13912345678",
    "model_of_interest": "朗逸",
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": None}, "name"),
        ({"name": "王" * 101}, "name"),
        ({"mobile": "1391234"}, "mobile"),
        ({"budget": "很多"}, "budget"),
        ({"source": "fax"}, "source"),
        ({"expected_purchase_date": "下个月"}, "expected_purchase_date"),
        ({"source": "referral", "referrer": 999999}, "referrer"),
        ({"consultant": "abc"}, "consultant"),
    ],
    ids=["missing", "too-long", "bad-mobile", "wrong-type", "bad-choice", "bad-date",
         "unknown-id", "id-not-a-number"],
)  # fmt: skip
def test_bad_lead_input_names_the_field(api_as, consultant, change, field):
    # given a lead payload with one bad (or missing) field
    payload = {key: value for key, value in {**VALID_LEAD, **change}.items() if value is not None}
    # when it is posted
    response = api_as(consultant).post(LEADS, payload)
    # then the answer is 400 with a message under that field, and nothing is created
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Lead.objects.exists()


def test_malformed_json_is_a_400(api_as, consultant):
    # given a body that is not JSON
    # when it is posted as JSON
    response = api_as(consultant).generic(
        "POST", LEADS, "{not json", content_type="application/json"
    )
    # then the parse error is a 400, not a 500
    assert response.status_code == 400


def test_zh_hans_request_gets_chinese_messages_and_the_same_codes(api_as, consultant, lead):
    # given a verified lead and a client asking for Simplified Chinese
    client = api_as(consultant)
    # when it sends a lead without a name and verifies the lead again, in both languages
    missing_zh = client.post(LEADS, {"source": "walk_in"}, HTTP_ACCEPT_LANGUAGE="zh-Hans")
    conflict_zh = client.post(f"{LEADS}{lead.pk}/verify/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    conflict_en = client.post(f"{LEADS}{lead.pk}/verify/", HTTP_ACCEPT_LANGUAGE="en")
    # then field messages are in Chinese, and the code of the conflict does not change
    assert missing_zh.json()["name"] == ["该字段是必填项。"]
    assert conflict_zh.status_code == conflict_en.status_code == 409
    assert conflict_zh.json()["code"] == conflict_en.json()["code"] == "lead_already_verified"
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override("zh-hans"):
        expected = gettext("This lead is already verified.")
    assert conflict_zh.json()["detail"] == expected


def test_zh_hans_other_branch_lead_is_not_found_in_chinese(api_as, other_branch_user, lead):
    # given a lead of another branch
    # when it is opened in Chinese
    response = api_as(other_branch_user).get(f"{LEADS}{lead.pk}/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    # then it does not exist, said in Chinese, with the usual code
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到。", "code": "not_found"}


def test_an_unmasked_lead_list_is_logged_against_each_lead(
    api_as, customer_care, consultant, branch
):
    # given two leads, one without a customer record
    leads = LeadFactory.create_batch(2, branch=branch)

    # when customer care lists them unmasked, and a consultant lists them masked
    api_as(customer_care).get(LEADS)
    api_as(consultant).get(LEADS)

    # then the one unmasked view is logged against both leads
    logged = PiiAccess.objects.filter(user=customer_care, channel="api")
    assert sorted(logged.values_list("lead_id", flat=True)) == sorted(lead.pk for lead in leads)
    assert not PiiAccess.objects.filter(user=consultant).exists()
