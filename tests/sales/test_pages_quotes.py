"""The quote pages: drafted from a lead with a live total, approved by a manager other than its
author, sent, printed. Refused rules are shown and change nothing; other branches' quotes are
404; the list costs the same number of queries whatever its length."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from dealer_crm.choices import Role
from sales.choices import ApprovalDecision, LeadStatus, QuoteStatus, TradeInDecision
from sales.models import Quote, QuoteApproval
from tests.factories import (
    LeadFactory,
    QuoteApprovalFactory,
    QuoteFactory,
    TradeInFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

QUOTE_FORM = {
    "brand": "大众",
    "series": "朗逸",
    "configuration": "1.5L 自动舒适版",
    "colour": "白色",
    "list_price": "119900.00",
    "discount": "2000.00",
    "accessories": "脚垫、贴膜",
    "accessories_price": "1500.00",
    "insurance_price": "4200.00",
    "financing_plan": "",
    "loan_amount": "0",
    "loan_term_months": "",
    "registration_fee": "500.00",
    "trade_in": "",
    "valid_until": "",
    "note": "",
}


@pytest.fixture
def lead(branch, consultant):
    return LeadFactory(branch=branch, consultant=consultant, reached="visited")


@pytest.fixture
def quote(branch, lead, consultant):
    return QuoteFactory(branch=branch, lead=lead, consultant=consultant)


@pytest.fixture
def pending_quote(branch, lead, consultant):
    """A quote whose 5,000 CNY discount (above the 3,000 limit) awaits a manager."""
    quote = QuoteFactory(
        branch=branch,
        lead=lead,
        consultant=consultant,
        discount=Decimal("5000.00"),
        needs_approval=True,
        status=QuoteStatus.PENDING_APPROVAL,
    )
    QuoteApprovalFactory(quote=quote, by=consultant)
    return quote


@pytest.fixture
def other_branch_quote(other_branch):
    return QuoteFactory(branch=other_branch, lead=LeadFactory(branch=other_branch))


def follow(client, response):
    assert response.status_code == 302, response.content[:500]
    return client.get(response.url)


# --- Rendering ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_quote_pages_render_for_the_consultant_in_both_languages(
    client, consultant, lead, quote, language
):
    # given a consultant reading in Chinese or English
    client.force_login(consultant)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    urls = [
        reverse("sales:quote-list"),
        reverse("sales:quote-create", args=[lead.pk]),
        reverse("sales:quote-detail", args=[quote.pk]),
        reverse("sales:quote-edit", args=[quote.pk]),
        reverse("sales:quote-print", args=[quote.pk]),
    ]
    for url in urls:
        # when each quote page is opened
        response = client.get(url)
        # then it renders in that language
        assert response.status_code == 200, url
        assert f'lang="{language}"' in response.content.decode(), url


def test_quote_detail_shows_the_price_breakdown_and_approval_history(
    client, sales_manager, pending_quote, consultant
):
    client.force_login(sales_manager)
    response = client.get(reverse("sales:quote-detail", args=[pending_quote.pk]))
    page = response.content.decode()
    assert "119,900.00" in page
    assert "5,000.00" in page
    assert 'id="approval-history"' in page
    assert "Submitted" in page
    # a manager who did not write the quote is offered Approve and Reject
    assert 'id="quote-approve"' in page
    assert 'id="quote-reject"' in page


def test_print_page_is_a_clean_a4_sheet_with_the_branch_and_every_price(
    client, consultant, quote, branch
):
    branch.address, branch.phone = "广州市天河区天河路100号", "020-88886666"
    branch.save()
    client.force_login(consultant)
    response = client.get(reverse("sales:quote-print", args=[quote.pk]))
    page = response.content.decode()
    assert "@page { size: A4" in page
    assert "navbar" not in page
    assert "广州市天河区天河路100号" in page
    assert "020-88886666" in page
    assert f"¥{quote.total:,.2f}" in page
    assert 'class="no-print' in page


def test_quote_form_hints_the_branch_discount_limit(client, consultant, lead):
    client.force_login(consultant)
    response = client.get(reverse("sales:quote-create", args=[lead.pk]))
    page = response.content.decode()
    assert 'id="discount-hint"' in page
    assert "needs a sales manager" in page
    assert 'data-discount-limit="3000.00"' in page


# --- Permissions and branches -------------------------------------------------------------


def quote_urls(quote) -> list[tuple[str, str]]:
    return [
        ("get", reverse("sales:quote-list")),
        ("get", reverse("sales:quote-create", args=[quote.lead_id])),
        ("get", reverse("sales:quote-detail", args=[quote.pk])),
        ("get", reverse("sales:quote-edit", args=[quote.pk])),
        ("get", reverse("sales:quote-print", args=[quote.pk])),
        ("post", reverse("sales:quote-submit", args=[quote.pk])),
        ("post", reverse("sales:quote-approve", args=[quote.pk])),
        ("post", reverse("sales:quote-reject", args=[quote.pk])),
        ("post", reverse("sales:quote-send", args=[quote.pk])),
    ]


def test_a_role_without_sales_permissions_is_refused_every_quote_page(client, parts_clerk, quote):
    client.force_login(parts_clerk)
    for method, url in quote_urls(quote):
        assert getattr(client, method)(url).status_code == 403, url


def test_a_consultant_cannot_approve_or_reject(client, consultant, pending_quote):
    client.force_login(consultant)
    for name in ("sales:quote-approve", "sales:quote-reject"):
        response = client.post(reverse(name, args=[pending_quote.pk]), {"note": "ok"})
        assert response.status_code == 403
    pending_quote.refresh_from_db()
    assert pending_quote.status == QuoteStatus.PENDING_APPROVAL


def test_another_branch_quote_is_not_found(client, other_branch_user, other_branch, quote):
    # given a consultant and a sales manager of the other branch
    manager = UserFactory(roles=[Role.SALES_MANAGER], branches=[other_branch])
    for user in (other_branch_user, manager):
        client.force_login(user)
        for method, url in quote_urls(quote):
            if url == reverse("sales:quote-list") or (
                user == other_branch_user and ("approve" in url or "reject" in url)
            ):
                continue  # the list is scoped; a consultant may not decide at all (403)
            # then every page of this branch's quote is 404, never merely forbidden
            assert getattr(client, method)(url).status_code == 404, url


def test_another_branch_quote_is_not_listed(client, other_branch_user, quote, other_branch_quote):
    client.force_login(other_branch_user)
    response = client.get(reverse("sales:quote-list"))
    assert [q.pk for q in response.context["page"]] == [other_branch_quote.pk]


# --- Writes -------------------------------------------------------------------------------


def test_consultant_drafts_a_quote_from_a_lead(client, consultant, lead):
    # given a trade-in the customer accepted
    trade_in = TradeInFactory(
        branch=lead.branch, lead=lead, decision=TradeInDecision.ACCEPTED, appraised_by=consultant
    )
    client.force_login(consultant)
    # when the quote form is saved with it
    response = client.post(
        reverse("sales:quote-create", args=[lead.pk]), {**QUOTE_FORM, "trade_in": trade_in.pk}
    )
    # then the service priced it: 119900 - 2000 + 1500 + 4200 + 500 - 80000
    quote = Quote.objects.get()
    assert response.url == reverse("sales:quote-detail", args=[quote.pk])
    assert quote.total == Decimal("44100.00")
    assert quote.trade_in_value == Decimal("80000.00")
    assert quote.needs_approval is False
    assert quote.consultant == consultant


def test_a_discount_above_the_limit_is_flagged_for_approval(client, consultant, lead):
    client.force_login(consultant)
    client.post(
        reverse("sales:quote-create", args=[lead.pk]), {**QUOTE_FORM, "discount": "8000.00"}
    )
    quote = Quote.objects.get()
    assert quote.needs_approval is True
    page = client.get(reverse("sales:quote-detail", args=[quote.pk])).content.decode()
    assert 'id="quote-send"' not in page
    assert "Submit for approval" in page


def test_a_discount_above_the_price_is_shown_beside_the_field(client, consultant, lead):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:quote-create", args=[lead.pk]), {**QUOTE_FORM, "discount": "200000"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["discount"]
    assert not Quote.objects.exists()


def test_an_unverified_lead_gets_no_quote(client, consultant, branch):
    lead = LeadFactory(branch=branch, consultant=consultant)
    client.force_login(consultant)
    response = client.post(reverse("sales:quote-create", args=[lead.pk]), QUOTE_FORM)
    assert response.status_code == 200
    assert "Verify the lead by phone" in response.content.decode()
    assert not Quote.objects.exists()


def test_consultant_edits_a_draft_quote(client, consultant, quote):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:quote-edit", args=[quote.pk]), {**QUOTE_FORM, "colour": "黑色"}
    )
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.colour == "黑色"
    assert quote.total == Decimal("124100.00")


def test_a_sent_quote_cannot_be_edited(client, consultant, quote):
    quote.status = QuoteStatus.SENT
    quote.save()
    client.force_login(consultant)
    response = client.get(reverse("sales:quote-edit", args=[quote.pk]), follow=True)
    assert "cannot be changed" in response.content.decode()


def test_consultant_submits_a_large_discount_for_approval(client, consultant, quote):
    quote.discount, quote.needs_approval = Decimal("5000.00"), True
    quote.save()
    client.force_login(consultant)
    response = client.post(reverse("sales:quote-submit", args=[quote.pk]), {"note": "老客户介绍"})
    quote.refresh_from_db()
    assert response.status_code == 302
    assert quote.status == QuoteStatus.PENDING_APPROVAL
    step = QuoteApproval.objects.get(quote=quote)
    assert (step.decision, step.note, step.by) == (
        ApprovalDecision.SUBMITTED,
        "老客户介绍",
        consultant,
    )


def test_manager_approves_the_discount(client, sales_manager, pending_quote):
    client.force_login(sales_manager)
    response = client.post(
        reverse("sales:quote-approve", args=[pending_quote.pk]), {"note": "同意"}
    )
    page = follow(client, response).content.decode()
    pending_quote.refresh_from_db()
    assert pending_quote.status == QuoteStatus.APPROVED
    assert pending_quote.approvals.filter(decision=ApprovalDecision.APPROVED, by=sales_manager)
    assert "同意" in page


def test_manager_rejects_with_a_note(client, sales_manager, pending_quote):
    client.force_login(sales_manager)
    client.post(reverse("sales:quote-reject", args=[pending_quote.pk]), {"note": "折扣过大"})
    pending_quote.refresh_from_db()
    assert pending_quote.status == QuoteStatus.REJECTED


def test_a_rejection_without_a_note_is_refused(client, sales_manager, pending_quote):
    client.force_login(sales_manager)
    response = client.post(reverse("sales:quote-reject", args=[pending_quote.pk]), {"note": ""})
    page = follow(client, response).content.decode()
    assert "why the discount is refused" in page
    pending_quote.refresh_from_db()
    assert pending_quote.status == QuoteStatus.PENDING_APPROVAL


def test_a_manager_cannot_approve_their_own_discount(client, branch, lead):
    # given a sales manager who wrote the quote themselves
    manager = UserFactory(roles=[Role.SALES_MANAGER], branches=[branch])
    quote = QuoteFactory(
        branch=branch,
        lead=lead,
        consultant=manager,
        discount=Decimal("6000.00"),
        needs_approval=True,
        status=QuoteStatus.PENDING_APPROVAL,
    )
    QuoteApprovalFactory(quote=quote, by=manager)
    client.force_login(manager)
    # then the page does not offer the approval
    page = client.get(reverse("sales:quote-detail", args=[quote.pk])).content.decode()
    assert 'id="quote-approve"' not in page
    # and when they post it anyway, the service's message is shown and nothing changes
    response = client.post(reverse("sales:quote-approve", args=[quote.pk]), {"note": ""})
    page = follow(client, response).content.decode()
    assert "approved by someone other than its author" in page
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING_APPROVAL
    assert quote.approvals.count() == 1


def test_sending_an_unapproved_discount_is_refused(client, consultant, pending_quote):
    client.force_login(consultant)
    response = client.post(reverse("sales:quote-send", args=[pending_quote.pk]))
    page = follow(client, response).content.decode()
    assert "must approve this discount first" in page
    pending_quote.refresh_from_db()
    assert pending_quote.status == QuoteStatus.PENDING_APPROVAL
    assert pending_quote.sent_at is None


def test_a_quote_within_the_limit_is_sent_and_the_lead_is_quoted(client, consultant, quote):
    client.force_login(consultant)
    response = client.post(reverse("sales:quote-send", args=[quote.pk]))
    page = follow(client, response).content.decode()
    quote.refresh_from_db()
    quote.lead.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    assert quote.lead.status == LeadStatus.QUOTED
    assert reverse("sales:order-create", args=[quote.pk]) in page


def test_a_post_only_action_refuses_get(client, consultant, quote):
    client.force_login(consultant)
    assert client.get(reverse("sales:quote-send", args=[quote.pk])).status_code == 405


# --- List ---------------------------------------------------------------------------------


def test_manager_finds_quotes_awaiting_approval_in_one_click(
    client, sales_manager, quote, pending_quote
):
    client.force_login(sales_manager)
    page = client.get(reverse("sales:quote-list")).content.decode()
    assert 'id="awaiting-approval"' in page
    response = client.get(reverse("sales:quote-list"), {"status": "pending_approval"})
    assert [q.pk for q in response.context["page"]] == [pending_quote.pk]


def test_quote_list_sorts_by_total(client, consultant, branch, lead):
    cheap = QuoteFactory(branch=branch, lead=lead, list_price=Decimal("90000"))
    dear = QuoteFactory(branch=branch, lead=lead, list_price=Decimal("190000"))
    client.force_login(consultant)
    response = client.get(reverse("sales:quote-list"), {"sort": "-total"})
    assert [q.pk for q in response.context["page"]] == [dear.pk, cheap.pk]


@pytest.mark.parametrize("persona", ["consultant", "sales_manager"])
def test_quote_list_queries_do_not_grow_with_the_rows(
    request, client, branch, django_assert_max_num_queries, persona
):
    user = request.getfixturevalue(persona)
    client.force_login(user)

    def queries() -> int:
        with django_assert_max_num_queries(20) as captured:
            assert client.get(reverse("sales:quote-list")).status_code == 200
        return len(captured)

    QuoteFactory(branch=branch, lead=LeadFactory(branch=branch), consultant=user)
    one = queries()
    for _ in range(19):
        QuoteFactory(branch=branch, lead=LeadFactory(branch=branch), consultant=user)
    assert queries() == one


def test_quote_list_filters_the_discounts_needing_approval(
    client, consultant, quote, pending_quote
):
    client.force_login(consultant)
    response = client.get(reverse("sales:quote-list"), {"needs_approval": "true"})
    assert [q.pk for q in response.context["page"]] == [pending_quote.pk]
    response = client.get(reverse("sales:quote-list"), {"needs_approval": "nonsense"})
    assert response.status_code == 200


def test_a_new_quote_starts_from_the_branchs_stock_of_the_model(client, consultant, branch):
    # given a verified lead interested in the 途观L, which the branch stocks
    from tests.factories import LeadFactory, StockVehicleFactory

    lead = LeadFactory(branch=branch, reached="verified", model_of_interest="途观L")
    StockVehicleFactory(
        branch=branch, brand="大众", series="途观L", configuration="330TSI", list_price=229900
    )
    client.force_login(consultant)

    # when the consultant opens a new quote
    form = client.get(reverse("sales:quote-create", args=[lead.pk])).context["form"]

    # then brand, configuration and list price come from the stock
    assert (form.initial["brand"], form.initial["configuration"]) == ("大众", "330TSI")
    assert form.initial["list_price"] == 229900
