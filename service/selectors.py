"""Reads of the service department: the front desk's day, what a vehicle brings to check-in,
the technician board and the service figures."""

from datetime import date

from django.contrib.auth.models import User
from django.db.models import Count, DecimalField, F, QuerySet, Sum
from django.db.models.functions import Coalesce

from customers.models import Vehicle
from dealer_crm.figures import ratio
from dealer_crm.kpis import Scope, kpi_get
from dealer_crm.periods import local_day_end, local_day_start

from .choices import RecommendationStatus, WorkOrderStatus
from .models import (
    ZERO,
    Appointment,
    LabourLine,
    Recommendation,
    ServiceSlot,
    Settlement,
    WorkOrder,
)

MONEY = DecimalField(max_digits=14, decimal_places=2)
# Work orders the workshop is busy with: on the technician board.
IN_WORKSHOP = [WorkOrderStatus.OPEN, WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.QUALITY_CHECK]


def work_order_list(*, user: User) -> QuerySet[WorkOrder]:
    return WorkOrder.objects.for_user(user).select_related(
        "branch", "customer", "vehicle", "advisor", "comeback_of"
    )


def front_desk_day(*, branch_id: int, day: date) -> list[tuple[ServiceSlot, list[Appointment]]]:
    """The day's slots in time order with their appointments: the front desk's view."""
    slots = list(
        ServiceSlot.objects.filter(
            branch_id=branch_id,
            starts_at__gte=local_day_start(day),
            starts_at__lt=local_day_end(day),
        ).order_by("starts_at", "service_type")
    )
    appointments = (
        Appointment.objects.filter(slot__in=slots)
        .select_related("customer", "vehicle", "advisor", "work_order")
        .order_by("id")
    )
    by_slot: dict[int, list[Appointment]] = {slot.pk: [] for slot in slots}
    for appointment in appointments:
        by_slot[appointment.slot_id].append(appointment)
    return [(slot, by_slot[slot.pk]) for slot in slots]


def check_in_brief(*, vehicle: Vehicle) -> dict:
    """What the advisor sees on checking a vehicle in: its last reading, the items declined
    at earlier visits, its last visits."""
    return {
        "last_reading": vehicle.odometer_readings.order_by("-read_on", "-id").first(),
        "declined": list(
            Recommendation.objects.filter(
                vehicle=vehicle,
                status__in=[RecommendationStatus.OPEN, RecommendationStatus.DECLINED],
            ).select_related("work_order")
        ),
        "visits": list(WorkOrder.objects.filter(vehicle=vehicle).order_by("-opened_at")[:5]),
    }


def technician_board(*, branch_id: int) -> list[tuple[User, list[LabourLine]]]:
    """Every technician's operations on cars in the workshop, the undone first."""
    lines = (
        LabourLine.objects.filter(
            work_order__branch_id=branch_id, work_order__status__in=IN_WORKSHOP
        )
        .select_related("technician", "work_order", "work_order__vehicle", "added_item")
        .order_by("technician__username", F("done_at").asc(nulls_first=True), "id")
    )
    board: dict[int, tuple[User, list[LabourLine]]] = {}
    for line in lines:
        board.setdefault(line.technician_id, (line.technician, []))[1].append(line)
    return list(board.values())


def service_figures(
    *, branch_ids: list[int], start: date, end: date, advisor_id: int | None = None
) -> dict:
    """The service figures of DOMAIN §8 for the branches and the period (both days included).

    Entries (入库台次), revenue per entry (单车产值), labour hours sold, the appointment rate and
    comebacks are the KPI registry's (service.kpis: one computation of each), measured over
    the period; the parts / labour mix and the hours per technician, which the registry does
    not hold, are counted here over the same settlements.
    """
    since, until = local_day_start(start), local_day_end(end)
    scope = Scope(tuple(branch_ids), start, end, person_id=advisor_id)
    measured = {
        code: kpi_get(f"service.{code}").measure(scope)[(None, "")]
        for code in ("entries", "revenue_per_entry", "labour_hours", "appointment_rate")
    }
    comebacks = kpi_get("service.comebacks").measure(scope)[(None, "")]
    # One advisor's figures, or the branches'.
    mine = {"work_order__advisor_id": advisor_id} if advisor_id else {}
    mix = Settlement.objects.filter(
        work_order__branch_id__in=branch_ids, settled_at__gte=since, settled_at__lt=until, **mine
    ).aggregate(
        labour=Coalesce(Sum("labour_total"), ZERO, output_field=MONEY),
        parts=Coalesce(Sum("parts_total"), ZERO, output_field=MONEY),
    )
    per_technician = list(
        LabourLine.objects.filter(
            work_order__branch_id__in=branch_ids,
            work_order__settlement__settled_at__gte=since,
            work_order__settlement__settled_at__lt=until,
            **mine,
        )
        .values("technician", "technician__first_name", "technician__last_name")
        .annotate(hours=Sum("standard_hours"), lines=Count("pk"))
        .order_by("-hours")
    )
    revenue = measured["revenue_per_entry"]
    appointments = measured["appointment_rate"]
    return {
        "start": start,
        "end": end,
        "entries": int(measured["entries"].numerator),
        "settled": int(revenue.denominator),
        "revenue": revenue.numerator,
        "revenue_per_entry": kpi_get("service.revenue_per_entry").value(revenue),
        "labour_hours": measured["labour_hours"].numerator,
        "labour_revenue": mix["labour"],
        "parts_revenue": mix["parts"],
        "parts_to_labour": ratio(mix["parts"], mix["labour"], "0.01"),
        "appointment_rate": kpi_get("service.appointment_rate").value(appointments),
        "comebacks": int(comebacks.numerator),
        "technicians": per_technician,
    }
