"""In-app notifications: services and jobs tell people something, once per key."""

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from .choices import Role
from .errors import DomainError
from .models import Branch, Notification


@transaction.atomic
def notify(
    *,
    recipients: Iterable[User],
    key: str,
    title: str,
    body: str = "",
    url: str = "",
    branch: Branch | None = None,
) -> int:
    """Give each recipient one notification under `key`; a recipient who already has it
    gets nothing new, so a job may rerun freely. Returns how many were created."""
    recipient_ids = {user.pk for user in recipients}
    already = set(
        Notification.objects.filter(recipient_id__in=recipient_ids, key=key).values_list(
            "recipient_id", flat=True
        )
    )
    # A long lead or customer name must not make the caller's whole transaction fail.
    title = Truncator(title).chars(Notification._meta.get_field("title").max_length)
    body = Truncator(body).chars(Notification._meta.get_field("body").max_length)
    new = [
        Notification(
            recipient_id=recipient_id, branch=branch, key=key, title=title, body=body, url=url
        )
        # In id order, so two runs inserting the same rows wait on each other, not deadlock.
        for recipient_id in sorted(recipient_ids - already)
    ]
    # The unique (recipient, key) constraint settles a race with a concurrent run of the
    # same job; only then may the count include a row the other run inserted first.
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


@transaction.atomic
def notification_mark_read(*, notification: Notification, by: User) -> Notification:
    """Mark one of `by`'s own notifications read; reading it again keeps the first time."""
    if notification.recipient_id != by.pk:
        raise DomainError("notification_not_yours", _("This notification is not addressed to you."))
    now = timezone.now()
    if Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now):
        notification.read_at = now
    else:
        notification.refresh_from_db(fields=["read_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read; returns how many were unread."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def unread_count(user: User) -> int:
    # Served by the partial index notification_unread (recipient, unread only).
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def branch_managers(branch: Branch) -> QuerySet[User]:
    """Active sales and branch managers working in the branch: who hears of its escalations."""
    return (
        User.objects.filter(
            is_active=True,
            staff__branches=branch,
            groups__name__in=[Role.SALES_MANAGER, Role.BRANCH_MANAGER],
        )
        .distinct()
        .order_by("username")
    )
