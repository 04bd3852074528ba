"""Platform pages: sign in and out, the home page, the working-branch switch, notifications."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers.selectors import branch_overview
from sales.selectors import sales_overview

from .kpis import Area, Direction, Unit, kpi_registry
from .models import Notification
from .notifications import notification_mark_read, notifications_mark_all_read
from .pages import paginate
from .scoping import SESSION_BRANCH_KEY, branch_ids_for, working_branch


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def home(request):
    branch = working_branch(request)
    overview = branch_overview(user=request.user, branch=branch) if branch else None
    sales = (
        sales_overview(user=request.user, branch=branch)
        if branch and request.user.has_perm("sales.view_lead")
        else None
    )
    return render(request, "home.html", {"branch": branch, "overview": overview, "sales": sales})


@login_required
@require_POST
def branch_switch(request):
    """Pick the branch new records are filed under, among the user's own."""
    try:
        branch_id = int(request.POST.get("branch", ""))
    except ValueError:
        branch_id = None
    if branch_id in branch_ids_for(request.user):
        request.session[SESSION_BRANCH_KEY] = branch_id
    else:
        messages.error(request, _("You do not work in that branch."))
    next_url = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    return HttpResponseRedirect(next_url)


@login_required
def notification_list(request):
    """The user's notifications, newest first."""
    page = paginate(request, Notification.objects.filter(recipient=request.user))
    return render(request, "notifications.html", {"page": page})


@login_required
@require_POST
def notification_read(request, pk: int):
    """Mark the notification read and follow its link (only to this site)."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    notification_mark_read(notification=notification, by=request.user)
    if notification.url and url_has_allowed_host_and_scheme(
        notification.url, allowed_hosts={request.get_host()}
    ):
        return HttpResponseRedirect(notification.url)
    return redirect("notifications")


@login_required
@require_POST
def notifications_read_all(request):
    notifications_mark_all_read(user=request.user)
    return redirect("notifications")


@login_required
def kpi_definitions(request):
    """Every figure of the dashboards with its written definition, grouped by area; one area
    (`?area=`) or the figures whose code, name or definition hold `?q=`."""
    area = request.GET.get("area", "")
    area = area if area in Area.values else ""
    search = request.GET.get("q", "").strip()[:100]
    kpis = [
        kpi
        for kpi in kpi_registry().values()
        if (not area or kpi.area == area)
        and (
            not search
            or any(search.lower() in str(text).lower()
                   for text in (kpi.code, kpi.name, kpi.definition))
        )
    ]  # fmt: skip
    groups = [
        (value, label, [kpi for kpi in kpis if kpi.area == value]) for value, label in Area.choices
    ]
    return render(
        request,
        "kpi_definitions.html",
        {
            "groups": [group for group in groups if group[2]],
            "areas": Area.choices,
            "area": area,
            "search": search,
            "units": dict(Unit.choices),
            "directions": dict(Direction.choices),
            "found": len(kpis),
        },
    )
