"""The service figures page's choice of period and branch: the same presets, custom dates and
checks as the parts figures page, so both read alike."""

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from dealer_crm.choices import Role
from dealer_crm.forms import FiguresForm, bootstrap_widgets
from dealer_crm.models import display_name
from dealer_crm.periods import PERIODS, PRESET_PERIODS, period_bounds
from dealer_crm.scoping import branch_ids_for

__all__ = ["PERIODS", "PRESET_PERIODS", "ServiceFiguresForm", "period_bounds"]


class ServiceFiguresForm(FiguresForm):
    """This month, last month, this year or custom dates (at most five years), over the
    user's branches or one of them, and optionally one advisor's work orders."""

    advisor = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label=_("Service advisor")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        # The advisors of the user's branches, to read one advisor's figures.
        self.fields["advisor"].queryset = (
            User.objects.filter(
                groups__name=Role.SERVICE_ADVISOR, staff__branches__in=branch_ids_for(user)
            )
            .distinct()
            .order_by("username")
        )
        self.fields["advisor"].label_from_instance = display_name
        bootstrap_widgets(self, mark_errors=False)
