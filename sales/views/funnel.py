"""TEMPORARY: replaced by the real pages."""


def funnel_figures(request, pk=None):
    raise NotImplementedError
