"""The customer and vehicle pages: forms show what is wrong beside the field and save nothing;
other branches' records are 404; personal data is masked or logged."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Customer, OdometerReading, Vehicle
from dealer_crm.models import PiiAccess
from tests.factories import CustomerFactory, VehicleFactory
from tests.factories.customers import vin

pytestmark = pytest.mark.django_db

VALID_PERSON = {
    "kind": "person",
    "name": "陈志强",
    "mobile": "13922334455",
    "province": "广东省",
    "city": "广州市",
    "street": "中山大道88号",
    "category": "individual",
    "tags": "VIP, 老客户",
}


def wrong_check_digit(value: str) -> str:
    digit = "1" if value[8] != "1" else "2"
    return value[:8] + digit + value[9:]


def test_consultant_creates_a_customer_from_the_page(client, consultant, branch):
    # given a consultant on the new-customer page
    client.force_login(consultant)
    # when the form is filled in and saved
    response = client.post(reverse("customers:create"), VALID_PERSON)
    # then the customer exists in the consultant's branch and the page goes to it
    customer = Customer.objects.get(name="陈志强")
    assert response.status_code == 302
    assert response.url == reverse("customers:detail", args=[customer.pk])
    assert customer.branch == branch
    assert customer.tags == ["VIP", "老客户"]
    assert customer.timeline.filter(kind="customer_created").exists()


def test_placeholder_name_is_shown_beside_the_field_and_nothing_is_saved(client, consultant):
    # given a consultant typing a placeholder instead of the customer's name
    client.force_login(consultant)
    # when the form is saved
    response = client.post(reverse("customers:create"), {**VALID_PERSON, "name": "王先生"})
    # then the page answers with the form, a message under the name field, and no customer
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert 'class="form-control is-invalid"' in response.content.decode()
    assert not Customer.objects.exists()


def test_duplicate_mobile_shows_the_existing_customer_until_confirmed(client, consultant, branch):
    # given a customer with the same mobile phone in the branch
    existing = CustomerFactory(branch=branch, mobile="13922334455")
    client.force_login(consultant)
    # when a new customer with that phone is saved
    response = client.post(reverse("customers:create"), VALID_PERSON)
    # then the existing record is shown and nothing is created
    assert response.status_code == 200
    assert reverse("customers:detail", args=[existing.pk]) in response.content.decode()
    assert Customer.objects.count() == 1
    # and when the consultant confirms it is a different customer, it is created
    response = client.post(reverse("customers:create"), {**VALID_PERSON, "confirm_duplicate": "on"})
    assert response.status_code == 302
    assert Customer.objects.count() == 2


def test_vin_with_wrong_check_digit_is_refused_beside_the_vin_field(client, consultant, branch):
    # given a customer of the consultant's branch
    owner = CustomerFactory(branch=branch)
    client.force_login(consultant)
    # when a vehicle with a wrong check digit is added
    url = reverse("customers:vehicle-create", args=[owner.pk])
    response = client.post(url, {"vin": wrong_check_digit(vin(7)), "plate": "粤B12345"})
    # then the VIN field carries the check-digit message and no vehicle is saved
    assert response.status_code == 200
    assert "position 9" in " ".join(response.context["form"].errors["vin"])
    assert not Vehicle.objects.exists()


def test_valid_vin_fills_manufacturer_and_model_year(client, consultant, branch):
    # given a customer and a valid SAIC Volkswagen VIN
    owner = CustomerFactory(branch=branch)
    client.force_login(consultant)
    # when the vehicle is added with only VIN and plate
    url = reverse("customers:vehicle-create", args=[owner.pk])
    response = client.post(url, {"vin": vin(8).lower(), "plate": "粤b 12345"})
    # then the VIN is stored upper-case with what it encodes, and the plate normalized
    vehicle = Vehicle.objects.get()
    assert response.status_code == 302
    assert vehicle.vin == vin(8)
    assert vehicle.manufacturer == "SAIC Volkswagen"
    assert vehicle.model_year == 2021
    assert vehicle.plate == "粤B12345"


def test_vin_hint_explains_a_wrong_check_digit(client, consultant):
    client.force_login(consultant)
    response = client.get(reverse("customers:vin-decode"), {"vin": wrong_check_digit(vin(9))})
    assert "position 9" in response.content.decode()


@pytest.mark.parametrize(
    "url_name",
    [
        "customers:detail",
        "customers:edit",
        "customers:merge",
        "customers:delete",
        "customers:contact-create",
        "customers:vehicle-create",
    ],
)
def test_other_branch_customer_pages_are_not_found(client, other_branch_user, branch, url_name):
    # given a customer of a branch the user does not work in
    customer = CustomerFactory(branch=branch)
    client.force_login(other_branch_user)
    # when the user opens one of its pages
    response = client.get(reverse(url_name, args=[customer.pk]))
    # then it does not exist for them (404), not merely forbidden (a role may lack the page:
    # then 403 comes first, so only roles with the permission reach the scope check)
    assert response.status_code in (404, 403)
    if other_branch_user.has_perm("customers.view_customer") and url_name == "customers:detail":
        assert response.status_code == 404


@pytest.mark.parametrize("url_name", ["customers:vehicle-detail", "customers:vehicle-edit"])
def test_other_branch_vehicle_pages_are_not_found(client, other_branch_user, branch, url_name):
    vehicle = VehicleFactory(owner=CustomerFactory(branch=branch))
    client.force_login(other_branch_user)
    assert client.get(reverse(url_name, args=[vehicle.pk])).status_code == 404


def test_other_branch_customers_are_not_listed(client, other_branch_user, branch):
    CustomerFactory(branch=branch, name="林晓东")
    client.force_login(other_branch_user)
    response = client.get(reverse("customers:list"))
    assert "林晓东" not in response.content.decode()


def test_consultant_sees_masked_mobile_and_nothing_is_logged(client, consultant, branch):
    customer = CustomerFactory(branch=branch, mobile="13812345678")
    client.force_login(consultant)
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "138****5678" in page
    assert "13812345678" not in page
    assert not PiiAccess.objects.exists()


def test_customer_care_sees_full_mobile_and_the_view_is_logged(client, customer_care, branch):
    customer = CustomerFactory(branch=branch, mobile="13812345678")
    client.force_login(customer_care)
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "13812345678" in page
    access = PiiAccess.objects.get()
    assert (access.user, access.customer, access.channel) == (customer_care, customer, "page")


def test_branch_manager_merges_a_duplicate_from_the_page(client, branch_manager, branch):
    # given two records of one customer, the duplicate owning a vehicle
    keep = CustomerFactory(branch=branch, postcode="")
    duplicate = CustomerFactory(branch=branch, postcode="510620", mobile=keep.mobile)
    vehicle = VehicleFactory(owner=duplicate)
    client.force_login(branch_manager)
    # when the manager merges it, confirming
    response = client.post(
        reverse("customers:merge", args=[keep.pk]), {"duplicate": duplicate.pk, "confirm": "on"}
    )
    # then the vehicle belongs to the kept record and the duplicate points at it
    assert response.status_code == 302
    vehicle.refresh_from_db()
    duplicate.refresh_from_db()
    keep.refresh_from_db()
    assert vehicle.owner == keep
    assert duplicate.merged_into == keep
    assert keep.postcode == "510620"


def test_merge_needs_the_confirmation_box(client, branch_manager, branch):
    keep, duplicate = CustomerFactory(branch=branch), CustomerFactory(branch=branch)
    client.force_login(branch_manager)
    response = client.post(reverse("customers:merge", args=[keep.pk]), {"duplicate": duplicate.pk})
    assert response.status_code == 200
    duplicate.refresh_from_db()
    assert duplicate.merged_into is None


def test_consultant_may_not_merge(client, consultant, branch):
    customer = CustomerFactory(branch=branch)
    client.force_login(consultant)
    assert client.get(reverse("customers:merge", args=[customer.pk])).status_code == 403


def test_lower_odometer_reading_is_refused_with_a_message(client, advisor, branch):
    # given a vehicle whose last reading was 30,000 km
    vehicle = VehicleFactory(owner=CustomerFactory(branch=branch), odometer_km=30_000)
    OdometerReading.objects.create(vehicle=vehicle, km=30_000, read_on=date(2026, 1, 5))
    client.force_login(advisor)
    # when 20,000 km is entered without the replacement flag
    response = client.post(
        reverse("customers:odometer-create", args=[vehicle.pk]),
        {"km": 20_000, "read_on": "2026-02-01"},
        follow=True,
    )
    # then the page shows why and nothing is recorded
    assert "30000" in response.content.decode()
    assert vehicle.odometer_readings.count() == 1


def test_import_page_lists_bad_rows_with_their_line(client, branch_manager):
    client.force_login(branch_manager)
    csv_file = SimpleUploadedFile(
        "customers.csv",
        "name,mobile,city\n刘德明,13700001111,广州市\n王先生,13700002222,广州市\n".encode(),
        content_type="text/csv",
    )
    response = client.post(reverse("customers:import"), {"file": csv_file})
    page = response.content.decode()
    assert response.context["report"].created == 1
    assert response.context["report"].errors[0][0] == 3
    assert 'id="import-errors"' in page


def test_customer_delete_asks_for_confirmation_first(client, branch_manager, branch):
    customer = CustomerFactory(branch=branch)
    client.force_login(branch_manager)
    url = reverse("customers:delete", args=[customer.pk])
    assert client.get(url).status_code == 200
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert client.post(url).status_code == 302
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_customer_with_vehicles_cannot_be_deleted(client, branch_manager, branch):
    customer = CustomerFactory(branch=branch)
    VehicleFactory(owner=customer)
    client.force_login(branch_manager)
    client.post(reverse("customers:delete", args=[customer.pk]))
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_export_masks_phones_for_users_without_view_pii(client, sales_manager, branch):
    CustomerFactory(branch=branch, mobile="13812345678")
    client.force_login(sales_manager)
    response = client.get(reverse("customers:export", args=["csv"]))
    body = response.content.decode("utf-8-sig")
    assert "138****5678" in body and "13812345678" not in body


def test_pages_need_login(client):
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
