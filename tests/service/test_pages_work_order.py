"""The work order page (任务委托书) and its printouts: every action changes the work order
through its service; a refused rule is shown and changes nothing; other branches' work orders
are 404; the page's queries do not grow with its lines."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dealer_crm.choices import Role
from parts import services as parts_services
from parts.choices import IssueStatus, MoveKind
from parts.models import PartStock
from service import services
from service.choices import (
    ChecklistResult,
    ConfirmationMethod,
    PaymentMethod,
    RecommendationStatus,
    ServiceType,
    TyrePosition,
    WorkOrderStatus,
)
from service.models import (
    LabourLine,
    PartLine,
    RoadTest,
    Settlement,
    TyreReading,
    WorkOrder,
)
from tests.factories import CustomerFactory, PartFactory, UserFactory, VehicleFactory

pytestmark = pytest.mark.django_db

# Far from the 30,000 and 60,000 km services: no recommendation comes with the mileage.
MILEAGE = 12_345


def local(at) -> str:
    """A time as the page's datetime field sends it."""
    return f"{timezone.localtime(at):%Y-%m-%dT%H:%M}"


def open_work_order(branch, advisor, *, service_type=ServiceType.REPAIR, estimate="1000.00",
                    mileage=MILEAGE, **extra) -> WorkOrder:  # fmt: skip
    customer = CustomerFactory(branch=branch, mobile="13912345678")
    vehicle = VehicleFactory(owner=customer, transmission="automatic")
    data = {
        "service_type": service_type, "contact_name": customer.name,
        "contact_phone": "13912345678", "phone_confirmed": True, "plate": vehicle.plate,
        "mileage_in": mileage, "fuel_level": "half", "complaint": "踩刹车时前轮有异响",
        "damage_notes": "左后门划痕", "items_left": "行车记录仪", "estimate": Decimal(estimate),
        **extra,
    }  # fmt: skip
    return services.work_order_open(
        branch=branch, customer=customer, vehicle=vehicle, by=advisor, data=data
    )


def add_labour(work_order, advisor, technician, *, hours="1.0", rate="200.00", **kwargs):
    return services.labour_line_add(
        work_order=work_order, operation=kwargs.pop("operation", "更换前刹车片"),
        standard_hours=Decimal(hours), rate=Decimal(rate), technician=technician, by=advisor,
        **kwargs,
    )  # fmt: skip


def stocked_part(branch, clerk, *, number=None, price="380.00", quantity=10):
    part = PartFactory(price=Decimal(price), **({"number": number} if number else {}))
    parts_services.stock_move_post(
        branch=branch, part=part, kind=MoveKind.RECEIPT, amount=Decimal(quantity),
        unit_cost=Decimal("200.00"), by=clerk,
    )  # fmt: skip
    return part


def signed_and_submitted(work_order, advisor, technician, *, signed_minutes_ago=10):
    """In quality check: one operation signed `signed_minutes_ago`, a passed road test."""
    line = add_labour(work_order, advisor, technician)
    services.work_order_start(work_order=work_order, by=advisor)
    at = timezone.now() - timedelta(minutes=signed_minutes_ago)
    services.labour_line_sign(line=line, by=technician, at=at)
    services.work_order_submit_for_qc(work_order=work_order, by=technician)
    services.road_test_record(
        work_order=work_order, tested_by=technician, tested_at=at, distance_km=5, passed=True,
        by=technician,
    )  # fmt: skip
    return line


def ready(work_order, advisor, technician):
    """Signed off by QC and the team lead: ready to settle."""
    signed_and_submitted(work_order, advisor, technician)
    now = timezone.now()
    services.work_order_quality_check(
        work_order=work_order, inspector=technician, at=now - timedelta(minutes=5), passed=True,
        by=technician,
    )  # fmt: skip
    services.work_order_release(
        work_order=work_order, team_lead=technician, at=now - timedelta(minutes=1), by=technician
    )
    work_order.refresh_from_db()
    return work_order


def action(work_order, name: str) -> str:
    return reverse("service:work-order-action", args=[work_order.pk, name])


def page_after(client, response) -> str:
    """The page the user sees after a POST: the redirect followed, or the page re-rendered."""
    if response.status_code == 302:
        response = client.get(response.url)
    return response.content.decode()


@pytest.fixture
def work_order(branch, advisor):
    return open_work_order(branch, advisor)


@pytest.fixture
def maintenance(branch, advisor):
    return open_work_order(branch, advisor, service_type=ServiceType.MAINTENANCE)


# --- Rendering ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("persona", ["advisor", "technician"])
def test_work_order_page_renders_for_advisor_and_technician_in_both_languages(
    client, request, branch, advisor, technician, parts_clerk, work_order, maintenance,
    persona, language,
):  # fmt: skip
    # given a repair with labour, parts and an added item, and a maintenance in progress
    add_labour(work_order, advisor, technician)
    services.part_line_add(
        work_order=work_order, part=stocked_part(branch, parts_clerk), quantity=Decimal(2),
        by=advisor,
    )  # fmt: skip
    services.added_item_add(
        work_order=work_order, description="刹车油更换", estimate=Decimal("150"), by=advisor
    )
    add_labour(maintenance, advisor, technician, operation="保养")
    services.work_order_start(work_order=maintenance, by=advisor)
    client.force_login(request.getfixturevalue(persona))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for url in [
        reverse("service:work-order-detail", args=[work_order.pk]),
        reverse("service:work-order-detail", args=[maintenance.pk]),
        reverse("service:work-order-print", args=[work_order.pk]),
    ]:
        # when the page is opened
        response = client.get(url)
        # then it renders in the chosen language
        assert response.status_code == 200, url
        assert f'lang="{language}"' in response.content.decode(), url


def test_page_shows_check_in_facts_lines_and_totals_with_the_phone_masked(
    client, advisor, technician, work_order
):
    # given a repair with 1.5 h at 200 and an unconfirmed added item's line
    add_labour(work_order, advisor, technician, hours="1.5")
    item = services.added_item_add(
        work_order=work_order, description="刹车油更换", estimate=Decimal("150"), by=advisor
    )
    add_labour(
        work_order, advisor, technician, hours="0.5", operation="更换刹车油", added_item=item
    )
    client.force_login(advisor)
    # when the advisor (no view_pii) opens it
    page = client.get(reverse("service:work-order-detail", args=[work_order.pk])).content.decode()
    # then the facts, the lines and the totals are there, and the phone is masked
    assert "139****5678" in page and "13912345678" not in page
    assert "踩刹车时前轮有异响" in page and "左后门划痕" in page and "行车记录仪" in page
    assert "400.00" in page  # the total: 2 h × 200
    assert "1,100.00" in page  # the estimate plus 10%
    assert "customer has not confirmed" in page
    assert 'id="work-order-steps"' in page and "Change history" in page
    assert reverse("customers:detail", args=[work_order.customer_id]) in page
    assert reverse("customers:vehicle-detail", args=[work_order.vehicle_id]) in page


def test_page_shows_only_the_actions_the_user_and_the_status_allow(
    client, advisor, technician, work_order
):
    # given an open work order with one operation
    add_labour(work_order, advisor, technician)
    detail = reverse("service:work-order-detail", args=[work_order.pk])
    # when the advisor opens it: start and the add forms, no QC
    client.force_login(advisor)
    page = client.get(detail).content.decode()
    assert 'id="action-start"' in page and 'id="labour-add"' in page
    assert 'id="action-quality-check"' not in page and 'id="action-settle"' not in page
    # when the technician opens it: nothing to start or add
    client.force_login(technician)
    page = client.get(detail).content.decode()
    assert 'id="action-start"' not in page and 'id="labour-add"' not in page


# --- Permissions and branches -------------------------------------------------------------


def test_a_consultant_is_refused_the_work_order_page_and_its_actions(
    client, consultant, work_order
):
    client.force_login(consultant)
    assert client.get(reverse("service:work-order-detail", args=[work_order.pk])).status_code == 403
    assert client.get(reverse("service:work-order-print", args=[work_order.pk])).status_code == 403
    assert client.post(action(work_order, "start")).status_code == 403
    work_order.refresh_from_db()
    assert work_order.status == WorkOrderStatus.OPEN


def test_another_branchs_work_order_is_404_on_every_page(
    client, other_branch, technician, work_order
):
    # given an advisor of the other branch
    stranger = UserFactory(
        username="other_advisor", roles=[Role.SERVICE_ADVISOR], branches=[other_branch]
    )
    line = add_labour(work_order, work_order.advisor, technician)
    item = services.added_item_add(
        work_order=work_order, description="x", estimate=Decimal("1"), by=work_order.advisor
    )
    client.force_login(stranger)
    # when they reach for this branch's work order, then it is not found
    for method, url in [
        ("get", reverse("service:work-order-detail", args=[work_order.pk])),
        ("get", reverse("service:work-order-print", args=[work_order.pk])),
        ("post", action(work_order, "start")),
        ("post", reverse("service:labour-line-action", args=[line.pk, "remove"])),
        ("post", reverse("service:added-item-confirm", args=[item.pk])),
    ]:
        assert getattr(client, method)(url).status_code == 404, url
    work_order.refresh_from_db()
    assert work_order.status == WorkOrderStatus.OPEN
    assert LabourLine.objects.filter(pk=line.pk).exists()


def test_an_unknown_action_is_404(client, advisor, work_order):
    client.force_login(advisor)
    assert client.post(action(work_order, "teleport")).status_code == 404
    assert client.get(action(work_order, "start")).status_code == 405


def test_a_technician_may_not_add_lines(client, technician, work_order):
    client.force_login(technician)
    response = client.post(
        action(work_order, "labour"),
        {"operation": "x", "standard_hours": "1", "rate": "200", "technician": technician.pk},
    )
    assert response.status_code == 403
    assert not work_order.labour_lines.exists()


# --- Lines and added items ----------------------------------------------------------------


def test_advisor_adds_an_operation_a_part_and_an_added_item(
    client, branch, advisor, technician, parts_clerk, work_order
):
    part = stocked_part(branch, parts_clerk, number="1K0698151A")
    client.force_login(advisor)
    # when the advisor adds an operation, a part typed by number and an added item
    client.post(
        action(work_order, "labour"),
        {"operation": "更换前刹车片", "standard_hours": "1.5", "rate": "200.00",
         "technician": technician.pk},
    )  # fmt: skip
    client.post(action(work_order, "part"), {"part_number": "1k0698151a ", "quantity": "2"})
    client.post(action(work_order, "added-item"), {"description": "刹车油", "estimate": "150"})
    # then they are on the work order, the part reserved on an issue voucher
    line = work_order.labour_lines.get()
    assert (line.operation, line.standard_hours, line.technician) == (
        "更换前刹车片", Decimal("1.50"), technician,
    )  # fmt: skip
    part_line = work_order.part_lines.get()
    assert part_line.part == part and part_line.quantity == 2
    assert part_line.issue.status == IssueStatus.REQUESTED
    assert PartStock.objects.get(branch=branch, part=part).reserved == 2
    assert work_order.added_items.get().description == "刹车油"


def test_a_part_with_too_little_stock_is_refused_beside_the_quantity(
    client, branch, advisor, parts_clerk, work_order
):
    stocked_part(branch, parts_clerk, number="06L115562B", quantity=1)
    client.force_login(advisor)
    response = client.post(
        action(work_order, "part"), {"part_number": "06L115562B", "quantity": "3"}
    )
    assert response.status_code == 400
    assert "are available" in response.content.decode()
    assert not work_order.part_lines.exists()


def test_an_unknown_part_number_is_refused(client, advisor, work_order):
    client.force_login(advisor)
    response = client.post(action(work_order, "part"), {"part_number": "NOPE-1", "quantity": "1"})
    assert response.status_code == 400
    assert "No part numbered NOPE-1" in response.content.decode()
    assert not work_order.part_lines.exists()


def test_bad_labour_input_is_shown_beside_its_field(client, advisor, work_order):
    client.force_login(advisor)
    response = client.post(
        action(work_order, "labour"),
        {"operation": "x" * 300, "standard_hours": "abc", "rate": "", "technician": "999999"},
    )
    assert response.status_code == 400
    assert "is-invalid" in response.content.decode()
    assert not work_order.labour_lines.exists()


def test_lines_are_removed_and_the_part_reservation_released(
    client, branch, advisor, technician, parts_clerk, work_order
):
    part = stocked_part(branch, parts_clerk)
    line = add_labour(work_order, advisor, technician)
    part_line = services.part_line_add(
        work_order=work_order, part=part, quantity=Decimal(2), by=advisor
    )
    client.force_login(advisor)
    client.post(reverse("service:labour-line-action", args=[line.pk, "remove"]))
    client.post(reverse("service:part-line-remove", args=[part_line.pk]))
    assert not work_order.labour_lines.exists() and not work_order.part_lines.exists()
    assert PartStock.objects.get(branch=branch, part=part).reserved == 0


def test_a_handed_over_part_is_not_removed(
    client, branch, advisor, parts_clerk, work_order
):  # fmt: skip
    part_line = services.part_line_add(
        work_order=work_order, part=stocked_part(branch, parts_clerk), quantity=Decimal(1),
        by=advisor,
    )  # fmt: skip
    for step in ("checked", "picked", "rechecked", "handed_over"):
        parts_services.part_issue_advance(issue=part_line.issue, step=step, by=parts_clerk)
    client.force_login(advisor)
    page = page_after(client, client.post(reverse("service:part-line-remove", args=[part_line.pk])))
    assert "already handed over" in page
    assert PartLine.objects.filter(pk=part_line.pk).exists()


def test_the_customer_confirms_an_added_item(client, advisor, work_order):
    item = services.added_item_add(
        work_order=work_order, description="刹车油", estimate=Decimal("150"), by=advisor
    )
    at = timezone.now() - timedelta(minutes=30)
    client.force_login(advisor)
    client.post(
        reverse("service:added-item-confirm", args=[item.pk]),
        {"confirmed_by": "王先生", "method": ConfirmationMethod.PHONE, "at": local(at)},
    )
    item.refresh_from_db()
    assert (item.confirmed_by, item.confirmation_method) == ("王先生", ConfirmationMethod.PHONE)
    assert timezone.localtime(item.confirmed_at).strftime("%H:%M") == local(at)[-5:]


def test_a_confirmation_without_a_name_is_refused(client, advisor, work_order):
    item = services.added_item_add(
        work_order=work_order, description="刹车油", estimate=Decimal("150"), by=advisor
    )
    client.force_login(advisor)
    response = client.post(
        reverse("service:added-item-confirm", args=[item.pk]),
        {"confirmed_by": "", "method": "phone", "at": local(timezone.now())},
    )
    assert response.status_code == 400
    item.refresh_from_db()
    assert item.confirmed_at is None


def test_recommendations_are_accepted_or_declined(client, branch, advisor):
    # given a check-in at 30,000 km with its recommended items
    work_order = open_work_order(branch, advisor, mileage=30_000)
    plugs, oil = work_order.recommendations.order_by("id")[:2]
    client.force_login(advisor)
    client.post(reverse("service:recommendation-decide", args=[plugs.pk]), {"accepted": "1"})
    client.post(reverse("service:recommendation-decide", args=[oil.pk]), {"accepted": "0"})
    response = client.post(
        reverse("service:recommendation-decide", args=[oil.pk]), {"accepted": "maybe"}
    )
    assert response.status_code == 302
    plugs.refresh_from_db()
    oil.refresh_from_db()
    assert plugs.status == RecommendationStatus.ACCEPTED
    assert oil.status == RecommendationStatus.DECLINED


# --- The workshop -------------------------------------------------------------------------


def test_the_technician_signs_an_operation_done(client, advisor, technician, work_order):
    line = add_labour(work_order, advisor, technician)
    services.work_order_start(work_order=work_order, by=advisor)
    client.force_login(technician)
    client.post(reverse("service:labour-line-action", args=[line.pk, "sign"]))
    line.refresh_from_db()
    assert line.done_at is not None


def test_an_unconfirmed_added_items_line_is_not_signed(client, advisor, technician, work_order):
    # given a line of an added item the customer has not confirmed
    item = services.added_item_add(
        work_order=work_order, description="刹车油更换", estimate=Decimal("150"), by=advisor
    )
    line = add_labour(work_order, advisor, technician, added_item=item)
    services.work_order_start(work_order=work_order, by=advisor)
    client.force_login(technician)
    # when the technician signs it
    response = client.post(reverse("service:labour-line-action", args=[line.pk, "sign"]))
    # then it is refused with the reason, and the line stays unsigned
    assert "has not confirmed" in page_after(client, response)
    line.refresh_from_db()
    assert line.done_at is None


def test_the_checklist_is_ticked_and_struck(client, advisor, technician, maintenance):
    services.work_order_start(work_order=maintenance, by=advisor)
    first, second = maintenance.checklist_items.order_by("id")[:2]
    client.force_login(technician)
    client.post(reverse("service:checklist-item-mark", args=[first.pk]), {"result": "done"})
    client.post(reverse("service:checklist-item-mark", args=[second.pk]), {"result": "struck"})
    client.post(reverse("service:checklist-item-mark", args=[second.pk]), {"result": "nonsense"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.result, second.result) == (ChecklistResult.DONE, ChecklistResult.STRUCK)
    assert first.marked_by == technician


def test_a_worn_tyre_is_recorded_and_its_replacement_recommended(
    client, advisor, technician, maintenance
):
    services.work_order_start(work_order=maintenance, by=advisor)
    client.force_login(technician)
    response = client.post(
        action(maintenance, "tyres"),
        {"position": TyrePosition.FRONT_LEFT, "pressure_bar": "2.3", "tread_mm": "2.4"},
    )
    reading = TyreReading.objects.get(work_order=maintenance)
    assert (reading.pressure_bar, reading.tread_mm) == (Decimal("2.3"), Decimal("2.4"))
    assert "replacement is recommended" in page_after(client, response)
    assert maintenance.recommendations.filter(description__contains="2.4").exists()


@pytest.mark.parametrize("tread", ["-1", "40"])
def test_a_tread_depth_out_of_range_is_refused(client, advisor, technician, maintenance, tread):
    services.work_order_start(work_order=maintenance, by=advisor)
    client.force_login(technician)
    response = client.post(
        action(maintenance, "tyres"),
        {"position": TyrePosition.REAR_RIGHT, "pressure_bar": "2.3", "tread_mm": tread},
    )
    assert response.status_code == 400
    assert "A tread depth is 0 to 12 mm" in response.content.decode()
    assert not TyreReading.objects.filter(work_order=maintenance).exists()


def test_a_road_test_is_recorded(client, advisor, technician, work_order):
    add_labour(work_order, advisor, technician)
    services.work_order_start(work_order=work_order, by=advisor)
    client.force_login(technician)
    client.post(
        action(work_order, "road-test"),
        {"tested_by": technician.pk, "tested_at": local(timezone.now()), "distance_km": "6",
         "passed": "1", "note": "无异响"},
    )  # fmt: skip
    test = RoadTest.objects.get(work_order=work_order)
    assert (test.tested_by, test.distance_km, test.passed, test.note) == (
        technician, 6, True, "无异响",
    )  # fmt: skip


# --- Sign-offs, settlement and close ------------------------------------------------------


def test_a_repair_goes_from_start_to_close_through_the_page(
    client, advisor, technician, work_order
):
    line = add_labour(work_order, advisor, technician)
    # the advisor starts the work; the technician signs, road-tests and hands it to QC
    client.force_login(advisor)
    client.post(action(work_order, "start"))
    client.force_login(technician)
    client.post(reverse("service:labour-line-action", args=[line.pk, "sign"]))
    client.post(action(work_order, "submit-for-qc"))
    client.post(
        action(work_order, "road-test"),
        {"tested_by": technician.pk, "tested_at": local(timezone.now()), "distance_km": "5",
         "passed": "1"},
    )  # fmt: skip
    # QC signs now, the team lead now
    client.post(action(work_order, "quality-check"), {"at": local(timezone.now()), "passed": "1"})
    work_order.refresh_from_db()
    assert work_order.qc_by == technician and work_order.status == WorkOrderStatus.QUALITY_CHECK
    client.post(action(work_order, "release"), {"at": local(timezone.now())})
    work_order.refresh_from_db()
    assert work_order.status == WorkOrderStatus.READY
    line.refresh_from_db()
    assert line.done_at <= work_order.qc_at
    assert work_order.qc_at <= work_order.team_lead_at
    # the advisor settles what the customer owes (200.00) and closes
    client.force_login(advisor)
    page = client.get(reverse("service:work-order-detail", args=[work_order.pk])).content.decode()
    assert 'value="200.00"' in page  # the amount paid is prefilled
    response = client.post(
        action(work_order, "settle"),
        {"discount": "0", "payment_method": PaymentMethod.WECHAT, "paid_amount": "200.00"},
    )
    assert "200.00 CNY received" in page_after(client, response)
    client.post(action(work_order, "close"))
    work_order.refresh_from_db()
    assert work_order.status == WorkOrderStatus.CLOSED
    assert work_order.settlement.total == Decimal("200.00")


def test_a_failed_quality_check_sends_the_car_back(client, advisor, technician, work_order):
    signed_and_submitted(work_order, advisor, technician)
    client.force_login(technician)
    client.post(
        action(work_order, "quality-check"),
        {"at": local(timezone.now()), "passed": "0", "note": "仍有异响"},
    )
    work_order.refresh_from_db()
    assert work_order.status == WorkOrderStatus.IN_PROGRESS and work_order.qc_at is None


def test_certificates_checked_and_overrun_approved_are_recorded(client, branch, advisor):
    work_order = open_work_order(
        branch, advisor, service_type=ServiceType.MAINTENANCE, is_first_maintenance=True
    )
    services.work_order_start(work_order=work_order, by=advisor)
    client.force_login(advisor)
    client.post(action(work_order, "certificates-checked"))
    client.post(
        action(work_order, "approve-overrun"), {"approved_by": "王先生", "method": "wechat"}
    )
    work_order.refresh_from_db()
    assert work_order.certificates_checked_by == advisor
    assert (work_order.overrun_approved_by, work_order.overrun_approval_method) == (
        "王先生", ConfirmationMethod.WECHAT,
    )  # fmt: skip


# --- Refused rules: shown, nothing changed ------------------------------------------------


def test_settling_before_quality_check_is_refused(client, advisor, technician, work_order):
    add_labour(work_order, advisor, technician)
    services.work_order_start(work_order=work_order, by=advisor)
    client.force_login(advisor)
    response = client.post(
        action(work_order, "settle"),
        {"discount": "0", "payment_method": "cash", "paid_amount": "200.00"},
    )
    assert "Only a work order that passed quality check" in page_after(client, response)
    work_order.refresh_from_db()
    assert work_order.status == WorkOrderStatus.IN_PROGRESS
    assert not Settlement.objects.exists()


def test_a_quality_check_earlier_than_the_technician_is_refused(
    client, advisor, technician, work_order
):
    # given the technician signed 10 minutes ago
    signed_and_submitted(work_order, advisor, technician, signed_minutes_ago=10)
    client.force_login(technician)
    # when QC signs 20 minutes ago
    response = client.post(
        action(work_order, "quality-check"),
        {"at": local(timezone.now() - timedelta(minutes=20)), "passed": "1"},
    )
    # then it is refused beside the time, and QC is not signed
    assert response.status_code == 400
    assert "is earlier than the technician" in response.content.decode()
    work_order.refresh_from_db()
    assert work_order.qc_at is None


def test_a_team_lead_earlier_than_quality_check_is_refused(client, advisor, technician, work_order):
    signed_and_submitted(work_order, advisor, technician, signed_minutes_ago=30)
    services.work_order_quality_check(
        work_order=work_order, inspector=technician, passed=True, by=technician,
        at=timezone.now() - timedelta(minutes=5),
    )  # fmt: skip
    client.force_login(technician)
    response = client.post(
        action(work_order, "release"), {"at": local(timezone.now() - timedelta(minutes=20))}
    )
    assert "cannot sign before quality check" in page_after(client, response)
    work_order.refresh_from_db()
    assert work_order.status == WorkOrderStatus.QUALITY_CHECK and work_order.team_lead_at is None


def test_quality_check_needs_a_road_test_whatever_the_mileage(client, branch, advisor, technician):
    # given a repair checked in at 30,000 km, signed, with no road test
    work_order = open_work_order(branch, advisor, mileage=30_000)
    line = add_labour(work_order, advisor, technician)
    services.work_order_start(work_order=work_order, by=advisor)
    services.labour_line_sign(line=line, by=technician, at=timezone.now() - timedelta(minutes=5))
    services.work_order_submit_for_qc(work_order=work_order, by=technician)
    client.force_login(technician)
    response = client.post(
        action(work_order, "quality-check"), {"at": local(timezone.now()), "passed": "1"}
    )
    assert "Record a passed road test" in page_after(client, response)
    work_order.refresh_from_db()
    assert work_order.qc_at is None


def test_submitting_unsigned_work_for_quality_check_is_refused(
    client, advisor, technician, work_order
):
    add_labour(work_order, advisor, technician)
    services.work_order_start(work_order=work_order, by=advisor)
    client.force_login(technician)
    response = client.post(action(work_order, "submit-for-qc"))
    assert "Not signed by the technician yet" in page_after(client, response)
    work_order.refresh_from_db()
    assert work_order.status == WorkOrderStatus.IN_PROGRESS


def test_a_maintenance_with_the_checklist_open_is_not_submitted(
    client, advisor, technician, maintenance
):
    line = add_labour(maintenance, advisor, technician, operation="保养")
    services.work_order_start(work_order=maintenance, by=advisor)
    services.labour_line_sign(line=line, by=technician)
    client.force_login(technician)
    response = client.post(action(maintenance, "submit-for-qc"))
    assert "Tick or strike every item" in page_after(client, response)
    maintenance.refresh_from_db()
    assert maintenance.status == WorkOrderStatus.IN_PROGRESS


def test_an_overrun_over_ten_percent_without_approval_is_refused(
    client, branch, advisor, technician
):
    # given an estimate of 100 and work of 200
    work_order = ready(open_work_order(branch, advisor, estimate="100.00"), advisor, technician)
    client.force_login(advisor)
    page = client.get(reverse("service:work-order-detail", args=[work_order.pk])).content.decode()
    assert 'id="approve-overrun-panel"' in page
    response = client.post(
        action(work_order, "settle"),
        {"discount": "0", "payment_method": "cash", "paid_amount": "200.00"},
    )
    assert "the customer must approve the overrun first" in page_after(client, response)
    work_order.refresh_from_db()
    assert work_order.status == WorkOrderStatus.READY
    assert not Settlement.objects.exists()
    # when the customer approves it, the same settlement goes through
    client.post(action(work_order, "approve-overrun"), {"approved_by": "王先生", "method": "phone"})
    client.post(
        action(work_order, "settle"),
        {"discount": "0", "payment_method": "cash", "paid_amount": "200.00"},
    )
    assert Settlement.objects.get(work_order=work_order).total == Decimal("200.00")


def test_a_payment_other_than_what_the_customer_owes_is_refused(
    client, advisor, technician, work_order
):
    ready(work_order, advisor, technician)
    client.force_login(advisor)
    response = client.post(
        action(work_order, "settle"),
        {"discount": "20", "payment_method": "cash", "paid_amount": "200.00"},
    )
    assert response.status_code == 400
    assert "The customer pays 180.00" in response.content.decode()
    assert not Settlement.objects.exists()


# --- Speed ---------------------------------------------------------------------------------


def _with_lines(branch, advisor, technician, clerk, count: int) -> WorkOrder:
    work_order = open_work_order(branch, advisor, service_type=ServiceType.MAINTENANCE)
    item = services.added_item_add(
        work_order=work_order, description="加项", estimate=Decimal("50"), by=advisor
    )
    for n in range(count):
        add_labour(work_order, advisor, technician, operation=f"工序{n}",
                   added_item=item if n % 2 else None)  # fmt: skip
        services.part_line_add(
            work_order=work_order, part=stocked_part(branch, clerk), quantity=Decimal(1),
            by=advisor,
        )  # fmt: skip
    services.work_order_start(work_order=work_order, by=advisor)
    return work_order


def test_the_pages_queries_do_not_grow_with_its_lines(
    client, branch, advisor, technician, parts_clerk
):
    few = _with_lines(branch, advisor, technician, parts_clerk, 3)
    many = _with_lines(branch, advisor, technician, parts_clerk, 13)
    client.force_login(advisor)
    counts = []
    for work_order in (few, many, few, many):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("service:work-order-detail", args=[work_order.pk]))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] and counts[2] == counts[3], counts


# --- Printouts ------------------------------------------------------------------------------


def test_the_work_order_prints_with_its_lines_total_and_signature_boxes(
    client, branch, advisor, technician, parts_clerk, work_order
):
    add_labour(work_order, advisor, technician, hours="1.5")
    services.part_line_add(
        work_order=work_order, part=stocked_part(branch, parts_clerk, price="380.00"),
        quantity=Decimal(2), by=advisor,
    )  # fmt: skip
    client.force_login(advisor)
    response = client.get(reverse("service:work-order-print", args=[work_order.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "1,060.00" in page  # 1.5 × 200 + 2 × 380
    assert "踩刹车时前轮有异响" in page and "139****5678" in page
    assert page.count('class="signature') == 2


def test_the_settlement_prints_with_its_totals_and_payment(client, advisor, technician, work_order):
    ready(work_order, advisor, technician)
    settlement = services.work_order_settle(
        work_order=work_order, payment_method=PaymentMethod.CARD, paid_amount=Decimal("180.00"),
        discount=Decimal("20.00"), by=advisor,
    )  # fmt: skip
    client.force_login(advisor)
    response = client.get(reverse("service:settlement-print", args=[settlement.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert settlement.number in page and work_order.number in page
    assert "180.00" in page and "20.00" in page and "200.00" in page
    assert "Bank card" in page
    # and the work order page links to it
    detail = client.get(reverse("service:work-order-detail", args=[work_order.pk]))
    assert reverse("service:settlement-print", args=[settlement.pk]) in detail.content.decode()


def test_another_branchs_settlement_is_404(client, other_branch, advisor, technician, work_order):
    ready(work_order, advisor, technician)
    settlement = services.work_order_settle(
        work_order=work_order, payment_method="cash", paid_amount=Decimal("200.00"), by=advisor
    )
    stranger = UserFactory(
        username="other_advisor", roles=[Role.SERVICE_ADVISOR], branches=[other_branch]
    )
    client.force_login(stranger)
    assert client.get(reverse("service:settlement-print", args=[settlement.pk])).status_code == 404


def test_the_settle_panel_splits_what_an_approved_insurance_claim_pays(
    client, branch, advisor, technician
):
    # given a bodywork repair of 200 with an approved claim assessed at 150, customer's share 30
    work_order = open_work_order(branch, advisor, service_type=ServiceType.BODYWORK)
    claim = services.insurance_claim_create(
        work_order=work_order, by=advisor,
        data={"insurer": "平安保险", "policy_number": "P1", "claim_number": "C1",
              "accident_date": timezone.localdate(), "customer_share": Decimal("30.00")},
    )  # fmt: skip
    services.insurance_claim_advance(
        claim=claim, status="assessed", assessed_amount=Decimal("150.00"), by=advisor
    )
    services.insurance_claim_advance(claim=claim, status="approved", by=advisor)
    ready(work_order, advisor, technician)
    client.force_login(advisor)
    # when the advisor opens the page, then the customer owes 200 − (150 − 30) = 80
    page = client.get(reverse("service:work-order-detail", args=[work_order.pk])).content.decode()
    assert "Insurer pays" in page and "120.00" in page
    assert 'value="80.00"' in page
    client.post(
        action(work_order, "settle"),
        {"discount": "0", "payment_method": "cash", "paid_amount": "80.00"},
    )
    settlement = Settlement.objects.get(work_order=work_order)
    assert (settlement.insurer_amount, settlement.customer_amount) == (
        Decimal("120.00"), Decimal("80.00"),
    )  # fmt: skip


def test_the_stockroom_voucher_links_back_to_the_work_order(
    client, advisor, parts_clerk, work_order, branch
):
    # given parts reserved for the work order
    part = PartFactory()
    parts_services.stock_move_post(
        branch=branch, part=part, kind=MoveKind.RECEIPT, amount=Decimal(3),
        unit_cost=Decimal("10.00"), by=parts_clerk,
    )  # fmt: skip
    line = services.part_line_add(work_order=work_order, part=part, quantity=Decimal(1), by=advisor)
    # when the parts clerk opens the issue voucher
    client.force_login(parts_clerk)
    page = client.get(reverse("parts:issue-detail", args=[line.issue.pk])).content.decode()
    # then it links to the work order
    assert reverse("service:work-order-detail", args=[work_order.pk]) in page
