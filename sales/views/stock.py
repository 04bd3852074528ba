"""TEMPORARY: replaced by the real pages."""


def stock_list(request, pk=None):
    raise NotImplementedError


def stock_create(request, pk=None):
    raise NotImplementedError


def stock_detail(request, pk=None):
    raise NotImplementedError


def stock_edit(request, pk=None):
    raise NotImplementedError


def stock_arrive(request, pk=None):
    raise NotImplementedError


def stock_pdi(request, pk=None):
    raise NotImplementedError


def stock_demo(request, pk=None):
    raise NotImplementedError
