"""Reads of fleet sales: a deal's settlement statement and the fleet figures."""

from datetime import date
from decimal import Decimal

from django.db.models import Count, Q

from dealer_crm.figures import ratio
from dealer_crm.kpis import Scope, kpi_get
from dealer_crm.periods import local_day_end, local_day_start

from .choices import OPEN_DEAL_STAGES, DealStage
from .models import (
    ZERO,
    FleetAccount,
    FleetAgreement,
    FleetDeal,
)


def settlement_statement(*, deal: FleetDeal) -> dict:
    """Support per batch — units priced and delivered, tier, support due and settled — and
    the deal's reconciliation: what is due, settled and still open."""
    orders = list(
        deal.orders.select_related("line", "tier_band", "agreement").order_by("priced_at", "pk")
    )
    due = sum((order.support_due for order in orders), Decimal("0"))
    settled = sum((order.support_settled for order in orders), Decimal("0"))
    return {
        "orders": orders,
        "units": sum(order.quantity for order in orders),
        "delivered": sum(order.delivered_units for order in orders),
        "due": due,
        "settled": settled,
        "open": due - settled,
    }


def fleet_figures(*, branch_ids: list[int], start: date, end: date) -> dict:
    """The fleet figures of DOMAIN §5 for the branches and the period (both days included).

    Pipeline value per stage, protected accounts, tier attainment per account and approvals
    within 48 hours are the KPI registry's (fleet.kpis: one computation of each); the deals
    per stage, the protections that lapsed and the win rate (deals won / (won + lost), of the
    deals closed in the period), which the registry does not hold, are counted here.
    """
    since, until = local_day_start(start), local_day_end(end)
    scope = Scope(tuple(branch_ids), start, end)
    values = kpi_get("fleet.pipeline_value").measure(scope)
    deals = dict(
        FleetDeal.objects.filter(branch_id__in=branch_ids, stage__in=OPEN_DEAL_STAGES)
        .values_list("stage")
        .annotate(deals=Count("pk"))
        .order_by()
    )
    pipeline = [
        {
            "stage": stage,
            "label": DealStage(stage).label,
            "deals": deals.get(stage, 0),
            "value": values[(None, stage)].numerator if (None, stage) in values else ZERO,
        }
        for stage in OPEN_DEAL_STAGES
    ]
    protected = kpi_get("fleet.protected_accounts").measure(scope)[(None, "")]
    lapses = FleetAccount.objects.filter(
        branch_id__in=branch_ids, lapsed_at__gte=since, lapsed_at__lt=until
    ).count()
    per_account = kpi_get("fleet.tier_attainment").measure(scope)
    # The agreements the registry measured (valid on the period's last day), to name them.
    agreements = (
        FleetAgreement.objects.filter(
            account__branch_id__in=branch_ids, signed_on__lte=end, valid_until__gte=end
        )
        .select_related("account")
        .order_by("account_id", "-signed_on", "-pk")
        .distinct("account_id")
    )
    attainment = []
    for agreement in agreements:
        counted = per_account[(None, str(agreement.account_id))]
        attainment.append(
            {
                "account": agreement.account,
                "agreement": agreement,
                "delivered": int(counted.numerator),
                "agreed": int(counted.denominator),
                "ratio": ratio(counted.numerator, counted.denominator),
            }
        )
    attainment.sort(key=lambda row: row["account"].name)
    approvals = kpi_get("fleet.approvals_in_time").measure(scope)[(None, "")]
    closed = FleetDeal.objects.filter(
        branch_id__in=branch_ids, closed_at__gte=since, closed_at__lt=until
    ).aggregate(
        won=Count("pk", filter=Q(stage=DealStage.WON)),
        lost=Count("pk", filter=Q(stage=DealStage.LOST)),
    )
    return {
        "start": start,
        "end": end,
        "pipeline": pipeline,
        "pipeline_value": values[(None, "")].numerator,
        "pipeline_deals": sum(row["deals"] for row in pipeline),
        "protected": int(protected.numerator),
        "lapses": lapses,
        "attainment": attainment,
        "decided": int(approvals.denominator),
        "decided_in_time": int(approvals.numerator),
        "approval_rate": kpi_get("fleet.approvals_in_time").value(approvals),
        "won": closed["won"],
        "lost": closed["lost"],
        "win_rate": ratio(closed["won"], closed["won"] + closed["lost"]),
    }
