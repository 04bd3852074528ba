"""The maintenance checklist (保养表): items ticked or struck, tyre pressure in bar and tread in
mm, a worn tyre recommended for replacement."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from service import services
from service.choices import ChecklistResult, RecommendationStatus, ServiceType, TyrePosition
from service.models import Recommendation, TyreReading
from tests.service.helpers import fresh, in_progress_work_order, open_work_order, refusal, state

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def maintenance(branch, advisor, technician):
    """A maintenance work order in progress."""
    return in_progress_work_order(branch, advisor, technician, service_type=ServiceType.MAINTENANCE)


def measure(work_order, technician, *, tread="6.0", pressure="2.3", position="front_left"):
    return services.tyre_reading_record(
        work_order=work_order, position=position, pressure_bar=Decimal(pressure),
        tread_mm=Decimal(tread), by=technician,
    )  # fmt: skip


def tyre_recommendations(work_order) -> list[str]:
    return list(
        Recommendation.objects.filter(
            work_order=work_order, description__startswith="Replace tyre"
        ).values_list("description", flat=True)
    )


# --- the checklist --------------------------------------------------------------------------


@pytest.mark.parametrize("result", [ChecklistResult.DONE, ChecklistResult.STRUCK])
def test_a_checklist_item_is_ticked_or_struck_by_the_technician(maintenance, technician, result):
    item = maintenance.checklist_items.first()
    services.checklist_item_mark(item=item, result=result, by=technician)
    item = fresh(item)
    assert (item.result, item.marked_by_id) == (result, technician.pk)
    assert item.marked_at is not None


def test_a_checklist_item_is_only_ticked_or_struck(maintenance, technician):
    item = maintenance.checklist_items.first()
    before = state(item)
    error = refusal(lambda: services.checklist_item_mark(item=item, result="maybe", by=technician))
    assert error.code == "checklist_result_unknown"
    assert state(item) == before


def test_the_checklist_is_marked_only_while_the_work_is_in_progress(branch, advisor, technician):
    work_order = open_work_order(branch, advisor, service_type=ServiceType.MAINTENANCE)
    item = work_order.checklist_items.first()
    error = refusal(
        lambda: services.checklist_item_mark(item=item, result=ChecklistResult.DONE, by=technician)
    )
    assert error.code == "work_order_wrong_status"
    assert fresh(item).result == ""


# --- tyres ----------------------------------------------------------------------------------


def test_a_tyre_reading_keeps_pressure_in_bar_and_tread_in_mm(maintenance, technician):
    reading = measure(maintenance, technician, tread="6.5", pressure="2.4")
    reading = fresh(reading)
    assert (reading.pressure_bar, reading.tread_mm, reading.measured_by_id) == (
        Decimal("2.4"),
        Decimal("6.5"),
        technician.pk,
    )


def test_measuring_a_tyre_again_replaces_its_reading(maintenance, technician):
    measure(maintenance, technician, tread="6.0")
    measure(maintenance, technician, tread="5.5")
    assert list(maintenance.tyre_readings.values_list("tread_mm", flat=True)) == [Decimal("5.5")]


@pytest.mark.parametrize("tread", ["-1", "40", "12.1"])
def test_a_tread_depth_out_of_range_is_refused(maintenance, technician, tread):
    # when a tread of -1 mm or 40 mm is entered
    with pytest.raises(ValidationError) as caught:
        measure(maintenance, technician, tread=tread)
    # then it is refused on the tread, nothing recorded and nothing recommended
    assert "tread_mm" in caught.value.message_dict
    assert not TyreReading.objects.exists()
    assert tyre_recommendations(maintenance) == []


def test_a_wrong_tread_leaves_the_earlier_reading_as_it_was(maintenance, technician):
    reading = measure(maintenance, technician, tread="6.0")
    before = state(reading)
    with pytest.raises(ValidationError):
        measure(maintenance, technician, tread="40")
    assert state(reading) == before


@pytest.mark.parametrize("pressure", ["0.4", "5.1", "-2"])
def test_a_tyre_pressure_out_of_range_is_refused(maintenance, technician, pressure):
    with pytest.raises(ValidationError) as caught:
        measure(maintenance, technician, pressure=pressure)
    assert "pressure_bar" in caught.value.message_dict
    assert not TyreReading.objects.exists()


@pytest.mark.parametrize("tread", ["0", "12.0"])
def test_the_ends_of_the_tread_range_are_taken(maintenance, technician, tread):
    assert measure(maintenance, technician, tread=tread).tread_mm == Decimal(tread)


def test_a_tread_below_3_mm_recommends_replacing_the_tyre(maintenance, technician):
    # when the rear-left tyre measures 2.9 mm
    measure(maintenance, technician, tread="2.9", position=TyrePosition.REAR_LEFT)
    # then its replacement is recommended on the work order, for the vehicle
    (recommendation,) = Recommendation.objects.filter(description__startswith="Replace tyre")
    assert recommendation.description == "Replace tyre: Rear left (tread 2.9 mm)"
    assert (recommendation.work_order_id, recommendation.vehicle_id, recommendation.status) == (
        maintenance.pk,
        maintenance.vehicle_id,
        RecommendationStatus.OPEN,
    )


def test_a_tread_of_3_mm_needs_no_new_tyre(maintenance, technician):
    measure(maintenance, technician, tread="3.0")
    assert tyre_recommendations(maintenance) == []


def test_measuring_a_worn_tyre_twice_recommends_it_once(maintenance, technician):
    measure(maintenance, technician, tread="2.5")
    measure(maintenance, technician, tread="2.5")
    assert len(tyre_recommendations(maintenance)) == 1


def test_tyres_are_measured_only_while_the_work_is_in_progress(branch, advisor, technician):
    work_order = open_work_order(branch, advisor, service_type=ServiceType.MAINTENANCE)
    error = refusal(lambda: measure(work_order, technician))
    assert error.code == "work_order_wrong_status"
    assert not TyreReading.objects.exists()
