"""One FilterSet per model, shared by the customer-care pages, the API and the selectors."""

import django_filters as filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.choices import VehicleAgeSegment
from dealer_crm.filters import BranchScopedFilterSet
from dealer_crm.models import Branch

from .choices import (
    AbnormalReason,
    CallReason,
    CallStatus,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    InquiryKind,
    Lifecycle,
    Severity,
)
from .models import Complaint, CustomerSegment, FollowUpCall, Inquiry


class CallFilter(BranchScopedFilterSet):
    status = filters.MultipleChoiceFilter(choices=CallStatus.choices, label=_("Status"))
    reason = filters.MultipleChoiceFilter(choices=CallReason.choices, label=_("Reason"))
    due_on = filters.DateFromToRangeFilter(label=_("Due"))
    mine = filters.BooleanFilter(method="filter_mine", label=_("Assigned to me"))

    class Meta:
        model = FollowUpCall
        fields = ["branch", "customer", "assigned_to"]

    def filter_mine(self, queryset, name, value):
        """The caller's own calls (True); every call otherwise."""
        if not value:
            return queryset
        user = getattr(self.request, "user", None)
        return queryset.filter(assigned_to=user) if user else queryset.none()


def complaint_overdue(now) -> Q:
    """Not answered by its respond-by time, or not resolved by its resolve-by time."""
    return Q(status=ComplaintStatus.OPEN, respond_by__lt=now) | Q(
        status__in=[ComplaintStatus.OPEN, ComplaintStatus.RESPONDED], resolve_by__lt=now
    )


class ComplaintFilter(BranchScopedFilterSet):
    search = filters.CharFilter(method="filter_search", max_length=60, label=_("Search"))
    status = filters.MultipleChoiceFilter(choices=ComplaintStatus.choices, label=_("Status"))
    severity = filters.MultipleChoiceFilter(choices=Severity.choices, label=_("Severity"))
    category = filters.MultipleChoiceFilter(choices=ComplaintCategory.choices, label=_("Category"))
    channel = filters.MultipleChoiceFilter(choices=ComplaintChannel.choices, label=_("Channel"))
    overdue = filters.BooleanFilter(method="filter_overdue", label=_("Past a deadline"))
    escalated = filters.BooleanFilter(
        field_name="escalated_at", lookup_expr="isnull", exclude=True, label=_("Escalated")
    )
    received_at = filters.DateFromToRangeFilter(label=_("Received"))

    class Meta:
        model = Complaint
        fields = ["branch", "customer", "owner"]

    def filter_search(self, queryset, name, value):
        """The complaint number (CP00012) or part of the customer's name."""
        term = value.strip()
        if not term:
            return queryset
        condition = Q(customer__name__icontains=term)
        number = term.upper()
        if number.startswith(Complaint.number_prefix) and number[2:].isdigit():
            condition |= Q(pk=int(number[2:]))
        return queryset.filter(condition)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = complaint_overdue(timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class InquiryFilter(BranchScopedFilterSet):
    kind = filters.ChoiceFilter(choices=InquiryKind.choices, label=_("Kind"))
    channel = filters.MultipleChoiceFilter(choices=ComplaintChannel.choices, label=_("Channel"))
    answered = filters.BooleanFilter(
        field_name="answered_at", lookup_expr="isnull", exclude=True, label=_("Answered")
    )
    received_at = filters.DateFromToRangeFilter(label=_("Received"))

    class Meta:
        model = Inquiry
        fields = ["branch", "customer", "recorded_by"]


class CustomerSegmentFilter(BranchScopedFilterSet):
    branch = filters.ModelChoiceFilter(
        field_name="customer__branch", queryset=Branch.objects.all(), label=_("Branch")
    )
    lifecycle = filters.ChoiceFilter(choices=Lifecycle.choices, label=_("Lifecycle"))
    key_customer = filters.BooleanFilter(label=_("Key customer"))
    abnormal = filters.ChoiceFilter(
        choices=AbnormalReason.choices, method="filter_abnormal", label=_("Reason to reach out")
    )
    vehicle_age = filters.ChoiceFilter(choices=VehicleAgeSegment.choices, label=_("Vehicle age"))

    class Meta:
        model = CustomerSegment
        fields = ["customer"]

    def filter_abnormal(self, queryset, name, value):
        return queryset.filter(abnormal__contains=[value])
