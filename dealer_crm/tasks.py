import socket
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .idempotency import idempotency_purge
from .jobs import recorded
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
