"""Audit history (django-simple-history) turned into rows a person can read on a record page."""

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import User
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
    "contact_phone": mask_phone,
    "caller_phone": mask_phone,
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


def _related_names(changes: list, model: type[models.Model]) -> dict:
    """{(field name, pk): name} for the records the changes point at, one query per field."""
    wanted: dict[str, set] = {}
    for change in changes:
        field = model._meta.get_field(change.field)
        if field.many_to_one or field.one_to_one:
            wanted.setdefault(change.field, set()).update(
                pk for pk in (change.old, change.new) if pk is not None
            )
    names = {}
    for name, pks in wanted.items():
        related = model._meta.get_field(name).related_model
        for obj in related._default_manager.filter(pk__in=pks):
            shown = display_name(obj) if isinstance(obj, User) else str(obj)
            names[(name, obj.pk)] = shown
    return names


def _display(value, field: models.Field, masker, show_pii: bool, names: dict) -> str:
    """A stored value as a reader knows it: a choice's label, a local time, a person's or a
    record's name, a masked phone."""
    if value in (None, "", []):
        return "—"
    if field.many_to_one or field.one_to_one:
        return names.get((field.name, value), f"#{value}")
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
            changes = record.diff_against(previous).changes
            names = _related_names(changes, model)
            for change in changes:
                masker = MASKED_FIELDS.get(change.field)
                field = model._meta.get_field(change.field)
                entry.changes.append(
                    (
                        str(field.verbose_name),
                        _display(change.old, field, masker, show_pii, names),
                        _display(change.new, field, masker, show_pii, names),
                    )
                )
        entries.append(entry)
    return entries
