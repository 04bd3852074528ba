"""What the sales funnel tells the rest of the system.

`vehicle_delivered` is sent once a delivery is committed: the vehicle is the customer's, its
ownership starts, and the archive (the vehicle file) and customer care (the day 1, 7 and 30
follow-up calls) take over. Receivers get `delivery_id` and should only queue a Celery task
with it — the task re-reads the delivery, so a receiver never sees uncommitted data and a
failing receiver cannot undo the delivery:

    from sales.events import vehicle_delivered

    @receiver(vehicle_delivered)
    def open_vehicle_file(sender, delivery_id: int, **kwargs):
        vehicle_file_open_task.delay(delivery_id)

Connect receivers in the consuming app's `AppConfig.ready()`.
"""

from django.db import transaction
from django.dispatch import Signal

vehicle_delivered = Signal()


def publish_vehicle_delivered(delivery_id: int) -> None:
    """Send `vehicle_delivered` after the surrounding transaction commits (never if it rolls
    back)."""
    transaction.on_commit(
        lambda: vehicle_delivered.send(sender="sales.Delivery", delivery_id=delivery_id),
        robust=True,
    )
