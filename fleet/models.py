"""Fleet and large accounts (大客户): accounts and their protection, progress reports, the
buying centre, deals with their lines, annual agreements with volume tiers, fleet orders
(the batches a deal is priced and delivered in), discount and special-configuration
requests, and the support settled per batch."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from customers.validators import validate_credit_code
from dealer_crm.models import branch_key, money_field, user_key
from dealer_crm.scoping import BranchScopedQuerySet

from .choices import (
    AccountClass,
    Attitude,
    BuyingRole,
    DealStage,
    ProtectionStatus,
    RequestStatus,
)

ZERO = Decimal("0")


class FleetAccount(models.Model):
    """A large account, registered by the branch that works on it and, once confirmed,
    protected for that branch. Affiliates point at their parent and count with it."""

    branch_lookup = "branch"

    branch = branch_key()
    name = models.CharField(_("name"), max_length=100)
    account_class = models.CharField(_("class"), max_length=20, choices=AccountClass.choices)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        validators=[validate_credit_code],
        error_messages={"unique": _("An account with this credit code is registered.")},
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="affiliates",
        verbose_name=_("affiliate of"),
    )
    account_manager = user_key(_("account manager"))
    # The organization as a customer: the buyer of its batches' sales orders and the owner
    # of the vehicles delivered to it. Made with the first batch.
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer record"),
    )
    status = models.CharField(
        _("protection"),
        max_length=20,
        choices=ProtectionStatus.choices,
        default=ProtectionStatus.REGISTERED,
    )
    registered_by = user_key(_("registered by"))
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    confirmed_by = user_key(_("confirmed by"), null=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    protected_until = models.DateField(_("protected until"), null=True, blank=True)
    lapsed_at = models.DateTimeField(_("protection lapsed at"), null=True, blank=True)
    lapse_reason = models.CharField(_("why it lapsed"), max_length=200, blank=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("fleet account")
        verbose_name_plural = _("fleet accounts")
        ordering = ["name"]
        permissions = [
            ("confirm_fleetaccount", _("Can confirm and reassign fleet accounts")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("pk")), name="fleet_account_not_its_own_parent"
            ),
            models.CheckConstraint(
                condition=~Q(status=ProtectionStatus.PROTECTED) | Q(protected_until__isnull=False),
                name="fleet_account_protection_has_an_end",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProgressReport(models.Model):
    """The monthly progress report (due on the 1st) that keeps an account's protection."""

    account = models.ForeignKey(
        FleetAccount, on_delete=models.CASCADE, related_name="progress_reports",
        verbose_name=_("account"),
    )  # fmt: skip
    month = models.DateField(_("month"), help_text=_("The first day of the month reported."))
    summary = models.TextField(_("progress"), max_length=2000)
    reported_by = user_key(_("reported by"))
    reported_at = models.DateTimeField(_("reported at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["account", "month"], name="progress_report_monthly"),
            models.CheckConstraint(
                condition=Q(month__day=1), name="progress_report_month_starts_on_the_first"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.month:%Y-%m}"


class BuyingCentreMember(models.Model):
    """Someone around the account's buying decision, and where they stand."""

    account = models.ForeignKey(
        FleetAccount, on_delete=models.CASCADE, related_name="buying_centre",
        verbose_name=_("account"),
    )  # fmt: skip
    name = models.CharField(_("name"), max_length=50)
    title = models.CharField(_("title"), max_length=50, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=BuyingRole.choices)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    attitude = models.CharField(
        _("attitude"), max_length=20, choices=Attitude.choices, default=Attitude.NEUTRAL
    )
    last_contact_on = models.DateField(_("last contact"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("buying-centre member")
        verbose_name_plural = _("buying centre")
        ordering = ["role", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"


class FleetDeal(models.Model):
    """大客户项目: what the account wants, the tender, the competitors and the stage."""

    branch_lookup = "branch"

    branch = branch_key()
    account = models.ForeignKey(
        FleetAccount, on_delete=models.PROTECT, related_name="deals", verbose_name=_("account")
    )
    title = models.CharField(_("project"), max_length=100)
    stage = models.CharField(
        _("stage"), max_length=20, choices=DealStage.choices, default=DealStage.PROSPECT
    )
    tender_on = models.DateField(_("tender or procurement date"), null=True, blank=True)
    procurement_centre = models.CharField(_("procurement centre"), max_length=100, blank=True)
    competitors = models.CharField(_("competitors"), max_length=200, blank=True)
    expected_value = money_field(_("expected value (CNY)"), default=ZERO)
    closing_reason = models.CharField(_("why won or lost"), max_length=300, blank=True)
    created_by = user_key(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("fleet deal")
        verbose_name_plural = _("fleet deals")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stage__in=[DealStage.WON, DealStage.LOST], closing_reason__gt="")
                | ~Q(stage__in=[DealStage.WON, DealStage.LOST]),
                name="fleet_deal_closed_with_a_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class DealLine(models.Model):
    """A model the account asks for, in its configuration, and how many."""

    branch_lookup = "deal__branch"

    deal = models.ForeignKey(
        FleetDeal, on_delete=models.CASCADE, related_name="lines", verbose_name=_("deal")
    )
    brand = models.CharField(_("brand"), max_length=40)
    series = models.CharField(_("model"), max_length=40)
    configuration = models.CharField(_("configuration"), max_length=80, blank=True)
    colour = models.CharField(_("colour"), max_length=30, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("deal line")
        verbose_name_plural = _("deal lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="deal_line_positive")
        ]

    def __str__(self) -> str:
        return f"{self.brand} {self.series} × {self.quantity}"


class FleetAgreement(models.Model):
    """The annual agreement: signed before 1 July it runs to 31 December of that year, on
    or after 1 July to 31 December of the next; its volume tiers price the orders."""

    branch_lookup = "account__branch"

    account = models.ForeignKey(
        FleetAccount, on_delete=models.PROTECT, related_name="agreements",
        verbose_name=_("account"),
    )  # fmt: skip
    signed_on = models.DateField(_("signed on"))
    valid_until = models.DateField(_("valid until"))
    agreed_units = models.PositiveIntegerField(_("units agreed"), default=0)
    terms = models.CharField(_("discounts and terms agreed"), max_length=300, blank=True)
    document = models.FileField(_("signed agreement"), upload_to="fleet/agreements/", blank=True)
    created_by = user_key(_("recorded by"))

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("annual agreement")
        verbose_name_plural = _("annual agreements")
        ordering = ["-signed_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gt=F("signed_on")), name="fleet_agreement_runs_forward"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.signed_on:%Y-%m-%d}–{self.valid_until:%Y-%m-%d}"


class TierBand(models.Model):
    """One band of an agreement's volume tiers: from this many delivered units on, this
    support per unit."""

    agreement = models.ForeignKey(
        FleetAgreement, on_delete=models.CASCADE, related_name="bands",
        verbose_name=_("agreement"),
    )  # fmt: skip
    from_units = models.PositiveIntegerField(_("from unit"))
    to_units = models.PositiveIntegerField(_("to unit"), null=True, blank=True)
    support_per_unit = money_field(_("support per unit (CNY)"))

    class Meta:
        verbose_name = _("volume tier")
        verbose_name_plural = _("volume tiers")
        ordering = ["from_units"]
        constraints = [
            models.CheckConstraint(condition=Q(from_units__gte=1), name="tier_band_from_one"),
            models.CheckConstraint(
                condition=Q(to_units__isnull=True) | Q(to_units__gte=F("from_units")),
                name="tier_band_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_units}–{self.to_units or '∞'}: {self.support_per_unit}"

    def holds(self, unit: int) -> bool:
        return self.from_units <= unit and (self.to_units is None or unit <= self.to_units)


class FleetOrder(models.Model):
    """A batch of a deal priced at once: its tier is fixed when it is priced and never
    changes with later deliveries. More than 50 units is a special deal, negotiated on its
    own, outside the tiers and without other promotions."""

    branch_lookup = "deal__branch"

    deal = models.ForeignKey(
        FleetDeal, on_delete=models.PROTECT, related_name="orders", verbose_name=_("deal")
    )
    line = models.ForeignKey(
        DealLine, on_delete=models.PROTECT, related_name="orders", verbose_name=_("model")
    )
    agreement = models.ForeignKey(
        FleetAgreement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("agreement"),
    )
    quantity = models.PositiveIntegerField(_("units"), validators=[MinValueValidator(1)])
    unit_price = money_field(_("price per vehicle (CNY)"))
    is_special = models.BooleanField(_("special deal (over 50 units)"), default=False)
    tier_band = models.ForeignKey(
        TierBand,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tier"),
    )
    units_before = models.PositiveIntegerField(_("units delivered before pricing"), default=0)
    support_per_unit = money_field(_("support per unit (CNY)"))
    promotion = models.CharField(_("promotion"), max_length=60, blank=True)
    priced_by = user_key(_("priced by"))
    priced_at = models.DateTimeField(_("priced at"), auto_now_add=True)
    # Counted from the batch's sales orders each time one of them is delivered.
    delivered_units = models.PositiveIntegerField(_("units delivered"), default=0)
    delivered_at = models.DateTimeField(_("last delivery"), null=True, blank=True)
    support_settled = money_field(_("support settled (CNY)"), default=ZERO)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("fleet order")
        verbose_name_plural = _("fleet orders")
        ordering = ["priced_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="fleet_order_positive"),
            models.CheckConstraint(
                condition=Q(delivered_units__lte=F("quantity")),
                name="fleet_order_delivered_within_quantity",
            ),
            models.CheckConstraint(
                condition=~Q(is_special=True) | (Q(tier_band__isnull=True) & Q(promotion="")),
                name="fleet_order_special_outside_tiers_and_promotions",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deal} × {self.quantity}"

    @property
    def support_due(self) -> Decimal:
        """Support earned by what was delivered: per unit, per batch."""
        return self.delivered_units * self.support_per_unit


class ApprovalRequest(models.Model):
    """What a fleet manager asks a manager to decide within 48 hours."""

    branch_lookup = "deal__branch"

    deal = models.ForeignKey(FleetDeal, on_delete=models.PROTECT, verbose_name=_("deal"))
    status = models.CharField(
        _("status"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    justification = models.CharField(_("justification"), max_length=500)
    requested_by = user_key(_("requested by"))
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    due_by = models.DateTimeField(_("decision due by"))
    decided_by = user_key(_("decided by"), null=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)
    overdue_flagged_at = models.DateTimeField(_("flagged overdue at"), null=True, blank=True)

    objects = BranchScopedQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-requested_at"]


class DiscountRequest(ApprovalRequest):
    """A discount beyond the agreement's, per unit, for a deal."""

    discount_per_unit = money_field(_("discount per unit (CNY)"))
    units = models.PositiveIntegerField(_("units"), validators=[MinValueValidator(1)])

    history = HistoricalRecords()

    class Meta(ApprovalRequest.Meta):
        verbose_name = _("discount request")
        verbose_name_plural = _("discount requests")
        permissions = [("approve_discountrequest", _("Can approve or refuse discount requests"))]
        constraints = [
            models.CheckConstraint(condition=Q(units__gt=0), name="discount_request_units"),
            models.CheckConstraint(
                condition=Q(discount_per_unit__gt=0), name="discount_request_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deal}: {self.discount_per_unit} × {self.units}"


class SpecialConfigurationRequest(ApprovalRequest):
    """A special colour or configuration the factory must agree to."""

    description = models.CharField(_("colour or configuration"), max_length=200)
    units = models.PositiveIntegerField(_("units"), validators=[MinValueValidator(1)])

    history = HistoricalRecords()

    class Meta(ApprovalRequest.Meta):
        verbose_name = _("special configuration request")
        verbose_name_plural = _("special configuration requests")
        permissions = [
            ("approve_specialconfigurationrequest", _("Can approve special configurations"))
        ]
        constraints = [
            models.CheckConstraint(condition=Q(units__gt=0), name="special_configuration_units")
        ]

    def __str__(self) -> str:
        return f"{self.deal}: {self.description}"
