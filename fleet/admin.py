from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from dealer_crm.admin import ReadOnlyLinesInline, ServiceManagedAdmin

from .models import (
    BuyingCentreMember,
    DealLine,
    DiscountRequest,
    FleetAccount,
    FleetAgreement,
    FleetDeal,
    FleetOrder,
    SpecialConfigurationRequest,
    TierBand,
)


class DealLineInline(ReadOnlyLinesInline):
    model = DealLine


class TierBandInline(ReadOnlyLinesInline):
    model = TierBand


@admin.register(FleetAccount)
class FleetAccountAdmin(ServiceManagedAdmin):
    list_display = ["name", "branch", "account_class", "status", "protected_until"]
    list_filter = ["branch", "status", "account_class"]
    search_fields = ["name", "credit_code"]


@admin.register(BuyingCentreMember)
class BuyingCentreMemberAdmin(SimpleHistoryAdmin):
    list_display = ["name", "account", "role", "attitude", "last_contact_on"]


@admin.register(FleetDeal)
class FleetDealAdmin(ServiceManagedAdmin):
    list_display = ["title", "account", "branch", "stage", "expected_value"]
    list_filter = ["branch", "stage"]
    inlines = [DealLineInline]


@admin.register(FleetAgreement)
class FleetAgreementAdmin(ServiceManagedAdmin):
    list_display = ["account", "signed_on", "valid_until", "agreed_units"]
    inlines = [TierBandInline]


@admin.register(FleetOrder)
class FleetOrderAdmin(ServiceManagedAdmin):
    list_display = ["deal", "quantity", "is_special", "support_per_unit", "delivered_units"]


@admin.register(DiscountRequest)
class DiscountRequestAdmin(ServiceManagedAdmin):
    list_display = ["deal", "discount_per_unit", "units", "status", "due_by"]
    list_filter = ["status"]


@admin.register(SpecialConfigurationRequest)
class SpecialConfigurationRequestAdmin(ServiceManagedAdmin):
    list_display = ["deal", "description", "units", "status", "due_by"]
    list_filter = ["status"]
