"""REST resources of the archive (一车一档): vehicle files with their sections and the scans
filed into them, the scans' audit and its nonconformity records and penalty points,
submission batches with their handover forms, exemptions, missing-archive reports,
reconciliation runs, the disposal list and the archive figures.

Each endpoint parses its input, calls one service and renders the result; the rules live in
`archives.services`. Records are read through the branch scope, so another branch's file,
section or scan "does not exist" — a scan leaves only through `download/`, after that check.
"""

from django.contrib.auth.models import User
from django.http import FileResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from customers.api import BranchStaffField
from dealer_crm.api import (
    REFUSED,
    BranchField,
    BranchScopedMixin,
    CommandMixin,
    PeriodQuerySerializer,
    answers,
)
from dealer_crm.idempotency import idempotent
from dealer_crm.models import Branch, display_name
from dealer_crm.pagination import CursorPagination
from dealer_crm.scoping import branch_ids_for

from . import selectors, services
from .choices import DocumentKind, ExemptionReason, FileStatus, SectionKind
from .filters import (
    ArchiveDocumentFilter,
    ExemptionFilter,
    FileSectionFilter,
    MissingArchiveReportFilter,
    NonconformityFilter,
    PenaltyPointFilter,
    ReconciliationFilter,
    SubmissionBatchFilter,
    VehicleFileFilter,
)
from .models import (
    ArchiveDocument,
    Exemption,
    FileSection,
    MissingArchiveReport,
    Nonconformity,
    PenaltyPoint,
    Reconciliation,
    SubmissionBatch,
    VehicleFile,
)


@extend_schema_field(OpenApiTypes.INT)
class StaffField(BranchStaffField):
    """A user id: a colleague of one of your branches."""


def record_number(section: FileSection) -> str:
    """The record a section files: the delivered order's number or the work order's."""
    return section.delivery.order.number if section.delivery_id else section.work_order.number


# --- Serializers: scans -----------------------------------------------------------------------


class ArchiveDocumentSerializer(serializers.ModelSerializer):
    """A scan filed into a section: its real type (sniffed), size and SHA-256, the facts the
    checks read, and its audit. The file itself is fetched from `download_url`."""

    vehicle_file = serializers.IntegerField(source="section.vehicle_file_id", read_only=True)
    nonconformity = serializers.IntegerField(
        source="nonconformity.pk",
        read_only=True,
        default=None,
        allow_null=True,
        help_text=gettext_lazy("The record it was returned with, if it was."),
    )
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ArchiveDocument
        fields = [
            "id", "section", "vehicle_file", "kind", "original_name", "content_type", "size",
            "sha256", "document_date", "name_on_document", "signed", "stamped", "all_pages",
            "status", "uploaded_by", "uploaded_at", "audited_by", "audited_at", "nonconformity",
            "download_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, document: ArchiveDocument) -> str:
        return reverse(
            "api:archive-document-download", args=[document.pk], request=self.context["request"]
        )


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    file = serializers.FileField(
        allow_empty_file=True,  # the service answers `file_empty`, like the pages
        help_text=gettext_lazy("PDF, JPEG or PNG, at most 10 MB; its name must match its type."),
    )
    document_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy(
            "The date printed on it; required for the invoice, the PDI certificate and sheet "
            "and the purchase agreement."
        ),
    )
    name_on_document = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("The buyer on the invoice, the holder of the ID; required there."),
    )
    signed = serializers.BooleanField(default=False)
    stamped = serializers.BooleanField(default=False)
    all_pages = serializers.BooleanField(
        default=True, help_text=gettext_lazy("Complete, every page.")
    )


class DocumentAuditSerializer(serializers.Serializer):
    conforming = serializers.BooleanField()
    reason = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("What is wrong; required to return the document."),
    )
    responsible = StaffField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy(
            "Who answers for it, a colleague of the file's branch; the order's consultant or "
            "the work order's advisor if left out."
        ),
    )


# --- Serializers: sections and files ----------------------------------------------------------


class FindingSerializer(serializers.Serializer):
    """What a check found wrong: a stable code, its values, and the message in your
    language."""

    code = serializers.CharField()
    values = serializers.DictField()
    message = serializers.SerializerMethodField()

    def get_message(self, finding: dict) -> str:
        return services.finding_text(finding)


class SectionExemptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Exemption
        fields = ["id", "reason", "note", "granted_by", "granted_at", "ends_on"]
        read_only_fields = fields


class SectionMissingReportSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)

    class Meta:
        model = MissingArchiveReport
        fields = ["id", "number", "opened_at", "due_by", "overdue_flagged_at", "resolved_at"]
        read_only_fields = fields


class FileSectionSerializer(serializers.ModelSerializer):
    """A file's sales section (its delivery) or a service section (one work order): the
    documents it expects in filing order, what the checks found, whether it is complete, its
    batch, its exemption and its missing-archive report."""

    vehicle_file_number = serializers.CharField(source="vehicle_file.number", read_only=True)
    record_number = serializers.SerializerMethodField()
    expected = serializers.ListField(
        child=serializers.ChoiceField(choices=DocumentKind.choices), read_only=True
    )
    findings = FindingSerializer(many=True, read_only=True)
    batch_number = serializers.CharField(
        source="batch.number", read_only=True, default=None, allow_null=True
    )
    exemption = SectionExemptionSerializer(read_only=True, allow_null=True)
    missing_report = SectionMissingReportSerializer(read_only=True, allow_null=True)

    class Meta:
        model = FileSection
        fields = [
            "id", "vehicle_file", "vehicle_file_number", "kind", "delivery", "work_order",
            "record_number", "period_on", "due_at", "expected", "findings", "complete",
            "completed_at", "batch", "batch_number", "exemption", "missing_report",
        ]  # fmt: skip
        read_only_fields = fields

    def get_record_number(self, section: FileSection) -> str:
        return record_number(section)


class FileSectionDetailSerializer(FileSectionSerializer):
    """The section with its current documents, in filing order (papers it does not expect
    after them); earlier versions are at `archive-documents/?section=&status=replaced`."""

    documents = serializers.SerializerMethodField()

    class Meta(FileSectionSerializer.Meta):
        fields = [*FileSectionSerializer.Meta.fields, "documents"]
        read_only_fields = fields

    @extend_schema_field(ArchiveDocumentSerializer(many=True))
    def get_documents(self, section: FileSection) -> list:
        current = [document for _kind, document in section.slots if document] + section.extras
        return ArchiveDocumentSerializer(current, many=True, context=self.context).data


class VehicleFileSerializer(serializers.ModelSerializer):
    """一车一档: one vehicle's file, kept until its retain-until date, then sealed and, with a
    manager's approval, disposed of."""

    number = serializers.CharField(read_only=True)
    vin = serializers.CharField(source="vehicle.vin", read_only=True)
    plate = serializers.CharField(source="vehicle.plate", read_only=True)
    owner = serializers.IntegerField(source="vehicle.owner_id", read_only=True)
    owner_name = serializers.CharField(source="vehicle.owner.name", read_only=True)

    class Meta:
        model = VehicleFile
        fields = [
            "id", "number", "branch", "vehicle", "vin", "plate", "owner", "owner_name",
            "status", "opened_on", "last_service_on", "retain_until", "sealed_at",
            "disposal_requested_by", "disposal_requested_at", "disposed_by", "disposed_at",
        ]  # fmt: skip
        read_only_fields = fields


class DestroyedDocumentSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    name = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()


class VehicleFileDetailSerializer(VehicleFileSerializer):
    """The file with its sections (sales first) and, once disposed of, what was destroyed."""

    sections = FileSectionDetailSerializer(source="file_sections", many=True, read_only=True)
    destroyed = DestroyedDocumentSerializer(many=True, read_only=True)

    class Meta(VehicleFileSerializer.Meta):
        fields = [*VehicleFileSerializer.Meta.fields, "sections", "destroyed"]
        read_only_fields = fields


class ExemptSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ExemptionReason.choices)
    note = serializers.CharField(max_length=300, allow_blank=True)
    ends_on = serializers.DateField(
        help_text=gettext_lazy("The papers are due again after this day (today or later).")
    )


# --- Serializers: batches ---------------------------------------------------------------------


class SubmissionBatchSerializer(serializers.ModelSerializer):
    """档案交接表: the files of one period handed to the archive (sales weekly, service
    daily); the counts are taken when it is received."""

    number = serializers.CharField(read_only=True)
    is_late = serializers.BooleanField(read_only=True)

    class Meta:
        model = SubmissionBatch
        fields = [
            "id", "number", "branch", "kind", "period_start", "period_end", "due_at", "status",
            "handed_over_by", "received_by", "received_at", "file_count", "document_count",
            "late_flagged_at", "is_late",
        ]  # fmt: skip
        read_only_fields = fields


class BatchRowSerializer(serializers.ModelSerializer):
    """A row of the handover form: one file of the batch with its record and documents."""

    section = serializers.IntegerField(source="pk", read_only=True)
    vehicle_file_number = serializers.CharField(source="vehicle_file.number", read_only=True)
    vin = serializers.CharField(source="vehicle_file.vehicle.vin", read_only=True)
    plate = serializers.CharField(source="vehicle_file.vehicle.plate", read_only=True)
    owner_name = serializers.CharField(source="vehicle_file.vehicle.owner.name", read_only=True)
    record_number = serializers.SerializerMethodField()
    document_count = serializers.IntegerField(
        read_only=True, help_text=gettext_lazy("Current documents of the section.")
    )

    class Meta:
        model = FileSection
        fields = [
            "section", "vehicle_file", "vehicle_file_number", "vin", "plate", "owner_name",
            "kind", "record_number", "period_on", "complete", "document_count",
        ]  # fmt: skip
        read_only_fields = fields

    def get_record_number(self, section: FileSection) -> str:
        return record_number(section)


class SubmissionBatchDetailSerializer(SubmissionBatchSerializer):
    sections = BatchRowSerializer(source="rows", many=True, read_only=True)

    class Meta(SubmissionBatchSerializer.Meta):
        fields = [*SubmissionBatchSerializer.Meta.fields, "sections"]
        read_only_fields = fields


class BatchReceiveSerializer(serializers.Serializer):
    handed_over_by = StaffField(
        help_text=gettext_lazy("Who brought the files: a colleague of the batch's branch.")
    )


# --- Serializers: oversight ---------------------------------------------------------------


class NonconformitySerializer(serializers.ModelSerializer):
    """不合格档案记录: a document returned with the reason and the person responsible, due
    back fixed within 24 hours."""

    document_kind = serializers.ChoiceField(
        source="document.kind", choices=DocumentKind.choices, read_only=True
    )
    vehicle_file = serializers.IntegerField(
        source="document.section.vehicle_file_id", read_only=True
    )
    vehicle_file_number = serializers.CharField(
        source="document.section.vehicle_file.number", read_only=True
    )

    class Meta:
        model = Nonconformity
        fields = [
            "id", "branch", "document", "document_kind", "vehicle_file", "vehicle_file_number",
            "reason", "responsible", "returned_by", "returned_at", "due_by", "resubmitted",
            "resubmitted_at", "resolved_at",
        ]  # fmt: skip
        read_only_fields = fields


class PenaltyPointSerializer(serializers.ModelSerializer):
    person_name = serializers.SerializerMethodField()

    class Meta:
        model = PenaltyPoint
        fields = [
            "id", "branch", "person", "person_name", "nonconformity", "reason", "points",
            "given_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_person_name(self, point: PenaltyPoint) -> str:
        return display_name(point.person)


class MissingArchiveReportSerializer(serializers.ModelSerializer):
    """缺档报告: a delivery or work order whose papers were not in by their due time; due
    within 2 days, resolved when the papers are in or the section is exempted."""

    number = serializers.CharField(read_only=True)
    vehicle_file = serializers.IntegerField(source="section.vehicle_file_id", read_only=True)
    vehicle_file_number = serializers.CharField(
        source="section.vehicle_file.number", read_only=True
    )
    kind = serializers.ChoiceField(
        source="section.kind", choices=SectionKind.choices, read_only=True
    )
    record_number = serializers.SerializerMethodField()

    class Meta:
        model = MissingArchiveReport
        fields = [
            "id", "number", "branch", "section", "vehicle_file", "vehicle_file_number", "kind",
            "record_number", "opened_at", "due_by", "overdue_flagged_at", "resolved_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_record_number(self, report: MissingArchiveReport) -> str:
        return record_number(report.section)


class ExemptionSerializer(serializers.ModelSerializer):
    """Why a section's papers are not expected yet; `granted_by` is null when reconciliation
    granted it (a claim in progress)."""

    vehicle_file = serializers.IntegerField(source="section.vehicle_file_id", read_only=True)
    vehicle_file_number = serializers.CharField(
        source="section.vehicle_file.number", read_only=True
    )

    class Meta:
        model = Exemption
        fields = [
            "id", "section", "vehicle_file", "vehicle_file_number", "reason", "note",
            "granted_by", "granted_at", "ends_on",
        ]  # fmt: skip
        read_only_fields = fields


class ReconciliationSerializer(serializers.ModelSerializer):
    """A day's comparison of a branch's archive with its deliveries and work orders."""

    class Meta:
        model = Reconciliation
        fields = [
            "id", "branch", "day", "deliveries", "sales_sections", "work_orders",
            "service_sections", "sections_opened", "not_invoiced", "in_repair", "exempt",
            "reports_opened", "reports_open", "run_at",
        ]  # fmt: skip
        read_only_fields = fields


class ReconciliationRunSerializer(serializers.Serializer):
    branch = BranchField(
        required=False, help_text=gettext_lazy("One branch; each of yours if left out.")
    )


# --- Viewsets: the bases ----------------------------------------------------------------------


class ArchiveListViewSet(
    CommandMixin, BranchScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """A branch-scoped archive list, growing without bound (cursor pagination, newest first),
    changed only by its commands (POST)."""

    http_method_names = ["get", "post", "head", "options"]
    pagination_class = CursorPagination
    ordering_fields = ["id"]

    def reload(self, instance):
        return self.get_queryset().get(pk=instance.pk)


class ArchiveViewSet(mixins.RetrieveModelMixin, ArchiveListViewSet):
    """An archive list whose records also have a detail."""


# --- Viewsets: files, sections, scans ---------------------------------------------------------


class VehicleFileViewSet(ArchiveViewSet):
    """一车一档 of your branches, newest first. `?search=` finds a file number (VF00012), the
    end of a VIN, a plate or the owner's name; `?incomplete=true` files with a section not
    complete. The detail lists the sections with their current documents and findings."""

    queryset = VehicleFile.objects.select_related("vehicle__owner")
    serializer_class = VehicleFileDetailSerializer
    filterset_class = VehicleFileFilter
    ordering_fields = ["id", "retain_until"]
    command_permissions = {
        "disposal_request": ["archives.request_disposal"],
        "disposal_approve": ["archives.approve_disposal"],
    }

    def get_serializer_class(self):
        if self.action == "list":
            return VehicleFileSerializer
        return super().get_serializer_class()

    def reload(self, instance):
        vehicle_file = super().reload(instance)
        vehicle_file.file_sections = selectors.file_sections(vehicle_file)
        return vehicle_file

    def retrieve(self, request, *args, **kwargs):
        return self.respond(self.get_object())

    @idempotent
    @extend_schema(request=None, responses=answers(VehicleFileDetailSerializer))
    @action(detail=True, methods=["post"], url_path="disposal-request")
    def disposal_request(self, request, pk=None):
        """Put a sealed file forward for disposal; the branch's managers are told (needs
        `archives.request_disposal`). 409 `file_not_sealed`, `disposal_already_requested`."""
        vehicle_file = self.get_object()
        return self.respond(services.disposal_request(vehicle_file=vehicle_file, by=request.user))

    @idempotent
    @extend_schema(request=None, responses=answers(VehicleFileDetailSerializer))
    @action(detail=True, methods=["post"], url_path="disposal-approve")
    def disposal_approve(self, request, pk=None):
        """Approve a requested disposal: the scans are destroyed and the file keeps the list
        of what was (needs `archives.approve_disposal`; never your own request).
        400 `own_request`; 409 `disposal_not_requested`."""
        vehicle_file = self.get_object()
        return self.respond(services.disposal_approve(vehicle_file=vehicle_file, by=request.user))


class FileSectionViewSet(ArchiveViewSet):
    """The sections of your branches' files, newest first; `?due=true` for those past their
    due time and not complete. The detail lists the current documents."""

    queryset = FileSection.objects.select_related(
        "vehicle_file", "delivery__order", "work_order", "batch", "exemption", "missing_report"
    )
    serializer_class = FileSectionDetailSerializer
    filterset_class = FileSectionFilter
    ordering_fields = ["id", "due_at"]
    command_permissions = {
        "documents": ["archives.add_archivedocument"],
        "check": ["archives.view_filesection"],
        "exempt": ["archives.add_exemption"],
    }

    def get_serializer_class(self):
        if self.action == "list":
            return FileSectionSerializer
        return super().get_serializer_class()

    def reload(self, instance):
        section = super().reload(instance)
        shown = selectors.file_sections(section.vehicle_file)
        return next(each for each in shown if each.pk == section.pk)

    def retrieve(self, request, *args, **kwargs):
        return self.respond(self.get_object())

    @idempotent
    @extend_schema(
        request={"multipart/form-data": DocumentUploadSerializer},
        responses=answers(ArchiveDocumentSerializer, status.HTTP_201_CREATED),
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def documents(self, request, pk=None):
        """File a scan (multipart): PDF, JPEG or PNG told by its content, at most 10 MB, its
        name without a path and matching its type; stored with its SHA-256. It replaces the
        current scan of its type; the section's checks run at once (needs
        `archives.add_archivedocument`). 400 `document_not_expected`, `file_name_invalid`,
        `file_too_large`, `file_empty`, `file_type_not_allowed`, `file_type_mismatch`,
        `document_fact_required`; 409 `file_sealed`."""
        section = self.get_object()
        data = self.parse(DocumentUploadSerializer)
        document = services.document_upload(
            section=section,
            kind=data.pop("kind"),
            upload=data.pop("file"),
            by=request.user,
            data=data,
        )
        serializer = ArchiveDocumentSerializer(document, context=self.get_serializer_context())
        return Response(serializer.data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=FileSectionDetailSerializer)
    @action(detail=True, methods=["post"])
    def check(self, request, pk=None):
        """Run the section's checks again; anyone who reads the section may."""
        return self.respond(services.section_check(section=self.get_object()))

    @extend_schema(request=ExemptSerializer, responses=answers(FileSectionDetailSerializer))
    @action(detail=True, methods=["post"])
    def exempt(self, request, pk=None):
        """Excuse the section's papers until a day, saying why; its open missing report is
        resolved (needs `archives.add_exemption`). 400 `note_required`,
        `exemption_in_the_past`; 409 `file_sealed`."""
        section = self.get_object()
        data = self.parse(ExemptSerializer)
        services.exemption_grant(section=section, by=request.user, **data)
        return self.respond(section)


class ArchiveDocumentViewSet(ArchiveViewSet):
    """The scans of your branches' files, newest first; `?status=received` is the audit
    queue."""

    queryset = ArchiveDocument.objects.select_related("section__vehicle_file", "nonconformity")
    serializer_class = ArchiveDocumentSerializer
    filterset_class = ArchiveDocumentFilter
    ordering_fields = ["id", "uploaded_at"]
    command_permissions = {"audit": ["archives.audit_archivedocument"]}

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            404: OpenApiResponse(
                description=gettext_lazy(
                    "Not one of your branches' scans, or `document_destroyed` with its file's "
                    "disposal."
                )
            ),
        }
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def download(self, request, pk=None):
        """The scan itself, as an attachment under its original name and with its sniffed
        type; a scan leaves only through here, after the branch check.
        404 `document_destroyed` once its file was disposed of."""
        document = self.get_object()
        if document.section.vehicle_file.status == FileStatus.DISPOSED:
            raise NotFound(
                _("The scan was destroyed when its file was disposed of."), "document_destroyed"
            )
        response = FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=document.original_name,
            content_type=document.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @idempotent
    @extend_schema(request=DocumentAuditSerializer, responses=answers(ArchiveDocumentSerializer))
    @action(detail=True, methods=["post"])
    def audit(self, request, pk=None):
        """Review the scan (needs `archives.audit_archivedocument`). Conforming, it counts
        toward its section's completeness; nonconforming, it is returned with a record, the
        reason and the person responsible, who gets a penalty point and 24 hours to send it
        back fixed. 400 `reason_required`, `responsible_other_branch`;
        409 `document_not_awaiting_audit`, `file_sealed`."""
        document = self.get_object()
        data = self.parse(DocumentAuditSerializer)
        audited = services.document_audit(
            document=document,
            conforming=data["conforming"],
            by=request.user,
            reason=data["reason"],
            responsible=data.get("responsible"),
        )
        return self.respond(audited)


# --- Viewsets: batches --------------------------------------------------------------------------


class SubmissionBatchViewSet(ArchiveViewSet):
    """Submission batches (档案交接表) of your branches, newest first; `?status=expected` is
    what the archive is still to receive. The detail is the handover form: a row per file."""

    queryset = SubmissionBatch.objects.all()
    serializer_class = SubmissionBatchDetailSerializer
    filterset_class = SubmissionBatchFilter
    ordering_fields = ["id", "due_at"]
    command_permissions = {"receive": ["archives.change_submissionbatch"]}

    def get_serializer_class(self):
        if self.action == "list":
            return SubmissionBatchSerializer
        return super().get_serializer_class()

    def reload(self, instance):
        batch = super().reload(instance)
        batch.rows = selectors.batch_sections(batch)
        return batch

    def retrieve(self, request, *args, **kwargs):
        return self.respond(self.get_object())

    @idempotent
    @extend_schema(
        request=BatchReceiveSerializer, responses=answers(SubmissionBatchDetailSerializer)
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        """The archive takes the batch over: the handover form records who brought it, who
        received it and when, and counts its files and documents (needs
        `archives.change_submissionbatch`). 400 `handed_over_by_other_branch`;
        409 `batch_already_received`."""
        batch = self.get_object()
        data = self.parse(BatchReceiveSerializer)
        return self.respond(services.batch_receive(batch=batch, by=request.user, **data))


# --- Viewsets: oversight ----------------------------------------------------------------------


class NonconformityViewSet(ArchiveViewSet):
    """不合格档案记录 of your branches, newest first; `?open=true`, `?overdue=true` for those
    not sent back within their 24 hours. Made by `archive-documents/{id}/audit/`."""

    queryset = Nonconformity.objects.select_related("document__section__vehicle_file")
    serializer_class = NonconformitySerializer
    filterset_class = NonconformityFilter
    ordering_fields = ["id", "due_by"]


class PenaltyPointViewSet(ArchiveListViewSet):
    """Penalty points of your branches' people, newest first (needs
    `archives.view_penaltypoint`: the archivist and managers)."""

    queryset = PenaltyPoint.objects.select_related("person")
    serializer_class = PenaltyPointSerializer
    filterset_class = PenaltyPointFilter


class MissingArchiveReportViewSet(ArchiveViewSet):
    """缺档报告 of your branches, newest first; `?open=true`, `?overdue=true` for those past
    their 2 days. Opened by reconciliation."""

    queryset = MissingArchiveReport.objects.select_related(
        "section__vehicle_file", "section__delivery__order", "section__work_order"
    )
    serializer_class = MissingArchiveReportSerializer
    filterset_class = MissingArchiveReportFilter
    ordering_fields = ["id", "due_by"]


class ExemptionViewSet(ArchiveListViewSet):
    """Exemptions of your branches' sections, newest first; granted by
    `file-sections/{id}/exempt/` or by reconciliation for a claim in progress."""

    queryset = Exemption.objects.select_related("section__vehicle_file")
    serializer_class = ExemptionSerializer
    filterset_class = ExemptionFilter
    ordering_fields = ["id", "ends_on"]


class ReconciliationViewSet(ArchiveListViewSet):
    """Reconciliation runs of your branches, newest first: a day's counts per branch."""

    queryset = Reconciliation.objects.all()
    serializer_class = ReconciliationSerializer
    filterset_class = ReconciliationFilter
    command_permissions = {"run": ["archives.add_reconciliation"]}

    @idempotent
    @extend_schema(
        request=ReconciliationRunSerializer,
        responses=answers(ReconciliationSerializer(many=True), conflict=False),
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def run(self, request):
        """Reconcile now, one branch or each of yours: every delivery and closed work order
        gets its section, a section whose papers are late and not exempt opens a missing
        report due in 2 days; the day's counts replace any earlier run of the day (needs
        `archives.add_reconciliation`)."""
        data = self.parse(ReconciliationRunSerializer)
        branches = (
            [data["branch"]]
            if "branch" in data
            else Branch.objects.filter(pk__in=branch_ids_for(request.user)).order_by("code")
        )
        runs = [services.reconcile(branch=branch) for branch in branches]
        return Response(
            ReconciliationSerializer(runs, many=True, context=self.get_serializer_context()).data
        )


class MayDispose(BasePermission):
    """Those who put files forward for disposal or approve it: the archivist and managers."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and (
                user.has_perm("archives.request_disposal")
                or user.has_perm("archives.approve_disposal")
            )
        )


class RetentionView(generics.ListAPIView):
    """The disposal list: your branches' sealed files whose retention has ended, oldest first
    (for those who request or approve disposal)."""

    permission_classes = [MayDispose]
    serializer_class = VehicleFileSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.due_for_disposal(branch_ids=branch_ids_for(self.request.user))


# --- Figures ----------------------------------------------------------------------------------

RATIO = {"max_digits": 8, "decimal_places": 3, "allow_null": True}


class PersonPointsSerializer(serializers.Serializer):
    person = serializers.IntegerField()
    name = serializers.SerializerMethodField()
    points = serializers.IntegerField()
    nonconforming = serializers.IntegerField()
    late = serializers.IntegerField()
    unchanged = serializers.IntegerField()

    def get_name(self, row: dict) -> str:
        return display_name(
            User(
                username=row["person__username"],
                first_name=row["person__first_name"],
                last_name=row["person__last_name"],
            )
        )

    def to_representation(self, row):
        data = super().to_representation(row)
        for reason in ("nonconforming", "late", "unchanged"):
            data[reason] = data[reason] or 0
        return data


class ArchiveFiguresSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    sections_due = serializers.IntegerField(
        help_text=gettext_lazy(
            "Sections of the period's deliveries and work orders that are due or complete."
        )
    )
    sections_complete = serializers.IntegerField(help_text=gettext_lazy("Of them, complete now."))
    completeness = serializers.DecimalField(
        **RATIO,
        help_text=gettext_lazy("Complete / those sections (0–1); null when there are none."),
    )
    goal = serializers.DecimalField(max_digits=4, decimal_places=2)
    meets_goal = serializers.BooleanField()
    nonconforming = serializers.IntegerField(
        help_text=gettext_lazy("Documents returned in the period.")
    )
    missing_open = serializers.IntegerField(help_text=gettext_lazy("Missing reports open now."))
    missing_overdue = serializers.IntegerField(
        help_text=gettext_lazy("Of them, past their 2 days.")
    )
    points = PersonPointsSerializer(
        many=True, help_text=gettext_lazy("Penalty points given in the period, per person.")
    )


class ArchiveFiguresView(APIView):
    """档案指标: completeness against the 99% goal, nonconforming documents, open and overdue
    missing reports and penalty points per person, for a period over one of your branches or
    all of them (needs `archives.view_penaltypoint`: the figures name people)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[PeriodQuerySerializer],
        responses={200: ArchiveFiguresSerializer, 400: REFUSED},
    )
    def get(self, request):
        if not request.user.has_perm("archives.view_penaltypoint"):
            raise PermissionDenied()
        query = PeriodQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        branch = data.get("branch")
        figures = selectors.archive_figures(
            branch_ids=[branch.pk] if branch else branch_ids_for(request.user),
            start=data["start"],
            end=data["end"],
        )
        return Response(
            ArchiveFiguresSerializer({**figures, "start": data["start"], "end": data["end"]}).data
        )
