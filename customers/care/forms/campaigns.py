"""Campaign (关怀活动) forms: the filters of the campaign list and of a campaign's offers, a
draft campaign's fields, and one more customer given the offer, found by the picker. Field
checks only; the services decide what is allowed (the dates, the consent, the state)."""

from decimal import Decimal

import django_filters as filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.forms import DATE_INPUT
from customers.models import Customer
from dealer_crm.filters import BranchScopedFilterSet
from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import Branch
from parts.forms.ordering import customer_label, plain_id

from ..choices import CampaignStatus, OfferKind, OfferStatus, TargetSegment
from ..models import Campaign, Offer
from ..services import CAMPAIGN_FIELDS
from .complaints import CustomerPickerMixin

# --- Filters -------------------------------------------------------------------------------


def campaign_number_pk(term: str) -> int | None:
    """The record a typed campaign number stands for: CA00012, ca12 or 12 → 12."""
    digits = plain_id(term.strip().upper().removeprefix(Campaign.number_prefix))
    return int(digits) if digits else None


class CampaignFilter(BranchScopedFilterSet):
    search = filters.CharFilter(method="filter_search", max_length=60, label=_("Search"))
    status = filters.MultipleChoiceFilter(choices=CampaignStatus.choices, label=_("Status"))
    segment = filters.ChoiceFilter(
        choices=TargetSegment.choices, empty_label=_("All"), label=_("Target segment")
    )
    offer = filters.ChoiceFilter(
        choices=OfferKind.choices, empty_label=_("All"), label=_("Offer package")
    )
    branch = filters.ModelChoiceFilter(
        queryset=Branch.objects.order_by("code"), empty_label=_("All"), label=_("Branch")
    )

    class Meta:
        model = Campaign
        fields = []

    def filter_search(self, queryset, name, value):
        """Part of the campaign's name, or its number."""
        term = value.strip()
        if not term:
            return queryset
        condition = Q(name__icontains=term)
        number = campaign_number_pk(term)
        if number is not None:
            condition |= Q(pk=number)
        return queryset.filter(condition)


class OfferFilter(BranchScopedFilterSet):
    search = filters.CharFilter(method="filter_search", max_length=60, label=_("Search"))
    status = filters.ChoiceFilter(
        choices=OfferStatus.choices, empty_label=_("All"), label=_("Status")
    )

    class Meta:
        model = Offer
        fields = []

    def filter_search(self, queryset, name, value):
        """The offer's code (any case, spaces ignored) or part of the customer's name."""
        term = value.strip()
        if not term:
            return queryset
        code = "".join(term.split()).upper()
        return queryset.filter(Q(code=code) | Q(customer__name__icontains=term))


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
