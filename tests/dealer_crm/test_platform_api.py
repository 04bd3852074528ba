"""Platform endpoints: who am I, branches and staff, each scoped to the caller's branches."""

import pytest

pytestmark = pytest.mark.django_db


def test_me_tells_roles_branches_and_permissions(api_as, customer_care, branch):
    # given a customer-care agent of one branch
    # when they ask who they are
    response = api_as(customer_care).get("/api/v1/me/")
    # then the answer names their role, branch and personal-data permission
    body = response.json()
    assert response.status_code == 200
    assert body["roles"] == ["customer_care"]
    assert body["branches"] == [branch.pk]
    assert body["working_branch"] == branch.pk
    assert "customers.view_pii" in body["permissions"]


def test_me_needs_authentication(api_client):
    # given an anonymous client
    # when it asks who it is
    # then it is told to authenticate
    assert api_client.get("/api/v1/me/").status_code == 401


def test_branches_lists_only_the_callers_branches(api_as, consultant, branch, other_branch):
    # given a consultant of one of two branches
    # when they list branches
    response = api_as(consultant).get("/api/v1/branches/")
    # then only their branch is listed, and the other is 404
    assert [row["id"] for row in response.json()["results"]] == [branch.pk]
    assert api_as(consultant).get(f"/api/v1/branches/{other_branch.pk}/").status_code == 404


def test_group_manager_lists_every_branch(api_as, group_manager, branch, other_branch):
    # given a group manager
    # when they list branches
    response = api_as(group_manager).get("/api/v1/branches/")
    # then both branches are listed
    assert {row["id"] for row in response.json()["results"]} == {branch.pk, other_branch.pk}


def test_staff_list_is_scoped_and_needs_the_permission(
    api_as, branch_manager, consultant, other_branch_user
):
    # given staff in two branches
    # when the branch manager lists staff
    response = api_as(branch_manager).get("/api/v1/staff/")
    # then only their branch's staff appear, with their roles
    usernames = {row["username"]: row["roles"] for row in response.json()["results"]}
    assert usernames == {
        "branch_manager": ["branch_manager"],
        "sales_consultant": ["sales_consultant"],
    }
    # and a consultant, who lacks view_staff, is refused
    assert api_as(consultant).get("/api/v1/staff/").status_code == 403
