from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Bin, Part, PartStock, StockMove, Supplier


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
