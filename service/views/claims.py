"""Claim pages: warranty claims to the manufacturer (索赔) and insurance claims for accident
repairs (保险理赔), each filed from a work order and walked through its statuses. As thin as
the API: parse, call a service, render."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from dealer_crm.audit import history_entries
from dealer_crm.pages import apply_filters, call_service, paginate, sort
from dealer_crm.pii import can_view_pii

from .. import services
from ..choices import InsuranceClaimStatus, WarrantyClaimStatus
from ..filters import InsuranceClaimFilter, WarrantyClaimFilter
from ..forms.claims import (
    ConfirmStepForm,
    InsuranceAssessForm,
    InsuranceClaimForm,
    WarrantyClaimForm,
    WarrantyStepForm,
)
from ..models import ZERO, InsuranceClaim, WarrantyClaim, WorkOrder

CLAIM_SORTS = {"created": "created_at", "status": "status", "work_order": "work_order_id"}


def _work_order(request, pk: int) -> WorkOrder:
    return WorkOrder.objects.select_related("customer", "vehicle", "branch").get_for_user_or_404(
        request.user, pk=pk
    )


def _status_steps(current: str, path: list[str], labels) -> list[dict]:
    """The step bar: the statuses of the way the claim goes, done, current or to come."""
    reached = path.index(current) if current in path else -1
    last = current == path[-1]
    return [
        {
            "label": labels(status).label,
            "done": index < reached or last,
            "current": index == reached and not last,
        }
        for index, status in enumerate(path)
    ]


def _list_page(request, queryset, filterset_class, template: str):
    filterset, claims = apply_filters(request, filterset_class, queryset)
    del filterset.form.fields["work_order"]  # reached from the work order's own page
    claims, current_sort = sort(request, claims, CLAIM_SORTS, "-created")
    return render(
        request,
        template,
        {"filterset": filterset, "page": paginate(request, claims), "sort": current_sort},
    )


def _refused_or_page(request, form, step: str, offered: bool, page, detail_route: str, pk: int):
    """A refused step: its form again, errors beside its fields, when the claim is still at
    that step; a step it is not at: the refusal, on the claim's page."""
    if any(field != "__all__" for field in form.errors) or offered:
        return page(failed=(step, form))
    for message in form.non_field_errors():
        messages.error(request, message)
    return redirect(detail_route, pk=pk)


# --- Warranty claims (索赔) -----------------------------------------------------------------

WARRANTY_PATH = [
    WarrantyClaimStatus.DRAFT,
    WarrantyClaimStatus.SUBMITTED,
    WarrantyClaimStatus.APPROVED,
    WarrantyClaimStatus.PAID,
]
# Each step posted to warranty-claim-step and the status the page offers it in.
WARRANTY_OFFERED = {
    WarrantyClaimStatus.SUBMITTED: WarrantyClaimStatus.DRAFT,
    WarrantyClaimStatus.APPROVED: WarrantyClaimStatus.SUBMITTED,
    WarrantyClaimStatus.REJECTED: WarrantyClaimStatus.SUBMITTED,
    WarrantyClaimStatus.PAID: WarrantyClaimStatus.APPROVED,
}


def _warranty_claims(user):
    return WarrantyClaim.objects.for_user(user).select_related(
        "work_order", "work_order__vehicle", "work_order__customer", "failed_part", "created_by"
    )


@login_required
@permission_required("service.view_warrantyclaim", raise_exception=True)
def warranty_claim_list(request):
    return _list_page(
        request,
        _warranty_claims(request.user),
        WarrantyClaimFilter,
        "service/warranty_claim_list.html",
    )


@login_required
@permission_required("service.add_warrantyclaim", raise_exception=True)
@require_http_methods(["GET", "POST"])
def warranty_claim_create(request, pk: int):
    work_order = _work_order(request, pk)
    form = WarrantyClaimForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        claim = call_service(
            form,
            lambda: services.warranty_claim_create(
                work_order=work_order, by=request.user, **form.service_arguments()
            ),
        )
        if claim:
            messages.success(
                request,
                _("Warranty claim for %(part)s drafted: submit it to the manufacturer.")
                % {"part": claim.failed_part.number},
            )
            return redirect("service:warranty-claim-detail", pk=claim.pk)
    refused = getattr(form, "domain_error", None)
    return render(
        request,
        "service/warranty_claim_form.html",
        {
            "form": form,
            "work_order": work_order,
            "certificates_missing": work_order.certificates_checked_at is None
            or (refused is not None and refused.code == "certificates_missing"),
            "claims": work_order.warranty_claims.select_related("failed_part"),
        },
    )


def _warranty_page(request, claim: WarrantyClaim, failed: tuple[str, object] | None = None):
    forms = {}
    if request.user.has_perm("service.change_warrantyclaim"):
        for step, status in WARRANTY_OFFERED.items():
            if failed is not None and failed[0] == step:
                forms[step] = failed[1]
            elif claim.status == status:
                # No prefix: approved and rejected share one reference box and two buttons.
                forms[step] = WarrantyStepForm(
                    initial={"manufacturer_reference": claim.manufacturer_reference}
                )
    answers = [WarrantyClaimStatus.APPROVED, WarrantyClaimStatus.REJECTED]
    if failed is not None and failed[0] in answers and claim.status == WARRANTY_OFFERED[failed[0]]:
        forms.update(dict.fromkeys(answers, failed[1]))  # one form, two buttons
    return render(
        request,
        "service/warranty_claim_detail.html",
        {
            "claim": claim,
            "work_order": claim.work_order,
            "steps": _status_steps(claim.status, WARRANTY_PATH, WarrantyClaimStatus),
            "forms": forms,
            "open_panel": failed[0] if failed else "",
            "total": claim.labour_amount + claim.parts_amount,
            "history": history_entries(claim, show_pii=can_view_pii(request.user)),
        },
    )


@login_required
@permission_required("service.view_warrantyclaim", raise_exception=True)
def warranty_claim_detail(request, pk: int):
    claim = _warranty_claims(request.user).get_for_user_or_404(request.user, pk=pk)
    return _warranty_page(request, claim)


WARRANTY_DONE = {
    WarrantyClaimStatus.SUBMITTED: gettext_lazy("Claim submitted to the manufacturer."),
    WarrantyClaimStatus.APPROVED: gettext_lazy("The manufacturer approved the claim."),
    WarrantyClaimStatus.REJECTED: gettext_lazy("The manufacturer rejected the claim."),
    WarrantyClaimStatus.PAID: gettext_lazy("The manufacturer paid the claim."),
}


@login_required
@permission_required("service.view_warrantyclaim", raise_exception=True)
@require_http_methods(["GET", "POST"])
def warranty_claim_step(request, pk: int, step: str):
    if step not in WARRANTY_OFFERED:
        raise Http404
    claim = _warranty_claims(request.user).get_for_user_or_404(request.user, pk=pk)
    if request.method == "GET":
        return redirect("service:warranty-claim-detail", pk=claim.pk)
    if not request.user.has_perm("service.change_warrantyclaim"):
        raise PermissionDenied
    form = WarrantyStepForm(request.POST)
    if form.is_valid() and call_service(
        form,
        lambda: services.warranty_claim_advance(
            claim=claim,
            status=step,
            manufacturer_reference=form.cleaned_data["manufacturer_reference"].strip(),
            by=request.user,
        ),
    ):
        messages.success(request, str(WARRANTY_DONE[step]))
        return redirect("service:warranty-claim-detail", pk=claim.pk)
    return _refused_or_page(
        request,
        form,
        step,
        claim.status == WARRANTY_OFFERED[step],
        lambda failed: _warranty_page(request, claim, failed),
        "service:warranty-claim-detail",
        claim.pk,
    )


# --- Insurance claims (保险理赔) -----------------------------------------------------------

INSURANCE_PATH = list(InsuranceClaimStatus)
INSURANCE_OFFERED = {
    InsuranceClaimStatus.ASSESSED: InsuranceClaimStatus.REPORTED,
    InsuranceClaimStatus.APPROVED: InsuranceClaimStatus.ASSESSED,
    InsuranceClaimStatus.REPAIRED: InsuranceClaimStatus.APPROVED,
    InsuranceClaimStatus.PAID: InsuranceClaimStatus.REPAIRED,
}
INSURANCE_FORMS = {InsuranceClaimStatus.ASSESSED: InsuranceAssessForm}
INSURANCE_DONE = {
    InsuranceClaimStatus.ASSESSED: gettext_lazy(
        "Assessment recorded: await the insurer's approval."
    ),
    InsuranceClaimStatus.APPROVED: gettext_lazy(
        "The insurer approved the claim: the repair can go ahead."
    ),
    InsuranceClaimStatus.REPAIRED: gettext_lazy("Repair reported to the insurer."),
    InsuranceClaimStatus.PAID: gettext_lazy("The insurer paid the claim."),
}


def _insurance_claims(user):
    return InsuranceClaim.objects.for_user(user).select_related(
        "work_order", "work_order__vehicle", "work_order__customer", "created_by"
    )


@login_required
@permission_required("service.view_insuranceclaim", raise_exception=True)
def insurance_claim_list(request):
    return _list_page(
        request,
        _insurance_claims(request.user),
        InsuranceClaimFilter,
        "service/insurance_claim_list.html",
    )


@login_required
@permission_required("service.add_insuranceclaim", raise_exception=True)
@require_http_methods(["GET", "POST"])
def insurance_claim_create(request, pk: int):
    work_order = _work_order(request, pk)
    existing = InsuranceClaim.objects.filter(work_order=work_order).first()
    if existing is not None:
        messages.info(request, _("This work order already has its insurance claim."))
        return redirect("service:insurance-claim-detail", pk=existing.pk)
    form = InsuranceClaimForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        claim = call_service(
            form,
            lambda: services.insurance_claim_create(
                work_order=work_order, by=request.user, data=form.service_data()
            ),
        )
        if claim:
            messages.success(
                request,
                _("Insurance claim %(number)s with %(insurer)s recorded: await the assessor.")
                % {"number": claim.claim_number, "insurer": claim.insurer},
            )
            return redirect("service:insurance-claim-detail", pk=claim.pk)
    return render(
        request, "service/insurance_claim_form.html", {"form": form, "work_order": work_order}
    )


def _split(claim: InsuranceClaim) -> dict | None:
    """What the settlement will split (services.work_order_settle), counted only once the
    insurer has approved."""
    if claim.assessed_amount is None:
        return None
    bill = services.work_order_totals(claim.work_order)["total"]
    insurer_pays = claim.insurer_share_of(bill)
    return {
        "insurer_share": max(ZERO, claim.assessed_amount - claim.customer_share),
        "bill": bill,
        "insurer_pays": insurer_pays,
        "customer_pays": bill - insurer_pays,
        "counted": claim.status
        not in (InsuranceClaimStatus.REPORTED, InsuranceClaimStatus.ASSESSED),
    }


def _insurance_page(request, claim: InsuranceClaim, failed: tuple[str, object] | None = None):
    forms = {}
    if request.user.has_perm("service.change_insuranceclaim"):
        for step, status in INSURANCE_OFFERED.items():
            if failed is not None and failed[0] == step:
                forms[step] = failed[1]
            elif claim.status == status:
                form_class = INSURANCE_FORMS.get(step, ConfirmStepForm)
                initial = {"assessor": claim.assessor} if step == "assessed" else None
                forms[step] = form_class(prefix=step, initial=initial)
    return render(
        request,
        "service/insurance_claim_detail.html",
        {
            "claim": claim,
            "work_order": claim.work_order,
            "steps": _status_steps(claim.status, INSURANCE_PATH, InsuranceClaimStatus),
            "forms": forms,
            "split": _split(claim),
            "history": history_entries(claim, show_pii=can_view_pii(request.user)),
        },
    )


@login_required
@permission_required("service.view_insuranceclaim", raise_exception=True)
def insurance_claim_detail(request, pk: int):
    claim = _insurance_claims(request.user).get_for_user_or_404(request.user, pk=pk)
    return _insurance_page(request, claim)


def _insurance_arguments(step: str, data: dict) -> dict:
    if step == InsuranceClaimStatus.ASSESSED:
        amount: Decimal = data["assessed_amount"]
        return {"assessed_amount": amount, "assessor": data["assessor"].strip()}
    return {}


@login_required
@permission_required("service.view_insuranceclaim", raise_exception=True)
@require_http_methods(["GET", "POST"])
def insurance_claim_step(request, pk: int, step: str):
    if step not in INSURANCE_OFFERED:
        raise Http404
    claim = _insurance_claims(request.user).get_for_user_or_404(request.user, pk=pk)
    if request.method == "GET":
        return redirect("service:insurance-claim-detail", pk=claim.pk)
    if not request.user.has_perm("service.change_insuranceclaim"):
        raise PermissionDenied
    form = INSURANCE_FORMS.get(step, ConfirmStepForm)(request.POST, prefix=step)
    if form.is_valid() and call_service(
        form,
        lambda: services.insurance_claim_advance(
            claim=claim,
            status=step,
            by=request.user,
            **_insurance_arguments(step, form.cleaned_data),
        ),
    ):
        messages.success(request, str(INSURANCE_DONE[step]))
        return redirect("service:insurance-claim-detail", pk=claim.pk)
    return _refused_or_page(
        request,
        form,
        step,
        claim.status == INSURANCE_OFFERED[step],
        lambda failed: _insurance_page(request, claim, failed),
        "service:insurance-claim-detail",
        claim.pk,
    )
