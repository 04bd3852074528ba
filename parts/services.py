"""Every write to the stockroom: catalogue, bins, and the stock moves every balance follows."""

from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from dealer_crm.audit import attribute_to
from dealer_crm.errors import DomainError, StateConflict
from dealer_crm.models import Branch

from .choices import INCOMING_MOVES, WHOLE_UNITS, MoveKind
from .models import ZERO, Bin, Part, PartStock, StockMove

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
        PartStock.objects.select_for_update().select_related("part").get(branch=branch, part=part)
    )


@transaction.atomic
def bin_assign(*, branch: Branch, part: Part, bin: Bin, by: User) -> PartStock:
    """Put a part in a bin of the branch (or move it to another); the move is in its history."""
    if bin.branch_id != branch.pk:
        raise DomainError("bin_other_branch", _("This bin belongs to another branch."), field="bin")
    stock = _stock_locked(branch, part)
    holder = PartStock.objects.filter(bin=bin).exclude(pk=stock.pk).select_related("part").first()
    if holder is not None:
        raise StateConflict(
            "bin_taken",
            _("Bin %(bin)s already holds %(part)s.") % {"bin": bin, "part": holder.part},
            field="bin",
        )
    previous = stock.bin
    stock.bin = bin
    attribute_to(stock, by, f"bin {previous or '—'} → {bin}").save()
    return stock


def _check_quantity(part: Part, amount: Decimal) -> None:
    if amount <= 0:
        raise DomainError(
            "quantity_not_positive", _("A quantity is more than zero."), field="quantity"
        )
    if part.unit in WHOLE_UNITS and amount != amount.to_integral_value():
        raise DomainError(
            "quantity_not_whole",
            _("%(part)s is counted in whole %(unit)s.")
            % {"part": part.number, "unit": part.get_unit_display()},
            field="quantity",
        )


def _refuse_more_than_available(stock: PartStock, amount: Decimal) -> None:
    if amount > stock.available:
        raise StateConflict(
            "insufficient_stock",
            _("Only %(available)s %(unit)s of %(part)s are available.")
            % {
                "available": stock.available.normalize(),
                "unit": stock.part.get_unit_display(),
                "part": stock.part.number,
            },
            field="quantity",
            extra={"available": str(stock.available)},
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
    incoming = kind in INCOMING_MOVES
    if incoming:
        cost = stock.average_cost if unit_cost is None else Decimal(unit_cost)
        if cost < 0:
            raise DomainError("cost_negative", _("A cost cannot be negative."), field="unit_cost")
        if kind == MoveKind.RECEIPT:
            value = stock.on_hand * stock.average_cost + amount * cost
            stock.average_cost = (value / (stock.on_hand + amount)).quantize(Decimal("0.0001"))
        stock.on_hand += amount
    else:
        _refuse_more_than_available(stock, amount)
        cost = stock.average_cost
        stock.on_hand -= amount
    attribute_to(stock, by, kind).save()
    move = StockMove(
        branch=branch,
        part=part,
        kind=kind,
        quantity=amount if incoming else -amount,
        unit_cost=cost,
        balance_after=stock.on_hand,
        document=document,
        reason=reason,
        by=by,
    )
    move.full_clean()
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
