"""Roll-ups kept in step with the workflow: a property test against a from-scratch recount,
the in-transaction guarantee, the importer's bulk writes, and the rebuild / check commands."""

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kepuyue.activities.models import Activity, SpecialArea, Status, Summary
from kepuyue.activities.services import transition, update_activity
from kepuyue.activities.services.workflow import activity_data
from kepuyue.campaigns.models import Brand
from kepuyue.common import clock as campaign_clock
from kepuyue.dashboard import rollups
from kepuyue.dashboard.models import AreaTally, DayTally, Fact, OrgTally, Tally, UnitTally
from kepuyue.orgs.models import Organization
from kepuyue.regions.models import Level
from tests.activities.factories import ActivityFactory

OPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "submit",
                "publish",
                "publish",
                "return",
                "withdraw",
                "feature",
                "edit",
                "admin_edit",
                "summary",
                "delete",
            ]
        ),
        st.integers(min_value=0, max_value=4),  # which activity
        st.integers(min_value=0, max_value=5),  # which region / brand / value
    ),
    max_size=30,
)


def _snapshot():
    """Every counter table (fine and coarse, ``rollups.COUNTERS``) as {key: values} of its non-zero rows."""
    snapshot = {}
    for model, names, _keys, with_participants in rollups.COUNTERS:
        values = ("activities", "participants") if with_participants else ("activities",)
        snapshot[model.__name__] = {
            tuple(row[k] for k in names): tuple(row[v] for v in values)
            for row in model.objects.filter(activities__gt=0).values(*names, *values)
        }
    return snapshot


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_rollups_equal_a_recount_after_any_sequence(plan, counties, ops):
    """publish / return / withdraw / feature / edit (incl. region and brand) in any order: the
    counters always equal a from-scratch recount, and a rebuild changes nothing."""
    with transaction.atomic():  # each example starts clean
        ja = plan.joint_actions.get(slug="science-museums")
        brands = list(Brand.objects.filter(joint_action=ja).order_by("order")[:3])
        units = [
            Organization.objects.get_or_create(name="属性测试科技馆", type_id="science_museum")[0],
            Organization.objects.get_or_create(name="属性测试基地", type_id="science_education_base")[0],
        ]
        activities = [
            ActivityFactory(
                joint_action=ja,
                brand=brands[i % 3],
                organizer=units[i % 2],
                region=counties[i],
                special_areas=SpecialArea.RURAL if i % 2 else 0,
            )
            for i in range(5)
        ]
        for op, index, value in ops:
            activity = Activity.objects.filter(pk=activities[index].pk).first()
            if activity is None:
                continue
            if op in ("publish", "return", "submit", "resubmit"):
                # Walk the workflow towards the move: draft → submitted → published / returned.
                if activity.status in (Status.DRAFT, Status.RETURNED):
                    transition(activity, Status.SUBMITTED)
                if activity.status == Status.SUBMITTED and op == "publish":
                    transition(activity, Status.PUBLISHED)
                elif activity.status == Status.SUBMITTED and op == "return":
                    transition(activity, Status.RETURNED, reason="请补充")
            elif op == "withdraw":
                if activity.status == Status.PUBLISHED:
                    transition(activity, Status.WITHDRAWN)
            elif op == "feature":  # 重点呈现 changes no figure; saved outside the workflow
                activity.featured_at = campaign_clock.now()
                activity.save(update_fields=["featured_at"])
            elif op == "edit" and activity.status in (Status.DRAFT, Status.RETURNED):
                data = activity_data(activity)
                data.update(region=counties[value], brand=brands[value % 3])
                update_activity(activity, data)
            elif op == "admin_edit":  # the Django admin changes a row in any status
                activity.region = counties[value]
                activity.province_code = counties[value].province_code
                activity.prefecture_code = counties[value].parent_id
                activity.county_code = counties[value].code
                activity.brand = brands[value % 3]
                activity.special_areas = value
                activity.save()
            elif op == "summary":
                Summary.objects.update_or_create(
                    activity=activity,
                    defaults={
                        "text": "总结",
                        "participants": 10 * value,
                        "submitted_at": campaign_clock.now(),
                        "due_at": campaign_clock.now(),
                    },
                )
            elif op == "delete" and activity.status != Status.PUBLISHED:
                activity.delete()
            assert rollups.check() == [], (op, index, value)
        assert rollups.check() == []
        published = Activity.objects.filter(status=Status.PUBLISHED).count()
        assert Fact.objects.count() == published
        # The coarse roll-ups say what the fine one says (the pages read the former).
        assert sum(DayTally.objects.values_list("activities", flat=True)) == published
        assert sum(AreaTally.objects.filter(level=Level.PROVINCE).values_list("activities", flat=True)) == (
            sum(Tally.objects.exclude(province_code="").values_list("activities", flat=True))
        )
        assert OrgTally.objects.filter(activities__gt=0).count() == (
            UnitTally.objects.filter(activities__gt=0).values("organizer_id").distinct().count()
        )
        before = _snapshot()
        rollups.rebuild()
        assert _snapshot() == before
        transaction.set_rollback(True)


def test_a_rolled_back_publication_leaves_no_count(plan, counties, museum):
    activity = ActivityFactory(
        joint_action=plan.joint_actions.get(slug="science-museums"), region=counties[0], organizer=museum
    )
    transition(activity, Status.SUBMITTED)
    with pytest.raises(RuntimeError), transaction.atomic():
        transition(activity, Status.PUBLISHED)
        assert Tally.objects.filter(activities__gt=0).count() == 1  # counted inside the transaction
        raise RuntimeError("回滚")
    assert not Tally.objects.filter(activities__gt=0).exists()
    assert not Fact.objects.exists()


def test_withdrawal_uncounts(plan, counties, publish, museum):
    activity = publish(
        joint_action=plan.joint_actions.get(slug="science-museums"), region=counties[0], organizer=museum
    )
    assert Tally.objects.get().activities == 1
    transition(activity, Status.WITHDRAWN)
    assert Tally.objects.get().activities == 0
    assert not Fact.objects.exists()


def test_an_administrators_import_is_counted(plan, tmp_path, settings):
    """The importer writes published rows with bulk statements; ``activities_imported`` counts them,
    and a second import of the same file changes nothing."""
    from tests.activities.helpers import run_import, write_csv

    settings.MEDIA_ROOT = tmp_path / "media"
    path = write_csv(
        tmp_path / "t.csv",
        [
            ["title", "organizer", "brand", "start_date", "end_date", "province"],
            ["夜场", "宁波科技馆", "科学之夜", "2025-10-02", "2025-10-02", "浙江省"],
            ["讲座", "宁波市科协", "", "2025-09-16", "2025-09-16", "浙江省"],
        ],
    )
    job = run_import(path)  # an administrator's import publishes at once
    assert job.created_count == 2
    assert Fact.objects.count() == 2
    assert rollups.check() == []
    run_import(path)
    assert Fact.objects.count() == 2 and rollups.check() == []


@pytest.mark.parametrize("model", [Tally, UnitTally, DayTally, AreaTally, OrgTally])
def test_commands_rebuild_and_find_drift(plan, counties, publish, museum, capsys, model):
    publish(joint_action=plan.joint_actions.get(slug="science-museums"), region=counties[0], organizer=museum)
    call_command("check_rollups")
    assert "一致" in capsys.readouterr().out
    model.objects.update(activities=5)  # drift: an edit straight in the database
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_rollups", "--campaign", plan.slug)
    assert exit_info.value.code == 1
    assert "汇总为 5，重新计数为 1" in capsys.readouterr().out
    call_command("rebuild_rollups")
    assert "已重新统计 1 个已发布活动" in capsys.readouterr().out
    call_command("check_rollups")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="没有标识为"):
        call_command("rebuild_rollups", "--campaign", "nope")


@pytest.mark.parametrize("rows", [3, 40])
def test_an_import_counts_its_rows_in_statements_that_do_not_grow_with_them(plan, tmp_path, settings, rows):
    """Issue 17 point 4: the importer names the rows it wrote (``activity_ids``), and the roll-ups
    take a batch in a fixed number of statements — not one per activity and counter, and without
    walking the units' other activities (here: published ones already counted)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.activities.helpers import run_import, write_csv

    settings.MEDIA_ROOT = tmp_path / "media"
    before = write_csv(
        tmp_path / "before.csv",
        [["title", "organizer", "brand", "start_date", "end_date", "province"]]
        + [[f"旧活动{i}", "宁波科技馆", "科学之夜", "2025-09-20", "2025-09-20", "浙江省"] for i in range(5)],
    )
    run_import(before)
    path = write_csv(
        tmp_path / "t.csv",
        [["title", "organizer", "brand", "start_date", "end_date", "province"]]
        + [
            [
                f"夜场{i}",
                "宁波科技馆" if i % 2 else "宁波市科协",
                "科学之夜" if i % 2 else "",  # 八(一): the museum's joint action has brands
                f"2025-09-{10 + i % 18:02d}",
                f"2025-09-{10 + i % 18:02d}",
                "浙江省",
            ]
            for i in range(rows)
        ],
    )
    with CaptureQueriesContext(connection) as queries:
        job = run_import(path)
    assert job.created_count == rows
    assert Fact.objects.count() == rows + 5 and rollups.check() == []
    rollup_statements = [q["sql"] for q in queries if "dashboard_" in q["sql"]]
    # Facts read, facts written, one upsert per counter table (5), for any number of rows.
    assert len(rollup_statements) <= 8, rollup_statements


def test_coverage_counts_the_statistical_divisions_only(plan, counties, publish, museum):
    """覆盖区县 is out of the 2,978 coded counties (data/regions), not the 3,358 rows that include the
    districts of 香港, 澳门 and 台湾; an activity there counts for its province, not as a county reached."""
    from kepuyue.dashboard import figures
    from kepuyue.regions.models import Region

    hk_district = Region.objects.filter(province_code="810000", level=Level.COUNTY).first()
    museums = plan.joint_actions.get(slug="science-museums")
    publish(joint_action=museums, region=counties[0], organizer=museum)
    publish(joint_action=museums, region=hk_district, organizer=museum)
    totals = figures.totals(plan)
    coded = Region.objects.filter(level=Level.COUNTY, is_official=True).count()
    assert 2970 <= coded <= 2978  # the data's 2,978 county rows, less a few groupings that are not places
    assert totals["counties"] == (1, coded)
    assert totals["prefectures"][1] == Region.objects.filter(level=Level.PREFECTURE, is_official=True).count()
    assert totals["prefectures"][1] <= 342
    assert totals["provinces"] == (2, 34)
