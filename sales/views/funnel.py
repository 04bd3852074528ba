"""The funnel figures page: a period's leads stage by stage, by source, model, consultant or
month, each figure a link to the leads behind it."""

from datetime import timedelta

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import Branch
from dealer_crm.pages import call_service
from dealer_crm.periods import period_bounds
from dealer_crm.scoping import branch_ids_for

from ..selectors import FUNNEL_DIMENSIONS, funnel_figures

PERIODS = [
    ("this_month", _("This month")),
    ("last_month", _("Last month")),
    ("last_90_days", _("Last 90 days")),
    ("this_year", _("This year")),
    ("custom", _("Custom")),
]
PRESET_PERIODS = [key for key, _label in PERIODS if key != "custom"]
# The lead-list filter that narrows the drill-down to one row of each dimension.
DRILL_DOWN_FILTER = {"source": "source", "model": "model_of_interest", "consultant": "consultant"}


class FunnelForm(BootstrapFormMixin, forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False)
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput({"type": "date"})
    )
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput({"type": "date"}))
    dimension = forms.ChoiceField(label=_("Grouped by"), choices=FUNNEL_DIMENSIONS, required=False)
    branch = forms.ModelChoiceField(
        label=_("Branch"), queryset=Branch.objects.none(), required=False, empty_label=_("All")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.filter(pk__in=branch_ids_for(user))

    def clean(self):
        data = super().clean()
        # A preset's dates were filled in by the page; a custom period brings its own.
        if not (data.get("start") and data.get("end")):
            raise forms.ValidationError(_("Give both dates of a custom period."))
        data["dimension"] = data.get("dimension") or "source"
        return data


def _drill_down(figures: dict, row: dict, branch: Branch | None) -> dict[str, str]:
    """For each stage, the lead list showing the leads counted in this row's figure."""
    start, end = figures["start"], figures["end"]
    dimension, key = figures["dimension"], row["key"]
    query = {"created_after": start.isoformat(), "created_before": end.isoformat()}
    if branch is not None:
        query["branch"] = branch.pk
    if key is not None and dimension == "month":
        month_end = key + relativedelta(months=1) - timedelta(days=1)
        query["created_after"] = max(key, start).isoformat()
        query["created_before"] = min(month_end, end).isoformat()
    elif key is not None:
        query[DRILL_DOWN_FILTER[dimension]] = key
    elif row is not figures["total"] and dimension == "consultant":
        query["consultant"] = "null"  # the leads nobody is assigned to
    base = reverse("sales:lead-list")
    return {
        stage.key: f"{base}?{urlencode({**query, 'stage': stage.key})}"
        for stage in figures["stages"]
    }


@login_required
@permission_required("sales.view_funnel", raise_exception=True)
def funnel_figures_page(request):
    data = request.GET.copy()
    data.setdefault("period", "last_90_days")
    if data["period"] in PRESET_PERIODS:
        # The dates a preset stands for are shown in the date inputs.
        start, end = period_bounds(data["period"], timezone.localdate())
        data["start"], data["end"] = start.isoformat(), end.isoformat()
    form = FunnelForm(data, user=request.user)
    figures = None
    if form.is_valid():
        data = form.cleaned_data
        branch = data.get("branch")
        figures = call_service(
            form,
            lambda: funnel_figures(
                user=request.user,
                start=data["start"],
                end=data["end"],
                dimension=data["dimension"],
                branch_id=branch.pk if branch else None,
            ),
        )
    if figures is not None:
        for row in [*figures["rows"], figures["total"]]:
            links = _drill_down(figures, row, branch)
            row["cells"] = [
                {
                    "count": row["counts"][stage.key],
                    "conversion": row["conversions"].get(stage.key),
                    "url": links[stage.key],
                }
                for stage in figures["stages"]
            ]
        leads = figures["total"]["counts"]["leads"] or 1
        figures["bars"] = [
            {
                "stage": stage,
                "count": figures["total"]["counts"][stage.key],
                "width": max(2, round(100 * figures["total"]["counts"][stage.key] / leads)),
                "conversion": figures["total"]["conversions"].get(stage.key),
                "url": figures["total"]["cells"][index]["url"],
            }
            for index, stage in enumerate(figures["stages"])
        ]
    return render(
        request,
        "sales/funnel.html",
        {"form": form, "figures": figures, "dimensions": FUNNEL_DIMENSIONS},
    )
