from rest_framework.permissions import DjangoModelPermissions


class RoleModelPermissions(DjangoModelPermissions):
    """Model permissions for every method, reads included; actions may name their own.

    A viewset declares `action_permissions = {"merge": ["customers.merge_customers"]}` for
    business commands that need more than the model's add/change permission.
    """

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        required = getattr(view, "action_permissions", {}).get(getattr(view, "action", None), [])
        return request.user.has_perms(required)
