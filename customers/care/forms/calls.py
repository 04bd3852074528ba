"""Call-centre forms: an attempt at a follow-up call (what came of it, the customer's score,
an issue raised) and handing a call to a colleague. Every rule is the service's; these only
parse what was typed."""

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import display_name

from ..choices import CallOutcome, ComplaintCategory, Severity
from ..models import FollowUpCall

SCORES = [(score, str(score)) for score in range(1, 6)]


def _choose(choices) -> list[tuple[str, str]]:
    return [("", _("Choose…")), *choices]


class CallAttemptForm(BootstrapFormMixin, forms.Form):
    """One try at the call. Left out, the outcome and the score are the service's to refuse;
    the issue's fields are read only when "issue raised" is ticked."""

    outcome = forms.ChoiceField(
        label=_("outcome"), choices=CallOutcome.choices, required=False, widget=forms.RadioSelect
    )
    score = forms.TypedChoiceField(
        label=_("satisfaction (1–5)"),
        choices=SCORES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("what the customer said"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    issue = forms.BooleanField(label=_("issue raised: open a complaint"), required=False)
    category = forms.ChoiceField(
        label=_("category"), choices=_choose(ComplaintCategory.choices), required=False
    )
    severity = forms.ChoiceField(
        label=_("severity"), choices=_choose(Severity.choices), required=False
    )
    description = forms.CharField(
        label=_("the issue in the customer's words"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def service_data(self) -> dict:
        data = self.cleaned_data
        issue = None
        if data["issue"]:
            issue = {
                "category": data["category"],
                "severity": data["severity"],
                "description": data["description"].strip(),
            }
        return {
            "outcome": data["outcome"],
            "score": data["score"],
            "note": data["note"],
            "issue": issue,
        }


class CallReassignForm(BootstrapFormMixin, forms.Form):
    """The colleague of the call's branch who makes it instead."""

    to = forms.ModelChoiceField(
        label=_("assign to"), queryset=User.objects.none(), empty_label=_("Choose a colleague…")
    )

    def __init__(self, *args, call: FollowUpCall, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["to"]
        field.queryset = (
            User.objects.filter(is_active=True, staff__branches=call.branch_id)
            .exclude(pk=call.assigned_to_id)
            .distinct()
            .order_by("last_name", "first_name", "username")
        )
        field.label_from_instance = display_name
