"""Loyalty pages."""


def account_list(request):
    raise NotImplementedError


def rule_page(request):
    raise NotImplementedError


def statement(request, customer_pk):
    raise NotImplementedError
