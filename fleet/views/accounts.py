"""Fleet account pages: the accounts, registering one, its protection, monthly progress,
buying centre, affiliates, deals and annual agreements, and an agreement with its volume
tiers. As thin as the API: parse, call a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dealer_crm.audit import history_entries
from dealer_crm.errors import DomainError
from dealer_crm.models import display_name
from dealer_crm.pages import apply_filters, call_service, paginate, sort
from dealer_crm.pii import can_view_pii
from dealer_crm.scoping import branch_ids_for, working_branch

from .. import services
from ..choices import ProtectionStatus
from ..filters import FleetAccountFilter
from ..forms.accounts import (
    AccountRegisterForm,
    AgreementSignForm,
    BuyingCentreMemberForm,
    ProgressReportForm,
    ReassignForm,
    TierBandFormSet,
    TierBandsForm,
)
from ..models import FleetAccount, FleetAgreement

ACCOUNT_SORTS = {
    "name": "name",
    "class": "account_class",
    "branch": "branch__code",
    "manager": "account_manager__first_name",
    "status": "status",
    "until": "protected_until",
    "registered": "registered_at",
}
# What each POST on an account does, and the permission it needs.
ACCOUNT_ACTIONS = {
    "confirm": "fleet.confirm_fleetaccount",
    "reassign": "fleet.confirm_fleetaccount",
    "progress": "fleet.add_progressreport",
    "member": "fleet.add_buyingcentremember",
    "agreement": "fleet.add_fleetagreement",
}


def _accounts(user):
    return FleetAccount.objects.for_user(user).select_related("branch", "account_manager", "parent")


def _load(request, pk: int) -> FleetAccount:
    return _accounts(request.user).select_related(
        "registered_by", "confirmed_by"
    ).get_for_user_or_404(request.user, pk=pk)  # fmt: skip


# --- list and registration ----------------------------------------------------------------


@login_required
@permission_required("fleet.view_fleetaccount", raise_exception=True)
def account_list(request):
    filterset, accounts = apply_filters(request, FleetAccountFilter, _accounts(request.user))
    filterset.form.fields["account_manager"].label_from_instance = display_name
    accounts, current_sort = sort(request, accounts, ACCOUNT_SORTS, "name")
    return render(
        request,
        "fleet/account_list.html",
        {
            "filterset": filterset,
            "page": paginate(request, accounts),
            "sort": current_sort,
            "statuses": ProtectionStatus.choices,
            "chosen_statuses": request.GET.getlist("status"),
            "several_branches": len(branch_ids_for(request.user)) > 1,
            "today": timezone.localdate(),
        },
    )


@login_required
@permission_required("fleet.add_fleetaccount", raise_exception=True)
@require_http_methods(["GET", "POST"])
def account_register(request):
    branch = working_branch(request)
    if branch is None:
        messages.error(request, _("Your account is not linked to any branch."))
        return redirect("fleet:account-list")
    form = AccountRegisterForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = {key: value for key, value in form.service_data().items() if value is not None}
        account = call_service(
            form, lambda: services.account_register(branch=branch, by=request.user, data=data)
        )
        if account:
            messages.success(
                request,
                _("%(name)s registered; a manager confirms it to protect it for 3 months.")
                % {"name": account.name},
            )
            return redirect("fleet:account-detail", pk=account.pk)
    return render(request, "fleet/account_form.html", {"form": form, "branch": branch})


# --- the account's page -------------------------------------------------------------------


def _account_page(request, account: FleetAccount, **forms):
    """The account's page; a form that failed is passed in bound, with its errors."""
    user = request.user
    can_manage = user.has_perm("fleet.confirm_fleetaccount")
    today = timezone.localdate()
    progress_form = forms.get("progress_form") or ProgressReportForm()
    context = {
        "account": account,
        "protected_now": account.status == ProtectionStatus.PROTECTED
        and account.protected_until is not None
        and account.protected_until >= today,
        "reports": list(account.progress_reports.select_related("reported_by")),
        "members": list(account.buying_centre.all()),
        "affiliates": list(account.affiliates.select_related("branch").order_by("name")),
        "deals": list(account.deals.order_by("-pk")),
        "agreements": list(account.agreements.all()),
        "can_confirm": can_manage and account.status != ProtectionStatus.PROTECTED,
        "can_reassign": can_manage and account.status == ProtectionStatus.LAPSED,
        "can_report": user.has_perm("fleet.add_progressreport"),
        "can_add_member": user.has_perm("fleet.add_buyingcentremember"),
        "can_sign": user.has_perm("fleet.add_fleetagreement"),
        "can_add_deal": user.has_perm("fleet.add_fleetdeal"),
        "progress_form": progress_form,
        "progress_month": [progress_form["month"]],
        "progress_summary": [progress_form["summary"]],
        "member_form": forms.get("member_form") or BuyingCentreMemberForm(),
        "agreement_form": forms.get("agreement_form") or AgreementSignForm(),
        "reassign_form": forms.get("reassign_form")
        or ReassignForm(
            initial={"branch": account.branch_id, "account_manager": account.account_manager_id}
        ),
        "open_panel": forms.get("open_panel", ""),
        "valid_until_if_signed_today": services.agreement_valid_until(today),
        "show_pii": can_view_pii(user),
        "history": history_entries(account, show_pii=can_view_pii(user)),
    }
    return render(request, "fleet/account_detail.html", context)


@login_required
@permission_required("fleet.view_fleetaccount", raise_exception=True)
def account_detail(request, pk: int):
    return _account_page(request, _load(request, pk))


def _failed(request, account: FleetAccount, form, **forms):
    """After a refused POST: a form with field errors comes back on the page beside its
    fields; a refused state change is a message on the account's page."""
    if any(field != "__all__" for field in form.errors):
        return _account_page(request, account, **forms)
    for message in form.non_field_errors():
        messages.error(request, message)
    return redirect("fleet:account-detail", pk=account.pk)


@login_required
@require_POST
def account_action(request, pk: int, action: str):
    if action not in ACCOUNT_ACTIONS:
        raise Http404
    if not request.user.has_perm(ACCOUNT_ACTIONS[action]):
        raise PermissionDenied
    account = _load(request, pk)
    return ACCOUNT_HANDLERS[action](request, account)


def _confirm(request, account: FleetAccount):
    try:
        confirmed = services.account_confirm(account=account, by=request.user)
    except DomainError as refused:
        messages.error(request, str(refused.message))
    else:
        messages.success(
            request,
            _("%(name)s is protected for its branch until %(until)s.")
            % {"name": confirmed.name, "until": confirmed.protected_until.isoformat()},
        )
    return redirect("fleet:account-detail", pk=account.pk)


def _reassign(request, account: FleetAccount):
    form = ReassignForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        reassigned = call_service(
            form,
            lambda: services.account_reassign(
                account=account,
                branch=data["branch"],
                account_manager=data["account_manager"],
                by=request.user,
            ),
        )
        if reassigned:
            messages.success(
                request,
                _("%(name)s now belongs to %(branch)s, registered afresh for %(manager)s.")
                % {
                    "name": reassigned.name,
                    "branch": data["branch"].name,
                    "manager": display_name(data["account_manager"]),
                },
            )
            if not FleetAccount.objects.for_user(request.user).filter(pk=account.pk).exists():
                return redirect("fleet:account-list")
            return redirect("fleet:account-detail", pk=account.pk)
    return _failed(request, account, form, reassign_form=form, open_panel="reassign")


def _progress(request, account: FleetAccount):
    form = ProgressReportForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        report = call_service(
            form,
            lambda: services.progress_report_add(
                account=account, month=data["month"], summary=data["summary"], by=request.user
            ),
        )
        if report:
            messages.success(
                request, _("Progress for %(month)s reported.") % {"month": f"{report.month:%Y-%m}"}
            )
            return redirect("fleet:account-detail", pk=account.pk)
    return _failed(request, account, form, progress_form=form)


def _member(request, account: FleetAccount):
    form = BuyingCentreMemberForm(request.POST)
    if form.is_valid():
        member = call_service(
            form,
            lambda: services.buying_centre_member_add(
                account=account, by=request.user, data=form.service_data()
            ),
        )
        if member:
            messages.success(
                request, _("%(name)s added to the buying centre.") % {"name": member.name}
            )
            return redirect("fleet:account-detail", pk=account.pk)
    return _failed(request, account, form, member_form=form, open_panel="member")


def _agreement(request, account: FleetAccount):
    form = AgreementSignForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        agreement = call_service(
            form,
            lambda: services.agreement_sign(
                account=account,
                signed_on=data["signed_on"],
                agreed_units=data["agreed_units"],
                terms=data["terms"],
                document=data["document"],
                by=request.user,
            ),
        )
        if agreement:
            messages.success(
                request,
                _("Agreement signed on %(signed)s recorded: it runs to %(until)s. Set its tiers.")
                % {
                    "signed": agreement.signed_on.isoformat(),
                    "until": agreement.valid_until.isoformat(),
                },
            )
            return redirect("fleet:agreement-detail", pk=agreement.pk)
    return _failed(request, account, form, agreement_form=form, open_panel="agreement")


ACCOUNT_HANDLERS = {
    "confirm": _confirm,
    "reassign": _reassign,
    "progress": _progress,
    "member": _member,
    "agreement": _agreement,
}


# --- an agreement and its tiers -----------------------------------------------------------


@login_required
@permission_required("fleet.view_fleetagreement", raise_exception=True)
@require_http_methods(["GET", "POST"])
def agreement_detail(request, pk: int):
    agreement = FleetAgreement.objects.select_related(
        "account__branch", "created_by"
    ).get_for_user_or_404(request.user, pk=pk)  # fmt: skip
    can_set_tiers = request.user.has_perm("fleet.change_fleetagreement")
    bands = list(agreement.bands.all())
    tiers_form = TierBandsForm()
    formset = TierBandFormSet(
        prefix="bands",
        initial=[
            {
                "from_units": b.from_units,
                "to_units": b.to_units,
                "support_per_unit": b.support_per_unit,
            }
            for b in bands
        ],
    )
    if request.method == "POST":
        if not can_set_tiers:
            raise PermissionDenied
        tiers_form = TierBandsForm(request.POST)
        formset = TierBandFormSet(request.POST, prefix="bands")
        if tiers_form.is_valid() and formset.is_valid():
            saved = call_service(
                tiers_form,
                lambda: services.tier_bands_set(
                    agreement=agreement, bands=formset.bands(), by=request.user
                ),
            )
            if saved is not None:
                messages.success(request, _("%(count)d tiers saved.") % {"count": len(saved)})
                return redirect("fleet:agreement-detail", pk=agreement.pk)
    counted = services.delivered_units_counted(agreement.account, agreement)
    current = next((band for band in bands if band.holds(counted + 1)), None)
    return render(
        request,
        "fleet/agreement_detail.html",
        {
            "agreement": agreement,
            "account": agreement.account,
            "bands": bands,
            "current_band": current,
            "counted": counted,
            "orders_priced": agreement.orders.count(),
            "can_set_tiers": can_set_tiers,
            "tiers_form": tiers_form,
            "formset": formset,
            "history": history_entries(agreement, show_pii=can_view_pii(request.user)),
        },
    )
