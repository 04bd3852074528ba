"""UNDER CONSTRUCTION: replace every function below with the real page."""


def account_list(request, **kwargs):
    raise NotImplementedError


def account_register(request, **kwargs):
    raise NotImplementedError


def account_detail(request, **kwargs):
    raise NotImplementedError


def account_action(request, **kwargs):
    raise NotImplementedError


def agreement_detail(request, **kwargs):
    raise NotImplementedError
