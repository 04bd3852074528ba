"""Forms of the work order page: lines, added items, the checklist and tyres, road tests and
the sign-offs up to settlement. Every rule is the service's; these only parse what was typed."""

from datetime import datetime, timedelta
from decimal import Decimal

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.care.models import Offer
from dealer_crm.choices import Role
from dealer_crm.filters import number_pk
from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import display_name
from parts.models import Part

from ..choices import ChecklistResult, ConfirmationMethod, PaymentMethod, TyrePosition
from ..models import AddedItem, WorkOrder

# The labour rate a new line starts with (CNY per standard hour); the advisor may change it.
DEFAULT_LABOUR_RATE = Decimal("200.00")
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)
MONEY_INPUT = forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"})
YES_NO = [("1", _("Yes")), ("0", _("No"))]


def branch_technicians(branch_id: int) -> QuerySet[User]:
    """The technicians working in the branch, by name."""
    return (
        User.objects.filter(groups__name=Role.TECHNICIAN, staff__branches=branch_id, is_active=True)
        .distinct()
        .order_by("first_name", "username")
    )


def _now_to_the_minute() -> datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


def within_the_minute(at: datetime) -> datetime:
    """A time typed to the minute means some moment in that minute: its last moment, never
    later than now. So a sign-off made "now" is not earlier than a signature of a few seconds
    ago that shows the same minute."""
    return min(at + timedelta(seconds=59, microseconds=999_999), timezone.now())


class TechnicianChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return display_name(obj)


class SignedAtField(forms.DateTimeField):
    """A sign-off time typed to the minute, now by default."""

    widget = DATETIME_INPUT

    def __init__(self, **kwargs):
        super().__init__(input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"], **kwargs)

    def clean(self, value):
        at = super().clean(value)
        return within_the_minute(at) if at is not None else None


class ActionForm(BootstrapFormMixin, forms.Form):
    """A step that asks for nothing more than the button (start, submit for QC, close ...)."""


class LabourLineForm(BootstrapFormMixin, forms.Form):
    operation = forms.CharField(label=_("operation"), max_length=200)
    standard_hours = forms.DecimalField(
        label=_("standard hours"),
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"step": "0.1", "min": "0.01", "inputmode": "decimal"}),
    )
    rate = forms.DecimalField(
        label=_("rate per hour (CNY)"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        initial=DEFAULT_LABOUR_RATE,
        widget=MONEY_INPUT,
    )
    technician = TechnicianChoiceField(label=_("technician"), queryset=User.objects.none())
    added_item = forms.ModelChoiceField(
        label=_("for added item"), queryset=AddedItem.objects.none(), required=False
    )

    def __init__(self, *args, work_order: WorkOrder, technicians=None, added_items=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["technician"].queryset = branch_technicians(work_order.branch_id)
        if technicians is not None:
            self.fields["technician"].choices = [("", "—")] + [
                (t.pk, display_name(t)) for t in technicians
            ]
        self.fields["added_item"].queryset = AddedItem.objects.filter(work_order=work_order)
        if added_items is not None:
            # The page has them already: offer them without asking the database again.
            self.fields["added_item"].choices = [("", "—")] + [
                (item.pk, item.description) for item in added_items
            ]


class PartLineForm(BootstrapFormMixin, forms.Form):
    part_number = forms.CharField(
        label=_("part number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "font-monospace"}),
    )
    quantity = forms.DecimalField(
        label=_("quantity"),
        max_digits=12,
        decimal_places=3,
        min_value=Decimal("0.001"),
        initial=1,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"}),
    )
    added_item = forms.ModelChoiceField(
        label=_("for added item"), queryset=AddedItem.objects.none(), required=False
    )

    def __init__(self, *args, work_order: WorkOrder, added_items=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["added_item"].queryset = AddedItem.objects.filter(work_order=work_order)
        if added_items is not None:
            self.fields["added_item"].choices = [("", "—")] + [
                (item.pk, item.description) for item in added_items
            ]

    def clean_part_number(self) -> Part:
        number = self.cleaned_data["part_number"].strip()
        part = Part.objects.filter(number__iexact=number).first()
        if part is None:
            raise forms.ValidationError(
                _("No part numbered %(number)s in the catalogue.") % {"number": number}
            )
        return part


class AddedItemForm(BootstrapFormMixin, forms.Form):
    description = forms.CharField(label=_("what is to be done"), max_length=200)
    estimate = forms.DecimalField(
        label=_("estimate (CNY)"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        widget=MONEY_INPUT,
    )


class AddedItemConfirmForm(BootstrapFormMixin, forms.Form):
    confirmed_by = forms.CharField(label=_("confirmed by (customer)"), max_length=50)
    method = forms.ChoiceField(label=_("confirmed how"), choices=ConfirmationMethod.choices)
    at = SignedAtField(label=_("confirmed at"))

    def __init__(self, *args, work_order: WorkOrder, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confirmed_by"].initial = work_order.contact_name
        self.fields["at"].initial = _now_to_the_minute


class ChecklistMarkForm(forms.Form):
    result = forms.ChoiceField(choices=ChecklistResult.choices)


class RecommendationDecideForm(forms.Form):
    accepted = forms.TypedChoiceField(choices=YES_NO, coerce=lambda value: value == "1")


class TyreReadingForm(BootstrapFormMixin, forms.Form):
    position = forms.ChoiceField(
        label=_("tyre"), choices=TyrePosition.choices, widget=forms.HiddenInput
    )
    pressure_bar = forms.DecimalField(
        label=_("pressure (bar)"),
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    tread_mm = forms.DecimalField(
        label=_("tread depth (mm)"),
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )


class RoadTestForm(BootstrapFormMixin, forms.Form):
    tested_by = TechnicianChoiceField(label=_("tested by"), queryset=User.objects.none())
    tested_at = SignedAtField(label=_("tested at"))
    distance_km = forms.IntegerField(label=_("distance (km)"), min_value=0, max_value=1000)
    passed = forms.TypedChoiceField(
        label=_("passed"), choices=YES_NO, coerce=lambda value: value == "1", initial="1"
    )
    note = forms.CharField(label=_("findings"), max_length=300, required=False)

    def __init__(self, *args, work_order: WorkOrder, user: User, technicians=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["tested_by"]
        field.queryset = branch_technicians(work_order.branch_id)
        if technicians is not None:
            field.choices = [("", "—")] + [(t.pk, display_name(t)) for t in technicians]
            if any(t.pk == user.pk for t in technicians):
                field.initial = user.pk
        self.fields["tested_at"].initial = _now_to_the_minute


class QualityCheckForm(BootstrapFormMixin, forms.Form):
    at = SignedAtField(label=_("checked at"))
    passed = forms.TypedChoiceField(
        label=_("passed"),
        choices=YES_NO,
        coerce=lambda value: value == "1",
        initial="1",
        help_text=_("A failed check sends the car back to the workshop."),
    )
    note = forms.CharField(label=_("note"), max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["at"].initial = _now_to_the_minute


class ReleaseForm(BootstrapFormMixin, forms.Form):
    at = SignedAtField(label=_("signed at"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["at"].initial = _now_to_the_minute


class OverrunApprovalForm(BootstrapFormMixin, forms.Form):
    approved_by = forms.CharField(label=_("approved by (customer)"), max_length=50)
    method = forms.ChoiceField(label=_("approved how"), choices=ConfirmationMethod.choices)

    def __init__(self, *args, work_order: WorkOrder, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approved_by"].initial = work_order.contact_name


class SettleForm(BootstrapFormMixin, forms.Form):
    discount = forms.DecimalField(
        label=_("discount (CNY)"), max_digits=12, decimal_places=2, initial=0, widget=MONEY_INPUT
    )
    payment_method = forms.ChoiceField(label=_("payment method"), choices=PaymentMethod.choices)
    paid_amount = forms.DecimalField(
        label=_("paid (CNY)"), max_digits=12, decimal_places=2, widget=MONEY_INPUT
    )

    def __init__(self, *args, customer_owes: Decimal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paid_amount"].initial = customer_owes
        if customer_owes == 0:
            self.fields["payment_method"].initial = PaymentMethod.NONE


class OfferCodeForm(BootstrapFormMixin, forms.Form):
    """The code of the campaign offer the customer shows (any case, spaces ignored)."""

    code = forms.CharField(
        label=_("offer code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "autocapitalize": "characters",
                "style": "text-transform: uppercase",
            }
        ),
    )

    def refusals_beside_the_code(self) -> None:
        """The service's refusals of the offer (expired, another customer's ...) are shown
        under the code the advisor typed rather than at the top of the page."""
        refusals = self.errors.pop(NON_FIELD_ERRORS, None) if self.is_bound else None
        for message in refusals or []:
            self.add_error("code", message)


class OfferActionForm(ActionForm):
    """Sign off, turn down or withdraw the offer the page showed: still on this work order."""

    def __init__(self, *args, work_order: WorkOrder, **kwargs):
        super().__init__(*args, **kwargs)
        self.work_order = work_order
        self.offer = None

    def clean(self):
        posted = number_pk(str(self.data.get("offer", "")))
        if posted is not None:
            self.offer = (
                Offer.objects.filter(pk=posted, work_order=self.work_order)
                .select_related("campaign", "customer")
                .first()
            )
        if self.offer is None:
            raise forms.ValidationError(
                _("That offer is no longer on this work order: the page was out of date.")
            )
        return super().clean()
