from celery import shared_task

from . import services


@shared_task(acks_late=True)
def lead_deadlines_check_task() -> int:
    """Flag leads past their first-response or status-update deadline (idempotent)."""
    return services.lead_deadlines_check()
