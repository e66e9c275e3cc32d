"""Every test counts its own requests: rate-limit counters live in the cache, which outlives a test."""

import uuid

import pytest


@pytest.fixture(autouse=True)
def _fresh_rate_limit_counters(settings):
    settings.RATELIMIT_CACHE_PREFIX = f"rl:{uuid.uuid4().hex}:"
