"""The base of every FilterSet: record choices limited to the requesting user's branches; and
what every list reads out of a typed value: a record number, a record id."""

import re

import django_filters as filters
from django import forms
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES
from django_filters.fields import MultipleChoiceField

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


ALL, YES, NO = _("All"), _("Yes"), _("No")


class YesNoSelect(forms.NullBooleanSelect):
    """A yes / no filter's select headed "All", in the page's words; it takes what the API
    sends too (true, false, True, False)."""

    def __init__(self, yes=YES, no=NO, attrs=None):
        super().__init__(attrs)
        self.choices = [("", ALL), ("true", yes), ("false", no)]

    def format_value(self, value):
        # A list, as Select's: the option "" would match inside a plain string "true".
        return [super().format_value(value)]


class OneOrManySelect(forms.Select):
    """One select on a page, while the query string may repeat the name (`?status=a&status=b`):
    the value is the one choice, or the list of them; empty choices ("All") are left out."""

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else data.get(name)
        if not isinstance(values, list | tuple):
            values = [values]
        values = [value for value in values if value not in EMPTY_VALUES]
        return values[0] if len(values) == 1 else values or None


class OneOrManyChoiceField(MultipleChoiceField):
    widget = OneOrManySelect

    def __init__(self, *args, empty_label=ALL, **kwargs):
        super().__init__(*args, **kwargs)
        self.empty_label = empty_label  # the select's first option; the choices iterate it

    def to_python(self, value):
        if value not in EMPTY_VALUES and not isinstance(value, list | tuple):
            value = [value]
        return super().to_python(value)


class OneOrManyChoiceFilter(filters.MultipleChoiceFilter):
    """A choice a page offers in one select headed "All", which the API takes several of
    (`?channel=phone&channel=wechat`): one filter serves both."""

    field_class = OneOrManyChoiceField


# A typed record id or number: plain 0-9 digits only (str.isdigit() also accepts "²", on
# which int() fails), and few enough that no integer column overflows.
NUMBER_DIGITS = re.compile(r"[0-9]{1,9}")
ID_DIGITS = re.compile(r"[0-9]{1,12}")


def number_pk(term: str | None, prefix: str = "") -> int | None:
    """The record a typed document number stands for: "PO00012", "po12" or "12" → 12 (with
    prefix "PO"); anything else, "12²" or "PO-12" included, stands for none."""
    digits = ("" if term is None else str(term)).strip().upper().removeprefix(prefix.upper())
    return int(digits) if NUMBER_DIGITS.fullmatch(digits) else None


def plain_id(value) -> str:
    """A submitted record id as plain 0-9 digits, or "" (for a select's current choice, an
    htmx parameter, a posted checkbox)."""
    value = str(value or "")
    return value if ID_DIGITS.fullmatch(value) else ""
