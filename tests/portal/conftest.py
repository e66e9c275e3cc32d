import os

import pytest

# Playwright's sync API keeps an event loop running in the main thread once Chromium starts, and
# Django then refuses ORM calls there. The tests drive the browser and the ORM strictly in turn,
# which is what this switch is for (Playwright's own Django guidance).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """Render ``{% static %}`` without a collectstatic manifest (the suite never runs collectstatic)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
