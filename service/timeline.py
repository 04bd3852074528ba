"""The entries the service department adds to a customer's timeline."""

from django.utils.translation import gettext_lazy as _

from customers.timeline import timeline_kind_register

from .choices import ServiceType


def visit_detail(detail: str) -> str:
    """A closed work order, stored as "RO00012|repair|30000", shown in the reader's language."""
    number, service_type, km = (detail.split("|") + ["", ""])[:3]
    label = ServiceType(service_type).label if service_type in ServiceType.values else ""
    return " · ".join(part for part in (number, str(label), f"{km} km" if km else "") if part)


WORK_ORDER_CLOSED = timeline_kind_register("work_order_closed", _("Service visit"), visit_detail)
