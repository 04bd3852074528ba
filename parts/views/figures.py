"""The parts figures page: fill rate, turnover, days of stock, dead stock, stocktake accuracy,
cost of parts used and stock value for a period, each with its definition and a link to the
records behind it. A figure with nothing to divide by shows "—", never a made-up number."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from dealer_crm.forms import FiguresForm
from dealer_crm.scoping import branch_ids_for
from dealer_crm.templatetags.crm import money

from .. import selectors
from ..choices import MoveKind, StocktakeStatus
from ..services import CONSUMING_MOVES

# How many dead-stock rows the drill-down lists, dearest first.
DEAD_STOCK_ROWS = 50
NOTHING = "—"


@dataclass
class Figure:
    key: str
    title: str
    value: str
    definition: str
    detail: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)


def _percent(ratio: Decimal | None) -> str:
    return NOTHING if ratio is None else f"{ratio * 100:.1f}%"


def _url(name: str, query: list[tuple[str, str]]) -> str:
    return f"{reverse(name)}?{urlencode(query)}" if query else reverse(name)


def _figures(figures: dict, branch_query: list[tuple[str, str]]) -> list[Figure]:
    """The cards, in the order a parts manager reads them."""
    period = [("since", figures["start"].isoformat()), ("until", figures["end"].isoformat())]
    consumed = [("kind", kind.value) for kind in CONSUMING_MOVES]
    ledger = _url("parts:move-list", [*consumed, *period, *branch_query])
    stock = _url("parts:stock-list", [("in_stock", "true"), *branch_query])
    lost_sales = _url("parts:lost-sale-list", [*period, *branch_query])
    turnover = figures["turnover"]
    days = figures["days_of_stock"]
    return [
        Figure(
            "fill_rate",
            _("Fill rate (配件满足率)"),
            _percent(figures["fill_rate"]),
            _(
                "Lines issued from stock at first request ÷ lines requested (lines issued "
                "plus the requests not served, the lost sales)."
            ),
            _("%(served)s of %(requested)s lines served from stock")
            % {"served": figures["lines_served"], "requested": figures["lines_requested"]},
            [(_("Lost sales in the period"), lost_sales)],
        ),
        Figure(
            "turnover",
            _("Turnover"),
            NOTHING if turnover is None else f"{turnover}×",
            _("Cost of parts used ÷ the average of the stock's value at each day's end."),
            links=[(_("Parts used"), ledger), (_("Stock"), stock)],
        ),
        Figure(
            "days_of_stock",
            _("Days of stock"),
            NOTHING if days is None else str(days),
            _("Stock value at the end of the period ÷ average cost of parts used per day."),
            links=[(_("Stock"), stock)],
        ),
        Figure(
            "dead_stock",
            _("Dead stock (呆滞件)"),
            str(figures["dead_stock_count"]),
            _("Parts on the shelf with no stock move in the 12 months before the period's end."),
            _("worth %(value)s CNY") % {"value": money(figures["dead_stock_value"])},
            [(_("The parts"), "#dead-stock"), (_("Stock on the shelf"), stock)],
        ),
        Figure(
            "stocktake_accuracy",
            _("Stocktake accuracy"),
            _percent(figures["stocktake_accuracy"]),
            _(
                "Lines counted equal to the book ÷ lines counted, in stocktakes approved in "
                "the period."
            ),
            _("%(lines)s lines counted") % {"lines": figures["stocktake_lines"]},
            [
                (
                    _("Posted stocktakes"),
                    _url(
                        "parts:stocktake-list",
                        [("status", StocktakeStatus.POSTED.value), *branch_query],
                    ),
                ),
                (
                    _("Stocktake adjustments"),
                    _url(
                        "parts:move-list",
                        [
                            ("kind", MoveKind.STOCKTAKE_GAIN.value),
                            ("kind", MoveKind.STOCKTAKE_LOSS.value),
                            *period,
                            *branch_query,
                        ],
                    ),
                ),
            ],
        ),
        Figure(
            "cost_used",
            _("Cost of parts used (CNY)"),
            money(figures["cost_used"]),
            _(
                "Parts issued to work orders and sold over the counter in the period, at their "
                "moving-average cost."
            ),
            links=[(_("Stock ledger"), ledger)],
        ),
        Figure(
            "stock_value",
            _("Stock value (CNY)"),
            money(figures["stock_value"]),
            _("Every stock move's quantity × cost up to the end of the period."),
            links=[(_("Stock"), stock)],
        ),
    ]


@login_required
@permission_required("parts.view_stockmove", raise_exception=True)
def parts_figures_page(request):
    form = FiguresForm.for_request(request)
    context = {"form": form, "figures": None}
    if form.is_valid():
        chosen = form.cleaned_data["branch"]
        branch_ids = [chosen.pk] if chosen else branch_ids_for(request.user)
        branch_query = [("branch", str(chosen.pk))] if chosen else []
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        figures = selectors.parts_figures(branch_ids=branch_ids, start=start, end=end)
        dead = (
            selectors.dead_stock(user=request.user, on=end)
            .filter(branch_id__in=branch_ids)
            .order_by("-stock_value", "part__number")
        )
        context.update(
            figures=figures,
            cards=_figures(figures, branch_query),
            dead_stock=list(dead[:DEAD_STOCK_ROWS]),
            dead_stock_limit=DEAD_STOCK_ROWS,
            many_branches=len(branch_ids) > 1,
        )
    return render(request, "parts/figures.html", context)
