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
