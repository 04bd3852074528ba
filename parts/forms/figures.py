"""The parts figures page's choice of period and branch."""

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django import forms
from django.utils.translation import gettext_lazy as _

from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import Branch
from dealer_crm.scoping import branch_ids_for

PERIODS = [
    ("this_month", _("This month")),
    ("last_month", _("Last month")),
    ("this_year", _("This year")),
    ("custom", _("Custom")),
]
PRESET_PERIODS = [key for key, _label in PERIODS if key != "custom"]
# A longer custom period is most likely a typing slip (2205 for 2025).
MAX_PERIOD_DAYS = 5 * 366


def period_bounds(period: str, today: date) -> tuple[date, date]:
    """The first and last day a preset period stands for; a period in progress ends today."""
    month_start = today.replace(day=1)
    if period == "last_month":
        start = month_start - relativedelta(months=1)
        return start, month_start - timedelta(days=1)
    if period == "this_year":
        return today.replace(month=1, day=1), today
    return month_start, today


class FiguresForm(BootstrapFormMixin, forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False)
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput({"type": "date"}, "%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput({"type": "date"}, "%Y-%m-%d")
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"), queryset=Branch.objects.none(), required=False, empty_label=_("All")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.filter(
            pk__in=branch_ids_for(user)
        ).order_by("code")

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        # A preset's dates were filled in by the page; a custom period brings its own.
        if not (start and end):
            if not self.errors:
                raise forms.ValidationError(_("Give both dates of a custom period."))
            return data
        if end < start:
            self.add_error("end", _("The period ends before it starts."))
        elif (end - start).days >= MAX_PERIOD_DAYS:
            self.add_error("start", _("A period covers at most five years."))
        return data
