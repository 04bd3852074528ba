"""The dealership website's enquiry form: a prospect asks to be called about a car."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers import validators
from dealer_crm.forms import BootstrapFormMixin

from ..choices import IntentLevel

# When the prospect means to buy → the intent level and expected purchase date it implies.
BUYING_WHEN = [
    ("week", _("Within a week"), IntentLevel.H, 7),
    ("fortnight", _("Within two weeks"), IntentLevel.A, 15),
    ("month", _("Within a month"), IntentLevel.B, 30),
    ("later", _("Later, just looking"), IntentLevel.C, 90),
]


class EnquiryForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=100)
    mobile = forms.CharField(
        label=_("Mobile phone"), max_length=20, validators=[validators.validate_mobile]
    )
    model_of_interest = forms.CharField(label=_("Model you are interested in"), max_length=60)
    buying_when = forms.ChoiceField(
        label=_("When do you plan to buy?"),
        choices=[(key, label) for key, label, _level, _days in BUYING_WHEN],
        initial="month",
    )
    message = forms.CharField(
        label=_("Message"), max_length=500, required=False, widget=forms.Textarea({"rows": 3})
    )
    consent = forms.BooleanField(
        label=_("The dealership may call me about this enquiry."),
        error_messages={"required": _("We can only call you back with your consent.")},
    )
    # Left empty by people; filled in by form-spamming robots, which are then ignored.
    website = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_mobile(self) -> str:
        return validators.normalize_mobile(self.cleaned_data["mobile"])

    def lead_data(self) -> dict:
        data = self.cleaned_data
        _key, _label, level, days = next(
            row for row in BUYING_WHEN if row[0] == data["buying_when"]
        )
        return {
            "name": data["name"],
            "mobile": data["mobile"],
            "model_of_interest": data["model_of_interest"],
            "intent_level": level,
            "expected_purchase_date": timezone.localdate() + timedelta(days=days),
            "note": data["message"],
        }
