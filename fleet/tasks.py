from celery import shared_task

from dealer_crm.jobs import recorded

from . import services


@shared_task(acks_late=True)
@recorded("protections_lapse")
def protections_lapse_task() -> int:
    """Daily: lapse the protection of accounts past their months or without the month's
    progress report; each lapse is told to its branch once."""
    return len(services.protections_lapse())


@shared_task(acks_late=True)
@recorded("requests_flag_overdue")
def requests_flag_overdue_task() -> int:
    """Hourly: flag discount and special-configuration requests undecided after 48 hours."""
    return services.requests_flag_overdue()


@shared_task(acks_late=True)
def batch_deliveries_count_task(fleet_order_id: int) -> int:
    """After a delivery in sales: recount the batch's delivered units (a rerun changes
    nothing)."""
    return services.fleet_order_count_deliveries(fleet_order_id=fleet_order_id).delivered_units
