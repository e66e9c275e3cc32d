"""Publishing (择优发布) against the S3 stand-in (issue 17 §5, ADR 0026): an entry's files are private objects
with signed links; publishing copies the public ones (video, poster) to public objects whose plain URLs
never expire, and the gallery links to those."""

from __future__ import annotations

import shutil
import urllib.parse
import urllib.request

import pytest

from kepuyue.calls import services
from kepuyue.calls.models import Entry, EntryImage, EntryStatus
from kepuyue.calls.services import Upload, submit_entry
from kepuyue.common.storage import private_storage
from tests.calls.conftest import login
from tests.calls.mediafiles import make_mp4
from tests.fixtures_services import BUCKET

pytestmark = pytest.mark.django_db
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


@pytest.fixture(scope="module")
def video_file(tmp_path_factory):
    return make_mp4(tmp_path_factory.mktemp("publish-s3") / "hd.mp4", 1920, 1080, seconds=1.0)


@pytest.fixture
def s3_entries(s3_store, monkeypatch):
    """Entry files in the private part of the stand-in store (as in scale-out)."""
    store = private_storage()
    for model, name in ((Entry, "file"), (Entry, "poster"), (EntryImage, "file")):
        monkeypatch.setattr(model._meta.get_field(name), "storage", store)
    return s3_store


def grants(client, key: str) -> set[str]:
    acl = client.get_object_acl(Bucket=BUCKET, Key=key)
    return {g["Permission"] for g in acl["Grants"] if g["Grantee"].get("URI") == ALL_USERS}


def test_publish_copies_the_video_to_a_public_unsigned_object(
    s3_entries, call, base, staff, manager, video_file, storages, client
):
    copy = storages["temp"] / "v.mp4"
    shutil.copyfile(video_file, copy)
    entry = submit_entry(
        call("science-treasure-videos"),
        organization=base,
        data={"title": "植物园里的科学", "theme": "base-tour"},
        files={"video": Upload(copy, name="hd.mp4")},
        submit=True,
    )
    private_key = f"private/{entry.file.name}"
    assert grants(s3_entries, private_key) == set()
    login(client, staff)
    response = client.get(f"/calls/entries/{entry.code}/file/file/")
    assert response.status_code == 302 and "X-Amz-Signature=" in response["Location"]

    services.transition(entry, EntryStatus.SHORTLISTED, actor=manager)
    services.transition(entry, EntryStatus.PUBLISHED, actor=manager)
    entry.refresh_from_db()
    assert entry.public_file.name.startswith("calls/public/")
    assert grants(s3_entries, entry.public_file.name) == {"READ"}
    url = entry.public_file.url
    assert not urllib.parse.urlsplit(url).query  # unsigned: a shared gallery link never expires
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - the local stand-in
        assert answer.read() == video_file.read_bytes()
        assert answer.headers["Cache-Control"] == "public, max-age=86400"
    # The original stays private; the public gallery links the public copy.
    assert grants(s3_entries, private_key) == set()
    client.logout()
    html = client.get("/calls/kepuyue-2025/science-treasure-videos/").content.decode()
    assert url.replace("&", "&amp;") in html or url in html
