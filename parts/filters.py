"""One FilterSet per model, shared by the stockroom's list pages, the API and the selectors."""

import django_filters as filters
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from dealer_crm.filters import BranchScopedFilterSet, LocalDayFilter, number_pk

from .choices import IssueStatus, MoveKind, PartClass, PurchaseOrderStatus
from .models import (
    Bin,
    EmergencyOrder,
    LostSale,
    Part,
    PartIssue,
    PartStock,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReorderSuggestion,
    StockMove,
    Stocktake,
    Supplier,
)


def part_search(queryset, term: str, prefix: str = ""):
    """Part number or name; an old number also finds the number that replaced it."""
    term = term.strip()
    if not term:
        return queryset
    replaced = Part.objects.filter(superseded_by=OuterRef(f"{prefix}pk"), number__icontains=term)
    return queryset.filter(
        Q(**{f"{prefix}number__icontains": term})
        | Q(**{f"{prefix}name__icontains": term})
        | Exists(replaced)
    )


class PartFilter(filters.FilterSet):
    search = filters.CharFilter(method="filter_search", label=_("Search"))
    classification = filters.ChoiceFilter(choices=PartClass.choices, label=_("Classification"))
    current = filters.BooleanFilter(
        field_name="superseded_by", lookup_expr="isnull", label=_("Current numbers only")
    )

    class Meta:
        model = Part
        fields = ["classification", "unit", "supplier"]

    def filter_search(self, queryset, name, value):
        return part_search(queryset, value)


class SupplierFilter(filters.FilterSet):
    search = filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Search"))

    class Meta:
        model = Supplier
        fields = ["search"]


class BinFilter(BranchScopedFilterSet):
    free = filters.BooleanFilter(field_name="stock", lookup_expr="isnull", label=_("Free bins"))

    class Meta:
        model = Bin
        fields = ["branch", "zone"]


class PartStockFilter(BranchScopedFilterSet):
    search = filters.CharFilter(method="filter_search", label=_("Search"))
    zone = filters.CharFilter(field_name="bin__zone", label=_("Zone"))
    classification = filters.ChoiceFilter(
        field_name="part__classification", choices=PartClass.choices, label=_("Classification")
    )
    to_reorder = filters.BooleanFilter(
        method="filter_to_reorder", label=_("At or below reorder point")
    )
    in_stock = filters.BooleanFilter(method="filter_in_stock", label=_("In stock"))
    no_bin = filters.BooleanFilter(field_name="bin", lookup_expr="isnull", label=_("Without a bin"))

    class Meta:
        model = PartStock
        fields = ["branch", "part"]

    def filter_search(self, queryset, name, value):
        return part_search(queryset, value, prefix="part__")

    def filter_to_reorder(self, queryset, name, value):
        condition = Q(reorder_point__gt=0, on_hand__lte=F("reorder_point") + F("reserved"))
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_in_stock(self, queryset, name, value):
        return queryset.filter(on_hand__gt=0) if value else queryset.filter(on_hand=0)


class StockMoveFilter(BranchScopedFilterSet):
    kind = filters.MultipleChoiceFilter(choices=MoveKind.choices, label=_("Kind"))
    part_number = filters.CharFilter(
        field_name="part__number", lookup_expr="iexact", label=_("Part number")
    )
    document = filters.CharFilter(lookup_expr="icontains", label=_("Document"))
    since = LocalDayFilter(field_name="at", lookup_expr="gte", label=_("On or after"))
    until = LocalDayFilter(field_name="at", lookup_expr="lte", label=_("On or before"))

    class Meta:
        model = StockMove
        fields = ["branch", "part", "kind", "by"]


class PurchaseOrderFilter(BranchScopedFilterSet):
    status = filters.MultipleChoiceFilter(choices=PurchaseOrderStatus.choices, label=_("Status"))
    search = filters.CharFilter(method="filter_search", max_length=60, label=_("Search"))

    class Meta:
        model = PurchaseOrder
        fields = ["branch", "kind", "supplier"]

    def filter_search(self, queryset, name, value):
        """The order number, the supplier, the note or a part number on the order."""
        term = value.strip()
        if not term:
            return queryset
        on_lines = PurchaseOrderLine.objects.filter(
            purchase_order=OuterRef("pk"), part__number__icontains=term
        )
        condition = Q(supplier__name__icontains=term) | Q(note__icontains=term) | Exists(on_lines)
        number = number_pk(term, PurchaseOrder.number_prefix)
        return queryset.filter(condition | Q(pk=number) if number else condition)


class ReceiptFilter(BranchScopedFilterSet):
    search = filters.CharFilter(method="filter_search", max_length=60, label=_("Search"))

    class Meta:
        model = Receipt
        fields = ["branch", "status", "purchase_order"]

    def filter_search(self, queryset, name, value):
        """The receipt's or its order's number, the delivery note or the supplier."""
        term = value.strip()
        if not term:
            return queryset
        condition = Q(delivery_note__icontains=term) | Q(
            purchase_order__supplier__name__icontains=term
        )
        receipt_number = number_pk(term, Receipt.number_prefix)
        order_number = number_pk(term, PurchaseOrder.number_prefix)
        if receipt_number:
            condition |= Q(pk=receipt_number)
        if order_number:
            condition |= Q(purchase_order_id=order_number)
        return queryset.filter(condition)


class PartIssueFilter(BranchScopedFilterSet):
    status = filters.MultipleChoiceFilter(choices=IssueStatus.choices, label=_("Status"))
    search = filters.CharFilter(method="filter_search", label=_("Search"))

    class Meta:
        model = PartIssue
        fields = ["branch", "kind", "customer"]

    def filter_search(self, queryset, name, value):
        """The work order, the person the parts went to, or a part number on the voucher."""
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(
            Q(work_order_reference__icontains=term)
            | Q(recipient__icontains=term)
            | Q(lines__part__number__icontains=term)
        ).distinct()


class StocktakeFilter(BranchScopedFilterSet):
    class Meta:
        model = Stocktake
        fields = ["branch", "status", "scope"]


class ReorderSuggestionFilter(BranchScopedFilterSet):
    supplier = filters.ModelChoiceFilter(
        field_name="part__supplier", queryset=Supplier.objects.all(), label=_("Supplier")
    )

    class Meta:
        model = ReorderSuggestion
        fields = ["branch", "status", "computed_on", "part"]


class EmergencyOrderFilter(BranchScopedFilterSet):
    class Meta:
        model = EmergencyOrder
        fields = ["branch", "status", "customer", "advisor"]


class LostSaleFilter(BranchScopedFilterSet):
    since = LocalDayFilter(field_name="at", lookup_expr="gte", label=_("On or after"))
    until = LocalDayFilter(field_name="at", lookup_expr="lte", label=_("On or before"))

    class Meta:
        model = LostSale
        fields = ["branch", "part", "reason"]
