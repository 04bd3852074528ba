"""The archive (一车一档): one file per vehicle, a sales section for its delivery and a
service section per work order, the scanned papers each section expects, their audit with
its nonconformity records and penalty points, the submission batches with their handover
forms, reconciliation with the system's records, and retention up to sealing and disposal."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from dealer_crm.models import NumberedDocument, branch_key, user_key
from dealer_crm.scoping import BranchScopedQuerySet

from .choices import (
    BatchStatus,
    DocumentKind,
    DocumentStatus,
    ExemptionReason,
    FileStatus,
    PenaltyReason,
    SectionKind,
)


class VehicleFile(NumberedDocument):
    """一车一档: exactly one per vehicle, opened when the vehicle is delivered or first
    serviced. Kept until its retain-until date, then sealed (read-only) and, with a manager's
    approval, disposed of."""

    number_prefix = "VF"
    detail_route = "archives:file-detail"
    branch_lookup = "branch"

    branch = branch_key("vehicle_files")
    vehicle = models.OneToOneField(
        "customers.Vehicle",
        on_delete=models.PROTECT,
        related_name="archive_file",
        verbose_name=_("vehicle"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=FileStatus.choices, default=FileStatus.ACTIVE
    )
    opened_on = models.DateField(_("opened on"))
    last_service_on = models.DateField(_("last service here"), null=True, blank=True)
    retain_until = models.DateField(_("kept until"))
    sealed_at = models.DateTimeField(_("sealed at"), null=True, blank=True)
    disposal_requested_by = user_key(_("disposal requested by"), null=True)
    disposal_requested_at = models.DateTimeField(_("disposal requested at"), null=True, blank=True)
    disposed_by = user_key(_("disposal approved by"), null=True)
    disposed_at = models.DateTimeField(_("disposed at"), null=True, blank=True)
    destroyed = models.JSONField(
        _("what was destroyed"),
        default=list,
        blank=True,
        help_text=_("Each destroyed document: type, file name, size and SHA-256."),
    )

    objects = BranchScopedQuerySet.as_manager()
    # The destroyed list is the file's own record; its history notes the disposal.
    history = HistoricalRecords(excluded_fields=["destroyed"])

    class Meta:
        verbose_name = _("vehicle file")
        verbose_name_plural = _("vehicle files")
        ordering = ["-id"]
        permissions = [
            ("request_disposal", _("Can put sealed vehicle files forward for disposal")),
            ("approve_disposal", _("Can approve the disposal of vehicle files")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=FileStatus.SEALED) | Q(sealed_at__isnull=False),
                name="vehicle_file_sealed_when",
            ),
            models.CheckConstraint(
                condition=~Q(status=FileStatus.DISPOSED)
                | Q(disposed_at__isnull=False, disposed_by__isnull=False),
                name="vehicle_file_disposed_by_whom",
            ),
        ]
        indexes = [models.Index(fields=["branch", "status", "retain_until"])]


class SubmissionBatch(NumberedDocument):
    """档案交接表: the files of one period handed to the archive — sales files weekly (the
    week's deliveries, due the Monday after), service files daily (the day's closed work
    orders, due by 10:00 the next day and collected at 15:00)."""

    number_prefix = "AB"
    detail_route = "archives:batch-detail"
    branch_lookup = "branch"

    branch = branch_key()
    kind = models.CharField(_("files"), max_length=20, choices=SectionKind.choices)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    due_at = models.DateTimeField(_("due by"))
    status = models.CharField(
        _("status"), max_length=20, choices=BatchStatus.choices, default=BatchStatus.EXPECTED
    )
    handed_over_by = user_key(_("handed over by"), null=True)
    received_by = user_key(_("received by"), null=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    file_count = models.PositiveIntegerField(_("files handed over"), default=0)
    document_count = models.PositiveIntegerField(_("documents handed over"), default=0)
    late_flagged_at = models.DateTimeField(_("flagged late at"), null=True, blank=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("submission batch")
        verbose_name_plural = _("submission batches")
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "kind", "period_start"], name="one_batch_per_period"
            ),
            models.CheckConstraint(
                condition=~Q(status=BatchStatus.RECEIVED)
                | Q(received_at__isnull=False, received_by__isnull=False),
                name="submission_batch_received_by_whom",
            ),
        ]

    @property
    def is_late(self) -> bool:
        return self.late_flagged_at is not None or (
            self.received_at is not None and self.received_at > self.due_at
        )


class FileSection(models.Model):
    """The sales section of a file (its delivery) or a service section (one work order):
    the documents it expects, in order, and whether they are all in and conforming."""

    branch_lookup = "vehicle_file__branch"

    vehicle_file = models.ForeignKey(
        VehicleFile, on_delete=models.PROTECT, related_name="sections", verbose_name=_("file")
    )
    kind = models.CharField(_("section"), max_length=20, choices=SectionKind.choices)
    delivery = models.OneToOneField(
        "sales.Delivery",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="archive_section",
        verbose_name=_("delivery"),
    )
    work_order = models.OneToOneField(
        "service.WorkOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="archive_section",
        verbose_name=_("work order"),
    )
    expected = ArrayField(
        models.CharField(max_length=40, choices=DocumentKind.choices),
        verbose_name=_("documents expected"),
    )
    period_on = models.DateField(_("delivered or closed on"))
    due_at = models.DateTimeField(_("papers due by"))
    batch = models.ForeignKey(
        SubmissionBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sections",
        verbose_name=_("submission batch"),
    )
    findings = models.JSONField(
        _("check findings"),
        default=list,
        blank=True,
        help_text=_("What the checks found wrong, each a code with its values."),
    )
    complete = models.BooleanField(_("complete"), default=False)
    completed_at = models.DateTimeField(_("complete since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("file section")
        verbose_name_plural = _("file sections")
        ordering = ["kind", "period_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=SectionKind.SALES, delivery__isnull=False, work_order=None)
                | Q(kind=SectionKind.SERVICE, work_order__isnull=False, delivery=None),
                name="file_section_of_its_record",
            ),
            models.UniqueConstraint(
                fields=["vehicle_file"],
                condition=Q(kind=SectionKind.SALES),
                name="one_sales_section_per_file",
            ),
        ]
        indexes = [models.Index(fields=["complete", "due_at"], name="section_open_due")]

    def __str__(self) -> str:
        record = self.delivery.order.number if self.delivery_id else self.work_order.number
        return f"{self.vehicle_file.number} · {self.get_kind_display()} · {record}"


class ArchiveDocument(models.Model):
    """A scanned paper of a section: the stored file with its checksum and real type, the
    facts the checks read, who uploaded it, and its audit. A newer upload of the same type
    replaces it; the old version is kept."""

    branch_lookup = "section__vehicle_file__branch"

    section = models.ForeignKey(
        FileSection, on_delete=models.PROTECT, related_name="documents", verbose_name=_("section")
    )
    kind = models.CharField(_("document"), max_length=40, choices=DocumentKind.choices)
    file = models.FileField(_("scan"), upload_to="archives/", max_length=200)
    original_name = models.CharField(_("file name"), max_length=120)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    document_date = models.DateField(_("date on the document"), null=True, blank=True)
    name_on_document = models.CharField(
        _("name on the document"),
        max_length=100,
        blank=True,
        help_text=_("The buyer on an invoice, the holder of an ID or organization code."),
    )
    signed = models.BooleanField(_("signed"), default=False)
    stamped = models.BooleanField(_("stamped"), default=False)
    all_pages = models.BooleanField(_("complete, every page"), default=True)
    status = models.CharField(
        _("status"), max_length=20, choices=DocumentStatus.choices, default=DocumentStatus.RECEIVED
    )
    uploaded_by = user_key(_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    audited_by = user_key(_("audited by"), null=True)
    audited_at = models.DateTimeField(_("audited at"), null=True, blank=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("archive document")
        verbose_name_plural = _("archive documents")
        ordering = ["section", "id"]
        permissions = [("audit_archivedocument", _("Can audit archive documents"))]
        constraints = [
            models.UniqueConstraint(
                fields=["section", "kind"],
                condition=~Q(status=DocumentStatus.REPLACED),
                name="one_current_document_per_type",
            ),
            models.CheckConstraint(
                condition=Q(status=DocumentStatus.RECEIVED)
                | Q(status=DocumentStatus.REPLACED)
                | Q(audited_at__isnull=False, audited_by__isnull=False),
                name="archive_document_audited_by_whom",
            ),  # fmt: skip
        ]
        indexes = [models.Index(fields=["status", "uploaded_at"], name="document_audit_queue")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.original_name}"


class Nonconformity(models.Model):
    """不合格档案记录: a document sent back with the reason and the person responsible, due
    back fixed within 24 hours."""

    branch_lookup = "branch"

    branch = branch_key()
    document = models.OneToOneField(
        ArchiveDocument,
        on_delete=models.PROTECT,
        related_name="nonconformity",
        verbose_name=_("document returned"),
    )
    reason = models.CharField(_("what is wrong"), max_length=300)
    responsible = user_key(_("responsible"))
    returned_by = user_key(_("returned by"))
    returned_at = models.DateTimeField(_("returned at"), auto_now_add=True)
    due_by = models.DateTimeField(_("due back by"))
    resubmitted = models.OneToOneField(
        ArchiveDocument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fixes",
        verbose_name=_("document sent back"),
    )
    resubmitted_at = models.DateTimeField(_("sent back at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("nonconformity record")
        verbose_name_plural = _("nonconformity records")
        ordering = ["-returned_at", "-id"]
        indexes = [models.Index(fields=["resolved_at", "due_by"], name="nonconformity_open_due")]

    def __str__(self) -> str:
        return f"{self.document} · {self.reason}"


class PenaltyPoint(models.Model):
    """A point against a person for a nonconforming document, for missing its 24 hours, or
    for sending it back unchanged; each reason counts once per record."""

    branch_lookup = "branch"

    branch = branch_key()
    person = user_key(_("person"))
    nonconformity = models.ForeignKey(
        Nonconformity, on_delete=models.PROTECT, related_name="points", verbose_name=_("record")
    )
    reason = models.CharField(_("why"), max_length=30, choices=PenaltyReason.choices)
    points = models.PositiveSmallIntegerField(_("points"), default=1)
    given_at = models.DateTimeField(_("given at"), auto_now_add=True, db_index=True)

    objects = BranchScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("penalty point")
        verbose_name_plural = _("penalty points")
        ordering = ["-given_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["nonconformity", "reason"], name="one_point_per_reason_and_record"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_reason_display()}"


class Exemption(models.Model):
    """Why a section's papers are not expected yet (not yet invoiced, still in repair, a claim
    in progress): no missing-archive report is opened for it."""

    branch_lookup = "section__vehicle_file__branch"

    section = models.OneToOneField(
        FileSection, on_delete=models.PROTECT, related_name="exemption", verbose_name=_("section")
    )
    reason = models.CharField(_("reason"), max_length=30, choices=ExemptionReason.choices)
    note = models.CharField(_("note"), max_length=300)
    # None: granted by reconciliation itself (a claim in progress).
    granted_by = user_key(_("granted by"), null=True)
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    ends_on = models.DateField(_("until"), help_text=_("The papers are due again after this day."))

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("exemption")
        verbose_name_plural = _("exemptions")
        ordering = ["-granted_at"]

    def __str__(self) -> str:
        return f"{self.section} · {self.get_reason_display()}"


class MissingArchiveReport(NumberedDocument):
    """缺档报告: a delivery or work order whose papers did not reach the archive by their due
    time, found by reconciliation; due within 2 days."""

    number_prefix = "MR"
    detail_route = "archives:missing-detail"
    branch_lookup = "branch"

    branch = branch_key()
    section = models.OneToOneField(
        FileSection, on_delete=models.PROTECT, related_name="missing_report",
        verbose_name=_("section"),
    )  # fmt: skip
    opened_at = models.DateTimeField(_("opened at"))
    due_by = models.DateTimeField(_("due by"))
    overdue_flagged_at = models.DateTimeField(_("flagged overdue at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("missing-archive report")
        verbose_name_plural = _("missing-archive reports")
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["branch", "resolved_at"], name="missing_report_open")]


class Reconciliation(models.Model):
    """A day's comparison of the archive with the system's records, per branch: what the
    system counts, what the archive holds, what is exempt and what is missing. Rerunning the
    day replaces its counts and adds what the rerun opened."""

    branch_lookup = "branch"

    branch = branch_key()
    day = models.DateField(_("day"))
    deliveries = models.PositiveIntegerField(_("deliveries"))
    sales_sections = models.PositiveIntegerField(_("sales files"))
    work_orders = models.PositiveIntegerField(_("closed work orders"))
    service_sections = models.PositiveIntegerField(_("service files"))
    sections_opened = models.PositiveIntegerField(_("files opened by the run"))
    not_invoiced = models.PositiveIntegerField(_("orders not yet invoiced"))
    in_repair = models.PositiveIntegerField(_("work orders still in repair"))
    exempt = models.PositiveIntegerField(_("sections exempt"))
    reports_opened = models.PositiveIntegerField(_("missing reports opened"))
    reports_open = models.PositiveIntegerField(_("missing reports open"))
    run_at = models.DateTimeField(_("run at"))

    objects = BranchScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("reconciliation")
        verbose_name_plural = _("reconciliations")
        ordering = ["-day", "branch"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "day"], name="one_reconciliation_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.branch} · {self.day}"
