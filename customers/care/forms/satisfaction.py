"""Forms of the satisfaction index: a new model, a criterion added to it, the pairwise
comparisons of a set of siblings (their upper triangle, typed on Saaty's scale as 3, 1/3 or
0.5), a call's survey, and the filters of the answers. Every rule is the services'; these
only parse what was typed."""

from dataclasses import dataclass

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import Branch, display_name
from dealer_crm.scoping import branch_ids_for

from .. import services
from ..models import ComparisonMatrix, Criterion, SatisfactionModel

SCORES = [(score, str(score)) for score in range(1, 6)]


class SatisfactionModelForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("name"), max_length=100, required=False)
    branch = forms.ModelChoiceField(label=_("branch"), queryset=Branch.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.filter(
            pk__in=branch_ids_for(user)
        ).order_by("code")


class CriterionForm(BootstrapFormMixin, forms.Form):
    """A criterion of the model, or a sub-criterion under one of its top-level criteria."""

    name = forms.CharField(label=_("name"), max_length=100, required=False)
    parent = forms.ModelChoiceField(
        label=_("under"),
        queryset=Criterion.objects.none(),
        required=False,
        empty_label=_("— none: a top-level criterion —"),
    )

    def __init__(self, *args, model: SatisfactionModel, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = model.criteria.filter(parent=None)


@dataclass
class Cell:
    """A cell of the comparison grid: the diagonal (1), a judgement typed above it, or its
    reciprocal shown below it."""

    kind: str
    field: forms.BoundField | None = None
    text: str = ""
    mirror: str = ""


class MatrixForm(BootstrapFormMixin, forms.Form):
    """The comparisons of a set of siblings: how much more row i matters than column j, for
    each cell above the diagonal; the cells below are their reciprocals."""

    invalid = _("Enter a judgement such as 3, 1/3 or 0.5.")

    def __init__(self, *args, criteria: list[Criterion], matrix: ComparisonMatrix | None, **kwargs):
        kwargs.setdefault("prefix", f"m{criteria[0].parent_id or 'top'}")
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        size = len(criteria)
        entered = matrix.values if matrix and len(matrix.values) == size else None
        for i, j in self.pairs():
            self.fields[f"c{i}_{j}"] = forms.CharField(
                label=_("%(row)s over %(column)s")
                % {"row": criteria[i].name, "column": criteria[j].name},
                max_length=12,
                initial=services.saaty_text(entered[i][j]) if entered else "1",
                error_messages={"required": self.invalid},
                widget=forms.TextInput(
                    {"size": 4, "inputmode": "decimal", "class": "form-control form-control-sm"}
                ),
            )

    def pairs(self) -> list[tuple[int, int]]:
        size = len(self.criteria)
        return [(i, j) for i in range(size) for j in range(i + 1, size)]

    def clean(self):
        data = super().clean()
        for i, j in self.pairs():
            name = f"c{i}_{j}"
            if name in data:
                value = services.saaty_number(data[name])
                if value is None:
                    self.add_error(name, self.invalid)
                else:
                    data[name] = value
        return data

    def values(self) -> list[list[float]]:
        """The whole matrix: 1 on the diagonal, each judgement above it, its reciprocal below
        (a zero stays a zero, for the service to refuse)."""
        size = len(self.criteria)
        matrix = [[1.0] * size for _row in range(size)]
        for i, j in self.pairs():
            value = self.cleaned_data[f"c{i}_{j}"]
            matrix[i][j] = value
            matrix[j][i] = 1 / value if value else 0.0
        return matrix

    def _typed(self, i: int, j: int) -> float | None:
        field = self[f"c{i}_{j}"]
        return services.saaty_number(str(field.value() or ""))

    def grid(self) -> list[tuple[Criterion, list[Cell]]]:
        """Each row's criterion and cells; a cell below the diagonal shows the reciprocal of
        what is typed above it."""
        rows = []
        for i, criterion in enumerate(self.criteria):
            cells = []
            for j in range(len(self.criteria)):
                if i == j:
                    cells.append(Cell("one", text="1"))
                elif i < j:
                    cells.append(Cell("input", field=self[f"c{i}_{j}"], mirror=f"{j}_{i}"))
                else:
                    typed = self._typed(j, i)
                    text = services.saaty_text(1 / typed) if typed else "?"
                    cells.append(Cell("mirror", text=text, mirror=f"{i}_{j}"))
            rows.append((criterion, cells))
        return rows


class SurveyForm(BootstrapFormMixin, forms.Form):
    """The customer's score of each leaf criterion, 1 (not at all) to 5 (very satisfied);
    one left out is simply not asked."""

    def __init__(self, *args, leaves: list[Criterion], **kwargs):
        super().__init__(*args, **kwargs)
        self.leaves = leaves
        for leaf in leaves:
            self.fields[f"criterion_{leaf.pk}"] = forms.TypedChoiceField(
                label=f"{leaf.parent.name} · {leaf.name}" if leaf.parent else leaf.name,
                choices=SCORES,
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )

    def answers(self) -> dict[int, int]:
        return {
            leaf.pk: self.cleaned_data[f"criterion_{leaf.pk}"]
            for leaf in self.leaves
            if self.cleaned_data.get(f"criterion_{leaf.pk}") is not None
        }


class AnswerFilterForm(BootstrapFormMixin, forms.Form):
    """Which answers the list shows: a period, a branch, who served the customers, a
    criterion."""

    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput({"type": "date"}, "%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput({"type": "date"}, "%Y-%m-%d")
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"), queryset=Branch.objects.none(), required=False, empty_label=_("All")
    )
    advisor = forms.ModelChoiceField(
        label=_("served by"), queryset=User.objects.none(), required=False, empty_label=_("All")
    )
    criterion = forms.ModelChoiceField(
        label=_("criterion"), queryset=Criterion.objects.none(), required=False,
        empty_label=_("All"),
    )  # fmt: skip

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        branch_ids = branch_ids_for(user)
        self.fields["branch"].queryset = Branch.objects.filter(pk__in=branch_ids).order_by("code")
        advisor = self.fields["advisor"]
        advisor.queryset = (
            User.objects.filter(staff__branches__in=branch_ids)
            .distinct()
            .order_by("last_name", "first_name", "username")
        )
        advisor.label_from_instance = display_name
        criterion = self.fields["criterion"]
        criterion.queryset = Criterion.objects.for_user(user).select_related("parent", "model")
        criterion.label_from_instance = lambda leaf: " · ".join(
            name for name in (leaf.model.name, leaf.parent and leaf.parent.name, leaf.name) if name
        )
