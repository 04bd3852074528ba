"""One FilterSet per model, shared by the fleet pages, the API and the selectors."""

import django_filters as filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dealer_crm.filters import BranchScopedFilterSet, LocalDayFilter

from .choices import DealStage, ProtectionStatus, RequestStatus
from .models import (
    DiscountRequest,
    FleetAccount,
    FleetAgreement,
    FleetDeal,
    FleetOrder,
    SpecialConfigurationRequest,
)


class FleetAccountFilter(BranchScopedFilterSet):
    search = filters.CharFilter(method="filter_search", max_length=60, label=_("Search"))
    status = filters.MultipleChoiceFilter(choices=ProtectionStatus.choices, label=_("Protection"))

    class Meta:
        model = FleetAccount
        fields = ["branch", "account_class", "account_manager", "parent"]

    def filter_search(self, queryset, name, value):
        """Part of the name or of the credit code."""
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(Q(name__icontains=term) | Q(credit_code__icontains=term.upper()))


class FleetDealFilter(BranchScopedFilterSet):
    search = filters.CharFilter(field_name="title", lookup_expr="icontains", label=_("Search"))
    stage = filters.MultipleChoiceFilter(choices=DealStage.choices, label=_("Stage"))

    class Meta:
        model = FleetDeal
        fields = ["branch", "account", "created_by"]


class FleetAgreementFilter(BranchScopedFilterSet):
    class Meta:
        model = FleetAgreement
        fields = ["account"]


class FleetOrderFilter(BranchScopedFilterSet):
    class Meta:
        model = FleetOrder
        fields = ["deal", "agreement", "is_special"]


class DiscountRequestFilter(BranchScopedFilterSet):
    status = filters.MultipleChoiceFilter(choices=RequestStatus.choices, label=_("Status"))
    overdue = filters.BooleanFilter(
        field_name="overdue_flagged_at", lookup_expr="isnull", exclude=True, label=_("Overdue")
    )
    # The requests decided in a period (the approvals-within-48-hours figure's drill-down).
    decided_after = LocalDayFilter(
        field_name="decided_at", lookup_expr="gte", label=_("Decided on or after")
    )
    decided_before = LocalDayFilter(
        field_name="decided_at", lookup_expr="lte", label=_("Decided on or before")
    )

    class Meta:
        model = DiscountRequest
        fields = ["deal", "requested_by"]


class SpecialConfigurationRequestFilter(DiscountRequestFilter):
    class Meta:
        model = SpecialConfigurationRequest
        fields = ["deal", "requested_by"]
