"""Front-desk forms: the day to show, slots to open, an appointment to book. Field checks only;
the services hold the rules (a full or past slot, a vehicle that is not the customer's)."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth.models import User
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.forms import DATE_INPUT, staff_choices
from customers.models import Customer, Vehicle
from dealer_crm.filters import plain_id
from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import Branch, display_name
from dealer_crm.periods import LOCAL_TIME_ZONE, local_day_end, local_day_start
from parts.forms.ordering import customer_label, vehicle_label

from ..choices import ServiceType
from ..models import ServiceSlot

TIME_INPUT = forms.TimeInput(attrs={"type": "time", "step": "300"}, format="%H:%M")
# How many slots one submit of the slots form may open: a whole day at 15 minutes.
MOST_SLOTS_AT_ONCE = 64


class DayForm(forms.Form):
    """`?day=YYYY-MM-DD` of the front desk's page; anything else means today."""

    day = forms.DateField(required=False)

    def chosen_day(self) -> date:
        """The day asked for; today when none, or one too far off to step a day from."""
        if self.is_valid() and self.cleaned_data["day"]:
            day = self.cleaned_data["day"]
            if date.min < day < date.max:
                return day
        return timezone.localdate()


def slot_label(slot: ServiceSlot) -> str:
    """09:00 · Maintenance · 2 of 3 free"""
    return _("%(time)s · %(type)s · %(free)s of %(capacity)s free") % {
        "time": timezone.localtime(slot.starts_at).strftime("%H:%M"),
        "type": slot.get_service_type_display(),
        "free": slot.free,
        "capacity": slot.capacity,
    }


def slots_with_room(branch: Branch, day: date, service_type: str = "") -> list[ServiceSlot]:
    """The day's slots of the branch not yet begun and not fully booked, in time order."""
    slots = ServiceSlot.objects.filter(
        branch=branch,
        starts_at__gte=max(local_day_start(day), timezone.now()),
        starts_at__lt=local_day_end(day),
        booked__lt=F("capacity"),
    )
    if service_type:
        slots = slots.filter(service_type=service_type)
    return list(slots.order_by("starts_at", "service_type"))


class SlotsOpenForm(BootstrapFormMixin, forms.Form):
    """Open a day's slots from a first to a last time, every N minutes, N cars each."""

    day = forms.DateField(label=_("day"), widget=DATE_INPUT)
    service_type = forms.ChoiceField(label=_("service type"), choices=ServiceType.choices)
    first = forms.TimeField(label=_("first slot"), widget=TIME_INPUT, initial=time(8, 30))
    last = forms.TimeField(label=_("last slot"), widget=TIME_INPUT, initial=time(16, 30))
    every = forms.IntegerField(label=_("every (minutes)"), min_value=10, max_value=240, initial=30)
    capacity = forms.IntegerField(label=_("cars per slot"), min_value=1, max_value=50, initial=2)

    def clean(self):
        data = super().clean()
        first, last, every = data.get("first"), data.get("last"), data.get("every")
        if first and last and every:
            if last < first:
                self.add_error("last", _("The last slot cannot come before the first."))
            elif len(self.times()) > MOST_SLOTS_AT_ONCE:
                self.add_error(
                    "every",
                    _("That makes more than %(most)s slots; open fewer at once.")
                    % {"most": MOST_SLOTS_AT_ONCE},
                )
        return data

    def times(self) -> list[time]:
        data = self.cleaned_data
        moment = datetime.combine(date.min, data["first"])
        last = datetime.combine(date.min, data["last"])
        times = []
        while moment <= last and len(times) <= MOST_SLOTS_AT_ONCE:
            times.append(moment.time())
            moment += timedelta(minutes=data["every"])
        return times

    def starts(self) -> list[datetime]:
        """The slots' start times, aware, in the local time zone."""
        day = self.cleaned_data["day"]
        return [datetime.combine(day, moment, tzinfo=LOCAL_TIME_ZONE) for moment in self.times()]


def customer_field(form: forms.Form, branch: Branch) -> None:
    """The customer select offers only the current choice (the search beside it finds the
    others), so a branch with twenty thousand owners does not send them all."""
    customer = form.fields["customer"]
    customer.queryset = Customer.objects.active().filter(branch=branch)
    customer.label_from_instance = customer_label
    chosen = plain_id(form["customer"].value())
    offered = list(customer.queryset.filter(pk=chosen)) if chosen else []
    customer.widget.choices = [("", "---------")] + [
        (item.pk, customer_label(item)) for item in offered
    ]
    vehicle = form.fields["vehicle"]
    vehicle.queryset = Vehicle.objects.filter(owner__branch=branch)
    vehicle.label_from_instance = vehicle_label
    vehicle.widget.choices = vehicle_choices(offered[0] if offered else None)
    form.chosen_customer = offered[0] if offered else None


def vehicle_choices(customer: Customer | None) -> list[tuple]:
    vehicles = list(customer.vehicles.order_by("-id")) if customer is not None else []
    return [("", "---------")] + [(vehicle.pk, vehicle_label(vehicle)) for vehicle in vehicles]


class AppointmentForm(BootstrapFormMixin, forms.Form):
    """Book a vehicle into a slot. Day and service type only narrow the slots offered."""

    day = forms.DateField(label=_("day"), widget=DATE_INPUT, required=False)
    service_type = forms.ChoiceField(
        label=_("service type"),
        choices=[("", _("Any type"))] + ServiceType.choices,
        required=False,
    )
    slot = forms.ModelChoiceField(label=_("slot"), queryset=ServiceSlot.objects.none())
    customer = forms.ModelChoiceField(label=_("customer"), queryset=Customer.objects.none())
    vehicle = forms.ModelChoiceField(label=_("vehicle"), queryset=Vehicle.objects.none())
    advisor = forms.ModelChoiceField(label=_("service advisor"), queryset=User.objects.none())
    contact_phone = forms.CharField(
        label=_("contact phone"),
        max_length=20,
        required=False,
        help_text=_("Leave empty to use the customer's mobile."),
    )
    complaint = forms.CharField(
        label=_("what the customer asks for"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, branch: Branch, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.branch = branch
        slot = self.fields["slot"]
        # Any slot of the branch is accepted: a full or past one is refused by the service,
        # with its reason beside the field.
        slot.queryset = ServiceSlot.objects.filter(branch=branch)
        slot.label_from_instance = slot_label
        slot.widget.choices = self.slot_choices()
        advisor = self.fields["advisor"]
        advisor.queryset = staff_choices(user)
        advisor.label_from_instance = display_name
        customer_field(self, branch)
        self.fields["customer"].help_text = _("Search by name or phone digits, then choose.")

    def visible_detail_fields(self) -> list:
        return [self["advisor"], self["contact_phone"], self["complaint"]]

    def chosen_day(self) -> date:
        value = self["day"].value()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            return timezone.localdate()

    def slot_choices(self) -> list[tuple]:
        service_type = self["service_type"].value() or ""
        if service_type not in ServiceType.values:
            service_type = ""
        offered = slots_with_room(self.branch, self.chosen_day(), service_type)
        chosen = plain_id(self["slot"].value())
        if chosen and all(str(slot.pk) != chosen for slot in offered):
            offered += list(ServiceSlot.objects.filter(branch=self.branch, pk=chosen))
        return [("", "---------")] + [(slot.pk, slot_label(slot)) for slot in offered]


class CustomerSearchForm(forms.Form):
    """The customer search beside a picker (htmx): part of a name or 4+ phone digits."""

    customer_search = forms.CharField(max_length=50, required=False)
