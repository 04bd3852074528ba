"""REST resources of the service department (售后): appointment slots and appointments, work
orders (任务委托书) from check-in to close with their lines, added items, recommendations,
checklist, tyres and road tests, settlements (结算单), warranty and insurance claims, roadside
rescue, the technician board and the service figures.

Each endpoint parses its input, calls one service and renders the result; the rules live in
`service.services`. Records are read through the branch scope, and every id a request names is
looked up in the caller's branches, so another branch's record "does not exist". The contact
and caller phones are masked without `customers.view_pii`.
"""

from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.api import BranchStaffField, ScopedCustomerField, ScopedVehicleField
from dealer_crm.api import (
    CONFLICT,
    REFUSED,
    BranchField,
    BranchScopedMixin,
    CommandMixin,
    CommandViewSet,
    PeriodQuerySerializer,
    PiiLoggedViewSetMixin,
    PiiMaskedSerializerMixin,
    ScopedRecordField,
    answers,
)
from dealer_crm.errors import DomainError
from dealer_crm.idempotency import idempotent
from dealer_crm.models import display_name
from dealer_crm.pagination import CursorPagination
from dealer_crm.pii import mask_phone
from dealer_crm.scoping import branch_ids_for, working_branch
from parts.models import Part

from . import selectors, services
from .choices import (
    ChecklistResult,
    ConfirmationMethod,
    InsuranceClaimStatus,
    PaymentMethod,
    RescueOutcome,
    ServiceType,
    TyrePosition,
    WarrantyClaimStatus,
)
from .filters import (
    AppointmentFilter,
    InsuranceClaimFilter,
    RescueFilter,
    ServiceSlotFilter,
    WarrantyClaimFilter,
    WorkOrderFilter,
)
from .models import (
    AddedItem,
    Appointment,
    ChecklistItem,
    InsuranceClaim,
    LabourLine,
    PartLine,
    Recommendation,
    Rescue,
    RoadTest,
    ServiceSlot,
    Settlement,
    SettlementLine,
    TyreReading,
    WarrantyClaim,
    WorkOrder,
)


def money_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


def quantity_field(**kwargs) -> serializers.DecimalField:
    """A quantity as sent, up to three decimals; more than zero and whole units are the
    stockroom's to judge (`quantity_not_positive`, `quantity_not_whole`)."""
    return serializers.DecimalField(max_digits=12, decimal_places=3, **kwargs)


def text_field(max_length: int, **kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length, required=False, allow_blank=True, default="", **kwargs
    )


# --- Fields naming other records ----------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class StaffField(BranchStaffField):
    """A user id: a colleague of one of your branches."""


class ScopedSlotField(ScopedRecordField):
    model = ServiceSlot


class ScopedAppointmentField(ScopedRecordField):
    model = Appointment


class ScopedWorkOrderField(ScopedRecordField):
    model = WorkOrder


@extend_schema_field(OpenApiTypes.INT)
class ScopedAddedItemField(serializers.PrimaryKeyRelatedField):
    """An added item of a work order of your branches."""

    def get_queryset(self):
        work_orders = WorkOrder.objects.for_user(self.context["request"].user)
        return AddedItem.objects.filter(work_order__in=work_orders)


def part_field(**kwargs) -> serializers.PrimaryKeyRelatedField:
    """A part of the group's catalogue (shared by every branch)."""
    return serializers.PrimaryKeyRelatedField(queryset=Part.objects.all(), **kwargs)


def staff_default(help_text) -> StaffField:
    """A colleague named optionally; the caller by default."""
    return StaffField(required=False, help_text=help_text)


# --- Serializers: slots and appointments --------------------------------------------------


class ServiceSlotSerializer(serializers.ModelSerializer):
    """A bookable time of a branch's workshop for one type of service, with its capacity."""

    free = serializers.IntegerField(read_only=True, help_text=gettext_lazy("Places left."))

    class Meta:
        model = ServiceSlot
        fields = [
            "id", "branch", "service_type", "starts_at", "minutes", "capacity", "booked", "free",
        ]  # fmt: skip
        read_only_fields = fields


class SlotsOpenSerializer(serializers.Serializer):
    branch = BranchField(required=False, help_text=gettext_lazy("Defaults to your branch."))
    service_type = serializers.ChoiceField(choices=ServiceType.choices)
    starts = serializers.ListField(
        child=serializers.DateTimeField(),
        allow_empty=False,
        max_length=200,
        help_text=gettext_lazy("When each slot starts."),
    )
    capacity = serializers.IntegerField(min_value=0, max_value=100)
    minutes = serializers.IntegerField(min_value=5, max_value=600, default=30)


class AppointmentSerializer(PiiMaskedSerializerMixin, serializers.ModelSerializer):
    """预约: a vehicle booked into a slot with an advisor. `work_order` is the work order it
    was checked in as."""

    starts_at = serializers.DateTimeField(source="slot.starts_at", read_only=True)
    service_type = serializers.CharField(source="slot.service_type", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    plate = serializers.CharField(source="vehicle.plate", read_only=True)
    work_order = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields = [
            "id", "branch", "slot", "starts_at", "service_type", "customer", "customer_name",
            "vehicle", "plate", "advisor", "contact_phone", "complaint", "status", "reminded_at",
            "work_order", "created_by", "created_at",
        ]  # fmt: skip
        read_only_fields = fields
        pii_fields = {"contact_phone": mask_phone}

    def get_work_order(self, appointment: Appointment) -> int | None:
        work_order = getattr(appointment, "work_order", None)
        return work_order.pk if work_order else None


class AppointmentCreateSerializer(serializers.Serializer):
    slot = ScopedSlotField()
    customer = ScopedCustomerField()
    vehicle = ScopedVehicleField()
    advisor = staff_default(gettext_lazy("The service advisor; you by default."))
    contact_phone = serializers.CharField(max_length=20)
    complaint = text_field(300)


# --- Serializers: work orders and what hangs on them --------------------------------------


class LabourLineSerializer(serializers.ModelSerializer):
    """A labour operation: standard hours × rate, and the technician who does it; `done_at`
    is the technician's sign-off."""

    amount = money_field(read_only=True)
    technician_name = serializers.SerializerMethodField()

    class Meta:
        model = LabourLine
        fields = [
            "id", "work_order", "operation", "standard_hours", "rate", "amount", "technician",
            "technician_name", "added_item", "done_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_technician_name(self, line: LabourLine) -> str:
        return display_name(line.technician)


class LabourLineInputSerializer(serializers.Serializer):
    operation = serializers.CharField(max_length=200)
    standard_hours = serializers.DecimalField(
        max_digits=6, decimal_places=2, min_value=Decimal("0.01")
    )
    rate = money_field(min_value=Decimal(0), help_text=gettext_lazy("CNY per hour."))
    technician = StaffField(help_text=gettext_lazy("The technician who does it."))
    added_item = ScopedAddedItemField(required=False, allow_null=True, default=None)


class PartLineSerializer(serializers.ModelSerializer):
    """Parts for the job, reserved on an issue voucher (`issue`) the stockroom hands over
    through `part-issues/`."""

    part_number = serializers.CharField(source="part.number", read_only=True)
    part_name = serializers.CharField(source="part.name", read_only=True)
    amount = money_field(read_only=True)
    issue_number = serializers.CharField(source="issue.number", read_only=True)
    issue_status = serializers.CharField(
        source="issue.status",
        read_only=True,
        help_text=gettext_lazy("The voucher's step; `handed_over` once the parts left stock."),
    )

    class Meta:
        model = PartLine
        fields = [
            "id", "work_order", "part", "part_number", "part_name", "quantity", "unit_price",
            "amount", "issue", "issue_number", "issue_status", "added_item",
        ]  # fmt: skip
        read_only_fields = fields


class PartLineInputSerializer(serializers.Serializer):
    part = part_field(help_text=gettext_lazy("An old number is served by its successor."))
    quantity = quantity_field()
    unit_price = money_field(
        required=False,
        allow_null=True,
        default=None,
        min_value=Decimal(0),
        help_text=gettext_lazy("Defaults to the part's price."),
    )
    added_item = ScopedAddedItemField(required=False, allow_null=True, default=None)


class AddedItemSerializer(serializers.ModelSerializer):
    """增项: work found after check-in; no work starts on it before the customer confirms."""

    confirmed = serializers.BooleanField(read_only=True)

    class Meta:
        model = AddedItem
        fields = [
            "id", "work_order", "description", "estimate", "requested_by", "requested_at",
            "confirmed", "confirmed_by", "confirmed_at", "confirmation_method",
        ]  # fmt: skip
        read_only_fields = fields


class AddedItemInputSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=200)
    estimate = money_field(min_value=Decimal(0))


class AddedItemConfirmSerializer(serializers.Serializer):
    confirmed_by = serializers.CharField(
        max_length=50, help_text=gettext_lazy("The customer who said yes.")
    )
    method = serializers.ChoiceField(choices=ConfirmationMethod.choices)
    at = serializers.DateTimeField(required=False, help_text=gettext_lazy("Now by default."))


class RecommendationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Recommendation
        fields = ["id", "vehicle", "work_order", "description", "status", "decided_at"]
        read_only_fields = fields


class RecommendationDecideSerializer(serializers.Serializer):
    accepted = serializers.BooleanField(
        help_text=gettext_lazy("False: declined, carried to the next visit.")
    )


class ChecklistItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChecklistItem
        fields = ["id", "work_order", "name", "result", "marked_by", "marked_at"]
        read_only_fields = fields


class ChecklistMarkSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=ChecklistResult.choices)


class TyreReadingSerializer(serializers.ModelSerializer):
    class Meta:
        model = TyreReading
        fields = [
            "id", "work_order", "position", "pressure_bar", "tread_mm", "measured_by",
            "measured_at",
        ]  # fmt: skip
        read_only_fields = fields


class TyreReadingInputSerializer(serializers.Serializer):
    position = serializers.ChoiceField(choices=TyrePosition.choices)
    pressure_bar = serializers.DecimalField(
        max_digits=3, decimal_places=1, help_text=gettext_lazy("bar, 0.5 to 5.0.")
    )
    tread_mm = serializers.DecimalField(
        max_digits=3,
        decimal_places=1,
        help_text=gettext_lazy("mm, 0 to 12; below 3.0 a replacement is recommended."),
    )


class RoadTestSerializer(serializers.ModelSerializer):
    class Meta:
        model = RoadTest
        fields = ["id", "work_order", "tested_by", "tested_at", "distance_km", "passed", "note"]
        read_only_fields = fields


class RoadTestInputSerializer(serializers.Serializer):
    tested_by = staff_default(gettext_lazy("Who drove; you by default."))
    tested_at = serializers.DateTimeField()
    distance_km = serializers.IntegerField(min_value=0, max_value=1000)
    passed = serializers.BooleanField()
    note = text_field(300)


class SettlementLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = SettlementLine
        fields = ["id", "is_labour", "description", "quantity", "unit_price", "amount"]
        read_only_fields = fields


class SettlementSerializer(serializers.ModelSerializer):
    """结算单: the work order's lines as settled, what the insurer and the customer pay, and
    the customer's payment."""

    number = serializers.CharField(read_only=True)
    work_order_number = serializers.CharField(source="work_order.number", read_only=True)
    lines = SettlementLineSerializer(many=True, read_only=True)

    class Meta:
        model = Settlement
        fields = [
            "id", "number", "work_order", "work_order_number", "labour_total", "parts_total",
            "discount", "total", "insurer_amount", "customer_amount", "payment_method",
            "paid_amount", "offer_code", "settled_by", "settled_at", "lines",
        ]  # fmt: skip
        read_only_fields = fields


class WorkOrderTotalsSerializer(serializers.Serializer):
    labour = money_field()
    parts = money_field()
    total = money_field()


class WorkOrderSerializer(PiiMaskedSerializerMixin, serializers.ModelSerializer):
    """任务委托书: the vehicle checked in, the complaint in the customer's words, the estimate
    and the sign-offs. Status: open → in_progress → quality_check → ready → settled →
    closed."""

    number = serializers.CharField(read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    vin = serializers.CharField(source="vehicle.vin", read_only=True)
    advisor_name = serializers.SerializerMethodField()
    comeback_of_number = serializers.CharField(
        source="comeback_of.number", read_only=True, default=None
    )

    class Meta:
        model = WorkOrder
        fields = [
            "id", "number", "branch", "status", "service_type", "is_first_maintenance",
            "customer", "customer_name", "vehicle", "vin", "plate", "appointment", "advisor",
            "advisor_name", "contact_name", "contact_phone", "phone_confirmed", "mileage_in",
            "odometer_reading", "fuel_level", "damage_notes", "items_left", "complaint",
            "estimate", "overrun_approved_at", "overrun_approved_by", "overrun_approval_method",
            "certificates_checked_at", "certificates_checked_by", "comeback_of",
            "comeback_of_number", "qc_by", "qc_at", "team_lead_by", "team_lead_at",
            "created_by", "opened_at", "started_at", "ready_at", "settled_at", "closed_at",
        ]  # fmt: skip
        read_only_fields = fields
        pii_fields = {"contact_phone": mask_phone}

    def get_advisor_name(self, work_order: WorkOrder) -> str:
        return display_name(work_order.advisor)


class WorkOrderDetailSerializer(WorkOrderSerializer):
    """A work order with its lines, added items, recommendations, checklist, tyres, road
    tests, running totals and (once settled) its settlement."""

    labour_lines = LabourLineSerializer(many=True, read_only=True)
    part_lines = PartLineSerializer(many=True, read_only=True)
    added_items = AddedItemSerializer(many=True, read_only=True)
    recommendations = RecommendationSerializer(many=True, read_only=True)
    checklist_items = ChecklistItemSerializer(many=True, read_only=True)
    tyre_readings = TyreReadingSerializer(many=True, read_only=True)
    road_tests = RoadTestSerializer(many=True, read_only=True)
    totals = serializers.SerializerMethodField()
    settlement = serializers.SerializerMethodField()

    class Meta(WorkOrderSerializer.Meta):
        fields = [
            *WorkOrderSerializer.Meta.fields, "totals", "labour_lines", "part_lines",
            "added_items", "recommendations", "checklist_items", "tyre_readings", "road_tests",
            "settlement",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(WorkOrderTotalsSerializer)
    def get_totals(self, work_order: WorkOrder) -> dict:
        """The lines' amounts so far (CNY)."""
        return WorkOrderTotalsSerializer(services.work_order_totals(work_order)).data

    @extend_schema_field(SettlementSerializer(allow_null=True))
    def get_settlement(self, work_order: WorkOrder) -> dict | None:
        settlement = getattr(work_order, "settlement", None)
        return SettlementSerializer(settlement, context=self.context).data if settlement else None


class WorkOrderOpenSerializer(serializers.ModelSerializer):
    """接车: what the advisor records at check-in."""

    advisor = staff_default(gettext_lazy("The service advisor; you by default."))
    odometer_replaced = serializers.BooleanField(
        default=False,
        help_text=gettext_lazy("The odometer was replaced: a mileage lower than the last is kept."),
    )

    class Meta:
        model = WorkOrder
        fields = [
            "service_type", "is_first_maintenance", "advisor", "contact_name", "contact_phone",
            "phone_confirmed", "plate", "mileage_in", "fuel_level", "damage_notes",
            "items_left", "complaint", "estimate", "odometer_replaced",
        ]  # fmt: skip
        extra_kwargs = {
            "mileage_in": {"max_value": 2_000_000},
            "phone_confirmed": {
                "help_text": gettext_lazy("The phone was read back to the customer.")
            },
        }


class WorkOrderCreateSerializer(WorkOrderOpenSerializer):
    branch = BranchField(required=False, help_text=gettext_lazy("Defaults to your branch."))
    customer = ScopedCustomerField()
    vehicle = ScopedVehicleField()
    appointment = ScopedAppointmentField(
        required=False, allow_null=True, help_text=gettext_lazy("The booking it comes from.")
    )

    class Meta(WorkOrderOpenSerializer.Meta):
        fields = [
            "branch",
            "customer",
            "vehicle",
            "appointment",
            *WorkOrderOpenSerializer.Meta.fields,
        ]


class QualityCheckSerializer(serializers.Serializer):
    inspector = staff_default(gettext_lazy("The QC inspector; you by default."))
    at = serializers.DateTimeField(required=False, help_text=gettext_lazy("Now by default."))
    passed = serializers.BooleanField(
        help_text=gettext_lazy("False sends the car back to the workshop.")
    )
    note = text_field(100)


class ReleaseSerializer(serializers.Serializer):
    team_lead = staff_default(gettext_lazy("The team lead; you by default."))
    at = serializers.DateTimeField(required=False, help_text=gettext_lazy("Now by default."))


class OverrunApprovalSerializer(serializers.Serializer):
    approved_by = serializers.CharField(
        max_length=50, help_text=gettext_lazy("The customer who approved.")
    )
    method = serializers.ChoiceField(choices=ConfirmationMethod.choices)


class SettleSerializer(serializers.Serializer):
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices)
    paid_amount = money_field(help_text=gettext_lazy("What the customer pays, in full."))
    discount = money_field(
        default=Decimal("0.00"),
        help_text=gettext_lazy("Besides a signed-off campaign offer, which is taken off itself."),
    )


# --- Serializers: claims and rescue -------------------------------------------------------


class WarrantyClaimSerializer(serializers.ModelSerializer):
    """索赔: a failed part claimed from the manufacturer."""

    work_order_number = serializers.CharField(source="work_order.number", read_only=True)
    failed_part_number = serializers.CharField(source="failed_part.number", read_only=True)

    class Meta:
        model = WarrantyClaim
        fields = [
            "id", "work_order", "work_order_number", "failed_part", "failed_part_number",
            "cause", "labour_amount", "parts_amount", "status", "manufacturer_reference",
            "created_by", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class WarrantyClaimCreateSerializer(serializers.Serializer):
    work_order = ScopedWorkOrderField()
    failed_part = part_field()
    cause = serializers.CharField(max_length=300)
    labour_amount = money_field(min_value=Decimal(0))
    parts_amount = money_field(min_value=Decimal(0))


class WarrantyClaimAdvanceSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=WarrantyClaimStatus.choices)
    manufacturer_reference = text_field(40)


class InsuranceClaimSerializer(serializers.ModelSerializer):
    """保险理赔 for an accident repair: what the insurer assessed and the customer's share."""

    work_order_number = serializers.CharField(source="work_order.number", read_only=True)

    class Meta:
        model = InsuranceClaim
        fields = [
            "id", "work_order", "work_order_number", "insurer", "policy_number",
            "claim_number", "accident_date", "assessor", "assessed_amount", "customer_share",
            "status", "created_by", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class InsuranceClaimCreateSerializer(serializers.ModelSerializer):
    work_order = ScopedWorkOrderField()

    class Meta:
        model = InsuranceClaim
        fields = [
            "work_order", "insurer", "policy_number", "claim_number", "accident_date",
            "assessor", "customer_share",
        ]  # fmt: skip
        validators = []


class InsuranceClaimAdvanceSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=InsuranceClaimStatus.choices)
    assessed_amount = money_field(
        required=False, allow_null=True, default=None, help_text=gettext_lazy("When assessed.")
    )
    assessor = text_field(50)


class RescueSerializer(PiiMaskedSerializerMixin, serializers.ModelSerializer):
    """救援: a roadside call, who went, when they arrived, and what came of it."""

    class Meta:
        model = Rescue
        fields = [
            "id", "branch", "customer", "vehicle", "caller_name", "caller_phone", "called_at",
            "location", "problem", "status", "dispatched_to", "dispatched_at", "arrived_at",
            "outcome", "work_order", "note", "created_by",
        ]  # fmt: skip
        read_only_fields = fields
        pii_fields = {"caller_phone": mask_phone}


class RescueCreateSerializer(serializers.ModelSerializer):
    branch = BranchField(required=False, help_text=gettext_lazy("Defaults to your branch."))
    customer = ScopedCustomerField(required=False, allow_null=True)
    vehicle = ScopedVehicleField(required=False, allow_null=True)

    class Meta:
        model = Rescue
        fields = [
            "branch", "customer", "vehicle", "caller_name", "caller_phone", "called_at",
            "location", "problem", "note",
        ]  # fmt: skip


class RescueDispatchSerializer(serializers.Serializer):
    to = StaffField(help_text=gettext_lazy("Who goes."))
    at = serializers.DateTimeField(required=False, help_text=gettext_lazy("Now by default."))


class MomentSerializer(serializers.Serializer):
    at = serializers.DateTimeField(required=False, help_text=gettext_lazy("Now by default."))


class RescueFinishSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=RescueOutcome.choices)
    work_order = ScopedWorkOrderField(required=False, allow_null=True, default=None)
    note = text_field(300)


# --- Viewsets: the bases ------------------------------------------------------------------


class ServiceViewSet(CommandViewSet):
    """The service department's base: records are made and changed by commands (POST), never
    edited or deleted; after a command the record is read back as the list shows it."""

    http_method_names = ["get", "post", "head", "options"]

    def reload(self, instance):
        return self.get_queryset().get(pk=instance.pk)


class ContactPiiLoggedMixin(PiiLoggedViewSetMixin):
    """Unmasked contact phones are logged against the record's customer."""

    def pii_logged_ids(self, objects) -> dict[str, list[int]]:
        return {"customer_ids": [obj.customer_id for obj in objects if obj.customer_id]}


class WorkOrderPartViewSet(
    CommandMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """A record hanging on a work order, read through its work order's branch scope; changed
    by its commands."""

    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        work_orders = WorkOrder.objects.for_user(self.request.user)
        return super().get_queryset().filter(work_order__in=work_orders)


# --- Viewsets: slots and appointments -----------------------------------------------------


class ServiceSlotViewSet(
    BranchScopedMixin, CommandMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    """Bookable slots of your branches' workshops: `?day=`, `?has_room=true`."""

    queryset = ServiceSlot.objects.all()
    serializer_class = ServiceSlotSerializer
    filterset_class = ServiceSlotFilter
    ordering_fields = ["starts_at", "service_type"]
    command_permissions = {"open": ["service.add_serviceslot"]}

    @extend_schema(
        request=SlotsOpenSerializer,
        responses=answers(ServiceSlotSerializer(many=True), status.HTTP_201_CREATED),
    )
    @action(detail=False, methods=["post"])
    def open(self, request):
        """Open slots at the times given; an existing one keeps its bookings and takes the
        new capacity. 400 `capacity_not_positive`; 409 `capacity_below_booked`."""
        data = self.parse(SlotsOpenSerializer)
        branch = data.pop("branch", None) or self.working_branch()
        slots = services.slots_open(branch=branch, by=request.user, **data)
        serializer = ServiceSlotSerializer(slots, many=True, context=self.get_serializer_context())
        return Response(serializer.data, status=status.HTTP_201_CREATED)


class AppointmentViewSet(ContactPiiLoggedMixin, ServiceViewSet):
    """预约 of your branches: `?day=`, `?status=`. Cursor pagination."""

    queryset = Appointment.objects.select_related("slot", "customer", "vehicle", "work_order")
    serializer_class = AppointmentSerializer
    filterset_class = AppointmentFilter
    pagination_class = CursorPagination
    search_fields = ["customer__name", "vehicle__plate", "complaint"]
    ordering_fields = ["id", "created_at"]
    command_permissions = {
        "cancel": ["service.change_appointment"],
        "no_show": ["service.change_appointment"],
        "check_in": ["service.change_appointment", "service.add_workorder"],
    }

    @idempotent
    @extend_schema(
        request=AppointmentCreateSerializer,
        responses=answers(AppointmentSerializer, status.HTTP_201_CREATED),
    )
    def create(self, request, *args, **kwargs):
        """Book a customer's vehicle into a slot that has room. 400 `customer_other_branch`,
        `vehicle_not_customers`, `slot_past`; 409 `slot_full`."""
        data = self.parse(AppointmentCreateSerializer)
        data["advisor"] = data.get("advisor") or request.user
        appointment = services.appointment_book(by=request.user, **data)
        return self.respond(appointment, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=answers(AppointmentSerializer))
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel the booking; the slot has room again. 409 `appointment_not_booked`."""
        appointment = self.get_object()
        return self.respond(services.appointment_cancel(appointment=appointment, by=request.user))

    @extend_schema(request=None, responses=answers(AppointmentSerializer))
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None):
        """The customer did not come (once the slot has begun). 400 `slot_not_begun`;
        409 `appointment_not_booked`."""
        appointment = self.get_object()
        return self.respond(services.appointment_no_show(appointment=appointment, by=request.user))

    @idempotent
    @extend_schema(
        request=WorkOrderOpenSerializer,
        responses=answers(WorkOrderDetailSerializer, status.HTTP_201_CREATED),
    )
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        """接车 from the appointment: open its work order (see `POST work-orders/`).
        400 `phone_not_confirmed`, `odometer_lower_than_last`, `vehicle_not_customers`;
        409 `appointment_not_booked`."""
        appointment = self.get_object()
        data = self.parse(WorkOrderOpenSerializer)
        work_order = services.work_order_open(
            branch=appointment.branch, customer=appointment.customer,
            vehicle=appointment.vehicle, appointment=appointment, by=request.user,
            odometer_replaced=data.pop("odometer_replaced"),
            data={**data, "advisor": data.get("advisor") or request.user},
        )  # fmt: skip
        return work_order_response(self, work_order, status.HTTP_201_CREATED)


# --- Viewsets: work orders ----------------------------------------------------------------

WORK_ORDER_RELATED = ["customer", "vehicle", "advisor", "comeback_of", "settlement"]


def work_order_response(view, work_order: WorkOrder, code: int = status.HTTP_200_OK) -> Response:
    """The work order in full, read afresh after a command (a check-in from an appointment
    too)."""
    shown = (
        WorkOrder.objects.select_related(*WORK_ORDER_RELATED)
        .prefetch_related(*WORK_ORDER_PARTS)
        .get(pk=work_order.pk)
    )
    serializer = WorkOrderDetailSerializer(shown, context=view.get_serializer_context())
    return Response(serializer.data, status=code)


WORK_ORDER_PARTS = [
    Prefetch("labour_lines", queryset=LabourLine.objects.select_related("technician")),
    Prefetch("part_lines", queryset=PartLine.objects.select_related("part", "issue")),
    "added_items",
    "recommendations",
    "checklist_items",
    "tyre_readings",
    "road_tests",
    "settlement__lines",
]


class WorkOrderViewSet(ContactPiiLoggedMixin, ServiceViewSet):
    """任务委托书 of your branches. `?search=` finds a number, a plate, the end of a VIN or the
    contact's name; `?status=`, `?comeback=true`, `?opened_after=`. The detail nests its
    lines, added items, recommendations, checklist, tyres, road tests and settlement.
    Cursor pagination."""

    queryset = WorkOrder.objects.select_related(*WORK_ORDER_RELATED)
    serializer_class = WorkOrderDetailSerializer
    filterset_class = WorkOrderFilter
    pagination_class = CursorPagination
    ordering_fields = ["id", "opened_at"]
    command_permissions = {
        "labour_lines": ["service.add_labourline"],
        "parts_lines": ["service.add_partline"],
        "added_items": ["service.add_addeditem"],
        "start": ["service.change_workorder"],
        "submit_for_qc": ["service.change_labourline"],
        "quality_check": ["service.quality_check_workorder"],
        "release": ["service.release_workorder"],
        "approve_overrun": ["service.change_workorder"],
        "certificates_checked": ["service.change_workorder"],
        "tyres": ["service.add_tyrereading", "service.change_tyrereading"],
        "road_tests": ["service.add_roadtest"],
        "settle": ["service.add_settlement"],
        "close": ["service.change_workorder"],
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            return queryset
        return queryset.prefetch_related(*WORK_ORDER_PARTS)

    def get_serializer_class(self):
        return WorkOrderSerializer if self.action == "list" else WorkOrderDetailSerializer

    def respond(self, instance, code: int = status.HTTP_200_OK) -> Response:
        return work_order_response(self, instance, code)

    def _child(self, serializer_class, instance) -> Response:
        serializer = serializer_class(instance, context=self.get_serializer_context())
        return Response(serializer.data, status=status.HTTP_201_CREATED)

    @idempotent
    @extend_schema(
        request=WorkOrderCreateSerializer,
        responses=answers(WorkOrderDetailSerializer, status.HTTP_201_CREATED),
    )
    def create(self, request, *args, **kwargs):
        """接车: open a work order. The contact phone must be confirmed with the customer;
        the mileage is recorded as an odometer reading (never lower than the last unless
        `odometer_replaced`); the mileage's recommended items and those declined at earlier
        visits are added; a repair of the same complaint within 30 days is a comeback.
        400 `customer_other_branch`, `vehicle_not_customers`, `phone_not_confirmed`,
        `odometer_lower_than_last`, `odometer_out_of_order`, `appointment_other_vehicle`;
        409 `appointment_not_booked`."""
        data = self.parse(WorkOrderCreateSerializer)
        branch = data.pop("branch", None) or self.working_branch()
        work_order = services.work_order_open(
            branch=branch, customer=data.pop("customer"), vehicle=data.pop("vehicle"),
            appointment=data.pop("appointment", None), by=request.user,
            odometer_replaced=data.pop("odometer_replaced"),
            data={**data, "advisor": data.get("advisor") or request.user},
        )  # fmt: skip
        return self.respond(work_order, status.HTTP_201_CREATED)

    @extend_schema(
        request=LabourLineInputSerializer,
        responses=answers(LabourLineSerializer, status.HTTP_201_CREATED),
    )
    @action(detail=True, methods=["post"], url_path="labour-lines")
    def labour_lines(self, request, pk=None):
        """Add a labour operation (standard hours × rate) naming its technician.
        400 `technician_other_branch`, `added_item_other_work_order`;
        409 `work_order_wrong_status`."""
        work_order = self.get_object()
        data = self.parse(LabourLineInputSerializer)
        line = services.labour_line_add(work_order=work_order, by=request.user, **data)
        return self._child(LabourLineSerializer, line)

    @idempotent
    @extend_schema(
        request=PartLineInputSerializer,
        responses=answers(PartLineSerializer, status.HTTP_201_CREATED),
    )
    @action(detail=True, methods=["post"], url_path="parts-lines")
    def parts_lines(self, request, pk=None):
        """Add parts, reserved at once on an issue voucher the stockroom hands over through
        `part-issues/{issue}/`. 400 `added_item_other_work_order`, `quantity_not_positive`,
        `quantity_not_whole`; 409 `work_order_wrong_status`, `added_item_unconfirmed`,
        `insufficient_stock`."""
        work_order = self.get_object()
        data = self.parse(PartLineInputSerializer)
        line = services.part_line_add(work_order=work_order, by=request.user, **data)
        shown = PartLine.objects.select_related("part", "issue").get(pk=line.pk)
        return self._child(PartLineSerializer, shown)

    @extend_schema(
        request=AddedItemInputSerializer,
        responses=answers(AddedItemSerializer, status.HTTP_201_CREATED),
    )
    @action(detail=True, methods=["post"], url_path="added-items")
    def added_items(self, request, pk=None):
        """增项: work found after check-in, to be put to the customer; nothing is done on it
        before `added-items/{id}/confirm/`. 409 `work_order_wrong_status`."""
        work_order = self.get_object()
        data = self.parse(AddedItemInputSerializer)
        item = services.added_item_add(work_order=work_order, by=request.user, **data)
        return self._child(AddedItemSerializer, item)

    @extend_schema(request=None, responses=answers(WorkOrderDetailSerializer))
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Work starts. 409 `work_order_illegal_transition`."""
        return self.respond(
            services.work_order_start(work_order=self.get_object(), by=request.user)
        )

    @extend_schema(request=None, responses=answers(WorkOrderDetailSerializer))
    @action(detail=True, methods=["post"], url_path="submit-for-qc")
    def submit_for_qc(self, request, pk=None):
        """Hand the car to quality check: every operation signed and, for maintenance, every
        checklist item marked and four tyres measured. 400 `no_labour`;
        409 `labour_not_signed`, `checklist_incomplete`, `tyres_not_measured`,
        `work_order_illegal_transition`."""
        return self.respond(
            services.work_order_submit_for_qc(work_order=self.get_object(), by=request.user)
        )

    @extend_schema(request=QualityCheckSerializer, responses=answers(WorkOrderDetailSerializer))
    @action(detail=True, methods=["post"], url_path="quality-check")
    def quality_check(self, request, pk=None):
        """质检: the inspector signs, no earlier than the last technician; a failed check
        sends the car back to the workshop. Every type but maintenance needs a passed road
        test. 400 `qc_before_technician`, `time_in_future`; 409 `road_test_required`,
        `work_order_wrong_status`."""
        work_order = self.get_object()
        data = self.parse(QualityCheckSerializer)
        return self.respond(
            services.work_order_quality_check(
                work_order=work_order,
                inspector=data.get("inspector") or request.user,
                at=data.get("at") or timezone.now(),
                passed=data["passed"],
                note=data["note"],
                by=request.user,
            )  # fmt: skip
        )

    @extend_schema(request=ReleaseSerializer, responses=answers(WorkOrderDetailSerializer))
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """The team lead signs after QC: the car is ready for the customer.
        400 `team_lead_before_qc`, `time_in_future`; 409 `qc_not_signed`,
        `work_order_illegal_transition`."""
        work_order = self.get_object()
        data = self.parse(ReleaseSerializer)
        return self.respond(
            services.work_order_release(
                work_order=work_order,
                team_lead=data.get("team_lead") or request.user,
                at=data.get("at") or timezone.now(),
                by=request.user,
            )  # fmt: skip
        )

    @extend_schema(request=OverrunApprovalSerializer, responses=answers(WorkOrderDetailSerializer))
    @action(detail=True, methods=["post"], url_path="approve-overrun")
    def approve_overrun(self, request, pk=None):
        """The customer accepts a total more than 10% above the estimate (who and how).
        400 `confirmed_by_required`; 409 `work_order_wrong_status`."""
        work_order = self.get_object()
        data = self.parse(OverrunApprovalSerializer)
        return self.respond(
            services.work_order_approve_overrun(work_order=work_order, by=request.user, **data)
        )

    @extend_schema(request=None, responses=answers(WorkOrderDetailSerializer, conflict=False))
    @action(detail=True, methods=["post"], url_path="certificates-checked")
    def certificates_checked(self, request, pk=None):
        """The warranty and maintenance certificates were seen in the file (needed for a
        first maintenance and for warranty work)."""
        return self.respond(
            services.work_order_certificates_checked(work_order=self.get_object(), by=request.user)
        )

    @extend_schema(
        request=TyreReadingInputSerializer,
        responses=answers(TyreReadingSerializer, status.HTTP_201_CREATED),
    )
    @action(detail=True, methods=["post"])
    def tyres(self, request, pk=None):
        """A tyre's pressure (bar) and tread (mm); measured again, it replaces the reading.
        Below 3.0 mm a replacement is recommended. 400 `pressure_bar`, `tread_mm` out of
        range; 409 `work_order_wrong_status`."""
        work_order = self.get_object()
        data = self.parse(TyreReadingInputSerializer)
        reading = services.tyre_reading_record(work_order=work_order, by=request.user, **data)
        return self._child(TyreReadingSerializer, reading)

    @extend_schema(
        request=RoadTestInputSerializer,
        responses=answers(RoadTestSerializer, status.HTTP_201_CREATED),
    )
    @action(detail=True, methods=["post"], url_path="road-tests")
    def road_tests(self, request, pk=None):
        """试车: who drove, when, how far, and whether it passed. 400 `time_in_future`;
        409 `work_order_wrong_status`."""
        work_order = self.get_object()
        data = self.parse(RoadTestInputSerializer)
        data["tested_by"] = data.get("tested_by") or request.user
        test = services.road_test_record(work_order=work_order, by=request.user, **data)
        return self._child(RoadTestSerializer, test)

    @idempotent
    @extend_schema(
        request=SettleSerializer, responses=answers(SettlementSerializer, status.HTTP_201_CREATED)
    )
    @action(detail=True, methods=["post"])
    def settle(self, request, pk=None):
        """结算: only a car QC and the team lead signed off; every part handed over; a total
        more than 10% above the estimate needs the customer's approval; the customer pays
        their share in full. 400 `discount_out_of_range`, `payment_mismatch`;
        409 `work_order_not_ready`, `certificates_missing`, `parts_not_issued`,
        `overrun_not_approved`."""
        work_order = self.get_object()
        data = self.parse(SettleSerializer)
        settlement = services.work_order_settle(work_order=work_order, by=request.user, **data)
        shown = SettlementViewSet.queryset.get(pk=settlement.pk)
        return Response(
            SettlementSerializer(shown, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @idempotent
    @extend_schema(request=None, responses=answers(WorkOrderDetailSerializer))
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """The customer has the car back: the visit goes on the customer's timeline, and the
        archive and customer care are told. 409 `work_order_illegal_transition`."""
        return self.respond(
            services.work_order_close(work_order=self.get_object(), by=request.user)
        )


# --- Viewsets: lines, added items, recommendations, checklist -----------------------------


class LabourLineViewSet(WorkOrderPartViewSet):
    """A labour line: read, signed done by its technician, or taken off (DELETE) while the
    work order is open or in progress and the line unsigned."""

    queryset = LabourLine.objects.select_related("technician")
    serializer_class = LabourLineSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]
    command_permissions = {
        "sign": ["service.change_labourline"],
        "destroy": ["service.change_workorder", "service.change_labourline"],
    }

    @extend_schema(request=MomentSerializer, responses=answers(LabourLineSerializer))
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        """The technician signs the operation done. 400 `time_in_future`;
        409 `added_item_unconfirmed`, `work_order_wrong_status`."""
        line = self.get_object()
        data = self.parse(MomentSerializer)
        return self.respond(
            services.labour_line_sign(line=line, by=request.user, at=data.get("at"))
        )

    @extend_schema(responses={204: None, 409: CONFLICT})
    def destroy(self, request, *args, **kwargs):
        """Take the operation off. 409 `labour_done`, `work_order_wrong_status`."""
        services.labour_line_remove(line=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PartLineViewSet(WorkOrderPartViewSet):
    """A parts line: read, or taken off (DELETE) before its parts are handed over — its
    reservation is released."""

    queryset = PartLine.objects.select_related("part", "issue")
    serializer_class = PartLineSerializer
    http_method_names = ["get", "delete", "head", "options"]
    command_permissions = {"destroy": ["service.change_workorder", "service.change_partline"]}

    @extend_schema(responses={204: None, 409: CONFLICT})
    def destroy(self, request, *args, **kwargs):
        """Take the parts off; their voucher is cancelled. 409 `parts_already_issued`,
        `work_order_wrong_status`."""
        services.part_line_remove(line=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AddedItemViewSet(WorkOrderPartViewSet):
    queryset = AddedItem.objects.all()
    serializer_class = AddedItemSerializer
    command_permissions = {"confirm": ["service.change_addeditem"]}

    @extend_schema(request=AddedItemConfirmSerializer, responses=answers(AddedItemSerializer))
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """The customer's yes to the added item: who, when and how. 400
        `confirmed_by_required`, `time_in_future`; 409 `added_item_confirmed`,
        `work_order_wrong_status`."""
        item = self.get_object()
        data = self.parse(AddedItemConfirmSerializer)
        return self.respond(services.added_item_confirm(added_item=item, by=request.user, **data))


class RecommendationViewSet(WorkOrderPartViewSet):
    queryset = Recommendation.objects.all()
    serializer_class = RecommendationSerializer
    command_permissions = {"decide": ["service.change_recommendation"]}

    @extend_schema(
        request=RecommendationDecideSerializer, responses=answers(RecommendationSerializer)
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """The customer takes the recommended item, or declines it (shown again at the next
        visit). 409 `work_order_wrong_status`."""
        recommendation = self.get_object()
        data = self.parse(RecommendationDecideSerializer)
        return self.respond(
            services.recommendation_decide(
                recommendation=recommendation, accepted=data["accepted"], by=request.user
            )
        )


class ChecklistItemViewSet(WorkOrderPartViewSet):
    queryset = ChecklistItem.objects.all()
    serializer_class = ChecklistItemSerializer
    command_permissions = {"mark": ["service.change_checklistitem"]}

    @extend_schema(request=ChecklistMarkSerializer, responses=answers(ChecklistItemSerializer))
    @action(detail=True, methods=["post"])
    def mark(self, request, pk=None):
        """保养表: tick (`done`) or strike (`struck`) the item. 409 `work_order_wrong_status`."""
        item = self.get_object()
        data = self.parse(ChecklistMarkSerializer)
        return self.respond(
            services.checklist_item_mark(item=item, result=data["result"], by=request.user)
        )


# --- Viewsets: settlements, claims, rescue ------------------------------------------------


class SettlementViewSet(
    BranchScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """结算单 of your branches, with their lines; made by `work-orders/{id}/settle/`."""

    queryset = Settlement.objects.select_related("work_order").prefetch_related("lines")
    serializer_class = SettlementSerializer
    filterset_fields = ["work_order", "payment_method"]
    search_fields = ["work_order__plate", "offer_code"]
    ordering_fields = ["id", "settled_at", "total"]


class WarrantyClaimViewSet(ServiceViewSet):
    """索赔 of your branches' work orders, and their status with the manufacturer."""

    queryset = WarrantyClaim.objects.select_related("work_order", "failed_part")
    serializer_class = WarrantyClaimSerializer
    filterset_class = WarrantyClaimFilter
    search_fields = ["cause", "manufacturer_reference", "failed_part__number"]
    ordering_fields = ["id", "created_at"]
    command_permissions = {"advance": ["service.change_warrantyclaim"]}

    @idempotent
    @extend_schema(
        request=WarrantyClaimCreateSerializer,
        responses=answers(WarrantyClaimSerializer, status.HTTP_201_CREATED),
    )
    def create(self, request, *args, **kwargs):
        """Claim a failed part from the manufacturer; the certificates must have been
        checked. 409 `certificates_missing`."""
        data = self.parse(WarrantyClaimCreateSerializer)
        claim = services.warranty_claim_create(by=request.user, **data)
        return self.respond(claim, status.HTTP_201_CREATED)

    @extend_schema(
        request=WarrantyClaimAdvanceSerializer, responses=answers(WarrantyClaimSerializer)
    )
    @action(detail=True, methods=["post"])
    def advance(self, request, pk=None):
        """Draft → submitted → approved or rejected → paid. 409 `claim_illegal_transition`."""
        claim = self.get_object()
        data = self.parse(WarrantyClaimAdvanceSerializer)
        return self.respond(services.warranty_claim_advance(claim=claim, by=request.user, **data))


class InsuranceClaimViewSet(ServiceViewSet):
    """保险理赔 of your branches' accident repairs."""

    queryset = InsuranceClaim.objects.select_related("work_order")
    serializer_class = InsuranceClaimSerializer
    filterset_class = InsuranceClaimFilter
    search_fields = ["insurer", "policy_number", "claim_number"]
    ordering_fields = ["id", "created_at", "accident_date"]
    command_permissions = {"advance": ["service.change_insuranceclaim"]}

    @idempotent
    @extend_schema(
        request=InsuranceClaimCreateSerializer,
        responses=answers(InsuranceClaimSerializer, status.HTTP_201_CREATED, conflict=False),
    )
    def create(self, request, *args, **kwargs):
        """Report the claim of an accident repair (bodywork, paint or repair).
        400 `not_an_accident_repair`, or a field error (one claim per work order)."""
        data = self.parse(InsuranceClaimCreateSerializer)
        work_order = data.pop("work_order")
        claim = services.insurance_claim_create(work_order=work_order, by=request.user, data=data)
        return self.respond(claim, status.HTTP_201_CREATED)

    @extend_schema(
        request=InsuranceClaimAdvanceSerializer, responses=answers(InsuranceClaimSerializer)
    )
    @action(detail=True, methods=["post"])
    def advance(self, request, pk=None):
        """Reported → assessed (with `assessed_amount` and `assessor`) → approved → repaired
        → paid. 400 `assessed_amount_required`, `share_above_assessed`;
        409 `claim_illegal_transition`."""
        claim = self.get_object()
        data = self.parse(InsuranceClaimAdvanceSerializer)
        return self.respond(services.insurance_claim_advance(claim=claim, by=request.user, **data))


class RescueViewSet(ContactPiiLoggedMixin, ServiceViewSet):
    """救援 of your branches: `?day=`, `?status=`. Cursor pagination."""

    queryset = Rescue.objects.all()
    serializer_class = RescueSerializer
    filterset_class = RescueFilter
    pagination_class = CursorPagination
    search_fields = ["caller_name", "location", "problem"]
    ordering_fields = ["id", "called_at"]
    command_permissions = {
        "send": ["service.change_rescue"],
        "arrive": ["service.change_rescue"],
        "finish": ["service.change_rescue"],
    }

    @idempotent
    @extend_schema(
        request=RescueCreateSerializer,
        responses=answers(RescueSerializer, status.HTTP_201_CREATED, conflict=False),
    )
    def create(self, request, *args, **kwargs):
        """Log a roadside call. 400 `time_in_future`, `vehicle_not_customers`."""
        data = self.parse(RescueCreateSerializer)
        branch = data.pop("branch", None) or self.working_branch()
        rescue = services.rescue_log(branch=branch, by=request.user, data=data)
        return self.respond(rescue, status.HTTP_201_CREATED)

    @extend_schema(request=RescueDispatchSerializer, responses=answers(RescueSerializer))
    @action(detail=True, methods=["post"], url_path="dispatch")
    def send(self, request, pk=None):
        """Send someone. 400 `time_out_of_order`; 409 `rescue_wrong_status`."""
        rescue = self.get_object()
        data = self.parse(RescueDispatchSerializer)
        return self.respond(services.rescue_dispatch(rescue=rescue, by=request.user, **data))

    @extend_schema(request=MomentSerializer, responses=answers(RescueSerializer))
    @action(detail=True, methods=["post"])
    def arrive(self, request, pk=None):
        """The team is there. 400 `time_out_of_order`; 409 `rescue_wrong_status`."""
        rescue = self.get_object()
        data = self.parse(MomentSerializer)
        return self.respond(services.rescue_arrive(rescue=rescue, by=request.user, **data))

    @extend_schema(request=RescueFinishSerializer, responses=answers(RescueSerializer))
    @action(detail=True, methods=["post"])
    def finish(self, request, pk=None):
        """What came of it, and the work order a towed car came in on.
        400 `work_order_other_branch`; 409 `rescue_wrong_status`."""
        rescue = self.get_object()
        data = self.parse(RescueFinishSerializer)
        return self.respond(services.rescue_finish(rescue=rescue, by=request.user, **data))


# --- The technician board and the service figures -----------------------------------------


class BoardQuerySerializer(serializers.Serializer):
    branch = BranchField(
        required=False, help_text=gettext_lazy("One of your branches; the one you work in.")
    )


class BoardLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    work_order = serializers.IntegerField(source="work_order_id")
    work_order_number = serializers.CharField(source="work_order.number")
    work_order_status = serializers.CharField(source="work_order.status")
    plate = serializers.CharField(source="work_order.plate")
    operation = serializers.CharField()
    standard_hours = serializers.DecimalField(max_digits=6, decimal_places=2)
    added_item = serializers.IntegerField(source="added_item_id", allow_null=True)
    done_at = serializers.DateTimeField(allow_null=True)


class BoardRowSerializer(serializers.Serializer):
    technician = serializers.IntegerField()
    technician_name = serializers.CharField()
    lines = BoardLineSerializer(many=True)


class TechnicianBoardView(APIView):
    """The workshop board: every technician's operations on cars in the workshop (open, in
    progress, quality check), the undone first."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[BoardQuerySerializer],
        responses={200: BoardRowSerializer(many=True), 400: REFUSED},
    )
    def get(self, request):
        if not request.user.has_perm("service.view_labourline"):
            raise PermissionDenied()
        query = BoardQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        branch = query.validated_data.get("branch") or working_branch(request)
        if branch is None:
            raise DomainError("no_branch", _("Your account is not linked to any branch."))
        rows = [
            {"technician": user.pk, "technician_name": display_name(user), "lines": lines}
            for user, lines in selectors.technician_board(branch_id=branch.pk)
        ]
        return Response(BoardRowSerializer(rows, many=True).data)


# A period longer than this is refused rather than scanned.
RATIO = {"max_digits": 8, "decimal_places": 3, "allow_null": True}


class ServiceFiguresQuerySerializer(PeriodQuerySerializer):
    advisor = StaffField(
        required=False, help_text=gettext_lazy("One service advisor's work orders only.")
    )


class TechnicianFiguresSerializer(serializers.Serializer):
    technician = serializers.IntegerField()
    technician_name = serializers.CharField()
    hours = serializers.DecimalField(max_digits=10, decimal_places=2)
    lines = serializers.IntegerField()


class ServiceFiguresSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    entries = serializers.IntegerField(help_text=gettext_lazy("入库台次: work orders opened."))
    settled = serializers.IntegerField(help_text=gettext_lazy("Work orders settled."))
    revenue = money_field(help_text=gettext_lazy("Settled totals (CNY)."))
    revenue_per_entry = money_field(
        allow_null=True, help_text=gettext_lazy("单车产值: revenue / work orders settled.")
    )
    labour_hours = serializers.DecimalField(max_digits=10, decimal_places=2)
    labour_revenue = money_field()
    parts_revenue = money_field()
    parts_to_labour = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    appointment_rate = serializers.DecimalField(
        **RATIO, help_text=gettext_lazy("Entries from an appointment / entries (0–1).")
    )
    comebacks = serializers.IntegerField(
        help_text=gettext_lazy("Entries repeating a repair within 30 days.")
    )
    technicians = TechnicianFiguresSerializer(
        many=True, help_text=gettext_lazy("Hours sold per technician, the most first.")
    )


class ServiceFiguresView(APIView):
    """售后指标: entries, revenue per entry, labour hours sold, the parts / labour mix, the
    appointment rate, comebacks and technician productivity for a period, over one of your
    branches or all of them."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[ServiceFiguresQuerySerializer],
        responses={200: ServiceFiguresSerializer, 400: REFUSED},
    )
    def get(self, request):
        if not request.user.has_perm("service.view_settlement"):
            raise PermissionDenied()
        query = ServiceFiguresQuerySerializer(
            data=request.query_params, context={"request": request}
        )
        query.is_valid(raise_exception=True)
        data = query.validated_data
        branch = data.get("branch")
        advisor = data.get("advisor")
        figures = selectors.service_figures(
            branch_ids=[branch.pk] if branch else branch_ids_for(request.user),
            start=data["start"],
            end=data["end"],
            advisor_id=advisor.pk if advisor else None,
        )
        people = User.objects.in_bulk([row["technician"] for row in figures["technicians"]])
        figures["technicians"] = [
            {
                "technician": row["technician"],
                "technician_name": display_name(people.get(row["technician"])),
                "hours": row["hours"],
                "lines": row["lines"],
            }
            for row in figures["technicians"]
        ]
        return Response(ServiceFiguresSerializer(figures).data)
