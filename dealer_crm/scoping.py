"""Branch scoping: the one mechanism every page and endpoint reads records through.

A model opts in with `objects = BranchScopedQuerySet.as_manager()` and names the path to its
branch in `branch_lookup`. Staff see their branches' records; group managers see all.
"""

from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from django.http import Http404

from .choices import Role
from .models import Branch

SESSION_BRANCH_KEY = "branch_id"


def sees_all_branches(user: User | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    if not hasattr(user, "_sees_all_branches"):
        user._sees_all_branches = (
            user.is_superuser or user.groups.filter(name=Role.GROUP_MANAGER).exists()
        )
    return user._sees_all_branches


def branch_ids_for(user: User | AnonymousUser) -> list[int]:
    """The branches whose records this user may see (all of them for a group manager)."""
    if not user.is_authenticated:
        return []
    if not hasattr(user, "_branch_ids"):
        branches = (
            Branch.objects.all()
            if sees_all_branches(user)
            else Branch.objects.filter(staff__user=user)
        )
        user._branch_ids = list(branches.order_by("code").values_list("pk", flat=True))
    return user._branch_ids


def working_branch(request) -> Branch | None:
    """The branch new records are filed under: the one picked in the session, else the first."""
    allowed = branch_ids_for(request.user)
    if not allowed:
        return None
    chosen = request.session.get(SESSION_BRANCH_KEY) if hasattr(request, "session") else None
    return Branch.objects.get(pk=chosen if chosen in allowed else allowed[0])


class BranchScopedQuerySet(models.QuerySet):
    def for_user(self, user: User | AnonymousUser) -> "BranchScopedQuerySet":
        if sees_all_branches(user):
            return self
        return self.filter(**{f"{self.model.branch_lookup}__in": branch_ids_for(user)})

    def get_for_user_or_404(self, user: User | AnonymousUser, **lookup):
        try:
            return self.for_user(user).get(**lookup)
        except (self.model.DoesNotExist, ValueError, TypeError):
            raise Http404 from None
