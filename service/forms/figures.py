"""The service figures page's choice of period and branch: the same presets, custom dates and
checks as the parts figures page, so both read alike."""

from parts.forms.figures import PERIODS, PRESET_PERIODS, FiguresForm, period_bounds

__all__ = ["PERIODS", "PRESET_PERIODS", "ServiceFiguresForm", "period_bounds"]


class ServiceFiguresForm(FiguresForm):
    """This month, last month, this year or custom dates (at most five years), over the
    user's branches or one of them."""
