"""The deal pages: the deals and a new one with its models, a deal with its stage, its
batches priced (each vehicle a sales order, delivered in sales and listed from the batch) and
settled, its discount and configuration requests, the settlement statement, the requests
awaiting a decision and the fleet figures. Refused rules show their message beside the field
and change nothing; other branches' deals are 404; the lists' and the deal page's queries do
not grow with their rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from fleet import services
from fleet.choices import DealStage, ProtectionStatus, RequestStatus
from fleet.models import (
    DealLine,
    DiscountRequest,
    FleetDeal,
    FleetOrder,
    SpecialConfigurationRequest,
)
from sales.choices import OrderStatus
from sales.models import Order
from tests.factories import OrderFactory, UserFactory
from tests.fleet.helpers import (
    TIER_1,
    TIER_2,
    TWO_TIERS,
    UNIT_PRICE,
    agreement_with_tiers,
    counts,
    deal_for,
    delivered,
    fresh,
    lapse,
    priced,
    register,
    state,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(account, fleet_manager):
    return deal_for(account, fleet_manager)


@pytest.fixture
def agreement(account, fleet_manager):
    return agreement_with_tiers(account, fleet_manager)


@pytest.fixture
def other_deal(other_branch):
    rival = UserFactory(username="rival", roles=["fleet_manager"], branches=[other_branch])
    return deal_for(register(other_branch, rival), rival)


def url(name: str, *args) -> str:
    return reverse(f"fleet:{name}", args=args)


def discount_for(deal, by) -> DiscountRequest:
    return services.discount_request_create(
        deal=deal, discount_per_unit=Decimal("800.00"), units=30, justification="竞品报价低", by=by
    )


# --- Rendering and access ----------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_deal_pages_render_for_the_fleet_manager_in_both_languages(
    client, fleet_manager, deal, agreement, language
):
    # given a deal with a delivered batch and a pending discount request
    delivered(priced(deal, agreement, fleet_manager, 5), fleet_manager)
    discount_for(deal, fleet_manager)
    client.force_login(fleet_manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    # when each page is opened, then it answers
    for page in [
        url("deal-list"),
        url("deal-create"),
        url("deal-detail", deal.pk),
        url("settlement-statement", deal.pk),
        url("request-list"),
        url("request-list") + "?kind=configuration",
        url("figures"),
    ]:
        response = client.get(page)
        assert response.status_code == 200, page
        assert deal.title.encode() in response.content or page in (
            url("deal-create"),
            url("figures"),
            url("request-list") + "?kind=configuration",
        ), page


def test_the_sales_manager_sees_the_figures_and_the_requests_to_decide(
    client, sales_manager, fleet_manager, deal
):
    # given a pending discount request of the branch
    discount_for(deal, fleet_manager)
    client.force_login(sales_manager)
    # when the manager opens the requests and the figures
    requests = client.get(url("request-list"))
    figures = client.get(url("figures"))
    # then both answer, and the request offers the decision buttons
    assert (requests.status_code, figures.status_code) == (200, 200)
    assert b'name="approve" value="1"' in requests.content


def test_a_consultant_has_no_fleet_pages(client, consultant, deal):
    client.force_login(consultant)
    for page in [
        url("deal-list"),
        url("deal-create"),
        url("deal-detail", deal.pk),
        url("settlement-statement", deal.pk),
        url("request-list"),
        url("figures"),
    ]:
        assert client.get(page).status_code == 403, page
    before = state(deal)
    response = client.post(url("deal-action", deal.pk, "stage"), {"stage": "tender"})
    assert response.status_code == 403
    assert state(deal) == before


def test_another_branch_deal_answers_404(client, fleet_manager, other_deal):
    client.force_login(fleet_manager)
    for page in [url("deal-detail", other_deal.pk), url("settlement-statement", other_deal.pk)]:
        assert client.get(page).status_code == 404, page
    before = counts()
    for action, data in [
        ("stage", {"stage": "tender"}),
        ("order", {"quantity": "60", "negotiated_support": "100"}),
        ("discount", {"discount_per_unit": "500", "units": "2", "justification": "x"}),
    ]:
        assert client.post(url("deal-action", other_deal.pk, action), data).status_code == 404
    assert counts() == before
    assert fresh(other_deal).stage == DealStage.PROSPECT


def test_an_unknown_action_answers_404(client, fleet_manager, deal):
    client.force_login(fleet_manager)
    assert client.post(url("deal-action", deal.pk, "explode")).status_code == 404


# --- A new deal ------------------------------------------------------------------------------


def deal_form(account, **overrides) -> dict:
    data = {
        "account": str(account.pk),
        "title": "2026年公务用车采购",
        "tender_on": "2026-09-01",
        "procurement_centre": "广州市政府采购中心",
        "competitors": "丰田, 本田",
        "expected_value": "4500000.00",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "50",
        "lines-0-brand": "大众",
        "lines-0-series": "帕萨特",
        "lines-0-configuration": "330TSI 精英版",
        "lines-0-colour": "黑",
        "lines-0-quantity": "20",
        "lines-1-brand": "大众",
        "lines-1-series": "途观L",
        "lines-1-quantity": "10",
    }
    data.update(overrides)
    return data


def test_a_deal_is_created_with_the_models_asked_for(client, fleet_manager, account):
    client.force_login(fleet_manager)
    # when the fleet manager creates a deal with two models
    response = client.post(url("deal-create"), deal_form(account))
    # then the deal exists with its lines and the page shows it
    deal = FleetDeal.objects.get(title="2026年公务用车采购")
    assert response.status_code == 302 and response["Location"] == url("deal-detail", deal.pk)
    assert deal.account == account and deal.expected_value == Decimal("4500000.00")
    assert sorted(deal.lines.values_list("brand", "series", "quantity")) == [
        ("大众", "帕萨特", 20), ("大众", "途观L", 10),
    ]  # fmt: skip
    listed = client.get(url("deal-list"))
    assert "2026年公务用车采购" in listed.content.decode() and b">30<" in listed.content


def test_a_deal_line_of_quantity_0_is_refused_beside_the_row(client, fleet_manager, account):
    client.force_login(fleet_manager)
    before = counts(FleetDeal, DealLine)
    # when a line asks for 0 vehicles
    response = client.post(url("deal-create"), deal_form(account, **{"lines-1-quantity": "0"}))
    # then the page says why and nothing is saved
    assert response.status_code == 200
    row = response.context["formset"].forms[1]
    assert row.errors["quantity"] == ["A quantity is at least 1."]
    assert counts(FleetDeal, DealLine) == before


def test_a_deal_line_without_its_brand_is_refused_beside_the_row(client, fleet_manager, account):
    client.force_login(fleet_manager)
    before = counts(FleetDeal, DealLine)
    # when a line does not say the brand of its model
    response = client.post(url("deal-create"), deal_form(account, **{"lines-1-brand": ""}))
    # then the page says so beside the row and nothing is saved
    assert response.status_code == 200
    assert response.context["formset"].forms[1].errors["brand"] == ["This field is required."]
    assert counts(FleetDeal, DealLine) == before


def test_a_deal_for_another_branch_account_is_not_offered(client, fleet_manager, other_branch):
    rival = UserFactory(username="rival2", roles=["fleet_manager"], branches=[other_branch])
    theirs = register(other_branch, rival)
    client.force_login(fleet_manager)
    response = client.post(url("deal-create"), deal_form(theirs))
    assert response.status_code == 200 and "account" in response.context["form"].errors
    assert not FleetDeal.objects.filter(title="2026年公务用车采购").exists()


# --- The stage ---------------------------------------------------------------------------------


def test_winning_a_deal_needs_its_reason(client, fleet_manager, deal):
    client.force_login(fleet_manager)
    before = state(deal)
    # when the deal is marked won without a reason, then it is refused beside the reason
    refused = client.post(url("deal-action", deal.pk, "stage"), {"stage": "won", "reason": ""})
    assert refused.status_code == 200
    assert refused.context["stage_form"].errors["reason"] == ["Say why it was won or lost."]
    assert state(deal) == before
    # and with the reason it is won
    won = client.post(url("deal-action", deal.pk, "stage"), {"stage": "won", "reason": "价格优势"})
    assert won.status_code == 302
    deal = fresh(deal)
    assert (deal.stage, deal.closing_reason) == (DealStage.WON, "价格优势")


# --- Batches -----------------------------------------------------------------------------------


def price_form(deal, **fields) -> dict:
    """The price form of a batch of the deal's first model at 100,000 CNY a vehicle."""
    return {"line": str(deal.lines.first().pk), "unit_price": str(UNIT_PRICE), **fields}


@pytest.fixture
def big_deal(account, fleet_manager):
    """A deal for 60 vehicles of one model: room for a special deal."""
    return deal_for(account, fleet_manager, quantity=60)


def test_pricing_a_batch_on_the_agreement_tiers(client, fleet_manager, deal, agreement):
    client.force_login(fleet_manager)
    response = client.post(
        url("deal-action", deal.pk, "order"),
        price_form(deal, quantity="8", agreement=str(agreement.pk), unit_price="98500.00"),
    )
    assert response.status_code == 302
    order = FleetOrder.objects.get(deal=deal)
    assert (order.quantity, order.support_per_unit, order.is_special) == (8, TIER_1, False)
    assert (order.line, order.unit_price) == (deal.lines.get(), Decimal("98500.00"))
    # and its 8 vehicles wait as signed sales orders at that price
    assert (
        list(order.sales_orders.values_list("status", "total_price"))
        == [(OrderStatus.SIGNED, Decimal("98500.00"))] * 8
    )


def test_a_batch_of_0_units_is_refused_beside_the_quantity(client, fleet_manager, deal, agreement):
    client.force_login(fleet_manager)
    before = counts()
    response = client.post(
        url("deal-action", deal.pk, "order"),
        price_form(deal, quantity="0", agreement=str(agreement.pk)),
    )
    assert response.status_code == 200
    assert response.context["price_form"].errors["quantity"] == ["A quantity is at least 1."]
    assert "A quantity is at least 1." in response.content.decode()
    assert counts() == before


def test_a_batch_of_another_deals_model_is_not_offered(
    client, fleet_manager, account, deal, agreement
):
    # given another deal of the account
    other = deal_for(account, fleet_manager, title="公务用车")
    client.force_login(fleet_manager)
    before = counts()
    # when a batch of this deal is posted with the other deal's model
    response = client.post(
        url("deal-action", deal.pk, "order"),
        price_form(deal, quantity="5", agreement=str(agreement.pk), line=str(other.lines.get().pk)),
    )
    # then the model is refused beside its field, and nothing is priced
    assert response.status_code == 200
    assert list(response.context["price_form"].errors) == ["line"]
    assert list(response.context["price_form"].fields["line"].queryset) == [deal.lines.get()]
    assert counts() == before


def test_a_batch_beyond_the_models_units_is_refused_beside_the_quantity(
    client, fleet_manager, deal, agreement
):
    # given 25 of the deal's 30 vehicles already priced
    priced(deal, agreement, fleet_manager, 25)
    client.force_login(fleet_manager)
    before = counts()
    # when 6 more are priced
    response = client.post(
        url("deal-action", deal.pk, "order"),
        price_form(deal, quantity="6", agreement=str(agreement.pk)),
    )
    # then the page says 5 are left, and nothing is priced
    assert response.status_code == 200
    assert response.context["price_form"].errors["quantity"] == [
        "5 of the 30 朗逸 asked for are left to order."
    ]
    assert counts() == before


def test_a_special_deal_with_a_promotion_is_refused(client, fleet_manager, big_deal):
    client.force_login(fleet_manager)
    before = counts()
    response = client.post(
        url("deal-action", big_deal.pk, "order"),
        price_form(big_deal, quantity="60", negotiated_support="1800.00", promotion="置换补贴"),
    )
    assert response.status_code == 200
    assert response.context["price_form"].errors["promotion"] == [
        "An order of more than 50 units takes no other promotion."
    ]
    assert counts() == before


def test_a_special_deal_is_priced_at_its_negotiated_support(client, fleet_manager, big_deal):
    client.force_login(fleet_manager)
    client.post(
        url("deal-action", big_deal.pk, "order"),
        price_form(big_deal, quantity="60", negotiated_support="1800.00"),
    )
    order = FleetOrder.objects.get(deal=big_deal)
    assert (order.is_special, order.tier_band, order.support_per_unit) == (
        True,
        None,
        Decimal("1800.00"),
    )
    assert order.sales_orders.count() == 60


def test_a_batch_delivered_in_sales_is_settled_on_the_deal_page(
    client, fleet_manager, deal, agreement
):
    # given a batch of 6 of which sales delivered 4
    order = delivered(priced(deal, agreement, fleet_manager, 6), fleet_manager, 4)
    client.force_login(fleet_manager)
    # when the deal page is opened
    page = client.get(url("deal-detail", deal.pk)).content.decode()
    # then the batch shows 4 of 6 delivered, and offers no delivery of its own
    row = page[page.index(f'id="batch-{order.pk}"') :].split("</tr>")[0]
    assert ">4 / 6</a>" in row
    assert url("order-action", order.pk, "deliver") not in page
    # when the fleet page is still asked to deliver, then there is no such action
    before = state(order)
    gone = client.post(url("order-action", order.pk, "deliver"), {f"deliver-{order.pk}-units": "2"})
    assert gone.status_code == 404
    assert state(order) == before
    # when the support of the 4 delivered is settled
    settled = client.post(url("order-action", order.pk, "settle"), {
        f"settle-{order.pk}-amount": "4000.00"
    })  # fmt: skip
    # then the batch shows both
    assert settled.status_code == 302
    order = fresh(order)
    assert (order.delivered_units, order.support_settled) == (4, Decimal("4000.00"))


def test_the_deal_page_shows_each_batchs_model_price_and_links_its_sales_orders(
    client, branch, fleet_manager, deal, agreement
):
    # given a batch of 5 at 123,456 CNY a vehicle with 2 delivered, another batch, and an
    # ordinary sales order
    batch = delivered(
        priced(deal, agreement, fleet_manager, 5, unit_price=Decimal("123456.00")),
        fleet_manager, 2,
    )  # fmt: skip
    priced(deal, agreement, fleet_manager, 3)
    OrderFactory(branch=branch, consultant=fleet_manager, status=OrderStatus.SIGNED)
    client.force_login(fleet_manager)
    # when the deal page is opened
    page = client.get(url("deal-detail", deal.pk)).content.decode()
    # then the batch's row shows its model and its price per vehicle
    row = page[page.index(f'id="batch-{batch.pk}"') :].split("</tr>")[0]
    assert "大众 朗逸" in row and "1.5L 舒适版" in row
    assert "123,456.00" in row
    # and "delivered / quantity" links to the sales orders of the batch
    link = reverse("sales:order-list") + f"?fleet_order={batch.pk}"
    assert f'<a href="{link}" class="batch-orders"' in row
    assert row.split('class="batch-orders"')[1].split(">", 1)[1].startswith("2 / 5</a>")
    # when the link is followed, then the list shows the batch's 5 orders and no other
    listed = client.get(link)
    assert listed.status_code == 200
    assert {order.pk for order in listed.context["page"]} == set(
        Order.objects.filter(fleet_order=batch).values_list("pk", flat=True)
    )
    assert len(listed.context["page"]) == 5
    assert 'id="fleet-batch-filter"' in listed.content.decode()


def test_a_batch_sales_order_links_back_to_its_deal(client, fleet_manager, deal, agreement):
    # given a batch of 2
    batch = priced(deal, agreement, fleet_manager, 2)
    sales_order = batch.sales_orders.first()
    client.force_login(fleet_manager)
    # when one of its sales orders is opened
    page = client.get(reverse("sales:order-detail", args=[sales_order.pk])).content.decode()
    # then it links back to the batch on the deal's page
    back = page[page.index('id="order-fleet-batch"') - 120 : page.index('id="order-fleet-batch"')]
    assert f'href="{url("deal-detail", deal.pk)}#batch-{batch.pk}"' in back


def test_settling_more_than_is_due_is_refused_beside_the_amount(
    client, fleet_manager, deal, agreement
):
    order = delivered(priced(deal, agreement, fleet_manager, 2), fleet_manager)
    client.force_login(fleet_manager)
    before = state(order)
    response = client.post(url("order-action", order.pk, "settle"), {
        f"settle-{order.pk}-amount": "9999.00"
    })  # fmt: skip
    assert response.status_code == 200
    assert "At most 2,000.00 CNY of support is due on this batch." in response.content.decode()
    assert state(order) == before


def test_the_deal_page_shows_each_batch_kept_its_tier(client, fleet_manager, deal, agreement):
    # given a first batch of 10 priced and delivered on tier 1, then a second on tier 2
    first = delivered(priced(deal, agreement, fleet_manager, 10), fleet_manager)
    second = priced(deal, agreement, fleet_manager, 10)
    client.force_login(fleet_manager)
    # when the deal page is opened
    page = client.get(url("deal-detail", deal.pk)).content.decode()
    # then the first batch still shows tier 1's support and the second tier 2's
    first_row = page[page.index(f'id="batch-{first.pk}"') : page.index(f'id="batch-{second.pk}"')]
    second_row = page[page.index(f'id="batch-{second.pk}"') :].split("</tr>")[0]
    assert "1,000.00" in first_row and "2,500.00" not in first_row
    assert "2,500.00" in second_row
    assert (fresh(first).support_per_unit, fresh(second).support_per_unit) == (TIER_1, TIER_2)


def test_the_settlement_statement_totals_the_batches(client, fleet_manager, deal, agreement):
    first = delivered(priced(deal, agreement, fleet_manager, 4), fleet_manager)
    priced(deal, agreement, fleet_manager, 6)
    services.fleet_order_settle(order=first, amount=Decimal("1500.00"), by=fleet_manager)
    client.force_login(fleet_manager)
    response = client.get(url("settlement-statement", deal.pk))
    content = response.content.decode()
    assert response.context["statement"]["open"] == Decimal("2500.00")
    assert 'id="statement-open">2,500.00<' in content
    assert "print_base" not in content and 'id="print-button"' in content


# --- Requests ----------------------------------------------------------------------------------


def test_a_discount_request_is_raised_from_the_deal(client, fleet_manager, deal):
    client.force_login(fleet_manager)
    response = client.post(
        url("deal-action", deal.pk, "discount"),
        {"discount_per_unit": "600.00", "units": "30", "justification": "竞品报价低"},
    )
    assert response.status_code == 302
    request = DiscountRequest.objects.get(deal=deal)
    assert (request.status, request.units, request.requested_by) == (
        RequestStatus.PENDING,
        30,
        fleet_manager,
    )


def test_a_special_configuration_request_is_raised_from_the_deal(client, fleet_manager, deal):
    client.force_login(fleet_manager)
    client.post(
        url("deal-action", deal.pk, "configuration"),
        {"description": "警用涂装", "units": "5", "justification": "公安采购"},
    )
    assert SpecialConfigurationRequest.objects.get(deal=deal).description == "警用涂装"


def test_a_request_of_0_units_is_refused(client, fleet_manager, deal):
    client.force_login(fleet_manager)
    response = client.post(
        url("deal-action", deal.pk, "configuration"),
        {"description": "警用涂装", "units": "0", "justification": "公安采购"},
    )
    assert response.context["configuration_form"].errors["units"] == ["A quantity is at least 1."]
    assert not SpecialConfigurationRequest.objects.exists()


def test_the_manager_approves_a_request(client, sales_manager, fleet_manager, deal):
    request = discount_for(deal, fleet_manager)
    client.force_login(sales_manager)
    response = client.post(url("request-decide", "discount", request.pk), {"approve": "1"})
    assert response.status_code == 302
    request = fresh(request)
    assert (request.status, request.decided_by) == (RequestStatus.APPROVED, sales_manager)


def test_nobody_approves_their_own_request(client, sales_manager, deal):
    # given a request the manager raised themself
    request = discount_for(deal, sales_manager)
    before = state(request)
    client.force_login(sales_manager)
    # when they approve it, then it is refused with the service's message
    response = client.post(
        url("request-decide", "discount", request.pk), {"approve": "1"}, follow=True
    )
    assert "Nobody approves their own request." in response.content.decode()
    assert state(request) == before


def test_a_refused_request_cannot_be_approved_afterwards(
    client, sales_manager, branch_manager, fleet_manager, deal
):
    request = discount_for(deal, fleet_manager)
    services.request_decide(request=request, approve=False, note="超出授权", by=branch_manager)
    before = state(request)
    client.force_login(sales_manager)
    response = client.post(
        url("request-decide", "discount", request.pk), {"approve": "1"}, follow=True
    )
    assert "This request was already Refused." in response.content.decode()
    assert state(request) == before


def test_the_fleet_manager_may_not_decide(client, fleet_manager, sales_manager, deal):
    request = discount_for(deal, sales_manager)
    client.force_login(fleet_manager)
    response = client.post(url("request-decide", "discount", request.pk), {"approve": "1"})
    assert response.status_code == 403
    assert fresh(request).status == RequestStatus.PENDING


def test_overdue_requests_are_flagged_in_red(client, sales_manager, fleet_manager, deal):
    late = discount_for(deal, fleet_manager)
    DiscountRequest.objects.filter(pk=late.pk).update(due_by=timezone.now() - timedelta(hours=1))
    on_time = discount_for(deal, fleet_manager)
    client.force_login(sales_manager)
    page = client.get(url("request-list")).content.decode()

    def row(request) -> str:
        return page[page.index(f'<tr id="request-{request.pk}"') :].split("</tr>")[0]

    assert 'class="table-danger"' in row(late) and "Overdue" in row(late)
    assert "table-danger" not in row(on_time) and "Overdue" not in row(on_time)


# --- Query counts -----------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["deal-list", "request-list"])
def test_list_queries_do_not_grow_with_the_rows(
    client, fleet_manager, account, django_assert_max_num_queries, page
):
    client.force_login(fleet_manager)

    def queries() -> int:
        with django_assert_max_num_queries(30) as captured:
            assert client.get(url(page)).status_code == 200
        return len(captured)

    def rows(how_many: int):
        for _ in range(how_many):
            discount_for(deal_for(account, fleet_manager), fleet_manager)

    rows(3)
    three = queries()
    rows(10)
    assert queries() == three


def test_the_deal_page_queries_do_not_grow_with_its_batches(
    client, fleet_manager, deal, agreement, django_assert_max_num_queries
):
    client.force_login(fleet_manager)

    def queries() -> int:
        with django_assert_max_num_queries(60) as captured:
            assert client.get(url("deal-detail", deal.pk)).status_code == 200
        return len(captured)

    def batch():
        """A batch with a vehicle delivered, support open to settle and a request beside it."""
        delivered(priced(deal, agreement, fleet_manager, 2), fleet_manager, 1)
        discount_for(deal, fleet_manager)

    batch()
    one = queries()
    for _ in range(3):
        batch()
    assert queries() == one


# --- Figures -----------------------------------------------------------------------------------


def test_the_figures_count_the_period(client, fleet_manager, sales_manager, branch, account):
    # given an account protected with an agreement of 40 units and two tiers
    services.account_confirm(account=account, by=sales_manager)
    agreement = services.agreement_sign(
        account=account, signed_on=timezone.localdate(), agreed_units=40, by=fleet_manager
    )
    services.tier_bands_set(agreement=agreement, bands=TWO_TIERS, by=fleet_manager)
    # and a second account whose protection lapsed
    lapse(register(branch, fleet_manager, name="广州市公安局"))
    # two open deals (prospect 1,000,000, tender 500,000), one won, one lost
    open_deal = deal_for(account, fleet_manager, quantity=70, expected_value=Decimal("1000000.00"))
    tender = deal_for(account, fleet_manager, expected_value=Decimal("500000.00"))
    services.deal_set_stage(deal=tender, stage=DealStage.TENDER, by=fleet_manager)
    for stage in (DealStage.WON, DealStage.LOST):
        closed = deal_for(account, fleet_manager, expected_value=Decimal("1.00"))
        services.deal_set_stage(deal=closed, stage=stage, reason="价格", by=fleet_manager)
    # 10 units delivered on the tiers, and 60 on a special deal (which does not count)
    delivered(priced(open_deal, agreement, fleet_manager, 10), fleet_manager)
    special = priced(open_deal, None, fleet_manager, 60, negotiated_support=Decimal("500"))
    delivered(special, fleet_manager)
    # two requests decided in time, one decided late
    for _ in range(2):
        services.request_decide(
            request=discount_for(open_deal, fleet_manager), approve=True, by=sales_manager
        )
    late = discount_for(open_deal, fleet_manager)
    DiscountRequest.objects.filter(pk=late.pk).update(due_by=timezone.now() - timedelta(hours=1))
    services.request_decide(request=late, approve=True, by=sales_manager)
    client.force_login(sales_manager)
    # when this month's figures are shown
    response = client.get(url("figures"))
    # then each card holds the right number
    figures = response.context["figures"]
    cards = {card.key: card.value for card in response.context["cards"]}
    assert figures["pipeline_value"] == Decimal("1500000.00")
    assert [(row["stage"], row["deals"]) for row in figures["pipeline"] if row["deals"]] == [
        (DealStage.PROSPECT, 1),
        (DealStage.TENDER, 1),
    ]
    assert (figures["protected"], figures["lapses"]) == (1, 1)
    assert [(row["account"], row["delivered"], row["agreed"]) for row in figures["attainment"]] == [
        (account, 10, 40)
    ]
    assert cards == {
        "pipeline": "1,500,000.00",
        "protected": "1",
        "attainment": "25.0%",
        "approvals": "66.7%",
        "win_rate": "50.0%",
    }
    content = response.content.decode()
    assert f"{url('deal-list')}?stage=won" in content
    assert f"{url('account-list')}?status={ProtectionStatus.LAPSED}" in content


def test_the_figures_refuse_a_period_that_ends_before_it_starts(client, fleet_manager):
    client.force_login(fleet_manager)
    response = client.get(
        url("figures"), {"period": "custom", "start": "2026-05-01", "end": "2026-04-01"}
    )
    assert response.status_code == 200 and response.context["figures"] is None
    assert "The period ends before it starts." in response.content.decode()
