"""Lead page forms: capture and edit, follow-up activities, assignment, closing, trade-ins.

Field validation comes from the models; every rule of the funnel is the services' to refuse.
"""

from django import forms
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.forms import DATE_INPUT
from customers.models import Customer
from dealer_crm.filters import plain_id
from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import Branch, display_name
from dealer_crm.pii import mask_phone

from ..choices import ActivityKind, ActivityOutcome, LeadSource, LostReason, TradeInDecision
from ..models import Activity, Lead, TradeIn
from ..services import ASSIGNABLE_ROLES, LEAD_EDITABLE_FIELDS, TRADE_IN_FIELDS

# How many owners the referrer search offers at once.
REFERRER_CHOICES_LIMIT = 20


def sales_staff(branch: Branch) -> QuerySet[User]:
    """The people a lead of this branch may be assigned to: its active sales staff."""
    return (
        User.objects.filter(
            is_active=True, groups__name__in=ASSIGNABLE_ROLES, staff__branches=branch
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def referrer_label(customer: Customer) -> str:
    """How a referring owner appears in the choice: name, masked phone and record number."""
    return f"{customer.name} · {mask_phone(customer.mobile)} (#{customer.pk})"


class LeadForm(BootstrapFormMixin, forms.ModelForm):
    """New lead or edit. The referrer is one of the branch's customers; the select offers only
    the current choice and whatever the search next to it finds, so a branch with twenty
    thousand owners does not send them all with every form."""

    SECTIONS = [
        (_("Who"), ["name", "mobile"]),
        (
            _("What they want"),
            ["model_of_interest", "budget", "intent_level", "expected_purchase_date"],
        ),
        (_("Where the lead came from"), ["source", "referrer", "consultant"]),
        (_("Note"), ["note"]),
    ]

    class Meta:
        model = Lead
        fields = [*LEAD_EDITABLE_FIELDS, "consultant"]
        widgets = {
            "expected_purchase_date": DATE_INPUT,
            "note": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, branch: Branch, may_assign: bool, **kwargs):
        super().__init__(*args, **kwargs)
        referrer = self.fields["referrer"]
        referrer.queryset = Customer.objects.active().filter(branch=branch)
        referrer.label_from_instance = referrer_label
        referrer.help_text = _("For a referral: search the owner by name or phone digits.")
        chosen = self["referrer"].value() if self.is_bound else self.initial.get("referrer")
        chosen = plain_id(chosen)
        offered = referrer.queryset.filter(pk=chosen) if chosen else []
        referrer.widget.choices = [("", "---------")] + [
            (customer.pk, referrer_label(customer)) for customer in offered
        ]
        self.fields["mobile"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})
        self.fields["name"].widget.attrs["autofocus"] = True
        if not self.instance.pk:
            self.fields["source"].initial = LeadSource.WALK_IN  # the front desk's usual case
        # A new lead goes to the person entering it unless a manager names someone; an existing
        # lead changes hands through the assignment, never through the edit form.
        if may_assign and not self.instance.pk:
            self.fields["consultant"].queryset = sales_staff(branch)
            self.fields["consultant"].label_from_instance = display_name
            self.fields["consultant"].help_text = _("Leave empty to take the lead yourself.")
        else:
            del self.fields["consultant"]

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


class ReferrerSearchForm(forms.Form):
    """The referrer search next to the lead form (htmx): part of a name or 4+ phone digits."""

    referrer_search = forms.CharField(max_length=50, required=False)


class ActivityForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Activity
        fields = ["kind", "outcome", "note", "next_follow_up_on"]
        widgets = {"next_follow_up_on": DATE_INPUT}
        labels = {"next_follow_up_on": _("next follow-up (optional)")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].initial = ActivityKind.CALL
        self.fields["outcome"].initial = ActivityOutcome.REACHED
        self.fields["next_follow_up_on"].help_text = _(
            "Empty: the intent level sets the next date."
        )
        self.fields["next_follow_up_on"].widget.attrs["min"] = timezone.localdate().isoformat()
        self.fields["note"].widget.attrs["placeholder"] = _(
            "What was said, what was agreed, what they are comparing"
        )


class VerifyForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(label=_("note"), max_length=500, required=False)


class AssignForm(BootstrapFormMixin, forms.Form):
    consultant = forms.ModelChoiceField(queryset=User.objects.none(), label=_("sales consultant"))

    def __init__(self, *args, branch: Branch, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consultant"].queryset = sales_staff(branch)
        self.fields["consultant"].label_from_instance = display_name


class LoseForm(BootstrapFormMixin, forms.Form):
    reason = forms.ChoiceField(
        label=_("lost reason"), choices=[("", "---------"), *LostReason.choices], required=False
    )
    note = forms.CharField(
        label=_("note"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Which brand or dealer, what price, what would have changed their mind."),
    )


class InvalidateForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(
        label=_("why the lead is invalid"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("A wrong number, a test entry, a dealer calling…"),
    )


class LinkCustomerForm(forms.Form):
    """Empty customer: make a new customer from the lead."""

    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.for_user(user)


class TradeInForm(BootstrapFormMixin, forms.ModelForm):
    SECTIONS = [
        (_("The car"), ["brand", "series", "model_year", "vin", "plate", "odometer_km"]),
        (
            _("Appraisal"),
            ["condition_note", "appraised_value", "offered_value", "appraised_on"],
        ),
    ]

    class Meta:
        model = TradeIn
        fields = TRADE_IN_FIELDS
        widgets = {"appraised_on": DATE_INPUT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vin"].widget.attrs.update(
            {"maxlength": 17, "style": "text-transform:uppercase", "autocomplete": "off"}
        )


class TradeInDecideForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            (TradeInDecision.ACCEPTED, TradeInDecision.ACCEPTED.label),
            (TradeInDecision.DECLINED, TradeInDecision.DECLINED.label),
        ]
    )
