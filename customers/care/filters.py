"""One FilterSet per model, shared by the customer-care pages, the API and the selectors."""

import re

import django_filters as filters
from django import forms
from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.choices import VehicleAgeSegment
from customers.filters import customer_search_condition
from customers.models import Customer
from dealer_crm.filters import (
    BranchScopedFilterSet,
    LocalDayFilter,
    OneOrManyChoiceFilter,
    YesNoSelect,
    number_pk,
)
from dealer_crm.models import Branch, display_name

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

# --- What several lists share ---------------------------------------------------------------


def customer_filter() -> filters.ModelChoiceFilter:
    """One customer of yours, by id (the links from a customer); another's is refused."""
    return filters.ModelChoiceFilter(
        queryset=Customer.objects.all(), widget=forms.HiddenInput, label=_("Customer")
    )


def branch_filter() -> filters.ModelChoiceFilter:
    """The customer's branch."""
    return filters.ModelChoiceFilter(
        field_name="customer__branch",
        queryset=Branch.objects.order_by("code"),
        empty_label=_("All"),
        label=_("Branch"),
    )


def own_branch_filter() -> filters.ModelChoiceFilter:
    """The record's own branch (the pages show the select to a person of several branches)."""
    return filters.ModelChoiceFilter(
        queryset=Branch.objects.order_by("code"), empty_label=_("All"), label=_("Branch")
    )


# --- Follow-up calls, complaints, inquiries ---------------------------------------------------


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
    """Shared by the complaint list and the API: `?search=` a complaint number (CP00012, 12)
    or part of the customer's name, `?status=` and `?severity=` (several), `?category=` and
    `?channel=` (one in the page's select, several through the API), `?owner=`,
    `?overdue=true|false`, `?escalated=true|false`, the day received
    (`?received_after=&received_before=`, or `?received_at_after=&received_at_before=`),
    `?customer=<id>`, `?branch=`."""

    search = filters.CharFilter(method="filter_search", max_length=60, label=_("Search"))
    status = filters.MultipleChoiceFilter(choices=ComplaintStatus.choices, label=_("Status"))
    severity = filters.MultipleChoiceFilter(choices=Severity.choices, label=_("Severity"))
    category = OneOrManyChoiceFilter(
        choices=ComplaintCategory.choices, label=pgettext_lazy("customer care", "Category")
    )
    channel = OneOrManyChoiceFilter(choices=ComplaintChannel.choices, label=_("Channel"))
    owner = filters.ModelChoiceFilter(
        queryset=User.objects.order_by("first_name", "username"),
        empty_label=_("Anyone"),
        label=_("Handled by"),
    )
    overdue = filters.BooleanFilter(
        method="filter_overdue", widget=YesNoSelect(), label=_("Overdue")
    )
    escalated = filters.BooleanFilter(
        method="filter_escalated", widget=YesNoSelect(), label=_("Escalated")
    )
    # The list's two date boxes; the same days as received_at_after / _before, which API
    # clients and the after-sales report's links send.
    received_after = LocalDayFilter(
        field_name="received_at", lookup_expr="gte", label=_("Received on or after")
    )
    received_before = LocalDayFilter(
        field_name="received_at", lookup_expr="lte", label=_("Received on or before")
    )
    received_at = filters.DateFromToRangeFilter(label=_("Received"))
    customer = customer_filter()
    branch = own_branch_filter()

    class Meta:
        model = Complaint
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["owner"].label_from_instance = display_name
        for name in ("received_after", "received_before"):
            self.form.fields[name].widget.input_type = "date"

    def filter_search(self, queryset, name, value):
        """The complaint number (CP00012, cp12 or 12), or part of the customer's name."""
        term = value.strip()
        if not term:
            return queryset
        condition = Q(customer__name__icontains=term)
        number = number_pk(term, Complaint.number_prefix)
        if number is not None:
            condition |= Q(pk=number)
        return queryset.filter(condition)

    def filter_overdue(self, queryset, name, value):
        overdue = complaint_overdue(timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_escalated(self, queryset, name, value):
        if value:
            return queryset.filter(escalation_level__gt=0)
        return queryset.filter(escalation_level=0)


class InquiryFilter(BranchScopedFilterSet):
    """Shared by the inquiry list and the API: `?search=` part of the customer's name or of
    what they asked or proposed, `?kind=`, `?channel=` (several), `?answered=true|false`,
    `?received_at_after=&received_at_before=`, `?customer=<id>`, `?recorded_by=`, `?branch=`."""

    search = filters.CharFilter(method="filter_search", max_length=60, label=_("Search"))
    kind = filters.ChoiceFilter(choices=InquiryKind.choices, empty_label=_("All"), label=_("Kind"))
    channel = filters.MultipleChoiceFilter(choices=ComplaintChannel.choices, label=_("Channel"))
    answered = filters.BooleanFilter(
        field_name="answered_at",
        lookup_expr="isnull",
        exclude=True,
        widget=YesNoSelect(yes=_("Answered"), no=_("Unanswered")),
        label=_("Answered"),
    )
    received_at = filters.DateFromToRangeFilter(label=_("Received"))
    customer = customer_filter()
    branch = own_branch_filter()

    class Meta:
        model = Inquiry
        fields = ["recorded_by"]

    def filter_search(self, queryset, name, value):
        """Part of the customer's name or of what they asked or proposed."""
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(Q(customer__name__icontains=term) | Q(subject__icontains=term))


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
        if term.isascii() and term.isdigit():
            condition |= Q(customer__mobile__contains=term)
        return queryset.filter(condition)


# --- Campaigns, offers, loyalty points --------------------------------------------------------


def offer_code(value: str) -> str:
    """A code as the customer reads it out (any case, spaces ignored) as it is stored."""
    return re.sub(r"\s", "", value).upper()


class CampaignFilter(BranchScopedFilterSet):
    """Shared by the campaign list and the API: `?status=` (several), `?segment=`, `?offer=`,
    `?branch=`, `?search=` part of the name or the number (CA00012, ca12 or 12)."""

    search = filters.CharFilter(method="filter_search", max_length=60, label=_("Search"))
    status = filters.MultipleChoiceFilter(choices=CampaignStatus.choices, label=_("Status"))
    segment = filters.ChoiceFilter(
        choices=TargetSegment.choices, empty_label=_("All"), label=_("Target segment")
    )
    offer = filters.ChoiceFilter(
        choices=OfferKind.choices, empty_label=_("All"), label=_("Offer package")
    )
    branch = own_branch_filter()

    class Meta:
        model = Campaign
        fields = []

    def filter_search(self, queryset, name, value):
        """Part of the campaign's name, or its number."""
        term = value.strip()
        if not term:
            return queryset
        condition = Q(name__icontains=term)
        number = number_pk(term, Campaign.number_prefix)
        if number is not None:
            condition |= Q(pk=number)
        return queryset.filter(condition)


class OfferFilter(BranchScopedFilterSet):
    """Shared by a campaign's offers and the API: `?campaign=`, `?status=` (one in the page's
    select, several through the API), `?customer=`, `?work_order=`, `?code=` (exact, any
    case, spaces ignored), `?search=` a code or part of the customer's name."""

    search = filters.CharFilter(method="filter_search", max_length=60, label=_("Search"))
    code = filters.CharFilter(method="filter_code", max_length=20, label=_("Code"))
    status = OneOrManyChoiceFilter(choices=OfferStatus.choices, label=_("Status"))
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
        """The offer's code (any case, spaces ignored), or part of the customer's name."""
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(Q(code=offer_code(term)) | Q(customer__name__icontains=term))


class LoyaltyAccountFilter(BranchScopedFilterSet):
    """Shared by the loyalty accounts list and the API: `?customer=`, `?branch=`, `?search=`
    the customers' one search box (part of a name, phone digits, a plate or a VIN's end)."""

    search = filters.CharFilter(method="filter_search", max_length=60, label=_("Search"))
    customer = customer_filter()
    branch = branch_filter()

    class Meta:
        model = LoyaltyAccount
        fields = []

    def filter_search(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(
            customer__in=Customer.objects.filter(customer_search_condition(value)).values("pk")
        )
