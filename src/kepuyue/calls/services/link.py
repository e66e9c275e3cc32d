"""Entry kind ``link`` (作品链接): the checks of its fields and files, called by
:func:`~kepuyue.calls.services.submitting.submit_entry`."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .core import _sep, cite


def _validate_link(call, data, files, stops, checked, errors) -> None:
    from django.core.validators import URLValidator

    link = (data.get("link") or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(link)
    except ValidationError:
        errors["link"].append(_("请填写以 http:// 或 https:// 开头的作品链接"))
    checked.fields["link"] = link
    kinds = (call.spec or {}).get("product_kinds") or []
    kind = (data.get("product_kind") or "").strip()
    if kinds and kind not in kinds:
        errors["product_kind"].append(
            _("作品类型须为%(kinds)s之一（%(rule)s）") % {"kinds": _sep().join(kinds), "rule": cite(call)}
        )
    checked.fields["product_kind"] = kind
