"""Logging filters for the embedded default's console log.

Django logs every 4xx answer it builds from an exception (``PermissionDenied`` → 403,
``SuspiciousOperation`` → 400) at warning level *with the exception's traceback*: one refused
request wrote ~20 lines that read like a crash (fresh try). A client's mistake is not the server's:
its one warning line (method, path, status) stays; the traceback goes. 5xx keep theirs.
"""

from __future__ import annotations

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """Drop the traceback of a log record about a 4xx response (Django's ``status_code`` extra)."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
