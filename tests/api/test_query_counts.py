"""Query counts of the list endpoints the other files leave out (guide: every list view has one): a
token's registrations of its own activity and the public availability of an activity's sessions
cost the same number of queries for few rows as for many."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import bearer, make_activity


def _count(client, url, **headers) -> int:
    client.get(url, **headers)  # warm caches (current campaign, sessions)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **headers).status_code == 200
    return len(queries)


def test_registrations_list_query_count(client, unit, token, clock):
    from kepuyue.registrations import services as registrations
    from tests.fixtures_registrations import add_session, configure, make_member, party

    activity = make_activity(unit)
    clock("2025-09-10T10:00+08:00")
    configure(activity)
    session = add_session(activity, capacity=50)
    url = f"/api/v1/org/activities/{activity.pk}/registrations"
    registrations.book(session, make_member(), party(name="张小明"))
    few = _count(client, url, **bearer(token[1]))
    for i in range(6):
        registrations.book(session, make_member(), party(name=f"李华{i}"))
    assert _count(client, url, **bearer(token[1])) == few <= 10


def test_availability_query_count(client, unit, clock, settings):
    from tests.fixtures_registrations import add_session, configure

    activity = make_activity(unit)
    clock("2025-09-10T10:00+08:00")
    configure(activity)
    url = f"/api/v1/activities/{activity.pk}/availability"
    add_session(activity, start="2025-09-15 09:00", end="2025-09-15 10:00")
    few = _count(client, url)
    for hour in range(10, 16):  # within the activity's day (09:00–17:00)
        add_session(activity, start=f"2025-09-15 {hour}:00", end=f"2025-09-15 {hour + 1}:00")
    assert len(client.get(url).json()["sessions"]) == 7
    assert _count(client, url) == few <= 10
