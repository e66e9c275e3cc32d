"""Atomic storage (ADR 0014): a file appears whole under its name or not at all, and a full disk is a Chinese
error with nothing left behind — by fault injection at a byte offset, and on a real 1 MB filesystem when the
machine lets us mount one."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import TemporaryUploadedFile

from kepuyue.common import storage as storage_module
from kepuyue.common.storage import AtomicFileSystemStorage, StorageFull

ROOT = Path(__file__).resolve().parents[2]


def every_file(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_save_writes_whole_file_and_no_temporary(tmp_path):
    store = AtomicFileSystemStorage(location=tmp_path)
    name = store.save("a/b/file.bin", ContentFile(b"x" * 300_000))
    assert name == "a/b/file.bin"
    assert (tmp_path / name).read_bytes() == b"x" * 300_000
    assert every_file(tmp_path) == ["a/b/file.bin"]
    assert oct((tmp_path / name).stat().st_mode & 0o777) == oct(0o644)


def test_same_name_gets_another_name_never_overwrites(tmp_path):
    store = AtomicFileSystemStorage(location=tmp_path)
    first = store.save("f.txt", ContentFile(b"first"))
    second = store.save("f.txt", ContentFile(b"second"))
    assert first != second
    assert (tmp_path / first).read_bytes() == b"first" and (tmp_path / second).read_bytes() == b"second"


def test_temporary_upload_is_linked_into_place_and_its_temporary_removed(tmp_path, settings):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()
    store = AtomicFileSystemStorage(location=tmp_path / "store")
    upload = TemporaryUploadedFile("v.mp4", "video/mp4", 0, None)
    upload.write(b"v" * 100_000)
    upload.flush()
    source = upload.temporary_file_path()
    name = store.save("v.mp4", upload)
    upload.close()  # as the request does at its end: the moved temporary is simply gone
    assert (tmp_path / "store" / name).read_bytes() == b"v" * 100_000
    assert not os.path.exists(source)


@pytest.mark.parametrize("fail_at", [0, 1, 65_536, 250_000])
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_full_disk_at_a_byte_offset_leaves_nothing(tmp_path, monkeypatch, fail_at, code):
    """Fault injection: the disk fills up after ``fail_at`` bytes of the file."""
    written = {"n": 0}
    real = storage_module._write

    def filling(fd, data):
        if written["n"] + len(data) > fail_at:
            room = max(0, fail_at - written["n"])
            if room:
                real(fd, data[:room])
            raise OSError(code, os.strerror(code))
        written["n"] += len(data)
        real(fd, data)

    monkeypatch.setattr(storage_module, "_write", filling)
    store = AtomicFileSystemStorage(location=tmp_path)
    with pytest.raises(StorageFull) as caught:
        store.save("posters/p.jpg", ContentFile(b"j" * 300_000))
    assert "存储空间不足" in str(caught.value)
    assert every_file(tmp_path) == []


def test_full_disk_while_fsyncing_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(
        storage_module.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full"))
    )
    store = AtomicFileSystemStorage(location=tmp_path)
    with pytest.raises(StorageFull):
        store.save("x.bin", ContentFile(b"1234"))
    assert every_file(tmp_path) == []


def test_other_write_errors_are_not_called_full_and_leave_nothing(tmp_path, monkeypatch):
    def broken(fd, data):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(storage_module, "_write", broken)
    store = AtomicFileSystemStorage(location=tmp_path)
    with pytest.raises(OSError) as caught:
        store.save("x.bin", ContentFile(b"1234"))
    assert not isinstance(caught.value, StorageFull)
    assert every_file(tmp_path) == []


def _can_mount_tmpfs() -> bool:
    if not shutil.which("unshare") or os.geteuid() != 0:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k none /mnt && umount /mnt"],
        capture_output=True,
        timeout=20,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs root and unshare to mount a small tmpfs")
def test_really_full_filesystem_leaves_nothing(tmp_path):
    """A real 1 MB filesystem (tmpfs in a private mount namespace): a 3 MB file does not fit, a small one does,
    and the refused one leaves no byte — also no hidden temporary name."""
    mount = tmp_path / "small"
    mount.mkdir()
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(ROOT / "src")!r})
        from django.conf import settings
        settings.configure(USE_I18N=False)
        from django.core.files.base import ContentFile
        from kepuyue.common.storage import AtomicFileSystemStorage, StorageFull
        store = AtomicFileSystemStorage(location={str(mount)!r})
        small = store.save("ok.bin", ContentFile(b"s" * 100_000))
        try:
            store.save("big.bin", ContentFile(b"b" * 3_000_000))
        except StorageFull as error:
            print("FULL", error)
        names = sorted(os.listdir({str(mount)!r}))
        print("FILES", names, os.path.getsize(os.path.join({str(mount)!r}, small)))
        """
    )
    result = subprocess.run(
        [
            "unshare",
            "-m",
            "sh",
            "-c",
            f'mount -t tmpfs -o size=1m none {mount} && {sys.executable} -c "$0"',
            script,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "FULL" in result.stdout
    assert "FILES ['ok.bin'] 100000" in result.stdout
