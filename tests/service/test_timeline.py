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
