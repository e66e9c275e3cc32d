"""Template context shared by every portal page."""

LARGE_TEXT_COOKIE = "kepuyue_large_text"


def display(request):
    """``large_text``: True when the visitor turned on 大字模式 (适老化), kept in a cookie."""
    return {"large_text": request.COOKIES.get(LARGE_TEXT_COOKIE) == "1"}
