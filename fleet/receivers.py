"""What fleet sales does when sales delivers a vehicle: a delivered order of a batch counts
toward the batch, its support and the account's tiers."""

from django.dispatch import receiver

from sales.events import vehicle_delivered
from sales.models import Delivery

from .tasks import batch_deliveries_count_task


@receiver(vehicle_delivered, dispatch_uid="fleet.count_batch_delivery")
def count_batch_delivery(sender, delivery_id: int, **kwargs) -> None:
    fleet_order_id = (
        Delivery.objects.filter(pk=delivery_id).values_list("order__fleet_order", flat=True).first()
    )
    if fleet_order_id is not None:
        batch_deliveries_count_task.delay(fleet_order_id)
