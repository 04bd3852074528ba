"""One FilterSet per model, shared by the customer-care pages, the API and the selectors."""

import re

import django_filters as filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.choices import VehicleAgeSegment
from customers.models import Customer
from dealer_crm.filters import BranchScopedFilterSet, LocalDayFilter
from dealer_crm.models import Branch

from .choices import (
    AbnormalReason,
    CallReason,
    CallStatus,
    CampaignStatus,
    Channel,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    InquiryKind,
    Lifecycle,
    MessageStatus,
    OfferKind,
    OfferStatus,
    ReminderKind,
    Severity,
    TargetSegment,
)
from .models import (
    Campaign,
    Complaint,
    CustomerSegment,
    FollowUpCall,
    Inquiry,
    LoyaltyAccount,
    Message,
    Offer,
    Reminder,
)


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


# What became of a reminder: not sent yet, or its message's fate.
REMINDER_STATES = {
    "waiting": (_("Waiting to be sent"), Q(message__isnull=True)),
    "sent": (_("Sent"), Q(message__status=MessageStatus.SENT)),
    "failed": (_("Failed"), Q(message__status=MessageStatus.FAILED)),
    "withheld": (
        _("Withheld (no consent or no address)"),
        Q(message__status__in=[MessageStatus.NO_CONSENT, MessageStatus.NO_ADDRESS]),
    ),
}


def customer_filter() -> filters.ModelChoiceFilter:
    """One customer of yours, by id (the links from a customer); another's is refused."""
    return filters.ModelChoiceFilter(
        queryset=Customer.objects.all(), widget=forms.HiddenInput, label=_("Customer")
    )


def branch_filter() -> filters.ModelChoiceFilter:
    return filters.ModelChoiceFilter(
        field_name="customer__branch",
        queryset=Branch.objects.order_by("code"),
        empty_label=_("All"),
        label=_("Branch"),
    )


class ReminderFilter(BranchScopedFilterSet):
    """Shared by the reminder list and the API: `?kind=`, `?due_on_after=&due_on_before=`,
    `?state=waiting|sent|failed|withheld`, `?customer=<id>`."""

    kind = filters.MultipleChoiceFilter(choices=ReminderKind.choices, label=_("Kind"))
    due_on = filters.DateFromToRangeFilter(label=_("Send on"))
    state = filters.ChoiceFilter(
        choices=[(key, label) for key, (label, _condition) in REMINDER_STATES.items()],
        method="filter_state",
        empty_label=_("All"),
        label=pgettext_lazy("reminder", "Message"),
    )
    customer = customer_filter()
    branch = branch_filter()

    class Meta:
        model = Reminder
        fields = []

    def filter_state(self, queryset, name, value):
        return queryset.filter(REMINDER_STATES[value][1])


class MessageFilter(BranchScopedFilterSet):
    """Shared by the message log and the API: `?channel=`, `?status=`,
    `?sent_after=&sent_before=` (days), `?search=` a customer's name or mobile,
    `?customer=<id>`."""

    channel = filters.MultipleChoiceFilter(choices=Channel.choices, label=_("Channel"))
    status = filters.MultipleChoiceFilter(choices=MessageStatus.choices, label=_("Status"))
    sent_after = LocalDayFilter(field_name="sent_at", lookup_expr="gte", label=_("Sent from"))
    sent_before = LocalDayFilter(field_name="sent_at", lookup_expr="lte", label=_("Sent to"))
    search = filters.CharFilter(method="filter_search", max_length=60, label=_("Customer"))
    customer = customer_filter()
    branch = branch_filter()

    class Meta:
        model = Message
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("sent_after", "sent_before"):
            self.form.fields[name].widget.input_type = "date"

    def filter_search(self, queryset, name, value):
        """Part of the customer's name, or of their mobile number."""
        term = value.strip()
        if not term:
            return queryset
        condition = Q(customer__name__icontains=term)
        if term.isdigit():
            condition |= Q(customer__mobile__contains=term)
        return queryset.filter(condition)


# --- Campaigns, offers, loyalty points --------------------------------------------------------


def offer_code(value: str) -> str:
    """A code as the customer reads it out (any case, spaces ignored) as it is stored."""
    return re.sub(r"\s", "", value).upper()


class CampaignFilter(BranchScopedFilterSet):
    """Shared by the campaign list and the API: `?status=`, `?segment=`, `?offer=`,
    `?branch=`, `?search=` part of the name or the number (CA00012)."""

    search = filters.CharFilter(method="filter_search", max_length=60, label=_("Search"))
    status = filters.MultipleChoiceFilter(choices=CampaignStatus.choices, label=_("Status"))
    segment = filters.ChoiceFilter(
        choices=TargetSegment.choices, empty_label=_("All"), label=_("Target segment")
    )
    offer = filters.ChoiceFilter(
        choices=OfferKind.choices, empty_label=_("All"), label=_("Offer package")
    )
    branch = filters.ModelChoiceFilter(
        queryset=Branch.objects.order_by("code"), empty_label=_("All"), label=_("Branch")
    )

    class Meta:
        model = Campaign
        fields = []

    def filter_search(self, queryset, name, value):
        """Part of the campaign's name, or its number (CA00012)."""
        term = value.strip()
        if not term:
            return queryset
        condition = Q(name__icontains=term)
        number = term.upper()
        if number.startswith(Campaign.number_prefix) and number[2:].isdigit():
            condition |= Q(pk=int(number[2:]))
        return queryset.filter(condition)


class OfferFilter(BranchScopedFilterSet):
    """Shared by a campaign's offers and the API: `?campaign=`, `?status=`, `?customer=`,
    `?work_order=`, `?code=` (exact, any case, spaces ignored), `?search=` a code or part of
    the customer's name."""

    search = filters.CharFilter(method="filter_search", max_length=60, label=_("Search"))
    code = filters.CharFilter(method="filter_code", max_length=20, label=_("Code"))
    status = filters.MultipleChoiceFilter(choices=OfferStatus.choices, label=_("Status"))
    campaign = filters.ModelChoiceFilter(
        queryset=Campaign.objects.all(), widget=forms.HiddenInput, label=_("Campaign")
    )
    customer = customer_filter()

    class Meta:
        model = Offer
        fields = ["work_order"]

    def filter_code(self, queryset, name, value):
        code = offer_code(value)
        return queryset.filter(code=code) if code else queryset

    def filter_search(self, queryset, name, value):
        """The offer's code, or part of the customer's name."""
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(Q(code=offer_code(term)) | Q(customer__name__icontains=term))


class LoyaltyAccountFilter(BranchScopedFilterSet):
    """Shared by the loyalty accounts list and the API: `?customer=`, `?search=` part of the
    customer's name (or their mobile number), `?branch=`."""

    search = filters.CharFilter(method="filter_search", max_length=60, label=_("Customer"))
    customer = customer_filter()
    branch = branch_filter()

    class Meta:
        model = LoyaltyAccount
        fields = []

    def filter_search(self, queryset, name, value):
        term = value.strip()
        if not term:
            return queryset
        condition = Q(customer__name__icontains=term)
        if term.isdigit():
            condition |= Q(customer__mobile__contains=term)
        return queryset.filter(condition)
