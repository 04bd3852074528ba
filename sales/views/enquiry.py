"""The public enquiry form a branch puts on its website: every enquiry becomes a website lead
of that branch, waiting for a sales manager to assign it."""

from django.core.cache import cache
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from dealer_crm.models import Branch
from dealer_crm.notifications import branch_managers, notify
from dealer_crm.pages import call_service

from .. import services
from ..choices import LeadSource
from ..forms.enquiry import EnquiryForm
from ..models import StockVehicle

ENQUIRIES_PER_HOUR = 5


def _too_many(request) -> bool:
    """A visitor (by address) may send a handful of enquiries an hour."""
    key = f"enquiry:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, timeout=3600)
    return cache.incr(key) > ENQUIRIES_PER_HOUR


@require_http_methods(["GET", "POST"])
def enquiry(request, code: str):
    branch = get_object_or_404(Branch, code=code, is_active=True)
    form = EnquiryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["website"]:
            return render(request, "sales/enquiry_thanks.html", {"branch": branch})
        if _too_many(request):
            form.add_error(None, _("Too many enquiries from this connection; please call us."))
        else:
            lead = call_service(
                form,
                lambda: services.lead_create(
                    branch=branch,
                    by=request.user,
                    data={"source": LeadSource.WEBSITE, **form.lead_data()},
                ),
            )
            if lead:
                notify(
                    recipients=branch_managers(branch),
                    key=f"website-lead-{lead.pk}",
                    title=_("New website lead to assign: %(lead)s") % {"lead": lead},
                    url=lead.get_absolute_url(),
                    branch=branch,
                )
                return render(request, "sales/enquiry_thanks.html", {"branch": branch})
    models = (
        StockVehicle.objects.filter(branch=branch)
        .order_by("series")
        .values_list("series", flat=True)
        .distinct()
    )
    return render(request, "sales/enquiry.html", {"form": form, "branch": branch, "models": models})
