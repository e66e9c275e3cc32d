"""Shared fixtures: the pinned campaign clock and headless Chromium."""

import os
import shutil
from pathlib import Path

import pytest

# Each app's shared fixtures live in their own plugin module, so apps never edit one file.
pytest_plugins = [
    "tests.fixtures_regions",
    "tests.fixtures_campaigns",
    "tests.fixtures_accounts",
    "tests.fixtures_ratelimits",
    "tests.fixtures_registrations",
    "tests.fixtures_services",
]

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("KEPUYUE_CHROMIUM", "/usr/bin/chromium")


def _var_snapshot() -> set[str]:
    """Paths under ``var/``; the bench scripts' own databases (``var/bench-*``, written by a benchmark
    that may run beside the tests) and the loopback clusters' folders (``var/cluster*``, ``make cluster``
    and the drill) are not the suite's business."""
    if not VAR.exists():
        return set()
    found = {
        os.path.relpath(os.path.join(folder, name), VAR)
        for folder, dirs, files in os.walk(VAR)
        for name in (*dirs, *files)
    }
    # An empty var/ is nothing to git (and settings create none under pytest).
    return {path for path in found if not path.startswith(("bench-", "cluster"))}


@pytest.fixture(scope="session", autouse=True)
def _var_untouched(tmp_path_factory):
    """Tests never write into the working tree's ``var/`` (issue 11 point 7): media and private
    files go to a session temporary directory, and the run fails if anything under ``var/`` appeared
    during it (so ``make test`` fails, and ``git status --ignored var/`` stays as it was)."""
    from django.conf import settings

    before = _var_snapshot()
    root = tmp_path_factory.mktemp("var")
    saved = settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT
    settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT = root / "media", root / "private"
    yield root
    settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT = saved
    created = sorted(_var_snapshot() - before)
    if created:
        pytest.fail(
            "tests wrote into the working tree's var/ (use a temporary media root): "
            + ", ".join(created[:20]),
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts and ends in the default language: a request with an English cookie leaves
    English active in the thread (LocaleMiddleware activates and never resets), and a later test
    calling a service directly would then write English e-mails and messages."""
    from django.utils import translation

    translation.activate(settings_language())
    yield
    translation.activate(settings_language())


def settings_language() -> str:
    from django.conf import settings

    return settings.LANGUAGE_CODE


@pytest.fixture
def clock(settings):
    """Pin the campaign clock: ``clock("2025-08-15T10:00+08:00")``; returns the pinned value."""

    def pin(instant: str) -> str:
        settings.KEPUYUE_NOW = instant
        return instant

    return pin


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """``test-artifacts/`` at the repository root, where browser tests save their screenshots."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium():
    """A headless Debian Chromium driven by Playwright. Missing Chromium skips, except in CI."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but Chromium is not installed at {CHROMIUM}")
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in the main thread once Chromium runs, and Django
    # then refuses ORM calls there; browser tests drive the page and the ORM strictly in turn.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone_page(chromium):
    """A page in a 375×812 phone viewport (the platform is mobile-first)."""
    context = chromium.new_context(
        viewport={"width": 375, "height": 812}, device_scale_factor=2, locale="zh-CN"
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _empty_page_cache():
    """Every test starts with an empty shared page cache (kepuyue.common.pagecache): a page cached
    by one test must not be served to the next, whose database holds other rows."""
    from django.core.cache import caches

    from kepuyue.common.pagecache import clear_local

    caches["pages"].clear()
    clear_local()
    yield
