"""TEMPORARY: replaced by the real pages."""


def order_create(request, pk=None):
    raise NotImplementedError


def order_list(request, pk=None):
    raise NotImplementedError


def order_detail(request, pk=None):
    raise NotImplementedError


def order_sign(request, pk=None):
    raise NotImplementedError


def payment_create(request, pk=None):
    raise NotImplementedError


def payment_receive(request, pk=None):
    raise NotImplementedError


def order_allocate(request, pk=None):
    raise NotImplementedError


def order_invoice(request, pk=None):
    raise NotImplementedError


def order_cancel(request, pk=None):
    raise NotImplementedError


def delivery_create(request, pk=None):
    raise NotImplementedError
