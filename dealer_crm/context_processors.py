from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from .models import Branch
from .notifications import unread_count
from .scoping import branch_ids_for, working_branch

# (label, url name, permission needed to see the entry)
NAVIGATION = [
    (_("Customers"), "customers:list", "customers.view_customer"),
    (_("Vehicles"), "customers:vehicle-list", "customers.view_vehicle"),
    (_("Incomplete records"), "customers:incomplete", "customers.view_customer"),
    (_("Import"), "customers:import", "customers.import_customers"),
]


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = [
        {"label": label, "url": reverse(name), "active": False}
        for label, name, permission in NAVIGATION
        if user.has_perm(permission)
    ]
    # The entry whose address is the longest prefix of this page's is the current one.
    matching = [item for item in items if request.path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    return {
        "nav_items": items,
        "nav_branches": Branch.objects.filter(pk__in=branch_ids_for(user)),
        "nav_working_branch": working_branch(request),
        # Lazy: counted only when a template shows it (the navbar), not for htmx fragments.
        "nav_unread_notifications": SimpleLazyObject(lambda: unread_count(user)),
    }
