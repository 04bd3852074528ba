"""Every write to customers, contacts, vehicles, odometer readings and the timeline."""

from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from dealer_crm.audit import attribute_to
from dealer_crm.errors import DomainError
from dealer_crm.models import Branch

from . import timeline
from .choices import OdometerSource
from .events import customer_merging
from .models import (
    CUSTOMER_EDITABLE_FIELDS,
    Contact,
    Customer,
    OdometerReading,
    TimelineEntry,
    Vehicle,
    VehicleOwnership,
)
from .selectors import completeness_score, customer_completeness_gaps, customer_duplicates
from .spreadsheets import IMPORT_COLUMNS, ImportReport
from .vin import decode_vin, normalize_vin

# Fields a merge fills on the kept customer when it has them blank.
MERGE_FILLABLE = [
    field
    for field in CUSTOMER_EDITABLE_FIELDS
    if field
    not in (
        "kind",
        "name",
        "birthday_is_lunar",
        "tags",
        "marketing_consent",
        "consent_date",
        "consent_channel",
    )
]  # the rest are decided together (consent) or merged (tags) below


def _duplicates_payload(customers) -> dict:
    return {"duplicates": [{"id": c.pk, "name": c.name} for c in customers[:10]]}


def timeline_add(
    *,
    customer: Customer,
    kind: str,
    detail: str = "",
    subject: models.Model | None = None,
    actor: User | None = None,
    occurred_at: datetime | None = None,
) -> TimelineEntry:
    """Add an entry to a customer's timeline. Apps call this with a kind they registered."""
    if kind not in timeline.TIMELINE_KINDS:
        raise ValueError(f"Unregistered timeline kind {kind!r}")
    return TimelineEntry.objects.create(
        customer=customer,
        kind=kind,
        detail=detail[:300],
        subject=subject,
        actor=actor if actor and actor.is_authenticated else None,
        occurred_at=occurred_at or timezone.now(),
    )


def customer_completeness_refresh(*, customer: Customer) -> int:
    score = completeness_score(customer_completeness_gaps(customer))
    if score != customer.completeness:
        Customer.objects.filter(pk=customer.pk).update(completeness=score)
        customer.completeness = score
    return score


def _refuse_duplicates(*, customer: Customer, by: User, confirm_duplicate: bool) -> None:
    """ID number and credit code identify one customer; a shared phone may be a family's."""
    same_identity = customer_duplicates(
        user=by,
        id_number=customer.id_number,
        credit_code=customer.credit_code,
        exclude_id=customer.pk,
    )
    if same_identity.exists():
        raise DomainError(
            "duplicate_customer",
            _("A customer with this ID number or credit code already exists."),
            extra=_duplicates_payload(same_identity),
        )
    same_phone = customer_duplicates(user=by, mobile=customer.mobile, exclude_id=customer.pk)
    if not confirm_duplicate and customer.mobile and same_phone.exists():
        raise DomainError(
            "possible_duplicate",
            _(
                "A customer with this mobile phone already exists. Open the existing record, "
                "or confirm that this is a different customer."
            ),
            extra=_duplicates_payload(same_phone),
        )


@transaction.atomic
def customer_create(
    *, branch: Branch, by: User, data: dict, confirm_duplicate: bool = False
) -> Customer:
    customer = Customer(branch=branch, **data)
    customer.full_clean(validate_constraints=False)
    _refuse_duplicates(customer=customer, by=by, confirm_duplicate=confirm_duplicate)
    customer.validate_constraints()
    attribute_to(customer, by).save()
    timeline_add(customer=customer, kind=timeline.CUSTOMER_CREATED, actor=by)
    customer_completeness_refresh(customer=customer)
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, by: User, data: dict) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.merged_into_id:
        raise DomainError("customer_merged", _("This customer was merged into another record."))
    changed = [field for field, value in data.items() if getattr(customer, field) != value]
    for field, value in data.items():
        setattr(customer, field, value)
    customer.full_clean(validate_constraints=False)
    _refuse_duplicates(customer=customer, by=by, confirm_duplicate=True)
    customer.validate_constraints()
    attribute_to(customer, by).save()
    if changed:
        timeline_add(
            customer=customer, kind=timeline.CUSTOMER_EDITED, detail=",".join(changed), actor=by
        )
    customer_completeness_refresh(customer=customer)
    return customer


@transaction.atomic
def customer_merge(*, keep: Customer, duplicate: Customer, by: User) -> Customer:
    """Fold a duplicate into the kept record: every vehicle, contact, history and timeline entry
    moves over; blank fields of the kept record are filled; the duplicate stays as an audited
    tombstone pointing at the kept one."""
    if keep.pk == duplicate.pk:
        raise DomainError("merge_same_customer", _("A customer cannot be merged with itself."))
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update()
        .filter(pk__in=[keep.pk, duplicate.pk])
        .order_by("pk")
    }
    keep, duplicate = locked[keep.pk], locked[duplicate.pk]
    if keep.merged_into_id or duplicate.merged_into_id:
        raise DomainError("customer_merged", _("One of these customers was already merged."))
    if keep.kind != duplicate.kind:
        raise DomainError(
            "merge_kind_mismatch", _("A person and an organization cannot be merged.")
        )

    customer_merging.send(sender=Customer, keep=keep, duplicate=duplicate, by=by)
    for relation in Customer._meta.related_objects:
        if relation.many_to_many or relation.one_to_one:
            continue
        related_model, field_name = relation.related_model, relation.field.name
        rows = related_model._default_manager.filter(**{field_name: duplicate})
        if hasattr(related_model, "history"):
            objects = list(rows)
            for obj in objects:
                setattr(obj, field_name, keep)
            bulk_update_with_history(objects, related_model, [field_name], default_user=by)
        else:
            rows.update(**{field_name: keep})

    duplicate.merged_into = keep
    attribute_to(duplicate, by, f"merged into #{keep.pk}").save()
    for field in MERGE_FILLABLE:
        if not getattr(keep, field) and getattr(duplicate, field):
            setattr(keep, field, getattr(duplicate, field))
    keep.tags = sorted(set(keep.tags) | set(duplicate.tags))
    if duplicate.marketing_consent and not keep.marketing_consent:
        keep.marketing_consent = True
        keep.consent_date, keep.consent_channel = duplicate.consent_date, duplicate.consent_channel
    attribute_to(keep, by, f"merged #{duplicate.pk}").save()
    timeline_add(
        customer=keep,
        kind=timeline.CUSTOMERS_MERGED,
        detail=f"{duplicate.name} (#{duplicate.pk})",
        subject=duplicate,
        actor=by,
    )
    customer_completeness_refresh(customer=keep)
    return keep


@transaction.atomic
def customer_delete(*, customer: Customer, by: User) -> None:
    """Only a customer with no vehicles and nothing merged into it can be deleted."""
    if customer.vehicles.exists() or customer.ownerships.exists():
        raise DomainError(
            "customer_has_vehicles",
            _("This customer has vehicles or ownership history; transfer them first."),
        )
    if customer.merged_duplicates.exists():
        raise DomainError(
            "customer_has_merged_records", _("Other records were merged into this customer.")
        )
    customer.delete()


@transaction.atomic
def contact_save(
    *, customer: Customer, by: User, data: dict, contact: Contact | None = None
) -> Contact:
    contact = contact or Contact(customer=customer)
    for field, value in data.items():
        setattr(contact, field, value)
    contact.full_clean()
    if contact.is_primary:
        customer.contacts.exclude(pk=contact.pk).filter(is_primary=True).update(is_primary=False)
    attribute_to(contact, by).save()
    customer_completeness_refresh(customer=customer)
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, by: User) -> None:
    customer = contact.customer
    contact.delete()
    customer_completeness_refresh(customer=customer)


def _vehicle_duplicate_error(*, vin: str, by: User) -> DomainError:
    existing = Vehicle.objects.select_related("owner").get(vin=vin)
    visible = Vehicle.objects.for_user(by).filter(pk=existing.pk).exists()
    if visible:
        message = _("This VIN is already registered to %(owner)s.") % {"owner": existing.owner}
        extra = {
            "duplicates": [
                {"id": existing.owner_id, "name": existing.owner.name, "vehicle": existing.pk}
            ]
        }
    else:
        message, extra = _("This VIN is already registered in another branch."), {}
    return DomainError("duplicate_vehicle", message, field="vin", extra=extra)


def _fill_from_vin(vehicle: Vehicle) -> None:
    """Entering a VIN fills what it encodes: the manufacturer and the model year."""
    decoded = decode_vin(vehicle.vin)
    if not vehicle.manufacturer and decoded.manufacturer:
        vehicle.manufacturer = decoded.manufacturer
    if not vehicle.model_year and decoded.model_year:
        vehicle.model_year = decoded.model_year


def _fill_three_guarantees(vehicle: Vehicle, branch: Branch) -> None:
    """三包: from delivery, the branch's period (default 2 years or 50,000 km), whichever first."""
    if vehicle.delivery_date and not vehicle.three_guarantees_end_date:
        vehicle.three_guarantees_end_date = vehicle.delivery_date + relativedelta(
            months=branch.three_guarantees_months
        )
    if vehicle.delivery_date and vehicle.three_guarantees_end_km is None:
        vehicle.three_guarantees_end_km = branch.three_guarantees_km


@transaction.atomic
def vehicle_add(*, owner: Customer, by: User, data: dict) -> Vehicle:
    if owner.merged_into_id:
        raise DomainError("customer_merged", _("This customer was merged into another record."))
    odometer_km = data.pop("odometer_km", 0) or 0
    vehicle = Vehicle(owner=owner, **data)
    vehicle.vin = normalize_vin(vehicle.vin)
    if Vehicle.objects.filter(vin=vehicle.vin).exists():
        raise _vehicle_duplicate_error(vin=vehicle.vin, by=by)
    vehicle.full_clean()
    _fill_from_vin(vehicle)
    _fill_three_guarantees(vehicle, owner.branch)
    attribute_to(vehicle, by).save()
    attribute_to(
        VehicleOwnership(
            vehicle=vehicle,
            customer=owner,
            started_on=vehicle.delivery_date or timezone.localdate(),
        ),
        by,
    ).save()
    if odometer_km:
        odometer_record(
            vehicle=vehicle,
            km=odometer_km,
            read_on=timezone.localdate(),
            by=by,
            source=OdometerSource.MANUAL,
        )
        vehicle.odometer_km = odometer_km  # odometer_record saved it on its own locked copy
    timeline_add(
        customer=owner, kind=timeline.VEHICLE_ADDED, detail=str(vehicle), subject=vehicle, actor=by
    )
    customer_completeness_refresh(customer=owner)
    return vehicle


@transaction.atomic
def vehicle_update(*, vehicle: Vehicle, by: User, data: dict) -> Vehicle:
    vehicle = Vehicle.objects.select_for_update().select_related("owner__branch").get(pk=vehicle.pk)
    data.pop("odometer_km", None)  # readings change only through odometer_record
    new_vin = normalize_vin(data.get("vin", vehicle.vin))
    if new_vin != vehicle.vin and Vehicle.objects.filter(vin=new_vin).exists():
        raise _vehicle_duplicate_error(vin=new_vin, by=by)
    for field, value in data.items():
        setattr(vehicle, field, value)
    vehicle.full_clean()
    _fill_from_vin(vehicle)
    _fill_three_guarantees(vehicle, vehicle.owner.branch)
    attribute_to(vehicle, by).save()
    customer_completeness_refresh(customer=vehicle.owner)
    return vehicle


@transaction.atomic
def odometer_record(
    *,
    vehicle: Vehicle,
    km: int,
    read_on: date,
    by: User | None,
    source: str = OdometerSource.MANUAL,
    is_replacement: bool = False,
    note: str = "",
) -> OdometerReading:
    """Record a reading. Lower than the last one only when the odometer was replaced."""
    vehicle = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
    if read_on > timezone.localdate():
        raise DomainError(
            "odometer_future_date", _("A reading cannot be dated in the future."), field="read_on"
        )
    last = vehicle.odometer_readings.order_by("-read_on", "-id").first()
    if last and read_on < last.read_on:
        raise DomainError(
            "odometer_out_of_order",
            _("The last reading is dated %(date)s; a new reading cannot be dated earlier.")
            % {"date": last.read_on.isoformat()},
            field="read_on",
        )
    if last and km < last.km and not is_replacement:
        raise DomainError(
            "odometer_lower_than_last",
            _(
                "%(km)s km is lower than the last reading (%(last)s km on %(date)s). "
                "Tick 'odometer replaced' if the instrument was changed."
            )
            % {"km": km, "last": last.km, "date": last.read_on.isoformat()},
            field="km",
        )
    reading = OdometerReading(
        vehicle=vehicle,
        km=km,
        read_on=read_on,
        source=source,
        is_replacement=is_replacement,
        note=note,
        recorded_by=by if by and by.is_authenticated else None,
    )
    reading.full_clean()
    attribute_to(reading, by).save()
    vehicle.odometer_km = km
    attribute_to(vehicle, by).save(update_fields=["odometer_km"])
    return reading


@transaction.atomic
def vehicle_transfer(
    *, vehicle: Vehicle, new_owner: Customer, transferred_on: date, by: User, reason: str = ""
) -> Vehicle:
    """Hand a vehicle to a new owner, closing the current ownership (过户)."""
    vehicle = Vehicle.objects.select_for_update().select_related("owner").get(pk=vehicle.pk)
    previous_owner = vehicle.owner
    if new_owner.pk == previous_owner.pk:
        raise DomainError("transfer_same_owner", _("The vehicle already belongs to this customer."))
    if new_owner.merged_into_id:
        raise DomainError("customer_merged", _("This customer was merged into another record."))
    if transferred_on > timezone.localdate():
        raise DomainError(
            "transfer_future_date",
            _("A transfer cannot be dated in the future."),
            field="transferred_on",
        )
    current = vehicle.ownerships.filter(ended_on__isnull=True).first()
    if current and transferred_on < current.started_on:
        raise DomainError(
            "transfer_before_ownership",
            _(
                "The current owner has had this vehicle since %(date)s; the transfer cannot be "
                "dated earlier."
            )
            % {"date": current.started_on.isoformat()},
            field="transferred_on",
        )
    if current:
        current.ended_on = transferred_on
        attribute_to(current, by).save()
    attribute_to(
        VehicleOwnership(
            vehicle=vehicle, customer=new_owner, started_on=transferred_on, reason=reason
        ),
        by,
    ).save()
    vehicle.owner = new_owner
    attribute_to(vehicle, by, reason or "ownership transfer").save()
    detail = f"{vehicle}: {previous_owner.name} → {new_owner.name}"
    for customer in (previous_owner, new_owner):
        timeline_add(
            customer=customer,
            kind=timeline.OWNERSHIP_CHANGED,
            detail=detail,
            subject=vehicle,
            actor=by,
        )
        customer_completeness_refresh(customer=customer)
    return vehicle


CUSTOMER_IMPORT_FIELDS = [key for key in IMPORT_COLUMNS if key in CUSTOMER_EDITABLE_FIELDS]
VEHICLE_IMPORT_FIELDS = [key for key in IMPORT_COLUMNS if key not in CUSTOMER_IMPORT_FIELDS]


def _choice_value(field: models.Field, text: str) -> str:
    """A choice given by its value or by its label in either language."""
    if not text:
        return text
    for value, label in field.choices:
        for language in ("zh-hans", "en"):
            with translation.override(language):
                if text.lower() in (str(value).lower(), str(label).lower()):
                    return value
    return text  # left as typed: full_clean reports it as an invalid choice


def _import_values(model: type[models.Model], row: dict, fields: list[str]) -> dict:
    data = {}
    for name in fields:
        text = row.get(name, "")
        if not text:
            continue
        field = model._meta.get_field(name) if name != "odometer_km" else None
        if field is not None and field.choices:
            text = _choice_value(field, text)
        if name == "delivery_date":
            text = date.fromisoformat(text[:10])
        if name == "odometer_km":
            text = int(float(text))
        data[name] = text
    return data


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        return "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
        )
    if isinstance(error, DomainError):
        duplicates = error.extra.get("duplicates", [])
        ids = ", ".join(f"#{d['id']} {d['name']}" for d in duplicates)
        return f"{error.message} {ids}".strip()
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def customers_import(*, rows: list[tuple[int, dict]], branch: Branch, by: User) -> ImportReport:
    """Import customers (each with an optional vehicle) row by row through the same services as
    the pages. A bad row is reported with its line and reason and leaves nothing behind."""
    report = ImportReport()
    for line, row in rows:
        try:
            with transaction.atomic():
                customer_data = _import_values(Customer, row, CUSTOMER_IMPORT_FIELDS)
                customer_data.setdefault("source", "import")
                customer = customer_create(branch=branch, by=by, data=customer_data)
                vehicle_data = _import_values(Vehicle, row, VEHICLE_IMPORT_FIELDS)
                if vehicle_data.get("vin"):
                    vehicle_add(owner=customer, by=by, data=vehicle_data)
                    report.vehicles += 1
                elif vehicle_data:
                    raise ValidationError({"vin": _("A vehicle needs its VIN.")})
            report.created += 1
        except (ValidationError, DomainError, ValueError) as error:
            report.errors.append((line, _error_text(error)))
    return report
