"""The parts figures page: the right numbers for a small known stockroom built with the
services, "—" where there is nothing to divide by, links to the records behind each figure,
a validated period, and the user's branches only."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from dealer_crm.choices import Role
from dealer_crm.periods import period_bounds
from parts import services
from parts.choices import IssueKind, StocktakeScope
from parts.models import StockMove
from tests.factories import BinFactory, PartFactory, SupplierFactory, UserFactory
from tests.factories.parts import placed_purchase_order
from tests.parts.helpers import delivered, receive, voucher, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def stockroom(branch, parts_clerk):
    """Today: 10 plugs bought at 30 and 3 sold over the counter, one request lost, a zone
    counted with one plug short; and 2 filters at 50 that have not moved for 400 days."""
    supplier = SupplierFactory()
    plug = PartFactory(supplier=supplier, number="101000033AA", name="火花塞")
    old = PartFactory(supplier=supplier, number="1K0129620D", name="空气滤清器")
    receive(branch, old, parts_clerk, 2, "50.00")
    StockMove.objects.filter(part=old).update(at=timezone.now() - timedelta(days=400))
    order = placed_purchase_order(branch, parts_clerk, [(plug, 10, "30.00")], supplier=supplier)
    delivered(order, parts_clerk, bin=BinFactory(branch=branch))
    issue = voucher(branch, parts_clerk, [(plug, 3)], IssueKind.COUNTER_SALE, recipient="王先生")
    walk(issue, parts_clerk)
    services.lost_sale_record(
        branch=branch, part=plug, quantity=Decimal(1), asked_by="李师傅", by=parts_clerk
    )
    stocktake = services.stocktake_start(branch=branch, scope=StocktakeScope.ALL, by=parts_clerk)
    counts = {
        line.pk: Decimal(6) if line.part_id == plug.pk else line.book_quantity
        for line in stocktake.lines.all()
    }
    services.stocktake_count(stocktake=stocktake, counts=counts, by=parts_clerk)
    services.stocktake_approve(stocktake=stocktake, by=parts_clerk)
    return {"plug": plug, "old": old}


def cards(response) -> dict[str, str]:
    return {card.key: card.value for card in response.context["cards"]}


def today_only(client) -> object:
    today = timezone.localdate().isoformat()
    return client.get(reverse("parts:figures"), {"period": "custom", "start": today, "end": today})


def test_figures_of_a_known_stockroom(client, parts_clerk, stockroom):
    # given the stockroom above, over today only
    client.force_login(parts_clerk)
    # when the clerk opens the figures
    response = today_only(client)
    # then each figure is what its definition gives
    assert response.status_code == 200
    assert cards(response) == {
        # 1 line issued of 2 requested (the issue and the lost sale)
        "fill_rate": "50.0%",
        # the registry's turnover: 90 used / the average of the days' closing stock value, and
        # a period of one day has one closing value: 280 → 90 / 280 = 0.32
        "turnover": "0.32×",
        # 280 at the end / 90 used a day
        "days_of_stock": "3.1",
        "dead_stock": "1",
        # the filters counted right, the plugs one short
        "stocktake_accuracy": "50.0%",
        "cost_used": "90.00",
        # 2 × 50 + 6 × 30
        "stock_value": "280.00",
    }
    page = response.content.decode()
    assert "worth 100.00 CNY" in page
    # and the dead stock is listed on the page
    assert [row.part_id for row in response.context["dead_stock"]] == [stockroom["old"].pk]
    assert "1K0129620D" in page


def test_every_figure_has_a_definition_and_links_to_its_records(client, parts_clerk, stockroom):
    client.force_login(parts_clerk)
    response = today_only(client)
    today = timezone.localdate().isoformat()
    links = {card.key: [url for _label, url in card.links] for card in response.context["cards"]}
    assert all(card.definition for card in response.context["cards"])
    assert all(links.values())
    assert links["fill_rate"] == [f"{reverse('parts:lost-sale-list')}?since={today}&until={today}"]
    assert links["cost_used"] == [
        f"{reverse('parts:move-list')}?kind=work_order_issue&kind=counter_sale&kind=return_to_stock"
        f"&since={today}&until={today}"
    ]
    assert links["dead_stock"][0] == "#dead-stock"
    assert f"{reverse('parts:stock-list')}?in_stock=true" in links["dead_stock"]
    assert f"{reverse('parts:stocktake-list')}?status=posted" in links["stocktake_accuracy"]


def test_an_empty_period_shows_dashes_never_made_up_numbers(client, parts_clerk, stockroom):
    # given a period long before anything happened
    client.force_login(parts_clerk)
    response = client.get(
        reverse("parts:figures"), {"period": "custom", "start": "2020-01-01", "end": "2020-01-31"}
    )
    # then the ratios have nothing to divide by
    figures = cards(response)
    assert figures["fill_rate"] == "—"
    assert figures["turnover"] == "—"
    assert figures["days_of_stock"] == "—"
    assert figures["stocktake_accuracy"] == "—"
    assert figures["cost_used"] == "0.00"
    assert figures["stock_value"] == "0.00"


def test_a_stockroom_with_nothing_shows_dashes(client, parts_clerk):
    client.force_login(parts_clerk)
    response = client.get(reverse("parts:figures"))
    assert response.status_code == 200
    figures = cards(response)
    assert figures["fill_rate"] == figures["turnover"] == figures["days_of_stock"] == "—"
    assert figures["dead_stock"] == "0"
    assert "No dead stock" in response.content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_this_month_is_the_default_period(client, parts_clerk, language):
    client.force_login(parts_clerk)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("parts:figures"))
    assert f'lang="{language}"' in response.content.decode()
    start, end = period_bounds("this_month", timezone.localdate())
    assert (response.context["figures"]["start"], response.context["figures"]["end"]) == (
        start,
        end,
    )


def test_presets_stand_for_their_dates():
    today = date(2025, 3, 15)
    assert period_bounds("this_month", today) == (date(2025, 3, 1), today)
    assert period_bounds("last_month", today) == (date(2025, 2, 1), date(2025, 2, 28))
    assert period_bounds("this_year", today) == (date(2025, 1, 1), today)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"period": "custom", "start": "2025-03-10", "end": "2025-03-01"}, "ends before it starts"),
        ({"period": "custom", "start": "2025-03-10"}, "Give both dates"),
        ({"period": "custom", "start": "nonsense", "end": "2025-03-01"}, "Enter a valid date"),
        ({"period": "custom", "start": "1900-01-01", "end": "2025-03-01"}, "at most five years"),
    ],
)
def test_a_bad_custom_period_is_explained_not_computed(client, parts_clerk, query, message):
    client.force_login(parts_clerk)
    response = client.get(reverse("parts:figures"), query)
    assert response.status_code == 200
    assert response.context["figures"] is None
    assert message in response.content.decode()


def test_one_branch_or_all_of_a_group_managers(
    client, branch, other_branch, parts_clerk, stockroom
):
    # given a group manager who sees both branches, the other one with no stock
    manager = UserFactory(roles=[Role.GROUP_MANAGER], branches=[branch, other_branch])
    client.force_login(manager)
    today = timezone.localdate().isoformat()
    query = {"period": "custom", "start": today, "end": today}
    # then all branches add up, and the other branch alone has nothing
    assert cards(client.get(reverse("parts:figures"), query))["stock_value"] == "280.00"
    response = client.get(reverse("parts:figures"), {**query, "branch": other_branch.pk})
    assert cards(response)["stock_value"] == "0.00"
    assert response.context["dead_stock"] == []
    assert f"branch={other_branch.pk}" in response.context["cards"][0].links[0][1]


def test_another_branchs_stock_is_not_counted_nor_choosable(
    client, other_branch, branch, stockroom
):
    clerk = UserFactory(roles=[Role.PARTS_CLERK], branches=[other_branch])
    client.force_login(clerk)
    today = timezone.localdate().isoformat()
    query = {"period": "custom", "start": today, "end": today}
    response = client.get(reverse("parts:figures"), query)
    assert cards(response)["stock_value"] == "0.00"
    assert cards(response)["dead_stock"] == "0"
    response = client.get(reverse("parts:figures"), {**query, "branch": branch.pk})
    assert response.context["figures"] is None
    assert "Select a valid choice" in response.content.decode()


def test_branch_manager_reads_the_figures_and_a_sales_consultant_may_not(
    client, branch_manager, consultant
):
    client.force_login(branch_manager)
    assert client.get(reverse("parts:figures")).status_code == 200
    client.force_login(consultant)
    assert client.get(reverse("parts:figures")).status_code == 403
