"""Deal pages: the deals and a new one with its models, a deal with its stage, its batches
(priced, delivered, settled) and its requests, the settlement statement, the requests awaiting
a decision, and the fleet figures. As thin as the API: parse, call a service, render."""

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from dealer_crm.audit import history_entries
from dealer_crm.errors import DomainError
from dealer_crm.figures import ratio
from dealer_crm.forms import FiguresForm, bootstrap_widgets
from dealer_crm.pages import apply_filters, call_service, paginate, sort
from dealer_crm.pii import can_view_pii
from dealer_crm.scoping import branch_ids_for
from dealer_crm.templatetags.crm import money

from .. import selectors, services
from ..choices import DealStage, ProtectionStatus, RequestStatus
from ..filters import DiscountRequestFilter, FleetDealFilter, SpecialConfigurationRequestFilter
from ..forms.deals import (
    ConfigurationRequestForm,
    DealForm,
    DealLineFormSet,
    DecideForm,
    DiscountRequestForm,
    OrderPriceForm,
    SettleForm,
    StageForm,
)
from ..models import (
    DealLine,
    DiscountRequest,
    FleetDeal,
    FleetOrder,
    SpecialConfigurationRequest,
)

NOTHING = "—"
DEAL_SORTS = {
    "title": "title",
    "account": "account__name",
    "stage": "stage",
    "value": "expected_value",
    "created": "created_at",
}
REQUEST_SORTS = {"requested": "requested_at", "due": "due_by", "deal": "deal__title"}
# The two kinds of request a manager decides: model, filter, the permission to decide.
REQUEST_KINDS = {
    "discount": (DiscountRequest, DiscountRequestFilter, "fleet.approve_discountrequest"),
    "configuration": (
        SpecialConfigurationRequest,
        SpecialConfigurationRequestFilter,
        "fleet.approve_specialconfigurationrequest",
    ),
}
# What a POST on a deal does: the permission it needs and its handler (defined below).
DEAL_ACTIONS = {
    "stage": "fleet.change_fleetdeal",
    "order": "fleet.add_fleetorder",
    "discount": "fleet.add_discountrequest",
    "configuration": "fleet.add_specialconfigurationrequest",
}
ORDER_ACTIONS = {"settle": "fleet.change_fleetorder"}


# --- The list and a new deal ---------------------------------------------------------------


@login_required
@permission_required("fleet.view_fleetdeal", raise_exception=True)
def deal_list(request):
    deals = FleetDeal.objects.for_user(request.user).select_related("account", "branch")
    filterset, deals = apply_filters(request, FleetDealFilter, deals)
    deals, current_sort = sort(request, deals, DEAL_SORTS, "-created")
    page = paginate(request, deals)
    _attach_units(page.object_list)
    return render(
        request,
        "fleet/deal_list.html",
        {
            "filterset": filterset,
            "page": page,
            "sort": current_sort,
            "stages": DealStage.choices,
            "chosen_stages": request.GET.getlist("stage"),
        },
    )


def _attach_units(deals) -> None:
    """The units each deal of the page asks for, in one query."""
    deals = list(deals)
    units = dict(
        DealLine.objects.filter(deal__in=[deal.pk for deal in deals])
        .values("deal")
        .annotate(units=Sum("quantity"))
        .values_list("deal", "units")
        .order_by()
    )
    for deal in deals:
        deal.units_asked = units.get(deal.pk, 0)


def _lines_refused(error: DomainError, formset) -> bool:
    """A refused quantity goes beside the rows that hold it; True when it was placed."""
    if error.field != "lines" or error.code != "quantity_not_positive":
        return False
    rows = [row for row in formset.filled() if (row.cleaned_data.get("quantity") or 0) < 1]
    for row in rows:
        row.add_error("quantity", str(error.message))
    return bool(rows)


@login_required
@permission_required("fleet.add_fleetdeal", raise_exception=True)
@require_http_methods(["GET", "POST"])
def deal_create(request):
    form = DealForm(
        request.POST or None, user=request.user, initial={"account": request.GET.get("account")}
    )
    formset = DealLineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and formset.is_valid():

        def create():
            try:
                return services.deal_create(
                    account=form.cleaned_data["account"],
                    lines=formset.lines(),
                    by=request.user,
                    data=form.service_data(),
                )
            except DomainError as error:
                if _lines_refused(error, formset):
                    return None
                if error.field == "lines":
                    formset._non_form_errors = formset.error_class([str(error.message)])
                    return None
                raise

        deal = call_service(form, create)
        if deal:
            messages.success(request, _("Deal %(title)s created.") % {"title": deal.title})
            return redirect("fleet:deal-detail", pk=deal.pk)
    for each in [form, *formset.forms]:
        bootstrap_widgets(each)  # also marks a field the service refused
    return render(request, "fleet/deal_form.html", {"form": form, "formset": formset})


# --- A deal ------------------------------------------------------------------------------------


def _load(request, pk: int) -> FleetDeal:
    return FleetDeal.objects.select_related("account", "branch", "created_by").get_for_user_or_404(
        request.user, pk=pk
    )


def _account_ids(deal: FleetDeal) -> list[int]:
    """The accounts whose agreements may price the deal: its whole organization."""
    return services.family_ids(services.account_family(deal.account))


def _deal_page(request, deal: FleetDeal, **forms):
    """The deal's page; a form that failed is passed in bound, with its errors."""
    user = request.user
    statement = selectors.settlement_statement(deal=deal)
    is_open = deal.stage not in (DealStage.WON, DealStage.LOST)
    can_change_orders = user.has_perm("fleet.change_fleetorder")
    for order in statement["orders"]:
        order.settle_form = forms.get(f"settle-{order.pk}") or SettleForm(
            prefix=f"settle-{order.pk}"
        )
        order.open_support = order.support_due - order.support_settled
    now = timezone.now()
    requests = {}
    for kind, (model, _filter, permission) in REQUEST_KINDS.items():
        rows = list(model.objects.filter(deal=deal).select_related("requested_by", "decided_by"))
        for row in rows:
            row.kind = kind
            row.overdue = row.status == RequestStatus.PENDING and row.due_by < now
            row.can_decide = (
                row.status == RequestStatus.PENDING
                and user.has_perm(permission)
                and row.requested_by_id != user.pk
            )
        requests[kind] = rows
    discount_form = forms.get("discount_form") or DiscountRequestForm()
    configuration_form = forms.get("configuration_form") or ConfigurationRequestForm()
    context = {
        "deal": deal,
        "lines": list(deal.lines.all()),
        "statement": statement,
        "is_open": is_open,
        "can_change": is_open and user.has_perm("fleet.change_fleetdeal"),
        "can_price": deal.stage != DealStage.LOST and user.has_perm("fleet.add_fleetorder"),
        "can_change_orders": can_change_orders,
        "request_sections": [
            (
                "discount",
                _("Discount requests"),
                requests["discount"],
                user.has_perm("fleet.add_discountrequest"),
                discount_form,
            ),
            (
                "configuration",
                _("Special colour or configuration requests"),
                requests["configuration"],
                user.has_perm("fleet.add_specialconfigurationrequest"),
                configuration_form,
            ),
        ],
        "discount_form": discount_form,
        "configuration_form": configuration_form,
        "stage_form": forms.get("stage_form") or StageForm(initial={"stage": deal.stage}),
        "price_form": forms.get("price_form")
        or OrderPriceForm(deal=deal, account_ids=_account_ids(deal)),
        "open_panel": forms.get("open_panel", ""),
        "special_units": services.SPECIAL_DEAL_UNITS,
        "history": history_entries(deal, show_pii=can_view_pii(user)),
    }
    return render(request, "fleet/deal_detail.html", context)


def _failed(request, deal: FleetDeal, form, **forms):
    """After a refused POST: a form with field errors comes back on the page beside its
    fields; a refused state change is a message on the deal's page."""
    if any(name != "__all__" for name in form.errors):
        return _deal_page(request, deal, **forms)
    for message in form.non_field_errors():
        messages.error(request, message)
    return redirect("fleet:deal-detail", pk=deal.pk)


@login_required
@permission_required("fleet.view_fleetdeal", raise_exception=True)
def deal_detail(request, pk: int):
    return _deal_page(request, _load(request, pk))


@login_required
@permission_required("fleet.view_fleetorder", raise_exception=True)
def settlement_statement(request, pk: int):
    """The deal's support per batch and its reconciliation, printable."""
    deal = _load(request, pk)
    statement = selectors.settlement_statement(deal=deal)
    for order in statement["orders"]:
        order.open_support = order.support_due - order.support_settled
    return render(
        request,
        "fleet/statement.html",
        {
            "deal": deal,
            "branch": deal.branch,
            "statement": statement,
            "printed_at": timezone.localtime(),
        },
    )


def _stage(request, deal: FleetDeal):
    form = StageForm(request.POST)
    if form.is_valid() and call_service(
        form,
        lambda: services.deal_set_stage(
            deal=deal,
            stage=form.cleaned_data["stage"],
            reason=form.cleaned_data["reason"],
            by=request.user,
        ),
    ):
        messages.success(
            request,
            _("Stage set to %(stage)s.") % {"stage": DealStage(form.cleaned_data["stage"]).label},
        )
        return redirect("fleet:deal-detail", pk=deal.pk)
    return _failed(request, deal, form, stage_form=form, open_panel="stage")


def _price(request, deal: FleetDeal):
    form = OrderPriceForm(request.POST, deal=deal, account_ids=_account_ids(deal))
    if form.is_valid():
        data = form.cleaned_data
        order = call_service(
            form,
            lambda: services.fleet_order_price(
                deal=deal,
                line=data["line"],
                quantity=data["quantity"],
                unit_price=data["unit_price"],
                agreement=data["agreement"],
                negotiated_support=data["negotiated_support"],
                promotion=data["promotion"].strip(),
                by=request.user,
            ),
        )
        if order:
            messages.success(
                request,
                _(
                    "Batch of %(units)s units priced at %(support)s CNY support per unit: "
                    "%(units)s signed sales orders wait for their vehicles."
                )
                % {"units": order.quantity, "support": money(order.support_per_unit)},
            )
            return redirect("fleet:deal-detail", pk=deal.pk)
    return _failed(request, deal, form, price_form=form, open_panel="order")


def _discount(request, deal: FleetDeal):
    form = DiscountRequestForm(request.POST)
    if form.is_valid() and call_service(
        form,
        lambda: services.discount_request_create(deal=deal, by=request.user, **form.cleaned_data),
    ):
        messages.success(request, _("Discount requested: a manager decides within 48 hours."))
        return redirect("fleet:deal-detail", pk=deal.pk)
    return _failed(request, deal, form, discount_form=form, open_panel="discount")


def _configuration(request, deal: FleetDeal):
    form = ConfigurationRequestForm(request.POST)
    if form.is_valid() and call_service(
        form,
        lambda: services.special_configuration_request(
            deal=deal, by=request.user, **form.cleaned_data
        ),
    ):
        messages.success(request, _("Special configuration requested: a manager decides it."))
        return redirect("fleet:deal-detail", pk=deal.pk)
    return _failed(request, deal, form, configuration_form=form, open_panel="configuration")


DEAL_HANDLERS = {
    "stage": _stage,
    "order": _price,
    "discount": _discount,
    "configuration": _configuration,
}


@login_required
@require_POST
def deal_action(request, pk: int, action: str):
    if action not in DEAL_ACTIONS:
        raise Http404
    if not request.user.has_perm(DEAL_ACTIONS[action]):
        raise PermissionDenied
    return DEAL_HANDLERS[action](request, _load(request, pk))


@login_required
@require_POST
def order_action(request, pk: int, action: str):
    if action not in ORDER_ACTIONS:
        raise Http404
    if not request.user.has_perm(ORDER_ACTIONS[action]):
        raise PermissionDenied
    order = FleetOrder.objects.get_for_user_or_404(request.user, pk=pk)
    deal = _load(request, order.deal_id)
    prefix = f"{action}-{order.pk}"
    form = SettleForm(request.POST, prefix=prefix)
    done = form.is_valid() and call_service(
        form,
        lambda: services.fleet_order_settle(
            order=order, amount=form.cleaned_data["amount"], by=request.user
        ),
    )
    message = _("%(amount)s CNY of support settled.") % {
        "amount": money(form.cleaned_data.get("amount"))
    }
    if done:
        messages.success(request, message)
        return redirect("fleet:deal-detail", pk=deal.pk)
    return _failed(request, deal, form, **{prefix: form, "open_panel": prefix})


# --- Requests to decide ------------------------------------------------------------------------


@login_required
@permission_required("fleet.view_discountrequest", raise_exception=True)
def request_list(request):
    """The requests of the user's branches, pending ones unless another status is asked."""
    kind = request.GET.get("kind", "discount")
    if kind not in REQUEST_KINDS:
        kind = "discount"
    model, filterset_class, permission = REQUEST_KINDS[kind]
    rows = model.objects.for_user(request.user).select_related(
        "deal__account", "requested_by", "decided_by"
    )
    chosen_statuses = request.GET.getlist("status")
    if not chosen_statuses:
        rows, chosen_statuses = rows.filter(status=RequestStatus.PENDING), [RequestStatus.PENDING]
    filterset, rows = apply_filters(request, filterset_class, rows)
    filterset.form.fields["overdue"].widget.choices = [
        ("", _("All")), ("true", _("Overdue only")), ("false", _("Not overdue")),
    ]  # fmt: skip
    rows, current_sort = sort(request, rows, REQUEST_SORTS, "due")
    page = paginate(request, rows)
    now = timezone.now()
    for row in page.object_list:
        row.overdue = row.status == RequestStatus.PENDING and row.due_by < now
    pending = {
        name: kind_model.objects.for_user(request.user).filter(status=RequestStatus.PENDING).count()
        for name, (kind_model, _f, _p) in REQUEST_KINDS.items()
    }
    return render(
        request,
        "fleet/request_list.html",
        {
            "kind": kind,
            "filterset": filterset,
            "page": page,
            "sort": current_sort,
            "statuses": RequestStatus.choices,
            "chosen_statuses": chosen_statuses,
            "can_decide": request.user.has_perm(permission),
            "pending": pending,
        },
    )


@login_required
@require_POST
def request_decide(request, kind: str, pk: int):
    if kind not in REQUEST_KINDS:
        raise Http404
    model, _filter, permission = REQUEST_KINDS[kind]
    if not request.user.has_perm(permission):
        raise PermissionDenied
    decided = model.objects.select_related("deal").get_for_user_or_404(request.user, pk=pk)
    form = DecideForm(request.POST)
    done = form.is_valid() and call_service(
        form,
        lambda: services.request_decide(
            request=decided,
            approve=form.cleaned_data["approve"],
            note=form.cleaned_data["note"],
            by=request.user,
        ),
    )
    if done:
        messages.success(
            request,
            _("Request approved.") if done.status == RequestStatus.APPROVED
            else _("Request refused."),
        )  # fmt: skip
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    back = request.POST.get("next", "")
    if back == "deal":
        return redirect("fleet:deal-detail", pk=decided.deal_id)
    return redirect(f"{reverse('fleet:request-list')}?{urlencode({'kind': kind})}")


# --- Figures -----------------------------------------------------------------------------------


@dataclass
class Figure:
    key: str
    title: str
    value: str
    definition: str
    detail: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)


def _percent(value) -> str:
    return NOTHING if value is None else f"{value * 100:.1f}%"


def _list(name: str, query: list[tuple[str, str]]) -> str:
    return f"{reverse(name)}?{urlencode(query)}"


def _cards(figures: dict, branch_query: list[tuple[str, str]]) -> list[Figure]:
    """The cards, in the order a fleet manager reads them."""
    deals, accounts = "fleet:deal-list", "fleet:account-list"
    delivered = sum(row["delivered"] for row in figures["attainment"])
    agreed = sum(row["agreed"] for row in figures["attainment"])
    return [
        Figure(
            "pipeline",
            _("Pipeline value (CNY)"),
            money(figures["pipeline_value"]),
            _("Expected value of the deals open now, whatever stage they are at."),
            _("%(count)s open deals") % {"count": figures["pipeline_deals"]},
            [(_("Open deals"), "#pipeline")],
        ),
        Figure(
            "protected",
            _("Protected accounts"),
            str(figures["protected"]),
            _("Accounts under protection now; lapses: protections that lapsed in the period."),
            _("%(count)s lapsed in the period") % {"count": figures["lapses"]},
            [
                (
                    _("Protected"),
                    _list(accounts, [("status", ProtectionStatus.PROTECTED), *branch_query]),
                ),
                (
                    _("Lapsed"),
                    _list(accounts, [("status", ProtectionStatus.LAPSED), *branch_query]),
                ),
            ],
        ),
        Figure(
            "attainment",
            _("Tier attainment"),
            _percent(ratio(delivered, agreed)),
            _(
                "Per account with an agreement valid at the period's end: units delivered "
                "that count toward its tiers ÷ units agreed."
            ),
            ngettext(
                "%(delivered)s of %(agreed)s units, %(count)s account",
                "%(delivered)s of %(agreed)s units, %(count)s accounts",
                len(figures["attainment"]),
            )
            % {"delivered": delivered, "agreed": agreed, "count": len(figures["attainment"])},
            [(_("By account"), "#attainment")],
        ),
        Figure(
            "approvals",
            _("Approvals within 48 hours"),
            _percent(figures["approval_rate"]),
            _("Requests decided in the period by their due time ÷ requests decided."),
            _("%(in_time)s of %(decided)s decided")
            % {"in_time": figures["decided_in_time"], "decided": figures["decided"]},
            [
                (
                    _("Discount requests"),
                    _list(
                        "fleet:request-list",
                        [("kind", "discount"), ("status", "approved"), ("status", "refused")],
                    ),
                ),
                (
                    _("Configuration requests"),
                    _list(
                        "fleet:request-list",
                        [("kind", "configuration"), ("status", "approved"), ("status", "refused")],
                    ),
                ),
            ],
        ),  # fmt: skip
        Figure(
            "win_rate",
            _("Win rate"),
            _percent(figures["win_rate"]),
            _("Deals won ÷ (won + lost), of the deals closed in the period."),
            _("%(won)s won · %(lost)s lost") % {"won": figures["won"], "lost": figures["lost"]},
            [
                (_("Won"), _list(deals, [("stage", DealStage.WON), *branch_query])),
                (_("Lost"), _list(deals, [("stage", DealStage.LOST), *branch_query])),
            ],
        ),
    ]


@login_required
@permission_required("fleet.view_fleetdeal", raise_exception=True)
def fleet_figures_page(request):
    form = FiguresForm.for_request(request)
    context = {"form": form, "figures": None}
    if form.is_valid():
        chosen = form.cleaned_data["branch"]
        branch_ids = [chosen.pk] if chosen else branch_ids_for(request.user)
        branch_query = [("branch", str(chosen.pk))] if chosen else []
        figures = selectors.fleet_figures(
            branch_ids=branch_ids, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
        )
        for row in figures["pipeline"]:
            row["url"] = _list("fleet:deal-list", [("stage", row["stage"]), *branch_query])
        for row in figures["attainment"]:
            row["percent"] = _percent(row["ratio"])
        context.update(
            figures=figures,
            cards=_cards(figures, branch_query),
            many_branches=len(branch_ids) > 1,
        )
    return render(request, "fleet/figures.html", context)
