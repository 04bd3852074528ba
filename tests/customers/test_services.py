"""Customer and vehicle services: every rule of DOMAIN §1 they enforce."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from customers import selectors, services, timeline
from customers.choices import VehicleAgeSegment
from customers.filters import CustomerFilter
from customers.models import Customer, TimelineEntry, Vehicle, VehicleOwnership
from customers.validators import credit_code_check_char, resident_id_check_digit
from dealer_crm.errors import DomainError
from tests.factories import (
    BranchFactory,
    ContactFactory,
    CustomerFactory,
    VehicleFactory,
    vin,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def english():
    """Messages and field labels asserted here are the English ones."""
    with translation.override("en"):
        yield


def resident_id(first17: str = "44010619850612123") -> str:
    """A resident ID of someone born 1985-06-12 in Tianhe, with its real check digit."""
    return first17 + resident_id_check_digit(first17)


def credit_code(first17: str = "91440101MA5CQ8T21") -> str:
    """A Guangzhou company's unified social credit code with its real check character."""
    return first17 + credit_code_check_char(first17)


def complete_person(**overrides) -> dict:
    """Every master-data item of a person that lives on the customer row."""
    return {
        "name": "黄志强",
        "gender": "male",
        "mobile": "13926001234",
        "category": "individual",
        "evaluation": "a",
        "province": "广东省",
        "city": "广州市",
        "district": "天河区",
        "street": "体育西路191号",
        "postcode": "510620",
        **overrides,
    }


def complete_vehicle(**overrides) -> dict:
    return {
        "vin": vin(424242),
        "plate": "粤A8M2Q6",
        "brand": "大众",
        "series": "帕萨特",
        "model_code": "SVW7207",
        "colour": "黑色",
        "delivery_date": date(2023, 3, 18),
        **overrides,
    }


def refusal(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


# --- duplicates -----------------------------------------------------------------------


def test_same_mobile_is_refused_as_possible_duplicate(consultant, branch):
    # given a customer with a mobile phone
    existing = CustomerFactory(branch=branch, mobile="13926001234")
    # when another customer is created with the same number typed with +86 and spaces
    error = refusal(
        lambda: services.customer_create(
            branch=branch, by=consultant, data={"name": "黄志强", "mobile": "+86 139 2600 1234"}
        )
    )
    # then it is refused as a possible duplicate naming the existing record, and nothing saved
    assert error.code == "possible_duplicate"
    assert error.extra["duplicates"] == [{"id": existing.pk, "name": existing.name}]
    assert Customer.objects.count() == 1


def test_same_mobile_is_accepted_when_confirmed_as_a_different_customer(consultant, branch):
    # given a customer with a mobile phone (a family shares it)
    CustomerFactory(branch=branch, mobile="13926001234")
    # when another customer with the same number is created with confirm_duplicate
    customer = services.customer_create(
        branch=branch,
        by=consultant,
        data={"name": "黄晓丽", "mobile": "13926001234"},
        confirm_duplicate=True,
    )
    # then it is saved
    assert customer.pk and Customer.objects.filter(mobile="13926001234").count() == 2


def test_mobile_of_a_contact_counts_as_possible_duplicate(consultant, branch):
    # given an organization whose contact has a mobile phone
    contact = ContactFactory(customer__branch=branch, mobile="13512345678")
    # when a person with that number is created
    error = refusal(
        lambda: services.customer_create(
            branch=branch, by=consultant, data={"name": "吴建华", "mobile": "13512345678"}
        )
    )
    # then the organization is offered as the possible duplicate
    assert error.code == "possible_duplicate"
    assert error.extra["duplicates"][0]["id"] == contact.customer_id


def test_merged_customer_is_not_a_duplicate(consultant, branch):
    # given a customer that was merged into another
    keep = CustomerFactory(branch=branch)
    CustomerFactory(branch=branch, mobile="13926001234", merged_into=keep)
    # when a customer with the merged record's number is created
    customer = services.customer_create(
        branch=branch, by=consultant, data={"name": "黄志强", "mobile": "13926001234"}
    )
    # then it is saved: only active records are duplicates
    assert customer.pk


def test_same_id_number_is_refused_even_when_confirmed(consultant, branch):
    # given a customer with a resident ID number
    existing = CustomerFactory(branch=branch, id_number=resident_id())
    # when another customer is created with the same ID number, confirming the duplicate
    error = refusal(
        lambda: services.customer_create(
            branch=branch,
            by=consultant,
            data={"name": "黄志强", "mobile": "13800138000", "id_number": resident_id()},
            confirm_duplicate=True,
        )
    )
    # then it is refused as the same customer, listing the existing id
    assert error.code == "duplicate_customer"
    assert [d["id"] for d in error.extra["duplicates"]] == [existing.pk]
    assert Customer.objects.count() == 1


def test_same_credit_code_is_refused_listing_the_existing_customer(consultant, branch):
    # given an organization with a credit code
    existing = CustomerFactory(
        branch=branch,
        kind="organization",
        name="广州市天河区顺达物流有限公司",
        credit_code=credit_code(),
    )
    # when another organization is created with the same code in lower case
    error = refusal(
        lambda: services.customer_create(
            branch=branch,
            by=consultant,
            data={"kind": "organization", "name": "顺达物流", "credit_code": credit_code().lower()},
        )
    )
    # then it is refused as the same customer
    assert error.code == "duplicate_customer"
    assert error.extra["duplicates"][0]["id"] == existing.pk


def test_id_number_of_another_branch_customer_is_refused_without_naming_them(
    consultant, branch, other_branch
):
    # given a customer of another branch with a resident ID number
    CustomerFactory(branch=other_branch, id_number=resident_id())
    # when the consultant creates a customer with the same number
    with pytest.raises(ValidationError) as caught:
        services.customer_create(
            branch=branch, by=consultant, data={"name": "黄志强", "id_number": resident_id()}
        )
    # then the unique rule refuses it, and nothing is saved
    assert "ID number" in str(caught.value)
    assert not Customer.objects.filter(branch=branch).exists()


def test_same_vin_is_refused_naming_the_owner(consultant, branch):
    # given a vehicle of a customer the consultant can see
    existing = VehicleFactory(owner__branch=branch, owner__name="郑国栋")
    newcomer = CustomerFactory(branch=branch)
    # when the same VIN is added to another customer
    error = refusal(
        lambda: services.vehicle_add(
            owner=newcomer, by=consultant, data={"vin": existing.vin.lower()}
        )
    )
    # then it is refused naming the owner and the vehicle
    assert error.code == "duplicate_vehicle"
    assert "郑国栋" in str(error.message)
    assert error.extra["duplicates"] == [
        {"id": existing.owner_id, "name": "郑国栋", "vehicle": existing.pk}
    ]


def test_same_vin_in_another_branch_is_refused_without_naming_the_owner(
    consultant, branch, other_branch
):
    # given a vehicle of a customer in another branch
    existing = VehicleFactory(owner__branch=other_branch, owner__name="郑国栋")
    newcomer = CustomerFactory(branch=branch)
    # when the consultant adds the same VIN
    error = refusal(
        lambda: services.vehicle_add(owner=newcomer, by=consultant, data={"vin": existing.vin})
    )
    # then it is refused, but the other branch's customer stays hidden
    assert error.code == "duplicate_vehicle"
    assert "郑国栋" not in str(error.message)
    assert error.extra == {}
    assert not newcomer.vehicles.exists()


def test_changing_a_vin_to_one_already_registered_is_refused(consultant, branch):
    # given two vehicles
    first, second = VehicleFactory.create_batch(2, owner__branch=branch)
    # when the second's VIN is changed to the first's
    error = refusal(
        lambda: services.vehicle_update(vehicle=second, by=consultant, data={"vin": first.vin})
    )
    # then it is refused as a duplicate
    assert error.code == "duplicate_vehicle"


# --- merge ----------------------------------------------------------------------------


@pytest.fixture
def merge_pair(consultant, branch):
    """A kept customer with gaps, and a duplicate holding a vehicle, a contact and history."""
    keep = services.customer_create(
        branch=branch, by=consultant, data={"name": "黄志强", "mobile": "13926001234"}
    )
    duplicate = services.customer_create(
        branch=branch,
        by=consultant,
        data={
            "name": "黄志强",
            "mobile": "13926001234",
            "id_number": resident_id(),
            "postcode": "510620",
            "street": "体育西路191号",
            "tags": ["车友会"],
        },
        confirm_duplicate=True,
    )
    vehicle = services.vehicle_add(owner=duplicate, by=consultant, data=complete_vehicle())
    contact = ContactFactory(customer=duplicate, name="黄晓丽")
    return keep, duplicate, vehicle, contact


def test_merge_moves_vehicles_contacts_ownerships_and_timeline(sales_manager, merge_pair):
    # given a duplicate with a vehicle (and its ownership), a contact and timeline entries
    keep, duplicate, vehicle, contact = merge_pair
    duplicate_entries = set(duplicate.timeline.values_list("pk", flat=True))
    # when it is merged into the kept customer
    services.customer_merge(keep=keep, duplicate=duplicate, by=sales_manager)
    # then everything it had now belongs to the kept customer
    vehicle.refresh_from_db()
    contact.refresh_from_db()
    assert vehicle.owner == keep
    assert contact.customer == keep
    assert VehicleOwnership.objects.get(vehicle=vehicle).customer == keep
    assert duplicate_entries <= set(keep.timeline.values_list("pk", flat=True))
    assert not duplicate.timeline.exists()


def test_merge_fills_blank_fields_and_leaves_a_tombstone(sales_manager, merge_pair):
    # given a kept customer without ID number, street or postcode
    keep, duplicate, _vehicle, _contact = merge_pair
    # when the duplicate is merged into it
    kept = services.customer_merge(keep=keep, duplicate=duplicate, by=sales_manager)
    # then the blanks are filled from the duplicate, which points at the kept record
    kept.refresh_from_db()
    duplicate.refresh_from_db()
    assert (kept.id_number, kept.street, kept.postcode) == (
        resident_id(),
        "体育西路191号",
        "510620",
    )
    assert kept.tags == ["车友会"]
    assert duplicate.merged_into == kept
    assert kept.timeline.filter(kind=timeline.CUSTOMERS_MERGED).exists()


def test_merge_keeps_values_the_kept_customer_already_has(sales_manager, consultant, branch):
    # given both records have a city
    keep = CustomerFactory(branch=branch, city="广州市")
    duplicate = CustomerFactory(branch=branch, city="佛山市")
    # when they are merged
    kept = services.customer_merge(keep=keep, duplicate=duplicate, by=sales_manager)
    # then the kept record's value wins
    assert kept.city == "广州市"


def test_merge_is_recorded_in_the_history_of_both(sales_manager, merge_pair):
    # given a duplicate pair
    keep, duplicate, _vehicle, _contact = merge_pair
    # when they are merged
    services.customer_merge(keep=keep, duplicate=duplicate, by=sales_manager)
    # then each customer's latest history record says so
    assert keep.history.first().history_change_reason == f"merged #{duplicate.pk}"
    assert duplicate.history.first().history_change_reason == f"merged into #{keep.pk}"
    assert duplicate.history.first().merged_into_id == keep.pk


def test_merge_writes_history_for_the_moved_vehicle(sales_manager, merge_pair):
    # given a duplicate owning a vehicle
    keep, duplicate, vehicle, _contact = merge_pair
    # when they are merged
    services.customer_merge(keep=keep, duplicate=duplicate, by=sales_manager)
    # then the vehicle's history shows the new owner and who moved it
    latest = vehicle.history.first()
    assert latest.owner_id == keep.pk
    assert latest.history_user == sales_manager


def test_merge_with_itself_is_refused(sales_manager, branch):
    # given a customer
    customer = CustomerFactory(branch=branch)
    # when it is merged with itself
    error = refusal(
        lambda: services.customer_merge(keep=customer, duplicate=customer, by=sales_manager)
    )
    # then it is refused
    assert error.code == "merge_same_customer"


def test_merge_with_an_already_merged_customer_is_refused(sales_manager, branch):
    # given a customer already merged into a third one
    keep, third = CustomerFactory.create_batch(2, branch=branch)
    merged = CustomerFactory(branch=branch, merged_into=third)
    # when it is merged again
    error = refusal(lambda: services.customer_merge(keep=keep, duplicate=merged, by=sales_manager))
    # then it is refused and stays merged into the third
    assert error.code == "customer_merged"
    merged.refresh_from_db()
    assert merged.merged_into == third


def test_person_and_organization_cannot_be_merged(sales_manager, branch):
    # given a person and an organization
    person = CustomerFactory(branch=branch)
    company = CustomerFactory(branch=branch, kind="organization", name="顺达物流有限公司")
    # when they are merged
    error = refusal(
        lambda: services.customer_merge(keep=person, duplicate=company, by=sales_manager)
    )
    # then it is refused
    assert error.code == "merge_kind_mismatch"


# --- customers: edit and delete -------------------------------------------------------


def test_edit_adds_a_timeline_entry_naming_the_changed_fields(consultant, branch):
    # given a customer
    customer = services.customer_create(branch=branch, by=consultant, data=complete_person())
    # when the city is changed, then the same value is saved again
    services.customer_update(customer=customer, by=consultant, data={"city": "佛山市"})
    services.customer_update(customer=customer, by=consultant, data={"city": "佛山市"})
    # then one edit entry names the city
    edits = customer.timeline.filter(kind=timeline.CUSTOMER_EDITED)
    assert list(edits.values_list("detail", flat=True)) == ["city"]


def test_merged_customer_cannot_be_edited(consultant, branch):
    # given a merged customer
    merged = CustomerFactory(branch=branch, merged_into=CustomerFactory(branch=branch))
    # when it is edited
    error = refusal(
        lambda: services.customer_update(customer=merged, by=consultant, data={"city": "佛山市"})
    )
    # then it is refused
    assert error.code == "customer_merged"


def test_customer_with_vehicles_cannot_be_deleted(branch_manager, branch):
    # given a customer owning a vehicle
    vehicle = VehicleFactory(owner__branch=branch)
    # when the customer is deleted
    error = refusal(lambda: services.customer_delete(customer=vehicle.owner, by=branch_manager))
    # then it is refused and the customer stays
    assert error.code == "customer_has_vehicles"
    assert Customer.objects.filter(pk=vehicle.owner_id).exists()


def test_placeholder_name_is_refused_and_nothing_saved(consultant, branch):
    # given a consultant typing a form of address instead of a name
    # when the customer is created
    with pytest.raises(ValidationError) as caught:
        services.customer_create(
            branch=branch, by=consultant, data={"name": "王先生", "mobile": "13926001234"}
        )
    # then the name field is refused and no customer exists
    assert "name" in caught.value.message_dict
    assert not Customer.objects.exists()


def test_marketing_consent_needs_date_and_channel(consultant, branch):
    # given a customer marked as consenting without saying when or how
    # when it is created
    with pytest.raises(ValidationError) as caught:
        services.customer_create(
            branch=branch,
            by=consultant,
            data={"name": "黄志强", "mobile": "13926001234", "marketing_consent": True},
        )
    # then the consent date is asked for
    assert "consent_date" in caught.value.message_dict


# --- contacts -------------------------------------------------------------------------


def test_new_primary_contact_replaces_the_old_primary(consultant, branch):
    # given an organization with a primary contact
    company = CustomerFactory(branch=branch, kind="organization", name="顺达物流有限公司")
    old = ContactFactory(customer=company, is_primary=True)
    # when another contact is saved as primary
    new = services.contact_save(
        customer=company,
        by=consultant,
        data={"name": "林雪梅", "mobile": "13612345678", "is_primary": True},
    )
    # then only the new one is primary
    old.refresh_from_db()
    assert new.is_primary and not old.is_primary


def test_contact_needs_a_phone(consultant, branch):
    # given an organization
    company = CustomerFactory(branch=branch, kind="organization", name="顺达物流有限公司")
    # when a contact without any phone is saved
    with pytest.raises(ValidationError) as caught:
        services.contact_save(customer=company, by=consultant, data={"name": "林雪梅"})
    # then the mobile field asks for a number
    assert "mobile" in caught.value.message_dict


# --- odometer -------------------------------------------------------------------------


@pytest.fixture
def vehicle_at_30000(consultant, branch):
    vehicle = VehicleFactory(owner__branch=branch)
    services.odometer_record(
        vehicle=vehicle, km=30_000, read_on=TODAY - timedelta(days=30), by=consultant
    )
    return vehicle


def test_lower_reading_is_refused(consultant, vehicle_at_30000):
    # given a vehicle last read at 30,000 km
    # when a lower reading is recorded
    error = refusal(
        lambda: services.odometer_record(
            vehicle=vehicle_at_30000, km=29_000, read_on=TODAY, by=consultant
        )
    )
    # then it is refused beside the km field, and the odometer stays
    assert error.code == "odometer_lower_than_last"
    assert error.field == "km"
    vehicle_at_30000.refresh_from_db()
    assert vehicle_at_30000.odometer_km == 30_000
    assert vehicle_at_30000.odometer_readings.count() == 1


def test_lower_reading_is_accepted_as_an_odometer_replacement(consultant, vehicle_at_30000):
    # given a vehicle last read at 30,000 km whose instrument was replaced
    # when a reading of 120 km is recorded flagged as a replacement
    reading = services.odometer_record(
        vehicle=vehicle_at_30000, km=120, read_on=TODAY, by=consultant, is_replacement=True
    )
    # then it is kept and the vehicle's odometer follows it
    vehicle_at_30000.refresh_from_db()
    assert reading.is_replacement
    assert vehicle_at_30000.odometer_km == 120


def test_higher_reading_updates_the_vehicle(consultant, vehicle_at_30000):
    # given a vehicle last read at 30,000 km
    # when 31,500 km is recorded
    reading = services.odometer_record(
        vehicle=vehicle_at_30000, km=31_500, read_on=TODAY, by=consultant
    )
    # then the vehicle's odometer follows and the reading names who recorded it
    vehicle_at_30000.refresh_from_db()
    assert vehicle_at_30000.odometer_km == 31_500
    assert reading.recorded_by == consultant


def test_reading_in_the_future_is_refused(consultant, vehicle_at_30000):
    # given a vehicle
    # when a reading dated tomorrow is recorded
    error = refusal(
        lambda: services.odometer_record(
            vehicle=vehicle_at_30000, km=31_000, read_on=TODAY + timedelta(days=1), by=consultant
        )
    )
    # then it is refused
    assert error.code == "odometer_future_date"


def test_reading_dated_before_the_last_one_is_refused(consultant, vehicle_at_30000):
    # given a vehicle last read 30 days ago
    # when a reading dated 60 days ago is recorded
    error = refusal(
        lambda: services.odometer_record(
            vehicle=vehicle_at_30000, km=31_000, read_on=TODAY - timedelta(days=60), by=consultant
        )
    )
    # then it is refused as out of order
    assert error.code == "odometer_out_of_order"


def test_first_reading_comes_with_the_new_vehicle(consultant, branch):
    # given a customer
    owner = CustomerFactory(branch=branch)
    # when a vehicle is added with its odometer at 8,800 km
    vehicle = services.vehicle_add(
        owner=owner, by=consultant, data=complete_vehicle(odometer_km=8_800)
    )
    # then a first reading exists and the vehicle shows it
    assert vehicle.odometer_km == 8_800
    assert list(vehicle.odometer_readings.values_list("km", flat=True)) == [8_800]


def test_vehicle_edit_does_not_change_the_odometer(consultant, vehicle_at_30000):
    # given a vehicle last read at 30,000 km
    # when its edit form sends another odometer value
    services.vehicle_update(
        vehicle=vehicle_at_30000, by=consultant, data={"odometer_km": 10, "colour": "红色"}
    )
    # then readings change only through odometer_record
    vehicle_at_30000.refresh_from_db()
    assert vehicle_at_30000.odometer_km == 30_000
    assert vehicle_at_30000.colour == "红色"


# --- transfer -------------------------------------------------------------------------


@pytest.fixture
def owned_vehicle(consultant, branch):
    owner = CustomerFactory(branch=branch, name="郑国栋")
    return services.vehicle_add(
        owner=owner, by=consultant, data=complete_vehicle(delivery_date=date(2022, 5, 1))
    )


def test_transfer_closes_the_ownership_and_opens_a_new_one(advisor, owned_vehicle, branch):
    # given a vehicle owned since its delivery
    previous = owned_vehicle.owner
    buyer = CustomerFactory(branch=branch, name="林雪梅")
    # when it is transferred to a new owner
    services.vehicle_transfer(
        vehicle=owned_vehicle,
        new_owner=buyer,
        transferred_on=date(2024, 8, 8),
        by=advisor,
        reason="二手车过户",
    )
    # then the old ownership ends that day and the new owner's begins
    owned_vehicle.refresh_from_db()
    assert owned_vehicle.owner == buyer
    ownerships = list(
        owned_vehicle.ownerships.order_by("started_on").values_list(
            "customer_id", "started_on", "ended_on"
        )
    )
    assert ownerships == [
        (previous.pk, date(2022, 5, 1), date(2024, 8, 8)),
        (buyer.pk, date(2024, 8, 8), None),
    ]


def test_transfer_adds_a_timeline_entry_to_both_customers(advisor, owned_vehicle, branch):
    # given a vehicle and a buyer
    previous = owned_vehicle.owner
    buyer = CustomerFactory(branch=branch, name="林雪梅")
    # when it is transferred
    services.vehicle_transfer(
        vehicle=owned_vehicle, new_owner=buyer, transferred_on=TODAY, by=advisor
    )
    # then both timelines show the ownership change
    for customer in (previous, buyer):
        entry = customer.timeline.get(kind=timeline.OWNERSHIP_CHANGED)
        assert "郑国栋 → 林雪梅" in entry.detail
        assert entry.actor == advisor


def test_transfer_to_the_current_owner_is_refused(advisor, owned_vehicle):
    # given a vehicle
    # when it is transferred to its own owner
    error = refusal(
        lambda: services.vehicle_transfer(
            vehicle=owned_vehicle, new_owner=owned_vehicle.owner, transferred_on=TODAY, by=advisor
        )
    )
    # then it is refused
    assert error.code == "transfer_same_owner"


def test_transfer_dated_before_the_current_ownership_is_refused(advisor, owned_vehicle, branch):
    # given a vehicle owned since 2022-05-01
    buyer = CustomerFactory(branch=branch)
    # when a transfer dated 2021 is recorded
    error = refusal(
        lambda: services.vehicle_transfer(
            vehicle=owned_vehicle, new_owner=buyer, transferred_on=date(2021, 12, 31), by=advisor
        )
    )
    # then it is refused and the owner is unchanged
    assert error.code == "transfer_before_ownership"
    owned_vehicle.refresh_from_db()
    assert owned_vehicle.owner != buyer
    assert owned_vehicle.ownerships.count() == 1


def test_transfer_in_the_future_is_refused(advisor, owned_vehicle, branch):
    # given a vehicle and a buyer
    buyer = CustomerFactory(branch=branch)
    # when the transfer is dated next week
    error = refusal(
        lambda: services.vehicle_transfer(
            vehicle=owned_vehicle,
            new_owner=buyer,
            transferred_on=TODAY + timedelta(days=7),
            by=advisor,
        )
    )
    # then it is refused
    assert error.code == "transfer_future_date"


def test_transfer_to_a_merged_customer_is_refused(advisor, owned_vehicle, branch):
    # given a customer that was merged into another
    merged = CustomerFactory(branch=branch, merged_into=CustomerFactory(branch=branch))
    # when the vehicle is transferred to it
    error = refusal(
        lambda: services.vehicle_transfer(
            vehicle=owned_vehicle, new_owner=merged, transferred_on=TODAY, by=advisor
        )
    )
    # then it is refused
    assert error.code == "customer_merged"


# --- what a VIN fills, 三包 and the vehicle-age segment --------------------------------


def test_vin_fills_manufacturer_and_model_year(consultant, branch):
    # given a FAW-Volkswagen VIN with model-year code P
    faw_vin = vin(1, prefix="LFV2A21K", year_code="P")
    # when the vehicle is added without manufacturer or model year
    vehicle = services.vehicle_add(
        owner=CustomerFactory(branch=branch), by=consultant, data={"vin": faw_vin}
    )
    # then both are filled from the VIN
    assert vehicle.manufacturer == "FAW-Volkswagen"
    assert vehicle.model_year == 2023


def test_vin_does_not_overwrite_what_was_typed(consultant, branch):
    # given a VIN and a manufacturer typed by the user
    # when the vehicle is added
    vehicle = services.vehicle_add(
        owner=CustomerFactory(branch=branch),
        by=consultant,
        data={"vin": vin(2), "manufacturer": "上汽大众", "model_year": 2020},
    )
    # then the typed values stay
    assert (vehicle.manufacturer, vehicle.model_year) == ("上汽大众", 2020)


def test_invalid_vin_is_refused(consultant, branch):
    # given a VIN whose check digit is wrong
    good = vin(3)
    bad = good[:8] + ("0" if good[8] != "0" else "1") + good[9:]
    # when the vehicle is added
    with pytest.raises(ValidationError) as caught:
        services.vehicle_add(owner=CustomerFactory(branch=branch), by=consultant, data={"vin": bad})
    # then the VIN field is refused and nothing is saved
    assert "vin" in caught.value.message_dict
    assert not Vehicle.objects.exists()


def test_three_guarantees_period_defaults_to_24_months_and_50000_km(consultant, branch):
    # given a branch with the default 三包 period
    # when a vehicle delivered on 2024-05-10 is added
    vehicle = services.vehicle_add(
        owner=CustomerFactory(branch=branch),
        by=consultant,
        data={"vin": vin(4), "delivery_date": date(2024, 5, 10)},
    )
    # then its 三包 period ends two years later or at 50,000 km
    assert vehicle.three_guarantees_end_date == date(2026, 5, 10)
    assert vehicle.three_guarantees_end_km == 50_000


def test_three_guarantees_period_follows_the_branch_setting(consultant, dealer_group):
    # given a branch whose 三包 period is 36 months
    long_branch = BranchFactory(group=dealer_group, three_guarantees_months=36)
    # when a vehicle delivered on 2024-05-10 is added there
    vehicle = services.vehicle_add(
        owner=CustomerFactory(branch=long_branch),
        by=consultant,
        data={"vin": vin(5), "delivery_date": date(2024, 5, 10)},
    )
    # then its 三包 period ends 36 months later
    assert vehicle.three_guarantees_end_date == date(2027, 5, 10)


def test_vehicle_without_delivery_date_has_no_three_guarantees_period(consultant, branch):
    # given a vehicle not yet delivered
    # when it is added
    vehicle = services.vehicle_add(
        owner=CustomerFactory(branch=branch), by=consultant, data={"vin": vin(6)}
    )
    # then no 三包 period is set
    assert vehicle.three_guarantees_end_date is None


SEGMENT_DAY = date(2026, 1, 15)


@pytest.mark.parametrize(
    ("three_guarantees_end", "warranty_end", "odometer_km", "segment"),
    [
        pytest.param(
            date(2026, 6, 1),
            date(2028, 6, 1),
            20_000,
            VehicleAgeSegment.THREE_GUARANTEES,
            id="within 三包 by date and km",
        ),
        pytest.param(
            date(2025, 6, 1),
            date(2028, 6, 1),
            20_000,
            VehicleAgeSegment.WARRANTY,
            id="三包 over by date",
        ),
        pytest.param(
            date(2026, 6, 1),
            date(2028, 6, 1),
            50_001,
            VehicleAgeSegment.WARRANTY,
            id="三包 over by mileage",
        ),
        pytest.param(
            date(2024, 6, 1),
            date(2025, 6, 1),
            60_000,
            VehicleAgeSegment.OUT_OF_WARRANTY,
            id="warranty over by date",
        ),
        pytest.param(
            date(2026, 6, 1),
            date(2028, 6, 1),
            100_001,
            VehicleAgeSegment.OUT_OF_WARRANTY,
            id="warranty over by mileage",
        ),
    ],
)
def test_vehicle_age_segment_by_date_and_mileage(
    branch, three_guarantees_end, warranty_end, odometer_km, segment
):
    # given a vehicle with its 三包 and warranty ends (50,000 km / 100,000 km)
    vehicle = VehicleFactory(
        owner__branch=branch,
        three_guarantees_end_date=three_guarantees_end,
        three_guarantees_end_km=50_000,
        warranty_end_date=warranty_end,
        warranty_end_km=100_000,
        odometer_km=odometer_km,
    )
    # when its segment is computed on 2026-01-15
    annotated = Vehicle.objects.with_age_segment(today=SEGMENT_DAY).get(pk=vehicle.pk)
    # then whichever of date and mileage runs out first decides
    assert annotated.age_segment == segment


# --- completeness ---------------------------------------------------------------------


def test_fully_filled_customer_is_100_percent_complete(consultant, branch):
    # given a person with every master-data item and a vehicle with every vehicle item
    customer = services.customer_create(branch=branch, by=consultant, data=complete_person())
    # when the vehicle is added
    services.vehicle_add(owner=customer, by=consultant, data=complete_vehicle())
    # then the customer is complete and has no gaps
    customer.refresh_from_db()
    assert customer.completeness == 100
    assert selectors.customer_completeness_gaps(customer) == []


def test_missing_postcode_lowers_completeness_and_lists_the_customer(consultant, branch):
    # given a fully filled customer except for the postcode
    customer = services.customer_create(
        branch=branch, by=consultant, data=complete_person(postcode="")
    )
    services.vehicle_add(owner=customer, by=consultant, data=complete_vehicle())
    customer.refresh_from_db()
    # when completeness and the incomplete list are read
    incomplete = CustomerFilter({"incomplete": "true"}, queryset=Customer.objects.all()).qs
    # then one item of fifteen is missing, named, and the customer is listed
    assert selectors.customer_completeness_gaps(customer) == ["postcode"]
    assert customer.completeness == 93
    assert list(incomplete) == [customer]


def test_customer_without_vehicle_lacks_every_vehicle_item(consultant, branch):
    # given a person with every customer item but no vehicle
    customer = services.customer_create(branch=branch, by=consultant, data=complete_person())
    # when its gaps are read
    gaps = selectors.customer_completeness_gaps(customer)
    # then the five vehicle items are missing: 10 of 15 filled
    assert gaps == ["vin", "plate", "model_code", "series", "colour"]
    assert customer.completeness == 67


def test_organization_needs_a_contact_for_completeness(consultant, branch):
    # given an organization without contacts
    company = services.customer_create(
        branch=branch,
        by=consultant,
        data=complete_person(
            kind="organization", name="广州市顺达物流有限公司", credit_code=credit_code()
        ),
    )
    assert {"contact_name", "contact_phone"} <= set(selectors.customer_completeness_gaps(company))
    # when a contact with a phone is saved
    services.contact_save(
        customer=company, by=consultant, data={"name": "林雪梅", "mobile": "13612345678"}
    )
    # then the contact items are no longer missing and the score rises
    company.refresh_from_db()
    assert not {"contact_name", "contact_phone"} & set(
        selectors.customer_completeness_gaps(company)
    )
    assert company.completeness == 67


# --- timeline -------------------------------------------------------------------------


def test_timeline_refuses_an_unregistered_kind(branch):
    # given a customer
    customer = CustomerFactory(branch=branch)
    # when an entry of a kind nobody registered is added
    # then it is refused and nothing is written
    with pytest.raises(ValueError, match="Unregistered timeline kind"):
        services.timeline_add(customer=customer, kind="sales_lead_won")
    assert not TimelineEntry.objects.exists()


def test_registered_kind_appears_on_the_timeline(branch, consultant, monkeypatch):
    # given an app registered its kind of entry
    monkeypatch.setitem(timeline.TIMELINE_KINDS, "test_drive", timeline.TimelineKind("Test drive"))
    customer = CustomerFactory(branch=branch)
    vehicle = VehicleFactory(owner=customer)
    # when it adds an entry about a vehicle
    services.timeline_add(
        customer=customer, kind="test_drive", detail="试驾帕萨特", subject=vehicle, actor=consultant
    )
    # then the customer's timeline shows it, newest first, with its label and subject
    entry = selectors.customer_timeline(customer=customer).first()
    assert (entry.kind, entry.detail, entry.subject, entry.actor) == (
        "test_drive",
        "试驾帕萨特",
        vehicle,
        consultant,
    )
    assert timeline.timeline_kind_label("test_drive") == "Test drive"


def test_creating_a_customer_and_adding_a_vehicle_are_on_the_timeline(consultant, branch):
    # given a new customer
    customer = services.customer_create(branch=branch, by=consultant, data=complete_person())
    # when a vehicle is added
    services.vehicle_add(owner=customer, by=consultant, data=complete_vehicle())
    # then both events are on the timeline, newest first
    kinds = list(selectors.customer_timeline(customer=customer).values_list("kind", flat=True))
    assert kinds == [timeline.VEHICLE_ADDED, timeline.CUSTOMER_CREATED]
