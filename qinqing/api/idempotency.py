"""`Idempotency-Key` on the creating API calls: a retried request gets the first answer and writes nothing.

A client that lost the answer to a POST (a timeout, a worker killed, a dropped connection) cannot know
whether the demand was registered; sending the same request again with the same key is then always
safe. Decorate a creating endpoint with `@idempotent` under its router decorator:

    @router.post("/demands", ...)
    @idempotent
    def create_demand(request, payload): ...

With the header, the whole operation (authentication, the service's writes, serialising the answer)
runs in one transaction that also stores the answer under (user, key), so a crash leaves both or
neither. A repeat with the same key, method, path and body gets the stored answer (header
`Idempotent-Replayed: true`); the same key with another request is refused with 422. Two requests with
the same key at once: the unique constraint refuses the second's row, its writes are rolled back and it
answers with the first one's stored answer. Only successful answers are stored: a refused request
changed nothing and may be corrected and sent again under its key. Without the header nothing of this
runs (not one query more).
"""

import hashlib
from functools import wraps

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from ninja.decorators import decorate_view
from ninja.utils import contribute_operation_callback

from qinqing.accounts.models import IDEMPOTENCY_KEY_TTL, IdempotencyKey
from qinqing.lib import clock

HEADER = "Idempotency-Key"
_META = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = IdempotencyKey._meta.get_field("key").max_length
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_REUSED = "该幂等键已用于另一请求，请为新的请求使用新的幂等键。"
DESCRIPTION = (f"\n\n可在请求头 `{HEADER}` 中提供幂等键（1–{MAX_KEY_LENGTH}个字符，同一账号内唯一，保留24小时）："
               f"以同一幂等键重发同一请求时返回第一次的应答（带 `{REPLAYED_HEADER}: true`），不会重复登记；"
               "同一幂等键用于不同的请求时返回422。")


class _Attempt:
    """The key of one request and what identifies the request it was first used for."""

    def __init__(self, request, key: str):
        self.key = key
        self.fingerprint = hashlib.sha256(f"{request.method} {request.path}".encode()).hexdigest()
        self.body_hash = hashlib.sha256(request.body).hexdigest()
        self.replayed = False

    def stored_answer(self, user) -> HttpResponse | None:
        """The answer stored under this key for `user`, or None; the key used for another request is a 422."""
        row = (IdempotencyKey.objects.filter(user=user, key=self.key)
               .values_list("fingerprint", "body_hash", "status_code", "response_body").first())
        if row is None:
            return None
        fingerprint, body_hash, status, body = row
        if (fingerprint, body_hash) != (self.fingerprint, self.body_hash):
            return _error(422, KEY_REUSED, "idempotency_key_reused")
        self.replayed = True
        response = HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
        response[REPLAYED_HEADER] = "true"
        return response

    def store(self, user, response) -> None:
        IdempotencyKey.objects.create(user=user, key=self.key, fingerprint=self.fingerprint,
                                      body_hash=self.body_hash, status_code=response.status_code,
                                      response_body=response.content.decode(), created_at=clock.now())


class _Undo(Exception):  # noqa: N818 - control flow: leave the transaction without committing
    def __init__(self, response):
        self.response = response


class _KeyTaken(Exception):  # noqa: N818 - another request stored the same key first
    pass


def _error(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status, json_dumps_params={"ensure_ascii": False})


def _in_one_transaction(run):
    """Around ninja's whole operation (authentication, view, serialisation): with a key, one transaction."""

    @wraps(run)
    def wrapper(request, **kw):
        raw = request.META.get(_META)
        if raw is None:
            return run(request, **kw)
        key = raw.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            return _error(400, f"{HEADER} 应为1–{MAX_KEY_LENGTH}个字符。", "invalid_idempotency_key")
        attempt = request._idempotency = _Attempt(request, key)
        for _ in range(2):  # the second pass finds the answer of a request that stored the key first
            try:
                with transaction.atomic():
                    response = run(request, **kw)
                    user = getattr(request, "auth", None)
                    if attempt.replayed or user is None or not 200 <= response.status_code < 300:
                        raise _Undo(response)  # a replay, or refused: nothing of it is kept
                    try:
                        attempt.store(user, response)
                    except IntegrityError:
                        raise _KeyTaken from None
                return response
            except _Undo as undo:
                return undo.response
            except _KeyTaken:
                continue
        return _error(409, "同一幂等键的请求正在处理，请稍后重试。", "idempotency_key_busy")

    return wrapper


def idempotent(view):
    """Make a creating endpoint honour `Idempotency-Key` (see the module's docstring)."""

    @wraps(view)
    def checked(request, **kwargs):
        attempt = getattr(request, "_idempotency", None)
        if attempt is not None and (stored := attempt.stored_answer(request.auth)) is not None:
            return stored
        return view(request, **kwargs)

    checked.__doc__ = (view.__doc__ or "") + DESCRIPTION  # ninja's description of the operation
    contribute_operation_callback(checked, _document_header)
    return decorate_view(_in_one_transaction)(checked)


def _document_header(operation) -> None:
    """The header as a parameter of the operation in the OpenAPI document."""
    extra = operation.openapi_extra = dict(operation.openapi_extra or {})
    extra["parameters"] = [*extra.get("parameters", []), {
        "in": "header", "name": HEADER, "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "\\S"},
        "description": "幂等键：同一请求重发时带同一个值，只登记一次并返回第一次的应答"}]


def forget_expired(older_than=None) -> int:
    """Remove the keys kept longer than IDEMPOTENCY_KEY_TTL (a periodic task); how many went."""
    cutoff = older_than or clock.now() - IDEMPOTENCY_KEY_TTL
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
