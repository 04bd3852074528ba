"""Satisfaction index pages (层次分析法): the models of your branches with this month's index,
a new model, one model with its criteria tree and a comparison grid for each set of siblings
(weights, λmax, CI and CR once accepted; the CR of a refused one), the index of a period by
branch, advisor and month with the answers behind it, and a call's survey. As thin as the
API: parse, call a service, render."""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dealer_crm.audit import history_entries
from dealer_crm.errors import DomainError
from dealer_crm.filters import number_pk
from dealer_crm.forms import FiguresForm, bootstrap_widgets
from dealer_crm.models import Branch
from dealer_crm.pages import call_service, paginate
from dealer_crm.periods import add_months, period_bounds
from dealer_crm.scoping import branch_ids_for, working_branch

from .. import services
from ..choices import CallStatus
from ..forms.satisfaction import (
    AnswerFilterForm,
    CriterionForm,
    MatrixForm,
    SatisfactionModelForm,
    SurveyForm,
)
from ..models import ComparisonMatrix, Criterion, FollowUpCall, SatisfactionModel, SurveyAnswer

# --- The models and this month's index ------------------------------------------------------


@login_required
@permission_required("care.view_satisfactionmodel", raise_exception=True)
def satisfaction_home(request):
    branch_ids = branch_ids_for(request.user)
    models = (
        SatisfactionModel.objects.for_user(request.user)
        .select_related("branch", "created_by")
        .annotate(criteria_count=Count("criteria"))
        .order_by("branch__code", "-active", "-created_at", "-pk")
    )
    start, end = period_bounds("this_month", timezone.localdate())
    names = dict(Branch.objects.filter(pk__in=branch_ids).values_list("pk", "name"))
    month = services.satisfaction_indexes(branch_ids=branch_ids, start=start, end=end, by="branch")
    return render(
        request,
        "care/satisfaction_list.html",
        {
            "page": paginate(request, models),
            "month": [{**row, "name": names[row["key"]]} for row in month],
            "month_start": start,
            "today": end,
        },
    )


@login_required
@permission_required("care.add_satisfactionmodel", raise_exception=True)
@require_http_methods(["GET", "POST"])
def model_create(request):
    branch = working_branch(request)
    form = SatisfactionModelForm(
        request.POST or None, user=request.user, initial={"branch": branch and branch.pk}
    )
    if request.method == "POST" and form.is_valid():
        model = call_service(
            form,
            lambda: services.satisfaction_model_create(
                branch=form.cleaned_data["branch"], name=form.cleaned_data["name"], by=request.user
            ),
        )
        if model:
            messages.success(
                request,
                _("Model %(name)s created: add its criteria, then compare them.")
                % {"name": model.name},
            )
            return redirect("care:satisfaction-model", pk=model.pk)
    bootstrap_widgets(form)
    return render(
        request,
        "care/satisfaction_form.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


# --- One model: its criteria and their comparisons --------------------------------------------


@dataclass
class SiblingSet:
    """The criteria compared together: the top level, or the sub-criteria of one criterion."""

    parent: Criterion | None
    criteria: list[Criterion]
    matrix: ComparisonMatrix | None
    form: MatrixForm | None

    @property
    def key(self) -> str:
        return str(self.parent.pk) if self.parent else "top"

    @property
    def refused(self) -> DomainError | None:
        return getattr(self.form, "domain_error", None)


def _load(request, pk: int) -> SatisfactionModel:
    return SatisfactionModel.objects.select_related("branch", "created_by").get_for_user_or_404(
        request.user, pk=pk
    )


def _model_page(request, model: SatisfactionModel, *, status: int = 200, posted=None, **forms):
    """The model's page; a form that failed (`posted`: the parent key and the grid) comes
    back bound, with its errors."""
    criteria = list(model.criteria.all())
    matrices = {matrix.parent_id: matrix for matrix in model.matrices.select_related("entered_by")}
    weights = services.criterion_weights(criteria, list(matrices.values()))
    can_change = request.user.has_perm("care.change_satisfactionmodel")
    children: dict[int | None, list[Criterion]] = {}
    for criterion in criteria:
        criterion.local_weight, criterion.global_weight = weights[criterion.pk]
        children.setdefault(criterion.parent_id, []).append(criterion)
    for criterion in criteria:
        criterion.subcriteria = children.get(criterion.pk, [])
    sets = []
    for parent in [None, *children.get(None, [])]:
        parent_id = parent.pk if parent else None
        members = children.get(parent_id, [])
        if len(members) < 2:
            continue
        each = SiblingSet(parent, members, matrices.get(parent_id), None)
        if posted and posted[0] == each.key:
            each.form = posted[1]
        elif can_change:
            each.form = MatrixForm(criteria=members, matrix=each.matrix)
        sets.append(each)
    in_use = model.activated_at is not None
    return render(
        request,
        "care/satisfaction_model.html",
        {
            "model": model,
            "top": children.get(None, []),
            "sets": sets,
            "can_change": can_change,
            "in_use": in_use,
            "criterion_form": forms.get("criterion_form")
            or (CriterionForm(model=model) if can_change and not in_use else None),
            "missing": [
                each.parent.name if each.parent else _("the top-level criteria")
                for each in sets
                if each.matrix is None
            ],
            "cr_limit": services.CR_LIMIT,
            "history": history_entries(model, show_pii=False),
        },
        status=status,
    )


@login_required
@permission_required("care.view_satisfactionmodel", raise_exception=True)
def model_detail(request, pk: int):
    return _model_page(request, _load(request, pk))


def _refused(request, form) -> int:
    """After a refused POST: a refused state change is said at the top; the answer carries
    the refusal's status (400, or 409)."""
    error = getattr(form, "domain_error", None)
    if error is not None and error.status_code == 409:
        messages.error(request, str(error.message))
    return error.status_code if error else 400


@login_required
@permission_required("care.change_satisfactionmodel", raise_exception=True)
@require_POST
def criterion_add(request, pk: int):
    model = _load(request, pk)
    form = CriterionForm(request.POST, model=model)
    added = form.is_valid() and call_service(
        form,
        lambda: services.criterion_add(
            model=model,
            name=form.cleaned_data["name"],
            parent=form.cleaned_data["parent"],
            by=request.user,
        ),
    )
    if not added:
        bootstrap_widgets(form)
        return _model_page(
            request, _load(request, pk), status=_refused(request, form), criterion_form=form
        )
    messages.success(request, _("Criterion %(name)s added.") % {"name": added.name})
    return redirect(f"{reverse('care:satisfaction-model', args=[pk])}#criteria")


@login_required
@permission_required("care.change_satisfactionmodel", raise_exception=True)
@require_POST
def matrix_set(request, pk: int):
    model = _load(request, pk)
    key = request.POST.get("parent", "")
    parent = None
    if key != "top":
        parent = Criterion.objects.filter(model=model, pk=number_pk(key)).first()
        if parent is None:
            messages.error(request, _("Choose the criteria to compare on the page."))
            return redirect("care:satisfaction-model", pk=pk)
    members = list(model.criteria.filter(parent=parent))
    if len(members) < 2:
        messages.error(request, _("Add at least two criteria here before comparing them."))
        return redirect("care:satisfaction-model", pk=pk)
    form = MatrixForm(request.POST, criteria=members, matrix=None)
    matrix = form.is_valid() and call_service(
        form,
        lambda: services.comparison_matrix_set(
            model=model, parent=parent, values=form.values(), by=request.user
        ),
    )
    if not matrix:
        return _model_page(
            request, _load(request, pk), status=_refused(request, form), posted=(key, form)
        )
    messages.success(
        request,
        _("Comparisons saved: CR = %(cr)s, consistent enough (under 0.10).")
        % {"cr": f"{matrix.cr:.3f}"},
    )
    return redirect(f"{reverse('care:satisfaction-model', args=[pk])}#set-{key}")


@login_required
@permission_required("care.change_satisfactionmodel", raise_exception=True)
@require_POST
def model_activate(request, pk: int):
    model = _load(request, pk)
    try:
        services.model_activate(model=model, by=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
        return _model_page(request, _load(request, pk), status=error.status_code)
    messages.success(
        request,
        _("%(name)s is now the active model of %(branch)s: the call surveys score its criteria.")
        % {"name": model.name, "branch": model.branch.name},
    )
    return redirect("care:satisfaction-model", pk=pk)


# --- The index of a period and the answers behind it ------------------------------------------


def _answers_url(**query) -> str:
    return f"{reverse('care:satisfaction-answers')}?{urlencode(query)}"


@login_required
@permission_required("care.view_satisfactionmodel", raise_exception=True)
def index_page(request):
    form = FiguresForm.for_request(request)
    form.is_valid()
    context = {"form": form, "report": None}
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        chosen = form.cleaned_data["branch"]
        branch_ids = [chosen.pk] if chosen else branch_ids_for(request.user)
        report = services.satisfaction_report(branch_ids=branch_ids, start=start, end=end)
        period = {"start": start.isoformat(), "end": end.isoformat()}
        scope = {"branch": chosen.pk} if chosen else {}
        can_drill = request.user.has_perm("care.view_surveyanswer")
        for row in report["branches"]:
            row["url"] = can_drill and _answers_url(**period, branch=row["branch"])
        for row in report["advisors"]:
            row["url"] = (
                can_drill
                and row["advisor"]
                and _answers_url(**period, **scope, advisor=row["advisor"])
            )
        for row in report["months"]:
            month_end = add_months(row["month"], 1) - timedelta(days=1)
            row["url"] = can_drill and _answers_url(
                start=max(start, row["month"]).isoformat(),
                end=min(end, month_end).isoformat(),
                **scope,
            )
        for row in report["per_criterion"]:
            row["url"] = (
                can_drill
                and row["answers"]
                and _answers_url(**period, **scope, criterion=row["criterion"])
            )
        context.update(
            report=report,
            start=start,
            end=end,
            all_answers_url=can_drill and _answers_url(**period, **scope),
        )
    return render(request, "care/satisfaction_index.html", context)


@login_required
@permission_required("care.view_surveyanswer", raise_exception=True)
def answer_list(request):
    form = AnswerFilterForm(request.GET or None, user=request.user)
    answers = SurveyAnswer.objects.for_user(request.user).select_related(
        "customer", "criterion__parent", "advisor", "call", "branch"
    )
    if form.is_valid():
        data = form.cleaned_data
        lookups = {
            "answered_on__gte": data["start"],
            "answered_on__lte": data["end"],
            "branch": data["branch"],
            "advisor": data["advisor"],
            "criterion": data["criterion"],
        }
        answers = answers.filter(**{key: value for key, value in lookups.items() if value})
    return render(
        request,
        "care/satisfaction_answers.html",
        {
            "form": form,
            "page": paginate(request, answers.order_by("-answered_on", "-pk")),
            "many_branches": len(branch_ids_for(request.user)) > 1,
        },
    )


# --- A call's survey ---------------------------------------------------------------------------


@login_required
@permission_required("care.add_surveyanswer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def call_survey(request, pk: int):
    call = FollowUpCall.objects.select_related("customer", "branch").get_for_user_or_404(
        request.user, pk=pk
    )
    model = SatisfactionModel.objects.filter(branch_id=call.branch_id, active=True).first()
    leaves = []
    if model is not None:
        criteria = list(model.criteria.select_related("parent"))
        parents = {criterion.parent_id for criterion in criteria}
        leaves = sorted(
            (criterion for criterion in criteria if criterion.pk not in parents),
            key=lambda c: (c.parent.position if c.parent else c.position, c.position),
        )
    form = SurveyForm(request.POST or None, leaves=leaves)
    status = 200
    if request.method == "POST":
        recorded = form.is_valid() and call_service(
            form,
            lambda: services.survey_answers_record(
                call=call, answers=form.answers(), by=request.user
            ),
        )
        if recorded:
            messages.success(
                request,
                _("Survey of %(customer)s recorded: %(count)s scores.")
                % {"customer": call.customer.name, "count": len(recorded)},
            )
            return redirect("care:call-detail", pk=call.pk)
        status = _refused(request, form)
    return render(
        request,
        "care/satisfaction_survey.html",
        {
            "call": call,
            "model": model,
            "form": form,
            "is_done": call.status == CallStatus.DONE,
            "answered": list(
                call.survey_answers.select_related("criterion__parent").order_by("pk")
            ),
        },
        status=status,
    )
