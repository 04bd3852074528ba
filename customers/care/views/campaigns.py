"""Campaign pages (关怀活动)."""


def campaign_list(request):
    raise NotImplementedError


def campaign_create(request):
    raise NotImplementedError


def campaign_preview(request):
    raise NotImplementedError


def campaign_detail(request, pk):
    raise NotImplementedError


def campaign_update(request, pk):
    raise NotImplementedError


def campaign_action(request, pk, action):
    raise NotImplementedError


def offer_action(request, pk, action):
    raise NotImplementedError
