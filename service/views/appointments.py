"""UNDER CONSTRUCTION: replace every function below with the real page."""


def appointment_day(request, **kwargs):
    raise NotImplementedError


def appointment_create(request, **kwargs):
    raise NotImplementedError


def appointment_detail(request, **kwargs):
    raise NotImplementedError


def appointment_step(request, **kwargs):
    raise NotImplementedError


def slots_open(request, **kwargs):
    raise NotImplementedError
