"""Across the service API: anonymous clients are told to log in, roles without the permission
are refused, another branch's records are invisible on every endpoint and unknown in every
body, and every list costs a fixed number of queries."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from dealer_crm.choices import Role
from dealer_crm.models import PiiAccess
from service import services
from service.choices import ServiceType
from service.models import Appointment, LabourLine, WarrantyClaim, WorkOrder
from tests.factories import CustomerFactory, PartFactory, UserFactory
from tests.factories.service import ServiceSlotFactory, booked_appointment
from tests.service.helpers import (
    customer_car,
    in_progress_work_order,
    labour,
    open_work_order,
    part_in_stock,
    ready_work_order,
    road_test,
    settle,
    to_quality_check,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/"

LISTS = [
    "service-slots/",
    "appointments/",
    "work-orders/",
    "settlements/",
    "warranty-claims/",
    "insurance-claims/",
    "rescues/",
]
READS = [*LISTS, "service-figures/", "technician-board/"]

# (method, path with {} for the id, record, body): every endpoint that names one record.
DETAIL_ENDPOINTS = [
    ("get", "service-slots/{}/", "slot", None),
    ("get", "appointments/{}/", "appointment", None),
    ("post", "appointments/{}/cancel/", "appointment", {}),
    ("post", "appointments/{}/no-show/", "appointment", {}),
    ("post", "appointments/{}/check-in/", "appointment", {}),
    ("get", "work-orders/{}/", "work_order", None),
    ("post", "work-orders/{}/labour-lines/", "work_order", {}),
    ("post", "work-orders/{}/parts-lines/", "work_order", {}),
    ("post", "work-orders/{}/added-items/", "work_order", {}),
    ("post", "work-orders/{}/start/", "work_order", {}),
    ("post", "work-orders/{}/submit-for-qc/", "work_order", {}),
    ("post", "work-orders/{}/quality-check/", "work_order", {"passed": True}),
    ("post", "work-orders/{}/release/", "work_order", {}),
    ("post", "work-orders/{}/approve-overrun/", "work_order", {}),
    ("post", "work-orders/{}/certificates-checked/", "work_order", {}),
    ("post", "work-orders/{}/tyres/", "work_order", {}),
    ("post", "work-orders/{}/road-tests/", "work_order", {}),
    ("post", "work-orders/{}/settle/", "work_order", {}),
    ("post", "work-orders/{}/close/", "work_order", {}),
    ("get", "labour-lines/{}/", "labour_line", None),
    ("post", "labour-lines/{}/sign/", "labour_line", {}),
    ("delete", "labour-lines/{}/", "labour_line", None),
    ("get", "parts-lines/{}/", "part_line", None),
    ("delete", "parts-lines/{}/", "part_line", None),
    ("get", "added-items/{}/", "added_item", None),
    ("post", "added-items/{}/confirm/", "added_item", {"confirmed_by": "王", "method": "phone"}),
    ("get", "recommendations/{}/", "recommendation", None),
    ("post", "recommendations/{}/decide/", "recommendation", {"accepted": True}),
    ("get", "checklist-items/{}/", "checklist_item", None),
    ("post", "checklist-items/{}/mark/", "checklist_item", {"result": "done"}),
    ("get", "settlements/{}/", "settlement", None),
    ("get", "warranty-claims/{}/", "warranty_claim", None),
    ("post", "warranty-claims/{}/advance/", "warranty_claim", {"status": "submitted"}),
    ("get", "insurance-claims/{}/", "insurance_claim", None),
    ("post", "insurance-claims/{}/advance/", "insurance_claim", {"status": "assessed"}),
    ("get", "rescues/{}/", "rescue", None),
    ("post", "rescues/{}/dispatch/", "rescue", {}),
    ("post", "rescues/{}/arrive/", "rescue", {}),
    ("post", "rescues/{}/finish/", "rescue", {"outcome": "towed"}),
]  # fmt: skip


def call(client, method: str, url: str, body):
    return getattr(client, method)(url, body) if body is not None else getattr(client, method)(url)


@pytest.fixture
def other_workshop(other_branch):
    """An advisor who is also a technician of the other branch: every service permission,
    none of our records."""
    return UserFactory(
        roles=[Role.SERVICE_ADVISOR, Role.TECHNICIAN], branches=[other_branch], username="panyu"
    )


def warranty_claim(work_order, advisor) -> WarrantyClaim:
    services.work_order_certificates_checked(work_order=work_order, by=advisor)
    return services.warranty_claim_create(
        work_order=work_order, failed_part=PartFactory(), cause="水泵漏水",
        labour_amount=Decimal("100.00"), parts_amount=Decimal("300.00"), by=advisor,
    )  # fmt: skip


def insurance_claim(work_order, advisor):
    return services.insurance_claim_create(
        work_order=work_order, by=advisor,
        data={"insurer": "中国人保", "policy_number": "PDAA2025", "claim_number": "RDAA01",
              "accident_date": timezone.localdate()},
    )  # fmt: skip


def rescue(branch, advisor):
    return services.rescue_log(
        branch=branch, by=advisor,
        data={"caller_name": "王先生", "caller_phone": "13912345678",
              "called_at": timezone.now(), "location": "广州大道北", "problem": "无法启动"},
    )  # fmt: skip


@pytest.fixture
def records(branch, advisor, technician, parts_clerk) -> dict:
    """One record of each service resource in the personas' branch."""
    appointment = booked_appointment(branch, advisor)
    work_order = open_work_order(
        branch, advisor, service_type=ServiceType.MAINTENANCE, mileage_in=30_000
    )
    line = labour(work_order, technician, advisor)
    part_line = services.part_line_add(
        work_order=work_order, part=part_in_stock(branch, parts_clerk), quantity=Decimal(1),
        by=advisor,
    )  # fmt: skip
    ready = ready_work_order(branch, advisor, technician)
    return {
        "slot": appointment.slot,
        "appointment": appointment,
        "work_order": work_order,
        "labour_line": line,
        "part_line": part_line,
        "added_item": services.added_item_add(
            work_order=work_order, description="刹车油", estimate=Decimal("150.00"), by=advisor
        ),
        "recommendation": work_order.recommendations.first(),
        "checklist_item": work_order.checklist_items.first(),
        "settlement": settle(ready, advisor),
        "warranty_claim": warranty_claim(work_order, advisor),
        "insurance_claim": insurance_claim(open_work_order(branch, advisor), advisor),
        "rescue": rescue(branch, advisor),
    }


# --- 401, 403 --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", READS)
def test_anonymous_clients_get_401(api_client, path):
    assert api_client.get(API + path).status_code == 401


@pytest.mark.parametrize("path", READS)
def test_a_role_without_service_permissions_is_refused(api_as, consultant, path):
    # given a sales consultant, who has nothing to do with the workshop
    # when they read a service list
    response = api_as(consultant).get(API + path)
    # then it is refused
    assert response.status_code == 403


def test_a_technician_cannot_settle(api_as, branch, advisor, technician):
    # given a car ready to settle
    work_order = ready_work_order(branch, advisor, technician)
    # when the technician settles it
    response = api_as(technician).post(
        f"{API}work-orders/{work_order.pk}/settle/",
        {"payment_method": "cash", "paid_amount": "200.00"},
    )
    # then it is refused for lack of the permission, and nothing was settled
    assert response.status_code == 403
    work_order.refresh_from_db()
    assert work_order.status == "ready"


def test_an_advisor_cannot_sign_the_quality_check(api_as, branch, advisor, technician):
    # given a car waiting for quality check
    work_order = in_progress_work_order(branch, advisor, technician)
    to_quality_check(work_order, technician)
    road_test(work_order, technician)
    # when the advisor signs QC
    response = api_as(advisor).post(
        f"{API}work-orders/{work_order.pk}/quality-check/", {"passed": True}
    )
    # then it is refused, and nobody signed
    assert response.status_code == 403
    work_order.refresh_from_db()
    assert work_order.qc_at is None


@pytest.mark.parametrize(
    ("persona", "path", "body"),
    [
        ("technician", "work-orders/", {}),
        ("technician", "appointments/", {}),
        ("technician", "service-slots/open/", {}),
        ("branch_manager", "rescues/", {}),
        ("parts_clerk", "warranty-claims/", {}),
    ],
)
def test_roles_that_only_read_cannot_file_service_documents(request, api_as, persona, path, body):
    response = api_as(request.getfixturevalue(persona)).post(API + path, body)
    assert response.status_code == 403, response.json()


def test_documents_are_never_edited_or_deleted(api_as, advisor, records):
    url = f"{API}work-orders/{records['work_order'].pk}/"
    client = api_as(advisor)
    assert client.patch(url, {"estimate": "1.00"}).status_code == 405
    assert client.delete(url).status_code == 405
    assert WorkOrder.objects.filter(pk=records["work_order"].pk).exists()


# --- another branch: 404 on every record, 400 on every id in a body --------------------------


def test_another_branch_record_is_not_found_on_any_endpoint(api_as, other_workshop, records):
    # given one record of each kind in our branch, and a colleague of the other branch
    client = api_as(other_workshop)
    answers = {}
    # when they reach each record through every endpoint naming it
    for method, path, record, body in DETAIL_ENDPOINTS:
        url = API + path.format(records[record].pk)
        response = call(client, method, url, body)
        answers[f"{method} {path}"] = (response.status_code, response.json().get("code"))
    # then none exists for them, and nothing was changed
    assert {key: answer for key, answer in answers.items() if answer != (404, "not_found")} == {}
    assert LabourLine.objects.filter(pk=records["labour_line"].pk).exists()
    assert Appointment.objects.get(pk=records["appointment"].pk).status == "booked"


@pytest.mark.parametrize("path", LISTS)
def test_lists_hide_another_branch_records(api_as, other_workshop, records, path):
    response = api_as(other_workshop).get(API + path)
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("path", LISTS)
def test_group_manager_lists_every_branch(api_as, group_manager, records, path):
    response = api_as(group_manager).get(API + path)
    assert response.status_code == 200
    assert len(response.json()["results"]) >= 1


def test_records_of_another_branch_cannot_be_named_in_a_body(
    api_as, advisor, other_branch, other_workshop, technician
):
    # given a customer, car, slot, work order, added item and technician of the other branch
    customer, vehicle = customer_car(other_branch)
    slot = ServiceSlotFactory(branch=other_branch)
    theirs = in_progress_work_order(other_branch, other_workshop, other_workshop)
    item = services.added_item_add(
        work_order=theirs, description="x", estimate=Decimal(1), by=other_workshop
    )
    ours = open_work_order(advisor.staff.branches.get(), advisor)
    counts = WorkOrder.objects.count(), Appointment.objects.count(), LabourLine.objects.count()
    client = api_as(advisor)
    # when our advisor names them in requests
    answers = {
        "customer": client.post(
            f"{API}work-orders/",
            {"customer": customer.pk, "vehicle": vehicle.pk, "service_type": "repair",
             "contact_name": "王", "contact_phone": customer.mobile, "phone_confirmed": True,
             "plate": vehicle.plate, "mileage_in": 1000, "fuel_level": "half",
             "complaint": "x", "estimate": "100.00"},
        ),
        "slot": client.post(
            f"{API}appointments/",
            {"slot": slot.pk, "customer": ours.customer_id, "vehicle": ours.vehicle_id,
             "contact_phone": "13912345678"},
        ),
        "technician": client.post(
            f"{API}work-orders/{ours.pk}/labour-lines/",
            {"operation": "x", "standard_hours": "1", "rate": "1", "technician": other_workshop.pk},
        ),
        "added_item": client.post(
            f"{API}work-orders/{ours.pk}/labour-lines/",
            {"operation": "x", "standard_hours": "1", "rate": "1", "technician": technician.pk,
             "added_item": item.pk},
        ),
        "work_order": client.post(
            f"{API}warranty-claims/",
            {"work_order": theirs.pk, "failed_part": PartFactory().pk, "cause": "x",
             "labour_amount": "1", "parts_amount": "1"},
        ),
    }  # fmt: skip
    # then each id is unknown: a field error naming it, and nothing was made
    for field, response in answers.items():
        assert response.status_code == 400, (field, response.json())
        assert field in response.json(), (field, response.json())
    assert "vehicle" in answers["customer"].json()
    assert (
        WorkOrder.objects.count(),
        Appointment.objects.count(),
        LabourLine.objects.count(),
    ) == counts


# --- query counts ---------------------------------------------------------------------------


def _rows(path: str, branch, advisor, technician, n: int) -> None:
    """n more rows of the list at `path`, each with everything the list shows of it."""
    for _ in range(n):
        if path == "service-slots/":
            ServiceSlotFactory(branch=branch)
        elif path == "appointments/":
            booked_appointment(branch, advisor)
        elif path == "work-orders/":
            open_work_order(branch, advisor)
        elif path == "settlements/":
            settle(ready_work_order(branch, advisor, technician), advisor)
        elif path == "warranty-claims/":
            warranty_claim(open_work_order(branch, advisor), advisor)
        elif path == "insurance-claims/":
            insurance_claim(open_work_order(branch, advisor), advisor)
        elif path == "rescues/":
            rescue(branch, advisor)
        elif path == "technician-board/":
            work_order = open_work_order(branch, advisor)
            labour(work_order, technician, advisor)
            labour(work_order, UserFactory(roles=[Role.TECHNICIAN], branches=[branch]), advisor)


def _queries(user: User, url: str, assert_max_queries) -> tuple[int, int]:
    """Queries of one request, as a fresh client of a freshly loaded user would make."""
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    with assert_max_queries(12) as captured:
        response = client.get(url, {"limit": 50})
    assert response.status_code == 200
    body = response.json()
    rows = body if isinstance(body, list) else body["results"]
    return len(captured), len(rows)


@pytest.mark.parametrize("path", [*LISTS, "technician-board/"])
def test_list_queries_do_not_grow_with_the_rows(
    branch, advisor, technician, customer_care, django_assert_max_num_queries, path
):
    # given two rows, measured, and then twelve (read by someone who sees phone numbers too,
    # so the access log is written)
    reader = customer_care if path != "technician-board/" else advisor
    _rows(path, branch, advisor, technician, 2)
    two, shown = _queries(reader, API + path, django_assert_max_num_queries)
    _rows(path, branch, advisor, technician, 10)
    twelve, shown_twelve = _queries(reader, API + path, django_assert_max_num_queries)
    # then twelve rows cost what two do
    assert shown >= 2 and shown_twelve >= (12 if path != "technician-board/" else 2)
    assert twelve == two, (path, two, twelve)


def test_work_order_detail_queries_do_not_grow_with_its_lines(
    branch, advisor, technician, parts_clerk
):
    def detail_queries(count: int) -> int:
        work_order = open_work_order(branch, advisor, service_type=ServiceType.MAINTENANCE)
        for _ in range(count):
            labour(work_order, technician, advisor)
            services.part_line_add(
                work_order=work_order, part=part_in_stock(branch, parts_clerk),
                quantity=Decimal(1), by=advisor,
            )  # fmt: skip
        client = APIClient()
        client.force_authenticate(User.objects.get(pk=advisor.pk))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{API}work-orders/{work_order.pk}/")
        assert len(response.json()["labour_lines"]) == count
        return len(captured)

    # given a work order of two lines each and one of twelve, then reading either costs the same
    assert detail_queries(2) == detail_queries(12)


def test_contact_phones_are_masked_without_the_pii_permission(api_as, advisor, records):
    # given an advisor, who may not see full phone numbers
    # when they read a work order and a rescue
    work_order = api_as(advisor).get(f"{API}work-orders/{records['work_order'].pk}/").json()
    call_out = api_as(advisor).get(f"{API}rescues/{records['rescue'].pk}/").json()
    # then the phones are masked
    assert "****" in work_order["contact_phone"]
    assert call_out["caller_phone"] == "139****5678"


def test_customer_care_sees_the_phone_and_the_view_is_logged(api_as, customer_care, records):
    response = api_as(customer_care).get(f"{API}work-orders/{records['work_order'].pk}/")
    assert response.json()["contact_phone"] == records["work_order"].contact_phone
    assert PiiAccess.objects.filter(
        user=customer_care, customer_id=records["work_order"].customer_id
    ).exists()


def test_customers_of_the_other_branch_are_unknown_to_rescue(api_as, advisor, other_branch):
    stranger = CustomerFactory(branch=other_branch)
    response = api_as(advisor).post(
        f"{API}rescues/",
        {"customer": stranger.pk, "caller_name": "王", "caller_phone": "13912345678",
         "called_at": timezone.now().isoformat(), "location": "x", "problem": "x"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "customer" in response.json()
