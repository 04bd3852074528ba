"""REST resources of customer care (客户关怀): follow-up calls (回访) with each attempt at them,
complaints (投诉) from receipt to the customer's confirmation, inquiries and suggestions (咨询,
建议), the customer segments and their recompute, the after-sales report, the record of the
scheduled jobs' runs, the satisfaction index (层次分析法): its models, the call surveys and
the index of a period, the reminders and messages, campaigns (关怀活动) with their offers and
the offers' redemption, and the loyalty points (积分): accounts, statements and rules.

Each endpoint parses its input, calls one service and renders the result; the rules live in
`customers.care.services`. Records are read through the branch scope, and every id a request
names is looked up in the caller's branches, so another branch's record "does not exist". The
customer's mobile on a call is masked without `customers.view_pii`, and unmasked views are
logged.
"""

from decimal import Decimal

from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.api import (
    BranchStaffField,
    ScopedCustomerField,
    ScopedVehicleField,
    SegmentSerializer,
)
from dealer_crm.api import (
    REFUSED,
    BranchField,
    BranchScopedMixin,
    CommandMixin,
    PeriodQuerySerializer,
    PiiLoggedViewSetMixin,
    PiiMaskedSerializerMixin,
    ScopedRecordField,
    answers,
)
from dealer_crm.figures import ratio
from dealer_crm.filters import number_pk
from dealer_crm.idempotency import idempotent
from dealer_crm.models import Branch, JobRun, display_name
from dealer_crm.pagination import CursorPagination
from dealer_crm.pii import mask_phone
from dealer_crm.scoping import branch_ids_for
from service.models import WorkOrder

from . import selectors, services
from .choices import (
    CallOutcome,
    ComplaintCategory,
    ComplaintChannel,
    InquiryKind,
    MessageStatus,
    OfferKind,
    ReminderKind,
    Severity,
    TargetSegment,
)
from .filters import (
    CallFilter,
    CampaignFilter,
    ComplaintFilter,
    CustomerSegmentFilter,
    InquiryFilter,
    LoyaltyAccountFilter,
    MessageFilter,
    OfferFilter,
    ReminderFilter,
)
from .models import (
    CallAttempt,
    Campaign,
    ComparisonMatrix,
    Complaint,
    Criterion,
    CustomerSegment,
    FollowUpCall,
    Inquiry,
    LoyaltyAccount,
    LoyaltyRule,
    Message,
    Offer,
    PointsEntry,
    Reminder,
    SatisfactionModel,
    SurveyAnswer,
)


def text_field(max_length: int, **kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length, required=False, allow_blank=True, default="", **kwargs
    )


# --- Fields naming other records ----------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class StaffField(BranchStaffField):
    """A user id: a colleague of one of your branches."""


class ScopedWorkOrderField(ScopedRecordField):
    model = WorkOrder


# --- Serializers: follow-up calls -----------------------------------------------------------


class CallAttemptSerializer(serializers.ModelSerializer):
    by_name = serializers.SerializerMethodField()

    class Meta:
        model = CallAttempt
        fields = ["id", "outcome", "note", "by", "by_name", "at"]
        read_only_fields = fields

    def get_by_name(self, attempt: CallAttempt) -> str:
        return display_name(attempt.by)


class FollowUpCallSerializer(PiiMaskedSerializerMixin, serializers.ModelSerializer):
    """回访: a call due to a person on a day for one reason (day 1, 7 or 30 after a delivery,
    a service visit, a closed complaint), with its source record. Not reached, it is due again
    the next day, up to three attempts; reached, it is done with the customer's score (1–5).
    The customer's mobile is masked without `customers.view_pii`."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    customer_mobile = serializers.CharField(source="customer.mobile", read_only=True)
    plate = serializers.CharField(
        source="vehicle.plate", read_only=True, default=None, allow_null=True
    )
    assigned_to_name = serializers.SerializerMethodField()

    class Meta:
        model = FollowUpCall
        fields = [
            "id", "branch", "customer", "customer_name", "customer_mobile", "vehicle", "plate",
            "reason", "delivery", "work_order", "complaint", "due_on", "assigned_to",
            "assigned_to_name", "status", "attempts", "score", "note", "raised_complaint",
            "completed_by", "completed_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields
        pii_fields = {"customer_mobile": mask_phone}

    def get_assigned_to_name(self, call: FollowUpCall) -> str:
        return display_name(call.assigned_to)


class FollowUpCallDetailSerializer(FollowUpCallSerializer):
    """The call with each attempt at it, oldest first (`attempts` is how many)."""

    tries = CallAttemptSerializer(many=True, read_only=True)

    class Meta(FollowUpCallSerializer.Meta):
        fields = [*FollowUpCallSerializer.Meta.fields, "tries"]
        read_only_fields = fields


class IssueSerializer(serializers.Serializer):
    """What the customer complained of on the call: it opens a complaint (channel: follow-up
    call)."""

    category = serializers.ChoiceField(choices=ComplaintCategory.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    description = serializers.CharField(max_length=2000)


class CallAttemptInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=CallOutcome.choices)
    score = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("Satisfaction from 1 to 5; required when the customer was reached."),
    )
    note = text_field(1000, help_text=gettext_lazy("What the customer said."))
    issue = IssueSerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("An issue the customer raised (only when reached)."),
    )


class CallReassignSerializer(serializers.Serializer):
    to = StaffField(help_text=gettext_lazy("A colleague of the call's branch."))


# --- Serializers: complaints ----------------------------------------------------------------


class ComplaintSerializer(serializers.ModelSerializer):
    """投诉: channel, category and severity; the owner; the respond-by and resolve-by deadlines
    its severity sets; the first response, the resolution (by a manager) and the customer's
    confirmation; escalated one level each time a deadline passes. Status: open → responded
    → resolved → closed."""

    number = serializers.CharField(read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    plate = serializers.CharField(
        source="vehicle.plate", read_only=True, default=None, allow_null=True
    )
    owner_name = serializers.SerializerMethodField()

    class Meta:
        model = Complaint
        fields = [
            "id", "number", "branch", "customer", "customer_name", "vehicle", "plate",
            "work_order", "channel", "category", "severity", "description", "owner",
            "owner_name", "status", "received_at", "respond_by", "resolve_by", "responded_at",
            "response", "resolution", "resolved_by", "resolved_at", "confirmed_at",
            "confirmation_note", "escalation_level", "escalated_at", "created_by",
        ]  # fmt: skip
        read_only_fields = fields

    def get_owner_name(self, complaint: Complaint) -> str:
        return display_name(complaint.owner)


class ComplaintCreateSerializer(serializers.Serializer):
    branch = BranchField(required=False, help_text=gettext_lazy("Defaults to your branch."))
    customer = ScopedCustomerField()
    vehicle = ScopedVehicleField(required=False, allow_null=True)
    work_order = ScopedWorkOrderField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("The work order complained of, if any."),
    )
    channel = serializers.ChoiceField(choices=ComplaintChannel.choices)
    category = serializers.ChoiceField(choices=ComplaintCategory.choices)
    severity = serializers.ChoiceField(
        choices=Severity.choices,
        help_text=gettext_lazy("Sets the respond-by and resolve-by deadlines."),
    )
    description = serializers.CharField(max_length=2000)
    owner = StaffField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Who handles it, a colleague of the branch; you by default."),
    )


class ComplaintRespondSerializer(serializers.Serializer):
    response = serializers.CharField(
        max_length=1000, allow_blank=True, help_text=gettext_lazy("What was told to the customer.")
    )


class ComplaintResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(
        max_length=2000, allow_blank=True, help_text=gettext_lazy("How it was resolved.")
    )


class ComplaintConfirmSerializer(serializers.Serializer):
    note = text_field(300, help_text=gettext_lazy("The customer's words."))


# --- Serializers: inquiries and suggestions -------------------------------------------------


class InquirySerializer(serializers.ModelSerializer):
    """咨询 or 建议: what the customer asked or proposed, the answer, who answered and when."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Inquiry
        fields = [
            "id", "branch", "customer", "customer_name", "kind", "channel", "subject",
            "received_at", "recorded_by", "answer", "answered_by", "answered_at",
        ]  # fmt: skip
        read_only_fields = fields


class InquiryCreateSerializer(serializers.Serializer):
    branch = BranchField(required=False, help_text=gettext_lazy("Defaults to your branch."))
    customer = ScopedCustomerField()
    kind = serializers.ChoiceField(choices=InquiryKind.choices)
    channel = serializers.ChoiceField(choices=ComplaintChannel.choices)
    subject = serializers.CharField(max_length=1000)
    answer = text_field(2000, help_text=gettext_lazy("Given at once, it is answered by you now."))


class InquiryAnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=2000, allow_blank=True)


# --- Serializers: segments, report, job runs ------------------------------------------------


class CustomerSegmentSerializer(SegmentSerializer):
    """A customer's segments as of the last run: lifecycle, key customer (重点客户, the top
    20% of the branch by 12 months' revenue), the abnormal reasons to reach out (异常客户) and
    the age segment of the newest vehicle."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    branch = serializers.IntegerField(source="customer.branch_id", read_only=True)

    class Meta(SegmentSerializer.Meta):
        fields = [
            "id", "customer", "customer_name", "branch", *SegmentSerializer.Meta.fields,
            "revenue_12m", "last_visit_on",
        ]  # fmt: skip
        read_only_fields = fields


class SegmentsRecomputeSerializer(serializers.Serializer):
    branch = BranchField(
        required=False, help_text=gettext_lazy("One branch; each of yours if left out.")
    )


class SegmentsComputedSerializer(serializers.Serializer):
    branch = serializers.IntegerField()
    customers = serializers.IntegerField(help_text=gettext_lazy("Customers computed."))


class AppointmentCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    checked_in = serializers.IntegerField()
    no_show = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class AnsweredCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    answered = serializers.IntegerField()


class ComplaintCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    responded_in_time = serializers.IntegerField()
    resolved = serializers.IntegerField(help_text=gettext_lazy("Resolved or closed."))
    closed = serializers.IntegerField(help_text=gettext_lazy("Confirmed by the customer."))
    escalated = serializers.IntegerField()


class CallResultsSerializer(serializers.Serializer):
    due = serializers.IntegerField(help_text=gettext_lazy("Calls due in the period."))
    done = serializers.IntegerField()
    unreachable = serializers.IntegerField()
    open = serializers.IntegerField(help_text=gettext_lazy("Still to make."))
    score = serializers.FloatField(
        allow_null=True, help_text=gettext_lazy("Average satisfaction of those done (1–5).")
    )
    completion = serializers.DecimalField(
        max_digits=8,
        decimal_places=3,
        allow_null=True,
        help_text=gettext_lazy("Done / due (0–1); null when none was due."),
    )


class AfterSalesReportSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    appointments = AppointmentCountsSerializer()
    inquiries = AnsweredCountsSerializer()
    suggestions = AnsweredCountsSerializer()
    rescues = serializers.DictField(
        child=serializers.IntegerField(), help_text=gettext_lazy("Rescues per status.")
    )
    insurance_claims = serializers.DictField(
        child=serializers.IntegerField(), help_text=gettext_lazy("Insurance claims per status.")
    )
    complaints = ComplaintCountsSerializer()
    calls = CallResultsSerializer()


class JobRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobRun
        fields = ["id", "job", "status", "started_at", "finished_at", "rows", "error"]
        read_only_fields = fields


# --- Viewsets: the bases --------------------------------------------------------------------


class CareViewSet(
    CommandMixin, BranchScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    """Care records are read, made and changed by commands (POST: `create` where a resource
    has one), never edited or deleted; after a command the record is read back as the detail
    shows it."""

    http_method_names = ["get", "post", "head", "options"]

    def reload(self, instance):
        return self.get_queryset().get(pk=instance.pk)


# --- Viewsets: follow-up calls --------------------------------------------------------------


class FollowUpCallViewSet(PiiLoggedViewSetMixin, CareViewSet):
    """回访 of your branches, newest first (cursor pagination): `?status=due&due_on_before=`
    is the queue, `?mine=true` your own calls. Generated by the daily job; the detail lists
    each attempt."""

    queryset = FollowUpCall.objects.select_related("customer", "vehicle", "assigned_to")
    serializer_class = FollowUpCallDetailSerializer
    filterset_class = CallFilter
    pagination_class = CursorPagination
    ordering_fields = ["id", "due_on"]
    command_permissions = {
        "attempts": ["care.change_followupcall"],
        "reassign": ["care.change_followupcall"],
    }
    pii_logged_actions = ("list", "retrieve", "attempts", "reassign")

    def pii_customer_id(self, call: FollowUpCall) -> int:
        return call.customer_id

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            return queryset
        return queryset.prefetch_related(
            Prefetch("tries", queryset=CallAttempt.objects.select_related("by"))
        )

    def get_serializer_class(self):
        if self.action == "list":
            return FollowUpCallSerializer
        return super().get_serializer_class()

    @idempotent
    @extend_schema(
        request=CallAttemptInputSerializer, responses=answers(FollowUpCallDetailSerializer)
    )
    @action(detail=True, methods=["post"])
    def attempts(self, request, pk=None):
        """Log a try at the call (needs `care.change_followupcall`). Reached, the call is done
        with the score and what the customer said, and an `issue` opens a complaint; not
        reached, it is due again tomorrow, and unreachable after the third try.
        400 `score_required`, `score_invalid`, `issue_needs_customer`; 409 `call_not_due`."""
        call = self.get_object()
        data = self.parse(CallAttemptInputSerializer)
        issue = data.pop("issue")
        logged = services.call_attempt_record(
            call=call, by=request.user, issue=dict(issue) if issue else None, **data
        )
        return self.respond(logged)

    @extend_schema(request=CallReassignSerializer, responses=answers(FollowUpCallDetailSerializer))
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        """Give the call to a colleague of its branch (needs `care.change_followupcall`).
        400 `assignee_other_branch`; 409 `call_not_due`."""
        call = self.get_object()
        data = self.parse(CallReassignSerializer)
        return self.respond(services.call_reassign(call=call, to=data["to"], by=request.user))


# --- Viewsets: complaints and inquiries -----------------------------------------------------


class ComplaintViewSet(CareViewSet):
    """投诉 of your branches, newest first (cursor pagination). `?search=` finds a number
    (CP00012, cp12 or 12) or a customer's name; `?overdue=true` those past a deadline and not
    answered or resolved; `?escalated=true`; `?received_at_after=&received_at_before=`;
    `?category=` and `?channel=` one or several; the filters of the complaint list."""

    queryset = Complaint.objects.select_related("customer", "vehicle", "owner")
    serializer_class = ComplaintSerializer
    filterset_class = ComplaintFilter
    pagination_class = CursorPagination
    ordering_fields = ["id", "received_at", "resolve_by"]
    command_permissions = {
        "reply": ["care.change_complaint"],
        "resolve": ["care.resolve_complaint"],
        "confirm": ["care.change_complaint"],
    }

    @idempotent
    @extend_schema(
        request=ComplaintCreateSerializer,
        responses=answers(ComplaintSerializer, status.HTTP_201_CREATED, conflict=False),
    )
    def create(self, request, *args, **kwargs):
        """Record a complaint: its deadlines follow its severity, it goes on the customer's
        timeline and the owner (you unless named) is told. 400 `owner_other_branch`,
        `customer_other_branch`."""
        data = self.parse(ComplaintCreateSerializer)
        branch = data.pop("branch", None) or self.working_branch()
        customer = data.pop("customer")
        complaint = services.complaint_create(
            branch=branch, customer=customer, by=request.user, data=data
        )
        return self.respond(complaint, status.HTTP_201_CREATED)

    # Named `reply`: `respond` is CommandMixin's rendering of every command's answer.
    @extend_schema(request=ComplaintRespondSerializer, responses=answers(ComplaintSerializer))
    @action(detail=True, methods=["post"], url_path="respond", url_name="respond")
    def reply(self, request, pk=None):
        """The first response to the customer (needs `care.change_complaint`).
        400 `response_required`; 409 `complaint_not_open`."""
        complaint = self.get_object()
        data = self.parse(ComplaintRespondSerializer)
        return self.respond(
            services.complaint_respond(complaint=complaint, by=request.user, **data)
        )

    @idempotent
    @extend_schema(request=ComplaintResolveSerializer, responses=answers(ComplaintSerializer))
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """Record how the complaint was resolved; the customer confirms it next (needs
        `care.resolve_complaint`: a manager). 400 `resolution_required`;
        409 `complaint_not_open`."""
        complaint = self.get_object()
        data = self.parse(ComplaintResolveSerializer)
        return self.respond(
            services.complaint_resolve(complaint=complaint, by=request.user, **data)
        )

    @idempotent
    @extend_schema(request=ComplaintConfirmSerializer, responses=answers(ComplaintSerializer))
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """The customer confirms the resolution: the complaint is closed and a follow-up call
        comes three days later (needs `care.change_complaint`). 409 `complaint_not_resolved`."""
        complaint = self.get_object()
        data = self.parse(ComplaintConfirmSerializer)
        return self.respond(
            services.complaint_confirm(complaint=complaint, by=request.user, **data)
        )


class InquiryViewSet(CareViewSet):
    """咨询 and 建议 of your branches, newest first (cursor pagination): `?kind=`,
    `?answered=false`, `?received_at_after=&received_at_before=`, `?search=` part of the
    customer's name or of what they asked or proposed."""

    queryset = Inquiry.objects.select_related("customer")
    serializer_class = InquirySerializer
    filterset_class = InquiryFilter
    pagination_class = CursorPagination
    ordering_fields = ["id", "received_at"]
    command_permissions = {"answer": ["care.change_inquiry"]}

    @idempotent
    @extend_schema(
        request=InquiryCreateSerializer,
        responses=answers(InquirySerializer, status.HTTP_201_CREATED, conflict=False),
    )
    def create(self, request, *args, **kwargs):
        """Log what a customer asked or proposed; with `answer` it is answered by you at once.
        It goes on the customer's timeline."""
        data = self.parse(InquiryCreateSerializer)
        branch = data.pop("branch", None) or self.working_branch()
        customer = data.pop("customer")
        inquiry = services.inquiry_record(
            branch=branch, customer=customer, by=request.user, data=data
        )
        return self.respond(inquiry, status.HTTP_201_CREATED)

    @extend_schema(request=InquiryAnswerSerializer, responses=answers(InquirySerializer))
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """Answer it (needs `care.change_inquiry`). 400 `answer_required`;
        409 `inquiry_answered`."""
        inquiry = self.get_object()
        data = self.parse(InquiryAnswerSerializer)
        return self.respond(services.inquiry_answer(inquiry=inquiry, by=request.user, **data))


# --- Viewsets: segments, report, job runs ---------------------------------------------------


class CustomerSegmentViewSet(
    CommandMixin, BranchScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """The segments of your branches' customers as of the last nightly run (cursor
    pagination): `?lifecycle=`, `?key_customer=true`, `?abnormal=repair_only`,
    `?vehicle_age=`."""

    queryset = CustomerSegment.objects.select_related("customer")
    serializer_class = CustomerSegmentSerializer
    filterset_class = CustomerSegmentFilter
    pagination_class = CursorPagination
    ordering_fields = ["id"]
    http_method_names = ["get", "post", "head", "options"]
    command_permissions = {"recompute": ["care.change_customersegment"]}

    @extend_schema(
        request=SegmentsRecomputeSerializer,
        responses=answers(SegmentsComputedSerializer(many=True), conflict=False),
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def recompute(self, request):
        """Recompute the segments now, of one branch or each of yours, without waiting for the
        night (needs `care.change_customersegment`); each customer's row is replaced."""
        data = self.parse(SegmentsRecomputeSerializer)
        branches = (
            [data["branch"]]
            if "branch" in data
            else Branch.objects.filter(pk__in=branch_ids_for(request.user)).order_by("code")
        )
        computed = [
            {"branch": branch.pk, "customers": services.segments_compute(branch=branch)}
            for branch in branches
        ]
        return Response(SegmentsComputedSerializer(computed, many=True).data)


class CareReportView(APIView):
    """The after-sales report (售后综合报表) of a period over one of your branches or all of
    them: appointments, inquiries, rescues, insurance claims, suggestions, complaints and
    follow-up results, each with how it was handled (needs `care.view_followupcall`)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[PeriodQuerySerializer],
        responses={200: AfterSalesReportSerializer, 400: REFUSED},
    )
    def get(self, request):
        if not request.user.has_perm("care.view_followupcall"):
            raise PermissionDenied()
        query = PeriodQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        branch = data.get("branch")
        report = selectors.after_sales_report(
            branch_ids=[branch.pk] if branch else branch_ids_for(request.user),
            start=data["start"],
            end=data["end"],
        )
        return Response(
            AfterSalesReportSerializer({**report, "start": data["start"], "end": data["end"]}).data
        )


class JobRunViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The runs of every scheduled job, newest first (cursor pagination): when each started
    and finished, the rows it made or changed, the error of a failed one; `?job=`,
    `?status=failed` (needs `dealer_crm.view_jobrun`: managers)."""

    queryset = JobRun.objects.all()
    serializer_class = JobRunSerializer
    filterset_fields = ["job", "status"]
    pagination_class = CursorPagination
    ordering_fields = ["id"]


# --- Satisfaction index (层次分析法) ----------------------------------------------------------


class ScopedCallField(ScopedRecordField):
    model = FollowUpCall


class ScopedCriterionField(ScopedRecordField):
    model = Criterion


@extend_schema_field({"oneOf": [{"type": "number"}, {"type": "string", "example": "1/3"}]})
class JudgementField(serializers.Field):
    """A judgement on Saaty's scale, 1/9 to 9: a number, or a fraction as text ("1/3")."""

    default_error_messages = {"invalid": gettext_lazy("Enter a number such as 3, 0.5 or 1/3.")}

    def to_internal_value(self, data) -> float:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return float(data)
        value = services.saaty_number(data) if isinstance(data, str) else None
        if value is None:
            self.fail("invalid")
        return value

    def to_representation(self, value):
        return value


class CriterionSerializer(serializers.ModelSerializer):
    """A criterion (`parent` empty) or a sub-criterion, in its siblings' order, with its
    weights: `local_weight` among its siblings, `global_weight` the product down the tree
    (null until its siblings are compared). Survey answers score the leaves."""

    local_weight = serializers.FloatField(read_only=True, allow_null=True)
    global_weight = serializers.FloatField(read_only=True, allow_null=True)
    leaf = serializers.BooleanField(read_only=True)

    class Meta:
        model = Criterion
        fields = ["id", "parent", "name", "position", "local_weight", "global_weight", "leaf"]
        read_only_fields = fields


class ComparisonMatrixSerializer(serializers.ModelSerializer):
    """The pairwise comparisons of the criteria under `parent` (the top level when null),
    rows and columns in their order, with the weights of the principal eigenvector, λmax, CI
    and CR (always under 0.1: a less consistent matrix is refused)."""

    values = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()), read_only=True
    )
    weights = serializers.ListField(child=serializers.FloatField(), read_only=True)

    class Meta:
        model = ComparisonMatrix
        fields = [
            "id", "parent", "values", "weights", "lambda_max", "ci", "cr", "entered_by",
            "entered_at",
        ]  # fmt: skip
        read_only_fields = fields


class SatisfactionModelSerializer(serializers.ModelSerializer):
    """满意度模型: a branch's criteria and sub-criteria of satisfaction with their comparison
    matrices and weights. The active one (one per branch) is the one surveys answer; once
    activated its criteria are fixed."""

    criteria = serializers.SerializerMethodField()
    matrices = ComparisonMatrixSerializer(many=True, read_only=True)

    class Meta:
        model = SatisfactionModel
        fields = [
            "id", "branch", "name", "active", "activated_at", "created_by", "created_at",
            "criteria", "matrices",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(CriterionSerializer(many=True))
    def get_criteria(self, model: SatisfactionModel) -> list:
        criteria = list(model.criteria.all())
        weights = services.criterion_weights(criteria, list(model.matrices.all()))
        parents = {criterion.parent_id for criterion in criteria}
        for criterion in criteria:
            criterion.local_weight, criterion.global_weight = weights[criterion.pk]
            criterion.leaf = criterion.pk not in parents
        return CriterionSerializer(criteria, many=True).data


class SatisfactionModelCreateSerializer(serializers.Serializer):
    branch = BranchField(required=False, help_text=gettext_lazy("Defaults to your branch."))
    name = serializers.CharField(max_length=100, allow_blank=True)


class CriterionInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, allow_blank=True)
    parent = ScopedCriterionField(
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("The criterion it details; a top-level criterion when left out."),
    )


class MatrixInputSerializer(serializers.Serializer):
    parent = ScopedCriterionField(
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("Whose sub-criteria are compared; the top level when left out."),
    )
    values = serializers.ListField(
        child=serializers.ListField(child=JudgementField(), max_length=100),
        max_length=100,
        help_text=gettext_lazy(
            "The n×n comparisons, rows and columns in the criteria's order: row i, column j "
            "says how much more i matters than j (1/9 to 9), the reciprocal of row j, column i."
        ),
    )


class SurveyAnswerSerializer(serializers.ModelSerializer):
    """A customer's score (1–5) of a leaf criterion, asked on a follow-up call; it counts for
    the advisor (or consultant) who served them, on the day of the call."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    criterion_name = serializers.CharField(source="criterion.name", read_only=True)
    advisor_name = serializers.SerializerMethodField()

    class Meta:
        model = SurveyAnswer
        fields = [
            "id", "branch", "customer", "customer_name", "call", "work_order", "advisor",
            "advisor_name", "criterion", "criterion_name", "score", "answered_on",
            "recorded_by", "recorded_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_advisor_name(self, answer: SurveyAnswer) -> str:
        return display_name(answer.advisor) if answer.advisor else ""


class SurveyInputSerializer(serializers.Serializer):
    call = ScopedCallField(help_text=gettext_lazy("A call made (done)."))
    answers = serializers.DictField(
        child=serializers.IntegerField(),
        help_text=gettext_lazy(
            "{criterion id: score from 1 to 5} for leaf criteria of the branch's active model."
        ),
    )


class SatisfactionIndexQuerySerializer(PeriodQuerySerializer):
    advisor = StaffField(
        required=False, help_text=gettext_lazy("Only the customers this advisor served.")
    )


class CriterionScoreSerializer(serializers.Serializer):
    criterion = serializers.IntegerField()
    name = serializers.CharField()
    parent_name = serializers.CharField(allow_null=True)
    weight = serializers.FloatField(allow_null=True, help_text=gettext_lazy("Its global weight."))
    answers = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True, help_text=gettext_lazy("1–5."))
    score = serializers.FloatField(allow_null=True, help_text=gettext_lazy("0–100."))


class IndexFiguresSerializer(serializers.Serializer):
    index = serializers.FloatField(
        allow_null=True, help_text=gettext_lazy("0–100; null without answers.")
    )
    answers = serializers.IntegerField()


class BranchIndexSerializer(IndexFiguresSerializer):
    branch = serializers.IntegerField()
    name = serializers.CharField()


class AdvisorIndexSerializer(IndexFiguresSerializer):
    advisor = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("Null: answers not attributed to anyone.")
    )
    name = serializers.CharField()


class MonthIndexSerializer(IndexFiguresSerializer):
    month = serializers.DateField(help_text=gettext_lazy("The month's first day."))


class SatisfactionIndexSerializer(IndexFiguresSerializer):
    start = serializers.DateField()
    end = serializers.DateField()
    per_criterion = CriterionScoreSerializer(many=True)
    branches = BranchIndexSerializer(many=True)
    advisors = AdvisorIndexSerializer(many=True)
    months = MonthIndexSerializer(many=True)


class SatisfactionModelViewSet(CareViewSet):
    """满意度模型 of your branches: `?branch=`, `?active=true`. A manager creates a model, adds
    its criteria and sub-criteria, enters a comparison matrix for each set of siblings, and
    activates it."""

    queryset = SatisfactionModel.objects.prefetch_related("criteria", "matrices")
    serializer_class = SatisfactionModelSerializer
    filterset_fields = ["branch", "active"]
    ordering_fields = ["id", "created_at"]
    command_permissions = {
        "criteria": ["care.change_satisfactionmodel"],
        "matrices": ["care.change_satisfactionmodel"],
        "activate": ["care.change_satisfactionmodel"],
    }

    @extend_schema(
        request=SatisfactionModelCreateSerializer,
        responses=answers(SatisfactionModelSerializer, status.HTTP_201_CREATED, conflict=False),
    )
    def create(self, request, *args, **kwargs):
        """A new model without criteria, not active (needs `care.add_satisfactionmodel`).
        400 `name_required`, `model_name_taken`."""
        data = self.parse(SatisfactionModelCreateSerializer)
        branch = data.get("branch") or self.working_branch()
        model = services.satisfaction_model_create(
            branch=branch, name=data["name"], by=request.user
        )
        return self.respond(model, status.HTTP_201_CREATED)

    @extend_schema(request=CriterionInputSerializer, responses=answers(SatisfactionModelSerializer))
    @action(detail=True, methods=["post"])
    def criteria(self, request, pk=None):
        """Add a criterion, or a sub-criterion under `parent`, after its siblings; their
        matrix is dropped, to enter again (needs `care.change_satisfactionmodel`).
        400 `name_required`, `criterion_name_taken`, `criterion_too_deep`,
        `criterion_other_model`, `too_many_criteria`; 409 `model_in_use`."""
        model = self.get_object()
        data = self.parse(CriterionInputSerializer)
        services.criterion_add(model=model, by=request.user, **data)
        return self.respond(model)

    @extend_schema(request=MatrixInputSerializer, responses=answers(SatisfactionModelSerializer))
    @action(detail=True, methods=["post"])
    def matrices(self, request, pk=None):
        """Enter the pairwise comparisons of the criteria under `parent` (the top level when
        null); their weights come from the principal eigenvector (needs
        `care.change_satisfactionmodel`). 400 `matrix_inconsistent` (CR ≥ 0.1, with `cr`,
        `ci` and `lambda_max`), `matrix_not_square`, `matrix_not_number`,
        `matrix_not_positive`, `matrix_diagonal`, `matrix_not_reciprocal`,
        `matrix_out_of_scale` (with the `row` and `column` at fault), `too_few_criteria`,
        `criterion_other_model`."""
        model = self.get_object()
        data = self.parse(MatrixInputSerializer)
        services.comparison_matrix_set(model=model, by=request.user, **data)
        return self.respond(model)

    @extend_schema(request=None, responses=answers(SatisfactionModelSerializer))
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        """Make it the branch's active model, in place of the one before (needs
        `care.change_satisfactionmodel`). 400 `model_empty`, `matrices_missing`;
        409 `model_already_active`."""
        model = self.get_object()
        return self.respond(services.model_activate(model=model, by=request.user))


class SurveyAnswerViewSet(CareViewSet):
    """Survey answers of your branches, newest first (cursor pagination): `?call=`,
    `?advisor=`, `?criterion=`, `?branch=`, `?answered_on__gte=&answered_on__lte=`."""

    queryset = SurveyAnswer.objects.select_related("customer", "criterion", "advisor")
    serializer_class = SurveyAnswerSerializer
    filterset_fields = {
        "branch": ["exact"],
        "call": ["exact"],
        "advisor": ["exact"],
        "criterion": ["exact"],
        "answered_on": ["gte", "lte"],
    }
    pagination_class = CursorPagination
    ordering_fields = ["id"]

    @idempotent
    @extend_schema(
        request=SurveyInputSerializer,
        responses=answers(SurveyAnswerSerializer(many=True), status.HTTP_201_CREATED),
    )
    def create(self, request, *args, **kwargs):
        """Record the customer's scores asked on a call made (needs
        `care.add_surveyanswer`). 400 `no_active_model`, `answers_required`,
        `criterion_not_leaf`, `score_invalid`; 409 `call_not_done`, `survey_answered`."""
        data = self.parse(SurveyInputSerializer)
        recorded = services.survey_answers_record(by=request.user, **data)
        rows = self.get_queryset().filter(pk__in=[row.pk for row in recorded]).order_by("pk")
        return Response(
            SurveyAnswerSerializer(rows, many=True).data, status=status.HTTP_201_CREATED
        )


class SatisfactionIndexView(APIView):
    """The satisfaction index (0–100) of a period over one of your branches or all of them,
    or over one advisor's customers: each leaf criterion's average score on 0–100, weighted by
    its AHP weight (those nobody answered left out), broken down by branch, advisor and month
    (needs `care.view_satisfactionmodel`)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[SatisfactionIndexQuerySerializer],
        responses={200: SatisfactionIndexSerializer, 400: REFUSED},
    )
    def get(self, request):
        if not request.user.has_perm("care.view_satisfactionmodel"):
            raise PermissionDenied()
        query = SatisfactionIndexQuerySerializer(
            data=request.query_params, context={"request": request}
        )
        query.is_valid(raise_exception=True)
        data = query.validated_data
        branch = data.get("branch")
        report = services.satisfaction_report(
            branch_ids=[branch.pk] if branch else branch_ids_for(request.user),
            start=data["start"],
            end=data["end"],
            advisor=data.get("advisor"),
        )
        return Response(
            SatisfactionIndexSerializer({**report, "start": data["start"], "end": data["end"]}).data
        )


# --- Reminders and messages -----------------------------------------------------------------


def mask_address(value: str) -> str:
    """A mobile number masked (138****5678); an e-mail address as it is."""
    return value if "@" in value else mask_phone(value)


class ReminderSerializer(serializers.ModelSerializer):
    """A reminder the daily job made: what it is about on `about_on` (the expiry, the
    maintenance due, the birthday or the holiday), the day it goes out (`due_on`), and once
    sent or withheld its message (`message`, `message_status`; null while it waits)."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    plate = serializers.CharField(
        source="vehicle.plate", read_only=True, default=None, allow_null=True
    )
    message = serializers.IntegerField(source="message.id", read_only=True, allow_null=True)
    message_status = serializers.ChoiceField(
        source="message.status", choices=MessageStatus.choices, read_only=True, allow_null=True
    )

    class Meta:
        model = Reminder
        fields = [
            "id", "customer", "customer_name", "vehicle", "plate", "kind", "due_on", "about_on",
            "message", "message_status", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class MessageSerializer(PiiMaskedSerializerMixin, serializers.ModelSerializer):
    """A message to a customer, sent or withheld: the channel and the address (a mobile is
    masked without `customers.view_pii`), the text in the language it went out in, what
    happened (`error`: the channel's refusal) and the reminder it carried, if any."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    reminder_kind = serializers.ChoiceField(
        source="reminder.kind", choices=ReminderKind.choices, read_only=True, allow_null=True
    )

    class Meta:
        model = Message
        fields = [
            "id", "customer", "customer_name", "reminder", "reminder_kind", "channel", "address",
            "language", "subject", "body", "status", "error", "sent_at",
        ]  # fmt: skip
        read_only_fields = fields
        pii_fields = {"address": mask_address}


class ReminderViewSet(
    CommandMixin, BranchScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    """Reminders of your branches' customers, newest first (cursor pagination): `?kind=`,
    `?due_on_after=&due_on_before=`, `?state=waiting|sent|failed|withheld`, `?customer=`.
    Made and sent by the daily job; read-only."""

    queryset = Reminder.objects.select_related("customer", "vehicle", "message")
    serializer_class = ReminderSerializer
    filterset_class = ReminderFilter
    pagination_class = CursorPagination
    ordering_fields = ["id"]
    http_method_names = ["get", "head", "options"]


class MessageViewSet(
    PiiLoggedViewSetMixin, CommandMixin, BranchScopedMixin, mixins.ListModelMixin,
    mixins.RetrieveModelMixin, viewsets.GenericViewSet,
):  # fmt: skip
    """Every message to your branches' customers, sent or withheld, newest first (cursor
    pagination): `?channel=`, `?status=`, `?sent_after=&sent_before=` (days), `?search=` a
    customer's name or mobile, `?customer=`. Read-only; unmasked addresses are logged."""

    queryset = Message.objects.select_related("customer", "reminder")
    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    pagination_class = CursorPagination
    ordering_fields = ["id"]
    http_method_names = ["get", "head", "options"]

    def pii_customer_id(self, message: Message) -> int:
        return message.customer_id


# --- Campaigns (关怀活动) and their offers ----------------------------------------------------


def campaign_success(campaign: Campaign) -> Decimal | None:
    """Redeemed ÷ offers in %, as the target is; None before the campaign has offers."""
    rate = ratio(campaign.redeemed, campaign.offer_count, "0.0001")
    return None if rate is None else (rate * 100).quantize(Decimal("0.01"))


class CampaignSerializer(serializers.ModelSerializer):
    """关怀活动: an offer package for the customers of one segment, valid from `starts_on` to
    `ends_on`, with the share of offers the branch expects redeemed (`target_rate`, in %).
    Status: draft → launched → closed. Launched, every customer of the segment who agreed to
    marketing gets an offer and is contacted; the counts say how many offers are out, how
    many customers were contacted, how many redeemed, and the success rate against the
    target."""

    number = serializers.CharField(read_only=True)
    offer_count = serializers.IntegerField(read_only=True, help_text=gettext_lazy("Offers out."))
    contacted = serializers.IntegerField(
        read_only=True, help_text=gettext_lazy("Offers sent to the customer.")
    )
    redeemed = serializers.IntegerField(
        read_only=True, help_text=gettext_lazy("Offers redeemed at a settlement.")
    )
    success_rate = serializers.SerializerMethodField()
    target_met = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id", "number", "branch", "name", "segment", "offer", "message", "starts_on",
            "ends_on", "target_rate", "status", "launched_at", "created_by", "created_at",
            "offer_count", "contacted", "redeemed", "success_rate", "target_met",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(
        serializers.DecimalField(
            max_digits=6,
            decimal_places=2,
            allow_null=True,
            # xgettext:no-python-format
            help_text=gettext_lazy("Redeemed ÷ offers, in % like the target; null without offers."),
        )
    )
    def get_success_rate(self, campaign: Campaign) -> str | None:
        rate = campaign_success(campaign)
        return None if rate is None else str(rate)

    @extend_schema_field(
        serializers.BooleanField(
            allow_null=True,
            help_text=gettext_lazy("The success rate reaches the target; null without offers."),
        )
    )
    def get_target_met(self, campaign: Campaign) -> bool | None:
        rate = campaign_success(campaign)
        return None if rate is None else rate >= campaign.target_rate


class CampaignInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    segment = serializers.ChoiceField(
        choices=TargetSegment.choices,
        help_text=gettext_lazy("Whom it reaches: the customers of this segment (nightly run)."),
    )
    offer = serializers.ChoiceField(choices=OfferKind.choices)
    message = serializers.CharField(
        max_length=500, help_text=gettext_lazy("Sent with the offer's code and its last day.")
    )
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(
        help_text=gettext_lazy("The offers' last day: on or after the first, not past.")
    )
    target_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        help_text=gettext_lazy("The share of the offers expected redeemed, in %."),
    )


class CampaignCreateSerializer(CampaignInputSerializer):
    branch = BranchField(required=False, help_text=gettext_lazy("Defaults to your branch."))


class CampaignAssignSerializer(serializers.Serializer):
    customer = ScopedCustomerField(
        help_text=gettext_lazy("A customer of the campaign's branch who agreed to marketing.")
    )


class CampaignPreviewQuerySerializer(serializers.Serializer):
    segment = serializers.ChoiceField(choices=TargetSegment.choices)
    branch = BranchField(required=False, help_text=gettext_lazy("Defaults to your branch."))


class CampaignPreviewSerializer(serializers.Serializer):
    branch = serializers.IntegerField()
    segment = serializers.ChoiceField(choices=TargetSegment.choices)
    customers = serializers.IntegerField(
        help_text=gettext_lazy("The branch's customers in the segment (as of the nightly run).")
    )
    consenting = serializers.IntegerField(
        help_text=gettext_lazy("Those of them who agreed to marketing: the ones it would reach.")
    )


class CampaignResultSerializer(serializers.Serializer):
    segment = serializers.ChoiceField(choices=TargetSegment.choices)
    label = serializers.CharField()
    campaigns = serializers.IntegerField()
    offers = serializers.IntegerField()
    redeemed = serializers.IntegerField()
    rate = serializers.DecimalField(
        max_digits=8,
        decimal_places=3,
        allow_null=True,
        help_text=gettext_lazy("Redeemed ÷ offers (0–1); null without offers."),
    )
    target = serializers.DecimalField(
        max_digits=8,
        decimal_places=3,
        allow_null=True,
        help_text=gettext_lazy("The campaigns' targets weighted by their offers (0–1)."),
    )
    met = serializers.BooleanField(allow_null=True)


class OfferSerializer(serializers.ModelSerializer):
    """One customer's offer of a campaign, known by its 8-character `code`: sent through the
    customer's channel (`message`), then redeemed once at a settlement of their work order.
    Status: assigned → requested (an advisor asked to redeem it on `work_order`) → approved
    (a manager other than the one who asked signed it off) → redeemed (the settlement took
    `value` off the bill). A redemption turned down or withdrawn gives it back (assigned)."""

    campaign_number = serializers.CharField(source="campaign.number", read_only=True)
    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    offer = serializers.ChoiceField(
        source="campaign.offer", choices=OfferKind.choices, read_only=True
    )
    valid_from = serializers.DateField(source="campaign.starts_on", read_only=True)
    valid_until = serializers.DateField(source="campaign.ends_on", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    work_order_number = serializers.CharField(
        source="work_order.number", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Offer
        fields = [
            "id", "code", "campaign", "campaign_number", "campaign_name", "offer", "valid_from",
            "valid_until", "customer", "customer_name", "status", "message", "work_order",
            "work_order_number", "requested_by", "requested_at", "signed_off_by",
            "signed_off_at", "settlement", "value", "redeemed_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class OfferRedemptionRequestSerializer(serializers.Serializer):
    work_order = ScopedWorkOrderField(
        help_text=gettext_lazy("The offer customer's open work order at the campaign's branch.")
    )


class OfferSignOffSerializer(serializers.Serializer):
    approve = serializers.BooleanField(
        default=True,
        help_text=gettext_lazy(
            "True (the default) signs the redemption off; false turns it down and gives the "
            "customer the offer back."
        ),
    )


def offers_shown():
    """Offers as the API renders them."""
    return Offer.objects.select_related("campaign", "customer", "work_order")


class CampaignViewSet(CareViewSet):
    """关怀活动 of your branches, latest first (`?ordering=starts_on|id`): `?status=`,
    `?segment=`, `?offer=`, `?branch=`, `?search=` part of the name or the number (CA00012,
    ca12 or 12).
    A manager writes a draft (needs `care.add_campaign`), changes it while a draft, launches
    and closes it (`care.change_campaign`); an agent gives one more customer the offer
    (`care.add_offer`). `preview/` counts whom a segment would reach, `results/` the success
    per segment."""

    queryset = Campaign.objects.all()
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    ordering_fields = ["id", "starts_on"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    command_permissions = {
        "launch": ["care.change_campaign"],
        "close": ["care.change_campaign"],
        "assign": ["care.add_offer"],
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "results":
            return queryset  # campaign_results counts the offers itself
        return selectors.campaigns_with_counts(queryset)

    @idempotent
    @extend_schema(
        request=CampaignCreateSerializer,
        responses=answers(CampaignSerializer, status.HTTP_201_CREATED, conflict=False),
    )
    def create(self, request, *args, **kwargs):
        """Write a draft campaign of your branch (or `branch`), not reaching anyone yet
        (needs `care.add_campaign`). 400 `campaign_dates`, `campaign_over` (the offers' last
        day has passed)."""
        data = self.parse(CampaignCreateSerializer)
        branch = data.pop("branch", None) or self.working_branch()
        campaign = services.campaign_create(branch=branch, by=request.user, data=data)
        return self.respond(campaign, status.HTTP_201_CREATED)

    @extend_schema(request=CampaignInputSerializer, responses=answers(CampaignSerializer))
    def partial_update(self, request, *args, **kwargs):
        """Change a draft: any of its fields (needs `care.change_campaign`).
        400 `campaign_dates`, `campaign_over`; 409 `campaign_not_draft` once launched."""
        campaign = self.get_object()
        payload = CampaignInputSerializer(
            data=request.data, partial=True, context=self.get_serializer_context()
        )
        payload.is_valid(raise_exception=True)
        campaign = services.campaign_update(
            campaign=campaign, by=request.user, data=dict(payload.validated_data)
        )
        return self.respond(campaign)

    @idempotent
    @extend_schema(request=None, responses=answers(CampaignSerializer))
    @action(detail=True, methods=["post"])
    def launch(self, request, pk=None):
        """Launch a draft: an offer for every customer of the segment who agreed to marketing
        (never one who did not), each then contacted by the contact job (needs
        `care.change_campaign`). 400 `campaign_over`, `campaign_dates`;
        409 `campaign_not_draft`, `campaign_no_audience`."""
        campaign = self.get_object()
        services.campaign_launch(campaign=campaign, by=request.user)
        return self.respond(campaign)

    @extend_schema(request=None, responses=answers(CampaignSerializer))
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """No more offers are given; those out stay redeemable until their last day (needs
        `care.change_campaign`). 409 `campaign_not_launched`."""
        campaign = self.get_object()
        return self.respond(services.campaign_close(campaign=campaign, by=request.user))

    @idempotent
    @extend_schema(
        request=CampaignAssignSerializer,
        responses=answers(OfferSerializer, status.HTTP_201_CREATED),
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Give one more customer of the branch the offer of a launched campaign, and contact
        them (needs `care.add_offer`). 400 `no_marketing_consent` (campaigns never reach a
        customer who did not agree), `customer_other_branch`; 409 `campaign_not_launched`,
        `campaign_over`, `offer_exists`."""
        campaign = self.get_object()
        data = self.parse(CampaignAssignSerializer)
        offer = services.offer_assign(campaign=campaign, customer=data["customer"], by=request.user)
        return Response(
            OfferSerializer(
                offers_shown().get(pk=offer.pk), context=self.get_serializer_context()
            ).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        parameters=[CampaignPreviewQuerySerializer],
        responses={200: CampaignPreviewSerializer, 400: REFUSED},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def preview(self, request):
        """How many customers of your branch (or `branch`) a campaign at `segment` would
        reach: those in the segment as of the nightly run, and those of them who agreed to
        marketing (the offers a launch would make). 400 `no_branch`."""
        query = CampaignPreviewQuerySerializer(
            data=request.query_params, context=self.get_serializer_context()
        )
        query.is_valid(raise_exception=True)
        segment = query.validated_data["segment"]
        branch = query.validated_data.get("branch") or self.working_branch()
        counts = selectors.audience_counts(branch_id=branch.pk, segment=segment)
        return Response(
            CampaignPreviewSerializer({"branch": branch.pk, "segment": segment, **counts}).data
        )

    @extend_schema(responses=CampaignResultSerializer(many=True))
    @action(
        detail=False, methods=["get"], filter_backends=[DjangoFilterBackend], pagination_class=None
    )
    def results(self, request):
        """The campaigns' success per target segment, in the segments' order: campaigns,
        offers, redeemed, the success rate against the target (the campaigns' targets
        weighted by their offers). The list's filters narrow the campaigns counted."""
        campaigns = self.filter_queryset(self.get_queryset())
        return Response(
            CampaignResultSerializer(selectors.campaign_results(campaigns), many=True).data
        )


class OfferViewSet(CareViewSet):
    """The offers of your branches' campaigns, newest first (cursor pagination):
    `?campaign=`, `?status=`, `?customer=`, `?work_order=`, `?code=` the code a customer
    shows (any case, spaces ignored), `?search=` a code or part of the customer's name.
    Made by a campaign's launch or `assign`; at the service desk an advisor asks to redeem
    one on the customer's work order, a manager signs it off, and the settlement
    (`work-orders/{id}/settle/`) takes its value off the bill."""

    queryset = offers_shown()
    serializer_class = OfferSerializer
    filterset_class = OfferFilter
    pagination_class = CursorPagination
    ordering_fields = ["id"]
    command_permissions = {
        "request_redemption": ["care.request_redemption"],
        "sign_off": ["care.sign_off_redemption"],
        # Either the advisor who asks or the manager who signs off; checked in the action.
        "withdraw": ["care.view_offer"],
    }

    @idempotent
    @extend_schema(request=OfferRedemptionRequestSerializer, responses=answers(OfferSerializer))
    @action(detail=True, methods=["post"], url_path="request-redemption")
    def request_redemption(self, request, pk=None):
        """Ask to redeem the offer on the customer's open work order; the branch's managers
        are asked to sign it off (needs `care.request_redemption`). 400
        `offer_other_customer`, `offer_other_branch`, `offer_not_applicable`; 409
        `offer_already_redeemed`, `offer_expired`, `offer_not_started`,
        `offer_redemption_pending`, `work_order_settled`, `work_order_has_offer`."""
        offer = self.get_object()
        data = self.parse(OfferRedemptionRequestSerializer)
        return self.respond(
            services.offer_redemption_request(
                offer=offer, work_order=data["work_order"], by=request.user
            )
        )

    @idempotent
    @extend_schema(request=OfferSignOffSerializer, responses=answers(OfferSerializer))
    @action(detail=True, methods=["post"], url_path="sign-off")
    def sign_off(self, request, pk=None):
        """Sign off the redemption asked for, or turn it down with `approve: false` (needs
        `care.sign_off_redemption`: a manager other than the one who asked). 409
        `offer_not_requested`, `sign_off_own_request`, `offer_already_redeemed`,
        `offer_expired`, `offer_not_started`."""
        offer = self.get_object()
        data = self.parse(OfferSignOffSerializer)
        return self.respond(
            services.offer_sign_off(offer=offer, by=request.user, approve=data["approve"])
        )

    @extend_schema(request=None, responses=answers(OfferSerializer))
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Take the offer off its work order before settlement; the customer keeps it (needs
        `care.request_redemption` or `care.sign_off_redemption`). 409 `offer_not_requested`."""
        if not any(
            request.user.has_perm(name)
            for name in ("care.request_redemption", "care.sign_off_redemption")
        ):
            raise PermissionDenied()
        offer = self.get_object()
        return self.respond(services.offer_withdraw(offer=offer, by=request.user))


# --- Loyalty points -------------------------------------------------------------------------


class LoyaltyAccountSerializer(serializers.ModelSerializer):
    """积分账户: a customer's points balance, the sum of their statement. Created with the
    customer's first points (a purchase, a service visit, a referral): a customer without
    points has no account yet."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    branch = serializers.IntegerField(source="customer.branch_id", read_only=True)

    class Meta:
        model = LoyaltyAccount
        fields = ["id", "customer", "customer_name", "branch", "balance", "updated_at"]
        read_only_fields = fields


class PointsEntrySerializer(serializers.ModelSerializer):
    """A line of the statement: points earned for a delivery (`order`), a service visit
    (`settlement`) or a referral (`order`; the note names the buyer), or redeemed (negative,
    the note says what the customer was given), with the balance after it."""

    created_by_name = serializers.SerializerMethodField()

    class Meta:
        model = PointsEntry
        fields = [
            "id", "kind", "points", "balance", "order", "settlement", "note", "created_by",
            "created_by_name", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_created_by_name(self, entry: PointsEntry) -> str:
        return display_name(entry.created_by) if entry.created_by else ""


class PointsRedeemSerializer(serializers.Serializer):
    points = serializers.IntegerField(
        help_text=gettext_lazy("A whole number above 0, no more than the balance.")
    )
    note = serializers.CharField(
        max_length=200,
        allow_blank=True,
        help_text=gettext_lazy("What the customer was given for the points."),
    )


class PointsEntryCursorPagination(CursorPagination):
    """A statement newest first; the account list's `?ordering=` does not apply to it."""

    ordering = ("-created_at", "-id")

    def get_ordering(self, request, queryset, view):
        return self.ordering


class LoyaltyAccountViewSet(CareViewSet):
    """积分账户 of your branches' customers, the largest balance first (`?ordering=balance`):
    `?customer=`, `?search=` part of the customer's name, phone digits, a plate or a VIN's
    end, `?branch=`. An account
    appears with the customer's first points: `?customer=` answers an empty list for a
    customer who has none yet. `entries/` is the statement; `redeem/` spends points (needs
    `care.change_loyaltyaccount`)."""

    queryset = LoyaltyAccount.objects.select_related("customer")
    serializer_class = LoyaltyAccountSerializer
    filterset_class = LoyaltyAccountFilter
    ordering_fields = ["balance", "id"]
    command_permissions = {"redeem": ["care.change_loyaltyaccount"]}

    @extend_schema(responses=PointsEntrySerializer(many=True))
    @action(
        detail=True, methods=["get"], filter_backends=[],
        pagination_class=PointsEntryCursorPagination,
    )  # fmt: skip
    def entries(self, request, pk=None):
        """The customer's points statement, newest first (cursor pagination)."""
        account = self.get_object()
        entries = PointsEntry.objects.filter(account=account).select_related("created_by")
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(PointsEntrySerializer(page, many=True).data)

    @idempotent
    @extend_schema(
        request=PointsRedeemSerializer,
        responses=answers(PointsEntrySerializer, status.HTTP_201_CREATED, conflict=False),
    )
    @action(detail=True, methods=["post"])
    def redeem(self, request, pk=None):
        """Redeem points for what the customer chose: the statement's new line, with the
        balance after it (needs `care.change_loyaltyaccount`). 400 `points_not_positive`,
        `note_required`, `points_insufficient`."""
        account = self.get_object()
        data = self.parse(PointsRedeemSerializer)
        entry = services.points_redeem(customer=account.customer, by=request.user, **data)
        return Response(
            PointsEntrySerializer(entry, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


class LoyaltyRuleSerializer(serializers.ModelSerializer):
    """A branch's loyalty rules: the points per 100 CNY of a vehicle bought and of a service
    visit paid, and for an owner whose referral bought a vehicle. A branch whose manager never
    set them earns by the defaults (`saved` false)."""

    branch_name = serializers.CharField(source="branch.name", read_only=True)
    saved = serializers.SerializerMethodField()

    class Meta:
        model = LoyaltyRule
        fields = [
            "branch", "branch_name", "purchase_points", "service_points", "referral_points",
            "saved", "updated_by", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_saved(self, rule: LoyaltyRule) -> bool:
        return rule.pk is not None


class LoyaltyRuleInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = LoyaltyRule
        fields = ["purchase_points", "service_points", "referral_points"]
        extra_kwargs = {name: {"required": True} for name in fields}


class LoyaltyRuleViewSet(CommandMixin, viewsets.GenericViewSet):
    """The loyalty rules of each of your branches (saved, or the defaults), by branch id;
    `PUT loyalty-rules/{branch}/` sets a branch's (needs `care.change_loyaltyrule`:
    managers). Points already earned stay as they were."""

    queryset = LoyaltyRule.objects.all()
    serializer_class = LoyaltyRuleSerializer
    http_method_names = ["get", "put", "head", "options"]
    lookup_field = "branch"
    filter_backends = []

    def branches(self):
        return Branch.objects.filter(pk__in=branch_ids_for(self.request.user)).order_by("code")

    def rules_of(self, branches) -> list[LoyaltyRule]:
        """Each branch's saved rule, or its defaults."""
        saved = {
            rule.branch_id: rule
            for rule in LoyaltyRule.objects.filter(branch__in=branches).select_related("branch")
        }
        return [saved.get(branch.pk) or LoyaltyRule(branch=branch) for branch in branches]

    def get_object(self) -> LoyaltyRule:
        """The rule of one of your branches; another branch, or no branch, answers 404."""
        branch_id = self.kwargs["branch"]
        number = number_pk(branch_id)
        branch = self.branches().filter(pk=number).first() if number is not None else None
        if branch is None:
            raise Http404
        return self.rules_of([branch])[0]

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.branches())
        return self.get_paginated_response(self.get_serializer(self.rules_of(page), many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=LoyaltyRuleInputSerializer,
        responses=answers(LoyaltyRuleSerializer, conflict=False),
    )
    def update(self, request, *args, **kwargs):
        """Set the branch's rules, all three figures (needs `care.change_loyaltyrule`)."""
        rule = self.get_object()
        data = self.parse(LoyaltyRuleInputSerializer)
        rule = services.loyalty_rule_set(branch=rule.branch, by=request.user, data=data)
        return self.respond(rule)
