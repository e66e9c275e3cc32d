"""load_campaign: idempotent re-loads, in-place updates, deletions, and the management command."""

import io

import pytest
from django.core.management import CommandError, call_command

from kepuyue.campaigns.models import Brand, Call, Campaign, Contact, Deadline, JointAction, KeyTask, Target
from kepuyue.campaigns.services import CampaignFileError, load_campaign
from kepuyue.orgs.models import OrganizationType

from .conftest import find

pytestmark = pytest.mark.django_db

MODELS = [OrganizationType, Campaign, JointAction, KeyTask, Brand, Target, Contact, Deadline, Call]


def snapshot() -> dict:
    """Every row of every campaign model, all columns (``updated`` included), plus the M2M links."""
    rows = {model.__name__: sorted(model.objects.values_list(), key=str) for model in MODELS}
    rows["participant_types"] = sorted(JointAction.participant_types.through.objects.values_list(), key=str)
    rows["eligible_types"] = sorted(Call.eligible_types.through.objects.values_list(), key=str)
    return rows


def test_load_campaign_twice_changes_nothing(campaign_file):
    first = load_campaign(campaign_file)
    before = snapshot()
    second = load_campaign(campaign_file)
    assert snapshot() == before  # row counts, values and `updated` timestamps
    assert (second.created, second.updated, second.deleted) == (0, 0, 0)
    assert (
        second.unchanged
        == first.created
        == sum(len(rows) for name, rows in before.items() if name[0].isupper())
    )
    assert not second.changed
    assert second.campaign.pk == first.campaign.pk


def test_load_campaign_edited_file_updates_in_place(campaign_file, plan_data, write_plan):
    load_campaign(campaign_file)
    target = Target.objects.get(slug="bases", joint_action__slug="science-education-bases")
    ja_before = {ja.slug: (ja.pk, ja.updated) for ja in JointAction.objects.all()}

    bases = find(plan_data["joint_actions"], "science-education-bases")
    find(bases["brands"], "bases-show-innovation")["targets"][0]["value"] = 1200
    bases["name_en"] = "Science Education Bases"
    result = load_campaign(write_plan(plan_data))

    target.refresh_from_db()
    assert (target.pk, target.value) == (Target.objects.get(slug="bases").pk, 1200)
    ja_after = {ja.slug: (ja.pk, ja.updated) for ja in JointAction.objects.all()}
    assert ja_after["science-education-bases"][0] == ja_before["science-education-bases"][0]
    assert ja_after["science-education-bases"][1] > ja_before["science-education-bases"][1]
    # The other joint actions were not touched.
    assert {k: v for k, v in ja_after.items() if k != "science-education-bases"} == {
        k: v for k, v in ja_before.items() if k != "science-education-bases"
    }
    # campaign (new sha256 and source), the joint action and the target.
    assert (result.created, result.updated, result.deleted) == (0, 3, 0)
    assert result.by_model["数量目标"].updated == 1


def test_load_campaign_removed_brand_is_deleted(campaign_file, plan_data, write_plan):
    load_campaign(campaign_file)
    societies = find(plan_data["joint_actions"], "national-societies")
    societies["brands"] = [b for b in societies["brands"] if b["slug"] != "grassroots-talks"]
    kept = Brand.objects.get(slug="frontier-talks", joint_action__slug="national-societies").pk

    result = load_campaign(write_plan(plan_data))

    assert not Brand.objects.filter(slug="grassroots-talks").exists()
    assert Brand.objects.get(slug="frontier-talks", joint_action__slug="national-societies").pk == kept
    assert result.by_model["品牌活动"].deleted == 1
    assert result.deleted == 1


def test_load_campaign_removed_joint_action_deletes_its_rows(campaign_file, plan_data, write_plan):
    load_campaign(campaign_file)
    plan_data["joint_actions"] = [ja for ja in plan_data["joint_actions"] if ja["slug"] != "science-reading"]
    plan_data["deadlines"] = [d for d in plan_data["deadlines"] if d.get("joint_action") != "science-reading"]
    plan_data["calls"] = [c for c in plan_data["calls"] if c["joint_action"] != "science-reading"]

    result = load_campaign(write_plan(plan_data))

    assert not JointAction.objects.filter(slug="science-reading").exists()
    counts = result.by_model
    assert (counts["联合行动"].deleted, counts["重点任务"].deleted, counts["品牌活动"].deleted) == (1, 2, 4)
    assert (counts["联系人"].deleted, counts["数量目标"].deleted) == (2, 1)
    assert (counts["时间节点"].deleted, counts["征集"].deleted) == (1, 2)
    assert result.deleted == 13
    # Organization types stay: organizations may refer to them.
    assert OrganizationType.objects.filter(code="publisher").exists()


def test_load_campaign_swapped_numbers_keep_rows(campaign_file, plan_data, write_plan):
    load_campaign(campaign_file)
    pks = dict(JointAction.objects.values_list("slug", "pk"))
    plan_data["joint_actions"][0]["number"], plan_data["joint_actions"][1]["number"] = 2, 1

    load_campaign(write_plan(plan_data))

    assert dict(JointAction.objects.values_list("slug", "pk")) == pks
    assert JointAction.objects.get(slug="universities").number == 1


def test_load_campaign_moved_parent_and_contact_removed(campaign_file, plan_data, write_plan):
    load_campaign(campaign_file)
    museums = find(plan_data["joint_actions"], "science-museums")
    find(museums["brands"], "mobile-museums")["parent"] = None
    museums["contacts"] = museums["contacts"][:1]

    result = load_campaign(write_plan(plan_data))

    assert Brand.objects.get(slug="mobile-museums").parent is None
    assert list(
        Contact.objects.filter(joint_action__slug="science-museums").values_list("person", flat=True)
    ) == ["张志坚"]
    assert result.by_model["品牌活动"].updated == 1
    assert result.by_model["联系人"].deleted == 1


def test_load_campaign_participant_type_change_is_an_update(campaign_file, plan_data, write_plan):
    load_campaign(campaign_file)
    find(plan_data["joint_actions"], "science-reading")["participant_types"].append("other")

    result = load_campaign(write_plan(plan_data))

    reading = JointAction.objects.get(slug="science-reading")
    assert "other" in {t.code for t in reading.participant_types.all()}
    assert result.by_model["联合行动"].updated == 1


def test_load_campaign_bad_file_writes_nothing(plan_data, write_plan):
    plan_data["joint_actions"][6]["contacts"][0]["phone"] = 10062102021  # a number, not text
    with pytest.raises(CampaignFileError) as excinfo:
        load_campaign(write_plan(plan_data))
    assert excinfo.value.errors == [
        "joint_actions[6].contacts[0].phone: 应为文本，数字或日期请加引号 (not a string)"
    ]
    assert not Campaign.objects.exists()
    assert not OrganizationType.objects.exists()


def test_load_campaign_missing_file_is_a_file_error(tmp_path):
    with pytest.raises(CampaignFileError, match="无法读取文件"):
        load_campaign(tmp_path / "missing.yaml")


def test_load_campaign_command_prints_counts(campaign_file):
    out = io.StringIO()
    call_command("load_campaign", str(campaign_file), stdout=out)
    assert "合计：新增 112" in out.getvalue()
    assert "品牌活动：新增 28" in out.getvalue()

    out = io.StringIO()
    call_command("load_campaign", str(campaign_file), stdout=out)
    assert "合计：新增 0，更新 0，删除 0，未变 112" in out.getvalue()


def test_load_campaign_command_bad_file_prints_every_error(plan_data, write_plan):
    plan_data["joint_actions"][0]["participant"] = plan_data["joint_actions"][0].pop("participants")
    plan_data["campaign"]["starts"] = "2025-09-31"
    path = write_plan(plan_data)
    err = io.StringIO()
    with pytest.raises(CommandError, match="3 处错误"):
        call_command("load_campaign", str(path), stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert "campaign.starts: “2025-09-31”不是有效日期，应写作 YYYY-MM-DD (not a valid date)" in lines
    assert "joint_actions[0].participants: 缺少必填项 (missing)" in lines
    assert "joint_actions[0].participant: 不认识的键，可能拼写有误 (unknown key)" in lines
    assert not Campaign.objects.exists()
