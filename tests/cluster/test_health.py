"""``/health/`` (django-health-check) in the embedded default, and who may ask it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stores(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "public"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


def test_health_checks_the_database_cache_and_both_stores(client, tmp_path):
    response = client.get("/health/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "Database(alias='default')": "OK",
        "Cache(alias='default')": "OK",
        "PublicStorage(alias='default')": "OK",
        "PrivateStorage(alias='private')": "OK",
    }
    # The probe files are deleted again.
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


@pytest.mark.parametrize("address", ["203.0.113.5", "2001:db8::1"])
def test_health_is_a_404_from_outside_the_probe_networks(client, address):
    assert client.get("/health/?format=json", REMOTE_ADDR=address).status_code == 404


def test_a_store_that_fails_makes_health_a_500(client, settings, monkeypatch):
    from kepuyue.common import health

    def broken(self):
        raise OSError("disk gone")

    monkeypatch.setattr(health.PrivateStorage, "run", broken)
    response = client.get("/health/?format=json")
    assert response.status_code == 500
    assert response.json()["PrivateStorage(alias='private')"] != "OK"
