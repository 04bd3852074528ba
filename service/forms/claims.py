"""Warranty (索赔) and insurance (保险理赔) claim forms: the claim as filed from a work order, and
the steps with the manufacturer or the insurer. Field checks only; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.forms import DATE_INPUT
from dealer_crm.forms import BootstrapFormMixin
from parts.models import Part

from ..models import InsuranceClaim

MONEY_INPUT = forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"})


def money_input_field(label, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, max_digits=12, decimal_places=2, min_value=0, widget=MONEY_INPUT, **kwargs
    )


class WarrantyClaimForm(BootstrapFormMixin, forms.Form):
    failed_part_number = forms.CharField(label=_("failed part number"), max_length=40)
    cause = forms.CharField(
        label=_("cause"), max_length=300, widget=forms.Textarea(attrs={"rows": 3})
    )
    labour_amount = money_input_field(_("labour claimed (CNY)"))
    parts_amount = money_input_field(_("parts claimed (CNY)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["failed_part_number"].widget.attrs.update(
            {"autocomplete": "off", "placeholder": _("e.g. 06H905601A")}
        )

    def clean_failed_part_number(self) -> Part:
        number = self.cleaned_data["failed_part_number"].strip().upper()
        part = Part.objects.filter(number__iexact=number).first()
        if part is None:
            raise forms.ValidationError(
                _("No part %(number)s in the catalogue."), params={"number": number}
            )
        return part

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "failed_part": data["failed_part_number"],
            "cause": data["cause"].strip(),
            "labour_amount": data["labour_amount"],
            "parts_amount": data["parts_amount"],
        }


class WarrantyStepForm(BootstrapFormMixin, forms.Form):
    manufacturer_reference = forms.CharField(
        label=_("manufacturer's reference"), max_length=40, required=False
    )


class InsuranceClaimForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = InsuranceClaim
        fields = [
            "insurer",
            "policy_number",
            "claim_number",
            "accident_date",
            "assessor",
            "customer_share",
        ]
        widgets = {"accident_date": DATE_INPUT, "customer_share": MONEY_INPUT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["insurer"].widget.attrs["placeholder"] = _("e.g. 中国人保财险")
        self.fields["customer_share"].help_text = _(
            "What the customer pays themselves (deductible, uncovered damage)."
        )
        self.fields["assessor"].help_text = _("Can also be given when the claim is assessed.")

    def service_data(self) -> dict:
        return {
            name: value.strip() if isinstance(value, str) else value
            for name, value in self.cleaned_data.items()
        }


class InsuranceAssessForm(BootstrapFormMixin, forms.Form):
    assessed_amount = money_input_field(_("assessed amount (CNY)"))
    assessor = forms.CharField(label=_("insurer's assessor"), max_length=50, required=False)


class ConfirmStepForm(forms.Form):
    """A step with nothing to fill in: one button."""
