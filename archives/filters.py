"""One FilterSet per model, shared by the archive pages, the API and the selectors."""

import django_filters as filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from dealer_crm.filters import BranchScopedFilterSet, LocalDayFilter, number_pk

from .choices import BatchStatus, DocumentKind, DocumentStatus, FileStatus, SectionKind
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


class VehicleFileFilter(BranchScopedFilterSet):
    search = filters.CharFilter(method="filter_search", max_length=60, label=_("Search"))
    status = filters.MultipleChoiceFilter(choices=FileStatus.choices, label=_("Status"))
    incomplete = filters.BooleanFilter(method="filter_incomplete", label=_("Incomplete"))
    retain_until = filters.DateFromToRangeFilter(label=_("Kept until"))

    class Meta:
        model = VehicleFile
        fields = ["branch", "vehicle"]

    def filter_search(self, queryset, name, value):
        """The file number (VF00012), the VIN or its tail, the plate, or the owner's name."""
        term = value.strip().upper()
        if not term:
            return queryset
        condition = (
            Q(vehicle__vin__endswith=term)
            | Q(vehicle__plate__icontains=term)
            | Q(vehicle__owner__name__icontains=value.strip())
        )
        # Only with its prefix: bare digits are a VIN's end or part of a plate.
        number = number_pk(term, VehicleFile.number_prefix)
        if term.startswith(VehicleFile.number_prefix) and number is not None:
            condition |= Q(pk=number)
        return queryset.filter(condition)

    def filter_incomplete(self, queryset, name, value):
        if value is None:
            return queryset
        incomplete = Q(sections__complete=False)
        return queryset.filter(incomplete).distinct() if value else queryset.exclude(incomplete)


class FileSectionFilter(BranchScopedFilterSet):
    kind = filters.ChoiceFilter(choices=SectionKind.choices, label=_("Section"))
    due = filters.BooleanFilter(method="filter_due", label=_("Papers due"))

    class Meta:
        model = FileSection
        fields = ["vehicle_file", "batch", "complete"]

    def filter_due(self, queryset, name, value):
        """Past their due time and not complete (True), or the others (False)."""
        if value is None:
            return queryset
        due = Q(due_at__lt=timezone.now(), complete=False)
        return queryset.filter(due) if value else queryset.exclude(due)


class ArchiveDocumentFilter(BranchScopedFilterSet):
    status = filters.MultipleChoiceFilter(choices=DocumentStatus.choices, label=_("Status"))
    kind = filters.MultipleChoiceFilter(choices=DocumentKind.choices, label=_("Document"))
    vehicle_file = filters.NumberFilter(field_name="section__vehicle_file", label=_("File"))
    uploaded_at = filters.DateFromToRangeFilter(label=_("Uploaded"))

    class Meta:
        model = ArchiveDocument
        fields = ["section", "uploaded_by"]


class NonconformityFilter(BranchScopedFilterSet):
    open = filters.BooleanFilter(
        field_name="resolved_at",
        lookup_expr="isnull",
        label=pgettext_lazy("archive record", "Open"),
    )
    overdue = filters.BooleanFilter(method="filter_overdue", label=_("Past 24 hours"))
    returned_at = filters.DateFromToRangeFilter(label=_("Returned"))

    class Meta:
        model = Nonconformity
        fields = ["branch", "responsible"]

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = Q(resolved_at__isnull=True, resubmitted__isnull=True, due_by__lt=timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class PenaltyPointFilter(BranchScopedFilterSet):
    given_after = LocalDayFilter(field_name="given_at", lookup_expr="gte", label=_("From"))
    given_before = LocalDayFilter(field_name="given_at", lookup_expr="lte", label=_("To"))

    class Meta:
        model = PenaltyPoint
        fields = ["branch", "person", "reason", "nonconformity"]


class SubmissionBatchFilter(BranchScopedFilterSet):
    status = filters.ChoiceFilter(choices=BatchStatus.choices, label=_("Status"))
    kind = filters.ChoiceFilter(choices=SectionKind.choices, label=_("Files"))
    late = filters.BooleanFilter(
        field_name="late_flagged_at", lookup_expr="isnull", exclude=True, label=_("Flagged late")
    )
    period_start = filters.DateFromToRangeFilter(label=_("Period"))

    class Meta:
        model = SubmissionBatch
        fields = ["branch"]


class MissingArchiveReportFilter(BranchScopedFilterSet):
    open = filters.BooleanFilter(
        field_name="resolved_at",
        lookup_expr="isnull",
        label=pgettext_lazy("archive record", "Open"),
    )
    overdue = filters.BooleanFilter(method="filter_overdue", label=_("Past their 2 days"))
    kind = filters.ChoiceFilter(
        field_name="section__kind", choices=SectionKind.choices, label=_("Files")
    )
    opened_at = filters.DateFromToRangeFilter(label=_("Opened"))

    class Meta:
        model = MissingArchiveReport
        fields = ["branch"]

    def filter_overdue(self, queryset, name, value):
        """Open and past their due time (True), or the others (False)."""
        if value is None:
            return queryset
        overdue = Q(resolved_at__isnull=True, due_by__lt=timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class ExemptionFilter(BranchScopedFilterSet):
    class Meta:
        model = Exemption
        fields = ["reason", "section"]


class ReconciliationFilter(BranchScopedFilterSet):
    day = filters.DateFromToRangeFilter(label=_("Day"))

    class Meta:
        model = Reconciliation
        fields = ["branch"]
