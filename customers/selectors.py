"""Reads about customers and vehicles that join or aggregate."""

from django.contrib.auth.models import User
from django.db import models
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .choices import VehicleAgeSegment
from .filters import customer_search_condition
from .models import Contact, Customer, OdometerReading, TimelineEntry, Vehicle

# DOMAIN §1 master-data completeness: the items a complete customer record has filled.
COMPLETENESS_ITEMS = {
    "name": _("owner name"),
    "phone": _("a phone"),
    "category": _("customer category"),
    "evaluation": _("evaluation category"),
    "province": _("province"),
    "city": _("city"),
    "street": _("address"),
    "postcode": _("postcode"),
    "vin": _("VIN"),
    "plate": _("plate number"),
    "model_code": _("model code"),
    "contact_name": _("contact name"),
    "contact_phone": _("contact phone"),
    "series": _("series"),
    "colour": _("colour"),
}


def customer_completeness_gaps(customer: Customer) -> list[str]:
    """The completeness items this customer lacks (keys of COMPLETENESS_ITEMS).

    A vehicle item counts when any of the customer's vehicles has it. A person is their own
    contact when no separate contact is recorded.
    """
    vehicles = list(customer.vehicles.all())
    contacts = list(customer.contacts.all())
    filled = {
        "name": customer.name,
        "phone": customer.mobile or customer.mobile_2 or customer.landline,
        "category": customer.category,
        "evaluation": customer.evaluation,
        "province": customer.province,
        "city": customer.city,
        "street": customer.street or customer.village,
        "postcode": customer.postcode,
        "contact_name": any(c.name for c in contacts) or (customer.is_person and customer.name),
        "contact_phone": any(c.mobile or c.landline for c in contacts)
        or (customer.is_person and customer.mobile),
    }
    for field in ("vin", "plate", "model_code", "series", "colour"):
        filled[field] = any(getattr(vehicle, field) for vehicle in vehicles)
    return [item for item in COMPLETENESS_ITEMS if not filled[item]]


def completeness_score(gaps: list[str]) -> int:
    return round(100 * (len(COMPLETENESS_ITEMS) - len(gaps)) / len(COMPLETENESS_ITEMS))


def customer_duplicates(
    *,
    user: User,
    mobile: str = "",
    id_number: str = "",
    credit_code: str = "",
    vin: str = "",
    exclude_id: int | None = None,
) -> QuerySet[Customer]:
    """Active customers the user can see that share a phone, ID number, credit code or VIN."""
    condition = Q(pk__in=[])
    if mobile:
        condition |= Q(mobile=mobile) | Q(mobile_2=mobile) | Q(contacts__mobile=mobile)
    if id_number:
        condition |= Q(id_number=id_number.upper())
    if credit_code:
        condition |= Q(credit_code=credit_code.upper())
    if vin:
        condition |= Q(vehicles__vin=vin.upper())
    customers = Customer.objects.for_user(user).active().filter(condition)
    if exclude_id:
        customers = customers.exclude(pk=exclude_id)
    return customers.distinct().order_by("pk")


def customer_list(*, user: User) -> QuerySet[Customer]:
    """The customer list's base: active customers of the user's branches, with what a row shows."""
    return (
        Customer.objects.for_user(user)
        .active()
        .select_related("branch", "consultant", "advisor")
        .prefetch_related(Prefetch("vehicles", queryset=Vehicle.objects.order_by("-id")))
    )


def vehicle_list(*, user: User) -> QuerySet[Vehicle]:
    return (
        Vehicle.objects.for_user(user).with_age_segment().select_related("owner", "owner__branch")
    )


# A picker offers customers once this much of a name, phone, VIN or plate is typed.
PICKER_MIN_TERM = 2


def customers_matching(*, branch, term: str, limit: int) -> list[Customer]:
    """The branch's active customers matching what was typed in a picker (the one search box's
    rules), by name; none until at least two characters are typed."""
    term = term.strip()
    if len(term) < PICKER_MIN_TERM:
        return []
    return list(
        Customer.objects.active()
        .filter(branch=branch)
        .filter(customer_search_condition(term))
        .order_by("name", "pk")[:limit]
    )


def customer_detail(*, user: User, pk: int) -> Customer:
    return (
        Customer.objects.select_related("branch", "consultant", "advisor", "merged_into")
        .prefetch_related(
            "contacts", Prefetch("vehicles", queryset=Vehicle.objects.with_age_segment())
        )
        .get_for_user_or_404(user, pk=pk)
    )


def customer_timeline(*, customer: Customer) -> QuerySet[TimelineEntry]:
    return customer.timeline.select_related("actor")


def vehicle_last_reading(*, vehicle: Vehicle) -> OdometerReading | None:
    return vehicle.odometer_readings.order_by("-read_on", "-id").first()


def contact_list(*, user: User) -> QuerySet[Contact]:
    return Contact.objects.for_user(user).select_related("customer")


def branch_overview(*, user: User, branch) -> dict:
    """The home page's figures for one branch: a handful of bounded aggregates."""
    customers = Customer.objects.for_user(user).active().filter(branch=branch)
    vehicles = Vehicle.objects.for_user(user).filter(owner__branch=branch).with_age_segment()
    segments = dict(vehicles.order_by().values_list("age_segment").annotate(n=models.Count("id")))
    return {
        "customers": customers.count(),
        "incomplete": customers.filter(completeness__lt=100).count(),
        "vehicles": sum(segments.values()),
        "segments": [
            (value, label, segments.get(value, 0)) for value, label in VehicleAgeSegment.choices
        ],
        "recent": TimelineEntry.objects.filter(customer__in=customers).select_related(
            "customer", "actor"
        )[:10],
    }
