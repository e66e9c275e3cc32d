"""Review 审核, return 退回, recommendation 推荐 and featuring 重点呈现 of activities (plan 八(二)).

The chain: a unit submits an activity; a platform administrator (平台管理员) whose scope covers the
unit approves it (published) or returns it with a reason; published activities of a joint action are
recommended by the administrators of a scope, within that scope's quota per joint action, until the
campaign's recommendation deadline (8月20日前, plan 八(二); CAST may reopen); the joint action's managing
unit features recommended ones (重点呈现), which then lead the portal's home and zone pages.

Every function checks the actor's permission (``kepuyue.roles.rules``) and raises
``PermissionDenied`` (Chinese message) when it is missing, so views, bulk actions and any API share
one gate; moves are written to the audit log in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext as _

from kepuyue.activities import rules as activity_rules
from kepuyue.activities import services as activities
from kepuyue.activities.models import Activity, Status
from kepuyue.activities.signals import activity_keys
from kepuyue.audit import services as audit
from kepuyue.campaigns.models import Campaign, Deadline, JointAction
from kepuyue.common import clock
from kepuyue.common.events import send_after_commit
from kepuyue.common.text import clean_text
from kepuyue.roles import services as roles
from kepuyue.roles.models import RoleGrant
from kepuyue.roles.rules import check

from . import signals
from .models import QuotaUse, Recommendation


class RecommendationClosed(ValidationError):
    """Recommending after the deadline (and no CAST reopening), with the deadline in the message."""


class QuotaExhausted(ValidationError):
    """The scope has used its whole quota for this joint action."""


def _require(actor, perm: str, activity: Activity, message: str) -> None:
    if not check(actor, perm, activity):
        raise PermissionDenied(message)


# --- review ---------------------------------------------------------------------------------------


def return_reasons(campaign: Campaign) -> list[str]:
    """The predefined return reasons of the campaign (YAML ``review.return_reasons``)."""
    return list((campaign.review or {}).get("return_reasons", []))


def approve(activity: Activity, *, actor) -> Activity:
    """审核通过并发布: publish a submitted activity in the actor's review scope.

    Raises ``PermissionDenied`` outside the scope or when the activity is not submitted;
    ``TransitionNotAllowed`` when someone else acted first.
    """
    _require(actor, "activities.review_activity", activity, _("无权审核该活动"))
    return activities.transition(activity, Status.PUBLISHED, actor=actor)


def return_activity(activity: Activity, *, actor, reasons: list[str] = (), note: str = "") -> Activity:
    """退回修改 with the picked predefined ``reasons`` and/or free text ``note`` (at least one).

    The reason reaches the unit on its activity page and in its inbox. Raises ``PermissionDenied``
    outside the scope; ``TransitionNotAllowed`` without any reason.
    """
    _require(actor, "activities.review_activity", activity, _("无权审核该活动"))
    parts = [r.strip() for r in reasons if r and r.strip()]
    if note and note.strip():
        parts.append(note.strip())
    return activities.transition(activity, Status.RETURNED, actor=actor, reason="；".join(parts))


@dataclass(frozen=True)
class BulkResult:
    """What a bulk approval did: ``done`` activities published, ``failed`` (activity id, Chinese reason)."""

    done: list[Activity]
    failed: list[tuple[int, str]]


def bulk_approve(activity_ids: list[int], *, actor) -> BulkResult:
    """Approve many submitted activities; each is checked on its own (scope, status, rules), one
    failure does not stop the others. Ids outside the actor's visibility are reported as not found."""
    visible = {a.pk: a for a in activity_rules.visible_activities(actor).filter(pk__in=activity_ids)}
    done, failed = [], []
    for pk in activity_ids:
        activity = visible.get(pk)
        if activity is None:
            failed.append((pk, _("未找到该活动")))
            continue
        try:
            done.append(approve(activity, actor=actor))
        except (PermissionDenied, ValidationError) as exc:
            failed.append((pk, "；".join(getattr(exc, "messages", [str(exc)]))))
    return BulkResult(done, failed)


def review_queue(
    actor,
    campaign: Campaign,
    *,
    joint_action: str = "",
    brand="",
    region="",
    organizer=None,
    waiting_days: int | None = None,
) -> QuerySet[Activity]:
    """The actor's review queue (submitted, in scope, oldest first) for ``campaign``, narrowed by a
    joint action slug, a brand (a ``Brand`` or its slug), a region of the unit (a ``Region`` or its
    6-digit code; a province or prefecture covers what lies inside), a unit (an ``Organization``) and
    a minimum of whole days waiting. The desk passes objects it found by *name*
    (``kepuyue.roles.suggest.resolve``); slugs and codes still work for old links. Empty for an
    account without scope."""
    rows = activity_rules.review_queue(actor).filter(campaign=campaign)
    if joint_action:
        rows = rows.filter(joint_action__slug=joint_action)
    if brand:
        rows = rows.filter(brand__slug=brand) if isinstance(brand, str) else rows.filter(brand=brand)
    code = region if isinstance(region, str) else getattr(region, "code", "")
    if code.isascii() and code.isdigit() and len(code) == 6:
        prefix = code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code
        rows = rows.filter(organizer__region__code__startswith=prefix)
    if organizer is not None:
        rows = rows.filter(organizer=organizer)
    if waiting_days is not None:
        rows = rows.filter(submitted_at__lt=clock.now() - timedelta(days=waiting_days))
    return rows


def recommendable(
    actor, campaign: Campaign, *, joint_action: str = "", recommended_only: bool = False
) -> QuerySet[Activity]:
    """Published activities of a joint action in the actor's review scope (what may be recommended),
    optionally of one joint action (slug) or only those already recommended. Unordered."""
    scope = roles.scope_q(actor, "organizer__")
    if scope is None:
        return Activity.objects.none()
    rows = Activity.objects.filter(
        scope, campaign=campaign, status=Status.PUBLISHED, joint_action__isnull=False
    )
    if joint_action:
        rows = rows.filter(joint_action__slug=joint_action)
    if recommended_only:
        rows = rows.filter(recommended_at__isnull=False)
    return rows


def waiting_days(activity: Activity, at: datetime | None = None) -> int:
    """Whole days a submitted activity has waited since ``submitted_at`` (0 on the same day)."""
    if activity.submitted_at is None:
        return 0
    return max(0, ((at or clock.now()) - activity.submitted_at).days)


# --- recommendation -------------------------------------------------------------------------------


def scope_key(grant: RoleGrant) -> str:
    """The quota key of a platform-administrator grant: ``region:<code>`` or ``org:<id>``."""
    return f"org:{grant.organization_id}" if grant.organization_id else f"region:{grant.region_id}"


def scope_kind(grant: RoleGrant) -> str:
    """``national_society``, ``province`` or ``prefecture`` (the key of the YAML quotas)."""
    if grant.organization_id:
        return "national_society"
    return "province" if grant.region.level == 1 else "prefecture"


def scope_label(grant: RoleGrant) -> str:
    """The scope in words, e.g. ``广东省`` or ``中国化学会``."""
    return str(grant.organization) if grant.organization_id else grant.region.full_name


def quota(campaign: Campaign, joint_action: JointAction, kind: str) -> int:
    """Recommendations a scope of ``kind`` may make for ``joint_action`` (YAML ``review.quotas``,
    overridden per joint action by ``review.joint_action_quotas``)."""
    rules = campaign.review or {}
    override = rules.get("joint_action_quotas", {}).get(joint_action.slug)
    if override is not None and kind in override:
        return int(override[kind])
    return int(rules.get("quotas", {}).get(kind, 0))


def recommendation_deadline(campaign: Campaign) -> datetime | None:
    """The instant after which recommendations close (the YAML's ``review.recommendations_due``)."""
    slug = (campaign.review or {}).get("recommendations_due")
    if not slug:
        return None
    deadline = Deadline.objects.filter(campaign=campaign, slug=slug).first()
    return deadline.at if deadline is not None else None


def recommendations_open(campaign: Campaign, at: datetime | None = None) -> bool:
    """Whether recommendations are taken at ``at``: up to the deadline, or within a CAST reopening."""
    at = at or clock.now()
    due = recommendation_deadline(campaign)
    # Read afresh: CAST may have reopened since this instance was loaded.
    reopened = (
        Campaign.objects.filter(pk=campaign.pk)
        .values_list("recommendations_reopened_until", flat=True)
        .first()
    )
    return (due is None or at <= due) or (reopened is not None and at <= reopened)


def _covering_grant(actor, activity: Activity) -> RoleGrant | None:
    """The actor's most specific administrator grant covering the activity's unit (society, then
    prefecture, then province)."""
    from kepuyue.orgs.models import Organization

    order = {"national_society": 0, "prefecture": 1, "province": 2}
    for grant in sorted(roles.admin_grants(actor), key=lambda g: order[scope_kind(g)]):
        if Organization.objects.filter(roles.grant_q(grant), pk=activity.organizer_id).exists():
            return grant
    return None


# The longest recommendation note (推荐理由), in characters (the column's size).
NOTE_MAX_LENGTH = 500


def recommend(activity: Activity, *, actor, note: str = "") -> Recommendation:
    """推荐: recommend a published activity of a joint action in the actor's scope.

    Uses one place of the scope's quota for the joint action; the counter is raised with a single
    conditional UPDATE in the same transaction as the new row, so concurrent recommendations never
    exceed the quota and none is lost. Raises ``PermissionDenied`` (not in scope, not published, no
    joint action), ``RecommendationClosed`` (after the deadline, unless CAST reopened),
    ``QuotaExhausted`` (no place left), ``ValidationError`` (already recommended, or a ``note`` over
    :data:`NOTE_MAX_LENGTH` characters).
    """
    note = clean_text(note, multiline=True, max_length=NOTE_MAX_LENGTH, label=_("推荐理由"))
    _require(
        actor,
        "activities.recommend_activity",
        activity,
        _("无权推荐该活动（须为管辖范围内已发布的联合行动活动）"),
    )
    campaign = activity.campaign
    if not recommendations_open(campaign):
        due = recommendation_deadline(campaign)
        raise RecommendationClosed(
            _("推荐已于%(due)s截止（方案 八(二)：8月20日前推荐）；如需补充推荐，请联系中国科协重新开放")
            % {"due": due.astimezone(clock.BEIJING).strftime("%Y年%m月%d日 %H:%M") if due else ""}
        )
    grant = _covering_grant(actor, activity)
    if grant is None:
        raise PermissionDenied(_("该活动不在您的管辖范围内"))
    key, limit = scope_key(grant), quota(campaign, activity.joint_action, scope_kind(grant))
    try:
        with transaction.atomic():
            QuotaUse.objects.get_or_create(joint_action=activity.joint_action, scope=key)
            if not QuotaUse.objects.filter(
                joint_action=activity.joint_action, scope=key, used__lt=limit
            ).update(used=F("used") + 1):
                raise QuotaExhausted(
                    _("%(scope)s在“%(ja)s”的推荐名额（%(limit)s个）已用完")
                    % {"scope": scope_label(grant), "ja": activity.joint_action.name, "limit": limit}
                )
            recommendation = Recommendation.objects.create(
                activity=activity,
                joint_action=activity.joint_action,
                scope=key,
                recommended_by=actor,
                note=note,
            )
            now = clock.now()
            Activity.objects.filter(pk=activity.pk).update(recommended_at=now)
            activity.recommended_at = now
            audit.record(
                "activity.recommend",
                actor=actor,
                obj=activity,
                data={"scope": key, "joint_action": activity.joint_action.slug, "note": note},
            )
            send_after_commit(
                signals.activity_recommended,
                Activity,
                **activity_keys(activity),
                actor=actor,
                scope=key,
                note=note,
            )
    except IntegrityError as exc:
        raise ValidationError(_("活动“%(title)s”已被推荐") % {"title": activity.title}) from exc
    return recommendation


def withdraw_recommendation(activity: Activity, *, actor) -> None:
    """撤销推荐 before the deadline (frees the quota place). Only administrators of the scope that
    recommended it; not once it is featured. Raises ``PermissionDenied`` / ``ValidationError``."""
    recommendation = Recommendation.objects.filter(activity=activity).first()
    if recommendation is None:
        raise ValidationError(_("该活动未被推荐"))
    keys = {scope_key(g) for g in roles.admin_grants(actor)}
    if recommendation.scope not in keys:
        raise PermissionDenied(_("只能撤销本管辖范围的推荐"))
    if recommendation.featured_at is not None:
        raise ValidationError(_("活动已被重点呈现，不能撤销推荐"))
    if not recommendations_open(activity.campaign):
        raise RecommendationClosed(_("推荐已截止，不能撤销"))
    with transaction.atomic():
        recommendation.delete()
        QuotaUse.objects.filter(
            joint_action=activity.joint_action, scope=recommendation.scope, used__gt=0
        ).update(used=F("used") - 1)
        Activity.objects.filter(pk=activity.pk).update(recommended_at=None)
        activity.recommended_at = None
        audit.record("activity.unrecommend", actor=actor, obj=activity, data={"scope": recommendation.scope})
        send_after_commit(
            signals.activity_unrecommended,
            Activity,
            **activity_keys(activity),
            actor=actor,
            scope=recommendation.scope,
            why="withdrawn_by_admin",
        )


def release_recommendation(activity: Activity, *, actor=None) -> None:
    """Give back the recommendation of an activity that leaves the public pages (withdrawn by its
    unit): delete it, free the scope's quota place, clear ``recommended_at``/``featured_at``. Audited
    (``activity.unrecommend``). Called inside the withdrawing transaction (by the receiver of
    ``activity_moving``, :mod:`kepuyue.review.receivers`); no permission check (the unit's right to
    withdraw was checked). Sends ``activity_unrecommended`` (and ``activity_unfeatured`` if it was
    featured) once committed."""
    recommendation = Recommendation.objects.filter(activity=activity).first()
    if recommendation is None:
        return
    was_featured = activity.featured_at is not None or recommendation.featured_at is not None
    recommendation.delete()
    QuotaUse.objects.filter(
        joint_action=activity.joint_action_id, scope=recommendation.scope, used__gt=0
    ).update(used=F("used") - 1)
    Activity.objects.filter(pk=activity.pk).update(recommended_at=None, featured_at=None)
    activity.recommended_at = activity.featured_at = None
    audit.record(
        "activity.unrecommend",
        actor=actor,
        obj=activity,
        data={"scope": recommendation.scope, "why": "withdrawn"},
    )
    keys = activity_keys(activity)
    send_after_commit(
        signals.activity_unrecommended,
        Activity,
        **keys,
        actor=actor,
        scope=recommendation.scope,
        why="activity_withdrawn",
    )
    if was_featured:
        send_after_commit(
            signals.activity_unfeatured, Activity, **keys, actor=actor, why="activity_withdrawn"
        )


@dataclass(frozen=True)
class QuotaRow:
    """One line of the quota table: a scope's quota for a joint action, used and left."""

    joint_action: JointAction
    scope: str
    label: str
    quota: int
    used: int

    @property
    def left(self) -> int:
        return max(0, self.quota - self.used)


def quota_table(actor, campaign: Campaign) -> list[QuotaRow]:
    """Quota used / left per joint action for each of the actor's administrator scopes."""
    grants = roles.admin_grants(actor)
    if not grants:
        return []
    joint_actions = list(campaign.joint_actions.order_by("number"))
    used = {
        (q.joint_action_id, q.scope): q.used
        for q in QuotaUse.objects.filter(
            joint_action__in=joint_actions, scope__in=[scope_key(g) for g in grants]
        )
    }
    return [
        QuotaRow(
            ja,
            scope_key(g),
            scope_label(g),
            quota(campaign, ja, scope_kind(g)),
            used.get((ja.pk, scope_key(g)), 0),
        )
        for g in grants
        for ja in joint_actions
    ]


def reopen_recommendations(campaign: Campaign, *, actor, until: datetime) -> Campaign:
    """CAST reopens recommendations until ``until`` (aware datetime). Raises ``PermissionDenied``
    for anyone but a CAST administrator, ``ValidationError`` for a time in the past."""
    if not check(actor, "roles.reopen_recommendations"):
        raise PermissionDenied(_("只有中国科协管理员可以重新开放推荐"))
    if until <= clock.now():
        raise ValidationError(_("重新开放的截止时间须晚于现在"))
    Campaign.objects.filter(pk=campaign.pk).update(recommendations_reopened_until=until)
    campaign.recommendations_reopened_until = until
    audit.record(
        "campaign.reopen_recommendations", actor=actor, obj=campaign, data={"until": until.isoformat()}
    )
    return campaign


# --- featuring ------------------------------------------------------------------------------------


def feature(activity: Activity, *, actor) -> Activity:
    """重点呈现: the joint action's managing unit (or CAST) features a recommended activity; it then
    leads the portal home and its zone. Raises ``PermissionDenied`` otherwise."""
    _require(
        actor, "activities.feature_activity", activity, _("无权重点呈现该活动（须为本联合行动已推荐的活动）")
    )
    now = clock.now()
    with transaction.atomic():
        Recommendation.objects.filter(activity=activity).update(featured_at=now, featured_by=actor)
        Activity.objects.filter(pk=activity.pk).update(featured_at=now)
        activity.featured_at = now
        audit.record("activity.feature", actor=actor, obj=activity)
        send_after_commit(signals.activity_featured, Activity, **activity_keys(activity), actor=actor)
    return activity


def unfeature(activity: Activity, *, actor) -> Activity:
    """取消重点呈现 (same permission as :func:`feature`)."""
    _require(actor, "activities.feature_activity", activity, _("无权取消重点呈现"))
    with transaction.atomic():
        Recommendation.objects.filter(activity=activity).update(featured_at=None, featured_by=None)
        Activity.objects.filter(pk=activity.pk).update(featured_at=None)
        activity.featured_at = None
        audit.record("activity.unfeature", actor=actor, obj=activity)
        send_after_commit(
            signals.activity_unfeatured, Activity, **activity_keys(activity), actor=actor, why="unfeatured"
        )
    return activity


def featured_activities(campaign: Campaign, joint_action: JointAction | None = None) -> QuerySet[Activity]:
    """Published, featured activities of ``campaign`` (of one joint action if given), newest
    featuring first: what leads the portal home and zones."""
    qs = Activity.objects.filter(campaign=campaign, status=Status.PUBLISHED, featured_at__isnull=False)
    if joint_action is not None:
        qs = qs.filter(joint_action=joint_action)
    return qs.select_related("organizer", "joint_action", "brand", "region").order_by("-featured_at", "-id")


def recommended_for(actor, campaign: Campaign) -> QuerySet[Activity]:
    """Recommended activities of the joint actions the actor manages (all for CAST), for featuring."""
    qs = Activity.objects.filter(campaign=campaign, status=Status.PUBLISHED, recommended_at__isnull=False)
    if not roles.is_cast_admin(actor):
        qs = qs.filter(joint_action_id__in=roles.managed_joint_action_ids(actor))
    return qs.select_related("organizer", "joint_action", "brand", "recommendation").order_by(
        "joint_action__number", "-recommended_at"
    )


# --- reminders ------------------------------------------------------------------------------------


def overdue_queues(campaign: Campaign, at: datetime | None = None) -> list[tuple[RoleGrant, int]]:
    """Platform-administrator grants whose queue holds submitted activities of ``campaign`` waiting
    more than ``review.reminder_days`` days, with how many: who gets a reminder."""
    at = at or clock.now()
    days = int((campaign.review or {}).get("reminder_days", 3))
    old = Q(campaign=campaign, status=Status.SUBMITTED, submitted_at__lt=at - timedelta(days=days))
    result = []
    for grant in RoleGrant.objects.filter(role="platform_admin").select_related(
        "user", "region", "organization"
    ):
        count = Activity.objects.filter(old, roles.grant_q(grant, "organizer__")).aggregate(n=Count("id"))[
            "n"
        ]
        if count:
            result.append((grant, count))
    return result
