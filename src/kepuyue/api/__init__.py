"""The open API (开放接口, issue 16): ``/api/v1/`` for provincial systems, units and the media.

An interface app beside ``portal``: it reads and writes through the same services as the web pages
and is imported by no other app (``docs/architecture.md``, ``docs/decisions/0020-open-api.md``).
"""
