"""The parts stockroom (配件): the catalogue, bins, each branch's stock of a part and the ledger
of stock moves it is derived from."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from customers.models import case_insensitive_trigram_index
from dealer_crm.models import branch_key
from dealer_crm.scoping import BranchScopedQuerySet

from .choices import MoveKind, PartClass, Unit

ZERO = Decimal("0")


def quantity_field(verbose_name, **kwargs) -> models.DecimalField:
    """Quantities allow three decimals (litres of oil); whole units are checked by services."""
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=3, **kwargs)


class Supplier(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    contact = models.CharField(_("contact"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"), default=7)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Part(models.Model):
    """One part number of the group's catalogue. A superseded number points at its successor,
    which searching and issuing follow."""

    number = models.CharField(
        _("part number"),
        max_length=40,
        unique=True,
        error_messages={"unique": _("A part with this number already exists.")},
    )
    name = models.CharField(_("name"), max_length=100)
    classification = models.CharField(_("classification"), max_length=20, choices=PartClass.choices)
    fitting_models = models.CharField(_("fits models"), max_length=300, blank=True)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.PIECE)
    price = models.DecimalField(
        _("price (CNY)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parts",
        verbose_name=_("supplier"),
    )
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"), default=7)
    superseded_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supersedes",
        verbose_name=_("superseded by"),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("part")
        verbose_name_plural = _("parts")
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(superseded_by=F("pk")), name="part_not_superseded_by_itself"
            )
        ]
        indexes = [case_insensitive_trigram_index("name", "part_name_upper_trgm")]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class Bin(models.Model):
    """A storage place (货位): zone, shelf and level, e.g. A-03-2."""

    branch_lookup = "branch"

    branch = branch_key()
    zone = models.CharField(_("zone"), max_length=10)
    shelf = models.CharField(_("shelf"), max_length=10)
    level = models.CharField(_("level"), max_length=10)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("bin")
        verbose_name_plural = _("bins")
        ordering = ["zone", "shelf", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "zone", "shelf", "level"],
                name="bin_unique_place",
                violation_error_message=_("This bin already exists."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.zone}-{self.shelf}-{self.level}"


class PartStock(models.Model):
    """A branch's stock of one part: its bin, the quantities and the moving-average cost.

    `on_hand` is the running balance of the part's stock moves, changed only together with a
    move under this row's lock; `reserved` is what planned jobs hold. Available is the rest.
    """

    branch_lookup = "branch"

    branch = branch_key()
    part = models.ForeignKey(
        Part, on_delete=models.PROTECT, related_name="stocks", verbose_name=_("part")
    )
    # One part number, one bin per branch (一个零件号一个货位), and one part per bin.
    bin = models.OneToOneField(
        Bin,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock",
        verbose_name=_("bin"),
    )
    on_hand = quantity_field(_("on hand"), default=ZERO)
    reserved = quantity_field(_("reserved"), default=ZERO)
    average_cost = models.DecimalField(
        _("average cost (CNY)"), max_digits=12, decimal_places=4, default=ZERO
    )
    min_quantity = quantity_field(_("minimum"), default=ZERO)
    max_quantity = quantity_field(_("maximum"), default=ZERO)
    reorder_point = quantity_field(_("reorder point"), default=ZERO)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("part stock")
        verbose_name_plural = _("part stock")
        ordering = ["part__number"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "part"], name="part_stock_one_per_branch"),
            # The backstop behind the services' row locks: stock never goes negative, and
            # nothing is promised that is not on the shelf.
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="part_stock_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0) & Q(reserved__lte=F("on_hand")),
                name="part_stock_reserved_within_on_hand",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.part} @ {self.branch}"

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


class StockMove(models.Model):
    """One change of quantity: the ledger every balance is derived from. Never edited."""

    branch_lookup = "branch"

    branch = branch_key()
    part = models.ForeignKey(
        Part, on_delete=models.PROTECT, related_name="moves", verbose_name=_("part")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=MoveKind.choices)
    quantity = quantity_field(_("quantity"), help_text=_("Positive in, negative out."))
    unit_cost = models.DecimalField(_("unit cost (CNY)"), max_digits=12, decimal_places=4)
    balance_after = quantity_field(_("on hand after"))
    document = models.CharField(
        _("document"), max_length=60, blank=True, help_text=_("The voucher, order or receipt.")
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    objects = BranchScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="stock_move_not_zero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="stock_move_balance_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["branch", "part", "-at"], name="stock_move_part_latest")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity} × {self.part}"
