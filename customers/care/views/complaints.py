"""Complaint (投诉) and inquiry (咨询, 建议) pages: the complaints with their deadlines and
escalation, a new one for a customer found by the picker, one complaint walked through its
steps respond → resolve (a manager) → confirm (the customer's words); the inquiries and
suggestions with the answer given in the list, and a new one. As thin as the API: parse, call
a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_http_methods

from customers.models import Customer
from customers.selectors import customers_matching
from dealer_crm.audit import history_entries
from dealer_crm.filters import plain_id
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.pages import apply_filters, call_service, paginate, sort
from dealer_crm.pii import can_view_pii
from dealer_crm.scoping import branch_ids_for, working_branch
from parts.forms.ordering import CUSTOMER_CHOICES_LIMIT, CustomerSearchForm, vehicle_choices

from .. import services
from ..choices import ComplaintStatus, Severity
from ..filters import ComplaintFilter, InquiryFilter
from ..forms.complaints import (
    STEP_FORMS,
    AnswerForm,
    ComplaintForm,
    InquiryForm,
    severity_deadlines,
    work_order_choices,
)
from ..models import Complaint, Inquiry

COMPLAINT_SORTS = {
    "number": "id",
    "received": "received_at",
    "customer": "customer__name",
    "severity": "severity_rank",
    "respond": "respond_by",
    "resolve": "resolve_by",
    "escalation": "escalation_level",
    "status": "status",
}
INQUIRY_SORTS = {"received": "received_at", "kind": "kind", "customer": "customer__name"}
# Severity from the least to the most severe, to sort by.
SEVERITY_RANK = Case(
    *[When(severity=value, then=Value(rank)) for rank, value in enumerate(Severity.values)],
    output_field=IntegerField(),
)
# The statuses in which the page offers each step, and the permission it takes besides
# changing complaints (the service decides; this only hides forms).
STEP_OFFERED = {
    "respond": ([ComplaintStatus.OPEN], "care.change_complaint"),
    "resolve": ([ComplaintStatus.OPEN, ComplaintStatus.RESPONDED], "care.resolve_complaint"),
    "confirm": ([ComplaintStatus.RESOLVED], "care.change_complaint"),
}
STEP_DONE = {
    "respond": gettext_lazy("First response recorded: a manager resolves the complaint next."),
    "resolve": gettext_lazy("Resolution recorded: ask the customer to confirm it."),
    "confirm": gettext_lazy(
        "Complaint closed with the customer: a follow-up call falls due in %(days)s days."
    ),
}


def _mark_deadlines(complaint: Complaint, now) -> Complaint:
    """Whether each deadline is missed now: no first response by the respond-by time, not
    resolved by the resolve-by time."""
    complaint.respond_late = complaint.status == ComplaintStatus.OPEN and complaint.respond_by < now
    complaint.resolve_late = (
        complaint.status in (ComplaintStatus.OPEN, ComplaintStatus.RESPONDED)
        and complaint.resolve_by < now
    )
    return complaint


def _no_branch(request, back: str):
    messages.error(request, _("Your account is not linked to any branch."))
    return redirect(back)


def _customer_options(request, branch, *, records: bool):
    """The customer select's options for what was typed in the search box (htmx); with
    `records`, the vehicles and work orders of the only match too."""
    search = CustomerSearchForm(request.GET)
    term = search.cleaned_data["customer_search"].strip() if search.is_valid() else ""
    customers = customers_matching(branch=branch, term=term, limit=CUSTOMER_CHOICES_LIMIT)
    if not records:
        return render(
            request,
            "parts/emergency_customer_options.html",
            {"customers": customers, "term": term},
        )
    only = customers[0] if len(customers) == 1 else None
    return render(
        request,
        "care/complaint_customer_options.html",
        {
            "customers": customers,
            "term": term,
            "oob": True,
            "vehicles": vehicle_choices(only),
            "work_orders": work_order_choices(only, branch.pk),
        },
    )


# --- Complaints ----------------------------------------------------------------------------


@login_required
@permission_required("care.view_complaint", raise_exception=True)
def complaint_list(request):
    complaints = (
        Complaint.objects.for_user(request.user)
        .select_related("branch", "customer", "owner")
        .annotate(severity_rank=SEVERITY_RANK)
    )
    filterset, complaints = apply_filters(request, ComplaintFilter, complaints)
    many_branches = len(branch_ids_for(request.user)) > 1
    if not many_branches:
        del filterset.form.fields["branch"]
    complaints, current_sort = sort(request, complaints, COMPLAINT_SORTS, "-received")
    page = paginate(request, complaints)
    now = timezone.now()
    for complaint in page.object_list:
        _mark_deadlines(complaint, now)
    chosen = plain_id(request.GET.get("customer"))
    return render(
        request,
        "care/complaint_list.html",
        {
            "filterset": filterset,
            "page": page,
            "sort": current_sort,
            "statuses": ComplaintStatus.choices,
            "chosen_statuses": request.GET.getlist("status"),
            "severities": Severity.choices,
            "chosen_severities": request.GET.getlist("severity"),
            "many_branches": many_branches,
            "customer": (
                Customer.objects.for_user(request.user).filter(pk=chosen).first()
                if chosen
                else None
            ),
        },
    )


def _complaint_records(request, branch, customer):
    """The chosen customer's vehicles and work orders (htmx), when the customer changes."""
    return render(
        request,
        "care/complaint_records_options.html",
        {
            "vehicles": vehicle_choices(customer),
            "work_orders": work_order_choices(customer, branch.pk),
        },
    )


@login_required
@permission_required("care.add_complaint", raise_exception=True)
@require_http_methods(["GET", "POST"])
def complaint_create(request):
    branch = working_branch(request)
    if branch is None:
        return _no_branch(request, "care:complaint-list")
    if request.method == "GET" and "customer_search" in request.GET:
        return _customer_options(request, branch, records=True)
    if request.method == "GET" and "records" in request.GET:
        chosen = plain_id(request.GET.get("customer"))
        customer = (
            Customer.objects.active().filter(branch=branch, pk=chosen).first() if chosen else None
        )
        return _complaint_records(request, branch, customer)
    form = ComplaintForm(
        request.POST or None,
        branch=branch,
        initial={"customer": plain_id(request.GET.get("customer")), "owner": request.user.pk},
    )
    if request.method == "POST" and form.is_valid():
        complaint = call_service(
            form,
            lambda: services.complaint_create(
                branch=branch,
                customer=form.cleaned_data["customer"],
                by=request.user,
                data=form.service_data(),
            ),
        )
        if complaint:
            messages.success(
                request,
                _("Complaint %(number)s recorded: respond by %(at)s.")
                % {
                    "number": complaint.number,
                    "at": timezone.localtime(complaint.respond_by).strftime("%Y-%m-%d %H:%M"),
                },
            )
            return redirect(complaint)
    bootstrap_widgets(form)  # also marks a field the service refused
    return render(
        request,
        "care/complaint_form.html",
        {"form": form, "branch": branch, "deadlines": severity_deadlines()},
    )


def _load(request, pk: int) -> Complaint:
    return Complaint.objects.select_related(
        "branch", "customer", "vehicle", "owner", "created_by", "resolved_by", "work_order",
        "raised_by_call__assigned_to",
    ).get_for_user_or_404(request.user, pk=pk)  # fmt: skip


def _steps(complaint: Complaint) -> list[dict]:
    moments = [
        (pgettext("customer care", "Received"), complaint.received_at),
        (_("First response"), complaint.responded_at),
        (_("Resolved"), complaint.resolved_at),
        (_("Confirmed by the customer"), complaint.confirmed_at),
    ]
    current = next((index for index, (_l, at) in enumerate(moments) if at is None), None)
    return [
        {"label": label, "at": at, "done": at is not None, "current": index == current}
        for index, (label, at) in enumerate(moments)
    ]


def _complaint_page(request, complaint: Complaint, failed: tuple[str, object] | None = None):
    """The complaint with the forms of the steps it may take now; a form that failed comes
    back bound, with its errors beside its fields."""
    user = request.user
    forms = {}
    if user.has_perm("care.change_complaint"):
        for step, (statuses, permission) in STEP_OFFERED.items():
            if failed is not None and failed[0] == step:
                forms[step] = bootstrap_widgets(failed[1])  # marks a field the service refused
            elif complaint.status in statuses and user.has_perm(permission):
                forms[step] = STEP_FORMS[step](prefix=step)
    show_pii = can_view_pii(user)
    return render(
        request,
        "care/complaint_detail.html",
        {
            "complaint": _mark_deadlines(complaint, timezone.now()),
            "steps": _steps(complaint),
            "forms": forms,
            "raising_call": getattr(complaint, "raised_by_call", None),
            "follow_up_call": (
                complaint.follow_up_calls.select_related("assigned_to").first()
                if complaint.status == ComplaintStatus.CLOSED
                else None
            ),
            "call_days": services.COMPLAINT_CALL_DAYS,
            "show_pii": show_pii,
            "history": history_entries(complaint, show_pii=show_pii),
        },
    )


@login_required
@permission_required("care.view_complaint", raise_exception=True)
def complaint_detail(request, pk: int):
    return _complaint_page(request, _load(request, pk))


def _run_step(step: str, complaint: Complaint, data: dict, by):
    if step == "respond":
        return services.complaint_respond(complaint=complaint, response=data["response"], by=by)
    if step == "resolve":
        return services.complaint_resolve(complaint=complaint, resolution=data["resolution"], by=by)
    return services.complaint_confirm(complaint=complaint, by=by, note=data["note"])


@login_required
@permission_required("care.view_complaint", raise_exception=True)
@require_http_methods(["GET", "POST"])
def complaint_action(request, pk: int, action: str):
    if action not in STEP_FORMS:
        raise Http404
    complaint = _load(request, pk)
    if request.method == "GET":
        # The address a refused step was shown at, reloaded or revisited: back to the complaint.
        return redirect(complaint)
    if not request.user.has_perm("care.change_complaint"):
        raise PermissionDenied
    form = STEP_FORMS[action](request.POST, prefix=action)
    done = form.is_valid() and call_service(
        form, lambda: _run_step(action, complaint, form.cleaned_data, request.user)
    )
    if done:
        messages.success(request, str(STEP_DONE[action]) % {"days": services.COMPLAINT_CALL_DAYS})
        return redirect(complaint)
    if any(field != "__all__" for field in form.errors):
        return _complaint_page(request, complaint, failed=(action, form))
    # A step the complaint is not at, or one only a manager takes: the refusal, on its page.
    for message in form.non_field_errors():
        messages.error(request, message)
    return redirect(complaint)


# --- Inquiries and suggestions -------------------------------------------------------------


def _inquiry_page(request, failed: tuple[int, AnswerForm] | None = None):
    """The list; each unanswered one carries its answer form (the one that failed, bound)."""
    inquiries = Inquiry.objects.for_user(request.user).select_related(
        "branch", "customer", "recorded_by", "answered_by"
    )
    filterset, inquiries = apply_filters(request, InquiryFilter, inquiries)
    many_branches = len(branch_ids_for(request.user)) > 1
    if not many_branches:
        del filterset.form.fields["branch"]
    inquiries, current_sort = sort(request, inquiries, INQUIRY_SORTS, "-received")
    page = paginate(request, inquiries)
    can_answer = request.user.has_perm("care.change_inquiry")
    for inquiry in page.object_list:
        if not can_answer or inquiry.answered_at is not None:
            inquiry.answer_form = None
        elif failed is not None and failed[0] == inquiry.pk:
            inquiry.answer_form = bootstrap_widgets(failed[1])
        else:
            inquiry.answer_form = AnswerForm(prefix=f"answer-{inquiry.pk}")
    return render(
        request,
        "care/inquiry_list.html",
        {
            "filterset": filterset,
            "page": page,
            "sort": current_sort,
            "many_branches": many_branches,
            "query": request.GET.urlencode(),
        },
    )


@login_required
@permission_required("care.view_inquiry", raise_exception=True)
def inquiry_list(request):
    return _inquiry_page(request)


@login_required
@permission_required("care.add_inquiry", raise_exception=True)
@require_http_methods(["GET", "POST"])
def inquiry_create(request):
    branch = working_branch(request)
    if branch is None:
        return _no_branch(request, "care:inquiry-list")
    if request.method == "GET" and "customer_search" in request.GET:
        return _customer_options(request, branch, records=False)
    form = InquiryForm(
        request.POST or None,
        branch=branch,
        initial={"customer": plain_id(request.GET.get("customer"))},
    )
    if request.method == "POST" and form.is_valid():
        inquiry = call_service(
            form,
            lambda: services.inquiry_record(
                branch=branch,
                customer=form.cleaned_data["customer"],
                by=request.user,
                data=form.service_data(),
            ),
        )
        if inquiry:
            messages.success(
                request,
                (_("Answered %(kind)s of %(name)s logged.") if inquiry.answered_at
                 else _("%(kind)s of %(name)s logged: answer it from the list."))
                % {"kind": inquiry.get_kind_display(), "name": inquiry.customer.name},
            )  # fmt: skip
            return redirect("care:inquiry-list")
    bootstrap_widgets(form)  # also marks a field the service refused
    return render(request, "care/inquiry_form.html", {"form": form, "branch": branch})


@login_required
@permission_required("care.change_inquiry", raise_exception=True)
@require_http_methods(["GET", "POST"])
def inquiry_answer(request, pk: int):
    """The answer typed in the list; the list's filters ride along in the query string."""
    back = reverse("care:inquiry-list")
    if request.GET:
        back = f"{back}?{request.GET.urlencode()}"
    inquiry = Inquiry.objects.get_for_user_or_404(request.user, pk=pk)
    if request.method == "GET":
        return redirect(back)
    form = AnswerForm(request.POST, prefix=f"answer-{inquiry.pk}")
    done = form.is_valid() and call_service(
        form,
        lambda: services.inquiry_answer(
            inquiry=inquiry, answer=form.cleaned_data["answer"], by=request.user
        ),
    )
    if done:
        messages.success(request, _("Answer recorded."))
        return redirect(back)
    if any(field != "__all__" for field in form.errors):
        return _inquiry_page(request, failed=(inquiry.pk, form))
    for message in form.non_field_errors():
        messages.error(request, message)
    return redirect(back)
