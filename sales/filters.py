"""One FilterSet per model, shared by the list pages, the API and the selectors."""

import django_filters as filters
from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.filters import PHONE_DIGITS, VIN_TAIL
from dealer_crm.filters import BranchScopedFilterSet, LocalDayFilter

from .choices import LeadStatus, OrderStatus, StockStatus
from .models import (
    Activity,
    Delivery,
    Lead,
    LeadDeadlineBreach,
    Order,
    Payment,
    Quote,
    QuoteApproval,
    ShowroomTraffic,
    StockVehicle,
    TestDrive,
    TradeIn,
)
from .selectors import FUNNEL_STAGES

FOLLOW_UP_CHOICES = [("due", _("Due today or overdue")), ("overdue", _("Overdue"))]


class LeadFilter(BranchScopedFilterSet):
    search = filters.CharFilter(method="filter_search", label=_("Search"))
    status = filters.MultipleChoiceFilter(choices=LeadStatus.choices, label=_("Status"))
    created_after = LocalDayFilter(
        field_name="created_at", lookup_expr="gte", label=_("Created on or after")
    )
    created_before = LocalDayFilter(
        field_name="created_at", lookup_expr="lte", label=_("Created on or before")
    )
    # The lost leads of a period (a figure's drill-down): by the day they were closed.
    closed_after = LocalDayFilter(
        field_name="closed_at", lookup_expr="gte", label=_("Closed on or after")
    )
    closed_before = LocalDayFilter(
        field_name="closed_at", lookup_expr="lte", label=_("Closed on or before")
    )
    # Drill-down from a funnel figure: the leads that reached the stage.
    stage = filters.ChoiceFilter(
        choices=[(stage.key, stage.label) for stage in FUNNEL_STAGES],
        method="filter_stage",
        label=_("Reached stage"),
    )
    follow_up = filters.ChoiceFilter(
        choices=FOLLOW_UP_CHOICES, method="filter_follow_up", label=_("Follow-up")
    )
    referral = filters.BooleanFilter(method="filter_referral", label=_("Referral"))
    # ?consultant=null: the leads nobody has taken yet (the funnel's "Unassigned" row).
    consultant = filters.ModelChoiceFilter(
        queryset=User.objects.all(), null_label=_("Unassigned"), label=_("Sales consultant")
    )

    class Meta:
        model = Lead
        fields = ["source", "intent_level", "consultant", "branch", "model_of_interest"]

    def filter_search(self, queryset, name, value):
        """Part of the name or the model of interest, or 4+ consecutive digits of the mobile."""
        term = value.strip()
        if not term:
            return queryset
        condition = Q(name__icontains=term) | Q(model_of_interest__icontains=term)
        digits = term.replace(" ", "").replace("-", "")
        if PHONE_DIGITS.match(digits):
            condition |= Q(mobile__contains=digits)
        return queryset.filter(condition)

    def filter_stage(self, queryset, name, value):
        field = next(stage.field for stage in FUNNEL_STAGES if stage.key == value)
        return queryset.filter(**{f"{field}__isnull": False})

    def filter_follow_up(self, queryset, name, value):
        today = timezone.localdate()
        if value == "overdue":
            return queryset.open().filter(next_follow_up_on__lt=today)
        return queryset.follow_up_due(today)

    def filter_referral(self, queryset, name, value):
        return queryset.filter(referrer__isnull=not value)


class ActivityFilter(BranchScopedFilterSet):
    class Meta:
        model = Activity
        fields = ["lead", "kind", "outcome", "by"]


class StockVehicleFilter(BranchScopedFilterSet):
    search = filters.CharFilter(method="filter_search", label=_("Search"))
    status = filters.MultipleChoiceFilter(choices=StockStatus.choices, label=_("Status"))
    min_days_in_stock = filters.NumberFilter(
        method="filter_days_in_stock", label=_("At least days in stock")
    )
    max_days_in_stock = filters.NumberFilter(
        method="filter_days_in_stock", label=_("At most days in stock")
    )

    class Meta:
        model = StockVehicle
        fields = ["branch", "brand", "series", "model_year"]

    def filter_search(self, queryset, name, value):
        """The end of the VIN (6+ characters) or part of the series."""
        term = value.strip()
        if not term:
            return queryset
        condition = Q(series__icontains=term)
        compact = term.replace(" ", "").upper()
        if VIN_TAIL.match(compact):
            condition |= Q(vin__endswith=compact)
        return queryset.filter(condition)

    def filter_days_in_stock(self, queryset, name, value):
        if "days_in_stock" not in queryset.query.annotations:
            queryset = queryset.with_days_in_stock()
        lookup = "gte" if name == "min_days_in_stock" else "lte"
        return queryset.filter(**{f"days_in_stock__{lookup}": value})


class TestDriveFilter(BranchScopedFilterSet):
    date = LocalDayFilter(field_name="starts_at", label=_("Date"))

    class Meta:
        model = TestDrive
        fields = ["status", "demo_vehicle", "lead", "consultant", "branch"]


class TradeInFilter(BranchScopedFilterSet):
    class Meta:
        model = TradeIn
        fields = ["lead", "decision", "appraised_by", "branch"]


class QuoteFilter(BranchScopedFilterSet):
    class Meta:
        model = Quote
        fields = ["status", "consultant", "lead", "needs_approval", "branch"]


class QuoteApprovalFilter(BranchScopedFilterSet):
    class Meta:
        model = QuoteApproval
        fields = ["quote", "decision", "by"]


class OrderFilter(BranchScopedFilterSet):
    search = filters.CharFilter(
        field_name="customer__name", lookup_expr="icontains", label=_("Customer name")
    )
    status = filters.MultipleChoiceFilter(choices=OrderStatus.choices, label=_("Status"))
    fleet_order = filters.NumberFilter(label=_("Fleet batch"))
    # The orders handed over in a period (the deliveries figure's drill-down).
    delivered_after = filters.DateFilter(
        field_name="delivery__delivered_on", lookup_expr="gte", label=_("Delivered on or after")
    )
    delivered_before = filters.DateFilter(
        field_name="delivery__delivered_on", lookup_expr="lte", label=_("Delivered on or before")
    )

    class Meta:
        model = Order
        fields = ["consultant", "customer", "lead", "branch"]


class PaymentFilter(BranchScopedFilterSet):
    class Meta:
        model = Payment
        fields = ["order", "kind", "method"]


class DeliveryFilter(BranchScopedFilterSet):
    delivered_on = filters.DateFromToRangeFilter(label=_("Delivered on"))

    class Meta:
        model = Delivery
        fields = ["order", "delivered_by"]


class ShowroomTrafficFilter(BranchScopedFilterSet):
    # ?day_after=2026-11-01&day_before=2026-11-30, both days included.
    day = filters.DateFromToRangeFilter(label=_("Day"))

    class Meta:
        model = ShowroomTraffic
        fields = ["branch"]


class LeadDeadlineBreachFilter(BranchScopedFilterSet):
    class Meta:
        model = LeadDeadlineBreach
        fields = ["lead", "kind"]
