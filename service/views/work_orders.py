"""UNDER CONSTRUCTION: replace every function below with the real page."""


def work_order_list(request, **kwargs):
    raise NotImplementedError


def work_order_create(request, **kwargs):
    raise NotImplementedError


def technician_board(request, **kwargs):
    raise NotImplementedError
