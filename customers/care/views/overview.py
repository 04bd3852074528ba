"""UNDER CONSTRUCTION"""


def segments_page(request):
    raise NotImplementedError


def segments_recompute(request):
    raise NotImplementedError


def after_sales_report_page(request):
    raise NotImplementedError


def operations_page(request):
    raise NotImplementedError
