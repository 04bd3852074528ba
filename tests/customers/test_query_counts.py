"""List pages and endpoints issue a fixed number of queries whatever their page size."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests.factories import ContactFactory, CustomerFactory, VehicleFactory

pytestmark = pytest.mark.django_db

# Generous bound: what matters is that 100 rows cost the same as 10.
MAX_QUERIES = 20


@pytest.fixture
def many_customers(branch, consultant, advisor):
    """110 customers of the branch, each with a vehicle, a contact and assigned staff."""
    customers = CustomerFactory.create_batch(
        110, branch=branch, consultant=consultant, advisor=advisor
    )
    for customer in customers:
        VehicleFactory(owner=customer)
        ContactFactory(customer=customer)
    return customers


def api_queries(user: User, url: str, assert_max_queries) -> int:
    """Queries of one API request, as a fresh client of a freshly loaded user would make."""
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    with assert_max_queries(MAX_QUERIES) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def page_queries(client, url: str, assert_max_queries) -> int:
    with assert_max_queries(MAX_QUERIES) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/api/v1/customers/", "/api/v1/vehicles/", "/api/v1/contacts/"])
@pytest.mark.parametrize("persona", ["consultant", "customer_care"])
def test_api_list_queries_do_not_grow_with_the_page(
    request, many_customers, django_assert_max_num_queries, url, persona
):
    # given 110 customers with vehicles and contacts, and a user who sees them masked or in full
    user = request.getfixturevalue(persona)
    # when a page of 10 and a page of 100 are fetched
    ten = api_queries(user, f"{url}?limit=10", django_assert_max_num_queries)
    hundred = api_queries(user, f"{url}?limit=100", django_assert_max_num_queries)
    # then both cost the same number of queries (the access log is one insert)
    assert hundred == ten, (ten, hundred)


def test_odometer_readings_list_queries_do_not_grow(
    consultant, branch, django_assert_max_num_queries
):
    # given 110 vehicles with a reading each
    for vehicle in VehicleFactory.create_batch(110, owner__branch=branch):
        vehicle.odometer_readings.create(km=1000, read_on="2024-01-01")
    url = "/api/v1/odometer-readings/"
    # when a page of 10 and a page of 100 are fetched
    ten = api_queries(consultant, f"{url}?limit=10", django_assert_max_num_queries)
    hundred = api_queries(consultant, f"{url}?limit=100", django_assert_max_num_queries)
    # then both cost the same
    assert hundred == ten, (ten, hundred)


def test_customer_timeline_queries_do_not_grow(consultant, branch, django_assert_max_num_queries):
    # given a customer with 110 timeline entries by a staff member
    from customers import services

    customer = CustomerFactory(branch=branch)
    for _ in range(110):
        services.timeline_add(customer=customer, kind="customer_edited", actor=consultant)
    url = f"/api/v1/customers/{customer.pk}/timeline/"
    # when a page of 10 and a page of 100 are fetched
    ten = api_queries(consultant, f"{url}?limit=10", django_assert_max_num_queries)
    hundred = api_queries(consultant, f"{url}?limit=100", django_assert_max_num_queries)
    # then both cost the same
    assert hundred == ten, (ten, hundred)


@pytest.mark.parametrize("path", ["/customers/", "/customers/incomplete/", "/vehicles/"])
@pytest.mark.parametrize("persona", ["consultant", "customer_care"])
def test_list_page_queries_do_not_grow_with_the_page(
    request, client, many_customers, django_assert_max_num_queries, path, persona
):
    # given 110 customers with vehicles, and a user logged in to the pages
    client.force_login(request.getfixturevalue(persona))
    # when a page of 10 and a page of 100 rows are shown
    ten = page_queries(client, f"{path}?size=10", django_assert_max_num_queries)
    hundred = page_queries(client, f"{path}?size=100", django_assert_max_num_queries)
    # then both cost the same number of queries
    assert hundred == ten, (ten, hundred)


def test_filtered_and_searched_customer_list_queries_do_not_grow(
    client, consultant, many_customers, django_assert_max_num_queries
):
    # given 110 customers, all matching the search "139"
    client.force_login(consultant)
    query = "search=1390&vehicle_age_segment=out_of_warranty&sort=-completeness"
    # when pages of 10 and 100 are shown
    ten = page_queries(client, f"/customers/?{query}&size=10", django_assert_max_num_queries)
    hundred = page_queries(client, f"/customers/?{query}&size=100", django_assert_max_num_queries)
    # then both cost the same
    assert hundred == ten, (ten, hundred)
