"""Loyalty points (积分) through the API: the accounts of the branch's customers (one appears
with the customer's first points), a customer's statement newest first, points redeemed for
what the customer chose (never more than the balance), and the branch's rules, read by the
managers and set by them. Each role's permissions, another branch's 404s, the refusals'
codes with nothing changed, and the lists' query counts."""

import pytest
from django.contrib.auth.models import User
from django.test import TestCase
from rest_framework.test import APIClient

from customers.care import services
from customers.care.models import LoyaltyAccount, LoyaltyRule, PointsEntry
from customers.models import TimelineEntry
from dealer_crm.choices import Role
from tests.archives.helpers import deliver, invoiced_order
from tests.factories import BranchFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/"
# A car of 117,900 CNY at the default rule of 1 point per 100 CNY.
PURCHASE_POINTS = 1179


def delivered_customer(branch, consultant):
    """A customer who took delivery of a car at `branch`: the delivery's event credits their
    purchase points."""
    order = invoiced_order(branch, consultant)
    with TestCase.captureOnCommitCallbacks(execute=True):
        deliver(order, consultant)
    return order.customer


@pytest.fixture
def buyer(branch, consultant):
    return delivered_customer(branch, consultant)


@pytest.fixture
def account(buyer) -> LoyaltyAccount:
    return buyer.loyalty_account


def snapshot() -> dict:
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (LoyaltyAccount, PointsEntry, LoyaltyRule)
    }


def post(client, url: str, body: dict | None = None, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(API + url, body or {}, format="json", **headers)


def refused(response) -> tuple[int, str]:
    return response.status_code, response.json().get("code")


# --- accounts and statements ---------------------------------------------------------------------


def test_an_account_appears_with_the_customer_first_points(api_as, branch, buyer, consultant):
    # given a customer who bought a car, and one who never earned points
    newcomer = CustomerFactory(branch=branch)
    client = api_as(consultant)
    # when the consultant looks each up
    bought = client.get(f"{API}loyalty-accounts/", {"customer": buyer.pk})
    none_yet = client.get(f"{API}loyalty-accounts/", {"customer": newcomer.pk})
    # then the buyer's account holds the purchase points; the newcomer has no account yet
    assert bought.status_code == 200
    [row] = bought.json()["results"]
    assert (row["customer"], row["customer_name"], row["branch"], row["balance"]) == (
        buyer.pk, buyer.name, branch.pk, PURCHASE_POINTS,
    )  # fmt: skip
    assert row["id"] == buyer.loyalty_account.pk
    assert none_yet.status_code == 200 and none_yet.json()["results"] == []


def test_the_accounts_are_searched_by_name_and_ordered_by_balance(
    api_as, branch, buyer, consultant, advisor
):
    # given a second buyer who spent some of their points
    second = delivered_customer(branch, consultant)
    services.points_redeem(customer=second, points=179, note="机油一桶", by=advisor)
    client = api_as(advisor)

    def customers(**query) -> list[int]:
        response = client.get(f"{API}loyalty-accounts/", query)
        assert response.status_code == 200, response.json()
        return [row["customer"] for row in response.json()["results"]]

    # then the largest balance comes first unless asked otherwise, and a name finds its owner
    assert customers() == [buyer.pk, second.pk]
    assert customers(ordering="balance") == [second.pk, buyer.pk]
    assert customers(search=second.name) == [second.pk]
    assert customers(search=second.mobile[-4:]) == [second.pk]
    assert client.get(f"{API}loyalty-accounts/", {"customer": "nobody"}).status_code == 400


def test_the_statement_lists_the_entries_newest_first(api_as, account, advisor):
    # given the purchase points, then two redemptions
    services.points_redeem(customer=account.customer, points=100, note="洗车一次", by=advisor)
    services.points_redeem(customer=account.customer, points=79, note="机油一桶", by=advisor)
    client = api_as(advisor)
    # when the statement is read whole, and two lines at a time
    response = client.get(f"{API}loyalty-accounts/{account.pk}/entries/")
    first = client.get(f"{API}loyalty-accounts/{account.pk}/entries/", {"limit": 2}).json()
    rest = client.get(first["next"]).json()
    # then the newest line comes first, each with the balance after it
    assert response.status_code == 200
    rows = [
        (row["kind"], row["points"], row["balance"], row["note"])
        for row in response.json()["results"]
    ]
    assert rows == [
        ("redemption", -79, 1000, "机油一桶"),
        ("redemption", -100, 1079, "洗车一次"),
        ("purchase", PURCHASE_POINTS, PURCHASE_POINTS, ""),
    ]
    assert response.json()["results"][0]["created_by"] == advisor.pk
    assert response.json()["results"][2]["order"] is not None
    assert [row["points"] for row in first["results"]] == [-79, -100]
    assert [row["points"] for row in rest["results"]] == [PURCHASE_POINTS]


def test_points_are_redeemed_for_what_the_customer_chose(api_as, account, advisor):
    # when the advisor redeems 500 points for an oil change, sending the request twice
    client = api_as(advisor)
    body = {"points": 500, "note": "免费更换机油"}
    response = post(client, f"loyalty-accounts/{account.pk}/redeem/", body, key="redeem-1")
    replayed = post(client, f"loyalty-accounts/{account.pk}/redeem/", body, key="redeem-1")
    # then the statement has one new line, the balance is down by 500, and the customer's
    # timeline says so
    assert response.status_code == 201, response.json()
    shown = response.json()
    assert (shown["kind"], shown["points"], shown["balance"], shown["note"]) == (
        "redemption", -500, PURCHASE_POINTS - 500, "免费更换机油",
    )  # fmt: skip
    assert shown["created_by"] == advisor.pk and shown["created_by_name"]
    assert (replayed.status_code, replayed.json()) == (201, shown)
    account.refresh_from_db()
    assert account.balance == PURCHASE_POINTS - 500
    assert account.entries.filter(kind="redemption").count() == 1
    assert TimelineEntry.objects.filter(customer=account.customer, detail__contains="500").exists()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"points": PURCHASE_POINTS + 1, "note": "整车贴膜"}, (400, "points_insufficient")),
        ({"points": 0, "note": "洗车"}, (400, "points_not_positive")),
        ({"points": -10, "note": "洗车"}, (400, "points_not_positive")),
        ({"points": 10, "note": "   "}, (400, "note_required")),
        ({"points": "many", "note": "洗车"}, (400, None)),
        ({"points": 10}, (400, None)),
        ({"points": 10, "note": "洗" * 201}, (400, None)),
    ],
)
def test_a_bad_redemption_is_refused_and_nothing_changes(api_as, account, advisor, body, expected):
    # given the customer's points
    before = snapshot()
    # when the advisor redeems with a bad amount or note
    response = post(api_as(advisor), f"loyalty-accounts/{account.pk}/redeem/", body)
    # then it is refused (with the service's code for a rule, beside the field), and the
    # balance and the statement are as they were
    assert refused(response) == expected
    assert set(response.json()) & {"points", "note"}
    assert snapshot() == before


# --- the rules ---------------------------------------------------------------------------------


def test_a_manager_reads_the_default_rules_and_sets_them(
    api_as, branch, consultant, branch_manager
):
    # given a branch whose rules were never set
    client = api_as(branch_manager)
    listed = client.get(f"{API}loyalty-rules/")
    # when the manager sets them: 2 points per 100 CNY of a car
    response = client.put(
        f"{API}loyalty-rules/{branch.pk}/",
        {"purchase_points": 2, "service_points": 15, "referral_points": 3000},
    )
    # then the defaults were shown, and now the saved rule is
    assert listed.status_code == 200
    assert [
        (row["branch"], row["purchase_points"], row["service_points"], row["saved"])
        for row in listed.json()["results"]
    ] == [(branch.pk, 1, 10, False)]
    assert response.status_code == 200, response.json()
    shown = response.json()
    assert (shown["purchase_points"], shown["service_points"], shown["referral_points"]) == (
        2, 15, 3000,
    )  # fmt: skip
    assert (shown["saved"], shown["updated_by"], shown["branch_name"]) == (
        True, branch_manager.pk, branch.name,
    )  # fmt: skip
    assert client.get(f"{API}loyalty-rules/{branch.pk}/").json() == shown
    # and the next car delivered earns by them
    buyer = delivered_customer(branch, consultant)
    assert buyer.loyalty_account.balance == 2 * PURCHASE_POINTS


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purchase_points": -1, "service_points": 10, "referral_points": 2000}, "purchase_points"),
        (
            {"purchase_points": 1, "service_points": "ten", "referral_points": 2000},
            "service_points",
        ),
        ({"purchase_points": 1, "service_points": 10}, "referral_points"),
    ],
)
def test_bad_rules_are_refused(api_as, branch, branch_manager, body, field):
    response = api_as(branch_manager).put(f"{API}loyalty-rules/{branch.pk}/", body)
    assert response.status_code == 400 and field in response.json()
    assert not LoyaltyRule.objects.exists()


def test_a_care_agent_cannot_change_the_rules(api_as, branch, customer_care, advisor):
    # when the care agent and the advisor try to read and set the rules
    body = {"purchase_points": 5, "service_points": 50, "referral_points": 5000}
    answers = [
        api_as(customer_care).put(f"{API}loyalty-rules/{branch.pk}/", body).status_code,
        api_as(customer_care).get(f"{API}loyalty-rules/").status_code,
        api_as(advisor).put(f"{API}loyalty-rules/{branch.pk}/", body).status_code,
    ]
    # then both are refused, and the rules are the defaults still
    assert answers == [403, 403, 403]
    assert not LoyaltyRule.objects.exists()


def test_the_rules_answer_get_and_put_only(api_as, branch, branch_manager):
    client = api_as(branch_manager)
    body = {"purchase_points": 5, "service_points": 50, "referral_points": 5000}
    answers = [
        client.patch(f"{API}loyalty-rules/{branch.pk}/", body).status_code,
        client.post(f"{API}loyalty-rules/", body).status_code,
        client.delete(f"{API}loyalty-rules/{branch.pk}/").status_code,
        client.get(f"{API}loyalty-rules/first/").status_code,
    ]
    assert answers == [405, 405, 405, 404]
    assert not LoyaltyRule.objects.exists()


def test_a_group_manager_sees_and_sets_every_branch_rules(
    api_as, branch, other_branch, group_manager
):
    # when the group manager sets the other branch's rules, then lists them all
    client = api_as(group_manager)
    body = {"purchase_points": 3, "service_points": 12, "referral_points": 1000}
    response = client.put(f"{API}loyalty-rules/{other_branch.pk}/", body)
    listed = client.get(f"{API}loyalty-rules/").json()["results"]
    # then the other branch has its rule, theirs the defaults
    assert response.status_code == 200
    assert LoyaltyRule.objects.get().branch == other_branch
    assert sorted(
        (row["branch"], row["purchase_points"], row["saved"]) for row in listed
    ) == sorted([(branch.pk, 1, False), (other_branch.pk, 3, True)])


# --- permissions, other branches, query counts ------------------------------------------------


def test_anonymous_clients_are_told_to_log_in(api_client, account, branch):
    answers = [
        api_client.get(f"{API}loyalty-accounts/").status_code,
        api_client.get(f"{API}loyalty-accounts/{account.pk}/entries/").status_code,
        post(
            api_client, f"loyalty-accounts/{account.pk}/redeem/", {"points": 1, "note": "x"}
        ).status_code,
        api_client.get(f"{API}loyalty-rules/{branch.pk}/").status_code,
    ]
    assert answers == [401, 401, 401, 401]
    assert PointsEntry.objects.count() == 1


@pytest.mark.parametrize("persona", ["consultant", "customer_care", "advisor", "branch_manager"])
def test_those_facing_customers_read_the_points(request, api_as, account, persona):
    client = api_as(request.getfixturevalue(persona))
    answers = [
        client.get(f"{API}loyalty-accounts/").status_code,
        client.get(f"{API}loyalty-accounts/{account.pk}/").status_code,
        client.get(f"{API}loyalty-accounts/{account.pk}/entries/").status_code,
    ]
    assert answers == [200, 200, 200]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("consultant", 403), ("technician", 403), ("customer_care", 201), ("branch_manager", 201)],
)
def test_who_redeems_points(request, api_as, account, persona, expected):
    # when each role redeems points
    response = post(
        api_as(request.getfixturevalue(persona)),
        f"loyalty-accounts/{account.pk}/redeem/",
        {"points": 100, "note": "洗车一次"},
    )
    # then care, advisors and managers may, consultants and technicians may not
    assert response.status_code == expected
    account.refresh_from_db()
    assert account.balance == PURCHASE_POINTS - (100 if expected == 201 else 0)


def test_another_branch_accounts_and_rules_are_not_found(api_as, account, branch, other_branch):
    # given our customer's account, and the other branch's manager and advisor in one
    other = UserFactory(
        roles=[Role.BRANCH_MANAGER, Role.SERVICE_ADVISOR], branches=[other_branch], username="py"
    )
    client = api_as(other)
    before = snapshot()
    # when they reach our account, its statement, a redemption and our branch's rules
    answers = {
        "account": client.get(f"{API}loyalty-accounts/{account.pk}/"),
        "entries": client.get(f"{API}loyalty-accounts/{account.pk}/entries/"),
        "redeem": post(client, f"loyalty-accounts/{account.pk}/redeem/",
                       {"points": 100, "note": "洗车"}),
        "rule": client.get(f"{API}loyalty-rules/{branch.pk}/"),
        "set rule": client.put(f"{API}loyalty-rules/{branch.pk}/", {
            "purchase_points": 9, "service_points": 9, "referral_points": 9}),
    }  # fmt: skip
    listed = client.get(f"{API}loyalty-accounts/").json()["results"]
    named = client.get(f"{API}loyalty-accounts/", {"customer": account.customer_id})
    rules = client.get(f"{API}loyalty-rules/").json()["results"]
    # then none exists for them, their lists hold only their own, and nothing changed
    assert {name: refused(r) for name, r in answers.items()} == {
        name: (404, "not_found") for name in answers
    }
    assert listed == [] and named.status_code == 400
    assert [row["branch"] for row in rules] == [other_branch.pk]
    assert snapshot() == before


def _queries(user, url: str, assert_max_queries) -> tuple[int, int]:
    """Queries of one request, as a fresh client of a freshly loaded user would make."""
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    with assert_max_queries(12) as captured:
        response = client.get(url, {"limit": 50})
    assert response.status_code == 200
    return len(captured), len(response.json()["results"])


def test_the_account_list_queries_do_not_grow_with_the_rows(
    branch, consultant, advisor, django_assert_max_num_queries
):
    # given one account, measured, and then five
    delivered_customer(branch, consultant)
    url = f"{API}loyalty-accounts/"
    one, shown = _queries(advisor, url, django_assert_max_num_queries)
    for _ in range(4):
        delivered_customer(branch, consultant)
    five, shown_five = _queries(advisor, url, django_assert_max_num_queries)
    # then five cost what one does
    assert (shown, shown_five) == (1, 5)
    assert five == one


def test_the_statement_queries_do_not_grow_with_the_entries(
    account, advisor, django_assert_max_num_queries
):
    # given one entry, measured, and then five (four redemptions by the advisor)
    url = f"{API}loyalty-accounts/{account.pk}/entries/"
    one, shown = _queries(advisor, url, django_assert_max_num_queries)
    for points in (10, 20, 30, 40):
        services.points_redeem(customer=account.customer, points=points, note="礼品", by=advisor)
    five, shown_five = _queries(advisor, url, django_assert_max_num_queries)
    assert (shown, shown_five) == (1, 5)
    assert five == one


def test_the_rule_list_queries_do_not_grow_with_the_branches(
    branch, other_branch, group_manager, branch_manager, django_assert_max_num_queries
):
    # given the group manager's two branches, one with a saved rule, measured; then three more
    services.loyalty_rule_set(
        branch=branch, by=branch_manager,
        data={"purchase_points": 2, "service_points": 10, "referral_points": 2000},
    )  # fmt: skip
    url = f"{API}loyalty-rules/"
    two, shown = _queries(group_manager, url, django_assert_max_num_queries)
    for code in ("baiyun", "haizhu", "huadu"):
        extra = BranchFactory(group=branch.group, code=code)
        services.loyalty_rule_set(
            branch=extra, by=branch_manager,
            data={"purchase_points": 1, "service_points": 5, "referral_points": 100},
        )  # fmt: skip
    five, shown_five = _queries(group_manager, url, django_assert_max_num_queries)
    assert (shown, shown_five) == (2, 5)
    assert five == two
