from django.contrib import admin

from dealer_crm.admin import ReadOnlyLinesInline, ServiceManagedAdmin

from .models import (
    ArchiveDocument,
    Exemption,
    FileSection,
    MissingArchiveReport,
    Nonconformity,
    PenaltyPoint,
    Reconciliation,
    SubmissionBatch,
    VehicleFile,
)

# A scan leaves only through the branch-checked download, never as a link to the storage.
DOCUMENT_FIELDS = [
    "kind", "original_name", "content_type", "size", "sha256", "status", "uploaded_by",
    "uploaded_at", "audited_by", "audited_at",
]  # fmt: skip


class ArchiveAdmin(ServiceManagedAdmin):
    """The archive is evidence: its records are read here, changed only by the services."""

    editable: set[str] = set()


class ArchiveLogAdmin(admin.ModelAdmin):
    """Rows without history (points, reconciliation counts): readable, never editable."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class FileSectionInline(ReadOnlyLinesInline):
    model = FileSection
    fields = ["kind", "period_on", "due_at", "batch", "complete", "completed_at"]
    show_change_link = True


class ArchiveDocumentInline(ReadOnlyLinesInline):
    model = ArchiveDocument
    fields = readonly_fields = DOCUMENT_FIELDS
    show_change_link = True


@admin.register(VehicleFile)
class VehicleFileAdmin(ArchiveAdmin):
    list_display = ["__str__", "vehicle", "branch", "status", "retain_until", "disposed_at"]
    list_filter = ["branch", "status"]
    search_fields = ["vehicle__vin", "vehicle__plate"]
    inlines = [FileSectionInline]


@admin.register(FileSection)
class FileSectionAdmin(ArchiveAdmin):
    list_display = ["__str__", "kind", "period_on", "due_at", "complete"]
    list_filter = ["kind", "complete"]
    inlines = [ArchiveDocumentInline]


@admin.register(ArchiveDocument)
class ArchiveDocumentAdmin(ArchiveAdmin):
    list_display = ["__str__", "section", "status", "uploaded_by", "uploaded_at"]
    list_filter = ["status", "kind"]
    search_fields = ["original_name", "sha256"]
    exclude = ["file"]

    def get_readonly_fields(self, request, obj=None):
        return [name for name in super().get_readonly_fields(request, obj) if name != "file"]


@admin.register(SubmissionBatch)
class SubmissionBatchAdmin(ArchiveAdmin):
    list_display = ["__str__", "branch", "kind", "period_start", "due_at", "status"]
    list_filter = ["branch", "kind", "status"]
    inlines = [FileSectionInline]


@admin.register(Nonconformity)
class NonconformityAdmin(ArchiveAdmin):
    list_display = ["__str__", "branch", "responsible", "returned_at", "due_by", "resolved_at"]
    list_filter = ["branch"]


@admin.register(PenaltyPoint)
class PenaltyPointAdmin(ArchiveLogAdmin):
    list_display = ["given_at", "branch", "person", "reason", "points", "nonconformity"]
    list_filter = ["branch", "reason"]


@admin.register(Exemption)
class ExemptionAdmin(ArchiveAdmin):
    list_display = ["__str__", "reason", "granted_by", "granted_at", "ends_on"]
    list_filter = ["reason"]


@admin.register(MissingArchiveReport)
class MissingArchiveReportAdmin(ArchiveAdmin):
    list_display = ["__str__", "branch", "opened_at", "due_by", "resolved_at"]
    list_filter = ["branch"]


@admin.register(Reconciliation)
class ReconciliationAdmin(ArchiveLogAdmin):
    list_display = ["day", "branch", "deliveries", "work_orders", "reports_opened", "reports_open"]
    list_filter = ["branch"]
