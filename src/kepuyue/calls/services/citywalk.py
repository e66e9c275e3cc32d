"""Entry kind ``citywalk`` (CityWalk 路线): the checks of its fields and files, called by
:func:`~kepuyue.calls.services.submitting.submit_entry`."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kepuyue.common.images import without_metadata

from .. import media
from .core import DEFAULT_IMAGE_MAX_PIXELS, DEFAULT_MAX_IMAGES, _sep, cite, upload_limits


def _venue_key(name: str) -> str:
    """A venue name for comparison: NFKC width-folded, case-folded, without spaces, brackets or dots."""
    import unicodedata

    return re.sub(r"[\s()（）\[\]【】·・.。\-—_]", "", unicodedata.normalize("NFKC", name)).casefold()


def _validate_citywalk(call, data, files, stops, checked, errors) -> None:
    spec = call.spec or {}
    from kepuyue.regions.models import Region

    city_code = (data.get("city") or "").strip()
    city = Region.objects.filter(code=city_code).first() if city_code else None
    if city is None:
        errors["city"].append(_("请选择路线所在城市"))
    checked.fields["city"] = city

    rows = [s for s in stops if any((s.get(k) or "").strip() for k in ("name", "address", "region"))]
    region_codes = {str(s.get("region") or "").strip() for s in rows}
    regions = {r.code: r for r in Region.objects.filter(code__in=region_codes)}
    for index, stop in enumerate(rows, start=1):
        name, address = (stop.get("name") or "").strip(), (stop.get("address") or "").strip()
        region = regions.get(str(stop.get("region") or "").strip())
        missing = [
            label
            for label, value in (
                (pgettext("stop field", "名称"), name),
                (pgettext("stop field", "地址"), address),
                (pgettext("stop field", "所在地区"), region),
            )
            if not value
        ]
        if missing:
            errors["stops"].append(
                _("第%(n)s站缺少%(fields)s") % {"n": index, "fields": _sep().join(missing)}
            )
            continue
        checked.stops.append(
            {
                "name": name[:200],
                "address": address[:255],
                "region": region,
                "is_own_venue": bool(stop.get("is_own_venue")),
            }
        )
    own = [s for s in checked.stops if s["is_own_venue"]]
    # Other venues count once each, and never the base itself under another stop (plan 四(二)2 asks for
    # the base plus ≥ 2 *other* places): names are compared without spaces, brackets or width.
    own_keys = {_venue_key(s["name"]) for s in own}
    others, seen = [], set()
    for stop in checked.stops:
        key = _venue_key(stop["name"])
        if stop["is_own_venue"]:
            continue
        if key in own_keys:
            errors["stops"].append(_("“%(name)s”与本馆同名，不能算作其他场所") % {"name": stop["name"]})
        elif key in seen:
            errors["stops"].append(_("“%(name)s”重复出现，同一场所只计一次") % {"name": stop["name"]})
        else:
            seen.add(key)
            others.append(stop)
    minimum = int(spec.get("min_other_venues") or 0)
    if spec.get("includes_own_venue", True) and not own and "stops" not in errors:
        errors["stops"].append(_("路线须包含本馆（基地自身）（%(rule)s）") % {"rule": cite(call)})
    if len(own) > 1:
        errors["stops"].append(_("只能有一站标为本馆"))
    if len(others) < minimum:
        errors["stops"].append(
            _("本馆以外至少%(minimum)s家其他场所（%(rule)s），现有%(count)s家")
            % {"minimum": minimum, "rule": cite(call), "count": len(others)}
        )

    images = files.get("images") or []
    max_images = int(spec.get("max_images") or DEFAULT_MAX_IMAGES)
    if not images:
        errors["images"].append(_("请上传路线图片（%(rule)s：图片形式）") % {"rule": cite(call)})
    elif len(images) > max_images:
        errors["images"].append(
            _("平台要求：路线图片最多%(max)s张，现有%(count)s张") % {"max": max_images, "count": len(images)}
        )
    else:
        limit = upload_limits(call)["images"]
        # By content; WebP (in the 2025 YAML) is stored as JPEG (issue 11 point 3, ADR 0014).
        formats = tuple(spec.get("formats") or ("jpeg", "png", "webp"))
        for index, upload in enumerate(images, start=1):
            result = media.check_image(
                upload.path,
                max_bytes=limit,
                max_pixels=int(spec.get("max_image_pixels") or DEFAULT_IMAGE_MAX_PIXELS),
                formats=formats,
            )
            if not result.ok:
                errors["images"].extend(
                    _("第%(n)s张（%(name)s）：%(error)s") % {"n": index, "name": upload.name, "error": e}
                    for e in result.errors
                )
                continue
            # Stored upright and without EXIF (GPS, camera, time; issue 9 class 8); WebP becomes JPEG
            # (or PNG when transparent): common.images, ADR 0014.
            try:
                clean = without_metadata(
                    upload.path,
                    max_pixels=int(spec.get("max_image_pixels") or DEFAULT_IMAGE_MAX_PIXELS),
                )
            except (ValueError, OSError, SyntaxError, EOFError):
                errors["images"].append(
                    _("第%(n)s张（%(name)s）：图片无法处理，请另存为JPEG后重新上传")
                    % {"n": index, "name": upload.name}
                )
                continue
            checked.images.append((upload, result, clean))
