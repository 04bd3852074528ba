"""Campaign pages (关怀活动): the branch's campaigns with their success per segment against
the target; a draft written with a live count of the segment it reaches, launched to the
customers who agreed to marketing, closed; one more customer given the offer; the offers
with their redemption signed off, turned down or withdrawn. As thin as the API: parse, call
a service, render."""

from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import NullIf
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.selectors import customers_matching
from dealer_crm.audit import history_entries
from dealer_crm.errors import DomainError
from dealer_crm.figures import ratio
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.pages import apply_filters, call_service, paginate, sort
from dealer_crm.pii import can_view_pii
from dealer_crm.scoping import branch_ids_for, working_branch
from parts.forms.ordering import CUSTOMER_CHOICES_LIMIT, CustomerSearchForm

from .. import services
from ..choices import CampaignStatus, MessageStatus, OfferStatus, TargetSegment
from ..filters import CampaignFilter, OfferFilter
from ..forms.campaigns import AssignForm, CampaignForm
from ..models import Campaign, Offer
from ..selectors import audience_counts, campaign_results, campaigns_with_counts

CAMPAIGN_SORTS = {
    "number": "id",
    "name": "name",
    "segment": "segment",
    "starts": "starts_on",
    "ends": "ends_on",
    "status": "status",
    "offers": "offer_count",
    "redeemed": "redeemed",
    "rate": "success_rate",
}
OFFER_SORTS = {
    "code": "code",
    "customer": "customer__name",
    "status": "status",
    "value": "value",
    "redeemed": "redeemed_at",
}
# A new campaign's dates: from today, its offers valid for a month.
DEFAULT_DAYS = 30
DEFAULT_TARGET = Decimal(30)
# The permissions each offer action takes (any one of them).
OFFER_ACTIONS = {
    "sign-off": ("care.sign_off_redemption",),
    "turn-down": ("care.sign_off_redemption",),
    "withdraw": ("care.sign_off_redemption", "care.request_redemption"),
}
CAMPAIGN_ACTIONS = {
    "launch": "care.change_campaign",
    "close": "care.change_campaign",
    "assign": "care.add_offer",
}


def _percent(fraction: Decimal | None) -> Decimal | None:
    """A ratio (0.315) as the percentage the page shows (31.5)."""
    return None if fraction is None else (fraction * 100).quantize(Decimal("0.1"))


def _mark_success(campaign: Campaign) -> Campaign:
    """The campaign's success rate (redeemed ÷ offers, in %) and whether it meets its target;
    None before it has any offer."""
    campaign.rate = _percent(ratio(campaign.redeemed, campaign.offer_count))
    campaign.met = None if campaign.rate is None else campaign.rate >= campaign.target_rate
    campaign.over = campaign.ends_on < timezone.localdate()
    # Offers out and still valid (closing stops new ones only): below the target is no miss yet.
    campaign.running = campaign.status != CampaignStatus.DRAFT and not campaign.over
    return campaign


def _no_branch(request):
    messages.error(request, _("Your account is not linked to any branch."))
    return redirect("care:campaign-list")


def _load(request, pk: int) -> Campaign:
    return Campaign.objects.select_related("branch", "created_by").get_for_user_or_404(
        request.user, pk=pk
    )


# --- The campaigns -------------------------------------------------------------------------


@login_required
@permission_required("care.view_campaign", raise_exception=True)
def campaign_list(request):
    campaigns = Campaign.objects.for_user(request.user).select_related("branch")
    filterset, campaigns = apply_filters(request, CampaignFilter, campaigns)
    many_branches = len(branch_ids_for(request.user)) > 1
    if not many_branches:
        del filterset.form.fields["branch"]
    results = campaign_results(campaigns)
    running = set(
        campaigns.exclude(status=CampaignStatus.DRAFT)
        .filter(ends_on__gte=timezone.localdate())
        .order_by()
        .values_list("segment", flat=True)
        .distinct()
    )
    for row in results:
        row["rate"], row["target"] = _percent(row["rate"]), _percent(row["target"])
        row["running"] = row["segment"] in running
    campaigns = campaigns_with_counts(campaigns).annotate(
        success_rate=ExpressionWrapper(
            F("redeemed") * Decimal(1) / NullIf(F("offer_count"), 0),
            output_field=DecimalField(),
        )
    )
    campaigns, current_sort = sort(request, campaigns, CAMPAIGN_SORTS, "-starts")
    page = paginate(request, campaigns)
    for campaign in page.object_list:
        _mark_success(campaign)
    return render(
        request,
        "care/campaign_list.html",
        {
            "filterset": filterset,
            "page": page,
            "sort": current_sort,
            "statuses": CampaignStatus.choices,
            "chosen_statuses": request.GET.getlist("status"),
            "results": results,
            "many_branches": many_branches,
        },
    )


def _preview_context(branch_id: int, segment: str) -> dict:
    if segment not in TargetSegment.values:
        return {"counts": None}
    return {
        "counts": audience_counts(branch_id=branch_id, segment=segment),
        "segment_label": TargetSegment(segment).label,
    }


@login_required
@permission_required("care.view_campaign", raise_exception=True)
@require_GET
def campaign_preview(request):
    """The count of the chosen segment (htmx, as the segment changes): its customers in the
    branch, and those who agreed to marketing, the only ones the campaign reaches."""
    chosen = request.GET.get("campaign", "")
    if chosen:
        branch_id = _load(request, chosen).branch_id
    else:
        branch = working_branch(request)
        if branch is None:
            raise Http404
        branch_id = branch.pk
    return render(
        request,
        "care/campaign_preview.html",
        _preview_context(branch_id, request.GET.get("segment", "")),
    )


def _form_page(request, form: CampaignForm, branch, campaign: Campaign | None = None):
    bootstrap_widgets(form)  # also marks a field the service refused
    return render(
        request,
        "care/campaign_form.html",
        {
            "form": form,
            "branch": branch,
            "campaign": campaign,
            **_preview_context(branch.pk, str(form["segment"].value() or "")),
        },
    )


@login_required
@permission_required("care.add_campaign", raise_exception=True)
@require_http_methods(["GET", "POST"])
def campaign_create(request):
    branch = working_branch(request)
    if branch is None:
        return _no_branch(request)
    today = timezone.localdate()
    form = CampaignForm(
        request.POST or None,
        initial={
            "starts_on": today,
            "ends_on": today + timedelta(days=DEFAULT_DAYS),
            "target_rate": DEFAULT_TARGET,
        },
    )
    if request.method == "POST" and form.is_valid():
        campaign = call_service(
            form,
            lambda: services.campaign_create(
                branch=branch, by=request.user, data=form.service_data()
            ),
        )
        if campaign:
            messages.success(
                request,
                _("Campaign %(number)s saved as a draft: check who it reaches, then launch it.")
                % {"number": campaign.number},
            )
            return redirect(campaign)
    return _form_page(request, form, branch)


@login_required
@permission_required("care.change_campaign", raise_exception=True)
@require_http_methods(["GET", "POST"])
def campaign_update(request, pk: int):
    campaign = _load(request, pk)
    if campaign.status != CampaignStatus.DRAFT:
        messages.error(request, _("Only a draft campaign can be changed."))
        return redirect(campaign)
    form = CampaignForm(
        request.POST or None,
        initial={field: getattr(campaign, field) for field in services.CAMPAIGN_FIELDS},
    )
    if request.method == "POST" and form.is_valid():
        done = call_service(
            form,
            lambda: services.campaign_update(
                campaign=campaign, by=request.user, data=form.service_data()
            ),
        )
        if done:
            messages.success(request, _("Campaign %(number)s saved.") % {"number": done.number})
            return redirect(done)
    return _form_page(request, form, campaign.branch, campaign)


# --- One campaign and its offers -----------------------------------------------------------


def _offer_counts(campaign: Campaign) -> dict:
    """The campaign's offers counted in one query: made, contacted (a message sent), waiting
    for a sign-off, signed off, redeemed, and the money taken off the bills."""
    counts = campaign.offers.aggregate(
        offers=Count("pk"),
        contacted=Count("pk", filter=Q(message__status=MessageStatus.SENT)),
        not_reached=Count(
            "pk", filter=Q(message__isnull=False) & ~Q(message__status=MessageStatus.SENT)
        ),
        waiting=Count("pk", filter=Q(message__isnull=True)),
        requested=Count("pk", filter=Q(status=OfferStatus.REQUESTED)),
        approved=Count("pk", filter=Q(status=OfferStatus.APPROVED)),
        redeemed=Count("pk", filter=Q(status=OfferStatus.REDEEMED)),
        value=Sum("value"),
    )
    counts["rate"] = _percent(ratio(counts["redeemed"], counts["offers"]))
    counts["met"] = None if counts["rate"] is None else counts["rate"] >= campaign.target_rate
    counts["running"] = campaign.status != CampaignStatus.DRAFT and not (
        campaign.ends_on < timezone.localdate()
    )
    return counts


def _offer_rows(request, campaign: Campaign):
    offers = campaign.offers.select_related(
        "customer", "message", "work_order", "requested_by", "signed_off_by"
    )
    filterset, offers = apply_filters(request, OfferFilter, offers)
    offers, current_sort = sort(request, offers, OFFER_SORTS, "customer")
    page = paginate(request, offers)
    user = request.user
    can_sign_off = user.has_perm("care.sign_off_redemption")
    can_withdraw = any(user.has_perm(name) for name in OFFER_ACTIONS["withdraw"])
    for offer in page.object_list:
        asked = offer.status == OfferStatus.REQUESTED
        offer.own_request = asked and offer.requested_by_id == user.pk
        offer.can_sign_off = can_sign_off and asked and not offer.own_request
        offer.can_withdraw = can_withdraw and offer.status in (
            OfferStatus.REQUESTED,
            OfferStatus.APPROVED,
        )
    return filterset, page, current_sort


def _campaign_page(request, campaign: Campaign, assign_form: AssignForm | None = None):
    user = request.user
    # 22.50 → "22.5", 20.00 → "20"
    campaign.target_shown = format(campaign.target_rate.normalize(), "f")
    counts = _offer_counts(campaign)
    filterset, page, current_sort = _offer_rows(request, campaign)
    today = timezone.localdate()
    over = campaign.ends_on < today
    draft = campaign.status == CampaignStatus.DRAFT
    may_assign = (
        campaign.status == CampaignStatus.LAUNCHED and not over and user.has_perm("care.add_offer")
    )
    if may_assign and assign_form is None:
        assign_form = AssignForm(branch=campaign.branch)
    show_pii = can_view_pii(user)
    return render(
        request,
        "care/campaign_detail.html",
        {
            "campaign": campaign,
            "counts": counts,
            "audience": (
                audience_counts(branch_id=campaign.branch_id, segment=campaign.segment)
                if draft
                else None
            ),
            "over": over,
            "assign_form": assign_form if may_assign else None,
            "filterset": filterset,
            "page": page,
            "sort": current_sort,
            "query": request.GET.urlencode(),
            "show_pii": show_pii,
            "history": history_entries(campaign, show_pii=show_pii),
        },
    )


def _customer_options(request, campaign: Campaign):
    """The picker's options for what was typed beside it (htmx): the campaign branch's
    customers, each marked when they have not agreed to marketing."""
    if not request.user.has_perm("care.add_offer"):
        raise PermissionDenied
    search = CustomerSearchForm(request.GET)
    term = search.cleaned_data["customer_search"].strip() if search.is_valid() else ""
    customers = customers_matching(branch=campaign.branch, term=term, limit=CUSTOMER_CHOICES_LIMIT)
    return render(
        request, "care/campaign_customer_options.html", {"customers": customers, "term": term}
    )


@login_required
@permission_required("care.view_campaign", raise_exception=True)
@require_GET
def campaign_detail(request, pk: int):
    campaign = _load(request, pk)
    if "customer_search" in request.GET:
        return _customer_options(request, campaign)
    return _campaign_page(request, campaign)


def _assign(request, campaign: Campaign):
    form = AssignForm(request.POST, branch=campaign.branch)
    offer = form.is_valid() and call_service(
        form,
        lambda: services.offer_assign(
            campaign=campaign, customer=form.cleaned_data["customer"], by=request.user
        ),
    )
    if not offer:
        if any(field != "__all__" for field in form.errors):
            # No consent, another branch's customer, none chosen: beside the picker.
            return _campaign_page(request, campaign, assign_form=bootstrap_widgets(form))
        # Already given one, the campaign closed or over: the refusal, on the campaign.
        for message in form.non_field_errors():
            messages.error(request, message)
        return redirect(campaign)
    messages.success(
        request,
        _("Offer %(code)s given to %(customer)s; message: %(status)s.")
        % {
            "code": offer.code,
            "customer": offer.customer.name,
            "status": offer.message.get_status_display() if offer.message else "—",
        },
    )
    return redirect(campaign)


@login_required
@permission_required("care.view_campaign", raise_exception=True)
@require_http_methods(["GET", "POST"])
def campaign_action(request, pk: int, action: str):
    if action not in CAMPAIGN_ACTIONS:
        raise Http404
    campaign = _load(request, pk)
    if request.method == "GET":
        # The address a refused step was shown at, reloaded or revisited: back to the campaign.
        return redirect(campaign)
    if not request.user.has_perm(CAMPAIGN_ACTIONS[action]):
        raise PermissionDenied
    if action == "assign":
        return _assign(request, campaign)
    try:
        if action == "launch":
            made = services.campaign_launch(campaign=campaign, by=request.user)
            messages.success(
                request,
                _(
                    "Campaign %(number)s launched: %(count)s customers who agreed to marketing "
                    "got the offer and are being messaged."
                )
                % {"number": campaign.number, "count": made},
            )
        else:
            services.campaign_close(campaign=campaign, by=request.user)
            messages.success(
                request,
                _(
                    "Campaign %(number)s closed: no more offers are given; those out stay "
                    "redeemable until %(day)s."
                )
                % {"number": campaign.number, "day": campaign.ends_on.isoformat()},
            )
    except DomainError as error:
        messages.error(request, str(error.message))
    return redirect(campaign)


# --- An offer's redemption -----------------------------------------------------------------


def _back(request, offer: Offer) -> str:
    """Where the offer's row was: a safe `next`, else its campaign's offers with the filters
    that rode along in the query string."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    back = offer.campaign.get_absolute_url()
    return f"{back}?{request.GET.urlencode()}#offers" if request.GET else f"{back}#offers"


@login_required
@require_POST
def offer_action(request, pk: int, action: str):
    if action not in OFFER_ACTIONS:
        raise Http404
    if not any(request.user.has_perm(name) for name in OFFER_ACTIONS[action]):
        raise PermissionDenied
    offer = Offer.objects.select_related("campaign", "customer", "work_order").get_for_user_or_404(
        request.user, pk=pk
    )
    work_order = offer.work_order
    try:
        if action == "withdraw":
            services.offer_withdraw(offer=offer, by=request.user)
            done = _("Offer %(code)s taken off work order %(work_order)s: %(customer)s keeps it.")
        else:
            approve = action == "sign-off"
            services.offer_sign_off(offer=offer, by=request.user, approve=approve)
            done = (
                _(
                    "Offer %(code)s signed off: it comes off the bill when work order "
                    "%(work_order)s is settled."
                )
                if approve
                else _("Offer %(code)s turned down: %(customer)s keeps it for another visit.")
            )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            done
            % {
                "code": offer.code,
                "work_order": work_order.number if work_order else "—",
                "customer": offer.customer.name,
            },
        )
    return redirect(_back(request, offer))
