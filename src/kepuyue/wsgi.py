"""WSGI entry point for gunicorn: ``gunicorn kepuyue.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepuyue.settings")
application = get_wsgi_application()


def warm_up() -> None:
    """Pay the per-process first-use costs when a worker starts, not on a visitor's first request:
    the URL resolver (built by the first ``reverse()``, ~70 ms) and the compiled templates of the
    pages that must answer cold (region pages ≤ 100 ms, issue 9 class 7; ADR 0015). No database."""
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template
    from django.urls import reverse

    reverse("healthz")
    for name in ("portal/activity_region.html", "portal/activity_list.html", "portal/activity_detail.html"):
        try:
            get_template(name)
        except TemplateDoesNotExist:
            pass


warm_up()
