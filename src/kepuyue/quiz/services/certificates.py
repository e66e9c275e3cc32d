"""Certificates for passing (合格证书): an A4 PDF with a verification code and a public verification URL.

Made with ReportLab. The Chinese text is set in ``STSong-Light``, one of the Adobe-GB1 CID fonts that
every PDF reader provides (ReportLab's ``UnicodeCIDFont``): the machine and the repository carry no
CJK font file and the certificate stays a few kilobytes. An operator who wants the glyphs embedded
sets ``KEPUYUE_CERTIFICATE_FONT`` to a TrueType file (e.g. Noto Sans SC), which is then used instead.
"""

from __future__ import annotations

import io
import os
import unicodedata

from kepuyue.common import clock

from ..models import Attempt, AttemptStatus
from .boards import mask_name

CID_FONT = "STSong-Light"
# The CID font's Unicode map (UniGB-UCS2-H, after GB 2312) has the middle dot of 科普法·我知道·比比看 at
# U+30FB, not U+00B7 as typed; unmapped characters would print as empty boxes.
_GB_FORMS = str.maketrans({"\u00b7": "\u30fb", "\u2027": "\u30fb"})


def gb_text(text: str) -> str:
    """``text`` with the characters the CID font maps elsewhere replaced (only for the CID font)."""
    return text.translate(_GB_FORMS)


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics

    path = os.environ.get("KEPUYUE_CERTIFICATE_FONT", "")
    if path:
        from reportlab.pdfbase.ttfonts import TTFont

        if "KepuyueCert" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("KepuyueCert", path))
        return "KepuyueCert"
    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CID_FONT


def certificate_pdf(attempt: Attempt, verify_url: str) -> bytes:
    """The certificate of a passed attempt (``ValueError`` otherwise): name, round, score, date,
    issuer, the code and ``verify_url`` as text and as a QR code."""
    if attempt.status != AttemptStatus.SUBMITTED or not attempt.passed or not attempt.certificate_code:
        raise ValueError("not a passed attempt")
    import segno
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    font = _font()
    fix = gb_text if font == CID_FONT else (lambda text: text)
    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(buffer, pagesize=(width, height), pageCompression=1)
    pdf.setTitle(attempt.round.certificate_title)
    pdf.setAuthor(attempt.round.issuer or "全国科普月平台")
    pdf.setStrokeColorRGB(0.55, 0.1, 0.1)
    pdf.setLineWidth(3)
    pdf.rect(28, 28, width - 56, height - 56)
    pdf.setLineWidth(1)
    pdf.rect(38, 38, width - 76, height - 76)
    pdf.setFillColorRGB(0.55, 0.1, 0.1)
    pdf.setFont(font, 34)
    pdf.drawCentredString(width / 2, height - 120, fix(attempt.round.certificate_title))
    pdf.setFillColorRGB(0.1, 0.1, 0.1)
    pdf.setFont(font, 22)
    pdf.drawCentredString(width / 2, height - 190, fix(f"{attempt.name} 同志："))
    pdf.setFont(font, 16)
    day = attempt.submitted_at.astimezone(clock.BEIJING)
    lines = [
        f"于 {day:%Y年%m月%d日} 参加“{attempt.round.title}”，",
        f"答对 {attempt.correct}/{attempt.total} 题，得分 {attempt.score} 分，成绩合格，特发此证。",
    ]
    for index, line in enumerate(lines):
        pdf.drawCentredString(width / 2, height - 240 - index * 30, fix(line))
    if attempt.round.issuer:
        pdf.drawRightString(width - 90, 150, fix(attempt.round.issuer))
    pdf.drawRightString(width - 90, 125, f"{day:%Y年%m月%d日}")
    pdf.setFont(font, 11)
    pdf.drawString(90, 110, f"证书编号：{attempt.certificate_code}")
    pdf.drawString(90, 92, f"验证网址：{verify_url}")
    qr = segno.make(verify_url, error="m")
    png = io.BytesIO()
    qr.save(png, kind="png", scale=4, border=1)
    png.seek(0)
    pdf.drawImage(ImageReader(png), 90, 130, width=80, height=80)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def canonical_code(code: str) -> str | None:
    """``KPF-XXXX-XXXX-XXXX`` from what a person typed or pasted: any case, full-width characters,
    spaces, hyphens or none (``kpfdpk2e2pa9fdj``, ``KPF DPK2 E2PA 9FDJ``); ``None`` if it cannot be one."""
    text = unicodedata.normalize("NFKC", (code or "")[:60]).upper()
    compact = "".join(ch for ch in text if ch.isascii() and ch.isalnum())
    if len(compact) != 15 or not compact.startswith("KPF"):
        return None
    body = compact[3:]
    return f"KPF-{body[:4]}-{body[4:8]}-{body[8:]}"


def verify(code: str) -> dict | None:
    """What the public verification page shows for ``code`` (the name masked), or ``None``."""
    code = canonical_code(code)
    if code is None:
        return None
    attempt = (
        Attempt.objects.select_related("round", "province")
        .filter(certificate_code=code, status=AttemptStatus.SUBMITTED, passed=True)
        .first()
    )
    if attempt is None:
        return None
    return {
        "code": attempt.certificate_code,
        "name": mask_name(attempt.name),
        "round": attempt.round.title,
        "score": attempt.score,
        "province": attempt.province.name,
        "date": attempt.submitted_at.astimezone(clock.BEIJING).date(),
        "issuer": attempt.round.issuer,
        "title": attempt.round.certificate_title,
    }
