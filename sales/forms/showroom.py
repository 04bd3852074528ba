"""Showroom page forms: test-drive booking, completion and cancellation, and the front desk's
traffic taps. The services decide what is allowed."""

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import construct_instance
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.forms import DATE_INPUT
from dealer_crm.forms import BootstrapFormMixin

from ..choices import StockStatus
from ..models import Lead, ShowroomTraffic, StockVehicle, TestDrive

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
TEST_DRIVE_FIELDS = [
    "demo_vehicle",
    "starts_at",
    "ends_at",
    "driver_name",
    "driver_licence_number",
    "route",
    "agreement_signed",
]
DEFAULT_TEST_DRIVE_MINUTES = 30


def demo_car_label(vehicle: StockVehicle) -> str:
    details = " ".join(
        part
        for part in (vehicle.brand, vehicle.series, vehicle.configuration, vehicle.colour)
        if part
    )
    return f"{details} · …{vehicle.vin[-6:]}"


def next_half_hour():
    now = timezone.localtime()
    start = now.replace(second=0, microsecond=0) + timedelta(minutes=30 - now.minute % 30)
    return start


class TestDriveForm(BootstrapFormMixin, forms.ModelForm):
    SECTIONS = [
        (_("Car and time"), ["demo_vehicle", "route", "starts_at", "ends_at"]),
        (_("Driver"), ["driver_name", "driver_licence_number", "agreement_signed"]),
    ]

    class Meta:
        model = TestDrive
        fields = TEST_DRIVE_FIELDS
        widgets = {"starts_at": DATETIME_INPUT, "ends_at": DATETIME_INPUT}

    def __init__(self, *args, lead: Lead, **kwargs):
        super().__init__(*args, **kwargs)
        demo_car = self.fields["demo_vehicle"]
        demo_car.queryset = StockVehicle.objects.filter(
            branch_id=lead.branch_id, status=StockStatus.DEMO
        ).order_by("series", "vin")
        demo_car.label_from_instance = demo_car_label
        start = next_half_hour()
        self.fields["starts_at"].initial = start
        self.fields["ends_at"].initial = start + timedelta(minutes=DEFAULT_TEST_DRIVE_MINUTES)
        self.fields["driver_name"].initial = lead.name
        self.fields["driver_licence_number"].widget.attrs.update(
            {"autocomplete": "off", "maxlength": 18, "style": "text-transform:uppercase"}
        )
        self.fields["route"].widget.attrs["placeholder"] = _("e.g. showroom – ring road – showroom")
        self.fields["agreement_signed"].help_text = _(
            "It can also be signed when the drive is completed, but before driving."
        )

    def _post_clean(self):
        # As ModelForm's, without the no-double-booking constraint: the booking service checks
        # the slot under a lock and names the booking that is in the way.
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields)
            self.instance.full_clean(
                exclude=self._get_validation_exclusions(),
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            self._update_errors(error)

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in TEST_DRIVE_FIELDS}


class TestDriveCompleteForm(BootstrapFormMixin, forms.Form):
    feedback = forms.CharField(
        label=_("customer's feedback"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What they liked, what worried them, how they compared it."),
    )
    agreement_signed = forms.BooleanField(label=_("test-drive agreement signed"), required=False)


class TestDriveCancelForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=100, required=False)


class TrafficCountForm(forms.Form):
    """One tap: a counter of a day, up one or (to undo a slip) down one."""

    day = forms.DateField()
    counter = forms.ChoiceField(choices=[(name, name) for name in ShowroomTraffic.COUNTERS])
    step = forms.TypedChoiceField(choices=[("1", "+1"), ("-1", "−1")], coerce=int, initial=1)


class TrafficDayForm(BootstrapFormMixin, forms.Form):
    """The day whose counters the page shows: today, or an earlier day to correct."""

    day = forms.DateField(label=_("day"), required=False, widget=DATE_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["day"].widget.attrs["max"] = timezone.localdate().isoformat()

    def chosen_day(self):
        today = timezone.localdate()
        if self.is_valid() and self.cleaned_data["day"]:
            return min(self.cleaned_data["day"], today)
        return today
