"""Reminder pages: the reminders the daily job made (maintenance, insurance, inspection,
warranty, birthday, holiday), each with the day it goes out and what became of its message;
and the log of every message sent or withheld, with its text and the reason it was not
delivered. Read-only: the job makes and sends them. Both lists grow every day, so their
counts are capped and their queries do not grow with the page."""

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.utils import timezone

from dealer_crm.pages import COUNT_CAP, CappedPaginator, apply_filters
from dealer_crm.scoping import branch_ids_for

from ..choices import Channel, MessageStatus, ReminderKind
from ..filters import MessageFilter, ReminderFilter
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
    filterset, reminders, context = _filtered(request, ReminderFilter, reminders)
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
            "capped": page.paginator.count >= COUNT_CAP,
            "kinds": ReminderKind.choices,
            "chosen_kinds": request.GET.getlist("kind"),
            "today": timezone.localdate(),
            **context,
        },
    )


@login_required
@permission_required("care.view_message", raise_exception=True)
def message_list(request):
    messages = Message.objects.for_user(request.user).select_related(
        "customer__branch", "reminder__vehicle"
    )
    filterset, messages, context = _filtered(request, MessageFilter, messages)
    page = _page(request, messages.order_by("-sent_at", "-pk"))
    for message in page.object_list:
        message.badge = STATUS_BADGES[message.status]
    return render(
        request,
        "care/message_list.html",
        {
            "filterset": filterset,
            "page": page,
            "capped": page.paginator.count >= COUNT_CAP,
            "channels": Channel.choices,
            "chosen_channels": request.GET.getlist("channel"),
            "statuses": MessageStatus.choices,
            "chosen_statuses": request.GET.getlist("status"),
            **context,
            "show_pii": _show_pii(request, [message.customer_id for message in page.object_list]),
        },
    )
