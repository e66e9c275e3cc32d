"""Poster thumbnails for activity cards (海报缩略图, issue 11.6).

A poster may be a 10 MB, 25-megapixel picture (``activities.services.check_poster``); a phone listing six
cards should not fetch six of those. :func:`thumbnail_url` names a small WebP (at most
:data:`THUMB_SIZE`, quality 75) by the poster's file name, so a new poster gets a new URL and browsers may
keep a thumbnail for a year. The first request makes it from the poster and stores it in default storage
under ``thumbs/posters/`` (shared by every app node; S3 in scale-out); later requests read it back.
"""

from __future__ import annotations

import hashlib
import io
import warnings

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

THUMB_SIZE = (384, 512)  # 3:4, twice the card's 192 × 256 CSS pixels for sharp phone screens
QUALITY = 75
MAX_PIXELS = 25_000_000  # as check_poster


def key_of(poster_name: str) -> str:
    """A short fingerprint of the poster's storage name (its URL changes when the poster does)."""
    return hashlib.sha256(poster_name.encode()).hexdigest()[:16]


def thumbnail_url(activity) -> str:
    """The card thumbnail's URL of ``activity`` (``""`` without a poster)."""
    if not activity.poster:
        return ""
    return reverse("portal:poster_thumb", args=[activity.pk, key_of(activity.poster.name)])


def thumbnail_bytes(activity) -> bytes | None:
    """The WebP thumbnail of the activity's poster, made and stored on first use; ``None`` when the
    poster is missing or cannot be read as a picture (the card then shows none)."""
    if not activity.poster:
        return None
    name = f"thumbs/posters/{key_of(activity.poster.name)}.webp"
    try:
        if default_storage.exists(name):
            with default_storage.open(name, "rb") as handle:
                return handle.read()
    except OSError:
        pass
    data = _render(activity)
    if data is None:
        return None
    try:
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(data))
    except OSError:
        pass  # serving it is what matters; the next request tries to store it again
    return data


def _render(activity) -> bytes | None:
    from PIL import Image, ImageOps

    try:
        with activity.poster.open("rb") as handle, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(handle, formats=["JPEG", "PNG", "WEBP"]) as image:
                if image.width * image.height > MAX_PIXELS:
                    return None
                image.draft("RGB", THUMB_SIZE)  # JPEG: decode at a reduced scale
                picture = ImageOps.exif_transpose(image).convert("RGB")
                picture.thumbnail(THUMB_SIZE, Image.Resampling.LANCZOS)
                out = io.BytesIO()
                picture.save(out, "WEBP", quality=QUALITY, method=4)
                return out.getvalue()
    except (OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
