"""Platform tables: the dealer group, its branches, staff, personal-data access log."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .choices import JobStatus, PiiChannel, Role


def display_name(user) -> str:
    """A person's name as colleagues write it: 陈嘉豪 (surname first, no space) for Chinese
    names, "Jiahao Chen" for Latin ones; the username when no name is recorded."""
    if user is None:
        return "—"
    first, last = user.first_name.strip(), user.last_name.strip()
    if not (first or last):
        return user.get_username()
    if any("\u4e00" <= char <= "\u9fff" for char in first + last):
        return f"{last}{first}"
    return f"{first} {last}".strip()


class DealerGroup(models.Model):
    name = models.CharField(_("name"), max_length=100)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("dealer group")
        verbose_name_plural = _("dealer groups")

    def __str__(self) -> str:
        return self.name


class Branch(models.Model):
    """A 4S store. Per-branch settings carry the domain's default numbers."""

    group = models.ForeignKey(DealerGroup, on_delete=models.PROTECT, related_name="branches")
    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    city = models.CharField(_("city"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    three_guarantees_months = models.PositiveSmallIntegerField(
        _("三包 period (months)"), default=24
    )
    three_guarantees_km = models.PositiveIntegerField(_("三包 period (km)"), default=50_000)
    # Sales: how often each intent level is followed up, and the response deadlines of a lead.
    follow_up_days_h = models.PositiveSmallIntegerField(
        _("follow up H leads every (days)"), default=1
    )
    follow_up_days_a = models.PositiveSmallIntegerField(
        _("follow up A leads every (days)"), default=3
    )
    follow_up_days_b = models.PositiveSmallIntegerField(
        _("follow up B leads every (days)"), default=7
    )
    follow_up_days_c = models.PositiveSmallIntegerField(
        _("follow up C leads every (days)"), default=14
    )
    lead_first_response_hours = models.PositiveSmallIntegerField(
        _("first response to a lead within (hours)"), default=24
    )
    lead_status_update_days = models.PositiveSmallIntegerField(
        _("status update of a lead within (days)"), default=7
    )
    quote_discount_limit = models.DecimalField(
        _("discount a consultant may give without approval (CNY)"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("3000.00"),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def follow_up_days(self, intent_level: str) -> int:
        """Days between follow-ups of a lead at this intent level (H, A, B or C)."""
        return getattr(self, f"follow_up_days_{intent_level.lower()}")


def branch_key(related_name: str = "+") -> models.ForeignKey:
    """The branch a record belongs to (and is scoped by): every app's records have one."""
    return models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name=related_name, verbose_name=_("branch")
    )


class Staff(models.Model):
    """A user working in one or more branches. Roles are the user's Django groups."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    branches = models.ManyToManyField(Branch, related_name="staff", verbose_name=_("branches"))
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return display_name(self.user)

    @property
    def roles(self) -> set[str]:
        return {group.name for group in self.user.groups.all()}

    @property
    def is_group_manager(self) -> bool:
        return Role.GROUP_MANAGER in self.roles


class PiiAccess(models.Model):
    """One unmasked view of a customer's, or a sales lead's, phone or ID numbers."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, null=True, blank=True
    )
    # A prospect's phone or driving licence, before (or without) a customer record.
    lead = models.ForeignKey("sales.Lead", on_delete=models.CASCADE, null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=PiiChannel.choices)
    path = models.CharField(_("path"), max_length=300)
    accessed_at = models.DateTimeField(_("accessed at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-accessed_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) | models.Q(lead__isnull=False),
                name="pii_access_names_whose_data",
            )
        ]

    def __str__(self) -> str:
        whose = f"customer {self.customer_id}" if self.customer_id else f"lead {self.lead_id}"
        return f"{self.user} → {whose} ({self.channel})"


class Heartbeat(models.Model):
    """Written by the scheduled heartbeat task: proves beat and the worker run end to end."""

    beat_at = models.DateTimeField(_("beat at"), auto_now_add=True, db_index=True)
    worker = models.CharField(_("worker"), max_length=200)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        ordering = ["-beat_at"]

    def __str__(self) -> str:
        return f"{self.worker} {self.beat_at:%Y-%m-%d %H:%M:%S}"


class Notification(models.Model):
    """An in-app message to one person. `key` makes a job's notice arrive once however often
    the job runs."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, null=True, blank=True)
    key = models.CharField(_("key"), max_length=100)
    title = models.CharField(_("title"), max_length=200)
    body = models.CharField(_("message"), max_length=500, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_key")
        ]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            )
        ]

    def __str__(self) -> str:
        return self.title


class IdempotencyRecord(models.Model):
    """The first answer to a POST sent with an `Idempotency-Key` header, replayed when the
    client sends the same request again (a retry after a timeout, a double tap). The row is
    written in the same transaction as the request's own work, so a record exists exactly
    when that work was committed. Purged after a day (`idempotency_purge`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    method = models.CharField(_("HTTP method"), max_length=10)
    path = models.CharField(_("path"), max_length=300)
    request_hash = models.CharField(_("request body hash"), max_length=64)
    # Null only inside the first request's own transaction, so no other request ever reads it.
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True)
    response_body = models.JSONField(_("response body"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key} → {self.response_status}"


ZERO = Decimal("0")


def money_field(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(ZERO)],
        **kwargs,
    )


def user_key(verbose_name, *, null: bool = False) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=null,
        blank=null,
        related_name="+",
        verbose_name=verbose_name,
    )


class JobRun(models.Model):
    """One run of a scheduled job: when it started and finished, how many rows it made or
    changed, and what went wrong if it failed. Managers read them on the operations page."""

    job = models.CharField(_("job"), max_length=80)
    status = models.CharField(
        _("status"), max_length=20, choices=JobStatus.choices, default=JobStatus.RUNNING
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["job", "-started_at"], name="job_run_latest")]

    def __str__(self) -> str:
        return f"{self.job} · {self.started_at:%Y-%m-%d %H:%M}"


class NumberedDocument(models.Model):
    """A stockroom document known by its prefixed number (PO00012), with a page of its own."""

    number_prefix = ""
    detail_route = ""

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse(self.detail_route, args=[self.pk])

    @property
    def number(self) -> str:
        return f"{self.number_prefix}{self.pk:05d}"


class KpiSnapshot(models.Model):
    """One figure's numbers for one day, branch and (optionally) person, as the nightly job
    computed them (dealer_crm.kpis): a period's value adds up or takes the last of these rows,
    so a dashboard never scans raw history. `key` is a breakdown's value ("" for the figure
    itself); `person` is null for the branch's own numbers. Derived data: the job replaces a
    day's rows whole, so they keep no history of their own."""

    day = models.DateField(_("day"))
    branch = models.ForeignKey(
        Branch, on_delete=models.CASCADE, related_name="+", verbose_name=_("branch")
    )
    person = user_key(_("person"), null=True)
    code = models.CharField(_("figure"), max_length=64)
    key = models.CharField(_("breakdown key"), max_length=100, blank=True, default="")
    numerator = models.DecimalField(_("numerator"), max_digits=20, decimal_places=4)
    denominator = models.DecimalField(
        _("denominator"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    computed_at = models.DateTimeField(_("computed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("figure snapshot")
        verbose_name_plural = _("figure snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "branch", "person", "code", "key"],
                nulls_distinct=False,
                name="kpi_snapshot_once_per_day",
            )
        ]
        indexes = [models.Index(fields=["code", "branch", "day"], name="kpi_snapshot_read")]

    def __str__(self) -> str:
        return f"{self.code}[{self.key}] {self.day:%Y-%m-%d} {self.branch_id}"


class KpiTarget(models.Model):
    """A month's target for a figure, of a branch or of one person in it."""

    branch = models.ForeignKey(
        Branch, on_delete=models.CASCADE, related_name="+", verbose_name=_("branch")
    )
    person = user_key(_("person"), null=True)
    code = models.CharField(_("figure"), max_length=64)
    month = models.DateField(_("month"), help_text=_("The month's first day."))
    value = models.DecimalField(_("target"), max_digits=20, decimal_places=4)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("figure target")
        verbose_name_plural = _("figure targets")
        ordering = ["-month", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "person", "code", "month"],
                nulls_distinct=False,
                name="kpi_target_once_per_month",
            ),
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="kpi_target_month_starts_on_first"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.month:%Y-%m} {self.value}"
