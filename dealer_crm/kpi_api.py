"""The figures of DOMAIN §8 for REST clients: the registry (`kpi-definitions/`), and a period's
values with last year's and the month's target (`kpis/`), read from the snapshots."""

from django.contrib.auth.models import User
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from .api import FIGURES_MAX_DAYS, REFUSED, BranchField
from .kpis import (
    KPI_PERIODS,
    Area,
    Direction,
    Kpi,
    KpiReading,
    Unit,
    kpi_period,
    kpi_registry,
    kpi_values,
    same_period_last_year,
)
from .periods import LOCAL_TIME_ZONE
from .scoping import branch_ids_for

# --- Definitions -------------------------------------------------------------------------------


class KpiDefinitionSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=gettext_lazy("Stable; never changes with language."))
    name = serializers.CharField()
    definition = serializers.CharField(help_text=gettext_lazy("The formula, in words."))
    area = serializers.CharField()
    area_label = serializers.CharField()
    app = serializers.CharField(help_text=gettext_lazy("The app whose records it counts."))
    unit = serializers.CharField(
        help_text=gettext_lazy(
            "count, percent (a share from 0 to 1), cny, hours, days, score or times."
        )
    )
    unit_label = serializers.CharField()
    direction = serializers.CharField(help_text=gettext_lazy("higher, lower or neutral."))
    direction_label = serializers.CharField()
    aggregation = serializers.CharField(
        help_text=gettext_lazy(
            "How a period takes its days: flow (added up), level (the last day's), or "
            "numerator/denominator of sum, last or average."
        )
    )
    aggregation_label = serializers.CharField()
    per_person = serializers.BooleanField(
        help_text=gettext_lazy("It also has one value per person (?person=).")
    )
    person_roles = serializers.ListField(child=serializers.CharField())
    person_roles_label = serializers.CharField()
    targets = serializers.BooleanField(help_text=gettext_lazy("Monthly targets are set for it."))
    goal = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    breakdown = serializers.CharField(
        allow_null=True, help_text=gettext_lazy("What its breakdown keys are, if it has any.")
    )
    measured = serializers.BooleanField(
        help_text=gettext_lazy("False while the records it needs are not kept yet.")
    )
    history = serializers.BooleanField(
        help_text=gettext_lazy(
            "Its past days can be computed from the records; else only the nightly job records it."
        )
    )
    live = serializers.BooleanField(
        help_text=gettext_lazy("Today's value is computed live; else it is last night's.")
    )

    def to_representation(self, kpi: Kpi) -> dict:
        return {
            "code": kpi.code,
            "name": str(kpi.name),
            "definition": str(kpi.definition),
            "area": kpi.area,
            "area_label": str(Area(kpi.area).label),
            "app": kpi.app,
            "unit": kpi.unit,
            "unit_label": str(Unit(kpi.unit).label),
            "direction": kpi.direction,
            "direction_label": str(Direction(kpi.direction).label),
            "aggregation": kpi.aggregation.code,
            "aggregation_label": str(kpi.aggregation.label),
            "per_person": kpi.per_person,
            "person_roles": list(kpi.person_roles),
            "person_roles_label": kpi.person_roles_label,
            "targets": kpi.targets,
            "goal": None if kpi.goal is None else str(kpi.goal),
            "breakdown": None if kpi.breakdown is None else str(kpi.breakdown),
            "measured": kpi.measure is not None,
            "history": kpi.history,
            "live": kpi.live,
        }


@extend_schema_serializer(many=False)
class KpiDefinitionListSerializer(serializers.Serializer):
    """The registry is small and bounded: one page holds it."""

    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = KpiDefinitionSerializer(many=True)


class KpiDefinitionViewSet(viewsets.ViewSet):
    """指标定义: every figure of the dashboards, defined once — what it counts, its unit,
    whether higher is better, how a period adds its days up. In the request's language."""

    permission_classes = [IsAuthenticated]
    lookup_field = "code"
    lookup_value_regex = r"[a-z_]+\.[a-z_]+"

    @extend_schema(responses=KpiDefinitionListSerializer)
    def list(self, request):
        kpis = list(kpi_registry().values())
        return Response(
            {
                "count": len(kpis),
                "next": None,
                "previous": None,
                "results": KpiDefinitionSerializer(kpis, many=True).data,
            }
        )

    @extend_schema(responses=KpiDefinitionSerializer)
    def retrieve(self, request, code=None):
        kpi = kpi_registry().get(code)
        if kpi is None:
            raise Http404
        return Response(KpiDefinitionSerializer(kpi).data)


FUTURE = gettext_lazy("The figures of days to come are not known yet.")

# --- Values ------------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class PersonField(serializers.PrimaryKeyRelatedField):
    """A person working in one of the requesting user's branches."""

    def get_queryset(self):
        user = self.context["request"].user
        return User.objects.filter(staff__branches__in=branch_ids_for(user)).distinct()


class KpiQuerySerializer(serializers.Serializer):
    code = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=gettext_lazy("Figures by code, repeated; every figure you may read if left out."),
    )
    branch = BranchField(
        required=False, help_text=gettext_lazy("One branch; all of yours if left out.")
    )
    period = serializers.ChoiceField(
        choices=KPI_PERIODS,
        default="month",
        help_text=gettext_lazy(
            "day, week (Monday to Sunday), month or year holding `date`; this_month, "
            "last_month or this_year counted from `date`; custom from `start` to `end`."
        ),
    )
    date = serializers.DateField(required=False, help_text=gettext_lazy("Today if left out."))
    start = serializers.DateField(required=False, help_text=gettext_lazy("A custom period's."))
    end = serializers.DateField(required=False, help_text=gettext_lazy("A custom period's."))
    person = PersonField(
        required=False,
        help_text=gettext_lazy("One person's values (the figures that have them); yours or, "
                               "with the figure's permission, a colleague's."),
    )  # fmt: skip

    def validate_code(self, codes: list[str]) -> list[str]:
        registry = kpi_registry()
        unknown = [code for code in codes if code not in registry]
        if unknown:
            raise serializers.ValidationError(
                _("No figure has the code %(codes)s.") % {"codes": ", ".join(unknown)}
            )
        return list(dict.fromkeys(codes))

    def validate(self, attrs):
        today = timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
        on = attrs.get("date") or today
        if on > today:
            raise serializers.ValidationError({"date": [str(FUTURE)]})
        if attrs["period"] == "custom":
            if not attrs.get("start") or not attrs.get("end"):
                raise serializers.ValidationError(
                    {"start": [_("A custom period needs its start and its end.")]}
                )
            start, end = attrs["start"], min(attrs["end"], today)
            if end < attrs["start"]:
                raise serializers.ValidationError({"end": [_("The end is before the start.")]})
        else:
            start, end = kpi_period(attrs["period"], on, today)
        if start > today:
            raise serializers.ValidationError({"start": [str(FUTURE)]})
        if (end - start).days >= FIGURES_MAX_DAYS:
            raise serializers.ValidationError(
                {"end": [_("Choose a period of at most three years.")]}
            )
        attrs["start"], attrs["end"] = start, end
        return attrs


@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"})
class DecimalString(serializers.Field):
    """A decimal as a string, with the figure's own places; null when there is none."""

    def to_representation(self, value):
        return None if value is None else format(value, "f")


class NumberString(DecimalString):
    """A decimal as a string without trailing zeros: 1, 0.5, 1280.25."""

    def to_representation(self, value):
        if value is None:
            return None
        value = value.normalize()
        return format(value.quantize(1) if value == value.to_integral() else value, "f")


class KpiNumbersSerializer(serializers.Serializer):
    value = DecimalString(
        allow_null=True, help_text=gettext_lazy("null: nothing to divide by, or not computed.")
    )
    numerator = NumberString(allow_null=True)
    denominator = NumberString(
        allow_null=True, help_text=gettext_lazy("null for a count or a sum.")
    )


class KpiBreakdownSerializer(KpiNumbersSerializer):
    key = serializers.CharField()
    label = serializers.CharField()
    previous_value = DecimalString(allow_null=True)


class KpiValueSerializer(KpiNumbersSerializer):
    code = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    direction = serializers.CharField()
    previous = KpiNumbersSerializer(help_text=gettext_lazy("The same period last year."))
    target = NumberString(
        allow_null=True, help_text=gettext_lazy("The month's target, for a month's period.")
    )
    attainment = DecimalString(allow_null=True, help_text=gettext_lazy("value ÷ target."))
    goal = NumberString(allow_null=True)
    breakdown = KpiBreakdownSerializer(many=True)


@extend_schema_serializer(many=False)
class KpiValuesSerializer(serializers.Serializer):
    period = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    previous_start = serializers.DateField()
    previous_end = serializers.DateField()
    branch = serializers.IntegerField(allow_null=True)
    person = serializers.IntegerField(allow_null=True)
    results = KpiValueSerializer(many=True)


def _numbers(figure) -> dict:
    return {
        "value": figure.value,
        "numerator": figure.numerator,
        "denominator": figure.denominator,
    }


def reading_as_dict(reading: KpiReading) -> dict:
    """A figure's reading in the shape of the API (and of the dashboards' tables)."""
    kpi = reading.kpi
    labels = kpi.key_labels() if kpi.key_labels else {}
    previous = reading.previous.breakdown
    return {
        "code": kpi.code,
        "name": str(kpi.name),
        "unit": kpi.unit,
        "direction": kpi.direction,
        **_numbers(reading.current),
        "previous": _numbers(reading.previous),
        "target": reading.target,
        "attainment": reading.attainment,
        "goal": kpi.goal,
        "breakdown": [
            {
                "key": key,
                "label": str(labels.get(key, key)),
                **_numbers(figure),
                "previous_value": previous[key].value if key in previous else None,
            }
            for key, figure in sorted(reading.current.breakdown.items())
        ],
    }


class KpiViewSet(viewsets.ViewSet):
    """指标: the figures of a period over one of your branches or all of them (or one person's),
    with the same period last year and the month's target. Past days are read from the
    nightly snapshots, today is computed live."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            KpiQuerySerializer,
            OpenApiParameter(
                "code", OpenApiTypes.STR, many=True, explode=True,
                description="Figures by code, repeated: ?code=service.entries&code=sales.leads",
            ),
        ],
        responses={200: KpiValuesSerializer, 400: REFUSED},
    )  # fmt: skip
    def list(self, request):
        query = KpiQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        user = request.user
        person = data.get("person")
        own = person is not None and person.pk == user.pk
        registry = kpi_registry()
        if data.get("code"):
            kpis = [registry[code] for code in data["code"]]
            if person is not None:
                lacking = [kpi.code for kpi in kpis if not kpi.per_person]
                if lacking:
                    raise serializers.ValidationError(
                        {"code": [_("These figures have no per-person values: %(codes)s.")
                                  % {"codes": ", ".join(lacking)}]}
                    )  # fmt: skip
            if not all(kpi.readable_by(user, own=own) for kpi in kpis):
                raise PermissionDenied()
        else:
            kpis = [
                kpi
                for kpi in registry.values()
                if kpi.readable_by(user, own=own) and (person is None or kpi.per_person)
            ]
        branch = data.get("branch")
        branch_ids = [branch.pk] if branch else branch_ids_for(user)
        readings = kpi_values(
            [kpi.code for kpi in kpis],
            branch_ids,
            data["start"],
            data["end"],
            person_id=person.pk if person else None,
        )
        start, end = data["start"], data["end"]
        previous_start, previous_end = same_period_last_year(start, end)
        payload = {
            "period": data["period"],
            "start": start,
            "end": end,
            "previous_start": previous_start,
            "previous_end": previous_end,
            "branch": branch.pk if branch else None,
            "person": person.pk if person else None,
            "results": [reading_as_dict(reading) for reading in readings.values()],
        }
        return Response(KpiValuesSerializer(payload).data)
