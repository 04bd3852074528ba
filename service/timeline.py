"""The entries the service department adds to a customer's timeline."""

from django.utils.translation import gettext_lazy as _

from customers.timeline import timeline_kind_register

WORK_ORDER_CLOSED = timeline_kind_register("work_order_closed", _("Service visit"))
