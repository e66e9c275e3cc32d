"""Which public pages a change makes stale: the page cache's version bumps (issue 17 §1, ADR 0025).

The portal shows the activities, the plan and the booking blocks, so it is the one that knows which
of its pages show what; the lower apps only announce what happened (ADR 0007). Each receiver bumps
the versions (:func:`kepuyue.common.pagecache.bump`) of exactly the things the change touches:

======================================== ================================================================
change                                   versions bumped (→ pages that go stale)
======================================== ================================================================
published, returned or withdrawn         ``activity:<id>`` (its page), ``campaign:<id>`` (home, list,
(``activity_moved`` into or out of       search), ``zone:<id>`` (its zone, list by joint action),
published)                               ``brand:<id>`` (brand page, list by brand), ``region:<code>``
                                         for its province, city and county (region pages, lists by place)
edit of a published activity             the same (``activity_changed`` while published)
featured / unfeatured                    the same (home and zone show the featured row)
recommended / unrecommended              ``activity:<id>`` only (no public page shows 推荐 elsewhere)
summary submitted or corrected           ``activity:<id>`` (the summary is on its page only)
booking settings or sessions changed     ``activity:<id>`` (the booking block); bookings themselves
(``registration_settings_changed``)      change no page: free places come from the availability JSON
an import batch (``activities_imported``) ``catalog`` (every page that shows activities: a batch writes
                                         rows of any campaign, zone and place)
the plan (any campaigns model saved)     ``plan`` (every page that shows a name, deadline or target)
an organization renamed                  ``catalog`` (cards and pages show the organizer)
a published activity saved otherwise     as published (``post_save``/``post_delete``: the admin, fixes)
======================================== ================================================================

Events that change nothing shown (a draft saved, a booking made) bump nothing: the pages stay cached.
"""

from __future__ import annotations

from django.db import transaction

from kepuyue.activities.models import Status
from kepuyue.common.pagecache import bump

PUBLISHED = Status.PUBLISHED.value


def activity_versions(**keys) -> list[str]:
    """The versions an activity's public appearance holds (see the table above)."""
    names = [f"activity:{keys['activity_id']}", f"campaign:{keys['campaign_id']}"]
    if keys.get("organizer_id"):
        names.append(f"org:{keys['organizer_id']}")  # its unit page (specials)
    if keys.get("joint_action_id"):
        names.append(f"zone:{keys['joint_action_id']}")
    if keys.get("brand_id"):
        names.append(f"brand:{keys['brand_id']}")
    for level in ("province_code", "prefecture_code", "county_code"):
        if keys.get(level):
            names.append(f"region:{keys[level]}")
    return names


def activity_moved(sender, from_state="", to_state="", **keys):
    if PUBLISHED in {from_state, to_state}:
        bump(*activity_versions(**keys))


def activity_changed(sender, activity=None, created=False, **keys):
    if activity is not None and activity.status == PUBLISHED:
        bump(*activity_versions(activity=activity, **keys))


def activity_shown_elsewhere(sender, **keys):
    """Featured or unfeatured: the home and zone rows change besides the activity's page."""
    bump(*activity_versions(**keys))


def activity_page_only(sender, activity_id=None, **kwargs):
    """Recommended, unrecommended, a summary, the booking settings: only the activity's page."""
    if activity_id:
        bump(f"activity:{activity_id}")


def activity_saving(sender, instance=None, raw=False, **kwargs):
    """``pre_save``: remember where a published activity was shown before an edit moves it (another
    brand, place or joint action), so both the old and the new pages go stale."""
    if raw or instance is None or instance.pk is None:
        return
    from kepuyue.activities.signals import activity_keys

    old = sender.objects.filter(pk=instance.pk, status=PUBLISHED).only(*_KEY_FIELDS).first()
    instance._pagecache_before = activity_versions(**activity_keys(old)) if old is not None else []


_KEY_FIELDS = (
    "campaign_id",
    "joint_action_id",
    "brand_id",
    "organizer_id",
    "province_code",
    "prefecture_code",
    "county_code",
)


def activity_saved(sender, instance=None, raw=False, **kwargs):
    """``post_save`` / ``post_delete`` of an activity that is or was published (the admin, a data
    fix, besides the events): bump where it was and where it is."""
    if raw or instance is None:
        return
    from kepuyue.activities.signals import activity_keys

    names = list(getattr(instance, "_pagecache_before", []))
    if instance.status == PUBLISHED:
        names += activity_versions(**activity_keys(instance))
    if names:
        transaction.on_commit(lambda: bump(*names), robust=True)


def activities_imported(sender, **kwargs):
    """In the importer's transaction: bump once it commits (never for a rolled-back batch)."""
    transaction.on_commit(lambda: bump("catalog"), robust=True)


def plan_saved(sender, **kwargs):
    if not kwargs.get("raw"):
        transaction.on_commit(lambda: bump("plan"), robust=True)


def plan_links_changed(sender, action="", **kwargs):
    """``m2m_changed`` of a plan's many-to-many field (a joint action's participant types, a call's
    eligible unit types): the plan pages show them, and a relation change saves no row of the model."""
    if action.startswith("post_"):
        transaction.on_commit(lambda: bump("plan"), robust=True)


def organization_saved(sender, created=False, raw=False, **kwargs):
    if not created and not raw:
        transaction.on_commit(lambda: bump("catalog"), robust=True)


# --- the programmes' pages (tours, specials, training, calls, resources): their own data -------------
#
# ========================================== ==================================================
# saved or deleted                           versions bumped
# ========================================== ==================================================
# a tour, a stop, a vehicle                  ``tour:<id>`` (its page), ``tours:<campaign id>`` (list)
# a film, a screening                        ``films`` (/films/ and every film page)
# a play, a performance                      ``plays``, ``org:<university>`` (its unit page)
# a volunteer                                ``volunteers``, ``org:<university>``
# lecture links                              ``lectures`` (the replay archives)
# a course, a lesson, a viewing, a check-in  ``training:<campaign slug>`` (list, course, replays:
# of a lesson's activity                     attendance is shown)
# a call's entry                             ``calls`` (galleries), ``org:<unit>`` (its works)
# a resource (a download: the service)       ``resources``
# ========================================== ==================================================


def _later(*names) -> None:
    transaction.on_commit(lambda: bump(*names), robust=True)


def tour_saved(sender, instance=None, raw=False, **kwargs):
    if not raw and instance is not None:
        _later(f"tour:{instance.pk}", f"tours:{instance.campaign_id}")


def stop_saved(sender, instance=None, raw=False, **kwargs):
    if raw or instance is None:
        return
    from kepuyue.tours.models import Tour

    campaign_id = Tour.objects.filter(pk=instance.tour_id).values_list("campaign_id", flat=True).first()
    _later(f"tour:{instance.tour_id}", f"tours:{campaign_id}" if campaign_id else "")


def vehicle_saved(sender, instance=None, raw=False, **kwargs):
    if raw or instance is None or instance.pk is None:
        return
    from kepuyue.tours.models import Tour

    rows = list(Tour.objects.filter(vehicle_id=instance.pk).values_list("pk", "campaign_id"))
    _later(*(f"tour:{pk}" for pk, _c in rows), *{f"tours:{c}" for _pk, c in rows})


def films_saved(sender, raw=False, **kwargs):
    if not raw:
        _later("films")


def plays_saved(sender, instance=None, raw=False, **kwargs):
    if raw or instance is None:
        return
    university = getattr(instance, "university_id", None)
    if university is None and getattr(instance, "play_id", None):
        from kepuyue.specials.models import Play

        university = Play.objects.filter(pk=instance.play_id).values_list("university_id", flat=True).first()
    _later("plays", f"org:{university}" if university else "")


def volunteer_saved(sender, instance=None, raw=False, **kwargs):
    if not raw and instance is not None:
        _later("volunteers", f"org:{instance.university_id}")


def lectures_saved(sender, raw=False, **kwargs):
    if not raw:
        _later("lectures")


def _training(campaign_ids) -> None:
    from kepuyue.campaigns.models import Campaign

    ids = {pk for pk in campaign_ids if pk}
    if ids:
        slugs = Campaign.objects.filter(pk__in=ids).values_list("slug", flat=True)
        _later(*(f"training:{slug}" for slug in slugs))


def course_saved(sender, instance=None, raw=False, **kwargs):
    if not raw and instance is not None:
        _training([instance.campaign_id])


def lesson_saved(sender, instance=None, raw=False, **kwargs):
    if raw or instance is None:
        return
    from kepuyue.training.models import Course

    _training(Course.objects.filter(pk=instance.course_id).values_list("campaign_id", flat=True))


def viewing_saved(sender, instance=None, created=False, raw=False, **kwargs):
    if raw or instance is None:
        return
    from kepuyue.training.models import Lesson

    _training(Lesson.objects.filter(pk=instance.lesson_id).values_list("course__campaign_id", flat=True))


def checkin_saved(sender, instance=None, raw=False, **kwargs):
    """A check-in counts for a course when its booking's activity is an offline lesson's."""
    if raw or instance is None:
        return
    from kepuyue.training.models import Lesson

    _training(
        Lesson.objects.filter(activity__bookings__pk=instance.booking_id).values_list(
            "course__campaign_id", flat=True
        )
    )


def entry_saved(sender, instance=None, raw=False, **kwargs):
    if not raw and instance is not None:
        _later("calls", f"org:{instance.organization_id}" if instance.organization_id else "")


def resource_saved(sender, raw=False, **kwargs):
    if not raw:
        _later("resources")


def _connect_programmes(post_save, post_delete) -> None:
    from kepuyue.calls.models import Entry
    from kepuyue.registrations.models import CheckIn
    from kepuyue.resources.models import Resource
    from kepuyue.specials.models import Film, LectureLinks, Performance, Play, Screening, Volunteer
    from kepuyue.tours.models import Stop, Tour, Vehicle
    from kepuyue.training.models import Course, Lesson, Viewing

    uid = "kepuyue.portal.receivers.programmes."
    for model, receiver in (
        (Tour, tour_saved),
        (Stop, stop_saved),
        (Vehicle, vehicle_saved),
        (Film, films_saved),
        (Screening, films_saved),
        (Play, plays_saved),
        (Performance, plays_saved),
        (Volunteer, volunteer_saved),
        (LectureLinks, lectures_saved),
        (Course, course_saved),
        (Lesson, lesson_saved),
        (Viewing, viewing_saved),
        (CheckIn, checkin_saved),
        (Entry, entry_saved),
        (Resource, resource_saved),
    ):
        post_save.connect(receiver, sender=model, dispatch_uid=uid + "save-" + model.__name__)
        post_delete.connect(receiver, sender=model, dispatch_uid=uid + "delete-" + model.__name__)


def connect() -> None:
    """Called from :meth:`kepuyue.portal.apps.PortalConfig.ready`."""
    from django.apps import apps
    from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

    from kepuyue.activities import signals as activity_signals
    from kepuyue.orgs.models import Organization
    from kepuyue.registrations import signals as registration_signals
    from kepuyue.review import signals as review_signals

    uid = "kepuyue.portal.receivers."
    activity_signals.activity_moved.connect(activity_moved, dispatch_uid=uid + "moved")
    activity_signals.activity_changed.connect(activity_changed, dispatch_uid=uid + "changed")
    activity_signals.summary_submitted.connect(activity_page_only, dispatch_uid=uid + "summary")
    activity_signals.activities_imported.connect(activities_imported, dispatch_uid=uid + "imported")
    review_signals.activity_featured.connect(activity_shown_elsewhere, dispatch_uid=uid + "featured")
    review_signals.activity_unfeatured.connect(activity_shown_elsewhere, dispatch_uid=uid + "unfeatured")
    review_signals.activity_recommended.connect(activity_page_only, dispatch_uid=uid + "recommended")
    review_signals.activity_unrecommended.connect(activity_page_only, dispatch_uid=uid + "unrecommended")
    registration_signals.registration_settings_changed.connect(
        activity_page_only, dispatch_uid=uid + "registration-settings"
    )
    for model in apps.get_app_config("campaigns").get_models():
        post_save.connect(plan_saved, sender=model, dispatch_uid=uid + "plan-save-" + model.__name__)
        post_delete.connect(plan_saved, sender=model, dispatch_uid=uid + "plan-delete-" + model.__name__)
        for field in model._meta.local_many_to_many:
            m2m_changed.connect(
                plan_links_changed,
                sender=field.remote_field.through,
                dispatch_uid=f"{uid}plan-links-{model.__name__}-{field.name}",
            )
    from kepuyue.activities.models import Activity

    pre_save.connect(activity_saving, sender=Activity, dispatch_uid=uid + "activity-saving")
    post_save.connect(activity_saved, sender=Activity, dispatch_uid=uid + "activity-save")
    post_delete.connect(activity_saved, sender=Activity, dispatch_uid=uid + "activity-delete")
    post_save.connect(organization_saved, sender=Organization, dispatch_uid=uid + "org")
    _connect_programmes(post_save, post_delete)
