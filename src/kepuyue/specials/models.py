"""The plan's featured programmes (重点特色活动) that have a shape of their own beyond a brand label.

- 五(三)4 “光影科学梦”: the film catalogue (:class:`Film`), screenings as activities linked to films
  (:class:`Screening`) and venues flagged as 长征路沿线 (:class:`LongMarchVenue`).
- 二(二)2 百场科学大师剧进校园: the repertoire (:class:`Play`) and performances as activities
  (:class:`Performance`).
- 二(二)1 千名青年共探星火馆: the volunteer roster kept by universities (:class:`Volunteer`) — minimal
  personal data: a name, the university, a role; masked on public pages.
- 三(二)3 科普讲座话前沿: live and replay links of online lectures (:class:`LectureLinks`); no video
  hosting, only validated ``https`` links.

Screenings, performances and lectures are ordinary activities (the activity owns its time, place,
review and bookings through ``registrations``); the rows here only add what the programme needs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from kepuyue.common.models import TimestampedModel


class FilmCategory(models.TextChoices):
    """The four parts of the film tour (五(三)4): 7 + 39 + 22 science films and 10 red films."""

    SCIENTIST = "scientist", _("科学家精神电影")
    SHORT = "short", _("微电影")
    SCIFI = "scifi", _("科幻科普")
    RED = "red", _("红色电影")


class Film(TimestampedModel):
    """A film of the 光影科学梦 catalogue (影片). Seeded from ``data/films_books.md`` (片名去重清单, the
    titles the sources name — never invented); the catalogue grows from the staff page.

    ``source_category`` keeps the source's own label (e.g. “往届影片 / 红色经典”); ``category`` is the
    tour part it belongs to; ``years`` the years the sources show it (text as given: “2019起”).
    """

    title = models.CharField("片名", max_length=100, unique=True)
    category = models.CharField("类别", max_length=16, choices=FilmCategory.choices)
    source_category = models.CharField("来源类别", max_length=50, blank=True)
    years = models.CharField("出现年度", max_length=50, blank=True)
    description = models.CharField("简介", max_length=500, blank=True)
    seeded = models.BooleanField("来自公开清单", default=False, editable=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="添加人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "影片"
        verbose_name_plural = "影片"
        ordering = ["category", "title"]

    def __str__(self) -> str:
        return self.title


class Screening(models.Model):
    """A film shown at an activity (放映场次): the activity is the screening (time, venue, bookings);
    an activity showing several films has one row per film."""

    activity = models.ForeignKey(
        "activities.Activity", verbose_name="活动", on_delete=models.CASCADE, related_name="screenings"
    )
    film = models.ForeignKey(Film, verbose_name="影片", on_delete=models.PROTECT, related_name="screenings")
    created = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "放映"
        verbose_name_plural = "放映"
        constraints = [
            models.UniqueConstraint(fields=["activity", "film"], name="specials_screening_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.film} @ {self.activity_id}"


class LongMarchVenue(models.Model):
    """A venue (科普场馆) flagged as 长征路沿线 (五(三)4 “会同长征路沿线科普场馆”)."""

    organization = models.OneToOneField(
        "orgs.Organization", verbose_name="场馆", on_delete=models.CASCADE, related_name="long_march"
    )
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "长征路沿线场馆"
        verbose_name_plural = "长征路沿线场馆"

    def __str__(self) -> str:
        return str(self.organization)


class Play(TimestampedModel):
    """A 科学大师剧 of the repertoire (剧目): a stage play about a scientist (二(二)2), kept by the
    university that stages it."""

    university = models.ForeignKey(
        "orgs.Organization", verbose_name="高校", on_delete=models.CASCADE, related_name="plays"
    )
    title = models.CharField("剧目名称", max_length=100)
    scientist = models.CharField("所演科学家", max_length=100)
    troupe = models.CharField("剧团/演出团队", max_length=100, blank=True)
    description = models.CharField("简介", max_length=500, blank=True)

    class Meta:
        verbose_name = "科学大师剧"
        verbose_name_plural = "科学大师剧"
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["university", "title"], name="specials_play_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class Performance(models.Model):
    """A performance (演出场次) of a play: an activity of the university that stages it."""

    activity = models.OneToOneField(
        "activities.Activity", verbose_name="活动", on_delete=models.CASCADE, related_name="performance"
    )
    play = models.ForeignKey(Play, verbose_name="剧目", on_delete=models.PROTECT, related_name="performances")
    created = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "大师剧演出"
        verbose_name_plural = "大师剧演出"

    def __str__(self) -> str:
        return f"{self.play} @ {self.activity_id}"


class VolunteerRole(models.TextChoices):
    """Who the plan calls (二(二)1): 青年教师、大学生科技社团骨干学生、本科生、研究生等科技志愿服务队成员."""

    TEACHER = "teacher", gettext_noop("青年教师")
    CLUB = "club", gettext_noop("科技社团骨干")
    UNDERGRADUATE = "undergraduate", gettext_noop("本科生")
    GRADUATE = "graduate", gettext_noop("研究生")
    OTHER = "other", gettext_noop("其他志愿者")


class Volunteer(TimestampedModel):
    """One young volunteer of 千名青年共探星火馆 (志愿者), kept by the university's own accounts.

    Minimal personal data: the name and a role, nothing else (no phone, no ID number). Public pages
    show only counts and masked names (:func:`kepuyue.specials.services.mask_name`)."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", verbose_name="科普月", on_delete=models.CASCADE, related_name="+"
    )
    university = models.ForeignKey(
        "orgs.Organization", verbose_name="高校", on_delete=models.CASCADE, related_name="volunteers"
    )
    name = models.CharField("姓名", max_length=30)
    role = models.CharField("身份", max_length=16, choices=VolunteerRole.choices)

    class Meta:
        verbose_name = "星火馆青年志愿者"
        verbose_name_plural = "星火馆青年志愿者"
        ordering = ["university", "id"]
        indexes = [models.Index(fields=["campaign", "university"], name="specials_vol_campaign_uni")]

    def __str__(self) -> str:
        return f"{self.university_id}/{self.pk}"  # never the name: admin lists and audit entries show this


class LectureLinks(TimestampedModel):
    """Live and replay links of an online lecture (三(二)3 “通过网络平台等扩大传播效果”): the platform
    hosts no video, it points to the live room and the replay."""

    activity = models.OneToOneField(
        "activities.Activity", verbose_name="活动", on_delete=models.CASCADE, related_name="lecture_links"
    )
    live_url = models.URLField("直播链接", max_length=500, blank=True)
    replay_url = models.URLField("回放链接", max_length=500, blank=True)

    class Meta:
        verbose_name = "线上讲座链接"
        verbose_name_plural = "线上讲座链接"

    def __str__(self) -> str:
        return f"{self.activity_id}"
