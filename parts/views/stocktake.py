"""UNDER CONSTRUCTION: replace every function below with the real page."""


def stocktake_list(request, **kwargs):
    raise NotImplementedError


def stocktake_create(request, **kwargs):
    raise NotImplementedError


def stocktake_detail(request, **kwargs):
    raise NotImplementedError


def stocktake_count(request, **kwargs):
    raise NotImplementedError


def stocktake_approve(request, **kwargs):
    raise NotImplementedError


def stocktake_cancel(request, **kwargs):
    raise NotImplementedError
