"""The issue voucher pages (出库单) and lost sales: a voucher is made with its parts reserved,
taken through its steps one button at a time, cancelled, printed and returned to stock; a
request the shelf cannot serve becomes a lost sale in one click. Refused rules are shown and
change nothing; other branches' vouchers are 404; the lists cost the same number of queries
whatever their length."""

from decimal import Decimal
from functools import partial

import pytest
from django.conf import settings
from django.urls import reverse

from parts import services
from parts.choices import IssueKind, IssueStatus, LostSaleReason, MoveKind
from parts.models import LostSale, PartIssue, StockMove
from tests.factories import CustomerFactory, PartFactory
from tests.parts import helpers
from tests.parts.helpers import STEPS, stock, walk

pytestmark = pytest.mark.django_db

# Deliveries in these tests come at 30 CNY on one purchase order.
receive = partial(helpers.receive, cost="30.00", document="PO-1")


def voucher_form(*lines, kind=IssueKind.WORK_ORDER, **fields) -> dict:
    data = {
        "kind": kind,
        "work_order_reference": "WO-2024-0815",
        "customer": "",
        "recipient": "李师傅",
        "supplier": "",
        "to_branch": "",
        "note": "",
        "lines-TOTAL_FORMS": "5",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "30",
        **fields,
    }
    for index, (number, quantity, price) in enumerate(lines):
        data[f"lines-{index}-part"] = number
        data[f"lines-{index}-quantity"] = quantity
        data[f"lines-{index}-unit_price"] = price
    return data


@pytest.fixture
def plug(branch, parts_clerk):
    part = PartFactory(number="101905617C", name="火花塞", price=Decimal("65.00"))
    receive(branch, part, parts_clerk, 10)
    return part


@pytest.fixture
def issue(branch, parts_clerk, plug):
    return services.part_issue_create(
        branch=branch,
        kind=IssueKind.COUNTER_SALE,
        lines=[{"part": plug, "quantity": Decimal(2)}],
        recipient="王先生",
        by=parts_clerk,
    )


@pytest.fixture
def handed_over(issue, parts_clerk):
    walk(issue, parts_clerk)
    return issue


@pytest.fixture
def other_branch_issue(other_branch, parts_clerk):
    part = PartFactory()
    receive(other_branch, part, parts_clerk, 5)
    return services.part_issue_create(
        branch=other_branch,
        kind=IssueKind.COUNTER_SALE,
        lines=[{"part": part, "quantity": Decimal(1)}],
        by=parts_clerk,
    )


# --- Rendering and access -----------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_issue_pages_render_for_the_parts_clerk_in_both_languages(
    client, parts_clerk, handed_over, language
):
    # given a parts clerk reading in Chinese or English
    client.force_login(parts_clerk)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    urls = [
        reverse("parts:issue-list"),
        reverse("parts:issue-create"),
        reverse("parts:issue-detail", args=[handed_over.pk]),
        reverse("parts:issue-print", args=[handed_over.pk]),
        reverse("parts:lost-sale-list"),
        reverse("parts:lost-sale-create"),
    ]
    for url in urls:
        # when each page is opened
        response = client.get(url)
        # then it renders in that language
        assert response.status_code == 200, url
        assert f'lang="{language}"' in response.content.decode(), url


def test_a_sales_consultant_may_not_open_or_change_issue_vouchers(client, consultant, issue):
    client.force_login(consultant)
    line = issue.lines.get()
    gets = [
        reverse("parts:issue-list"),
        reverse("parts:issue-create"),
        reverse("parts:issue-detail", args=[issue.pk]),
        reverse("parts:issue-print", args=[issue.pk]),
        reverse("parts:lost-sale-list"),
        reverse("parts:lost-sale-create"),
    ]
    posts = [
        reverse("parts:issue-create"),
        reverse("parts:issue-advance", args=[issue.pk]),
        reverse("parts:issue-cancel", args=[issue.pk]),
        reverse("parts:issue-return", args=[line.pk]),
        reverse("parts:lost-sale-create"),
    ]
    for url in gets:
        assert client.get(url).status_code == 403, url
    for url in posts:
        assert client.post(url, {"step": "checked", "reason": "x"}).status_code == 403, url
    issue.refresh_from_db()
    assert issue.status == IssueStatus.REQUESTED


def test_another_branchs_voucher_is_not_found(client, parts_clerk, other_branch_issue):
    # given a voucher of the other branch
    client.force_login(parts_clerk)
    line = other_branch_issue.lines.get()
    # when the clerk opens or acts on it, then it does not exist for them
    for url in [
        reverse("parts:issue-detail", args=[other_branch_issue.pk]),
        reverse("parts:issue-print", args=[other_branch_issue.pk]),
    ]:
        assert client.get(url).status_code == 404, url
    for url in [
        reverse("parts:issue-advance", args=[other_branch_issue.pk]),
        reverse("parts:issue-cancel", args=[other_branch_issue.pk]),
        reverse("parts:issue-return", args=[line.pk]),
    ]:
        assert client.post(url, {"step": "checked", "reason": "x"}).status_code == 404, url
    other_branch_issue.refresh_from_db()
    assert other_branch_issue.status == IssueStatus.REQUESTED


# --- Making a voucher ---------------------------------------------------------------------


def test_a_voucher_for_a_work_order_is_made_and_its_parts_reserved(
    client, parts_clerk, branch, plug
):
    client.force_login(parts_clerk)
    customer = CustomerFactory(branch=branch)
    # when the clerk makes a voucher for 3 plugs, one priced by hand, the rest empty rows
    response = client.post(
        reverse("parts:issue-create"),
        voucher_form(("101905617c", "3", "58.00"), customer=str(customer.pk)),
    )
    # then the voucher exists with its line, and 3 plugs are reserved
    issue = PartIssue.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "parts:issue-detail", args=[issue.pk]
    )
    line = issue.lines.get()
    assert (line.part, line.quantity, line.unit_price) == (plug, Decimal(3), Decimal("58.00"))
    assert issue.customer == customer and issue.work_order_reference == "WO-2024-0815"
    assert stock(branch, plug).reserved == Decimal(3)


def test_a_work_order_voucher_without_the_work_order_is_refused_beside_the_field(
    client, parts_clerk, branch, plug
):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:issue-create"),
        voucher_form(("101905617C", "1", ""), work_order_reference=""),
    )
    assert response.status_code == 200
    assert "Name the work order the parts are for." in response.content.decode()
    assert not PartIssue.objects.exists()
    assert stock(branch, plug).reserved == 0


def test_an_unknown_part_number_is_shown_on_its_line(client, parts_clerk, plug):
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:issue-create"), voucher_form(("NOPE-1", "1", "")))
    assert "No part with number NOPE-1 in the catalogue." in response.content.decode()
    assert not PartIssue.objects.exists()


def test_more_than_available_is_refused_and_offers_to_record_a_lost_sale(
    client, parts_clerk, branch, plug
):
    client.force_login(parts_clerk)
    # when 12 plugs are asked for and 10 are on the shelf
    response = client.post(reverse("parts:issue-create"), voucher_form(("101905617C", "12", "")))
    # then the refusal is shown with a one-click lost sale, and nothing is reserved or made
    page = response.content.decode()
    assert response.status_code == 200
    assert "Only 10 piece of 101905617C are available." in page
    assert 'id="lost-sale-offer"' in page
    assert 'name="part" value="101905617C"' in page
    assert 'name="quantity" value="12"' in page
    assert 'name="asked_by" value="李师傅"' in page
    assert not PartIssue.objects.exists()
    assert stock(branch, plug).reserved == 0


def test_the_one_click_lost_sale_records_the_request_and_returns_to_the_voucher(
    client, parts_clerk, branch, plug
):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:lost-sale-create"),
        {
            "part": "101905617C",
            "quantity": "12",
            "reason": "out_of_stock",
            "asked_by": "李师傅",
            "next": reverse("parts:issue-create"),
        },
    )
    assert response.status_code == 302 and response.url == reverse("parts:issue-create")
    lost = LostSale.objects.get()
    assert (lost.branch, lost.part, lost.quantity, lost.asked_by, lost.recorded_by) == (
        branch,
        plug,
        Decimal(12),
        "李师傅",
        parts_clerk,
    )


def test_the_customer_search_offers_the_branchs_customers_only(
    client, parts_clerk, branch, other_branch
):
    CustomerFactory(branch=branch, name="张伟明")
    CustomerFactory(branch=other_branch, name="张伟强")
    client.force_login(parts_clerk)
    response = client.get(
        reverse("parts:issue-create"), {"customer_search": "张伟"}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert "张伟明" in page and "张伟强" not in page


# --- Steps, cancelling, returning ---------------------------------------------------------


def test_each_step_is_one_button_and_hand_over_posts_the_stock_moves(
    client, parts_clerk, branch, plug, issue
):
    client.force_login(parts_clerk)
    url = reverse("parts:issue-advance", args=[issue.pk])
    for step in STEPS:
        # the detail page offers exactly the next step
        page = client.get(reverse("parts:issue-detail", args=[issue.pk])).content.decode()
        assert f'name="step" value="{step}"' in page
        response = client.post(url, {"step": step})
        assert response.status_code == 302
        issue.refresh_from_db()
        assert issue.status == step
    # then the plugs left the shelf at their cost, and who did each step is shown
    assert stock(branch, plug).on_hand == Decimal(8)
    assert stock(branch, plug).reserved == 0
    assert StockMove.objects.filter(kind=MoveKind.COUNTER_SALE, quantity=-2).exists()
    assert issue.lines.get().unit_cost == Decimal("30.0000")
    page = client.get(reverse("parts:issue-detail", args=[issue.pk])).content.decode()
    assert 'id="issue-next-step"' not in page
    assert page.count("bi-check-circle-fill") == 4


def test_handing_over_out_of_order_is_refused_and_changes_nothing(
    client, parts_clerk, branch, plug, issue
):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:issue-advance", args=[issue.pk]), {"step": "handed_over"}, follow=True
    )
    assert "it cannot be Handed over and registered now" in response.content.decode()
    issue.refresh_from_db()
    assert issue.status == IssueStatus.REQUESTED
    assert stock(branch, plug).on_hand == Decimal(10)
    assert not StockMove.objects.filter(kind=MoveKind.COUNTER_SALE).exists()


def test_cancelling_releases_the_reservation(client, parts_clerk, branch, plug, issue):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:issue-cancel", args=[issue.pk]), {"reason": "客户不要了"}, follow=True
    )
    issue.refresh_from_db()
    assert issue.status == IssueStatus.CANCELLED and issue.cancel_reason == "客户不要了"
    assert stock(branch, plug).reserved == 0
    assert 'id="issue-cancelled"' in response.content.decode()


def test_cancelling_without_a_reason_is_refused_beside_the_field(
    client, parts_clerk, branch, plug, issue
):
    client.force_login(parts_clerk)
    response = client.post(reverse("parts:issue-cancel", args=[issue.pk]), {"reason": " "})
    assert response.status_code == 400
    assert "Say why the voucher is cancelled." in response.content.decode()
    issue.refresh_from_db()
    assert issue.status == IssueStatus.REQUESTED
    assert stock(branch, plug).reserved == Decimal(2)


def test_parts_handed_over_come_back_to_stock_from_their_line(
    client, parts_clerk, branch, plug, handed_over
):
    client.force_login(parts_clerk)
    line = handed_over.lines.get()
    page = client.get(reverse("parts:issue-detail", args=[handed_over.pk])).content.decode()
    assert reverse("parts:issue-return", args=[line.pk]) in page
    response = client.post(
        reverse("parts:issue-return", args=[line.pk]),
        {f"return-{line.pk}-quantity": "1", f"return-{line.pk}-reason": "没用上"},
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.returned_quantity == Decimal(1)
    assert stock(branch, plug).on_hand == Decimal(9)


def test_returning_more_than_was_issued_is_refused_and_changes_nothing(
    client, parts_clerk, branch, plug, handed_over
):
    client.force_login(parts_clerk)
    line = handed_over.lines.get()
    response = client.post(
        reverse("parts:issue-return", args=[line.pk]),
        {f"return-{line.pk}-quantity": "5", f"return-{line.pk}-reason": "没用上"},
    )
    assert response.status_code == 400
    assert "At most 2 can come back on this line." in response.content.decode()
    line.refresh_from_db()
    assert line.returned_quantity == 0
    assert stock(branch, plug).on_hand == Decimal(8)


def test_a_superseded_number_shows_what_was_asked_for(client, parts_clerk, branch):
    new = PartFactory(number="06L115562B")
    old = PartFactory(number="06L115562", superseded_by=new)
    receive(branch, new, parts_clerk, 4)
    issue = services.part_issue_create(
        branch=branch,
        kind=IssueKind.COUNTER_SALE,
        lines=[{"part": old, "quantity": Decimal(1)}],
        by=parts_clerk,
    )
    client.force_login(parts_clerk)
    page = client.get(reverse("parts:issue-detail", args=[issue.pk])).content.decode()
    assert "06L115562B" in page
    assert "asked for 06L115562 (superseded)" in page


def test_the_print_page_has_signature_boxes_for_picker_and_receiver(
    client, parts_clerk, handed_over
):
    client.force_login(parts_clerk)
    page = client.get(reverse("parts:issue-print", args=[handed_over.pk])).content.decode()
    assert "@page { size: A4" in page
    assert handed_over.number in page
    assert "Picked by" in page and "Received by" in page
    assert page.count('class="signature') == 3
    assert "130.00" in page  # 2 × 65.00


# --- Lost sales ---------------------------------------------------------------------------


def test_the_service_advisor_may_record_a_lost_sale_but_not_make_a_voucher(
    client, advisor, branch, plug
):
    client.force_login(advisor)
    assert client.get(reverse("parts:issue-create")).status_code == 403
    response = client.post(
        reverse("parts:lost-sale-create"),
        {"part": "101905617C", "quantity": "2", "reason": "not_stocked", "asked_by": "赵女士"},
    )
    assert response.status_code == 302 and response.url == reverse("parts:lost-sale-list")
    lost = LostSale.objects.get()
    assert lost.reason == LostSaleReason.NOT_STOCKED and lost.recorded_by == advisor
    page = client.get(reverse("parts:lost-sale-list")).content.decode()
    assert "赵女士" in page and "101905617C" in page


def test_a_lost_sale_in_fractions_of_a_whole_part_is_refused(client, parts_clerk, plug):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("parts:lost-sale-create"),
        {"part": "101905617C", "quantity": "1.5", "reason": "out_of_stock", "asked_by": "赵女士"},
    )
    assert response.status_code == 200
    assert "101905617C is counted in whole piece." in response.content.decode()
    assert not LostSale.objects.exists()


def test_the_lost_sale_list_filters_by_part_number_and_shows_an_empty_state(
    client, parts_clerk, branch, plug
):
    services.lost_sale_record(
        branch=branch, part=plug, quantity=Decimal(1), asked_by="甲", by=parts_clerk
    )
    client.force_login(parts_clerk)
    assert "甲" in client.get(reverse("parts:lost-sale-list")).content.decode()
    page = client.get(reverse("parts:lost-sale-list"), {"part_number": "XYZ"}).content.decode()
    assert 'id="lost-sale-empty"' in page


# --- Lists: filters, empty state, constant queries ----------------------------------------


def test_the_issue_list_filters_by_status_and_search(client, parts_clerk, branch, plug, issue):
    services.part_issue_create(
        branch=branch,
        kind=IssueKind.WORK_ORDER,
        work_order_reference="WO-777",
        lines=[{"part": plug, "quantity": Decimal(1)}],
        by=parts_clerk,
    )
    client.force_login(parts_clerk)
    page = client.get(reverse("parts:issue-list"), {"search": "WO-777"}).content.decode()
    assert "WO-777" in page and issue.number not in page
    page = client.get(reverse("parts:issue-list"), {"status": "cancelled"}).content.decode()
    assert 'id="issue-empty"' in page


def _vouchers(branch, clerk, count):
    part = PartFactory()
    receive(branch, part, clerk, 100)
    for _ in range(count):
        services.part_issue_create(
            branch=branch,
            kind=IssueKind.COUNTER_SALE,
            lines=[{"part": part, "quantity": Decimal(1)}],
            customer=CustomerFactory(branch=branch),
            by=clerk,
        )
        services.lost_sale_record(
            branch=branch, part=part, quantity=Decimal(1), asked_by="甲", by=clerk
        )


@pytest.mark.parametrize("url_name", ["parts:issue-list", "parts:lost-sale-list"])
def test_the_lists_cost_the_same_queries_for_3_and_13_rows(
    client, parts_clerk, branch, django_assert_max_num_queries, url_name
):
    client.force_login(parts_clerk)
    _vouchers(branch, parts_clerk, 3)
    client.get(reverse(url_name))  # warm the session and permission caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse(url_name)).status_code == 200
    _vouchers(branch, parts_clerk, 10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 13
