"""Stock forms: a branch's stock levels of a part, the bin it is kept in, a new bin."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from dealer_crm.forms import BootstrapFormMixin

from ..models import Bin, PartStock

QUANTITY_INPUT = forms.NumberInput(attrs={"step": "any", "min": "0"})


def quantity(label) -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=12, decimal_places=3, widget=QUANTITY_INPUT)


def plain(value: Decimal) -> Decimal:
    """20.000 as 20 and 1.500 as 1.5 (normalize alone would write 20 as 2E+1)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


class StockLevelsForm(BootstrapFormMixin, forms.Form):
    min_quantity = quantity(_("minimum"))
    reorder_point = quantity(_("reorder point"))
    max_quantity = quantity(_("maximum"))

    def __init__(self, *args, stock: PartStock, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "min_quantity": plain(stock.min_quantity),
                "reorder_point": plain(stock.reorder_point),
                "max_quantity": plain(stock.max_quantity),
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["max_quantity"].help_text = _("0 means no maximum.")


class BinChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Bin) -> str:
        holder = getattr(obj, "stock", None)
        if holder is None:
            return str(obj)
        return _("%(bin)s — holds %(part)s") % {"bin": obj, "part": holder.part.number}


class BinAssignForm(BootstrapFormMixin, forms.Form):
    """Every bin of the stock row's branch; a taken one is labelled with what it holds, and
    the service says so if it is chosen."""

    bin = BinChoiceField(label=_("bin"), queryset=Bin.objects.none())

    def __init__(self, *args, stock: PartStock, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bin"].queryset = Bin.objects.filter(branch_id=stock.branch_id).select_related(
            "stock__part"
        )
        self.fields["bin"].initial = stock.bin_id


class BinForm(BootstrapFormMixin, forms.Form):
    zone = forms.CharField(label=_("zone"), max_length=10, help_text=_("E.g. A"))
    shelf = forms.CharField(label=_("shelf"), max_length=10, help_text=_("E.g. 03"))
    level = forms.CharField(label=_("level"), max_length=10, help_text=_("E.g. 2"))
