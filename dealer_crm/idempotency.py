"""`Idempotency-Key`: a POST that creates a document or moves money or stock, sent twice with
the same key (a retry after a timeout, a double tap on a slow network), is done once; the
second request gets the first one's answer.

    class OrderViewSet(BranchScopedViewSet):
        @idempotent
        @extend_schema(request=None, responses={200: OrderSerializer})
        @action(detail=True, methods=["post"])
        def sign(self, request, pk=None): ...

`@idempotent` goes outermost, above `@extend_schema` and `@action`, so that it documents the
header on the operation the schema builds.

How it holds: the key's record is inserted *before* the work, in the same transaction. A
concurrent duplicate blocks on the unique (user, key) index until the first commits, then finds
its record and replays it; if the first fails, its record rolls back with its work and the
duplicate runs instead. Only successful (2xx) answers are kept: a refused request changed
nothing, so the client may correct it and retry with the same key.
"""

import functools
import hashlib
import json
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .api import ErrorSerializer
from .errors import DomainError, StateConflict
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
PATH_MAX_LENGTH = 300  # IdempotencyRecord.path
# How long a first answer is replayed; the nightly purge removes older records.
RETENTION = timedelta(hours=24)
PURGE_CHUNK = 5000

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=gettext_lazy(
        "A unique value per intended request (a UUID), at most 255 printable ASCII characters. "
        "Sent again within 24 hours with the same body, the request is not repeated: the "
        "first answer comes back, with the header `Idempotent-Replayed: true`. The same key "
        "with another body or path is refused with 422 `idempotency_key_reused`. Only "
        "successful answers are kept, so a refused request may be corrected and retried with "
        "its key."
    ),
)


class IdempotencyKeyReused(DomainError):
    status_code = 422


def _cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - RETENTION


def _plain(data):
    """The request body as JSON-able data: a form's QueryDict as lists, a file by name and size."""
    if hasattr(data, "lists"):
        return {key: [_plain(value) for value in values] for key, values in data.lists()}
    if isinstance(data, dict):
        return {str(key): _plain(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(value) for value in data]
    if hasattr(data, "read") and hasattr(data, "size"):
        return {"file": getattr(data, "name", ""), "size": data.size}
    return data


def request_fingerprint(request) -> str:
    """A hash of the parsed body: the same data with its keys in another order is the same."""
    body = json.dumps(
        _plain(request.data), sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _parse_key(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > KEY_MAX_LENGTH or not key.isascii() or not key.isprintable():
        raise DomainError(
            "idempotency_key_invalid",
            _("An Idempotency-Key is 1 to 255 printable ASCII characters."),
        )
    return key


def _replay(request, key: str, fingerprint: str) -> Response | None:
    record = IdempotencyRecord.objects.filter(
        user=request.user, key=key, created_at__gte=_cutoff()
    ).first()
    if record is None:
        return None
    if (record.method, record.path, record.request_hash) != (
        request.method,
        request.path[:PATH_MAX_LENGTH],
        fingerprint,
    ):
        raise IdempotencyKeyReused(
            "idempotency_key_reused",
            _("This Idempotency-Key was already used for a different request."),
        )
    if record.response_status is None:  # cannot be seen outside its transaction; defensive
        raise StateConflict(
            "idempotency_request_in_progress",
            _("A request with this Idempotency-Key is still being processed."),
        )
    return Response(
        record.response_body, status=record.response_status, headers={REPLAYED_HEADER: "true"}
    )


class _KeyTaken(Exception):
    """Another request inserted the key first (and has committed by now)."""


def _execute_once(view_method, view, request, key: str, fingerprint: str, args, kwargs):
    with transaction.atomic():
        # A record past its 24 hours no longer counts; the key starts afresh.
        IdempotencyRecord.objects.filter(
            user=request.user, key=key, created_at__lt=_cutoff()
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=request.user,
                    key=key,
                    method=request.method,
                    path=request.path[:PATH_MAX_LENGTH],
                    request_hash=fingerprint,
                )
        except IntegrityError:
            raise _KeyTaken from None
        response = view_method(view, request, *args, **kwargs)
        if not 200 <= response.status_code < 300:
            transaction.set_rollback(True)
            return response
        record.response_status = response.status_code
        record.response_body = (
            None if response.data is None else json.loads(JSONRenderer().render(response.data))
        )
        record.save(update_fields=["response_status", "response_body"])
        return response


def _documented(view_method):
    """Add the header and the 422 answer to the operation's schema."""
    view_method = extend_schema(parameters=[IDEMPOTENCY_KEY_PARAMETER])(view_method)
    base = view_method.kwargs["schema"]

    class IdempotentSchema(base):
        def get_response_serializers(self):
            responses = super().get_response_serializers()
            if isinstance(responses, dict) and self.method == "POST":
                return {**responses, 422: ErrorSerializer}
            return responses

    view_method.kwargs["schema"] = IdempotentSchema
    return view_method


def idempotent(view_method):
    """Make a viewset's POST handler honour `Idempotency-Key` (see the module's docstring)."""

    @functools.wraps(view_method)
    def handler(view, request, *args, **kwargs):
        key = _parse_key(request) if request.method == "POST" else None
        if key is None:
            return view_method(view, request, *args, **kwargs)
        fingerprint = request_fingerprint(request)
        for _attempt in range(3):
            replayed = _replay(request, key, fingerprint)
            if replayed is not None:
                return replayed
            try:
                return _execute_once(view_method, view, request, key, fingerprint, args, kwargs)
            except _KeyTaken:
                continue  # the other request has committed: replay (or refuse) it
        raise StateConflict(
            "idempotency_request_in_progress",
            _("A request with this Idempotency-Key is still being processed."),
        )

    handler.idempotent = True
    return _documented(handler)


def idempotency_purge(*, now: datetime | None = None) -> int:
    """Delete the records past their 24 hours, in chunks so no lock is held long."""
    cutoff, deleted = _cutoff(now), 0
    while True:
        ids = list(
            IdempotencyRecord.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[
                :PURGE_CHUNK
            ]
        )
        if not ids:
            return deleted
        count, _per_model = IdempotencyRecord.objects.filter(pk__in=ids).delete()
        deleted += count
