"""Entry kind ``video`` (短视频): the checks of its fields and files, called by
:func:`~kepuyue.calls.services.submitting.submit_entry`."""

from __future__ import annotations

from pathlib import Path
from tempfile import NamedTemporaryFile

from django.utils.translation import gettext as _

from .. import media
from .core import _check_size, temp_dir, upload_limits


def _validate_video(call, data, files, stops, checked, errors) -> None:
    upload = files.get("video")
    if not upload:
        errors["video"].append(_("请上传视频文件（MP4）"))
        return
    if not _check_size(call, upload, upload_limits(call)["video"], "video", errors):
        return
    result = media.check_video(upload.path, call.spec or {}, plan_ref=call.plan_ref or None)
    if not result.ok:
        errors["video"].extend(result.errors)
        return
    poster = NamedTemporaryFile(suffix=".jpg", dir=temp_dir(), delete=False)
    poster.close()
    checked.poster = Path(poster.name)
    try:
        media.extract_poster(upload.path, checked.poster)
    except (media.MediaError, OSError) as error:
        errors["video"].append(_("无法从视频中取出封面画面：%(error)s") % {"error": error})
        return
    checked.main, checked.main_ext = upload, "mp4"
    checked.warnings.extend(result.warnings)
    checked.fields.update(
        duration=result.duration,
        width=result.width,
        height=result.height,
        codec=result.codec,
        file_format="mp4",
    )
