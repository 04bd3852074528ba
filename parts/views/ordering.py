"""UNDER CONSTRUCTION: replace every function below with the real page."""


def suggestion_list(request, **kwargs):
    raise NotImplementedError


def suggestion_compute(request, **kwargs):
    raise NotImplementedError


def suggestion_order(request, **kwargs):
    raise NotImplementedError


def suggestion_dismiss(request, **kwargs):
    raise NotImplementedError


def emergency_order_list(request, **kwargs):
    raise NotImplementedError


def emergency_order_create(request, **kwargs):
    raise NotImplementedError


def emergency_order_detail(request, **kwargs):
    raise NotImplementedError


def emergency_order_step(request, **kwargs):
    raise NotImplementedError
