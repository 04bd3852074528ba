"""UNDER CONSTRUCTION"""


def call_centre(request):
    raise NotImplementedError


def call_list(request):
    raise NotImplementedError


def call_detail(request, pk: int):
    raise NotImplementedError


def call_attempt(request, pk: int):
    raise NotImplementedError


def call_reassign(request, pk: int):
    raise NotImplementedError
