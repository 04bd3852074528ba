"""REST resources for customers, contacts, vehicles, odometer readings and the timeline."""

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from dealer_crm.api import (
    BranchField,
    BranchScopedMixin,
    BranchScopedViewSet,
    PiiLoggedViewSetMixin,
    PiiMaskedSerializerMixin,
)
from dealer_crm.errors import DomainError
from dealer_crm.pagination import CursorPagination
from dealer_crm.pii import mask_id_number, mask_phone
from dealer_crm.scoping import branch_ids_for

from . import selectors, services
from .care.models import CustomerSegment
from .choices import VehicleAgeSegment
from .filters import (
    ContactFilter,
    CustomerFilter,
    OdometerReadingFilter,
    TimelineEntryFilter,
    VehicleFilter,
)
from .models import (
    CUSTOMER_EDITABLE_FIELDS,
    VEHICLE_EDITABLE_FIELDS,
    Contact,
    Customer,
    OdometerReading,
    TimelineEntry,
    Vehicle,
)
from .vin import decode_vin, normalize_vin, validate_vin

PHONE_MASKS = {"mobile": mask_phone, "mobile_2": mask_phone, "landline": mask_phone}


@extend_schema_field(OpenApiTypes.INT)  # an id; the schema cannot see a model behind get_queryset
class ScopedCustomerField(serializers.PrimaryKeyRelatedField):
    """An active customer of the requesting user's branches; others are 'does not exist'."""

    def get_queryset(self):
        return Customer.objects.for_user(self.context["request"].user).active()


@extend_schema_field(OpenApiTypes.INT)
class ScopedVehicleField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return Vehicle.objects.for_user(self.context["request"].user)


class BranchStaffField(serializers.PrimaryKeyRelatedField):
    """A staff member working in one of the requesting user's branches."""

    def get_queryset(self):
        branches = branch_ids_for(self.context["request"].user)
        return User.objects.filter(staff__branches__in=branches, is_active=True).distinct()


class VehicleBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Vehicle
        fields = ["id", "vin", "plate", "brand", "series"]


class SegmentSerializer(serializers.ModelSerializer):
    """The customer's segments as of the last nightly run (or on-demand recompute)."""

    class Meta:
        model = CustomerSegment
        fields = ["lifecycle", "key_customer", "abnormal", "vehicle_age", "computed_on"]
        read_only_fields = fields


class CustomerSerializer(PiiMaskedSerializerMixin, serializers.ModelSerializer):
    branch = BranchField(required=False)
    consultant = BranchStaffField(required=False, allow_null=True)
    advisor = BranchStaffField(required=False, allow_null=True)
    vehicles = VehicleBriefSerializer(many=True, read_only=True)
    segment = SegmentSerializer(
        read_only=True,
        allow_null=True,
        help_text=gettext_lazy("Null until the segments are first computed for the customer."),
    )
    confirm_duplicate = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text=gettext_lazy("Create even though a customer with the same mobile phone exists."),
    )

    class Meta:
        model = Customer
        fields = [
            "id", *CUSTOMER_EDITABLE_FIELDS, "branch", "completeness", "merged_into", "vehicles",
            "segment", "created_at", "updated_at", "confirm_duplicate",
        ]  # fmt: skip
        read_only_fields = ["completeness", "merged_into", "created_at", "updated_at"]
        pii_fields = {**PHONE_MASKS, "id_number": mask_id_number}
        # Uniqueness is the service's to check: it names the existing customer.
        validators = []


class ContactSerializer(PiiMaskedSerializerMixin, serializers.ModelSerializer):
    customer = ScopedCustomerField()

    class Meta:
        model = Contact
        fields = ["id", "customer", "name", "role", "mobile", "landline", "email", "is_primary"]
        pii_fields = PHONE_MASKS


class VehicleSerializer(serializers.ModelSerializer):
    owner = ScopedCustomerField()
    odometer_km = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=2_000_000,
        help_text=gettext_lazy(
            "The latest reading. On create it records the first reading; afterwards "
            "readings are added through odometer-readings."
        ),
    )
    age_segment = serializers.ChoiceField(choices=VehicleAgeSegment.choices, read_only=True)

    class Meta:
        model = Vehicle
        fields = [
            "id", "owner", *VEHICLE_EDITABLE_FIELDS, "odometer_km", "age_segment", "created_at",
        ]  # fmt: skip
        read_only_fields = ["created_at"]
        validators = []
        extra_kwargs = {"vin": {"validators": []}}


class VehicleUpdateSerializer(VehicleSerializer):
    owner = ScopedCustomerField(read_only=True)

    class Meta(VehicleSerializer.Meta):
        read_only_fields = ["created_at", "odometer_km"]


class OdometerReadingSerializer(serializers.ModelSerializer):
    vehicle = ScopedVehicleField()
    read_on = serializers.DateField(required=False)

    class Meta:
        model = OdometerReading
        fields = [
            "id",
            "vehicle",
            "km",
            "read_on",
            "source",
            "is_replacement",
            "note",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = ["recorded_by", "recorded_at"]


class TransferSerializer(serializers.Serializer):
    new_owner = ScopedCustomerField()
    transferred_on = serializers.DateField(required=False)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class MergeSerializer(serializers.Serializer):
    duplicate = ScopedCustomerField(help_text=gettext_lazy("The customer folded into this one."))


class DuplicateQuerySerializer(serializers.Serializer):
    mobile = serializers.CharField(required=False, max_length=20, allow_blank=True)
    id_number = serializers.CharField(required=False, max_length=18, allow_blank=True)
    credit_code = serializers.CharField(required=False, max_length=18, allow_blank=True)
    vin = serializers.CharField(required=False, max_length=17, allow_blank=True)


class DuplicateSerializer(PiiMaskedSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "kind", "mobile", "id_number", "credit_code", "branch"]
        pii_fields = {"mobile": mask_phone, "id_number": mask_id_number}


class TimelineEntrySerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()
    detail = serializers.SerializerMethodField()
    actor = serializers.StringRelatedField()

    class Meta:
        model = TimelineEntry
        fields = [
            "id",
            "kind",
            "label",
            "detail",
            "occurred_at",
            "actor",
            "content_type",
            "object_id",
        ]

    def get_label(self, entry: TimelineEntry) -> str:
        return entry.label

    def get_detail(self, entry: TimelineEntry) -> str:
        return entry.detail_shown


class VinDecodeSerializer(serializers.Serializer):
    vin = serializers.CharField()
    manufacturer = serializers.CharField(allow_null=True)
    model_year = serializers.IntegerField(allow_null=True)


class TimelineCursorPagination(CursorPagination):
    """Newest first by when it happened. The customer list's `?ordering=` names customer
    fields, so it does not apply here."""

    ordering = ("-occurred_at", "-id")

    def get_ordering(self, request, queryset, view):
        return self.ordering


class CustomerViewSet(PiiLoggedViewSetMixin, BranchScopedViewSet):
    """Customers of your branches. Phone and ID numbers are masked without `view_pii`.
    `?lifecycle=`, `?key_customer=` and `?abnormal=` select by the customer's segment."""

    queryset = (
        Customer.objects.active().select_related("branch", "segment").prefetch_related("vehicles")
    )
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    ordering_fields = ["id", "name", "created_at", "updated_at", "completeness"]
    ordering = ["-id"]
    action_permissions = {"merge": ["customers.merge_customers"]}
    pii_logged_actions = ("list", "retrieve", "merge", "duplicates")

    def filter_queryset(self, queryset):
        # The timeline's own filters (?kind=) are not the customer list's.
        if self.action == "timeline":
            return queryset
        return super().filter_queryset(queryset)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        confirm = data.pop("confirm_duplicate", False)
        branch = data.pop("branch", None) or self.working_branch()
        serializer.instance = services.customer_create(
            branch=branch, by=self.request.user, data=data, confirm_duplicate=confirm
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("confirm_duplicate", None)
        serializer.instance = services.customer_update(
            customer=serializer.instance, by=self.request.user, data=data
        )

    def perform_destroy(self, instance):
        services.customer_delete(customer=instance, by=self.request.user)

    @extend_schema(request=MergeSerializer, responses=CustomerSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Fold another customer (a duplicate) into this one, keeping all its history."""
        keep = self.get_object()
        payload = MergeSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        kept = services.customer_merge(
            keep=keep, duplicate=payload.validated_data["duplicate"], by=request.user
        )
        return Response(self.get_serializer(kept).data)

    @extend_schema(parameters=[DuplicateQuerySerializer], responses=DuplicateSerializer(many=True))
    @action(detail=False, methods=["get"])
    def duplicates(self, request):
        """Customers sharing a mobile phone, ID number, credit code or VIN."""
        query = DuplicateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = {k: v.strip() for k, v in query.validated_data.items()}
        if not any(params.values()):
            raise DomainError(
                "duplicate_query_empty",
                _("Give at least one of mobile, id_number, credit_code or vin."),
            )
        customers = list(selectors.customer_duplicates(user=request.user, **params)[:20])
        self._pii_objects = customers
        return Response(
            DuplicateSerializer(customers, many=True, context={"request": request}).data
        )

    @extend_schema(responses=TimelineEntrySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=TimelineCursorPagination)
    def timeline(self, request, pk=None):
        """The customer's timeline, newest first (cursor pagination)."""
        customer = self.get_object()
        entries = TimelineEntryFilter(
            request.query_params, queryset=selectors.customer_timeline(customer=customer)
        ).qs
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(TimelineEntrySerializer(page, many=True).data)


class ContactViewSet(PiiLoggedViewSetMixin, BranchScopedViewSet):
    queryset = Contact.objects.select_related("customer")
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    search_fields = ["name", "role"]
    ordering_fields = ["id", "name"]
    ordering = ["id"]

    def pii_customer_id(self, obj) -> int:
        return obj.customer_id

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.contact_save(
            customer=data.pop("customer"), by=self.request.user, data=data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        customer = data.pop("customer", serializer.instance.customer)
        if customer.pk != serializer.instance.customer_id:
            raise DomainError(
                "contact_customer_fixed", _("A contact cannot move to another customer.")
            )
        serializer.instance = services.contact_save(
            customer=customer, by=self.request.user, data=data, contact=serializer.instance
        )

    def perform_destroy(self, instance):
        services.contact_delete(contact=instance, by=self.request.user)


class VehicleViewSet(BranchScopedViewSet):
    queryset = Vehicle.objects.with_age_segment().select_related("owner")
    serializer_class = VehicleSerializer
    filterset_class = VehicleFilter
    ordering_fields = ["id", "vin", "plate", "delivery_date", "odometer_km", "created_at"]
    ordering = ["-id"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    action_permissions = {"transfer": ["customers.transfer_vehicle"]}

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return VehicleUpdateSerializer
        return super().get_serializer_class()

    def _annotated(self, vehicle: Vehicle) -> Vehicle:
        return Vehicle.objects.with_age_segment().select_related("owner").get(pk=vehicle.pk)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        vehicle = services.vehicle_add(owner=data.pop("owner"), by=self.request.user, data=data)
        serializer.instance = self._annotated(vehicle)

    def perform_update(self, serializer):
        vehicle = services.vehicle_update(
            vehicle=serializer.instance,
            by=self.request.user,
            data=dict(serializer.validated_data),
        )
        serializer.instance = self._annotated(vehicle)

    @extend_schema(request=TransferSerializer, responses=VehicleSerializer)
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        """Transfer the vehicle to a new owner (过户), closing the current ownership."""
        vehicle = self.get_object()
        payload = TransferSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        vehicle = services.vehicle_transfer(
            vehicle=vehicle,
            new_owner=data["new_owner"],
            transferred_on=data.get("transferred_on") or timezone.localdate(),
            by=request.user,
            reason=data.get("reason", ""),
        )
        return Response(self.get_serializer(self._annotated(vehicle)).data)

    @extend_schema(
        parameters=[OpenApiParameter("vin", str, required=True)],
        responses=VinDecodeSerializer,
    )
    @action(detail=False, methods=["get"], url_path="decode-vin")
    def decode_vin(self, request):
        """What a VIN encodes: manufacturer (WMI) and model year. 400 when the VIN is invalid."""
        vin = normalize_vin(request.query_params.get("vin", ""))
        try:
            validate_vin(vin)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"vin": error.messages}) from None
        info = decode_vin(vin)
        return Response(
            {"vin": vin, "manufacturer": info.manufacturer, "model_year": info.model_year}
        )


class OdometerReadingViewSet(
    BranchScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Odometer history. Readings are never edited; a wrong one is corrected by a new reading
    flagged as a replacement."""

    queryset = OdometerReading.objects.select_related("vehicle")
    serializer_class = OdometerReadingSerializer
    filterset_class = OdometerReadingFilter
    pagination_class = CursorPagination
    ordering_fields = ["id"]

    @transaction.atomic
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        reading = services.odometer_record(
            vehicle=data["vehicle"],
            km=data["km"],
            read_on=data.get("read_on") or timezone.localdate(),
            by=request.user,
            source=data.get("source") or "manual",
            is_replacement=data.get("is_replacement", False),
            note=data.get("note", ""),
        )
        return Response(self.get_serializer(reading).data, status=status.HTTP_201_CREATED)
