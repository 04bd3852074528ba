"""The vehicle stock pages: every new vehicle by VIN with its days in stock, arrival, PDI and
demo use. Refused rules are shown and change nothing; other branches' vehicles are 404; the
list's queries do not grow with its rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from dealer_crm.choices import Role
from sales.choices import OrderStatus, StockStatus
from sales.models import StockVehicle
from tests.factories import OrderFactory, StockVehicleFactory, TestDriveFactory, UserFactory
from tests.factories.customers import vin

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
NEW_VEHICLE = {
    "vin": vin(4711).lower(),
    "brand": "大众",
    "series": "帕萨特",
    "configuration": "330TSI 豪华版",
    "colour": "黑色",
    "model_year": "2026",
    "list_price": "219900.00",
    "status": StockStatus.IN_TRANSIT,
    "arrival_date": "",
}


@pytest.fixture
def vehicle(branch):
    return StockVehicleFactory(branch=branch)


@pytest.fixture
def in_transit(branch):
    return StockVehicleFactory(branch=branch, status=StockStatus.IN_TRANSIT)


def arrived_days_ago(branch, days: int, **kwargs) -> StockVehicle:
    return StockVehicleFactory(branch=branch, arrival_date=TODAY() - timedelta(days=days), **kwargs)


def follow(client, response):
    assert response.status_code == 302, response.content[:800]
    return client.get(response.url)


# --- Rendering ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_stock_pages_render_for_the_sales_manager_in_both_languages(
    client, sales_manager, vehicle, language
):
    client.force_login(sales_manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for url in [
        reverse("sales:stock-list"),
        reverse("sales:stock-create"),
        reverse("sales:stock-detail", args=[vehicle.pk]),
        reverse("sales:stock-edit", args=[vehicle.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'lang="{language}"' in response.content.decode(), url


def test_a_technician_sees_stock_and_may_record_the_pdi(client, technician, vehicle):
    client.force_login(technician)
    page = client.get(reverse("sales:stock-detail", args=[vehicle.pk])).content.decode()
    assert 'id="pdi-panel"' in page
    assert 'id="stock-demo"' not in page
    assert client.get(reverse("sales:stock-list")).status_code == 200


def test_list_colours_days_in_stock_and_sums_up_the_ageing(client, consultant, branch):
    # given vehicles that arrived 10, 70 and 100 days ago, one reserved for an order
    arrived_days_ago(branch, 10)
    arrived_days_ago(branch, 70)
    arrived_days_ago(branch, 100)
    order = OrderFactory(branch=branch, status=OrderStatus.ALLOCATED)
    client.force_login(consultant)
    response = client.get(reverse("sales:stock-list"))
    page = response.content.decode()
    # then the strip counts each bucket, 70 days is amber, 100 days red
    counts = {bucket["key"]: bucket["count"] for bucket in response.context["ageing"]}
    assert counts == {"0_30": 2, "31_60": 0, "61_90": 1, "over_90": 1}
    assert '<span class="badge text-bg-warning" title="Over 60 days in stock">70</span>' in page
    assert '<span class="badge text-bg-danger" title="Over 90 days in stock">100</span>' in page
    # and the reserved vehicle links to its order
    assert reverse("sales:order-detail", args=[order.pk]) in page


def test_list_filters_by_days_in_stock_status_and_vin(client, consultant, branch, in_transit):
    old = arrived_days_ago(branch, 95)
    recent = arrived_days_ago(branch, 5, status=StockStatus.DEMO)
    client.force_login(consultant)

    def listed(**params) -> set[int]:
        response = client.get(reverse("sales:stock-list"), params)
        return {v.pk for v in response.context["page"]}

    assert listed(min_days_in_stock=90) == {old.pk}
    assert listed(status="demo") == {recent.pk}
    assert listed(status=["demo", "in_transit"]) == {recent.pk, in_transit.pk}
    assert listed(search=old.vin[-6:]) == {old.pk}


def test_list_sorts_by_days_in_stock(client, consultant, branch):
    middle = arrived_days_ago(branch, 40)
    oldest = arrived_days_ago(branch, 80)
    newest = arrived_days_ago(branch, 1)
    client.force_login(consultant)
    response = client.get(reverse("sales:stock-list"), {"sort": "-days"})
    assert [v.pk for v in response.context["page"]] == [oldest.pk, middle.pk, newest.pk]


def test_a_demo_car_shows_its_test_drives(client, consultant, branch):
    drive = TestDriveFactory(branch=branch)
    client.force_login(consultant)
    page = client.get(reverse("sales:stock-detail", args=[drive.demo_vehicle_id])).content.decode()
    assert reverse("sales:test-drive-detail", args=[drive.pk]) in page
    assert drive.driver_name in page


# --- Permissions and branches -------------------------------------------------------------


def stock_urls(vehicle) -> list[tuple[str, str]]:
    return [
        ("get", reverse("sales:stock-detail", args=[vehicle.pk])),
        ("get", reverse("sales:stock-edit", args=[vehicle.pk])),
        ("post", reverse("sales:stock-arrive", args=[vehicle.pk])),
        ("post", reverse("sales:stock-pdi", args=[vehicle.pk])),
        ("post", reverse("sales:stock-demo", args=[vehicle.pk])),
    ]


def test_a_role_without_stock_permissions_is_refused(client, parts_clerk, vehicle):
    client.force_login(parts_clerk)
    assert client.get(reverse("sales:stock-list")).status_code == 403
    assert client.get(reverse("sales:stock-create")).status_code == 403
    for method, url in stock_urls(vehicle):
        assert getattr(client, method)(url).status_code == 403, url


def test_a_consultant_may_not_add_or_change_stock(client, consultant, vehicle):
    client.force_login(consultant)
    assert client.post(reverse("sales:stock-create"), NEW_VEHICLE).status_code == 403
    assert client.get(reverse("sales:stock-edit", args=[vehicle.pk])).status_code == 403
    assert client.post(reverse("sales:stock-demo", args=[vehicle.pk])).status_code == 403
    assert not StockVehicle.objects.filter(series="帕萨特").exists()


def test_another_branch_vehicle_is_not_found(client, other_branch, vehicle):
    manager = UserFactory(roles=[Role.SALES_MANAGER], branches=[other_branch])
    client.force_login(manager)
    for method, url in stock_urls(vehicle):
        assert getattr(client, method)(url).status_code == 404, url
    assert list(client.get(reverse("sales:stock-list")).context["page"]) == []


def test_another_branch_consultant_gets_404_on_the_vehicle(client, other_branch_user, vehicle):
    client.force_login(other_branch_user)
    assert client.get(reverse("sales:stock-detail", args=[vehicle.pk])).status_code == 404


# --- Writes -------------------------------------------------------------------------------


def test_manager_adds_a_vehicle_in_transit(client, sales_manager, branch):
    client.force_login(sales_manager)
    response = client.post(reverse("sales:stock-create"), NEW_VEHICLE)
    vehicle = StockVehicle.objects.get()
    assert response.url == reverse("sales:stock-detail", args=[vehicle.pk])
    assert vehicle.vin == vin(4711)
    assert (vehicle.branch, vehicle.status, vehicle.arrival_date) == (
        branch, StockStatus.IN_TRANSIT, None
    )  # fmt: skip
    assert vehicle.list_price == Decimal("219900.00")


def test_a_vehicle_in_stock_without_a_date_arrived_today(client, sales_manager):
    client.force_login(sales_manager)
    client.post(reverse("sales:stock-create"), {**NEW_VEHICLE, "status": StockStatus.IN_STOCK})
    assert StockVehicle.objects.get().arrival_date == TODAY()


def test_a_known_vin_is_refused_beside_the_vin(client, sales_manager, vehicle):
    client.force_login(sales_manager)
    response = client.post(reverse("sales:stock-create"), {**NEW_VEHICLE, "vin": vehicle.vin})
    assert response.status_code == 200
    assert "already exists" in " ".join(response.context["form"].errors["vin"])
    assert StockVehicle.objects.count() == 1


def test_a_vin_with_a_wrong_check_digit_is_refused(client, sales_manager):
    client.force_login(sales_manager)
    good = vin(4711)
    bad = good[:8] + ("1" if good[8] != "1" else "2") + good[9:]
    response = client.post(reverse("sales:stock-create"), {**NEW_VEHICLE, "vin": bad})
    assert response.context["form"].errors["vin"]
    assert not StockVehicle.objects.exists()


def test_a_sold_status_cannot_be_chosen_for_a_new_vehicle(client, sales_manager):
    client.force_login(sales_manager)
    response = client.post(
        reverse("sales:stock-create"), {**NEW_VEHICLE, "status": StockStatus.SOLD}
    )
    assert response.context["form"].errors["status"]
    assert not StockVehicle.objects.exists()


def test_manager_edits_the_model_details(client, sales_manager, vehicle):
    client.force_login(sales_manager)
    response = client.post(
        reverse("sales:stock-edit", args=[vehicle.pk]),
        {"brand": "大众", "series": "朗逸", "configuration": "1.5L 自动舒适版",
         "colour": "星光蓝", "model_year": "2026", "list_price": "118900"},
    )  # fmt: skip
    assert response.status_code == 302
    vehicle.refresh_from_db()
    assert (vehicle.colour, vehicle.list_price) == ("星光蓝", Decimal("118900.00"))


def test_a_vehicle_in_transit_is_marked_arrived(client, sales_manager, in_transit):
    client.force_login(sales_manager)
    response = client.post(
        reverse("sales:stock-arrive", args=[in_transit.pk]),
        {"arrival_date": TODAY().isoformat()},
    )
    assert response.status_code == 302
    in_transit.refresh_from_db()
    assert (in_transit.status, in_transit.arrival_date) == (StockStatus.IN_STOCK, TODAY())


def test_an_arrival_in_the_future_is_shown_beside_the_date(client, sales_manager, in_transit):
    client.force_login(sales_manager)
    response = client.post(
        reverse("sales:stock-arrive", args=[in_transit.pk]),
        {"arrival_date": (TODAY() + timedelta(days=2)).isoformat()},
    )
    assert response.status_code == 200
    assert response.context["arrive_form"].errors["arrival_date"]
    in_transit.refresh_from_db()
    assert in_transit.arrival_date is None


def test_technician_records_the_pdi(client, technician, vehicle):
    client.force_login(technician)
    response = client.post(
        reverse("sales:stock-pdi", args=[vehicle.pk]),
        {"done_on": TODAY().isoformat(), "note": "左后门漆面轻微划痕，已处理"},
    )
    assert response.status_code == 302
    vehicle.refresh_from_db()
    assert (vehicle.pdi_done_on, vehicle.pdi_by) == (TODAY(), technician)
    assert vehicle.pdi_note == "左后门漆面轻微划痕，已处理"


def test_a_pdi_before_arrival_is_refused(client, technician, in_transit):
    client.force_login(technician)
    response = client.post(
        reverse("sales:stock-pdi", args=[in_transit.pk]), {"done_on": TODAY().isoformat()}
    )
    assert "has not arrived" in follow(client, response).content.decode()
    in_transit.refresh_from_db()
    assert in_transit.pdi_done_on is None


def test_a_pdi_dated_before_the_arrival_is_shown_beside_the_date(client, technician, branch):
    vehicle = arrived_days_ago(branch, 3)
    client.force_login(technician)
    response = client.post(
        reverse("sales:stock-pdi", args=[vehicle.pk]),
        {"done_on": (TODAY() - timedelta(days=5)).isoformat()},
    )
    assert response.status_code == 200
    assert response.context["pdi_form"].errors["done_on"]
    vehicle.refresh_from_db()
    assert vehicle.pdi_done_on is None


def test_a_vehicle_becomes_a_demo_car_and_back(client, sales_manager, vehicle):
    client.force_login(sales_manager)
    client.post(reverse("sales:stock-demo", args=[vehicle.pk]), {"demo": "1"})
    vehicle.refresh_from_db()
    assert vehicle.status == StockStatus.DEMO
    client.post(reverse("sales:stock-demo", args=[vehicle.pk]), {"demo": "0"})
    vehicle.refresh_from_db()
    assert vehicle.status == StockStatus.IN_STOCK


def test_a_booked_demo_car_stays_a_demo_car(client, sales_manager, branch):
    drive = TestDriveFactory(branch=branch)
    client.force_login(sales_manager)
    response = client.post(reverse("sales:stock-demo", args=[drive.demo_vehicle_id]), {"demo": "0"})
    assert "cancel them first" in follow(client, response).content.decode()
    drive.demo_vehicle.refresh_from_db()
    assert drive.demo_vehicle.status == StockStatus.DEMO


# --- List ---------------------------------------------------------------------------------


def test_stock_list_queries_do_not_grow_with_the_rows(
    client, sales_manager, branch, django_assert_max_num_queries
):
    client.force_login(sales_manager)

    def queries() -> int:
        with django_assert_max_num_queries(20) as captured:
            assert client.get(reverse("sales:stock-list")).status_code == 200
        return len(captured)

    OrderFactory(branch=branch, status=OrderStatus.ALLOCATED)
    one = queries()
    for days in range(19):
        if days % 2:
            OrderFactory(branch=branch, status=OrderStatus.ALLOCATED)
        else:
            arrived_days_ago(branch, days * 7)
    assert queries() == one


@pytest.mark.parametrize(
    "params",
    [
        {"min_days_in_stock": "abc"},
        {"status": "bogus", "page": "x", "sort": "-nonsense", "size": "7"},
        {"brand": "x" * 500, "search": "%%%"},
    ],
)
def test_bad_list_parameters_never_fail(client, consultant, vehicle, params):
    client.force_login(consultant)
    assert client.get(reverse("sales:stock-list"), params).status_code == 200
