"""Role permissions on the API: reads need the view permission, commands their own."""

import pytest

from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_user_without_a_role_cannot_read_customers(api_as, branch):
    # given a staff user of the branch with no role
    user = UserFactory(branches=[branch])
    CustomerFactory(branch=branch)
    # when they list customers
    response = api_as(user).get("/api/v1/customers/")
    # then reading is refused: GET needs the view permission too
    assert response.status_code == 403


def test_parts_clerk_reads_but_cannot_create_customers(api_as, parts_clerk, branch):
    # given a parts clerk
    # when they list customers and then try to create one
    listed = api_as(parts_clerk).get("/api/v1/customers/")
    created = api_as(parts_clerk).post(
        "/api/v1/customers/", {"name": "周晓燕", "mobile": "13712345678"}, format="json"
    )
    # then reading works and creating is forbidden
    assert listed.status_code == 200
    assert created.status_code == 403


def test_consultant_cannot_merge_customers(api_as, consultant, branch):
    # given two customers of the consultant's branch
    keep, duplicate = CustomerFactory.create_batch(2, branch=branch)
    # when the consultant tries to merge them
    response = api_as(consultant).post(
        f"/api/v1/customers/{keep.pk}/merge/", {"duplicate": duplicate.pk}, format="json"
    )
    # then the merge command is forbidden and nothing is merged
    assert response.status_code == 403
    duplicate.refresh_from_db()
    assert duplicate.merged_into is None


def test_sales_manager_may_merge_customers(api_as, sales_manager, branch):
    # given two customers of the sales manager's branch
    keep, duplicate = CustomerFactory.create_batch(2, branch=branch)
    # when the sales manager merges them
    response = api_as(sales_manager).post(
        f"/api/v1/customers/{keep.pk}/merge/", {"duplicate": duplicate.pk}, format="json"
    )
    # then the merge goes through
    assert response.status_code == 200
    duplicate.refresh_from_db()
    assert duplicate.merged_into == keep
