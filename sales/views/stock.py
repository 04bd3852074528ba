"""Vehicle stock pages: every new vehicle by VIN, how long it has stood, its arrival and PDI.
As thin as the API: parse, call a service, render."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dealer_crm.audit import history_entries
from dealer_crm.errors import DomainError
from dealer_crm.pages import apply_filters, call_service, paginate, sort
from dealer_crm.pii import can_view_pii
from dealer_crm.scoping import working_branch

from .. import selectors, services
from ..choices import StockStatus
from ..filters import StockVehicleFilter
from ..forms.stock import ArriveForm, PdiForm, StockVehicleForm
from ..models import StockVehicle

STOCK_SORTS = {
    "vin": "vin",
    "series": "series",
    "status": "status",
    "arrival": "arrival_date",
    "days": "days_order",
    "price": "list_price",
    "created": "created_at",
}
# Days in stock from which a vehicle's age is flagged: amber, then red.
AGEING_WARNING_DAYS = 60
AGEING_DANGER_DAYS = 90


@login_required
@permission_required("sales.view_stockvehicle", raise_exception=True)
def stock_list(request):
    # A vehicle in transit has no days in stock; it sorts as the newest, not above the oldest.
    vehicles = selectors.stock_list(user=request.user).annotate(
        days_order=Coalesce("days_in_stock", Value(-1))
    )
    filterset, vehicles = apply_filters(request, StockVehicleFilter, vehicles)
    vehicles, current_sort = sort(request, vehicles, STOCK_SORTS, "-days")
    # The brands and series the user's stock holds, for the filter's choices.
    models = (
        StockVehicle.objects.for_user(request.user)
        .order_by("brand", "series")
        .values_list("brand", "series")
        .distinct()
    )
    models = list(models)
    ageing = selectors.stock_ageing(user=request.user)
    for bucket in ageing:
        # Each bucket drills down to the held vehicles of its age.
        bucket["query"] = urlencode(
            [("status", status) for status in selectors.HELD_STOCK_STATUSES]
            + [("min_days_in_stock", bucket["min_days"])]
            + (
                [("max_days_in_stock", bucket["max_days"])]
                if bucket["max_days"] is not None
                else []
            )
        )
    return render(
        request,
        "sales/stock_list.html",
        {
            "filterset": filterset,
            "page": paginate(request, vehicles),
            "sort": current_sort,
            "ageing": ageing,
            "brands": sorted({brand for brand, _series in models}),
            "series": sorted({series for _brand, series in models}),
            "statuses": StockStatus.choices,
            "chosen_statuses": request.GET.getlist("status"),
            "warning_days": AGEING_WARNING_DAYS,
            "danger_days": AGEING_DANGER_DAYS,
            "held_statuses": selectors.HELD_STOCK_STATUSES,
        },
    )


@login_required
@permission_required("sales.add_stockvehicle", raise_exception=True)
@require_http_methods(["GET", "POST"])
def stock_create(request):
    branch = working_branch(request)
    if branch is None:
        messages.error(request, _("Your account is not linked to any branch."))
        return redirect("sales:stock-list")
    form = StockVehicleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        vehicle = call_service(
            form,
            lambda: services.stock_vehicle_create(
                branch=branch, by=request.user, data=form.service_data()
            ),
        )
        if vehicle:
            messages.success(request, _("Vehicle %(vin)s added to stock.") % {"vin": vehicle.vin})
            return redirect("sales:stock-detail", pk=vehicle.pk)
    return render(request, "sales/stock_form.html", {"form": form, "branch": branch})


@login_required
@permission_required("sales.change_stockvehicle", raise_exception=True)
@require_http_methods(["GET", "POST"])
def stock_edit(request, pk: int):
    vehicle = StockVehicle.objects.get_for_user_or_404(request.user, pk=pk)
    form = StockVehicleForm(request.POST or None, instance=vehicle)
    if request.method == "POST" and form.is_valid():
        updated = call_service(
            form,
            lambda: services.stock_vehicle_update(
                stock_vehicle=vehicle, by=request.user, data=form.service_data()
            ),
        )
        if updated:
            messages.success(request, _("Changes saved."))
            return redirect("sales:stock-detail", pk=vehicle.pk)
    return render(request, "sales/stock_form.html", {"form": form, "vehicle": vehicle})


def _load(request, pk: int) -> StockVehicle:
    return (
        StockVehicle.objects.with_days_in_stock()
        .select_related("branch", "pdi_by", "order__customer")
        .get_for_user_or_404(request.user, pk=pk)
    )


def _stock_page(request, vehicle: StockVehicle, **forms):
    user = request.user
    order = getattr(vehicle, "order", None)  # None when no order holds it
    return render(
        request,
        "sales/stock_detail.html",
        {
            "vehicle": vehicle,
            "order": order,
            "test_drives": list(
                vehicle.test_drives.select_related("lead", "consultant").order_by("-starts_at")[:50]
            ),
            "can_arrive": vehicle.arrival_date is None
            and user.has_perm("sales.change_stockvehicle"),
            "can_record_pdi": vehicle.arrival_date is not None
            and vehicle.status != StockStatus.DELIVERED
            and user.has_perm("sales.record_pdi"),
            "can_demo": vehicle.status in (StockStatus.IN_STOCK, StockStatus.DEMO)
            and user.has_perm("sales.change_stockvehicle"),
            "can_edit": vehicle.status not in (StockStatus.SOLD, StockStatus.DELIVERED)
            and user.has_perm("sales.change_stockvehicle"),
            "arrive_form": forms.get("arrive_form") or ArriveForm(),
            "pdi_form": forms.get("pdi_form")
            or PdiForm(
                initial={"done_on": vehicle.pdi_done_on, "note": vehicle.pdi_note}
                if vehicle.pdi_done_on
                else None
            ),
            "open_panel": forms.get("open_panel", ""),
            "warning_days": AGEING_WARNING_DAYS,
            "danger_days": AGEING_DANGER_DAYS,
            "held_statuses": selectors.HELD_STOCK_STATUSES,
            "history": history_entries(vehicle, show_pii=can_view_pii(user)),
        },
    )


def _failed(request, vehicle: StockVehicle, form, **forms):
    """A form with field errors comes back beside its fields; a refused state change is a
    message on the vehicle's page."""
    if any(field != "__all__" for field in form.errors):
        return _stock_page(request, vehicle, **forms)
    for message in form.non_field_errors():
        messages.error(request, message)
    return redirect("sales:stock-detail", pk=vehicle.pk)


@login_required
@permission_required("sales.view_stockvehicle", raise_exception=True)
def stock_detail(request, pk: int):
    return _stock_page(request, _load(request, pk))


@login_required
@permission_required("sales.change_stockvehicle", raise_exception=True)
@require_POST
def stock_arrive(request, pk: int):
    vehicle = _load(request, pk)
    form = ArriveForm(request.POST)
    if form.is_valid() and call_service(
        form,
        lambda: services.stock_vehicle_arrive(
            stock_vehicle=vehicle, by=request.user, arrival_date=form.cleaned_data["arrival_date"]
        ),
    ):
        messages.success(request, _("Arrival of %(vin)s recorded.") % {"vin": vehicle.vin})
        return redirect("sales:stock-detail", pk=vehicle.pk)
    return _failed(request, vehicle, form, arrive_form=form)


@login_required
@permission_required("sales.record_pdi", raise_exception=True)
@require_POST
def stock_pdi(request, pk: int):
    vehicle = _load(request, pk)
    form = PdiForm(request.POST)
    if form.is_valid() and call_service(
        form,
        lambda: services.stock_vehicle_record_pdi(
            stock_vehicle=vehicle,
            by=request.user,
            done_on=form.cleaned_data["done_on"],
            note=form.cleaned_data["note"],
        ),
    ):
        messages.success(request, _("PDI of %(vin)s recorded.") % {"vin": vehicle.vin})
        return redirect("sales:stock-detail", pk=vehicle.pk)
    return _failed(request, vehicle, form, pdi_form=form, open_panel="pdi")


@login_required
@permission_required("sales.change_stockvehicle", raise_exception=True)
@require_POST
def stock_demo(request, pk: int):
    vehicle = StockVehicle.objects.get_for_user_or_404(request.user, pk=pk)
    demo = request.POST.get("demo") == "1"
    try:
        services.stock_vehicle_set_demo(stock_vehicle=vehicle, by=request.user, demo=demo)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("%(vin)s is now a demo car.") % {"vin": vehicle.vin}
            if demo
            else _("%(vin)s is back in stock.") % {"vin": vehicle.vin},
        )
    return redirect("sales:stock-detail", pk=vehicle.pk)
