"""UNDER CONSTRUCTION: replace every function below with the real page."""


def deal_list(request, **kwargs):
    raise NotImplementedError


def deal_create(request, **kwargs):
    raise NotImplementedError


def deal_detail(request, **kwargs):
    raise NotImplementedError


def settlement_statement(request, **kwargs):
    raise NotImplementedError


def deal_action(request, **kwargs):
    raise NotImplementedError


def order_action(request, **kwargs):
    raise NotImplementedError


def request_list(request, **kwargs):
    raise NotImplementedError


def request_decide(request, **kwargs):
    raise NotImplementedError


def fleet_figures_page(request, **kwargs):
    raise NotImplementedError
