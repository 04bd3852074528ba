"""TEMPORARY: replaced by the real pages."""


def quote_create(request, pk=None):
    raise NotImplementedError


def quote_list(request, pk=None):
    raise NotImplementedError


def quote_detail(request, pk=None):
    raise NotImplementedError


def quote_edit(request, pk=None):
    raise NotImplementedError


def quote_print(request, pk=None):
    raise NotImplementedError


def quote_submit(request, pk=None):
    raise NotImplementedError


def quote_approve(request, pk=None):
    raise NotImplementedError


def quote_reject(request, pk=None):
    raise NotImplementedError


def quote_send(request, pk=None):
    raise NotImplementedError
