"""Innovation-exhibition proposals (五(三)1): the call on the 13 themes of the YAML, judged with the
calls' judging, at most 3 published (优选3套) and the target measured from the published ones."""

from __future__ import annotations

import pytest

from kepuyue.calls.models import Entry, EntryStatus
from kepuyue.calls.services import judging, publishing
from kepuyue.campaigns.models import Brand, Call
from kepuyue.dashboard.measures import target_progress

THEMES = [
    "魔术中的科学", "非遗科韵", "测量与尺度", "国防科技", "农业科技", "应急心理", "实用机械",
    "神奇发明", "趣味力学", "玩具中的科学", "昆虫中的科学", "探知脑趣", "航空航天科学",
]  # fmt: skip


@pytest.fixture
def call(plan):
    return Call.objects.get(campaign=plan, slug="innovation-exhibitions")


def test_the_call_offers_the_plans_13_themes_from_the_yaml(call, plan):
    assert [t["name"] for t in call.themes] == THEMES
    brand = Brand.objects.get(joint_action__campaign=plan, slug="mobile-resources")
    assert call.brand == brand and call.themes == brand.themes
    assert call.spec["selects"] == 3
    assert call.plan_ref == "五(三)1"
    assert {t.code for t in call.eligible_types.all()} == {"science_museum", "museum_society_member"}
    assert sum(c["weight"] for c in call.criteria) == 100


def _entries(call, museum, n):
    return [
        Entry.objects.create(
            call=call,
            organization=museum,
            title=f"展览方案{i}",
            theme=call.themes[i]["slug"],
            status=EntryStatus.SUBMITTED,
        )
        for i in range(n)
    ]


def test_judged_ranked_and_only_three_published(call, museum, django_user_model, plan):
    from kepuyue.orgs.models import Organization

    judge = django_user_model.objects.create_user("judge", "judge@example.org", "pw-judge-1")
    manager = django_user_model.objects.create_superuser("cast", "cast@example.org", "pw-cast-admin-1")
    judging.assign_judge(call, judge, actor=manager)
    entries = _entries(call, museum, 4)
    for i, entry in enumerate(entries):
        judging.score_entry(entry, judge, {"theme": 60 + 10 * i, "values": 70, "display": 80})
    ranked = [r.entry.pk for r in judging.results(call)]
    assert ranked[0] == entries[3].pk
    for entry in entries:
        publishing.transition(entry, EntryStatus.SHORTLISTED)
    for entry in entries[1:]:
        publishing.transition(entry, EntryStatus.PUBLISHED)
    with pytest.raises(publishing.TransitionError, match="择优发布 3 项"):
        publishing.transition(entries[0], EntryStatus.PUBLISHED)
    entries[0].refresh_from_db()
    assert entries[0].status == EntryStatus.SHORTLISTED
    assert Entry.objects.filter(call=call, status=EntryStatus.PUBLISHED).count() == 3
    progress = {(p.target.joint_action.slug, p.target.slug): p for p in target_progress(plan)}
    assert progress[("science-museums", "exhibitions")].value == 3
    # Un-publishing one frees the place for another.
    publishing.transition(entries[1], EntryStatus.SHORTLISTED)
    publishing.transition(entries[0], EntryStatus.PUBLISHED)
    assert Entry.objects.filter(call=call, status=EntryStatus.PUBLISHED).count() == 3
    assert Organization.objects.filter(pk=museum.pk).exists()


def test_publishing_is_recorded_in_the_audit_log(call, museum):
    from kepuyue.audit.models import AuditEntry

    (entry,) = _entries(call, museum, 1)
    publishing.transition(entry, EntryStatus.SHORTLISTED)
    publishing.transition(entry, EntryStatus.PUBLISHED)
    assert AuditEntry.objects.filter(action="call_entry.publish", object_id=str(entry.pk)).exists()


def test_calls_without_selects_publish_as_before(plan, museum):
    call = Call.objects.get(campaign=plan, slug="reading-work-plans")
    assert "selects" not in call.spec
    entries = (
        _entries(call, museum, 4)
        if call.themes
        else [
            Entry.objects.create(
                call=call, organization=museum, title=f"方案{i}", status=EntryStatus.SHORTLISTED
            )
            for i in range(4)
        ]
    )
    for entry in entries:
        if entry.status != EntryStatus.SHORTLISTED:
            publishing.transition(entry, EntryStatus.SHORTLISTED)
        publishing.transition(entry, EntryStatus.PUBLISHED)
    assert Entry.objects.filter(call=call, status=EntryStatus.PUBLISHED).count() == 4


def test_selects_must_be_a_positive_count():
    from kepuyue.campaigns.schema import CampaignFileError, parse_campaign
    from tests.fixtures_campaigns import CAMPAIGN_FILE

    text = CAMPAIGN_FILE.read_text(encoding="utf-8").replace("    selects: 3  #", "    selects: 0  #", 1)
    with pytest.raises(CampaignFileError) as info:
        parse_campaign(text)
    assert any("selects" in line for line in info.value.errors)
