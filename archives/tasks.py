from celery import shared_task

from dealer_crm.jobs import recorded
from dealer_crm.models import Branch

from . import services


@shared_task(acks_late=True)
def sales_section_open_task(delivery_id: int) -> int:
    """After a delivery: the vehicle's file and its sales section (a rerun finds them)."""
    return services.sales_section_open(delivery_id=delivery_id).pk


@shared_task(acks_late=True)
def service_section_open_task(work_order_id: int) -> int:
    """After a work order is closed: its service section in the vehicle's file."""
    return services.service_section_open(work_order_id=work_order_id).pk


@shared_task(acks_late=True)
@recorded("archive_hourly")
def archive_hourly_task() -> dict:
    """Hourly: batches of ended periods made and late ones flagged, rework past its 24 hours
    pointed, missing reports past their 2 days flagged. Each step is idempotent."""
    return {
        "batches_flagged": services.batches_prepare(),
        "rework_points": services.rework_overdue(),
        "reports_flagged": services.missing_reports_flag_overdue(),
    }


@shared_task(acks_late=True)
@recorded("reconciliation")
def reconciliation_task() -> int:
    """Nightly: reconcile each branch's archive with its records (a rerun replaces the day)."""
    branch_ids = list(Branch.objects.values_list("pk", flat=True))
    for branch_id in branch_ids:
        services.reconcile(branch=Branch.objects.get(pk=branch_id))
    return len(branch_ids)


@shared_task(acks_late=True)
@recorded("retention")
def retention_task() -> int:
    """Nightly: retain-until dates recomputed, files whose time has come sealed."""
    return services.retention_apply()
