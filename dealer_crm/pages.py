"""Helpers every HTML page uses: running a service from a form, sorting and paginating lists."""

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.forms import Form
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .errors import DomainError
from .filters import YesNoSelect
from .forms import bootstrap_widgets

T = TypeVar("T")
PAGE_SIZES = (10, 25, 50, 100)


def call_service(form: Form, service: Callable[[], T]) -> T | None:
    """Run a service; put a refused rule or a validation error beside its field in the form."""
    try:
        return service()
    except DomainError as error:
        field = error.field if error.field in form.fields else None
        form.add_error(field, str(error.message))
        form.domain_error = error
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            form.add_error(None, error.messages)
    return None


def apply_filters(request, filterset_class, queryset: QuerySet) -> tuple:
    """A list page's FilterSet bound to the query string, and the queryset it leaves; invalid
    filters leave the list whole and show their errors in the form."""
    filterset = filterset_class(request.GET or None, queryset=queryset, request=request)
    if filterset.is_bound and filterset.is_valid():
        queryset = filterset.qs
    bootstrap_widgets(filterset.form)
    return filterset, queryset


def sort(
    request, queryset: QuerySet, allowed: dict[str, str], default: str
) -> tuple[QuerySet, str]:
    """Order by `?sort=key` or `?sort=-key` where key is one of `allowed` (key → field)."""
    requested = request.GET.get("sort", default)
    key = requested.lstrip("-")
    if key not in allowed:
        requested, key = default, default.lstrip("-")
    prefix = "-" if requested.startswith("-") else ""
    return queryset.order_by(f"{prefix}{allowed[key]}", f"{prefix}pk"), requested


def paginate(request, queryset: QuerySet, default_size: int = 25) -> Page:
    try:
        size = int(request.GET.get("size", default_size))
    except ValueError:
        size = default_size
    size = size if size in PAGE_SIZES else default_size
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def yes_no_choices(filterset, name: str, yes: str, no: str) -> None:
    """A yes / no filter reads as the page's words rather than Unknown / Yes / No (and keeps
    the choice made selected)."""
    field = filterset.form.fields[name]
    field.widget = YesNoSelect(yes, no, attrs=field.widget.attrs)


def all_choice(filterset, *names: str) -> None:
    """A choice filter left empty reads "All" rather than a row of dashes."""
    for name in names:
        field = filterset.form.fields[name]
        field.empty_label = _("All")
        field.widget.choices = field.choices  # the widget's own copy still reads the old label


# Lists of tables that grow every day count no further than this.
COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """Counts no further than COUNT_CAP: never an unbounded COUNT(*) on a growing table."""

    @cached_property
    def count(self) -> int:
        return self.object_list[:COUNT_CAP].count()
