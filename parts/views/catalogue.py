"""UNDER CONSTRUCTION: replace every function below with the real page."""


def part_list(request, **kwargs):
    raise NotImplementedError


def part_create(request, **kwargs):
    raise NotImplementedError


def part_detail(request, **kwargs):
    raise NotImplementedError


def part_edit(request, **kwargs):
    raise NotImplementedError


def part_supersede(request, **kwargs):
    raise NotImplementedError


def supplier_list(request, **kwargs):
    raise NotImplementedError


def supplier_create(request, **kwargs):
    raise NotImplementedError


def supplier_edit(request, **kwargs):
    raise NotImplementedError
