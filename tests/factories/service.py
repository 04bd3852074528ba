"""Service records: slots as rows, and appointments booked the way the front desk books them
(through the services). Work orders are driven through their steps by tests/service/helpers.py.
"""

from datetime import timedelta

import factory
from django.utils import timezone

from service.choices import ServiceType
from service.models import ServiceSlot

from .customers import CustomerFactory, VehicleFactory
from .platform import BranchFactory


def tomorrow_at(hour: int, minute: int = 0):
    """An aware datetime tomorrow at hour:minute, Asia/Shanghai."""
    day = timezone.localtime() + timedelta(days=1)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


class ServiceSlotFactory(factory.django.DjangoModelFactory):
    """A repair slot of two cars, each one half an hour after the last, from tomorrow 08:00."""

    class Meta:
        model = ServiceSlot

    branch = factory.SubFactory(BranchFactory)
    service_type = ServiceType.REPAIR
    starts_at = factory.Sequence(lambda n: tomorrow_at(8) + timedelta(minutes=30 * n))
    capacity = 2


def booked_appointment(branch, advisor, *, slot=None, customer=None, vehicle=None):
    """An appointment of a customer's car (a new one unless given) in `slot` (a new one)."""
    from service import services

    if vehicle is None:
        customer = customer or CustomerFactory(branch=branch)
        vehicle = VehicleFactory(owner=customer, transmission="automatic")
    customer = customer or vehicle.owner
    return services.appointment_book(
        slot=slot or ServiceSlotFactory(branch=branch),
        customer=customer,
        vehicle=vehicle,
        advisor=advisor,
        contact_phone=customer.mobile,
        complaint="保养",
        by=advisor,
    )
