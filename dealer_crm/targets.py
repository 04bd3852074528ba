"""Monthly targets of the figures that take them (DOMAIN §8): set and removed here only, by a
manager of the branch; every change is kept in the target's history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .audit import attribute_to
from .errors import DomainError
from .kpis import Unit, kpi_registry
from .models import Branch, KpiTarget
from .scoping import branch_ids_for


def target_figures() -> list:
    """The figures monthly targets are set for, in the registry's order."""
    return [kpi for kpi in kpi_registry().values() if kpi.targets and kpi.measured]


def _check_scope(by: User, branch: Branch) -> None:
    if branch.pk not in branch_ids_for(by):
        raise DomainError(
            "target_branch_out_of_scope",
            _("You do not manage that branch's targets."),
            field="branch",
        )


@transaction.atomic
def kpi_target_set(
    *,
    by: User,
    branch: Branch,
    code: str,
    month: date,
    value,
    person: User | None = None,
) -> KpiTarget:
    """Set the month's target of a figure for the branch, or for one person in it: a new one,
    or the one already set changed. The value is positive; a rate's is a share (≤ 1)."""
    kpi = kpi_registry().get(code)
    if kpi is None or not kpi.targets:
        raise DomainError(
            "target_figure_without_targets", _("That figure takes no targets."), field="code"
        )
    _check_scope(by, branch)
    if month.day != 1:
        raise DomainError(
            "target_month_not_first_day", _("A target is for a whole month."), field="month"
        )
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise DomainError("target_not_a_number", _("Give a number."), field="value") from None
    if not value.is_finite() or value <= 0:
        raise DomainError("target_not_positive", _("A target is a positive number."), field="value")
    if kpi.unit == Unit.PERCENT and value > 1:
        raise DomainError(
            "target_share_above_one",
            _("A rate's target is a share from 0 to 1 (0.99 for 99%)."),
            field="value",
        )
    if person is not None:
        if not kpi.per_person:
            raise DomainError(
                "target_figure_not_per_person",
                _("That figure has no values per person."),
                field="person",
            )
        if not Branch.objects.filter(pk=branch.pk, staff__user=person).exists():
            raise DomainError(
                "target_person_not_in_branch",
                _("That person does not work in the branch."),
                field="person",
            )
    target = (
        KpiTarget.objects.select_for_update()
        .filter(branch=branch, person=person, code=code, month=month)
        .first()
    )
    if target is None:
        target = KpiTarget(branch=branch, person=person, code=code, month=month)
    elif target.value == value:
        return target
    target.value = value
    attribute_to(target, by)
    target.save()
    return target


@transaction.atomic
def kpi_target_delete(*, by: User, target: KpiTarget) -> None:
    """Remove a month's target (its history keeps what it was)."""
    _check_scope(by, target.branch)
    attribute_to(target, by)
    target.delete()
