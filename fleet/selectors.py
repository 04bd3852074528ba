"""Reads of fleet sales: a deal's settlement statement and the fleet figures."""

from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from dealer_crm.figures import ratio
from dealer_crm.periods import local_day_end, local_day_start

from .choices import OPEN_DEAL_STAGES, DealStage, ProtectionStatus, RequestStatus
from .models import (
    ZERO,
    DiscountRequest,
    FleetAccount,
    FleetAgreement,
    FleetDeal,
    SpecialConfigurationRequest,
)
from .services import delivered_units_counted


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

    - pipeline: expected value and count of the open deals now, by stage;
    - protected accounts now, and protections that lapsed in the period;
    - tier attainment: per account with an agreement valid on the period's last day, the units
      delivered that count toward its tiers (as pricing counts them) against the units agreed;
    - approvals within 48 hours: requests decided in the period by their due time / decided;
    - win rate: deals won / (won + lost), of the deals closed in the period.
    """
    since, until = local_day_start(start), local_day_end(end)
    by_stage = {
        row["stage"]: row
        for row in FleetDeal.objects.filter(branch_id__in=branch_ids, stage__in=OPEN_DEAL_STAGES)
        .values("stage")
        .annotate(deals=Count("pk"), value=Coalesce(Sum("expected_value"), ZERO))
        .order_by()
    }
    pipeline = [
        {
            "stage": stage,
            "label": DealStage(stage).label,
            "deals": by_stage.get(stage, {}).get("deals", 0),
            "value": by_stage.get(stage, {}).get("value", ZERO),
        }
        for stage in OPEN_DEAL_STAGES
    ]
    accounts = FleetAccount.objects.filter(branch_id__in=branch_ids).aggregate(
        protected=Count("pk", filter=Q(status=ProtectionStatus.PROTECTED)),
        lapses=Count("pk", filter=Q(lapsed_at__gte=since, lapsed_at__lt=until)),
    )
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
        # Counted as pricing counts them: the organization's units, special deals left out.
        delivered = delivered_units_counted(agreement.account, agreement)
        attainment.append(
            {
                "account": agreement.account,
                "agreement": agreement,
                "delivered": delivered,
                "agreed": agreement.agreed_units,
                "ratio": ratio(delivered, agreement.agreed_units),
            }
        )
    attainment.sort(key=lambda row: row["account"].name)
    decided, in_time = 0, 0
    for model in (DiscountRequest, SpecialConfigurationRequest):
        counted = model.objects.filter(
            deal__branch_id__in=branch_ids,
            status__in=[RequestStatus.APPROVED, RequestStatus.REFUSED],
            decided_at__gte=since,
            decided_at__lt=until,
        ).aggregate(decided=Count("pk"), in_time=Count("pk", filter=Q(decided_at__lte=F("due_by"))))
        decided += counted["decided"]
        in_time += counted["in_time"]
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
        "pipeline_value": sum((row["value"] for row in pipeline), ZERO),
        "pipeline_deals": sum(row["deals"] for row in pipeline),
        "protected": accounts["protected"],
        "lapses": accounts["lapses"],
        "attainment": attainment,
        "decided": decided,
        "decided_in_time": in_time,
        "approval_rate": ratio(in_time, decided),
        "won": closed["won"],
        "lost": closed["lost"],
        "win_rate": ratio(closed["won"], closed["won"] + closed["lost"]),
    }
