"""Customers (客户), their contacts and vehicles (车辆), odometer and ownership history, and the
customer timeline that every app adds its entries to."""

from datetime import date

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Now, TruncDate, Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from dealer_crm.scoping import BranchScopedQuerySet

from . import validators, vin
from .choices import (
    ConsentChannel,
    CustomerCategory,
    CustomerKind,
    CustomerSource,
    EvaluationCategory,
    FuelType,
    Gender,
    OdometerSource,
    Transmission,
    VehicleAgeSegment,
)
from .timeline import timeline_detail, timeline_kind_label

# The fields staff edit, in the order pages and the API present them.
CUSTOMER_EDITABLE_FIELDS = [
    "kind", "name", "gender", "birthday", "birthday_is_lunar", "mobile", "mobile_2", "landline",
    "email", "id_number", "credit_code", "province", "city", "district", "street", "village",
    "postcode", "category", "evaluation", "source", "consultant", "advisor", "tags",
    "marketing_consent", "consent_date", "consent_channel",
]  # fmt: skip
VEHICLE_EDITABLE_FIELDS = [
    "vin", "plate", "engine_number", "manufacturer", "brand", "series", "model_code",
    "model_year", "colour", "transmission", "fuel_type", "production_date", "registration_date",
    "delivery_date", "warranty_end_date", "warranty_end_km", "three_guarantees_end_date",
    "three_guarantees_end_km", "insurance_expiry", "inspection_due",
]  # fmt: skip


def trigram_index(field: str, name: str) -> GinIndex:
    """For LIKE '%…%' on a column stored in one case (phones, VINs, plates)."""
    return GinIndex(fields=[field], name=name, opclasses=["gin_trgm_ops"])


def case_insensitive_trigram_index(field: str, name: str) -> GinIndex:
    """For Django's icontains, which compares UPPER(column)."""
    return GinIndex(OpClass(Upper(field), name="gin_trgm_ops"), name=name)


class CustomerQuerySet(BranchScopedQuerySet):
    def active(self) -> "CustomerQuerySet":
        """Customers not merged into another record."""
        return self.filter(merged_into__isnull=True)


class Customer(models.Model):
    branch_lookup = "branch"

    kind = models.CharField(
        _("kind"), max_length=20, choices=CustomerKind.choices, default=CustomerKind.PERSON
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("Full name or organization."))
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    birthday_is_lunar = models.BooleanField(
        _("celebrates the lunar birthday"),
        default=False,
        help_text=_("Birthday greetings follow the lunar calendar (农历生日)."),
    )
    # Phone, plate and code fields are long enough for what people type (+86 138 1234 5678);
    # clean() stores them normalized.
    mobile = models.CharField(
        _("mobile phone"), max_length=20, blank=True, validators=[validators.validate_mobile]
    )
    mobile_2 = models.CharField(
        _("second mobile phone"),
        max_length=20,
        blank=True,
        validators=[validators.validate_mobile],
    )
    landline = models.CharField(
        _("landline"), max_length=20, blank=True, validators=[validators.validate_landline]
    )
    email = models.EmailField(_("e-mail"), blank=True)
    id_number = models.CharField(
        _("resident ID number"),
        max_length=18,
        blank=True,
        validators=[validators.validate_resident_id],
    )
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        blank=True,
        validators=[validators.validate_credit_code],
    )
    province = models.CharField(_("province"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    district = models.CharField(_("district"), max_length=30, blank=True)
    street = models.CharField(_("street and house number"), max_length=120, blank=True)
    village = models.CharField(_("village"), max_length=60, blank=True)
    postcode = models.CharField(_("postcode"), max_length=6, blank=True)
    category = models.CharField(
        _("customer category"), max_length=20, choices=CustomerCategory.choices, blank=True
    )
    evaluation = models.CharField(
        _("evaluation category"), max_length=2, choices=EvaluationCategory.choices, blank=True
    )
    source = models.CharField(
        _("source"), max_length=20, choices=CustomerSource.choices, blank=True
    )
    branch = models.ForeignKey(
        "dealer_crm.Branch",
        on_delete=models.PROTECT,
        related_name="customers",
        verbose_name=_("owning branch"),
    )
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sales consultant"),
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service advisor"),
    )
    tags = ArrayField(
        models.CharField(max_length=30), default=list, blank=True, verbose_name=_("tags")
    )
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    consent_date = models.DateField(_("consent date"), null=True, blank=True)
    consent_channel = models.CharField(
        _("consent channel"), max_length=20, choices=ConsentChannel.choices, blank=True
    )
    completeness = models.PositiveSmallIntegerField(
        _("master-data completeness"), default=0, validators=[MaxValueValidator(100)]
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_duplicates",
        verbose_name=_("merged into"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CustomerQuerySet.as_manager()
    # The completeness score is derived from other records; its changes are not edits.
    history = HistoricalRecords(excluded_fields=["completeness", "updated_at"])

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-id"]
        permissions = [
            ("view_pii", _("Can see full phone and ID numbers")),
            ("merge_customers", _("Can merge duplicate customers")),
            ("import_customers", _("Can import customers")),
            ("export_customers", _("Can export customers")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"],
                condition=~Q(id_number="") & Q(merged_into__isnull=True),
                name="customer_unique_id_number",
                violation_error_code="unique",
                violation_error_message=_("A customer with this ID number already exists."),
            ),
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code="") & Q(merged_into__isnull=True),
                name="customer_unique_credit_code",
                violation_error_code="unique",
                violation_error_message=_("A customer with this credit code already exists."),
            ),
            models.CheckConstraint(
                condition=Q(completeness__lte=100), name="customer_completeness_at_most_100"
            ),
        ]
        indexes = [
            case_insensitive_trigram_index("name", "customer_name_upper_trgm"),
            trigram_index("mobile", "customer_mobile_trgm"),
            trigram_index("mobile_2", "customer_mobile_2_trgm"),
            models.Index(fields=["branch", "completeness"], name="customer_branch_completeness"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:detail", args=[self.pk])

    def clean(self) -> None:
        self.mobile = validators.normalize_mobile(self.mobile)
        self.mobile_2 = validators.normalize_mobile(self.mobile_2)
        self.id_number = self.id_number.strip().upper()
        self.credit_code = validators.normalize_credit_code(self.credit_code)
        self.name = " ".join(self.name.split())
        if self.kind == CustomerKind.PERSON:
            try:
                validators.validate_person_name(self.name)
            except ValidationError as error:
                raise ValidationError({"name": error}) from None
        if self.marketing_consent and not (self.consent_date and self.consent_channel):
            raise ValidationError(
                {"consent_date": _("Record when and how the customer gave marketing consent.")}
            )
        if not self.marketing_consent:
            self.consent_date, self.consent_channel = None, ""

    @property
    def is_person(self) -> bool:
        return self.kind == CustomerKind.PERSON

    @property
    def address(self) -> str:
        parts = [self.province, self.city, self.district, self.village, self.street]
        return "".join(part for part in parts if part)


class Contact(models.Model):
    """联系人: a person to call about an organization's (or a family's) vehicles."""

    branch_lookup = "customer__branch"

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=50, validators=[validators.validate_person_name])
    role = models.CharField(_("role"), max_length=50, blank=True)
    mobile = models.CharField(
        _("mobile phone"), max_length=20, blank=True, validators=[validators.validate_mobile]
    )
    landline = models.CharField(
        _("landline"), max_length=20, blank=True, validators=[validators.validate_landline]
    )
    email = models.EmailField(_("e-mail"), blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(mobile="") | ~Q(landline=""),
                name="contact_has_a_phone",
                violation_error_message=_("Give the contact a mobile or a landline number."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.mobile = validators.normalize_mobile(self.mobile)
        if not (self.mobile or self.landline):
            raise ValidationError({"mobile": _("Give the contact a mobile or a landline number.")})


class VehicleQuerySet(BranchScopedQuerySet):
    def with_age_segment(self, today: date | None = None) -> "VehicleQuerySet":
        """Annotate `age_segment`: within 三包, within warranty, or out of warranty, by date and
        mileage (whichever runs out first)."""
        # Today in the active time zone (Asia/Shanghai); the connection itself runs in UTC.
        today_value = Value(today) if today else TruncDate(Now())
        return self.annotate(
            age_segment=Case(
                When(
                    Q(three_guarantees_end_date__gte=today_value)
                    & Q(odometer_km__lte=F("three_guarantees_end_km")),
                    then=Value(VehicleAgeSegment.THREE_GUARANTEES),
                ),
                When(
                    Q(warranty_end_date__gte=today_value)
                    & (Q(warranty_end_km__isnull=True) | Q(odometer_km__lte=F("warranty_end_km"))),
                    then=Value(VehicleAgeSegment.WARRANTY),
                ),
                # Without a delivery or warranty date nobody can say; don't guess.
                When(
                    three_guarantees_end_date__isnull=True,
                    warranty_end_date__isnull=True,
                    then=Value(VehicleAgeSegment.UNKNOWN),
                ),
                default=Value(VehicleAgeSegment.OUT_OF_WARRANTY),
                output_field=models.CharField(),
            )
        )


class Vehicle(models.Model):
    branch_lookup = "owner__branch"

    owner = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="vehicles", verbose_name=_("owner")
    )
    vin = models.CharField(
        _("VIN"),
        max_length=17,
        unique=True,
        validators=[vin.validate_vin],
        error_messages={"unique": _("A vehicle with this VIN is already registered.")},
    )
    plate = models.CharField(
        _("plate number"), max_length=12, blank=True, validators=[validators.validate_plate]
    )
    engine_number = models.CharField(_("engine number"), max_length=30, blank=True)
    manufacturer = models.CharField(_("manufacturer"), max_length=60, blank=True)
    brand = models.CharField(_("brand"), max_length=40, blank=True)
    series = models.CharField(_("series"), max_length=40, blank=True)
    model_code = models.CharField(_("model code"), max_length=40, blank=True)
    model_year = models.PositiveSmallIntegerField(_("model year"), null=True, blank=True)
    colour = models.CharField(_("colour"), max_length=30, blank=True)
    transmission = models.CharField(
        _("transmission"), max_length=20, choices=Transmission.choices, blank=True
    )
    fuel_type = models.CharField(_("fuel"), max_length=20, choices=FuelType.choices, blank=True)
    production_date = models.DateField(_("production date"), null=True, blank=True)
    registration_date = models.DateField(_("registration date"), null=True, blank=True)
    delivery_date = models.DateField(_("delivery date"), null=True, blank=True)
    warranty_end_date = models.DateField(_("warranty ends on"), null=True, blank=True)
    warranty_end_km = models.PositiveIntegerField(_("warranty ends at (km)"), null=True, blank=True)
    three_guarantees_end_date = models.DateField(_("三包 period ends on"), null=True, blank=True)
    three_guarantees_end_km = models.PositiveIntegerField(
        _("三包 period ends at (km)"), null=True, blank=True
    )
    insurance_expiry = models.DateField(_("insurance expires on"), null=True, blank=True)
    inspection_due = models.DateField(_("annual inspection due"), null=True, blank=True)
    odometer_km = models.PositiveIntegerField(
        _("odometer (km)"), default=0, help_text=_("The latest odometer reading.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = VehicleQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        ordering = ["-id"]
        permissions = [("transfer_vehicle", _("Can transfer a vehicle to a new owner"))]
        constraints = [
            models.UniqueConstraint(
                fields=["plate"],
                condition=~Q(plate=""),
                name="vehicle_unique_plate",
                violation_error_code="unique",
                violation_error_message=_("A vehicle with this plate is already registered."),
            ),
        ]
        indexes = [
            trigram_index("vin", "vehicle_vin_trgm"),
            trigram_index("plate", "vehicle_plate_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.plate or self.vin} {self.series}".strip()

    def get_absolute_url(self) -> str:
        return reverse("customers:vehicle-detail", args=[self.pk])

    def clean(self) -> None:
        self.vin = vin.normalize_vin(self.vin)
        self.plate = validators.normalize_plate(self.plate)
        for start, end, field in (
            (self.production_date, self.delivery_date, "delivery_date"),
            (self.delivery_date, self.warranty_end_date, "warranty_end_date"),
        ):
            if start and end and end < start:
                raise ValidationError({field: _("This date is before the one it follows.")})


class OdometerReading(models.Model):
    """A history: each reading is at least the last one unless the odometer was replaced."""

    branch_lookup = "vehicle__owner__branch"

    vehicle = models.ForeignKey(
        Vehicle,
        on_delete=models.CASCADE,
        related_name="odometer_readings",
        verbose_name=_("vehicle"),
    )
    km = models.PositiveIntegerField(_("km"), validators=[validators.validate_odometer_km])
    read_on = models.DateField(_("read on"))
    source = models.CharField(
        _("source"), max_length=20, choices=OdometerSource.choices, default=OdometerSource.MANUAL
    )
    is_replacement = models.BooleanField(
        _("odometer replaced"),
        default=False,
        help_text=_("The instrument was replaced, so this reading may be lower than the last."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("odometer reading")
        verbose_name_plural = _("odometer readings")
        ordering = ["-read_on", "-id"]
        indexes = [models.Index(fields=["vehicle", "-read_on", "-id"], name="odometer_latest")]

    def __str__(self) -> str:
        return f"{self.km} km ({self.read_on:%Y-%m-%d})"


class VehicleOwnership(models.Model):
    """Who owned a vehicle from when to when. The open row (no end) is the current owner."""

    branch_lookup = "vehicle__owner__branch"

    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.CASCADE, related_name="ownerships", verbose_name=_("vehicle")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="ownerships", verbose_name=_("owner")
    )
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("vehicle ownership")
        verbose_name_plural = _("vehicle ownerships")
        ordering = ["-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle"],
                condition=Q(ended_on__isnull=True),
                name="vehicle_one_current_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.vehicle}"


class TimelineEntry(models.Model):
    """One event on a customer's timeline. `kind` is registered in customers.timeline."""

    branch_lookup = "customer__branch"

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="timeline", verbose_name=_("customer")
    )
    kind = models.CharField(_("kind"), max_length=40)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.SET_NULL, null=True, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("content_type", "object_id")

    objects = BranchScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["customer", "-occurred_at", "-id"], name="timeline_latest")]

    def __str__(self) -> str:
        return f"{self.label} · {self.detail_shown}" if self.detail else self.label

    @property
    def label(self) -> str:
        return timeline_kind_label(self.kind)

    @property
    def detail_shown(self) -> str:
        return timeline_detail(self.kind, self.detail)


def customer_key(**kwargs) -> models.ForeignKey:
    """The customer a record of another app is about."""
    kwargs.setdefault("related_name", "+")
    return models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, verbose_name=_("customer"), **kwargs
    )


def vehicle_key(**kwargs) -> models.ForeignKey:
    """The vehicle a record of another app is about."""
    kwargs.setdefault("related_name", "+")
    return models.ForeignKey(
        "customers.Vehicle", on_delete=models.PROTECT, verbose_name=_("vehicle"), **kwargs
    )
