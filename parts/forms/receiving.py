"""Purchase order and receiving forms: the order with its lines, cancelling and closing it,
the receipt checklist filled at the dock (验收), and the put-away to free bins (上架)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dealer_crm.forms import BootstrapFormMixin, bootstrap_widgets

from ..models import Bin, Part, PurchaseOrder, PurchaseOrderLine, Receipt, ReceiptLine

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
QUANTITY_INPUT = forms.NumberInput(attrs={"step": "any", "min": "0"})
# Blank rows offered on a new purchase order.
BLANK_ORDER_LINES = 5


class PurchaseOrderForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = PurchaseOrder
        fields = ["supplier", "kind", "expected_on", "note"]
        widgets = {"expected_on": DATE_INPUT, "note": forms.TextInput()}


class PurchaseOrderLineForm(BootstrapFormMixin, forms.Form):
    """One line: the part by its number, the quantity, and the unit cost (empty: the
    branch's average cost)."""

    part = forms.CharField(label=_("part number"), max_length=40)
    quantity = forms.DecimalField(
        label=_("quantity"), max_digits=12, decimal_places=3, widget=QUANTITY_INPUT
    )
    unit_cost = forms.DecimalField(
        label=_("unit cost (CNY)"),
        max_digits=12,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["part"].widget.attrs.update(
            {"autocomplete": "off", "list": "part-numbers", "style": "text-transform:uppercase"}
        )

    def clean_part(self) -> Part:
        number = self.cleaned_data["part"].strip()
        part = Part.objects.filter(number__iexact=number).first()
        if part is None:
            raise forms.ValidationError(
                _("No part with number %(number)s in the catalogue."), params={"number": number}
            )
        return part


class BasePurchaseOrderLineFormSet(forms.BaseFormSet):
    def lines(self) -> list[dict]:
        """The filled rows as the service takes them; blank rows are left out."""
        return [
            {
                "part": form.cleaned_data["part"],
                "quantity": form.cleaned_data["quantity"],
                "unit_cost": form.cleaned_data.get("unit_cost"),
            }
            for form in self.forms
            if form.has_changed() and form.cleaned_data
        ]


PurchaseOrderLineFormSet = forms.formset_factory(
    PurchaseOrderLineForm,
    formset=BasePurchaseOrderLineFormSet,
    extra=BLANK_ORDER_LINES,
    max_num=100,
    validate_max=True,
)


class ReasonForm(BootstrapFormMixin, forms.Form):
    """Cancelling or closing short: the service asks for the reason and says so."""

    reason = forms.CharField(
        label=_("reason"), max_length=200, required=False, widget=forms.TextInput()
    )


class ReceiptCheckForm(BootstrapFormMixin, forms.ModelForm):
    """The head of the checklist: the delivery note, the boxes and the packaging."""

    packaging_intact = forms.TypedChoiceField(
        label=_("packaging intact"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Receipt
        fields = [
            "delivery_note", "boxes_expected", "boxes_counted", "packaging_intact",
            "packaging_note", "note",
        ]  # fmt: skip
        widgets = {"packaging_note": forms.TextInput(), "note": forms.TextInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["packaging_note"].help_text = _(
            "Required when the boxes or the packaging are not as expected."
        )
        self.fields["packaging_intact"].widget.attrs["class"] = "form-check-input"

    def _post_clean(self):
        # The service builds and checks the receipt; the form only parses.
        pass


class ReceiptLineCheckForm(BootstrapFormMixin, forms.Form):
    """One outstanding order line as counted at the dock."""

    received_quantity = forms.DecimalField(
        label=_("counted"),
        max_digits=12,
        decimal_places=3,
        required=False,
        widget=QUANTITY_INPUT,
    )
    damaged_quantity = forms.DecimalField(
        label=_("damaged"),
        max_digits=12,
        decimal_places=3,
        required=False,
        widget=QUANTITY_INPUT,
    )
    note = forms.CharField(label=_("note"), max_length=200, required=False)
    checked = forms.BooleanField(label=_("checked"), required=False)

    def __init__(self, *args, order_line: PurchaseOrderLine, **kwargs):
        self.order_line = order_line
        super().__init__(*args, prefix=f"line-{order_line.pk}", **kwargs)

    def entry(self) -> dict:
        data = self.cleaned_data
        return {
            "order_line": self.order_line,
            "received_quantity": data.get("received_quantity"),
            "damaged_quantity": data.get("damaged_quantity"),
            "note": data.get("note", ""),
            "checked": data.get("checked", False),
        }


class PutAwayForm(BootstrapFormMixin, forms.Form):
    """A free bin for each accepted line whose part has no bin at the branch yet."""

    def __init__(self, *args, lines: list[ReceiptLine], free_bins, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[self.field_name(line)] = forms.ModelChoiceField(
                label=str(line.part),
                queryset=free_bins,
                required=False,
                empty_label=_("— free bin —"),
            )
        bootstrap_widgets(self, mark_errors=False)

    @staticmethod
    def field_name(line: ReceiptLine) -> str:
        return f"bin-{line.pk}"

    def bins(self) -> dict[int, Bin]:
        return {
            line.pk: self.cleaned_data[self.field_name(line)]
            for line in self.lines
            if self.cleaned_data.get(self.field_name(line))
        }
