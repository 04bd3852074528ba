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
from dealer_crm.models import NumberedDocument, branch_key, money_field, user_key
from dealer_crm.scoping import BranchScopedQuerySet

from .choices import (
    Discrepancy,
    EmergencyStatus,
    IssueKind,
    IssueStatus,
    LostSaleReason,
    MoveKind,
    OrderKind,
    PartClass,
    PurchaseOrderStatus,
    ReceiptStatus,
    StocktakeScope,
    StocktakeStatus,
    SuggestionStatus,
    Unit,
)

ZERO = Decimal("0")


def quantity_text(amount: Decimal) -> str:
    """A quantity as people write it: 12.000 → "12", 10 → "10" (never "1E+1"), 1.500 → "1.5"."""
    return f"{amount.normalize():f}"


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


# --- Purchase orders and receiving ---------------------------------------------------------


class PurchaseOrder(NumberedDocument):
    """采购订单: a stock order or an emergency order to one supplier."""

    number_prefix = "PO"
    detail_route = "parts:purchase-order-detail"
    branch_lookup = "branch"

    branch = branch_key()
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        related_name="purchase_orders",
        verbose_name=_("supplier"),
    )
    kind = models.CharField(_("order type"), max_length=20, choices=OrderKind.choices)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=PurchaseOrderStatus.choices,
        default=PurchaseOrderStatus.DRAFT,
    )
    expected_on = models.DateField(_("expected on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = user_key(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    ordered_at = models.DateTimeField(_("ordered at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        ordering = ["-id"]
        indexes = [models.Index(fields=["branch", "status"], name="purchase_order_status")]


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder,
        on_delete=models.CASCADE,
        related_name="lines",
        verbose_name=_("purchase order"),
    )
    part = models.ForeignKey(
        Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part")
    )
    quantity = quantity_field(_("quantity ordered"))
    unit_cost = money_field(_("unit cost (CNY)"))
    received_quantity = quantity_field(_("quantity received"), default=ZERO)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase_order", "part"],
                name="purchase_order_line_one_per_part",
                violation_error_message=_("The part is already on this order."),
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="purchase_order_line_positive"
            ),
            models.CheckConstraint(
                condition=Q(received_quantity__gte=0),
                name="purchase_order_line_received_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.part} × {quantity_text(self.quantity)}"

    @property
    def outstanding(self) -> Decimal:
        return max(ZERO, self.quantity - self.received_quantity)


class Receipt(NumberedDocument):
    """验收单: what arrived against a purchase order, checked box by box and line by line,
    then put away to the bins and registered (入库登记), which posts the receipt moves."""

    number_prefix = "GR"
    detail_route = "parts:receipt-detail"
    branch_lookup = "branch"

    branch = branch_key()
    purchase_order = models.ForeignKey(
        PurchaseOrder,
        on_delete=models.PROTECT,
        related_name="receipts",
        verbose_name=_("purchase order"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ReceiptStatus.choices, default=ReceiptStatus.CHECKED
    )
    delivery_note = models.CharField(_("supplier's delivery note"), max_length=60, blank=True)
    boxes_expected = models.PositiveSmallIntegerField(_("boxes on the delivery note"))
    boxes_counted = models.PositiveSmallIntegerField(_("boxes counted"))
    packaging_intact = models.BooleanField(_("packaging intact"))
    packaging_note = models.CharField(_("packaging findings"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    checked_by = user_key(_("checked by"))
    checked_at = models.DateTimeField(_("checked at"), auto_now_add=True)
    registered_by = user_key(_("registered by"), null=True)
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-id"]


class ReceiptLine(models.Model):
    """One line as checked: expected (outstanding on the order), counted, damaged."""

    receipt = models.ForeignKey(
        Receipt, on_delete=models.CASCADE, related_name="lines", verbose_name=_("receipt")
    )
    order_line = models.ForeignKey(
        PurchaseOrderLine,
        on_delete=models.PROTECT,
        related_name="receipt_lines",
        verbose_name=_("order line"),
    )
    part = models.ForeignKey(
        Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part")
    )
    expected_quantity = quantity_field(_("expected"))
    received_quantity = quantity_field(_("counted"))
    damaged_quantity = quantity_field(_("damaged"), default=ZERO)
    note = models.CharField(_("note"), max_length=200, blank=True)
    bin = models.ForeignKey(
        Bin,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("put away to"),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("receipt line")
        verbose_name_plural = _("receipt lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(received_quantity__gte=0)
                & Q(damaged_quantity__gte=0)
                & Q(damaged_quantity__lte=F("received_quantity")),
                name="receipt_line_quantities_consistent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.part} × {quantity_text(self.received_quantity)}"

    @property
    def accepted_quantity(self) -> Decimal:
        """What goes on the shelf: counted less damaged."""
        return self.received_quantity - self.damaged_quantity

    @property
    def discrepancies(self) -> list[str]:
        found = []
        if self.received_quantity < self.expected_quantity:
            found.append(Discrepancy.SHORT)
        if self.received_quantity > self.expected_quantity:
            found.append(Discrepancy.OVER)
        if self.damaged_quantity:
            found.append(Discrepancy.DAMAGED)
        return found


# --- Issuing -------------------------------------------------------------------------------


class PartIssue(NumberedDocument):
    """出库单, the issue voucher: parts out to a work order, a counter sale, a supplier or
    another branch. Its lines are reserved when it is made, and posted as stock moves when
    the parts are handed over."""

    number_prefix = "IV"
    detail_route = "parts:issue-detail"
    branch_lookup = "branch"

    branch = branch_key()
    kind = models.CharField(_("issued for"), max_length=20, choices=IssueKind.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=IssueStatus.choices, default=IssueStatus.REQUESTED
    )
    work_order_reference = models.CharField(_("work order"), max_length=40, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="part_issues",
        verbose_name=_("customer"),
    )
    recipient = models.CharField(
        _("handed to"), max_length=50, blank=True, help_text=_("The technician or customer.")
    )
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("supplier"),
    )
    to_branch = models.ForeignKey(
        "dealer_crm.Branch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("to branch"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = user_key(_("requested by"))
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    checked_by = user_key(_("voucher checked by"), null=True)
    checked_at = models.DateTimeField(_("voucher checked at"), null=True, blank=True)
    picked_by = user_key(_("picked by"), null=True)
    picked_at = models.DateTimeField(_("picked at"), null=True, blank=True)
    rechecked_by = user_key(_("checked again by"), null=True)
    rechecked_at = models.DateTimeField(_("checked again at"), null=True, blank=True)
    handed_over_by = user_key(_("handed over by"), null=True)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("issue voucher")
        verbose_name_plural = _("issue vouchers")
        ordering = ["-id"]
        indexes = [models.Index(fields=["branch", "status"], name="part_issue_status")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=IssueKind.TRANSFER)
                | (Q(to_branch__isnull=False) & ~Q(to_branch=F("branch"))),
                name="part_issue_transfer_to_other_branch",
                violation_error_message=_("A transfer goes to another branch."),
            ),
            models.CheckConstraint(
                condition=~Q(kind=IssueKind.SUPPLIER_RETURN) | Q(supplier__isnull=False),
                name="part_issue_return_names_supplier",
                violation_error_message=_("A return to supplier names the supplier."),
            ),
        ]


class PartIssueLine(models.Model):
    issue = models.ForeignKey(
        PartIssue, on_delete=models.CASCADE, related_name="lines", verbose_name=_("issue voucher")
    )
    part = models.ForeignKey(
        Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part")
    )
    requested_part = models.ForeignKey(
        Part,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("number asked for"),
        help_text=_("Differs from the part when an old number was replaced by a new one."),
    )
    quantity = quantity_field(_("quantity"))
    unit_price = money_field(_("unit price (CNY)"), default=ZERO)
    unit_cost = models.DecimalField(
        _("unit cost (CNY)"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    returned_quantity = quantity_field(_("returned to stock"), default=ZERO)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("issue voucher line")
        verbose_name_plural = _("issue voucher lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="part_issue_line_positive"),
            models.CheckConstraint(
                condition=Q(returned_quantity__gte=0) & Q(returned_quantity__lte=F("quantity")),
                name="part_issue_line_returned_within_issued",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.part} × {quantity_text(self.quantity)}"

    @property
    def returnable_quantity(self) -> Decimal:
        return self.quantity - self.returned_quantity


class LostSale(models.Model):
    """A request the stockroom could not serve from stock: it lowers the fill rate and
    raises the next reorder suggestion."""

    branch_lookup = "branch"

    branch = branch_key()
    part = models.ForeignKey(
        Part, on_delete=models.PROTECT, related_name="lost_sales", verbose_name=_("part")
    )
    quantity = quantity_field(_("quantity asked for"))
    reason = models.CharField(_("reason"), max_length=20, choices=LostSaleReason.choices)
    asked_by = models.CharField(
        _("asked by"), max_length=50, help_text=_("The customer, technician or advisor who asked.")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = user_key(_("recorded by"))
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("lost sale")
        verbose_name_plural = _("lost sales")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="lost_sale_positive")
        ]

    def __str__(self) -> str:
        return f"{self.part} × {quantity_text(self.quantity)}"


# --- Stocktake -----------------------------------------------------------------------------


class Stocktake(NumberedDocument):
    """盘点: a scope of the stock frozen, counted, compared with the book and, once approved,
    adjusted by stocktake moves. No stock move touches the scope while it is frozen."""

    number_prefix = "ST"
    detail_route = "parts:stocktake-detail"
    branch_lookup = "branch"

    branch = branch_key()
    scope = models.CharField(_("scope"), max_length=20, choices=StocktakeScope.choices)
    zone = models.CharField(_("zone"), max_length=10, blank=True)
    classification = models.CharField(
        _("classification"), max_length=20, choices=PartClass.choices, blank=True
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=StocktakeStatus.choices,
        default=StocktakeStatus.COUNTING,
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = user_key(_("frozen by"))
    created_at = models.DateTimeField(_("frozen at"), auto_now_add=True)
    approved_by = user_key(_("approved by"), null=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("stocktake")
        verbose_name_plural = _("stocktakes")
        ordering = ["-id"]
        permissions = [("approve_stocktake", _("Can approve a stocktake and post its adjustments"))]
        constraints = [
            models.CheckConstraint(
                condition=~Q(scope=StocktakeScope.ZONE) | ~Q(zone=""),
                name="stocktake_zone_scope_names_zone",
                violation_error_message=_("Choose the zone to count."),
            ),
            models.CheckConstraint(
                condition=~Q(scope=StocktakeScope.CLASSIFICATION) | ~Q(classification=""),
                name="stocktake_class_scope_names_class",
                violation_error_message=_("Choose the classification to count."),
            ),
        ]

    def covers(self, stock: PartStock) -> bool:
        """Whether the stock row falls in this stocktake's scope as it stands now."""
        if stock.branch_id != self.branch_id:
            return False
        if self.scope == StocktakeScope.ZONE:
            return stock.bin is not None and stock.bin.zone == self.zone
        if self.scope == StocktakeScope.CLASSIFICATION:
            return stock.part.classification == self.classification
        return True

    @property
    def scope_label(self) -> str:
        if self.scope == StocktakeScope.ZONE:
            return _("Zone %(zone)s") % {"zone": self.zone}
        if self.scope == StocktakeScope.CLASSIFICATION:
            return str(self.get_classification_display())
        return str(self.get_scope_display())


class StocktakeLine(models.Model):
    """One stock row of the scope: the book quantity frozen, and what was counted."""

    stocktake = models.ForeignKey(
        Stocktake, on_delete=models.CASCADE, related_name="lines", verbose_name=_("stocktake")
    )
    stock = models.ForeignKey(
        PartStock, on_delete=models.PROTECT, related_name="stocktake_lines", verbose_name=_("stock")
    )
    part = models.ForeignKey(
        Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part")
    )
    bin_label = models.CharField(_("bin"), max_length=40, blank=True)
    book_quantity = quantity_field(_("book quantity"))
    unit_cost = models.DecimalField(_("unit cost (CNY)"), max_digits=12, decimal_places=4)
    counted_quantity = quantity_field(_("counted"), null=True, blank=True)
    counted_by = user_key(_("counted by"), null=True)
    counted_at = models.DateTimeField(_("counted at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("stocktake line")
        verbose_name_plural = _("stocktake lines")
        ordering = ["bin_label", "part__number"]
        constraints = [
            models.UniqueConstraint(
                fields=["stocktake", "stock"], name="stocktake_line_one_per_stock"
            ),
            models.CheckConstraint(
                condition=Q(counted_quantity__isnull=True) | Q(counted_quantity__gte=0),
                name="stocktake_line_count_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stocktake} {self.part}"

    @property
    def difference(self) -> Decimal | None:
        if self.counted_quantity is None:
            return None
        return self.counted_quantity - self.book_quantity

    @property
    def difference_value(self) -> Decimal | None:
        difference = self.difference
        if difference is None:
            return None
        return (difference * self.unit_cost).quantize(Decimal("0.01"))


# --- Ordering ------------------------------------------------------------------------------


class ReorderSuggestion(models.Model):
    """What the nightly job proposes to order, and the figures it worked from."""

    branch_lookup = "branch"

    branch = branch_key()
    part = models.ForeignKey(
        Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part")
    )
    computed_on = models.DateField(_("computed on"))
    available = quantity_field(_("available"))
    on_order = quantity_field(_("on order"))
    daily_consumption = quantity_field(_("average use per day"))
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"))
    reorder_point = quantity_field(_("reorder point"))
    suggested_quantity = quantity_field(_("suggested quantity"))
    status = models.CharField(
        _("status"), max_length=20, choices=SuggestionStatus.choices, default=SuggestionStatus.OPEN
    )
    purchase_order = models.ForeignKey(
        PurchaseOrder,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="suggestions",
        verbose_name=_("purchase order"),
    )

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reorder suggestion")
        verbose_name_plural = _("reorder suggestions")
        ordering = ["part__number"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "part", "computed_on"], name="reorder_suggestion_one_per_day"
            ),
            models.CheckConstraint(
                condition=Q(suggested_quantity__gt=0), name="reorder_suggestion_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.part} × {quantity_text(self.suggested_quantity)}"


class EmergencyOrder(NumberedDocument):
    """即购即销: a part ordered at once for one customer — the request, the supplier's quote,
    the customer's deposit, the order, and the arrival the service advisor is told of."""

    number_prefix = "EO"
    detail_route = "parts:emergency-order-detail"
    branch_lookup = "branch"

    branch = branch_key()
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="emergency_part_orders",
        verbose_name=_("customer"),
    )
    vehicle = models.ForeignKey(
        "customers.Vehicle",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("vehicle"),
    )
    part = models.ForeignKey(
        Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part")
    )
    quantity = quantity_field(_("quantity"))
    advisor = user_key(_("service advisor"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=EmergencyStatus.choices,
        default=EmergencyStatus.REQUESTED,
    )
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("supplier"),
    )
    quoted_unit_cost = money_field(_("supplier's unit price (CNY)"), null=True, blank=True)
    unit_price = money_field(_("price to the customer (CNY)"), null=True, blank=True)
    promised_on = models.DateField(_("arrival promised on"), null=True, blank=True)
    deposit = money_field(_("deposit (CNY)"), default=ZERO)
    deposit_received_at = models.DateTimeField(_("deposit received at"), null=True, blank=True)
    purchase_order = models.OneToOneField(
        PurchaseOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="emergency_order",
        verbose_name=_("purchase order"),
    )
    issue = models.OneToOneField(
        PartIssue,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="emergency_order",
        verbose_name=_("issue voucher"),
    )
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)
    created_by = user_key(_("requested by"))
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("emergency order for a customer")
        verbose_name_plural = _("emergency orders for customers")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="emergency_order_positive"),
        ]
