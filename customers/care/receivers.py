"""Customer care credits loyalty points when sales delivers a vehicle and when service
closes a work order."""

from django.dispatch import receiver

from sales.events import vehicle_delivered
from service.events import work_order_closed

from .tasks import delivery_points_task, settlement_points_task


@receiver(vehicle_delivered, dispatch_uid="care.delivery_points")
def credit_delivery_points(sender, delivery_id: int, **kwargs) -> None:
    delivery_points_task.delay(delivery_id)


@receiver(work_order_closed, dispatch_uid="care.settlement_points")
def credit_settlement_points(sender, work_order_id: int, **kwargs) -> None:
    settlement_points_task.delay(work_order_id)
