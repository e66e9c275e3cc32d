"""Where files are kept, and how they are written so that a failure never leaves half a file (issue 9, class 8).

:class:`AtomicFileSystemStorage` (存储) is the platform's local storage, for ``MEDIA_ROOT`` (public) and
``PRIVATE_MEDIA_ROOT`` (staff only): every file is written under a hidden temporary name *in the same folder*,
``fsync``'d, then linked to its final name (``link(2)`` fails when the name exists, so two writers never share a
name) and the temporary name removed. A full disk (``ENOSPC``), an exhausted quota (``EDQUOT``) or any other
write error removes the temporary file and raises; the final name only ever holds a complete file. A full
disk is raised as :class:`StorageFull`, whose ``str`` is the Chinese message shown to the user (HTTP 507 for
tus and APIs, a form error on pages; :class:`kepuyue.common.uploads.UploadHygieneMiddleware` turns one that
no view caught into the 507 page). See ``docs/decisions/0014-refused-upload-cleanup-atomic-storage.md``.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.utils.translation import gettext as _

# Errors that mean "no room": the disk is full or the account's quota is used up.
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
COPY_CHUNK = 1024 * 1024


class StorageFull(OSError):
    """No room left to store a file (``ENOSPC``/``EDQUOT``); ``str(error)`` is the Chinese message."""

    def __init__(self, message: str | None = None):
        super().__init__(
            errno.ENOSPC, message or _("服务器存储空间不足，文件未保存。请稍后再试，或联系平台管理员。")
        )

    def __str__(self) -> str:
        return self.strerror


def is_full(error: BaseException) -> bool:
    """Whether ``error`` says the disk or quota is full."""
    return isinstance(error, StorageFull) or (isinstance(error, OSError) and error.errno in FULL_ERRNOS)


def _write(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (the one place bytes reach the disk: fault tests patch it)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def fsync_dir(path: str) -> None:
    """Make a new name in ``path`` durable (best effort: some filesystems refuse ``fsync`` on a folder)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(final_path: str, chunks, *, exclusive: bool = True, mode: int = 0o644) -> str:
    """Write the byte strings of ``chunks`` to ``final_path`` atomically: a hidden temporary file in the same
    folder, ``fsync``, then linked (``exclusive``: ``FileExistsError`` when the name is taken) or renamed over
    the old file. Returns ``final_path``. On any error the temporary file is removed; a full disk raises
    :class:`StorageFull`."""
    directory = os.path.dirname(final_path) or "."
    tmp = os.path.join(directory, f".{os.path.basename(final_path)}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        try:
            for chunk in chunks:
                if chunk:
                    _write(fd, chunk if isinstance(chunk, bytes | bytearray) else str(chunk).encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, mode)
        if exclusive:
            try:
                os.link(tmp, final_path)
            except FileExistsError:
                raise
            except OSError as error:
                if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                    raise
                # A filesystem without hard links: check, then rename (a tiny window, names are random).
                if os.path.exists(final_path):
                    raise FileExistsError(errno.EEXIST, "exists", final_path) from None
                os.replace(tmp, final_path)
        else:
            os.replace(tmp, final_path)
        fsync_dir(directory)
    except OSError as error:
        if is_full(error) and not isinstance(error, StorageFull):
            raise StorageFull() from error
        raise
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
    return final_path


def _file_chunks(path: str, size: int = COPY_CHUNK):
    with open(path, "rb") as fh:
        while chunk := fh.read(size):
            yield chunk


class AtomicFileSystemStorage(FileSystemStorage):
    """``FileSystemStorage`` that never leaves a partial file (see the module's docstring).

    A local temporary file (``temporary_file_path()``: a streamed upload, a finished tus upload) on the same
    filesystem is *linked* into place and then removed (a 2 GB video is not rewritten); from another filesystem
    it is copied through a temporary name. Anything else is streamed from ``content.chunks()``.
    """

    def _save(self, name, content):
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        os.makedirs(directory, exist_ok=True)
        mode = self.file_permissions_mode if self.file_permissions_mode is not None else 0o644
        while True:
            try:
                source = content.temporary_file_path() if hasattr(content, "temporary_file_path") else None
                if source and _same_device(source, directory):
                    _fsync_path(source)
                    os.link(source, full_path)
                    os.chmod(full_path, mode)
                    fsync_dir(directory)
                    os.unlink(source)
                elif source:
                    write_atomically(full_path, _file_chunks(source), mode=mode)
                    os.unlink(source)
                else:
                    if hasattr(content, "seek"):
                        try:
                            content.seek(0)
                        except (OSError, ValueError):
                            pass
                    write_atomically(full_path, content.chunks(), mode=mode)
            except FileExistsError:
                name = self.get_available_name(name)
                full_path = self.path(name)
            except OSError as error:
                if is_full(error) and not isinstance(error, StorageFull):
                    raise StorageFull() from error
                raise
            else:
                break
        self._ensure_location_group_id(full_path)
        return os.path.relpath(full_path, self.location).replace("\\", "/")


def _same_device(path: str, directory: str) -> bool:
    try:
        return os.stat(path).st_dev == os.stat(directory).st_dev
    except OSError:
        return False


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def free_bytes(path) -> int | None:
    """Free bytes on the filesystem of ``path`` for an unprivileged writer, or ``None`` when unknown."""
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


class PrivateFileSystemStorage(AtomicFileSystemStorage):
    """An :class:`AtomicFileSystemStorage` rooted at ``settings.PRIVATE_MEDIA_ROOT`` read when used, not when the
    model class was built: tests (and ``override_settings``) move it to a temporary directory, so
    nothing is ever written into the working tree's ``var/`` (issue 11 point 7)."""

    @property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)


def private_storage() -> Storage:
    """Storage for non-public uploads (imported 信息表 with contact names and phones, entry files).

    Embedded default: ``PRIVATE_MEDIA_ROOT`` (``var/private``), outside ``MEDIA_ROOT`` and served by
    no URL, written atomically (:class:`AtomicFileSystemStorage`). Scale-out: the S3 bucket under
    ``private/``, private ACL, links only signed and short-lived (an object store never shows a partial
    object).
    """
    if settings.AWS_STORAGE_BUCKET_NAME:
        # The same store as the public files (endpoint, keys, region), never through the public CDN domain.
        options = {**settings.STORAGES["default"].get("OPTIONS", {})}
        options.update(
            location="private",
            custom_domain=None,
            default_acl="private",
            querystring_auth=True,
            querystring_expire=300,
            object_parameters={"CacheControl": "private, no-store"},
        )
        return _s3_storage(tuple(sorted((k, repr(v)) for k, v in options.items())), options)
    return PrivateFileSystemStorage(base_url=None)


_S3_STORAGES: dict = {}


def _s3_storage(key: tuple, options: dict) -> Storage:
    """One S3 storage (and boto3 client) per configuration: building a client costs tens of milliseconds."""
    if key not in _S3_STORAGES:
        from storages.backends.s3 import S3Storage

        _S3_STORAGES[key] = S3Storage(**options)
    return _S3_STORAGES[key]


def is_local(storage: Storage) -> bool:
    """Whether ``storage`` keeps its files on this machine's disk (``path()`` works)."""
    try:
        storage.path("x")
    except NotImplementedError:
        return False
    return True


def signed_download_url(field_file, *, filename: str, attachment: bool = True) -> str | None:
    """A short-lived signed link to the private file ``field_file`` in the object store, asking the store to
    send it as ``filename`` (``Content-Disposition``), or ``None`` for local storage (the view streams it).

    In scale-out an export, a proof or a video is fetched by the browser from the store itself, so no Python
    worker is held while megabytes travel (issue 17 §5, ADR 0026); the link names one object, is signed with
    the store's key and expires after ``querystring_expire`` (300 s)."""
    storage = field_file.storage
    if is_local(storage):
        return None
    from urllib.parse import quote

    disposition = "attachment" if attachment else "inline"
    ascii_name = filename.encode("ascii", "ignore").decode() or "download"
    parameters = {
        "ResponseContentDisposition": f'{disposition}; filename="{ascii_name}"; '
        f"filename*=UTF-8''{quote(filename)}",
    }
    return storage.url(field_file.name, parameters=parameters)
