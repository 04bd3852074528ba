from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Branch,
    DealerGroup,
    Heartbeat,
    IdempotencyRecord,
    JobRun,
    KpiSnapshot,
    KpiTarget,
    PiiAccess,
    Staff,
)


class ReadOnlyLinesInline(admin.TabularInline):
    """Document lines change only through the services: shown, never edited here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ServiceManagedAdmin(SimpleHistoryAdmin):
    """Records that move only through their services: the admin reads them and may correct
    the free-text fields named in `editable`, nothing that changes a status, stock or money."""

    editable: set[str] = {"note"}

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name not in self.editable]


@admin.register(DealerGroup)
class DealerGroupAdmin(SimpleHistoryAdmin):
    list_display = ["name"]


@admin.register(Branch)
class BranchAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "city", "is_active"]


@admin.register(Staff)
class StaffAdmin(SimpleHistoryAdmin):
    list_display = ["user", "phone"]
    filter_horizontal = ["branches"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]


@admin.register(PiiAccess)
class PiiAccessAdmin(admin.ModelAdmin):
    """The access log is evidence: readable, never editable."""

    list_display = ["accessed_at", "user", "customer", "channel", "path"]
    list_filter = ["channel"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["beat_at", "worker"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    """The first answers kept for Idempotency-Key replays: for explaining a client's retry."""

    list_display = ["created_at", "user", "key", "method", "path", "response_status"]
    search_fields = ["key", "path", "user__username"]
    readonly_fields = [
        "user", "key", "method", "path", "request_hash", "response_status", "response_body",
        "created_at",
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    """The runs of the scheduled jobs, as the operations page shows them."""

    list_display = ["job", "status", "started_at", "finished_at", "rows"]
    list_filter = ["job", "status"]
    readonly_fields = ["job", "status", "started_at", "finished_at", "rows", "error"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(KpiSnapshot)
class KpiSnapshotAdmin(admin.ModelAdmin):
    """Derived by the nightly job: read here, never edited (rerun the job or the backfill)."""

    list_display = ["day", "branch", "code", "key", "person", "numerator", "denominator"]
    list_filter = ["branch", "code"]
    date_hierarchy = "day"
    search_fields = ["code", "key"]
    list_select_related = ["branch", "person"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(KpiTarget)
class KpiTargetAdmin(SimpleHistoryAdmin):
    list_display = ["month", "branch", "code", "person", "value"]
    list_filter = ["branch", "code", "month"]
    list_select_related = ["branch", "person"]
    raw_id_fields = ["person"]
