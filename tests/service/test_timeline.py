"""A closed work order on the customer's timeline reads in the reader's language."""

from django.utils import translation

from service.timeline import visit_detail


def test_a_service_visit_reads_in_the_readers_language():
    with translation.override("en"):
        assert visit_detail("RO00012|repair|30000") == "RO00012 · Repair · 30000 km"
    with translation.override("zh-hans"):
        assert visit_detail("RO00012|repair|30000") != "RO00012 · Repair · 30000 km"


def test_a_visit_with_an_unknown_type_still_shows_its_number():
    assert visit_detail("RO00012") == "RO00012"


def test_recommendations_and_checklist_items_read_in_the_readers_language():
    from service.models import ChecklistItem, Recommendation

    with translation.override("zh-hans"):
        assert Recommendation(description="Spark plugs").label == "火花塞"
        assert ChecklistItem(name="Battery").label == "蓄电池"
        worn = Recommendation(
            description="Replace tyre: Rear left (tread 2.6 mm)",
            tyre_position="rear_left",
            tread_mm="2.6",
        )
        assert "Replace" not in worn.label and "2.6" in worn.label
    with translation.override("en"):
        assert Recommendation(description="Spark plugs").label == "Spark plugs"
