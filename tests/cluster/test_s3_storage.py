"""The S3 path against the stand-in store (moto's server, as MinIO / OSS / COS would answer): published media
are public, unsigned and cacheable; private files (exports, proofs, entry files) are signed and short-lived
and leave the store to the browser directly, never through a Python worker (issue 17 §5, ADR 0026)."""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from kepuyue.common.storage import is_local, private_storage, signed_download_url
from tests.fixtures_services import BUCKET

pytestmark = pytest.mark.django_db

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def fetch(url: str) -> tuple[int, dict, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the local stand-in
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def public_grants(client, key: str) -> set[str]:
    acl = client.get_object_acl(Bucket=BUCKET, Key=key)
    return {g["Permission"] for g in acl["Grants"] if g["Grantee"].get("URI") == ALL_USERS}


def test_published_media_have_plain_unsigned_cacheable_urls(s3_store):
    name = default_storage.save("calls/public/2025/poster.jpg", ContentFile(b"\xff\xd8poster"))
    url = default_storage.url(name)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert not query, url  # no X-Amz-Signature, no Expires: a shared poster link never breaks
    status, headers, body = fetch(url)  # no credentials at all
    assert (status, body) == (200, b"\xff\xd8poster")
    assert headers["cache-control"] == "public, max-age=86400"
    assert public_grants(s3_store, name) == {"READ"}


def test_private_files_are_signed_short_lived_and_never_public(s3_store):
    store = private_storage()
    assert not is_local(store)
    name = store.save("exports/2025/09/1-abc.csv", ContentFile("名称\n科普\n".encode()))
    key = f"private/{name}"
    assert public_grants(s3_store, key) == set()
    url = store.url(name)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query.get("X-Amz-Expires") == ["300"] and query.get("X-Amz-Signature"), url
    head = s3_store.head_object(Bucket=BUCKET, Key=key)
    assert head["CacheControl"] == "private, no-store"
    # Same endpoint as the public files (the keys and region of the settings), never the CDN domain.
    assert store.url(name).startswith(default_storage.url("x").rsplit("/x", 1)[0].rsplit(f"/{BUCKET}", 1)[0])


def test_an_export_on_the_store_writes_its_temporary_file_outside_the_working_tree(s3_store):
    """The S3 storage's ``location`` ("private") is a key prefix: taken for a folder, export jobs wrote
    ``private/exports/tmp/`` under the worker's working directory (the drill left files in the repo)."""
    from kepuyue.activities.export_jobs import _temp_dir

    store = private_storage()
    assert store.location  # the prefix exists …
    assert _temp_dir(store) is None  # … but the system's temporary folder is used


def test_signed_download_names_the_file_and_local_storage_streams(s3_store, tmp_path):
    store = private_storage()
    name = store.save("exports/2025/09/2-def.csv", ContentFile(b"a,b\n"))
    field_file = type("F", (), {"storage": store, "name": name})()
    url = signed_download_url(field_file, filename="活动导出.csv")
    status, headers, body = fetch(url)
    assert (status, body) == (200, b"a,b\n")
    assert "attachment" in headers["content-disposition"]
    assert "filename*=UTF-8''%E6%B4%BB%E5%8A%A8%E5%AF%BC%E5%87%BA.csv" in headers["content-disposition"]
    from kepuyue.common.storage import PrivateFileSystemStorage

    local = type("F", (), {"storage": PrivateFileSystemStorage(location=tmp_path), "name": "x.csv"})()
    assert signed_download_url(local, filename="x.csv") is None


def test_export_download_is_a_redirect_to_the_store(s3_store, client, django_user_model, monkeypatch):
    from django.utils import timezone

    from kepuyue.activities.models import ExportJob

    store = private_storage()
    monkeypatch.setattr(ExportJob._meta.get_field("file"), "storage", store)
    owner = django_user_model.objects.create_user("exporter", password="Pw-exporter-1")
    name = store.save("exports/2025/09/3-ghi.csv", ContentFile("活动\n".encode()))
    job = ExportJob.objects.create(
        owner=owner,
        kind="mine",
        fmt="csv",
        filename="本单位活动.csv",
        state=ExportJob.State.DONE,
        file=name,
        expires_at=timezone.now() + timezone.timedelta(days=1),
    )
    client.force_login(owner)
    response = client.get(f"/org/activities/exports/{job.pk}/download/")
    assert response.status_code == 302
    assert "X-Amz-Signature=" in response["Location"]
    status, headers, body = fetch(response["Location"])
    assert body == "活动\n".encode() and "attachment" in headers["content-disposition"]


def test_health_reports_database_cache_and_both_stores(s3_store, client, settings):
    settings.KEPUYUE_HEALTH_STORE_SECONDS = 60  # the stand-in shares a loaded machine
    response = client.get("/health/?format=json")
    assert response.status_code == 200, response.content
    checks = response.json()
    assert set(checks) >= {
        "Database(alias='default')",
        "Cache(alias='default')",
        "PublicStorage(alias='default')",
        "PrivateStorage(alias='private')",
    }
    assert set(checks.values()) == {"OK"}
    assert "no-cache" in response["Cache-Control"]
