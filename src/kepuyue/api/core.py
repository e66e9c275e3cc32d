"""The ``NinjaAPI`` of ``/api/v1/``: authentication by bearer token, the one error body
(:class:`~.schemas.ErrorOut`, Chinese ``detail``), rate limits and conditional GETs.

Every failure an operation can meet is turned into ``ErrorOut`` here — a bad parameter (422), an
unknown object (404), a missing or revoked token (401), a refused right (403), too many requests
(429), a broken promise of ours (500) — so a client reads one shape whatever went wrong.
"""

from __future__ import annotations

import hashlib
import logging
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django_ratelimit.exceptions import Ratelimited
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from kepuyue.common.ratelimits import ip_key, over_limit, period_seconds

from . import tokens

logger = logging.getLogger(__name__)

DESCRIPTION = """科普月平台开放接口（方案八(一)：全国科普月平台与“科普中国”两个发布平台、各省系统之间交换活动信息）。

- 公开数据（科普月、联合行动、品牌活动、地区、已发布活动、征集作品、报名余量）无需令牌，按来源地址限流。
- 单位与管理范围的数据须在请求头 `Authorization: Bearer <令牌>` 中携带令牌（单位后台“接口令牌”页面创建）。
- 每个写操作都可带 `Idempotency-Key` 请求头：同一键重试不会重复写入；同一键配不同请求体返回 422。
- 所有错误的响应体相同：`{"detail": 中文说明, "code": 类别, "errors": {字段: [中文信息]}}`。
"""

api = NinjaAPI(
    title="科普月平台开放接口",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

# Status codes every operation may answer with the error body (besides its own).
COMMON_ERRORS = (400, 422, 429, 500)


def error_body(detail: str, code: str, errors: dict | None = None) -> dict:
    return {"detail": str(detail), "code": code, "errors": errors or {}}


def error(request, status: int, detail: str, code: str, errors: dict | None = None, **headers):
    response = api.create_response(request, error_body(detail, code, errors), status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


class TokenAuth(HttpBearer):
    """``Authorization: Bearer kpy_…``: the token's account becomes ``request.user`` (the rules of
    its pages apply); ``request.api_token`` is the token. Read again on every request, so a revoked
    token stops at once."""

    openapi_scheme = "bearer"

    def authenticate(self, request, token):
        found = tokens.authenticate(token)
        if found is None:
            return None
        request.user = found.user
        request.api_token = found
        if over_limit(request, "api_write", value=f"token:{found.pk}"):
            raise Ratelimited("api_write")
        return found


token_auth = TokenAuth()


class BadParameters(Exception):
    """Query parameters that were understood but refused (a list's filters, cursors, limits):
    a 422 with the error body, ``errors`` one Chinese message per parameter."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


@api.exception_handler(BadParameters)
def _bad_parameters(request, exc):
    return error(request, 422, _("请求参数有误，请按字段说明修改"), "validation", exc.errors)


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc):
    errors: dict[str, list[str]] = {}
    for item in exc.errors:
        loc = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path", "payload")]
        field = ".".join(loc) or "request"
        errors.setdefault(field, []).append(_invalid_message(item))
    return error(request, 422, _("请求参数有误，请按字段说明修改"), "validation", errors)


def _invalid_message(item: dict) -> str:
    kind = item.get("type", "")
    ctx = item.get("ctx") or {}
    if kind == "missing":
        return _("必须填写")
    if kind == "not_an_object":  # kepuyue.api.schemas.InSchema
        return _("应为 JSON 对象（{…}）")
    if kind == "boolean_not_number":
        return _("应为整数，不能是 true/false")
    if kind == "string_too_long":
        return _("过长，最多 %(n)s 个字符") % {"n": ctx.get("max_length", "")}
    if kind.startswith("string"):
        return _("应为文本")
    if kind.startswith(("greater", "less")) and ctx:
        low = ctx.get("ge", ctx.get("gt"))
        high = ctx.get("le", ctx.get("lt"))
        if low is not None and kind.startswith("greater"):
            return _("应为整数，不小于 %(n)s") % {"n": low}
        if high is not None:
            return _("应为整数，不大于 %(n)s") % {"n": high}
    if kind.startswith(("int", "float")):
        return _("应为整数，且在允许范围内")
    if kind.startswith(("greater", "less")):
        return _("超出允许范围")
    if kind.startswith("too_long") and ctx.get("max_length") is not None:
        return _("条目过多：最多 %(n)s 项（收到 %(got)s 项）") % {
            "n": ctx["max_length"],
            "got": ctx.get("actual_length", "?"),
        }
    if kind.startswith("too_short") and ctx.get("min_length") is not None:
        return _("条目过少：至少 %(n)s 项") % {"n": ctx["min_length"]}
    if kind.startswith(("too_long", "too_short")):
        return _("条目数量超出允许范围")
    if kind.startswith(("list", "dict", "model")):
        return _("格式不正确")
    if kind.startswith("json"):
        return _("不是有效的 JSON")
    return _("格式不正确")


@api.exception_handler(DjangoValidationError)
def _refused(request, exc):
    if hasattr(exc, "error_dict"):
        return error(request, 422, _("数据未通过校验"), "validation", exc.message_dict)
    return error(request, 409, "；".join(exc.messages), "conflict")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return error(
        request,
        401,
        _("缺少有效的接口令牌（请求头 Authorization: Bearer <令牌>），或令牌已被吊销"),
        "unauthorized",
        WWW_Authenticate="Bearer",
    )


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return error(request, 403, str(exc) or _("没有权限"), "forbidden")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error(request, 404, _("未找到，或无权查看"), "not_found")


@api.exception_handler(Ratelimited)
def _too_many(request, exc):
    name = exc.args[0] if exc.args else "api_read"
    return error(
        request, 429, _("请求过于频繁，请稍后再试"), "rate_limited", Retry_After=str(period_seconds(name))
    )


@api.exception_handler(HttpError)
def _http_error(request, exc):
    codes = {400: "bad_request", 405: "method_not_allowed", 409: "conflict", 413: "too_large"}
    detail = str(exc)
    if detail.startswith("Cannot parse request body"):  # django-ninja's own words for a bad body
        detail = _("请求体不是有效的 JSON（应为 UTF-8 编码的 JSON 对象）")
    return error(request, exc.status_code, detail, codes.get(exc.status_code, "error"))


def json_not_allowed(view):
    """``view`` (one of django-ninja's path views) with its 405 as the API's error body: django-ninja
    answers a method a path does not have with ``text/html`` "Method not allowed"."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            allowed = response.get("Allow", "")
            refused = error(
                request,
                405,
                _("该地址不支持 %(method)s 请求；可用：%(allowed)s")
                % {"method": request.method, "allowed": allowed or "-"},
                "method_not_allowed",
            )
            refused["Allow"] = allowed
            return refused
        return response

    return wrapped


@api.exception_handler(RequestDataTooBig)
def _too_large(request, exc):
    """A body past ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB; a bulk upsert of many long items): 413."""
    from django.conf import settings

    return error(
        request,
        413,
        _("请求内容过大（超过 %(mb).1f MB），请分成多个较小的请求发送（批量接口每次最多 500 条）")
        % {"mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024},
        "too_large",
    )


@api.exception_handler(Exception)
def _crashed(request, exc):
    logger.exception("API operation failed: %s %s", request.method, request.path)
    return error(request, 500, _("服务器内部错误，请稍后重试；如持续出现请联系平台"), "server_error")


def public(view):
    """A read open to everyone: counted against ``api_read`` per client address (per token when
    one is sent and valid)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if over_limit(request, "api_read", key=ip_key):
            raise Ratelimited("api_read")
        return view(request, *args, **kwargs)

    return wrapped


def latest_change() -> str:
    """A version of the change feed: it moves when a feed row commits — every publication, edit,
    withdrawal, deletion, recommendation and featuring of a public activity (:mod:`.changes`) — kept in
    the shared page cache beside the pages' versions (Redis in a cluster, files on one node), so reading
    it is no database query (it was the feed's latest row: one PostgreSQL round trip per cached read).
    A version evicted from the cache comes back as a new one: a miss, never a stale read."""
    from kepuyue.common.pagecache import versions

    from .changes import VERSION

    return versions(VERSION)[VERSION]


def cached_read(request, compute) -> HttpResponse:
    """An anonymous public read, rendered once and kept ``API_READ_CACHE_SECONDS`` under a key of
    the path, the query string and :func:`latest_change` — a change of any public activity makes a
    new key, so nothing stale is served for it (a page-cache style "versioned key"; what the feed
    does not see — a unit renamed, a joint action's name reloaded — waits out the seconds, as the
    ``Cache-Control: max-age`` already lets any client wait). ``compute()`` gives ``(body,
    last_modified)``; the body is rendered with the API's renderer, its ETag is the digest of the
    bytes, and ``If-None-Match`` / ``If-Modified-Since`` get a 304. No query on a hit."""
    seconds = settings.API_READ_CACHE_SECONDS
    key = entry = None
    if seconds > 0:
        # The language is part of the key: notices and refusals are in the request's language.
        raw = f"{latest_change()}|{get_language()}|{request.path}|{request.META.get('QUERY_STRING', '')}"
        key = "api:read:" + hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()
        entry = cache.get(key)
    if entry is None:
        body, last_modified = compute()
        content = api.create_response(request, body, status=200).content
        etag = '"' + hashlib.blake2b(content, digest_size=16).hexdigest() + '"'
        entry = (content, etag, last_modified.timestamp() if last_modified is not None else None)
        if key is not None:
            cache.set(key, entry, seconds)
    content, etag, timestamp = entry
    response = get_conditional_response(request, etag=etag, last_modified=timestamp)
    if response is None:
        response = HttpResponse(content, content_type="application/json; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=30"
    if timestamp is not None:
        response["Last-Modified"] = http_date(timestamp)
    return response


def conditional(request, response: HttpResponse, *, parts, last_modified=None) -> HttpResponse | None:
    """Set ``ETag`` (a digest of ``parts``) and ``Last-Modified`` on ``response``; return a 304
    response when the request's ``If-None-Match`` / ``If-Modified-Since`` already has them."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()
    etag = f'"{digest}"'
    timestamp = last_modified.timestamp() if last_modified is not None else None
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=30"
    if timestamp is not None:
        response["Last-Modified"] = http_date(timestamp)
    not_modified = get_conditional_response(request, etag=etag, last_modified=timestamp)
    if not_modified is not None:
        not_modified["Cache-Control"] = "public, max-age=30"
        return not_modified
    return None
