"""Shared page cache 页面缓存 with exact freshness, for public pages (issue 17 §1, ADR 0025).

A cached page is never served after a change it shows. Instead of a blanket time-to-live, every
page records the **versions** of the things it shows (an activity, a region, a brand, a zone, a
campaign…) and is served from the cache only while all of them are unchanged; a change **bumps**
exactly the versions of the things it touches (the portal's receivers, on the domain events of
ADR 0007 and ``post_save`` where there is no event). The rules, in one place::

    @public_page                                  # the view: cached for anonymous visitors
    def zone_detail(request, slug, ja_slug):
        depends(request, "plan")                  # 1. declare what you show, BEFORE reading it
        ja = ...                                  #    (names known from the URL first)
        depends(request, f"zone:{ja.pk}")         # 2. then what the first read told you
        ...

    bump("activity:5", "zone:3", "campaign:1")   # a change: after it commits

- **Declare before you read.** :func:`depends` reads the version at once; a change committed after
  that read bumps a version the page already holds, so at worst the page is re-rendered once more.
- **Versions are random tokens**, written with ``set`` (never a read-modify-write increment), so
  two processes bumping the same key at once both invalidate; a version evicted from the cache
  invalidates the pages that held it (never the reverse).
- **Only anonymous visitors** get cached pages: a request with a session or messages cookie is
  rendered as before and marked ``Cache-Control: private``. A response that sets a cookie (for
  instance a CSRF token a template asked for) or is not a 200 is never stored.
- A cached page varies by host, path and query, language and 大字模式, and is kept at most
  ``PAGE_CACHE_SECONDS`` — not for freshness of data (the versions give that) but for what the
  campaign clock changes on its own (an activity becoming "ongoing").
- Responses carry a strong ``ETag`` (a hash of the body) and ``Cache-Control: public, max-age=0,
  s-maxage=PAGE_CACHE_CDN_SECONDS, must-revalidate``; ``If-None-Match`` is answered 304, so a CDN
  or browser revalidates for the cost of a cache hit. ``Vary: Accept-Language, Cookie``: an
  anonymous visitor sends no cookie at all, so every such visitor shares one CDN entry.

Pages and versions live in the ``pages`` cache (Redis when ``REDIS_URL`` is set, else files under
``var/``: shared by every worker of one node, as versions must be).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language

CACHE_ALIAS = "pages"
_VERSION_PREFIX = "pv:"
_PAGE_PREFIX = "pg:"
# Headers kept with a cached body; everything else (cookies above all) is left out.
_KEPT_HEADERS = ("Content-Type", "Content-Language", "X-Robots-Tag")
_ATTR = "_kepuyue_page_versions"
# Cookies that change what an anonymous page shows; they are part of the key, not a reason to skip.
_PREFERENCE_COOKIES = ("kepuyue_large_text",)


def _cache():
    return caches[CACHE_ALIAS]


def _new_token() -> str:
    return secrets.token_hex(8)


def bump(*names: str) -> None:
    """Give each named thing a new version: every cached page that showed it is stale from now on.

    Call it after the change commits (the portal's receivers run on after-commit events).
    """
    names = tuple(dict.fromkeys(n for n in names if n))
    if names:
        _cache().set_many({_VERSION_PREFIX + n: _new_token() for n in names}, timeout=None)


def versions(*names: str) -> dict[str, str]:
    """The current version of each named thing, creating a version for a name that has none."""
    keys = [_VERSION_PREFIX + n for n in names]
    found = _cache().get_many(keys)
    result = {}
    for name, key in zip(names, keys, strict=True):
        value = found.get(key)
        if value is None:
            token = _new_token()
            # ``add``: a concurrent first reader keeps whichever token landed first.
            _cache().add(key, token, timeout=None)
            value = _cache().get(key) or token
        result[name] = value
    return result


def depends(request: HttpRequest, *names: str) -> None:
    """Record that the page being rendered shows ``names`` (read their versions now).

    Harmless outside :func:`public_page` (signed-in pages record and ignore)."""
    held = getattr(request, _ATTR, None)
    if held is None:
        held = {}
        setattr(request, _ATTR, held)
    wanted = [n for n in names if n and n not in held]
    if wanted:
        held.update(versions(*wanted))


def is_anonymous_visitor(request: HttpRequest) -> bool:
    """True when nothing on the request can make the page personal: no session cookie (so no
    signed-in user, no flash messages in the session) and no messages cookie."""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and "messages" not in cookies


@functools.cache
def _build() -> str:
    from django.contrib.staticfiles.storage import staticfiles_storage

    manifest = getattr(staticfiles_storage, "manifest_hash", "") or ""
    return f"{settings.PAGE_CACHE_RELEASE}:{manifest}"


def release() -> str:
    """What this build serves: ``PAGE_CACHE_RELEASE`` (the deploy's own name, e.g. its commit) and the
    static files' manifest hash (read once per process), and the pinned campaign clock if any. Part of
    every page key, so a page cached by the previous build — whose HTML names its hashed ``/static/``
    files and its templates' markup — is never served by the next one, not even for the
    ``PAGE_CACHE_SECONDS`` it would otherwise live (nodes of two builds during a rolling deploy each keep
    their own pages); and a restart with another ``KEPUYUE_NOW`` (rehearsals, demos) never serves pages
    rendered at the previous instant."""
    return f"{_build()}:{settings.KEPUYUE_NOW}"


def page_key(request: HttpRequest) -> str:
    """The cache key of this request's page: the build, host, path and query, language, 大字模式."""
    parts = [
        release(),
        request.get_host(),
        request.get_full_path(),
        get_language() or "",
        *(request.COOKIES.get(name, "") for name in _PREFERENCE_COOKIES),
    ]
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
    return _PAGE_PREFIX + digest


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _public_headers(request: HttpRequest, response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    patch_cache_control(
        response, public=True, max_age=0, s_maxage=settings.PAGE_CACHE_CDN_SECONDS, must_revalidate=True
    )
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


def _answer(request: HttpRequest, entry: dict) -> HttpResponse:
    if _matches(request, entry["etag"]):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(entry["body"], status=200)
        for name, value in entry["headers"].items():
            response[name] = value
    response["X-Page-Cache"] = "hit"
    return _public_headers(request, response, entry["etag"])


def _matches(request: HttpRequest, etag: str) -> bool:
    wanted = request.headers.get("If-None-Match", "")
    return bool(wanted) and (wanted.strip() == "*" or etag in [t.strip() for t in wanted.split(",")])


# Each process keeps the bodies it served last (a page is checked against the shared versions on
# every hit all the same, so a local copy is never served stale; it only saves fetching the body).
_LOCAL: OrderedDict[str, dict] = OrderedDict()
_LOCAL_MAX = 256
_LOCAL_LOCK = threading.Lock()


def _local_get(key: str) -> dict | None:
    with _LOCAL_LOCK:
        entry = _LOCAL.get(key)
        if entry is None:
            return None
        if entry.get("expires", 0) < time.time():
            del _LOCAL[key]
            return None
        _LOCAL.move_to_end(key)
        return entry


def _local_put(key: str, entry: dict) -> None:
    with _LOCAL_LOCK:
        _LOCAL[key] = entry
        _LOCAL.move_to_end(key)
        while len(_LOCAL) > _LOCAL_MAX:
            _LOCAL.popitem(last=False)


def clear_local() -> None:
    """Forget this process's copies (tests, after clearing the shared cache)."""
    with _LOCAL_LOCK:
        _LOCAL.clear()
        _MEMO.clear()


# What pages compute from rarely changing data (the plan), kept per process under the versions of
# the things it was read from: a page that misses the cache still does not re-read the plan.
_MEMO: OrderedDict[str, tuple[tuple[str, ...], object]] = OrderedDict()
_MEMO_MAX = 512


def remember(request: HttpRequest, key: str, compute: Callable[[], object], *names: str):
    """``compute()``, or the value it gave before in this process while the versions of ``names``
    are unchanged — the page cache's rule for a part of a page (issue 17 §1).

    ``names`` are declared for the page (:func:`depends`) *before* ``compute`` reads, so a change
    committed meanwhile bumps a version the next request sees. ``key`` names what is computed
    (with its arguments); the value is shared by every request of the process: never change it.
    Exceptions are not kept. Works with the page cache on or off (versions are always read).
    """
    depends(request, *names)
    held = getattr(request, _ATTR)
    stamp = tuple(held[name] for name in names)
    with _LOCAL_LOCK:
        found = _MEMO.get(key)
        if found is not None and found[0] == stamp:
            _MEMO.move_to_end(key)
            return found[1]
    value = compute()
    with _LOCAL_LOCK:
        _MEMO[key] = (stamp, value)
        _MEMO.move_to_end(key)
        while len(_MEMO) > _MEMO_MAX:
            _MEMO.popitem(last=False)
    return value


def _fresh(entry) -> bool:
    held = entry.get("versions", {})
    if not held:
        return True
    keys = {_VERSION_PREFIX + name: value for name, value in held.items()}
    current = _cache().get_many(list(keys))
    return all(current.get(key) == value for key, value in keys.items())


def public_page(view: Callable) -> Callable:
    """Serve ``view`` from the shared page cache to anonymous visitors (see the module docstring).

    The view declares what it shows with :func:`depends`; a page that declared nothing is cached
    for ``PAGE_CACHE_SECONDS`` only. Signed-in visitors get the view itself, ``private``.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or not settings.PAGE_CACHE_ENABLED:
            return view(request, *args, **kwargs)
        if not is_anonymous_visitor(request):
            response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True, no_cache=True)
            return response
        key = page_key(request)
        entry = _local_get(key)
        if entry is not None and _fresh(entry):
            return _answer(request, entry)
        entry = _cache().get(key)
        if entry is not None and _fresh(entry):
            _local_put(key, entry)
            return _answer(request, entry)
        setattr(request, _ATTR, {})
        response = view(request, *args, **kwargs)
        if not _storable(request, response):
            return response
        body = response.content
        entry = {
            "body": body,
            "etag": _etag(body),
            "headers": {h: response[h] for h in _KEPT_HEADERS if response.has_header(h)},
            "versions": dict(getattr(request, _ATTR)),
        }
        entry["expires"] = time.time() + settings.PAGE_CACHE_SECONDS
        _cache().set(key, entry, timeout=settings.PAGE_CACHE_SECONDS)
        _local_put(key, entry)
        response["X-Page-Cache"] = "miss"
        _public_headers(request, response, entry["etag"])
        if _matches(request, entry["etag"]):
            not_modified = HttpResponseNotModified()
            for header in ("ETag", "Cache-Control", "Vary", "X-Page-Cache"):
                not_modified[header] = response[header]
            return not_modified
        return response

    return wrapped


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    """Only a plain 200 page that sets no cookie and asked for no CSRF token is shared."""
    return (
        response.status_code == 200
        and not getattr(response, "streaming", False)
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not response.has_header("Cache-Control")
    )
