"""Request middleware shared by every page."""

import re

from django.conf import settings
from django.http import Http404

# A path segment of 19 or more digits (optionally with an extension): larger than any id (2⁶³).
_HUGE_NUMBER_SEGMENT = re.compile(r"(?:^|/)[0-9]{19,}(?:\.[A-Za-z0-9]+)?(?:/|$)")


def chinese_first(get_response):
    """Serve Simplified Chinese unless the visitor chose another language with the switch.

    Django's LocaleMiddleware would otherwise follow the browser's Accept-Language, and a phone set
    to English would get the English site by default; the platform is Chinese first and English is
    one click away (the language cookie set by ``/i18n/setlang/``).

    The open API (``/api/``) is the exception: a program states the language it wants, so its
    ``Accept-Language`` is honoured there (``en`` gives English refusals and messages); without
    the header the API answers in Chinese like the pages (issue 16, decision 0020).
    """

    def middleware(request):
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and not request.path_info.startswith("/api/"):
            request.META["HTTP_ACCEPT_LANGUAGE"] = settings.LANGUAGE_CODE
        return get_response(request)

    return middleware


def clean_request(get_response):
    """Control characters never reach a view through the address (issue 9, class 5).

    A path with NUL or another control character (``/calls/entries/%00/``) is a 404 at once, like a
    path segment of 19+ digits: it names nothing on the platform, and PostgreSQL refuses NUL in a
    lookup (a 500 before). A 404 (the Chinese not-found page), not a generic 400, so it never
    contradicts a page that answers a bad address with its own message (an invalid password-reset
    link is a 400 “重置链接无效或已过期”). Query parameters lose NUL, control characters and lone
    surrogates (``common.text.strip_controls``) before any view reads ``request.GET``; each view then
    parses its own parameters strictly. The body is left alone: it is read by the forms and upload
    handlers, which clean what they take.
    """
    from django.http import QueryDict
    from django.utils.translation import gettext as _

    from .text import has_controls, strip_controls

    def middleware(request):
        if has_controls(request.path) or _HUGE_NUMBER_SEGMENT.search(request.path):
            # /activities/99999999999999999999/: no id has 19 digits, and the database refuses such a
            # number (an overflow: a 500 before); /calls/entries/%00/: PostgreSQL refuses NUL.
            raise Http404(_("没有这个页面"))
        if request.GET and any(
            has_controls(key) or any(has_controls(v) for v in values) for key, values in request.GET.lists()
        ):
            cleaned = QueryDict(mutable=True)
            for key, values in request.GET.lists():
                cleaned.setlist(strip_controls(key), [strip_controls(v) for v in values])
            cleaned._mutable = False
            request.GET = cleaned
        return get_response(request)

    return middleware
