"""The customer timeline's kinds. Each app registers the kinds of entry it adds: a label, and
optionally how to show the stored detail, both rendered in the reader's language."""

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class TimelineKind:
    label: Promise
    show_detail: Callable[[str], str] | None = None


TIMELINE_KINDS: dict[str, TimelineKind] = {}


def timeline_kind_register(
    kind: str, label: Promise, show_detail: Callable[[str], str] | None = None
) -> str:
    TIMELINE_KINDS[kind] = TimelineKind(label, show_detail)
    return kind


def timeline_kind_label(kind: str) -> str:
    registered = TIMELINE_KINDS.get(kind)
    return str(registered.label) if registered else kind


def timeline_detail(kind: str, detail: str) -> str:
    registered = TIMELINE_KINDS.get(kind)
    if registered and registered.show_detail and detail:
        return registered.show_detail(detail)
    return detail


def customer_field_labels(detail: str) -> str:
    """The detail of an edit is the changed field names; readers see their labels."""
    fields = {field.name: field for field in apps.get_model("customers", "Customer")._meta.fields}
    names = [name.strip() for name in detail.split(",")]
    return ", ".join(str(fields[n].verbose_name) if n in fields else n for n in names)


CUSTOMER_CREATED = timeline_kind_register("customer_created", _("Customer created"))
CUSTOMER_EDITED = timeline_kind_register(
    "customer_edited", _("Details edited"), customer_field_labels
)
VEHICLE_ADDED = timeline_kind_register("vehicle_added", _("Vehicle added"))
OWNERSHIP_CHANGED = timeline_kind_register("ownership_changed", _("Vehicle ownership changed"))
CUSTOMERS_MERGED = timeline_kind_register("customers_merged", _("Merged with a duplicate"))
