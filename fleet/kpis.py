"""The fleet figures of DOMAIN §8 in the KPI registry (dealer_crm.kpis): the one computation
of each — pipeline value, protected accounts, tier attainment and approvals within 48 hours
(fleet.selectors.fleet_figures counts the same)."""

from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext_lazy as _

from dealer_crm.kpis import (
    LEVEL,
    Area,
    Direction,
    Kpi,
    Measure,
    Scope,
    Unit,
    one_value,
    records_link,
    register,
)
from dealer_crm.kpis import tally as tally_of

from .choices import OPEN_DEAL_STAGES, DealStage, ProtectionStatus, RequestStatus
from .models import (
    DiscountRequest,
    FleetAccount,
    FleetAgreement,
    FleetDeal,
    SpecialConfigurationRequest,
)
from .services import delivered_units_counted


def pipeline_value(scope: Scope):
    """The expected value of the deals open now, per stage."""
    open_deals = FleetDeal.objects.filter(
        branch_id__in=scope.branch_ids, stage__in=OPEN_DEAL_STAGES
    )
    return tally_of(open_deals, scope, numerator=Sum("expected_value"), key="stage")


def protected_accounts(scope: Scope):
    accounts = FleetAccount.objects.filter(
        branch_id__in=scope.branch_ids, status=ProtectionStatus.PROTECTED
    )
    return tally_of(accounts, scope, numerator=Count("pk"))


def tier_attainment(scope: Scope):
    """Per account with an agreement valid on the scope's last day: the units delivered that
    count toward its tiers (as pricing counts them) against the units agreed."""
    agreements = (
        FleetAgreement.objects.filter(
            account__branch_id__in=scope.branch_ids,
            signed_on__lte=scope.end,
            valid_until__gte=scope.end,
        )
        .select_related("account")
        .order_by("account_id", "-signed_on", "-pk")
        .distinct("account_id")
    )
    per_account = {
        str(agreement.account_id): Measure(
            Decimal(delivered_units_counted(agreement.account, agreement)),
            Decimal(agreement.agreed_units),
        )
        for agreement in agreements
    }
    total = Measure(
        sum((m.numerator for m in per_account.values()), Decimal(0)),
        sum((m.denominator for m in per_account.values()), Decimal(0)),
    )
    return one_value(total, per_account)


def approvals_in_time(scope: Scope):
    """Discount and special-configuration requests decided in the scope: by their due time
    (48 hours) ÷ all decided."""
    total = Measure(Decimal(0), Decimal(0))
    for model in (DiscountRequest, SpecialConfigurationRequest):
        decided = model.objects.filter(
            deal__branch_id__in=scope.branch_ids,
            status__in=[RequestStatus.APPROVED, RequestStatus.REFUSED],
            decided_at__gte=scope.since,
            decided_at__lt=scope.until,
        )
        total += tally_of(
            decided,
            scope,
            numerator=Count("pk", filter=Q(decided_at__lte=F("due_by"))),
            denominator=Count("pk"),
        )[(None, "")]
    return one_value(total)


# --- The records behind a value: the fleet lists filtered to the scope --------------------------


def open_deals(scope: Scope) -> str:
    return records_link("fleet:deal-list", scope, *(("stage", stage) for stage in OPEN_DEAL_STAGES))


def protected(scope: Scope) -> str:
    return records_link("fleet:account-list", scope, ("status", ProtectionStatus.PROTECTED.value))


def accounts(scope: Scope) -> str:
    return records_link("fleet:account-list", scope)


def decided_requests(scope: Scope) -> str:
    """The discount requests decided in the period (the list shows one kind at a time; the
    special-configuration requests are its other tab). The list has no branch filter: it
    shows the user's branches."""
    return records_link(
        "fleet:request-list",
        scope,
        ("kind", "discount"),
        ("status", RequestStatus.APPROVED.value),
        ("status", RequestStatus.REFUSED.value),
        period="decided",
        branch=False,
    )


FLEET = {"area": Area.FLEET, "app": "fleet", "permission": "fleet.view_fleetdeal"}

register(
    Kpi(
        code="fleet.pipeline_value",
        name=_("Pipeline value"),
        definition=_(
            "Expected value of the fleet deals open at the period's end, per stage. Taken "
            "nightly: the records keep no past stages."
        ),
        unit=Unit.CNY,
        direction=Direction.HIGHER,
        measure=pipeline_value,
        aggregation=LEVEL,
        breakdown=_("Stage"),
        key_labels=lambda: {stage: DealStage(stage).label for stage in OPEN_DEAL_STAGES},
        history=False,
        places="0.01",
        records=open_deals,
        **FLEET,
    ),
    Kpi(
        code="fleet.protected_accounts",
        name=_("Protected accounts"),
        definition=_(
            "Fleet accounts under their branch's protection at the period's end. Taken nightly."
        ),
        unit=Unit.COUNT,
        direction=Direction.HIGHER,
        measure=protected_accounts,
        aggregation=LEVEL,
        history=False,
        places="1",
        records=protected,
        **FLEET,
    ),
    Kpi(
        code="fleet.tier_attainment",
        name=_("Tier attainment"),
        definition=_(
            "Of the accounts with an agreement valid at the period's end: units delivered that "
            "count toward the tiers (special deals left out) ÷ units agreed, per account. Taken "
            "nightly."
        ),
        unit=Unit.PERCENT,
        direction=Direction.HIGHER,
        measure=tier_attainment,
        aggregation=LEVEL,
        breakdown=_("Fleet account"),
        history=False,
        live=False,
        records=accounts,
        **FLEET,
    ),
    Kpi(
        code="fleet.approvals_in_time",
        name=_("Approvals within 48 h"),
        definition=_(
            "Discount and special-configuration requests decided in the period by their due "
            "time (48 hours after the request) ÷ requests decided."
        ),
        unit=Unit.PERCENT,
        direction=Direction.HIGHER,
        measure=approvals_in_time,
        records=decided_requests,
        **FLEET,
    ),
)
