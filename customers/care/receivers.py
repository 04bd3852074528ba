"""Customer care credits loyalty points when sales delivers a vehicle and when service
closes a work order, and folds a merged duplicate's points, offers and segments."""

from django.dispatch import receiver

from customers.events import customer_merging
from sales.events import vehicle_delivered
from service.events import work_order_closed

from .services import customer_care_fold
from .tasks import delivery_points_task, settlement_points_task


@receiver(vehicle_delivered, dispatch_uid="care.delivery_points")
def credit_delivery_points(sender, delivery_id: int, **kwargs) -> None:
    delivery_points_task.delay(delivery_id)


@receiver(work_order_closed, dispatch_uid="care.settlement_points")
def credit_settlement_points(sender, work_order_id: int, **kwargs) -> None:
    settlement_points_task.delay(work_order_id)


@receiver(customer_merging, dispatch_uid="care.customer_fold")
def fold_customer_care(sender, keep, duplicate, by, **kwargs) -> None:
    customer_care_fold(keep=keep, duplicate=duplicate, by=by)
