"""One vehicle, one file (一车一档): the file opened by the vehicle's delivery or first work
order and reused by every later one, only once the department's transaction is committed;
the papers each section expects, in filing order, by what the delivery or work order was."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import TestCase
from django.utils import timezone

from archives import services
from archives.choices import DocumentKind as K
from archives.choices import SectionKind
from archives.models import FileSection, VehicleFile
from service import services as service_services
from service.choices import RescueOutcome, ServiceType
from tests.archives.helpers import closed_work_order, deliver, delivered_section, invoiced_order
from tests.factories import PartFactory
from tests.service.helpers import counts, customer_car, ready_work_order, settle, state

pytestmark = pytest.mark.django_db

SALES_FILE = [
    K.DELIVERY_FORM,
    K.PURCHASE_INVOICE,
    K.PDI_CERTIFICATE,
    K.BUYER_ID,
    K.CONFORMITY_CERTIFICATE,
    K.PURCHASE_AGREEMENT,
    K.PDI_SHEET,
]


# --- one file per vehicle -------------------------------------------------------------------


def test_a_delivery_opens_the_vehicles_file_with_its_sales_section(branch, consultant):
    section = delivered_section(branch, consultant, days_ago=2)
    vehicle_file = section.vehicle_file
    assert (section.kind, vehicle_file.vehicle_id, vehicle_file.branch_id) == (
        SectionKind.SALES,
        section.delivery.vehicle_id,
        branch.pk,
    )
    assert vehicle_file.opened_on == section.period_on == timezone.localdate() - timedelta(days=2)
    assert vehicle_file.retain_until == services.add_years(vehicle_file.opened_on, 5)


def test_the_vehicles_work_orders_go_into_the_file_of_its_delivery(
    branch, consultant, advisor, technician
):
    section = delivered_section(branch, consultant)
    vehicle = section.vehicle_file.vehicle
    first = closed_work_order(branch, advisor, technician, vehicle=vehicle, plate="粤A12345")
    second = closed_work_order(
        branch, advisor, technician, vehicle=vehicle, plate="粤A12345", mileage_in=15_000
    )
    assert VehicleFile.objects.filter(vehicle=vehicle).count() == 1
    sections = FileSection.objects.filter(vehicle_file=section.vehicle_file)
    assert sorted(sections.values_list("kind", "delivery", "work_order")) == [
        (SectionKind.SALES, section.delivery_id, None),
        (SectionKind.SERVICE, None, first.pk),
        (SectionKind.SERVICE, None, second.pk),
    ]
    vehicle_file = VehicleFile.objects.get(vehicle=vehicle)
    assert vehicle_file.last_service_on == timezone.localdate()
    assert vehicle_file.retain_until == services.add_years(timezone.localdate(), 5)


def test_a_vehicle_first_seen_in_the_workshop_gets_its_file_from_its_first_work_order(
    branch, advisor, technician
):
    _customer, vehicle = customer_car(branch)
    first = closed_work_order(branch, advisor, technician, vehicle=vehicle, plate="粤A12345")
    vehicle_file = first.archive_section.vehicle_file
    second = closed_work_order(branch, advisor, technician, vehicle=vehicle, mileage_in=13_000)
    assert second.archive_section.vehicle_file_id == vehicle_file.pk
    assert VehicleFile.objects.count() == 1
    assert (vehicle_file.opened_on, vehicle_file.last_service_on) == (timezone.localdate(),) * 2


def test_the_database_refuses_a_second_file_for_a_vehicle(branch, consultant):
    vehicle_file = delivered_section(branch, consultant).vehicle_file
    with pytest.raises(IntegrityError), transaction.atomic():
        VehicleFile.objects.create(
            branch=branch,
            vehicle=vehicle_file.vehicle,
            opened_on=vehicle_file.opened_on,
            retain_until=vehicle_file.retain_until,
        )
    assert list(VehicleFile.objects.values_list("pk", flat=True)) == [vehicle_file.pk]


def test_opening_a_sales_section_twice_gives_the_same_section(branch, consultant):
    section = delivered_section(branch, consultant)
    before = (state(section), state(section.vehicle_file), counts(FileSection, VehicleFile))
    again = services.sales_section_open(delivery_id=section.delivery_id)
    assert again.pk == section.pk
    assert (state(section), state(section.vehicle_file), counts(FileSection, VehicleFile)) == before


def test_opening_a_service_section_twice_gives_the_same_section(branch, advisor, technician):
    section = closed_work_order(branch, advisor, technician).archive_section
    before = (state(section), state(section.vehicle_file), counts(FileSection, VehicleFile))
    again = services.service_section_open(work_order_id=section.work_order_id)
    assert again.pk == section.pk
    assert (state(section), state(section.vehicle_file), counts(FileSection, VehicleFile)) == before


# --- the events: after commit only ------------------------------------------------------------


def test_the_sales_section_opens_only_once_the_delivery_is_committed(branch, consultant):
    order = invoiced_order(branch, consultant)
    with TestCase.captureOnCommitCallbacks() as callbacks:
        delivery = deliver(order, consultant)
        assert not FileSection.objects.exists()
    assert not FileSection.objects.exists()
    for callback in callbacks:
        callback()
    assert FileSection.objects.get(delivery=delivery).kind == SectionKind.SALES


def test_a_delivery_rolled_back_opens_no_file(branch, consultant):
    order = invoiced_order(branch, consultant)
    with (
        TestCase.captureOnCommitCallbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        deliver(order, consultant)
        raise RuntimeError("the delivery fails after it was recorded")
    assert callbacks == []
    assert (FileSection.objects.count(), VehicleFile.objects.count()) == (0, 0)


def test_the_service_section_opens_only_once_the_close_is_committed(branch, advisor, technician):
    work_order = ready_work_order(branch, advisor, technician)
    settle(work_order, advisor)
    with TestCase.captureOnCommitCallbacks() as callbacks:
        service_services.work_order_close(work_order=work_order, by=advisor)
        assert not FileSection.objects.exists()
    for callback in callbacks:
        callback()
    assert FileSection.objects.get(work_order=work_order).kind == SectionKind.SERVICE


def test_a_close_rolled_back_opens_no_section(branch, advisor, technician):
    work_order = ready_work_order(branch, advisor, technician)
    settle(work_order, advisor)
    with (
        TestCase.captureOnCommitCallbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        service_services.work_order_close(work_order=work_order, by=advisor)
        raise RuntimeError("the close fails after it was recorded")
    assert callbacks == []
    assert (FileSection.objects.count(), VehicleFile.objects.count()) == (0, 0)


# --- what each section expects ---------------------------------------------------------------


def test_the_sales_section_expects_the_seven_papers_in_domain_order(branch, consultant):
    assert delivered_section(branch, consultant).expected == SALES_FILE


def certificates_checked(work_order):
    service_services.work_order_certificates_checked(work_order=work_order, by=work_order.advisor)


def warranty_claim_made(work_order):
    certificates_checked(work_order)
    service_services.warranty_claim_create(
        work_order=work_order, failed_part=PartFactory(name="点火线圈"), cause="点火线圈击穿",
        labour_amount=Decimal("120.00"), parts_amount=Decimal("260.00"), by=work_order.advisor,
    )  # fmt: skip


def towed_in(work_order):
    """The work order is where a rescue call ended (拖车回店)."""
    now = timezone.now()
    rescue = service_services.rescue_log(
        branch=work_order.branch, by=work_order.advisor,
        data={
            "caller_name": "张先生", "caller_phone": "13912345678",
            "called_at": now - timedelta(hours=3), "location": "广州大道北与北环高速交叉口",
            "problem": "车辆无法启动",
        },
    )  # fmt: skip
    technician = work_order.labour_lines.first().technician
    service_services.rescue_dispatch(
        rescue=rescue, to=technician, by=work_order.advisor, at=now - timedelta(hours=2)
    )
    service_services.rescue_arrive(rescue=rescue, by=technician, at=now - timedelta(minutes=90))
    service_services.rescue_finish(
        rescue=rescue, outcome=RescueOutcome.TOWED, by=work_order.advisor, work_order=work_order
    )


SERVICE_FILES = {
    "maintenance": (
        {"service_type": ServiceType.MAINTENANCE},
        None,
        [K.WORK_ORDER, K.SETTLEMENT, K.MAINTENANCE_SHEET, K.CHECK_IN_OUT_SHEET],
    ),
    "repair": (
        {"service_type": ServiceType.REPAIR},
        None,
        [K.WORK_ORDER, K.SETTLEMENT, K.CHECK_IN_OUT_SHEET, K.ROAD_TEST_RECORD],
    ),
    "first maintenance (首保)": (
        {"service_type": ServiceType.MAINTENANCE, "is_first_maintenance": True},
        certificates_checked,
        [
            K.FIRST_MAINTENANCE_VOUCHER,
            K.WORK_ORDER,
            K.SETTLEMENT,
            K.MAINTENANCE_SHEET,
            K.CHECK_IN_OUT_SHEET,
            K.WARRANTY_CERTIFICATE,
            K.MAINTENANCE_CERTIFICATE,
        ],
    ),  # fmt: skip
    "warranty work": (
        {"service_type": ServiceType.WARRANTY},
        certificates_checked,
        [
            K.WORK_ORDER,
            K.SETTLEMENT,
            K.CHECK_IN_OUT_SHEET,
            K.ROAD_TEST_RECORD,
            K.WARRANTY_CERTIFICATE,
            K.MAINTENANCE_CERTIFICATE,
        ],
    ),  # fmt: skip
    "repair with a warranty claim": (
        {"service_type": ServiceType.REPAIR},
        warranty_claim_made,
        [
            K.WORK_ORDER,
            K.SETTLEMENT,
            K.CHECK_IN_OUT_SHEET,
            K.ROAD_TEST_RECORD,
            K.WARRANTY_CERTIFICATE,
            K.MAINTENANCE_CERTIFICATE,
        ],
    ),  # fmt: skip
    "rescue": (
        {"service_type": ServiceType.RESCUE},
        None,
        [K.WORK_ORDER, K.SETTLEMENT, K.CHECK_IN_OUT_SHEET, K.ROAD_TEST_RECORD, K.RESCUE_SHEET],
    ),
    "repair of a car towed in": (
        {"service_type": ServiceType.REPAIR},
        towed_in,
        [K.WORK_ORDER, K.SETTLEMENT, K.CHECK_IN_OUT_SHEET, K.ROAD_TEST_RECORD, K.RESCUE_SHEET],
    ),
}


@pytest.mark.parametrize("case", list(SERVICE_FILES.values()), ids=list(SERVICE_FILES))
def test_a_service_section_expects_the_papers_of_its_work(branch, advisor, technician, case):
    data, prepare, expected = case
    work_order = closed_work_order(branch, advisor, technician, prepare=prepare, **data)
    assert work_order.archive_section.expected == expected
