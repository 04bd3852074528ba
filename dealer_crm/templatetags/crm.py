from decimal import Decimal

from django import template
from django.utils.html import format_html

from dealer_crm.models import display_name
from dealer_crm.pii import mask_id_number, mask_phone

register = template.Library()


@register.filter
def money(value) -> str:
    """CNY with two decimals and thousands grouped by commas in every language: 219,900.00."""
    if value in (None, ""):
        return "—"
    return f"{Decimal(value):,.2f}"


@register.filter
def phone(value: str, show_pii: bool) -> str:
    return value if show_pii else mask_phone(value)


@register.filter
def id_number(value: str, show_pii: bool) -> str:
    return value if show_pii else mask_id_number(value)


@register.simple_tag(takes_context=True)
def sort_link(context, key: str, label: str) -> str:
    """A column header that sorts by `key`, toggling the direction, keeping the filters."""
    request = context["request"]
    current = context.get("sort", "")
    query = request.GET.copy()
    query.pop("page", None)
    descending = current == key
    query["sort"] = f"-{key}" if descending else key
    arrow = "▲" if current == key else "▼" if current == f"-{key}" else ""
    return format_html(
        '<a class="link-body-emphasis text-decoration-none" href="?{}">{} {}</a>',
        query.urlencode(),
        label,
        arrow,
    )


@register.simple_tag(takes_context=True)
def page_url(context, number: int) -> str:
    query = context["request"].GET.copy()
    query["page"] = number
    return f"?{query.urlencode()}"


@register.filter
def person(user) -> str:
    return display_name(user)
