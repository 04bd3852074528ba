from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Activity,
    Delivery,
    Lead,
    LeadDeadlineBreach,
    Order,
    Payment,
    Quote,
    QuoteApproval,
    ShowroomTraffic,
    StockVehicle,
    TestDrive,
    TradeIn,
)


class ActivityInline(admin.TabularInline):
    model = Activity
    extra = 0
    raw_id_fields = ["by"]


@admin.register(Lead)
class LeadAdmin(SimpleHistoryAdmin):
    list_display = [
        "id", "name", "model_of_interest", "branch", "source", "status", "intent_level",
        "consultant", "next_follow_up_on", "created_at",
    ]  # fmt: skip
    list_filter = ["branch", "status", "source", "intent_level"]
    list_select_related = ["branch", "consultant"]
    search_fields = ["name", "mobile", "model_of_interest"]
    raw_id_fields = [
        "consultant", "referrer", "customer", "duplicate_of", "matching_customer",
        "verified_by", "created_by",
    ]  # fmt: skip
    date_hierarchy = "created_at"
    inlines = [ActivityInline]


@admin.register(Activity)
class ActivityAdmin(SimpleHistoryAdmin):
    list_display = ["lead", "kind", "outcome", "occurred_at", "by", "next_follow_up_on"]
    list_filter = ["kind", "outcome"]
    list_select_related = ["lead", "by"]
    raw_id_fields = ["lead", "by"]


@admin.register(ShowroomTraffic)
class ShowroomTrafficAdmin(SimpleHistoryAdmin):
    list_display = ["day", "branch", *ShowroomTraffic.COUNTERS]
    list_filter = ["branch"]
    list_select_related = ["branch"]
    date_hierarchy = "day"


@admin.register(StockVehicle)
class StockVehicleAdmin(SimpleHistoryAdmin):
    list_display = ["vin", "brand", "series", "colour", "branch", "status", "arrival_date"]
    list_filter = ["branch", "status", "brand"]
    list_select_related = ["branch"]
    search_fields = ["vin", "series"]
    raw_id_fields = ["pdi_by"]


@admin.register(TestDrive)
class TestDriveAdmin(SimpleHistoryAdmin):
    list_display = ["driver_name", "demo_vehicle", "starts_at", "status", "consultant", "branch"]
    list_filter = ["branch", "status"]
    list_select_related = ["demo_vehicle", "consultant", "branch"]
    search_fields = ["driver_name", "demo_vehicle__vin"]
    raw_id_fields = ["lead", "demo_vehicle", "consultant"]


@admin.register(TradeIn)
class TradeInAdmin(SimpleHistoryAdmin):
    list_display = ["brand", "series", "model_year", "plate", "offered_value", "decision", "branch"]
    list_filter = ["branch", "decision"]
    list_select_related = ["branch"]
    search_fields = ["vin", "plate"]
    raw_id_fields = ["lead", "appraised_by"]


class QuoteApprovalInline(admin.TabularInline):
    model = QuoteApproval
    extra = 0
    raw_id_fields = ["by"]
    readonly_fields = ["at"]


@admin.register(Quote)
class QuoteAdmin(SimpleHistoryAdmin):
    list_display = ["number", "lead", "series", "list_price", "discount", "total", "status"]
    list_filter = ["branch", "status", "needs_approval"]
    list_select_related = ["lead"]
    search_fields = ["lead__name", "series"]
    raw_id_fields = ["lead", "consultant", "trade_in"]
    # The total is the service's sum of the parts; typing it here would break that rule.
    readonly_fields = ["total"]
    inlines = [QuoteApprovalInline]


@admin.register(QuoteApproval)
class QuoteApprovalAdmin(admin.ModelAdmin):
    list_display = ["quote", "decision", "discount", "by", "at"]
    list_filter = ["decision"]
    list_select_related = ["quote", "by"]
    raw_id_fields = ["quote", "by"]


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    raw_id_fields = ["recorded_by"]


@admin.register(Order)
class OrderAdmin(SimpleHistoryAdmin):
    list_display = ["number", "customer", "series", "total_price", "status", "branch", "signed_at"]
    list_filter = ["branch", "status"]
    list_select_related = ["customer", "branch"]
    search_fields = ["customer__name", "invoice_number", "stock_vehicle__vin"]
    raw_id_fields = ["customer", "lead", "quote", "consultant", "stock_vehicle"]
    inlines = [PaymentInline]


@admin.register(Payment)
class PaymentAdmin(SimpleHistoryAdmin):
    list_display = ["order", "kind", "amount", "due_on", "paid_on", "method"]
    list_filter = ["kind", "method"]
    list_select_related = ["order__customer"]
    search_fields = ["reference"]
    raw_id_fields = ["order", "recorded_by"]


@admin.register(Delivery)
class DeliveryAdmin(SimpleHistoryAdmin):
    list_display = ["order", "delivered_on", "delivered_by", "vehicle"]
    list_select_related = ["order__customer", "delivered_by", "vehicle"]
    search_fields = ["vehicle__vin", "order__customer__name"]
    raw_id_fields = ["order", "delivered_by", "vehicle"]
    date_hierarchy = "delivered_on"


@admin.register(LeadDeadlineBreach)
class LeadDeadlineBreachAdmin(admin.ModelAdmin):
    list_display = ["lead", "kind", "due_at", "detected_at"]
    list_filter = ["kind"]
    list_select_related = ["lead"]
    raw_id_fields = ["lead"]
