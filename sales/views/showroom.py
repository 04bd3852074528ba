"""TEMPORARY: replaced by the real pages."""


def traffic(request, pk=None):
    raise NotImplementedError


def traffic_count(request, pk=None):
    raise NotImplementedError


def test_drive_create(request, pk=None):
    raise NotImplementedError


def test_drive_list(request, pk=None):
    raise NotImplementedError


def test_drive_detail(request, pk=None):
    raise NotImplementedError


def test_drive_complete(request, pk=None):
    raise NotImplementedError


def test_drive_cancel(request, pk=None):
    raise NotImplementedError
