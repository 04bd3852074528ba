"""The entries the sales funnel adds to a customer's timeline."""

from django.utils.translation import gettext_lazy as _

from customers.timeline import timeline_kind_register

LEAD_LINKED = timeline_kind_register("lead_linked", _("Sales lead linked"))
TEST_DRIVE_DONE = timeline_kind_register("test_drive_done", _("Test drive"))
QUOTE_SENT = timeline_kind_register("quote_sent", _("Quote sent"))
ORDER_SIGNED = timeline_kind_register("order_signed", _("Purchase agreement signed"))
ORDER_CANCELLED = timeline_kind_register("order_cancelled", _("Order cancelled"))
VEHICLE_DELIVERED = timeline_kind_register("vehicle_delivered", _("Vehicle delivered"))
