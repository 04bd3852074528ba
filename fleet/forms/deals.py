"""Deal forms: a deal with the models asked for, its stage, pricing a batch, delivering and
settling it, and the discount and special-configuration requests with their decision. Every
rule is the service's; these only parse what was typed."""

from decimal import Decimal

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from dealer_crm.forms import BootstrapFormMixin

from ..choices import DealStage
from ..models import DealLine, FleetAccount, FleetAgreement, FleetDeal

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY = {"max_digits": 12, "decimal_places": 2}
# Anything above this is a typing slip, not a fleet order.
MAX_UNITS = 10_000
# Blank model rows offered on a new deal.
BLANK_DEAL_LINES = 3


def _money_input(minimum: str = "0") -> forms.NumberInput:
    return forms.NumberInput(attrs={"step": "0.01", "min": minimum, "inputmode": "decimal"})


def _units(label) -> forms.IntegerField:
    # No minimum here: a quantity below 1 is the service's refusal, with its own message.
    return forms.IntegerField(
        label=label, max_value=MAX_UNITS, widget=forms.NumberInput(attrs={"min": "1"})
    )


class DealForm(BootstrapFormMixin, forms.ModelForm):
    """The deal's head: the account of one of the user's branches, the tender and the value."""

    class Meta:
        model = FleetDeal
        fields = [
            "account", "title", "tender_on", "procurement_centre", "competitors",
            "expected_value",
        ]  # fmt: skip
        widgets = {"tender_on": DATE_INPUT, "expected_value": _money_input()}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = (
            FleetAccount.objects.for_user(user).select_related("branch").order_by("name")
        )
        self.fields["expected_value"].required = False

    def clean_expected_value(self) -> Decimal:
        return self.cleaned_data.get("expected_value") or Decimal("0")

    def _post_clean(self):
        # The service builds and checks the deal; the form only parses.
        pass

    def service_data(self) -> dict:
        return {key: value for key, value in self.cleaned_data.items() if key != "account"}


class DealLineForm(BootstrapFormMixin, forms.Form):
    """One model the account asks for."""

    brand = forms.CharField(label=_("brand"), max_length=40)
    series = forms.CharField(label=_("model"), max_length=40)
    configuration = forms.CharField(label=_("configuration"), max_length=80, required=False)
    colour = forms.CharField(label=_("colour"), max_length=30, required=False)
    quantity = _units(_("quantity"))


class BaseDealLineFormSet(forms.BaseFormSet):
    def filled(self) -> list[forms.Form]:
        return [form for form in self.forms if form.has_changed() and form.cleaned_data]

    def lines(self) -> list[dict]:
        """The filled rows as the service takes them; blank rows are left out."""
        return [dict(form.cleaned_data) for form in self.filled()]


DealLineFormSet = forms.formset_factory(
    DealLineForm, formset=BaseDealLineFormSet, extra=BLANK_DEAL_LINES, max_num=50,
    validate_max=True,
)  # fmt: skip


class StageForm(BootstrapFormMixin, forms.Form):
    stage = forms.ChoiceField(label=_("stage"), choices=DealStage.choices)
    reason = forms.CharField(
        label=_("why won or lost"),
        max_length=300,
        required=False,
        help_text=_("Required when the deal is won or lost."),
    )


class OrderPriceForm(BootstrapFormMixin, forms.Form):
    """A batch of the deal: up to 50 units on the agreement's tiers, more than 50 a special
    deal negotiated on its own."""

    line = forms.ModelChoiceField(label=_("model"), queryset=DealLine.objects.none())
    quantity = _units(_("units"))
    unit_price = forms.DecimalField(
        label=_("price per vehicle (CNY)"), min_value=Decimal("0"), widget=_money_input(), **MONEY
    )
    agreement = forms.ModelChoiceField(
        label=_("agreement"),
        queryset=FleetAgreement.objects.none(),
        required=False,
        help_text=_("Its volume tiers price a batch of up to 50 units."),
    )
    negotiated_support = forms.DecimalField(
        label=_("negotiated support per unit (CNY)"),
        required=False,
        min_value=Decimal("0"),
        widget=_money_input(),
        help_text=_("Only for a special deal."),
        **MONEY,
    )
    promotion = forms.CharField(label=_("promotion"), max_length=60, required=False)

    def __init__(self, *args, deal, account_ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = deal.lines.all()
        self.fields["agreement"].queryset = FleetAgreement.objects.filter(
            account_id__in=account_ids
        ).select_related("account")


class SettleForm(BootstrapFormMixin, forms.Form):
    amount = forms.DecimalField(label=_("support settled (CNY)"), widget=_money_input(), **MONEY)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].widget.attrs.update(
            {"placeholder": _("CNY"), "aria-label": _("support settled (CNY)")}
        )


class DiscountRequestForm(BootstrapFormMixin, forms.Form):
    discount_per_unit = forms.DecimalField(
        label=_("discount per unit (CNY)"),
        min_value=Decimal("0.01"),
        widget=_money_input("0.01"),
        **MONEY,
    )
    units = _units(_("units"))
    justification = forms.CharField(
        label=_("justification"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class ConfigurationRequestForm(BootstrapFormMixin, forms.Form):
    description = forms.CharField(label=_("colour or configuration"), max_length=200)
    units = _units(_("units"))
    justification = forms.CharField(
        label=_("justification"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class DecideForm(BootstrapFormMixin, forms.Form):
    approve = forms.TypedChoiceField(
        label=_("decision"),
        choices=[("1", _("Approve")), ("0", _("Refuse"))],
        coerce=lambda value: value == "1",
    )
    note = forms.CharField(label=_("note"), max_length=300, required=False)
