"""The service department's journey of issue 5's "Done when", in a real browser.

The advisor books the customer's car into a slot from the front desk's day, checks it in from
the appointment at 30,000 km — the mileage's recommended items appear on the work order —,
adds an operation, a part and an item found after check-in that the customer confirms by
phone, and starts the work. The parts clerk hands the part over on the issue voucher's page.
The technician signs both operations, records the road test, hands the car to quality check,
signs it as inspector and as team lead. The advisor settles within 10% of the estimate, prints
the settlement and closes the work order. The stock ledger then shows the part leaving under
the work order's number, and the customer's page shows the visit on the timeline.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from customers.models import TimelineEntry
from parts.choices import IssueStatus, MoveKind
from parts.models import StockMove
from service.choices import (
    AppointmentStatus,
    RecommendationStatus,
    ServiceType,
    WorkOrderStatus,
)
from service.models import Appointment, WorkOrder
from tests.e2e.helpers import log_in, submit

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/e2e-service-journey.png"
CUSTOMER_NAME = "王建国"
ESTIMATE = Decimal("1000.00")


@dataclass
class Workshop:
    branch: object
    advisor: object
    technician: object
    clerk: object
    customer: object
    vehicle: object  # last read at 29,800 km
    pads: object  # four sets on the shelf
    slot: object  # a repair slot within the next hours, with room


@pytest.fixture
def workshop(transactional_db) -> Workshop:
    """A branch with its advisor, technician and parts clerk, a customer whose car was last
    read at 29,800 km, brake pads on the shelf, and a repair slot open with room."""
    from customers.services import odometer_record
    from dealer_crm.choices import Role
    from dealer_crm.roles import roles_sync
    from parts import services as parts_services
    from service import services
    from tests.factories import (
        BranchFactory,
        CustomerFactory,
        DealerGroupFactory,
        PartFactory,
        UserFactory,
        VehicleFactory,
    )

    roles_sync()  # a flush between transactional tests may have taken the role groups
    branch = BranchFactory(
        group=DealerGroupFactory(name="华通汽车集团"), code="e2e-service", name="天河大众4S店"
    )

    def staff(username: str, role: str, surname: str, given_name: str):
        return UserFactory(
            username=username, roles=[role], branches=[branch], last_name=surname,
            first_name=given_name,
        )  # fmt: skip

    advisor = staff("advisor", Role.SERVICE_ADVISOR, "黄", "伟明")
    technician = staff("technician", Role.TECHNICIAN, "梁", "国栋")
    clerk = staff("parts_clerk", Role.PARTS_CLERK, "吴", "晓军")
    customer = CustomerFactory(branch=branch, name=CUSTOMER_NAME, mobile="13912345678")
    vehicle = VehicleFactory(owner=customer, transmission="dct", series="帕萨特")
    odometer_record(
        vehicle=vehicle, km=29_800, read_on=timezone.localdate() - timedelta(days=3), by=advisor
    )
    pads = PartFactory(number="5Q0698151D", name="前刹车片", price=Decimal("380.00"))
    parts_services.stock_move_post(
        branch=branch, part=pads, kind=MoveKind.RECEIPT, amount=Decimal(4),
        unit_cost=Decimal("236.00"), by=clerk, document="期初", reason="期初库存",
    )  # fmt: skip
    # The next half hour that starts at least an hour from now: bookable whatever the time.
    start = timezone.localtime() + timedelta(hours=1)
    start = start.replace(minute=0 if start.minute < 30 else 30, second=0, microsecond=0)
    (slot,) = services.slots_open(
        branch=branch, service_type=ServiceType.REPAIR, starts=[start], capacity=2, by=advisor
    )
    return Workshop(branch, advisor, technician, clerk, customer, vehicle, pads, slot)


def open_panel(page: Page, panel: str) -> None:
    """Unfold a collapsed form panel of the work order's page."""
    if not page.locator(f"#{panel}").is_visible():
        page.click(f"[data-bs-target='#{panel}']")
        expect(page.locator(f"#{panel}")).to_be_visible()


def test_an_advisor_books_checks_in_settles_and_closes_a_repair(
    browser: Browser, live_server, workshop: Workshop
):
    advisor = log_in(browser, live_server, "advisor")
    day = timezone.localtime(workshop.slot.starts_at).date()

    # The front desk's day: the slot has room; the advisor books the customer's car into it.
    advisor.goto(f"/service/appointments/?day={day.isoformat()}")
    with advisor.expect_navigation():
        advisor.locator(f"#slot-{workshop.slot.pk} a[href*='slot=']").click()
    advisor.fill("#customer-search", CUSTOMER_NAME)
    expect(advisor.locator(f"#id_customer option[value='{workshop.customer.pk}']")).to_have_count(1)
    advisor.select_option("#id_customer", str(workshop.customer.pk))
    expect(advisor.locator(f"#id_vehicle option[value='{workshop.vehicle.pk}']")).to_have_count(1)
    advisor.select_option("#id_vehicle", str(workshop.vehicle.pk))
    advisor.fill("#id_complaint", "刹车时有异响")
    submit(advisor, "#appointment-submit")
    appointment = Appointment.objects.get(vehicle=workshop.vehicle)
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.slot_id == workshop.slot.pk

    # Check-in from the appointment at 30,000 km: the last reading shows beside the form.
    submit(advisor, f"#check-in-{appointment.pk}")
    expect(advisor.locator("#last-reading")).to_contain_text("29800")
    advisor.fill("#id_mileage_in", "30000")
    advisor.select_option("#id_fuel_level", "half")
    advisor.check("#id_phone_confirmed")
    advisor.fill("#id_complaint", "踩刹车时前轮有异响")
    advisor.fill("#id_estimate", str(ESTIMATE))
    submit(advisor, "#check-in-submit")
    work_order = WorkOrder.objects.get(appointment=appointment)
    assert (work_order.mileage_in, work_order.service_type) == (30_000, ServiceType.REPAIR)
    # the 30,000 km items are recommended on the work order's page
    recommended = list(work_order.recommendations.values_list("pk", flat=True))
    assert len(recommended) == 5
    for pk in recommended:
        expect(advisor.locator(f"#recommendation-{pk}")).to_be_visible()

    # The work: an operation for the technician, the pads reserved, and an item found after
    # check-in that the customer confirms by phone before its operation is added.
    open_panel(advisor, "labour-panel")
    advisor.fill("#labour-operation", "更换前刹车片")
    advisor.fill("#labour-standard_hours", "1.0")
    advisor.fill("#labour-rate", "200")
    advisor.select_option("#labour-technician", str(workshop.technician.pk))
    submit(advisor, "#labour-add")
    open_panel(advisor, "part-panel")
    advisor.fill("#part-part_number", workshop.pads.number)
    advisor.fill("#part-quantity", "2")
    submit(advisor, "#part-add")
    pad_line = work_order.part_lines.get()
    assert pad_line.issue.status == IssueStatus.REQUESTED
    open_panel(advisor, "added-item-panel")
    advisor.fill("#item-description", "刹车油含水量超标，建议更换")
    advisor.fill("#item-estimate", "100")
    submit(advisor, "#added-item-add")
    item = work_order.added_items.get()
    advisor.select_option(f"#confirm-{item.pk}-method", "phone")
    submit(advisor, f"#confirm-{item.pk}")
    item.refresh_from_db()
    assert item.confirmed and item.confirmed_by == CUSTOMER_NAME
    open_panel(advisor, "labour-panel")
    advisor.fill("#labour-operation", "更换刹车油")
    advisor.fill("#labour-standard_hours", "0.5")
    advisor.fill("#labour-rate", "200")
    advisor.select_option("#labour-technician", str(workshop.technician.pk))
    advisor.select_option("#labour-added_item", str(item.pk))
    submit(advisor, "#labour-add")
    submit(advisor, "#action-start")
    work_order.refresh_from_db()
    assert work_order.status == WorkOrderStatus.IN_PROGRESS

    # The parts clerk hands the pads over to the job: the voucher's four steps.
    clerk = log_in(browser, live_server, "parts_clerk")
    clerk.goto(f"/parts/issues/{pad_line.issue_id}/")
    for step in ["checked", "picked", "rechecked", "handed_over"]:
        if step == "handed_over":  # handing over asks to confirm
            clerk.once("dialog", lambda dialog: dialog.accept())
        submit(clerk, "#issue-next-step")
    pad_line.issue.refresh_from_db()
    assert pad_line.issue.status == IssueStatus.HANDED_OVER

    # The technician signs both operations, road-tests the car, hands it to quality check,
    # and signs as inspector, then as team lead.
    technician = log_in(browser, live_server, "technician")
    technician.goto(f"/service/work-orders/{work_order.pk}/")
    for line in work_order.labour_lines.order_by("pk"):
        submit(technician, f"#sign-{line.pk}")
    assert not work_order.labour_lines.filter(done_at__isnull=True).exists()
    open_panel(technician, "road-test-panel")
    technician.select_option("#road-test-tested_by", str(workshop.technician.pk))
    technician.fill("#road-test-distance_km", "5")
    technician.fill("#road-test-note", "制动无异响")
    submit(technician, "#road-test-add")
    assert work_order.road_tests.filter(passed=True).exists()
    submit(technician, "#action-submit-for-qc")
    submit(technician, "#action-quality-check")
    submit(technician, "#action-release")
    work_order.refresh_from_db()
    assert work_order.status == WorkOrderStatus.READY
    signed = max(work_order.labour_lines.values_list("done_at", flat=True))
    assert signed <= work_order.qc_at <= work_order.team_lead_at

    # The advisor settles: 2 × 380 + 1.5 h × 200 = 1,060, within 10% of the 1,000 estimate;
    # prints the settlement and hands the car back.
    advisor.goto(f"/service/work-orders/{work_order.pk}/")
    expect(advisor.locator("#customer-owes")).to_contain_text("1,060.00")
    advisor.select_option("#settle-payment_method", "wechat")
    submit(advisor, "#action-settle")
    work_order.refresh_from_db()
    settlement = work_order.settlement
    assert work_order.status == WorkOrderStatus.SETTLED
    assert settlement.total == Decimal("1060.00") <= ESTIMATE * Decimal("1.1")
    assert settlement.lines.count() == 3
    with advisor.expect_popup() as printout:
        advisor.click("#print-settlement")
    printed = printout.value
    printed.wait_for_load_state()
    expect(printed.locator("#print-total")).to_contain_text("1,060.00")
    expect(printed.locator("#print-lines")).to_contain_text("更换刹车油")
    printed.close()
    submit(advisor, "#action-close")
    work_order.refresh_from_db()
    assert work_order.status == WorkOrderStatus.CLOSED

    # The stock ledger shows the pads leaving under the work order's number...
    clerk.goto("/parts/moves/")
    expect(clerk.locator("#move-table")).to_contain_text(work_order.number)
    issued = StockMove.objects.get(part=workshop.pads, kind=MoveKind.WORK_ORDER_ISSUE)
    assert (issued.quantity, issued.document) == (Decimal(-2), work_order.number)
    # ...and the customer's page shows the visit on the timeline; nothing left undecided
    # is lost: the recommendations wait for the next visit.
    advisor.goto(f"/customers/{workshop.customer.pk}/")
    expect(advisor.locator(".timeline-item").first).to_contain_text(work_order.number)
    assert TimelineEntry.objects.filter(
        customer=workshop.customer, kind="work_order_closed"
    ).exists()
    assert work_order.recommendations.filter(status=RecommendationStatus.OPEN).count() == 5
    advisor.screenshot(path=SCREENSHOT, full_page=True)
