"""Each role is a Django group holding exactly the permissions declared in code."""

import pytest
from django.contrib.auth.models import Group, Permission

from dealer_crm.choices import Role
from dealer_crm.roles import ROLE_PERMISSIONS, roles_sync

pytestmark = pytest.mark.django_db


def group_permissions(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_every_role_has_a_group_after_migrate():
    # given a freshly migrated database
    # when the groups are listed
    names = set(Group.objects.values_list("name", flat=True))
    # then there is one group per role
    assert set(Role.values) <= names


@pytest.mark.parametrize("role", Role.values)
def test_roles_sync_gives_each_group_exactly_its_permissions(role):
    # given a group that lost one permission and gained an unrelated one
    group = Group.objects.get(name=role)
    group.permissions.remove(*group.permissions.all()[:1])
    group.permissions.add(Permission.objects.get(codename="delete_staff"))
    # when roles are synced
    roles_sync()
    # then the group holds exactly what the role declares
    assert group_permissions(role) == set(ROLE_PERMISSIONS[role])


def test_roles_sync_twice_changes_nothing():
    # given synced roles
    roles_sync()
    before = {role: group_permissions(role) for role in Role.values}
    groups_before = Group.objects.count()
    # when they are synced again
    roles_sync()
    # then the groups and their permissions are the same
    assert {role: group_permissions(role) for role in Role.values} == before
    assert Group.objects.count() == groups_before


def test_roles_sync_recreates_a_deleted_group():
    # given the parts clerk group was deleted by hand
    Group.objects.filter(name=Role.PARTS_CLERK).delete()
    # when roles are synced
    roles_sync()
    # then it exists again with its permissions
    assert group_permissions(Role.PARTS_CLERK) == set(ROLE_PERMISSIONS[Role.PARTS_CLERK])


def test_only_managers_and_customer_care_see_personal_data():
    # given the declared roles
    # when we ask which may see full phone and ID numbers
    allowed = {role for role, perms in ROLE_PERMISSIONS.items() if "customers.view_pii" in perms}
    # then only customer care and the managers may
    assert allowed == {Role.CUSTOMER_CARE, Role.BRANCH_MANAGER, Role.GROUP_MANAGER}


def test_parts_clerk_only_reads_customers(parts_clerk):
    # given a parts clerk
    # when their permissions are checked
    # then they may read customers but not add or change them
    assert parts_clerk.has_perm("customers.view_customer")
    assert not parts_clerk.has_perm("customers.add_customer")
    assert not parts_clerk.has_perm("customers.change_vehicle")
