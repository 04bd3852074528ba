"""Reads of fleet sales: a deal's settlement statement."""

from decimal import Decimal

from .models import FleetDeal


def settlement_statement(*, deal: FleetDeal) -> dict:
    """Support per batch — units priced and delivered, tier, support due and settled — and
    the deal's reconciliation: what is due, settled and still open."""
    orders = list(deal.orders.select_related("tier_band", "agreement").order_by("priced_at", "pk"))
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
