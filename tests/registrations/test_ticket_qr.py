"""The ticket's QR code, read back as a phone at the door reads it: the PNG e-mailed with the ticket and
the SVG of the ticket page decode (zxing-cpp's reader — another code base than the encoder, zint) to
the exact signed payload, and carry the same symbol (error correction M, a 4-module quiet zone)."""

from __future__ import annotations

import email
import email.policy
import io
import re

import pytest
import zxingcpp
from django.core import mail
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from kepuyue.registrations import services, tickets
from kepuyue.registrations.models import Booking
from tests.fixtures_registrations import party


def decode(image: Image.Image) -> zxingcpp.Barcode:
    """The one QR code in ``image`` (fails when there is none or more than one)."""
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, found
    assert found[0].valid and found[0].format == zxingcpp.BarcodeFormat.QRCode
    return found[0]


def png_modules(data: bytes) -> tuple[str, ...]:
    """The module rows of the e-mailed PNG ("0" dark, "1" light), read at each module's centre; checks
    the PNG's form on the way (1-bit, square, the quiet zone all light)."""
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.mode == "1" and image.width == image.height
    scale, margin = tickets.PNG_SCALE, tickets.QUIET_ZONE * tickets.PNG_SCALE
    side = image.width // scale - 2 * tickets.QUIET_ZONE
    assert image.width == (side + 2 * tickets.QUIET_ZONE) * scale and side >= 21
    grey = image.convert("L")
    pixels = grey.load()
    for i in range(image.width):  # the quiet zone: nothing dark within 4 modules of the edge
        for j in (*range(margin), *range(image.width - margin, image.width)):
            assert pixels[i, j] == 255 and pixels[j, i] == 255
    return tuple(
        "".join(
            "0" if pixels[margin + x * scale + scale // 2, margin + y * scale + scale // 2] == 0 else "1"
            for x in range(side)
        )
        for y in range(side)
    )


def svg_modules(svg: str) -> tuple[str, ...]:
    """The module rows of the ticket page's SVG, from its one dark path (runs ``M<x> <y>.5h<n>``)."""
    side = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1)) - 2 * tickets.QUIET_ZONE
    rows = [["1"] * side for _ in range(side)]
    dark = re.search(r'<path stroke="#000" d="([^"]*)"', svg).group(1)
    runs = re.findall(r"M(\d+) (\d+)\.5h(\d+)", dark)
    assert "".join(f"M{x} {y}.5h{n}" for x, y, n in runs) == dark  # nothing else in the path
    for x, y, n in runs:
        for i in range(int(n)):
            rows[int(y) - tickets.QUIET_ZONE][int(x) - tickets.QUIET_ZONE + i] = "0"
    return tuple("".join(row) for row in rows)


def rasterise(rows: tuple[str, ...], scale: int = 4) -> Image.Image:
    """Module rows drawn as an image with the quiet zone, as a browser paints the SVG."""
    side = (len(rows) + 2 * tickets.QUIET_ZONE) * scale
    image = Image.new("L", (side, side), 255)
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(rows):
        for x, bit in enumerate(row):
            if bit == "0":
                left, top = (tickets.QUIET_ZONE + x) * scale, (tickets.QUIET_ZONE + y) * scale
                draw.rectangle([left, top, left + scale - 1, top + scale - 1], fill=0)
    return image


def assert_reads_back(payload: str, session_id: int, code: str) -> None:
    png = tickets.qr_png(payload)
    read = decode(Image.open(io.BytesIO(png)))
    assert read.text == payload and read.ec_level == "M"
    assert read.symbology_identifier == "]Q1"  # a plain QR code: no ECI header before the payload
    scanned = tickets.read(read.text)
    assert (scanned.code, scanned.session_id, scanned.error) == (code, session_id, "")
    modules = png_modules(png)
    svg = tickets.qr_svg(payload, title="电子票二维码")
    assert svg_modules(svg) == modules  # the ticket page shows the very symbol the e-mail carries
    assert decode(rasterise(modules)).text == payload


@pytest.mark.django_db
def test_the_ticket_email_carries_a_png_that_decodes_to_the_signed_payload(
    session, member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking, _ = services.book(session, member, party(adults="2"))
    [sent] = [m for m in mail.outbox if "电子票" in m.subject]
    # The message as it goes on the wire, parsed back: the text, the PNG and the calendar file.
    wire = email.message_from_bytes(sent.message().as_bytes(), policy=email.policy.default)
    parts = {part.get_content_type(): part for part in wire.walk() if not part.is_multipart()}
    assert set(parts) == {"text/plain", "image/png", "text/calendar"}
    assert tickets.display_code(booking.code) in parts["text/plain"].get_content()
    assert parts["image/png"].get_filename() == f"ticket-{booking.code}.png"
    assert b"BEGIN:VEVENT" in parts["text/calendar"].get_content().encode()
    png = parts["image/png"].get_content()
    payload = tickets.qr_payload(session.pk, booking.code)
    read = decode(Image.open(io.BytesIO(png)))
    assert read.text == payload and read.ec_level == "M"
    assert tickets.read(read.text).code == booking.code
    # Read smaller and blurred, as a phone's camera sees a small screen: still the payload.
    small = Image.open(io.BytesIO(png)).convert("L").resize((120, 120), Image.Resampling.BILINEAR)
    assert decode(small).text == payload


@pytest.mark.django_db
def test_the_ticket_page_svg_is_the_emailed_symbol(
    session, member, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking, _ = services.book(session, member, party())
    client.force_login(member)
    page = client.get(reverse("registrations:ticket", args=[booking.code])).content.decode()
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert "<title>电子票二维码</title>" in svg
    assert not re.search(r"<svg[^>]*\s(width|height)=", svg)  # sized by CSS, never by the SVG
    [sent] = [m for m in mail.outbox if "电子票" in m.subject]
    png = next(content for name, content, _mime in sent.attachments if name.endswith(".png"))
    assert svg_modules(svg) == png_modules(png)
    assert decode(rasterise(svg_modules(svg))).text == tickets.qr_payload(session.pk, booking.code)
    assert Booking.objects.get().code == booking.code


def test_the_svg_title_is_escaped():
    svg = tickets.qr_svg(tickets.qr_payload(1, tickets.new_code()), title='<b>"票"</b>')
    assert "<title>&lt;b&gt;&quot;票&quot;&lt;/b&gt;</title>" in svg


codes = st.text(alphabet=tickets.ALPHABET, min_size=tickets.CODE_LENGTH, max_size=tickets.CODE_LENGTH).map(
    lambda body: body + tickets.check_character(body)
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(session_id=st.integers(min_value=1, max_value=10**12 - 1), code=codes)
def test_any_ticket_reads_back_from_png_and_svg(session_id, code):
    assert_reads_back(tickets.qr_payload(session_id, code), session_id, code)
