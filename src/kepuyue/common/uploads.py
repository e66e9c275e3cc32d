"""Nothing that is refused leaves a byte behind (issue 9, class 2): every temporary file a request streams
to disk is removed when the request ends, whatever ended it.

Django's parser writes file parts larger than ``FILE_UPLOAD_MAX_MEMORY_SIZE`` to temporary files through the
upload handlers of the request. Whether the view then stores the file, refuses it, or never runs (a 403, a bad
CSRF token, ``DATA_UPLOAD_MAX_NUMBER_FIELDS``/``…_FILES`` exceeded half-way through the body, a size limit, a
client that hung up, an exception), those temporary files are not the view's business any more once the
response exists. So:

- every handler that writes to disk registers its file with :func:`track` (the platform's
  :class:`TrackedTemporaryFileUploadHandler` replaces Django's in ``FILE_UPLOAD_HANDLERS``; the calls app's
  streaming handler registers its own files);
- :class:`UploadHygieneMiddleware`, the outermost middleware, closes and removes each registered file that is
  still on disk once the response is built (a stored file has been moved away already, so it is not there),
  and also when an exception escapes everything. It also turns :class:`~kepuyue.common.storage.StorageFull`
  that no view caught into the Chinese 507 page.

Files a view wants to keep past the request (a finished upload kept for the next attempt of a form) are moved
out of the temporary folder first; see ``kepuyue.calls.uploads.keep``.
"""

from __future__ import annotations

import logging
import os

from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import HttpResponse, UnreadablePostError
from django.utils.translation import gettext as _

from .storage import StorageFull, is_full

log = logging.getLogger(__name__)

_ATTRIBUTE = "_kepuyue_temp_files"


def track(request, file) -> None:
    """Remove ``file`` (an object with ``close()`` and a ``name`` or ``temporary_file_path()`` on local disk)
    when ``request`` ends, unless it was moved away by then."""
    if request is None:
        return
    tracked = getattr(request, _ATTRIBUTE, None)
    if tracked is None:
        tracked = []
        setattr(request, _ATTRIBUTE, tracked)
    tracked.append(file)


def _path_of(file) -> str | None:
    try:
        return file.temporary_file_path()
    except (AttributeError, NotImplementedError):
        name = getattr(getattr(file, "file", None), "name", None) or getattr(file, "name", None)
        return name if isinstance(name, str) and os.path.isabs(name) else None


def discard(request) -> int:
    """Close and remove every tracked temporary file of ``request`` still on disk; returns how many were
    removed. Idempotent."""
    removed = 0
    for file in getattr(request, _ATTRIBUTE, None) or ():
        path = _path_of(file)
        try:
            file.close()
        except Exception as error:  # noqa: BLE001 - a file already closed or half-open must not stop the rest
            log.debug("closing upload temporary %s: %s", path, error)
        if path:
            try:
                os.unlink(path)
                removed += 1
            except FileNotFoundError:
                pass
            except OSError as error:  # pragma: no cover - permissions changed under us
                log.warning("could not remove upload temporary %s: %s", path, error)
    if hasattr(request, _ATTRIBUTE):
        setattr(request, _ATTRIBUTE, [])
    return removed


class TrackedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Django's handler for large file parts, whose temporary files are removed at the end of the request
    (:func:`track`), even when parsing stopped half-way (too many fields or files, a client that hung up)."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        track(self.request, self.file)


def storage_full_response(request=None, *, status: int = 507) -> HttpResponse:
    """The Chinese answer to a full disk: plain text for tus and APIs, a short page otherwise."""
    message = str(StorageFull())
    wants_text = request is not None and (
        request.headers.get("Tus-Resumable")
        or "json" in request.headers.get("Accept", "")
        or request.path.startswith("/api/")
    )
    if wants_text:
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    from django.template.loader import render_to_string

    try:
        body = render_to_string("507.html", {"message": message}, request=request)
    except Exception:  # noqa: BLE001 - no template, or the template itself needs the disk
        body = f"<!doctype html><meta charset=utf-8><title>{_('存储空间不足')}</title><p>{message}</p>"
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


class UploadHygieneMiddleware:
    """Outermost middleware: removes the request's upload temporaries after the response (see the module's
    docstring) and answers a full disk no view handled with HTTP 507 and a Chinese message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            discard(request)

    def process_exception(self, request, exception):
        if isinstance(exception, UnreadablePostError):
            # The client hung up mid-body: nobody reads the answer; no 500 in the logs for a lost network.
            discard(request)
            return HttpResponse(
                _("连接中断，上传未完成，请重新提交"), status=400, content_type="text/plain; charset=utf-8"
            )
        if is_full(exception):
            log.error("storage full while serving %s: %s", request.path, exception)
            discard(request)
            return storage_full_response(request)
        return None
