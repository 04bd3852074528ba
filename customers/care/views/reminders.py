"""Reminder pages: the reminders the daily job made (maintenance, insurance, inspection,
warranty, birthday, holiday), each with the day it goes out and what became of its message;
and the log of every message sent or withheld, with its text and the reason it was not
delivered. Read-only: the job makes and sends them. Both lists grow every day, so their
counts are capped and their queries do not grow with the page."""

import django_filters as filters
from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from dealer_crm.filters import BranchScopedFilterSet, LocalDayFilter
from dealer_crm.models import Branch
from dealer_crm.pages import apply_filters
from dealer_crm.scoping import branch_ids_for
from parts.views.stock import MOVE_COUNT_CAP, CappedPaginator

from ..choices import Channel, MessageStatus, ReminderKind
from ..models import Message, Reminder
from .calls import _show_pii

PAGE_SIZE = 25
# The colour of a message's status badge.
STATUS_BADGES = {
    MessageStatus.SENT: "text-bg-success",
    MessageStatus.FAILED: "text-bg-danger",
    MessageStatus.NO_CONSENT: "text-bg-warning",
    MessageStatus.NO_ADDRESS: "text-bg-warning",
}
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
        label=_("Message"),
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


def _page(request, queryset):
    """A page of a list that grows every day, counted no further than the cap."""
    return CappedPaginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _filtered(request, filterset_class, queryset) -> tuple:
    """The list's filters applied; the branch filter only for those who see several, and
    the customer a `?customer=` link narrows the list to."""
    filterset, queryset = apply_filters(request, filterset_class, queryset)
    many_branches = len(branch_ids_for(request.user)) > 1
    if not many_branches:
        del filterset.form.fields["branch"]
    valid = filterset.is_bound and filterset.is_valid()
    customer = filterset.form.cleaned_data.get("customer") if valid else None
    return filterset, queryset, {"many_branches": many_branches, "customer": customer}


@login_required
@permission_required("care.view_reminder", raise_exception=True)
def reminder_list(request):
    reminders = Reminder.objects.for_user(request.user).select_related(
        "customer__branch", "vehicle", "message"
    )
    filterset, reminders, shown = _filtered(request, ReminderFilter, reminders)
    page = _page(request, reminders.order_by("-due_on", "-pk"))
    for reminder in page.object_list:
        message = getattr(reminder, "message", None)
        if message is not None:
            message.badge = STATUS_BADGES[message.status]
    return render(
        request,
        "care/reminder_list.html",
        {
            "filterset": filterset,
            "page": page,
            "capped": page.paginator.count >= MOVE_COUNT_CAP,
            "kinds": ReminderKind.choices,
            "chosen_kinds": request.GET.getlist("kind"),
            "today": timezone.localdate(),
            **shown,
        },
    )


@login_required
@permission_required("care.view_message", raise_exception=True)
def message_list(request):
    messages = Message.objects.for_user(request.user).select_related(
        "customer__branch", "reminder__vehicle"
    )
    filterset, messages, shown = _filtered(request, MessageFilter, messages)
    page = _page(request, messages.order_by("-sent_at", "-pk"))
    for message in page.object_list:
        message.badge = STATUS_BADGES[message.status]
    return render(
        request,
        "care/message_list.html",
        {
            "filterset": filterset,
            "page": page,
            "capped": page.paginator.count >= MOVE_COUNT_CAP,
            "channels": Channel.choices,
            "chosen_channels": request.GET.getlist("channel"),
            "statuses": MessageStatus.choices,
            "chosen_statuses": request.GET.getlist("status"),
            **shown,
            "show_pii": _show_pii(request, [message.customer_id for message in page.object_list]),
        },
    )
