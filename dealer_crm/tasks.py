import socket
from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from .idempotency import idempotency_purge
from .jobs import recorded
from .kpis import kpi_snapshots_nightly
from .models import Heartbeat


@shared_task(acks_late=True)
def heartbeat_task() -> int:
    return Heartbeat.objects.create(worker=socket.gethostname()).pk


@shared_task(acks_late=True)
@recorded("heartbeat_purge")
def heartbeat_purge_task() -> int:
    deleted, _ = Heartbeat.objects.filter(beat_at__lt=timezone.now() - timedelta(days=7)).delete()
    return deleted


@shared_task(acks_late=True)
@recorded("idempotency_purge")
def idempotency_purge_task() -> int:
    """Forget Idempotency-Key answers older than 24 hours (a rerun finds nothing more)."""
    return idempotency_purge()


@shared_task(acks_late=True)
@recorded("kpi_snapshots")
def kpi_snapshots_task(today: str | None = None) -> dict[str, int]:
    """Yesterday's figures of every branch into the snapshots, and the days the cohort
    figures restate; one (branch, day) per transaction, so a rerun completes a stopped run."""
    return kpi_snapshots_nightly(today=date.fromisoformat(today) if today else None)
