from datetime import timedelta

from celery import shared_task
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from dealer_crm.jobs import recorded
from dealer_crm.notifications import notify

from . import services
from .models import Appointment

# How long before a slot its customer is reminded (the advisor is told to call).
REMINDER_AHEAD = timedelta(hours=24)


@shared_task(acks_late=True)
@recorded("appointment_reminders")
def appointment_reminders_task() -> int:
    """Hourly: tell each advisor of their appointments starting within 24 hours, once each."""
    due = services.appointment_reminders_mark(within=REMINDER_AHEAD)
    appointments = Appointment.objects.filter(pk__in=due).select_related(
        "slot", "customer", "vehicle", "advisor", "branch"
    )
    for appointment in appointments:
        starts = timezone.localtime(appointment.slot.starts_at)
        notify(
            recipients=[appointment.advisor],
            key=f"appointment-reminder-{appointment.pk}",
            title=_("Remind %(customer)s of the appointment at %(time)s")
            % {
                "customer": appointment.customer.name,
                "time": f"{starts:%m-%d %H:%M}",
            },
            body=f"{appointment.vehicle} · {appointment.contact_phone}",
            url=f"{reverse('service:appointment-day')}?day={starts:%Y-%m-%d}",
            branch=appointment.branch,
        )
    return len(due)
