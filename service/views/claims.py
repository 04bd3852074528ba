"""UNDER CONSTRUCTION: replace every function below with the real page."""


def warranty_claim_list(request, **kwargs):
    raise NotImplementedError


def warranty_claim_create(request, **kwargs):
    raise NotImplementedError


def warranty_claim_detail(request, **kwargs):
    raise NotImplementedError


def warranty_claim_step(request, **kwargs):
    raise NotImplementedError


def insurance_claim_list(request, **kwargs):
    raise NotImplementedError


def insurance_claim_create(request, **kwargs):
    raise NotImplementedError


def insurance_claim_detail(request, **kwargs):
    raise NotImplementedError


def insurance_claim_step(request, **kwargs):
    raise NotImplementedError
