"""Campaign fixtures: the real 2025 plan file, and the campaign loaded from it.

Other apps' tests use ``campaign_2025`` to get the whole plan in the test database.
"""

from pathlib import Path

import pytest

CAMPAIGN_FILE = Path(__file__).resolve().parent.parent / "campaigns" / "kepuyue-2025.yaml"


@pytest.fixture
def campaign_file() -> Path:
    """Path to ``campaigns/kepuyue-2025.yaml``."""
    return CAMPAIGN_FILE


@pytest.fixture
def campaign_2025(db, campaign_file):
    """The 2025 campaign (``kepuyue-2025``) loaded with ``load_campaign``; returns the Campaign."""
    from kepuyue.campaigns.services import load_campaign

    return load_campaign(campaign_file).campaign
