"""The service figures page: entries (入库台次), revenue per entry (单车产值), labour hours
sold, the parts / labour mix, the appointment rate, comebacks and technician productivity for
a period, each with its definition and a link to the work orders behind it. A figure with
nothing to divide by shows "—", never a made-up number."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from dealer_crm.figures import ratio
from dealer_crm.models import display_name
from dealer_crm.scoping import branch_ids_for
from dealer_crm.templatetags.crm import money

from .. import selectors
from ..choices import WorkOrderStatus
from ..forms.figures import ServiceFiguresForm

NOTHING = "—"
# A work order counts in the revenue once settled; closed ones were settled before.
SETTLED = [WorkOrderStatus.SETTLED, WorkOrderStatus.CLOSED]


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


def _hours(hours: Decimal) -> str:
    return f"{hours.quantize(Decimal('0.01')):,.2f}"


def _work_orders(query: list[tuple[str, str]]) -> str:
    return f"{reverse('service:work-order-list')}?{urlencode(query)}"


def _figures(figures: dict, branch_query: list[tuple[str, str]]) -> list[Figure]:
    """The cards, in the order a service manager reads them."""
    opened = [
        ("opened_after", figures["start"].isoformat()),
        ("opened_before", figures["end"].isoformat()),
        *branch_query,
    ]
    entries = _work_orders(opened)
    settled = _work_orders([*(("status", status.value) for status in SETTLED), *opened])
    comebacks = _work_orders([("comeback", "true"), *opened])
    per_entry = figures["revenue_per_entry"]
    mix = figures["parts_to_labour"]
    return [
        Figure(
            "entries",
            _("Entries (入库台次)"),
            str(figures["entries"]),
            _("Work orders opened in the period, whatever their type or status."),
            links=[(_("Work orders opened"), entries)],
        ),
        Figure(
            "revenue_per_entry",
            _("Revenue per entry (单车产值, CNY)"),
            NOTHING if per_entry is None else money(per_entry),
            _("Settled totals ÷ work orders settled in the period (after discounts)."),
            _("%(revenue)s CNY from %(count)s settled")
            % {"revenue": money(figures["revenue"]), "count": figures["settled"]},
            [(_("Settled work orders opened in the period"), settled)],
        ),
        Figure(
            "labour_hours",
            _("Labour hours sold"),
            _hours(figures["labour_hours"]),
            _("Standard hours of the labour lines of the work orders settled in the period."),
            _("labour %(labour)s CNY") % {"labour": money(figures["labour_revenue"])},
            [(_("Settled work orders"), settled), (_("By technician"), "#technicians")],
        ),
        Figure(
            "parts_to_labour",
            _("Parts / labour mix"),
            NOTHING if mix is None else f"{mix} : 1",
            _("Parts sold ÷ labour sold, in the work orders settled in the period."),
            _("parts %(parts)s · labour %(labour)s CNY")
            % {
                "parts": money(figures["parts_revenue"]),
                "labour": money(figures["labour_revenue"]),
            },
            [(_("Settled work orders"), settled)],
        ),
        Figure(
            "appointment_rate",
            _("Appointment rate"),
            _percent(figures["appointment_rate"]),
            _("Entries checked in from an appointment ÷ entries."),
            links=[(_("Work orders opened"), entries)],
        ),
        Figure(
            "comebacks",
            _("Comebacks"),
            str(figures["comebacks"]),
            _(
                "Entries flagged as a repair of the same complaint on the same vehicle within "
                "30 days."
            ),
            links=[(_("The comebacks"), comebacks)],
        ),
    ]


def _technicians(rows: list[dict]) -> list[dict]:
    """Hours sold per technician, with each one's share of the hours."""
    people = User.objects.in_bulk([row["technician"] for row in rows])
    total = sum((row["hours"] for row in rows), Decimal("0"))
    return [
        {
            "name": display_name(people.get(row["technician"])),
            "hours": _hours(row["hours"]),
            "lines": row["lines"],
            "share": _percent(ratio(row["hours"], total)),
        }
        for row in rows
    ]


@login_required
@permission_required("service.view_settlement", raise_exception=True)
def service_figures_page(request):
    form = ServiceFiguresForm.for_request(request)
    context = {"form": form, "figures": None}
    if form.is_valid():
        chosen = form.cleaned_data["branch"]
        branch_ids = [chosen.pk] if chosen else branch_ids_for(request.user)
        advisor = form.cleaned_data["advisor"]
        branch_query = [("branch", str(chosen.pk))] if chosen else []
        branch_query += [("advisor", str(advisor.pk))] if advisor else []
        figures = selectors.service_figures(
            branch_ids=branch_ids,
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            advisor_id=advisor.pk if advisor else None,
        )
        context.update(
            figures=figures,
            cards=_figures(figures, branch_query),
            technicians=_technicians(figures["technicians"]),
            many_branches=len(branch_ids) > 1,
        )
    return render(request, "service/figures.html", context)
