"""UNDER CONSTRUCTION: replace every function below with the real page."""


def stock_list(request, **kwargs):
    raise NotImplementedError


def stock_detail(request, **kwargs):
    raise NotImplementedError


def stock_levels(request, **kwargs):
    raise NotImplementedError


def stock_bin(request, **kwargs):
    raise NotImplementedError


def bin_map(request, **kwargs):
    raise NotImplementedError


def bin_create(request, **kwargs):
    raise NotImplementedError


def move_list(request, **kwargs):
    raise NotImplementedError
