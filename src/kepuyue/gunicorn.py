"""gunicorn settings of the embedded default: ``gunicorn kepuyue.wsgi -c python:kepuyue.gunicorn``.

``make run`` serves the platform with these (``--bind`` and ``--workers`` come from its command line).
The worker class is **gevent**: each connection is a greenlet, so a client that trickles its request
body or reads a video at phone speed holds a few kilobytes of memory, not one of the two workers (a
sync worker is tied to its client until the 30 s time-out: two slow connections froze the site). Large
files (``FileResponse``) go out through the greenlet too, and request bodies are still read by Django
in chunks, straight to disk, never buffered whole (uploads of 1 GB stay at a few MB of memory).
BENCHMARKS.md compares it with sync workers, uvicorn (ASGI), granian and waitress;
docs/decisions/0007-embedded-server.md says why gevent.

Note for scale-out: each greenlet that touches the database holds its own connection, so with
PostgreSQL keep ``worker_connections`` × workers under the server's ``max_connections`` (or put
PgBouncer in front), or run sync workers behind nginx, which buffers slow clients itself.
"""

worker_class = "gevent"
# Connections one worker serves at once (slow ones cost a greenlet each).
worker_connections = 1000
# A request that computes for longer than this (seconds) restarts its worker, as with sync workers.
timeout = 30
graceful_timeout = 30
keepalive = 5
# X-Forwarded-Proto is believed from the local proxy only (see kepuyue.common.net for the client IP).
forwarded_allow_ips = "127.0.0.1"
accesslog = "-"
