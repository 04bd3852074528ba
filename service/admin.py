from django.contrib import admin

from dealer_crm.admin import ReadOnlyLinesInline, ServiceManagedAdmin

from .models import (
    AddedItem,
    Appointment,
    InsuranceClaim,
    LabourLine,
    PartLine,
    Rescue,
    ServiceSlot,
    Settlement,
    SettlementLine,
    WarrantyClaim,
    WorkOrder,
)


class LabourLineInline(ReadOnlyLinesInline):
    model = LabourLine


class PartLineInline(ReadOnlyLinesInline):
    model = PartLine


class AddedItemInline(ReadOnlyLinesInline):
    model = AddedItem


class SettlementLineInline(ReadOnlyLinesInline):
    model = SettlementLine


@admin.register(ServiceSlot)
class ServiceSlotAdmin(ServiceManagedAdmin):
    list_display = ["starts_at", "branch", "service_type", "capacity", "booked"]
    list_filter = ["branch", "service_type"]


@admin.register(Appointment)
class AppointmentAdmin(ServiceManagedAdmin):
    list_display = ["slot", "branch", "customer", "vehicle", "advisor", "status"]
    list_filter = ["branch", "status"]


@admin.register(WorkOrder)
class WorkOrderAdmin(ServiceManagedAdmin):
    editable = {"damage_notes", "items_left"}
    list_display = ["number", "branch", "plate", "service_type", "status", "opened_at"]
    list_filter = ["branch", "status", "service_type"]
    search_fields = ["plate", "contact_name"]
    inlines = [LabourLineInline, PartLineInline, AddedItemInline]


@admin.register(Settlement)
class SettlementAdmin(ServiceManagedAdmin):
    list_display = ["number", "work_order", "total", "payment_method", "settled_at"]
    inlines = [SettlementLineInline]


@admin.register(WarrantyClaim)
class WarrantyClaimAdmin(ServiceManagedAdmin):
    list_display = ["work_order", "failed_part", "status", "created_at"]
    list_filter = ["status"]


@admin.register(InsuranceClaim)
class InsuranceClaimAdmin(ServiceManagedAdmin):
    list_display = ["work_order", "insurer", "claim_number", "status"]
    list_filter = ["status"]


@admin.register(Rescue)
class RescueAdmin(ServiceManagedAdmin):
    list_display = ["called_at", "branch", "location", "status", "outcome"]
    list_filter = ["branch", "status"]
