"""The REST framework's base pieces: error shapes, the branch-scoped viewset, platform endpoints."""

import django_filters
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.decorators import action
from rest_framework.exceptions import (
    APIException,
    AuthenticationFailed,
    MethodNotAllowed,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from .choices import PiiChannel
from .errors import DomainError
from .models import Branch, Notification, Staff, display_name
from .notifications import notification_mark_read, notifications_mark_all_read
from .pagination import CursorPagination
from .permissions import RoleModelPermissions
from .pii import can_view_pii, pii_access_log
from .scoping import branch_ids_for, working_branch


def exception_handler(exc, context):
    """DRF's handler plus: DomainError → {detail, code} (and the message under its field);
    model validation → field errors; no credentials → 401 whatever the first authenticator."""
    if isinstance(exc, DomainError):
        data = exc.as_dict()
        if exc.field:
            data[exc.field] = [str(exc.message)]
        return Response(data, status=exc.status_code)
    if isinstance(exc, NotAuthenticated | AuthenticationFailed):
        # DRF answers 403 when the first authenticator (the session) sends no challenge;
        # API clients authenticate with a token, so they are told so with a 401.
        exc.status_code = status.HTTP_401_UNAUTHORIZED
        exc.auth_header = getattr(exc, "auth_header", None) or "Token"
    # Django's own 404 and 403 become DRF's, so they carry a code and a translated message.
    if isinstance(exc, Http404):
        exc = NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        exc = PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        errors = dict(getattr(exc, "message_dict", None) or {"detail": exc.messages})
        # A model's non-field errors (a conditional unique constraint) in DRF's own key.
        if NON_FIELD_ERRORS in errors:
            errors[api_settings.NON_FIELD_ERRORS_KEY] = errors.pop(NON_FIELD_ERRORS)
        exc = ValidationError(errors)
    if isinstance(exc, IntegrityError):
        return Response(
            {"detail": _("This record conflicts with an existing one."), "code": "conflict"},
            status=status.HTTP_409_CONFLICT,
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, APIException) and "detail" in response.data:
        response.data["code"] = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
    return response


class ErrorSerializer(serializers.Serializer):
    """What a refused business rule or an illegal state change answers (400, 409, 422); a
    rule tied to one field also repeats its message under that field's name."""

    detail = serializers.CharField()
    code = serializers.CharField(help_text=gettext_lazy("Stable; never changes with language."))


class BranchScopedMixin:
    """Reads through the branch scope, so another branch's record answers 404."""

    def get_queryset(self):
        return super().get_queryset().for_user(self.request.user)

    def working_branch(self) -> Branch:
        branch = working_branch(self.request)
        if branch is None:
            raise DomainError("no_branch", _("Your account is not linked to any branch."))
        return branch


class BranchScopedViewSet(BranchScopedMixin, viewsets.ModelViewSet):
    """Every resource's base; per-resource viewsets are declarations."""


@extend_schema_field(OpenApiTypes.INT)  # a branch id, also where no model tells the schema
class BranchField(serializers.PrimaryKeyRelatedField):
    """A branch the requesting user works in; defaults to the working branch."""

    def get_queryset(self):
        return Branch.objects.filter(pk__in=branch_ids_for(self.context["request"].user))


# --- Business commands: permissions, answers, the base viewset ------------------------------


class CommandPermissions(RoleModelPermissions):
    """RoleModelPermissions, except that a business command names exactly what it needs in
    `command_permissions`: a command on an existing record is a change (POST alone would ask
    for `add`), and some commands belong to roles that may not otherwise change the model."""

    def has_permission(self, request, view) -> bool:
        required = getattr(view, "command_permissions", {}).get(getattr(view, "action", None))
        if required is None:
            return super().has_permission(request, view)
        user = request.user
        return bool(user and user.is_authenticated and user.has_perms(required))


REFUSED = OpenApiResponse(
    ErrorSerializer,
    description=gettext_lazy(
        "Bad input as {field: [message]}, or a business rule refusing as {detail, code}."
    ),
)
CONFLICT = OpenApiResponse(
    ErrorSerializer, description=gettext_lazy("An illegal state change: {detail, code}.")
)


def answers(serializer, code: int = status.HTTP_200_OK, *, conflict: bool = True) -> dict:
    """The documented answers of a write: its success, 400 and (usually) 409."""
    responses = {code: serializer, 400: REFUSED}
    if conflict:
        responses[409] = CONFLICT
    return responses


@extend_schema_field(OpenApiTypes.INT)  # an id; the schema cannot see a model behind get_queryset
class ScopedRecordField(serializers.PrimaryKeyRelatedField):
    """A record of the requesting user's branches; another branch's id 'does not exist'."""

    model = None

    def get_queryset(self):
        return self.model.objects.for_user(self.context["request"].user)


class CommandMixin:
    """What resources whose writes are business commands share: each command names its
    permissions in `command_permissions`, input is parsed by a serializer and handed to a
    service, the result is rendered as the list shows it, and nothing is deleted."""

    permission_classes = [CommandPermissions]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    update_serializer_class = None
    command_permissions: dict[str, list[str]] = {}

    def initial(self, request, *args, **kwargs):
        # An unsupported method is a 405 whoever asks, not a 403 for lacking its permission:
        # one the resource refuses, or one its route has no handler for.
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)

    def get_serializer_class(self):
        if self.action in ("update", "partial_update") and self.update_serializer_class:
            return self.update_serializer_class
        return self.serializer_class

    def parse(self, serializer_class) -> dict:
        """The request body, validated by `serializer_class` (400 with field messages)."""
        payload = serializer_class(data=self.request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        return dict(payload.validated_data)

    def reload(self, instance):
        """The instance as the list shows it, after a service changed it."""
        return instance

    def respond(self, instance, code: int = status.HTTP_200_OK) -> Response:
        serializer = self.serializer_class(
            self.reload(instance), context=self.get_serializer_context()
        )
        return Response(serializer.data, status=code)


class CommandViewSet(CommandMixin, BranchScopedViewSet):
    """The base of a branch-scoped resource whose writes are business commands."""


# The longest period a figure is computed over in one request.
FIGURES_MAX_DAYS = 3 * 366


class PeriodQuerySerializer(serializers.Serializer):
    """A figure's period and scope: this month to today unless given, one of your branches or
    all of them."""

    start = serializers.DateField(
        required=False, help_text=gettext_lazy("First day of the period; this month's first.")
    )
    end = serializers.DateField(
        required=False, help_text=gettext_lazy("Last day, included; today.")
    )
    branch = BranchField(
        required=False, help_text=gettext_lazy("One branch; all of yours if left out.")
    )

    def validate(self, attrs):
        today = timezone.localdate()
        attrs.setdefault("start", today.replace(day=1))
        attrs.setdefault("end", today)
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": [_("The end is before the start.")]})
        if (attrs["end"] - attrs["start"]).days >= FIGURES_MAX_DAYS:
            raise serializers.ValidationError(
                {"end": [_("Choose a period of at most three years.")]}
            )
        return attrs


class AuthTokenView(APIView):
    """POST username and password for a token; DELETE revokes the caller's token."""

    permission_classes = [AllowAny]
    serializer_class = AuthTokenSerializer

    def post(self, request):
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})

    def delete(self, request):
        if not request.user.is_authenticated:
            return Response(status=status.HTTP_401_UNAUTHORIZED)
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class BranchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Branch
        fields = [
            "id",
            "code",
            "name",
            "city",
            "address",
            "phone",
            "is_active",
            "three_guarantees_months",
            "three_guarantees_km",
        ]


class StaffSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    full_name = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()
    branches = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Staff
        fields = ["id", "username", "full_name", "roles", "branches"]

    def get_full_name(self, staff: Staff) -> str:
        return display_name(staff.user)

    def get_roles(self, staff: Staff) -> list[str]:
        return sorted(group.name for group in staff.user.groups.all())


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    branches = serializers.ListField(child=serializers.IntegerField())
    working_branch = serializers.IntegerField(allow_null=True)
    permissions = serializers.ListField(child=serializers.CharField())


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        branch = working_branch(request)
        user = request.user
        return Response(
            {
                "id": user.pk,
                "username": user.username,
                "full_name": display_name(user),
                "roles": sorted(user.groups.values_list("name", flat=True)),
                "branches": branch_ids_for(user),
                "working_branch": branch.pk if branch else None,
                "permissions": sorted(user.get_all_permissions()),
            }
        )


class BranchViewSet(viewsets.ReadOnlyModelViewSet):
    """The branches the caller works in (all of them for a group manager)."""

    permission_classes = [IsAuthenticated]
    serializer_class = BranchSerializer
    search_fields = ["name", "code", "city"]
    ordering_fields = ["code", "name"]

    def get_queryset(self):
        return Branch.objects.filter(pk__in=branch_ids_for(self.request.user)).order_by("code")


class StaffViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = StaffSerializer
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    ordering_fields = ["user__username"]
    filterset_fields = ["branches"]

    def get_queryset(self):
        return (
            Staff.objects.filter(branches__in=branch_ids_for(self.request.user))
            .distinct()
            .select_related("user")
            .prefetch_related("user__groups", "branches")
            .order_by("user__username")
        )


class PiiMaskedSerializerMixin:
    """Masks the fields named in `Meta.pii_fields` ({field: masker}) unless the user may see
    personal data."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not can_view_pii(request.user):
            for field, masker in self.Meta.pii_fields.items():
                if data.get(field):
                    data[field] = masker(data[field])
        return data


class PiiLoggedViewSetMixin:
    """Logs every customer shown unmasked by list or retrieve (and the actions named in
    `pii_logged_actions`). `pii_logged_ids(objects)` says whose data the objects carry:
    customers by default, or sales leads."""

    pii_logged_actions = ("list", "retrieve")

    def pii_customer_id(self, obj) -> int:
        return obj.pk

    def pii_logged_ids(self, objects) -> dict[str, list[int]]:
        return {"customer_ids": [self.pii_customer_id(obj) for obj in objects]}

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if (
            self.action in self.pii_logged_actions
            and response.status_code == 200
            and can_view_pii(request.user)
        ):
            objects = getattr(self, "_pii_objects", [])
            pii_access_log(
                user=request.user,
                **self.pii_logged_ids(objects),
                channel=PiiChannel.API,
                path=request.get_full_path(),
            )
        return response

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self._pii_objects = page if page is not None else list(queryset)
        return page

    def get_object(self):
        obj = super().get_object()
        self._pii_objects = [obj]
        return obj


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "key", "title", "body", "url", "branch", "created_at", "read_at"]
        read_only_fields = fields


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(
        field_name="read_at", lookup_expr="isnull", label=gettext_lazy("Unread only")
    )

    class Meta:
        model = Notification
        fields = ["unread"]


class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The caller's own notifications, newest first; anyone else's answers 404."""

    # Everyone may read their own notifications; no model permission is involved.
    permission_classes = [IsAuthenticated]
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    pagination_class = CursorPagination
    ordering_fields = ["id"]

    def get_queryset(self):
        return Notification.objects.filter(recipient_id=self.request.user.pk)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark the notification read."""
        notification = notification_mark_read(notification=self.get_object(), by=request.user)
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        request=None,
        responses=inline_serializer("NotificationsReadAll", {"marked": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """Mark every unread notification read; `marked` says how many were unread."""
        return Response({"marked": notifications_mark_all_read(user=request.user)})
