"""The public tour pages in English (fresh tester): dates in the active language ("9月15日—9月20日"
read as Chinese), the special areas a tour reaches and the six “进” venue types translated."""

import pytest
from django.urls import reverse

from kepuyue.activities.models import SpecialArea
from kepuyue.tours import services

from .conftest import stop


@pytest.mark.django_db
def test_a_tour_page_in_english_has_no_chinese_words_of_its_own(
    client, plan, operator, operator_user, caravan
):
    tour = services.save_tour(operator, actor=operator_user, campaign=plan, vehicle=caravan, title="巡展甲")
    services.add_stops(
        tour,
        [
            stop("2025-09-15", "330127", "school", special=SpecialArea.REVOLUTIONARY),
            stop("2025-09-20", "330824", "village"),
        ],
        actor=operator_user,
    )
    services.set_published(tour, True, actor=operator_user)
    chinese = client.get(reverse("tours:detail", args=[tour.pk])).content.decode()
    assert "9月15日—9月20日" in chinese and "进学校" in chinese and "革命老区" in chinese

    client.cookies["django_language"] = "en"
    for url in (reverse("tours:detail", args=[tour.pk]), reverse("tours:list")):
        html = client.get(url).content.decode()
        assert "9月15日" not in html and "Sept. 15" in html, url
    html = client.get(reverse("tours:detail", args=[tour.pk])).content.decode()
    main = html.split("<main", 1)[1]
    for chinese_word, english in [
        ("进学校", "Schools"),
        ("进乡村", "Villages"),
        ("革命老区", "Old revolutionary"),
    ]:
        assert english in main and chinese_word not in main, chinese_word
    assert "Special areas reached: Rural areas, Old revolutionary base areas" in main
    assert "Science caravan 浙江科普大篷车1号" in main  # the kind in English, the vehicle's name as entered
