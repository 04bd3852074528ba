"""The stocktake pages (盘点): a scope is frozen, counted line by line on a tablet (htmx) or all
at once (plain form), compared with the book with gains and losses in value, approved or
cancelled. Refused rules are shown and change nothing; other branches' stocktakes are 404;
the list and the count page cost the same number of queries whatever their length."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from parts import services
from parts.choices import StocktakeScope, StocktakeStatus
from parts.models import PartStock, StockMove, Stocktake
from tests.factories import BinFactory, PartFactory
from tests.parts.helpers import receive

pytestmark = pytest.mark.django_db


def shelve(branch, clerk, *, zone="A", number=None, amount=10, cost="30.00"):
    """A part received into a bin of `zone`."""
    part = PartFactory(**({"number": number} if number else {}))
    receive(branch, part, clerk, amount, cost, document="PO-1")
    services.bin_assign(
        branch=branch, part=part, bin=BinFactory(branch=branch, zone=zone), by=clerk
    )
    return part


@pytest.fixture
def plug(branch, parts_clerk):
    return shelve(branch, parts_clerk, number="101905617C", amount=10, cost="30.00")


@pytest.fixture
def filter_part(branch, parts_clerk):
    return shelve(branch, parts_clerk, number="04E115561H", amount=4, cost="25.50")


@pytest.fixture
def stocktake(branch, parts_clerk, plug, filter_part):
    return services.stocktake_start(
        branch=branch, scope=StocktakeScope.ZONE, zone="A", by=parts_clerk
    )


@pytest.fixture
def other_branch_stocktake(other_branch, parts_clerk):
    shelve(other_branch, parts_clerk)
    return services.stocktake_start(branch=other_branch, scope=StocktakeScope.ALL, by=parts_clerk)


def lines_by_part(stocktake):
    return {line.part.number: line for line in stocktake.lines.select_related("part")}


# --- Rendering and access -----------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_stocktake_pages_render_for_the_parts_clerk_in_both_languages(
    client, parts_clerk, stocktake, language
):
    client.force_login(parts_clerk)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for url in [
        reverse("parts:stocktake-list"),
        reverse("parts:stocktake-create"),
        reverse("parts:stocktake-detail", args=[stocktake.pk]),
        reverse("parts:stocktake-count", args=[stocktake.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'lang="{language}"' in response.content.decode(), url


def test_a_sales_consultant_may_not_open_or_change_stocktakes(client, consultant, stocktake):
    client.force_login(consultant)
    for url in [
        reverse("parts:stocktake-list"),
        reverse("parts:stocktake-create"),
        reverse("parts:stocktake-detail", args=[stocktake.pk]),
        reverse("parts:stocktake-count", args=[stocktake.pk]),
    ]:
        assert client.get(url).status_code == 403, url
    line = stocktake.lines.first()
    for url in [
        reverse("parts:stocktake-create"),
        reverse("parts:stocktake-count", args=[stocktake.pk]),
        reverse("parts:stocktake-approve", args=[stocktake.pk]),
        reverse("parts:stocktake-cancel", args=[stocktake.pk]),
    ]:
        assert client.post(url, {"scope": "all", f"count-{line.pk}": "1"}).status_code == 403
    stocktake.refresh_from_db()
    line.refresh_from_db()
    assert stocktake.status == StocktakeStatus.COUNTING and line.counted_quantity is None


def test_another_branchs_stocktake_is_not_found(client, parts_clerk, other_branch_stocktake):
    client.force_login(parts_clerk)
    pk = other_branch_stocktake.pk
    for url in [
        reverse("parts:stocktake-detail", args=[pk]),
        reverse("parts:stocktake-count", args=[pk]),
    ]:
        assert client.get(url).status_code == 404, url
    for url in [
        reverse("parts:stocktake-count", args=[pk]),
        reverse("parts:stocktake-approve", args=[pk]),
        reverse("parts:stocktake-cancel", args=[pk]),
    ]:
        assert client.post(url).status_code == 404, url
    other_branch_stocktake.refresh_from_db()
    assert other_branch_stocktake.status == StocktakeStatus.COUNTING


def test_the_service_advisor_may_read_but_not_approve(client, advisor, stocktake):
    client.force_login(advisor)
    assert client.get(reverse("parts:stocktake-detail", args=[stocktake.pk])).status_code == 200
    assert client.post(reverse("parts:stocktake-approve", args=[stocktake.pk])).status_code == 403


# --- Starting -----------------------------------------------------------------------------


def test_starting_a_zone_freezes_its_stock_and_opens_the_count_page(
    client, parts_clerk, branch, plug, filter_part
):
    shelve(branch, parts_clerk, zone="B")
    client.force_login(parts_clerk)
    page = client.get(reverse("parts:stocktake-create")).content.decode()
    assert '<option value="A">A</option>' in page and '<option value="B">B</option>' in page
    response = client.post(
        reverse("parts:stocktake-create"), {"scope": "zone", "zone": "A", "note": "月底盘点"}
    )
    stocktake = Stocktake.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("parts:stocktake-count", args=[stocktake.pk])
    assert (stocktake.scope, stocktake.zone, stocktake.created_by) == ("zone", "A", parts_clerk)
    assert set(lines_by_part(stocktake)) == {"101905617C", "04E115561H"}


def test_an_empty_scope_is_refused_with_its_message(client, parts_clerk, plug):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:stocktake-create"), {"scope": "classification", "classification": "base"}
    )
    assert response.status_code == 200
    assert "There is no stock in this scope to count." in response.content.decode()
    assert not Stocktake.objects.exists()


def test_a_scope_already_being_counted_is_refused(client, parts_clerk, stocktake):
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:stocktake-create"), {"scope": "all"})
    assert f"Stocktake {stocktake.number} is already counting part of this scope." in (
        response.content.decode()
    )
    assert Stocktake.objects.count() == 1


# --- Counting -----------------------------------------------------------------------------


def test_counting_one_line_with_htmx_returns_the_updated_row_and_progress(
    client, parts_clerk, stocktake
):
    client.force_login(parts_clerk)
    line = lines_by_part(stocktake)["101905617C"]
    response = client.post(
        reverse("parts:stocktake-count", args=[stocktake.pk]),
        {f"count-{line.pk}": "9"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert f'id="line-{line.pk}"' in page and 'value="9"' in page
    assert 'hx-swap-oob="true"' in page and "1 of 2 counted" in page
    assert "<html" not in page
    line.refresh_from_db()
    assert line.counted_quantity == Decimal(9) and line.counted_by == parts_clerk


def test_a_negative_count_is_refused_on_its_row_and_changes_nothing(client, parts_clerk, stocktake):
    client.force_login(parts_clerk)
    line = lines_by_part(stocktake)["101905617C"]
    response = client.post(
        reverse("parts:stocktake-count", args=[stocktake.pk]),
        {f"count-{line.pk}": "-2"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert "A count cannot be negative." in page
    assert 'value="-2"' in page  # what was typed stays, to be corrected
    line.refresh_from_db()
    assert line.counted_quantity is None


def test_the_plain_form_saves_every_line_typed_without_javascript(client, parts_clerk, stocktake):
    client.force_login(parts_clerk)
    lines = lines_by_part(stocktake)
    plug, oil_filter = lines["101905617C"], lines["04E115561H"]
    response = client.post(
        reverse("parts:stocktake-count", args=[stocktake.pk]),
        {f"count-{plug.pk}": "10", f"count-{oil_filter.pk}": "3"},
    )
    assert response.status_code == 302
    assert response.url == reverse("parts:stocktake-count", args=[stocktake.pk])
    plug.refresh_from_db()
    oil_filter.refresh_from_db()
    assert (plug.counted_quantity, oil_filter.counted_quantity) == (Decimal(10), Decimal(3))
    page = client.get(response.url).content.decode()
    assert "2 of 2 counted" in page


def test_the_plain_form_with_one_bad_count_saves_no_line(client, parts_clerk, stocktake):
    client.force_login(parts_clerk)
    lines = lines_by_part(stocktake)
    plug, oil_filter = lines["101905617C"], lines["04E115561H"]
    response = client.post(
        reverse("parts:stocktake-count", args=[stocktake.pk]),
        {f"count-{plug.pk}": "10", f"count-{oil_filter.pk}": "-1"},
    )
    assert response.status_code == 400
    assert "A count cannot be negative." in response.content.decode()
    plug.refresh_from_db()
    assert plug.counted_quantity is None


def test_the_count_page_is_ordered_by_bin_and_searchable(client, parts_clerk, stocktake):
    client.force_login(parts_clerk)
    url = reverse("parts:stocktake-count", args=[stocktake.pk])
    page = client.get(url).content.decode()
    assert 'inputmode="decimal"' in page
    bins = [line.bin_label for line in stocktake.lines.order_by("bin_label")]
    assert page.index(bins[0]) < page.index(bins[1])
    page = client.get(url, {"search": "04E115"}).content.decode()
    assert "04E115561H" in page and "101905617C" not in page


# --- Compare, approve, cancel -------------------------------------------------------------


def count_all(stocktake, clerk, counts):
    lines = lines_by_part(stocktake)
    services.stocktake_count(
        stocktake=stocktake,
        counts={lines[number].pk: Decimal(value) for number, value in counts.items()},
        by=clerk,
    )


def test_the_compare_view_shows_gains_losses_and_their_value(client, parts_clerk, stocktake):
    # given 12 plugs counted against 10 on the book (+2 × 30.00) and 3 filters against 4
    count_all(stocktake, parts_clerk, {"101905617C": 12, "04E115561H": 3})
    client.force_login(parts_clerk)
    response = client.get(reverse("parts:stocktake-detail", args=[stocktake.pk]))
    page = response.content.decode()
    totals = response.context["totals"]
    assert (totals["gains"], totals["losses"], totals["net"]) == (
        Decimal("60.00"),
        Decimal("-25.50"),
        Decimal("34.50"),
    )
    assert "+60.00" in page and "-25.50" in page and "34.50" in page
    assert 'id="stocktake-frozen"' in page


def test_approving_with_uncounted_lines_is_refused_and_changes_nothing(
    client, parts_clerk, branch, plug, stocktake
):
    count_all(stocktake, parts_clerk, {"101905617C": 12})
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:stocktake-approve", args=[stocktake.pk]), follow=True)
    assert "1 lines are not counted yet." in response.content.decode()
    stocktake.refresh_from_db()
    assert stocktake.status == StocktakeStatus.COUNTING
    assert PartStock.objects.get(branch=branch, part=plug).on_hand == Decimal(10)


def test_the_branch_manager_approves_and_the_differences_are_posted(
    client, parts_clerk, branch_manager, branch, plug, filter_part, stocktake
):
    count_all(stocktake, parts_clerk, {"101905617C": 12, "04E115561H": 3})
    client.force_login(branch_manager)
    response = client.post(reverse("parts:stocktake-approve", args=[stocktake.pk]), follow=True)
    stocktake.refresh_from_db()
    assert stocktake.status == StocktakeStatus.POSTED and stocktake.approved_by == branch_manager
    assert PartStock.objects.get(branch=branch, part=plug).on_hand == Decimal(12)
    assert PartStock.objects.get(branch=branch, part=filter_part).on_hand == Decimal(3)
    assert StockMove.objects.filter(document=stocktake.number).count() == 2
    page = response.content.decode()
    assert 'id="stocktake-frozen"' not in page and 'id="stocktake-approve"' not in page


def test_cancelling_frees_the_scope_without_adjusting(client, parts_clerk, branch, plug, stocktake):
    count_all(stocktake, parts_clerk, {"101905617C": 1})
    client.force_login(parts_clerk)
    client.post(reverse("parts:stocktake-cancel", args=[stocktake.pk]))
    stocktake.refresh_from_db()
    assert stocktake.status == StocktakeStatus.CANCELLED
    assert PartStock.objects.get(branch=branch, part=plug).on_hand == Decimal(10)
    # and a closed stocktake's count page sends the clerk back to the comparison
    response = client.get(reverse("parts:stocktake-count", args=[stocktake.pk]))
    assert response.url == reverse("parts:stocktake-detail", args=[stocktake.pk])


def test_the_list_filters_by_status_and_shows_an_empty_state(client, parts_clerk, stocktake):
    client.force_login(parts_clerk)
    page = client.get(reverse("parts:stocktake-list")).content.decode()
    assert stocktake.number in page and "0 of 2" in page
    page = client.get(reverse("parts:stocktake-list"), {"status": "posted"}).content.decode()
    assert 'id="stocktake-empty"' in page


# --- Constant queries ---------------------------------------------------------------------


def test_the_stocktake_list_costs_the_same_queries_for_3_and_13_rows(
    client, parts_clerk, branch, django_assert_max_num_queries
):
    client.force_login(parts_clerk)

    def stocktakes(count):
        for _ in range(count):
            part = shelve(branch, parts_clerk, zone="Z")
            stocktake = services.stocktake_start(
                branch=branch, scope=StocktakeScope.ZONE, zone="Z", by=parts_clerk
            )
            services.stocktake_cancel(stocktake=stocktake, by=parts_clerk)
            assert part

    stocktakes(3)
    url = reverse("parts:stocktake-list")
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    stocktakes(10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 13


def test_the_count_page_costs_the_same_queries_for_3_and_13_lines(
    client, parts_clerk, branch, django_assert_max_num_queries
):
    client.force_login(parts_clerk)
    for _ in range(3):
        shelve(branch, parts_clerk, zone="A")
    for _ in range(13):
        shelve(branch, parts_clerk, zone="B")
    small = services.stocktake_start(
        branch=branch, scope=StocktakeScope.ZONE, zone="A", by=parts_clerk
    )
    large = services.stocktake_start(
        branch=branch, scope=StocktakeScope.ZONE, zone="B", by=parts_clerk
    )
    # some lines counted, so the "counted by" of each row is shown
    count = {line.pk: Decimal(1) for line in large.lines.all()[:5]}
    services.stocktake_count(stocktake=large, counts=count, by=parts_clerk)
    client.get(reverse("parts:stocktake-count", args=[small.pk]))
    with CaptureQueriesContext(connection) as three:
        client.get(reverse("parts:stocktake-count", args=[small.pk]))
    with django_assert_max_num_queries(len(three.captured_queries)):
        response = client.get(reverse("parts:stocktake-count", args=[large.pk]))
    assert len(response.context["page"].object_list) == 13
    assert "5 of 13 counted" in response.content.decode()
