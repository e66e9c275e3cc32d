"""``/health/``: what a load balancer or an operator asks before sending traffic (issue 17 §5, ADR 0026).

django-health-check (maintained, Django 5.2) runs the checks concurrently and answers 200 or 500, as HTML,
JSON (``Accept: application/json`` or ``?format=json``) or text. Checked: the database (a ``SELECT 1``), the
cache (a write and a read: Redis in scale-out, so sessions too), the public and the private store (a file
written, read and deleted: the object store in scale-out) and, when a broker is configured, the broker and
a Celery worker (a ``ping`` answered within two seconds). ``/healthz`` stays the cheap liveness probe (no
database) that nginx and the benchmarks use.

Each call writes to both stores and pings the workers, and the answer names the services: only probes from
``KEPUYUE_HEALTH_NETWORKS`` (loopback and the private ranges by default: the load balancer, the monitoring
host) get it; anyone else gets the portal's 404.
"""

from __future__ import annotations

import dataclasses
import datetime

from django.conf import settings
from django.http import Http404
from health_check.checks import Cache, Database, Storage

from .net import client_ip, is_trusted, parse_ip, parse_networks
from .storage import private_storage


def _store_timeout() -> datetime.timedelta:
    """A store's round trip (write, read, delete) may take seconds on a loaded node: its own budget."""
    return datetime.timedelta(seconds=settings.KEPUYUE_HEALTH_STORE_SECONDS)


@dataclasses.dataclass
class PublicStorage(Storage):
    """The public store (published media): the object store in scale-out."""

    alias: str = "default"
    timeout: datetime.timedelta = dataclasses.field(default_factory=_store_timeout, repr=False)


@dataclasses.dataclass
class PrivateStorage(Storage):
    """The private store (exports, proofs, entry files): signed links only in scale-out."""

    alias: str = "private"
    timeout: datetime.timedelta = dataclasses.field(default_factory=_store_timeout, repr=False)

    @property
    def storage(self):
        return private_storage()


def checks() -> list:
    """The checks for this configuration (the broker only when one is configured)."""
    found: list = [Database, Cache, PublicStorage, PrivateStorage]
    if settings.CELERY_BROKER_URL:
        from health_check.contrib.celery import Ping

        found.append((Ping, {"timeout": datetime.timedelta(seconds=2)}))
    return found


def health_view():
    """The ``/health/`` view with :func:`checks` (read when the URL map is loaded), for probes from
    ``KEPUYUE_HEALTH_NETWORKS`` only."""
    from health_check.views import HealthCheckView

    class KepuyueHealthView(HealthCheckView):
        async def dispatch(self, request, *args, **kwargs):
            networks = parse_networks(settings.KEPUYUE_HEALTH_NETWORKS)
            if not is_trusted(parse_ip(client_ip(request)), networks):
                raise Http404
            return await super().dispatch(request, *args, **kwargs)

    return KepuyueHealthView.as_view(checks=checks())
