"""Images as they are stored: upright and without metadata (issue 9, class 8: "CityWalk route images keep their
EXIF").

A phone photo carries EXIF: the camera, the time, and often the GPS position where it was taken — for a route
photo taken at home or at a unit's office, a person's address. :func:`without_metadata` decodes an image that has
already been checked (format by content, pixel limit), turns it upright by its EXIF orientation *first* (else a
portrait photo would lie on its side once the tag is gone), and re-encodes it with no EXIF, XMP, IPTC or text
chunks. The ICC colour profile is kept (it describes colours, not people).

Formats (ADR 0014): JPEG stays JPEG (quality 90, progressive); PNG stays PNG (lossless); WebP is converted to JPEG
(every viewer, office suite and older WeChat browser opens it), or to PNG when it has transparency. Activity
posters, route images and summary photos all go through here or through the same steps.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

JPEG_QUALITY = 90


@dataclass(frozen=True)
class CleanImage:
    """An image ready to store: ``content`` (bytes), ``format`` (``"jpeg"``/``"png"``), ``extension``
    (``"jpg"``/``"png"``), displayed ``width`` × ``height`` in pixels."""

    content: bytes
    format: str
    extension: str
    width: int
    height: int


def _transparent(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def without_metadata(source, *, formats=("JPEG", "PNG", "WEBP"), max_pixels: int = 40_000_000) -> CleanImage:
    """Re-encode the image ``source`` (a path or a binary file) upright and without metadata (see the module).

    ``formats``: the Pillow formats it may be read as. ``max_pixels``: refused above this (the caller has
    checked already; this is the second lock). Raises ``ValueError`` (an unreadable or too large image) or
    ``OSError``; a file object is left at position 0.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(source, formats=list(formats)) as image:
                if image.width * image.height > max_pixels:
                    raise ValueError(f"{image.width}×{image.height} is more than {max_pixels} pixels")
                fmt = image.format
                icc = image.info.get("icc_profile")
                image.load()
                picture = ImageOps.exif_transpose(image)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
            raise ValueError(str(error)) from None
        finally:
            if hasattr(source, "seek"):
                source.seek(0)
    out = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    if fmt == "PNG" or (fmt == "WEBP" and _transparent(picture)):
        if picture.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
            picture = picture.convert("RGBA" if _transparent(picture) else "RGB")
        picture.save(out, format="PNG", optimize=True, **extra)
        kind, extension = "png", "png"
    else:
        if _transparent(picture):
            flat = Image.new("RGB", picture.size, (255, 255, 255))
            flat.paste(picture.convert("RGBA"), mask=picture.convert("RGBA").getchannel("A"))
            picture = flat
        elif picture.mode != "RGB":
            picture = picture.convert("RGB")
        picture.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True, **extra)
        kind, extension = "jpeg", "jpg"
    return CleanImage(out.getvalue(), kind, extension, picture.width, picture.height)
