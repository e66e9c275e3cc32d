"""Django's database sessions (the embedded default's ``SESSION_ENGINE``; Redis-backed ones with
``REDIS_URL``), read through a statement compiled once (decision 0034).

Every signed-in request reads its session row before anything else; Django's ``SessionStore``
compiles that ``SELECT`` anew each time — ~13 % of a booking request's CPU under load (a py-spy
profile of a granian worker). Same table, same rows, same answers: a missing or expired row is no
session (the expiry compared here rather than in the ``WHERE``, so the statement has no timestamp to
adapt), and every other method is Django's own.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from .compiled import PreparedRead

_ROW = PreparedRead(lambda key: Session.objects.filter(session_key=key), key="~kepuyue-placeholder-session~")


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        key = self.session_key
        row = _ROW.first(key=key) if key else None
        if row is None or row.expire_date <= timezone.now():
            self._session_key = None
            return None
        return row
