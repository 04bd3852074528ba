"""Stock vehicle forms: a new vehicle by VIN, its details, arrival, PDI."""

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.vin import normalize_vin
from dealer_crm.forms import BootstrapFormMixin

from ..choices import StockStatus
from ..models import StockVehicle
from ..services import STOCK_EDITABLE_FIELDS

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NEW_VEHICLE_STATUSES = [StockStatus.IN_TRANSIT, StockStatus.IN_STOCK, StockStatus.DEMO]


class StockVehicleForm(BootstrapFormMixin, forms.ModelForm):
    """A new stock vehicle (every field) or an existing one (its model details only)."""

    SECTIONS = [
        (_("Identity"), ["vin", "model_year"]),
        (_("Model"), ["brand", "series", "configuration", "colour", "list_price"]),
        (_("Where it is"), ["status", "arrival_date"]),
    ]

    class Meta:
        model = StockVehicle
        fields = [
            "vin", "brand", "series", "configuration", "colour", "model_year", "list_price",
            "status", "arrival_date",
        ]  # fmt: skip
        widgets = {
            "arrival_date": DATE_INPUT,
            "list_price": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in list(self.fields):
                if name not in STOCK_EDITABLE_FIELDS:
                    del self.fields[name]
            return
        self.fields["status"].choices = [
            (value, label) for value, label in StockStatus.choices if value in NEW_VEHICLE_STATUSES
        ]
        self.fields["arrival_date"].help_text = _("Today when left empty for a vehicle in stock.")
        # Live check as the VIN is typed: what it encodes, or what is wrong with it.
        self.fields["vin"].widget.attrs.update(
            {
                "autocomplete": "off",
                "maxlength": 17,
                "style": "text-transform:uppercase",
                "hx-get": reverse("customers:vin-decode"),
                "hx-target": "#vin-hint",
                "hx-trigger": "input changed delay:300ms, load",
            }
        )

    def _get_validation_exclusions(self):
        # An arrived vehicle without a date is dated today by the service, not refused by
        # the arrival-date constraint.
        return {*super()._get_validation_exclusions(), "arrival_date"}

    def validate_unique(self):
        # The service refuses a known VIN, also one already on a customer's vehicle.
        pass

    def _post_clean(self):
        # A VIN typed in lower case is checked as the service will store it: upper case.
        if "vin" in self.cleaned_data:
            self.cleaned_data["vin"] = normalize_vin(self.cleaned_data["vin"])
        super()._post_clean()

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class ArriveForm(BootstrapFormMixin, forms.Form):
    arrival_date = forms.DateField(label=_("arrived on"), widget=DATE_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["arrival_date"].initial = timezone.localdate()


class PdiForm(BootstrapFormMixin, forms.Form):
    done_on = forms.DateField(label=_("PDI done on"), widget=DATE_INPUT)
    note = forms.CharField(
        label=_("PDI findings"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["done_on"].initial = timezone.localdate()
