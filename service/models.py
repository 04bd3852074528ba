"""After-sales service (售后): appointments, work orders (任务委托书) with their labour and parts
lines, added items, recommendations, the maintenance checklist, road tests, settlements
(结算单), roadside rescue, warranty and insurance claims."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from customers.models import customer_key, vehicle_key
from customers.validators import validate_plate
from dealer_crm.models import NumberedDocument, branch_key, money_field, user_key
from dealer_crm.scoping import BranchScopedQuerySet
from parts.models import quantity_field

from .choices import (
    AppointmentStatus,
    ChecklistResult,
    ConfirmationMethod,
    FuelLevel,
    InsuranceClaimStatus,
    PaymentMethod,
    RecommendationStatus,
    RescueOutcome,
    RescueStatus,
    ServiceType,
    TyrePosition,
    WarrantyClaimStatus,
    WorkOrderStatus,
)

ZERO = Decimal("0")


# --- Appointments --------------------------------------------------------------------------


class ServiceSlot(models.Model):
    """A bookable time of a branch's workshop for one type of service, with its capacity."""

    branch_lookup = "branch"

    branch = branch_key()
    service_type = models.CharField(_("service type"), max_length=20, choices=ServiceType.choices)
    starts_at = models.DateTimeField(_("starts at"))
    minutes = models.PositiveSmallIntegerField(_("length (minutes)"), default=30)
    capacity = models.PositiveSmallIntegerField(_("capacity"), validators=[MinValueValidator(1)])
    booked = models.PositiveSmallIntegerField(_("booked"), default=0)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("appointment slot")
        verbose_name_plural = _("appointment slots")
        ordering = ["starts_at", "service_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "service_type", "starts_at"],
                name="service_slot_unique",
                violation_error_message=_("This slot already exists."),
            ),
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")), name="service_slot_within_capacity"
            ),
        ]

    def __str__(self) -> str:
        # In the branch's time zone: the time the customer was told, not UTC.
        starts = timezone.localtime(self.starts_at)
        return f"{starts:%Y-%m-%d %H:%M} {self.get_service_type_display()}"

    @property
    def free(self) -> int:
        return self.capacity - self.booked


class Appointment(models.Model):
    """预约: a customer's vehicle booked into a slot with an advisor."""

    branch_lookup = "branch"

    branch = branch_key()
    slot = models.ForeignKey(
        ServiceSlot, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("slot")
    )
    customer = customer_key()
    vehicle = vehicle_key()
    advisor = user_key(_("service advisor"))
    contact_phone = models.CharField(_("contact phone"), max_length=20)
    complaint = models.CharField(_("what the customer asks for"), max_length=300, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.BOOKED,
    )
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    created_by = user_key(_("booked by"))
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["slot__starts_at", "id"]
        indexes = [models.Index(fields=["branch", "status"], name="appointment_status")]

    def __str__(self) -> str:
        return f"{self.slot} · {self.vehicle}"


# --- Work orders ---------------------------------------------------------------------------


class WorkOrder(NumberedDocument):
    """任务委托书: the vehicle checked in, the customer's complaint in their words, the
    estimate, the lines of work and parts, and the sign-offs up to settlement."""

    number_prefix = "RO"
    detail_route = "service:work-order-detail"
    branch_lookup = "branch"

    branch = branch_key()
    customer = customer_key()
    vehicle = vehicle_key()
    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_order",
        verbose_name=_("appointment"),
    )
    advisor = user_key(_("service advisor"))
    service_type = models.CharField(_("type"), max_length=20, choices=ServiceType.choices)
    is_first_maintenance = models.BooleanField(_("first free maintenance (首保)"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=WorkOrderStatus.choices, default=WorkOrderStatus.OPEN
    )
    # Check-in (接车)
    contact_name = models.CharField(_("contact"), max_length=50)
    contact_phone = models.CharField(_("contact phone"), max_length=20)
    phone_confirmed = models.BooleanField(_("phone confirmed with the customer"), default=False)
    plate = models.CharField(_("plate number"), max_length=12, validators=[validate_plate])
    mileage_in = models.PositiveIntegerField(_("mileage in (km)"))
    odometer_reading = models.ForeignKey(
        "customers.OdometerReading",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("odometer reading"),
    )
    fuel_level = models.CharField(_("fuel level"), max_length=20, choices=FuelLevel.choices)
    damage_notes = models.CharField(_("damage found at check-in"), max_length=300, blank=True)
    items_left = models.CharField(_("items left in the car"), max_length=300, blank=True)
    complaint = models.TextField(_("complaint, in the customer's words"), max_length=1000)
    estimate = money_field(_("estimate (CNY)"))
    # A settled total more than 10% above the estimate needs the customer's approval.
    overrun_approved_at = models.DateTimeField(_("overrun approved at"), null=True, blank=True)
    overrun_approved_by = models.CharField(_("overrun approved by"), max_length=50, blank=True)
    overrun_approval_method = models.CharField(
        _("overrun approved how"), max_length=20, choices=ConfirmationMethod.choices, blank=True
    )
    certificates_checked_at = models.DateTimeField(
        _("certificates checked at"), null=True, blank=True
    )
    certificates_checked_by = user_key(_("certificates checked by"), null=True)
    comeback_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="comebacks",
        verbose_name=_("comeback of"),
    )
    qc_by = user_key(_("QC by"), null=True)
    qc_at = models.DateTimeField(_("QC signed at"), null=True, blank=True)
    team_lead_by = user_key(_("team lead"), null=True)
    team_lead_at = models.DateTimeField(_("team lead signed at"), null=True, blank=True)
    created_by = user_key(_("opened by"))
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-id"]
        permissions = [
            ("quality_check_workorder", _("Can sign the quality check of a work order")),
            ("release_workorder", _("Can sign a work order off as team lead")),
        ]
        indexes = [
            models.Index(fields=["branch", "status"], name="work_order_status"),
            models.Index(fields=["vehicle", "-opened_at"], name="work_order_vehicle_latest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(qc_at__isnull=True)
                | Q(team_lead_at__isnull=True)
                | Q(team_lead_at__gte=F("qc_at")),
                name="work_order_team_lead_after_qc",
            ),
        ]


class AddedItem(models.Model):
    """增项: work found after check-in; no work starts on it before the customer confirms."""

    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.CASCADE,
        related_name="added_items",
        verbose_name=_("work order"),
    )
    description = models.CharField(_("what is to be done"), max_length=200)
    estimate = money_field(_("estimate (CNY)"))
    requested_by = user_key(_("requested by"))
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    confirmed_by = models.CharField(_("confirmed by (customer)"), max_length=50, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmation_method = models.CharField(
        _("confirmed how"), max_length=20, choices=ConfirmationMethod.choices, blank=True
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("added item")
        verbose_name_plural = _("added items")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=True)
                | (~Q(confirmed_by="") & ~Q(confirmation_method="")),
                name="added_item_confirmation_complete",
            )
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class LabourLine(models.Model):
    """A labour operation: standard hours × rate, and the technician who does it."""

    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.CASCADE,
        related_name="labour_lines",
        verbose_name=_("work order"),
    )
    operation = models.CharField(_("operation"), max_length=200)
    standard_hours = models.DecimalField(
        _("standard hours"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    rate = money_field(_("rate per hour (CNY)"))
    technician = user_key(_("technician"))
    added_item = models.ForeignKey(
        AddedItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="labour_lines",
        verbose_name=_("added item"),
    )
    done_at = models.DateTimeField(_("signed by the technician at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("labour line")
        verbose_name_plural = _("labour lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(standard_hours__gt=0), name="labour_line_hours_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.operation

    @property
    def amount(self) -> Decimal:
        return (self.standard_hours * self.rate).quantize(Decimal("0.01"))


class PartLine(models.Model):
    """Parts for the job, reserved and issued through an issue voucher of the stockroom."""

    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="part_lines", verbose_name=_("work order")
    )
    part = models.ForeignKey(
        "parts.Part", on_delete=models.PROTECT, related_name="+", verbose_name=_("part")
    )
    quantity = quantity_field(_("quantity"))
    unit_price = money_field(_("unit price (CNY)"))
    issue = models.OneToOneField(
        "parts.PartIssue",
        on_delete=models.PROTECT,
        related_name="work_order_line",
        verbose_name=_("issue voucher"),
    )
    added_item = models.ForeignKey(
        AddedItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="part_lines",
        verbose_name=_("added item"),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("parts line")
        verbose_name_plural = _("parts lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="part_line_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.part} × {self.quantity}"

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


class Recommendation(models.Model):
    """建议维修项目: work recommended for a vehicle — by mileage, by a worn tyre, or by the
    technician. One the customer declines is shown again at the next check-in."""

    vehicle = vehicle_key()
    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.CASCADE,
        related_name="recommendations",
        verbose_name=_("raised on"),
    )
    # Stored in English (the catalogue's words), shown in the reader's language by `label`.
    description = models.CharField(_("recommendation"), max_length=200)
    tyre_position = models.CharField(
        _("tyre"), max_length=20, choices=TyrePosition.choices, blank=True
    )
    tread_mm = models.DecimalField(
        _("tread depth (mm)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=RecommendationStatus.choices,
        default=RecommendationStatus.OPEN,
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order", "description"], name="recommendation_once_per_work_order"
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.tyre_position:
            return gettext("Replace tyre: %(tyre)s (tread %(mm)s mm)") % {
                "tyre": self.get_tyre_position_display(),
                "mm": self.tread_mm,
            }
        return gettext(self.description)


class RoadTest(models.Model):
    """试车: required for every type of work order except maintenance only."""

    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="road_tests", verbose_name=_("work order")
    )
    tested_by = user_key(_("tested by"))
    tested_at = models.DateTimeField(_("tested at"))
    distance_km = models.PositiveSmallIntegerField(_("distance (km)"))
    passed = models.BooleanField(_("passed"))
    note = models.CharField(_("findings"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("road test")
        verbose_name_plural = _("road tests")
        ordering = ["tested_at"]

    def __str__(self) -> str:
        return f"{self.work_order} {self.tested_at:%Y-%m-%d %H:%M}"


class ChecklistItem(models.Model):
    """保养表: one item of a work order's maintenance checklist, ticked or struck."""

    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.CASCADE,
        related_name="checklist_items",
        verbose_name=_("work order"),
    )
    name = models.CharField(_("item"), max_length=100)
    result = models.CharField(
        _("result"), max_length=10, choices=ChecklistResult.choices, blank=True
    )
    marked_by = user_key(_("marked by"), null=True)
    marked_at = models.DateTimeField(_("marked at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["work_order", "name"], name="checklist_item_once")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The item in the reader's language (stored in the catalogue's English)."""
        return gettext(self.name)


class TyreReading(models.Model):
    """A tyre's pressure (bar) and tread depth (mm): 3.0–6.5 mm normal, about 7.0 new,
    below 3.0 a replacement is recommended."""

    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.CASCADE,
        related_name="tyre_readings",
        verbose_name=_("work order"),
    )
    position = models.CharField(_("tyre"), max_length=20, choices=TyrePosition.choices)
    pressure_bar = models.DecimalField(
        _("pressure (bar)"),
        max_digits=3,
        decimal_places=1,
        validators=[
            MinValueValidator(Decimal("0.5"), _("A tyre pressure is 0.5 to 5.0 bar.")),
            MaxValueValidator(Decimal("5.0"), _("A tyre pressure is 0.5 to 5.0 bar.")),
        ],
    )
    tread_mm = models.DecimalField(
        _("tread depth (mm)"),
        max_digits=3,
        decimal_places=1,
        validators=[
            MinValueValidator(Decimal("0"), _("A tread depth is 0 to 12 mm (a new tyre about 7).")),
            MaxValueValidator(
                Decimal("12.0"), _("A tread depth is 0 to 12 mm (a new tyre about 7).")
            ),
        ],
    )
    measured_by = user_key(_("measured by"))
    measured_at = models.DateTimeField(_("measured at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("tyre reading")
        verbose_name_plural = _("tyre readings")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["work_order", "position"], name="tyre_reading_once"),
            models.CheckConstraint(
                condition=Q(tread_mm__gte=0) & Q(tread_mm__lte=12), name="tyre_tread_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_position_display()} {self.pressure_bar} bar {self.tread_mm} mm"


# --- Settlement ----------------------------------------------------------------------------


class Settlement(NumberedDocument):
    """结算单: the work order's lines as settled, what the insurer and the customer pay, and the
    customer's payment."""

    number_prefix = "SE"
    detail_route = "service:settlement-print"
    branch_lookup = "work_order__branch"

    work_order = models.OneToOneField(
        WorkOrder, on_delete=models.PROTECT, related_name="settlement", verbose_name=_("work order")
    )
    labour_total = money_field(_("labour (CNY)"))
    parts_total = money_field(_("parts (CNY)"))
    discount = money_field(_("discount (CNY)"), default=ZERO)
    total = money_field(_("total (CNY)"))
    insurer_amount = money_field(_("paid by the insurer (CNY)"), default=ZERO)
    customer_amount = money_field(_("paid by the customer (CNY)"))
    payment_method = models.CharField(
        _("payment method"), max_length=20, choices=PaymentMethod.choices
    )
    paid_amount = money_field(_("paid (CNY)"))
    # A campaign offer redeemed here (customer care's offers, when they exist).
    offer_code = models.CharField(_("offer redeemed"), max_length=40, blank=True)
    settled_by = user_key(_("settled by"))
    settled_at = models.DateTimeField(_("settled at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total=F("labour_total") + F("parts_total") - F("discount")),
                name="settlement_total_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(customer_amount=F("total") - F("insurer_amount")),
                name="settlement_split_adds_up",
            ),
        ]


class SettlementLine(models.Model):
    """A settled line: the work order's labour and parts lines, copied as they were."""

    settlement = models.ForeignKey(
        Settlement, on_delete=models.CASCADE, related_name="lines", verbose_name=_("settlement")
    )
    is_labour = models.BooleanField(_("labour"))
    description = models.CharField(_("description"), max_length=200)
    quantity = quantity_field(_("quantity or hours"))
    unit_price = money_field(_("unit price (CNY)"))
    amount = money_field(_("amount (CNY)"))

    class Meta:
        verbose_name = _("settlement line")
        verbose_name_plural = _("settlement lines")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description


# --- Claims and rescue ---------------------------------------------------------------------


class WarrantyClaim(models.Model):
    """索赔: a failed part claimed from the manufacturer."""

    branch_lookup = "work_order__branch"

    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.PROTECT,
        related_name="warranty_claims",
        verbose_name=_("work order"),
    )
    failed_part = models.ForeignKey(
        "parts.Part", on_delete=models.PROTECT, related_name="+", verbose_name=_("failed part")
    )
    cause = models.CharField(_("cause"), max_length=300)
    labour_amount = money_field(_("labour claimed (CNY)"))
    parts_amount = money_field(_("parts claimed (CNY)"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=WarrantyClaimStatus.choices,
        default=WarrantyClaimStatus.DRAFT,
    )
    manufacturer_reference = models.CharField(
        _("manufacturer's reference"), max_length=40, blank=True
    )
    created_by = user_key(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("warranty claim")
        verbose_name_plural = _("warranty claims")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.work_order} {self.failed_part}"


class InsuranceClaim(models.Model):
    """保险理赔 for an accident repair: what the insurer assessed and the customer's share."""

    branch_lookup = "work_order__branch"

    work_order = models.OneToOneField(
        WorkOrder,
        on_delete=models.PROTECT,
        related_name="insurance_claim",
        verbose_name=_("work order"),
    )
    insurer = models.CharField(_("insurer"), max_length=60)
    policy_number = models.CharField(_("policy number"), max_length=40)
    claim_number = models.CharField(_("claim number"), max_length=40)
    accident_date = models.DateField(_("accident date"))
    assessor = models.CharField(_("insurer's assessor"), max_length=50, blank=True)
    assessed_amount = money_field(_("assessed amount (CNY)"), null=True, blank=True)
    customer_share = money_field(_("customer's own share (CNY)"), default=ZERO)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=InsuranceClaimStatus.choices,
        default=InsuranceClaimStatus.REPORTED,
    )
    created_by = user_key(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("insurance claim")
        verbose_name_plural = _("insurance claims")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.insurer} {self.claim_number}"

    def insurer_share_of(self, total: Decimal) -> Decimal:
        """What the insurer pays of a bill: what it covers (up to the assessed amount) less the
        customer's own share, which the customer always pays."""
        if self.assessed_amount is None:
            return ZERO
        return max(ZERO, min(total, self.assessed_amount) - self.customer_share)


class Rescue(models.Model):
    """救援: a roadside call, who went, when they arrived, and what came of it."""

    branch_lookup = "branch"

    branch = branch_key()
    customer = customer_key(null=True, blank=True)
    vehicle = vehicle_key(null=True, blank=True)
    caller_name = models.CharField(_("caller"), max_length=50)
    caller_phone = models.CharField(_("caller's phone"), max_length=20)
    called_at = models.DateTimeField(_("called at"))
    location = models.CharField(_("location"), max_length=200)
    problem = models.CharField(_("problem"), max_length=300)
    status = models.CharField(
        _("status"), max_length=20, choices=RescueStatus.choices, default=RescueStatus.CALLED
    )
    dispatched_to = user_key(_("dispatched to"), null=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=RescueOutcome.choices, blank=True
    )
    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rescues",
        verbose_name=_("work order"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = user_key(_("logged by"))

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("roadside rescue")
        verbose_name_plural = _("roadside rescues")
        ordering = ["-called_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(arrived_at__isnull=True)
                | (Q(dispatched_at__isnull=False) & Q(arrived_at__gte=F("dispatched_at"))),
                name="rescue_arrival_after_dispatch",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.called_at:%Y-%m-%d %H:%M} {self.location}"
