"""Catalogue forms: a part number, its replacement by a new number, a supplier."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dealer_crm.forms import BootstrapFormMixin

from ..models import Part, Supplier
from ..services import PART_EDITABLE_FIELDS


class PartForm(BootstrapFormMixin, forms.ModelForm):
    """A new part (every field) or an existing one (what may change: not its number)."""

    SECTIONS = [
        (_("Part"), ["number", "name", "classification", "unit", "fitting_models"]),
        (_("Buying and selling"), ["price", "supplier", "lead_time_days"]),
    ]

    class Meta:
        model = Part
        fields = [
            "number", "name", "classification", "unit", "fitting_models", "price", "supplier",
            "lead_time_days",
        ]  # fmt: skip
        widgets = {
            "price": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            "fitting_models": forms.TextInput(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in list(self.fields):
                if name not in PART_EDITABLE_FIELDS:
                    del self.fields[name]
        else:
            self.fields["number"].widget.attrs.update(
                {"autocomplete": "off", "style": "text-transform:uppercase"}
            )
        self.fields["fitting_models"].help_text = _("E.g. Passat 2019–2024, Tiguan L.")

    def validate_unique(self):
        # The service stores the number in upper case and checks it there.
        pass

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class SupersedeForm(BootstrapFormMixin, forms.Form):
    # Named as the model field, so the service's refusal shows beside it.
    superseded_by = forms.CharField(
        label=_("new part number"),
        max_length=40,
        help_text=_("The number that replaces this one (旧号换新号)."),
    )

    def __init__(self, *args, part: Part, **kwargs):
        self.part = part
        super().__init__(*args, **kwargs)
        self.fields["superseded_by"].widget.attrs.update(
            {"autocomplete": "off", "style": "text-transform:uppercase"}
        )

    def clean_superseded_by(self) -> Part:
        number = self.cleaned_data["superseded_by"].strip()
        successor = Part.objects.filter(number__iexact=number).first()
        if successor is None:
            raise forms.ValidationError(
                _("No part with number %(number)s in the catalogue."), params={"number": number}
            )
        return successor


class SupplierForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Supplier
        fields = ["name", "contact", "phone", "lead_time_days"]

    def service_data(self) -> dict:
        return dict(self.cleaned_data)
