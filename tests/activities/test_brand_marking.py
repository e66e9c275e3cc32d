"""Brand marking (plan 八(一) “发布活动时请突出标记活动品牌”, issue 15 part 8): an activity of a joint action with
brands must carry one (campaign-wide activities excepted); the form, the API and the import refuse one without,
with the same Chinese message, and suggest a brand from the title and summary — with its reason, never applied.
"""

from __future__ import annotations

import json

import pytest

from kepuyue.activities import services
from kepuyue.activities.models import Activity
from kepuyue.campaigns.models import Brand

from .helpers import reasons, run_import, write_csv

pytestmark = pytest.mark.django_db

# Real titles of data/activities.csv, the joint action they belong to (by brand or organizer type), and the
# suggestion expected: (brand name, reason) or None.
REAL_TITLES = [
    (
        "洛阳市科技馆“科学之夜”（含险境求生临展、光与焰的奇妙之旅实验秀、光影科学梦电影放映、啸破长空舞台剧等6项）",
        "science-museums",
        ("科学一千零一夜", "标题含『科学之夜』"),
    ),
    (
        "2025年全国科普月北京主场活动·中国科技馆“科学之夜”大型科普活动",
        "science-museums",
        ("科学一千零一夜", "标题含『科学之夜』"),
    ),
    (
        "山西科技馆“科学奇妙夜”（科普市集、萤火虫观察、观星计划、科学秀等）",
        "science-museums",
        ("科学一千零一夜", "标题含『科学奇妙夜』"),
    ),
    (
        "“科学奇妙夜—相约世遗古城”2025年全国科普月（泉州）主场活动暨泉州市现代科技馆体系联合行动（发布8条科普研学精品路线、110场重点活动）",
        "science-museums",
        ("科学一千零一夜", "标题含『科学奇妙夜』"),
    ),
    (
        "凉山州“科普进彝区、大篷车进校园”活动（8辆科普大篷车）",
        "science-museums",
        ("科普大篷车", "标题含『大篷车』"),
    ),
    (
        "乌兰察布科技馆科普大篷车走进丰镇市巨宝庄小学（2025全国科普月市县两级大篷车联合行动·流动科普百县千车万里行第二站）",
        "science-museums",
        ("科普大篷车", "标题含『科普大篷车』"),
    ),
    ("2025年“中国流动科技馆”广东省巡展（云城站）", "science-museums", ("流动科技馆", "标题含『流动科技馆』")),
    (
        "黑龙江省科技馆球幕影院公益放映《海龟奇幻之旅》、“科学运动会”",
        "science-museums",
        ("中国科技馆“科学之夜”主场活动", "标题含『科学运动会』"),
    ),
    ("沉浸式舞台剧《华夏之光-文明的烛火》连演10场（每晚19:30-20:45，需预约）", "science-museums", None),
    ("厦门科技馆“大鲸鱼家族”特展（10米长成年鲸标本）", "science-museums", None),
    (
        "中国科学技术大学工程科学星火馆向六安市汇文学校师生开放及科普报告“上天、入地、下海，科技圆梦”",
        "universities",
        ("共探高校星火馆", "标题含『星火馆』"),
    ),
    (
        "“科学大师宣传工程——共和国的脊梁·四川汇演”：西北农林科技大学话剧《雕虫沧桑》",
        "universities",
        ("百场科学大师剧进校园", "标题含『科学大师宣传工程』"),
    ),
    (
        "株洲硬质合金集团开放生产线（展示“工业牙齿”）",
        "enterprises",
        ("万企场馆探未来", "标题含『开放生产线』"),
    ),
    (
        "2025年全国科普月金华主场活动（发布金华市十条“科普City Walk”研学路线）",
        "science-education-bases",
        ("科普CityWalk", "标题含『科普CityWalk』"),
    ),
]


@pytest.mark.parametrize(("title", "action_slug", "expected"), REAL_TITLES)
def test_real_titles_suggest_the_expected_brand(plan, action, title, action_slug, expected):
    found = services.suggest_brand(title, "", services.brands_of(action(action_slug)))
    if expected is None:
        assert found is None
    else:
        assert (found.brand.name, found.reason) == expected


def test_summary_suggests_when_the_title_does_not(plan, action):
    found = services.suggest_brand(
        "九月的一个晚上", "开放夜场参观，带孩子体验科学之夜", services.brands_of(action("science-museums"))
    )
    assert found.brand.slug == "science-nights" and found.reason == "简介含『科学之夜』"


def test_title_outranks_summary_and_main_subject_outranks_brackets(plan, action):
    brands = services.brands_of(action("science-museums"))
    found = services.suggestions("科普大篷车进校园（含光影科学梦电影放映）", "科学之夜", brands)
    assert [s.brand.slug for s in found] == ["science-caravans", "science-films", "science-nights"]


def test_terms_match_on_word_boundaries_only(plan, action):
    # 夜场 is a keyword of 科学一千零一夜; in 今夜场馆 the words are 今夜 / 场馆, not 夜场.
    assert services.suggest_brand("今夜场馆开放", "", services.brands_of(action("science-museums"))) is None
    assert (
        services.suggest_brand("科技馆夜场开放", "", services.brands_of(action("science-museums")))
        is not None
    )


def test_campaign_wide_and_brandless_actions_need_no_brand(plan, action):
    assert services.brand_required_error(None, None, title="科学之夜") is None
    museums = action("science-museums")
    assert services.brand_required_error(Brand.objects.filter(joint_action=museums).first(), museums) is None
    assert services.brand_required_error(None, museums, brands=[]) is None


# --- the form, the API and the import refuse the same thing with the same words ---------------------


EXPECTED = "现代科技馆体系联合行动的活动须标记品牌活动（方案八(一)：发布活动时请突出标记活动品牌）；建议：“科学一千零一夜”（标题含『科学之夜』），请确认后选择"


def test_form_requires_a_brand_and_shows_the_suggestion(staff_client, action):
    museums = action("science-museums")
    data = {
        "joint_action": museums.pk,
        "brand": "",
        "title": "杭州科技馆科学之夜",
        "starts_at": "2025-09-20T19:00",
        "ends_at": "2025-09-20T21:00",
        "form": "offline",
        "region": "浙江省杭州市西湖区",
        "venue": "杭州科技馆",
        "contact_phone": "13812345678",
        "action": "draft",
    }
    response = staff_client.post("/org/activities/new/", data)
    assert response.status_code == 200
    assert (
        EXPECTED.replace("“", "&ldquo;") in response.content.decode() or EXPECTED in response.content.decode()
    )
    assert not Activity.objects.exists()  # never applied silently
    data["brand"] = museums.brands.get(slug="science-nights").pk
    assert staff_client.post("/org/activities/new/", data).status_code == 302


def test_campaign_wide_activity_saves_without_brand(staff_client, plan):
    data = {
        "joint_action": "",
        "brand": "",
        "title": "全国科普月主场活动",
        "starts_at": "2025-09-20T09:00",
        "ends_at": "2025-09-20T11:00",
        "form": "offline",
        "region": "浙江省杭州市西湖区",
        "contact_phone": "13812345678",
        "action": "draft",
    }
    response = staff_client.post("/org/activities/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Activity.objects.get().brand is None


def test_api_gives_the_same_chinese_error(client, staff, unit, action):
    from kepuyue.api.tokens import create_token

    _token, secret = create_token(staff, name="浙江省系统", kind="unit")
    payload = {
        "joint_action": "science-museums",
        "title": "杭州科技馆科学之夜",
        "starts_at": "2025-09-20T19:00:00+08:00",
        "ends_at": "2025-09-20T21:00:00+08:00",
        "form": "offline",
        "region_code": "330106",
    }
    response = client.post(
        "/api/v1/org/activities",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 422, response.content
    assert response.json()["errors"]["brand"] == [EXPECTED]
    assert not Activity.objects.exists()


def test_import_row_without_brand_fails_with_the_suggestion(plan, unit, tmp_path):
    rows = [
        ["活动名称", "联合行动", "品牌活动", "开始时间", "结束时间", "省份", "城市", "区县"],
        [
            "杭州科技馆科学之夜",
            "现代科技馆体系联合行动",
            "",
            "2025-09-20 19:00",
            "2025-09-20 21:00",
            "浙江省",
            "杭州市",
            "西湖区",
        ],
        [
            "杭州科技馆科普大篷车进校园",
            "现代科技馆体系联合行动",
            "科普大篷车",
            "2025-09-21 09:00",
            "2025-09-21 11:00",
            "浙江省",
            "杭州市",
            "西湖区",
        ],
        [
            "全国科普月杭州主场活动",
            "全国科普月活动",
            "",
            "2025-09-22 09:00",
            "2025-09-22 11:00",
            "浙江省",
            "杭州市",
            "西湖区",
        ],
    ]
    job = run_import(write_csv(tmp_path / "a.csv", rows), unit)
    assert EXPECTED in reasons(job, 2)
    assert job.created_count == 2
    assert set(Activity.objects.values_list("title", flat=True)) == {
        "杭州科技馆科普大篷车进校园",
        "全国科普月杭州主场活动",
    }


def test_suggestion_endpoint_for_the_forms_script(staff_client, action):
    museums = action("science-museums")
    response = staff_client.get(
        "/org/activities/brand-suggestion.json", {"joint_action": museums.pk, "title": "凉山州大篷车进校园"}
    )
    assert response.json()["suggestion"]["brand"] == "科普大篷车"
    assert response.json()["suggestion"]["reason"] == "标题含『大篷车』"
    for bad in (
        {"joint_action": "x"},
        {"joint_action": "99999999999"},
        {"joint_action": museums.pk, "title": "\x00"},
    ):
        assert staff_client.get("/org/activities/brand-suggestion.json", bad).json() == {"suggestion": None}
