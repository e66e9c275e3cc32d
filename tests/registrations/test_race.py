"""Concurrency on PostgreSQL: 50 threads race for the last places of a session; a double tap from ten
threads at once books once. (The SQLite test database lives in memory with a shared cache, where
writers fail with "table is locked" instead of waiting; the embedded default's file database runs
IMMEDIATE transactions one at a time, measured by bench/bookings.py.)"""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection

from kepuyue.registrations import services
from kepuyue.registrations.models import Booking, Session, Status
from tests.fixtures_registrations import add_session, configure, make_activity, make_member, party

pytestmark = pytest.mark.django_db(transaction=True)


def _race(n, target):
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(i):
        try:
            barrier.wait(timeout=30)
            result = target(i)
        except services.SessionFull:
            result = "full"
        except Exception as exc:  # noqa: BLE001 — any other failure must show in the assertion
            result = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


@pytest.fixture
def pg_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are tested on PostgreSQL")


def test_fifty_threads_race_for_the_last_places_and_none_is_oversold(pg_only, clock, unit):
    clock("2025-09-10T10:00+08:00")
    activity = make_activity(unit)
    configure(activity, max_adults=3, max_children=0)
    session = add_session(activity, capacity=60)
    for _ in range(10):  # 50 places taken before the race: 10 are left
        services.book(session, make_member(), party(adults="3"))
    services.book(session, make_member(), party(adults="2"))
    services.book(session, make_member(), party(adults="3"))
    assert Session.objects.get(pk=session.pk).booked == 35
    taken_before = 35
    members = [make_member() for _ in range(50)]
    sizes = [random.Random(i).choice([1, 2, 3]) for i in range(50)]

    def book(i):
        booking, created = services.book(
            session.pk, members[i], party(adults=str(sizes[i])), join_waitlist=i % 2 == 0
        )
        return booking.status

    outcomes = _race(50, book)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    fresh = Session.objects.get(pk=session.pk)
    held = sum(
        Booking.objects.filter(session=session, status=Status.CONFIRMED).values_list("seats", flat=True)
    )
    assert fresh.booked == held <= fresh.capacity, (fresh.booked, held)
    assert fresh.capacity - fresh.booked < 3  # no party that would have fitted was refused for nothing
    confirmed = outcomes.count("confirmed")
    assert confirmed >= 1 and held - taken_before == sum(
        s
        for s, o in zip(
            sizes, [Booking.objects.filter(user=m, session=session).first() for m in members], strict=True
        )
        if o is not None and o.status == Status.CONFIRMED
    )
    assert outcomes.count("waitlisted") + outcomes.count("full") + confirmed == 50


def test_a_double_tap_from_ten_threads_books_once(pg_only, clock, unit):
    clock("2025-09-10T10:00+08:00")
    activity = make_activity(unit)
    configure(activity)
    session = add_session(activity, capacity=5)
    member = make_member()
    token = services.new_token()
    outcomes = _race(
        10, lambda i: services.book(session.pk, member, party(), token=token if i % 2 else "")[0].pk
    )
    assert len(set(outcomes)) == 1, outcomes
    assert Booking.objects.count() == 1 and Session.objects.get(pk=session.pk).booked == 1


def test_cancellations_and_bookings_at_once_keep_the_count_right(pg_only, clock, unit):
    clock("2025-09-10T10:00+08:00")
    activity = make_activity(unit)
    configure(activity)
    session = add_session(activity, capacity=10)
    holders = [services.book(session, make_member(), party())[0] for _ in range(10)]
    waiting = [services.book(session, make_member(), party(), join_waitlist=True)[0] for _ in range(10)]
    newcomers = [make_member() for _ in range(10)]

    def act(i):
        if i < 10:
            return services.cancel(holders[i], actor=holders[i].user).status
        return services.book(session.pk, newcomers[i - 10], party(), join_waitlist=True)[0].status

    outcomes = _race(20, act)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    fresh = Session.objects.get(pk=session.pk)
    holding = Booking.objects.filter(session=session, status__in=[Status.CONFIRMED, Status.OFFERED])
    assert fresh.booked == sum(holding.values_list("seats", flat=True)) == 10
    # The freed places went to the first waiting parties, in order, not to the newcomers.
    assert set(holding.values_list("pk", flat=True)) == {b.pk for b in waiting}
