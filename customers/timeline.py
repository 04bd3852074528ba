"""The customer timeline's kinds. Each app registers the kinds of entry it adds, with a label
translated when the timeline is shown."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

TIMELINE_KINDS: dict[str, Promise] = {}


def timeline_kind_register(kind: str, label: Promise) -> str:
    TIMELINE_KINDS[kind] = label
    return kind


def timeline_kind_label(kind: str) -> str:
    return str(TIMELINE_KINDS.get(kind, kind))


CUSTOMER_CREATED = timeline_kind_register("customer_created", _("Customer created"))
CUSTOMER_EDITED = timeline_kind_register("customer_edited", _("Details edited"))
VEHICLE_ADDED = timeline_kind_register("vehicle_added", _("Vehicle added"))
OWNERSHIP_CHANGED = timeline_kind_register("ownership_changed", _("Vehicle ownership changed"))
CUSTOMERS_MERGED = timeline_kind_register("customers_merged", _("Merged with a duplicate"))
