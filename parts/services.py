"""Every write to the stockroom: the catalogue and bins, the stock moves every balance follows,
and the documents that post them — receipts, issue vouchers, returns, stocktakes — with the
ordering around them: purchase orders, reorder suggestions and emergency orders."""

import math
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from customers.models import Customer, Vehicle
from dealer_crm.audit import attribute_to
from dealer_crm.errors import DomainError, StateConflict
from dealer_crm.models import Branch
from dealer_crm.notifications import notify
from dealer_crm.periods import local_day_end

from .choices import (
    CLOSED_ORDER_STATUSES,
    INCOMING_MOVES,
    ISSUE_MOVES,
    ISSUE_STEPS,
    WHOLE_UNITS,
    EmergencyStatus,
    IssueKind,
    IssueStatus,
    LostSaleReason,
    MoveKind,
    OrderKind,
    PurchaseOrderStatus,
    ReceiptStatus,
    StocktakeScope,
    StocktakeStatus,
    SuggestionStatus,
)
from .models import (
    ZERO,
    Bin,
    EmergencyOrder,
    LostSale,
    Part,
    PartIssue,
    PartIssueLine,
    PartStock,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    ReorderSuggestion,
    StockMove,
    Stocktake,
    StocktakeLine,
    Supplier,
    quantity_text,
)

# Moves that consume stock, net of what comes back unused: what the reorder suggestions and
# the turnover figures count.
CONSUMING_MOVES = [MoveKind.WORK_ORDER_ISSUE, MoveKind.COUNTER_SALE, MoveKind.RETURN_TO_STOCK]
# StockMove.reason
REASON_MAX_LENGTH = 200
# How far back the reorder suggestions look at consumption.
CONSUMPTION_PERIOD_DAYS = 90

# A supersession chain longer than this is a data error, not a part history.
MAX_SUPERSESSIONS = 20


def _supersession_chain(part: Part) -> list[Part]:
    """The part and every number that replaced it, in order, as stored now."""
    chain = [Part.objects.get(pk=part.pk)]
    while chain[-1].superseded_by_id:
        if len(chain) > MAX_SUPERSESSIONS:
            raise DomainError(
                "supersession_loop", _("The part's supersession chain runs in a circle.")
            )
        chain.append(Part.objects.get(pk=chain[-1].superseded_by_id))
    return chain


def part_current(part: Part) -> Part:
    """The part number to stock and issue: the end of the supersession chain (旧号换新号)."""
    return _supersession_chain(part)[-1]


@transaction.atomic
def part_create(*, by: User, data: dict) -> Part:
    part = Part(**data)
    part.number = part.number.strip().upper()
    part.full_clean()
    attribute_to(part, by).save()
    return part


PART_EDITABLE_FIELDS = [
    "name", "classification", "fitting_models", "unit", "price", "supplier", "lead_time_days",
]  # fmt: skip


@transaction.atomic
def part_update(*, part: Part, by: User, data: dict) -> Part:
    part = Part.objects.select_for_update().get(pk=part.pk)
    for name, value in data.items():
        if name not in PART_EDITABLE_FIELDS:
            raise DomainError("field_not_editable", _("This field cannot be changed."), field=name)
        setattr(part, name, value)
    part.full_clean()
    attribute_to(part, by).save()
    return part


@transaction.atomic
def supplier_create(*, by: User, data: dict) -> Supplier:
    supplier = Supplier(**data)
    supplier.full_clean()
    attribute_to(supplier, by).save()
    return supplier


@transaction.atomic
def supplier_update(*, supplier: Supplier, by: User, data: dict) -> Supplier:
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    for name, value in data.items():
        setattr(supplier, name, value)
    supplier.full_clean()
    attribute_to(supplier, by).save()
    return supplier


@transaction.atomic
def part_supersede(*, part: Part, successor: Part, by: User) -> Part:
    """Replace an old part number by a new one; stock of the old number stays until used."""
    part = Part.objects.select_for_update().get(pk=part.pk)
    if part.pk in {link.pk for link in _supersession_chain(successor)}:
        raise DomainError(
            "supersession_loop",
            _("%(successor)s is itself replaced by %(part)s.")
            % {"successor": successor.number, "part": part.number},
            field="superseded_by",
        )
    part.superseded_by = successor
    attribute_to(part, by).save()
    return part


@transaction.atomic
def bin_create(*, branch: Branch, by: User, data: dict) -> Bin:
    place = Bin(branch=branch, **{key: value.strip().upper() for key, value in data.items()})
    place.full_clean()
    attribute_to(place, by).save()
    return place


def _stock_locked(branch: Branch, part: Part) -> PartStock:
    """The branch's stock row of the part, created at zero if new, locked for this
    transaction: every change of one part's quantity at one branch runs one after another."""
    PartStock.objects.get_or_create(branch=branch, part=part)
    return (
        PartStock.objects.select_for_update(of=("self",))
        .select_related("part", "bin", "branch")
        .get(branch=branch, part=part)
    )


def _frozen_by(stock: PartStock, *, bin: Bin | None = None) -> Stocktake | None:
    """The open stocktake whose scope holds the stock row (or would, in `bin`), if any."""
    for stocktake in Stocktake.objects.filter(
        branch_id=stock.branch_id, status=StocktakeStatus.COUNTING
    ):
        if stocktake.covers(stock) or stocktake.lines.filter(stock=stock).exists():
            return stocktake
        if (
            bin is not None
            and stocktake.scope == StocktakeScope.ZONE
            and bin.zone == stocktake.zone
        ):
            return stocktake
    return None


def _refuse_frozen(stock: PartStock, *, bin: Bin | None = None) -> None:
    stocktake = _frozen_by(stock, bin=bin)
    if stocktake is not None:
        raise StateConflict(
            "stocktake_frozen",
            _(
                "%(part)s is frozen for stocktake %(stocktake)s (%(scope)s): no stock moves "
                "until it is approved or cancelled."
            )
            % {
                "part": stock.part.number,
                "stocktake": stocktake.number,
                "scope": stocktake.scope_label,
            },
        )


@transaction.atomic
def bin_assign(*, branch: Branch, part: Part, bin: Bin, by: User) -> PartStock:
    """Put a part in a bin of the branch (or move it to another); the move is in its history."""
    if bin.branch_id != branch.pk:
        raise DomainError("bin_other_branch", _("This bin belongs to another branch."), field="bin")
    stock = _stock_locked(branch, part)
    if stock.bin_id == bin.pk:
        return stock
    _refuse_frozen(stock, bin=bin)
    holder = PartStock.objects.filter(bin=bin).exclude(pk=stock.pk).select_related("part").first()
    if holder is not None:
        raise StateConflict(
            "bin_taken",
            _("Bin %(bin)s already holds %(part)s.") % {"bin": bin, "part": holder.part},
            field="bin",
            extra={"part_number": part.number, "bin": str(bin)},
        )
    previous = stock.bin
    stock.bin = bin
    attribute_to(stock, by, f"bin {previous or '—'} → {bin}").save()
    return stock


def _check_quantity(part: Part, amount: Decimal) -> None:
    if amount <= 0:
        raise DomainError(
            "quantity_not_positive",
            _("A quantity is more than zero."),
            field="quantity",
            extra={"part_number": part.number},
        )
    if part.unit in WHOLE_UNITS and amount != amount.to_integral_value():
        raise DomainError(
            "quantity_not_whole",
            _("%(part)s is counted in whole %(unit)s.")
            % {"part": part.number, "unit": part.get_unit_display()},
            field="quantity",
            extra={"part_number": part.number},
        )


def _refuse_more_than_available(stock: PartStock, amount: Decimal) -> None:
    if amount > stock.available:
        raise StateConflict(
            "insufficient_stock",
            _("Only %(available)s %(unit)s of %(part)s are available.")
            % {
                "available": quantity_text(stock.available),
                "unit": stock.part.get_unit_display(),
                "part": stock.part.number,
            },
            field="quantity",
            # The part and quantity let a page offer to record the request as a lost sale.
            extra={
                "available": str(stock.available),
                "part_number": stock.part.number,
                "requested": str(amount),
            },
        )


@transaction.atomic
def stock_move_post(
    *,
    branch: Branch,
    part: Part,
    kind: str,
    amount: Decimal,
    by: User,
    unit_cost: Decimal | None = None,
    document: str = "",
    reason: str = "",
) -> StockMove:
    """Post one stock move and the balance with it, under the stock row's lock.

    Incoming moves add and (receipts) update the moving-average cost; outgoing moves take
    from what is available — never more, whatever else is running at the same moment.
    """
    amount = Decimal(amount)
    _check_quantity(part, amount)
    stock = _stock_locked(branch, part)
    _refuse_frozen(stock)
    return _post_locked(
        stock,
        kind=kind,
        amount=amount,
        by=by,
        unit_cost=unit_cost,
        document=document,
        reason=reason,
    )


def _post_locked(
    stock: PartStock,
    *,
    kind: str,
    amount: Decimal,
    by: User,
    unit_cost: Decimal | None = None,
    document: str = "",
    reason: str = "",
    from_reserved: Decimal = ZERO,
) -> StockMove:
    """Post a move to a stock row this transaction has locked. An outgoing move takes from
    what is available, plus `from_reserved` of what was held for this very document."""
    incoming = kind in INCOMING_MOVES
    if incoming:
        cost = stock.average_cost if unit_cost is None else Decimal(unit_cost)
        if cost < 0:
            raise DomainError("cost_negative", _("A cost cannot be negative."), field="unit_cost")
        # Everything that comes in averages at its cost, so the ledger's value (quantity ×
        # unit cost, summed) always equals on hand × average cost.
        value = stock.on_hand * stock.average_cost + amount * cost
        stock.average_cost = (value / (stock.on_hand + amount)).quantize(Decimal("0.0001"))
        stock.on_hand += amount
    else:
        stock.reserved -= from_reserved
        _refuse_more_than_available(stock, amount)
        cost = stock.average_cost
        stock.on_hand -= amount
    attribute_to(stock, by, kind).save()
    move = StockMove(
        branch_id=stock.branch_id,
        part=stock.part,
        kind=kind,
        quantity=amount if incoming else -amount,
        unit_cost=cost,
        balance_after=stock.on_hand,
        document=document,
        reason=reason,
        by=by,
    )
    # Built from the locked row by the rules above; the table's CHECK constraints back them.
    move.save()
    return move


@transaction.atomic
def stock_reserve(*, branch: Branch, part: Part, amount: Decimal, by: User) -> PartStock:
    """Hold parts for a planned job: they stay on the shelf but are no longer available."""
    amount = Decimal(amount)
    _check_quantity(part, amount)
    stock = _stock_locked(branch, part)
    _refuse_more_than_available(stock, amount)
    stock.reserved += amount
    attribute_to(stock, by, "reserved").save()
    return stock


@transaction.atomic
def stock_release(*, branch: Branch, part: Part, amount: Decimal, by: User) -> PartStock:
    amount = Decimal(amount)
    _check_quantity(part, amount)
    stock = _stock_locked(branch, part)
    stock.reserved = max(ZERO, stock.reserved - amount)
    attribute_to(stock, by, "released").save()
    return stock


@transaction.atomic
def stock_open(*, branch: Branch, part: Part, by: User) -> PartStock:
    """Start keeping a part at a branch: its stock row at zero, ready for a bin and levels
    before the first delivery. A replaced number is not taken into stock any more."""
    current = part_current(part)
    if current.pk != part.pk:
        raise DomainError(
            "part_superseded",
            _("%(part)s is replaced by %(successor)s: stock the new number.")
            % {"part": part.number, "successor": current.number},
        )
    stock = _stock_locked(branch, part)
    attribute_to(stock, by, "opened").save()
    return stock


@transaction.atomic
def stock_levels_set(
    *, branch: Branch, part: Part, by: User, min_quantity: Decimal, max_quantity: Decimal,
    reorder_point: Decimal,
) -> PartStock:  # fmt: skip
    """The branch's minimum, maximum and reorder point of a part: min ≤ reorder point ≤ max."""
    if min(min_quantity, max_quantity, reorder_point) < 0:
        raise DomainError("quantity_negative", _("Stock levels cannot be negative."))
    # A maximum of 0 means no maximum; the minimum still lies at or below the reorder point.
    if reorder_point < min_quantity or (max_quantity and reorder_point > max_quantity):
        raise DomainError(
            "stock_levels_inconsistent",
            _("The reorder point lies between the minimum and the maximum."),
            field="reorder_point",
        )
    stock = _stock_locked(branch, part)
    stock.min_quantity, stock.max_quantity = min_quantity, max_quantity
    stock.reorder_point = reorder_point
    attribute_to(stock, by, "levels").save()
    return stock


# --- Purchase orders and receiving ---------------------------------------------------------


def _line_parts_distinct(lines: list[dict]) -> None:
    parts = [line["part"].pk for line in lines]
    if len(parts) != len(set(parts)):
        raise DomainError("part_listed_twice", _("Each part goes on one line."), field="lines")


@transaction.atomic
def purchase_order_create(
    *,
    branch: Branch,
    supplier: Supplier,
    kind: str,
    lines: list[dict],
    by: User,
    expected_on: date | None = None,
    note: str = "",
) -> PurchaseOrder:
    """A draft order: lines of {part, quantity, unit_cost}; unit cost defaults to the
    branch's average cost of the part."""
    if not lines:
        raise DomainError("order_has_no_lines", _("Add at least one part."), field="lines")
    # An old number is ordered as its successor: two lines naming both are one part twice.
    _line_parts_distinct([{**line, "part": part_current(line["part"])} for line in lines])
    order = PurchaseOrder(
        branch=branch,
        supplier=supplier,
        kind=kind,
        expected_on=expected_on,
        note=note,
        created_by=by,
    )
    order.full_clean()
    attribute_to(order, by).save()
    for line in lines:
        part = part_current(line["part"])
        _check_quantity(part, Decimal(line["quantity"]))
        cost = line.get("unit_cost")
        if cost is None:
            stock = PartStock.objects.filter(branch=branch, part=part).first()
            cost = stock.average_cost.quantize(Decimal("0.01")) if stock else ZERO
        order_line = PurchaseOrderLine(
            purchase_order=order, part=part, quantity=line["quantity"], unit_cost=cost
        )
        order_line.full_clean(exclude=["purchase_order"])
        attribute_to(order_line, by).save()
    return order


def _order_locked(order: PurchaseOrder) -> PurchaseOrder:
    return PurchaseOrder.objects.select_for_update().get(pk=order.pk)


@transaction.atomic
def purchase_order_place(*, purchase_order: PurchaseOrder, by: User) -> PurchaseOrder:
    """Send the draft to the supplier: from now on it can be received against."""
    order = _order_locked(purchase_order)
    if order.status != PurchaseOrderStatus.DRAFT:
        raise StateConflict("order_not_draft", _("Only a draft order can be placed."))
    order.status, order.ordered_at = PurchaseOrderStatus.ORDERED, timezone.now()
    attribute_to(order, by).save()
    return order


@transaction.atomic
def purchase_order_cancel(*, purchase_order: PurchaseOrder, by: User, reason: str) -> PurchaseOrder:
    order = _order_locked(purchase_order)
    if not reason.strip():
        raise DomainError("reason_required", _("Say why the order is cancelled."), field="reason")
    if order.status not in (PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.ORDERED):
        raise StateConflict(
            "order_not_cancellable",
            _("An order that has been received against can only be closed, not cancelled."),
        )
    order.status, order.cancel_reason = PurchaseOrderStatus.CANCELLED, reason.strip()
    attribute_to(order, by).save()
    ReorderSuggestion.objects.filter(purchase_order=order).update(
        status=SuggestionStatus.OPEN, purchase_order=None
    )
    return order


@transaction.atomic
def purchase_order_close(*, purchase_order: PurchaseOrder, by: User, reason: str) -> PurchaseOrder:
    """Close a partly received order: what is still short will not come."""
    order = _order_locked(purchase_order)
    if order.status != PurchaseOrderStatus.PARTLY_RECEIVED:
        raise StateConflict(
            "order_not_partly_received", _("Only a partly received order can be closed.")
        )
    if not reason.strip():
        raise DomainError("reason_required", _("Say why the rest will not come."), field="reason")
    order.status = PurchaseOrderStatus.RECEIVED
    order.note = f"{order.note} {reason.strip()}".strip()[:300]
    attribute_to(order, by, "closed short").save()
    return order


def _refuse_closed(order: PurchaseOrder) -> None:
    if order.status in CLOSED_ORDER_STATUSES:
        raise StateConflict(
            "purchase_order_closed",
            _("Purchase order %(order)s is %(status)s: nothing more can be received against it.")
            % {"order": order.number, "status": order.get_status_display()},
        )
    if order.status == PurchaseOrderStatus.DRAFT:
        raise StateConflict(
            "purchase_order_not_placed", _("Place the order before receiving against it.")
        )


@transaction.atomic
def receipt_check(
    *,
    purchase_order: PurchaseOrder,
    by: User,
    boxes_expected: int,
    boxes_counted: int,
    packaging_intact: bool,
    lines: list[dict],
    packaging_note: str = "",
    delivery_note: str = "",
    note: str = "",
) -> Receipt:
    """验收: boxes counted, packaging checked, each line's quantity checked. `lines` holds
    {order_line, received_quantity, damaged_quantity, note, checked}; every line of the
    order still outstanding is checked, a missing one counted as none arrived. Differences
    are kept as the receipt's discrepancies; nothing is on the shelf until registered."""
    order = _order_locked(purchase_order)
    _refuse_closed(order)
    if boxes_counted != boxes_expected and not packaging_note.strip():
        raise DomainError(
            "box_count_unexplained",
            _("The boxes counted differ from the delivery note: note what was found."),
            field="packaging_note",
        )
    if not packaging_intact and not packaging_note.strip():
        raise DomainError(
            "packaging_damage_unexplained",
            _("Describe the damage to the packaging."),
            field="packaging_note",
        )
    outstanding = {line.pk: line for line in order.lines.select_related("part") if line.outstanding}
    given = {}
    for entry in lines:
        order_line = entry["order_line"]
        if order_line.pk not in outstanding:
            raise DomainError(
                "line_not_outstanding",
                _("%(part)s is not outstanding on this order.") % {"part": order_line.part.number},
                field="lines",
                extra={"part_number": order_line.part.number},
            )
        if not entry.get("checked"):
            raise DomainError(
                "line_not_checked",
                _("Check line %(part)s before filling the receipt.")
                % {"part": order_line.part.number},
                field="lines",
                extra={"part_number": order_line.part.number},
            )
        given[order_line.pk] = entry
    receipt = Receipt(
        branch_id=order.branch_id,
        purchase_order=order,
        delivery_note=delivery_note,
        boxes_expected=boxes_expected,
        boxes_counted=boxes_counted,
        packaging_intact=packaging_intact,
        packaging_note=packaging_note,
        note=note,
        checked_by=by,
    )
    receipt.full_clean()
    attribute_to(receipt, by).save()
    anything = False
    for pk, order_line in outstanding.items():
        entry = given.get(pk, {})
        received = Decimal(entry.get("received_quantity") or 0)
        damaged = Decimal(entry.get("damaged_quantity") or 0)
        for amount in (received, damaged):
            if amount:
                _check_quantity(order_line.part, amount)
        if received < 0 or damaged < 0:
            raise DomainError(
                "quantity_negative",
                _("A quantity cannot be negative."),
                field="lines",
                extra={"part_number": order_line.part.number},
            )
        if damaged > received:
            raise DomainError(
                "damaged_exceeds_received",
                _("More damaged than counted on line %(part)s.") % {"part": order_line.part.number},
                field="lines",
                extra={"part_number": order_line.part.number},
            )
        anything = anything or received > 0
        line = ReceiptLine(
            receipt=receipt,
            order_line=order_line,
            part=order_line.part,
            expected_quantity=order_line.outstanding,
            received_quantity=received,
            damaged_quantity=damaged,
            note=entry.get("note", ""),
        )
        attribute_to(line, by).save()
    if not anything:
        raise DomainError("receipt_empty", _("Nothing was counted on this receipt."), field="lines")
    return receipt


@transaction.atomic
def receipt_register(*, receipt: Receipt, by: User, bins: dict[int, Bin] | None = None) -> Receipt:
    """上架 and 入库登记: each accepted quantity goes to its part's bin (a part without one is
    given the bin named for its line) and is posted as a receipt at the order's unit cost."""
    receipt = (
        Receipt.objects.select_for_update(of=("self",)).select_related("branch").get(pk=receipt.pk)
    )
    if receipt.status != ReceiptStatus.CHECKED:
        raise StateConflict("receipt_registered", _("This receipt is already registered."))
    order = _order_locked(receipt.purchase_order)
    _refuse_closed(order)
    bins = bins or {}
    for line in receipt.lines.select_related("order_line", "part"):
        if not line.accepted_quantity:
            continue
        stock = _stock_locked(receipt.branch, line.part)
        place = stock.bin or bins.get(line.pk)
        if place is None:
            raise DomainError(
                "bin_required",
                _("%(part)s has no bin yet: choose where it is put away.")
                % {"part": line.part.number},
                field="bins",
                extra={"part_number": line.part.number},
            )
        if stock.bin is None:
            stock = bin_assign(branch=receipt.branch, part=line.part, bin=place, by=by)
        _refuse_frozen(stock)
        _post_locked(
            stock,
            kind=MoveKind.RECEIPT,
            amount=line.accepted_quantity,
            unit_cost=line.order_line.unit_cost,
            by=by,
            document=f"{receipt.number} / {order.number}",
        )
        line.bin = place
        attribute_to(line, by).save()
        order_line = line.order_line
        order_line.received_quantity += line.accepted_quantity
        attribute_to(order_line, by).save()
    receipt.status = ReceiptStatus.REGISTERED
    receipt.registered_by, receipt.registered_at = by, timezone.now()
    attribute_to(receipt, by).save()
    short = any(line.outstanding for line in order.lines.all())
    order.status = PurchaseOrderStatus.PARTLY_RECEIVED if short else PurchaseOrderStatus.RECEIVED
    attribute_to(order, by).save()
    emergency = EmergencyOrder.objects.filter(purchase_order=order).first()
    if emergency is not None and not short:
        _emergency_order_arrived(emergency, by=by)
    return receipt


# --- Issuing -------------------------------------------------------------------------------


def _part_to_issue(branch: Branch, part: Part, amount: Decimal) -> Part:
    """The number that serves a request for `part`: the old number while its own stock lasts,
    else the newest number that replaced it (旧号换新号)."""
    chain = _supersession_chain(part)
    for link in chain[:-1]:
        stock = PartStock.objects.filter(branch=branch, part=link).first()
        if stock is not None and stock.available >= amount:
            return link
    return chain[-1]


@transaction.atomic
def part_issue_create(
    *,
    branch: Branch,
    kind: str,
    lines: list[dict],
    by: User,
    work_order_reference: str = "",
    customer: Customer | None = None,
    recipient: str = "",
    supplier: Supplier | None = None,
    to_branch: Branch | None = None,
    note: str = "",
) -> PartIssue:
    """An issue voucher with its lines reserved: {part, quantity, unit_price}. A superseded
    number is served by its successor; more than is available is refused, nothing reserved."""
    if not lines:
        raise DomainError("issue_has_no_lines", _("Add at least one part."), field="lines")
    if kind == IssueKind.WORK_ORDER and not work_order_reference.strip():
        raise DomainError(
            "work_order_required",
            _("Name the work order the parts are for."),
            field="work_order_reference",
        )
    if customer is not None and customer.branch_id != branch.pk:
        raise DomainError(
            "customer_other_branch", _("The customer belongs to another branch."), field="customer"
        )
    if (
        kind == IssueKind.TRANSFER
        and to_branch is not None
        and to_branch.group_id != branch.group_id
    ):
        raise DomainError(
            "branch_other_group",
            _("Parts are transferred only between branches of the group."),
            field="to_branch",
        )
    issue = PartIssue(
        branch=branch,
        kind=kind,
        work_order_reference=work_order_reference.strip(),
        customer=customer,
        recipient=recipient,
        supplier=supplier if kind == IssueKind.SUPPLIER_RETURN else None,
        to_branch=to_branch if kind == IssueKind.TRANSFER else None,
        note=note,
        created_by=by,
    )
    issue.full_clean()
    attribute_to(issue, by).save()
    _line_parts_distinct(lines)
    for line in lines:
        amount = Decimal(line["quantity"])
        _check_quantity(line["part"], amount)
        part = _part_to_issue(branch, line["part"], amount)
        stock_reserve(branch=branch, part=part, amount=amount, by=by)
        price = line.get("unit_price")
        issue_line = PartIssueLine(
            issue=issue,
            part=part,
            requested_part=line["part"],
            quantity=amount,
            unit_price=part.price if price is None else price,
        )
        issue_line.full_clean(exclude=["issue"])
        attribute_to(issue_line, by).save()
    return issue


def _issue_locked(issue: PartIssue) -> PartIssue:
    return (
        PartIssue.objects.select_for_update(of=("self",))
        .select_related("branch", "to_branch")
        .get(pk=issue.pk)
    )


@transaction.atomic
def part_issue_advance(*, issue: PartIssue, step: str, by: User) -> PartIssue:
    """One step of 出库: voucher checked → picked → checked again → handed over. Handing over
    registers the issue (出库登记): each line's reservation becomes a stock move."""
    issue = _issue_locked(issue)
    if step not in ISSUE_STEPS:
        raise DomainError("issue_step_unknown", _("Unknown step."))
    if issue.status != ISSUE_STEPS[step]:
        raise StateConflict(
            "issue_step_out_of_order",
            _("Voucher %(issue)s is %(status)s: it cannot be %(step)s now.")
            % {
                "issue": issue.number,
                "status": issue.get_status_display(),
                "step": IssueStatus(step).label,
            },
        )
    now = timezone.now()
    prefix = {
        IssueStatus.CHECKED: "checked",
        IssueStatus.PICKED: "picked",
        IssueStatus.RECHECKED: "rechecked",
        IssueStatus.HANDED_OVER: "handed_over",
    }[step]
    setattr(issue, f"{prefix}_by", by)
    setattr(issue, f"{prefix}_at", now)
    if step == IssueStatus.HANDED_OVER:
        _issue_post(issue, by=by)
    issue.status = step
    attribute_to(issue, by).save()
    return issue


def _issue_post(issue: PartIssue, *, by: User) -> None:
    move_kind = ISSUE_MOVES[issue.kind]
    for line in issue.lines.select_related("part"):
        stock = _stock_locked(issue.branch, line.part)
        _refuse_frozen(stock)
        move = _post_locked(
            stock,
            kind=move_kind,
            amount=line.quantity,
            by=by,
            document=issue.work_order_reference or issue.number,
            from_reserved=line.quantity,
        )
        line.unit_cost = move.unit_cost
        attribute_to(line, by).save()
        if issue.kind == IssueKind.TRANSFER:
            incoming = _stock_locked(issue.to_branch, line.part)
            _refuse_frozen(incoming)
            _post_locked(
                incoming,
                kind=MoveKind.TRANSFER_IN,
                amount=line.quantity,
                unit_cost=move.unit_cost,
                by=by,
                document=f"{issue.number} / {issue.branch.code}",
            )


@transaction.atomic
def part_issue_cancel(*, issue: PartIssue, by: User, reason: str) -> PartIssue:
    """Cancel a voucher not yet handed over; its reservations are released."""
    issue = _issue_locked(issue)
    if issue.status in (IssueStatus.HANDED_OVER, IssueStatus.CANCELLED):
        raise StateConflict(
            "issue_not_cancellable",
            _("Voucher %(issue)s is %(status)s.")
            % {"issue": issue.number, "status": issue.get_status_display()},
        )
    if not reason.strip():
        raise DomainError("reason_required", _("Say why the voucher is cancelled."), field="reason")
    for line in issue.lines.select_related("part"):
        stock_release(branch=issue.branch, part=line.part, amount=line.quantity, by=by)
    issue.status, issue.cancel_reason = IssueStatus.CANCELLED, reason.strip()
    attribute_to(issue, by).save()
    return issue


@transaction.atomic
def part_return_to_stock(
    *, line: PartIssueLine, amount: Decimal, by: User, reason: str
) -> StockMove:
    """Parts issued to a job or sold over the counter come back unused (退库), at their cost."""
    line = (
        PartIssueLine.objects.select_for_update(of=("self",))
        .select_related("issue", "part")
        .get(pk=line.pk)
    )
    issue = line.issue
    if issue.status != IssueStatus.HANDED_OVER or issue.kind not in (
        IssueKind.WORK_ORDER,
        IssueKind.COUNTER_SALE,
    ):
        raise StateConflict(
            "issue_not_returnable",
            _("Only parts handed over to a work order or a counter sale can be returned."),
        )
    if not reason.strip():
        raise DomainError("reason_required", _("Say why the parts come back."), field="reason")
    if len(reason.strip()) > REASON_MAX_LENGTH:
        raise DomainError(
            "reason_too_long",
            _("Say it in at most %(count)s characters.") % {"count": REASON_MAX_LENGTH},
            field="reason",
        )
    amount = Decimal(amount)
    _check_quantity(line.part, amount)
    if amount > line.returnable_quantity:
        raise StateConflict(
            "return_exceeds_issued",
            _("At most %(quantity)s can come back on this line.")
            % {"quantity": quantity_text(line.returnable_quantity)},
            field="quantity",
        )
    line.returned_quantity += amount
    attribute_to(line, by).save()
    return stock_move_post(
        branch=issue.branch,
        part=line.part,
        kind=MoveKind.RETURN_TO_STOCK,
        amount=amount,
        unit_cost=line.unit_cost,
        by=by,
        document=issue.number,
        reason=reason.strip(),
    )


@transaction.atomic
def lost_sale_record(
    *,
    branch: Branch,
    part: Part,
    quantity: Decimal,
    asked_by: str,
    by: User,
    reason: str = LostSaleReason.OUT_OF_STOCK,
    note: str = "",
) -> LostSale:
    """A request the shelf could not serve: it counts against the fill rate and toward the
    next reorder suggestion."""
    _check_quantity(part, Decimal(quantity))
    lost = LostSale(
        branch=branch, part=part, quantity=quantity, reason=reason, asked_by=asked_by, note=note,
        recorded_by=by,
    )  # fmt: skip
    lost.full_clean()
    attribute_to(lost, by).save()
    return lost


# --- Stocktake -----------------------------------------------------------------------------


def _stock_in_scope(branch: Branch, scope: str, zone: str, classification: str):
    stock = PartStock.objects.filter(branch=branch).filter(Q(on_hand__gt=0) | Q(bin__isnull=False))
    if scope == StocktakeScope.ZONE:
        return stock.filter(bin__zone=zone)
    if scope == StocktakeScope.CLASSIFICATION:
        return stock.filter(part__classification=classification)
    return stock


@transaction.atomic
def stocktake_start(
    *,
    branch: Branch,
    scope: str,
    by: User,
    zone: str = "",
    classification: str = "",
    note: str = "",
) -> Stocktake:
    """Freeze a scope and write down its book quantities; no stock move may touch it until
    the stocktake is approved or cancelled."""
    zone = zone.strip().upper() if scope == StocktakeScope.ZONE else ""
    classification = classification if scope == StocktakeScope.CLASSIFICATION else ""
    stocktake = Stocktake(
        branch=branch,
        scope=scope,
        zone=zone,
        classification=classification,
        note=note,
        created_by=by,
    )
    stocktake.full_clean()
    # One stocktake starts at a time per branch, so two cannot freeze the same rows.
    Branch.objects.select_for_update().get(pk=branch.pk)
    rows = list(
        _stock_in_scope(branch, scope, zone, classification)
        .select_for_update(of=("self",))
        .select_related("part", "bin", "branch")
        .order_by("bin__zone", "bin__shelf", "bin__level", "part__number")
    )
    if not rows:
        raise DomainError("stocktake_scope_empty", _("There is no stock in this scope to count."))
    for row in rows:
        open_stocktake = _frozen_by(row)
        if open_stocktake is not None:
            raise StateConflict(
                "stocktake_overlaps",
                _("Stocktake %(stocktake)s is already counting part of this scope.")
                % {"stocktake": open_stocktake.number},
            )
    attribute_to(stocktake, by).save()
    bulk_create_with_history(
        [
            StocktakeLine(
                stocktake=stocktake,
                stock=row,
                part=row.part,
                bin_label=str(row.bin or ""),
                book_quantity=row.on_hand,
                unit_cost=row.average_cost,
            )
            for row in rows
        ],
        StocktakeLine,
        default_user=by,
    )
    return stocktake


def _stocktake_counting(stocktake: Stocktake) -> Stocktake:
    stocktake = Stocktake.objects.select_for_update().get(pk=stocktake.pk)
    if stocktake.status != StocktakeStatus.COUNTING:
        raise StateConflict(
            "stocktake_closed",
            _("Stocktake %(stocktake)s is %(status)s.")
            % {"stocktake": stocktake.number, "status": stocktake.get_status_display()},
        )
    return stocktake


@transaction.atomic
def stocktake_count(*, stocktake: Stocktake, counts: dict[int, Decimal], by: User) -> Stocktake:
    """Record counted quantities, {line id: quantity}; a line may be counted again."""
    stocktake = _stocktake_counting(stocktake)
    lines = {line.pk: line for line in stocktake.lines.select_related("part").filter(pk__in=counts)}
    now = timezone.now()
    for pk, counted in counts.items():
        line = lines.get(pk)
        if line is None:
            raise DomainError("stocktake_line_unknown", _("That line is not on this stocktake."))
        counted = Decimal(counted)
        if counted < 0:
            raise DomainError(
                "quantity_negative", _("A count cannot be negative."), field="counted_quantity"
            )
        if counted:
            _check_quantity(line.part, counted)
        line.counted_quantity, line.counted_by, line.counted_at = counted, by, now
        attribute_to(line, by).save()
    return stocktake


@transaction.atomic
def stocktake_approve(*, stocktake: Stocktake, by: User) -> Stocktake:
    """Approve the counts and post the differences as stocktake gains and losses."""
    stocktake = _stocktake_counting(stocktake)
    lines = list(stocktake.lines.select_related("part"))
    uncounted = [line for line in lines if line.counted_quantity is None]
    if uncounted:
        raise StateConflict(
            "stocktake_not_counted",
            _("%(count)s lines are not counted yet.") % {"count": len(uncounted)},
        )
    branch = Branch.objects.get(pk=stocktake.branch_id)
    for line in lines:
        difference = line.difference
        if not difference:
            continue
        stock = _stock_locked(branch, line.part)
        if difference < 0 and stock.reserved > stock.on_hand + difference:
            raise StateConflict(
                "stocktake_loss_reserved",
                _("%(part)s: the count leaves less than is reserved for jobs; release them first.")
                % {"part": line.part.number},
            )
        if difference > 0:
            _post_locked(
                stock,
                kind=MoveKind.STOCKTAKE_GAIN,
                amount=difference,
                unit_cost=line.unit_cost,
                by=by,
                document=stocktake.number,
            )
        else:
            _post_loss(stock, -difference, by=by, document=stocktake.number)
    stocktake.status = StocktakeStatus.POSTED
    stocktake.approved_by, stocktake.approved_at = by, timezone.now()
    attribute_to(stocktake, by).save()
    return stocktake


def _post_loss(stock: PartStock, amount: Decimal, *, by: User, document: str) -> StockMove:
    """A counted shortfall comes off what is on the shelf, reserved or not (checked above)."""
    held = stock.reserved
    stock.reserved = ZERO
    move = _post_locked(
        stock, kind=MoveKind.STOCKTAKE_LOSS, amount=amount, by=by, document=document,
    )  # fmt: skip
    stock.reserved = held
    attribute_to(stock, by, "stocktake").save()
    return move


@transaction.atomic
def stocktake_cancel(*, stocktake: Stocktake, by: User) -> Stocktake:
    """Give up a stocktake: nothing is adjusted and the scope is free again."""
    stocktake = _stocktake_counting(stocktake)
    stocktake.status = StocktakeStatus.CANCELLED
    attribute_to(stocktake, by).save()
    return stocktake


# --- Reorder suggestions -------------------------------------------------------------------


def _whole(part: Part, amount: Decimal) -> Decimal:
    if part.unit in WHOLE_UNITS:
        return Decimal(math.ceil(amount))
    return amount.quantize(Decimal("0.001"))


@transaction.atomic
def reorder_suggestions_compute(
    *, branch: Branch, day: date, period_days: int = CONSUMPTION_PERIOD_DAYS
) -> int:
    """Suggest what to order: for each stocked part, the average use per day over the period
    (issues, counter sales and lost sales), the lead time and the min / max levels give a
    reorder point; at or below it, order up to the maximum. Rerunning the day replaces its
    open suggestions and keeps those already ordered or dismissed. Returns how many are open."""
    since, until = local_day_end(day - timedelta(days=period_days)), local_day_end(day)
    used = dict(
        StockMove.objects.filter(
            branch=branch, kind__in=CONSUMING_MOVES, at__gte=since, at__lt=until
        )
        .values_list("part")
        .annotate(total=Sum("quantity"))
    )
    lost = dict(
        LostSale.objects.filter(branch=branch, at__gte=since, at__lt=until)
        .values_list("part")
        .annotate(total=Sum("quantity"))
    )
    on_order = dict(
        PurchaseOrderLine.objects.filter(
            purchase_order__branch=branch,
            purchase_order__status__in=[
                PurchaseOrderStatus.DRAFT,
                PurchaseOrderStatus.ORDERED,
                PurchaseOrderStatus.PARTLY_RECEIVED,
            ],
        )
        .values_list("part")
        .annotate(total=Sum("quantity") - Sum("received_quantity"))
    )
    decided = set(
        ReorderSuggestion.objects.filter(branch=branch, computed_on=day)
        .exclude(status=SuggestionStatus.OPEN)
        .values_list("part_id", flat=True)
    )
    ReorderSuggestion.objects.filter(
        branch=branch, computed_on=day, status=SuggestionStatus.OPEN
    ).delete()
    suggestions = []
    for stock in PartStock.objects.filter(branch=branch).select_related("part", "part__supplier"):
        part = stock.part
        if part.superseded_by_id or part.pk in decided:
            continue
        consumed = -(used.get(part.pk) or ZERO) + (lost.get(part.pk) or ZERO)
        daily = (consumed / period_days).quantize(Decimal("0.001"))
        lead_time = (part.supplier.lead_time_days if part.supplier else None) or part.lead_time_days
        point = max(stock.reorder_point, stock.min_quantity + daily * lead_time)
        coming = on_order.get(part.pk) or ZERO
        position = stock.available + coming
        if not (daily or stock.reorder_point or stock.min_quantity) or position > point:
            continue
        target = max(stock.max_quantity, point + daily * lead_time)
        quantity = _whole(part, target - position)
        if quantity <= 0:
            continue
        suggestions.append(
            ReorderSuggestion(
                branch=branch,
                part=part,
                computed_on=day,
                available=stock.available,
                on_order=coming,
                daily_consumption=daily,
                lead_time_days=lead_time,
                reorder_point=_whole(part, point),
                suggested_quantity=quantity,
            )  # fmt: skip
        )
    bulk_create_with_history(suggestions, ReorderSuggestion)
    return len(suggestions)


@transaction.atomic
def purchase_orders_from_suggestions(
    *, suggestions: list[ReorderSuggestion], by: User
) -> list[PurchaseOrder]:
    """Turn open suggestions into draft stock orders, one per supplier."""
    if not suggestions:
        raise DomainError("no_suggestions", _("Choose at least one suggestion."))
    locked = list(
        ReorderSuggestion.objects.select_for_update(of=("self",))
        .select_related("part", "branch")
        .filter(pk__in=[suggestion.pk for suggestion in suggestions])
        .order_by("pk")
    )
    by_supplier: dict[tuple[int, int], list[ReorderSuggestion]] = defaultdict(list)
    for suggestion in locked:
        if suggestion.status != SuggestionStatus.OPEN:
            raise StateConflict(
                "suggestion_not_open",
                _("The suggestion for %(part)s was already acted on.")
                % {"part": suggestion.part.number},
            )
        if suggestion.part.supplier_id is None:
            raise DomainError(
                "part_has_no_supplier",
                _("%(part)s has no supplier: set one in the catalogue first.")
                % {"part": suggestion.part.number},
            )
        by_supplier[(suggestion.branch_id, suggestion.part.supplier_id)].append(suggestion)
    orders = []
    for (_branch_id, supplier_id), group in by_supplier.items():
        order = purchase_order_create(
            branch=group[0].branch,
            supplier=Supplier.objects.get(pk=supplier_id),
            kind=OrderKind.STOCK,
            lines=[{"part": item.part, "quantity": item.suggested_quantity} for item in group],
            by=by,
            note=str(_("From reorder suggestions")),
        )
        for item in group:
            item.status, item.purchase_order = SuggestionStatus.ORDERED, order
            attribute_to(item, by).save()
        orders.append(order)
    return orders


@transaction.atomic
def reorder_suggestion_dismiss(*, suggestion: ReorderSuggestion, by: User) -> ReorderSuggestion:
    suggestion = ReorderSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != SuggestionStatus.OPEN:
        raise StateConflict("suggestion_not_open", _("This suggestion was already acted on."))
    suggestion.status = SuggestionStatus.DISMISSED
    attribute_to(suggestion, by).save()
    return suggestion


# --- Emergency orders for a customer (即购即销) ----------------------------------------------


@transaction.atomic
def emergency_order_request(
    *,
    branch: Branch,
    customer: Customer,
    part: Part,
    quantity: Decimal,
    by: User,
    vehicle: Vehicle | None = None,
    note: str = "",
) -> EmergencyOrder:
    """The advisor asks for a part the shelf cannot give: recorded as a lost sale too."""
    if customer.branch_id != branch.pk:
        raise DomainError(
            "customer_other_branch", _("The customer belongs to another branch."), field="customer"
        )
    if vehicle is not None and vehicle.owner_id != customer.pk:
        raise DomainError(
            "vehicle_not_customers", _("The vehicle is not the customer's."), field="vehicle"
        )
    part = part_current(part)
    _check_quantity(part, Decimal(quantity))
    order = EmergencyOrder(
        branch=branch, customer=customer, vehicle=vehicle, part=part, quantity=quantity,
        advisor=by, note=note, created_by=by,
    )  # fmt: skip
    order.full_clean()
    attribute_to(order, by).save()
    lost_sale_record(
        branch=branch,
        part=part,
        quantity=Decimal(quantity),
        asked_by=customer.name,
        reason=LostSaleReason.EMERGENCY_ORDER,
        note=order.number,
        by=by,
    )
    return order


def _emergency_locked(order: EmergencyOrder, *expected: str) -> EmergencyOrder:
    order = (
        EmergencyOrder.objects.select_for_update(of=("self",))
        .select_related("branch", "part")
        .get(pk=order.pk)
    )
    if order.status not in expected:
        raise StateConflict(
            "emergency_order_wrong_status",
            _("Emergency order %(order)s is %(status)s.")
            % {"order": order.number, "status": order.get_status_display()},
        )
    return order


@transaction.atomic
def emergency_order_quote(
    *,
    emergency_order: EmergencyOrder,
    supplier: Supplier,
    quoted_unit_cost: Decimal,
    unit_price: Decimal,
    by: User,
    promised_on: date | None = None,
) -> EmergencyOrder:
    """The supplier's quote, and the price and date promised to the customer."""
    order = _emergency_locked(emergency_order, EmergencyStatus.REQUESTED, EmergencyStatus.QUOTED)
    if promised_on is not None and promised_on < timezone.localdate():
        raise DomainError("date_in_past", _("The promised date has passed."), field="promised_on")
    order.supplier, order.quoted_unit_cost, order.unit_price = (
        supplier,
        quoted_unit_cost,
        unit_price,
    )
    order.promised_on, order.status = promised_on, EmergencyStatus.QUOTED
    order.full_clean()
    attribute_to(order, by).save()
    return order


@transaction.atomic
def emergency_order_deposit(
    *, emergency_order: EmergencyOrder, amount: Decimal, by: User
) -> EmergencyOrder:
    """The customer's deposit: more than nothing, no more than the price quoted."""
    order = _emergency_locked(emergency_order, EmergencyStatus.QUOTED)
    total = order.unit_price * order.quantity
    if not ZERO < amount <= total:
        raise DomainError(
            "deposit_out_of_range",
            _("The deposit is more than 0 and at most the price, %(total)s CNY.")
            % {"total": f"{total:,.2f}"},
            field="amount",
        )
    order.deposit, order.deposit_received_at = amount, timezone.now()
    order.status = EmergencyStatus.DEPOSIT_PAID
    attribute_to(order, by).save()
    return order


@transaction.atomic
def emergency_order_place(*, emergency_order: EmergencyOrder, by: User) -> EmergencyOrder:
    """Order from the supplier who quoted: an emergency purchase order, placed at once."""
    order = _emergency_locked(emergency_order, EmergencyStatus.DEPOSIT_PAID)
    purchase = purchase_order_create(
        branch=order.branch,
        supplier=order.supplier,
        kind=OrderKind.EMERGENCY,
        lines=[
            {"part": order.part, "quantity": order.quantity, "unit_cost": order.quoted_unit_cost}
        ],
        expected_on=order.promised_on,
        note=_("For %(customer)s (%(order)s)")
        % {"customer": order.customer.name, "order": order.number},
        by=by,
    )
    order.purchase_order = purchase_order_place(purchase_order=purchase, by=by)
    # A number replaced since the request is ordered as its successor: hold what will arrive.
    order.part = purchase.lines.get().part
    order.status = EmergencyStatus.ORDERED
    attribute_to(order, by).save()
    return order


def _emergency_order_arrived(order: EmergencyOrder, *, by: User) -> None:
    """Everything ordered has been put away: hold it for the customer and tell the advisor."""
    order = _emergency_locked(order, EmergencyStatus.ORDERED)
    stock_reserve(branch=order.branch, part=order.part, amount=order.quantity, by=by)
    order.status, order.arrived_at = EmergencyStatus.ARRIVED, timezone.now()
    attribute_to(order, by).save()
    notify(
        recipients=[order.advisor],
        key=f"emergency-order-arrived-{order.pk}",
        title=_("Part arrived for %(customer)s") % {"customer": order.customer.name},
        body=_("%(order)s: %(part)s × %(quantity)s is held in stock for the customer.")
        % {"order": order.number, "part": order.part, "quantity": quantity_text(order.quantity)},
        url=order.get_absolute_url(),
        branch=order.branch,
    )


@transaction.atomic
def emergency_order_hand_over(*, emergency_order: EmergencyOrder, by: User) -> EmergencyOrder:
    """The held part goes on an issue voucher to the customer, at the price quoted."""
    order = _emergency_locked(emergency_order, EmergencyStatus.ARRIVED)
    stock_release(branch=order.branch, part=order.part, amount=order.quantity, by=by)
    order.issue = part_issue_create(
        branch=order.branch,
        kind=IssueKind.COUNTER_SALE,
        lines=[{"part": order.part, "quantity": order.quantity, "unit_price": order.unit_price}],
        customer=order.customer,
        recipient=order.customer.name,
        note=order.number,
        by=by,
    )
    order.status = EmergencyStatus.HANDED_OVER
    attribute_to(order, by).save()
    return order


@transaction.atomic
def emergency_order_cancel(
    *, emergency_order: EmergencyOrder, by: User, reason: str
) -> EmergencyOrder:
    order = _emergency_locked(
        emergency_order,
        EmergencyStatus.REQUESTED,
        EmergencyStatus.QUOTED,
        EmergencyStatus.DEPOSIT_PAID,
        EmergencyStatus.ORDERED,
    )
    if not reason.strip():
        raise DomainError("reason_required", _("Say why the order is cancelled."), field="reason")
    purchase = order.purchase_order
    # The purchase order may have been cancelled on its own already.
    if purchase is not None and purchase.status != PurchaseOrderStatus.CANCELLED:
        purchase_order_cancel(purchase_order=purchase, by=by, reason=reason)
    order.status, order.cancel_reason = EmergencyStatus.CANCELLED, reason.strip()
    attribute_to(order, by).save()
    return order
