"""The loyalty points pages: the accounts of your branches searched and sorted, a customer's
statement with its sources, points redeemed for what the customer was given (a refusal beside
its field, nothing changed), and the branch's rules set by a manager with their history.
Other branches' customers are 404, roles without the permission 403, and the lists cost the
same number of queries whatever their length."""

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from customers.care import services
from customers.care.choices import PointsKind
from customers.care.models import LoyaltyAccount, LoyaltyRule, PointsEntry
from customers.models import TimelineEntry
from dealer_crm.choices import Role
from tests.archives.helpers import closed_work_order, deliver, invoiced_order
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("care:loyalty-list")
RULES = reverse("care:loyalty-rules")
# 117,900.00 CNY at the default 1 point per 100 CNY
PURCHASE_POINTS = 1179


def bought(branch, consultant, *, price: str | None = None, customer=None):
    """A customer (a new one unless said) who took delivery of a vehicle, credited with their
    purchase points the way the delivery's task credits them. Returns the customer."""
    order = invoiced_order(branch, consultant)
    order.total_price = Decimal(price) if price is not None else order.total_price
    order.customer = customer or order.customer
    order.save()
    services.points_for_delivery(delivery=deliver(order, consultant))
    return order.customer


def statement_url(customer) -> str:
    return reverse("care:loyalty-statement", args=[customer.pk])


def balance_of(customer) -> int | None:
    account = LoyaltyAccount.objects.filter(customer=customer).first()
    return account.balance if account else None


def listed(response) -> list[int]:
    return [account.customer_id for account in response.context["page"]]


def redeem(client, customer, points, note="洗车一次"):
    return client.post(statement_url(customer), {"points": points, "note": note})


def field_errors(response, name: str) -> list[str]:
    return response.context["form"].errors.get(name, [])


@pytest.fixture
def buyer(branch, consultant):
    return bought(branch, consultant)


@pytest.fixture
def their_buyer(other_branch):
    consultant = UserFactory(roles=[Role.SALES_CONSULTANT], branches=[other_branch])
    return bought(other_branch, consultant)


def rule_form(branch, **data) -> dict:
    return {
        "branch": branch.pk,
        "purchase_points": 2,
        "service_points": 15,
        "referral_points": 3000,
        **data,
    }


# --- Access --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_manager_opens_every_page_in_each_language(client, branch_manager, buyer, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(branch_manager)
    for url, marker in [
        (LIST, 'id="loyalty-table"'),
        (statement_url(buyer), 'id="redeem-form"'),
        (RULES, 'id="rules-form"'),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert f'lang="{language}"' in page and marker in page, url
    assert 'id="loyalty-rules-link"' in client.get(LIST).content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_advisor_reads_and_redeems_but_never_sees_the_rules(
    client, advisor, buyer, branch, language
):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(advisor)
    listing = client.get(LIST)
    assert listing.status_code == 200 and listed(listing) == [buyer.pk]
    assert 'id="loyalty-rules-link"' not in listing.content.decode()
    page = client.get(statement_url(buyer))
    assert page.status_code == 200 and 'id="redeem-form"' in page.content.decode()
    assert client.get(RULES).status_code == 403
    assert client.post(RULES, rule_form(branch)).status_code == 403
    assert not LoyaltyRule.objects.exists()


def test_a_consultant_reads_the_statement_without_the_redeem_form(client, consultant, buyer):
    client.force_login(consultant)
    page = client.get(statement_url(buyer))
    assert page.status_code == 200
    assert page.context["balance"] == PURCHASE_POINTS
    assert 'id="redeem-form"' not in page.content.decode()
    assert redeem(client, buyer, 100).status_code == 403
    assert balance_of(buyer) == PURCHASE_POINTS


def test_a_technician_is_refused_every_page(client, technician, buyer, branch):
    client.force_login(technician)
    for url in [LIST, statement_url(buyer), RULES]:
        assert client.get(url).status_code == 403, url
    assert redeem(client, buyer, 100).status_code == 403
    assert client.post(RULES, rule_form(branch)).status_code == 403
    assert balance_of(buyer) == PURCHASE_POINTS and not LoyaltyRule.objects.exists()


def test_customer_care_redeems_but_may_not_open_the_rules(client, customer_care, buyer):
    client.force_login(customer_care)
    assert client.get(statement_url(buyer)).status_code == 200
    assert client.get(RULES).status_code == 403


def test_another_branchs_accounts_are_not_listed_nor_found(
    client, branch_manager, buyer, their_buyer
):
    client.force_login(branch_manager)
    assert listed(client.get(LIST)) == [buyer.pk]
    assert client.get(statement_url(their_buyer)).status_code == 404
    assert redeem(client, their_buyer, 10).status_code == 404
    assert balance_of(their_buyer) == PURCHASE_POINTS
    assert PointsEntry.objects.filter(kind=PointsKind.REDEMPTION).count() == 0


def test_a_group_manager_lists_every_branch_with_a_branch_filter(
    client, group_manager, buyer, their_buyer, branch
):
    client.force_login(group_manager)
    response = client.get(LIST)
    assert sorted(listed(response)) == sorted([buyer.pk, their_buyer.pk])
    assert "branch" in response.context["filterset"].form.fields
    assert listed(client.get(LIST, {"branch": branch.pk})) == [buyer.pk]
    assert client.get(statement_url(their_buyer)).status_code == 200


# --- The accounts list ---------------------------------------------------------------------


def test_the_list_shows_each_account_with_its_balance_and_last_entry(client, customer_care, buyer):
    client.force_login(customer_care)
    page = client.get(LIST).content.decode()
    account = buyer.loyalty_account
    row = re.search(rf'id="account-{account.pk}"(.*?)</tr>', page, re.S).group(1)
    last = timezone.localtime(account.entries.get().created_at).strftime("%Y-%m-%d %H:%M")
    for shown in [
        buyer.name,
        reverse("customers:detail", args=[buyer.pk]),
        statement_url(buyer),
        f">{PURCHASE_POINTS}<",
        last,
        buyer.mobile[-4:],
    ]:
        assert shown in row, shown


def test_the_list_searches_by_name_and_phone_digits_and_sorts(
    client, customer_care, branch, consultant
):
    small = bought(branch, consultant, price="50000.00")
    large = bought(branch, consultant, price="300000.00")
    small.name, small.mobile = "欧阳娜娜", "13911112222"
    small.save()
    client.force_login(customer_care)

    assert listed(client.get(LIST)) == [large.pk, small.pk]  # the largest balance first
    assert listed(client.get(LIST, {"sort": "balance"})) == [small.pk, large.pk]
    by_name = sorted([small, large], key=lambda customer: customer.name)
    assert listed(client.get(LIST, {"sort": "customer"})) == [c.pk for c in by_name]
    assert listed(client.get(LIST, {"search": "欧阳"})) == [small.pk]
    assert listed(client.get(LIST, {"search": "11112222"})) == [small.pk]
    empty = client.get(LIST, {"search": "诸葛"})
    assert listed(empty) == [] and "No account matches this search." in empty.content.decode()


def test_the_empty_list_explains_where_points_come_from(client, customer_care):
    client.force_login(customer_care)
    page = client.get(LIST).content.decode()
    assert "first vehicle purchase or paid service visit" in page


def test_the_list_queries_do_not_grow_with_the_rows(
    client, customer_care, branch, consultant, django_assert_max_num_queries
):
    client.force_login(customer_care)

    def queries() -> tuple[int, int]:
        with django_assert_max_num_queries(20) as captured:
            response = client.get(LIST)
            assert response.status_code == 200
        return len(captured), len(response.context["page"])

    bought(branch, consultant)
    few, rows = queries()
    assert rows == 1
    for _ in range(3):
        bought(branch, consultant)
    many, rows = queries()
    assert rows == 4
    assert many == few


# --- A customer's statement ----------------------------------------------------------------


def test_the_statement_shows_each_entry_with_its_source_newest_first(
    client, branch_manager, branch, advisor, technician
):
    work_order = closed_work_order(branch, advisor, technician)
    customer = work_order.customer
    settlement = work_order.settlement
    assert PointsEntry.objects.filter(settlement=settlement).exists()  # credited on closing
    services.points_redeem(customer=customer, points=5, note="洗车一次", by=advisor)
    client.force_login(branch_manager)

    response = client.get(statement_url(customer))
    entries = list(response.context["page"])
    assert [entry.kind for entry in entries] == [PointsKind.REDEMPTION, PointsKind.SERVICE]
    page = response.content.decode()
    earned, spent = entries[1], entries[0]
    earned_row = re.search(rf'id="entry-{earned.pk}"(.*?)</tr>', page, re.S).group(1)
    assert f"+{earned.points}" in earned_row and settlement.number in earned_row
    assert reverse("service:work-order-detail", args=[work_order.pk]) in earned_row
    spent_row = re.search(rf'id="entry-{spent.pk}"(.*?)</tr>', page, re.S).group(1)
    assert "-5" in spent_row and "洗车一次" in spent_row and str(spent.balance) in spent_row
    assert response.context["balance"] == earned.points - 5


def test_a_purchase_links_its_order(client, branch_manager, buyer):
    client.force_login(branch_manager)
    page = client.get(statement_url(buyer)).content.decode()
    order = buyer.loyalty_account.entries.get().order
    assert order.number in page and reverse("sales:order-detail", args=[order.pk]) in page


def test_a_customer_without_an_account_has_an_empty_statement(client, advisor, branch):
    customer = CustomerFactory(branch=branch)
    client.force_login(advisor)
    response = client.get(statement_url(customer))
    assert response.status_code == 200
    assert response.context["balance"] == 0 and list(response.context["page"]) == []
    page = response.content.decode()
    assert "No points yet." in page
    assert 'id="redeem-nothing"' in page and 'id="redeem-form"' not in page
    assert not LoyaltyAccount.objects.filter(customer=customer).exists()


def test_an_unknown_customer_is_not_found(client, advisor):
    client.force_login(advisor)
    assert client.get(reverse("care:loyalty-statement", args=[999999])).status_code == 404


def test_the_statement_queries_do_not_grow_with_the_entries(
    client, advisor, buyer, branch, consultant, django_assert_max_num_queries
):
    client.force_login(advisor)

    def queries() -> tuple[int, int]:
        with django_assert_max_num_queries(20) as captured:
            response = client.get(statement_url(buyer))
            assert response.status_code == 200
        return len(captured), len(response.context["page"])

    few, rows = queries()
    assert rows == 1
    for index in range(2):
        bought(branch, consultant, customer=buyer)
        services.points_redeem(customer=buyer, points=10, note=f"礼品{index}", by=advisor)
    many, rows = queries()
    assert rows == 5
    assert many == few


# --- Redeeming points ----------------------------------------------------------------------


def test_an_advisor_redeems_points_for_a_gift(client, advisor, buyer):
    client.force_login(advisor)
    response = redeem(client, buyer, 200, note="机油一桶")
    assert response.status_code == 302 and response.url == statement_url(buyer)

    assert balance_of(buyer) == PURCHASE_POINTS - 200
    entry = PointsEntry.objects.get(kind=PointsKind.REDEMPTION)
    assert (entry.points, entry.balance, entry.note, entry.created_by) == (
        -200, PURCHASE_POINTS - 200, "机油一桶", advisor,
    )  # fmt: skip
    assert TimelineEntry.objects.filter(customer=buyer, kind="points_redeemed").exists()
    page = client.get(response.url).content.decode()
    assert "redeemed for 机油一桶" in page and f'id="entry-{entry.pk}"' in page


def test_redeeming_more_than_the_balance_is_refused_beside_the_points(client, advisor, buyer):
    client.force_login(advisor)
    response = redeem(client, buyer, PURCHASE_POINTS + 1)
    assert response.status_code == 400
    assert field_errors(response, "points") == [
        f"{buyer.name} has {PURCHASE_POINTS} points, fewer than {PURCHASE_POINTS + 1}."
    ]
    assert 'class="form-control is-invalid"' in response.content.decode()
    assert balance_of(buyer) == PURCHASE_POINTS
    assert not PointsEntry.objects.filter(kind=PointsKind.REDEMPTION).exists()
    assert not TimelineEntry.objects.filter(customer=buyer, kind="points_redeemed").exists()


def test_a_redemption_without_what_was_given_is_refused_beside_the_note(client, advisor, buyer):
    client.force_login(advisor)
    response = redeem(client, buyer, 100, note="   ")
    assert response.status_code == 400
    assert field_errors(response, "note") == ["Say what the customer was given for the points."]
    assert balance_of(buyer) == PURCHASE_POINTS


@pytest.mark.parametrize("points", ["", "0", "-5", "1.5", "abc"])
def test_a_redemption_of_no_whole_positive_number_is_refused_beside_the_points(
    client, advisor, buyer, points
):
    client.force_login(advisor)
    response = redeem(client, buyer, points)
    assert response.status_code == 400 and field_errors(response, "points")
    assert balance_of(buyer) == PURCHASE_POINTS


def test_a_customer_without_points_cannot_redeem_and_gets_no_account(client, advisor, branch):
    customer = CustomerFactory(branch=branch)
    client.force_login(advisor)
    response = redeem(client, customer, 1)
    assert response.status_code == 400 and field_errors(response, "points")
    assert not LoyaltyAccount.objects.filter(customer=customer).exists()


# --- The rules -----------------------------------------------------------------------------


def test_the_rules_show_the_defaults_until_a_manager_saves_them(
    client, branch_manager, branch, consultant
):
    client.force_login(branch_manager)
    page = client.get(RULES).content.decode()
    assert 'id="rules-default"' in page
    assert re.search(r'id="rule-service">10<', page) and re.search(r'id="rule-purchase">1<', page)

    response = client.post(RULES, rule_form(branch))
    assert response.status_code == 302
    rule = LoyaltyRule.objects.get(branch=branch)
    assert (rule.purchase_points, rule.service_points, rule.referral_points) == (2, 15, 3000)
    assert rule.updated_by == branch_manager

    client.post(RULES, rule_form(branch, service_points=20))
    page = client.get(RULES).content.decode()
    assert 'id="rules-default"' not in page and re.search(r'id="rule-service">20<', page)
    history = re.search(r"Change history(.*?)</ul>\s*</div>", page, re.S).group(1)
    changes = re.findall(r"<li>(.*?)</li>", history)
    # newest first: 15 → 20, then the first save from the defaults (10 → 15 and so on)
    assert [re.sub(r"<[^>]+>", "", change) for change in changes] == [
        "points per 100 CNY of a service visit: 15 → 20",
        "points per 100 CNY of a purchase: 1 → 2",
        "points per 100 CNY of a service visit: 10 → 15",
        "points for a referral: 2000 → 3000",
    ]
    # the next delivery earns by the new rule: 2 points per 100 CNY
    assert balance_of(bought(branch, consultant)) == 2 * PURCHASE_POINTS


@pytest.mark.parametrize(
    "changes",
    [{"service_points": -1}, {"service_points": ""}, {"referral_points": "many"}],
)
def test_a_rule_out_of_bounds_is_refused_beside_its_field(client, branch_manager, branch, changes):
    client.force_login(branch_manager)
    response = client.post(RULES, rule_form(branch, **changes))
    assert response.status_code == 400
    [name] = changes
    assert response.context["form"].errors[name]
    assert not LoyaltyRule.objects.exists()


def test_a_group_manager_picks_the_branch_whose_rules_to_set(
    client, group_manager, branch, other_branch
):
    client.force_login(group_manager)
    page = client.get(RULES, {"branch": other_branch.pk})
    assert page.context["branch"] == other_branch
    assert 'id="rules-branch-picker"' in page.content.decode()

    response = client.post(RULES, rule_form(other_branch, referral_points=500))
    assert response.status_code == 302 and str(other_branch.pk) in response.url
    assert LoyaltyRule.objects.get().branch == other_branch
    assert client.get(RULES, {"branch": branch.pk}).context["rule"].referral_points == 2000


def test_a_branch_manager_cannot_set_another_branchs_rules(client, branch_manager, other_branch):
    client.force_login(branch_manager)
    assert 'id="rules-branch-picker"' not in client.get(RULES).content.decode()
    assert client.get(RULES, {"branch": other_branch.pk}).status_code == 404
    assert client.get(RULES, {"branch": "x"}).status_code == 404
    assert client.post(RULES, rule_form(other_branch)).status_code == 404
    assert not LoyaltyRule.objects.exists()
