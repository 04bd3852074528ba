"""UNDER CONSTRUCTION"""

def batch_list(request):
    raise NotImplementedError


def batch_detail(request, pk: int):
    raise NotImplementedError


def batch_print(request, pk: int):
    raise NotImplementedError


def batch_receive(request, pk: int):
    raise NotImplementedError
