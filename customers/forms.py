"""Page forms. Field validation comes from the models; writes go through the services."""

from django import forms
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import display_name
from dealer_crm.scoping import branch_ids_for

from .models import (
    CUSTOMER_EDITABLE_FIELDS,
    VEHICLE_EDITABLE_FIELDS,
    Contact,
    Customer,
    OdometerReading,
    Vehicle,
)

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def staff_choices(user: User):
    return (
        User.objects.filter(staff__branches__in=branch_ids_for(user), is_active=True)
        .distinct()
        .order_by("first_name", "username")
    )


class CustomerForm(BootstrapFormMixin, forms.ModelForm):
    confirm_duplicate = forms.BooleanField(
        label=_("This is a different customer with the same phone"), required=False
    )
    tags = forms.CharField(
        label=_("tags"), required=False, help_text=_("Separate tags with commas.")
    )

    SECTIONS = [
        (
            _("Who"),
            ["kind", "name", "gender", "birthday", "birthday_is_lunar", "id_number", "credit_code"],
        ),
        (_("How to reach them"), ["mobile", "mobile_2", "landline", "email"]),
        (_("Address"), ["province", "city", "district", "street", "village", "postcode"]),
        (_("Relationship"), ["category", "evaluation", "source", "consultant", "advisor", "tags"]),
        (_("Marketing consent"), ["marketing_consent", "consent_date", "consent_channel"]),
        (_("Possible duplicate"), ["confirm_duplicate"]),
    ]

    class Meta:
        model = Customer
        fields = CUSTOMER_EDITABLE_FIELDS
        widgets = {"birthday": DATE_INPUT, "consent_date": DATE_INPUT}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        for field in ("consultant", "advisor"):
            self.fields[field].queryset = staff_choices(user)
            self.fields[field].label_from_instance = display_name
        if self.instance.pk:
            self.initial["tags"] = ", ".join(self.instance.tags)
            del self.fields["confirm_duplicate"]

    def clean_tags(self) -> list[str]:
        raw = self.cleaned_data.get("tags") or ""
        tags = [tag.strip() for tag in raw.replace("，", ",").split(",") if tag.strip()]
        for tag in tags:
            if len(tag) > 30:
                raise forms.ValidationError(_("A tag has at most 30 characters."))
        return tags

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("confirm_duplicate", None)
        return data


class ContactForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "role", "mobile", "landline", "email", "is_primary"]


class VehicleForm(BootstrapFormMixin, forms.ModelForm):
    SECTIONS = [
        (_("Identity"), ["vin", "plate", "engine_number", "manufacturer", "model_year"]),
        (_("Model"), ["brand", "series", "model_code", "colour", "transmission", "fuel_type"]),
        (_("Dates"), ["production_date", "registration_date", "delivery_date", "odometer_km"]),
        (
            _("Warranty and renewals"),
            [
                "warranty_end_date",
                "warranty_end_km",
                "three_guarantees_end_date",
                "three_guarantees_end_km",
                "insurance_expiry",
                "inspection_due",
            ],
        ),
    ]
    odometer_km = forms.IntegerField(
        label=_("odometer (km)"),
        min_value=0,
        max_value=2_000_000,
        required=False,
        help_text=_("The first reading, if known."),
    )

    class Meta:
        model = Vehicle
        fields = VEHICLE_EDITABLE_FIELDS
        widgets = {
            name: DATE_INPUT
            for name in (
                "production_date",
                "registration_date",
                "delivery_date",
                "warranty_end_date",
                "three_guarantees_end_date",
                "insurance_expiry",
                "inspection_due",
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manufacturer"].help_text = _("Filled from the VIN when left empty.")
        self.fields["model_year"].help_text = _("Filled from the VIN when left empty.")
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
        if self.instance.pk:
            del self.fields["odometer_km"]

    def _post_clean(self):
        # The service checks VIN uniqueness and names the existing owner.
        self.instance.vin = self.cleaned_data.get("vin", self.instance.vin)
        super()._post_clean()

    def validate_unique(self):
        pass


class OdometerReadingForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = OdometerReading
        fields = ["km", "read_on", "is_replacement", "note"]
        widgets = {"read_on": DATE_INPUT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["read_on"].initial = timezone.localdate()


class TransferForm(BootstrapFormMixin, forms.Form):
    new_owner = forms.ModelChoiceField(queryset=Customer.objects.none(), label=_("new owner"))
    transferred_on = forms.DateField(label=_("transferred on"), widget=DATE_INPUT)
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)

    def __init__(self, *args, user: User, vehicle: Vehicle, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_owner"].queryset = (
            Customer.objects.for_user(user).active().exclude(pk=vehicle.owner_id).order_by("name")
        )
        self.fields["transferred_on"].initial = timezone.localdate()


class MergeForm(BootstrapFormMixin, forms.Form):
    duplicate = forms.IntegerField(
        label=_("number of the duplicate customer"),
        help_text=_("Its vehicles, contacts and history move to this customer."),
        min_value=1,
    )
    confirm = forms.BooleanField(
        label=_("I understand the duplicate record will be closed."), required=True
    )


class ImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label=_("CSV or Excel file"),
        help_text=_("UTF-8 CSV or .xlsx, one customer (and optionally one vehicle) per row."),
    )
