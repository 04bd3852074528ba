"""Check-in (接车) form: the customer and vehicle, the contact, the check-in inspection, the
complaint and the estimate. Field checks only; the services hold the rules (the phone read
back, a mileage not lower than the last reading, the vehicle being the customer's)."""

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Vehicle
from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import Branch
from parts.forms.ordering import MONEY_INPUT

from ..choices import FuelLevel, ServiceType
from ..models import Appointment
from .appointments import customer_field

# The fields handed to services.work_order_open as its `data`.
WORK_ORDER_FIELDS = [
    "service_type",
    "is_first_maintenance",
    "contact_name",
    "contact_phone",
    "phone_confirmed",
    "plate",
    "mileage_in",
    "fuel_level",
    "damage_notes",
    "items_left",
    "complaint",
    "estimate",
]


class CheckInForm(BootstrapFormMixin, forms.Form):
    SECTIONS = [
        (_("Visit"), ["service_type", "is_first_maintenance"]),
        (_("Contact"), ["contact_name", "contact_phone", "phone_confirmed"]),
        (
            _("Vehicle at check-in (接车检查)"),
            [
                "plate",
                "mileage_in",
                "odometer_replaced",
                "fuel_level",
                "damage_notes",
                "items_left",
            ],
        ),
        (_("The customer's request"), ["complaint", "estimate"]),
    ]

    appointment = forms.IntegerField(widget=forms.HiddenInput, required=False)
    customer = forms.ModelChoiceField(label=_("customer"), queryset=Customer.objects.none())
    vehicle = forms.ModelChoiceField(label=_("vehicle"), queryset=Vehicle.objects.none())
    service_type = forms.ChoiceField(label=_("type"), choices=ServiceType.choices)
    is_first_maintenance = forms.BooleanField(
        label=_("First free maintenance (首保)"), required=False
    )
    contact_name = forms.CharField(
        label=_("contact"),
        max_length=50,
        required=False,
        help_text=_("Leave empty when the customer brings the car."),
    )
    contact_phone = forms.CharField(
        label=_("contact phone"),
        max_length=20,
        required=False,
        help_text=_("Leave empty to use the customer's mobile."),
    )
    phone_confirmed = forms.BooleanField(
        label=_("Phone read back to the customer and confirmed"), required=False
    )
    plate = forms.CharField(
        label=_("plate number"),
        max_length=12,
        required=False,
        help_text=_("Leave empty to use the plate on file."),
    )
    mileage_in = forms.IntegerField(
        label=_("mileage in (km)"),
        min_value=0,
        max_value=2_000_000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    odometer_replaced = forms.BooleanField(label=_("Odometer replaced"), required=False)
    fuel_level = forms.ChoiceField(
        label=_("fuel level"), choices=[("", "---------"), *FuelLevel.choices]
    )
    damage_notes = forms.CharField(
        label=_("damage found at check-in"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    items_left = forms.CharField(
        label=_("items left in the car"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    complaint = forms.CharField(
        label=_("complaint, in the customer's words"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    estimate = forms.DecimalField(
        label=_("estimate (CNY)"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        widget=MONEY_INPUT,
    )

    def __init__(self, *args, branch: Branch, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        customer_field(self, branch)
        self.fields["customer"].help_text = _("Search by name or phone digits, then choose.")

    def mileage_at_least(self, km: int) -> None:
        """Show the last reading in the empty mileage box: the new one may not be lower."""
        self.fields["mileage_in"].widget.attrs["placeholder"] = _("last: %(km)s") % {"km": km}

    def service_data(
        self, customer: Customer, vehicle: Vehicle, appointment: Appointment | None = None
    ) -> dict:
        """The work order's fields; what was left empty comes from the booking, else from the
        customer's record."""
        data = {name: self.cleaned_data[name] for name in WORK_ORDER_FIELDS}
        data["contact_name"] = data["contact_name"].strip() or customer.name
        booked_phone = appointment.contact_phone if appointment else ""
        data["contact_phone"] = data["contact_phone"].strip() or booked_phone or customer.mobile
        data["plate"] = data["plate"].strip() or vehicle.plate
        return data


def initial_from_appointment(appointment: Appointment, *, show_pii: bool) -> dict:
    """The check-in form as the booking left it. The phone given at booking is shown only to
    someone who may see personal data; for anyone else an empty box means that phone."""
    return {
        "appointment": appointment.pk,
        "customer": appointment.customer_id,
        "vehicle": appointment.vehicle_id,
        "service_type": appointment.slot.service_type,
        "contact_name": appointment.customer.name,
        "contact_phone": appointment.contact_phone if show_pii else "",
        "plate": appointment.vehicle.plate,
        "complaint": appointment.complaint,
    }
