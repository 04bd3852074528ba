"""The timeline kinds customer care adds to a customer's page."""

from django.utils.translation import gettext_lazy as _

from customers.timeline import timeline_kind_register

COMPLAINT_RECEIVED = timeline_kind_register("complaint_received", _("Complaint received"))
COMPLAINT_RESOLVED = timeline_kind_register("complaint_resolved", _("Complaint resolved"))
COMPLAINT_CLOSED = timeline_kind_register(
    "complaint_closed", _("Complaint closed with the customer")
)
CALL_DONE = timeline_kind_register("follow_up_call", _("Follow-up call"))
INQUIRY = timeline_kind_register("inquiry", _("Inquiry"))
SUGGESTION = timeline_kind_register("suggestion", _("Suggestion"))
OFFER_SENT = timeline_kind_register("offer_sent", _("Campaign offer sent"))
OFFER_REDEEMED = timeline_kind_register("offer_redeemed", _("Campaign offer redeemed"))
POINTS_REDEEMED = timeline_kind_register("points_redeemed", _("Loyalty points redeemed"))
