"""The review desk (审核台) of platform administrators, featuring for joint-action managers, and the
CAST pages (audit log, reopening recommendations).

Thin views: what an account may see comes from ``kepuyue.activities.rules.visible_activities`` (another
scope's activity is a 404, never data), what it may do from ``kepuyue.roles.rules``, and every change
from ``kepuyue.review.services``. Posted fields other than the ones each form reads are ignored.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kepuyue.activities import export_jobs, exporting
from kepuyue.activities import rules as activity_rules
from kepuyue.activities.models import Activity, Audience, SpecialArea, Status, Topic
from kepuyue.activities.services import labels_of, mask_phone
from kepuyue.activities.views import offer_export_job
from kepuyue.audit import services as audit
from kepuyue.campaigns.models import Campaign
from kepuyue.campaigns.services import current_campaign
from kepuyue.common import clock
from kepuyue.common.paging import BoundedPaginator
from kepuyue.common.ratelimits import limit, over_limit, refuse, user_or_ip
from kepuyue.common.text import date_or_none, ids_from, int_or_none, parse_int
from kepuyue.roles import services as roles
from kepuyue.roles import suggest
from kepuyue.roles.rules import check

from . import services

PAGE_SIZE = 30
QUEUE_FILTERS = ("joint_action", "brand", "region", "unit", "waiting")
# Long texts no list shows: not read for a page of 30 (the description alone may be 20,000 characters).
LIST_DEFERRED = ("description", "description_html", "search_text")


def _require_admin(request):
    if not (roles.admin_grants(request.user) or roles.is_cast_admin(request.user)):
        raise PermissionDenied(_("当前账号不是平台管理员"))


def _campaign(request) -> Campaign:
    slug = request.GET.get("campaign", "")
    campaign = Campaign.objects.filter(slug=slug).first() if slug else current_campaign()
    if campaign is None:
        raise Http404(_("尚未载入科普月方案"))
    return campaign


def _named(request, kind: str, text: str, campaign: Campaign, problems: list[str]):
    """The object a filter's typed name means in the account's scope; a 6-digit code or a slug from an
    old link is passed on as is. Adds a Chinese problem (and returns ``False``: nothing matches) when
    the name is unknown or ambiguous."""
    if not text:
        return None
    if kind == "region" and text.isascii() and text.isdigit() and len(text) == 6:
        return text
    if kind == "brand" and text.isascii() and campaign.joint_actions.filter(brands__slug=text).exists():
        return text
    found = suggest.resolve(kind, request.user, text, campaign=campaign)
    label = {"brand": _("品牌活动"), "region": _("地区"), "organization": _("单位")}[kind]
    if found is None:
        problems.append(_("没有找到%(what)s“%(text)s”（在您的管辖范围内）") % {"what": label, "text": text})
        return False
    if isinstance(found, suggest.Ambiguous):
        problems.append(
            _("%(what)s“%(text)s”有多个匹配，请选择其一：%(names)s")
            % {"what": label, "text": text, "names": "、".join(found.labels)}
        )
        return False
    return found


def _queue(request, campaign: Campaign, problems: list[str] | None = None):
    """The filtered review queue of the signed-in administrator and the filter values given. Brand,
    region and unit are typed names (``kepuyue.roles.suggest``); a name that matches nothing or
    several things gives an empty queue and a problem saying why."""
    problems = [] if problems is None else problems
    params = {name: request.GET.get(name, "").strip()[:100] for name in QUEUE_FILTERS}
    brand = _named(request, "brand", params["brand"], campaign, problems)
    region = _named(request, "region", params["region"], campaign, problems)
    unit = _named(request, "organization", params["unit"], campaign, problems)
    rows = services.review_queue(
        request.user,
        campaign,
        joint_action=params["joint_action"],
        brand=brand or "",
        region=region or "",
        organizer=unit or None,
        waiting_days=int_or_none(params["waiting"], min_value=0, max_value=36500),
    )
    if False in (brand, region, unit):
        rows = rows.none()
    return rows, {k: v for k, v in params.items() if v}


@login_required
def queue(request):
    """审核台: submitted activities in scope, oldest first, with days waiting; filter by joint action,
    brand, region and unit — typed by name, with suggestions — and minimum days waiting; bulk approval."""
    _require_admin(request)
    campaign = _campaign(request)
    problems: list[str] = []
    activities, params = _queue(request, campaign, problems)
    page = BoundedPaginator(
        activities.select_related("organizer", "joint_action", "brand", "region").defer(*LIST_DEFERRED),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    now = clock.now()
    rows = [(a, services.waiting_days(a, now)) for a in page]
    return render(
        request,
        "review/queue.html",
        {
            "campaign": campaign,
            "rows": rows,
            "page": page,
            "params": params,
            "query": urlencode(params),
            "joint_actions": campaign.joint_actions.order_by("number"),
            "quota_rows": services.quota_table(request.user, campaign),
            "recommendations_open": services.recommendations_open(campaign),
            "recommendation_deadline": services.recommendation_deadline(campaign),
            "scopes": [services.scope_label(g) for g in roles.admin_grants(request.user)],
            "problems": problems,
            # Brands are few and public: the page lists them all; regions and units come from
            # the suggestion endpoint as the administrator types.
            "brand_names": list(
                suggest.brands(request.user, campaign)
                .order_by("name")
                .values_list("name", flat=True)
                .distinct()
            ),
        },
    )


@login_required
def suggestions(request, kind: str):
    """``suggest/<kind>.json?q=``: at most 10 names of units, regions (full names), brands or national
    societies in the account's scope that contain ``q`` — for the autocompletion of the desk's filters
    and the account pages. Staff with a scope only; rate-limited per account."""
    if kind not in suggest.KINDS:
        raise Http404
    if not (roles.admin_grants(request.user) or roles.is_cast_admin(request.user)):
        raise PermissionDenied(_("当前账号不是平台管理员"))
    if over_limit(request, "suggest", key=user_or_ip):
        refuse("suggest")
    campaign = current_campaign() if kind == "brand" else None
    names = suggest.suggest(kind, request.user, request.GET.get("q", ""), campaign=campaign)
    response = JsonResponse({"results": names})
    response["Cache-Control"] = "private, max-age=60"
    return response


def _visible(request, pk: int) -> Activity:
    return get_object_or_404(
        activity_rules.visible_activities(request.user).select_related(
            "organizer", "joint_action", "brand", "key_task", "region", "campaign"
        ),
        pk=pk,
    )


@login_required
def detail(request, pk: int):
    """One activity for review: its data, full contact (if allowed), workflow history, and the
    approve / return / recommend / feature forms the account may use. ``next`` keeps the queue filter."""
    activity = _visible(request, pk)
    campaign = activity.campaign
    _queue_rows, params = _queue(request, campaign)
    following = (
        _queue_rows.exclude(pk=activity.pk)
        .filter(
            Q(submitted_at__gt=activity.submitted_at)
            | Q(submitted_at=activity.submitted_at, id__gt=activity.id)
        )
        .first()
        if activity.submitted_at
        else None
    )
    phone_full = check(request.user, "activities.view_phone", activity)
    perms = {
        name: check(request.user, f"activities.{name}_activity", activity)
        for name in ("review", "recommend", "feature")
    }
    from kepuyue.activities.services import window_notes

    return render(
        request,
        "review/detail.html",
        {
            "activity": activity,
            "phone": activity.contact_phone if phone_full else mask_phone(activity.contact_phone),
            "phone_full": phone_full,
            "date_notes": window_notes(
                activity.starts_at, activity.ends_at, activity.joint_action, campaign=activity.campaign
            ),
            "history": audit.history(activity).filter(action__startswith="activity."),
            "description_html": _description_html(activity),
            "audiences": labels_of(activity.audiences, Audience),
            "topics": labels_of(activity.topics, Topic),
            "special_areas": labels_of(activity.special_areas, SpecialArea),
            "perms": perms,
            "reasons": services.return_reasons(campaign),
            "query": urlencode(params),
            "next_activity": following,
            "waiting": services.waiting_days(activity),
            "recommendation": getattr(activity, "recommendation", None) if activity.recommended_at else None,
        },
    )


def _description_html(activity: Activity) -> str:
    """The full description as stored at save time (``Activity.description_html``, cleaned by nh3);
    rendered now, without saving, for a row an import wrote past ``save()``."""
    from kepuyue.common.markup import source_digest

    if not (activity.description or "").strip():
        return ""
    if activity.description_digest != source_digest(activity.description):
        activity.refresh_description_html()
    return activity.description_html


def _after(request, activity: Activity):
    """Back to the queue's next item (same filter) when asked, else to the activity."""
    query = request.POST.get("query", "")
    if request.POST.get("go") == "next":
        request.GET = QueryDict(query)
        following = _queue(request, activity.campaign)[0].first()
        if following is not None:
            return redirect(f"{reverse('review:detail', args=[following.pk])}?{query}")
        return redirect(f"{reverse('review:queue')}?{query}")
    return redirect(f"{reverse('review:detail', args=[activity.pk])}?{query}")


def _act(request, pk: int, action):
    activity = _visible(request, pk)
    try:
        message = action(activity)
        messages.success(request, message)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])) or _("操作失败"))
    return activity


@login_required
@require_POST
def approve(request, pk: int):
    """审核通过 (reads nothing from the post but ``go`` and ``query``)."""
    activity = _act(
        request,
        pk,
        lambda a: (services.approve(a, actor=request.user), _("已通过并发布：%(t)s") % {"t": a.title})[1],
    )
    return _after(request, activity)


@login_required
@require_POST
def return_(request, pk: int):
    """退回修改 with picked ``reasons`` and free ``note``."""
    reasons = request.POST.getlist("reasons")
    note = request.POST.get("note", "")

    def do(activity):
        allowed = set(services.return_reasons(activity.campaign))
        services.return_activity(
            activity, actor=request.user, reasons=[r for r in reasons if r in allowed], note=note
        )
        return _("已退回：%(t)s") % {"t": activity.title}

    activity = _act(request, pk, do)
    return _after(request, activity)


@login_required
@require_POST
def bulk_approve(request):
    """Approve the checked activities of the queue (``ids``)."""
    _require_admin(request)
    ids = ids_from(request.POST.getlist("ids"), limit=PAGE_SIZE * 4)
    result = services.bulk_approve(ids, actor=request.user)
    if result.done:
        messages.success(request, _("已通过 %(n)s 项") % {"n": len(result.done)})
    for pk, reason in result.failed:
        messages.error(request, _("活动 %(pk)s 未通过：%(reason)s") % {"pk": pk, "reason": reason})
    return redirect(f"{reverse('review:queue')}?{request.POST.get('query', '')}")


@login_required
def published(request):
    """已发布 in scope, for recommending: filter by joint action; quota used / left per joint action."""
    _require_admin(request)
    campaign = _campaign(request)
    ja = request.GET.get("joint_action", "")
    activities = services.recommendable(
        request.user, campaign, joint_action=ja, recommended_only=request.GET.get("recommended") == "1"
    )
    page = BoundedPaginator(
        activities.select_related("organizer", "joint_action", "brand")
        .defer(*LIST_DEFERRED)
        .order_by("-published_at", "-id"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "review/published.html",
        {
            "campaign": campaign,
            "page": page,
            "joint_action": ja,
            "joint_actions": campaign.joint_actions.order_by("number"),
            "quota_rows": services.quota_table(request.user, campaign),
            "recommendations_open": services.recommendations_open(campaign),
            "recommendation_deadline": services.recommendation_deadline(campaign),
        },
    )


@login_required
@require_POST
def recommend(request, pk: int):
    """推荐 (reads ``note``)."""
    note = request.POST.get("note", "")
    activity = _act(
        request,
        pk,
        lambda a: (services.recommend(a, actor=request.user, note=note), _("已推荐：%(t)s") % {"t": a.title})[
            1
        ],
    )
    return redirect(
        request.POST.get("back")
        if _safe(request.POST.get("back"))
        else reverse("review:detail", args=[activity.pk])
    )


@login_required
@require_POST
def unrecommend(request, pk: int):
    """撤销推荐."""
    activity = _act(
        request,
        pk,
        lambda a: (
            services.withdraw_recommendation(a, actor=request.user),
            _("已撤销推荐：%(t)s") % {"t": a.title},
        )[1],
    )
    return redirect(reverse("review:detail", args=[activity.pk]))


def _safe(url: str | None) -> bool:
    return bool(url) and url.startswith("/") and not url.startswith("//")


@login_required
def featuring(request):
    """重点呈现: recommended activities of the joint actions the account manages (all for CAST)."""
    if not (roles.managed_joint_action_ids(request.user) or roles.is_cast_admin(request.user)):
        raise PermissionDenied(_("当前账号不是联合行动牵头单位管理员"))
    campaign = _campaign(request)
    page = BoundedPaginator(
        services.recommended_for(request.user, campaign).defer(*LIST_DEFERRED), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(request, "review/featuring.html", {"campaign": campaign, "page": page})


@login_required
@require_POST
def feature(request, pk: int):
    """重点呈现 one recommended activity (``undo=1`` takes it back)."""
    undo = request.POST.get("undo") == "1"

    def do(activity):
        if undo:
            services.unfeature(activity, actor=request.user)
            return _("已取消重点呈现：%(t)s") % {"t": activity.title}
        services.feature(activity, actor=request.user)
        return _("已重点呈现：%(t)s") % {"t": activity.title}

    _act(request, pk, do)
    return redirect("review:featuring")


@login_required
@limit("export", key=user_or_ip)
def export(request, fmt: str):
    """Export of the activities in the account's scope (``.xlsx``/``.csv``; ``?status=``), full phone
    numbers included, so the export is written to the audit log (personal data)."""
    if not check(request.user, "activities.export_activities"):
        raise PermissionDenied(_("无权导出"))
    if fmt not in ("xlsx", "csv"):
        raise Http404
    campaign = _campaign(request)
    activities = activity_rules.visible_activities(request.user).filter(campaign=campaign)
    status = request.GET.get("status", "")
    if status in Status.values:
        activities = activities.filter(status=status)
    name = exporting.export_filename(f"{campaign.name}_管辖范围活动", fmt)
    if export_jobs.too_large_for_request(activities):
        # CAST's whole list is 500,000 rows: a background job, not a request that times out.
        return offer_export_job(
            request,
            fmt,
            name,
            kind=export_jobs.Kind.SCOPE,
            params={"status": status} if status in Status.values else {},
            campaign=campaign,
        )
    audit.record(
        "export.activities",
        actor=request.user,
        data={"format": fmt, "status": status, "campaign": campaign.slug, "rows": activities.count()},
    )
    respond = exporting.xlsx_response if fmt == "xlsx" else exporting.csv_response
    return respond(activities.order_by("starts_at", "id"), name, mask_phones=False)


# --- CAST pages -----------------------------------------------------------------------------------


@login_required
def audit_log(request):
    """审计日志 (CAST only): search by text, action prefix, account and dates; ``?format=csv`` exports."""
    if not check(request.user, "audit.view_auditentry"):
        raise PermissionDenied(_("只有中国科协管理员可以查看审计日志"))
    since = until = None
    for name in ("since", "until"):
        if request.GET.get(name):
            day = date_or_none(request.GET[name])
            if day is None:
                messages.error(request, _("日期格式应为 YYYY-MM-DD（1900—2100 年）"))
            elif name == "since":
                since = clock.start_of_day(day)
            else:
                until = clock.end_of_day(day)
    entries = audit.search(
        q=request.GET.get("q", "").strip(),
        action=request.GET.get("action", "").strip(),
        actor=request.GET.get("actor", "").strip(),
        since=since,
        until=until,
    ).select_related("organization")
    if request.GET.get("format") == "csv":
        if over_limit(request, "export", key=user_or_ip):
            refuse("export")
        audit.record("export.audit", actor=request.user, data={"filters": dict(request.GET.items())})
        return _audit_csv(entries)
    page = BoundedPaginator(entries, 50).get_page(request.GET.get("page"))
    params = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(request, "review/audit.html", {"page": page, "params": params, "query": urlencode(params)})


def _audit_csv(entries) -> HttpResponse:
    import csv

    from django.http import StreamingHttpResponse

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())

    def rows():
        yield "\ufeff"
        yield writer.writerow(
            ["时间", "操作人", "操作", "对象类型", "对象编号", "对象", "单位", "IP", "详情"]
        )
        for e in entries.iterator(chunk_size=2000):
            values = [
                e.at.astimezone(clock.BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
                e.actor_name,
                e.action,
                e.object_type,
                e.object_id,
                e.object_repr,
                e.organization.name if e.organization_id else "",
                e.ip or "",
                str(e.data),
            ]
            yield writer.writerow([exporting.cell_safe(v) for v in values])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = exporting.content_disposition(
        exporting.export_filename("审计日志", "csv")
    )
    return response


@login_required
def reopen(request):
    """CAST reopens recommendations for ``days`` days (POST); GET shows the state."""
    if not check(request.user, "roles.reopen_recommendations"):
        raise PermissionDenied(_("只有中国科协管理员可以重新开放推荐"))
    campaign = _campaign(request)
    if request.method == "POST":
        try:
            days = parse_int(request.POST.get("days", "3"), label=_("天数"), min_value=1, max_value=30)
            services.reopen_recommendations(
                campaign,
                actor=request.user,
                until=clock.end_of_day((clock.now() + timedelta(days=days)).date()),
            )
            messages.success(request, _("推荐已重新开放 %(n)s 天") % {"n": days})
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
        return redirect("review:reopen")
    return render(
        request,
        "review/reopen.html",
        {
            "campaign": campaign,
            "deadline": services.recommendation_deadline(campaign),
            "open": services.recommendations_open(campaign),
        },
    )
