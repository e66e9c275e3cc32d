"""Hot-path SQL compiled once (``kepuyue.common.compiled``, decision 0034): the same rows, instances,
signals and errors as the ORM's own calls, without compiling the statement again."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.signals import post_save, pre_save

from kepuyue.audit.models import AuditEntry
from kepuyue.common.compiled import PreparedRead, PreparedUpdate, insert
from kepuyue.notifications.models import Kind, Notification
from kepuyue.registrations import services
from kepuyue.registrations.models import Session
from tests.fixtures_registrations import add_session, make_member, party

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_a_prepared_read_gives_the_instances_the_orm_gives(config, activity):
    session = add_session(activity, capacity=7)
    read = PreparedRead(
        lambda pk: Session.objects.select_related("activity__registration_config", "activity__organizer")
        .defer("activity__description")
        .filter(pk=pk),
        pk=-7_000_000_001,
    )
    orm = (
        Session.objects.select_related("activity__registration_config", "activity__organizer")
        .defer("activity__description")
        .get(pk=session.pk)
    )
    for _ in range(2):  # compiled the first time, reused the second
        got = read.first(pk=session.pk)
        assert _fields(got) == _fields(orm) and got._state.db == "default" and not got._state.adding
        # the joined rows are built too (no query to reach them), the deferred column is deferred
        assert _fields(got.activity.registration_config) == _fields(orm.activity.registration_config)
        assert got.activity.organizer == orm.activity.organizer
        assert "description" in got.activity.get_deferred_fields()
    assert read.first(pk=session.pk + 1000) is None and read.all(pk=session.pk + 1000) == []


def test_a_prepared_read_refuses_a_value_the_sql_does_not_carry(config, activity):
    with pytest.raises(ValueError, match="placeholder"):
        PreparedRead(lambda pk: Session.objects.filter(pk=5), pk=-7_000_000_001).first(pk=1)


def test_a_prepared_update_changes_what_queryset_update_would(config, activity):
    session = add_session(activity, capacity=3)
    take = PreparedUpdate(
        lambda pk, n: (
            Session.objects.filter(pk=pk, booked__lte=F("capacity") - n),
            {"booked": F("booked") + n},
        ),
        pk=-7_000_000_001,
        n=-7_000_000_002,
    )
    assert take.run(pk=session.pk, n=2) == 1
    assert take.run(pk=session.pk, n=2) == 0  # 2 + 2 > 3: refused, as the conditional UPDATE must
    assert take.run(pk=session.pk, n=1) == 1
    session.refresh_from_db()
    assert session.booked == 3


def test_insert_writes_what_save_writes_and_sends_the_same_signals():
    member = make_member()
    seen = []

    def before(sender, instance, **kwargs):
        seen.append(("pre", sender, instance.pk))

    def after(sender, instance, created, **kwargs):
        seen.append(("post", sender, instance.pk, created))

    pre_save.connect(before, sender=Notification)
    post_save.connect(after, sender=Notification)
    try:
        row = insert(Notification(user=member, kind=Kind.REGISTRATION, title="标题\x00一", body="正文"))
    finally:
        pre_save.disconnect(before, sender=Notification)
        post_save.disconnect(after, sender=Notification)
    assert seen == [("pre", Notification, None), ("post", Notification, row.pk, True)]
    stored = Notification.objects.get(pk=row.pk)
    # pre_save's text cleaning ran (NUL removed); auto_now_add and defaults as save() sets them
    assert stored.title == "标题一" == row.title and stored.created == row.created and stored.created
    assert (stored.read_at, stored.key, row._state.adding, row._state.db) == (None, "", False, "default")


def test_insert_of_a_duplicate_is_an_integrity_error_that_rolls_back(config, activity):
    member = make_member()
    session = add_session(activity, capacity=5)
    booking, _ = services.book(session, member, party())
    before = AuditEntry.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        insert(AuditEntry(action="x.y"))
        twin = type(booking).objects.get(pk=booking.pk)
        twin.pk = None
        insert(twin)  # same ticket code and token: the unique indexes refuse it
    assert AuditEntry.objects.count() == before  # the whole transaction rolled back


def test_the_database_sessions_read_their_row_compiled_once(client, settings, monkeypatch):
    """``kepuyue.common.sessions`` (the embedded default): a live session loads, a missing or expired
    one is no session — as Django's store answers — and the read compiles nothing after the first."""
    from datetime import timedelta

    from django.contrib.sessions.models import Session as SessionRow
    from django.db.models.sql import compiler
    from django.utils import timezone

    from kepuyue.common.sessions import SessionStore

    store = SessionStore()
    store["k"] = "值"
    store.create()
    assert SessionStore(store.session_key).load() == {"k": "值"}
    compiled = []
    original = compiler.SQLCompiler.as_sql
    monkeypatch.setattr(
        compiler.SQLCompiler,
        "as_sql",
        lambda self, *a, **k: compiled.append(self.query.model) or original(self, *a, **k),
    )
    again = SessionStore(store.session_key)
    assert again["k"] == "值" and compiled == []
    SessionRow.objects.filter(pk=store.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(store.session_key)
    assert expired.load() == {} and expired.session_key is None
    assert SessionStore("nosuchsessionkey0123456789").load() == {}


def test_on_postgresql_the_compiled_statements_are_prepared_and_nothing_else(config, activity, settings):
    """Decision 0035: PostgreSQL plans a compiled statement once per connection (server-side binding,
    prepared on its first run) — the ORM's own queries keep client-side binding and are never prepared;
    ``prepare_threshold=None`` (``KEPUYUE_PG_PREPARE=0``) prepares nothing."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    session = add_session(activity, capacity=7)
    read = PreparedRead(lambda pk: Session.objects.filter(pk=pk), pk=-7_000_000_001)

    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
            return [row[0] for row in cursor.fetchall()]

    raw = connection.connection
    assert raw.prepare_threshold == 0  # the setting's default
    for _ in range(3):
        assert read.first(pk=session.pk).capacity == 7
        Session.objects.get(pk=session.pk)  # an ORM query: client-side, never prepared
    statements = prepared()
    assert len([s for s in statements if "registrations_session" in s]) == 1, statements
    assert all("$1" in s for s in statements)  # bound by the server, not written into the text
    # An insert and a conditional update through server-side binding write the same values.
    entry = insert(
        AuditEntry(
            at=session.created, action="x.y", object_repr="“引号”与 emoji 🎉", data={"n": 1, "文": "字"}
        )
    )
    assert AuditEntry.objects.values_list("object_repr", "data").get(pk=entry.pk) == (
        "“引号”与 emoji 🎉",
        {"n": 1, "文": "字"},
    )
    raw.prepare_threshold = None
    try:
        connection.connection.execute("DEALLOCATE ALL")
        raw._prepared.clear()  # psycopg's own cache of what the server holds
        assert read.first(pk=session.pk).capacity == 7
        assert prepared() == []
    finally:
        raw.prepare_threshold = 0


def test_the_query_log_shows_a_compiled_statement_with_its_values(config, activity):
    """``CaptureQueriesContext``/``DEBUG`` read each statement's text: on PostgreSQL the prepared ones
    are bound by the server, and the log still shows them with their values (not ``None``)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    session = add_session(activity, capacity=7)
    read = PreparedRead(lambda pk: Session.objects.filter(pk=pk), pk=-7_000_000_001)
    with CaptureQueriesContext(connection) as queries:
        read.first(pk=session.pk)
        read.first(pk=session.pk)
    assert len(queries) == 2
    for query in queries:
        assert 'FROM "registrations_session"' in query["sql"] and f"= {session.pk}" in query["sql"]
