"""Issuing (出库): vouchers reserved when made, walked through their steps, posted on hand-over
by kind, cancelled or returned to stock; lost sales; and the parts figures they feed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from dealer_crm.errors import StateConflict
from parts import selectors, services
from parts.choices import (
    IssueKind,
    IssueStatus,
    LostSaleReason,
    MoveKind,
    StocktakeScope,
    Unit,
)
from parts.models import LostSale, PartIssue, PartIssueLine, StockMove
from tests.factories import (
    BinFactory,
    BranchFactory,
    CustomerFactory,
    DealerGroupFactory,
    PartFactory,
    SupplierFactory,
)
from tests.factories.concurrency import run_in_threads
from tests.parts.helpers import (
    delivered,
    fresh,
    ledger_balanced,
    receive,
    refusal,
    stock,
    voucher,
    walk,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = timezone.localdate()


@pytest.fixture
def plug():
    return PartFactory(name="火花塞", price=Decimal("65.00"))


# --- making a voucher ----------------------------------------------------------------------


def test_a_voucher_reserves_its_lines(branch, parts_clerk, plug):
    oil_filter = PartFactory(name="机油滤清器")
    receive(branch, plug, parts_clerk, 10)
    receive(branch, oil_filter, parts_clerk, 5)

    issue = voucher(branch, parts_clerk, [(plug, 4), (oil_filter, 1)])

    assert issue.status == IssueStatus.REQUESTED
    assert (stock(branch, plug).reserved, stock(branch, plug).available) == (4, 6)
    assert stock(branch, oil_filter).reserved == 1
    assert stock(branch, plug).on_hand == 10
    assert not StockMove.objects.exclude(kind=MoveKind.RECEIPT).exists()


def test_more_than_available_is_refused_and_nothing_is_reserved(branch, parts_clerk, plug):
    # given 5 plugs, 2 of them held for another job
    receive(branch, plug, parts_clerk, 5)
    voucher(branch, parts_clerk, [(plug, 2)])
    # when 4 are asked for
    error = refusal(lambda: voucher(branch, parts_clerk, [(plug, 4)], work_order_reference="WO-9"))
    # then it is refused with the 3 available, and no second voucher or reservation is made
    assert isinstance(error, StateConflict)
    assert error.code == "insufficient_stock"
    assert error.extra["available"] == "3.000"
    assert PartIssue.objects.count() == 1
    assert stock(branch, plug).reserved == 2


def test_the_second_line_short_refuses_the_whole_voucher(branch, parts_clerk, plug):
    # given plenty of plugs but one filter
    oil_filter = PartFactory(name="机油滤清器")
    receive(branch, plug, parts_clerk, 10)
    receive(branch, oil_filter, parts_clerk, 1)
    # when a voucher asks for 4 plugs and 2 filters
    error = refusal(lambda: voucher(branch, parts_clerk, [(plug, 4), (oil_filter, 2)]))
    # then it is refused, and the plugs of the first line are not held either
    assert error.code == "insufficient_stock"
    assert oil_filter.number in str(error.message)
    assert not PartIssue.objects.exists()
    assert stock(branch, plug).reserved == 0


def test_a_part_never_stocked_is_refused(branch, parts_clerk, plug):
    assert refusal(lambda: voucher(branch, parts_clerk, [(plug, 1)])).code == "insufficient_stock"
    assert not PartIssue.objects.exists()


def test_a_voucher_without_lines_is_refused(branch, parts_clerk):
    assert refusal(lambda: voucher(branch, parts_clerk, [])).code == "issue_has_no_lines"


def test_the_same_part_twice_on_a_voucher_is_refused(branch, parts_clerk, plug):
    receive(branch, plug, parts_clerk, 10)

    error = refusal(lambda: voucher(branch, parts_clerk, [(plug, 1), (plug, 2)]))

    assert error.code == "part_listed_twice"
    assert stock(branch, plug).reserved == 0


def test_an_issue_to_a_work_order_names_the_work_order(branch, parts_clerk, plug):
    receive(branch, plug, parts_clerk, 10)

    error = refusal(lambda: voucher(branch, parts_clerk, [(plug, 1)], work_order_reference="  "))

    assert (error.code, error.field) == ("work_order_required", "work_order_reference")
    assert not PartIssue.objects.exists()
    assert stock(branch, plug).reserved == 0


def test_a_counter_sale_needs_no_work_order(branch, parts_clerk, plug):
    receive(branch, plug, parts_clerk, 10)

    issue = voucher(
        branch, parts_clerk, [(plug, 1)], kind=IssueKind.COUNTER_SALE, recipient="王先生"
    )

    assert issue.work_order_reference == ""


def test_a_customer_of_another_branch_is_refused(branch, other_branch, parts_clerk, plug):
    receive(branch, plug, parts_clerk, 10)
    stranger = CustomerFactory(branch=other_branch)

    error = refusal(
        lambda: voucher(
            branch, parts_clerk, [(plug, 1)], kind=IssueKind.COUNTER_SALE, customer=stranger
        )
    )

    assert error.code == "customer_other_branch"
    assert stock(branch, plug).reserved == 0


def test_a_fraction_of_a_piece_part_is_refused_but_oil_is_issued_by_the_litre(
    branch, parts_clerk, plug
):
    oil = PartFactory(unit=Unit.LITRE, name="机油")
    receive(branch, plug, parts_clerk, 10)
    receive(branch, oil, parts_clerk, 10)

    assert (
        refusal(lambda: voucher(branch, parts_clerk, [(plug, "1.5")])).code == "quantity_not_whole"
    )
    voucher(branch, parts_clerk, [(oil, "4.5")])
    assert stock(branch, oil).reserved == Decimal("4.5")


def test_the_unit_price_defaults_to_the_catalogue_price(branch, parts_clerk, plug):
    oil_filter = PartFactory(price=Decimal("38.00"))
    receive(branch, plug, parts_clerk, 10)
    receive(branch, oil_filter, parts_clerk, 10)

    issue = voucher(branch, parts_clerk, [(plug, 1), (oil_filter, 1, "30.00")])

    assert [line.unit_price for line in issue.lines.all()] == [Decimal("65.00"), Decimal("30.00")]


def test_an_old_number_is_served_from_its_own_stock_while_it_lasts_then_by_the_new(
    branch, parts_clerk, plug
):
    # given 3 of an old number left and the plug that replaced it
    old = PartFactory(name="火花塞(旧号)")
    services.part_supersede(part=old, successor=plug, by=parts_clerk)
    receive(branch, old, parts_clerk, 3)
    receive(branch, plug, parts_clerk, 10)
    # when the old number is asked for, 2 and then 2 again
    first = voucher(branch, parts_clerk, [(old, 2)])
    second = voucher(branch, parts_clerk, [(old, 2)], work_order_reference="WO-2")
    # then the first is served from the old number, the second (only 1 old left) by the new
    first_line, second_line = first.lines.get(), second.lines.get()
    assert (first_line.part, first_line.requested_part) == (old, old)
    assert (second_line.part, second_line.requested_part) == (plug, old)
    assert (stock(branch, old).reserved, stock(branch, plug).reserved) == (2, 2)


def test_an_old_number_without_stock_is_served_by_the_newest_number(branch, parts_clerk, plug):
    old, middle = PartFactory(), PartFactory()
    services.part_supersede(part=old, successor=middle, by=parts_clerk)
    services.part_supersede(part=middle, successor=plug, by=parts_clerk)
    receive(branch, plug, parts_clerk, 10)

    line = voucher(branch, parts_clerk, [(old, 2)]).lines.get()

    assert (line.part, line.requested_part, line.unit_price) == (plug, old, plug.price)


# --- the steps -----------------------------------------------------------------------------


def test_each_step_follows_the_last_and_stamps_who_and_when(
    branch, parts_clerk, branch_manager, plug
):
    receive(branch, plug, parts_clerk, 10)
    issue = voucher(branch, parts_clerk, [(plug, 1)])
    stamps = {
        IssueStatus.CHECKED: "checked",
        IssueStatus.PICKED: "picked",
        IssueStatus.RECHECKED: "rechecked",
        IssueStatus.HANDED_OVER: "handed_over",
    }
    for step, prefix in stamps.items():
        before = timezone.now()
        issue = services.part_issue_advance(issue=issue, step=step, by=branch_manager)
        issue = fresh(issue)
        assert issue.status == step
        assert getattr(issue, f"{prefix}_by") == branch_manager
        assert getattr(issue, f"{prefix}_at") >= before


@pytest.mark.parametrize(
    ("done", "step"),
    [
        ([], IssueStatus.PICKED),
        ([], IssueStatus.HANDED_OVER),
        ([IssueStatus.CHECKED], IssueStatus.RECHECKED),
        ([IssueStatus.CHECKED], IssueStatus.CHECKED),
        ([IssueStatus.CHECKED, IssueStatus.PICKED], IssueStatus.HANDED_OVER),
    ],
)
def test_a_step_out_of_order_is_refused_and_nothing_changes(branch, parts_clerk, plug, done, step):
    receive(branch, plug, parts_clerk, 10)
    issue = voucher(branch, parts_clerk, [(plug, 1)])
    for earlier in done:
        services.part_issue_advance(issue=issue, step=earlier, by=parts_clerk)
    status = fresh(issue).status

    error = refusal(lambda: services.part_issue_advance(issue=issue, step=step, by=parts_clerk))

    assert isinstance(error, StateConflict)
    assert error.code == "issue_step_out_of_order"
    assert issue.number in str(error.message)
    assert fresh(issue).status == status
    assert not StockMove.objects.exclude(kind=MoveKind.RECEIPT).exists()


def test_an_unknown_step_is_refused(branch, parts_clerk, plug):
    receive(branch, plug, parts_clerk, 10)
    issue = voucher(branch, parts_clerk, [(plug, 1)])

    error = refusal(
        lambda: services.part_issue_advance(issue=issue, step=IssueStatus.CANCELLED, by=parts_clerk)
    )

    assert error.code == "issue_step_unknown"
    assert fresh(issue).status == IssueStatus.REQUESTED


# --- handing over --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "move_kind", "options"),
    [
        (IssueKind.WORK_ORDER, MoveKind.WORK_ORDER_ISSUE, {}),
        (IssueKind.COUNTER_SALE, MoveKind.COUNTER_SALE, {"recipient": "王先生"}),
        (IssueKind.SUPPLIER_RETURN, MoveKind.RETURN_TO_SUPPLIER, {"supplier": "supplier"}),
    ],
)
def test_handing_over_posts_the_move_of_the_vouchers_kind_and_releases_the_reservation(
    branch, parts_clerk, plug, kind, move_kind, options
):
    # given 10 plugs at 50 and a voucher for 4
    if options.get("supplier"):
        options = {"supplier": SupplierFactory()}
    receive(branch, plug, parts_clerk, 10, "50.00")
    issue = voucher(branch, parts_clerk, [(plug, 4)], kind=kind, **options)
    # when it is handed over
    walk(issue, parts_clerk)
    # then one move of the voucher's kind takes the 4 at the average cost, nothing stays held
    move = StockMove.objects.exclude(kind=MoveKind.RECEIPT).get()
    assert (move.kind, move.quantity, move.unit_cost, move.balance_after) == (
        move_kind,
        Decimal(-4),
        Decimal("50.0000"),
        Decimal(6),
    )
    expected_document = "WO2026-0001" if kind == IssueKind.WORK_ORDER else issue.number
    assert move.document == expected_document
    assert (stock(branch, plug).on_hand, stock(branch, plug).reserved) == (6, 0)
    assert issue.lines.get().unit_cost == Decimal("50.0000")
    assert ledger_balanced(branch)


def test_a_transfer_moves_stock_to_the_other_branch_at_its_cost(
    branch, other_branch, parts_clerk, plug
):
    # given 10 plugs here at 50, and 10 at the other branch at 30
    receive(branch, plug, parts_clerk, 10, "50.00")
    receive(other_branch, plug, parts_clerk, 10, "30.00")
    issue = voucher(
        branch, parts_clerk, [(plug, 10)], kind=IssueKind.TRANSFER, to_branch=other_branch
    )
    # when the transfer is handed over
    walk(issue, parts_clerk)
    # then a transfer out here and a transfer in there, both at 50; there the average is 40
    out = StockMove.objects.get(kind=MoveKind.TRANSFER_OUT)
    came = StockMove.objects.get(kind=MoveKind.TRANSFER_IN)
    assert (out.branch, out.quantity, out.unit_cost) == (branch, Decimal(-10), Decimal("50.0000"))
    assert (came.branch, came.quantity, came.unit_cost) == (
        other_branch,
        Decimal(10),
        Decimal("50.0000"),
    )
    assert came.document == f"{issue.number} / {branch.code}"  # the voucher and where from
    assert (stock(branch, plug).on_hand, stock(branch, plug).reserved) == (0, 0)
    there = stock(other_branch, plug)
    assert (there.on_hand, there.average_cost) == (20, Decimal("40.0000"))
    assert ledger_balanced(branch, other_branch)


def test_a_transfer_to_its_own_branch_is_refused(branch, parts_clerk, plug):
    receive(branch, plug, parts_clerk, 10)

    with pytest.raises(ValidationError):
        voucher(branch, parts_clerk, [(plug, 1)], kind=IssueKind.TRANSFER, to_branch=branch)
    assert stock(branch, plug).reserved == 0


def test_a_hand_over_of_a_frozen_part_is_refused_and_nothing_changes(branch, parts_clerk, plug):
    # given 10 plugs in zone A, a voucher for 4 checked again, then zone A frozen
    services.bin_assign(
        branch=branch, part=plug, bin=BinFactory(branch=branch, zone="A"), by=parts_clerk
    )
    receive(branch, plug, parts_clerk, 10)
    issue = walk(
        voucher(branch, parts_clerk, [(plug, 4)]), parts_clerk, until=IssueStatus.RECHECKED
    )
    stocktake = services.stocktake_start(
        branch=branch, scope=StocktakeScope.ZONE, zone="A", by=parts_clerk
    )
    # when it is handed over
    error = refusal(
        lambda: services.part_issue_advance(
            issue=issue, step=IssueStatus.HANDED_OVER, by=parts_clerk
        )
    )
    # then it is refused naming the stocktake; the voucher waits, the plugs stay held
    assert error.code == "stocktake_frozen"
    assert stocktake.number in str(error.message)
    issue = fresh(issue)
    assert (issue.status, issue.handed_over_by) == (IssueStatus.RECHECKED, None)
    assert (stock(branch, plug).on_hand, stock(branch, plug).reserved) == (10, 4)
    assert StockMove.objects.count() == 1


# --- cancelling ----------------------------------------------------------------------------


def test_cancelling_a_voucher_releases_its_reservations(branch, parts_clerk, plug):
    receive(branch, plug, parts_clerk, 10)
    issue = walk(voucher(branch, parts_clerk, [(plug, 4)]), parts_clerk, until=IssueStatus.PICKED)

    services.part_issue_cancel(issue=issue, by=parts_clerk, reason=" 客户取消维修 ")

    issue = fresh(issue)
    assert (issue.status, issue.cancel_reason) == (IssueStatus.CANCELLED, "客户取消维修")
    assert (stock(branch, plug).on_hand, stock(branch, plug).reserved) == (10, 0)
    assert StockMove.objects.count() == 1


def test_cancelling_needs_a_reason(branch, parts_clerk, plug):
    receive(branch, plug, parts_clerk, 10)
    issue = voucher(branch, parts_clerk, [(plug, 4)])

    error = refusal(lambda: services.part_issue_cancel(issue=issue, by=parts_clerk, reason=""))

    assert (error.code, error.field) == ("reason_required", "reason")
    assert fresh(issue).status == IssueStatus.REQUESTED
    assert stock(branch, plug).reserved == 4


def test_a_voucher_handed_over_or_cancelled_is_not_cancelled(branch, parts_clerk, plug):
    receive(branch, plug, parts_clerk, 10)
    handed_over = walk(voucher(branch, parts_clerk, [(plug, 4)]), parts_clerk)
    cancelled = voucher(branch, parts_clerk, [(plug, 2)], work_order_reference="WO-2")
    services.part_issue_cancel(issue=cancelled, by=parts_clerk, reason="重复")

    for issue in (handed_over, cancelled):
        error = refusal(
            lambda issue=issue: services.part_issue_cancel(issue=issue, by=parts_clerk, reason="x")
        )
        assert error.code == "issue_not_cancellable"
    assert fresh(handed_over).status == IssueStatus.HANDED_OVER
    assert (stock(branch, plug).on_hand, stock(branch, plug).reserved) == (6, 0)


def test_a_cancelled_voucher_cannot_go_on(branch, parts_clerk, plug):
    receive(branch, plug, parts_clerk, 10)
    issue = voucher(branch, parts_clerk, [(plug, 4)])
    services.part_issue_cancel(issue=issue, by=parts_clerk, reason="取消")

    error = refusal(
        lambda: services.part_issue_advance(issue=issue, step=IssueStatus.CHECKED, by=parts_clerk)
    )

    assert error.code == "issue_step_out_of_order"


# --- returns to stock ----------------------------------------------------------------------


def handed_over_line(branch, by, part, quantity=4, kind=IssueKind.WORK_ORDER, **options):
    issue = walk(voucher(branch, by, [(part, quantity)], kind=kind, **options), by)
    return issue.lines.get()


def test_parts_come_back_to_stock_at_their_issue_cost(branch, parts_clerk, plug):
    # given 4 plugs issued to a job at 50, and plugs costing 80 received since
    receive(branch, plug, parts_clerk, 10, "50.00")
    line = handed_over_line(branch, parts_clerk, plug, 4)
    receive(branch, plug, parts_clerk, 6, "80.00")
    # when 3 come back unused
    move = services.part_return_to_stock(
        line=line, amount=Decimal(3), by=parts_clerk, reason="多领"
    )
    # then a return move of 3 at 50, the line says 3 returned, and they are on the shelf
    assert (move.kind, move.quantity, move.unit_cost, move.reason) == (
        MoveKind.RETURN_TO_STOCK,
        Decimal(3),
        Decimal("50.0000"),
        "多领",
    )
    assert move.document == line.issue.number
    assert (fresh(line).returned_quantity, fresh(line).returnable_quantity) == (3, 1)
    assert stock(branch, plug).on_hand == 15
    assert ledger_balanced(branch)


def test_a_counter_sale_can_come_back(branch, parts_clerk, plug):
    receive(branch, plug, parts_clerk, 10)
    line = handed_over_line(branch, parts_clerk, plug, 2, kind=IssueKind.COUNTER_SALE)

    services.part_return_to_stock(line=line, amount=Decimal(2), by=parts_clerk, reason="退货")

    assert stock(branch, plug).on_hand == 10


def test_no_more_comes_back_than_was_issued_less_returned(branch, parts_clerk, plug):
    # given 4 issued and 3 already back
    receive(branch, plug, parts_clerk, 10)
    line = handed_over_line(branch, parts_clerk, plug, 4)
    services.part_return_to_stock(line=line, amount=Decimal(3), by=parts_clerk, reason="多领")
    # when 2 more are returned
    error = refusal(
        lambda: services.part_return_to_stock(
            line=line, amount=Decimal(2), by=parts_clerk, reason="多领"
        )
    )
    # then it is refused: at most 1 can come back
    assert (error.code, error.field) == ("return_exceeds_issued", "quantity")
    assert fresh(line).returned_quantity == 3
    assert stock(branch, plug).on_hand == 9


def test_a_return_needs_a_reason_and_a_whole_positive_quantity(branch, parts_clerk, plug):
    receive(branch, plug, parts_clerk, 10)
    line = handed_over_line(branch, parts_clerk, plug, 4)

    def back(amount, reason="多领"):
        return services.part_return_to_stock(
            line=line, amount=Decimal(amount), by=parts_clerk, reason=reason
        )

    assert refusal(lambda: back(1, reason=" ")).code == "reason_required"
    assert refusal(lambda: back(1, reason="多" * 201)).code == "reason_too_long"
    assert refusal(lambda: back(0)).code == "quantity_not_positive"
    assert refusal(lambda: back("0.5")).code == "quantity_not_whole"
    assert fresh(line).returned_quantity == 0
    assert stock(branch, plug).on_hand == 6


def test_parts_not_yet_handed_over_do_not_come_back(branch, parts_clerk, plug):
    receive(branch, plug, parts_clerk, 10)
    issue = walk(
        voucher(branch, parts_clerk, [(plug, 4)]), parts_clerk, until=IssueStatus.RECHECKED
    )

    error = refusal(
        lambda: services.part_return_to_stock(
            line=issue.lines.get(), amount=Decimal(1), by=parts_clerk, reason="多领"
        )
    )

    assert error.code == "issue_not_returnable"
    assert stock(branch, plug).on_hand == 10


@pytest.mark.parametrize("kind", [IssueKind.SUPPLIER_RETURN, IssueKind.TRANSFER])
def test_a_return_to_supplier_or_a_transfer_does_not_come_back_to_stock(
    branch, other_branch, parts_clerk, plug, kind
):
    receive(branch, plug, parts_clerk, 10)
    options = (
        {"supplier": SupplierFactory()}
        if kind == IssueKind.SUPPLIER_RETURN
        else {"to_branch": other_branch}
    )
    line = handed_over_line(branch, parts_clerk, plug, 4, kind=kind, **options)

    error = refusal(
        lambda: services.part_return_to_stock(
            line=line, amount=Decimal(1), by=parts_clerk, reason="x"
        )
    )

    assert error.code == "issue_not_returnable"
    assert stock(branch, plug).on_hand == 6


def test_a_return_into_a_frozen_row_is_refused(branch, parts_clerk, plug):
    receive(branch, plug, parts_clerk, 10)
    line = handed_over_line(branch, parts_clerk, plug, 4)
    stocktake = services.stocktake_start(branch=branch, scope=StocktakeScope.ALL, by=parts_clerk)

    error = refusal(
        lambda: services.part_return_to_stock(
            line=line, amount=Decimal(1), by=parts_clerk, reason="x"
        )
    )

    assert error.code == "stocktake_frozen"
    assert stocktake.number in str(error.message)
    assert fresh(line).returned_quantity == 0
    assert stock(branch, plug).on_hand == 6


# --- lost sales ----------------------------------------------------------------------------


def test_a_lost_sale_is_recorded(branch, parts_clerk, plug):
    lost = services.lost_sale_record(
        branch=branch,
        part=plug,
        quantity=Decimal(4),
        asked_by="王先生",
        reason=LostSaleReason.NOT_STOCKED,
        note="外地车型",
        by=parts_clerk,
    )

    lost = fresh(lost)
    assert (lost.branch, lost.part, lost.quantity, lost.reason) == (
        branch,
        plug,
        4,
        LostSaleReason.NOT_STOCKED,
    )
    assert (lost.asked_by, lost.note, lost.recorded_by) == ("王先生", "外地车型", parts_clerk)


def test_a_lost_sale_is_out_of_stock_unless_said_otherwise(branch, parts_clerk, plug):
    lost = services.lost_sale_record(
        branch=branch, part=plug, quantity=Decimal(1), asked_by="李师傅", by=parts_clerk
    )

    assert lost.reason == LostSaleReason.OUT_OF_STOCK


@pytest.mark.parametrize(
    ("quantity", "code"), [("0", "quantity_not_positive"), ("1.5", "quantity_not_whole")]
)
def test_a_lost_sale_needs_a_sensible_quantity(branch, parts_clerk, plug, quantity, code):
    error = refusal(
        lambda: services.lost_sale_record(
            branch=branch, part=plug, quantity=Decimal(quantity), asked_by="李师傅", by=parts_clerk
        )
    )

    assert error.code == code
    assert not LostSale.objects.exists()


# --- the figures ---------------------------------------------------------------------------


def figures(branch, start=TODAY, end=TODAY):
    return selectors.parts_figures(branch_ids=[branch.pk], start=start, end=end)


def test_the_fill_rate_counts_lines_served_against_lines_requested(
    branch, other_branch, parts_clerk, plug
):
    # given in the period: a job voucher of 2 lines, a counter sale of 1, and 1 lost sale
    oil_filter = PartFactory()
    receive(branch, plug, parts_clerk, 20)
    receive(branch, oil_filter, parts_clerk, 20)
    voucher(branch, parts_clerk, [(plug, 1), (oil_filter, 1)])
    voucher(branch, parts_clerk, [(plug, 1)], kind=IssueKind.COUNTER_SALE)
    services.lost_sale_record(
        branch=branch, part=plug, quantity=Decimal(30), asked_by="王", by=parts_clerk
    )
    # and, not counted: a transfer, a voucher before the period, a lost sale elsewhere
    voucher(branch, parts_clerk, [(plug, 1)], kind=IssueKind.TRANSFER, to_branch=other_branch)
    old = voucher(branch, parts_clerk, [(plug, 1)], work_order_reference="WO-old")
    PartIssue.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    services.lost_sale_record(
        branch=other_branch, part=plug, quantity=Decimal(1), asked_by="李", by=parts_clerk
    )
    # then 3 of 4 lines were served
    result = figures(branch)
    assert (result["lines_served"], result["lines_requested"]) == (3, 4)
    assert result["fill_rate"] == Decimal("0.750")


def test_an_emergency_order_handed_over_is_not_a_line_served_from_stock(
    branch, parts_clerk, advisor, plug
):
    # given a customer's part ordered at once (a lost sale), arrived and handed over
    supplier = SupplierFactory()
    order = services.emergency_order_request(
        branch=branch,
        customer=CustomerFactory(branch=branch),
        part=plug,
        quantity=Decimal(1),
        by=advisor,
    )
    services.emergency_order_quote(
        emergency_order=order,
        supplier=supplier,
        quoted_unit_cost=Decimal("40.00"),
        unit_price=Decimal("65.00"),
        by=parts_clerk,
    )
    services.emergency_order_deposit(emergency_order=order, amount=Decimal("20.00"), by=advisor)
    order = services.emergency_order_place(emergency_order=order, by=parts_clerk)
    delivered(order.purchase_order, parts_clerk, bin=BinFactory(branch=branch))
    services.emergency_order_hand_over(emergency_order=order, by=advisor)
    # then the one request was not served from stock at first asking: 0 of 1, not 1 of 2
    result = figures(branch)
    assert (result["lines_served"], result["lines_requested"]) == (0, 1)
    assert result["fill_rate"] == Decimal("0.000")


def test_turnover_and_days_of_stock_on_a_worked_example(branch, parts_clerk, plug):
    # given 100 plugs at 10 received 40 days ago, and 30 issued to jobs in the last 30 days
    receive(branch, plug, parts_clerk, 100, "10.00")
    StockMove.objects.filter(part=plug).update(at=timezone.now() - timedelta(days=40))
    services.stock_move_post(
        branch=branch, part=plug, kind=MoveKind.WORK_ORDER_ISSUE, amount=Decimal(30), by=parts_clerk
    )
    # when the figures of the last 30 days are read
    result = figures(branch, start=TODAY - timedelta(days=29), end=TODAY)
    # then 300 used; the stock closed 29 days at 1000 and today at 700, 990 on average:
    # turnover 300 / 990 = 0.30; 10 a day used, so 700 lasts 70 days
    assert result["cost_used"] == Decimal("300.00")
    assert result["stock_value"] == Decimal("700.00")
    assert result["turnover"] == Decimal("0.30")
    assert result["days_of_stock"] == Decimal("70.0")


def test_dead_stock_is_stock_on_the_shelf_without_a_move_in_twelve_months(
    branch, parts_clerk, plug
):
    # given plugs (6 at 50) last moved 13 months ago, filters moved 11 months ago,
    # and wipers last moved 13 months ago but none left
    oil_filter, wiper = PartFactory(), PartFactory()
    receive(branch, plug, parts_clerk, 6, "50.00")
    receive(branch, oil_filter, parts_clerk, 3)
    receive(branch, wiper, parts_clerk, 2)
    services.stock_move_post(
        branch=branch, part=wiper, kind=MoveKind.COUNTER_SALE, amount=Decimal(2), by=parts_clerk
    )
    StockMove.objects.filter(part__in=[plug, wiper]).update(at=timezone.now() - timedelta(days=395))
    StockMove.objects.filter(part=oil_filter).update(at=timezone.now() - timedelta(days=335))
    # then only the plugs are dead stock, worth 300
    result = figures(branch)
    assert (result["dead_stock_count"], result["dead_stock_value"]) == (1, Decimal("300.00"))


def test_figures_with_nothing_to_divide_by_are_none_not_made_up(branch):
    result = figures(branch)

    assert result["fill_rate"] is None
    assert result["turnover"] is None
    assert result["days_of_stock"] is None
    assert result["stocktake_accuracy"] is None
    assert (result["dead_stock_count"], result["lines_requested"]) == (0, 0)


# --- at the same moment --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_vouchers_for_one_each_against_ten_make_exactly_ten(
    branch, parts_clerk
):
    # given 10 plugs on hand
    part = PartFactory()
    receive(branch, part, parts_clerk, 10)

    def ask(n):
        return lambda: voucher(branch, parts_clerk, [(part, 1)], work_order_reference=f"WO-{n}")

    # when 20 vouchers for one plug each are made at the same moment
    results = run_in_threads(*[ask(n) for n in range(20)])
    # then exactly 10 vouchers exist, 10 were refused for stock, and all 10 plugs are held
    made = [result for result in results if isinstance(result, PartIssue)]
    refused = [result for result in results if isinstance(result, StateConflict)]
    assert (len(made), len(refused)) == (10, 10)
    assert all(error.code == "insufficient_stock" for error in refused)
    assert PartIssue.objects.count() == PartIssueLine.objects.count() == 10
    held = stock(branch, part)
    assert (held.on_hand, held.reserved, held.available) == (10, 10, 0)


def test_a_return_to_supplier_names_the_supplier(branch, parts_clerk, plug):
    receive(branch, plug, parts_clerk, 10)

    with pytest.raises(ValidationError):
        voucher(branch, parts_clerk, [(plug, 1)], kind=IssueKind.SUPPLIER_RETURN)
    assert not PartIssue.objects.exists()
    assert stock(branch, plug).reserved == 0


def test_a_transfer_to_a_branch_of_another_group_is_refused(branch, parts_clerk, plug):
    # given a branch of another dealer group
    stranger = BranchFactory(group=DealerGroupFactory(name="别家集团"), code="elsewhere")
    receive(branch, plug, parts_clerk, 5)
    # when a transfer to it is made
    error = refusal(
        lambda: voucher(
            branch, parts_clerk, [(plug, 1)], kind=IssueKind.TRANSFER, to_branch=stranger
        )
    )
    # then it is refused and nothing is reserved
    assert error.code == "branch_other_group"
    assert stock(branch, plug).reserved == 0
    assert not PartIssue.objects.exists()


def test_a_return_to_stock_averages_in_at_its_cost(branch, parts_clerk, plug):
    # given 10 plugs at 50, 4 issued at 50, then 10 more bought at 80: 16 at 68.75
    receive(branch, plug, parts_clerk, 10, "50.00")
    issue = walk(voucher(branch, parts_clerk, [(plug, 4)]), parts_clerk)
    receive(branch, plug, parts_clerk, 10, "80.00")
    # when 2 of the issued plugs come back at the 50 they left at
    services.part_return_to_stock(
        line=issue.lines.get(), amount=Decimal(2), by=parts_clerk, reason="未使用"
    )
    # then the average takes them in at 50, and the ledger's value equals the shelf's
    held = stock(branch, plug)
    assert held.average_cost == Decimal("66.6667")  # (16 × 68.75 + 2 × 50) / 18
    ledger_value = sum(
        move.quantity * move.unit_cost for move in StockMove.objects.filter(part=plug)
    )
    assert abs(ledger_value - held.on_hand * held.average_cost) < Decimal("0.01")
