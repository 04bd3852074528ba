from django.contrib import admin

from dealer_crm.admin import ReadOnlyLinesInline, ServiceManagedAdmin

from .models import (
    CallAttempt,
    ComparisonMatrix,
    Complaint,
    Criterion,
    CustomerSegment,
    FollowUpCall,
    Inquiry,
    Message,
    Reminder,
    SatisfactionModel,
    SurveyAnswer,
)


class CareAdmin(ServiceManagedAdmin):
    """Calls, complaints and inquiries move only through their services (deadlines,
    escalation, the timeline): read here, never changed."""

    editable: set[str] = set()


class CareLogAdmin(admin.ModelAdmin):
    """Rows without history (attempts, segments the nightly job rewrites): readable, never
    editable."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CallAttemptInline(ReadOnlyLinesInline):
    model = CallAttempt
    fields = readonly_fields = ["outcome", "note", "by", "at"]


@admin.register(FollowUpCall)
class FollowUpCallAdmin(CareAdmin):
    list_display = ["__str__", "branch", "reason", "due_on", "assigned_to", "status", "attempts"]
    list_filter = ["branch", "status", "reason"]
    search_fields = ["customer__name"]
    inlines = [CallAttemptInline]


@admin.register(CallAttempt)
class CallAttemptAdmin(CareLogAdmin):
    list_display = ["at", "call", "outcome", "by"]
    list_filter = ["outcome"]


@admin.register(Complaint)
class ComplaintAdmin(CareAdmin):
    list_display = [
        "__str__", "branch", "customer", "category", "severity", "status", "received_at",
        "escalation_level",
    ]  # fmt: skip
    list_filter = ["branch", "status", "severity", "category", "channel"]
    search_fields = ["customer__name", "description"]


@admin.register(Inquiry)
class InquiryAdmin(CareAdmin):
    list_display = ["__str__", "branch", "channel", "received_at", "answered_at"]
    list_filter = ["branch", "kind", "channel"]
    search_fields = ["customer__name", "subject"]


@admin.register(CustomerSegment)
class CustomerSegmentAdmin(CareLogAdmin):
    list_display = ["customer", "lifecycle", "key_customer", "vehicle_age", "computed_on"]
    list_filter = ["lifecycle", "key_customer", "vehicle_age"]
    search_fields = ["customer__name"]


@admin.register(Reminder)
class ReminderAdmin(CareLogAdmin):
    list_display = ["customer", "kind", "about_on", "due_on"]
    list_filter = ["kind"]
    search_fields = ["customer__name"]


@admin.register(Message)
class MessageAdmin(CareLogAdmin):
    list_display = ["customer", "channel", "status", "sent_at"]
    list_filter = ["channel", "status"]
    search_fields = ["customer__name"]


class CriterionInline(ReadOnlyLinesInline):
    model = Criterion
    fields = readonly_fields = ["parent", "name", "position"]


@admin.register(SatisfactionModel)
class SatisfactionModelAdmin(CareAdmin):
    list_display = ["name", "branch", "active", "activated_at"]
    list_filter = ["branch", "active"]
    inlines = [CriterionInline]


@admin.register(ComparisonMatrix)
class ComparisonMatrixAdmin(CareLogAdmin):
    list_display = ["model", "parent", "cr", "entered_at"]


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(CareLogAdmin):
    list_display = ["answered_on", "branch", "criterion", "score", "advisor"]
    list_filter = ["branch"]
