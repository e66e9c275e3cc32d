"""A fixed search corpus: real public records (copied from data/activities.csv, organizer and
venue as the source gave them) plus a few made-up rows for cases the real ones lack (人工智能,
航天, full-width text, text that looks like query syntax). Keys name the rows in assertions, since
ids differ between databases.
"""

# key: (title, summary, organizer, venue, county code)
CORPUS = {
    # --- real records (data/activities.csv) ---
    "luoyang_night": (
        "洛阳市科技馆“科学之夜”（含险境求生临展、光与焰的奇妙之旅实验秀、光影科学梦电影放映、啸破长空舞台剧等6项）",
        "",
        "洛阳市科技馆",
        "洛阳市科技馆",
        "",
    ),
    "cstm_night": (
        "2025年全国科普月北京主场活动·中国科技馆“科学之夜”大型科普活动",
        "",
        "中国科技馆",
        "中国科学技术馆",
        "",
    ),
    "shanxi_night": (
        "山西科技馆“科学奇妙夜”（科普市集、萤火虫观察、观星计划、科学秀等）",
        "",
        "山西省科学技术馆",
        "",
        "",
    ),
    "ustc_xinghuo": (
        "中国科学技术大学工程科学星火馆向六安市汇文学校师生开放及科普报告“上天、入地、下海，科技圆梦”",
        "",
        "中国科学技术大学工程科学实验教学中心",
        "",
        "340104",
    ),
    "fengzhen_caravan": (
        "乌兰察布科技馆科普大篷车走进丰镇市巨宝庄小学（2025全国科普月市县两级大篷车联合行动·流动科普百县千车万里行第二站）",
        "",
        "乌兰察布科技馆",
        "丰镇市巨宝庄小学",
        "150981",
    ),
    "fengxian_main": (
        "丰县2025年“全国科普月”主场活动（15支科技志愿者队伍授旗）",
        "",
        "丰县科协",
        "",
        "320321",
    ),
    "shaanxi_ai_officer": (
        "2025年全国科普月陕西主场活动（发布AI科普官“秦小普”、高校企业科普场馆开放月信息、10条“探秘创新源 共筑未来梦”科普研学路线）",
        "",
        "西北大学",
        "",
        "",
    ),
    "shenyang_robots": (
        "2025全国科普月“传递科学梦想”科普进校园活动——“工业机器人的世界”",
        "",
        "沈阳市科学技术协会",
        "",
        "210105",
    ),
    "dali_caravan": (
        "大理州科协科普大篷车进校园暨消防科普活动（仿生机器狗、科普卡丁车、“救我需要几分钟”火灾逃生体验）",
        "",
        "大理州科协",
        "",
        "532931",
    ),
    "tianjin_night_2023": (
        "2023年天津市全国科普日主场活动“天津科普之夜”（云上科普市集、文艺演出、点亮天塔城市科普灯光秀）",
        "",
        "天津市科协",
        "",
        "120103",
    ),
    "cstm_expo": (
        "中国科技馆“科创筑基·科普惠民”创新成果展（30多个科研团队“首台（套）”科普展品，科学家现场交流）",
        "",
        "中国科学技术馆",
        "",
        "110105",
    ),
    "qiannan_fast": (
        "黔南州全国科普月“天眼课堂”",
        "",
        "黔南州科协",
        "",
        "",
    ),
    # --- made-up rows ---
    "ai_lecture": (
        "人工智能科普讲座：大模型如何改变生活",
        "浙江大学教授讲解人工智能的原理与应用",
        "浙江大学",
        "浙江省杭州市西湖区浙大路38号",
        "330106",
    ),
    "ai_youth": (
        "青少年人工智能编程体验营",
        "面向中小学生的机器人与编程入门",
        "杭州市科技馆",
        "杭州市上城区",
        "330102",
    ),
    "aerospace_expo": (
        "航空航天科普展",
        "火箭、卫星和空间站模型展示",
        "中国航天科技集团有限公司",
        "北京市海淀区",
        "110108",
    ),
    "space_day": (
        "中国航天日主题科普活动",
        "",
        "丰镇市科协",
        "丰镇市科技馆",
        "150981",
    ),
    "fullwidth": (
        "ＡＩ与生活：科普讲堂",
        "全角字符的标题",
        "西湖区科协",
        "",
        "330106",
    ),
    "syntax_like": (
        'C++ AND OR NEAR "科普" - 测试*',
        "title:科普 (括号)",
        "语法测试单位",
        "",
        "",
    ),
}

# Expected matches, written out by hand from the texts above.
EXPECTED = {
    "人工智能": {"ai_lecture", "ai_youth"},
    "航天": {"aerospace_expo", "space_day"},
    "科学之夜": {"luoyang_night", "cstm_night"},
    "丰镇": {"fengzhen_caravan", "space_day"},
    "丰县": {"fengxian_main"},
    "西湖区": {"ai_lecture", "fullwidth"},
    "科普大篷车 校园": {"dali_caravan"},
    "“科学之夜”！！": {"luoyang_night", "cstm_night"},
    "ＡＩ": {"shaanxi_ai_officer", "fullwidth"},
    "Ai": {"shaanxi_ai_officer", "fullwidth"},
    "天眼": {"qiannan_fast"},
    "机器人": {"shenyang_robots", "ai_youth"},
    "科学之夜 北京": {"cstm_night"},
    "航天 丰镇": {"space_day"},
    "不存在的词语组合": set(),
}
