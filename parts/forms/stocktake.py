"""Stocktake forms (盘点): the scope to freeze, the counts typed on the count page, and the
search over a stocktake's lines. Every rule is the service's."""

import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import Branch

from ..choices import PartClass, StocktakeScope
from ..models import Bin

COUNT_FIELD = re.compile(r"^count-([0-9]{1,18})$")


class StocktakeStartForm(BootstrapFormMixin, forms.Form):
    scope = forms.ChoiceField(
        label=_("scope"), choices=StocktakeScope.choices, widget=forms.RadioSelect
    )
    zone = forms.ChoiceField(label=_("zone"), required=False)
    classification = forms.ChoiceField(
        label=_("classification"), choices=[("", "---------"), *PartClass.choices], required=False
    )
    note = forms.CharField(label=_("note"), max_length=300, required=False)

    def __init__(self, *args, branch: Branch, **kwargs):
        super().__init__(*args, **kwargs)
        zones = (
            Bin.objects.filter(branch=branch)
            .order_by("zone")
            .values_list("zone", flat=True)
            .distinct()
        )
        self.fields["zone"].choices = [("", "---------"), *((zone, zone) for zone in zones)]
        self.fields["scope"].widget.attrs["class"] = "form-check-input"

    def full_clean(self):
        super().full_clean()
        # Radio buttons are check inputs, not text boxes.
        self.fields["scope"].widget.attrs["class"] = "form-check-input"


class StocktakeCountForm(forms.Form):
    """`count-<line id>` for each line typed; an empty box leaves the line as it was."""

    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)
        for key in data:
            if COUNT_FIELD.match(key):
                self.fields[key] = forms.DecimalField(
                    max_digits=12, decimal_places=3, required=False
                )

    def counts(self) -> dict[int, Decimal]:
        return {
            int(COUNT_FIELD.match(key).group(1)): value
            for key, value in self.cleaned_data.items()
            if value is not None
        }

    def line_errors(self) -> dict[int, str]:
        return {
            int(COUNT_FIELD.match(key).group(1)): " ".join(errors)
            for key, errors in self.errors.items()
            if COUNT_FIELD.match(key)
        }


LINE_SHOW_CHOICES = [
    ("", _("All lines")),
    ("uncounted", _("Not counted yet")),
    ("differences", _("Differences only")),
]


class StocktakeLineSearchForm(BootstrapFormMixin, forms.Form):
    search = forms.CharField(
        label=_("Bin or part number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    show = forms.ChoiceField(label=_("Show"), choices=LINE_SHOW_CHOICES, required=False)
