"""Form helpers shared by every app's pages."""

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Branch
from .periods import MAX_PERIOD_DAYS, PERIODS, PRESET_PERIODS, period_bounds
from .scoping import branch_ids_for


def bootstrap_widgets(form: forms.BaseForm, *, mark_errors: bool = True) -> forms.BaseForm:
    """Give every widget Bootstrap's classes, and mark invalid fields once validated."""
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        if mark_errors and form.is_bound and name in form.errors:
            css += " is-invalid"
        widget.attrs["class"] = css
    return form


class BootstrapFormMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Not validated here: a subclass may still narrow its fields' choices after this.
        bootstrap_widgets(self, mark_errors=False)

    def full_clean(self):
        super().full_clean()
        bootstrap_widgets(self)

    def sections(self) -> list[tuple[str, list]]:
        """(title, bound fields) for each of the form's `SECTIONS`, in order."""
        return [
            (title, [self[name] for name in names if name in self.fields])
            for title, names in self.SECTIONS
        ]


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

    @classmethod
    def for_request(cls, request, **kwargs) -> "FiguresForm":
        """The form bound to the page's query: this month unless another period is picked,
        a preset's dates shown in the date inputs."""
        data = request.GET.copy()
        data.setdefault("period", "this_month")
        if data["period"] in PRESET_PERIODS:
            start, end = period_bounds(data["period"], timezone.localdate())
            data["start"], data["end"] = start.isoformat(), end.isoformat()
        return cls(data, user=request.user, **kwargs)

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


class KpiTargetForm(BootstrapFormMixin, forms.Form):
    """A month's target of a figure for a branch, or one person in it."""

    code = forms.ChoiceField(label=_("Figure"))
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=Branch.objects.none())
    person = forms.ModelChoiceField(
        label=_("Person"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("The whole branch"),
    )
    month = forms.DateField(
        label=_("Month"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput({"type": "month"}, "%Y-%m"),
    )
    value = forms.DecimalField(
        label=_("Target"),
        max_digits=20,
        decimal_places=4,
        help_text=_("A rate's target is a share: 0.99 for 99%."),
    )

    def __init__(self, *args, user, figures, **kwargs):
        super().__init__(*args, **kwargs)
        branch_ids = branch_ids_for(user)
        self.fields["code"].choices = [(kpi.code, kpi.name) for kpi in figures]
        self.fields["branch"].queryset = Branch.objects.filter(pk__in=branch_ids).order_by("code")
        self.fields["person"].queryset = (
            User.objects.filter(is_active=True, staff__branches__in=branch_ids)
            .distinct()
            .order_by("username")
        )
