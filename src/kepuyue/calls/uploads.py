"""Receiving files without holding them in memory: a multipart upload handler and the tus server.

**Multipart** (the plain ``<input type=file>`` form, also the no-JavaScript path): :class:`StreamingUploadHandler`
writes each file part in the chunks Django's parser hands it (64 KB) to a temporary file on local disk,
hashing it (SHA-256) on the way and stopping at the field's size limit. An interrupted request or an
exception closes and removes the temporary file.

**tus 1.0.0** (core + creation + termination + expiration; https://tus.io/protocols/resumable-upload) for
large videos, so a dropped phone connection resumes where it stopped instead of starting again. No Django
tus server is kept up to date (django-tus: last release 2020), so the protocol is implemented here. State
lives beside the bytes in the upload folder (``<id>.part`` and ``<id>.json``), not in the database: an
upload that is never finished leaves no row anywhere and is removed by ``manage.py calls_cleanup_uploads``
once expired. In scale-out the upload folder must be shared by the app nodes or requests of one upload
routed to one node (sticky by the upload URL).

**Caps and cleanup** (issue 9 class 2, ADR 0014): an account has at most ``CALLS_TUS_MAX_IN_FLIGHT`` uploads
in flight (unfinished, or finished and kept for a form) and at most ``CALLS_TUS_MAX_BYTES_IN_FLIGHT`` declared
bytes; the declared ``Upload-Length`` is checked against the call's limit before any byte is read. Every
multipart temporary file is registered with ``kepuyue.common.uploads.track`` and removed when the request ends.
A full disk during a PATCH truncates the ``.part`` back to where that PATCH started (no half-written chunk) and
answers 507; the upload stays resumable.

**Kept uploads** (issue 11 point 3): a finished upload survives a form that was refused for another reason.
:func:`keep` turns a multipart temporary file into a finished upload in this folder, and :func:`token_for` /
:func:`from_token` sign an upload for the form's hidden ``kept`` field (bound to the account and the call);
it expires like any upload.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from tempfile import NamedTemporaryFile

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils.translation import gettext as _

from kepuyue.common.storage import StorageFull, is_full
from kepuyue.common.uploads import track

from .services import Upload, temp_dir

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,expiration"
# An unfinished upload may be resumed for this long after its last PATCH, in seconds (the default of
# CALLS_UPLOAD_EXPIRY_SECONDS; read it through expiry_seconds()).
TUS_EXPIRY_SECONDS = 24 * 3600
TOKEN_SALT = "kepuyue.calls.kept-upload"  # noqa: S105 - a signing namespace, not a secret
# Bytes read from the request and written per step: small enough that memory stays flat.
CHUNK_BYTES = 256 * 1024
ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")


def expiry_seconds() -> int:
    """How long an upload lives after its last write (``CALLS_UPLOAD_EXPIRY_SECONDS``), in seconds."""
    return int(getattr(settings, "CALLS_UPLOAD_EXPIRY_SECONDS", TUS_EXPIRY_SECONDS) or TUS_EXPIRY_SECONDS)


# --- multipart --------------------------------------------------------------------------------


class _TempUploadedFile(UploadedFile):
    """A file part being written to a temporary file in :func:`temp_dir`; deleted on close unless kept."""

    def __init__(self, name, content_type, charset, content_type_extra=None):
        handle = NamedTemporaryFile(suffix=".upload", dir=temp_dir(), delete=False)
        super().__init__(handle, name, content_type, 0, charset, content_type_extra)
        self.sha256 = ""

    def temporary_file_path(self) -> str:
        return self.file.name

    def discard(self) -> None:
        """Close and remove the temporary file (idempotent)."""
        try:
            self.file.close()
        finally:
            Path(self.file.name).unlink(missing_ok=True)

    def as_upload(self) -> Upload:
        """The finished part as a :class:`kepuyue.calls.services.Upload` (the file is closed first)."""
        self.file.close()
        return Upload(Path(self.file.name), name=self.name or "", size=self.size, sha256=self.sha256)


class StreamingUploadHandler(FileUploadHandler):
    """Streams every file part to local disk, hashing it; ``limits`` maps a field name to its largest
    size in bytes (a field missing from it is refused). A part over its limit stops the upload: its
    temporary file is removed and ``too_large`` names the field; the view answers with the rule.
    Every temporary file this handler made is listed in ``files`` so the view removes what the service did
    not consume.
    """

    chunk_size = 64 * 1024

    def __init__(self, request=None, *, limits: dict[str, int]):
        super().__init__(request)
        self.limits = limits
        self.too_large: str = ""
        self.files: list[_TempUploadedFile] = []
        self._digest = None
        self._written = 0

    def new_file(
        self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None
    ):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        if field_name not in self.limits:
            raise StopUpload(connection_reset=False)
        self.file = _TempUploadedFile(file_name, content_type, charset, content_type_extra)
        self.files.append(self.file)
        track(self.request, self.file)  # removed at the end of the request unless moved (common.uploads)
        self._digest = hashlib.sha256()
        self._written = 0

    def receive_data_chunk(self, raw_data, start):
        self._written += len(raw_data)
        if self._written > self.limits[self.field_name]:
            self.too_large = self.field_name
            self.file.discard()
            raise StopUpload(connection_reset=False)
        self._digest.update(raw_data)
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.file.flush()
        self.file.size = file_size
        self.file.sha256 = self._digest.hexdigest()
        return self.file

    def upload_interrupted(self):
        for part in self.files:
            part.discard()

    def discard_all(self) -> None:
        """Remove every temporary file still on disk (after the service moved what it kept)."""
        for part in self.files:
            part.discard()


# --- tus --------------------------------------------------------------------------------------


class TusError(Exception):
    """A tus request that cannot be served: ``status`` (HTTP) and a ``message`` in the active language."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class TusUpload:
    """One upload in progress: ``id`` (32 hex), the owner's ``user_id``, the ``call_id`` it is for,
    ``length`` (bytes, declared at creation), ``metadata`` (decoded ``Upload-Metadata``), ``created`` and
    ``expires`` (Unix seconds). ``offset`` is the size of the ``.part`` file on disk."""

    id: str
    user_id: int
    call_id: int
    length: int
    metadata: dict
    created: float
    expires: float
    # The form field it is for ("video" for tus; "images"/"document" for a kept multipart file).
    field: str = "video"
    sha256: str = ""
    # A multipart file kept for the next try of a refused form (not a resumable upload: not in the count cap).
    kept: bool = False

    @property
    def part_path(self) -> Path:
        return tus_dir() / f"{self.id}.part"

    @property
    def info_path(self) -> Path:
        return tus_dir() / f"{self.id}.json"

    @property
    def offset(self) -> int:
        try:
            return self.part_path.stat().st_size
        except FileNotFoundError:
            return 0

    @property
    def complete(self) -> bool:
        return self.offset == self.length

    def save_info(self) -> None:
        tmp = self.info_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.__dict__), encoding="utf-8")
        os.replace(tmp, self.info_path)

    def delete(self) -> None:
        self.part_path.unlink(missing_ok=True)
        self.info_path.unlink(missing_ok=True)

    def as_upload(self) -> Upload:
        return Upload(
            self.part_path, name=self.metadata.get("filename", ""), size=self.offset, sha256=self.sha256
        )


def tus_dir() -> Path:
    folder = temp_dir() / "tus"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def parse_metadata(header: str) -> dict:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs → ``{key: text}``. Raises
    ``TusError(400)`` for a malformed header."""
    result = {}
    for pair in filter(None, (p.strip() for p in (header or "").split(","))):
        key, _sep, value = pair.partition(" ")
        try:
            result[key] = base64.b64decode(value, validate=True).decode("utf-8") if value else ""
        except ValueError:
            raise TusError(400, _("Upload-Metadata 格式不对")) from None
    return result


def _load(info: Path) -> TusUpload | None:
    try:
        return TusUpload(**json.loads(info.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def in_flight(user_id: int, now: float | None = None) -> list[TusUpload]:
    """The account's uploads that are not expired: unfinished tus uploads and finished ones kept for a form."""
    now = time.time() if now is None else now
    found = []
    for info in tus_dir().glob("*.json"):
        upload = _load(info)
        if upload is not None and upload.user_id == user_id and upload.expires >= now:
            found.append(upload)
    return found


def _cap_problem(user_id: int, length: int, now: float, *, count: bool = True) -> TusError | None:
    """Why the account may not start (or keep) another upload of ``length`` bytes, or ``None``:
    ``CALLS_TUS_MAX_IN_FLIGHT`` resumable video uploads (``count``; uploads kept for a form do not count, a
    route has up to six images) and ``CALLS_TUS_MAX_BYTES_IN_FLIGHT`` bytes of everything in flight."""
    from .media import _fmt_bytes

    max_count = int(getattr(settings, "CALLS_TUS_MAX_IN_FLIGHT", 3))
    max_bytes = int(getattr(settings, "CALLS_TUS_MAX_BYTES_IN_FLIGHT", 6 * 1024**3))
    current = in_flight(user_id, now)
    resumable = [u for u in current if not u.kept]
    if count and len(resumable) >= max_count:
        return TusError(
            429,
            _(
                "本账号已有%(count)s个上传未完成或待提交（上限%(max)s个）。请先提交或取消已有上传，或等待其过期后再试。"
            )
            % {"count": len(resumable), "max": max_count},
        )
    reserved = sum(u.length for u in current)
    if reserved + length > max_bytes:
        return TusError(
            413,
            _(
                "本账号进行中的上传合计不能超过%(max)s（已占用%(used)s，本次%(size)s）。请先完成或取消已有上传。"
            )
            % {"max": _fmt_bytes(max_bytes), "used": _fmt_bytes(reserved), "size": _fmt_bytes(length)},
        )
    return None


class _CreateLock:
    """One creation at a time (per upload folder), so two parallel requests cannot both pass the caps."""

    def __enter__(self):
        # The folder itself is locked (flock works on a directory): no lock file is left lying around.
        self.fd = os.open(tus_dir(), os.O_RDONLY)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def create(
    *,
    user_id: int,
    call_id: int,
    length: int,
    metadata: dict,
    now: float | None = None,
    field: str = "video",
    count: bool = True,
) -> TusUpload:
    """Start an upload of ``length`` bytes (an empty ``.part`` file and its ``.json`` state). Raises
    ``TusError`` (429/413, Chinese) when the account's caps would be passed (``count``: the count cap too)."""
    now = time.time() if now is None else now
    with _CreateLock():
        if problem := _cap_problem(user_id, length, now, count=count):
            raise problem
        upload = TusUpload(
            id=uuid.uuid4().hex,
            user_id=user_id,
            call_id=call_id,
            length=length,
            metadata={k: v[:255] for k, v in metadata.items() if k in ("filename", "filetype")},
            created=now,
            expires=now + expiry_seconds(),
            field=field,
        )
        upload.part_path.touch()
        upload.save_info()
    return upload


def keep(upload: Upload, *, user_id: int, call_id: int, field: str) -> TusUpload:
    """Keep a finished multipart ``upload`` (a temporary file) for the next attempt of the form: moved into the
    upload folder as a finished upload of ``field``, which expires like any other. Within the account's byte cap
    (else ``TusError(413)``: refused forms must not become a way to fill the disk); not in the count cap."""
    kept = create(
        user_id=user_id,
        call_id=call_id,
        length=upload.size,
        metadata={"filename": upload.name},
        field=field,
        count=False,
    )
    kept.kept = True
    os.replace(upload.path, kept.part_path)
    kept.sha256 = upload.sha256
    kept.save_info()
    return kept


def token_for(upload: TusUpload) -> str:
    """A signed token naming ``upload``, its account and call, for the form's hidden ``kept`` field."""
    return signing.dumps({"id": upload.id, "u": upload.user_id, "c": upload.call_id}, salt=TOKEN_SALT)


def from_token(token: str, *, user_id: int, call_id: int) -> TusUpload:
    """The finished upload a token of :func:`token_for` names, if it is the account's, for this call, and still
    there; ``TusError(404/410)`` otherwise."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=expiry_seconds())
    except signing.SignatureExpired:
        raise TusError(410, _("已上传的文件已过期，请重新选择文件")) from None
    except signing.BadSignature:
        raise TusError(404, _("已上传的文件无效，请重新选择文件")) from None
    if not isinstance(data, dict) or data.get("u") != user_id or data.get("c") != call_id:
        raise TusError(404, _("已上传的文件无效，请重新选择文件"))
    upload = get(str(data.get("id") or ""), user_id=user_id)
    if not upload.complete:
        raise TusError(409, _("视频尚未上传完成，请继续上传"))
    return upload


def get(upload_id: str, *, user_id: int | None = None) -> TusUpload:
    """The upload ``upload_id`` (of ``user_id`` when given); ``TusError(404)`` when unknown, another
    account's or expired."""
    if not ID_PATTERN.match(upload_id or ""):
        raise TusError(404, _("上传不存在"))
    path = tus_dir() / f"{upload_id}.json"
    try:
        upload = TusUpload(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        raise TusError(404, _("上传不存在或已过期")) from None
    if user_id is not None and upload.user_id != user_id:
        raise TusError(404, _("上传不存在"))
    if upload.expires < time.time():
        raise TusError(410, _("上传已过期，请重新上传"))
    return upload


def append(upload: TusUpload, offset: int, stream, content_length: int | None) -> int:
    """Append the request body (read from ``stream`` in ``CHUNK_BYTES`` pieces) at ``offset``; returns the
    new offset. ``TusError``: 409 when ``offset`` is not where the file ends, 413 when the body would go
    past the declared length, 423 when another request is writing this upload. A body cut short (the
    connection dropped) keeps the bytes that arrived: the client asks HEAD for the offset and resumes."""
    with open(upload.part_path, "ab") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TusError(423, _("此上传正在由另一请求写入")) from None
        current = os.fstat(fh.fileno()).st_size
        if offset != current:
            raise TusError(
                409,
                _("Upload-Offset 为%(offset)s，服务器已收到%(current)s字节")
                % {"offset": offset, "current": current},
            )
        remaining = upload.length - current
        if content_length is not None and content_length > remaining:
            raise TusError(413, _("数据超出声明的文件长度 Upload-Length"))
        to_read = remaining if content_length is None else content_length
        full = False
        try:
            while to_read > 0:
                try:
                    chunk = stream.read(min(CHUNK_BYTES, to_read))
                except Exception as error:  # noqa: BLE001 - the client went away mid-body: keep what arrived
                    log.info("tus upload %s interrupted at %s bytes: %s", upload.id, fh.tell(), error)
                    break
                if not chunk:
                    break
                fh.write(chunk)
                to_read -= len(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        except OSError as error:
            if not is_full(error):
                raise
            full = True
        if full:
            # No half-written chunk stays: back to where this PATCH started, the upload stays resumable.
            try:
                fh.truncate(current)
            except OSError:  # pragma: no cover - truncating never needs space
                pass
            raise TusError(507, str(StorageFull()))
        offset = os.fstat(fh.fileno()).st_size
    upload.expires = time.time() + expiry_seconds()
    try:
        upload.save_info()
    except OSError as error:
        if is_full(error):
            raise TusError(507, str(StorageFull())) from None
        raise
    return offset


def cleanup_expired(now: float | None = None) -> int:
    """Remove uploads whose ``expires`` has passed (finished or not, they were never turned into an entry)
    and stray ``.part`` files without state; returns how many uploads were removed."""
    now = time.time() if now is None else now
    removed = 0
    folder = tus_dir()
    for info in folder.glob("*.json"):
        try:
            expires = json.loads(info.read_text(encoding="utf-8"))["expires"]
        except (OSError, ValueError, KeyError):
            expires = 0
        if expires < now:
            (folder / f"{info.stem}.part").unlink(missing_ok=True)
            info.unlink(missing_ok=True)
            removed += 1
    for part in folder.glob("*.part"):
        if not (folder / f"{part.stem}.json").exists() and part.stat().st_mtime < now - expiry_seconds():
            part.unlink(missing_ok=True)
            removed += 1
    # Temporaries left by a killed worker (a live request never takes this long): multipart parts, the
    # ``.json.tmp`` of a state write that died, the hidden names of an atomic write.
    for pattern in ("*.upload", "*.tmp", ".*.tmp"):
        for stray in list(temp_dir().glob(pattern)) + list(folder.glob(pattern)):
            try:
                if stray.stat().st_mtime < now - expiry_seconds():
                    stray.unlink(missing_ok=True)
            except OSError:
                pass
    return removed
