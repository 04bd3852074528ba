"""UNDER CONSTRUCTION: replace every function below with the real page."""


def issue_list(request, **kwargs):
    raise NotImplementedError


def issue_create(request, **kwargs):
    raise NotImplementedError


def issue_detail(request, **kwargs):
    raise NotImplementedError


def issue_advance(request, **kwargs):
    raise NotImplementedError


def issue_cancel(request, **kwargs):
    raise NotImplementedError


def issue_print(request, **kwargs):
    raise NotImplementedError


def issue_return(request, **kwargs):
    raise NotImplementedError


def lost_sale_list(request, **kwargs):
    raise NotImplementedError


def lost_sale_create(request, **kwargs):
    raise NotImplementedError
