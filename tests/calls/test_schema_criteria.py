"""The judging criteria of a call in the campaign YAML: weights given and summing to 100."""

import pytest

from kepuyue.campaigns.schema import CampaignFileError, parse_campaign
from tests.fixtures_campaigns import CAMPAIGN_FILE


def _with_criteria(criteria_yaml: str) -> bytes:
    text = CAMPAIGN_FILE.read_text(encoding="utf-8")
    anchor = "      - {slug: theme, name: 主题明确, weight: 25}\n"
    start = text.index("    criteria:\n", text.index("slug: science-treasure-videos"))
    end = text.index("    plan_ref:", start)
    assert anchor in text[start:end]
    return (text[:start] + criteria_yaml + text[end:]).encode("utf-8")


def test_plan_criteria_sum_to_100():
    plan = parse_campaign(CAMPAIGN_FILE.read_bytes())
    assert all(sum(c.weight for c in call.criteria) == 100 for call in plan.calls)


def test_criteria_weights_not_summing_to_100_are_refused_with_the_yaml_path():
    bad = "    criteria:\n      - {slug: a, name: 甲, weight: 60}\n      - {slug: b, name: 乙, weight: 30}\n"
    with pytest.raises(CampaignFileError) as error:
        parse_campaign(_with_criteria(bad))
    assert any("calls[1].criteria" in line and "合计须为100，现为90" in line for line in error.value.errors)


def test_criteria_without_weight_or_duplicated_are_refused():
    bad = "    criteria:\n      - {slug: a, name: 甲, weight: 100}\n      - {slug: a, name: 乙}\n"
    with pytest.raises(CampaignFileError) as error:
        parse_campaign(_with_criteria(bad))
    text = "\n".join(error.value.errors)
    assert "重复" in text and "须给出权重" in text
