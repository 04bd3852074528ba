from celery import shared_task

from dealer_crm.jobs import recorded
from dealer_crm.models import Branch

from . import services


@shared_task(acks_late=True)
@recorded("follow_up_calls")
def follow_up_calls_task() -> int:
    """Daily: the follow-up calls falling due today (a rerun makes none twice)."""
    return services.follow_up_calls_generate()


@shared_task(acks_late=True)
@recorded("complaints_escalate")
def complaints_escalate_task() -> int:
    """Hourly: complaints past their response or resolution deadline escalated, once each."""
    return services.complaints_escalate()


@shared_task(acks_late=True)
@recorded("segments")
def segments_task(branch_id: int | None = None) -> int:
    """Nightly (or on demand for one branch): every customer's segments recomputed."""
    branches = Branch.objects.filter(pk=branch_id) if branch_id else Branch.objects.all()
    return sum(services.segments_compute(branch=branch) for branch in branches.order_by("pk"))


@shared_task(acks_late=True)
@recorded("reminders")
def reminders_task() -> dict:
    """Daily: today's reminders made, then every reminder due sent (once each)."""
    return {
        "made": services.reminders_generate(),
        "sent": services.reminders_send(),
    }
