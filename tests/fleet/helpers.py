"""Fleet records built the way the fleet department builds them: through the services.

An account is registered with `register` (a fresh valid credit code each time unless one is
given), protected with `protect`; a deal with `deal_for`; an agreement with its tiers with
`agreement_with_tiers`; a batch with `priced`, its vehicles handed over in sales with
`delivered`. Refusals are caught with `refusal`, "nothing changed" is checked with `state`
(every column of a row, re-read) and `counts`."""

from datetime import date, datetime, time
from decimal import Decimal
from itertools import count

import pytest
from django.test import TestCase
from django.utils import timezone

from customers.models import Customer
from customers.validators import credit_code_check_char
from dealer_crm.errors import DomainError
from dealer_crm.models import Notification
from dealer_crm.periods import LOCAL_TIME_ZONE
from fleet import services
from fleet.choices import AccountClass, ProtectionStatus
from fleet.models import (
    DealLine,
    DiscountRequest,
    FleetAccount,
    FleetAgreement,
    FleetDeal,
    FleetOrder,
    ProgressReport,
    SpecialConfigurationRequest,
    TierBand,
)
from sales import services as sales_services
from sales.choices import DeliveryCheck, DeliveryDocument, OrderStatus, PaymentKind
from sales.models import Order
from tests.factories.sales import StockVehicleFactory

# Credit codes published by registered companies (see tests/customers/test_validators.py).
REAL_CODE = "9144030071526726XG"
OTHER_REAL_CODE = "91440300192317458F"

UNIT_PRICE = Decimal("100000.00")
TIER_1 = Decimal("1000.00")
TIER_2 = Decimal("2500.00")
TWO_TIERS = [
    {"from_units": 1, "to_units": 10, "support_per_unit": TIER_1},
    {"from_units": 11, "to_units": None, "support_per_unit": TIER_2},
]

# The fleet tables, and the sales orders and customer record a batch becomes.
FLEET_MODELS = (
    FleetAccount,
    ProgressReport,
    FleetDeal,
    DealLine,
    FleetAgreement,
    TierBand,
    FleetOrder,
    DiscountRequest,
    SpecialConfigurationRequest,
    Notification,
    Order,
    Customer,
)

_serial = count(1)


def credit_code() -> str:
    """A fresh, valid unified social credit code (Guangzhou, its check character computed)."""
    first17 = f"91440101{next(_serial):09d}"
    return first17 + credit_code_check_char(first17)


def refusal(call) -> DomainError:
    """The refusal `call()` raises (the test fails if it raises none)."""
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def fresh(instance):
    return type(instance).objects.get(pk=instance.pk)


def state(instance) -> dict:
    """Every column of the row as the database holds it now."""
    row = fresh(instance)
    return {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields}


def counts(*models) -> dict:
    return {model.__name__: model.objects.count() for model in models or FLEET_MODELS}


def local_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=LOCAL_TIME_ZONE)


# --- accounts ----------------------------------------------------------------------------------


def register(branch, by, *, code: str | None = None, **data) -> FleetAccount:
    data.setdefault("name", "广州畅行汽车租赁有限公司")
    data.setdefault("account_class", AccountClass.RENTAL)
    return services.account_register(
        branch=branch, by=by, data={**data, "credit_code": code or credit_code()}
    )


def protect(account, *, confirmed_on: date, until: date) -> FleetAccount:
    """Put the account under protection confirmed on `confirmed_on` and running to `until`."""
    FleetAccount.objects.filter(pk=account.pk).update(
        status=ProtectionStatus.PROTECTED,
        confirmed_at=local_noon(confirmed_on),
        protected_until=until,
    )
    return fresh(account)


def lapse(account) -> FleetAccount:
    FleetAccount.objects.filter(pk=account.pk).update(
        status=ProtectionStatus.LAPSED, lapsed_at=timezone.now(), lapse_reason="test"
    )
    return fresh(account)


# --- deals, agreements, orders -----------------------------------------------------------------


def deal_for(account, by, quantity: int = 30, **data) -> FleetDeal:
    data.setdefault("title", "租赁车队更新")
    return services.deal_create(
        account=account, by=by, data=data,
        lines=[{"brand": "大众", "series": "朗逸", "configuration": "1.5L 舒适版",
                "quantity": quantity}],
    )  # fmt: skip


def agreement_with_tiers(account, by, bands=None, *, signed_on: date | None = None):
    """This year's agreement of the account (signed today unless said) with its tiers."""
    agreement = services.agreement_sign(
        account=account, signed_on=signed_on or timezone.localdate(), by=by
    )
    services.tier_bands_set(agreement=agreement, bands=bands or TWO_TIERS, by=by)
    return agreement


def priced(deal, agreement, by, quantity: int, **extra) -> FleetOrder:
    """A batch of the deal's first model at 100,000 CNY a vehicle unless said."""
    extra.setdefault("line", deal.lines.first())
    extra.setdefault("unit_price", UNIT_PRICE)
    return services.fleet_order_price(
        deal=deal, agreement=agreement, quantity=quantity, by=by, **extra
    )


def delivered(order, by, units: int | None = None) -> FleetOrder:
    """Deliver `units` of the batch (all of it unless said) the way sales does, one signed
    sales order at a time; the fleet receiver counts each delivery after its commit."""
    waiting = list(order.sales_orders.filter(status=OrderStatus.SIGNED).order_by("pk"))
    for sales_order in waiting[: units or order.quantity]:
        handed_over(sales_order, by)
    return fresh(order)


def invoiced(sales_order, by) -> Order:
    """A signed sales order made ready to hand over: a vehicle of its model arrives and
    passes its PDI, is allocated, paid in full and invoiced."""
    vehicle = StockVehicleFactory(
        branch_id=sales_order.branch_id,
        brand=sales_order.brand,
        series=sales_order.series,
        pdi_done_on=timezone.localdate(),
    )
    sales_services.order_allocate(order=sales_order, stock_vehicle=vehicle, by=by)
    sales_services.payment_record(
        order=sales_order,
        by=by,
        data={
            "kind": PaymentKind.FINAL,
            "amount": sales_order.total_price,
            "paid_on": timezone.localdate(),
        },
    )
    sales_services.order_invoice(
        order=sales_order, by=by, invoice_number=f"FLEET{next(_serial):06d}"
    )
    return fresh(sales_order)


def handed_over(sales_order, by) -> Order:
    """A signed sales order delivered through the sales services; what `vehicle_delivered`
    sets off after the commit (the fleet receiver among it) runs."""
    sales_order = invoiced(sales_order, by)
    with TestCase.captureOnCommitCallbacks(execute=True):
        sales_services.delivery_record(
            order=sales_order,
            by=by,
            delivered_on=timezone.localdate(),
            checklist=list(DeliveryCheck.values),
            documents=list(DeliveryDocument.values),
        )
    return fresh(sales_order)
