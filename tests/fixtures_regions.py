"""Region fixtures: the real division tables in the test database."""

import pytest


@pytest.fixture
def regions(db):
    """Load the real regions (data/regions, about 3,760 rows) when the table is empty.

    Function-scoped on purpose: transactional tests flush tables, so nothing is assumed to survive
    from an earlier test. A load takes well under a second. Returns the ``LoadCounts`` of the load,
    or ``None`` when the table was already filled.
    """
    from kepuyue.regions.models import Region
    from kepuyue.regions.services import invalidate_index, load_regions

    if Region.objects.exists():
        invalidate_index()  # rows may differ from what this process indexed earlier
        return None
    return load_regions()
