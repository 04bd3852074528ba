from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Contact, Customer, OdometerReading, TimelineEntry, Vehicle, VehicleOwnership


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    list_display = ["id", "name", "kind", "branch", "city", "completeness", "merged_into"]
    list_filter = ["branch", "kind", "category", "evaluation"]
    search_fields = ["name", "mobile", "id_number", "credit_code"]
    raw_id_fields = ["merged_into", "consultant", "advisor"]
    readonly_fields = ["completeness", "merged_into"]
    inlines = [ContactInline]


@admin.register(Vehicle)
class VehicleAdmin(SimpleHistoryAdmin):
    list_display = ["id", "vin", "plate", "brand", "series", "owner", "odometer_km"]
    search_fields = ["vin", "plate"]
    raw_id_fields = ["owner"]
    readonly_fields = ["odometer_km"]


@admin.register(OdometerReading)
class OdometerReadingAdmin(SimpleHistoryAdmin):
    list_display = ["vehicle", "km", "read_on", "source", "is_replacement"]
    raw_id_fields = ["vehicle", "recorded_by"]


@admin.register(VehicleOwnership)
class VehicleOwnershipAdmin(SimpleHistoryAdmin):
    list_display = ["vehicle", "customer", "started_on", "ended_on"]
    raw_id_fields = ["vehicle", "customer"]


@admin.register(TimelineEntry)
class TimelineEntryAdmin(admin.ModelAdmin):
    list_display = ["customer", "kind", "detail", "occurred_at", "actor"]
    raw_id_fields = ["customer", "actor"]
    list_filter = ["kind"]
