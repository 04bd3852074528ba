"""The sales funnel (销售漏斗): leads and their follow-up, showroom traffic, test drives, trade-in
appraisals, quotes and their approval, orders with payments, vehicle stock and delivery."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import ExtractDay, Now, TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from customers import validators, vin
from customers.models import case_insensitive_trigram_index, trigram_index
from dealer_crm.models import branch_key
from dealer_crm.scoping import BranchScopedQuerySet

from .choices import (
    LEAD_CLOSED,
    ActivityKind,
    ActivityOutcome,
    ApprovalDecision,
    DeliveryCheck,
    DeliveryDocument,
    DepositHandling,
    IntentLevel,
    LeadSource,
    LeadStatus,
    LostReason,
    OrderStatus,
    PaymentKind,
    PaymentMethod,
    QuoteStatus,
    StockStatus,
    TestDriveStatus,
    TradeInDecision,
)

ZERO = Decimal("0.00")


def money(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(ZERO)],
        **kwargs,
    )


def staff_member(verbose_name, **kwargs) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=verbose_name,
        **kwargs,
    )


class LeadQuerySet(BranchScopedQuerySet):
    def open(self) -> "LeadQuerySet":
        return self.exclude(status__in=LEAD_CLOSED)

    def follow_up_due(self, on: date) -> "LeadQuerySet":
        """Open leads whose next follow-up is on or before `on` (overdue included)."""
        return self.open().filter(next_follow_up_on__lte=on)


class Lead(models.Model):
    """线索: someone who may buy a car, from first contact until won, lost or invalid.

    The `*_at` stage times record when the lead first reached each funnel stage, so the funnel
    figures count a cohort with one indexed aggregate instead of replaying its history.
    """

    branch_lookup = "branch"

    branch = branch_key("leads")
    source = models.CharField(_("source"), max_length=20, choices=LeadSource.choices)
    name = models.CharField(_("name"), max_length=100)
    mobile = models.CharField(
        _("mobile phone"), max_length=20, validators=[validators.validate_mobile]
    )
    model_of_interest = models.CharField(_("model of interest"), max_length=60)
    budget = money(_("budget (CNY)"), null=True, blank=True)
    intent_level = models.CharField(
        _("intent level"), max_length=1, choices=IntentLevel.choices, default=IntentLevel.B
    )
    expected_purchase_date = models.DateField(_("expected purchase date"), null=True, blank=True)
    consultant = staff_member(_("sales consultant"), null=True, blank=True)
    referrer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referred_leads",
        verbose_name=_("referred by (owner)"),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
        verbose_name=_("customer"),
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("possible duplicate of"),
    )
    matching_customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("existing customer with this phone"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW
    )
    lost_reason = models.CharField(
        _("lost reason"), max_length=20, choices=LostReason.choices, blank=True
    )
    closing_note = models.CharField(_("closing note"), max_length=300, blank=True)
    note = models.TextField(_("note"), blank=True)
    next_follow_up_on = models.DateField(_("next follow-up"), null=True, blank=True)
    handed_over_at = models.DateTimeField(_("handed to the branch at"), default=timezone.now)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status last changed at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = staff_member(_("verified by"), null=True, blank=True)
    contacted_at = models.DateTimeField(_("contacted at"), null=True, blank=True)
    visited_at = models.DateTimeField(_("visited at"), null=True, blank=True)
    test_driven_at = models.DateTimeField(_("test-driven at"), null=True, blank=True)
    quoted_at = models.DateTimeField(_("quoted at"), null=True, blank=True)
    ordered_at = models.DateTimeField(_("order signed at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = staff_member(_("created by"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = LeadQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("assign_lead", _("Can assign leads to consultants")),
            ("view_funnel", _("Can see the funnel figures")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=LeadStatus.LOST) | ~Q(lost_reason=""),
                name="lead_lost_has_reason",
                violation_error_message=_("A lost lead needs its lost reason."),
            ),
            models.CheckConstraint(
                condition=~Q(source=LeadSource.REFERRAL) | Q(referrer__isnull=False),
                name="lead_referral_has_referrer",
                violation_error_message=_("A referral names the owner who referred."),
            ),
            # Qualified means verified by phone: no lead moves along the funnel without it.
            models.CheckConstraint(
                condition=Q(status__in=[LeadStatus.NEW, LeadStatus.LOST, LeadStatus.INVALID])
                | Q(verified_at__isnull=False),
                name="lead_progress_needs_verification",
                violation_error_message=_("Verify the lead by phone first."),
            ),
        ]
        indexes = [
            models.Index(fields=["branch", "-created_at"], name="lead_branch_created"),
            models.Index(
                fields=["consultant", "next_follow_up_on"],
                condition=~Q(status__in=LEAD_CLOSED),
                name="lead_follow_up_due",
            ),
            models.Index(
                fields=["branch", "handed_over_at"],
                condition=Q(first_response_at__isnull=True) | Q(status_changed_at__isnull=True),
                name="lead_awaiting_response",
            ),
            trigram_index("mobile", "lead_mobile_trgm"),
            case_insensitive_trigram_index("name", "lead_name_upper_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.model_of_interest}"

    def get_absolute_url(self) -> str:
        return reverse("sales:lead-detail", args=[self.pk])

    def clean(self) -> None:
        self.mobile = validators.normalize_mobile(self.mobile)
        self.name = " ".join(self.name.split())
        if self.source == LeadSource.REFERRAL and self.referrer_id is None:
            raise ValidationError({"referrer": _("A referral names the owner who referred.")})
        if self.budget is not None and self.budget <= 0:
            raise ValidationError({"budget": _("A budget is more than zero.")})

    @property
    def is_open(self) -> bool:
        return self.status not in LEAD_CLOSED

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def follow_up_overdue(self) -> bool:
        return bool(
            self.is_open
            and self.next_follow_up_on
            and self.next_follow_up_on < timezone.localdate()
        )


class Activity(models.Model):
    """A call, visit or message with a lead, and what came of it."""

    branch_lookup = "lead__branch"

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="activities", verbose_name=_("lead")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ActivityKind.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=ActivityOutcome.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    by = staff_member(_("by"))
    next_follow_up_on = models.DateField(_("next follow-up"), null=True, blank=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["lead", "-occurred_at"], name="activity_lead_latest")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.get_outcome_display()}"


class ShowroomTraffic(models.Model):
    """展厅客流: one day's count at one branch, tapped in at the front desk."""

    branch_lookup = "branch"
    COUNTERS = [
        "first_with_appointment",
        "first_walk_in",
        "return_with_appointment",
        "return_walk_in",
        "phone_inquiries",
    ]

    branch = branch_key()
    day = models.DateField(_("day"))
    first_with_appointment = models.PositiveIntegerField(
        _("first visits with appointment"), default=0
    )
    first_walk_in = models.PositiveIntegerField(_("first visits without appointment"), default=0)
    return_with_appointment = models.PositiveIntegerField(
        _("return visits with appointment"), default=0
    )
    return_walk_in = models.PositiveIntegerField(_("return visits without appointment"), default=0)
    phone_inquiries = models.PositiveIntegerField(_("phone inquiries"), default=0)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("showroom traffic")
        verbose_name_plural = _("showroom traffic")
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "day"], name="traffic_one_row_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.branch} {self.day:%Y-%m-%d}"

    @property
    def first_visits(self) -> int:
        return self.first_with_appointment + self.first_walk_in

    @property
    def return_visits(self) -> int:
        return self.return_with_appointment + self.return_walk_in

    @property
    def with_appointment(self) -> int:
        return self.first_with_appointment + self.return_with_appointment

    @property
    def without_appointment(self) -> int:
        return self.first_walk_in + self.return_walk_in

    @property
    def visits(self) -> int:
        return self.first_visits + self.return_visits


class StockVehicleQuerySet(BranchScopedQuerySet):
    def with_days_in_stock(self) -> "StockVehicleQuerySet":
        """Annotate `days_in_stock`: whole Shanghai calendar days since arrival (null in
        transit). TruncDate takes today in the active time zone, not the connection's UTC."""
        return self.annotate(days_in_stock=ExtractDay(TruncDate(Now()) - models.F("arrival_date")))


class StockVehicle(models.Model):
    """整车库存: a new vehicle the branch holds (or has ordered), by VIN."""

    branch_lookup = "branch"

    branch = branch_key("stock_vehicles")
    vin = models.CharField(
        _("VIN"),
        max_length=17,
        unique=True,
        validators=[vin.validate_vin],
        error_messages={"unique": _("A stock vehicle with this VIN already exists.")},
    )
    brand = models.CharField(_("brand"), max_length=40)
    series = models.CharField(_("series"), max_length=40)
    configuration = models.CharField(_("configuration"), max_length=80, blank=True)
    colour = models.CharField(_("colour"), max_length=30, blank=True)
    model_year = models.PositiveSmallIntegerField(_("model year"), null=True, blank=True)
    list_price = money(_("list price (CNY)"))
    status = models.CharField(
        _("status"), max_length=20, choices=StockStatus.choices, default=StockStatus.IN_TRANSIT
    )
    arrival_date = models.DateField(_("arrived on"), null=True, blank=True)
    pdi_done_on = models.DateField(_("PDI done on"), null=True, blank=True)
    pdi_by = staff_member(_("PDI by"), null=True, blank=True)
    pdi_note = models.CharField(_("PDI findings"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = StockVehicleQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("stock vehicle")
        verbose_name_plural = _("stock vehicles")
        ordering = ["arrival_date", "id"]
        permissions = [("record_pdi", _("Can record the pre-delivery inspection"))]
        constraints = [
            # A car still on its way may already be reserved for a customer's order.
            models.CheckConstraint(
                condition=Q(status__in=[StockStatus.IN_TRANSIT, StockStatus.RESERVED])
                | Q(arrival_date__isnull=False),
                name="stock_vehicle_arrived_has_date",
                violation_error_message=_("A vehicle that has arrived needs its arrival date."),
            ),
        ]
        indexes = [
            trigram_index("vin", "stock_vehicle_vin_trgm"),
            models.Index(fields=["branch", "status"], name="stock_vehicle_branch_status"),
        ]

    def __str__(self) -> str:
        return f"{self.brand} {self.series} {self.colour} · {self.vin}".strip()

    def get_absolute_url(self) -> str:
        return reverse("sales:stock-detail", args=[self.pk])

    def clean(self) -> None:
        self.vin = vin.normalize_vin(self.vin)
        if self.arrival_date and self.arrival_date > timezone.localdate():
            raise ValidationError({"arrival_date": _("An arrival cannot be in the future.")})

    @property
    def is_available(self) -> bool:
        return self.status in (StockStatus.IN_TRANSIT, StockStatus.IN_STOCK)


class TestDrive(models.Model):
    """试乘试驾: a booked slot in a demo car, the driver's licence and signed agreement, and the
    customer's feedback afterwards."""

    branch_lookup = "branch"

    branch = branch_key()
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="test_drives", verbose_name=_("lead")
    )
    demo_vehicle = models.ForeignKey(
        StockVehicle,
        on_delete=models.PROTECT,
        related_name="test_drives",
        verbose_name=_("demo car"),
    )
    consultant = staff_member(_("sales consultant"))
    driver_name = models.CharField(_("driver"), max_length=100)
    driver_licence_number = models.CharField(
        _("driving licence number"),
        max_length=18,
        validators=[validators.validate_resident_id],
        help_text=_("A Chinese driving licence carries the holder's resident ID number."),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    route = models.CharField(_("route"), max_length=200)
    status = models.CharField(
        _("status"), max_length=20, choices=TestDriveStatus.choices, default=TestDriveStatus.BOOKED
    )
    agreement_signed = models.BooleanField(_("test-drive agreement signed"), default=False)
    feedback = models.TextField(_("feedback"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("test drive")
        verbose_name_plural = _("test drives")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="test_drive_ends_after_start",
                violation_error_message=_("A test drive ends after it starts."),
            ),
            models.CheckConstraint(
                condition=~Q(status=TestDriveStatus.DONE) | Q(agreement_signed=True),
                name="test_drive_done_has_agreement",
                violation_error_message=_("A test drive needs the signed agreement."),
            ),
            # No demo car is booked twice at once, however many requests race for it.
            ExclusionConstraint(
                name="test_drive_no_double_booking",
                expressions=[
                    ("demo_vehicle", RangeOperators.EQUAL),
                    (
                        models.Func(
                            "starts_at",
                            "ends_at",
                            function="TSTZRANGE",
                            output_field=models.Field(),
                        ),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                condition=~Q(status=TestDriveStatus.CANCELLED),
                violation_error_message=_("This demo car is already booked at that time."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.driver_name} · {self.starts_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("sales:test-drive-detail", args=[self.pk])

    def clean(self) -> None:
        self.driver_licence_number = self.driver_licence_number.strip().upper()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("A test drive ends after it starts.")})


class TradeIn(models.Model):
    """二手车置换: the customer's current car, appraised and offered for."""

    branch_lookup = "branch"

    branch = branch_key()
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="trade_ins", verbose_name=_("lead")
    )
    brand = models.CharField(_("brand"), max_length=40)
    series = models.CharField(_("series"), max_length=40)
    model_year = models.PositiveSmallIntegerField(_("model year"), null=True, blank=True)
    vin = models.CharField(_("VIN"), max_length=17, blank=True, validators=[vin.validate_vin])
    plate = models.CharField(
        _("plate number"), max_length=12, blank=True, validators=[validators.validate_plate]
    )
    odometer_km = models.PositiveIntegerField(_("odometer (km)"), default=0)
    condition_note = models.CharField(_("condition"), max_length=300, blank=True)
    appraised_value = money(_("appraised value (CNY)"))
    offered_value = money(_("offered value (CNY)"))
    appraised_by = staff_member(_("appraised by"))
    appraised_on = models.DateField(_("appraised on"), default=timezone.localdate)
    decision = models.CharField(
        _("customer's decision"),
        max_length=20,
        choices=TradeInDecision.choices,
        default=TradeInDecision.PENDING,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("trade-in")
        verbose_name_plural = _("trade-ins")
        ordering = ["-appraised_on", "-id"]

    def __str__(self) -> str:
        return f"{self.brand} {self.series} {self.model_year or ''}".strip()

    def clean(self) -> None:
        self.vin = vin.normalize_vin(self.vin) if self.vin else ""
        self.plate = validators.normalize_plate(self.plate)


class Quote(models.Model):
    """报价: the price offered for one vehicle. The total is worked out by the service from the
    parts, never typed."""

    branch_lookup = "branch"
    PRICED_FIELDS = [
        "brand", "series", "configuration", "colour", "list_price", "discount", "accessories",
        "accessories_price", "insurance_price", "financing_plan", "loan_amount",
        "loan_term_months", "registration_fee", "trade_in", "valid_until", "note",
    ]  # fmt: skip

    branch = branch_key()
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="quotes", verbose_name=_("lead")
    )
    consultant = staff_member(_("sales consultant"))
    brand = models.CharField(_("brand"), max_length=40)
    series = models.CharField(_("model"), max_length=40)
    configuration = models.CharField(_("configuration"), max_length=80, blank=True)
    colour = models.CharField(_("colour"), max_length=30, blank=True)
    list_price = money(_("list price"))
    discount = money(_("discount"), default=ZERO)
    accessories = models.CharField(_("accessories (精品)"), max_length=300, blank=True)
    accessories_price = money(_("accessories price"), default=ZERO)
    insurance_price = money(_("insurance"), default=ZERO)
    financing_plan = models.CharField(_("financing"), max_length=100, blank=True)
    loan_amount = money(_("loan amount"), default=ZERO)
    loan_term_months = models.PositiveSmallIntegerField(
        _("loan term (months)"), null=True, blank=True
    )
    registration_fee = money(_("registration fee"), default=ZERO)
    trade_in = models.OneToOneField(
        TradeIn,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="quote",
        verbose_name=_("trade-in"),
    )
    trade_in_value = money(_("trade-in value"), default=ZERO)
    total = money(_("total"), default=ZERO)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT
    )
    needs_approval = models.BooleanField(_("discount needs approval"), default=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-created_at", "-id"]
        permissions = [("approve_quote", _("Can approve discounts on quotes"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(discount__lte=models.F("list_price")),
                name="quote_discount_within_price",
                violation_error_message=_("The discount cannot exceed the list price."),
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="quote_total_not_negative"),
        ]
        indexes = [models.Index(fields=["branch", "status"], name="quote_branch_status")]

    def __str__(self) -> str:
        return f"Q{self.pk:05d} · {self.brand} {self.series}"

    def get_absolute_url(self) -> str:
        return reverse("sales:quote-detail", args=[self.pk])

    @property
    def number(self) -> str:
        return f"Q{self.pk:05d}"

    def computed_total(self) -> Decimal:
        return (
            self.list_price
            - self.discount
            + self.accessories_price
            + self.insurance_price
            + self.registration_fee
            - self.trade_in_value
        )

    def clean(self) -> None:
        prices_known = self.list_price is not None and self.discount is not None
        if prices_known and self.discount > self.list_price:
            raise ValidationError({"discount": _("The discount cannot exceed the list price.")})
        if self.loan_amount and not self.loan_term_months:
            raise ValidationError({"loan_term_months": _("A loan needs its term.")})


class QuoteApproval(models.Model):
    """One step of a quote's approval: submitted, approved or rejected, by whom and why."""

    branch_lookup = "quote__branch"

    quote = models.ForeignKey(
        Quote, on_delete=models.CASCADE, related_name="approvals", verbose_name=_("quote")
    )
    decision = models.CharField(_("decision"), max_length=20, choices=ApprovalDecision.choices)
    discount = money(_("discount"))
    by = staff_member(_("by"))
    at = models.DateTimeField(_("at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = BranchScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("quote approval")
        verbose_name_plural = _("quote approvals")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.quote} · {self.get_decision_display()}"


class Order(models.Model):
    """订单 / 购车协议: the purchase agreement, from draft to delivery (or cancellation)."""

    branch_lookup = "branch"

    branch = branch_key()
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("customer"),
    )
    lead = models.ForeignKey(
        Lead,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("lead"),
    )
    quote = models.OneToOneField(
        Quote,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order",
        verbose_name=_("quote"),
    )
    fleet_order = models.ForeignKey(
        "fleet.FleetOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sales_orders",
        verbose_name=_("fleet batch"),
    )
    consultant = staff_member(_("sales consultant"))
    brand = models.CharField(_("brand"), max_length=40)
    series = models.CharField(_("model"), max_length=40)
    configuration = models.CharField(_("configuration"), max_length=80, blank=True)
    colour = models.CharField(_("colour"), max_length=30, blank=True)
    total_price = money(_("total price"))
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT
    )
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    # One stock vehicle serves one order at most: the unique key is the backstop behind the
    # allocation service's row lock.
    stock_vehicle = models.OneToOneField(
        StockVehicle,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order",
        verbose_name=_("allocated vehicle"),
    )
    allocated_at = models.DateTimeField(_("allocated at"), null=True, blank=True)
    invoice_number = models.CharField(_("invoice number"), max_length=30, blank=True)
    invoiced_at = models.DateTimeField(_("invoiced at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=300, blank=True)
    deposit_handling = models.CharField(
        _("deposit handling"), max_length=20, choices=DepositHandling.choices, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        permissions = [("cancel_order", _("Can cancel signed orders"))]
        constraints = [
            models.CheckConstraint(
                condition=~Q(
                    status__in=[OrderStatus.ALLOCATED, OrderStatus.INVOICED, OrderStatus.DELIVERED]
                )
                | Q(stock_vehicle__isnull=False),
                name="order_allocated_has_vehicle",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[OrderStatus.INVOICED, OrderStatus.DELIVERED])
                | ~Q(invoice_number=""),
                name="order_invoiced_has_number",
            ),
            models.CheckConstraint(
                condition=~Q(status=OrderStatus.CANCELLED) | ~Q(cancel_reason=""),
                name="order_cancelled_has_reason",
            ),
            models.UniqueConstraint(
                fields=["invoice_number"],
                condition=~Q(invoice_number=""),
                name="order_unique_invoice_number",
                violation_error_message=_("Another order has this invoice number."),
            ),
        ]
        indexes = [models.Index(fields=["branch", "status"], name="order_branch_status")]

    def __str__(self) -> str:
        return f"{self.number} · {self.customer}"

    def get_absolute_url(self) -> str:
        return reverse("sales:order-detail", args=[self.pk])

    @property
    def number(self) -> str:
        return f"SO{self.pk:05d}"


class Payment(models.Model):
    """A payment on an order: scheduled (due) until it is received (paid)."""

    branch_lookup = "order__branch"

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="payments", verbose_name=_("order")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=PaymentKind.choices)
    amount = money(_("amount"))
    due_on = models.DateField(_("due on"), null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices, blank=True)
    reference = models.CharField(_("reference"), max_length=60, blank=True)
    recorded_by = staff_member(_("recorded by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["due_on", "paid_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(paid_on__isnull=False) | Q(due_on__isnull=False),
                name="payment_paid_or_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class Delivery(models.Model):
    """交车: the handover, after which the car is the customer's vehicle."""

    branch_lookup = "order__branch"

    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, related_name="delivery", verbose_name=_("order")
    )
    delivered_on = models.DateField(_("delivered on"))
    delivered_by = staff_member(_("delivered by"))
    checklist = ArrayField(
        models.CharField(max_length=20, choices=DeliveryCheck.choices),
        default=list,
        verbose_name=_("delivery checklist"),
    )
    documents = ArrayField(
        models.CharField(max_length=20, choices=DeliveryDocument.choices),
        default=list,
        verbose_name=_("documents handed over"),
    )
    odometer_km = models.PositiveIntegerField(_("odometer at delivery (km)"), default=0)
    note = models.CharField(_("note"), max_length=300, blank=True)
    vehicle = models.OneToOneField(
        "customers.Vehicle",
        on_delete=models.PROTECT,
        related_name="delivery",
        verbose_name=_("customer's vehicle"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-delivered_on", "-id"]

    def __str__(self) -> str:
        return f"{self.order} · {self.delivered_on:%Y-%m-%d}"


class LeadDeadlineBreach(models.Model):
    """A lead that missed its first-response or status-update deadline. One row per lead and
    kind, so the checking job can run any number of times."""

    branch_lookup = "lead__branch"

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("No first response in time")
        STATUS_UPDATE = "status_update", _("No status update in time")

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="deadline_breaches", verbose_name=_("lead")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    due_at = models.DateTimeField(_("was due at"))
    detected_at = models.DateTimeField(_("detected at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("missed lead deadline")
        verbose_name_plural = _("missed lead deadlines")
        ordering = ["-detected_at"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "kind"], name="lead_breach_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.lead} · {self.get_kind_display()}"
