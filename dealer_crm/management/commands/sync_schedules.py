"""Copy settings.CELERY_BEAT_SCHEDULE into django-celery-beat's tables (schedules live in code)."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from dealer_crm.schedules import schedules_sync


class Command(BaseCommand):
    help = "Sync the scheduled duties declared in code into django-celery-beat."

    @transaction.atomic
    def handle(self, *args, **options):
        created, updated, removed = schedules_sync(settings.CELERY_BEAT_SCHEDULE)
        self.stdout.write(f"Schedules: {created} created, {updated} updated, {removed} removed.")
