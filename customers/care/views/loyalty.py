"""Loyalty points pages: the accounts of your branches with their balance, a customer's
statement with points redeemed for what they were given, and a branch's rules with their
history. As thin as the API: parse, call a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from customers.models import Customer
from dealer_crm.audit import history_entries
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.models import Branch
from dealer_crm.pages import apply_filters, call_service, paginate, sort
from dealer_crm.scoping import branch_ids_for, working_branch

from .. import services
from ..filters import LoyaltyAccountFilter
from ..forms.loyalty import RULE_FIELDS, LoyaltyRuleForm, RedeemForm
from ..models import LoyaltyAccount, LoyaltyRule, PointsEntry
from .calls import _show_pii

ACCOUNT_SORTS = {
    "balance": "balance",
    "customer": "customer__name",
    "last_entry": "last_entry_at",
}


# --- The accounts ------------------------------------------------------------------------------


@login_required
@permission_required("care.view_loyaltyaccount", raise_exception=True)
def account_list(request):
    latest = PointsEntry.objects.filter(account=OuterRef("pk")).order_by("-created_at", "-id")
    accounts = (
        LoyaltyAccount.objects.for_user(request.user)
        .select_related("customer__branch")
        .annotate(last_entry_at=Subquery(latest.values("created_at")[:1]))
    )
    filterset, accounts = apply_filters(request, LoyaltyAccountFilter, accounts)
    many_branches = len(branch_ids_for(request.user)) > 1
    if not many_branches:
        del filterset.form.fields["branch"]
    accounts, current_sort = sort(request, accounts, ACCOUNT_SORTS, "-balance")
    page = paginate(request, accounts)
    return render(
        request,
        "care/loyalty_list.html",
        {
            "filterset": filterset,
            "page": page,
            "sort": current_sort,
            "many_branches": many_branches,
            "show_pii": _show_pii(request, [account.customer_id for account in page.object_list]),
        },
    )


# --- A customer's statement and redemption -----------------------------------------------------


def _statement_page(request, customer: Customer, form: RedeemForm | None = None, status=200):
    account = LoyaltyAccount.objects.filter(customer=customer).first()
    balance = account.balance if account else 0
    entries = PointsEntry.objects.filter(account__customer=customer).select_related(
        "order", "settlement", "created_by"
    )
    if form is None and request.user.has_perm("care.change_loyaltyaccount"):
        form = RedeemForm(balance=balance)
    return render(
        request,
        "care/loyalty_statement.html",
        {
            "customer": customer,
            "account": account,
            "balance": balance,
            "page": paginate(request, entries.order_by("-created_at", "-id")),
            "form": form,
            "show_pii": _show_pii(request, [customer.pk]),
        },
        status=status,
    )


@login_required
@permission_required("care.view_loyaltyaccount", raise_exception=True)
@require_http_methods(["GET", "POST"])
def statement(request, customer_pk: int):
    customer = Customer.objects.select_related("branch").get_for_user_or_404(
        request.user, pk=customer_pk
    )
    if request.method == "GET":
        return _statement_page(request, customer)
    if not request.user.has_perm("care.change_loyaltyaccount"):
        raise PermissionDenied
    account = LoyaltyAccount.objects.filter(customer=customer).first()
    form = RedeemForm(request.POST, balance=account.balance if account else 0)
    entry = form.is_valid() and call_service(
        form,
        lambda: services.points_redeem(
            customer=customer,
            points=form.cleaned_data["points"],
            note=form.cleaned_data["note"],
            by=request.user,
        ),
    )
    if entry:
        messages.success(
            request,
            ngettext(
                "%(points)s point of %(name)s redeemed for %(note)s; %(balance)s left.",
                "%(points)s points of %(name)s redeemed for %(note)s; %(balance)s left.",
                -entry.points,
            )
            % {
                "points": -entry.points,
                "name": customer.name,
                "note": entry.note,
                "balance": entry.balance,
            },
        )
        return redirect("care:loyalty-statement", customer_pk=customer.pk)
    bootstrap_widgets(form)  # also marks a field the service refused
    return _statement_page(request, customer, form, status=400)


# --- The branch's rules ------------------------------------------------------------------------


def _rule_branch(request) -> Branch | None:
    """The branch whose rules are shown: `?branch=` among the user's (another is not found),
    else the working branch."""
    allowed = branch_ids_for(request.user)
    chosen = request.POST.get("branch") or request.GET.get("branch")
    if not chosen:
        return working_branch(request)
    try:
        chosen = int(chosen)
    except ValueError:
        raise Http404 from None
    if chosen not in allowed:
        raise Http404
    return Branch.objects.get(pk=chosen)


def _rule_history(rule: LoyaltyRule) -> list:
    """The rule's changes, newest first; its first save reads as a change from the defaults
    the branch earned by until then."""
    if rule.pk is None:
        return []
    history = history_entries(rule, show_pii=False)
    if history and history[-1].change == "created":
        first = rule.history.order_by("history_date", "history_id").first()
        for name in RULE_FIELDS:
            field = LoyaltyRule._meta.get_field(name)
            if getattr(first, name) != field.default:
                history[-1].changes.append(
                    (str(field.verbose_name), str(field.default), str(getattr(first, name)))
                )
    return history


@login_required
@permission_required("care.view_loyaltyrule", raise_exception=True)
@require_http_methods(["GET", "POST"])
def rule_page(request):
    branch = _rule_branch(request)
    if branch is None:
        messages.error(request, _("Your account is not linked to any branch."))
        return redirect("care:loyalty-list")
    can_change = request.user.has_perm("care.change_loyaltyrule")
    if request.method == "POST" and not can_change:
        raise PermissionDenied
    rule = services.loyalty_rule_for(branch)
    form = None
    if can_change:
        initial = {"branch": branch.pk, **{name: getattr(rule, name) for name in RULE_FIELDS}}
        form = LoyaltyRuleForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            form,
            lambda: services.loyalty_rule_set(
                branch=form.cleaned_data["branch"], by=request.user, data=form.service_data()
            ),
        )
        if saved:
            messages.success(
                request, _("Loyalty rules of %(branch)s saved.") % {"branch": saved.branch.name}
            )
            return redirect(f"{request.path}?branch={saved.branch_id}")
    if form is not None:
        bootstrap_widgets(form)  # also marks a field the service refused
    branches = Branch.objects.filter(pk__in=branch_ids_for(request.user)).order_by("code")
    return render(
        request,
        "care/loyalty_rules.html",
        {
            "branch": branch,
            "branches": branches if len(branch_ids_for(request.user)) > 1 else [],
            "rule": rule,
            "saved": rule.pk is not None,
            "form": form,
            "history": _rule_history(rule),
        },
        status=400 if form is not None and form.is_bound else 200,
    )
