"""Ordering forms: reorder suggestions to turn into purchase orders, and the steps of an
emergency order for a customer (即购即销). Field checks only; the services hold the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.forms import DATE_INPUT
from customers.models import Customer, Vehicle
from dealer_crm.filters import plain_id
from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import Branch
from dealer_crm.pii import mask_phone

from ..models import Part, Supplier

MONEY_INPUT = forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"})
QUANTITY_INPUT = forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"})
# How many customers the search next to the customer field offers at once.
CUSTOMER_CHOICES_LIMIT = 20


def customer_label(customer: Customer) -> str:
    """How a customer appears in the choice: name, masked phone and record number."""
    return f"{customer.name} · {mask_phone(customer.mobile)} (#{customer.pk})"


def vehicle_label(vehicle: Vehicle) -> str:
    return " ".join(part for part in (vehicle.plate, vehicle.series, vehicle.vin[-6:]) if part)


class EmergencyOrderForm(BootstrapFormMixin, forms.Form):
    """An advisor's request. The customer select offers only the current choice and what the
    search beside it finds, so a branch with twenty thousand owners does not send them all."""

    customer = forms.ModelChoiceField(label=_("customer"), queryset=Customer.objects.none())
    vehicle = forms.ModelChoiceField(
        label=_("vehicle"), queryset=Vehicle.objects.none(), required=False
    )
    part_number = forms.CharField(label=_("part number"), max_length=40)
    quantity = forms.DecimalField(
        label=_("quantity"), max_digits=12, decimal_places=3, widget=QUANTITY_INPUT
    )
    note = forms.CharField(
        label=_("note"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, branch: Branch, **kwargs):
        super().__init__(*args, **kwargs)
        customer = self.fields["customer"]
        customer.queryset = Customer.objects.active().filter(branch=branch)
        customer.label_from_instance = customer_label
        customer.help_text = _("Search by name or phone digits, then choose.")
        chosen = plain_id(self["customer"].value())
        offered = list(customer.queryset.filter(pk=chosen)) if chosen else []
        customer.widget.choices = [("", "---------")] + [
            (item.pk, customer_label(item)) for item in offered
        ]
        vehicle = self.fields["vehicle"]
        vehicle.queryset = Vehicle.objects.filter(owner__branch=branch)
        vehicle.label_from_instance = vehicle_label
        vehicle.empty_label = _("No vehicle")
        vehicle.widget.choices = vehicle_choices(offered[0] if offered else None)
        self.fields["part_number"].widget.attrs.update(
            {"autocomplete": "off", "placeholder": _("e.g. 06H905601A")}
        )

    def part_fields(self) -> list:
        return [self["part_number"], self["quantity"]]

    def note_fields(self) -> list:
        return [self["note"]]

    def clean_part_number(self) -> Part:
        number = self.cleaned_data["part_number"].strip().upper()
        part = Part.objects.filter(number__iexact=number).first()
        if part is None:
            raise forms.ValidationError(
                _("No part %(number)s in the catalogue: add it there first."),
                params={"number": number},
            )
        return part


def vehicle_choices(customer: Customer | None) -> list[tuple]:
    vehicles = customer.vehicles.order_by("-id") if customer is not None else []
    return [("", _("No vehicle"))] + [(vehicle.pk, vehicle_label(vehicle)) for vehicle in vehicles]


class CustomerSearchForm(forms.Form):
    """The customer search beside the request form (htmx): part of a name or 4+ phone digits."""

    customer_search = forms.CharField(max_length=50, required=False)


class EmergencyQuoteForm(BootstrapFormMixin, forms.Form):
    supplier = forms.ModelChoiceField(label=_("supplier"), queryset=Supplier.objects.all())
    quoted_unit_cost = forms.DecimalField(
        label=_("supplier's unit price (CNY)"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        widget=MONEY_INPUT,
    )
    unit_price = forms.DecimalField(
        label=_("price to the customer (CNY)"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        widget=MONEY_INPUT,
    )
    promised_on = forms.DateField(label=_("arrival promised on"), required=False, widget=DATE_INPUT)


class EmergencyDepositForm(BootstrapFormMixin, forms.Form):
    amount = forms.DecimalField(
        label=_("deposit received (CNY)"), max_digits=12, decimal_places=2, widget=MONEY_INPUT
    )


class EmergencyConfirmForm(forms.Form):
    """Place the order or hand the part over: nothing to fill in, one button."""


class EmergencyCancelForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("reason for cancelling"), max_length=200, widget=forms.Textarea(attrs={"rows": 2})
    )
    confirm = forms.BooleanField(
        label=_("Yes, cancel this emergency order"),
        error_messages={"required": _("Tick the box to confirm.")},
    )
