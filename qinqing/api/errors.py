"""Every API error is `{"detail": <Chinese message>, "code": <short code>}`.

Domain errors carry the same message the HTML pages show; request validation errors are
rewritten from pydantic's English into one Chinese sentence (the raw list stays in `errors`).
"""

from django.http import Http404, JsonResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError

from qinqing.demands.errors import (
    ConflictError,
    DomainError,
    IllegalTransition,
    NotFoundError,
    PermissionDeniedError,
)

UNAUTHENTICATED = "请先登录，或在请求头中提供有效的API令牌（Authorization: Bearer <令牌>）。"
NOT_FOUND = "请求的资源不存在或您无权查看。"

_CODES = {
    NotFoundError: "not_found",
    PermissionDeniedError: "forbidden",
    IllegalTransition: "illegal_transition",
    ConflictError: "conflict",
}

_HTTP_ERRORS = {
    400: ("请求体不是有效的 JSON。", "invalid_json"),
    403: ("CSRF校验失败，请刷新页面后重试。", "csrf"),
    404: (NOT_FOUND, "not_found"),
    429: ("请求过于频繁，请稍后再试。", "throttled"),
}

# pydantic error types → what is wrong with the field, in Chinese.
_PROBLEMS = {
    "missing": "为必填项",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "string_type": "应为字符串",
    "list_type": "应为列表",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "datetime_parsing": "应为 ISO 8601 日期时间，如 2026-09-30T10:00:00+08:00",
    "datetime_from_date_parsing": "应为 ISO 8601 日期时间，如 2026-09-30T10:00:00+08:00",
    "datetime_type": "应为 ISO 8601 日期时间，如 2026-09-30T10:00:00+08:00",
    "date_parsing": "应为日期，如 2026-09-30",
    "date_from_datetime_parsing": "应为日期，如 2026-09-30",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "greater_than_equal": "取值过小",
    "less_than_equal": "取值过大",
    "too_short": "条目过少",
    "too_long": "条目过多（批量受理一次最多200件）",
}


class ApiError(HttpError):
    """An HTTP error raised by the API layer itself, with its own code."""

    def __init__(self, status: int, message: str, code: str):
        super().__init__(status, message)
        self.code = code


def code_for(exc: DomainError) -> str:
    for cls in type(exc).__mro__:
        if cls in _CODES:
            return _CODES[cls]
    return "invalid"


def describe_validation_errors(errors: list[dict]) -> str:
    """One Chinese sentence naming each faulty parameter: "请求参数有误：title 为必填项"."""
    parts = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ())]
        if error.get("type") == "json_invalid" or loc == ["body"]:
            parts.append("请求体不是有效的 JSON 对象")
            continue
        # loc is (source, [param name,] field...): drop the source and ninja's parameter name.
        field = ".".join(p for p in loc[1:] if p not in ("body", "payload", "filters")) or "请求体"
        problem = _PROBLEMS.get(error.get("type", ""), "格式不正确")
        parts.append(f"{field} {problem}")
    return "请求参数有误：" + "；".join(dict.fromkeys(parts))


def register(api) -> None:
    """Install the JSON error handlers on `api`."""

    def payload(request, status, detail, code, **extra):
        return api.create_response(request, {"detail": detail, "code": code, **extra}, status=status)

    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        return payload(request, exc.status, exc.message, code_for(exc))

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        return payload(request, 422, describe_validation_errors(exc.errors), "validation", errors=exc.errors)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return payload(request, 401, UNAUTHENTICATED, "unauthenticated")

    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return payload(request, exc.status_code, exc.message, exc.code)

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        # ninja's own errors are English ("Cannot parse request body"); say them in Chinese.
        detail, code = _HTTP_ERRORS.get(exc.status_code, ("请求有误。", "error"))
        return payload(request, exc.status_code, detail, code)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return payload(request, 404, NOT_FOUND, "not_found")


def unknown_path(request, rest=""):
    """Addresses under /api/v1/ that match no endpoint answer in JSON too, not with an HTML page."""
    return JsonResponse({"detail": "没有这个API地址。", "code": "not_found"}, status=404,
                        json_dumps_params={"ensure_ascii": False})
