"""UNDER CONSTRUCTION: replace every function below with the real page."""


def rescue_list(request, **kwargs):
    raise NotImplementedError


def rescue_create(request, **kwargs):
    raise NotImplementedError


def rescue_detail(request, **kwargs):
    raise NotImplementedError


def rescue_step(request, **kwargs):
    raise NotImplementedError
