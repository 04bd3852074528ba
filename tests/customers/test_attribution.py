"""Changes made by services outside a request (jobs, imports, commands) name who made them, and
a vehicle without dates is not guessed to be out of warranty."""

from datetime import date

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from customers import services
from customers.choices import VehicleAgeSegment
from customers.models import Vehicle
from dealer_crm.models import display_name
from tests.factories import CustomerFactory, VehicleFactory
from tests.factories.customers import vin

pytestmark = pytest.mark.django_db


def test_service_change_outside_a_request_is_attributed_to_the_acting_user(consultant, branch):
    # given no request (as in an import or a job)
    # when a consultant's customer and vehicle are created through the services
    customer = services.customer_create(
        branch=branch, by=consultant, data={"name": "赵立新", "mobile": "13600001234"}
    )
    vehicle = services.vehicle_add(owner=customer, by=consultant, data={"vin": vin(41)})
    # then each history record names the consultant, not "system"
    assert customer.history.latest().history_user == consultant
    assert vehicle.history.latest().history_user == consultant
    assert vehicle.ownerships.get().history.latest().history_user == consultant


def test_merge_history_names_the_manager_and_the_reason(branch_manager, branch):
    keep, duplicate = CustomerFactory(branch=branch), CustomerFactory(branch=branch)
    services.customer_merge(keep=keep, duplicate=duplicate, by=branch_manager)
    record = duplicate.history.latest()
    assert record.history_user == branch_manager
    assert record.history_change_reason == f"merged into #{keep.pk}"


def test_vehicle_without_dates_has_unknown_age_segment(branch):
    # given a vehicle with no delivery, 三包 or warranty dates, and one delivered long ago
    undated = VehicleFactory(owner=CustomerFactory(branch=branch), delivery_date=None)
    old = VehicleFactory(
        owner=CustomerFactory(branch=branch),
        three_guarantees_end_date=date(2020, 1, 1),
        three_guarantees_end_km=50_000,
    )
    # when their segments are computed
    segments = dict(
        Vehicle.objects.with_age_segment(today=date(2026, 11, 1)).values_list("pk", "age_segment")
    )
    # then the undated one is unknown, the old one out of warranty
    assert segments[undated.pk] == VehicleAgeSegment.UNKNOWN
    assert segments[old.pk] == VehicleAgeSegment.OUT_OF_WARRANTY


@pytest.mark.parametrize(
    ("first", "last", "shown"),
    [
        ("嘉豪", "陈", "陈嘉豪"),
        ("Jiahao", "Chen", "Jiahao Chen"),
        ("", "", "jchen"),
    ],
)
def test_staff_names_read_as_colleagues_write_them(first, last, shown):
    user = User(username="jchen", first_name=first, last_name=last)
    assert display_name(user) == shown


def test_edit_on_the_timeline_reads_in_the_readers_language(consultant, branch):
    # given a customer whose postcode a consultant edited (in whatever language)
    customer = services.customer_create(branch=branch, by=consultant, data={"name": "孙丽华"})
    services.customer_update(customer=customer, by=consultant, data={"postcode": "510620"})
    entry = customer.timeline.get(kind="customer_edited")
    # when readers in each language see the entry
    # then each reads the field's label in their own language
    with translation.override("en"):
        assert entry.detail_shown == "postcode"
    with translation.override("zh-hans"):
        assert entry.detail_shown == "邮编"
