"""Issue voucher forms (出库单): the voucher with its lines, cancelling, returning to stock, and
the lost sale. They only parse what was typed; every rule is the service's."""

import re
from decimal import Decimal

from django import forms
from django.core.validators import MinValueValidator
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import Branch
from dealer_crm.pii import mask_phone

from ..choices import IssueKind, LostSaleReason
from ..models import Part, Supplier

QUANTITY_INPUT = forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"})
MONEY_INPUT = forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"})
# What a blank voucher offers; a longer one is saved and continued on another voucher.
BLANK_LINES = 5
MAX_LINES = 30
CUSTOMER_CHOICES_LIMIT = 20


def customer_label(customer: Customer) -> str:
    return f"{customer.name} · {mask_phone(customer.mobile)} (#{customer.pk})"


def quantity_field(label, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=12,
        decimal_places=3,
        widget=forms.NumberInput(attrs=dict(QUANTITY_INPUT.attrs)),
        **kwargs,
    )


class PartNumberField(forms.CharField):
    """A part number typed or scanned, resolved to the catalogue's part (any case)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean(self, value):
        number = super().clean(value)
        if not number:
            return None
        part = Part.objects.filter(number__iexact=number.strip()).first()
        if part is None:
            raise forms.ValidationError(
                _("No part with number %(number)s in the catalogue."), params={"number": number}
            )
        return part


class IssueForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("issued for"), choices=IssueKind.choices)
    work_order_reference = forms.CharField(
        label=_("work order"),
        max_length=40,
        required=False,
        help_text=_("For an issue to a work order."),
    )
    customer = forms.ModelChoiceField(
        label=_("customer"), queryset=Customer.objects.none(), required=False
    )
    recipient = forms.CharField(
        label=_("handed to"),
        max_length=50,
        required=False,
        help_text=_("The technician or customer."),
    )
    supplier = forms.ModelChoiceField(
        label=_("supplier"),
        queryset=Supplier.objects.all(),
        required=False,
        help_text=_("For a return to supplier."),
    )
    to_branch = forms.ModelChoiceField(
        label=_("to branch"),
        queryset=Branch.objects.none(),
        required=False,
        help_text=_("For a transfer to another branch of the group."),
    )
    note = forms.CharField(label=_("note"), max_length=300, required=False)

    def __init__(self, *args, branch: Branch, **kwargs):
        super().__init__(*args, **kwargs)
        customer = self.fields["customer"]
        customer.queryset = Customer.objects.active().filter(branch=branch)
        customer.label_from_instance = customer_label
        customer.help_text = _("Optional: search the customer by name or phone digits.")
        # The select offers only the current choice and what the search finds: a branch with
        # twenty thousand customers does not send them all with every voucher.
        chosen = self["customer"].value() if self.is_bound else self.initial.get("customer")
        chosen = str(chosen or "")
        offered = (
            customer.queryset.filter(pk=chosen) if re.fullmatch(r"[0-9]{1,18}", chosen) else []
        )
        customer.widget.choices = [("", "---------")] + [
            (item.pk, customer_label(item)) for item in offered
        ]
        self.fields["to_branch"].queryset = Branch.objects.filter(
            group_id=branch.group_id, is_active=True
        ).exclude(pk=branch.pk)
        self.fields["kind"].widget.attrs["id"] = "issue-kind"


class CustomerSearchForm(forms.Form):
    customer_search = forms.CharField(max_length=50, required=False)


class IssueLineForm(BootstrapFormMixin, forms.Form):
    part = PartNumberField(label=_("part number"), required=False)
    quantity = quantity_field(
        _("quantity"), required=False, validators=[MinValueValidator(Decimal("0.001"))]
    )
    unit_price = forms.DecimalField(
        label=_("unit price (CNY)"),
        max_digits=12,
        decimal_places=2,
        required=False,
        min_value=0,
        widget=MONEY_INPUT,
        help_text=_("Empty: the catalogue price."),
    )

    def clean(self):
        data = super().clean()
        if data.get("part") and data.get("quantity") is None and "quantity" not in self.errors:
            self.add_error("quantity", _("How many?"))
        if not data.get("part") and data.get("quantity") is not None and "part" not in self.errors:
            self.add_error("part", _("Which part?"))
        return data

    def service_line(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("part"):
            return None
        return {
            "part": data["part"],
            "quantity": data["quantity"],
            "unit_price": data["unit_price"],
        }


IssueLineFormSet = forms.formset_factory(
    IssueLineForm, extra=BLANK_LINES, max_num=MAX_LINES, validate_max=True
)


class IssueCancelForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("reason for cancelling"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. the customer changed their mind")}),
    )


class IssueReturnForm(BootstrapFormMixin, forms.Form):
    quantity = quantity_field(_("quantity back"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The line's row shows the two boxes without labels; say what each is for.
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = field.label
        self.fields["quantity"].widget.attrs["placeholder"] = _("quantity")

    reason = forms.CharField(
        label=_("why it comes back"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. not needed for the job")}),
    )


class LostSaleForm(BootstrapFormMixin, forms.Form):
    part = PartNumberField(label=_("part number"))
    quantity = quantity_field(_("quantity asked for"))
    reason = forms.ChoiceField(
        label=_("reason"), choices=LostSaleReason.choices, initial=LostSaleReason.OUT_OF_STOCK
    )
    asked_by = forms.CharField(
        label=_("asked by"),
        max_length=50,
        help_text=_("The customer, technician or advisor who asked."),
    )
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def service_data(self) -> dict:
        return dict(self.cleaned_data)
