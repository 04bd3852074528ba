"""What the service department tells the rest of the system.

`work_order_closed` is sent once a work order is closed (settled and the car handed back):
the archive files its service section and customer care schedules the follow-up call within
3 days. Receivers get `work_order_id` and should only queue a Celery task with it, as with
`sales.events.vehicle_delivered`. Connect receivers in the consuming app's `AppConfig.ready()`.
"""

from django.db import transaction
from django.dispatch import Signal

work_order_closed = Signal()


def publish_work_order_closed(work_order_id: int) -> None:
    """Send `work_order_closed` after the surrounding transaction commits (never if it rolls
    back)."""
    transaction.on_commit(
        lambda: work_order_closed.send(sender="service.WorkOrder", work_order_id=work_order_id),
        robust=True,
    )
