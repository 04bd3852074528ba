from datetime import date

from celery import shared_task
from django.utils import timezone

from dealer_crm.jobs import recorded
from dealer_crm.models import Branch

from . import services


@shared_task(acks_late=True)
@recorded("reorder_suggestions")
def reorder_suggestions_task(day: str | None = None) -> int:
    """Nightly: each active branch's reorder suggestions for the day, one branch per
    transaction; a rerun replaces the day's open suggestions, so nothing doubles."""
    on = date.fromisoformat(day) if day else timezone.localdate()
    return sum(
        services.reorder_suggestions_compute(branch=branch, day=on)
        for branch in Branch.objects.filter(is_active=True).order_by("pk")
    )
