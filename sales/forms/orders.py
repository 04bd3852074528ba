"""Order forms: the buyer of a new order, payments, allocation, invoice, cancellation and the
handover. Every rule is the service's; these only parse what was typed."""

from decimal import Decimal

from django import forms
from django.contrib.auth.models import User
from django.core.validators import MinValueValidator
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from customers.vin import normalize_vin
from dealer_crm.filters import number_pk
from dealer_crm.forms import BootstrapFormMixin

from ..choices import (
    DeliveryCheck,
    DeliveryDocument,
    DepositHandling,
    LostReason,
    PaymentMethod,
    StockStatus,
)
from ..models import Order, Payment, StockVehicle
from ..services import REQUIRED_DELIVERY_DOCUMENTS

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY_INPUT = forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"})
NEW_CUSTOMER = "new"


class OrderCreateForm(BootstrapFormMixin, forms.Form):
    """Who buys: an existing customer of the branch (by number) or a new one made from the
    lead. The candidates are offered as radio buttons by the page."""

    customer = forms.CharField(label=_("customer"), max_length=20)

    def __init__(self, *args, user: User, branch_id: int, **kwargs):
        self.user, self.branch_id = user, branch_id
        super().__init__(*args, **kwargs)

    def clean_customer(self) -> Customer | None:
        value = self.cleaned_data["customer"].strip()
        if value == NEW_CUSTOMER:
            return None
        customer = (
            Customer.objects.for_user(self.user)
            .active()
            .filter(pk=number_pk(value), branch_id=self.branch_id)
            .first()
        )
        if customer is None:
            raise forms.ValidationError(_("Choose a customer of this branch."))
        return customer


class PaymentForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Payment
        fields = ["kind", "amount", "due_on", "paid_on", "method", "reference"]
        widgets = {"due_on": DATE_INPUT, "paid_on": DATE_INPUT, "amount": MONEY_INPUT}
        help_texts = {
            "due_on": _("For a scheduled payment."),
            "paid_on": _("For money received."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = [("", "—"), *PaymentMethod.choices]
        # The table's CHECK constraint wants more than zero; say so before it is asked.
        self.fields["amount"].validators.append(MinValueValidator(Decimal("0.01")))

    def _post_clean(self):
        # The service checks the whole payment against its order (dates, what is outstanding).
        pass

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class PaymentReceiveForm(BootstrapFormMixin, forms.Form):
    paid_on = forms.DateField(label=_("paid on"), widget=DATE_INPUT)
    method = forms.ChoiceField(
        label=_("method"), choices=[("", "—"), *PaymentMethod.choices], required=False
    )
    reference = forms.CharField(label=_("reference"), max_length=60, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paid_on"].initial = timezone.localdate()


class OrderSignForm(BootstrapFormMixin, forms.Form):
    confirm = forms.BooleanField(
        label=_("The customer has signed the purchase agreement."), required=True
    )


def allocatable_vehicles(order: Order) -> list[StockVehicle]:
    """The branch's unallocated vehicles in transit or in stock, the order's model first."""
    return list(
        StockVehicle.objects.filter(
            branch_id=order.branch_id,
            status__in=[StockStatus.IN_TRANSIT, StockStatus.IN_STOCK],
            order__isnull=True,
        )
        .annotate(
            fit=Case(
                When(Q(brand=order.brand, series=order.series), then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("fit", "series", "arrival_date", "pk")
    )


def vehicle_label(vehicle: StockVehicle) -> str:
    arrived = (
        _("arrived %(date)s") % {"date": vehicle.arrival_date.isoformat()}
        if vehicle.arrival_date
        else vehicle.get_status_display()
    )
    parts = [vehicle.brand, vehicle.series, vehicle.configuration, vehicle.colour]
    return f"{vehicle.vin} · {' '.join(p for p in parts if p)} · {arrived}"


class AllocateForm(BootstrapFormMixin, forms.Form):
    stock_vehicle = forms.ChoiceField(label=_("vehicle in stock"), required=False)
    vin = forms.CharField(
        label=_("or type a VIN"),
        max_length=17,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "maxlength": 17, "style": "text-transform:uppercase"}
        ),
    )

    def __init__(self, *args, order: Order, user: User, **kwargs):
        self.order, self.user = order, user
        super().__init__(*args, **kwargs)
        vehicles = allocatable_vehicles(order)
        matching = [v for v in vehicles if v.fit == 0]
        others = [v for v in vehicles if v.fit != 0]
        choices = [("", "—")]
        if matching:
            choices.append(
                (
                    _("%(brand)s %(series)s, as ordered")
                    % {"brand": order.brand, "series": order.series},
                    [(str(v.pk), vehicle_label(v)) for v in matching],
                )
            )
        if others:
            choices.append((_("Other vehicles"), [(str(v.pk), vehicle_label(v)) for v in others]))
        self.fields["stock_vehicle"].choices = choices
        self.has_choices = bool(vehicles)

    def clean(self) -> dict:
        cleaned = super().clean()
        chosen, vin = cleaned.get("stock_vehicle"), normalize_vin(cleaned.get("vin") or "")
        if bool(chosen) == bool(vin):
            raise forms.ValidationError(_("Choose a vehicle from the list or type its VIN."))
        vehicles = StockVehicle.objects.for_user(self.user)
        vehicle = vehicles.filter(vin=vin).first() if vin else vehicles.filter(pk=chosen).first()
        if vehicle is None:
            self.add_error(
                "vin" if vin else "stock_vehicle",
                _("No stock vehicle with this VIN in your branches.")
                if vin
                else _("Choose a vehicle from the list."),
            )
        cleaned["vehicle"] = vehicle
        return cleaned


class InvoiceForm(BootstrapFormMixin, forms.Form):
    invoice_number = forms.CharField(label=_("invoice number"), max_length=30)


class CancelForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("cancellation reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )
    deposit_handling = forms.ChoiceField(
        label=_("what happens to the money paid"),
        choices=[
            ("", "—"),
            *[
                (value, label)
                for value, label in DepositHandling.choices
                if value != DepositHandling.NONE
            ],
        ],
        required=False,
    )

    lost_reason = forms.ChoiceField(
        label=_("why the customer withdrew"),
        choices=LostReason.choices,
        initial=LostReason.OTHER,
        help_text=_("The lead this order had won is lost after all."),
    )

    def __init__(self, *args, money_paid: bool, won_lead: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not money_paid:
            del self.fields["deposit_handling"]
        if not won_lead:
            del self.fields["lost_reason"]


class DeliveryForm(BootstrapFormMixin, forms.Form):
    SECTIONS = [(_("Handover"), ["delivered_on", "odometer_km", "plate"])]

    delivered_on = forms.DateField(label=_("delivered on"), widget=DATE_INPUT)
    odometer_km = forms.IntegerField(
        label=_("odometer at delivery (km)"), min_value=0, max_value=100_000, initial=0
    )
    plate = forms.CharField(
        label=_("plate number"),
        max_length=12,
        required=False,
        help_text=_("If the car is already registered."),
    )
    checklist = forms.MultipleChoiceField(
        label=_("delivery checklist"),
        choices=DeliveryCheck.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    documents = forms.MultipleChoiceField(
        label=_("documents handed over"),
        choices=DeliveryDocument.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    note = forms.CharField(
        label=_("note"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delivered_on"].initial = timezone.localdate()

    def document_options(self) -> list[dict]:
        """The documents as checkboxes, the ones the customer must leave with marked."""
        chosen = set(self["documents"].value() or [])
        return [
            {
                "value": value,
                "label": label,
                "required": value in REQUIRED_DELIVERY_DOCUMENTS,
                "checked": value in chosen,
            }
            for value, label in DeliveryDocument.choices
        ]

    def check_options(self) -> list[dict]:
        chosen = set(self["checklist"].value() or [])
        return [
            {"value": value, "label": label, "checked": value in chosen}
            for value, label in DeliveryCheck.choices
        ]
