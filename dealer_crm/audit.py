"""Audit history (django-simple-history) turned into rows a person can read on a record page."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import display_name
from .pii import mask_id_number, mask_phone

HISTORY_LIMIT = 50
CHANGE_TYPES = {"+": "created", "~": "changed", "-": "deleted"}
# Fields shown masked in history for users who may not see personal data.
MASKED_FIELDS = {
    "mobile": mask_phone,
    "mobile_2": mask_phone,
    "landline": mask_phone,
    "phone": mask_phone,
    "id_number": mask_id_number,
}


@dataclass
class HistoryEntry:
    at: datetime
    user: str
    change: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)


def attribute_to(instance: models.Model, by, reason: str = "") -> models.Model:
    """Name who makes the next saved change. Pages and the API are attributed by the history
    middleware; services also run from jobs, imports and commands, where there is no request."""
    instance._history_user = by if by is not None and by.is_authenticated else None
    if reason:
        instance._change_reason = reason
    return instance


def _display(value, field: models.Field, masker, show_pii: bool) -> str:
    """A stored value as a reader knows it: a choice's label, a local time, a masked phone."""
    if value in (None, "", []):
        return "—"
    if field.choices:
        labels = dict(field.flatchoices)
        values = value if isinstance(value, list) else [value]
        return ", ".join(str(labels.get(item, item)) for item in values)
    if isinstance(value, datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    return masker(str(value)) if masker and not show_pii else str(value)


def history_entries(
    instance: models.Model, *, show_pii: bool, limit: int = HISTORY_LIMIT
) -> list[HistoryEntry]:
    """Newest first: who, when, and for each change the field with its old and new value."""
    records = list(instance.history.select_related("history_user")[: limit + 1])
    model = type(instance)
    entries = []
    for record, previous in zip(records, records[1:] + [None], strict=False):
        if len(entries) == limit:
            break
        entry = HistoryEntry(
            at=record.history_date,
            user=display_name(record.history_user) if record.history_user else _("system"),
            change=CHANGE_TYPES.get(record.history_type, record.history_type),
        )
        if previous is not None and record.history_type == "~":
            for change in record.diff_against(previous).changes:
                masker = MASKED_FIELDS.get(change.field)
                field = model._meta.get_field(change.field)
                entry.changes.append(
                    (
                        str(field.verbose_name),
                        _display(change.old, field, masker, show_pii),
                        _display(change.new, field, masker, show_pii),
                    )
                )
        entries.append(entry)
    return entries
