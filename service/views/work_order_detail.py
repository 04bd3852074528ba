"""The work order page (任务委托书), where the advisor, the technicians and quality check work
all day: check-in facts, recommendations, labour and parts lines, added items, the maintenance
checklist and tyres, road tests, the campaign offer redeemed at settlement, every sign-off up
to settlement and close; and the printed work order and settlement (结算单). As thin as the
API: parse, call a service, render."""

from collections.abc import Callable
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from customers.care import services as care
from customers.care.choices import OfferStatus
from customers.care.models import Offer
from dealer_crm.audit import history_entries
from dealer_crm.choices import PiiChannel
from dealer_crm.forms import bootstrap_widgets
from dealer_crm.pages import call_service
from dealer_crm.pii import can_view_pii, pii_access_log
from dealer_crm.scoping import branch_ids_for
from dealer_crm.templatetags.crm import money
from parts.choices import IssueStatus

from .. import services
from ..choices import (
    EDITABLE_STATUSES,
    RecommendationStatus,
    ServiceType,
    TyrePosition,
    WorkOrderStatus,
)
from ..forms.work_order_detail import (
    ActionForm,
    AddedItemConfirmForm,
    AddedItemForm,
    ChecklistMarkForm,
    LabourLineForm,
    OfferActionForm,
    OfferCodeForm,
    OverrunApprovalForm,
    PartLineForm,
    QualityCheckForm,
    RecommendationDecideForm,
    ReleaseForm,
    RoadTestForm,
    SettleForm,
    TyreReadingForm,
    branch_technicians,
)
from ..models import (
    AddedItem,
    ChecklistItem,
    LabourLine,
    PartLine,
    Recommendation,
    Settlement,
    WorkOrder,
)

# The way a work order goes, shown as the step bar.
STEPS = [
    WorkOrderStatus.OPEN,
    WorkOrderStatus.IN_PROGRESS,
    WorkOrderStatus.QUALITY_CHECK,
    WorkOrderStatus.READY,
    WorkOrderStatus.SETTLED,
    WorkOrderStatus.CLOSED,
]
# Tyres the car must have measured; the spare is measured when it is there.
ROAD_WHEELS = [p for p in TyrePosition.values if p != TyrePosition.SPARE]
# Tread depths (mm) the page calls new; below services.TREAD_MINIMUM_MM a tyre is worn out.
TREAD_NORMAL_MAX_MM = Decimal("6.5")
# Work orders past these take no campaign offer any more.
SETTLED_STATUSES = (WorkOrderStatus.SETTLED, WorkOrderStatus.CLOSED)
# The customer's open offers the page lists as a hint, the soonest to expire first.
OPEN_OFFERS_SHOWN = 10


# --- Loading ---------------------------------------------------------------------------------


def _work_orders(user):
    return WorkOrder.objects.for_user(user).select_related(
        "branch", "customer", "vehicle", "advisor", "appointment__slot", "comeback_of",
        "qc_by", "team_lead_by", "certificates_checked_by", "settlement", "insurance_claim",
    )  # fmt: skip


def _load(request, pk: int) -> WorkOrder:
    """The work order with its lines, if the user's branches hold it; 404 otherwise."""
    return (
        _work_orders(request.user)
        .prefetch_related(
            Prefetch(
                "labour_lines",
                queryset=LabourLine.objects.select_related("technician", "added_item"),
            ),
            Prefetch(
                "part_lines",
                queryset=PartLine.objects.select_related("part", "issue", "added_item"),
            ),
        )
        .get_for_user_or_404(request.user, pk=pk)
    )


def _child_or_404(model, request, pk: int):
    """A line, item or recommendation of a work order the user's branches hold."""
    found = (
        model.objects.filter(pk=pk, work_order__in=WorkOrder.objects.for_user(request.user))
        .select_related("work_order")
        .first()
    )
    if found is None:
        raise Http404
    return found


def _show_pii(request, work_order: WorkOrder) -> bool:
    """True when the user sees the contact phone unmasked; the view is logged."""
    if not can_view_pii(request.user):
        return False
    pii_access_log(
        user=request.user,
        customer_ids=[work_order.customer_id],
        channel=PiiChannel.PAGE,
        path=request.get_full_path(),
    )
    return True


# --- The page --------------------------------------------------------------------------------


def _steps(work_order: WorkOrder) -> list[dict]:
    reached = STEPS.index(work_order.status)
    closed = work_order.status == WorkOrderStatus.CLOSED
    return [
        {
            "label": WorkOrderStatus(step).label,
            "done": index < reached or closed,
            "current": index == reached and not closed,
        }
        for index, step in enumerate(STEPS)
    ]


def _offer_on(work_order: WorkOrder) -> Offer | None:
    """The campaign offer asked for, signed off or redeemed on the work order: one at most
    (the service refuses a second)."""
    return (
        Offer.objects.filter(work_order=work_order)
        .exclude(status=OfferStatus.ASSIGNED)
        .select_related("campaign", "requested_by", "signed_off_by")
        .first()
    )


def _money_position(work_order: WorkOrder, offer: Offer | None) -> dict:
    """The totals, the estimate and its 10% limit, what the campaign offer takes off, and who
    pays what, split as the settlement will split it."""
    totals = services.work_order_totals(work_order)  # reads the prefetched lines
    limit = (work_order.estimate * (1 + services.OVERRUN_LIMIT)).quantize(Decimal("0.01"))
    # What the offer takes off with the labour as it stands (a redeemed one: what it took);
    # only a signed-off offer comes off the bill: one awaiting sign-off holds settlement back.
    if offer is None:
        offer_value = Decimal(0)
    elif offer.status == OfferStatus.REDEEMED:
        offer_value = offer.value or Decimal(0)
    else:
        offer_value = care.offer_value(offer, work_order, totals["labour"])
    offer_off = (
        offer_value
        if offer is not None and offer.status in (OfferStatus.APPROVED, OfferStatus.REDEEMED)
        else Decimal(0)
    )
    billed = totals["total"] - offer_off
    # The service's own split: what an approved insurance claim pays of this bill.
    insurer = services.insurer_pays(work_order, billed)
    return {
        **totals,
        "estimate": work_order.estimate,
        "limit": limit,
        "over_limit": billed > limit,
        "offer_value": offer_value,
        "offer_off": offer_off,
        "billed": billed,
        "insurer": insurer,
        "customer_owes": billed - insurer,
    }


def _open_offers(work_order: WorkOrder) -> list[Offer]:
    """The customer's offers of the work order's branch not yet asked for and valid today."""
    today = timezone.localdate()
    return list(
        Offer.objects.filter(
            customer_id=work_order.customer_id,
            campaign__branch_id=work_order.branch_id,
            status=OfferStatus.ASSIGNED,
            campaign__starts_on__lte=today,
            campaign__ends_on__gte=today,
        )
        .select_related("campaign")
        .order_by("campaign__ends_on", "pk")[:OPEN_OFFERS_SHOWN]
    )


def _offer_panel(request, work_order: WorkOrder, offer: Offer | None, failed: dict) -> dict:
    """The campaign offer panel before settlement: who may ask for, sign off or withdraw the
    offer; the code form and the customer's open offers while none is asked for. Empty when
    the user has nothing to see or do there (a technician) or the work order is settled."""
    has, user = request.user.has_perm, request.user
    may_request = has("care.request_redemption")
    may_sign_off = has("care.sign_off_redemption")
    if work_order.status in SETTLED_STATUSES or not (
        may_request or (offer is not None and (may_sign_off or has("care.view_offer")))
    ):
        return {}
    panel = {
        "withdraw": offer is not None and (may_request or may_sign_off),
        "sign_off": offer is not None
        and offer.status == OfferStatus.REQUESTED
        and may_sign_off
        and offer.requested_by_id != user.pk,
        "own_request": offer is not None
        and offer.status == OfferStatus.REQUESTED
        and may_sign_off
        and offer.requested_by_id == user.pk,
    }
    code_form = failed.get("offer-request")
    if may_request and (offer is None or code_form is not None):
        panel["code_form"] = code_form or OfferCodeForm(auto_id="offer-%s")
        panel["open_offers"] = _open_offers(work_order)
    return panel


def _tread_state(tread_mm: Decimal) -> str:
    if tread_mm < services.TREAD_MINIMUM_MM:
        return "replace"
    return "new" if tread_mm > TREAD_NORMAL_MAX_MM else "normal"


def _permissions(request, work_order: WorkOrder, position: dict) -> dict:
    """Which actions the user's permissions and the work order's status allow."""
    has, status = request.user.has_perm, work_order.status
    editable = status in EDITABLE_STATUSES
    maintenance = work_order.service_type == ServiceType.MAINTENANCE
    working = status == WorkOrderStatus.IN_PROGRESS
    needs_certificates = (
        work_order.is_first_maintenance or work_order.service_type == ServiceType.WARRANTY
    )
    return {
        "start": status == WorkOrderStatus.OPEN and has("service.change_workorder"),
        "submit_for_qc": working and has("service.change_labourline"),
        "quality_check": status == WorkOrderStatus.QUALITY_CHECK
        and work_order.qc_at is None
        and has("service.quality_check_workorder"),
        "release": status == WorkOrderStatus.QUALITY_CHECK
        and work_order.qc_at is not None
        and has("service.release_workorder"),
        "approve_overrun": status
        in (WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.QUALITY_CHECK, WorkOrderStatus.READY)
        and work_order.overrun_approved_at is None
        and position["over_limit"]
        and has("service.change_workorder"),
        "certificates": needs_certificates
        and work_order.certificates_checked_at is None
        and status not in (WorkOrderStatus.SETTLED, WorkOrderStatus.CLOSED)
        and has("service.change_workorder"),
        "settle": status == WorkOrderStatus.READY and has("service.add_settlement"),
        "close": status == WorkOrderStatus.SETTLED and has("service.change_workorder"),
        "add_labour": editable and has("service.add_labourline"),
        "sign_labour": working and has("service.change_labourline"),
        "add_part": editable and has("service.add_partline"),
        "add_item": editable and has("service.add_addeditem"),
        "confirm_item": editable and has("service.change_addeditem"),
        "decide": editable and has("service.change_recommendation"),
        "mark": maintenance and working and has("service.change_checklistitem"),
        "tyres": maintenance and working and has("service.add_tyrereading"),
        "road_test": status in (WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.QUALITY_CHECK)
        and has("service.add_roadtest"),
        "print_settlement": has("service.view_settlement"),
        "view_issue": has("parts.view_partissue"),
    }


def _page(request, work_order: WorkOrder, failed: dict | None = None, status: int = 200):
    """The work order's page; a form that failed comes back bound, with its errors, under
    the key of its panel."""
    failed = failed or {}
    user = request.user
    show_pii = _show_pii(request, work_order)
    labour_lines = list(work_order.labour_lines.all())
    part_lines = list(work_order.part_lines.all())
    added_items = list(work_order.added_items.select_related("requested_by"))
    technicians = list(branch_technicians(work_order.branch_id))
    offer = _offer_on(work_order)
    position = _money_position(work_order, offer)
    can = _permissions(request, work_order, position)

    for item in added_items:
        if not item.confirmed and can["confirm_item"]:
            item.confirm_form = failed.get(f"confirm-{item.pk}") or AddedItemConfirmForm(
                work_order=work_order, auto_id=f"confirm-{item.pk}-%s"
            )
    readings = {r.position: r for r in work_order.tyre_readings.select_related("measured_by")}
    tyres = []
    for value, label in TyrePosition.choices:
        reading = readings.get(value)
        tyre = {
            "position": value,
            "label": label,
            "reading": reading,
            "required": value in ROAD_WHEELS,
            "state": _tread_state(reading.tread_mm) if reading else "",
        }
        if can["tyres"]:
            tyre["form"] = failed.get(f"tyre-{value}") or TyreReadingForm(
                initial={
                    "position": value,
                    "pressure_bar": reading.pressure_bar if reading else None,
                    "tread_mm": reading.tread_mm if reading else None,
                },
                auto_id=f"tyre-{value}-%s",
            )
        tyres.append(tyre)
    checklist = list(work_order.checklist_items.select_related("marked_by"))
    road_tests = list(work_order.road_tests.select_related("tested_by"))
    unsigned = [line for line in labour_lines if line.done_at is None]
    context = {
        "work_order": work_order,
        "customer": work_order.customer,
        "vehicle": work_order.vehicle,
        "settlement": getattr(work_order, "settlement", None),
        "insurance_claim": getattr(work_order, "insurance_claim", None),
        "show_pii": show_pii,
        "steps": _steps(work_order),
        "can": can,
        "money": position,
        "labour_lines": labour_lines,
        "part_lines": part_lines,
        "handed_over": IssueStatus.HANDED_OVER,
        "cancelled_issue": IssueStatus.CANCELLED,
        "added_items": added_items,
        "recommendations": list(work_order.recommendations.all()),
        "recommendation_open": RecommendationStatus.OPEN,
        "is_maintenance": work_order.service_type == ServiceType.MAINTENANCE,
        "needs_certificates": work_order.is_first_maintenance
        or work_order.service_type == ServiceType.WARRANTY,
        "checklist": checklist,
        "checklist_left": sum(1 for item in checklist if not item.result),
        "tyres": tyres,
        "tread_minimum": services.TREAD_MINIMUM_MM,
        "road_tests": road_tests,
        "road_test_passed": any(test.passed for test in road_tests),
        "tyres_missing": sum(1 for tyre in tyres if tyre["required"] and not tyre["reading"]),
        "last_signed": max((line.done_at for line in labour_lines if line.done_at), default=None),
        "unsigned_count": len(unsigned),
        "parts_pending": [
            line.part.number
            for line in part_lines
            if line.issue.status not in (IssueStatus.HANDED_OVER, IssueStatus.CANCELLED)
        ],
        "history": history_entries(work_order, show_pii=show_pii),
        "open_panel": failed.get("open_panel", ""),
        "offer": offer,
        "offer_awaiting": offer is not None and offer.status == OfferStatus.REQUESTED,
        "offer_panel": _offer_panel(request, work_order, offer, failed),
    }
    forms = {
        "labour_form": ("labour", "add_labour", lambda: LabourLineForm(
            work_order=work_order, technicians=technicians, added_items=added_items,
            auto_id="labour-%s",
        )),
        "part_form": ("part", "add_part", lambda: PartLineForm(
            work_order=work_order, added_items=[i for i in added_items if i.confirmed],
            auto_id="part-%s",
        )),
        "item_form": ("added-item", "add_item", lambda: AddedItemForm(auto_id="item-%s")),
        "road_test_form": ("road-test", "road_test", lambda: RoadTestForm(
            work_order=work_order, user=user, technicians=technicians, auto_id="road-test-%s",
        )),
        "quality_check_form": ("quality-check", "quality_check", lambda: QualityCheckForm(
            auto_id="qc-%s"
        )),
        "release_form": ("release", "release", lambda: ReleaseForm(auto_id="release-%s")),
        "overrun_form": ("approve-overrun", "approve_overrun", lambda: OverrunApprovalForm(
            work_order=work_order, auto_id="overrun-%s"
        )),
        "settle_form": ("settle", "settle", lambda: SettleForm(
            customer_owes=position["customer_owes"], auto_id="settle-%s"
        )),
    }  # fmt: skip
    for name, (key, permission, make) in forms.items():
        if can[permission]:
            context[name] = failed.get(key) or make()
    return render(request, "service/work_order_detail.html", context, status=status)


def _failed(request, work_order: WorkOrder, form, key: str):
    """After a refused POST: a form with field errors comes back on the page beside its
    fields; a refused rule or state change is a message on the work order's page."""
    if any(field != "__all__" for field in form.errors) and form.fields:
        bootstrap_widgets(form)  # mark the fields the service refused too
        work_order = _load(request, work_order.pk)
        return _page(request, work_order, {key: form, "open_panel": key}, status=400)
    for message in form.non_field_errors() or [_("Nothing was changed.")]:
        messages.error(request, message)
    return redirect("service:work-order-detail", pk=work_order.pk)


def _done(request, work_order: WorkOrder, message: str):
    messages.success(request, message)
    return redirect("service:work-order-detail", pk=work_order.pk)


@login_required
@permission_required("service.view_workorder", raise_exception=True)
def work_order_detail(request, pk: int):
    return _page(request, _load(request, pk))


# --- Actions on the work order ---------------------------------------------------------------


def _run(form, service: Callable):
    """The service's result once the form is valid; None when the form or the rule refuses."""
    return call_service(form, service) if form.is_valid() else None


def _plain_step(service: Callable, message: str) -> Callable:
    """A step that takes nothing but the button."""

    def step(request, work_order):
        form = ActionForm(request.POST)
        done = _run(form, lambda: service(work_order=work_order, by=request.user))
        return form, done, message

    return step


def _quality_check(request, work_order):
    form = QualityCheckForm(request.POST, auto_id="qc-%s")
    data = form.cleaned_data if form.is_valid() else {}
    done = _run(
        form,
        lambda: services.work_order_quality_check(
            work_order=work_order, inspector=request.user, at=data["at"],
            passed=data["passed"], note=data["note"], by=request.user,
        ),
    )  # fmt: skip
    if done and not data["passed"]:
        return form, done, _("Quality check failed: %(number)s is back in the workshop.")
    return form, done, _("Quality check signed for %(number)s.")


def _release(request, work_order):
    form = ReleaseForm(request.POST, auto_id="release-%s")
    done = _run(
        form,
        lambda: services.work_order_release(
            work_order=work_order, team_lead=request.user, at=form.cleaned_data["at"],
            by=request.user,
        ),
    )  # fmt: skip
    return form, done, _("%(number)s signed off by the team lead: ready for collection.")


def _approve_overrun(request, work_order):
    form = OverrunApprovalForm(request.POST, work_order=work_order, auto_id="overrun-%s")
    done = _run(
        form,
        lambda: services.work_order_approve_overrun(
            work_order=work_order, approved_by=form.cleaned_data["approved_by"],
            method=form.cleaned_data["method"], by=request.user,
        ),
    )  # fmt: skip
    return form, done, _("The customer's approval of the overrun is recorded.")


def _settle(request, work_order):
    form = SettleForm(
        request.POST,
        customer_owes=_money_position(work_order, _offer_on(work_order))["customer_owes"],
        auto_id="settle-%s",
    )
    done = _run(
        form,
        lambda: services.work_order_settle(
            work_order=work_order, payment_method=form.cleaned_data["payment_method"],
            paid_amount=form.cleaned_data["paid_amount"], discount=form.cleaned_data["discount"],
            by=request.user,
        ),
    )  # fmt: skip
    if done:
        return (
            form,
            done,
            _("%(number)s settled: %(amount)s CNY received.")
            % {
                "number": work_order.number,
                "amount": money(done.paid_amount),
            },
        )
    return form, done, ""


def _labour(request, work_order):
    form = LabourLineForm(request.POST, work_order=work_order, auto_id="labour-%s")
    data = form.cleaned_data if form.is_valid() else {}
    done = _run(
        form,
        lambda: services.labour_line_add(
            work_order=work_order, operation=data["operation"].strip(),
            standard_hours=data["standard_hours"], rate=data["rate"],
            technician=data["technician"], added_item=data["added_item"], by=request.user,
        ),
    )  # fmt: skip
    return form, done, _("Labour line added to %(number)s.")


def _part(request, work_order):
    form = PartLineForm(request.POST, work_order=work_order, auto_id="part-%s")
    data = form.cleaned_data if form.is_valid() else {}
    done = _run(
        form,
        lambda: services.part_line_add(
            work_order=work_order, part=data["part_number"], quantity=data["quantity"],
            added_item=data["added_item"], by=request.user,
        ),
    )  # fmt: skip
    if done:
        return (
            form,
            done,
            _("%(part)s reserved on voucher %(issue)s.")
            % {
                "part": done.part,
                "issue": done.issue.number,
            },
        )
    return form, done, ""


def _added_item(request, work_order):
    form = AddedItemForm(request.POST, auto_id="item-%s")
    done = _run(
        form,
        lambda: services.added_item_add(
            work_order=work_order, description=form.cleaned_data["description"].strip(),
            estimate=form.cleaned_data["estimate"], by=request.user,
        ),
    )  # fmt: skip
    return form, done, _("Added item recorded: put it to the customer for confirmation.")


def _road_test(request, work_order):
    form = RoadTestForm(
        request.POST, work_order=work_order, user=request.user, auto_id="road-test-%s"
    )
    data = form.cleaned_data if form.is_valid() else {}
    done = _run(
        form,
        lambda: services.road_test_record(
            work_order=work_order, tested_by=data["tested_by"], tested_at=data["tested_at"],
            distance_km=data["distance_km"], passed=data["passed"], note=data["note"].strip(),
            by=request.user,
        ),
    )  # fmt: skip
    return form, done, _("Road test recorded.")


def _tyres(request, work_order):
    position = request.POST.get("position", "")
    form = TyreReadingForm(request.POST, auto_id=f"tyre-{position}-%s")
    data = form.cleaned_data if form.is_valid() else {}
    done = _run(
        form,
        lambda: services.tyre_reading_record(
            work_order=work_order, position=data["position"], pressure_bar=data["pressure_bar"],
            tread_mm=data["tread_mm"], by=request.user,
        ),
    )  # fmt: skip
    if done and done.tread_mm < services.TREAD_MINIMUM_MM:
        return (
            form,
            done,
            _("%(tyre)s: tread below 3.0 mm, its replacement is recommended.")
            % {"tyre": done.get_position_display()},
        )
    if not done and position in TyrePosition.values:
        form.failed_key = f"tyre-{position}"
    return form, done, _("Tyre reading recorded.")


def _offer_request(request, work_order):
    """The code the customer shows, found among the user's branches' offers, asked to be
    redeemed on this work order; a refusal is shown under the code."""
    form = OfferCodeForm(request.POST, auto_id="offer-%s")
    done = _run(
        form,
        lambda: care.offer_redemption_request(
            offer=care.offer_find(
                branch_ids=branch_ids_for(request.user), code=form.cleaned_data["code"]
            ),
            work_order=work_order, by=request.user,
        ),
    )  # fmt: skip
    if done:
        return (
            form,
            done,
            _("Offer %(code)s asked for on %(number)s: a manager signs it off before settlement.")
            % {"code": done.code, "number": work_order.number},
        )
    form.refusals_beside_the_code()
    return form, done, ""


def _offer_step(service: Callable, message: str) -> Callable:
    """Sign off, turn down or withdraw the offer on the work order."""

    def step(request, work_order):
        form = OfferActionForm(request.POST, work_order=work_order)
        done = _run(form, lambda: service(offer=form.offer, by=request.user))
        if done:
            return form, done, message % {"code": done.code, "number": work_order.number}
        return form, done, ""

    return step


def _offer_sign_off(*, offer: Offer, by) -> Offer:
    return care.offer_sign_off(offer=offer, by=by, approve=True)


def _offer_turn_down(*, offer: Offer, by) -> Offer:
    return care.offer_sign_off(offer=offer, by=by, approve=False)


# slug → (permission, or any of several, and what it does). Each returns (form, result or
# None, success message).
ACTIONS: dict[str, tuple[str | tuple[str, ...], Callable]] = {
    "start": (
        "service.change_workorder",
        _plain_step(services.work_order_start, gettext_lazy("Work started on %(number)s.")),
    ),
    "submit-for-qc": (
        "service.change_labourline",
        _plain_step(
            services.work_order_submit_for_qc, gettext_lazy("%(number)s handed to quality check.")
        ),
    ),
    "quality-check": ("service.quality_check_workorder", _quality_check),
    "release": ("service.release_workorder", _release),
    "approve-overrun": ("service.change_workorder", _approve_overrun),
    "certificates-checked": (
        "service.change_workorder",
        _plain_step(
            services.work_order_certificates_checked,
            gettext_lazy("Warranty and maintenance certificates checked for %(number)s."),
        ),
    ),
    "settle": ("service.add_settlement", _settle),
    "close": (
        "service.change_workorder",
        _plain_step(
            services.work_order_close, gettext_lazy("%(number)s closed: the car is handed back.")
        ),
    ),
    "labour": ("service.add_labourline", _labour),
    "part": ("service.add_partline", _part),
    "added-item": ("service.add_addeditem", _added_item),
    "road-test": ("service.add_roadtest", _road_test),
    "tyres": ("service.add_tyrereading", _tyres),
    "offer-request": ("care.request_redemption", _offer_request),
    "offer-sign-off": (
        "care.sign_off_redemption",
        _offer_step(_offer_sign_off, gettext_lazy("Offer %(code)s signed off for %(number)s.")),
    ),
    "offer-turn-down": (
        "care.sign_off_redemption",
        _offer_step(
            _offer_turn_down,
            gettext_lazy("Offer %(code)s turned down: the customer keeps it for later."),
        ),
    ),
    "offer-withdraw": (
        ("care.request_redemption", "care.sign_off_redemption"),
        _offer_step(
            care.offer_withdraw,
            gettext_lazy("Offer %(code)s taken off %(number)s: the customer keeps it for later."),
        ),
    ),
}


@login_required
@require_POST
def work_order_action(request, pk: int, action: str):
    if action not in ACTIONS:
        raise Http404
    permission, step = ACTIONS[action]
    permissions = (permission,) if isinstance(permission, str) else permission
    if not any(request.user.has_perm(name) for name in permissions):
        raise PermissionDenied
    work_order = _load(request, pk)
    form, done, message = step(request, work_order)
    if done:
        return _done(request, work_order, message % {"number": work_order.number})
    return _failed(request, work_order, form, getattr(form, "failed_key", action))


# --- Actions on a line, an added item, a recommendation, a checklist item --------------------


@login_required
@require_POST
def labour_line_action(request, pk: int, action: str):
    if action not in ("sign", "remove"):
        raise Http404
    permission = "service.change_labourline" if action == "sign" else "service.add_labourline"
    if not request.user.has_perm(permission):
        raise PermissionDenied
    line = _child_or_404(LabourLine, request, pk)
    form = ActionForm(request.POST)
    if action == "sign":
        done = _run(form, lambda: services.labour_line_sign(line=line, by=request.user))
        message = _("“%(operation)s” signed as done.")
    else:
        done = _run(form, lambda: services.labour_line_remove(line=line, by=request.user) or True)
        message = _("“%(operation)s” taken off the work order.")
    if done:
        return _done(request, line.work_order, message % {"operation": line.operation})
    return _failed(request, line.work_order, form, "labour")


@login_required
@permission_required("service.add_partline", raise_exception=True)
@require_POST
def part_line_remove(request, pk: int):
    line = _child_or_404(PartLine, request, pk)
    form = ActionForm(request.POST)
    if _run(form, lambda: services.part_line_remove(line=line, by=request.user) or True):
        return _done(
            request,
            line.work_order,
            _("%(part)s taken off; its reservation is released.") % {"part": line.part},
        )
    return _failed(request, line.work_order, form, "part")


@login_required
@permission_required("service.change_addeditem", raise_exception=True)
@require_POST
def added_item_confirm(request, pk: int):
    item = _child_or_404(AddedItem, request, pk)
    form = AddedItemConfirmForm(
        request.POST, work_order=item.work_order, auto_id=f"confirm-{item.pk}-%s"
    )
    data = form.cleaned_data if form.is_valid() else {}
    done = _run(
        form,
        lambda: services.added_item_confirm(
            added_item=item, confirmed_by=data["confirmed_by"], method=data["method"],
            at=data["at"], by=request.user,
        ),
    )  # fmt: skip
    if done:
        return _done(
            request,
            item.work_order,
            _("%(name)s confirmed “%(item)s”.") % {"name": done.confirmed_by, "item": item},
        )
    return _failed(request, item.work_order, form, f"confirm-{item.pk}")


@login_required
@permission_required("service.change_recommendation", raise_exception=True)
@require_POST
def recommendation_decide(request, pk: int):
    recommendation = _child_or_404(Recommendation, request, pk)
    form = RecommendationDecideForm(request.POST)
    if not form.is_valid():
        form.add_error(None, _("Choose whether the customer accepts or declines."))
    done = _run(
        form,
        lambda: services.recommendation_decide(
            recommendation=recommendation, accepted=form.cleaned_data["accepted"],
            by=request.user,
        ),
    )  # fmt: skip
    if done:
        message = (
            _("The customer accepts “%(item)s”.")
            if done.status == RecommendationStatus.ACCEPTED
            else _("“%(item)s” declined: it will be recommended again at the next visit.")
        )
        return _done(request, recommendation.work_order, message % {"item": recommendation})
    return _refused(request, recommendation.work_order, form)


@login_required
@permission_required("service.change_checklistitem", raise_exception=True)
@require_POST
def checklist_item_mark(request, pk: int):
    item = _child_or_404(ChecklistItem, request, pk)
    form = ChecklistMarkForm(request.POST)
    if not form.is_valid():
        form.add_error(None, _("Tick or strike the item."))
    done = _run(
        form,
        lambda: services.checklist_item_mark(
            item=item, result=form.cleaned_data["result"], by=request.user
        ),
    )
    if done:
        # Back to the same place in the list: the technician ticks one item after another.
        url = reverse("service:work-order-detail", args=[item.work_order_id])
        return redirect(f"{url}#checklist")
    return _refused(request, item.work_order, form)


def _refused(request, work_order: WorkOrder, form):
    """A one-button form has no field to show an error beside: every error is a message."""
    for errors in form.errors.values():
        for message in errors:
            messages.error(request, message)
    return redirect("service:work-order-detail", pk=work_order.pk)


# --- Printouts -------------------------------------------------------------------------------


@login_required
@permission_required("service.view_workorder", raise_exception=True)
def work_order_print(request, pk: int):
    """任务委托书 for the customer's and the advisor's signatures."""
    work_order = _load(request, pk)
    show_pii = _show_pii(request, work_order)
    return render(
        request,
        "service/work_order_print.html",
        {
            "work_order": work_order,
            "branch": work_order.branch,
            "customer": work_order.customer,
            "vehicle": work_order.vehicle,
            "show_pii": show_pii,
            "labour_lines": list(work_order.labour_lines.all()),
            "part_lines": list(work_order.part_lines.all()),
            "added_items": list(work_order.added_items.all()),
            "recommendations": list(work_order.recommendations.all()),
            "money": _money_position(work_order, _offer_on(work_order)),
        },
    )


@login_required
@permission_required("service.view_settlement", raise_exception=True)
def settlement_print(request, pk: int):
    """结算单: the settled lines, totals, discount, the insurer's and the customer's share, the
    payment, and the signatures."""
    settlement = Settlement.objects.select_related(
        "work_order__branch", "work_order__customer", "work_order__vehicle",
        "work_order__advisor", "work_order__insurance_claim", "settled_by",
    ).get_for_user_or_404(request.user, pk=pk)  # fmt: skip
    work_order = settlement.work_order
    lines = list(settlement.lines.all())
    return render(
        request,
        "service/settlement_print.html",
        {
            "settlement": settlement,
            "work_order": work_order,
            "branch": work_order.branch,
            "customer": work_order.customer,
            "vehicle": work_order.vehicle,
            "insurance_claim": getattr(work_order, "insurance_claim", None),
            "show_pii": _show_pii(request, work_order),
            "labour_lines": [line for line in lines if line.is_labour],
            "part_lines": [line for line in lines if not line.is_labour],
        },
    )
