"""UNDER CONSTRUCTION: replace every function below with the real page."""


def service_figures_page(request, **kwargs):
    raise NotImplementedError
