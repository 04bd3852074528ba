"""The customers REST API: masking and the access log, CRUD, commands, lists and bad input."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers import services
from customers.models import Contact, Customer, OdometerReading, Vehicle
from customers.validators import resident_id_check_digit
from dealer_crm.models import PiiAccess
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    OdometerReadingFactory,
    VehicleFactory,
    vin,
)

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"
CONTACTS = "/api/v1/contacts/"
VEHICLES = "/api/v1/vehicles/"
READINGS = "/api/v1/odometer-readings/"
TODAY = timezone.localdate()
ID_NUMBER = "44010619850612123" + resident_id_check_digit("44010619850612123")


@pytest.fixture
def customer(branch):
    """A customer of the personas' branch with a mobile phone and a resident ID number."""
    return CustomerFactory(branch=branch, name="黄志强", mobile="13812345678", id_number=ID_NUMBER)


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


# --- masking and the access log -------------------------------------------------------


def test_consultant_sees_masked_mobile_and_id_number_in_the_list(api_as, consultant, customer):
    # given a customer with a mobile phone and an ID number
    # when a consultant (no view_pii) lists customers
    row = api_as(consultant).get(CUSTOMERS).json()["results"][0]
    # then both are masked
    assert row["mobile"] == "138****5678"
    assert row["id_number"] == "440***********" + ID_NUMBER[-4:]


def test_consultant_sees_masked_numbers_in_the_detail(api_as, consultant, customer):
    # given a customer with a mobile phone and an ID number
    # when a consultant opens it
    body = api_as(consultant).get(f"{CUSTOMERS}{customer.pk}/").json()
    # then both are masked
    assert body["mobile"] == "138****5678"
    assert ID_NUMBER not in str(body)


def test_consultant_sees_masked_numbers_in_duplicates(api_as, consultant, customer):
    # given a customer with a mobile phone and an ID number
    # when a consultant looks for duplicates of that number
    rows = api_as(consultant).get(f"{CUSTOMERS}duplicates/", {"mobile": "13812345678"}).json()
    # then the match is shown with masked numbers
    assert [row["id"] for row in rows] == [customer.pk]
    assert rows[0]["mobile"] == "138****5678"
    assert rows[0]["id_number"] != ID_NUMBER


def test_consultant_sees_masked_contact_phone(api_as, consultant, branch):
    # given a contact with a mobile phone
    ContactFactory(customer__branch=branch, mobile="13612345678")
    # when a consultant lists contacts
    row = api_as(consultant).get(CONTACTS).json()["results"][0]
    # then the phone is masked
    assert row["mobile"] == "136****5678"


def test_consultant_views_are_not_logged(api_as, consultant, customer):
    # given a consultant who only sees masked numbers
    client = api_as(consultant)
    # when they list, open and search duplicates
    client.get(CUSTOMERS)
    client.get(f"{CUSTOMERS}{customer.pk}/")
    client.get(f"{CUSTOMERS}duplicates/", {"mobile": "13812345678"})
    # then nothing is logged: they saw no personal data
    assert not PiiAccess.objects.exists()


def test_customer_care_sees_full_numbers_and_each_customer_shown_is_logged(
    api_as, customer_care, customer, branch
):
    # given two customers of the branch
    second = CustomerFactory(branch=branch, mobile="13712345678")
    # when customer care lists customers
    rows = api_as(customer_care).get(CUSTOMERS).json()["results"]
    # then the numbers are in full and one API access row per customer shown is written
    assert {row["mobile"] for row in rows} == {"13812345678", "13712345678"}
    assert ID_NUMBER in {row["id_number"] for row in rows}
    logged = PiiAccess.objects.filter(user=customer_care)
    assert sorted(logged.values_list("customer_id", flat=True)) == sorted([customer.pk, second.pk])
    assert set(logged.values_list("channel", flat=True)) == {"api"}
    assert logged.first().path == CUSTOMERS


def test_customer_care_detail_view_is_logged(api_as, customer_care, customer):
    # given a customer
    # when customer care opens it
    body = api_as(customer_care).get(f"{CUSTOMERS}{customer.pk}/").json()
    # then the full numbers are shown and the view is logged for that customer
    assert (body["mobile"], body["id_number"]) == ("13812345678", ID_NUMBER)
    assert list(PiiAccess.objects.values_list("customer_id", "channel")) == [(customer.pk, "api")]


def test_customer_care_duplicates_view_is_logged(api_as, customer_care, customer):
    # given a customer
    # when customer care looks for duplicates by its number
    rows = api_as(customer_care).get(f"{CUSTOMERS}duplicates/", {"mobile": "13812345678"}).json()
    # then the full number is shown and the view is logged
    assert rows[0]["mobile"] == "13812345678"
    assert list(PiiAccess.objects.values_list("customer_id", flat=True)) == [customer.pk]


def test_customer_care_contact_list_is_logged_for_the_contacts_customer(
    api_as, customer_care, branch
):
    # given a contact of an organization
    contact = ContactFactory(customer__branch=branch, mobile="13612345678")
    # when customer care lists contacts
    row = api_as(customer_care).get(CONTACTS).json()["results"][0]
    # then the phone is shown in full and the view is logged against the organization
    assert row["mobile"] == "13612345678"
    assert list(PiiAccess.objects.values_list("customer_id", flat=True)) == [contact.customer_id]


def test_merge_answer_with_full_numbers_is_logged(api_as, branch_manager, customer, branch):
    # given a branch manager (may merge and see personal data) and a duplicate record
    duplicate = CustomerFactory(branch=branch)
    # when they merge it into the customer
    body = (
        api_as(branch_manager)
        .post(f"{CUSTOMERS}{customer.pk}/merge/", {"duplicate": duplicate.pk}, format="json")
        .json()
    )
    # then the kept record shown in full is logged
    assert body["mobile"] == "13812345678"
    assert list(PiiAccess.objects.values_list("customer_id", flat=True)) == [customer.pk]


# --- customers CRUD -------------------------------------------------------------------


def test_consultant_creates_a_customer_in_their_branch(api_as, consultant, branch):
    # given a consultant
    # when they post a new customer without naming a branch
    response = api_as(consultant).post(
        CUSTOMERS,
        {
            "name": "黄志强",
            "gender": "male",
            "mobile": "+86 139 2600 1234",
            "city": "广州市",
            "tags": ["车友会"],
        },
        format="json",
    )
    # then it is created in their branch, normalized, scored and on the timeline
    assert response.status_code == 201
    body = response.json()
    customer = Customer.objects.get(pk=body["id"])
    assert (customer.branch, customer.mobile, customer.tags) == (branch, "13926001234", ["车友会"])
    assert body["completeness"] == customer.completeness > 0
    assert customer.timeline.filter(kind="customer_created").exists()


def test_customer_cannot_be_filed_under_another_branch(api_as, consultant, other_branch):
    # given a consultant of one branch
    # when they post a customer naming the other branch
    response = api_as(consultant).post(
        CUSTOMERS, {"name": "黄志强", "branch": other_branch.pk}, format="json"
    )
    # then the branch field is refused
    assert response.status_code == 400
    assert "branch" in response.json()
    assert not Customer.objects.exists()


def test_customer_can_be_updated(api_as, consultant, customer):
    # given a customer
    # when the consultant changes the address
    response = api_as(consultant).patch(
        f"{CUSTOMERS}{customer.pk}/",
        {"city": "佛山市", "street": "季华五路10号"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    # then it is saved and the timeline says what changed
    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.city, customer.street) == ("佛山市", "季华五路10号")
    assert (
        customer.timeline.get(kind="customer_edited").detail_shown
        == "city, street and house number"
    )


def test_customer_can_be_replaced_with_put(api_as, consultant, customer):
    # given a customer
    # when the consultant sends the whole record
    response = api_as(consultant).put(
        f"{CUSTOMERS}{customer.pk}/", {"name": "黄志刚", "mobile": "13812345678"}, format="json"
    )
    # then the new name is saved
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.name == "黄志刚"


def test_branch_manager_deletes_a_customer_without_vehicles(api_as, branch_manager, customer):
    # given a customer without vehicles
    # when the branch manager deletes it
    response = api_as(branch_manager).delete(f"{CUSTOMERS}{customer.pk}/")
    # then it is gone
    assert response.status_code == 204
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_customer_with_a_vehicle_cannot_be_deleted(api_as, branch_manager, customer):
    # given a customer owning a vehicle
    VehicleFactory(owner=customer)
    # when the branch manager deletes it
    response = api_as(branch_manager).delete(f"{CUSTOMERS}{customer.pk}/")
    # then the business rule refuses with its code
    assert response.status_code == 400
    assert response.json()["code"] == "customer_has_vehicles"
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_consultant_may_not_delete_customers(api_as, consultant, customer):
    # given a consultant (no delete permission)
    # when they delete a customer
    response = api_as(consultant).delete(f"{CUSTOMERS}{customer.pk}/")
    # then it is forbidden
    assert response.status_code == 403


def test_merged_customer_is_not_listed_or_found(api_as, sales_manager, branch):
    # given a customer merged into another
    keep = CustomerFactory(branch=branch)
    merged = CustomerFactory(branch=branch, merged_into=keep)
    # when the list and the merged record are requested
    client = api_as(sales_manager)
    # then only the kept record exists for the API
    assert ids(client.get(CUSTOMERS)) == [keep.pk]
    assert client.get(f"{CUSTOMERS}{merged.pk}/").status_code == 404


# --- merge, duplicates, timeline ------------------------------------------------------


def test_sales_manager_merges_a_duplicate(api_as, sales_manager, branch):
    # given two records of the same person, the second owning a vehicle
    keep = CustomerFactory(branch=branch, postcode="")
    duplicate = CustomerFactory(branch=branch, postcode="510620")
    vehicle = VehicleFactory(owner=duplicate)
    # when the sales manager merges the second into the first
    response = api_as(sales_manager).post(
        f"{CUSTOMERS}{keep.pk}/merge/", {"duplicate": duplicate.pk}, format="json"
    )
    # then the kept record answers with the vehicle and the filled postcode
    assert response.status_code == 200
    body = response.json()
    assert body["postcode"] == "510620"
    assert [v["id"] for v in body["vehicles"]] == [vehicle.pk]


def test_merge_with_itself_is_refused_with_a_code(api_as, sales_manager, customer):
    # given a customer
    # when it is merged with itself
    response = api_as(sales_manager).post(
        f"{CUSTOMERS}{customer.pk}/merge/", {"duplicate": customer.pk}, format="json"
    )
    # then the business rule answers with detail and code
    assert response.status_code == 400
    assert response.json()["code"] == "merge_same_customer"
    assert response.json()["detail"]


def test_merge_needs_a_duplicate(api_as, sales_manager, customer):
    # given a customer
    # when a merge is posted without the duplicate
    response = api_as(sales_manager).post(f"{CUSTOMERS}{customer.pk}/merge/", {}, format="json")
    # then the field is named
    assert response.status_code == 400
    assert "duplicate" in response.json()


def test_duplicates_finds_by_id_number_and_vin(api_as, consultant, customer):
    # given a customer with an ID number and a vehicle
    vehicle = VehicleFactory(owner=customer)
    client = api_as(consultant)
    # when duplicates are looked up by ID number, then by VIN in lower case
    by_id = client.get(f"{CUSTOMERS}duplicates/", {"id_number": ID_NUMBER.lower()}).json()
    by_vin = client.get(f"{CUSTOMERS}duplicates/", {"vin": vehicle.vin.lower()}).json()
    # then both find the customer
    assert [row["id"] for row in by_id] == [customer.pk]
    assert [row["id"] for row in by_vin] == [customer.pk]


def test_duplicates_without_a_query_is_refused(api_as, consultant):
    # given a consultant
    # when duplicates are asked for with nothing to compare
    response = api_as(consultant).get(f"{CUSTOMERS}duplicates/")
    # then the request is refused with a code
    assert response.status_code == 400
    assert response.json()["code"] == "duplicate_query_empty"


def test_timeline_pages_with_a_cursor(api_as, consultant, customer):
    # given a customer with five timeline entries
    for minutes in range(5):
        services.timeline_add(
            customer=customer,
            kind="customer_edited",
            detail=f"edit {minutes}",
            occurred_at=timezone.now() - timedelta(minutes=minutes),
        )
    client = api_as(consultant)
    # when the first page of two is read and its next link followed
    first = client.get(
        f"{CUSTOMERS}{customer.pk}/timeline/", {"limit": 2}, HTTP_ACCEPT_LANGUAGE="en"
    ).json()
    second = client.get(first["next"]).json()
    # then the pages follow each other newest first, and no count is computed
    assert [row["detail"] for row in first["results"]] == ["edit 0", "edit 1"]
    assert [row["detail"] for row in second["results"]] == ["edit 2", "edit 3"]
    assert "count" not in first
    assert first["results"][0]["label"] == "Details edited"


def test_timeline_ignores_the_customer_list_ordering(api_as, consultant, customer):
    # given a customer with a timeline entry
    services.timeline_add(customer=customer, kind="customer_edited")
    # when the timeline is asked for with the list's ?ordering=name
    response = api_as(consultant).get(f"{CUSTOMERS}{customer.pk}/timeline/", {"ordering": "name"})
    # then it still answers (newest first), never a 500
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_timeline_filters_by_kind(api_as, consultant, customer):
    # given a customer with a creation and an edit entry
    services.timeline_add(customer=customer, kind="customer_created")
    services.timeline_add(customer=customer, kind="customer_edited")
    # when the timeline is filtered by kind
    rows = (
        api_as(consultant)
        .get(f"{CUSTOMERS}{customer.pk}/timeline/", {"kind": "customer_created"})
        .json()["results"]
    )
    # then only that kind is listed
    assert [row["kind"] for row in rows] == ["customer_created"]


def test_garbled_cursor_is_404_not_500(api_as, consultant, customer):
    # given a customer
    # when its timeline is asked for with a made-up cursor
    response = api_as(consultant).get(f"{CUSTOMERS}{customer.pk}/timeline/", {"cursor": "garbage"})
    # then the answer is a clear 404
    assert response.status_code == 404


# --- contacts -------------------------------------------------------------------------


def test_contact_crud(api_as, consultant, branch):
    # given an organization
    company = CustomerFactory(branch=branch, kind="organization", name="广州市顺达物流有限公司")
    client = api_as(consultant)
    # when a contact is created, renamed, listed by customer and deleted
    created = client.post(
        CONTACTS,
        {
            "customer": company.pk,
            "name": "林雪梅",
            "role": "车队主管",
            "mobile": "13612345678",
            "is_primary": True,
        },
        format="json",
    )
    contact_url = f"{CONTACTS}{created.json()['id']}/"
    renamed = client.patch(contact_url, {"name": "林雪芳"}, format="json")
    listed = client.get(CONTACTS, {"customer": company.pk})
    deleted = client.delete(contact_url)
    # then each step answers as REST says and the contact is gone at the end
    assert created.status_code == 201
    assert renamed.status_code == 200 and renamed.json()["name"] == "林雪芳"
    assert ids(listed) == [created.json()["id"]]
    assert deleted.status_code == 204
    assert not Contact.objects.exists()


def test_contact_without_phone_is_a_field_error(api_as, consultant, branch):
    # given an organization
    company = CustomerFactory(branch=branch, kind="organization", name="顺达物流有限公司")
    # when a contact without phone is posted
    response = api_as(consultant).post(
        CONTACTS, {"customer": company.pk, "name": "林雪梅"}, format="json"
    )
    # then the mobile field says what is missing
    assert response.status_code == 400
    assert "mobile" in response.json()


def test_contact_cannot_move_to_another_customer(api_as, consultant, branch):
    # given a contact of one customer and another customer
    contact = ContactFactory(customer__branch=branch)
    other = CustomerFactory(branch=branch)
    # when the contact's customer is changed
    response = api_as(consultant).patch(
        f"{CONTACTS}{contact.pk}/", {"customer": other.pk}, format="json"
    )
    # then it is refused with a code
    assert response.status_code == 400
    assert response.json()["code"] == "contact_customer_fixed"


# --- vehicles, odometer readings, transfer --------------------------------------------


def test_vehicle_create_fills_what_the_vin_encodes(api_as, consultant, customer):
    # given a customer
    # when a vehicle is posted with a FAW-Volkswagen VIN, a delivery date and its odometer
    response = api_as(consultant).post(
        VEHICLES,
        {
            "owner": customer.pk,
            "vin": vin(7, prefix="LFV2A21K", year_code="P").lower(),
            "plate": "粤A·8M2Q6",
            "delivery_date": str(TODAY - timedelta(days=100)),
            "odometer_km": 4_200,
        },
        format="json",
    )
    # then it is created normalized, with manufacturer, model year, 三包 and its segment
    assert response.status_code == 201
    body = response.json()
    assert body["vin"] == vin(7, prefix="LFV2A21K", year_code="P")
    assert body["plate"] == "粤A8M2Q6"
    assert (body["manufacturer"], body["model_year"]) == ("FAW-Volkswagen", 2023)
    assert body["three_guarantees_end_km"] == 50_000
    assert body["age_segment"] == "three_guarantees"
    assert body["odometer_km"] == 4_200


def test_vehicle_with_a_wrong_check_digit_is_a_vin_error(api_as, consultant, customer):
    # given a VIN whose check digit is wrong
    good = vin(8)
    bad = good[:8] + ("0" if good[8] != "0" else "1") + good[9:]
    # when the vehicle is posted
    response = api_as(consultant).post(VEHICLES, {"owner": customer.pk, "vin": bad}, format="json")
    # then the VIN field says which digit is expected
    assert response.status_code == 400
    assert good[8] in response.json()["vin"][0]
    assert not Vehicle.objects.exists()


def test_vehicle_already_registered_is_refused_naming_the_owner(api_as, consultant, customer):
    # given a vehicle of a customer
    existing = VehicleFactory(owner=customer)
    other = CustomerFactory(branch=customer.branch)
    # when the same VIN is posted for another customer
    response = api_as(consultant).post(
        VEHICLES, {"owner": other.pk, "vin": existing.vin}, format="json"
    )
    # then it is refused with the code, the message under vin, and the owner listed
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "duplicate_vehicle"
    assert "黄志强" in body["detail"] and body["vin"] == [body["detail"]]
    assert body["duplicates"][0]["id"] == customer.pk


def test_vehicle_update_and_no_delete(api_as, branch_manager, branch):
    # given a vehicle
    vehicle = VehicleFactory(owner__branch=branch)
    client = api_as(branch_manager)
    # when its colour is changed, then a delete is attempted
    patched = client.patch(f"{VEHICLES}{vehicle.pk}/", {"colour": "星空蓝"}, format="json")
    deleted = client.delete(f"{VEHICLES}{vehicle.pk}/")
    # then the change is saved and vehicles are never deleted through the API
    assert patched.status_code == 200 and patched.json()["colour"] == "星空蓝"
    assert deleted.status_code == 405
    assert Vehicle.objects.filter(pk=vehicle.pk).exists()


def test_vehicle_update_cannot_change_the_owner(api_as, consultant, branch):
    # given a vehicle and another customer
    vehicle = VehicleFactory(owner__branch=branch)
    other = CustomerFactory(branch=branch)
    # when the owner is patched
    api_as(consultant).patch(f"{VEHICLES}{vehicle.pk}/", {"owner": other.pk}, format="json")
    # then ownership is unchanged: it changes only by transfer
    vehicle.refresh_from_db()
    assert vehicle.owner != other


def test_odometer_reading_is_recorded(api_as, technician, branch):
    # given a vehicle read at 12,000 km
    reading = OdometerReadingFactory(vehicle__owner__branch=branch, read_on=TODAY)
    # when a technician records 15,300 km
    response = api_as(technician).post(
        READINGS, {"vehicle": reading.vehicle_id, "km": 15_300}, format="json"
    )
    # then the reading is created for today, by the technician, and the vehicle follows
    assert response.status_code == 201
    body = response.json()
    assert (body["km"], body["read_on"], body["recorded_by"]) == (
        15_300,
        TODAY.isoformat(),
        technician.pk,
    )
    assert Vehicle.objects.get(pk=reading.vehicle_id).odometer_km == 15_300


def test_lower_odometer_reading_is_refused_with_its_code(api_as, technician, branch):
    # given a vehicle read at 12,000 km
    reading = OdometerReadingFactory(vehicle__owner__branch=branch, read_on=TODAY)
    # when 11,000 km is posted without the replacement flag
    response = api_as(technician).post(
        READINGS, {"vehicle": reading.vehicle_id, "km": 11_000}, format="json"
    )
    # then it is refused with the stable code and the message under km
    assert response.status_code == 400
    assert response.json()["code"] == "odometer_lower_than_last"
    assert response.json()["km"]
    assert OdometerReading.objects.count() == 1


def test_odometer_readings_list_by_vehicle(api_as, consultant, branch):
    # given readings of two vehicles
    reading = OdometerReadingFactory(vehicle__owner__branch=branch)
    OdometerReadingFactory(vehicle__owner__branch=branch)
    # when the readings of one vehicle are listed
    response = api_as(consultant).get(READINGS, {"vehicle": reading.vehicle_id})
    # then only its reading is there
    assert ids(response) == [reading.pk]


def test_odometer_readings_are_never_edited(api_as, group_manager, branch):
    # given a reading
    reading = OdometerReadingFactory(vehicle__owner__branch=branch)
    # when even a group manager patches or deletes it
    client = api_as(group_manager)
    patched = client.patch(f"{READINGS}{reading.pk}/", {"km": 1}, format="json")
    deleted = client.delete(f"{READINGS}{reading.pk}/")
    # then neither is possible (no role holds the permission, and no route exists)
    assert patched.status_code in (403, 405) and deleted.status_code in (403, 405)
    reading.refresh_from_db()
    assert reading.km == 12_000


def test_advisor_transfers_a_vehicle(api_as, advisor, branch):
    # given a vehicle owned by one customer and a buyer
    vehicle = VehicleFactory(owner__branch=branch)
    buyer = CustomerFactory(branch=branch)
    # when the advisor transfers it
    response = api_as(advisor).post(
        f"{VEHICLES}{vehicle.pk}/transfer/",
        {
            "new_owner": buyer.pk,
            "transferred_on": str(TODAY),
            "reason": "二手车过户",
        },
        format="json",
    )
    # then the buyer owns it
    assert response.status_code == 200
    assert response.json()["owner"] == buyer.pk
    assert vehicle.ownerships.get(ended_on__isnull=True).customer == buyer


def test_consultant_may_not_transfer_a_vehicle(api_as, consultant, branch):
    # given a consultant (no transfer permission)
    vehicle = VehicleFactory(owner__branch=branch)
    buyer = CustomerFactory(branch=branch)
    # when they post a transfer
    response = api_as(consultant).post(
        f"{VEHICLES}{vehicle.pk}/transfer/", {"new_owner": buyer.pk}, format="json"
    )
    # then it is forbidden
    assert response.status_code == 403


def test_transfer_to_the_same_owner_is_refused(api_as, advisor, branch):
    # given a vehicle
    vehicle = VehicleFactory(owner__branch=branch)
    # when it is transferred to its owner
    response = api_as(advisor).post(
        f"{VEHICLES}{vehicle.pk}/transfer/", {"new_owner": vehicle.owner_id}, format="json"
    )
    # then the business rule refuses with its code
    assert response.status_code == 400
    assert response.json()["code"] == "transfer_same_owner"


def test_decode_vin_tells_manufacturer_and_model_year(api_as, consultant):
    # given a GAC Toyota VIN
    toyota = vin(9, prefix="LVGBE40K", year_code="R")
    # when it is decoded
    body = api_as(consultant).get(f"{VEHICLES}decode-vin/", {"vin": toyota}).json()
    # then the manufacturer and model year come back
    assert (body["manufacturer"], body["model_year"]) == ("GAC Toyota", 2024)


# --- search, filters, ordering, pagination --------------------------------------------


@pytest.fixture
def searchable(branch):
    """Three customers; the first has a vehicle with a known VIN and plate."""
    owner = CustomerFactory(branch=branch, name="欧阳晓峰", mobile="13926001234")
    vehicle = VehicleFactory(owner=owner, vin=vin(654321), plate="粤A8M2Q6")
    CustomerFactory(branch=branch, name="黄志强", mobile="13812345678")
    CustomerFactory(branch=branch, name="林雪梅", mobile="13712349999")
    return owner, vehicle


@pytest.mark.parametrize(
    ("term", "why"),
    [
        ("晓峰", "part of the name"),
        ("2600", "four consecutive digits of the mobile"),
        ("6001234", "the end of the mobile"),
        ("654321", "the last six characters of the VIN"),
        ("粤A8M2Q6", "the plate"),
        ("8m2q", "part of the plate, lower case"),
    ],
)
def test_search_finds_the_customer(api_as, consultant, searchable, term, why):
    # given three customers, one with a vehicle
    owner, _vehicle = searchable
    # when the search box is given the term
    response = api_as(consultant).get(CUSTOMERS, {"search": term})
    # then exactly that customer is found
    assert ids(response) == [owner.pk], why


def test_vehicle_search_by_vin_tail_and_plate(api_as, consultant, searchable):
    # given a vehicle with a known VIN and plate
    _owner, vehicle = searchable
    client = api_as(consultant)
    # when vehicles are searched by the VIN's end and by the plate
    # then the vehicle is found both ways
    assert ids(client.get(VEHICLES, {"search": vehicle.vin[-6:].lower()})) == [vehicle.pk]
    assert ids(client.get(VEHICLES, {"search": "粤A8M2Q6"})) == [vehicle.pk]


def test_filter_by_vehicle_age_segment(api_as, consultant, branch):
    # given one customer whose vehicle is within 三包 and one out of warranty
    fresh = VehicleFactory(
        owner__branch=branch,
        three_guarantees_end_date=TODAY + timedelta(days=300),
        three_guarantees_end_km=50_000,
        odometer_km=10_000,
    )
    old = VehicleFactory(
        owner__branch=branch,
        three_guarantees_end_date=TODAY - timedelta(days=900),
        three_guarantees_end_km=50_000,
        warranty_end_date=TODAY - timedelta(days=1),
    )
    client = api_as(consultant)
    # when customers and vehicles are filtered by segment
    within = client.get(CUSTOMERS, {"vehicle_age_segment": "three_guarantees"})
    out = client.get(CUSTOMERS, {"vehicle_age_segment": "out_of_warranty"})
    vehicles_out = client.get(VEHICLES, {"age_segment": "out_of_warranty"})
    # then each lists only its own
    assert ids(within) == [fresh.owner_id]
    assert ids(out) == [old.owner_id]
    assert ids(vehicles_out) == [old.pk]


def test_filter_incomplete_customers(api_as, consultant, branch):
    # given a complete and an incomplete customer
    complete = CustomerFactory(branch=branch, completeness=100)
    incomplete = CustomerFactory(branch=branch, completeness=60)
    client = api_as(consultant)
    # when customers are filtered on completeness
    # then each filter value lists its own
    assert ids(client.get(CUSTOMERS, {"incomplete": "true"})) == [incomplete.pk]
    assert ids(client.get(CUSTOMERS, {"incomplete": "false"})) == [complete.pk]


def test_ordering_by_name_and_completeness(api_as, consultant, branch):
    # given three customers
    b = CustomerFactory(branch=branch, name="Li Wei", completeness=40)
    a = CustomerFactory(branch=branch, name="Chen Jie", completeness=90)
    c = CustomerFactory(branch=branch, name="Zhou Min", completeness=70)
    client = api_as(consultant)
    # when they are ordered by name, and by completeness descending
    # then the order follows
    assert ids(client.get(CUSTOMERS, {"ordering": "name"})) == [a.pk, b.pk, c.pk]
    assert ids(client.get(CUSTOMERS, {"ordering": "-completeness"})) == [a.pk, c.pk, b.pk]


def test_unknown_ordering_field_is_ignored(api_as, consultant, branch):
    # given two customers
    first, second = CustomerFactory.create_batch(2, branch=branch)
    # when the list is ordered by a field that is not offered
    response = api_as(consultant).get(CUSTOMERS, {"ordering": "id_number"})
    # then the default order (newest first) applies
    assert ids(response) == [second.pk, first.pk]


def test_limit_offset_pagination_with_count(api_as, consultant, branch):
    # given five customers
    customers = CustomerFactory.create_batch(5, branch=branch)
    client = api_as(consultant)
    # when the second page of two is asked for
    response = client.get(CUSTOMERS, {"limit": 2, "offset": 2})
    # then it holds the third and fourth newest, with the count and both links
    body = response.json()
    assert body["count"] == 5
    assert ids(response) == [customers[2].pk, customers[1].pk]
    assert "offset=4" in body["next"] and body["previous"]
    assert client.get(body["next"]).json()["results"][0]["id"] == customers[0].pk


def test_limit_is_capped(api_as, consultant, branch):
    # given a few customers
    CustomerFactory.create_batch(3, branch=branch)
    # when a huge page is asked for
    response = api_as(consultant).get(CUSTOMERS, {"limit": 100_000})
    # then the answer is bounded by max_limit (and holds what exists)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


# --- error shapes and bad input -------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field", "quoted"),
    [
        ({"name": "王先生", "mobile": "13926001234"}, "name", "王先生"),
        ({"name": "黄志强", "mobile": "12345"}, "mobile", "12345"),
        ({"name": "黄志强", "landline": "12345"}, "landline", "12345"),
        ({"name": "黄志强", "id_number": "440106198506121235"}, "id_number", "position 18"),
        (
            {"kind": "organization", "name": "顺达物流", "credit_code": "91440101MA5CQ8T21A"},
            "credit_code",
            "position 18",
        ),
    ],
)
def test_field_validation_answers_with_the_field_name(api_as, consultant, payload, field, quoted):
    # given a customer with one invalid field
    # when it is posted in English
    response = api_as(consultant).post(CUSTOMERS, payload, format="json", HTTP_ACCEPT_LANGUAGE="en")
    # then that field carries a message saying what is wrong, in DRF's shape
    assert response.status_code == 400
    messages = response.json()[field]
    assert isinstance(messages, list) and quoted in messages[0]
    assert not Customer.objects.exists()


def test_business_rule_answers_with_detail_and_code(api_as, consultant, customer):
    # given an existing customer
    # when another customer with the same mobile is posted
    response = api_as(consultant).post(
        CUSTOMERS, {"name": "黄晓丽", "mobile": "13812345678"}, format="json"
    )
    # then the refusal has a message, a stable code and the existing record
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "possible_duplicate"
    assert body["detail"]
    assert body["duplicates"] == [{"id": customer.pk, "name": "黄志强"}]


def test_confirm_duplicate_creates_the_second_customer(api_as, consultant, customer):
    # given an existing customer
    # when another with the same mobile is posted with confirm_duplicate
    response = api_as(consultant).post(
        CUSTOMERS,
        {
            "name": "黄晓丽",
            "mobile": "13812345678",
            "confirm_duplicate": True,
        },
        format="json",
    )
    # then it is created
    assert response.status_code == 201
    assert Customer.objects.filter(mobile="13812345678").count() == 2


def test_posting_the_same_customer_twice_saves_it_once(api_as, consultant):
    # given a consultant who double-clicks "save"
    client = api_as(consultant)
    payload = {"name": "黄志强", "mobile": "13926001234", "id_number": ID_NUMBER}
    # when the same customer is posted twice
    first = client.post(CUSTOMERS, payload, format="json")
    second = client.post(CUSTOMERS, payload, format="json")
    # then the second is refused with a code and only one customer exists
    assert first.status_code == 201
    assert second.status_code == 400
    assert second.json()["code"] == "duplicate_customer"
    assert Customer.objects.count() == 1


def test_missing_fields_are_named(api_as, consultant, customer):
    # given a consultant
    client = api_as(consultant)
    # when a customer, a vehicle and a reading are posted empty
    # then each names its required fields
    assert "name" in client.post(CUSTOMERS, {}, format="json").json()
    assert {"owner", "vin"} <= set(client.post(VEHICLES, {}, format="json").json())
    assert {"vehicle", "km"} <= set(client.post(READINGS, {}, format="json").json())


@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [  # {owner} and {vehicle} stand for the ids of a real customer and vehicle
        (CUSTOMERS, {"name": "黄志强", "birthday": 19850612}, "birthday"),
        (CUSTOMERS, {"name": "黄志强", "consultant": "zhang"}, "consultant"),
        (CUSTOMERS, {"name": "黄志强", "tags": "VIP"}, "tags"),
        (CUSTOMERS, {"name": "黄志强", "marketing_consent": "maybe"}, "marketing_consent"),
        (CUSTOMERS, {"name": "黄志强", "gender": "unknown"}, "gender"),
        (VEHICLES, {"owner": "abc", "vin": "LSVAB2BM0MN000001"}, "owner"),
        (VEHICLES, {"owner": "{owner}", "vin": 12345678901234567}, "vin"),
        (
            VEHICLES,
            {"owner": "{owner}", "vin": vin(11), "delivery_date": 20240101},
            "delivery_date",
        ),
        (VEHICLES, {"owner": "{owner}", "vin": vin(11), "odometer_km": "far"}, "odometer_km"),
        (READINGS, {"vehicle": "{vehicle}", "km": "lots"}, "km"),
        (READINGS, {"vehicle": "{vehicle}", "km": -5}, "km"),
        (READINGS, {"vehicle": "{vehicle}", "km": 100, "read_on": 20240101}, "read_on"),
        (
            READINGS,
            {"vehicle": "{vehicle}", "km": 100, "is_replacement": "perhaps"},
            "is_replacement",
        ),
    ],
)
def test_wrong_types_are_field_errors(api_as, consultant, branch, url, payload, field):
    # given a payload with a value of the wrong type for an existing customer and vehicle
    vehicle = VehicleFactory(owner__branch=branch)
    ids = {"{owner}": vehicle.owner_id, "{vehicle}": vehicle.pk}
    payload = {key: ids.get(value, value) for key, value in payload.items()}
    # when it is posted
    response = api_as(consultant).post(url, payload, format="json")
    # then the field is named, never a 500
    assert response.status_code == 400
    assert field in response.json()


def test_too_long_name_is_a_field_error(api_as, consultant):
    # given a 500-character name
    # when a customer is posted with it
    response = api_as(consultant).post(CUSTOMERS, {"name": "黄" * 500}, format="json")
    # then the name is refused and nothing saved
    assert response.status_code == 400
    assert "name" in response.json()
    assert not Customer.objects.exists()


@pytest.mark.parametrize("field", ["street", "email", "mobile", "postcode", "id_number"])
def test_too_long_strings_are_field_errors(api_as, consultant, field):
    # given a value far longer than the field
    # when a customer is posted with it
    response = api_as(consultant).post(
        CUSTOMERS, {"name": "黄志强", field: "9" * 500}, format="json"
    )
    # then the field is refused
    assert response.status_code == 400
    assert field in response.json()


def test_unknown_customer_is_404(api_as, consultant):
    # given no customer 999999
    # when it is requested
    response = api_as(consultant).get(f"{CUSTOMERS}999999/")
    # then the answer is 404 with a code
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_non_numeric_id_in_the_path_is_404(api_as, consultant):
    # given a path with letters where the id goes
    # when it is requested
    response = api_as(consultant).get(f"{CUSTOMERS}abc/")
    # then it is not found
    assert response.status_code == 404


def test_unknown_owner_in_a_vehicle_post_is_a_field_error(api_as, consultant):
    # given no customer 999999
    # when a vehicle is posted for it
    response = api_as(consultant).post(VEHICLES, {"owner": 999_999, "vin": vin(10)}, format="json")
    # then the owner field says it does not exist
    assert response.status_code == 400
    assert "owner" in response.json()


def test_malformed_json_is_a_400(api_as, consultant):
    # given a body that is not JSON
    # when it is posted as JSON
    response = api_as(consultant).post(CUSTOMERS, "{name:", content_type="application/json")
    # then a parse error is answered with a code
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_a_list_instead_of_an_object_is_a_400(api_as, consultant):
    # given a JSON list where an object belongs
    # when it is posted
    response = api_as(consultant).post(CUSTOMERS, [{"name": "黄志强"}], format="json")
    # then it is refused
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_bad_filter_value_is_a_400(api_as, consultant):
    # given a filter value that is not one of the choices
    # when the list is filtered by it
    response = api_as(consultant).get(CUSTOMERS, {"vehicle_age_segment": "brand_new"})
    # then the filter is named
    assert response.status_code == 400
    assert "vehicle_age_segment" in response.json()


# --- language -------------------------------------------------------------------------


def test_field_messages_follow_accept_language(api_as, consultant):
    # given a consultant
    client = api_as(consultant)
    # when the same empty customer is posted in English and in Chinese
    english = client.post(CUSTOMERS, {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    chinese = client.post(CUSTOMERS, {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    # then the message is in each language
    assert english.json()["name"] == ["This field is required."]
    assert chinese.json()["name"] == ["该字段是必填项。"]


def test_business_rule_message_follows_accept_language_and_code_does_not(
    api_as, consultant, customer
):
    # given an existing customer
    client = api_as(consultant)
    payload = {"name": "黄晓丽", "mobile": "13812345678"}
    # when the duplicate is posted in English and in Chinese
    english = client.post(CUSTOMERS, payload, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = client.post(CUSTOMERS, payload, format="json", HTTP_ACCEPT_LANGUAGE="zh-Hans").json()
    # then the messages differ by language while the code stays the same
    assert english["code"] == chinese["code"] == "possible_duplicate"
    assert "mobile phone" in english["detail"]
    assert english["detail"] != chinese["detail"]


def test_not_found_message_follows_accept_language(api_as, consultant):
    # given a consultant
    client = api_as(consultant)
    # when a missing customer is requested in both languages
    english = client.get(f"{CUSTOMERS}999999/", HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = client.get(f"{CUSTOMERS}999999/", HTTP_ACCEPT_LANGUAGE="zh-Hans").json()
    # then the message is translated and the code is not
    assert english["code"] == chinese["code"] == "not_found"
    assert english["detail"] != chinese["detail"]


def test_id_number_of_another_branch_is_refused_beside_the_field(api_as, consultant, other_branch):
    # given a customer of another branch with a resident ID number
    CustomerFactory(branch=other_branch, id_number=ID_NUMBER)
    # when the consultant posts a customer with the same number
    response = api_as(consultant).post(
        CUSTOMERS, {"name": "黄志强", "id_number": ID_NUMBER}, format="json"
    )
    # then it is refused beside the field without naming the other branch's customer
    assert response.status_code == 400
    assert list(response.json()) == ["id_number"]
    assert "duplicates" not in response.json()
    assert Customer.objects.count() == 1
