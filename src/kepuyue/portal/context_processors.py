"""Template context shared by every portal page."""

from django.conf import settings

from kepuyue.common import clock

LARGE_TEXT_COOKIE = "kepuyue_large_text"


def display(request):
    """``large_text``: True when the visitor turned on 大字模式 (适老化), kept in a cookie.

    ``pinned_now``: the campaign clock's instant (aware datetime) when ``KEPUYUE_NOW`` pins it for a
    rehearsal or demo, else ``None`` — the pages then say so, because every phase shown depends on it.
    """
    return {
        "large_text": request.COOKIES.get(LARGE_TEXT_COOKIE) == "1",
        "pinned_now": clock.now() if getattr(settings, "KEPUYUE_NOW", "") else None,
    }
