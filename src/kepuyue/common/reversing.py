"""``reverse()`` remembered per process (decision 0036): every page's layout names ~28 URLs with
``{% url %}``, and Django works each one out again on every render — namespaces, the pattern's
converters, quoting — for an answer that only changes with the URL configuration, the script prefix
and the language. That was over a tenth of the "full session" answer's CPU.

:func:`reverse` is ``django.urls.reverse`` with the answers kept on the URL resolver itself (a new
resolver — ``clear_url_caches()``, another ``ROOT_URLCONF`` in a test — starts empty), keyed by
everything the answer depends on: the name, the arguments, the current application, the script
prefix and the active language. Only names given as text and arguments of exact type ``str`` (or a
template's ``SafeString``) or ``int`` are remembered (``True`` would otherwise share ``1``'s entry); anything else, and every
``NoReverseMatch``, goes to Django each time. At most ``LIMIT`` answers per resolver: a URL with a
ticket code in it is as many entries as tickets, so the store is emptied when full rather than grown.

The builtin template library :mod:`kepuyue.common.templatetags.urls` makes every ``{% url %}`` use it.
"""

from __future__ import annotations

from django.urls import get_resolver, get_script_prefix, get_urlconf
from django.urls import reverse as django_reverse
from django.utils.safestring import SafeString
from django.utils.translation import get_language

LIMIT = 4096
# A template's literal ('portal:home', "12") is a SafeString: the same text, the same answer.
_SIMPLE = (str, SafeString, int)


def _plain(values) -> bool:
    return all(type(v) in _SIMPLE for v in values)


def reverse(viewname, args=None, kwargs=None, current_app=None) -> str:
    """``django.urls.reverse(viewname, args, kwargs, current_app=current_app)``, remembered."""
    args = tuple(args or ())
    kwargs = kwargs or {}
    if type(viewname) not in _SIMPLE[:2] or not _plain(args) or not _plain(kwargs.values()):
        return django_reverse(viewname, args=args, kwargs=kwargs, current_app=current_app)
    resolver = get_resolver(get_urlconf())
    store = resolver.__dict__.get("_kepuyue_reversed")
    if store is None:
        store = resolver.__dict__.setdefault("_kepuyue_reversed", {})
    key = (
        viewname,
        args,
        tuple(sorted(kwargs.items())) if kwargs else (),
        current_app,
        get_script_prefix(),
        get_language(),
    )
    url = store.get(key)
    if url is None:
        url = django_reverse(viewname, args=args, kwargs=kwargs, current_app=current_app)
        if len(store) >= LIMIT:
            store.clear()
        store[key] = url
    return url
