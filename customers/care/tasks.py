from celery import shared_task

from dealer_crm.jobs import recorded
from dealer_crm.models import Branch
from sales.models import Delivery
from service.models import Settlement

from . import services
from .models import Campaign


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


@shared_task(acks_late=True)
def campaign_contact_task(campaign_id: int) -> int:
    """After a launch: every offer of the campaign sent to its customer (once each)."""
    return services.campaign_contact(campaign=Campaign.objects.get(pk=campaign_id))


@shared_task(acks_late=True)
def delivery_points_task(delivery_id: int) -> int:
    """After a delivery: the buyer's purchase points and the referrer's referral points."""
    return services.points_for_delivery(
        delivery=Delivery.objects.select_related("order__lead__referrer").get(pk=delivery_id)
    )


@shared_task(acks_late=True)
def settlement_points_task(work_order_id: int) -> int:
    """After a work order closes: the customer's points for what they paid."""
    settlement = Settlement.objects.filter(work_order_id=work_order_id).first()
    return services.points_for_settlement(settlement=settlement) if settlement else 0


@shared_task(acks_late=True)
@recorded("loyalty_points")
def loyalty_points_task() -> int:
    """Nightly: the recent deliveries and settlements whose points the event tasks missed."""
    return services.points_catch_up()
