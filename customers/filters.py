"""One FilterSet per model, shared by the list pages, the API and the selectors."""

import re

import django_filters as filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dealer_crm.filters import BranchScopedFilterSet

from .care.choices import AbnormalReason, Lifecycle
from .choices import CustomerCategory, CustomerKind, EvaluationCategory, VehicleAgeSegment
from .models import Contact, Customer, OdometerReading, TimelineEntry, Vehicle

PHONE_DIGITS = re.compile(r"^\d{4,11}$")
VIN_TAIL = re.compile(r"^[A-HJ-NPR-Z0-9]{6,17}$", re.IGNORECASE)


def customer_search_condition(term: str) -> Q:
    """One search box: part of a name, 4+ consecutive digits of a phone, the end of a VIN
    (6+ characters), or a plate.

    Each way of matching is its own trigram-indexed select, joined with UNION: PostgreSQL cannot
    combine an OR across two tables into one index scan, and would read every customer.
    """
    term = term.strip()
    if not term:
        return Q()
    compact = term.replace(" ", "").replace("·", "").upper()
    matches = Customer.objects.filter(name__icontains=term).values("pk")
    owners = Q(plate__contains=compact)
    if VIN_TAIL.match(compact):
        owners |= Q(vin__endswith=compact)
    matches = matches.union(Vehicle.objects.filter(owners).values("owner"))
    if PHONE_DIGITS.match(term):
        matches = matches.union(
            Customer.objects.filter(mobile__contains=term).values("pk"),
            Customer.objects.filter(mobile_2__contains=term).values("pk"),
        )
    return Q(pk__in=matches)


class CustomerFilter(BranchScopedFilterSet):
    search = filters.CharFilter(method="filter_search", label=_("Search"))
    kind = filters.ChoiceFilter(choices=CustomerKind.choices, label=_("Kind"))
    category = filters.ChoiceFilter(choices=CustomerCategory.choices, label=_("Category"))
    evaluation = filters.ChoiceFilter(choices=EvaluationCategory.choices, label=_("Evaluation"))
    vehicle_age_segment = filters.ChoiceFilter(
        choices=VehicleAgeSegment.choices,
        method="filter_vehicle_age_segment",
        label=_("Vehicle age"),
    )
    incomplete = filters.BooleanFilter(method="filter_incomplete", label=_("Incomplete only"))
    completeness_below = filters.NumberFilter(
        field_name="completeness", lookup_expr="lt", label=_("Completeness below (%)")
    )
    marketing_consent = filters.BooleanFilter(label=_("Marketing consent"))
    tag = filters.CharFilter(method="filter_tag", label=_("Tag"))
    lifecycle = filters.ChoiceFilter(
        field_name="segment__lifecycle", choices=Lifecycle.choices, label=_("Lifecycle")
    )
    key_customer = filters.BooleanFilter(
        field_name="segment__key_customer", label=_("Key customer")
    )
    abnormal = filters.ChoiceFilter(
        choices=AbnormalReason.choices, method="filter_abnormal", label=_("Reason to reach out")
    )
    # The segment's: the age of the customer's newest vehicle, as computed nightly.
    vehicle_age = filters.ChoiceFilter(
        field_name="segment__vehicle_age",
        choices=VehicleAgeSegment.choices,
        label=_("Newest vehicle's age"),
    )

    class Meta:
        model = Customer
        fields = ["branch", "consultant", "advisor", "source", "city"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(customer_search_condition(value))

    def filter_vehicle_age_segment(self, queryset, name, value):
        vehicles = Vehicle.objects.with_age_segment().filter(age_segment=value).values("owner")
        return queryset.filter(pk__in=vehicles)

    def filter_incomplete(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(completeness__lt=100) if value else queryset.filter(completeness=100)

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__contains=[value])

    def filter_abnormal(self, queryset, name, value):
        """Customers with this reason among their segment's abnormal reasons."""
        return queryset.filter(segment__abnormal__contains=[value])


class VehicleFilter(BranchScopedFilterSet):
    search = filters.CharFilter(method="filter_search", label=_("Search"))
    age_segment = filters.ChoiceFilter(choices=VehicleAgeSegment.choices, label=_("Vehicle age"))
    insurance_expiry_before = filters.DateFilter(
        field_name="insurance_expiry", lookup_expr="lte", label=_("Insurance expires by")
    )
    inspection_due_before = filters.DateFilter(
        field_name="inspection_due", lookup_expr="lte", label=_("Inspection due by")
    )

    class Meta:
        model = Vehicle
        fields = ["owner", "brand", "series", "model_year", "fuel_type", "transmission"]

    def filter_search(self, queryset, name, value):
        value = value.strip().replace(" ", "")
        if not value:
            return queryset
        return queryset.filter(
            Q(vin__endswith=value.upper()) | Q(plate__icontains=value) | Q(vin=value.upper())
        )


class ContactFilter(BranchScopedFilterSet):
    class Meta:
        model = Contact
        fields = ["customer", "is_primary"]


class OdometerReadingFilter(BranchScopedFilterSet):
    class Meta:
        model = OdometerReading
        fields = ["vehicle", "source", "is_replacement"]


class TimelineEntryFilter(BranchScopedFilterSet):
    class Meta:
        model = TimelineEntry
        fields = ["kind"]
