from celery import shared_task

from dealer_crm.jobs import recorded

from . import services


@shared_task(acks_late=True)
@recorded("lead_deadlines_check")
def lead_deadlines_check_task() -> int:
    """Flag leads past their first-response or status-update deadline (idempotent)."""
    return services.lead_deadlines_check()
