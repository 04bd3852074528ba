"""UNDER CONSTRUCTION"""

def work_queue_page(request):
    raise NotImplementedError


def file_list(request):
    raise NotImplementedError


def file_detail(request, pk: int):
    raise NotImplementedError


def document_upload(request, pk: int):
    raise NotImplementedError


def section_check(request, pk: int):
    raise NotImplementedError


def section_exempt(request, pk: int):
    raise NotImplementedError


def document_list(request):
    raise NotImplementedError


def document_download(request, pk: int):
    raise NotImplementedError


def document_audit(request, pk: int):
    raise NotImplementedError
