"""Personal data: phone and ID numbers are masked unless the user may see them, and every
unmasked view is logged."""

from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser, User

from .choices import PiiChannel
from .models import PiiAccess

VIEW_PII = "customers.view_pii"


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678; short numbers keep only their last two digits."""
    if not value:
        return value
    if len(value) >= 8:
        return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"
    return "*" * (len(value) - 2) + value[-2:]


def mask_id_number(value: str) -> str:
    """Resident ID and similar: the first 3 and last 4 characters stay."""
    if not value:
        return value
    return (
        f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}" if len(value) > 7 else "*" * len(value)
    )


def can_view_pii(user: User | AnonymousUser) -> bool:
    return user.is_authenticated and user.has_perm(VIEW_PII)


def pii_access_log(
    *,
    user: User,
    channel: PiiChannel,
    path: str,
    customer_ids: Iterable[int] = (),
    lead_ids: Iterable[int] = (),
) -> None:
    """One row per customer or sales lead shown unmasked, written in one query."""
    rows = [
        PiiAccess(user=user, customer_id=pk, channel=channel, path=path[:300])
        for pk in set(customer_ids)
    ] + [PiiAccess(user=user, lead_id=pk, channel=channel, path=path[:300]) for pk in set(lead_ids)]
    PiiAccess.objects.bulk_create(rows)
