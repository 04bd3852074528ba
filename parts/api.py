"""REST resources of the stockroom (配件): the catalogue, suppliers, bins, stock and its ledger,
purchase orders and receipts, issue vouchers and returns, lost sales, stocktakes, reorder
suggestions, emergency orders for customers, and the parts figures.

Each endpoint parses its input, calls one service and renders the result; the rules live in
`parts.services`. Records are read through the branch scope, and every id a request names is
looked up in the caller's branches, so another branch's record "does not exist". Quantities are
parsed as decimals but judged by the services (more than zero, whole for a piece part), so the
API answers the same codes as the pages.
"""

from decimal import Decimal

from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.api import ScopedCustomerField, ScopedVehicleField
from dealer_crm.api import (
    REFUSED,
    BranchField,
    BranchScopedMixin,
    CommandMixin,
    CommandViewSet,
    PeriodQuerySerializer,
    ScopedRecordField,
    answers,
)
from dealer_crm.idempotency import idempotent
from dealer_crm.models import Branch
from dealer_crm.pagination import CursorPagination
from dealer_crm.scoping import branch_ids_for

from . import selectors, services
from .choices import IssueKind, IssueStatus, LostSaleReason, OrderKind
from .filters import (
    BinFilter,
    EmergencyOrderFilter,
    LostSaleFilter,
    PartFilter,
    PartIssueFilter,
    PartStockFilter,
    PurchaseOrderFilter,
    ReceiptFilter,
    ReorderSuggestionFilter,
    StockMoveFilter,
    StocktakeFilter,
    SupplierFilter,
)
from .models import (
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
)


def quantity_field(**kwargs) -> serializers.DecimalField:
    """A quantity as sent: up to three decimals; more than zero and whole units are the
    services' to judge (`quantity_not_positive`, `quantity_not_whole`)."""
    return serializers.DecimalField(max_digits=12, decimal_places=3, **kwargs)


def money_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


# What a computed amount of money looks like in the schema: a decimal string.
extend_schema_field_money = extend_schema_field(
    serializers.DecimalField(max_digits=12, decimal_places=2)
)


def reason_field(max_length: int = 200, **kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, allow_blank=True, **kwargs)


# --- Fields naming other records ----------------------------------------------------------


class ScopedBinField(ScopedRecordField):
    model = Bin


class ScopedPurchaseOrderField(ScopedRecordField):
    model = PurchaseOrder


class ScopedReorderSuggestionField(ScopedRecordField):
    model = ReorderSuggestion


class ScopedOrderLineField(ScopedRecordField):
    """A line of a purchase order of your branches."""

    def get_queryset(self):
        orders = PurchaseOrder.objects.for_user(self.context["request"].user)
        return PurchaseOrderLine.objects.filter(purchase_order__in=orders).select_related("part")


def part_field(**kwargs) -> serializers.PrimaryKeyRelatedField:
    """A part of the group's catalogue (it is shared by every branch)."""
    return serializers.PrimaryKeyRelatedField(queryset=Part.objects.all(), **kwargs)


def supplier_field(**kwargs) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all(), **kwargs)


# --- Serializers: catalogue, suppliers, bins, stock, moves ---------------------------------


class SupplierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Supplier
        fields = ["id", "name", "contact", "phone", "lead_time_days"]


class PartSerializer(serializers.ModelSerializer):
    """A part number (配件) of the group's catalogue. `superseded_by` is set through
    supersede/; searching and issuing follow it to the current number."""

    supplier = supplier_field(required=False, allow_null=True)
    supplier_name = serializers.CharField(source="supplier.name", read_only=True, default=None)
    superseded_by_number = serializers.CharField(
        source="superseded_by.number", read_only=True, default=None
    )

    class Meta:
        model = Part
        fields = [
            "id", "number", "name", "classification", "fitting_models", "unit", "price",
            "supplier", "supplier_name", "lead_time_days", "superseded_by",
            "superseded_by_number",
        ]  # fmt: skip
        read_only_fields = ["superseded_by"]


class PartUpdateSerializer(PartSerializer):
    class Meta(PartSerializer.Meta):
        read_only_fields = ["number", "superseded_by"]


class PartSupersedeSerializer(serializers.Serializer):
    successor = part_field(help_text=gettext_lazy("The new part number that replaces this one."))


class BinSerializer(serializers.ModelSerializer):
    """A bin (货位) of a branch: zone, shelf and level; `part` is what it holds."""

    label = serializers.CharField(source="__str__", read_only=True)
    part = serializers.SerializerMethodField()
    part_number = serializers.SerializerMethodField()

    class Meta:
        model = Bin
        fields = ["id", "branch", "zone", "shelf", "level", "label", "part", "part_number"]
        read_only_fields = fields

    def _held(self, place: Bin) -> PartStock | None:
        try:
            return place.stock
        except PartStock.DoesNotExist:
            return None

    def get_part(self, place: Bin) -> int | None:
        """The part kept in this bin; null while it is free."""
        held = self._held(place)
        return held.part_id if held else None

    def get_part_number(self, place: Bin) -> str | None:
        held = self._held(place)
        return held.part.number if held else None


class BinCreateSerializer(serializers.Serializer):
    branch = BranchField(required=False, help_text=gettext_lazy("Defaults to your branch."))
    zone = serializers.CharField(max_length=10)
    shelf = serializers.CharField(max_length=10)
    level = serializers.CharField(max_length=10)


class StockOpenSerializer(serializers.Serializer):
    branch = BranchField(required=False, help_text=gettext_lazy("Defaults to your branch."))


class PartStockSerializer(serializers.ModelSerializer):
    """A branch's stock of a part: on hand, reserved for planned jobs, available (the rest),
    the moving-average cost and the value on the shelf."""

    part_number = serializers.CharField(source="part.number", read_only=True)
    part_name = serializers.CharField(source="part.name", read_only=True)
    unit = serializers.CharField(source="part.unit", read_only=True)
    bin_label = serializers.SerializerMethodField()
    available = quantity_field(source="available_quantity", read_only=True)
    value = serializers.DecimalField(
        source="stock_value",
        max_digits=16,
        decimal_places=2,
        read_only=True,
        help_text=gettext_lazy("On hand at the average cost (CNY)."),
    )
    last_move_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = PartStock
        fields = [
            "id", "branch", "part", "part_number", "part_name", "unit", "bin", "bin_label",
            "on_hand", "reserved", "available", "average_cost", "value", "min_quantity",
            "max_quantity", "reorder_point", "last_move_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_bin_label(self, stock: PartStock) -> str | None:
        return str(stock.bin) if stock.bin_id else None


class StockLevelsSerializer(serializers.Serializer):
    min_quantity = quantity_field()
    max_quantity = quantity_field(help_text=gettext_lazy("0 for no maximum."))
    reorder_point = quantity_field()


class StockBinSerializer(serializers.Serializer):
    bin = ScopedBinField(help_text=gettext_lazy("A bin of the stock's branch."))


class StockMoveSerializer(serializers.ModelSerializer):
    part_number = serializers.CharField(source="part.number", read_only=True)
    by_username = serializers.CharField(source="by.username", read_only=True)

    class Meta:
        model = StockMove
        fields = [
            "id", "branch", "part", "part_number", "kind", "quantity", "unit_cost",
            "balance_after", "document", "reason", "by", "by_username", "at",
        ]  # fmt: skip
        read_only_fields = fields


# --- Serializers: purchase orders and receipts ------------------------------------------------


class PurchaseOrderLineSerializer(serializers.ModelSerializer):
    part_number = serializers.CharField(source="part.number", read_only=True)
    outstanding = quantity_field(read_only=True)

    class Meta:
        model = PurchaseOrderLine
        fields = [
            "id", "part", "part_number", "quantity", "unit_cost", "received_quantity",
            "outstanding",
        ]  # fmt: skip
        read_only_fields = fields


class PurchaseOrderSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    lines = PurchaseOrderLineSerializer(many=True, read_only=True)
    total = serializers.SerializerMethodField()

    class Meta:
        model = PurchaseOrder
        fields = [
            "id", "number", "branch", "supplier", "supplier_name", "kind", "status",
            "expected_on", "note", "lines", "total", "created_by", "created_at", "ordered_at",
            "cancel_reason",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field_money
    def get_total(self, order: PurchaseOrder) -> str:
        """What the order costs (CNY)."""
        total = sum((line.quantity * line.unit_cost for line in order.lines.all()), Decimal(0))
        return str(total.quantize(Decimal("0.01")))


class PurchaseOrderLineInputSerializer(serializers.Serializer):
    part = part_field()
    quantity = quantity_field()
    unit_cost = money_field(
        required=False,
        min_value=Decimal(0),
        help_text=gettext_lazy("Defaults to the branch's average cost of the part."),
    )


class PurchaseOrderCreateSerializer(serializers.Serializer):
    branch = BranchField(required=False, help_text=gettext_lazy("Defaults to your branch."))
    supplier = supplier_field()
    kind = serializers.ChoiceField(choices=OrderKind.choices, default=OrderKind.STOCK)
    expected_on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    lines = PurchaseOrderLineInputSerializer(many=True)


class ReasonSerializer(serializers.Serializer):
    reason = reason_field()


class ReceiptLineSerializer(serializers.ModelSerializer):
    part_number = serializers.CharField(source="part.number", read_only=True)
    accepted_quantity = quantity_field(
        read_only=True, help_text=gettext_lazy("Counted less damaged: what goes on the shelf.")
    )
    discrepancies = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ReceiptLine
        fields = [
            "id", "order_line", "part", "part_number", "expected_quantity", "received_quantity",
            "damaged_quantity", "accepted_quantity", "discrepancies", "note", "bin",
        ]  # fmt: skip
        read_only_fields = fields


class ReceiptSerializer(serializers.ModelSerializer):
    """A receipt (验收单): what arrived against a purchase order, checked; registered
    (入库登记) once put away."""

    number = serializers.CharField(read_only=True)
    purchase_order_number = serializers.CharField(source="purchase_order.number", read_only=True)
    lines = ReceiptLineSerializer(many=True, read_only=True)

    class Meta:
        model = Receipt
        fields = [
            "id", "number", "branch", "purchase_order", "purchase_order_number", "status",
            "delivery_note", "boxes_expected", "boxes_counted", "packaging_intact",
            "packaging_note", "note", "lines", "checked_by", "checked_at", "registered_by",
            "registered_at",
        ]  # fmt: skip
        read_only_fields = fields


class ReceiptLineInputSerializer(serializers.Serializer):
    order_line = ScopedOrderLineField(help_text=gettext_lazy("A line of the purchase order."))
    received_quantity = quantity_field(default=Decimal(0))
    damaged_quantity = quantity_field(default=Decimal(0))
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    checked = serializers.BooleanField(
        default=False, help_text=gettext_lazy("The line was checked; every line given must be.")
    )


class ReceiptCreateSerializer(serializers.Serializer):
    purchase_order = ScopedPurchaseOrderField(help_text=gettext_lazy("A placed purchase order."))
    delivery_note = serializers.CharField(
        max_length=60, required=False, allow_blank=True, default=""
    )
    boxes_expected = serializers.IntegerField(min_value=0, max_value=32767)
    boxes_counted = serializers.IntegerField(min_value=0, max_value=32767)
    packaging_intact = serializers.BooleanField()
    packaging_note = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    lines = ReceiptLineInputSerializer(
        many=True,
        help_text=gettext_lazy("The lines counted; an outstanding line left out counts as none."),
    )


class ReceiptBinSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text=gettext_lazy("A line of this receipt."))
    bin = ScopedBinField()


class ReceiptRegisterSerializer(serializers.Serializer):
    bins = ReceiptBinSerializer(
        many=True,
        required=False,
        default=list,
        help_text=gettext_lazy("Where to put away the lines whose part has no bin yet."),
    )


# --- Serializers: issue vouchers, returns, lost sales ---------------------------------------


class PartIssueLineSerializer(serializers.ModelSerializer):
    part_number = serializers.CharField(source="part.number", read_only=True)
    requested_part_number = serializers.CharField(source="requested_part.number", read_only=True)
    returnable_quantity = quantity_field(read_only=True)

    class Meta:
        model = PartIssueLine
        fields = [
            "id", "part", "part_number", "requested_part", "requested_part_number", "quantity",
            "unit_price", "unit_cost", "returned_quantity", "returnable_quantity",
        ]  # fmt: skip
        read_only_fields = fields


class PartIssueSerializer(serializers.ModelSerializer):
    """An issue voucher (出库单): requested (its lines reserved), checked, picked, checked
    again and handed over (出库登记, the stock moves posted), or cancelled."""

    number = serializers.CharField(read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True, default=None)
    lines = PartIssueLineSerializer(many=True, read_only=True)

    class Meta:
        model = PartIssue
        fields = [
            "id", "number", "branch", "kind", "status", "work_order_reference", "customer",
            "customer_name", "recipient", "supplier", "to_branch", "note", "lines",
            "created_by", "created_at", "checked_by", "checked_at", "picked_by", "picked_at",
            "rechecked_by", "rechecked_at", "handed_over_by", "handed_over_at", "cancel_reason",
        ]  # fmt: skip
        read_only_fields = fields


class PartIssueLineInputSerializer(serializers.Serializer):
    part = part_field(help_text=gettext_lazy("An old number is served by its successor."))
    quantity = quantity_field()
    unit_price = money_field(
        required=False,
        min_value=Decimal(0),
        help_text=gettext_lazy("Defaults to the part's price."),
    )


class PartIssueCreateSerializer(serializers.Serializer):
    branch = BranchField(required=False, help_text=gettext_lazy("Defaults to your branch."))
    kind = serializers.ChoiceField(choices=IssueKind.choices)
    work_order_reference = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("Required for an issue to a work order."),
    )
    customer = ScopedCustomerField(required=False, allow_null=True)
    recipient = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    supplier = supplier_field(
        required=False, allow_null=True, help_text=gettext_lazy("For a return to supplier.")
    )
    to_branch = serializers.PrimaryKeyRelatedField(
        queryset=Branch.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("For a transfer: the branch receiving the parts."),
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    lines = PartIssueLineInputSerializer(many=True)


class PartReturnSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text=gettext_lazy("A line of this voucher."))
    quantity = quantity_field()
    reason = reason_field()


class LostSaleSerializer(serializers.ModelSerializer):
    """A request the shelf could not serve: it lowers the fill rate and raises the next
    reorder suggestion."""

    branch = BranchField(required=False, help_text=gettext_lazy("Defaults to your branch."))
    part = part_field()
    part_number = serializers.CharField(source="part.number", read_only=True)
    quantity = quantity_field()
    reason = serializers.ChoiceField(
        choices=LostSaleReason.choices, default=LostSaleReason.OUT_OF_STOCK
    )

    class Meta:
        model = LostSale
        fields = [
            "id", "branch", "part", "part_number", "quantity", "reason", "asked_by", "note",
            "recorded_by", "at",
        ]  # fmt: skip
        read_only_fields = ["recorded_by", "at"]


# --- Serializers: stocktakes --------------------------------------------------------------


class StocktakeLineSerializer(serializers.ModelSerializer):
    part_number = serializers.CharField(source="part.number", read_only=True)
    difference = quantity_field(read_only=True, allow_null=True)
    difference_value = money_field(
        read_only=True,
        allow_null=True,
        help_text=gettext_lazy("Gain (+) or loss (−) at the frozen unit cost (CNY)."),
    )

    class Meta:
        model = StocktakeLine
        fields = [
            "id", "stock", "part", "part_number", "bin_label", "book_quantity", "unit_cost",
            "counted_quantity", "difference", "difference_value", "counted_by", "counted_at",
        ]  # fmt: skip
        read_only_fields = fields


class StocktakeSerializer(serializers.ModelSerializer):
    """A stocktake (盘点): a scope frozen, counted, compared with the book, approved and
    posted as gains and losses."""

    number = serializers.CharField(read_only=True)
    line_count = serializers.IntegerField(read_only=True)
    counted_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Stocktake
        fields = [
            "id", "number", "branch", "scope", "zone", "classification", "status", "note",
            "line_count", "counted_count", "created_by", "created_at", "approved_by",
            "approved_at",
        ]  # fmt: skip
        read_only_fields = fields


class StocktakeDetailSerializer(StocktakeSerializer):
    lines = StocktakeLineSerializer(many=True, read_only=True)
    gain_value = serializers.SerializerMethodField()
    loss_value = serializers.SerializerMethodField()

    class Meta(StocktakeSerializer.Meta):
        fields = [*StocktakeSerializer.Meta.fields, "gain_value", "loss_value", "lines"]
        read_only_fields = fields

    def _values(self, stocktake: Stocktake) -> list[Decimal]:
        return [
            line.difference_value
            for line in stocktake.lines.all()
            if line.difference_value is not None
        ]

    @extend_schema_field_money
    def get_gain_value(self, stocktake: Stocktake) -> str:
        """What the counted gains are worth (CNY)."""
        return str(sum((v for v in self._values(stocktake) if v > 0), Decimal("0.00")))

    @extend_schema_field_money
    def get_loss_value(self, stocktake: Stocktake) -> str:
        """What the counted losses are worth (CNY), as a positive amount."""
        return str(-sum((v for v in self._values(stocktake) if v < 0), Decimal("0.00")))


class StocktakeCreateSerializer(serializers.Serializer):
    branch = BranchField(required=False, help_text=gettext_lazy("Defaults to your branch."))
    scope = serializers.ChoiceField(choices=Stocktake._meta.get_field("scope").choices)
    zone = serializers.CharField(
        max_length=10,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("For a zone scope."),
    )
    classification = serializers.ChoiceField(
        choices=Stocktake._meta.get_field("classification").choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("For a classification scope."),
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class StocktakeCountSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text=gettext_lazy("A line of this stocktake."))
    quantity = quantity_field()


class StocktakeCountsSerializer(serializers.Serializer):
    counts = StocktakeCountSerializer(many=True, allow_empty=False)


# --- Serializers: reorder suggestions and emergency orders ---------------------------------


class ReorderSuggestionSerializer(serializers.ModelSerializer):
    part_number = serializers.CharField(source="part.number", read_only=True)
    part_name = serializers.CharField(source="part.name", read_only=True)
    supplier = serializers.IntegerField(source="part.supplier_id", read_only=True, allow_null=True)
    supplier_name = serializers.CharField(source="part.supplier.name", read_only=True, default=None)

    class Meta:
        model = ReorderSuggestion
        fields = [
            "id", "branch", "part", "part_number", "part_name", "supplier", "supplier_name",
            "computed_on", "available", "on_order", "daily_consumption", "lead_time_days",
            "reorder_point", "suggested_quantity", "status", "purchase_order",
        ]  # fmt: skip
        read_only_fields = fields


class SuggestionOrderSerializer(serializers.Serializer):
    suggestions = ScopedReorderSuggestionField(many=True, allow_empty=False)


class EmergencyOrderSerializer(serializers.ModelSerializer):
    """即购即销: a part ordered at once for one customer — requested, quoted, deposit paid,
    ordered, arrived (held for the customer), handed over; or cancelled."""

    number = serializers.CharField(read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    part_number = serializers.CharField(source="part.number", read_only=True)

    class Meta:
        model = EmergencyOrder
        fields = [
            "id", "number", "branch", "customer", "customer_name", "vehicle", "part",
            "part_number", "quantity", "advisor", "status", "supplier", "quoted_unit_cost",
            "unit_price", "promised_on", "deposit", "deposit_received_at", "purchase_order",
            "issue", "arrived_at", "note", "cancel_reason", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class EmergencyOrderCreateSerializer(serializers.Serializer):
    branch = BranchField(required=False, help_text=gettext_lazy("Defaults to your branch."))
    customer = ScopedCustomerField()
    vehicle = ScopedVehicleField(required=False, allow_null=True)
    part = part_field()
    quantity = quantity_field()
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class EmergencyQuoteSerializer(serializers.Serializer):
    supplier = supplier_field()
    quoted_unit_cost = money_field(min_value=Decimal(0))
    unit_price = money_field(min_value=Decimal(0))
    promised_on = serializers.DateField(required=False, allow_null=True)


class DepositSerializer(serializers.Serializer):
    amount = money_field()


# --- Viewsets: the bases --------------------------------------------------------------------


class ReadBackMixin:
    """After a command, the record is read back as the list shows it: annotated, with its
    lines prefetched."""

    def reload(self, instance):
        return self.get_queryset().get(pk=instance.pk)


class PartsViewSet(ReadBackMixin, CommandViewSet):
    """The stockroom's base: documents are made and changed by commands (POST), never edited
    or deleted; after a command the record is read back as the list shows it."""

    http_method_names = ["get", "post", "head", "options"]


class PartsReadViewSet(
    ReadBackMixin,
    CommandMixin,
    BranchScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """A branch-scoped resource that is read, and changed only by its commands."""

    http_method_names = ["get", "post", "head", "options"]


class CatalogueViewSet(ReadBackMixin, CommandViewSet):
    """The group's catalogue is shared by every branch: no branch scope; edited, not deleted."""

    def get_queryset(self):
        return GenericAPIView.get_queryset(self)


# --- Viewsets: catalogue, suppliers, bins, stock, moves -------------------------------------


class PartViewSet(CatalogueViewSet):
    """配件目录: the group's part numbers. `?search=` finds a number, a name, or an old
    number that was replaced; `?current=true` leaves out replaced numbers."""

    queryset = Part.objects.select_related("supplier", "superseded_by")
    serializer_class = PartSerializer
    update_serializer_class = PartUpdateSerializer
    filterset_class = PartFilter
    ordering_fields = ["number", "name", "price"]
    command_permissions = {
        "supersede": ["parts.change_part"],
        "stock": ["parts.change_partstock"],
    }

    @extend_schema(responses=answers(PartSerializer, status.HTTP_201_CREATED, conflict=False))
    def create(self, request, *args, **kwargs):
        """Add a part number (stored in capitals). 400 when the number exists."""
        data = self.parse(PartSerializer)
        part = services.part_create(by=request.user, data=data)
        return self.respond(part, status.HTTP_201_CREATED)

    @extend_schema(responses=answers(PartUpdateSerializer, conflict=False))
    def update(self, request, *args, **kwargs):
        """Change a part's name, classification, unit, price, supplier or lead time; the
        number never changes (supersede it instead)."""
        return super().update(request, *args, **kwargs)

    @extend_schema(responses=answers(PartUpdateSerializer, conflict=False))
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_update(self, serializer):
        part = services.part_update(
            part=serializer.instance, by=self.request.user, data=dict(serializer.validated_data)
        )
        serializer.instance = self.reload(part)

    @extend_schema(request=PartSupersedeSerializer, responses=answers(PartSerializer))
    @action(detail=True, methods=["post"])
    def supersede(self, request, pk=None):
        """旧号换新号: replace this number by a new one; stock of the old number is issued
        first while it lasts. 400 `supersession_loop`."""
        part = self.get_object()
        data = self.parse(PartSupersedeSerializer)
        return self.respond(
            services.part_supersede(part=part, successor=data["successor"], by=request.user)
        )

    @extend_schema(
        request=StockOpenSerializer,
        responses=answers(PartStockSerializer, status.HTTP_201_CREATED),
    )
    @action(detail=True, methods=["post"])
    def stock(self, request, pk=None):
        """Start keeping the part at a branch (yours by default): its stock row at zero, to
        give a bin and levels before the first delivery; an existing row is returned as it
        is. 400 `part_superseded`."""
        part = self.get_object()
        data = self.parse(StockOpenSerializer)
        branch = data.get("branch") or self.working_branch()
        stock = services.stock_open(branch=branch, part=part, by=request.user)
        shown = selectors.stock_list(user=request.user).get(pk=stock.pk)
        return Response(
            PartStockSerializer(shown, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


class SupplierViewSet(CatalogueViewSet):
    """Suppliers of parts, shared by every branch, with their usual lead time."""

    queryset = Supplier.objects.all()
    serializer_class = SupplierSerializer
    filterset_class = SupplierFilter
    ordering_fields = ["name", "lead_time_days"]

    @extend_schema(responses=answers(SupplierSerializer, status.HTTP_201_CREATED, conflict=False))
    def create(self, request, *args, **kwargs):
        """Add a supplier. 400 when the name exists."""
        data = self.parse(SupplierSerializer)
        supplier = services.supplier_create(by=request.user, data=data)
        return self.respond(supplier, status.HTTP_201_CREATED)

    @extend_schema(responses=answers(SupplierSerializer, conflict=False))
    def update(self, request, *args, **kwargs):
        """Change a supplier's name, contact, phone or lead time."""
        return super().update(request, *args, **kwargs)

    @extend_schema(responses=answers(SupplierSerializer, conflict=False))
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_update(self, serializer):
        serializer.instance = services.supplier_update(
            supplier=serializer.instance,
            by=self.request.user,
            data=dict(serializer.validated_data),
        )


class BinViewSet(PartsViewSet):
    """货位: the bins of your branches and the part each holds; `?free=true` for empty ones."""

    queryset = Bin.objects.select_related("stock__part")
    serializer_class = BinSerializer
    filterset_class = BinFilter
    search_fields = ["zone", "shelf", "level", "stock__part__number"]
    ordering_fields = ["zone", "shelf", "level"]

    @extend_schema(
        request=BinCreateSerializer,
        responses=answers(BinSerializer, status.HTTP_201_CREATED, conflict=False),
    )
    def create(self, request, *args, **kwargs):
        """Add a bin (zone, shelf, level, stored in capitals). 400 when it exists."""
        data = self.parse(BinCreateSerializer)
        branch = data.pop("branch", None) or self.working_branch()
        place = services.bin_create(branch=branch, by=request.user, data=data)
        return self.respond(place, status.HTTP_201_CREATED)


class PartStockViewSet(PartsReadViewSet):
    """库存: each branch's stock of a part — on hand, reserved, available, average cost and
    value, with the time of its last move. Quantities change only through stock moves."""

    queryset = PartStock.objects.all()
    serializer_class = PartStockSerializer
    filterset_class = PartStockFilter
    ordering_fields = [
        "part__number", "on_hand", "available_quantity", "stock_value", "last_move_at",
    ]  # fmt: skip
    command_permissions = {
        "levels": ["parts.change_partstock"],
        "bin": ["parts.change_partstock"],
    }

    def get_queryset(self):
        return selectors.stock_list(user=self.request.user)

    @extend_schema(request=StockLevelsSerializer, responses=answers(PartStockSerializer))
    @action(detail=True, methods=["post"])
    def levels(self, request, pk=None):
        """The branch's minimum, maximum and reorder point of the part (min ≤ reorder point ≤
        max). 400 `quantity_negative`, `stock_levels_inconsistent`."""
        stock = self.get_object()
        data = self.parse(StockLevelsSerializer)
        services.stock_levels_set(branch=stock.branch, part=stock.part, by=request.user, **data)
        return self.respond(stock)

    @extend_schema(request=StockBinSerializer, responses=answers(PartStockSerializer))
    @action(detail=True, methods=["post"])
    def bin(self, request, pk=None):
        """Put the part in a bin of its branch, or move it to another: one part number, one
        bin (一个零件号一个货位). 400 `bin_other_branch`; 409 `bin_taken`, `stocktake_frozen`."""
        stock = self.get_object()
        data = self.parse(StockBinSerializer)
        services.bin_assign(branch=stock.branch, part=stock.part, bin=data["bin"], by=request.user)
        return self.respond(stock)


class StockMoveViewSet(PartsReadViewSet):
    """The stock ledger: every change of quantity with who, when, why and its document.
    Never edited. Cursor pagination, newest first."""

    queryset = StockMove.objects.select_related("part", "by")
    serializer_class = StockMoveSerializer
    filterset_class = StockMoveFilter
    pagination_class = CursorPagination
    search_fields = ["part__number", "part__name", "document", "reason"]
    ordering_fields = ["id", "at"]
    http_method_names = ["get", "head", "options"]


# --- Viewsets: purchase orders and receipts -------------------------------------------------


class PurchaseOrderViewSet(PartsViewSet):
    """采购订单: stock and emergency orders to a supplier, from draft through placed to
    received (partly or in full), cancelled or closed short."""

    queryset = PurchaseOrder.objects.select_related("supplier").prefetch_related(
        Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("part"))
    )
    serializer_class = PurchaseOrderSerializer
    filterset_class = PurchaseOrderFilter  # its `search` finds numbers, suppliers and parts
    ordering_fields = ["id", "created_at", "expected_on", "ordered_at"]
    command_permissions = {
        "place": ["parts.change_purchaseorder"],
        "cancel": ["parts.change_purchaseorder"],
        "close": ["parts.change_purchaseorder"],
    }

    @idempotent
    @extend_schema(
        request=PurchaseOrderCreateSerializer,
        responses=answers(PurchaseOrderSerializer, status.HTTP_201_CREATED, conflict=False),
    )
    def create(self, request, *args, **kwargs):
        """Draft an order with its lines; a line's unit cost defaults to the branch's average
        cost, and a replaced number is ordered as its successor. 400 `order_has_no_lines`,
        `part_listed_twice`, `quantity_not_positive`, `quantity_not_whole`."""
        data = self.parse(PurchaseOrderCreateSerializer)
        branch = data.pop("branch", None) or self.working_branch()
        lines = [dict(line) for line in data.pop("lines")]
        order = services.purchase_order_create(branch=branch, by=request.user, lines=lines, **data)
        return self.respond(order, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=answers(PurchaseOrderSerializer))
    @action(detail=True, methods=["post"])
    def place(self, request, pk=None):
        """Send the draft to the supplier; it can then be received against.
        409 `order_not_draft`."""
        order = self.get_object()
        return self.respond(services.purchase_order_place(purchase_order=order, by=request.user))

    @extend_schema(request=ReasonSerializer, responses=answers(PurchaseOrderSerializer))
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a draft or placed order, saying why; its reorder suggestions are open
        again. 400 `reason_required`; 409 `order_not_cancellable`."""
        order = self.get_object()
        data = self.parse(ReasonSerializer)
        return self.respond(
            services.purchase_order_cancel(
                purchase_order=order, by=request.user, reason=data["reason"]
            )
        )

    @extend_schema(request=ReasonSerializer, responses=answers(PurchaseOrderSerializer))
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close a partly received order: what is still short will not come.
        400 `reason_required`; 409 `order_not_partly_received`."""
        order = self.get_object()
        data = self.parse(ReasonSerializer)
        return self.respond(
            services.purchase_order_close(
                purchase_order=order, by=request.user, reason=data["reason"]
            )
        )


class ReceiptViewSet(PartsViewSet):
    """验收单: deliveries checked against a purchase order — boxes, packaging, each line —
    then put away and registered (入库登记), which puts the parts in stock."""

    queryset = Receipt.objects.select_related("purchase_order").prefetch_related(
        Prefetch("lines", queryset=ReceiptLine.objects.select_related("part"))
    )
    serializer_class = ReceiptSerializer
    filterset_class = ReceiptFilter  # its `search` finds numbers, delivery notes and suppliers
    ordering_fields = ["id", "checked_at", "registered_at"]
    command_permissions = {"register": ["parts.change_receipt"]}

    @idempotent
    @extend_schema(
        request=ReceiptCreateSerializer,
        responses=answers(ReceiptSerializer, status.HTTP_201_CREATED),
    )
    def create(self, request, *args, **kwargs):
        """验收: fill the receipt for a delivery against a placed purchase order. Every line
        given must be checked; an outstanding line left out counts as none arrived.
        Differences are kept as discrepancies; nothing is in stock until registered.
        400 `box_count_unexplained`, `packaging_damage_unexplained`, `line_not_outstanding`,
        `line_not_checked`, `quantity_not_positive`, `quantity_not_whole`,
        `damaged_exceeds_received`, `receipt_empty`; 409 `purchase_order_closed`,
        `purchase_order_not_placed`."""
        data = self.parse(ReceiptCreateSerializer)
        lines = [dict(line) for line in data.pop("lines")]
        receipt = services.receipt_check(
            purchase_order=data.pop("purchase_order"), by=request.user, lines=lines, **data
        )
        return self.respond(receipt, status.HTTP_201_CREATED)

    @idempotent
    @extend_schema(request=ReceiptRegisterSerializer, responses=answers(ReceiptSerializer))
    @action(detail=True, methods=["post"])
    def register(self, request, pk=None):
        """上架 and 入库登记: put each accepted quantity in its part's bin (`bins` names one
        for a part without a bin yet) and post it to stock at the order's unit cost.
        400 `bin_required`, `bin_other_branch`; 409 `receipt_registered`,
        `purchase_order_closed`, `bin_taken`, `stocktake_frozen`."""
        receipt = self.get_object()
        data = self.parse(ReceiptRegisterSerializer)
        line_ids = {line.pk for line in receipt.lines.all()}
        unknown = [entry["line"] for entry in data["bins"] if entry["line"] not in line_ids]
        if unknown:
            message = _("Line %(line)s is not on this receipt.") % {"line": unknown[0]}
            raise ValidationError({"bins": [message]})
        bins = {entry["line"]: entry["bin"] for entry in data["bins"]}
        return self.respond(services.receipt_register(receipt=receipt, by=request.user, bins=bins))


# --- Viewsets: issue vouchers, returns, lost sales ------------------------------------------


class PartIssueViewSet(PartsViewSet):
    """出库单: issue vouchers to a work order, a counter sale, a supplier or another branch.
    Lines are reserved when the voucher is made and leave stock when handed over.
    `?search=` finds a work order, a recipient or a part number. Cursor pagination."""

    queryset = PartIssue.objects.select_related("customer").prefetch_related(
        Prefetch("lines", queryset=PartIssueLine.objects.select_related("part", "requested_part"))
    )
    serializer_class = PartIssueSerializer
    filterset_class = PartIssueFilter
    pagination_class = CursorPagination
    ordering_fields = ["id", "created_at"]
    command_permissions = {
        "check": ["parts.change_partissue"],
        "pick": ["parts.change_partissue"],
        "recheck": ["parts.change_partissue"],
        "hand_over": ["parts.change_partissue"],
        "cancel": ["parts.change_partissue"],
        "return_to_stock": ["parts.change_partissue"],
    }

    @idempotent
    @extend_schema(
        request=PartIssueCreateSerializer,
        responses=answers(PartIssueSerializer, status.HTTP_201_CREATED),
    )
    def create(self, request, *args, **kwargs):
        """Make an issue voucher and reserve its lines. A replaced number is served by its
        successor once the old stock is gone. 400 `issue_has_no_lines`, `work_order_required`,
        `customer_other_branch`, `part_listed_twice`, `quantity_not_positive`,
        `quantity_not_whole`; 409 `insufficient_stock` (with `available`)."""
        data = self.parse(PartIssueCreateSerializer)
        branch = data.pop("branch", None) or self.working_branch()
        lines = [dict(line) for line in data.pop("lines")]
        issue = services.part_issue_create(branch=branch, by=request.user, lines=lines, **data)
        return self.respond(issue, status.HTTP_201_CREATED)

    def _advance(self, step: str) -> Response:
        issue = self.get_object()
        return self.respond(
            services.part_issue_advance(issue=issue, step=step, by=self.request.user)
        )

    @extend_schema(request=None, responses=answers(PartIssueSerializer))
    @action(detail=True, methods=["post"])
    def check(self, request, pk=None):
        """The voucher is checked. 409 `issue_step_out_of_order`."""
        return self._advance(IssueStatus.CHECKED)

    @extend_schema(request=None, responses=answers(PartIssueSerializer))
    @action(detail=True, methods=["post"])
    def pick(self, request, pk=None):
        """The parts are picked from their bins. 409 `issue_step_out_of_order`."""
        return self._advance(IssueStatus.PICKED)

    @extend_schema(request=None, responses=answers(PartIssueSerializer))
    @action(detail=True, methods=["post"])
    def recheck(self, request, pk=None):
        """The picked parts are checked again. 409 `issue_step_out_of_order`."""
        return self._advance(IssueStatus.RECHECKED)

    @idempotent
    @extend_schema(request=None, responses=answers(PartIssueSerializer))
    @action(detail=True, methods=["post"], url_path="hand-over")
    def hand_over(self, request, pk=None):
        """Hand the parts over and register the issue (出库登记): each line leaves stock as a
        move (a transfer also enters the receiving branch). 409 `issue_step_out_of_order`,
        `insufficient_stock`, `stocktake_frozen`."""
        return self._advance(IssueStatus.HANDED_OVER)

    @extend_schema(request=ReasonSerializer, responses=answers(PartIssueSerializer))
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a voucher not yet handed over, saying why; its reservations are released.
        400 `reason_required`; 409 `issue_not_cancellable`."""
        issue = self.get_object()
        data = self.parse(ReasonSerializer)
        return self.respond(
            services.part_issue_cancel(issue=issue, by=request.user, reason=data["reason"])
        )

    @idempotent
    @extend_schema(request=PartReturnSerializer, responses=answers(PartIssueSerializer))
    @action(detail=True, methods=["post"], url_path="return")
    def return_to_stock(self, request, pk=None):
        """退库: parts of a line handed over to a work order or sold over the counter come
        back unused, at their cost. 400 `reason_required`, `quantity_not_positive`,
        `quantity_not_whole`; 409 `issue_not_returnable`, `return_exceeds_issued`,
        `stocktake_frozen`."""
        issue = self.get_object()
        data = self.parse(PartReturnSerializer)
        line = next((line for line in issue.lines.all() if line.pk == data["line"]), None)
        if line is None:
            raise ValidationError({"line": [_("That line is not on this voucher.")]})
        services.part_return_to_stock(
            line=line, amount=data["quantity"], by=request.user, reason=data["reason"]
        )
        return self.respond(issue)


class LostSaleViewSet(PartsViewSet):
    """Requests the shelf could not serve (lost sales). Cursor pagination, newest first."""

    queryset = LostSale.objects.select_related("part")
    serializer_class = LostSaleSerializer
    filterset_class = LostSaleFilter
    pagination_class = CursorPagination
    search_fields = ["part__number", "part__name", "asked_by", "note"]
    ordering_fields = ["id", "at"]

    @idempotent
    @extend_schema(responses=answers(LostSaleSerializer, status.HTTP_201_CREATED, conflict=False))
    def create(self, request, *args, **kwargs):
        """Record a request the shelf could not serve. 400 `quantity_not_positive`,
        `quantity_not_whole`."""
        data = self.parse(LostSaleSerializer)
        branch = data.pop("branch", None) or self.working_branch()
        lost = services.lost_sale_record(branch=branch, by=request.user, **data)
        return self.respond(lost, status.HTTP_201_CREATED)


# --- Viewsets: stocktakes -------------------------------------------------------------------


class StocktakeViewSet(PartsViewSet):
    """盘点: a scope of the stock frozen and counted; the detail lists each line's book and
    counted quantity and the difference with its value."""

    queryset = Stocktake.objects.annotate(
        line_count=Count("lines", distinct=True),
        counted_count=Count(
            "lines", filter=Q(lines__counted_quantity__isnull=False), distinct=True
        ),
    )
    serializer_class = StocktakeDetailSerializer
    filterset_class = StocktakeFilter
    search_fields = ["note", "zone"]
    ordering_fields = ["id", "created_at", "approved_at"]
    command_permissions = {
        "counts": ["parts.change_stocktake"],
        "approve": ["parts.approve_stocktake"],
        "cancel": ["parts.change_stocktake"],
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            return queryset
        return queryset.prefetch_related(
            Prefetch("lines", queryset=StocktakeLine.objects.select_related("part"))
        )

    def get_serializer_class(self):
        if self.action == "list":
            return StocktakeSerializer
        return super().get_serializer_class()

    @idempotent
    @extend_schema(
        request=StocktakeCreateSerializer,
        responses=answers(StocktakeDetailSerializer, status.HTTP_201_CREATED),
    )
    def create(self, request, *args, **kwargs):
        """Freeze a scope (all stock, a zone or a classification) and write down its book
        quantities; no stock move touches it until approved or cancelled.
        400 `stocktake_scope_empty` (and a field error for a zone or classification
        missing); 409 `stocktake_overlaps`."""
        data = self.parse(StocktakeCreateSerializer)
        branch = data.pop("branch", None) or self.working_branch()
        stocktake = services.stocktake_start(branch=branch, by=request.user, **data)
        return self.respond(stocktake, status.HTTP_201_CREATED)

    @extend_schema(request=StocktakeCountsSerializer, responses=answers(StocktakeDetailSerializer))
    @action(detail=True, methods=["post"])
    def counts(self, request, pk=None):
        """Record counted quantities, [{line, quantity}]; a line may be counted again.
        400 `stocktake_line_unknown`, `quantity_negative`, `quantity_not_whole`;
        409 `stocktake_closed`."""
        stocktake = self.get_object()
        data = self.parse(StocktakeCountsSerializer)
        counts = {entry["line"]: entry["quantity"] for entry in data["counts"]}
        return self.respond(
            services.stocktake_count(stocktake=stocktake, counts=counts, by=request.user)
        )

    @idempotent
    @extend_schema(request=None, responses=answers(StocktakeDetailSerializer))
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve the counts and post the differences as gains and losses (needs
        `parts.approve_stocktake`). 409 `stocktake_not_counted`, `stocktake_closed`,
        `stocktake_loss_reserved`."""
        stocktake = self.get_object()
        return self.respond(services.stocktake_approve(stocktake=stocktake, by=request.user))

    @extend_schema(request=None, responses=answers(StocktakeDetailSerializer))
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Give the stocktake up: nothing is adjusted and the scope is free.
        409 `stocktake_closed`."""
        stocktake = self.get_object()
        return self.respond(services.stocktake_cancel(stocktake=stocktake, by=request.user))


# --- Viewsets: reorder suggestions and emergency orders -------------------------------------


class ReorderSuggestionViewSet(PartsReadViewSet):
    """What to order: computed nightly per branch from consumption, lead time and the
    min / max levels, with the figures they were worked from."""

    queryset = ReorderSuggestion.objects.select_related("part__supplier")
    serializer_class = ReorderSuggestionSerializer
    filterset_class = ReorderSuggestionFilter
    search_fields = ["part__number", "part__name"]
    ordering_fields = ["part__number", "computed_on", "suggested_quantity"]
    command_permissions = {
        "order": ["parts.change_reordersuggestion", "parts.add_purchaseorder"],
        "dismiss": ["parts.change_reordersuggestion"],
        "compute": ["parts.add_reordersuggestion"],
    }

    @idempotent
    @extend_schema(
        request=SuggestionOrderSerializer,
        responses=answers(PurchaseOrderSerializer(many=True), status.HTTP_201_CREATED),
    )
    @action(detail=False, methods=["post"])
    def order(self, request):
        """Turn open suggestions into draft stock orders, one per supplier; answers the
        orders made. 400 `no_suggestions`, `part_has_no_supplier`; 409 `suggestion_not_open`."""
        data = self.parse(SuggestionOrderSerializer)
        orders = services.purchase_orders_from_suggestions(
            suggestions=data["suggestions"], by=request.user
        )
        made = PurchaseOrderViewSet.queryset.filter(pk__in=[order.pk for order in orders])
        serializer = PurchaseOrderSerializer(made, many=True, context=self.get_serializer_context())
        return Response(serializer.data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=answers(ReorderSuggestionSerializer))
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        """Do not order this one. 409 `suggestion_not_open`."""
        suggestion = self.get_object()
        return self.respond(
            services.reorder_suggestion_dismiss(suggestion=suggestion, by=request.user)
        )

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "ReorderComputed",
                {
                    "computed_on": serializers.DateField(),
                    "open": serializers.IntegerField(
                        help_text=gettext_lazy("How many suggestions are open for the day.")
                    ),
                },
            )
        },
    )
    @action(detail=False, methods=["post"])
    def compute(self, request):
        """Work out today's suggestions for the branch you are working in now, as the nightly
        job does; the day's open suggestions are replaced, decided ones kept."""
        branch, today = self.working_branch(), timezone.localdate()
        count = services.reorder_suggestions_compute(branch=branch, day=today)
        return Response({"computed_on": today, "open": count})


class EmergencyOrderViewSet(PartsViewSet):
    """即购即销: parts ordered at once for a customer — requested by the service advisor,
    quoted by the supplier, the deposit taken, ordered, held on arrival, handed over."""

    queryset = EmergencyOrder.objects.select_related("customer", "part")
    serializer_class = EmergencyOrderSerializer
    filterset_class = EmergencyOrderFilter
    search_fields = ["customer__name", "part__number", "note"]
    ordering_fields = ["id", "created_at", "promised_on"]
    command_permissions = {
        "quote": ["parts.change_emergencyorder"],
        "deposit": ["parts.change_emergencyorder"],
        "place": ["parts.change_emergencyorder", "parts.add_purchaseorder"],
        "hand_over": ["parts.change_emergencyorder", "parts.add_partissue"],
        "cancel": ["parts.change_emergencyorder"],
    }

    @idempotent
    @extend_schema(
        request=EmergencyOrderCreateSerializer,
        responses=answers(EmergencyOrderSerializer, status.HTTP_201_CREATED, conflict=False),
    )
    def create(self, request, *args, **kwargs):
        """Ask for a part the shelf cannot give, for a customer (also recorded as a lost
        sale). You are its advisor. 400 `customer_other_branch`, `vehicle_not_customers`,
        `quantity_not_positive`, `quantity_not_whole`."""
        data = self.parse(EmergencyOrderCreateSerializer)
        branch = data.pop("branch", None) or self.working_branch()
        order = services.emergency_order_request(branch=branch, by=request.user, **data)
        return self.respond(order, status.HTTP_201_CREATED)

    @extend_schema(request=EmergencyQuoteSerializer, responses=answers(EmergencyOrderSerializer))
    @action(detail=True, methods=["post"])
    def quote(self, request, pk=None):
        """The supplier's quote, and the price and date promised to the customer; a quote
        may be revised until the deposit is paid. 400 `date_in_past`;
        409 `emergency_order_wrong_status`."""
        order = self.get_object()
        data = self.parse(EmergencyQuoteSerializer)
        return self.respond(
            services.emergency_order_quote(emergency_order=order, by=request.user, **data)
        )

    @idempotent
    @extend_schema(request=DepositSerializer, responses=answers(EmergencyOrderSerializer))
    @action(detail=True, methods=["post"])
    def deposit(self, request, pk=None):
        """The customer's deposit: more than nothing, at most the price quoted.
        400 `deposit_out_of_range`; 409 `emergency_order_wrong_status`."""
        order = self.get_object()
        data = self.parse(DepositSerializer)
        return self.respond(
            services.emergency_order_deposit(
                emergency_order=order, amount=data["amount"], by=request.user
            )
        )

    @idempotent
    @extend_schema(request=None, responses=answers(EmergencyOrderSerializer))
    @action(detail=True, methods=["post"])
    def place(self, request, pk=None):
        """Order from the supplier who quoted: an emergency purchase order, placed at once.
        409 `emergency_order_wrong_status`."""
        order = self.get_object()
        return self.respond(services.emergency_order_place(emergency_order=order, by=request.user))

    @idempotent
    @extend_schema(request=None, responses=answers(EmergencyOrderSerializer))
    @action(detail=True, methods=["post"], url_path="hand-over")
    def hand_over(self, request, pk=None):
        """The part held on arrival goes on an issue voucher to the customer at the price
        quoted. 409 `emergency_order_wrong_status`, `insufficient_stock`."""
        order = self.get_object()
        return self.respond(
            services.emergency_order_hand_over(emergency_order=order, by=request.user)
        )

    @extend_schema(request=ReasonSerializer, responses=answers(EmergencyOrderSerializer))
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel before the part arrives, saying why; a placed purchase order is cancelled
        with it. 400 `reason_required`; 409 `emergency_order_wrong_status`,
        `order_not_cancellable`."""
        order = self.get_object()
        data = self.parse(ReasonSerializer)
        return self.respond(
            services.emergency_order_cancel(
                emergency_order=order, by=request.user, reason=data["reason"]
            )
        )


# --- Parts figures --------------------------------------------------------------------------

# A period longer than this is refused rather than scanned.


RATIO = {"max_digits": 8, "decimal_places": 3, "allow_null": True}


class PartsFiguresSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    lines_requested = serializers.IntegerField()
    lines_served = serializers.IntegerField()
    fill_rate = serializers.DecimalField(
        **RATIO,
        help_text=gettext_lazy(
            "配件满足率: lines issued from stock / lines requested (0–1); null without requests."
        ),
    )
    cost_used = money_field(help_text=gettext_lazy("Cost of the parts used (CNY)."))
    stock_value = money_field(help_text=gettext_lazy("Stock value at the end (CNY)."))
    turnover = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        allow_null=True,
        help_text=gettext_lazy("Cost used / average stock value."),
    )
    days_of_stock = serializers.DecimalField(max_digits=10, decimal_places=1, allow_null=True)
    dead_stock_count = serializers.IntegerField(
        help_text=gettext_lazy("Parts on the shelf with no move in 12 months.")
    )
    dead_stock_value = money_field()
    stocktake_lines = serializers.IntegerField()
    stocktake_accuracy = serializers.DecimalField(
        **RATIO,
        help_text=gettext_lazy("Lines counted equal to the book / lines counted (0–1)."),
    )


class PartsFiguresView(APIView):
    """配件指标: fill rate, turnover, days of stock, dead stock and stocktake accuracy for a
    period, over one of your branches or all of them."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[PeriodQuerySerializer],
        responses={200: PartsFiguresSerializer, 400: REFUSED},
    )
    def get(self, request):
        if not request.user.has_perm("parts.view_partstock"):
            raise PermissionDenied()
        query = PeriodQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        branch = data.get("branch")
        figures = selectors.parts_figures(
            branch_ids=[branch.pk] if branch else branch_ids_for(request.user),
            start=data["start"],
            end=data["end"],
        )
        return Response(PartsFiguresSerializer(figures).data)
