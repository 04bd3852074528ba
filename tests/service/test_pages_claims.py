"""The claim pages: warranty claims to the manufacturer (索赔) and insurance claims for accident
repairs (保险理赔), filed from a work order and walked through their statuses. Refused rules
are shown and change nothing; another branch's claims are 404; the lists cost the same number
of queries whatever their length."""

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from dealer_crm.choices import Role
from service import services
from service.choices import InsuranceClaimStatus, ServiceType, WarrantyClaimStatus
from service.models import InsuranceClaim, WarrantyClaim
from tests.factories import CustomerFactory, PartFactory, UserFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def opened(branch, advisor, service_type=ServiceType.WARRANTY, *, certificates=False):
    customer = CustomerFactory(branch=branch)
    vehicle = VehicleFactory(owner=customer)
    work_order = services.work_order_open(
        branch=branch, customer=customer, vehicle=vehicle, by=advisor,
        data={
            "service_type": service_type, "contact_name": customer.name,
            "contact_phone": customer.mobile, "phone_confirmed": True, "plate": vehicle.plate,
            "mileage_in": 18_000, "fuel_level": "half", "complaint": "Water pump leaking",
            "estimate": Decimal("1200.00"),
        },
    )  # fmt: skip
    if certificates:
        services.work_order_certificates_checked(work_order=work_order, by=advisor)
    return work_order


@pytest.fixture
def pump():
    return PartFactory(number="06H121026DD", name="水泵")


@pytest.fixture
def warranty_order(branch, advisor):
    return opened(branch, advisor, certificates=True)


@pytest.fixture
def warranty_claim(warranty_order, advisor, pump):
    return services.warranty_claim_create(
        work_order=warranty_order, failed_part=pump, cause="Seal failed at 18,000 km",
        labour_amount=Decimal("240.00"), parts_amount=Decimal("860.00"), by=advisor,
    )  # fmt: skip


@pytest.fixture
def accident_order(branch, advisor):
    return opened(branch, advisor, ServiceType.BODYWORK)


def reported(work_order, advisor, share="1000.00") -> InsuranceClaim:
    return services.insurance_claim_create(
        work_order=work_order, by=advisor,
        data={
            "insurer": "中国人保财险", "policy_number": "PDAA202544010000123456",
            "claim_number": "RDAA2025440100001234", "accident_date": date(2025, 5, 3),
            "customer_share": Decimal(share),
        },
    )  # fmt: skip


@pytest.fixture
def insurance_claim(accident_order, advisor):
    return reported(accident_order, advisor)


@pytest.fixture
def other_advisor(other_branch):
    return UserFactory(
        username="other_advisor", roles=[Role.SERVICE_ADVISOR], branches=[other_branch]
    )


def follow(client, response):
    assert response.status_code == 302, response.content[:800]
    return client.get(response.url)


CLAIM_FORM = {
    "insurer": "平安产险",
    "policy_number": "P-2025-0001",
    "claim_number": "C-2025-0042",
    "accident_date": "2025-05-03",
    "assessor": "刘定损",
    "customer_share": "800.00",
}


# --- Warranty claims: reading ------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_warranty_claim_list_and_detail_for_an_advisor(client, advisor, warranty_claim, language):
    client.force_login(advisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("service:warranty-claim-list"))
    assert response.status_code == 200
    assert f'lang="{language}"' in response.content.decode()
    assert [c.pk for c in response.context["page"]] == [warranty_claim.pk]
    response = client.get(reverse("service:warranty-claim-detail", args=[warranty_claim.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "06H121026DD" in page
    assert "1,100.00" in page  # labour 240 + parts 860 claimed
    assert 'id="claim-submitted"' in page


def test_warranty_claim_list_filters_by_status(client, advisor, warranty_claim, branch, pump):
    other = services.warranty_claim_create(
        work_order=opened(branch, advisor, certificates=True), failed_part=pump, cause="x",
        labour_amount=Decimal(0), parts_amount=Decimal(1), by=advisor,
    )  # fmt: skip
    services.warranty_claim_advance(claim=other, status=WarrantyClaimStatus.SUBMITTED, by=advisor)
    client.force_login(advisor)
    response = client.get(reverse("service:warranty-claim-list"), {"status": "submitted"})
    assert [c.pk for c in response.context["page"]] == [other.pk]


def test_a_sales_consultant_is_refused_the_warranty_pages(
    client, consultant, warranty_claim, warranty_order
):
    client.force_login(consultant)
    assert client.get(reverse("service:warranty-claim-list")).status_code == 403
    detail = reverse("service:warranty-claim-detail", args=[warranty_claim.pk])
    assert client.get(detail).status_code == 403
    create = reverse("service:warranty-claim-create", args=[warranty_order.pk])
    assert client.get(create).status_code == 403
    step = reverse("service:warranty-claim-step", args=[warranty_claim.pk, "submitted"])
    assert client.post(step).status_code == 403


def test_another_branchs_warranty_claim_is_not_found(
    client, other_advisor, warranty_claim, warranty_order
):
    client.force_login(other_advisor)
    assert list(client.get(reverse("service:warranty-claim-list")).context["page"]) == []
    detail = reverse("service:warranty-claim-detail", args=[warranty_claim.pk])
    assert client.get(detail).status_code == 404
    create = reverse("service:warranty-claim-create", args=[warranty_order.pk])
    assert client.get(create).status_code == 404
    step = reverse("service:warranty-claim-step", args=[warranty_claim.pk, "submitted"])
    assert client.post(step).status_code == 404
    warranty_claim.refresh_from_db()
    assert warranty_claim.status == WarrantyClaimStatus.DRAFT


# --- Warranty claims: writing ------------------------------------------------------------


def test_advisor_files_a_warranty_claim_from_the_work_order(client, advisor, warranty_order, pump):
    client.force_login(advisor)
    url = reverse("service:warranty-claim-create", args=[warranty_order.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert 'id="certificates-checked"' in response.content.decode()
    response = client.post(
        url,
        {
            "failed_part_number": " 06h121026dd ",
            "cause": "Seal failed",
            "labour_amount": "240.00",
            "parts_amount": "860.00",
        },
    )
    claim = WarrantyClaim.objects.get()
    assert response.url == reverse("service:warranty-claim-detail", args=[claim.pk])
    assert (claim.work_order, claim.failed_part, claim.status) == (
        warranty_order,
        pump,
        WarrantyClaimStatus.DRAFT,
    )
    assert (claim.labour_amount, claim.parts_amount) == (Decimal("240.00"), Decimal("860.00"))


def test_a_warranty_claim_without_certificates_is_refused(client, advisor, branch, pump):
    # given a warranty work order whose certificates nobody checked
    work_order = opened(branch, advisor)
    client.force_login(advisor)
    url = reverse("service:warranty-claim-create", args=[work_order.pk])
    # then the form says so before anything is typed
    assert 'id="certificates-missing"' in client.get(url).content.decode()
    # and a claim is refused with the rule's message, nothing saved
    response = client.post(
        url,
        {
            "failed_part_number": pump.number,
            "cause": "Seal failed",
            "labour_amount": "240.00",
            "parts_amount": "860.00",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Check the warranty and maintenance certificates before claiming." in page
    assert 'id="certificates-missing"' in page
    assert not WarrantyClaim.objects.exists()


def test_an_unknown_part_or_a_negative_amount_is_explained(client, advisor, warranty_order):
    client.force_login(advisor)
    url = reverse("service:warranty-claim-create", args=[warranty_order.pk])
    response = client.post(
        url,
        {"failed_part_number": "NOPE", "cause": "x", "labour_amount": "-1", "parts_amount": "x"},
    )
    errors = response.context["form"].errors
    assert "No part NOPE in the catalogue." in errors["failed_part_number"]
    assert {"labour_amount", "parts_amount"} <= set(errors)
    assert not WarrantyClaim.objects.exists()


def test_a_warranty_claim_goes_to_the_manufacturer_and_is_paid(client, advisor, warranty_claim):
    client.force_login(advisor)

    def step(name: str, **data):
        url = reverse("service:warranty-claim-step", args=[warranty_claim.pk, name])
        response = client.post(url, data)
        warranty_claim.refresh_from_db()
        return follow(client, response)

    step("submitted", manufacturer_reference="SVW-WC-778812")
    assert warranty_claim.status == WarrantyClaimStatus.SUBMITTED
    assert warranty_claim.manufacturer_reference == "SVW-WC-778812"
    page = step("approved").content.decode()
    assert warranty_claim.status == WarrantyClaimStatus.APPROVED
    assert "The manufacturer approved the claim." in page
    step("paid")
    assert warranty_claim.status == WarrantyClaimStatus.PAID
    # and every step is in the claim's history
    assert warranty_claim.history.count() == 4


def test_a_rejected_warranty_claim_says_so(client, advisor, warranty_claim):
    services.warranty_claim_advance(
        claim=warranty_claim, status=WarrantyClaimStatus.SUBMITTED, by=advisor
    )
    client.force_login(advisor)
    url = reverse("service:warranty-claim-step", args=[warranty_claim.pk, "rejected"])
    page = follow(client, client.post(url)).content.decode()
    warranty_claim.refresh_from_db()
    assert warranty_claim.status == WarrantyClaimStatus.REJECTED
    assert 'id="claim-rejected"' in page


def test_paying_a_draft_warranty_claim_is_refused(client, advisor, warranty_claim):
    client.force_login(advisor)
    url = reverse("service:warranty-claim-step", args=[warranty_claim.pk, "paid"])
    page = follow(client, client.post(url)).content.decode()
    assert "it cannot become paid" in page
    warranty_claim.refresh_from_db()
    assert warranty_claim.status == WarrantyClaimStatus.DRAFT


def test_an_unknown_warranty_step_is_not_found(client, advisor, warranty_claim):
    client.force_login(advisor)
    url = reverse("service:warranty-claim-step", args=[warranty_claim.pk, "draft"])
    assert client.post(url).status_code == 404


# --- Insurance claims: reading -----------------------------------------------------------


def test_insurance_claim_list_and_detail_for_an_advisor(client, advisor, insurance_claim):
    client.force_login(advisor)
    response = client.get(reverse("service:insurance-claim-list"))
    assert response.status_code == 200
    assert [c.pk for c in response.context["page"]] == [insurance_claim.pk]
    response = client.get(reverse("service:insurance-claim-detail", args=[insurance_claim.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "RDAA2025440100001234" in page
    assert 'id="assess-panel"' in page
    assert response.context["split"] is None


def test_a_sales_consultant_is_refused_the_insurance_pages(
    client, consultant, insurance_claim, accident_order
):
    client.force_login(consultant)
    assert client.get(reverse("service:insurance-claim-list")).status_code == 403
    detail = reverse("service:insurance-claim-detail", args=[insurance_claim.pk])
    assert client.get(detail).status_code == 403
    create = reverse("service:insurance-claim-create", args=[accident_order.pk])
    assert client.get(create).status_code == 403


def test_another_branchs_insurance_claim_is_not_found(
    client, other_advisor, insurance_claim, accident_order
):
    client.force_login(other_advisor)
    assert list(client.get(reverse("service:insurance-claim-list")).context["page"]) == []
    detail = reverse("service:insurance-claim-detail", args=[insurance_claim.pk])
    assert client.get(detail).status_code == 404
    create = reverse("service:insurance-claim-create", args=[accident_order.pk])
    assert client.post(create, CLAIM_FORM).status_code == 404
    step = reverse("service:insurance-claim-step", args=[insurance_claim.pk, "assessed"])
    assert client.post(step, {"assessed-assessed_amount": "9000"}).status_code == 404
    insurance_claim.refresh_from_db()
    assert insurance_claim.status == InsuranceClaimStatus.REPORTED


# --- Insurance claims: writing -----------------------------------------------------------


def test_advisor_reports_an_insurance_claim_for_an_accident_repair(client, advisor, accident_order):
    client.force_login(advisor)
    url = reverse("service:insurance-claim-create", args=[accident_order.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, CLAIM_FORM)
    claim = InsuranceClaim.objects.get()
    assert response.url == reverse("service:insurance-claim-detail", args=[claim.pk])
    assert (claim.work_order, claim.insurer, claim.status) == (
        accident_order,
        "平安产险",
        InsuranceClaimStatus.REPORTED,
    )
    assert (claim.accident_date, claim.customer_share) == (date(2025, 5, 3), Decimal("800.00"))
    # and a second claim on the same work order leads to the first
    response = client.get(url)
    assert response.url == reverse("service:insurance-claim-detail", args=[claim.pk])


def test_an_insurance_claim_on_a_maintenance_order_is_refused(client, advisor, branch):
    work_order = opened(branch, advisor, ServiceType.MAINTENANCE)
    client.force_login(advisor)
    url = reverse("service:insurance-claim-create", args=[work_order.pk])
    response = client.post(url, CLAIM_FORM)
    assert response.status_code == 200
    assert "Insurance claims are for accident repairs." in response.content.decode()
    assert not InsuranceClaim.objects.exists()


def test_an_insurance_claim_with_missing_fields_is_explained(client, advisor, accident_order):
    client.force_login(advisor)
    url = reverse("service:insurance-claim-create", args=[accident_order.pk])
    response = client.post(url, {"accident_date": "someday", "customer_share": "-5"})
    errors = response.context["form"].errors
    assert {"insurer", "policy_number", "claim_number", "accident_date"} <= set(errors)
    assert not InsuranceClaim.objects.exists()


def test_an_insurance_claim_walks_from_assessed_to_paid_showing_the_split(
    client, advisor, insurance_claim
):
    client.force_login(advisor)

    def step(name: str, data=None):
        url = reverse("service:insurance-claim-step", args=[insurance_claim.pk, name])
        response = client.post(url, data or {})
        insurance_claim.refresh_from_db()
        return follow(client, response)

    # when the insurer's assessor sets 9,000 against the customer's own 1,000
    response = step(
        "assessed", {"assessed-assessed_amount": "9000.00", "assessed-assessor": "刘定损"}
    )
    assert insurance_claim.status == InsuranceClaimStatus.ASSESSED
    assert (insurance_claim.assessed_amount, insurance_claim.assessor) == (
        Decimal("9000.00"),
        "刘定损",
    )
    # then the page shows 8,000 to the insurer
    assert response.context["split"]["insurer_share"] == Decimal("8000.00")
    assert "8,000.00" in response.content.decode()
    assert not response.context["split"]["counted"]
    step("approved")
    assert insurance_claim.status == InsuranceClaimStatus.APPROVED
    step("repaired")
    assert insurance_claim.status == InsuranceClaimStatus.REPAIRED
    response = step("paid")
    assert insurance_claim.status == InsuranceClaimStatus.PAID
    assert response.context["split"]["counted"]
    assert insurance_claim.history.count() == 5


def test_an_assessed_amount_below_the_customers_share_is_refused(client, advisor, insurance_claim):
    client.force_login(advisor)
    url = reverse("service:insurance-claim-step", args=[insurance_claim.pk, "assessed"])
    response = client.post(url, {"assessed-assessed_amount": "500.00"})
    assert response.status_code == 200
    assert "The customer&#x27;s share cannot exceed the assessed amount." in (
        response.content.decode()
    )
    insurance_claim.refresh_from_db()
    assert (insurance_claim.status, insurance_claim.assessed_amount) == (
        InsuranceClaimStatus.REPORTED,
        None,
    )


def test_an_assessment_without_an_amount_is_explained(client, advisor, insurance_claim):
    client.force_login(advisor)
    url = reverse("service:insurance-claim-step", args=[insurance_claim.pk, "assessed"])
    response = client.post(url, {"assessed-assessed_amount": "lots"})
    assert "assessed_amount" in response.context["forms"]["assessed"].errors
    insurance_claim.refresh_from_db()
    assert insurance_claim.status == InsuranceClaimStatus.REPORTED


def test_paying_an_unassessed_insurance_claim_is_refused(client, advisor, insurance_claim):
    client.force_login(advisor)
    url = reverse("service:insurance-claim-step", args=[insurance_claim.pk, "paid"])
    page = follow(client, client.post(url)).content.decode()
    assert "it cannot become paid" in page
    insurance_claim.refresh_from_db()
    assert insurance_claim.status == InsuranceClaimStatus.REPORTED


def test_an_unknown_insurance_step_is_not_found(client, advisor, insurance_claim):
    client.force_login(advisor)
    url = reverse("service:insurance-claim-step", args=[insurance_claim.pk, "reported"])
    assert client.post(url).status_code == 404


# --- Speed -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["warranty", "insurance"])
def test_claim_lists_queries_do_not_grow_with_the_rows(
    client, advisor, branch, pump, kind, django_assert_max_num_queries
):
    client.force_login(advisor)
    url = reverse(f"service:{kind}-claim-list")

    def add(count: int):
        for _ in range(count):
            if kind == "warranty":
                services.warranty_claim_create(
                    work_order=opened(branch, advisor, certificates=True), failed_part=pump,
                    cause="Seal", labour_amount=Decimal(1), parts_amount=Decimal(1), by=advisor,
                )  # fmt: skip
            else:
                reported(opened(branch, advisor, ServiceType.BODYWORK), advisor)

    def queries() -> tuple[int, int]:
        with django_assert_max_num_queries(20) as captured:
            response = client.get(url)
            assert response.status_code == 200
        return len(captured), len(response.context["page"])

    add(3)
    few, rows = queries()
    assert rows == 3
    add(10)
    many, rows = queries()
    assert rows == 13
    assert many == few
