"""Request middleware shared by every page."""

from django.conf import settings


def chinese_first(get_response):
    """Serve Simplified Chinese unless the visitor chose another language with the switch.

    Django's LocaleMiddleware would otherwise follow the browser's Accept-Language, and a phone set
    to English would get the English site by default; the platform is Chinese first and English is
    one click away (the language cookie set by ``/i18n/setlang/``).
    """

    def middleware(request):
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            request.META["HTTP_ACCEPT_LANGUAGE"] = settings.LANGUAGE_CODE
        return get_response(request)

    return middleware
