"""Warranty claims (索赔) to the manufacturer and insurance claims (保险理赔) for accident
repairs: what each needs, and the steps of their status."""

from datetime import date
from decimal import Decimal

import pytest

from service import services
from service.choices import InsuranceClaimStatus, ServiceType, WarrantyClaimStatus
from service.models import InsuranceClaim, WarrantyClaim
from tests.factories import PartFactory
from tests.service.helpers import fresh, open_work_order, refusal, state

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

W = WarrantyClaimStatus
I = InsuranceClaimStatus  # noqa: E741
WARRANTY_LEGAL = {(W.DRAFT, W.SUBMITTED), (W.SUBMITTED, W.APPROVED), (W.SUBMITTED, W.REJECTED),
                  (W.APPROVED, W.PAID)}  # fmt: skip
INSURANCE_LEGAL = {(I.REPORTED, I.ASSESSED), (I.ASSESSED, I.APPROVED), (I.APPROVED, I.REPAIRED),
                   (I.REPAIRED, I.PAID)}  # fmt: skip
WARRANTY_STEPS = [(a, b) for a in W for b in W]
INSURANCE_STEPS = [(a, b) for a in I for b in I]


def warranty_work_order(branch, advisor, *, certificates=True):
    work_order = open_work_order(
        branch, advisor, service_type=ServiceType.WARRANTY, complaint="发动机故障灯亮"
    )
    if certificates:
        services.work_order_certificates_checked(work_order=work_order, by=advisor)
    return work_order


def warranty_claim(work_order, advisor):
    return services.warranty_claim_create(
        work_order=work_order, failed_part=PartFactory(name="点火线圈"), cause="点火线圈击穿",
        labour_amount=Decimal("120.00"), parts_amount=Decimal("260.00"), by=advisor,
    )  # fmt: skip


def insurance_claim(work_order, advisor, *, share="500.00"):
    return services.insurance_claim_create(
        work_order=work_order, by=advisor,
        data={
            "insurer": "平安财险", "policy_number": "P1234567890", "claim_number": "C0987654321",
            "accident_date": date(2025, 5, 3), "customer_share": Decimal(share),
        },
    )  # fmt: skip


def accident_repair(branch, advisor, service_type=ServiceType.BODYWORK):
    return open_work_order(
        branch, advisor, service_type=service_type, complaint="追尾，后保险杠破裂"
    )


# --- warranty claims ------------------------------------------------------------------------


def test_a_warranty_claim_needs_the_certificates_checked(branch, advisor):
    # given warranty work whose certificates nobody has checked
    work_order = warranty_work_order(branch, advisor, certificates=False)
    # when a claim is made
    error = refusal(lambda: warranty_claim(work_order, advisor))
    # then it is refused, no claim made
    assert error.code == "certificates_missing"
    assert not WarrantyClaim.objects.exists()


def test_a_warranty_claim_is_made_as_a_draft(branch, advisor):
    work_order = warranty_work_order(branch, advisor)
    claim = warranty_claim(work_order, advisor)
    claim = fresh(claim)
    assert (claim.status, claim.work_order_id, claim.labour_amount, claim.parts_amount) == (
        W.DRAFT,
        work_order.pk,
        Decimal("120.00"),
        Decimal("260.00"),
    )


@pytest.mark.parametrize(("current", "target"), WARRANTY_STEPS)
def test_a_warranty_claim_moves_only_by_its_steps(branch, advisor, current, target):
    # given a claim in `current`
    claim = warranty_claim(warranty_work_order(branch, advisor), advisor)
    WarrantyClaim.objects.filter(pk=claim.pk).update(status=current)
    before = state(claim)
    # when it is moved to `target`
    move = lambda: services.warranty_claim_advance(  # noqa: E731
        claim=claim, status=target, by=advisor, manufacturer_reference="SVW-2025-001"
    )
    if (current, target) in WARRANTY_LEGAL:
        # then a step of the manufacturer's process is taken
        assert move().status == target
        assert fresh(claim).manufacturer_reference == "SVW-2025-001"
    else:
        # and any other move is refused, nothing changed
        assert refusal(move).code == "claim_illegal_transition"
        assert state(claim) == before


# --- insurance claims -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "service_type", [ServiceType.BODYWORK, ServiceType.PAINT, ServiceType.REPAIR]
)
def test_an_insurance_claim_is_made_for_an_accident_repair(branch, advisor, service_type):
    work_order = accident_repair(branch, advisor, service_type)
    claim = insurance_claim(work_order, advisor)
    assert (fresh(claim).status, fresh(claim).work_order_id) == (I.REPORTED, work_order.pk)


@pytest.mark.parametrize(
    "service_type",
    [
        ServiceType.MAINTENANCE,
        ServiceType.WARRANTY,
        ServiceType.INTERNAL,
        ServiceType.PDI,
        ServiceType.RESCUE,
    ],
)
def test_an_insurance_claim_is_only_for_an_accident_repair(branch, advisor, service_type):
    work_order = accident_repair(branch, advisor, service_type)
    error = refusal(lambda: insurance_claim(work_order, advisor))
    assert error.code == "not_an_accident_repair"
    assert not InsuranceClaim.objects.exists()


@pytest.mark.parametrize("amount", [None, Decimal("-1.00")])
def test_an_assessment_needs_the_assessed_amount(branch, advisor, amount):
    # given a claim reported
    claim = insurance_claim(accident_repair(branch, advisor), advisor)
    before = state(claim)
    # when it is marked assessed without an amount (or a negative one)
    error = refusal(
        lambda: services.insurance_claim_advance(
            claim=claim, status=I.ASSESSED, by=advisor, assessed_amount=amount
        )
    )
    # then it is refused on the amount, still reported
    assert (error.code, error.field) == ("assessed_amount_required", "assessed_amount")
    assert state(claim) == before


def test_the_assessed_amount_is_not_below_the_customers_share(branch, advisor):
    claim = insurance_claim(accident_repair(branch, advisor), advisor, share="500.00")
    before = state(claim)
    error = refusal(
        lambda: services.insurance_claim_advance(
            claim=claim, status=I.ASSESSED, by=advisor, assessed_amount=Decimal("499.99")
        )
    )
    assert (error.code, error.field) == ("share_above_assessed", "customer_share")
    assert state(claim) == before


def test_an_assessment_records_the_assessor_and_the_amount(branch, advisor):
    claim = insurance_claim(accident_repair(branch, advisor), advisor, share="500.00")
    services.insurance_claim_advance(
        claim=claim, status=I.ASSESSED, by=advisor, assessed_amount=Decimal("500.00"),
        assessor="李定损",
    )  # fmt: skip
    claim = fresh(claim)
    assert (claim.status, claim.assessed_amount, claim.assessor) == (
        I.ASSESSED,
        Decimal("500.00"),
        "李定损",
    )


@pytest.mark.parametrize(("current", "target"), INSURANCE_STEPS)
def test_an_insurance_claim_moves_only_by_its_steps(branch, advisor, current, target):
    # given a claim in `current`
    claim = insurance_claim(accident_repair(branch, advisor), advisor)
    InsuranceClaim.objects.filter(pk=claim.pk).update(status=current)
    before = state(claim)
    # when it is moved to `target`
    move = lambda: services.insurance_claim_advance(  # noqa: E731
        claim=claim, status=target, by=advisor, assessed_amount=Decimal("3000.00")
    )
    if (current, target) in INSURANCE_LEGAL:
        assert move().status == target
    else:
        assert refusal(move).code == "claim_illegal_transition"
        assert state(claim) == before
