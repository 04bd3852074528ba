"""Branch scoping of every customers endpoint, generated over (url name, method): a record of
another branch is 404 (never 403), lists leave it out, and group managers see every branch."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from customers import services
from customers.models import Contact, Customer, Vehicle
from dealer_crm.choices import Role
from tests.factories import ContactFactory, CustomerFactory, OdometerReadingFactory, vin

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(branch):
    """A customer of `branch` with a contact, a vehicle, an odometer reading and a timeline."""
    customer = CustomerFactory(branch=branch, name="黄志强", mobile="13812345678")
    reading = OdometerReadingFactory(vehicle__owner=customer)
    contact = ContactFactory(customer=customer, mobile="13612345678")
    services.timeline_add(customer=customer, kind="customer_created")
    return {
        "customer": customer,
        "contact": contact,
        "vehicle": reading.vehicle,
        "odometer-reading": reading,
    }


@pytest.fixture
def intruder(other_branch_user):
    """The other branch's consultant promoted to branch manager: every permission passes, so
    only the branch scope stands between them and the records."""
    other_branch_user.groups.add(Group.objects.get(name=Role.BRANCH_MANAGER))
    return other_branch_user


@pytest.fixture
def their_customer(other_branch):
    return CustomerFactory(branch=other_branch, name="林雪梅", mobile="13712349999")


def payload_for(url_name: str, their_customer) -> dict:
    """A body that would be valid for the intruder, so only the scope can refuse it."""
    return {
        "customer-detail": {"name": "黄志刚", "mobile": "13812345678"},
        "customer-merge": {"duplicate": their_customer.pk},
        "contact-detail": {
            "customer": their_customer.pk,
            "name": "林雪芳",
            "mobile": "13612345678",
        },
        "vehicle-detail": {"colour": "红色", "vin": vin(99)},
        "vehicle-transfer": {"new_owner": their_customer.pk},
    }.get(url_name, {})


DETAIL_ENDPOINTS = [
    ("customer-detail", "customer", "get"),
    ("customer-detail", "customer", "put"),
    ("customer-detail", "customer", "patch"),
    ("customer-detail", "customer", "delete"),
    ("customer-merge", "customer", "post"),
    ("customer-timeline", "customer", "get"),
    ("contact-detail", "contact", "get"),
    ("contact-detail", "contact", "put"),
    ("contact-detail", "contact", "patch"),
    ("contact-detail", "contact", "delete"),
    ("vehicle-detail", "vehicle", "get"),
    ("vehicle-detail", "vehicle", "put"),
    ("vehicle-detail", "vehicle", "patch"),
    ("vehicle-transfer", "vehicle", "post"),
    ("odometer-reading-detail", "odometer-reading", "get"),
]


@pytest.mark.parametrize(
    ("url_name", "kind", "method"),
    DETAIL_ENDPOINTS,
    ids=[f"{method.upper()} {name}" for name, _kind, method in DETAIL_ENDPOINTS],
)
def test_other_branch_record_is_404(
    api_as, intruder, records, their_customer, url_name, kind, method
):
    # given a record of the personas' branch and a manager of the other branch
    url = reverse(f"api:{url_name}", args=[records[kind].pk])
    # when the manager calls the endpoint on it
    response = getattr(api_as(intruder), method)(
        url, payload_for(url_name, their_customer), format="json"
    )
    # then the record does not exist for them, and nothing changed
    assert response.status_code == 404
    assert Customer.objects.get(pk=records["customer"].pk).name == "黄志强"
    assert Vehicle.objects.get(pk=records["vehicle"].pk).owner_id == records["customer"].pk
    assert Contact.objects.filter(pk=records["contact"].pk).exists()
    assert not Customer.objects.filter(merged_into__isnull=False).exists()


@pytest.mark.parametrize(
    ("url_name", "kind"),
    [
        ("customer-detail", "customer"),
        ("contact-detail", "contact"),
        ("vehicle-detail", "vehicle"),
        ("odometer-reading-detail", "odometer-reading"),
    ],
)
def test_other_branch_consultant_gets_404_not_403(
    api_as, other_branch_user, records, url_name, kind
):
    # given a record of the personas' branch and a consultant of the other branch
    # when the consultant opens it
    response = api_as(other_branch_user).get(reverse(f"api:{url_name}", args=[records[kind].pk]))
    # then it is invisible, never merely forbidden
    assert response.status_code == 404


LISTS = ["customer-list", "contact-list", "vehicle-list", "odometer-reading-list"]
LIST_KIND = {
    "customer-list": "customer",
    "contact-list": "contact",
    "vehicle-list": "vehicle",
    "odometer-reading-list": "odometer-reading",
}


@pytest.mark.parametrize("url_name", LISTS)
def test_lists_leave_out_other_branch_records(api_as, intruder, records, url_name):
    # given records of the personas' branch
    # when the other branch's manager lists them
    response = api_as(intruder).get(reverse(f"api:{url_name}"))
    # then none of them is listed
    assert response.status_code == 200
    assert records[LIST_KIND[url_name]].pk not in [row["id"] for row in response.json()["results"]]


def test_duplicates_leave_out_other_branch_customers(api_as, intruder, records):
    # given a customer of the personas' branch with a mobile phone
    # when the other branch looks for duplicates of that number
    response = api_as(intruder).get(reverse("api:customer-duplicates"), {"mobile": "13812345678"})
    # then nothing is found
    assert response.json() == []


def test_search_leaves_out_other_branch_customers(api_as, intruder, records):
    # given a customer of the personas' branch
    # when the other branch searches for its mobile's last digits
    response = api_as(intruder).get(reverse("api:customer-list"), {"search": "5678"})
    # then nothing is found
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("url_name", "payload", "field"),
    [
        ("vehicle-list", {"owner": "{customer}", "vin": vin(98)}, "owner"),
        (
            "contact-list",
            {"customer": "{customer}", "name": "林雪芳", "mobile": "13612340000"},
            "customer",
        ),
        ("odometer-reading-list", {"vehicle": "{vehicle}", "km": 90_000}, "vehicle"),
    ],
)
def test_other_branch_record_cannot_be_referenced(
    api_as, intruder, records, url_name, payload, field
):
    # given records of the personas' branch
    refs = {"{customer}": records["customer"].pk, "{vehicle}": records["vehicle"].pk}
    payload = {key: refs.get(value, value) for key, value in payload.items()}
    # when the other branch posts a record pointing at one of them
    response = api_as(intruder).post(reverse(f"api:{url_name}"), payload, format="json")
    # then the reference is refused as not existing
    assert response.status_code == 400
    assert field in response.json()


def test_other_branch_customer_cannot_be_merged_or_receive_a_vehicle(
    api_as, branch_manager, records, their_customer
):
    # given a branch manager of the personas' branch and a customer of the other branch
    client = api_as(branch_manager)
    customer, vehicle = records["customer"], records["vehicle"]
    # when they merge it into their customer, or transfer their vehicle to it
    merged = client.post(
        reverse("api:customer-merge", args=[customer.pk]),
        {"duplicate": their_customer.pk},
        format="json",
    )
    moved = client.post(
        reverse("api:vehicle-transfer", args=[vehicle.pk]),
        {"new_owner": their_customer.pk},
        format="json",
    )
    # then the other branch's customer is unknown to them
    assert merged.status_code == 400 and "duplicate" in merged.json()
    assert moved.status_code == 400 and "new_owner" in moved.json()


@pytest.mark.parametrize("url_name", LISTS)
def test_group_manager_lists_both_branches(api_as, group_manager, records, url_name, other_branch):
    # given records in the personas' branch and a customer with a vehicle in the other
    theirs = OdometerReadingFactory(vehicle__owner__branch=other_branch)
    ContactFactory(customer=theirs.vehicle.owner)
    # when the group manager lists them
    rows = api_as(group_manager).get(reverse(f"api:{url_name}")).json()["results"]
    # then both branches' records are there
    assert len(rows) == 2


@pytest.mark.parametrize(
    ("url_name", "kind"),
    [
        ("customer-detail", "customer"),
        ("customer-timeline", "customer"),
        ("contact-detail", "contact"),
        ("vehicle-detail", "vehicle"),
        ("odometer-reading-detail", "odometer-reading"),
    ],
)
def test_group_manager_opens_other_branch_records(
    api_as, group_manager, other_branch, url_name, kind
):
    # given records of the other branch
    reading = OdometerReadingFactory(vehicle__owner__branch=other_branch)
    theirs = {
        "customer": reading.vehicle.owner,
        "vehicle": reading.vehicle,
        "odometer-reading": reading,
        "contact": ContactFactory(customer=reading.vehicle.owner),
    }
    # when the group manager opens one
    response = api_as(group_manager).get(reverse(f"api:{url_name}", args=[theirs[kind].pk]))
    # then it is shown
    assert response.status_code == 200


def test_group_manager_files_a_customer_under_the_other_branch(api_as, group_manager, other_branch):
    # given a group manager of both branches
    # when they post a customer naming the other branch
    response = api_as(group_manager).post(
        reverse("api:customer-list"),
        {
            "name": "林雪梅",
            "branch": other_branch.pk,
            "mobile": "13712349999",
        },
        format="json",
    )
    # then it is filed there
    assert response.status_code == 201
    assert Customer.objects.get(pk=response.json()["id"]).branch == other_branch


def test_vehicle_transfer_across_branches_for_group_manager(
    api_as, group_manager, records, their_customer
):
    # given a vehicle of one branch and a buyer in the other
    vehicle = records["vehicle"]
    # when the group manager transfers it
    response = api_as(group_manager).post(
        reverse("api:vehicle-transfer", args=[vehicle.pk]),
        {"new_owner": their_customer.pk, "transferred_on": str(timezone.localdate())},
        format="json",
    )
    # then the buyer owns it
    assert response.status_code == 200
    vehicle.refresh_from_db()
    assert vehicle.owner == their_customer
