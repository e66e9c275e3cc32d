"""Tickets 电子票: the typed code, the signed QR payload, the QR image and the calendar file.

**Typed code** (票号): 8 random characters of Crockford's base32 alphabet less ``Z`` (``0-9`` and
``A-Y`` without ``I L O U``: 31 symbols, nothing to confuse on a phone keyboard, 39.6 bits) and one
check character (Σ value × position, modulo 31, a prime: every single wrong character and every swap
of two neighbours changes it), shown as ``ABCD-EFGH-J``. Typing is forgiving: lower case, spaces and dashes are
ignored, ``O`` is read as ``0`` and ``I``/``L`` as ``1``; a typo is caught by the check character
before any lookup.

**QR payload**: ``KPY1.<session id>.<code>.<signature>``, the signature being the first 80 bits (16
base32 characters) of an HMAC-SHA256 over ``<session id>.<code>`` with a key derived from
``SECRET_KEY`` for this purpose only (``django.utils.crypto.salted_hmac`` with the salt
:data:`SALT`). Changing any character (another session, another code) is refused as tampered; the
session id in clear lets the phone at the door flag a ticket of another session even offline.
``docs/decisions/0012-ticket-signing.md`` says why not ``django.core.signing`` (its 43-character
signature makes a denser QR code for no gain).
"""

from __future__ import annotations

import base64
import functools
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date

import zxingcpp
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.html import escape

from kepuyue.common import clock

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXY"
CODE_LENGTH = 8
PREFIX = "KPY1"
SALT = "kepuyue.registrations.ticket"
SIGNATURE_LENGTH = 16
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.·—–]+")


def check_character(body: str) -> str:
    """The check character of ``body`` (Crockford characters): Σ value × (position + 1) mod 31.
    Any single wrong character and any swap of two neighbours changes it."""
    total = sum(ALPHABET.index(ch) * (i + 1) for i, ch in enumerate(body))
    return ALPHABET[total % 31]


def new_code() -> str:
    """A fresh ticket code: 8 random characters and the check character (9 in all, no dashes)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return body + check_character(body)


def display_code(code: str) -> str:
    """``ABCDEFGHJ`` → ``ABCD-EFGH-J`` (how people read it out and type it)."""
    return f"{code[:4]}-{code[4:8]}-{code[8:]}" if len(code) == CODE_LENGTH + 1 else code


def normalise_code(text: str) -> str | None:
    """A typed code in its stored form, or ``None`` when it cannot be one (wrong length, a character
    outside the alphabet, a wrong check character). Full-width letters, digits and dashes (what a
    Chinese input method types: ``ＡＢＣＤ－ＥＦＧＨ－Ｊ``) are read as their ASCII forms (NFKC)."""
    value = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text or "").strip().upper()).translate(_TYPED)
    if len(value) != CODE_LENGTH + 1 or any(ch not in ALPHABET for ch in value):
        return None
    if check_character(value[:CODE_LENGTH]) != value[CODE_LENGTH]:
        return None
    return value


def signature(session_id: int, code: str) -> str:
    """The QR signature of a ticket (16 base32 characters)."""
    digest = salted_hmac(SALT, f"{session_id}.{code}", algorithm="sha256").digest()
    return base64.b32encode(digest[:10]).decode("ascii")


def qr_payload(session_id: int, code: str) -> str:
    """What the ticket's QR code holds: ``KPY1.<session id>.<code>.<signature>``."""
    return f"{PREFIX}.{session_id}.{code}.{signature(session_id, code)}"


@dataclass(frozen=True)
class Scanned:
    """What a scan or typed text says: ``code`` (stored form) and, for a QR payload, ``session_id``.
    ``error``: ``"format"`` (not a ticket), ``"tampered"`` (a QR payload whose signature is wrong)."""

    code: str | None
    session_id: int | None = None
    error: str = ""
    from_qr: bool = False


def read(text: str) -> Scanned:
    """Read a scanned QR payload or a typed code. Never raises; at most 200 characters are read."""
    text = unicodedata.normalize("NFKC", (text or "")[:400]).strip()[:200]
    if text.upper().startswith(PREFIX + "."):
        parts = text.split(".")
        if len(parts) != 4 or not parts[1].isascii() or not parts[1].isdigit() or len(parts[1]) > 12:
            return Scanned(None, error="format", from_qr=True)
        session_id, code, sig = int(parts[1]), parts[2].upper(), parts[3].upper()
        if normalise_code(code) != code or not constant_time_compare(sig, signature(session_id, code)):
            return Scanned(None, error="tampered", from_qr=True)
        return Scanned(code, session_id=session_id, from_qr=True)
    code = normalise_code(text)
    return Scanned(code, error="" if code else "format")


# The QR symbol 二维码 (ISO/IEC 18004, error correction M, version 2 for every payload of today's form)
# comes from zxing-cpp's encoder (C++, through zint): it chooses the data mask by the standard's
# penalty rules like segno did, in ~0.1 ms instead of segno's ~1.5 ms of Python. The PNG and the SVG
# are drawn here from the one module matrix, so the e-mail and the ticket page carry the same symbol.
QUIET_ZONE = 4  # modules of light margin on each side: the standard's minimum (segno's border was 3)
PNG_SCALE = 6  # pixels per module in the e-mailed PNG: 198 px for a version-2 symbol, as before
_DARK_AS_ZERO = bytes.maketrans(bytes([0, 255]), b"01")  # the encoder's pixels: 0 dark, 255 light
_AS_GREY = str.maketrans({"0": "\x00", "1": "\xff"})  # a module of the matrix → a greyscale pixel


@functools.lru_cache(maxsize=1024)
def _symbol(payload: str) -> tuple[str, ...]:
    """The QR symbol of ``payload`` without its quiet zone: one string per module row, ``"0"`` for a
    dark module and ``"1"`` for a light one (as a 1-bit greyscale PNG has them). Encoding is most of
    the cost: a new booking's ticket page and its ticket e-mail, moments apart in one process,
    encode once."""
    barcode = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    if barcode.ec_level != "M":  # unknown keyword arguments are ignored by the binding: say so loudly
        raise RuntimeError(f"zxing-cpp made a QR code of error correction {barcode.ec_level}, not M")
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    height, width = image.shape[:2]
    pixels = bytes(memoryview(image)).translate(_DARK_AS_ZERO)
    return tuple(pixels[y * width : (y + 1) * width].decode("ascii") for y in range(height))


def qr_svg(payload: str, *, title: str) -> str:
    """An inline SVG QR code (error correction M) of ``payload``, scaling with CSS (a ``viewBox`` in
    modules, no size), with its ``title`` for screen readers; the same symbol as :func:`qr_png`."""
    return _qr_svg(payload, title)


_DARK_RUNS = re.compile("0+")


@functools.lru_cache(maxsize=512)
def _qr_svg(payload: str, title: str) -> str:
    rows = _symbol(payload)
    side = len(rows) + 2 * QUIET_ZONE
    # One path: each run of dark modules of a row is a stroke 1 module wide along the row's middle.
    runs = [
        f"M{QUIET_ZONE + run.start()} {QUIET_ZONE + y}.5h{run.end() - run.start()}"
        for y, row in enumerate(rows)
        for run in _DARK_RUNS.finditer(row)
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" shape-rendering="crispEdges">'
        f"<title>{escape(title)}</title>"
        f'<path fill="#fff" d="M0 0h{side}v{side}H0z"/>'
        f'<path stroke="#000" d="{"".join(runs)}"/></svg>'
    )


def qr_png(payload: str) -> bytes:
    """The QR code as a PNG (for e-mail attachments): 1-bit, :data:`PNG_SCALE` pixels per module, a
    quiet zone of :data:`QUIET_ZONE` modules; drawn by Pillow from the same module matrix as the SVG."""
    import io

    from PIL import Image, ImageOps

    rows = _symbol(payload)
    modules = Image.frombytes(
        "L", (len(rows[0]), len(rows)), "".join(rows).translate(_AS_GREY).encode("latin-1")
    )
    side = (len(rows) + 2 * QUIET_ZONE) * PNG_SCALE
    image = (
        ImageOps.expand(modules, border=QUIET_ZONE, fill=255)
        .resize((side, side), Image.Resampling.NEAREST)
        .convert("1", dither=Image.Dither.NONE)
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def booking_ics(booking, *, page_url: str, location: str = "") -> bytes:
    """An iCalendar file (RFC 5545) with the booked session as one event: ``UID``
    ``kepuyue-booking-<id>`` (a second download updates the entry), the session's times in
    Asia/Shanghai, the ticket code and the ticket page in the description."""
    from icalendar import Calendar, Event

    session = booking.session
    activity = booking.activity
    calendar = Calendar()
    calendar.add("prodid", "-//Kepuyue//全国科普月//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"kepuyue-booking-{booking.pk}")
    stamp = booking.confirmed_at or booking.created_at
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", session.starts_at.astimezone(clock.BEIJING))
    event.add("dtend", session.ends_at.astimezone(clock.BEIJING))
    event.add("summary", f"{activity.title}（{session.label}）" if session.label else activity.title)
    if location:
        event.add("location", location)
    lines = [
        f"票号：{display_code(booking.code)}",
        f"人数：{booking.seats}",
        f"主办单位：{activity.organizer.name}",
        page_url,
    ]
    event.add("description", "\n".join(lines))
    event.add("url", page_url)
    calendar.add_component(event)
    # RFC 5545 §3.2.19: a TZID names a VTIMEZONE of the same calendar (Outlook shifts times without it).
    calendar.add_component(_beijing_vtimezone())
    return calendar.to_ical()


@functools.cache
def _beijing_vtimezone():
    """Asia/Shanghai's ``VTIMEZONE`` (UTC+8 from 2000 on), built once per process: building it from
    the zone's rules costs ~11 ms — as much as the rest of a ticket e-mail."""
    from icalendar import Timezone

    return Timezone.from_tzid("Asia/Shanghai", first_date=date(2000, 1, 1), last_date=date(2100, 1, 1))
