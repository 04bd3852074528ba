from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from dealer_crm.admin import ReadOnlyLinesInline, ServiceManagedAdmin

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


@admin.register(Supplier)
class SupplierAdmin(SimpleHistoryAdmin):
    list_display = ["name", "contact", "phone", "lead_time_days"]
    search_fields = ["name"]


@admin.register(Part)
class PartAdmin(SimpleHistoryAdmin):
    list_display = ["number", "name", "classification", "unit", "price", "superseded_by"]
    list_filter = ["classification", "unit"]
    search_fields = ["number", "name"]
    raw_id_fields = ["superseded_by", "supplier"]


@admin.register(Bin)
class BinAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "branch"]
    list_filter = ["branch", "zone"]


@admin.register(PartStock)
class PartStockAdmin(SimpleHistoryAdmin):
    """Quantities change only through stock moves: they are read-only here."""

    list_display = ["part", "branch", "bin", "on_hand", "reserved", "average_cost"]
    list_filter = ["branch"]
    search_fields = ["part__number", "part__name"]
    readonly_fields = ["on_hand", "reserved", "average_cost"]
    raw_id_fields = ["part", "bin"]


@admin.register(StockMove)
class StockMoveAdmin(admin.ModelAdmin):
    """The ledger is evidence: readable, never editable."""

    list_display = ["at", "branch", "part", "kind", "quantity", "balance_after", "document", "by"]
    list_filter = ["branch", "kind"]
    search_fields = ["part__number", "document"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PurchaseOrderLineInline(ReadOnlyLinesInline):
    model = PurchaseOrderLine


class ReceiptLineInline(ReadOnlyLinesInline):
    model = ReceiptLine


class PartIssueLineInline(ReadOnlyLinesInline):
    model = PartIssueLine
    fk_name = "issue"


class StocktakeLineInline(ReadOnlyLinesInline):
    model = StocktakeLine


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ServiceManagedAdmin):
    list_display = ["number", "branch", "supplier", "kind", "status", "created_at"]
    inlines = [PurchaseOrderLineInline]


@admin.register(Receipt)
class ReceiptAdmin(ServiceManagedAdmin):
    list_display = ["number", "branch", "purchase_order", "status", "checked_at", "registered_at"]
    inlines = [ReceiptLineInline]


@admin.register(PartIssue)
class PartIssueAdmin(ServiceManagedAdmin):
    list_display = ["number", "branch", "kind", "status", "work_order_reference", "created_at"]
    inlines = [PartIssueLineInline]


@admin.register(Stocktake)
class StocktakeAdmin(ServiceManagedAdmin):
    list_display = ["number", "branch", "scope", "status", "created_at", "approved_at"]
    inlines = [StocktakeLineInline]


@admin.register(EmergencyOrder)
class EmergencyOrderAdmin(ServiceManagedAdmin):
    list_display = ["number", "branch", "customer", "part", "quantity", "status", "created_at"]


@admin.register(ReorderSuggestion)
class ReorderSuggestionAdmin(ServiceManagedAdmin):
    list_display = ["part", "branch", "computed_on", "suggested_quantity", "status"]
    list_filter = ["branch", "status", "computed_on"]


@admin.register(LostSale)
class LostSaleAdmin(ServiceManagedAdmin):
    list_display = ["at", "branch", "part", "quantity", "reason", "asked_by"]
    list_filter = ["branch", "reason"]
