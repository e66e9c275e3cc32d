"""Entry kind ``essay`` (征文): the checks of its fields and files, called by
:func:`~kepuyue.calls.services.submitting.submit_entry`.
Characters are counted here, also inside ``.docx`` files."""

from __future__ import annotations

import re
import zipfile

from django.utils.translation import gettext as _

from .core import MAX_DOCX_XML_BYTES, _validate_document

# --- counting characters ------------------------------------------------------------------------


def count_chars(text: str) -> int:
    """字数: characters that are not whitespace (the usual count for Chinese essays)."""
    return sum(1 for c in text if not c.isspace())


def docx_text(path) -> str:
    """The text of a ``.docx`` (its ``w:t`` runs joined). Reads at most
    ``MAX_DOCX_XML_BYTES`` uncompressed bytes (a ZIP bomb is refused with ``ValueError``)."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("word/document.xml")
        if info.file_size > MAX_DOCX_XML_BYTES:
            raise ValueError("Word文件正文过大")
        with archive.open(info) as fh:
            xml = fh.read(MAX_DOCX_XML_BYTES + 1).decode("utf-8", "replace")
    return "".join(re.findall(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>", xml))


def _validate_essay(call, data, files, stops, checked, errors) -> None:
    spec = call.spec or {}
    author = (data.get("author") or "").strip()
    if not author:
        errors["author"].append(_("请填写作者"))
    checked.fields.update(author=author[:200], author_unit=(data.get("author_unit") or "").strip()[:200])
    body = (data.get("body") or "").strip()
    upload = files.get("document")
    if not body and not upload:
        errors["body"].append(_("请填写正文，或上传.docx/.pdf文件"))
        return
    chars = None
    if upload:
        kind = _validate_document(call, upload, "document", errors, required=False)
        if kind is None:
            return
        checked.main, checked.main_ext = upload, kind
        checked.fields["file_format"] = kind
        if kind == "docx":
            try:
                chars = count_chars(docx_text(upload.path))
            except (ValueError, KeyError, zipfile.BadZipFile, OSError):
                errors["document"].append(_("无法读取Word文件正文，请另存为.docx后重新上传"))
                return
        else:
            # Warnings are stored with the entry (like media.py's, in Chinese): data, not interface text.
            checked.warnings.append("PDF文件的字数未自动核验，请评审时留意字数要求")
    else:
        chars = count_chars(body)
        checked.fields["body"] = body
    if chars is not None:
        checked.fields["char_count"] = chars
        low, high = spec.get("min_chars"), spec.get("max_chars")
        where = "document" if upload else "body"
        if low and chars < low:
            errors[where].append(
                _("平台要求：征文不少于%(low)s字，现为%(chars)s字") % {"low": low, "chars": chars}
            )
        if high and chars > high:
            errors[where].append(
                _("平台要求：征文不超过%(high)s字，现为%(chars)s字") % {"high": high, "chars": chars}
            )
