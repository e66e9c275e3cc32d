"""schemathesis against the served OpenAPI description (issue 16 acceptance): every operation, with
valid and hostile inputs generated from ``/api/v1/openapi.json``, through the WSGI application and
the test database. Checks: no 5xx, documented status codes, content types, headers and bodies that
match the schema. A bounded number of examples per operation keeps it inside CI time
(``KEPUYUE_SCHEMATHESIS_EXAMPLES``, default 12)."""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from kepuyue.wsgi import application

from .conftest import make_activity

# Lists refuse a parameter they cannot honour (422, one Chinese message per parameter; docs/api.md):
# besides what the description says (types, lengths, ranges), a region code must name a region and a
# campaign, joint action or brand slug must exist, a cursor must carry our signature. Those are facts
# of the data, not of the schema, so a schema-valid value may still be refused with a 422 — which
# schemathesis's "schema-valid request rejected" check counts as a failure. It is off for these
# reads only; every other check (no 5xx, schema-violating requests refused, bodies as documented)
# runs on them too.
SEMANTIC_PARAMETERS = {
    "/api/v1/activities",
    "/api/v1/org/activities",
    "/api/v1/regions",
    "/api/v1/dashboard",
    "/api/v1/dashboard/map",
    "/api/v1/campaigns/{slug}/calls/{call}/entries",
    "/api/v1/org/activities/{pk}/registrations",
}

EXAMPLES = int(os.environ.get("KEPUYUE_SCHEMATHESIS_EXAMPLES", "12"))


# Loaded once at collection from the application itself (no database needed to describe it).
# (schemathesis.pytest.from_fixture relies on a pytest internal that pytest 9 no longer has.)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def api_data(plan, unit, token, settings):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    # Counted requests are tested elsewhere; here every request must reach the operation.
    settings.RATELIMIT_ENABLE = False
    make_activity(unit, title="已发布的活动", external_id="P-1")
    make_activity(unit, publish=False, title="草稿", external_id="D-1")
    # Called through the WSGI handler, each request would close the test's database connection
    # (Django's test client unhooks this the same way); PostgreSQL then loses the test transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield token
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
@pytest.mark.django_db
def test_every_operation(case, api_data):
    if case.headers is None:
        case.headers = {}
    case.headers.setdefault("Authorization", f"Bearer {api_data[1]}")
    excluded = []
    if case.method == "GET" and case.path in SEMANTIC_PARAMETERS:
        excluded.append(positive_data_acceptance)
    case.call_and_validate(excluded_checks=excluded)
