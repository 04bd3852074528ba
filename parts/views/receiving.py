"""UNDER CONSTRUCTION: replace every function below with the real page."""


def purchase_order_list(request, **kwargs):
    raise NotImplementedError


def purchase_order_create(request, **kwargs):
    raise NotImplementedError


def purchase_order_detail(request, **kwargs):
    raise NotImplementedError


def purchase_order_place(request, **kwargs):
    raise NotImplementedError


def purchase_order_cancel(request, **kwargs):
    raise NotImplementedError


def purchase_order_close(request, **kwargs):
    raise NotImplementedError


def receipt_create(request, **kwargs):
    raise NotImplementedError


def receipt_list(request, **kwargs):
    raise NotImplementedError


def receipt_detail(request, **kwargs):
    raise NotImplementedError


def receipt_register(request, **kwargs):
    raise NotImplementedError


def receipt_print(request, **kwargs):
    raise NotImplementedError
