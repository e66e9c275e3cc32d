"""The tus endpoint for resumable video uploads (``kepuyue.calls.uploads``)."""

from __future__ import annotations

import re
from email.utils import formatdate

from django.http import HttpResponse, HttpResponseNotAllowed
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from kepuyue.common.ratelimits import over_limit, period_seconds, user_or_ip
from kepuyue.common.storage import StorageFull, is_full
from kepuyue.common.text import int_or_none
from kepuyue.roles.rules import check

from .. import media, services, uploads
from .common import _call

_DIGITS = re.compile(r"[0-9]{1,19}")

# --- tus --------------------------------------------------------------------------------------


def _tus_response(status: int = 204, **headers) -> HttpResponse:
    response = HttpResponse(status=status)
    response["Tus-Resumable"] = uploads.TUS_VERSION
    response["Cache-Control"] = "no-store"
    for key, value in headers.items():
        response[key.replace("_", "-")] = str(value)
    return response


def _tus_error(error: uploads.TusError) -> HttpResponse:
    response = _tus_response(error.status)
    response.content = error.message.encode("utf-8")
    response["Content-Type"] = "text/plain; charset=utf-8"
    return response


def _tus_options(max_size: int | None = None) -> HttpResponse:
    headers = {"Tus_Version": uploads.TUS_VERSION, "Tus_Extension": uploads.TUS_EXTENSIONS}
    if max_size:
        headers["Tus_Max_Size"] = max_size
    return _tus_response(204, **headers)


def _header_int(request, name: str) -> int | None:
    """A tus header holding a byte count (``Upload-Length``, ``Upload-Offset``): ASCII digits only
    (``²`` passes ``isdigit()`` and crashed ``int()``), at most 2⁶³−1; ``None`` otherwise."""
    value = request.headers.get(name, "").strip()
    # Only ASCII digits (tus: "a non-negative integer"): not "+5", "-0", "1e3", "١٠" or "²".
    if not _DIGITS.fullmatch(value):
        return None
    return int_or_none(value, min_value=0, max_value=2**63 - 1)


def _tus_guard(request) -> uploads.TusError | None:
    if not request.user.is_authenticated:
        return uploads.TusError(401, _("请先登录"))
    if request.headers.get("Tus-Resumable") != uploads.TUS_VERSION:
        return uploads.TusError(412, _("需要 Tus-Resumable: 1.0.0"))
    return None


@never_cache
def tus_create(request, campaign: str, call: str):
    """tus creation: ``POST`` with ``Upload-Length`` (bytes) and ``Upload-Metadata`` → 201 with
    ``Location``. Only a unit that may submit to the call, within the call's video size limit (checked on the
    declared length, before any byte is read) and the account's caps (``CALLS_TUS_MAX_IN_FLIGHT``,
    ``CALLS_TUS_MAX_BYTES_IN_FLIGHT``: 429/413 with a Chinese message); a full disk is a 507."""
    the_call = _call(campaign, call)
    limit = services.upload_limits(the_call).get("video")
    if request.method == "OPTIONS":
        return _tus_options(limit)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST", "OPTIONS"])
    if error := _tus_guard(request):
        return _tus_error(error)
    if limit is None or not check(request.user, "calls.submit_entry", the_call):
        return _tus_error(uploads.TusError(403, _("本账号不能向此征集上传视频")))
    if over_limit(request, "upload_create", key=user_or_ip):
        refused = _tus_error(uploads.TusError(429, _("创建上传过于频繁，请稍后再试")))
        refused["Retry-After"] = str(period_seconds("upload_create"))
        return refused
    length = _header_int(request, "Upload-Length")
    if length is None:
        return _tus_error(uploads.TusError(400, _("需要 Upload-Length（字节数，只能使用数字 0—9）")))
    if length == 0:
        return _tus_error(uploads.TusError(400, _("文件为空，请重新选择视频文件")))
    if length > limit:
        message = _("平台要求：视频不超过%(limit)s") % {"limit": media._fmt_bytes(limit)}
        return _tus_error(uploads.TusError(413, message))
    try:
        metadata = uploads.parse_metadata(request.headers.get("Upload-Metadata", ""))
    except uploads.TusError as error:
        return _tus_error(error)
    try:
        upload = uploads.create(
            user_id=request.user.pk, call_id=the_call.pk, length=length, metadata=metadata
        )
    except uploads.TusError as error:
        return _tus_error(error)
    except OSError as error:
        if is_full(error):
            return _tus_error(uploads.TusError(507, str(StorageFull())))
        raise
    location = request.build_absolute_uri(reverse("calls:tus_upload", args=[upload.id]))
    return _tus_response(201, Location=location, Upload_Expires=formatdate(upload.expires, usegmt=True))


@csrf_exempt
@never_cache
def tus_upload(request, upload_id: str):
    """tus core: ``HEAD`` (offset), ``PATCH`` (append at ``Upload-Offset``), ``DELETE`` (termination).
    CSRF is checked by hand for PATCH and DELETE (the header ``X-CSRFToken``), after the guard, so the
    body is never read before we decide to."""
    if request.method == "OPTIONS":
        return _tus_options()
    if request.method not in ("HEAD", "PATCH", "DELETE"):
        return HttpResponseNotAllowed(["HEAD", "PATCH", "DELETE", "OPTIONS"])
    if error := _tus_guard(request):
        return _tus_error(error)
    if request.method != "HEAD":
        from django.middleware.csrf import CsrfViewMiddleware

        reject = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
        if reject is not None:
            return reject
    try:
        upload = uploads.get(upload_id, user_id=request.user.pk)
        if request.method == "HEAD":
            return _tus_response(200, Upload_Offset=upload.offset, Upload_Length=upload.length)
        if request.method == "DELETE":
            upload.delete()
            return _tus_response(204)
        if request.content_type != "application/offset+octet-stream":
            raise uploads.TusError(415, _("Content-Type 须为 application/offset+octet-stream"))
        offset = _header_int(request, "Upload-Offset")
        if offset is None:
            raise uploads.TusError(400, _("需要 Upload-Offset（字节数，只能使用数字 0—9）"))
        length = request.META.get("CONTENT_LENGTH")
        size = int_or_none(length, min_value=0) if length else None
        if length and size is None:
            raise uploads.TusError(400, _("Content-Length 无效"))
        new_offset = uploads.append(upload, offset, request, size)
        return _tus_response(
            204, Upload_Offset=new_offset, Upload_Expires=formatdate(upload.expires, usegmt=True)
        )
    except uploads.TusError as error:
        return _tus_error(error)
