"""The base of every FilterSet: record choices limited to the requesting user's branches."""

import django_filters as filters
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django_filters.constants import EMPTY_VALUES

from .models import Branch
from .periods import local_day_end, local_day_start
from .scoping import branch_ids_for


def scoped_choices(queryset: QuerySet, user) -> QuerySet:
    """The records of `queryset` a user may pick: their branches, their branches' staff, and
    branch-scoped records of those branches."""
    model = queryset.model
    if model is Branch:
        return queryset.filter(pk__in=branch_ids_for(user))
    if model is User:
        return queryset.filter(staff__branches__in=branch_ids_for(user)).distinct()
    if hasattr(queryset, "for_user"):
        return queryset.for_user(user)
    return queryset


class BranchScopedFilterSet(filters.FilterSet):
    """A filter by a related record (consultant, demo car, lead...) offers, and accepts, only
    records of the user's branches: another branch's id is an invalid choice, and no select
    in a page or the browsable API lists other branches' people or records.

    Without a request (a selector filtering on the server's own behalf) nothing is limited.
    """

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = getattr(request, "user", None)
        if user is None:
            return
        for declared in self.filters.values():
            if isinstance(declared, filters.ModelChoiceFilter | filters.ModelMultipleChoiceFilter):
                queryset = declared.get_queryset(request)
                declared.queryset = scoped_choices(queryset, user)


class LocalDayFilter(filters.DateFilter):
    """A date matched against a datetime field by the Asia/Shanghai calendar day.

    `exact` is that day, `gte` from its start, `lte` to its end. Plain range bounds, unlike
    `__date`, leave the column's index usable.
    """

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        start, end = local_day_start(value), local_day_end(value)
        bounds = {
            "exact": {"gte": start, "lt": end},
            "gte": {"gte": start},
            "lte": {"lt": end},
        }[self.lookup_expr]
        return qs.filter(**{f"{self.field_name}__{op}": moment for op, moment in bounds.items()})
