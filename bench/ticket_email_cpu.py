"""CPU of one ticket e-mail, built alone: where it goes (QR encoding, PNG writing, the ``.ics``, the
text, the MIME message the mail backend serialises). No database: the booking, its session, activity,
unit and account are built in memory as ``outbox.deliver`` loads them (one query for a batch), so the
figure is the builder's own. Every e-mail has a fresh ticket code (no cache helps) and the QR caches
are cleared before each. ``time.thread_time``: the shared machine's load does not show in it.

    .venv/bin/python bench/ticket_email_cpu.py                  # ms per e-mail, by part
    .venv/bin/python bench/ticket_email_cpu.py --profile 25     # and a cProfile of the whole e-mail
    .venv/bin/python bench/ticket_email_cpu.py --compare        # QR encoders side by side
    .venv/bin/python bench/ticket_email_cpu.py --outbox [--db postgres --pg-database qrmail_outbox]

``--outbox``: the background process's whole job per e-mail instead — ``outbox.deliver([booking id])``
as a hint sends it, claim, reads, the e-mail, the mark — one booking at a time (the worst case: in a
burst one drain takes up to 100), on a fresh database seeded as ``bench/bookings.py`` seeds it, with
the CPU spent inside each kind of query. The mail backend is the console's, writing to a null stream.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepuyue.settings")
    os.environ.setdefault("SECRET_KEY", "bench-ticket-email-" + "k" * 40)
    os.environ.setdefault("KEPUYUE_HTTPS", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def booking(n: int):
    """A confirmed booking with everything ``ticket_message`` reads, in memory."""
    from django.contrib.auth import get_user_model

    from kepuyue.activities.models import Activity
    from kepuyue.common import clock
    from kepuyue.orgs.models import Organization
    from kepuyue.registrations import tickets
    from kepuyue.registrations.models import Booking, Session

    start = datetime(2025, 9, 15, 9, 0, tzinfo=clock.BEIJING)
    unit = Organization(pk=1, name="基准测试科技馆")
    activity = Activity(
        pk=1, title="基准测试活动：走进国家天文台", venue="北京市朝阳区大屯路甲20号", organizer=unit
    )
    session = Session(
        pk=1000 + n % 500,
        activity=activity,
        label="第1场",
        starts_at=start,
        ends_at=start + timedelta(minutes=50),
    )
    user = get_user_model()(pk=n + 1, username=f"u{n}@example.com", email=f"u{n}@example.com")
    row = Booking(
        pk=n + 1,
        session=session,
        activity=activity,
        user=user,
        status="confirmed",
        seats=1,
        name=f"用户{n}",
        code=tickets.new_code(),
        created_at=start - timedelta(days=3),
    )
    return row


def clear_caches() -> None:
    from kepuyue.registrations import tickets

    for name in ("_qr", "_qr_svg", "_symbol"):
        fn = getattr(tickets, name, None)
        if fn is not None and hasattr(fn, "cache_clear"):
            fn.cache_clear()


def timed(fn, n: int) -> dict:
    samples = []
    for i in range(n):
        clear_caches()
        started = time.thread_time()
        fn(i)
        samples.append(time.thread_time() - started)
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1] * 1000, 3),
    }


def outbox_cpu(args) -> None:
    """CPU of ``outbox.deliver`` for one booking at a time, and of its queries."""
    import tempfile

    sys.path.insert(0, str(ROOT / "bench"))
    import bookings as bench

    bench.VAR = Path(
        tempfile.mkdtemp(prefix="qrmail-outbox-cpu-" if "qrmail" in args.pg_database else "outbox-cpu-")
    )
    env = bench.environment(args.db, args.pg_database)
    bench.fresh_database(args.db, env, args.pg_database)
    bench.setup_django(env)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from kepuyue.registrations import services
    from kepuyue.registrations.services import outbox

    # The console backend serialises each message as the SMTP backend does (``as_bytes``), to a null
    # stream here: neither locmem's deep copy nor a terminal's writing is counted.
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    stdout, sys.stdout = sys.stdout, open(os.devnull, "w")  # noqa: SIM115
    from kepuyue.common import background

    # Nothing in the background (no hand-over, no sweep, no webhook announcement): the rows stay
    # pending, and deliver() below sends them one by one in this thread.
    background.enqueue = lambda *args, **kwargs: None
    users = bench.make_users(args.n + 20, 0)
    _, [session] = bench.make_activity(1, capacity=100_000)
    people = get_user_model().objects.in_bulk([pk for pk, _key in users])
    ids = []
    for i, (pk, _key) in enumerate(users):
        with transaction.atomic():
            booking, _ = services.book(
                session,
                people[pk],
                {"name": f"用户{i}", "phone": f"139{i:08d}", "adults": "1", "children": "0", "consent": True},
            )
        ids.append(booking.pk)
    for booking_id in ids[:20]:
        assert outbox.deliver([booking_id]) == 1
    per_query: dict[str, list[float]] = {}

    def timed_query(execute, sql, params, many, context):
        started = time.thread_time()
        try:
            return execute(sql, params, many, context)
        finally:
            per_query.setdefault(" ".join(sql.split()[:3])[:60], []).append(time.thread_time() - started)

    from kepuyue.registrations.services import messaging

    spent: dict[str, float] = {}

    def timing(name, fn):  # CPU of this part of deliver(), summed
        def timed(*a, **kw):
            started = time.thread_time()
            try:
                return fn(*a, **kw)
            finally:
                spent[name] = spent.get(name, 0.0) + time.thread_time() - started

        return timed

    messaging.ticket_message = timing("ticket_message (build)", messaging.ticket_message)
    outbox._claim = timing("_claim (select ids, update)", outbox._claim)
    outbox._record = timing("_record (update)", outbox._record)
    from django.core.mail.backends import console

    console.EmailBackend.send_messages = timing(
        "backend send (serialise)", console.EmailBackend.send_messages
    )
    profile = cProfile.Profile(time.thread_time) if args.profile else None
    samples = []
    with connection.execute_wrapper(timed_query):
        for booking_id in ids[20:]:
            if profile:
                profile.enable()
            started = time.thread_time()
            assert outbox.deliver([booking_id]) == 1
            samples.append(time.thread_time() - started)
            if profile:
                profile.disable()
    sys.stdout = stdout
    ordered = sorted(samples)
    n = len(samples)
    print(
        json.dumps(
            {
                "db": args.db,
                "deliver_one_ms": {
                    "median_ms": round(statistics.median(ordered) * 1000, 3),
                    "p90_ms": round(ordered[int(n * 0.9) - 1] * 1000, 3),
                    "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
                },
                "queries_per_email": round(sum(len(t) for t in per_query.values()) / n, 2),
                "parts_ms": {name: round(total * 1000 / n, 3) for name, total in spent.items()},
                "n": n,
                "load_average": os.getloadavg(),
            },
            ensure_ascii=False,
        )
    )
    for sql, times in sorted(per_query.items(), key=lambda kv: -sum(kv[1])):
        print(f"   {sum(times) * 1000 / n:7.3f} ms/e-mail  {len(times) / n:5.2f}×  {sql}")
    if profile:
        stream = io.StringIO()
        stats = pstats.Stats(profile, stream=stream)
        stats.sort_stats("cumulative").print_stats(args.profile)
        print(stream.getvalue())
    if args.db == "postgres":
        connection.close()
        import subprocess

        subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-qc",
                f"DROP DATABASE IF EXISTS {args.pg_database}",
                "postgres",
            ],
            check=False,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--compare", action="store_true", help="segno (8 masks), segno (one mask), zxing-cpp")
    parser.add_argument("--outbox", action="store_true", help="outbox.deliver per e-mail, with its queries")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-database", default="bench_ticket_outbox")
    args = parser.parse_args()
    if args.outbox:
        return outbox_cpu(args)
    setup()
    from kepuyue.registrations import tickets
    from kepuyue.registrations.services.messaging import ticket_message

    bookings = [booking(i) for i in range(args.n)]
    payloads = [tickets.qr_payload(b.session_id, b.code) for b in bookings]
    url = "http://127.0.0.1:8000/registrations/ticket/X/"
    for i in range(20):  # warm up: imports, the VTIMEZONE, translations
        ticket_message(bookings[i], message_id="<x@y>").message().as_bytes()

    def whole(i):  # what the outbox's drain does per e-mail: build, then the backend serialises
        ticket_message(bookings[i], message_id=f"<kepuyue-ticket-{i}@bench>").message().as_bytes()

    encode = getattr(tickets, "_symbol", None) or tickets._qr  # zxing-cpp's module rows, or segno's QRCode
    parts = {
        "qr_encode": lambda i: encode(payloads[i]),
        "qr_png (encode + PNG)": lambda i: tickets.qr_png(payloads[i]),
        "qr_svg (encode + SVG)": lambda i: tickets.qr_svg(payloads[i], title="电子票二维码"),
        "ics": lambda i: tickets.booking_ics(bookings[i], page_url=url, location="地点"),
        "message_built": lambda i: ticket_message(bookings[i], message_id="<x@y>"),
        "whole e-mail (built + serialised)": whole,
    }
    out = {name: timed(fn, args.n) for name, fn in parts.items()}
    if args.compare:
        import segno

        out["segno.make (8 masks)"] = timed(lambda i: segno.make(payloads[i], error="m", micro=False), args.n)
        out["segno.make mask=fixed"] = timed(
            lambda i: segno.make(payloads[i], error="m", micro=False, mask=0), args.n
        )
        try:
            import zxingcpp

            out["zxingcpp.create_barcode"] = timed(
                lambda i: zxingcpp.create_barcode(payloads[i], zxingcpp.BarcodeFormat.QRCode, ec_level="M"),
                args.n,
            )
        except ImportError:
            pass
    print(
        json.dumps(
            {"ms_per_email": out, "n": args.n, "load_average": os.getloadavg()}, ensure_ascii=False, indent=1
        )
    )
    if args.profile:
        profile = cProfile.Profile(time.thread_time)
        for i in range(args.n):
            clear_caches()
            profile.enable()
            whole(i)
            profile.disable()
        stream = io.StringIO()
        stats = pstats.Stats(profile, stream=stream)
        stats.sort_stats("cumulative").print_stats(args.profile)
        stats.sort_stats("tottime").print_stats(args.profile)
        print(stream.getvalue())


if __name__ == "__main__":
    main()
