"""UNDER CONSTRUCTION"""


def complaint_list(request):
    raise NotImplementedError


def complaint_create(request):
    raise NotImplementedError


def complaint_detail(request, pk: int):
    raise NotImplementedError


def complaint_action(request, pk: int, action: str):
    raise NotImplementedError


def inquiry_list(request):
    raise NotImplementedError


def inquiry_create(request):
    raise NotImplementedError


def inquiry_answer(request, pk: int):
    raise NotImplementedError
