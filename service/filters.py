"""One FilterSet per model, shared by the service pages, the API and the selectors."""

import django_filters as filters
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from dealer_crm.filters import BranchScopedFilterSet, LocalDayFilter, number_pk

from .choices import AppointmentStatus, WorkOrderStatus
from .models import (
    Appointment,
    InsuranceClaim,
    Rescue,
    ServiceSlot,
    WarrantyClaim,
    WorkOrder,
)


class ServiceSlotFilter(BranchScopedFilterSet):
    day = LocalDayFilter(field_name="starts_at", label=_("Day"))
    has_room = filters.BooleanFilter(method="filter_has_room", label=_("With room"))

    class Meta:
        model = ServiceSlot
        fields = ["branch", "service_type"]

    def filter_has_room(self, queryset, name, value):
        return queryset.filter(booked__lt=F("capacity")) if value else queryset


class AppointmentFilter(BranchScopedFilterSet):
    day = LocalDayFilter(field_name="slot__starts_at", label=_("Day"))
    status = filters.MultipleChoiceFilter(choices=AppointmentStatus.choices, label=_("Status"))

    class Meta:
        model = Appointment
        fields = ["branch", "advisor", "customer", "vehicle"]


class WorkOrderFilter(BranchScopedFilterSet):
    search = filters.CharFilter(method="filter_search", max_length=60, label=_("Search"))
    status = filters.MultipleChoiceFilter(choices=WorkOrderStatus.choices, label=_("Status"))
    opened_after = LocalDayFilter(
        field_name="opened_at", lookup_expr="gte", label=_("Opened on or after")
    )
    opened_before = LocalDayFilter(
        field_name="opened_at", lookup_expr="lte", label=_("Opened on or before")
    )
    settled_after = LocalDayFilter(
        field_name="settled_at", lookup_expr="gte", label=_("Settled on or after")
    )
    settled_before = LocalDayFilter(
        field_name="settled_at", lookup_expr="lte", label=_("Settled on or before")
    )
    comeback = filters.BooleanFilter(
        field_name="comeback_of", lookup_expr="isnull", exclude=True, label=_("Comebacks")
    )

    class Meta:
        model = WorkOrder
        fields = ["branch", "service_type", "advisor", "customer", "vehicle"]

    def filter_search(self, queryset, name, value):
        """The work order number, the plate, the end of the VIN or the contact's name."""
        term = value.strip().upper()
        if not term:
            return queryset
        condition = Q(plate__contains=term) | Q(contact_name__icontains=value.strip())
        condition |= Q(vehicle__vin__endswith=term)
        number = number_pk(term, WorkOrder.number_prefix)
        if number is not None:
            condition |= Q(pk=number)
        return queryset.filter(condition)


class WarrantyClaimFilter(BranchScopedFilterSet):
    class Meta:
        model = WarrantyClaim
        fields = ["status", "work_order"]


class InsuranceClaimFilter(BranchScopedFilterSet):
    class Meta:
        model = InsuranceClaim
        fields = ["status", "work_order"]


class RescueFilter(BranchScopedFilterSet):
    day = LocalDayFilter(field_name="called_at", label=_("Day"))

    class Meta:
        model = Rescue
        fields = ["branch", "status", "outcome"]
