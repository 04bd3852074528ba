"""UNDER CONSTRUCTION: replace every function below with the real page."""


def work_order_detail(request, **kwargs):
    raise NotImplementedError


def work_order_print(request, **kwargs):
    raise NotImplementedError


def work_order_action(request, **kwargs):
    raise NotImplementedError


def labour_line_action(request, **kwargs):
    raise NotImplementedError


def part_line_remove(request, **kwargs):
    raise NotImplementedError


def added_item_confirm(request, **kwargs):
    raise NotImplementedError


def recommendation_decide(request, **kwargs):
    raise NotImplementedError


def checklist_item_mark(request, **kwargs):
    raise NotImplementedError


def settlement_print(request, **kwargs):
    raise NotImplementedError
