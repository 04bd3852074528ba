"""Customer and vehicle pages. As thin as the API: parse, call a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dealer_crm.audit import history_entries
from dealer_crm.choices import PiiChannel
from dealer_crm.errors import DomainError
from dealer_crm.pages import apply_filters, call_service, paginate, sort
from dealer_crm.pii import can_view_pii, pii_access_log
from dealer_crm.scoping import working_branch

from . import selectors, services, spreadsheets
from .care.choices import AbnormalReason, OfferStatus
from .care.models import LoyaltyAccount, Offer
from .filters import CustomerFilter, VehicleFilter
from .forms import (
    ContactForm,
    CustomerForm,
    ImportForm,
    MergeForm,
    OdometerReadingForm,
    TransferForm,
    VehicleForm,
)
from .models import Contact, Customer, Vehicle
from .selectors import COMPLETENESS_ITEMS
from .vin import decode_vin, normalize_vin, validate_vin

CUSTOMER_SORTS = {
    "name": "name",
    "created": "created_at",
    "updated": "updated_at",
    "completeness": "completeness",
    "city": "city",
}
VEHICLE_SORTS = {
    "vin": "vin",
    "plate": "plate",
    "delivery": "delivery_date",
    "odometer": "odometer_km",
    "created": "created_at",
}


def _log_pii(request, customer_ids) -> bool:
    """True when the user sees personal data unmasked (and the view is logged)."""
    if not can_view_pii(request.user):
        return False
    pii_access_log(
        user=request.user,
        customer_ids=customer_ids,
        channel=PiiChannel.PAGE,
        path=request.get_full_path(),
    )
    return True


def _segment_of(customer: Customer):
    """The customer's segments as of their last computation (None before it), with the
    reasons to reach out in words."""
    segment = getattr(customer, "segment", None)
    if segment is not None:
        segment.reasons = [AbnormalReason(reason).label for reason in segment.abnormal]
    return segment


def _loyalty_card(request, customer: Customer) -> dict:
    """The customer's points balance and their campaign offers not yet redeemed and still
    valid, each for users who may read them; empty for the others."""
    card = {}
    if request.user.has_perm("care.view_loyaltyaccount"):
        account = LoyaltyAccount.objects.filter(customer=customer).first()
        card["points"] = account.balance if account else 0
    if request.user.has_perm("care.view_offer"):
        card["offers"] = list(
            Offer.objects.for_user(request.user)
            .filter(
                customer=customer,
                status__in=[OfferStatus.ASSIGNED, OfferStatus.REQUESTED, OfferStatus.APPROVED],
                campaign__ends_on__gte=timezone.localdate(),
            )
            .select_related("campaign")
            .order_by("campaign__ends_on", "pk")
        )
        card["assigned"] = OfferStatus.ASSIGNED
    return card


def _customer_list_page(
    request,
    *,
    template: str,
    base_filter: dict | None = None,
    default_sort: str = "-created",
    show_gaps: bool = False,
    show_segments: bool = False,
):
    customers = selectors.customer_list(user=request.user)
    if base_filter:
        customers = customers.filter(**base_filter)
    if show_gaps:
        customers = customers.prefetch_related("contacts")
    show_segments = show_segments and request.user.has_perm("care.view_customersegment")
    if show_segments:
        customers = customers.select_related("segment")
    filterset, customers = apply_filters(request, CustomerFilter, customers)
    customers, current_sort = sort(request, customers, CUSTOMER_SORTS, default_sort)
    page = paginate(request, customers)
    if show_gaps:
        for customer in page:
            customer.gaps = [
                COMPLETENESS_ITEMS[gap] for gap in selectors.customer_completeness_gaps(customer)
            ]
    if show_segments:
        for customer in page:
            customer.segment_now = _segment_of(customer)
    show_pii = _log_pii(request, [c.pk for c in page])
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        template,
        {
            "filterset": filterset,
            "page": page,
            "show_pii": show_pii,
            "sort": current_sort,
            "query": query.urlencode(),
            "show_gaps": show_gaps,
            "show_segments": show_segments,
        },
    )


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_list(request):
    return _customer_list_page(request, template="customers/customer_list.html", show_segments=True)


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_incomplete(request):
    return _customer_list_page(
        request,
        template="customers/customer_incomplete.html",
        base_filter={"completeness__lt": 100},
        show_gaps=True,
        default_sort="completeness",
    )


@login_required
@permission_required("customers.add_customer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_create(request):
    form = CustomerForm(request.POST or None, user=request.user)
    branch = working_branch(request)
    if branch is None:
        messages.error(request, _("Your account is not linked to any branch."))
        return redirect("customers:list")
    if request.method == "POST" and form.is_valid():
        customer = call_service(
            form,
            lambda: services.customer_create(
                branch=branch,
                by=request.user,
                data=form.service_data(),
                confirm_duplicate=form.cleaned_data.get("confirm_duplicate", False),
            ),
        )
        if customer:
            messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
            return redirect("customers:detail", pk=customer.pk)
    duplicates = getattr(getattr(form, "domain_error", None), "extra", {}).get("duplicates", [])
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "duplicates": duplicates, "branch": branch},
    )


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_detail(request, pk: int):
    customer = selectors.customer_detail(user=request.user, pk=pk)
    if customer.merged_into_id:
        messages.info(
            request,
            _("This customer was merged into %(name)s.") % {"name": customer.merged_into.name},
        )
        return redirect("customers:detail", pk=customer.merged_into_id)
    show_pii = _log_pii(request, [customer.pk])
    gaps = selectors.customer_completeness_gaps(customer)
    return render(
        request,
        "customers/customer_detail.html",
        {
            "customer": customer,
            "show_pii": show_pii,
            "gaps": [COMPLETENESS_ITEMS[gap] for gap in gaps],
            "segment": _segment_of(customer)
            if request.user.has_perm("care.view_customersegment")
            else None,
            "timeline": selectors.customer_timeline(customer=customer)[:50],
            "history": history_entries(customer, show_pii=show_pii),
            "loyalty": _loyalty_card(request, customer),
            "duplicates": selectors.customer_duplicates(
                user=request.user,
                mobile=customer.mobile,
                id_number=customer.id_number,
                credit_code=customer.credit_code,
                exclude_id=customer.pk,
            )[:5],
        },
    )


@login_required
@permission_required("customers.change_customer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_edit(request, pk: int):
    customer = Customer.objects.active().get_for_user_or_404(request.user, pk=pk)
    form = CustomerForm(request.POST or None, instance=customer, user=request.user)
    if request.method == "POST" and form.is_valid():
        updated = call_service(
            form,
            lambda: services.customer_update(
                customer=customer, by=request.user, data=form.service_data()
            ),
        )
        if updated:
            messages.success(request, _("Changes saved."))
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form, "customer": customer})


@login_required
@permission_required("customers.delete_customer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_delete(request, pk: int):
    customer = Customer.objects.active().get_for_user_or_404(request.user, pk=pk)
    if request.method == "POST":
        try:
            services.customer_delete(customer=customer, by=request.user)
        except DomainError as error:
            messages.error(request, str(error.message))
            return redirect("customers:detail", pk=customer.pk)
        messages.success(request, _("Customer %(name)s deleted.") % {"name": customer.name})
        return redirect("customers:list")
    return render(
        request, "customers/confirm_delete.html", {"object": customer, "cancel_url": customer}
    )


@login_required
@permission_required("customers.merge_customers", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_merge(request, pk: int):
    keep = Customer.objects.active().get_for_user_or_404(request.user, pk=pk)
    form = MergeForm(request.POST or None, initial={"duplicate": request.GET.get("duplicate")})
    if request.method == "POST" and form.is_valid():
        duplicate = (
            Customer.objects.for_user(request.user)
            .filter(pk=form.cleaned_data["duplicate"])
            .first()
        )
        if duplicate is None:
            form.add_error("duplicate", _("No customer with this number in your branches."))
        elif call_service(
            form, lambda: services.customer_merge(keep=keep, duplicate=duplicate, by=request.user)
        ):
            messages.success(
                request,
                _("%(duplicate)s was merged into this customer.") % {"duplicate": duplicate.name},
            )
            return redirect("customers:detail", pk=keep.pk)
    candidates = selectors.customer_duplicates(
        user=request.user,
        mobile=keep.mobile,
        id_number=keep.id_number,
        credit_code=keep.credit_code,
        exclude_id=keep.pk,
    )[:10]
    return render(
        request,
        "customers/customer_merge.html",
        {
            "customer": keep,
            "form": form,
            "candidates": candidates,
            "show_pii": can_view_pii(request.user),
        },
    )


@login_required
@permission_required("customers.add_contact", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contact_create(request, pk: int):
    customer = Customer.objects.active().get_for_user_or_404(request.user, pk=pk)
    return _contact_form(request, customer=customer, contact=None)


@login_required
@permission_required("customers.change_contact", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contact_edit(request, pk: int):
    contact = Contact.objects.select_related("customer").get_for_user_or_404(request.user, pk=pk)
    return _contact_form(request, customer=contact.customer, contact=contact)


def _contact_form(request, *, customer: Customer, contact: Contact | None):
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            form,
            lambda: services.contact_save(
                customer=customer, by=request.user, data=form.cleaned_data, contact=contact
            ),
        )
        if saved:
            messages.success(request, _("Contact saved."))
            return redirect("customers:detail", pk=customer.pk)
    return render(
        request,
        "customers/contact_form.html",
        {"form": form, "customer": customer, "contact": contact},
    )


@login_required
@permission_required("customers.delete_contact", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contact_delete(request, pk: int):
    contact = Contact.objects.select_related("customer").get_for_user_or_404(request.user, pk=pk)
    if request.method == "POST":
        services.contact_delete(contact=contact, by=request.user)
        messages.success(request, _("Contact deleted."))
        return redirect("customers:detail", pk=contact.customer_id)
    return render(
        request,
        "customers/confirm_delete.html",
        {"object": contact, "cancel_url": contact.customer},
    )


@login_required
@permission_required("customers.view_vehicle", raise_exception=True)
def vehicle_list(request):
    vehicles = selectors.vehicle_list(user=request.user)
    filterset, vehicles = apply_filters(request, VehicleFilter, vehicles)
    vehicles, current_sort = sort(request, vehicles, VEHICLE_SORTS, "-created")
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "customers/vehicle_list.html",
        {
            "filterset": filterset,
            "page": paginate(request, vehicles),
            "sort": current_sort,
            "query": query.urlencode(),
        },
    )


@login_required
@permission_required("customers.add_vehicle", raise_exception=True)
@require_http_methods(["GET", "POST"])
def vehicle_create(request, pk: int):
    owner = (
        Customer.objects.active().select_related("branch").get_for_user_or_404(request.user, pk=pk)
    )
    form = VehicleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        vehicle = call_service(
            form,
            lambda: services.vehicle_add(
                owner=owner, by=request.user, data=dict(form.cleaned_data)
            ),
        )
        if vehicle:
            messages.success(request, _("Vehicle %(vin)s added.") % {"vin": vehicle.vin})
            return redirect("customers:vehicle-detail", pk=vehicle.pk)
    duplicates = getattr(getattr(form, "domain_error", None), "extra", {}).get("duplicates", [])
    return render(
        request,
        "customers/vehicle_form.html",
        {"form": form, "customer": owner, "duplicates": duplicates},
    )


@login_required
@permission_required("customers.view_vehicle", raise_exception=True)
def vehicle_detail(request, pk: int):
    vehicle = selectors.vehicle_list(user=request.user).get_for_user_or_404(request.user, pk=pk)
    show_pii = can_view_pii(request.user)
    return render(
        request,
        "customers/vehicle_detail.html",
        {
            "vehicle": vehicle,
            "readings": vehicle.odometer_readings.select_related("recorded_by")[:100],
            "ownerships": vehicle.ownerships.select_related("customer"),
            "reading_form": OdometerReadingForm(),
            "history": history_entries(vehicle, show_pii=show_pii),
        },
    )


@login_required
@permission_required("customers.change_vehicle", raise_exception=True)
@require_http_methods(["GET", "POST"])
def vehicle_edit(request, pk: int):
    vehicle = Vehicle.objects.select_related("owner").get_for_user_or_404(request.user, pk=pk)
    form = VehicleForm(request.POST or None, instance=vehicle)
    if request.method == "POST" and form.is_valid():
        updated = call_service(
            form,
            lambda: services.vehicle_update(
                vehicle=vehicle, by=request.user, data=dict(form.cleaned_data)
            ),
        )
        if updated:
            messages.success(request, _("Changes saved."))
            return redirect("customers:vehicle-detail", pk=vehicle.pk)
    return render(
        request,
        "customers/vehicle_form.html",
        {"form": form, "customer": vehicle.owner, "vehicle": vehicle},
    )


@login_required
@permission_required("customers.add_odometerreading", raise_exception=True)
@require_POST
def odometer_create(request, pk: int):
    vehicle = Vehicle.objects.get_for_user_or_404(request.user, pk=pk)
    form = OdometerReadingForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        reading = call_service(
            form,
            lambda: services.odometer_record(
                vehicle=vehicle,
                km=data["km"],
                read_on=data["read_on"],
                by=request.user,
                is_replacement=data["is_replacement"],
                note=data["note"],
            ),
        )
        if reading:
            messages.success(request, _("Reading of %(km)s km recorded.") % {"km": reading.km})
            return redirect("customers:vehicle-detail", pk=vehicle.pk)
    for error in form.errors.values():
        messages.error(request, " ".join(error))
    return redirect("customers:vehicle-detail", pk=vehicle.pk)


@login_required
@permission_required("customers.transfer_vehicle", raise_exception=True)
@require_http_methods(["GET", "POST"])
def vehicle_transfer(request, pk: int):
    vehicle = Vehicle.objects.select_related("owner").get_for_user_or_404(request.user, pk=pk)
    form = TransferForm(request.POST or None, user=request.user, vehicle=vehicle)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        moved = call_service(
            form,
            lambda: services.vehicle_transfer(
                vehicle=vehicle,
                new_owner=data["new_owner"],
                transferred_on=data["transferred_on"],
                by=request.user,
                reason=data["reason"],
            ),
        )
        if moved:
            messages.success(
                request, _("Vehicle transferred to %(name)s.") % {"name": data["new_owner"].name}
            )
            return redirect("customers:vehicle-detail", pk=vehicle.pk)
    return render(request, "customers/vehicle_transfer.html", {"form": form, "vehicle": vehicle})


@login_required
@require_GET
def vin_decode(request):
    """The VIN field's live hint (htmx): what the VIN encodes, or what is wrong with it."""
    vin = normalize_vin(request.GET.get("vin", ""))
    context = {"vin": vin}
    if vin:
        try:
            validate_vin(vin)
            context["info"] = decode_vin(vin)
        except Exception as error:  # ValidationError: show its message under the field
            context["errors"] = getattr(error, "messages", [str(error)])
    return render(request, "customers/_vin_hint.html", context)


@login_required
@permission_required("customers.import_customers", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_import(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        branch = working_branch(request)
        try:
            rows = spreadsheets.read_rows(form.cleaned_data["file"])
        except spreadsheets.UnreadableFile as error:
            form.add_error("file", str(error))
        else:
            report = services.customers_import(rows=rows, branch=branch, by=request.user)
    return render(
        request,
        "customers/customer_import.html",
        {
            "form": form,
            "report": report,
            "columns": spreadsheets.IMPORT_COLUMNS,
        },
    )


@login_required
@permission_required("customers.export_customers", raise_exception=True)
def customer_export(request, file_format: str) -> HttpResponse:
    customers = selectors.customer_list(user=request.user)
    filterset = CustomerFilter(request.GET or None, queryset=customers, request=request)
    customers = filterset.qs if filterset.is_bound and filterset.is_valid() else customers
    customers, _sort = sort(request, customers, CUSTOMER_SORTS, "-created")
    customers = customers[: spreadsheets.EXPORT_LIMIT]
    show_pii = can_view_pii(request.user)
    if show_pii:
        pii_access_log(
            user=request.user,
            customer_ids=[c.pk for c in customers],
            channel=PiiChannel.EXPORT,
            path=request.get_full_path(),
        )
    return spreadsheets.export_response(customers, show_pii=show_pii, file_format=file_format)
