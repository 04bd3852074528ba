"""REST resources of the sales funnel: leads and their activities, showroom traffic, test
drives, trade-ins, quotes, orders, payments, stock vehicles and deliveries.

Each endpoint parses its input, calls one service and renders the result; the rules live in
`sales.services`. Records are read through the branch scope, and every id a request names is
looked up in the caller's branches, so another branch's record "does not exist".
"""

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.api import BranchStaffField, ScopedCustomerField
from customers.vin import normalize_vin, validate_vin
from dealer_crm.api import (
    REFUSED,
    BranchField,
    CommandViewSet,
    PiiLoggedViewSetMixin,
    PiiMaskedSerializerMixin,
    ScopedRecordField,
    answers,
)
from dealer_crm.idempotency import idempotent
from dealer_crm.pagination import CursorPagination
from dealer_crm.pii import mask_id_number, mask_phone

from . import selectors, services
from .choices import (
    DeliveryCheck,
    DeliveryDocument,
    DepositHandling,
    LostReason,
    TradeInDecision,
)
from .filters import (
    ActivityFilter,
    DeliveryFilter,
    LeadFilter,
    OrderFilter,
    PaymentFilter,
    QuoteFilter,
    ShowroomTrafficFilter,
    StockVehicleFilter,
    TestDriveFilter,
    TradeInFilter,
)
from .models import (
    Activity,
    Delivery,
    Lead,
    Order,
    Payment,
    Quote,
    QuoteApproval,
    ShowroomTraffic,
    StockVehicle,
    TestDrive,
    TradeIn,
)
from .selectors import FUNNEL_DIMENSIONS

# --- Fields naming other records ----------------------------------------------------------


class ScopedLeadField(ScopedRecordField):
    model = Lead


class ScopedStockVehicleField(ScopedRecordField):
    model = StockVehicle


class ScopedTradeInField(ScopedRecordField):
    model = TradeIn


class ScopedQuoteField(ScopedRecordField):
    model = Quote


class ScopedOrderField(ScopedRecordField):
    model = Order


@extend_schema_field(OpenApiTypes.INT)
class ScopedBranchField(BranchField):
    """A branch id of your branches; defaults to the one you are working in."""


@extend_schema_field(OpenApiTypes.INT)
class StaffField(BranchStaffField):
    """A user id: a colleague of one of your branches."""


# --- Serializers: leads and activities ----------------------------------------------------

LEAD_STAGE_TIMES = [
    "handed_over_at", "first_response_at", "status_changed_at", "verified_at", "verified_by",
    "contacted_at", "visited_at", "test_driven_at", "quoted_at", "ordered_at", "delivered_at",
    "closed_at",
]  # fmt: skip


class LeadSerializer(PiiMaskedSerializerMixin, serializers.ModelSerializer):
    """A lead (线索). `mobile` is masked (138****5678) without `customers.view_pii`."""

    branch = BranchField(required=False)
    consultant = StaffField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("On create; defaults to you. Later changed through assign/."),
    )
    referrer = ScopedCustomerField(required=False, allow_null=True)
    follow_up_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Lead
        fields = [
            "id", "branch", *services.LEAD_EDITABLE_FIELDS, "consultant", "status",
            "lost_reason", "closing_note", "customer", "duplicate_of", "matching_customer",
            "next_follow_up_on", "follow_up_overdue", *LEAD_STAGE_TIMES, "created_by",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "status", "lost_reason", "closing_note", "customer", "duplicate_of",
            "matching_customer", "next_follow_up_on", *LEAD_STAGE_TIMES, "created_by",
            "created_at", "updated_at",
        ]  # fmt: skip
        pii_fields = {"mobile": mask_phone}


class LeadUpdateSerializer(LeadSerializer):
    branch = BranchField(read_only=True)
    consultant = StaffField(read_only=True)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class RequiredNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, allow_blank=True)


class LeadAssignSerializer(serializers.Serializer):
    consultant = StaffField()


class LeadLoseSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=LostReason.choices)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class LeadLinkCustomerSerializer(serializers.Serializer):
    customer = ScopedCustomerField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("An existing customer; leave out to make one from the lead."),
    )


class ActivitySerializer(serializers.ModelSerializer):
    lead = ScopedLeadField()
    occurred_at = serializers.DateTimeField(required=False)

    class Meta:
        model = Activity
        fields = ["id", "lead", "kind", "outcome", "note", "occurred_at", "by", "next_follow_up_on"]
        read_only_fields = ["by"]


# --- Serializers: showroom traffic, stock, test drives, trade-ins ---------------------------

TRAFFIC_TOTALS = ["first_visits", "return_visits", "with_appointment", "without_appointment"]


class ShowroomTrafficSerializer(serializers.ModelSerializer):
    branch = BranchField(required=False)
    first_visits = serializers.IntegerField(read_only=True)
    return_visits = serializers.IntegerField(read_only=True)
    with_appointment = serializers.IntegerField(read_only=True)
    without_appointment = serializers.IntegerField(read_only=True)
    visits = serializers.IntegerField(read_only=True)

    class Meta:
        model = ShowroomTraffic
        fields = ["id", "branch", "day", *ShowroomTraffic.COUNTERS, *TRAFFIC_TOTALS, "visits"]
        # One row per branch and day: the service adds to the day's row instead of refusing.
        validators = []


class ShowroomTrafficUpdateSerializer(ShowroomTrafficSerializer):
    branch = BranchField(read_only=True)

    class Meta(ShowroomTrafficSerializer.Meta):
        read_only_fields = ["day"]


class TrafficCountSerializer(serializers.Serializer):
    branch = ScopedBranchField(required=False, help_text=gettext_lazy("Defaults to your branch."))
    day = serializers.DateField(required=False, help_text=gettext_lazy("Defaults to today."))
    counter = serializers.ChoiceField(choices=ShowroomTraffic.COUNTERS)
    step = serializers.ChoiceField(
        choices=[1, -1],
        default=1,
        help_text=gettext_lazy("1 counts a visitor; -1 takes back a slip."),
    )


class StockVehicleSerializer(serializers.ModelSerializer):
    branch = BranchField(required=False)
    days_in_stock = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text=gettext_lazy("Whole days since arrival; null while in transit."),
    )
    order = serializers.SerializerMethodField()

    class Meta:
        model = StockVehicle
        fields = [
            "id", "branch", "vin", "brand", "series", "configuration", "colour", "model_year",
            "list_price", "status", "arrival_date", "days_in_stock", "pdi_done_on", "pdi_by",
            "pdi_note", "order", "created_at",
        ]  # fmt: skip
        read_only_fields = ["pdi_done_on", "pdi_by", "pdi_note", "created_at"]
        # The service names the record that already has the VIN (stock or a customer's car).
        extra_kwargs = {"vin": {"validators": [validate_vin]}}

    def get_order(self, vehicle: StockVehicle) -> int | None:
        """The order the vehicle is allocated to."""
        try:
            return vehicle.order.pk
        except ObjectDoesNotExist:
            return None


class StockVehicleUpdateSerializer(StockVehicleSerializer):
    branch = BranchField(read_only=True)

    class Meta(StockVehicleSerializer.Meta):
        read_only_fields = [
            "vin", "status", "arrival_date", "pdi_done_on", "pdi_by", "pdi_note", "created_at",
        ]  # fmt: skip


class ArrivalSerializer(serializers.Serializer):
    arrival_date = serializers.DateField(
        required=False, help_text=gettext_lazy("Defaults to today.")
    )


class PdiSerializer(serializers.Serializer):
    done_on = serializers.DateField(required=False, help_text=gettext_lazy("Defaults to today."))
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class DemoSerializer(serializers.Serializer):
    demo = serializers.BooleanField(
        default=True,
        help_text=gettext_lazy("true makes the vehicle a demo car; false returns it to stock."),
    )


class TestDriveSerializer(PiiMaskedSerializerMixin, serializers.ModelSerializer):
    """A test drive (试乘试驾). The licence number is masked without `customers.view_pii`."""

    lead = ScopedLeadField()
    demo_vehicle = ScopedStockVehicleField()

    class Meta:
        model = TestDrive
        fields = [
            "id", "branch", "lead", "demo_vehicle", "consultant", "driver_name",
            "driver_licence_number", "starts_at", "ends_at", "route", "status",
            "agreement_signed", "feedback", "created_at",
        ]  # fmt: skip
        read_only_fields = ["branch", "consultant", "status", "feedback", "created_at"]
        pii_fields = {"driver_licence_number": mask_id_number}
        # Double bookings are the service's to refuse, with the clashing slot in the message.
        validators = []


class TestDriveCompleteSerializer(serializers.Serializer):
    agreement_signed = serializers.BooleanField(default=False)
    feedback = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class TestDriveCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class TradeInSerializer(serializers.ModelSerializer):
    lead = ScopedLeadField()
    appraised_on = serializers.DateField(required=False)

    class Meta:
        model = TradeIn
        fields = [
            "id", "branch", "lead", *services.TRADE_IN_FIELDS, "appraised_by", "decision",
            "created_at",
        ]  # fmt: skip
        read_only_fields = ["branch", "appraised_by", "decision", "created_at"]


class TradeInDecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=[
            (TradeInDecision.ACCEPTED, TradeInDecision.ACCEPTED.label),
            (TradeInDecision.DECLINED, TradeInDecision.DECLINED.label),
        ]
    )


# --- Serializers: quotes, orders, payments, deliveries -------------------------------------


class QuoteApprovalSerializer(serializers.ModelSerializer):
    class Meta:
        model = QuoteApproval
        fields = ["id", "decision", "discount", "by", "at", "note"]
        read_only_fields = fields


class QuoteSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    lead = ScopedLeadField()
    trade_in = ScopedTradeInField(required=False, allow_null=True)
    approvals = QuoteApprovalSerializer(many=True, read_only=True)

    class Meta:
        model = Quote
        fields = [
            "id", "number", "branch", "lead", "consultant", *Quote.PRICED_FIELDS,
            "trade_in_value", "total", "status", "needs_approval", "sent_at", "approvals",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "branch", "consultant", "trade_in_value", "total", "status", "needs_approval",
            "sent_at", "created_at", "updated_at",
        ]  # fmt: skip
        # A trade-in already on another quote is the service's to refuse (it names the quote).
        validators = []


class QuoteUpdateSerializer(QuoteSerializer):
    lead = ScopedLeadField(read_only=True)


class OrderSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    vin = serializers.SerializerMethodField()
    paid_total = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        read_only=True,
        help_text=gettext_lazy("What the customer has paid so far (CNY)."),
    )
    outstanding = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id", "number", "branch", "customer", "customer_name", "lead", "quote", "fleet_order",
            "consultant", "brand", "series", "configuration", "colour", "total_price",
            "paid_total", "outstanding", "status", "signed_at", "stock_vehicle", "vin",
            "allocated_at", "invoice_number", "invoiced_at", "delivered_at", "cancelled_at",
            "cancel_reason", "deposit_handling", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_vin(self, order: Order) -> str | None:
        """The VIN of the allocated vehicle."""
        return order.stock_vehicle.vin if order.stock_vehicle_id else None

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_outstanding(self, order: Order) -> str:
        """What is still to be paid (CNY)."""
        return str(order.total_price - order.paid_total)


class OrderCreateSerializer(serializers.Serializer):
    quote = ScopedQuoteField(help_text=gettext_lazy("A quote sent to the customer."))
    customer = ScopedCustomerField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy(
            "The buying customer; leave out to use (or make) the lead's customer."
        ),
    )


class OrderAllocateSerializer(serializers.Serializer):
    stock_vehicle = ScopedStockVehicleField(required=False)
    vin = serializers.CharField(max_length=30, required=False)

    def validate(self, attrs):
        if ("stock_vehicle" in attrs) == ("vin" in attrs):
            raise serializers.ValidationError(
                {"stock_vehicle": [_("Name the vehicle by its id or by its VIN (one of them).")]}
            )
        if "vin" in attrs:
            vin = normalize_vin(attrs.pop("vin"))
            vehicle = (
                StockVehicle.objects.for_user(self.context["request"].user).filter(vin=vin).first()
            )
            if vehicle is None:
                raise serializers.ValidationError(
                    {
                        "vin": [
                            _("No stock vehicle of your branches has the VIN %(vin)s.")
                            % {"vin": vin}
                        ]
                    }
                )
            attrs["stock_vehicle"] = vehicle
        return attrs


class OrderInvoiceSerializer(serializers.Serializer):
    invoice_number = serializers.CharField(max_length=30, allow_blank=True)


class OrderCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, allow_blank=True)
    deposit_handling = serializers.ChoiceField(
        choices=DepositHandling.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("Required when money was paid: refunded, forfeited or transferred."),
    )
    lost_reason = serializers.ChoiceField(
        choices=LostReason.choices,
        default=LostReason.OTHER,
        help_text=gettext_lazy("Why the lead this order had won is lost after all."),
    )


class PaymentSerializer(serializers.ModelSerializer):
    order = ScopedOrderField()

    class Meta:
        model = Payment
        fields = [
            "id", "order", "kind", "amount", "due_on", "paid_on", "method", "reference",
            "recorded_by", "created_at",
        ]  # fmt: skip
        read_only_fields = ["recorded_by", "created_at"]


class PaymentReceiveSerializer(serializers.Serializer):
    paid_on = serializers.DateField(required=False, help_text=gettext_lazy("Defaults to today."))
    method = serializers.ChoiceField(
        choices=Payment._meta.get_field("method").choices, required=False, allow_blank=True
    )
    reference = serializers.CharField(max_length=60, required=False, allow_blank=True)


class DeliverySerializer(serializers.ModelSerializer):
    checklist = serializers.ListField(child=serializers.ChoiceField(choices=DeliveryCheck.choices))
    documents = serializers.ListField(
        child=serializers.ChoiceField(choices=DeliveryDocument.choices)
    )

    class Meta:
        model = Delivery
        fields = [
            "id", "order", "delivered_on", "delivered_by", "checklist", "documents",
            "odometer_km", "note", "vehicle", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class DeliveryCreateSerializer(serializers.Serializer):
    order = ScopedOrderField(help_text=gettext_lazy("An invoiced order."))
    delivered_on = serializers.DateField(
        required=False, help_text=gettext_lazy("Defaults to today.")
    )
    checklist = serializers.ListField(
        child=serializers.ChoiceField(choices=DeliveryCheck.choices),
        help_text=gettext_lazy("Every check done with the customer."),
    )
    documents = serializers.ListField(
        child=serializers.ChoiceField(choices=DeliveryDocument.choices),
        help_text=gettext_lazy("The documents handed over."),
    )
    odometer_km = serializers.IntegerField(
        min_value=0, max_value=2_000_000, required=False, default=0
    )
    plate = serializers.CharField(max_length=12, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


# --- Viewsets ---------------------------------------------------------------------------


class LeadPiiLoggedMixin(PiiLoggedViewSetMixin):
    """Unmasked lead mobiles and driving licences are logged against the leads."""

    def pii_logged_ids(self, objects) -> dict[str, list[int]]:
        return {"lead_ids": [getattr(obj, "lead_id", obj.pk) for obj in objects]}


class LeadViewSet(LeadPiiLoggedMixin, CommandViewSet):
    """Leads (线索) of your branches. The mobile number is masked without `customers.view_pii`;
    unmasked views are logged."""

    queryset = Lead.objects.all()
    serializer_class = LeadSerializer
    update_serializer_class = LeadUpdateSerializer
    filterset_class = LeadFilter
    ordering_fields = ["id", "created_at", "next_follow_up_on", "name"]
    command_permissions = {
        "verify": ["sales.change_lead"],
        "assign": ["sales.change_lead", "sales.assign_lead"],
        "lose": ["sales.change_lead"],
        "invalidate": ["sales.change_lead"],
        "link_customer": ["sales.change_lead"],
    }

    @idempotent
    @extend_schema(responses=answers(LeadSerializer, status.HTTP_201_CREATED, conflict=False))
    def create(self, request, *args, **kwargs):
        """Capture a lead. You are its consultant unless one is named; a lead or customer with
        the same mobile is flagged in `duplicate_of` / `matching_customer`, not refused."""
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        branch = data.pop("branch", None) or self.working_branch()
        serializer.instance = services.lead_create(branch=branch, by=self.request.user, data=data)

    @extend_schema(responses=answers(LeadUpdateSerializer))
    def update(self, request, *args, **kwargs):
        """Change what is known about an open lead (409 `lead_closed` once closed)."""
        return super().update(request, *args, **kwargs)

    @extend_schema(responses=answers(LeadUpdateSerializer))
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_update(self, serializer):
        serializer.instance = services.lead_update(
            lead=serializer.instance, by=self.request.user, data=dict(serializer.validated_data)
        )

    @extend_schema(request=NoteSerializer, responses=answers(LeadSerializer))
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Confirm by phone that the lead is a real prospect; it then counts as qualified.
        409 `lead_already_verified`, `lead_closed`."""
        lead = self.get_object()
        data = self.parse(NoteSerializer)
        return self.respond(services.lead_verify(lead=lead, by=request.user, note=data["note"]))

    @extend_schema(request=LeadAssignSerializer, responses=answers(LeadSerializer))
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Hand the lead to a sales consultant of its branch (needs `sales.assign_lead`).
        400 `lead_assignee_invalid`; 409 `lead_closed`."""
        lead = self.get_object()
        data = self.parse(LeadAssignSerializer)
        return self.respond(
            services.lead_assign(lead=lead, consultant=data["consultant"], by=request.user)
        )

    @extend_schema(request=LeadLoseSerializer, responses=answers(LeadSerializer))
    @action(detail=True, methods=["post"])
    def lose(self, request, pk=None):
        """战败: close the lead as lost, with the reason. 409 `lead_closed`."""
        lead = self.get_object()
        data = self.parse(LeadLoseSerializer)
        return self.respond(
            services.lead_lose(lead=lead, by=request.user, reason=data["reason"], note=data["note"])
        )

    @extend_schema(request=RequiredNoteSerializer, responses=answers(LeadSerializer))
    @action(detail=True, methods=["post"])
    def invalidate(self, request, pk=None):
        """Close the lead as no prospect at all (a wrong number, a test entry), saying why.
        400 `invalid_note_required`; 409 `lead_closed`."""
        lead = self.get_object()
        data = self.parse(RequiredNoteSerializer)
        return self.respond(services.lead_invalidate(lead=lead, by=request.user, note=data["note"]))

    @extend_schema(request=LeadLinkCustomerSerializer, responses=answers(LeadSerializer))
    @action(detail=True, methods=["post"], url_path="link-customer")
    def link_customer(self, request, pk=None):
        """Link the lead to an existing customer, or (without `customer`) make one from the
        lead; making one needs `customers.add_customer`. 409 `lead_already_linked`."""
        lead = self.get_object()
        data = self.parse(LeadLinkCustomerSerializer)
        customer = data.get("customer")
        if customer is None and not request.user.has_perm("customers.add_customer"):
            raise PermissionDenied()
        services.lead_link_customer(lead=lead, by=request.user, customer=customer)
        return self.respond(Lead.objects.get(pk=lead.pk))

    @extend_schema(responses=LeadSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="follow-ups")
    def follow_ups(self, request):
        """Your open leads whose follow-up is due today or overdue, the longest waiting first.
        `follow_up_overdue` marks the overdue ones."""
        leads = self.filter_queryset(
            selectors.follow_up_today(user=request.user, consultant=request.user)
        )
        page = self.paginate_queryset(leads)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ActivityCursorPagination(CursorPagination):
    """Newest first by when it happened."""

    ordering = ("-occurred_at", "-id")


class ActivityViewSet(CommandViewSet):
    """Calls, visits and messages with leads. Logged, never edited; `?lead=` for one lead's."""

    queryset = Activity.objects.all()
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    filter_backends = [DjangoFilterBackend]
    pagination_class = ActivityCursorPagination
    http_method_names = ["get", "post", "head", "options"]

    @idempotent
    @extend_schema(responses=answers(ActivitySerializer, status.HTTP_201_CREATED))
    def create(self, request, *args, **kwargs):
        """Log a call, visit or message. The next follow-up follows the lead's intent level
        unless given. 400 `activity_in_future`, `follow_up_in_past`; 409 `lead_closed`."""
        data = self.parse(ActivitySerializer)
        activity = services.activity_log(lead=data.pop("lead"), by=request.user, **data)
        return self.respond(activity, status.HTTP_201_CREATED)


class ShowroomTrafficViewSet(CommandViewSet):
    """展厅客流: each day's front-desk counts per branch."""

    queryset = ShowroomTraffic.objects.all()
    serializer_class = ShowroomTrafficSerializer
    update_serializer_class = ShowroomTrafficUpdateSerializer
    filterset_class = ShowroomTrafficFilter
    ordering_fields = ["day"]

    @extend_schema(
        responses={
            200: ShowroomTrafficSerializer,
            201: ShowroomTrafficSerializer,
            400: REFUSED,
        }
    )
    def create(self, request, *args, **kwargs):
        """Set a day's counts (the end-of-day sheet): 201 for a day without counts yet, 200
        when the day's row existed. Counters left out keep their value.
        400 `traffic_future_day`."""
        data = self.parse(ShowroomTrafficSerializer)
        branch = data.pop("branch", None) or self.working_branch()
        day = data.pop("day")
        existed = ShowroomTraffic.objects.filter(branch=branch, day=day).exists()
        traffic = services.showroom_traffic_save(
            branch=branch, by=request.user, day=day, counts=data
        )
        return self.respond(traffic, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        traffic = serializer.instance
        serializer.instance = services.showroom_traffic_save(
            branch=traffic.branch,
            by=self.request.user,
            day=traffic.day,
            counts=dict(serializer.validated_data),
        )

    @idempotent
    @extend_schema(
        request=TrafficCountSerializer,
        responses=answers(ShowroomTrafficSerializer, conflict=False),
    )
    @action(detail=False, methods=["post"])
    def count(self, request):
        """One tap at the front desk: add a visitor to a counter (or take one back with
        step -1). 400 `traffic_below_zero`, `traffic_future_day`."""
        data = self.parse(TrafficCountSerializer)
        traffic = services.showroom_traffic_count(
            branch=data.get("branch") or self.working_branch(),
            by=request.user,
            day=data.get("day") or timezone.localdate(),
            counter=data["counter"],
            step=data["step"],
        )
        return self.respond(traffic)


class StockVehicleViewSet(CommandViewSet):
    """整车库存: new vehicles by VIN, with days in stock and the order each is allocated to."""

    queryset = StockVehicle.objects.all()
    serializer_class = StockVehicleSerializer
    update_serializer_class = StockVehicleUpdateSerializer
    filterset_class = StockVehicleFilter
    ordering_fields = ["id", "arrival_date", "days_in_stock", "list_price", "created_at"]
    command_permissions = {
        "arrive": ["sales.change_stockvehicle"],
        "pdi": ["sales.record_pdi"],
        "demo": ["sales.change_stockvehicle"],
    }

    def get_queryset(self):
        # Annotated per request: days in stock count to today.
        return super().get_queryset().with_days_in_stock().select_related("order")

    def reload(self, instance):
        return StockVehicle.objects.with_days_in_stock().select_related("order").get(pk=instance.pk)

    @idempotent
    @extend_schema(
        responses=answers(StockVehicleSerializer, status.HTTP_201_CREATED, conflict=False)
    )
    def create(self, request, *args, **kwargs):
        """Add a vehicle in transit, in stock or as a demo car. 400 `duplicate_vin`,
        `stock_status_invalid`."""
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        branch = data.pop("branch", None) or self.working_branch()
        vehicle = services.stock_vehicle_create(branch=branch, by=self.request.user, data=data)
        serializer.instance = self.reload(vehicle)

    def perform_update(self, serializer):
        vehicle = services.stock_vehicle_update(
            stock_vehicle=serializer.instance,
            by=self.request.user,
            data=dict(serializer.validated_data),
        )
        serializer.instance = self.reload(vehicle)

    @extend_schema(request=ArrivalSerializer, responses=answers(StockVehicleSerializer))
    @action(detail=True, methods=["post"])
    def arrive(self, request, pk=None):
        """The vehicle arrived at the branch: it is in stock from that day.
        400 `arrival_in_future`; 409 `vehicle_already_arrived`."""
        vehicle = self.get_object()
        data = self.parse(ArrivalSerializer)
        return self.respond(
            services.stock_vehicle_arrive(
                stock_vehicle=vehicle,
                by=request.user,
                arrival_date=data.get("arrival_date") or timezone.localdate(),
            )
        )

    @extend_schema(request=PdiSerializer, responses=answers(StockVehicleSerializer))
    @action(detail=True, methods=["post"])
    def pdi(self, request, pk=None):
        """售前检查: record the pre-delivery inspection (needs `sales.record_pdi`).
        400 `pdi_date_invalid`; 409 `vehicle_not_arrived`, `stock_vehicle_delivered`."""
        vehicle = self.get_object()
        data = self.parse(PdiSerializer)
        return self.respond(
            services.stock_vehicle_record_pdi(
                stock_vehicle=vehicle,
                by=request.user,
                done_on=data.get("done_on") or timezone.localdate(),
                note=data["note"],
            )
        )

    @extend_schema(request=DemoSerializer, responses=answers(StockVehicleSerializer))
    @action(detail=True, methods=["post"])
    def demo(self, request, pk=None):
        """Make a vehicle in stock a demo car, or (demo=false) return it to stock.
        409 `stock_status_conflict`, `demo_car_booked`."""
        vehicle = self.get_object()
        data = self.parse(DemoSerializer)
        return self.respond(
            services.stock_vehicle_set_demo(
                stock_vehicle=vehicle, by=request.user, demo=data["demo"]
            )
        )


class TestDriveViewSet(LeadPiiLoggedMixin, CommandViewSet):
    """试乘试驾: bookings of demo cars. The licence number is masked without `view_pii`;
    unmasked views are logged."""

    queryset = TestDrive.objects.all()
    serializer_class = TestDriveSerializer
    filterset_class = TestDriveFilter
    ordering_fields = ["id", "starts_at"]
    http_method_names = ["get", "post", "head", "options"]
    command_permissions = {
        "complete": ["sales.change_testdrive"],
        "cancel": ["sales.change_testdrive"],
    }

    @idempotent
    @extend_schema(responses=answers(TestDriveSerializer, status.HTTP_201_CREATED))
    def create(self, request, *args, **kwargs):
        """Book a demo car for a verified lead. 400 `not_a_demo_car`; 409 `demo_car_booked`,
        `lead_not_verified`, `lead_closed`."""
        data = self.parse(TestDriveSerializer)
        lead = data.pop("lead")
        test_drive = services.test_drive_book(lead=lead, by=request.user, data=data)
        return self.respond(test_drive, status.HTTP_201_CREATED)

    @extend_schema(request=TestDriveCompleteSerializer, responses=answers(TestDriveSerializer))
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """The drive took place: the agreement is signed and the feedback recorded.
        400 `agreement_not_signed`; 409 `test_drive_not_booked`, `test_drive_not_started`."""
        test_drive = self.get_object()
        data = self.parse(TestDriveCompleteSerializer)
        return self.respond(
            services.test_drive_complete(test_drive=test_drive, by=request.user, **data)
        )

    @extend_schema(request=TestDriveCancelSerializer, responses=answers(TestDriveSerializer))
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a booking; the demo car is free again. 409 `test_drive_not_booked`."""
        test_drive = self.get_object()
        data = self.parse(TestDriveCancelSerializer)
        return self.respond(
            services.test_drive_cancel(
                test_drive=test_drive, by=request.user, reason=data["reason"]
            )
        )


class TradeInViewSet(CommandViewSet):
    """二手车置换: the customer's car, appraised and offered for."""

    queryset = TradeIn.objects.all()
    serializer_class = TradeInSerializer
    filterset_class = TradeInFilter
    ordering_fields = ["id", "appraised_on"]
    http_method_names = ["get", "post", "head", "options"]
    command_permissions = {"decide": ["sales.change_tradein"]}

    @idempotent
    @extend_schema(responses=answers(TradeInSerializer, status.HTTP_201_CREATED))
    def create(self, request, *args, **kwargs):
        """Record an appraisal and the value offered. 409 `lead_closed`."""
        data = self.parse(TradeInSerializer)
        trade_in = services.trade_in_appraise(lead=data.pop("lead"), by=request.user, data=data)
        return self.respond(trade_in, status.HTTP_201_CREATED)

    @extend_schema(request=TradeInDecideSerializer, responses=answers(TradeInSerializer))
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """The customer accepts the offer (it then counts in the quote) or declines it.
        409 `trade_in_decided`, `quote_not_editable`."""
        trade_in = self.get_object()
        data = self.parse(TradeInDecideSerializer)
        return self.respond(
            services.trade_in_decide(trade_in=trade_in, by=request.user, decision=data["decision"])
        )


class QuoteViewSet(CommandViewSet):
    """报价: the price offered for a vehicle. The total is worked out, never typed; a discount
    above the branch's limit needs a sales manager's approval before the quote is sent."""

    queryset = Quote.objects.prefetch_related("approvals")
    serializer_class = QuoteSerializer
    update_serializer_class = QuoteUpdateSerializer
    filterset_class = QuoteFilter
    ordering_fields = ["id", "created_at", "total"]
    command_permissions = {
        "submit": ["sales.change_quote"],
        "approve": ["sales.change_quote", "sales.approve_quote"],
        "reject": ["sales.change_quote", "sales.approve_quote"],
        "send": ["sales.change_quote"],
    }

    @idempotent
    @extend_schema(responses=answers(QuoteSerializer, status.HTTP_201_CREATED))
    def create(self, request, *args, **kwargs):
        """Quote a verified lead. 400 `quote_total_negative`, `trade_in_other_lead`,
        `trade_in_declined`, `trade_in_on_other_quote`; 409 `lead_not_verified`, `lead_closed`."""
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.quote_create(
            lead=data.pop("lead"), by=self.request.user, data=data
        )

    @extend_schema(responses=answers(QuoteUpdateSerializer))
    def update(self, request, *args, **kwargs):
        """Change a draft or rejected quote; it goes back to draft. 409 `quote_not_editable`."""
        return super().update(request, *args, **kwargs)

    @extend_schema(responses=answers(QuoteUpdateSerializer))
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_update(self, serializer):
        serializer.instance = services.quote_update(
            quote=serializer.instance, by=self.request.user, data=dict(serializer.validated_data)
        )

    @extend_schema(request=NoteSerializer, responses=answers(QuoteSerializer))
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Ask for approval of a discount above the limit; within it the quote is approved at
        once. 409 `quote_not_draft`."""
        quote = self.get_object()
        data = self.parse(NoteSerializer)
        return self.respond(services.quote_submit(quote=quote, by=request.user, note=data["note"]))

    @extend_schema(request=NoteSerializer, responses=answers(QuoteSerializer))
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve the discount (needs `sales.approve_quote`). 409 `quote_not_pending`,
        `own_discount_approval`."""
        quote = self.get_object()
        data = self.parse(NoteSerializer)
        return self.respond(services.quote_approve(quote=quote, by=request.user, note=data["note"]))

    @extend_schema(request=RequiredNoteSerializer, responses=answers(QuoteSerializer))
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Refuse the discount, telling the consultant why (needs `sales.approve_quote`).
        400 `reject_note_required`; 409 `quote_not_pending`, `own_discount_approval`."""
        quote = self.get_object()
        data = self.parse(RequiredNoteSerializer)
        return self.respond(services.quote_reject(quote=quote, by=request.user, note=data["note"]))

    @extend_schema(request=None, responses=answers(QuoteSerializer))
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Give the quote to the customer. 409 `quote_needs_approval`, `quote_not_approved`."""
        quote = self.get_object()
        return self.respond(services.quote_send(quote=quote, by=request.user))


class OrderViewSet(CommandViewSet):
    """订单: purchase agreements, from draft through signed, allocated and invoiced to
    delivered, or cancelled with a reason."""

    queryset = selectors.orders_with_paid_total()
    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    ordering_fields = ["id", "created_at", "signed_at", "total_price"]
    http_method_names = ["get", "post", "head", "options"]
    command_permissions = {
        "sign": ["sales.change_order"],
        "allocate": ["sales.change_order"],
        "invoice": ["sales.change_order"],
        "cancel": ["sales.change_order", "sales.cancel_order"],
    }

    def reload(self, instance):
        return selectors.orders_with_paid_total().get(pk=instance.pk)

    @idempotent
    @extend_schema(
        request=OrderCreateSerializer,
        responses=answers(OrderSerializer, status.HTTP_201_CREATED),
    )
    def create(self, request, *args, **kwargs):
        """Draft the agreement from a sent quote; the lead's customer (made from the lead if
        needed) buys unless `customer` is given. 409 `quote_not_sent`, `quote_has_order`."""
        data = self.parse(OrderCreateSerializer)
        order = services.order_create(
            quote=data["quote"], by=request.user, customer=data.get("customer")
        )
        return self.respond(order, status.HTTP_201_CREATED)

    @idempotent
    @extend_schema(request=None, responses=answers(OrderSerializer))
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        """The customer signs: the lead is won. 409 `order_not_draft`."""
        order = self.get_object()
        return self.respond(services.order_sign(order=order, by=request.user))

    @idempotent
    @extend_schema(request=OrderAllocateSerializer, responses=answers(OrderSerializer))
    @action(detail=True, methods=["post"])
    def allocate(self, request, pk=None):
        """Allocate a stock vehicle, by `stock_vehicle` id or by `vin`, to a signed order.
        400 `vehicle_other_branch`; 409 `order_not_signed`, `vehicle_not_available`."""
        order = self.get_object()
        data = self.parse(OrderAllocateSerializer)
        return self.respond(
            services.order_allocate(
                order=order, stock_vehicle=data["stock_vehicle"], by=request.user
            )
        )

    @idempotent
    @extend_schema(request=OrderInvoiceSerializer, responses=answers(OrderSerializer))
    @action(detail=True, methods=["post"])
    def invoice(self, request, pk=None):
        """开票 once paid in full: the vehicle is sold. 400 `order_not_paid` (with
        `outstanding`), `invoice_number_required`, `duplicate_invoice_number`;
        409 `order_not_allocated`."""
        order = self.get_object()
        data = self.parse(OrderInvoiceSerializer)
        return self.respond(
            services.order_invoice(
                order=order, by=request.user, invoice_number=data["invoice_number"]
            )
        )

    @idempotent
    @extend_schema(request=OrderCancelSerializer, responses=answers(OrderSerializer))
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel with a reason and, when money was paid, what happens to it (needs
        `sales.cancel_order`); an allocated vehicle goes back to stock.
        400 `cancel_reason_required`, `deposit_handling_required`; 409 `order_not_cancellable`."""
        order = self.get_object()
        data = self.parse(OrderCancelSerializer)
        return self.respond(
            services.order_cancel(
                order=order,
                by=request.user,
                reason=data["reason"],
                deposit_handling=data["deposit_handling"],
                lost_reason=data["lost_reason"],
            )
        )


class PaymentViewSet(CommandViewSet):
    """Payments on orders, scheduled (`due_on`) or received (`paid_on`); `?order=` for one
    order's. Cursor pagination, newest first."""

    queryset = Payment.objects.all()
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    filter_backends = [DjangoFilterBackend]
    pagination_class = CursorPagination
    http_method_names = ["get", "post", "head", "options"]
    command_permissions = {"receive": ["sales.change_payment"]}

    @idempotent
    @extend_schema(responses=answers(PaymentSerializer, status.HTTP_201_CREATED))
    def create(self, request, *args, **kwargs):
        """Record a payment received (`paid_on`) or scheduled (`due_on`). 400 `overpayment`,
        `payment_in_future`, `payment_date_required`; 409 `order_closed`."""
        data = self.parse(PaymentSerializer)
        payment = services.payment_record(order=data.pop("order"), by=request.user, data=data)
        return self.respond(payment, status.HTTP_201_CREATED)

    @idempotent
    @extend_schema(request=PaymentReceiveSerializer, responses=answers(PaymentSerializer))
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        """A scheduled payment arrives. 400 `overpayment`, `payment_in_future`;
        409 `payment_already_paid`."""
        payment = self.get_object()
        data = self.parse(PaymentReceiveSerializer)
        return self.respond(
            services.payment_receive(
                payment=payment,
                by=request.user,
                paid_on=data.get("paid_on") or timezone.localdate(),
                method=data.get("method", ""),
                reference=data.get("reference", ""),
            )
        )


class DeliveryViewSet(CommandViewSet):
    """交车: handovers. Recording one makes the car the customer's vehicle."""

    queryset = Delivery.objects.all()
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    ordering_fields = ["id", "delivered_on"]
    http_method_names = ["get", "post", "head", "options"]

    @idempotent
    @extend_schema(
        request=DeliveryCreateSerializer,
        responses=answers(DeliverySerializer, status.HTTP_201_CREATED),
    )
    def create(self, request, *args, **kwargs):
        """Hand over an invoiced order's vehicle, every check done and the papers given.
        400 `checklist_incomplete`, `documents_missing`, `delivery_date_invalid`;
        409 `order_not_invoiced`, `pdi_missing`."""
        data = self.parse(DeliveryCreateSerializer)
        delivery = services.delivery_record(
            order=data.pop("order"),
            by=request.user,
            delivered_on=data.pop("delivered_on", None) or timezone.localdate(),
            **data,
        )
        return self.respond(delivery, status.HTTP_201_CREATED)


# --- Funnel figures -----------------------------------------------------------------------


class FunnelQuerySerializer(serializers.Serializer):
    start = serializers.DateField(help_text=gettext_lazy("First day of the leads' creation."))
    end = serializers.DateField(help_text=gettext_lazy("Last day, included."))
    dimension = serializers.ChoiceField(choices=FUNNEL_DIMENSIONS, default="source")
    branch = BranchField(
        required=False, help_text=gettext_lazy("One branch; all of yours if left out.")
    )


class FunnelRowSerializer(serializers.Serializer):
    key = serializers.CharField(
        allow_null=True,
        help_text=gettext_lazy("The source, model, consultant id or month; null for the total."),
    )
    label = serializers.CharField()
    counts = serializers.DictField(child=serializers.IntegerField())
    conversions = serializers.DictField(
        child=serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True),
        help_text=gettext_lazy("Per stage, the percentage of the stage before that reached it."),
    )
    referrals = serializers.IntegerField()


class FunnelSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    dimension = serializers.CharField()
    stages = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    rows = FunnelRowSerializer(many=True)
    total = FunnelRowSerializer()
    traffic = serializers.DictField(child=serializers.IntegerField())


class FunnelView(APIView):
    """销售漏斗: the leads created in a period, counted at every stage they have reached, with
    the conversion between stages, by source, model, consultant or month."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[FunnelQuerySerializer], responses={200: FunnelSerializer, 400: REFUSED}
    )
    def get(self, request):
        if not request.user.has_perm("sales.view_funnel"):
            raise PermissionDenied()
        query = FunnelQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        figures = selectors.funnel_figures(
            user=request.user,
            start=data["start"],
            end=data["end"],
            dimension=data["dimension"],
            branch_id=data["branch"].pk if data.get("branch") else None,
        )
        rows = [
            {
                **row,
                "key": None if row["key"] is None else str(row["key"]),
                "label": str(row["label"]),
            }
            for row in [*figures["rows"], figures["total"]]
        ]
        payload = {
            **figures,
            "stages": [
                {"key": stage.key, "label": str(stage.label)} for stage in figures["stages"]
            ],
            "rows": rows[:-1],
            "total": rows[-1],
        }
        return Response(FunnelSerializer(payload).data)
