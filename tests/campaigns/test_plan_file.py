"""The 2025 plan file holds the whole plan: every item below is hand-copied from the plan text
(系列联合行动工作方案) and must be in the database after loading ``campaigns/kepuyue-2025.yaml``.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from kepuyue.campaigns.models import Brand, Call, Contact, Deadline, JointAction, KeyTask, Target
from kepuyue.orgs.models import OrganizationType

BJ = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db

JOINT_ACTIONS = [
    "全国学会联合行动",
    "高校科协联合行动",
    "企业科协联合行动",
    "科普教育基地联合行动",
    "现代科技馆体系联合行动",
    "全国农技协联合行动",
    "科普阅读进万家行动",
]

# Brand activities per joint action number, in the plan's order.
BRANDS = {
    1: ["科普报告话前沿", "科普报告进基层"],
    2: ["共探高校星火馆", "千名青年共探星火馆", "百场科学大师剧进校园"],
    3: ["主题科普活动", "万企场馆探未来", "科普讲座话前沿", "科普产品创作营"],
    4: ["千家基地展创新", "科普CityWalk", "探寻科学宝藏"],
    5: [
        "流动科普创新资源",
        "流动科普百县千车万里行",
        "科普大篷车",
        "流动科技馆",
        "科学一千零一夜",
        "中国科技馆“科学之夜”主场活动",
        "各地科技馆“科学之夜”专场活动",
        "自然馆、文博类博物馆“科学之夜”特色活动",
        "光影科学梦",
    ],
    6: ["科普法·我知道·比比看", "中国农技协乡村振兴大讲堂", "我与农技协30周年征文"],
    7: [
        "阅见科普，智启九州",
        "“阅见科普，智启九州”科普阅读品牌系列交流活动",
        "“阅见科普”科普书单",
        "“阅见科普”品牌互动体验区",
    ],
}

KEY_TASKS = {
    1: ["科普报告话前沿", "科普报告进基层"],
    2: ["共探高校星火馆", "百场科学大师剧进校园"],
    3: ["主题科普活动", "万企场馆探未来", "科普讲座话前沿", "科普产品创作营"],
    4: ["千家基地展创新", "科普CityWalk路线征集发布", "“探寻科学宝藏”短视频创作"],
    5: [
        "发布流动科普创新资源",
        "流动科技馆、科普大篷车进基层巡展",
        "科学一千零一夜",
        "“光影科学梦”科学电影全国科普场馆巡映特别活动",
    ],
    6: [
        "深入宣传贯彻新修订的《中华人民共和国科学技术普及法》",
        "深耕科技前沿，激活创新潜能",
        "深化科普助农实践，畅通资源下沉渠道",
        "开展“我与农技协 30 周年”征文活动",
    ],
    7: ["“阅见科普，智启九州”科普阅读品牌系列交流活动", "“阅见科普，智启九州”科普书单发布"],
}

# (date, kind, title, joint action number or None for campaign-wide)
DEADLINES = [
    (
        date(2025, 8, 1),
        "due",
        "有意承办“阅见科普，智启九州”交流活动的单位与中国科普作家协会沟通、提交工作方案",
        7,
    ),
    (date(2025, 8, 10), "opens", "全国科普月平台、“科普中国”网站开放发布重点活动信息、获取宣传资源", None),
    (date(2025, 8, 10), "opens", "全国科普月平台上线推荐重点活动的操作指南", None),
    (
        date(2025, 8, 10),
        "opens",
        "科普教育基地联合行动专区开放：发布“千家基地展创新”活动信息、提交科普CityWalk路线图片、上传“探寻科学宝藏”短视频",
        4,
    ),
    (date(2025, 8, 20), "due", "全国学会、省级科协平台管理员通过全国科普月平台推荐各联合行动重点活动", None),
]

# (joint action number, unit, topic, person, phone, email)
CONTACTS = [
    (1, "中国科协科普部", "", "包晗", "010-68571988", "kpbzhc@cast.org.cn"),
    (2, "中国科协青少年科技中心（科普活动中心）", "“共探高校星火馆”活动", "乔英琪", "010-68512735", ""),
    (2, "中国科协青少年科技中心（科普活动中心）", "“百场科学大师剧进校园”活动", "任伟宏", "010-68516715", ""),
    (3, "中国科协企业创新服务中心", "", "王增增", "010-62174275", "qykx@cast.org.cn"),
    (4, "中国科协青少年科技中心（科普活动中心）", "", "刘天扬", "010-68512519", "kpjd@cast.org.cn"),
    (4, "中国科协科普部", "", "张璇", "010-68578243", ""),
    (5, "中国科学技术馆", "", "张志坚", "010-59041059、59041317", "kjglhxd@cstm.org.cn"),
    (5, "中国科学技术馆", "", "杜心宁", "010-59041059、59041317", "kjglhxd@cstm.org.cn"),
    (6, "中国科协农村专业技术服务中心", "", "刘硕", "010-65001928", "zgnjx@cast.org.cn"),
    (6, "中国科协农村专业技术服务中心", "", "张庭兰", "010-65001928", "zgnjx@cast.org.cn"),
    (7, "中国科普作家协会", "", "周亚楠", "010-62102021", ""),
    (7, "中国科普研究所", "", "沈丹", "010-62195493", "shendanddd@163.com"),
]

# (brand, label, value, value_max, unit, approx, plan_text)
TARGETS = [
    ("千名青年共探星火馆", 1000, None, "名", False, "千名青年"),
    ("百场科学大师剧进校园", 100, None, "场", False, "百场"),
    ("万企场馆探未来", 10000, None, "家", False, "万企"),
    ("千家基地展创新", 1000, None, "家", False, "千家"),
    ("流动科普创新资源", 3, None, "套", False, "3套"),
    ("流动科普百县千车万里行", 100, None, "县", False, "百县"),
    ("流动科普百县千车万里行", 1000, None, "车", False, "千车"),
    ("流动科普百县千车万里行", 10000, None, "公里", False, "万里行"),
    ("科普大篷车", 1000, None, "辆", True, "1000余辆"),
    ("光影科学梦", 7, None, "部", False, "7部"),
    ("光影科学梦", 39, None, "部", False, "39部"),
    ("光影科学梦", 22, None, "部", False, "22部"),
    ("光影科学梦", 10, None, "部", False, "10 部"),
    ("“阅见科普，智启九州”科普阅读品牌系列交流活动", 10, 15, "个", False, "10~15 个"),
]

MOBILE_THEMES = [
    "魔术中的科学",
    "非遗科韵",
    "测量与尺度",
    "国防科技",
    "农业科技",
    "应急心理",
    "实用机械",
    "神奇发明",
    "趣味力学",
    "玩具中的科学",
    "昆虫中的科学",
    "探知脑趣",
    "航空航天科学",
]


def test_campaign_has_the_plan_identity(campaign_2025):
    c = campaign_2025
    assert (c.slug, c.year, c.name, c.subtitle) == (
        "kepuyue-2025",
        2025,
        "2025年全国科普月",
        "首个全国科普月",
    )
    assert c.theme == "提升全民科学素质 夯实科技强国基础"
    assert (c.starts, c.ends) == (date(2025, 9, 1), date(2025, 9, 30))
    assert c.platform_url == "https://www.kepuyue.com"
    assert c.platforms == [
        {"name": "全国科普月平台", "url": "https://www.kepuyue.com"},
        {"name": "科普中国", "url": "https://www.kepuchina.cn"},
    ]
    assert c.plan_title == "系列联合行动工作方案"
    assert c.summary.startswith("按照首个全国科普月有关安排")
    assert c.summary.endswith("合力提升科协组织动员力、服务力和影响力。")
    assert len(c.source_sha256) == 64


def test_campaign_general_requirements_are_section_eight(campaign_2025):
    reqs = campaign_2025.general_requirements
    assert [(r["title"], r["plan_ref"]) for r in reqs] == [("广泛动员", "八(一)"), ("宣传联动", "八(二)")]
    assert "发布活动时请突出标记活动品牌" in reqs[0]["text"]
    assert "获取宣传资源" in reqs[0]["text"]
    assert "推荐各联合行动重点活动" in reqs[1]["text"]
    assert "查阅操作指南" in reqs[1]["text"]


def test_organization_types_use_the_importer_codes(campaign_2025):
    assert dict(OrganizationType.objects.values_list("code", "name")) == {
        "national_society": "全国学会",
        "science_association": "科协",
        "university": "高等学校",
        "enterprise": "园区与企业",
        "science_education_base": "科普教育基地",
        "science_museum": "科技馆",
        "museum_society_member": "中国自然科学博物馆学会单位会员",
        "film_alliance_member": "全国科幻科普电影放映联盟成员单位",
        "rural_association": "农技协",
        "science_backyard": "科技小院",
        "publisher": "出版机构",
        "library": "图书馆",
        "bookstore": "书店",
        "community_culture_center": "社区文化中心",
        "other": "其他",
    }


def test_joint_actions_are_all_seven_in_order(campaign_2025):
    rows = list(campaign_2025.joint_actions.order_by("number"))
    assert [(ja.number, ja.name) for ja in rows] == list(enumerate(JOINT_ACTIONS, start=1))
    assert all(ja.slug.isascii() and ja.name_en for ja in rows)


def test_joint_actions_have_participants_and_types(campaign_2025):
    types = {
        ja.number: sorted(t.code for t in ja.participant_types.all())
        for ja in campaign_2025.joint_actions.prefetch_related("participant_types")
    }
    assert types == {
        1: ["national_society"],
        2: ["university"],
        3: ["enterprise"],
        4: ["science_education_base"],
        5: ["film_alliance_member", "museum_society_member", "science_museum"],
        6: ["rural_association", "science_backyard"],
        7: ["bookstore", "community_culture_center", "library", "publisher"],
    }
    participants = dict(campaign_2025.joint_actions.values_list("number", "participants"))
    assert participants[1] == "中国科协所属各全国学会、协会、研究会"
    assert (
        participants[5]
        == "现代科技馆体系相关单位、中国自然科学博物馆学会单位会员、全国科幻科普电影放映联盟成员单位"
    )


def test_joint_action_windows_follow_the_plan(campaign_2025):
    windows = {
        ja.number: (ja.window_start, ja.window_end, ja.window_label)
        for ja in campaign_2025.joint_actions.all()
    }
    month = (date(2025, 9, 1), date(2025, 9, 30), "")
    assert windows[1] == windows[2] == windows[3] == windows[4] == month
    assert windows[5] == (date(2025, 7, 1), date(2025, 10, 31), "2025年7—10月")
    assert windows[6][:2] == (date(2025, 9, 15), date(2025, 9, 25))
    assert windows[7] == (date(2025, 9, 1), date(2025, 9, 30), "2025年9月1—30日")


def test_joint_action_themes_and_managing_units(campaign_2025):
    by_number = {ja.number: ja for ja in campaign_2025.joint_actions.all()}
    assert by_number[6].theme == "提升全民科学素质，夯实科技强国基础——农业科技助力乡村振兴"
    assert by_number[7].theme == "阅见科普，智启九州"
    assert by_number[5].managing_unit == "中国科学技术馆"
    assert by_number[3].managing_unit == "中国科协企业创新服务中心"


def test_key_tasks_are_all_loaded_with_full_text(campaign_2025):
    loaded = {}
    for task in KeyTask.objects.select_related("joint_action").order_by("joint_action__number", "number"):
        loaded.setdefault(task.joint_action.number, []).append(task.name)
    assert loaded == KEY_TASKS
    treasure = KeyTask.objects.get(name="“探寻科学宝藏”短视频创作")
    # Paragraphs the printed plan split over a page break are whole again.
    assert "激发好奇心和探求欲" in treasure.description
    assert "时长建议不超过3分钟。" in treasure.description
    films = KeyTask.objects.get(plan_ref="五(三)4")
    assert "红色电影展映精选 10 部经典红色电影" in films.description


def test_brand_activities_are_all_loaded(campaign_2025):
    loaded = {}
    for brand in Brand.objects.select_related("joint_action").order_by("joint_action__number", "order"):
        loaded.setdefault(brand.joint_action.number, []).append(brand.name)
    assert loaded == BRANDS


def test_brand_aliases_parents_and_key_tasks(campaign_2025):
    brands = {b.name: b for b in Brand.objects.select_related("parent", "key_task")}
    assert "科学之夜" in brands["科学一千零一夜"].aliases
    assert "高校星火馆" in brands["共探高校星火馆"].aliases
    assert "CityWalk" in brands["科普CityWalk"].aliases
    assert "我与农技协30周年" in brands["我与农技协30周年征文"].aliases
    assert brands["科普大篷车"].parent.name == brands["流动科技馆"].parent.name == "流动科普百县千车万里行"
    assert brands["千名青年共探星火馆"].parent.name == "共探高校星火馆"
    night_children = sorted(b.name for b in brands["科学一千零一夜"].children.all())
    assert night_children == sorted(
        [
            "中国科技馆“科学之夜”主场活动",
            "各地科技馆“科学之夜”专场活动",
            "自然馆、文博类博物馆“科学之夜”特色活动",
        ]
    )
    assert brands["千家基地展创新"].key_task.number == 1
    assert brands["光影科学梦"].key_task.name == "“光影科学梦”科学电影全国科普场馆巡映特别活动"
    assert all(b.slug.isascii() for b in brands.values())


def test_numeric_targets_carry_the_plan_figures(campaign_2025):
    loaded = sorted(
        (t.brand.name, t.value, t.value_max, t.unit, t.approx, t.plan_text)
        for t in Target.objects.select_related("brand").exclude(value=0)
    )
    assert loaded == sorted(TARGETS)
    # A figure the plan counts without a number (value 0): only the 大讲堂's attendance (六(三)3).
    assert list(Target.objects.filter(value=0).values_list("slug", flat=True)) == ["lecture-attendance"]
    assert Target.objects.get(plan_text="1000余辆").display_value == "1000余辆"
    assert Target.objects.get(plan_text="10~15 个").display_value == "10~15个"


def test_mobile_science_themes_are_data(campaign_2025):
    brand = Brand.objects.get(name="流动科普创新资源")
    assert [t["name"] for t in brand.themes] == MOBILE_THEMES


def test_deadlines_are_all_loaded_with_their_instants(campaign_2025):
    loaded = [
        (d.at.astimezone(BJ).date(), d.kind, d.title, d.joint_action.number if d.joint_action else None)
        for d in Deadline.objects.select_related("joint_action").order_by("at", "slug")
    ]
    assert sorted(loaded, key=str) == sorted(DEADLINES, key=str)
    recommend = Deadline.objects.get(slug="recommendations-due")
    assert recommend.at == datetime(2025, 8, 20, 23, 59, 59, 999999, tzinfo=BJ)  # "8月20日前"
    opens = Deadline.objects.get(slug="platform-opens")
    assert opens.at == datetime(2025, 8, 10, 0, 0, tzinfo=BJ)  # "8月10日起"
    assert {d.plan_ref for d in Deadline.objects.all()} == {"七(四)1", "八(一)", "八(二)", "四(二)"}


def test_contacts_are_exactly_as_printed(campaign_2025):
    loaded = [
        (c.joint_action.number, c.unit, c.topic, c.person, c.phone, c.email)
        for c in Contact.objects.select_related("joint_action").order_by("joint_action__number", "order")
    ]
    assert loaded == CONTACTS


def test_calls_carry_their_submission_specs(campaign_2025):
    calls = {
        c.slug: c
        for c in Call.objects.select_related("joint_action", "brand").prefetch_related("eligible_types")
    }
    assert set(calls) == {
        "citywalk-routes",
        "science-treasure-videos",
        "xinghuo-videos",
        "product-camp-works",
        "essay-30-years",
        "reading-work-plans",
        "reading-book-list",
        "innovation-exhibitions",  # 五(三)1, issue 15 (tests/specials/test_exhibitions.py)
    }
    citywalk = calls["citywalk-routes"]
    assert (citywalk.kind, citywalk.joint_action.number, citywalk.brand.name) == (
        "citywalk",
        4,
        "科普CityWalk",
    )
    assert citywalk.spec == {
        "formats": ["jpg", "png", "webp"],  # WebP stored as JPEG (issue 11 point 3)
        "includes_own_venue": True,
        "min_other_venues": 2,
        "max_images": 6,
        "max_image_bytes": 20 * 1024 * 1024,
        "max_image_pixels": 40_000_000,
    }
    assert citywalk.publication == "中国科协择优发布"
    assert citywalk.opens_at == datetime(2025, 8, 10, tzinfo=BJ)
    assert citywalk.closes_at is None
    assert [t.code for t in citywalk.eligible_types.all()] == ["science_education_base"]

    video = calls["science-treasure-videos"]
    assert video.spec == {
        "container": "mp4",
        "min_width": 1920,
        "min_height": 1080,
        "max_seconds_advised": 180,
        "max_bytes": 2 * 1024**3,
    }
    assert "max_seconds" not in video.spec  # 3 minutes is advised, not required
    assert [t["name"] for t in video.themes] == ["基地探馆", "标志性展品", "特色科普活动"]
    assert video.themes[1]["description"].startswith("通过短视频向公众讲述标志性展品的科学原理")
    assert video.opens_at == datetime(2025, 8, 10, tzinfo=BJ)

    assert (calls["xinghuo-videos"].kind, calls["xinghuo-videos"].joint_action.number) == ("video", 2)
    assert calls["product-camp-works"].kind == "link"
    assert calls["product-camp-works"].spec == {"product_kinds": ["AR/VR 科普产品", "科普短视频"]}
    assert (calls["essay-30-years"].kind, calls["essay-30-years"].brand.name) == (
        "essay",
        "我与农技协30周年征文",
    )
    plans = calls["reading-work-plans"]
    assert plans.kind == "work_plan"
    assert plans.closes_at == datetime(2025, 8, 1, 23, 59, 59, 999999, tzinfo=BJ)
    assert plans.spec == {
        "submit_to": "中国科普作家协会",
        "formats": ["docx", "pdf"],
        "max_bytes": 20 * 1024 * 1024,
    }
    # judging criteria (the platform's weights) sum to 100 on every call
    assert all(sum(c["weight"] for c in call.criteria) == 100 for call in calls.values())
    assert calls["reading-book-list"].kind == "book_list"
    assert calls["reading-book-list"].brand.name == "“阅见科普”科普书单"


def test_plan_refs_cite_sections(campaign_2025):
    assert dict(JointAction.objects.values_list("number", "plan_ref")) == {
        1: "一",
        2: "二",
        3: "三",
        4: "四",
        5: "五",
        6: "六",
        7: "七",
    }
    assert Brand.objects.get(name="科普大篷车").plan_ref == "五(三)2(1)"
    assert not KeyTask.objects.filter(plan_ref="").exists()
