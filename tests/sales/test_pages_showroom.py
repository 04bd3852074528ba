"""The showroom pages: the front desk's traffic counters (tapped with htmx, or posted without
JavaScript) and test drives from booking to completion or cancellation."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from sales.choices import LeadStatus, StockStatus, TestDriveStatus
from sales.models import ShowroomTraffic, TestDrive
from tests.factories import (
    LeadFactory,
    ShowroomTrafficFactory,
    StockVehicleFactory,
    TestDriveFactory,
    resident_id,
)

pytestmark = pytest.mark.django_db


def in_language(client, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def page(response) -> str:
    return response.content.decode()


def flashed(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def lead(branch, consultant):
    return LeadFactory(branch=branch, consultant=consultant, reached="verified")


@pytest.fixture
def demo_car(branch):
    return StockVehicleFactory(branch=branch, status=StockStatus.DEMO, series="速腾")


@pytest.fixture
def test_drive(branch, lead, demo_car, consultant):
    return TestDriveFactory(branch=branch, lead=lead, demo_vehicle=demo_car, consultant=consultant)


@pytest.fixture
def started_drive(branch, lead, demo_car, consultant):
    """A booked test drive that began an hour ago."""
    start = timezone.now() - timedelta(hours=1)
    return TestDriveFactory(
        branch=branch,
        lead=lead,
        demo_vehicle=demo_car,
        consultant=consultant,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
    )


def booking(demo_car, start=None, **changes) -> dict:
    start = start or timezone.now() + timedelta(days=1)
    return {
        "demo_vehicle": demo_car.pk,
        "starts_at": local(start),
        "ends_at": local(start + timedelta(minutes=30)),
        "driver_name": "陈志强",
        "driver_licence_number": resident_id(7),
        "route": "天河路—珠江新城环线",
        "agreement_signed": "on",
        **changes,
    }


# --- pages render; roles and branches -----------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("url_name", ["sales:traffic", "sales:test-drive-list"])
def test_showroom_pages_render_in_both_languages(
    client, consultant, test_drive, url_name, language
):
    in_language(client, language).force_login(consultant)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert f'<html lang="{language}">' in page(response)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_test_drive_pages_render_in_both_languages(client, consultant, test_drive, language):
    in_language(client, language).force_login(consultant)
    for url in [
        reverse("sales:test-drive-create", args=[test_drive.lead_id]),
        reverse("sales:test-drive-detail", args=[test_drive.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'<html lang="{language}">' in page(response)


@pytest.mark.parametrize("url_name", ["sales:traffic", "sales:test-drive-list"])
def test_parts_clerk_may_not_open_the_showroom_pages(client, parts_clerk, url_name):
    client.force_login(parts_clerk)
    assert client.get(reverse(url_name)).status_code == 403


def test_parts_clerk_may_not_tap_a_counter(client, parts_clerk, branch):
    client.force_login(parts_clerk)
    response = client.post(
        reverse("sales:traffic-count"),
        {"day": timezone.localdate(), "counter": "first_walk_in", "step": 1},
    )
    assert response.status_code == 403
    assert not ShowroomTraffic.objects.exists()


def test_parts_clerk_may_not_touch_a_test_drive(client, parts_clerk, test_drive):
    client.force_login(parts_clerk)
    assert client.get(reverse("sales:test-drive-detail", args=[test_drive.pk])).status_code == 403
    assert (
        client.get(reverse("sales:test-drive-create", args=[test_drive.lead_id])).status_code == 403
    )
    for url_name in ["sales:test-drive-complete", "sales:test-drive-cancel"]:
        assert client.post(reverse(url_name, args=[test_drive.pk])).status_code == 403
    test_drive.refresh_from_db()
    assert test_drive.status == TestDriveStatus.BOOKED


def test_customer_care_sees_the_counts_but_has_no_tap_buttons(client, customer_care, branch):
    ShowroomTrafficFactory(branch=branch, day=timezone.localdate(), first_walk_in=5)
    client.force_login(customer_care)
    html = page(client.get(reverse("sales:traffic")))
    assert 'id="count-first_walk_in">5<' in html
    assert 'id="tap-first_walk_in"' not in html


@pytest.mark.parametrize(
    "url_name", ["sales:test-drive-detail", "sales:test-drive-complete", "sales:test-drive-cancel"]
)
def test_another_branchs_test_drive_is_not_found(client, other_branch_user, test_drive, url_name):
    client.force_login(other_branch_user)
    response = client.post(reverse(url_name, args=[test_drive.pk]), {"agreement_signed": "on"})
    assert response.status_code == 404
    test_drive.refresh_from_db()
    assert test_drive.status == TestDriveStatus.BOOKED


def test_another_branchs_lead_cannot_get_a_test_drive(client, other_branch_user, lead, demo_car):
    client.force_login(other_branch_user)
    url = reverse("sales:test-drive-create", args=[lead.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, booking(demo_car)).status_code == 404
    assert not TestDrive.objects.exists()


def test_traffic_of_another_branch_is_not_shown(client, other_branch_user, branch):
    ShowroomTrafficFactory(branch=branch, day=timezone.localdate(), first_walk_in=9)
    client.force_login(other_branch_user)
    html = page(client.get(reverse("sales:traffic")))
    assert 'id="count-first_walk_in">0<' in html


# --- showroom traffic -------------------------------------------------------------------------


def test_tap_with_htmx_returns_the_counter_panel_and_counts_one(client, consultant, branch):
    # given the front desk on today's page
    client.force_login(consultant)
    today = timezone.localdate()
    # when a walk-in first visit is tapped twice
    for _ in range(2):
        response = client.post(
            reverse("sales:traffic-count"),
            {"day": today.isoformat(), "counter": "first_walk_in", "step": "1"},
            HTTP_HX_REQUEST="true",
        )
    # then the panel comes back (not a whole page) with the new count, and the day is saved
    html = page(response)
    assert response.status_code == 200
    assert html.lstrip().startswith("<section")
    assert "<html" not in html
    assert 'id="count-first_walk_in">2<' in html
    assert 'hx-swap-oob="true"' in html  # the 30-day table follows along
    assert ShowroomTraffic.objects.get(branch=branch, day=today).first_walk_in == 2


def test_undo_takes_one_back(client, consultant, branch):
    today = timezone.localdate()
    ShowroomTrafficFactory(branch=branch, day=today, phone_inquiries=4)
    client.force_login(consultant)
    client.post(
        reverse("sales:traffic-count"),
        {"day": today.isoformat(), "counter": "phone_inquiries", "step": "-1"},
        HTTP_HX_REQUEST="true",
    )
    assert ShowroomTraffic.objects.get(day=today).phone_inquiries == 3


def test_undo_below_zero_shows_why_and_changes_nothing(client, consultant, branch):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:traffic-count"),
        {"day": timezone.localdate().isoformat(), "counter": "return_walk_in", "step": "-1"},
        HTTP_HX_REQUEST="true",
    )
    assert "This count is already zero." in page(response)
    assert not ShowroomTraffic.objects.filter(return_walk_in__gt=0).exists()


def test_tap_without_javascript_redirects_back_to_the_page(client, consultant, branch):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:traffic-count"),
        {"day": timezone.localdate().isoformat(), "counter": "first_with_appointment", "step": "1"},
    )
    assert response.status_code == 302
    assert response.url == reverse("sales:traffic")
    assert ShowroomTraffic.objects.get().first_with_appointment == 1


def test_yesterday_is_corrected_from_its_own_page(client, consultant, branch):
    # given yesterday's count opened from the date picker
    yesterday = timezone.localdate() - timedelta(days=1)
    ShowroomTrafficFactory(branch=branch, day=yesterday, return_with_appointment=2)
    client.force_login(consultant)
    response = client.get(reverse("sales:traffic"), {"day": yesterday.isoformat()})
    assert 'id="count-return_with_appointment">2<' in page(response)
    # when a forgotten visitor is added without JavaScript
    response = client.post(
        reverse("sales:traffic-count"),
        {"day": yesterday.isoformat(), "counter": "return_with_appointment", "step": "1"},
    )
    # then yesterday's count goes up and the page returns to yesterday
    assert response.url == f"{reverse('sales:traffic')}?day={yesterday.isoformat()}"
    assert ShowroomTraffic.objects.get(day=yesterday).return_with_appointment == 3


def test_tomorrow_cannot_be_counted(client, consultant, branch):
    client.force_login(consultant)
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(
        reverse("sales:traffic-count"),
        {"day": tomorrow.isoformat(), "counter": "first_walk_in", "step": "1"},
        follow=True,
    )
    assert "Traffic cannot be counted ahead of the day." in flashed(response)
    assert not ShowroomTraffic.objects.exists()


def test_unknown_counter_is_refused(client, consultant, branch):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:traffic-count"),
        {"day": timezone.localdate().isoformat(), "counter": "branch_id", "step": "1"},
        follow=True,
    )
    assert "Unknown traffic counter." in flashed(response)
    assert not ShowroomTraffic.objects.exists()


def test_table_lists_the_last_30_days_with_totals(client, consultant, branch):
    today = timezone.localdate()
    ShowroomTrafficFactory(branch=branch, day=today, first_walk_in=5, phone_inquiries=4)
    ShowroomTrafficFactory(branch=branch, day=today - timedelta(days=3), first_walk_in=2)
    ShowroomTrafficFactory(branch=branch, day=today - timedelta(days=40), first_walk_in=50)
    client.force_login(consultant)
    response = client.get(reverse("sales:traffic"))
    assert len(response.context["days"]) == 30
    assert response.context["totals"]["first_walk_in"] == 7


# --- test drives ------------------------------------------------------------------------------


def test_consultant_books_a_test_drive(client, consultant, lead, demo_car):
    client.force_login(consultant)
    response = client.post(reverse("sales:test-drive-create", args=[lead.pk]), booking(demo_car))
    test_drive = TestDrive.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("sales:test-drive-detail", args=[test_drive.pk])
    assert (test_drive.lead, test_drive.demo_vehicle) == (lead, demo_car)
    assert test_drive.agreement_signed


def test_unverified_lead_cannot_book_a_test_drive(client, consultant, branch, demo_car):
    lead = LeadFactory(branch=branch, consultant=consultant)
    client.force_login(consultant)
    response = client.post(reverse("sales:test-drive-create", args=[lead.pk]), booking(demo_car))
    assert response.status_code == 200
    assert "Verify the lead by phone before going further." in page(response)
    assert not TestDrive.objects.exists()


def test_double_booking_of_a_demo_car_names_the_booking_in_the_way(
    client, consultant, lead, demo_car, test_drive
):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:test-drive-create", args=[lead.pk]),
        booking(demo_car, start=test_drive.starts_at + timedelta(minutes=10)),
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["starts_at"])
    assert "This demo car is booked from" in errors
    assert TestDrive.objects.count() == 1


def test_wrong_licence_number_is_refused_beside_the_field(client, consultant, lead, demo_car):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:test-drive-create", args=[lead.pk]),
        booking(demo_car, driver_licence_number="440106199001010000"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["driver_licence_number"]
    assert not TestDrive.objects.exists()


def test_another_branchs_demo_car_cannot_be_booked(client, consultant, lead, other_branch):
    stranger = StockVehicleFactory(branch=other_branch, status=StockStatus.DEMO)
    client.force_login(consultant)
    response = client.post(reverse("sales:test-drive-create", args=[lead.pk]), booking(stranger))
    assert response.context["form"].errors["demo_vehicle"]
    assert not TestDrive.objects.exists()


def test_licence_number_is_masked_for_a_consultant(client, consultant, test_drive):
    client.force_login(consultant)
    html = page(client.get(reverse("sales:test-drive-detail", args=[test_drive.pk])))
    assert test_drive.driver_licence_number not in html
    assert test_drive.driver_licence_number[-4:] in html


def test_completing_a_drive_needs_the_signed_agreement(client, consultant, started_drive):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:test-drive-complete", args=[started_drive.pk]), {"feedback": "很满意"}
    )
    assert response.status_code == 200
    assert response.context["complete_form"].errors["agreement_signed"] == [
        "The customer signs the test-drive agreement before driving."
    ]
    started_drive.refresh_from_db()
    assert started_drive.status == TestDriveStatus.BOOKED


def test_completed_drive_makes_the_lead_test_driven(client, consultant, started_drive):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:test-drive-complete", args=[started_drive.pk]),
        {"feedback": "动力不错，后排空间够用", "agreement_signed": "on"},
    )
    assert response.status_code == 302
    started_drive.refresh_from_db()
    assert started_drive.status == TestDriveStatus.DONE
    assert started_drive.feedback == "动力不错，后排空间够用"
    assert started_drive.lead.status == LeadStatus.TEST_DRIVEN


def test_drive_that_has_not_started_cannot_be_completed(client, consultant, test_drive):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:test-drive-complete", args=[test_drive.pk]), {"agreement_signed": "on"}
    )
    assert "This test drive has not started yet." in page(response)
    test_drive.refresh_from_db()
    assert test_drive.status == TestDriveStatus.BOOKED


def test_booking_is_cancelled(client, consultant, test_drive):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:test-drive-cancel", args=[test_drive.pk]), {"reason": "客户改期"}
    )
    assert response.status_code == 302
    test_drive.refresh_from_db()
    assert test_drive.status == TestDriveStatus.CANCELLED
    assert "客户改期" in page(client.get(response.url))


def test_cancelled_booking_cannot_be_cancelled_again(client, consultant, branch, lead, demo_car):
    drive = TestDriveFactory(
        branch=branch, lead=lead, demo_vehicle=demo_car, status=TestDriveStatus.CANCELLED
    )
    client.force_login(consultant)
    response = client.post(reverse("sales:test-drive-cancel", args=[drive.pk]), follow=True)
    assert "Only a booked test drive can be cancelled." in flashed(response)


def test_list_puts_coming_drives_first_soonest_at_the_top(
    client, consultant, branch, lead, demo_car
):
    now = timezone.now()
    for name, hours in [("昨天", -20), ("后天", 48), ("明天", 20), ("上周", -170)]:
        TestDriveFactory(
            branch=branch,
            lead=lead,
            demo_vehicle=demo_car,
            driver_name=name,
            starts_at=now + timedelta(hours=hours),
            ends_at=now + timedelta(hours=hours, minutes=30),
        )
    client.force_login(consultant)
    response = client.get(reverse("sales:test-drive-list"))
    assert [drive.driver_name for drive in response.context["page"]] == [
        "明天",
        "后天",
        "昨天",
        "上周",
    ]
    coming = client.get(reverse("sales:test-drive-list"), {"when": "upcoming"})
    assert [drive.driver_name for drive in coming.context["page"]] == ["明天", "后天"]


def test_list_filters_by_day_car_and_status(client, consultant, branch, lead, demo_car):
    other_car = StockVehicleFactory(branch=branch, status=StockStatus.DEMO)
    # 甲 in an hour; 乙 in two days, cancelled, in the other car
    in_an_hour = timezone.localtime() + timedelta(hours=1)
    in_two_days = timezone.localtime() + timedelta(days=2)
    TestDriveFactory(
        branch=branch,
        lead=lead,
        demo_vehicle=demo_car,
        driver_name="甲",
        starts_at=in_an_hour,
        ends_at=in_an_hour + timedelta(minutes=30),
    )
    TestDriveFactory(
        branch=branch,
        lead=lead,
        demo_vehicle=other_car,
        driver_name="乙",
        starts_at=in_two_days,
        ends_at=in_two_days + timedelta(minutes=30),
        status=TestDriveStatus.CANCELLED,
    )
    client.force_login(consultant)
    url = reverse("sales:test-drive-list")

    def names(**query):
        return sorted(drive.driver_name for drive in client.get(url, query).context["page"])

    assert names(demo_vehicle=other_car.pk) == ["乙"]
    assert names(status="cancelled") == ["乙"]
    assert names(date=in_two_days.date().isoformat()) == ["乙"]


def list_queries(client, assert_max_queries) -> int:
    with assert_max_queries(20) as captured:
        response = client.get(reverse("sales:test-drive-list"))
    assert response.status_code == 200
    return len(captured)


def test_test_drive_list_queries_do_not_grow_with_the_rows(
    client, consultant, branch, django_assert_max_num_queries
):
    # given one test drive, each with its own lead and demo car
    client.force_login(consultant)
    TestDriveFactory(branch=branch, consultant=consultant)
    one = list_queries(client, django_assert_max_num_queries)
    # when there are twenty
    TestDriveFactory.create_batch(19, branch=branch, consultant=consultant)
    twenty = list_queries(client, django_assert_max_num_queries)
    # then the page costs the same
    assert twenty == one, (one, twenty)


@pytest.mark.parametrize(
    ("url_name", "query"),
    [
        ("sales:traffic", {"day": "昨天"}),
        ("sales:test-drive-list", {"date": "2026-13-45", "demo_vehicle": "abc", "when": "x"}),
        ("sales:test-drive-list", {"status": "flying", "page": "-1", "consultant": "99999"}),
    ],
)
def test_bad_query_parameters_never_break_a_page(client, consultant, url_name, query):
    client.force_login(consultant)
    assert client.get(reverse(url_name), query).status_code == 200


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"day": "tomorrow", "counter": "first_walk_in", "step": "1"},
        {"day": "2026-01-01", "counter": "first_walk_in", "step": "5"},
        {"day": "2026-01-01", "counter": "x" * 500, "step": "1"},
    ],
)
def test_bad_taps_are_refused_with_a_message(client, consultant, branch, data):
    client.force_login(consultant)
    response = client.post(reverse("sales:traffic-count"), data, follow=True)
    assert response.status_code == 200
    assert flashed(response)
    assert not ShowroomTraffic.objects.exists()


def test_bad_booking_input_is_shown_not_crashed(client, consultant, lead, demo_car):
    client.force_login(consultant)
    response = client.post(
        reverse("sales:test-drive-create", args=[lead.pk]),
        booking(demo_car, starts_at="next tuesday", demo_vehicle="abc", route="路" * 500),
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"starts_at", "demo_vehicle", "route"}
    assert not TestDrive.objects.exists()
