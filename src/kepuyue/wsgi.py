"""WSGI entry point for gunicorn: ``gunicorn kepuyue.wsgi``."""

import gc
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


def freeze_heap() -> None:
    """Move everything the process built to start (modules, URL patterns, compiled templates, the
    settings) out of the cyclic garbage collector's sight (``gc.freeze``, decision 0036). None of it
    ever becomes garbage, yet every full collection walked it all again: ~70 ms each, landing inside
    whichever request happened to allocate at that moment (the booking benchmark's "full" answers
    showed them as a mean a third above the median). Later objects are collected as before."""
    gc.collect()
    gc.freeze()


warm_up()
freeze_heap()
