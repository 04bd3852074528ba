"""TEMPORARY: replaced by the real pages."""


def lead_list(request, pk=None):
    raise NotImplementedError


def follow_up_today(request, pk=None):
    raise NotImplementedError


def lead_create(request, pk=None):
    raise NotImplementedError


def lead_detail(request, pk=None):
    raise NotImplementedError


def lead_edit(request, pk=None):
    raise NotImplementedError


def lead_verify(request, pk=None):
    raise NotImplementedError


def lead_assign(request, pk=None):
    raise NotImplementedError


def activity_create(request, pk=None):
    raise NotImplementedError


def lead_lose(request, pk=None):
    raise NotImplementedError


def lead_invalidate(request, pk=None):
    raise NotImplementedError


def lead_link_customer(request, pk=None):
    raise NotImplementedError


def trade_in_create(request, pk=None):
    raise NotImplementedError


def trade_in_decide(request, pk=None):
    raise NotImplementedError
