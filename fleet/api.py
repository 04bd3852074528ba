"""REST resources of fleet sales (大客户): accounts with their protection, progress reports and
buying centre, deals with their lines, the batches (fleet orders) a deal is priced in (each
vehicle a sales order, delivered by sales) and settled in with the deal's settlement
statement, annual agreements with their volume tiers, and discount and special-configuration
requests.

Each endpoint parses its input, calls one service and renders the result; the rules live in
`fleet.services`. Records are read through the branch scope, and every id a request names is
looked up in the caller's branches, so another branch's record "does not exist". Quantities
are parsed as whole numbers but judged by the services (at least 1), so the API answers the
same codes as the pages.
"""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.api import BranchStaffField
from dealer_crm.api import (
    REFUSED,
    BranchField,
    BranchScopedMixin,
    CommandMixin,
    CommandViewSet,
    PeriodQuerySerializer,
    PiiMaskedSerializerMixin,
    ScopedRecordField,
    answers,
)
from dealer_crm.idempotency import idempotent
from dealer_crm.pagination import CursorPagination
from dealer_crm.pii import mask_phone
from dealer_crm.scoping import branch_ids_for

from . import selectors, services
from .choices import AccountClass, DealStage
from .filters import (
    DiscountRequestFilter,
    FleetAccountFilter,
    FleetAgreementFilter,
    FleetDealFilter,
    FleetOrderFilter,
    SpecialConfigurationRequestFilter,
)
from .models import (
    BuyingCentreMember,
    DealLine,
    DiscountRequest,
    FleetAccount,
    FleetAgreement,
    FleetDeal,
    FleetOrder,
    ProgressReport,
    SpecialConfigurationRequest,
    TierBand,
)

# A quantity larger than any fleet batch; beyond it the number is a typing error.
MAX_UNITS = 99_999


def units_field(**kwargs) -> serializers.IntegerField:
    """A number of vehicles as sent; at least 1 is the services' to judge
    (`quantity_not_positive`)."""
    return serializers.IntegerField(max_value=MAX_UNITS, **kwargs)


def money_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


def text_field(max_length: int, **kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length, required=False, allow_blank=True, default="", **kwargs
    )


# --- Fields naming other records ----------------------------------------------------------


class ScopedAccountField(ScopedRecordField):
    model = FleetAccount


class ScopedDealField(ScopedRecordField):
    model = FleetDeal


class ScopedAgreementField(ScopedRecordField):
    model = FleetAgreement


class ScopedDealLineField(ScopedRecordField):
    model = DealLine


@extend_schema_field(OpenApiTypes.INT)
class StaffField(BranchStaffField):
    """A user id: a colleague of one of your branches."""


# --- Serializers: accounts, progress, buying centre ---------------------------------------


class FleetAccountSerializer(serializers.ModelSerializer):
    """A large account (大客户), protected for its branch once confirmed."""

    class Meta:
        model = FleetAccount
        fields = [
            "id", "branch", "name", "account_class", "credit_code", "parent", "account_manager",
            "status", "registered_by", "registered_at", "confirmed_by", "confirmed_at",
            "protected_until", "lapsed_at", "lapse_reason",
        ]  # fmt: skip
        read_only_fields = fields


class ProgressReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProgressReport
        fields = ["id", "account", "month", "summary", "reported_by", "reported_at"]
        read_only_fields = fields


class BuyingCentreMemberSerializer(PiiMaskedSerializerMixin, serializers.ModelSerializer):
    """Someone around the account's buying decision; the phone is masked without
    `customers.view_pii`."""

    class Meta:
        model = BuyingCentreMember
        fields = [
            "id", "account", "name", "title", "role", "phone", "attitude", "last_contact_on",
            "note",
        ]  # fmt: skip
        read_only_fields = fields
        pii_fields = {"phone": mask_phone}


class FleetAccountDetailSerializer(FleetAccountSerializer):
    """The account with its monthly progress reports (newest first) and its buying centre."""

    progress_reports = ProgressReportSerializer(many=True, read_only=True)
    buying_centre = BuyingCentreMemberSerializer(many=True, read_only=True)

    class Meta(FleetAccountSerializer.Meta):
        fields = [*FleetAccountSerializer.Meta.fields, "progress_reports", "buying_centre"]
        read_only_fields = fields


class FleetAccountCreateSerializer(serializers.Serializer):
    branch = BranchField(required=False, help_text=gettext_lazy("Defaults to your branch."))
    name = serializers.CharField(max_length=100)
    account_class = serializers.ChoiceField(choices=AccountClass.choices)
    credit_code = serializers.CharField(
        max_length=30, help_text=gettext_lazy("Unified social credit code (18 characters).")
    )
    parent = ScopedAccountField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("The account it is an affiliate of."),
    )
    account_manager = StaffField(
        required=False, allow_null=True, help_text=gettext_lazy("Defaults to you.")
    )


class FleetAccountReassignSerializer(serializers.Serializer):
    branch = BranchField()
    account_manager = StaffField(help_text=gettext_lazy("A colleague of that branch."))


class ProgressReportInputSerializer(serializers.Serializer):
    month = serializers.DateField(help_text=gettext_lazy("The first day of the month reported."))
    summary = serializers.CharField(max_length=2000)


class BuyingCentreMemberInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = BuyingCentreMember
        fields = ["name", "title", "role", "phone", "attitude", "last_contact_on", "note"]


# --- Serializers: deals, orders, statement --------------------------------------------------


class DealLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = DealLine
        fields = ["id", "brand", "series", "configuration", "colour", "quantity"]
        read_only_fields = fields


class FleetDealSerializer(serializers.ModelSerializer):
    """大客户项目: the models and quantities asked for, the tender, the stage."""

    account_name = serializers.CharField(source="account.name", read_only=True)
    lines = DealLineSerializer(many=True, read_only=True)

    class Meta:
        model = FleetDeal
        fields = [
            "id", "branch", "account", "account_name", "title", "stage", "tender_on",
            "procurement_centre", "competitors", "expected_value", "closing_reason", "lines",
            "created_by", "created_at", "closed_at",
        ]  # fmt: skip
        read_only_fields = fields


class DealLineInputSerializer(serializers.Serializer):
    brand = serializers.CharField(max_length=40)
    series = serializers.CharField(max_length=40)
    configuration = text_field(80)
    colour = text_field(30)
    quantity = units_field()


class FleetDealCreateSerializer(serializers.Serializer):
    account = ScopedAccountField()
    title = serializers.CharField(max_length=100)
    tender_on = serializers.DateField(required=False, allow_null=True)
    procurement_centre = text_field(100)
    competitors = text_field(200)
    expected_value = money_field(required=False, min_value=0)
    lines = DealLineInputSerializer(many=True, allow_empty=True)


class DealStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=DealStage.choices)
    reason = text_field(300, help_text=gettext_lazy("Why it was won or lost; required then."))


class FleetOrderSerializer(serializers.ModelSerializer):
    """A batch of a deal: one model at one price per vehicle, its tier (fixed when priced),
    the units delivered (counted from its sales orders, `GET /orders/?fleet_order=`) and the
    support due on them and settled."""

    deal_title = serializers.CharField(source="deal.title", read_only=True)
    tier_from_units = serializers.IntegerField(
        source="tier_band.from_units", read_only=True, default=None
    )
    tier_to_units = serializers.IntegerField(
        source="tier_band.to_units", read_only=True, default=None
    )
    support_due = money_field(
        read_only=True, help_text=gettext_lazy("Delivered units × support per unit (CNY).")
    )

    class Meta:
        model = FleetOrder
        fields = [
            "id", "deal", "deal_title", "line", "agreement", "quantity", "unit_price",
            "is_special", "tier_band",
            "tier_from_units", "tier_to_units", "units_before", "support_per_unit",
            "promotion", "priced_by", "priced_at", "delivered_units", "delivered_at",
            "support_due", "support_settled", "settled_at",
        ]  # fmt: skip
        read_only_fields = fields


class FleetOrderPriceSerializer(serializers.Serializer):
    line = ScopedDealLineField(help_text=gettext_lazy("The deal's line (model) the batch is of."))
    quantity = units_field(help_text=gettext_lazy("Units of the batch; over 50 is a special deal."))
    unit_price = money_field(min_value=0, help_text=gettext_lazy("Price per vehicle (CNY)."))
    agreement = ScopedAgreementField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("The agreement whose tiers price the batch (up to 50 units)."),
    )
    negotiated_support = money_field(
        required=False,
        allow_null=True,
        min_value=0,
        help_text=gettext_lazy("Support per unit of a special deal (over 50 units)."),
    )
    promotion = text_field(60)


class BatchSettleSerializer(serializers.Serializer):
    amount = money_field(help_text=gettext_lazy("Support settled now (CNY)."))


class SettlementStatementSerializer(serializers.Serializer):
    """Support per batch and the deal's reconciliation."""

    orders = FleetOrderSerializer(many=True)
    units = serializers.IntegerField(help_text=gettext_lazy("Units priced."))
    delivered = serializers.IntegerField(help_text=gettext_lazy("Units delivered."))
    due = money_field(help_text=gettext_lazy("Support due on the delivered units (CNY)."))
    settled = money_field(help_text=gettext_lazy("Support settled (CNY)."))
    open = money_field(help_text=gettext_lazy("Due and not yet settled (CNY)."))


# --- Serializers: agreements and tiers ----------------------------------------------------


class TierBandSerializer(serializers.ModelSerializer):
    class Meta:
        model = TierBand
        fields = ["id", "from_units", "to_units", "support_per_unit"]
        read_only_fields = fields


class FleetAgreementSerializer(serializers.ModelSerializer):
    """The annual agreement and its volume tiers."""

    account_name = serializers.CharField(source="account.name", read_only=True)
    bands = TierBandSerializer(many=True, read_only=True)

    class Meta:
        model = FleetAgreement
        fields = [
            "id", "account", "account_name", "signed_on", "valid_until", "agreed_units",
            "terms", "document", "bands", "created_by",
        ]  # fmt: skip
        read_only_fields = fields


class FleetAgreementCreateSerializer(serializers.Serializer):
    account = ScopedAccountField()
    signed_on = serializers.DateField()
    valid_until = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy(
            "Worked out from the signing date when left out: 31 December of that year, or of "
            "the next when signed on or after 1 July; another date is refused."
        ),
    )
    agreed_units = serializers.IntegerField(min_value=0, max_value=MAX_UNITS, default=0)
    terms = text_field(300)
    document = serializers.FileField(
        required=False, help_text=gettext_lazy("The signed agreement (multipart upload).")
    )


class TierBandInputSerializer(serializers.Serializer):
    from_units = serializers.IntegerField(min_value=1, max_value=MAX_UNITS)
    to_units = serializers.IntegerField(
        min_value=1,
        max_value=MAX_UNITS,
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("Null for the open-ended top band."),
    )
    support_per_unit = money_field(min_value=0)


class TierBandsSerializer(serializers.Serializer):
    bands = TierBandInputSerializer(many=True, allow_empty=False)


# --- Serializers: requests ----------------------------------------------------------------

REQUEST_FIELDS = [
    "id", "deal", "deal_title", "status", "justification", "requested_by", "requested_at",
    "due_by", "decided_by", "decided_at", "decision_note", "overdue_flagged_at",
]  # fmt: skip


class DiscountRequestSerializer(serializers.ModelSerializer):
    """A discount beyond the agreement's, decided by a manager within 48 hours."""

    deal_title = serializers.CharField(source="deal.title", read_only=True)

    class Meta:
        model = DiscountRequest
        fields = [*REQUEST_FIELDS, "discount_per_unit", "units"]
        read_only_fields = fields


class SpecialConfigurationRequestSerializer(serializers.ModelSerializer):
    """A special colour or configuration, decided by a manager within 48 hours."""

    deal_title = serializers.CharField(source="deal.title", read_only=True)

    class Meta:
        model = SpecialConfigurationRequest
        fields = [*REQUEST_FIELDS, "description", "units"]
        read_only_fields = fields


class DiscountRequestCreateSerializer(serializers.Serializer):
    deal = ScopedDealField()
    discount_per_unit = money_field(help_text=gettext_lazy("CNY per unit, more than 0."))
    units = units_field()
    justification = serializers.CharField(max_length=500)


class SpecialConfigurationRequestCreateSerializer(serializers.Serializer):
    deal = ScopedDealField()
    description = serializers.CharField(max_length=200)
    units = units_field()
    justification = serializers.CharField(max_length=500)


class DecisionSerializer(serializers.Serializer):
    note = text_field(300, help_text=gettext_lazy("Required to refuse."))


# --- Viewsets: the bases --------------------------------------------------------------------


class FleetViewSet(CommandViewSet):
    """Fleet records are made and changed by commands (POST), never edited or deleted; after a
    command the record is read back as the detail shows it."""

    http_method_names = ["get", "post", "head", "options"]

    def reload(self, instance):
        return self.get_queryset().get(pk=instance.pk)


class FleetReadViewSet(
    CommandMixin, BranchScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    """A branch-scoped resource that is read, and changed only by its commands."""

    http_method_names = ["get", "post", "head", "options"]

    def reload(self, instance):
        return self.get_queryset().get(pk=instance.pk)


# --- Viewsets: accounts ---------------------------------------------------------------------


class FleetAccountViewSet(FleetViewSet):
    """大客户: the large accounts of your branches. `?search=` finds a name or a credit code.
    The detail lists the monthly progress reports and the buying centre."""

    queryset = FleetAccount.objects.all()
    serializer_class = FleetAccountDetailSerializer
    filterset_class = FleetAccountFilter
    ordering_fields = ["name", "registered_at", "protected_until"]
    command_permissions = {
        "confirm": ["fleet.confirm_fleetaccount"],
        "reassign": ["fleet.confirm_fleetaccount"],
        "progress_reports": ["fleet.view_progressreport"],
        "progress_report_add": ["fleet.add_progressreport"],
        "buying_centre": ["fleet.add_buyingcentremember"],
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            return queryset
        return queryset.prefetch_related("progress_reports", "buying_centre")

    def get_serializer_class(self):
        if self.action == "list":
            return FleetAccountSerializer
        return super().get_serializer_class()

    @idempotent
    @extend_schema(
        request=FleetAccountCreateSerializer,
        responses=answers(FleetAccountDetailSerializer, status.HTTP_201_CREATED),
    )
    def create(self, request, *args, **kwargs):
        """Register an account your branch works on; you are its account manager unless one
        is named. 400 for an invalid credit code; 409 `account_exists`, `account_protected`
        (another branch protects it; the branch is named only to managers),
        `account_registered_elsewhere`."""
        data = self.parse(FleetAccountCreateSerializer)
        branch = data.pop("branch", None) or self.working_branch()
        data = {key: value for key, value in data.items() if value is not None}
        account = services.account_register(branch=branch, by=request.user, data=data)
        return self.respond(account, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=answers(FleetAccountDetailSerializer))
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Confirm the registration: protected for the branch for 3 months from today (needs
        `fleet.confirm_fleetaccount`). 409 `account_already_protected`."""
        account = self.get_object()
        return self.respond(services.account_confirm(account=account, by=request.user))

    @extend_schema(
        request=FleetAccountReassignSerializer, responses=answers(FleetAccountDetailSerializer)
    )
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        """Give an account whose protection lapsed to a branch and an account manager there;
        it is registered afresh (needs `fleet.confirm_fleetaccount`).
        400 `manager_other_branch`; 409 `account_not_lapsed`."""
        account = self.get_object()
        data = self.parse(FleetAccountReassignSerializer)
        return self.respond(services.account_reassign(account=account, by=request.user, **data))

    @extend_schema(responses=ProgressReportSerializer(many=True))
    @action(
        detail=True,
        methods=["get"],
        url_path="progress-reports",
        pagination_class=None,
        filter_backends=[],
    )
    def progress_reports(self, request, pk=None):
        """The account's monthly progress reports, newest first."""
        account = self.get_object()
        serializer = ProgressReportSerializer(
            account.progress_reports.all(), many=True, context=self.get_serializer_context()
        )
        return Response(serializer.data)

    @extend_schema(
        request=ProgressReportInputSerializer,
        responses=answers(ProgressReportSerializer, status.HTTP_201_CREATED),
    )
    @progress_reports.mapping.post
    def progress_report_add(self, request, pk=None):
        """Report the month's progress (due on the 1st; it keeps the protection).
        400 `month_not_first`, `month_in_future`, `summary_required`; 409 `report_exists`."""
        account = self.get_object()
        data = self.parse(ProgressReportInputSerializer)
        report = services.progress_report_add(account=account, by=request.user, **data)
        serializer = ProgressReportSerializer(report, context=self.get_serializer_context())
        return Response(serializer.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=BuyingCentreMemberInputSerializer,
        responses=answers(FleetAccountDetailSerializer, status.HTTP_201_CREATED, conflict=False),
    )
    @action(detail=True, methods=["post"], url_path="buying-centre")
    def buying_centre(self, request, pk=None):
        """Add someone to the account's buying centre (informant, user, influencer, decision
        maker); answers the account with its buying centre."""
        account = self.get_object()
        data = self.parse(BuyingCentreMemberInputSerializer)
        services.buying_centre_member_add(account=account, by=request.user, data=data)
        return self.respond(account, status.HTTP_201_CREATED)


# --- Viewsets: deals and orders -------------------------------------------------------------


class FleetDealViewSet(FleetViewSet):
    """大客户项目 of your branches, newest first (cursor pagination); `?search=` in the title."""

    queryset = FleetDeal.objects.select_related("account").prefetch_related("lines")
    serializer_class = FleetDealSerializer
    filterset_class = FleetDealFilter
    pagination_class = CursorPagination
    ordering_fields = ["id", "created_at"]
    command_permissions = {
        "stage": ["fleet.change_fleetdeal"],
        "orders": ["fleet.add_fleetorder"],
        "statement": ["fleet.view_fleetdeal", "fleet.view_fleetorder"],
    }

    @idempotent
    @extend_schema(
        request=FleetDealCreateSerializer,
        responses=answers(FleetDealSerializer, status.HTTP_201_CREATED, conflict=False),
    )
    def create(self, request, *args, **kwargs):
        """Open a deal for an account of your branches with the models and quantities asked
        for. 400 `deal_has_no_lines`, `quantity_not_positive`."""
        data = self.parse(FleetDealCreateSerializer)
        account, lines = data.pop("account"), [dict(line) for line in data.pop("lines")]
        deal = services.deal_create(account=account, lines=lines, by=request.user, data=data)
        return self.respond(deal, status.HTTP_201_CREATED)

    @extend_schema(request=DealStageSerializer, responses=answers(FleetDealSerializer))
    @action(detail=True, methods=["post"])
    def stage(self, request, pk=None):
        """Move the deal to a stage; won or lost closes it with the reason.
        400 `reason_required`; 409 `deal_closed`."""
        deal = self.get_object()
        data = self.parse(DealStageSerializer)
        return self.respond(services.deal_set_stage(deal=deal, by=request.user, **data))

    @idempotent
    @extend_schema(
        request=FleetOrderPriceSerializer,
        responses=answers(FleetOrderSerializer, status.HTTP_201_CREATED),
    )
    @action(detail=True, methods=["post"])
    def orders(self, request, pk=None):
        """Price a batch of one of the deal's models: up to 50 units on the agreement's tier for
        the units the account's organization has delivered so far (later deliveries never
        change it); more than 50 is a special deal with its own negotiated support and no
        promotion. Each vehicle becomes a signed sales order (`GET /orders/?fleet_order=`),
        delivered through sales; its delivery counts toward the batch.
        400 `quantity_not_positive`, `price_not_positive`, `line_other_deal`,
        `batch_exceeds_line`, `agreement_required`, `agreement_other_account`,
        `agreement_not_running`, `special_deal_needs_terms`, `special_deal_no_promotion`;
        409 `deal_closed`."""
        deal = self.get_object()
        data = self.parse(FleetOrderPriceSerializer)
        order = services.fleet_order_price(deal=deal, by=request.user, **data)
        shown = FleetOrder.objects.select_related("deal", "tier_band").get(pk=order.pk)
        serializer = FleetOrderSerializer(shown, context=self.get_serializer_context())
        return Response(serializer.data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=SettlementStatementSerializer)
    @action(detail=True, methods=["get"])
    def statement(self, request, pk=None):
        """The settlement statement: support per batch (units priced and delivered, tier,
        due and settled) and the deal's reconciliation."""
        statement = selectors.settlement_statement(deal=self.get_object())
        serializer = SettlementStatementSerializer(statement, context=self.get_serializer_context())
        return Response(serializer.data)


class FleetOrderViewSet(FleetReadViewSet):
    """The batches deals are priced in; made by `fleet-deals/{id}/orders/`."""

    queryset = FleetOrder.objects.select_related("deal", "tier_band")
    serializer_class = FleetOrderSerializer
    filterset_class = FleetOrderFilter
    ordering_fields = ["id", "priced_at", "delivered_at"]
    command_permissions = {
        "settle": ["fleet.change_fleetorder"],
    }

    @idempotent
    @extend_schema(
        request=BatchSettleSerializer, responses=answers(FleetOrderSerializer, conflict=False)
    )
    @action(detail=True, methods=["post"])
    def settle(self, request, pk=None):
        """Settle support of the batch: at most what its delivered units earned.
        400 `settlement_exceeds_support`."""
        order = self.get_object()
        data = self.parse(BatchSettleSerializer)
        return self.respond(services.fleet_order_settle(order=order, by=request.user, **data))


# --- Viewsets: agreements -------------------------------------------------------------------


class FleetAgreementViewSet(FleetViewSet):
    """Annual agreements of your branches' accounts, with their volume tiers."""

    queryset = FleetAgreement.objects.select_related("account").prefetch_related(
        Prefetch("bands", queryset=TierBand.objects.order_by("from_units"))
    )
    serializer_class = FleetAgreementSerializer
    filterset_class = FleetAgreementFilter
    ordering_fields = ["signed_on", "valid_until"]
    command_permissions = {"tiers": ["fleet.change_fleetagreement"]}

    @extend_schema(
        request=FleetAgreementCreateSerializer,
        responses=answers(FleetAgreementSerializer, status.HTTP_201_CREATED, conflict=False),
    )
    def create(self, request, *args, **kwargs):
        """Record the annual agreement: signed before 1 July it runs to 31 December of that
        year, on or after 1 July to 31 December of the next.
        400 `agreement_dates_contradict`, `date_in_future`."""
        data = self.parse(FleetAgreementCreateSerializer)
        agreement = services.agreement_sign(by=request.user, **data)
        return self.respond(agreement, status.HTTP_201_CREATED)

    @extend_schema(request=TierBandsSerializer, responses=answers(FleetAgreementSerializer))
    @action(detail=True, methods=["post"])
    def tiers(self, request, pk=None):
        """Set the agreement's volume tiers, [{from_units, to_units, support_per_unit}]
        (to_units null for the top band); they replace the earlier ones.
        400 `tier_bands_overlap`; 409 `tiers_in_use`."""
        agreement = self.get_object()
        data = self.parse(TierBandsSerializer)
        services.tier_bands_set(
            agreement=agreement, bands=[dict(band) for band in data["bands"]], by=request.user
        )
        return self.respond(agreement)


# --- Viewsets: requests ---------------------------------------------------------------------


class ApprovalRequestViewSet(FleetViewSet):
    """What discount and special-configuration requests share: created by the fleet
    department, decided by a manager (never their own) within 48 hours."""

    pagination_class = CursorPagination
    ordering_fields = ["id", "requested_at", "due_by"]

    def decide(self, approve: bool) -> Response:
        approval_request = self.get_object()
        data = self.parse(DecisionSerializer)
        decided = services.request_decide(
            request=approval_request, approve=approve, by=self.request.user, note=data["note"]
        )
        return self.respond(decided)


class DiscountRequestViewSet(ApprovalRequestViewSet):
    """Discount requests of your branches' deals, newest first (cursor pagination);
    `?overdue=true` for those past their 48 hours."""

    queryset = DiscountRequest.objects.select_related("deal")
    serializer_class = DiscountRequestSerializer
    filterset_class = DiscountRequestFilter
    command_permissions = {
        "approve": ["fleet.approve_discountrequest"],
        "refuse": ["fleet.approve_discountrequest"],
    }

    @idempotent
    @extend_schema(
        request=DiscountRequestCreateSerializer,
        responses=answers(DiscountRequestSerializer, status.HTTP_201_CREATED, conflict=False),
    )
    def create(self, request, *args, **kwargs):
        """Ask for a discount per unit for a deal; the branch's managers are told and decide
        within 48 hours. 400 `quantity_not_positive`."""
        data = self.parse(DiscountRequestCreateSerializer)
        created = services.discount_request_create(by=request.user, **data)
        return self.respond(created, status.HTTP_201_CREATED)

    @extend_schema(request=DecisionSerializer, responses=answers(DiscountRequestSerializer))
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve the discount (needs `fleet.approve_discountrequest`).
        400 `own_request`; 409 `request_decided`."""
        return self.decide(approve=True)

    @extend_schema(request=DecisionSerializer, responses=answers(DiscountRequestSerializer))
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        """Refuse the discount, saying why in `note` (needs `fleet.approve_discountrequest`).
        400 `own_request`, `reason_required`; 409 `request_decided`."""
        return self.decide(approve=False)


class SpecialConfigurationRequestViewSet(ApprovalRequestViewSet):
    """Special colour or configuration requests of your branches' deals, newest first (cursor
    pagination); `?overdue=true` for those past their 48 hours."""

    queryset = SpecialConfigurationRequest.objects.select_related("deal")
    serializer_class = SpecialConfigurationRequestSerializer
    filterset_class = SpecialConfigurationRequestFilter
    command_permissions = {
        "approve": ["fleet.approve_specialconfigurationrequest"],
        "refuse": ["fleet.approve_specialconfigurationrequest"],
    }

    @idempotent
    @extend_schema(
        request=SpecialConfigurationRequestCreateSerializer,
        responses=answers(
            SpecialConfigurationRequestSerializer, status.HTTP_201_CREATED, conflict=False
        ),
    )
    def create(self, request, *args, **kwargs):
        """Ask for a special colour or configuration for a deal; the branch's managers are
        told and decide within 48 hours. 400 `quantity_not_positive`."""
        data = self.parse(SpecialConfigurationRequestCreateSerializer)
        created = services.special_configuration_request(by=request.user, **data)
        return self.respond(created, status.HTTP_201_CREATED)

    @extend_schema(
        request=DecisionSerializer, responses=answers(SpecialConfigurationRequestSerializer)
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve the special configuration (needs
        `fleet.approve_specialconfigurationrequest`). 400 `own_request`;
        409 `request_decided`."""
        return self.decide(approve=True)

    @extend_schema(
        request=DecisionSerializer, responses=answers(SpecialConfigurationRequestSerializer)
    )
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        """Refuse the special configuration, saying why in `note` (needs
        `fleet.approve_specialconfigurationrequest`). 400 `own_request`, `reason_required`;
        409 `request_decided`."""
        return self.decide(approve=False)


# --- Figures ---------------------------------------------------------------------------------

RATIO = {"max_digits": 8, "decimal_places": 3, "allow_null": True}


class PipelineStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=DealStage.choices)
    deals = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=16, decimal_places=2)


class TierAttainmentSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account.pk")
    account_name = serializers.CharField(source="account.name")
    agreement = serializers.IntegerField(source="agreement.pk")
    delivered = serializers.IntegerField()
    agreed = serializers.IntegerField()
    ratio = serializers.DecimalField(**RATIO)


class FleetFiguresSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    pipeline = PipelineStageSerializer(many=True)
    pipeline_value = serializers.DecimalField(max_digits=16, decimal_places=2)
    pipeline_deals = serializers.IntegerField()
    protected = serializers.IntegerField(help_text=gettext_lazy("Accounts protected now."))
    lapses = serializers.IntegerField(help_text=gettext_lazy("Protections lapsed in the period."))
    attainment = TierAttainmentSerializer(many=True)
    decided = serializers.IntegerField()
    decided_in_time = serializers.IntegerField()
    approval_rate = serializers.DecimalField(
        **RATIO, help_text=gettext_lazy("Requests decided within 48 hours / decided (0–1).")
    )
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    win_rate = serializers.DecimalField(**RATIO, help_text=gettext_lazy("Won / (won + lost)."))


class FleetFiguresView(APIView):
    """大客户指标: pipeline by stage, protected accounts and lapses, tier attainment per account,
    requests decided within 48 hours, and the win rate, for a period over one of your branches
    or all of them."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[PeriodQuerySerializer],
        responses={200: FleetFiguresSerializer, 400: REFUSED},
    )
    def get(self, request):
        if not request.user.has_perm("fleet.view_fleetdeal"):
            raise PermissionDenied()
        query = PeriodQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        branch = data.get("branch")
        figures = selectors.fleet_figures(
            branch_ids=[branch.pk] if branch else branch_ids_for(request.user),
            start=data["start"],
            end=data["end"],
        )
        return Response(FleetFiguresSerializer(figures).data)
