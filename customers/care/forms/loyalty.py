"""Loyalty points forms: points redeemed for what the customer was given, and a branch's
rules. Field checks only; the services decide what is allowed. The accounts list's filter is
in ..filters."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import Branch
from dealer_crm.scoping import branch_ids_for

from ..models import LoyaltyRule

RULE_FIELDS = ("purchase_points", "service_points", "referral_points")


class RedeemForm(BootstrapFormMixin, forms.Form):
    # Not required: an empty or non-positive number is the service's refusal, beside the field.
    points = forms.IntegerField(label=_("points to redeem"), required=False)
    note = forms.CharField(
        label=_("what the customer was given"),
        max_length=200,
        required=False,
        help_text=_("For example: a car wash, a can of engine oil, a gift package."),
    )

    def __init__(self, *args, balance: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["points"].widget.attrs.update({"min": 1, "max": max(balance, 1)})


def _rule_field(name: str) -> forms.IntegerField:
    """A rule's number, labelled as the model names it; its bounds are the service's to check."""
    return forms.IntegerField(
        label=LoyaltyRule._meta.get_field(name).verbose_name,
        widget=forms.NumberInput(attrs={"min": 0}),
    )


class LoyaltyRuleForm(BootstrapFormMixin, forms.Form):
    """The branch's rules; the branch is one of the user's, picked on the page."""

    branch = forms.ModelChoiceField(
        queryset=Branch.objects.none(), widget=forms.HiddenInput, label=_("branch")
    )
    purchase_points = _rule_field("purchase_points")
    service_points = _rule_field("service_points")
    referral_points = _rule_field("referral_points")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.filter(pk__in=branch_ids_for(user))

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in RULE_FIELDS}
