"""Single byte-range answers (RFC 9110 §14) for media files: Safari on iPhones plays an MP4 only when
the server answers ``Range: bytes=a-b`` with ``206 Partial Content``."""

from __future__ import annotations

import mimetypes
import re

from django.http import HttpResponse, StreamingHttpResponse

RANGE_PATTERN = re.compile(r"bytes=(\d*)-(\d*)")
BLOCK_BYTES = 256 * 1024


def ranged_response(request, storage, name: str) -> HttpResponse | None:
    """A ``206`` streaming the requested bytes of ``name`` in ``storage`` (256 KB blocks), ``416`` for a
    range outside the file, or ``None`` when the request asks for the whole file (no or several ranges):
    the caller then answers as usual."""
    match = RANGE_PATTERN.fullmatch(request.headers.get("Range", "").strip())
    if not match or match.groups() == ("", ""):
        return None
    size = storage.size(name)
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    if start > end or start >= size:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    handle = storage.open(name, "rb")
    handle.seek(start)

    def blocks(remaining=end - start + 1):
        try:
            while remaining > 0:
                block = handle.read(min(BLOCK_BYTES, remaining))
                if not block:
                    break
                remaining -= len(block)
                yield block
        finally:
            handle.close()

    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = StreamingHttpResponse(blocks(), status=206, content_type=content_type)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    return response
