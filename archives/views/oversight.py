"""UNDER CONSTRUCTION"""

def nonconformity_list(request):
    raise NotImplementedError


def points_page(request):
    raise NotImplementedError


def missing_list(request):
    raise NotImplementedError


def missing_detail(request, pk: int):
    raise NotImplementedError


def reconciliation_list(request):
    raise NotImplementedError


def reconciliation_run(request):
    raise NotImplementedError


def retention_page(request):
    raise NotImplementedError


def disposal_action(request, pk: int, action: str):
    raise NotImplementedError


def figures_page(request):
    raise NotImplementedError
