"""Campaign (关怀活动) forms: a draft campaign's fields, and one more customer given the offer,
found by the picker. Field checks only; the services decide what is allowed (the dates, the
consent, the state). The lists' filters are in ..filters."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.forms import DATE_INPUT
from customers.models import Customer
from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import Branch
from parts.forms.ordering import customer_label

from ..choices import OfferKind, TargetSegment
from ..services import CAMPAIGN_FIELDS
from .complaints import CustomerPickerMixin

# --- A draft campaign ----------------------------------------------------------------------


class CampaignForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    segment = forms.ChoiceField(
        label=_("target segment"), choices=[("", "---------"), *TargetSegment.choices]
    )
    offer = forms.ChoiceField(
        label=_("offer package"), choices=[("", "---------"), *OfferKind.choices]
    )
    message = forms.CharField(
        label=_("message to the customer"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent with the offer's code and its last day, through the customer's channel."),
    )
    starts_on = forms.DateField(label=_("starts on"), widget=DATE_INPUT)
    ends_on = forms.DateField(
        label=_("offers valid until"),
        widget=DATE_INPUT,
        help_text=_("The last day an offer is redeemed at a settlement."),
    )
    target_rate = forms.DecimalField(
        label=_("target redemption rate (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        widget=forms.NumberInput(attrs={"step": "0.1", "min": "0", "max": "100"}),
        help_text=_("The share of the offers the branch expects redeemed."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["placeholder"] = _("e.g. Come back for maintenance")
        self.fields["message"].widget.attrs["placeholder"] = _(
            "e.g. We have missed you: book your next maintenance with us."
        )

    def name_fields(self) -> list:
        return [self["name"]]

    def message_fields(self) -> list:
        return [self["message"]]

    def date_fields(self) -> list:
        return [self["starts_on"], self["ends_on"], self["target_rate"]]

    def service_data(self) -> dict:
        data = {field: self.cleaned_data[field] for field in CAMPAIGN_FIELDS}
        data["name"], data["message"] = data["name"].strip(), data["message"].strip()
        return data


# --- One more customer given the offer -----------------------------------------------------


class AssignForm(CustomerPickerMixin, BootstrapFormMixin, forms.Form):
    """Any active customer of the campaign's branch may be chosen; the service refuses one
    who has not agreed to marketing, so the refusal is shown rather than hidden."""

    customer = forms.ModelChoiceField(label=_("customer"), queryset=Customer.objects.none())

    def __init__(self, *args, branch: Branch, **kwargs):
        super().__init__(*args, prefix="assign", **kwargs)
        offered = self.offer_customers(branch)
        if offered is not None:
            self.fields["customer"].widget.choices = [
                ("", "---------"),
                (offered.pk, picker_label(offered)),
            ]


def picker_label(customer: Customer) -> str:
    """The customer as the picker shows them, marked when they have not agreed to marketing."""
    if customer.marketing_consent:
        return customer_label(customer)
    return f"{customer_label(customer)} · {_('no marketing consent')}"
