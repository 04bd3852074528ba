"""The lead pages: the list and its filters, the consultant's day, capture and edit, and the
lead's file with its actions. Writes go through the services; a refused rule shows its message
and saves nothing; another branch's lead is 404; a role without sales rights gets 403."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from dealer_crm.models import PiiAccess
from sales.choices import ActivityOutcome, IntentLevel, LeadSource, LeadStatus, TradeInDecision
from sales.models import Activity, Lead, TradeIn
from tests.factories import (
    ActivityFactory,
    CustomerFactory,
    LeadDeadlineBreachFactory,
    LeadFactory,
    QuoteFactory,
    TradeInFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NEW_LEAD = {
    "name": "陈志强",
    "mobile": "13922334455",
    "model_of_interest": "帕萨特",
    "budget": "220000",
    "intent_level": IntentLevel.A,
    "source": LeadSource.WALK_IN,
}
# Pages reached with GET, by URL name, for a lead of the branch.
LEAD_GET_PAGES = [
    "sales:lead-detail",
    "sales:lead-edit",
    "sales:activity-create",
    "sales:lead-lose",
    "sales:lead-invalidate",
    "sales:trade-in-create",
]
LEAD_POST_ACTIONS = ["sales:lead-verify", "sales:lead-link-customer"]


@pytest.fixture
def lead(branch, consultant):
    return LeadFactory(branch=branch, consultant=consultant, name="林晓东", mobile="13811112222")


@pytest.fixture
def verified_lead(branch, consultant):
    return LeadFactory(branch=branch, consultant=consultant, reached="verified")


def in_language(client, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def page(response) -> str:
    return response.content.decode()


def flashed(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- every page renders, in both languages; roles and branches ----------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("url_name", ["sales:lead-list", "sales:today", "sales:lead-create"])
def test_lead_pages_render_for_a_consultant_in_both_languages(
    client, consultant, lead, url_name, language
):
    # given a consultant reading the product in Chinese or English
    in_language(client, language).force_login(consultant)
    # when the page is opened
    response = client.get(reverse(url_name))
    # then it renders in that language
    assert response.status_code == 200
    assert f'<html lang="{language}">' in page(response)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("url_name", LEAD_GET_PAGES)
def test_lead_record_pages_render_in_both_languages(client, consultant, lead, url_name, language):
    in_language(client, language).force_login(consultant)
    response = client.get(reverse(url_name, args=[lead.pk]))
    assert response.status_code == 200
    assert f'<html lang="{language}">' in page(response)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_manager_pages_render_in_both_languages(client, sales_manager, lead, language):
    in_language(client, language).force_login(sales_manager)
    assert client.get(reverse("sales:lead-assign", args=[lead.pk])).status_code == 200
    today = client.get(reverse("sales:today"))
    assert today.status_code == 200
    assert 'id="team-overdue"' in page(today)


@pytest.mark.parametrize("url_name", ["sales:lead-list", "sales:today", "sales:lead-create"])
def test_parts_clerk_may_not_open_the_lead_pages(client, parts_clerk, url_name):
    client.force_login(parts_clerk)
    assert client.get(reverse(url_name)).status_code == 403


@pytest.mark.parametrize("url_name", [*LEAD_GET_PAGES, "sales:lead-assign"])
def test_parts_clerk_may_not_open_a_lead(client, parts_clerk, lead, url_name):
    client.force_login(parts_clerk)
    assert client.get(reverse(url_name, args=[lead.pk])).status_code == 403


@pytest.mark.parametrize("url_name", LEAD_POST_ACTIONS)
def test_parts_clerk_may_not_act_on_a_lead(client, parts_clerk, lead, url_name):
    client.force_login(parts_clerk)
    assert client.post(reverse(url_name, args=[lead.pk])).status_code == 403
    lead.refresh_from_db()
    assert lead.verified_at is None and lead.customer is None


def test_consultant_may_not_assign_leads(client, consultant, lead):
    client.force_login(consultant)
    assert client.get(reverse("sales:lead-assign", args=[lead.pk])).status_code == 403


@pytest.mark.parametrize("url_name", LEAD_GET_PAGES)
def test_another_branchs_lead_is_not_found(client, other_branch_user, lead, url_name):
    client.force_login(other_branch_user)
    assert client.get(reverse(url_name, args=[lead.pk])).status_code == 404


@pytest.mark.parametrize("url_name", [*LEAD_POST_ACTIONS, "sales:activity-create"])
def test_another_branchs_lead_cannot_be_acted_on(client, other_branch_user, lead, url_name):
    # given a lead of a branch the user does not work in
    client.force_login(other_branch_user)
    # when the user posts an action on it
    response = client.post(reverse(url_name, args=[lead.pk]), {"kind": "call"})
    # then it does not exist for them and nothing changed
    assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.verified_at is None and not lead.activities.exists()


def test_another_branchs_trade_in_cannot_be_decided(client, other_branch_user, lead):
    trade_in = TradeInFactory(branch=lead.branch, lead=lead)
    client.force_login(other_branch_user)
    response = client.post(
        reverse("sales:trade-in-decide", args=[trade_in.pk]), {"decision": "accepted"}
    )
    assert response.status_code == 404
    trade_in.refresh_from_db()
    assert trade_in.decision == TradeInDecision.PENDING


def test_other_branchs_leads_are_not_listed(client, other_branch_user, lead):
    client.force_login(other_branch_user)
    assert lead.name not in page(client.get(reverse("sales:lead-list")))


def test_lead_pages_need_login(client):
    response = client.get(reverse("sales:lead-list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- the list ---------------------------------------------------------------------------------


def test_list_finds_a_lead_by_phone_digits_name_or_model(client, consultant, branch, lead):
    LeadFactory(branch=branch, name="王芳", mobile="13700001111", model_of_interest="途观L")
    client.force_login(consultant)
    for term in ["1111222", "林晓", "朗逸"]:
        names = [
            row.name
            for row in client.get(reverse("sales:lead-list"), {"search": term}).context["page"]
        ]
        assert names == ["林晓东"], term


def test_list_filters_by_status_source_intent_and_consultant(client, consultant, branch, lead):
    # given the consultant's walk-in (new, B) and another's verified hotline lead at H
    colleague = UserFactory(branches=[branch])
    LeadFactory(
        branch=branch,
        consultant=colleague,
        reached="verified",
        source=LeadSource.PHONE,
        intent_level=IntentLevel.H,
        name="王芳",
    )
    client.force_login(consultant)
    url = reverse("sales:lead-list")

    def names(**query) -> list[str]:
        return [row.name for row in client.get(url, query).context["page"]]

    # then each filter keeps only the matching lead
    assert names(status="new") == ["林晓东"]
    assert names(source="phone") == ["王芳"]
    assert names(intent_level="H") == ["王芳"]
    assert names(consultant=consultant.pk) == ["林晓东"]


def test_list_honours_the_funnel_drill_down(client, sales_manager, branch):
    # given leads created in March and April, one of the March ones verified
    march = timezone.make_aware(timezone.datetime(2026, 3, 10, 10))
    april = timezone.make_aware(timezone.datetime(2026, 4, 10, 10))
    LeadFactory(branch=branch, created_at=march, name="陈伟", source=LeadSource.PHONE)
    LeadFactory(branch=branch, created_at=march, name="赵敏", reached="verified")
    LeadFactory(branch=branch, created_at=april, name="周杰", reached="verified")
    client.force_login(sales_manager)
    # when the funnel's "verified" figure for March is followed
    response = client.get(
        reverse("sales:lead-list"),
        {"stage": "verified", "created_after": "2026-03-01", "created_before": "2026-03-31"},
    )
    # then only the leads of that cohort that reached the stage are listed
    assert [row.name for row in response.context["page"]] == ["赵敏"]
    hotline = client.get(reverse("sales:lead-list"), {"source": "phone"})
    assert [row.name for row in hotline.context["page"]] == ["陈伟"]


def test_list_sorts_by_intent_hottest_first(client, consultant, branch):
    for level, name in [("C", "陈伟"), ("H", "赵敏"), ("A", "周杰")]:
        LeadFactory(branch=branch, intent_level=level, name=name)
    client.force_login(consultant)
    response = client.get(reverse("sales:lead-list"), {"sort": "intent"})
    assert [row.name for row in response.context["page"]] == ["赵敏", "周杰", "陈伟"]


def test_list_marks_an_overdue_follow_up_red(client, consultant, branch):
    LeadFactory(branch=branch, next_follow_up_on=timezone.localdate() - timedelta(days=3))
    client.force_login(consultant)
    html = page(client.get(reverse("sales:lead-list")))
    assert 'class="lead-overdue"' in html
    assert "text-danger" in html


def test_list_shows_an_empty_state_and_the_new_lead_button(client, consultant):
    client.force_login(consultant)
    html = page(client.get(reverse("sales:lead-list")))
    assert 'id="lead-empty"' in html
    assert reverse("sales:lead-create") in html


def test_consultant_sees_masked_phones_and_nothing_is_logged(client, consultant, lead):
    client.force_login(consultant)
    html = page(client.get(reverse("sales:lead-list")))
    assert "138****2222" in html
    assert "13811112222" not in html
    assert not PiiAccess.objects.exists()


def test_customer_care_sees_full_phones_and_the_view_is_logged(client, customer_care, branch):
    # given a lead linked to a customer record
    customer = CustomerFactory(branch=branch, mobile="13811112222")
    lead = LeadFactory(branch=branch, mobile="13811112222", customer=customer)
    client.force_login(customer_care)
    # when a user allowed to see personal data opens the list
    html = page(client.get(reverse("sales:lead-list")))
    # then the phone is shown in full and the view is logged against the lead
    assert "13811112222" in html
    access = PiiAccess.objects.get()
    assert (access.user, access.lead, access.channel) == (customer_care, lead, "page")


def list_queries(client, assert_max_queries) -> int:
    with assert_max_queries(20) as captured:
        response = client.get(reverse("sales:lead-list"))
    assert response.status_code == 200
    return len(captured)


def lead_with_everything(branch, consultant):
    return LeadFactory(
        branch=branch,
        consultant=consultant,
        source=LeadSource.REFERRAL,
        customer=CustomerFactory(branch=branch),
        next_follow_up_on=timezone.localdate() - timedelta(days=1),
    )


@pytest.mark.parametrize("persona", ["consultant", "customer_care"])
def test_lead_list_queries_do_not_grow_with_the_rows(
    request, client, branch, consultant, persona, django_assert_max_num_queries
):
    # given a user who sees phones masked or in full, and one lead with a referrer and customer
    client.force_login(request.getfixturevalue(persona))
    lead_with_everything(branch, consultant)
    one = list_queries(client, django_assert_max_num_queries)
    # when 19 more such leads exist
    for _ in range(19):
        lead_with_everything(branch, consultant)
    twenty = list_queries(client, django_assert_max_num_queries)
    # then the page costs the same number of queries
    assert twenty == one, (one, twenty)


# --- today's follow-ups -----------------------------------------------------------------------


def test_today_lists_the_overdue_first_with_how_late_they_are(client, consultant, branch):
    # given the consultant's leads due today, overdue by 4 days, and next week; and a colleague's
    today = timezone.localdate()
    LeadFactory(branch=branch, consultant=consultant, name="今天", next_follow_up_on=today)
    LeadFactory(
        branch=branch, consultant=consultant, name="过期", next_follow_up_on=today - timedelta(4)
    )
    LeadFactory(
        branch=branch, consultant=consultant, name="下周", next_follow_up_on=today + timedelta(7)
    )
    LeadFactory(branch=branch, consultant=UserFactory(branches=[branch]), next_follow_up_on=today)
    client.force_login(consultant)
    # when the consultant opens the day's page
    response = client.get(reverse("sales:today"), HTTP_ACCEPT_LANGUAGE="en")
    # then their due leads are listed, the overdue first with its days late
    assert [lead.name for lead in response.context["leads"]] == ["过期", "今天"]
    assert response.context["leads"][0].days_overdue == 4
    assert "4 days overdue" in page(response)
    assert response.context["team"] is None


def test_manager_sees_overdue_counts_per_consultant_linking_to_the_list(
    client, sales_manager, consultant, branch
):
    LeadFactory.create_batch(
        2,
        branch=branch,
        consultant=consultant,
        next_follow_up_on=timezone.localdate() - timedelta(days=2),
    )
    client.force_login(sales_manager)
    response = client.get(reverse("sales:today"))
    assert response.context["team"][0]["overdue"] == 2
    assert f"follow_up=overdue&amp;sort=follow_up&amp;consultant={consultant.pk}" in page(response)


def test_one_click_call_from_today_logs_it_and_swaps_the_row(client, consultant, branch):
    # given a verified lead due today
    lead = LeadFactory(
        branch=branch,
        consultant=consultant,
        reached="verified",
        next_follow_up_on=timezone.localdate(),
    )
    client.force_login(consultant)
    # when "log call" is tapped with its outcome (htmx)
    response = client.post(
        reverse("sales:activity-create", args=[lead.pk]),
        {"kind": "call", "outcome": ActivityOutcome.REACHED},
        HTTP_HX_REQUEST="true",
    )
    # then the call is logged, the lead contacted and its next follow-up moved on
    assert response.status_code == 200
    assert f'id="lead-row-{lead.pk}"' in page(response)
    assert "table-success" in page(response)
    lead.refresh_from_db()
    assert lead.activities.count() == 1
    assert lead.status == LeadStatus.CONTACTED
    assert lead.next_follow_up_on > timezone.localdate()


def test_call_logged_without_javascript_goes_back_to_today(client, consultant, lead):
    client.force_login(consultant)
    today_url = reverse("sales:today")
    response = client.post(
        reverse("sales:activity-create", args=[lead.pk]),
        {"kind": "call", "outcome": ActivityOutcome.NOT_REACHED, "next": today_url},
    )
    assert response.status_code == 302
    assert response.url == today_url
    assert lead.activities.get().outcome == ActivityOutcome.NOT_REACHED


# --- capture and edit ---------------------------------------------------------------------------


def test_consultant_captures_a_lead_and_takes_it(client, consultant, branch):
    client.force_login(consultant)
    response = client.post(reverse("sales:lead-create"), NEW_LEAD)
    lead = Lead.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("sales:lead-detail", args=[lead.pk])
    assert (lead.branch, lead.consultant, lead.created_by) == (branch, consultant, consultant)
    assert lead.first_response_at is not None  # a walk-in is answered on the spot
    assert lead.next_follow_up_on == timezone.localdate()


def test_manager_captures_a_lead_for_a_consultant(client, sales_manager, consultant):
    client.force_login(sales_manager)
    client.post(reverse("sales:lead-create"), {**NEW_LEAD, "consultant": consultant.pk})
    assert Lead.objects.get().consultant == consultant


def test_wrong_mobile_is_shown_beside_the_field_and_nothing_is_saved(client, consultant):
    client.force_login(consultant)
    response = client.post(reverse("sales:lead-create"), {**NEW_LEAD, "mobile": "12345"})
    assert response.status_code == 200
    assert response.context["form"].errors["mobile"]
    assert not Lead.objects.exists()


def test_referral_without_the_referring_owner_is_refused(client, consultant):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:lead-create"), {**NEW_LEAD, "source": LeadSource.REFERRAL}
    )
    assert response.status_code == 200
    assert "A referral names the owner who referred." in response.context["form"].errors["referrer"]
    assert not Lead.objects.exists()


def test_referral_records_the_branchs_owner(client, consultant, branch):
    owner = CustomerFactory(branch=branch)
    client.force_login(consultant)
    client.post(
        reverse("sales:lead-create"),
        {**NEW_LEAD, "source": LeadSource.REFERRAL, "referrer": owner.pk},
    )
    assert Lead.objects.get().referrer == owner


def test_another_branchs_customer_cannot_be_the_referrer(client, consultant, other_branch):
    stranger = CustomerFactory(branch=other_branch)
    client.force_login(consultant)
    response = client.post(
        reverse("sales:lead-create"),
        {**NEW_LEAD, "source": LeadSource.REFERRAL, "referrer": stranger.pk},
    )
    assert response.context["form"].errors["referrer"]
    assert not Lead.objects.exists()


def test_referrer_search_offers_the_branchs_owners_masked(client, consultant, branch, other_branch):
    CustomerFactory(branch=branch, name="黄秀英", mobile="13955556666")
    CustomerFactory(branch=other_branch, name="黄秀兰", mobile="13955557777")
    client.force_login(consultant)
    response = client.get(
        reverse("sales:lead-create"), {"referrer_search": "黄秀"}, HTTP_HX_REQUEST="true"
    )
    html = page(response)
    assert "黄秀英" in html and "139****6666" in html
    assert "黄秀兰" not in html
    assert "13955556666" not in html


def test_new_lead_with_a_customers_phone_offers_to_link_them(client, consultant, branch):
    # given a customer of the branch and an open lead with the same phone
    customer = CustomerFactory(branch=branch, mobile="13922334455")
    earlier = LeadFactory(branch=branch, mobile="13922334455")
    client.force_login(consultant)
    # when a new lead with that phone is saved
    response = client.post(reverse("sales:lead-create"), NEW_LEAD, follow=True)
    # then its page flags both, with a button to link the customer
    html = page(response)
    assert 'id="duplicate-lead"' in html
    assert reverse("sales:lead-detail", args=[earlier.pk]) in html
    assert 'id="matching-customer"' in html
    assert f'name="customer" value="{customer.pk}"' in html
    # and linking it makes the customer the lead's
    lead = Lead.objects.get(name=NEW_LEAD["name"])
    client.post(reverse("sales:lead-link-customer", args=[lead.pk]), {"customer": customer.pk})
    lead.refresh_from_db()
    assert lead.customer == customer
    assert lead.matching_customer is None


def test_customer_is_created_from_a_lead(client, consultant, lead):
    client.force_login(consultant)
    response = client.post(reverse("sales:lead-link-customer", args=[lead.pk]))
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.customer.name == lead.name
    assert lead.customer.mobile == lead.mobile


def test_linking_another_branchs_customer_is_refused(client, consultant, lead, other_branch):
    stranger = CustomerFactory(branch=other_branch)
    client.force_login(consultant)
    response = client.post(
        reverse("sales:lead-link-customer", args=[lead.pk]), {"customer": stranger.pk}, follow=True
    )
    assert flashed(response)
    lead.refresh_from_db()
    assert lead.customer is None


def test_lead_is_edited_through_the_service(client, consultant, lead):
    client.force_login(consultant)
    data = {**NEW_LEAD, "name": lead.name, "mobile": lead.mobile, "intent_level": IntentLevel.H}
    response = client.post(reverse("sales:lead-edit", args=[lead.pk]), data)
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.intent_level == IntentLevel.H
    assert lead.model_of_interest == "帕萨特"


def test_closed_lead_cannot_be_edited(client, consultant, branch):
    lead = LeadFactory(branch=branch, status=LeadStatus.LOST, model_of_interest="朗逸")
    client.force_login(consultant)
    response = client.post(
        reverse("sales:lead-edit", args=[lead.pk]),
        {**NEW_LEAD, "name": lead.name, "mobile": lead.mobile},
    )
    assert response.status_code == 200
    assert "it can no longer change" in " ".join(response.context["form"].non_field_errors())
    lead.refresh_from_db()
    assert lead.model_of_interest == "朗逸"


# --- the lead's file and its actions -----------------------------------------------------------


def test_detail_shows_progress_facts_and_sections(client, consultant, branch):
    # given a quoted lead with an activity, a trade-in, a quote and a missed deadline
    lead = LeadFactory(branch=branch, consultant=consultant, reached="quoted")
    ActivityFactory(lead=lead, by=consultant, note="周末带家人来看车")
    TradeInFactory(branch=branch, lead=lead)
    quote = QuoteFactory(branch=branch, lead=lead, consultant=consultant)
    LeadDeadlineBreachFactory(lead=lead)
    client.force_login(consultant)
    # when its page is opened
    response = client.get(reverse("sales:lead-detail", args=[lead.pk]), HTTP_ACCEPT_LANGUAGE="en")
    html = page(response)
    # then the funnel progress, the sections and the deadline are shown
    assert 'id="lead-progress"' in html
    assert [stage["passed"] for stage in response.context["stages"]] == [True] * 6 + [False]
    assert "周末带家人来看车" in html
    assert 'id="trade-ins"' in html and 'value="accepted"' in html
    assert reverse("sales:quote-detail", args=[quote.pk]) in html
    assert "No first response in time" in html
    assert reverse("sales:quote-create", args=[lead.pk]) in html
    assert "Change history" in html


def test_unverified_lead_offers_verify_but_not_a_test_drive(client, consultant, lead):
    client.force_login(consultant)
    html = page(client.get(reverse("sales:lead-detail", args=[lead.pk])))
    assert 'id="verify-button"' in html
    assert reverse("sales:test-drive-create", args=[lead.pk]) not in html


def test_closed_lead_offers_no_actions(client, consultant, branch):
    lead = LeadFactory(branch=branch, status=LeadStatus.INVALID, closing_note="空号")
    client.force_login(consultant)
    html = page(client.get(reverse("sales:lead-detail", args=[lead.pk])))
    assert 'id="log-activity"' not in html
    assert reverse("sales:lead-edit", args=[lead.pk]) not in html
    assert "空号" in html


def test_verify_makes_the_lead_qualified(client, consultant, lead):
    client.force_login(consultant)
    response = client.post(reverse("sales:lead-verify", args=[lead.pk]), {"note": "电话确认"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VERIFIED
    assert lead.verified_by == consultant
    assert lead.activities.get().note == "电话确认"


def test_verify_twice_shows_why_and_changes_nothing(client, consultant, verified_lead):
    client.force_login(consultant)
    before = verified_lead.verified_at
    response = client.post(reverse("sales:lead-verify", args=[verified_lead.pk]), follow=True)
    assert "This lead is already verified." in flashed(response)
    verified_lead.refresh_from_db()
    assert verified_lead.verified_at == before
    assert not verified_lead.activities.exists()


def test_verify_is_post_only(client, consultant, lead):
    client.force_login(consultant)
    assert client.get(reverse("sales:lead-verify", args=[lead.pk])).status_code == 405


def test_activity_with_its_next_date_is_logged(client, consultant, verified_lead):
    client.force_login(consultant)
    next_week = timezone.localdate() + timedelta(days=7)
    response = client.post(
        reverse("sales:activity-create", args=[verified_lead.pk]),
        {
            "kind": "visit",
            "outcome": ActivityOutcome.APPOINTMENT,
            "note": "看了朗逸和速腾",
            "next_follow_up_on": next_week.isoformat(),
        },
    )
    assert response.status_code == 302
    verified_lead.refresh_from_db()
    assert verified_lead.status == LeadStatus.VISITED
    assert verified_lead.next_follow_up_on == next_week


def test_follow_up_before_the_activity_is_refused_beside_the_date(client, consultant, lead):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:activity-create", args=[lead.pk]),
        {
            "kind": "call",
            "outcome": ActivityOutcome.REACHED,
            "next_follow_up_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["next_follow_up_on"] == [
        "The next follow-up cannot be before the activity."
    ]
    assert not Activity.objects.exists()


def test_manager_assigns_the_lead_to_a_consultant(client, sales_manager, consultant, branch):
    lead = LeadFactory(branch=branch)
    client.force_login(sales_manager)
    response = client.post(
        reverse("sales:lead-assign", args=[lead.pk]), {"consultant": consultant.pk}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.consultant == consultant


def test_lead_cannot_go_to_another_branchs_consultant(
    client, sales_manager, other_branch_user, branch
):
    lead = LeadFactory(branch=branch)
    client.force_login(sales_manager)
    response = client.post(
        reverse("sales:lead-assign", args=[lead.pk]), {"consultant": other_branch_user.pk}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["consultant"]
    lead.refresh_from_db()
    assert lead.consultant is None


def test_lost_needs_its_reason(client, consultant, lead):
    client.force_login(consultant)
    response = client.post(reverse("sales:lead-lose", args=[lead.pk]), {"note": "买了别的"})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["Choose why the lead was lost."]
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_lead_is_marked_lost_with_its_reason(client, consultant, lead):
    client.force_login(consultant)
    client.post(
        reverse("sales:lead-lose", args=[lead.pk]), {"reason": "competitor_brand", "note": "丰田"}
    )
    lead.refresh_from_db()
    assert (lead.status, lead.lost_reason, lead.closing_note) == (
        LeadStatus.LOST,
        "competitor_brand",
        "丰田",
    )


def test_invalid_needs_a_note(client, consultant, lead):
    client.force_login(consultant)
    response = client.post(reverse("sales:lead-invalidate", args=[lead.pk]), {"note": "  "})
    assert response.context["form"].errors["note"] == ["Say why the lead is invalid."]
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_lead_is_marked_invalid(client, consultant, lead):
    client.force_login(consultant)
    client.post(reverse("sales:lead-invalidate", args=[lead.pk]), {"note": "空号"})
    lead.refresh_from_db()
    assert lead.status == LeadStatus.INVALID


# --- trade-ins --------------------------------------------------------------------------------

TRADE_IN = {
    "brand": "本田",
    "series": "雅阁",
    "model_year": "2018",
    "plate": "粤A12345",
    "odometer_km": "86000",
    "appraised_value": "85000",
    "offered_value": "80000",
}


def test_trade_in_is_appraised(client, consultant, lead):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:trade-in-create", args=[lead.pk]),
        {**TRADE_IN, "appraised_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    trade_in = TradeIn.objects.get()
    assert (trade_in.lead, trade_in.appraised_by) == (lead, consultant)


def test_trade_in_with_a_bad_vin_is_refused_beside_the_vin(client, consultant, lead):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:trade-in-create", args=[lead.pk]),
        {**TRADE_IN, "vin": "LSVAB2BM1MN000001", "appraised_on": timezone.localdate()},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["vin"]
    assert not TradeIn.objects.exists()


def test_trade_in_of_a_closed_lead_is_refused(client, consultant, branch):
    lead = LeadFactory(branch=branch, status=LeadStatus.LOST)
    client.force_login(consultant)
    response = client.post(
        reverse("sales:trade-in-create", args=[lead.pk]),
        {**TRADE_IN, "appraised_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 200
    assert "it can no longer change" in " ".join(response.context["form"].non_field_errors())
    assert not TradeIn.objects.exists()


def test_customer_accepts_the_trade_in_offer(client, consultant, lead):
    trade_in = TradeInFactory(branch=lead.branch, lead=lead)
    client.force_login(consultant)
    response = client.post(
        reverse("sales:trade-in-decide", args=[trade_in.pk]), {"decision": "accepted"}
    )
    assert response.status_code == 302
    assert response.url == reverse("sales:lead-detail", args=[lead.pk])
    trade_in.refresh_from_db()
    assert trade_in.decision == TradeInDecision.ACCEPTED


def test_decided_trade_in_cannot_be_decided_again(client, consultant, lead):
    trade_in = TradeInFactory(branch=lead.branch, lead=lead, decision=TradeInDecision.DECLINED)
    client.force_login(consultant)
    response = client.post(
        reverse("sales:trade-in-decide", args=[trade_in.pk]),
        {"decision": "accepted"},
        follow=True,
    )
    assert "The customer has already decided." in flashed(response)
    trade_in.refresh_from_db()
    assert trade_in.decision == TradeInDecision.DECLINED


def test_no_customer_is_created_for_a_user_who_may_not_add_customers(client, branch, lead):
    # a role with change_lead but without customers.add_customer cannot exist among the
    # personas; a user with only the sales rights stands in for one
    from django.contrib.auth.models import Permission

    user = UserFactory(branches=[branch])
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="sales", codename="change_lead")
    )
    client.force_login(user)
    response = client.post(reverse("sales:lead-link-customer", args=[lead.pk]))
    assert response.status_code == 403
    assert not Customer.objects.exists()


def test_new_lead_is_verified_from_the_follow_up_list(client, consultant, lead):
    # given a new lead on the consultant's list
    client.force_login(consultant)
    assert 'id="unverified-count">1<' in page(client.get(reverse("sales:today")))
    # when it is verified from its row (htmx)
    response = client.post(reverse("sales:lead-verify", args=[lead.pk]), HTTP_HX_REQUEST="true")
    # then the row says so and the lead is qualified
    assert "table-success" in page(response)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VERIFIED


def test_refused_quick_action_says_why_in_the_row(client, consultant, branch):
    lead = LeadFactory(branch=branch, consultant=consultant, status=LeadStatus.LOST)
    client.force_login(consultant)
    response = client.post(
        reverse("sales:activity-create", args=[lead.pk]),
        {"kind": "call", "outcome": ActivityOutcome.REACHED},
        HTTP_HX_REQUEST="true",
    )
    assert "table-danger" in page(response)
    assert "it can no longer change" in page(response)
    assert not lead.activities.exists()


def test_manager_sees_the_open_leads_nobody_follows(client, sales_manager, branch):
    LeadFactory.create_batch(3, branch=branch)
    client.force_login(sales_manager)
    response = client.get(reverse("sales:today"))
    assert response.context["unassigned_open"] == 3
    listed = client.get(reverse("sales:lead-list"), {"unassigned": "1"})
    assert len(listed.context["page"]) == 3


@pytest.mark.parametrize(
    "query",
    [
        {"consultant": "abc", "created_after": "yesterday", "sort": "-nonsense"},
        {"stage": "flying", "status": "sold", "page": "999"},
        {"search": "1" * 300, "intent_level": "Z", "unassigned": "yes"},
    ],
)
def test_bad_filters_never_break_the_list(client, consultant, lead, query):
    client.force_login(consultant)
    assert client.get(reverse("sales:lead-list"), query).status_code == 200


def test_bad_lead_input_is_shown_beside_the_fields(client, consultant):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:lead-create"),
        {**NEW_LEAD, "budget": "很多", "name": "王" * 200, "expected_purchase_date": "下个月"},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"budget", "name", "expected_purchase_date"}
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("sales:lead-link-customer", {"customer": "abc"}),
        ("sales:activity-create", {"kind": "fax", "outcome": "maybe"}),
        ("sales:lead-lose", {"reason": "aliens"}),
    ],
)
def test_bad_action_input_is_refused_without_a_crash(client, consultant, lead, url_name, data):
    client.force_login(consultant)
    response = client.post(reverse(url_name, args=[lead.pk]), data, follow=True)
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW and lead.customer is None


def test_bad_trade_in_decision_is_refused(client, consultant, lead):
    trade_in = TradeInFactory(branch=lead.branch, lead=lead)
    client.force_login(consultant)
    response = client.post(
        reverse("sales:trade-in-decide", args=[trade_in.pk]), {"decision": "pending"}, follow=True
    )
    assert flashed(response)
    trade_in.refresh_from_db()
    assert trade_in.decision == TradeInDecision.PENDING
