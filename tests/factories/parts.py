"""The stockroom's catalogue and bins."""

from decimal import Decimal

import factory

from parts.choices import PartClass, Unit
from parts.models import Bin, Part, Supplier

from .platform import BranchFactory


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    name = factory.Sequence(lambda n: f"上汽大众配件供应{n}")


class PartFactory(factory.django.DjangoModelFactory):
    """A whole-unit part (a spark plug); `unit=Unit.LITRE` for oil."""

    class Meta:
        model = Part

    number = factory.Sequence(lambda n: f"06H905601{n:03d}")
    name = "火花塞"
    classification = PartClass.WEAR
    unit = Unit.PIECE
    price = Decimal("65.00")


class BinFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bin

    branch = factory.SubFactory(BranchFactory)
    zone = "A"
    shelf = factory.Sequence(lambda n: f"{n % 100:02d}")
    level = factory.Sequence(lambda n: str(n // 100 + 1))


# --- Stock and documents made the way the stockroom makes them: through the services ---------


def stocked(branch, part, by, quantity, *, cost="50.00", bin=None):
    """`quantity` of `part` received into `branch` at `cost` (and put in `bin` first)."""
    from parts import services
    from parts.choices import MoveKind

    if bin is not None:
        services.bin_assign(branch=branch, part=part, bin=bin, by=by)
    services.stock_move_post(
        branch=branch,
        part=part,
        kind=MoveKind.RECEIPT,
        amount=Decimal(quantity),
        unit_cost=Decimal(cost),
        by=by,
        document="PO-TEST",
    )
    return part.stocks.get(branch=branch)


def draft_purchase_order(branch, by, lines, *, supplier=None):
    """A draft stock order of `lines` [(part, quantity, unit_cost)]."""
    from parts import services
    from parts.choices import OrderKind

    return services.purchase_order_create(
        branch=branch,
        supplier=supplier or SupplierFactory(),
        kind=OrderKind.STOCK,
        lines=[
            {"part": part, "quantity": Decimal(quantity), "unit_cost": Decimal(cost)}
            for part, quantity, cost in lines
        ],
        by=by,
    )


def placed_purchase_order(branch, by, lines, *, supplier=None):
    """A placed stock order of `lines` [(part, quantity, unit_cost)]."""
    from parts import services

    order = draft_purchase_order(branch, by, lines, supplier=supplier)
    return services.purchase_order_place(purchase_order=order, by=by)
