"""Entry kind ``book_list`` (书单): the checks of its fields and files, called by
:func:`~kepuyue.calls.services.submitting.submit_entry`.
ISBNs are checked and normalised here."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from kepuyue.common import clock

# --- ISBN -------------------------------------------------------------------------------------


def normalize_isbn(text: str) -> str:
    """An ISBN-10 or ISBN-13 (hyphens and spaces allowed) as 13 digits.

    ISBN-10: 9 digits and a check character (0–9 or X), Σ (10−i)·dᵢ ≡ 0 (mod 11); converted to ISBN-13
    with the 978 prefix. ISBN-13: 978/979 prefix, Σ wᵢ·dᵢ ≡ 0 (mod 10) with weights 1,3,1,3… (ISO 2108).
    Raises ``ValueError`` with a Chinese message naming the problem.
    """
    import unicodedata

    raw = re.sub(r"[\s\-‐–—:：]", "", unicodedata.normalize("NFKC", text or "")).upper()
    raw = raw.removeprefix("ISBN")
    if not raw:
        raise ValueError(_("请填写ISBN"))
    if len(raw) == 10:
        if not re.fullmatch(r"\d{9}[\dX]", raw):
            raise ValueError(
                _("ISBN“%(isbn)s”格式不对：ISBN-10 为9位数字加1位校验码（0–9或X）") % {"isbn": text}
            )
        digits = [10 if c == "X" else int(c) for c in raw]
        if sum((10 - i) * d for i, d in enumerate(digits)) % 11:
            raise ValueError(_("ISBN“%(isbn)s”的校验码不对，请核对") % {"isbn": text})
        body = "978" + raw[:9]
        return body + str(_isbn13_check(body))
    if len(raw) == 13:
        if not raw.isdigit() or raw[:3] not in ("978", "979"):
            raise ValueError(_("ISBN“%(isbn)s”格式不对：ISBN-13 为以978或979开头的13位数字") % {"isbn": text})
        if _isbn13_check(raw[:12]) != int(raw[12]):
            raise ValueError(_("ISBN“%(isbn)s”的校验码不对，请核对") % {"isbn": text})
        return raw
    raise ValueError(_("ISBN“%(isbn)s”应为10位或13位") % {"isbn": text})


def _isbn13_check(first12: str) -> int:
    total = sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(first12))
    return (10 - total % 10) % 10


def format_isbn13(isbn: str) -> str:
    """An ISBN-13 hyphenated into prefix, registration group, registrant, publication and check digit
    by the ISBN agency's ranges (python-stdnum): ``9787115428608`` → ``978-7-115-42860-8``. Text that
    is not a valid ISBN comes back unchanged."""
    from stdnum import isbn as stdnum_isbn

    return stdnum_isbn.format(isbn) if stdnum_isbn.is_valid(isbn) else isbn


def _validate_book(call, data, files, stops, checked, errors) -> None:
    required = (
        ("author", _("请填写作者")),
        ("publisher", _("请填写出版社")),
        ("reason", _("请填写推荐理由")),
    )
    for name, message in required:
        value = (data.get(name) or "").strip()
        if not value:
            errors[name].append(message)
        checked.fields[name] = value
    checked.fields["audience"] = (data.get("audience") or "").strip()[:100]
    try:
        checked.fields["isbn"] = normalize_isbn(data.get("isbn") or "")
    except ValueError as error:
        errors["isbn"].append(str(error))
    year = str(data.get("year") or "").strip()
    if not year.isdigit() or not 1900 <= int(year) <= clock.now().year:
        errors["year"].append(_("出版年应为1900—%(year)s之间的年份") % {"year": clock.now().year})
    else:
        checked.fields["year"] = int(year)
