"""Quote pages: drafted from a lead, approved when the discount is large, sent, printed.
As thin as the API: parse, call a service, render."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from customers.forms import staff_choices
from dealer_crm.audit import history_entries
from dealer_crm.errors import DomainError
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.models import display_name
from dealer_crm.pages import call_service, paginate, sort
from dealer_crm.pii import can_view_pii
from dealer_crm.templatetags.crm import money

from .. import services
from ..choices import ApprovalDecision, QuoteStatus
from ..filters import QuoteFilter
from ..forms.quotes import QuoteDecisionForm, QuoteForm, QuoteSubmitForm
from ..models import Lead, Quote

QUOTE_SORTS = {
    "created": "created_at",
    "total": "total",
    "discount": "discount",
    "status": "status",
    "valid_until": "valid_until",
    "lead": "lead__name",
}
EDITABLE = (QuoteStatus.DRAFT, QuoteStatus.REJECTED)


def _quotes(user):
    return Quote.objects.for_user(user).select_related(
        "lead", "lead__customer", "consultant", "branch", "order"
    )


@login_required
@permission_required("sales.view_quote", raise_exception=True)
def quote_list(request):
    quotes = _quotes(request.user)
    filterset = QuoteFilter(request.GET or None, queryset=quotes, request=request)
    consultant = filterset.form.fields["consultant"]
    consultant.queryset = staff_choices(request.user)
    consultant.label_from_instance = display_name
    filterset.form.fields["needs_approval"].widget = forms.Select(
        choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))]
    )
    quotes = filterset.qs if filterset.is_bound and filterset.is_valid() else quotes
    bootstrap_widgets(filterset.form)
    quotes, current_sort = sort(request, quotes, QUOTE_SORTS, "-created")
    awaiting = (
        Quote.objects.for_user(request.user).filter(status=QuoteStatus.PENDING_APPROVAL).count()
        if request.user.has_perm("sales.approve_quote")
        else None
    )
    return render(
        request,
        "sales/quote_list.html",
        {
            "filterset": filterset,
            "page": paginate(request, quotes),
            "sort": current_sort,
            "awaiting": awaiting,
            "statuses": QuoteStatus.choices,
            "awaiting_only": request.GET.get("status") == QuoteStatus.PENDING_APPROVAL,
        },
    )


def _quote_form_page(request, *, lead: Lead, quote: Quote | None):
    form = QuoteForm(request.POST or None, instance=quote, lead=lead)
    if request.method == "POST" and form.is_valid():
        if quote is None:
            saved = call_service(
                form,
                lambda: services.quote_create(lead=lead, by=request.user, data=form.service_data()),
            )
        else:
            saved = call_service(
                form,
                lambda: services.quote_update(
                    quote=quote, by=request.user, data=form.service_data()
                ),
            )
        if saved:
            messages.success(
                request,
                _("Quote %(number)s saved, total %(total)s CNY.")
                % {"number": saved.number, "total": money(saved.total)},
            )
            return redirect("sales:quote-detail", pk=saved.pk)
    return render(
        request,
        "sales/quote_form.html",
        {
            "form": form,
            "lead": lead,
            "quote": quote,
            "discount_limit": lead.branch.quote_discount_limit,
            "trade_in_credits": form.trade_in_credits(),
        },
    )


@login_required
@permission_required("sales.add_quote", raise_exception=True)
@require_http_methods(["GET", "POST"])
def quote_create(request, pk: int):
    lead = Lead.objects.select_related("branch").get_for_user_or_404(request.user, pk=pk)
    return _quote_form_page(request, lead=lead, quote=None)


@login_required
@permission_required("sales.change_quote", raise_exception=True)
@require_http_methods(["GET", "POST"])
def quote_edit(request, pk: int):
    quote = Quote.objects.select_related("lead__branch").get_for_user_or_404(request.user, pk=pk)
    if quote.status not in EDITABLE:
        messages.error(
            request,
            _("A quote that is %(status)s cannot be changed; make a new one.")
            % {"status": quote.get_status_display().lower()},
        )
        return redirect("sales:quote-detail", pk=quote.pk)
    return _quote_form_page(request, lead=quote.lead, quote=quote)


def _can_decide(user, quote: Quote, approvals: list) -> bool:
    """Whether to offer Approve / Reject: a manager who is neither the quote's consultant nor
    the one who submitted it (the service refuses them anyway)."""
    submitted = [step for step in approvals if step.decision == ApprovalDecision.SUBMITTED]
    authors = {quote.consultant_id, submitted[-1].by_id if submitted else None}
    return (
        quote.status == QuoteStatus.PENDING_APPROVAL
        and user.has_perm("sales.approve_quote")
        and user.pk not in authors
    )


@login_required
@permission_required("sales.view_quote", raise_exception=True)
def quote_detail(request, pk: int):
    quote = (
        _quotes(request.user)
        .select_related("trade_in", "lead__branch")
        .get_for_user_or_404(request.user, pk=pk)
    )
    approvals = list(quote.approvals.select_related("by"))
    order = getattr(quote, "order", None)  # None when no order was made from it
    can_send = quote.status == QuoteStatus.APPROVED or (
        quote.status == QuoteStatus.DRAFT and not quote.needs_approval
    )
    return render(
        request,
        "sales/quote_detail.html",
        {
            "quote": quote,
            "lead": quote.lead,
            "order": order,
            "approvals": approvals,
            "editable": quote.status in EDITABLE,
            "can_submit": quote.status in EDITABLE and quote.needs_approval,
            "can_send": can_send,
            "can_decide": _can_decide(request.user, quote, approvals),
            "can_order": quote.status == QuoteStatus.SENT and order is None,
            "submit_form": QuoteSubmitForm(),
            "decision_form": QuoteDecisionForm(),
            "history": history_entries(quote, show_pii=can_view_pii(request.user)),
        },
    )


@login_required
@permission_required("sales.view_quote", raise_exception=True)
def quote_print(request, pk: int):
    quote = (
        _quotes(request.user)
        .select_related("trade_in", "lead__branch")
        .get_for_user_or_404(request.user, pk=pk)
    )
    return render(
        request,
        "sales/quote_print.html",
        {
            "quote": quote,
            "branch": quote.branch,
            "lead": quote.lead,
            "show_pii": can_view_pii(request.user),
        },
    )


def _act(request, quote: Quote, action, success: str):
    """Run a POST-only action; a refused rule comes back as a message on the quote's page."""
    try:
        action()
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, success)
    return redirect("sales:quote-detail", pk=quote.pk)


def _note(request, form_class) -> tuple[str | None, str]:
    form = form_class(request.POST)
    if not form.is_valid():
        return None, " ".join(message for errors in form.errors.values() for message in errors)
    return form.cleaned_data["note"], ""


def _act_with_note(request, pk: int, form_class, service, done: str):
    """Submit, approve or reject: a step that carries a note for the approval history."""
    quote = Quote.objects.get_for_user_or_404(request.user, pk=pk)
    note, problem = _note(request, form_class)
    if note is None:
        messages.error(request, problem)
        return redirect("sales:quote-detail", pk=quote.pk)
    return _act(
        request,
        quote,
        lambda: service(quote=quote, by=request.user, note=note),
        done % {"number": quote.number},
    )


@login_required
@permission_required("sales.change_quote", raise_exception=True)
@require_POST
def quote_submit(request, pk: int):
    return _act_with_note(
        request, pk, QuoteSubmitForm, services.quote_submit, _("Quote %(number)s submitted.")
    )


@login_required
@permission_required("sales.approve_quote", raise_exception=True)
@require_POST
def quote_approve(request, pk: int):
    return _act_with_note(
        request,
        pk,
        QuoteDecisionForm,
        services.quote_approve,
        _("Discount on %(number)s approved."),
    )


@login_required
@permission_required("sales.approve_quote", raise_exception=True)
@require_POST
def quote_reject(request, pk: int):
    return _act_with_note(
        request,
        pk,
        QuoteDecisionForm,
        services.quote_reject,
        _("Discount on %(number)s rejected."),
    )


@login_required
@permission_required("sales.change_quote", raise_exception=True)
@require_POST
def quote_send(request, pk: int):
    quote = Quote.objects.get_for_user_or_404(request.user, pk=pk)
    return _act(
        request,
        quote,
        lambda: services.quote_send(quote=quote, by=request.user),
        _("Quote %(number)s marked as sent to the customer.") % {"number": quote.number},
    )
