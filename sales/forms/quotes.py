"""Quote forms: the priced quote a consultant drafts from a lead, and a manager's decision."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.templatetags.crm import money

from ..choices import TradeInDecision
from ..models import Lead, Quote, StockVehicle, TradeIn

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY_INPUT = forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"})
# The fields whose sum is the quote's total; the page's live preview adds them up as typed.
PRICE_FIELDS = [
    "list_price",
    "discount",
    "accessories_price",
    "insurance_price",
    "registration_fee",
]
VALID_FOR_DAYS = 7


def trade_in_label(trade_in: TradeIn) -> str:
    return _("%(car)s · offered %(value)s CNY (%(decision)s)") % {
        "car": trade_in,
        "value": trade_in.offered_value,
        "decision": trade_in.get_decision_display(),
    }


class QuoteForm(BootstrapFormMixin, forms.ModelForm):
    SECTIONS = [
        (_("Vehicle"), ["brand", "series", "configuration", "colour"]),
        (_("Price"), ["list_price", "discount", "accessories", "accessories_price"]),
        (_("Insurance and registration"), ["insurance_price", "registration_fee"]),
        (_("Financing"), ["financing_plan", "loan_amount", "loan_term_months"]),
        (_("Trade-in"), ["trade_in"]),
        (_("Validity"), ["valid_until", "note"]),
    ]

    class Meta:
        model = Quote
        fields = Quote.PRICED_FIELDS
        widgets = {
            "valid_until": DATE_INPUT,
            **{name: MONEY_INPUT for name in [*PRICE_FIELDS, "loan_amount"]},
        }

    def __init__(self, *args, lead: Lead, **kwargs):
        self.lead = lead
        super().__init__(*args, **kwargs)
        # The lead's own trade-ins that may still count: accepted, or awaiting the customer.
        trade_ins = lead.trade_ins.filter(
            decision__in=[TradeInDecision.ACCEPTED, TradeInDecision.PENDING]
        ).order_by("-appraised_on", "-id")
        field = self.fields["trade_in"]
        field.queryset = trade_ins
        field.label_from_instance = trade_in_label
        field.empty_label = _("No trade-in")
        field.help_text = _(
            "Only an accepted trade-in is credited; a pending one counts once the customer accepts."
        )
        self.fields["discount"].help_text = _(
            "Above %(limit)s CNY a sales manager must approve before the quote is sent."
        ) % {"limit": money(lead.branch.quote_discount_limit)}
        self.fields["accessories"].widget.attrs["placeholder"] = _("e.g. floor mats, window film")
        self.fields["loan_term_months"].widget.attrs.update({"min": 1, "max": 120})
        if not self.instance.pk:
            self.initial.setdefault("series", lead.model_of_interest)
            # The branch's latest stock of the model gives brand, configuration and price.
            stocked = (
                StockVehicle.objects.filter(branch=lead.branch, series=lead.model_of_interest)
                .order_by("-id")
                .first()
            )
            if stocked is not None:
                for name in ("brand", "configuration", "list_price"):
                    self.initial.setdefault(name, getattr(stocked, name))
            self.initial.setdefault(
                "valid_until", timezone.localdate() + timedelta(days=VALID_FOR_DAYS)
            )

    def validate_unique(self):
        # A trade-in already on another quote is refused by the service, naming that quote.
        pass

    def trade_in_credits(self) -> dict[str, str]:
        """For the live preview: what each offered trade-in takes off the total."""
        return {
            str(trade_in.pk): str(trade_in.offered_value)
            if trade_in.decision == TradeInDecision.ACCEPTED
            else "0"
            for trade_in in self.fields["trade_in"].queryset
        }

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in Quote.PRICED_FIELDS}


class QuoteDecisionForm(BootstrapFormMixin, forms.Form):
    """A manager's approval or rejection; a rejection says why (the service insists)."""

    note = forms.CharField(
        label=_("note"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class QuoteSubmitForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(
        label=_("note for the sales manager"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
