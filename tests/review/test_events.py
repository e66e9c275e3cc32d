"""Domain events of activities and review (``kepuyue.activities.signals``, ``kepuyue.review.signals``):
what each carries, in which phase it is sent, and that the subscribers react through the signal —
activities import neither review nor notifications (``tests/test_architecture.py``)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from kepuyue.activities import services as activities
from kepuyue.activities import signals as activity_signals
from kepuyue.activities import summaries
from kepuyue.activities.models import Activity, Status
from kepuyue.audit.models import AuditEntry
from kepuyue.review import receivers
from kepuyue.review import services as review
from kepuyue.review import signals as review_signals
from kepuyue.review.models import QuotaUse, Recommendation
from tests.review import conftest as review_fixtures

pytestmark = pytest.mark.django_db

world = review_fixtures.world
media_root = review_fixtures.media_root

ACTIVITY_KEYS = {
    "activity",
    "activity_id",
    "campaign_id",
    "joint_action_id",
    "brand_id",
    "organizer_id",
    "province_code",
    "prefecture_code",
    "county_code",
}


def depth() -> int:
    return len(connection.atomic_blocks)


@contextmanager
def listening(*signals):
    """Record every sending of ``signals`` as ``(signal, kwargs, atomic blocks open)``: the test itself
    runs in a transaction, so a receiver inside the sender's transaction sees one block more than
    the test's :func:`depth`."""
    heard: list[tuple] = []

    def receiver(sender, signal, **kwargs):
        heard.append((signal, kwargs, depth()))

    for signal in signals:
        signal.connect(receiver, weak=False)
    try:
        yield heard
    finally:
        for signal in signals:
            signal.disconnect(receiver)


def test_a_move_is_announced_in_the_transaction_and_again_after_commit(
    world, django_capture_on_commit_callbacks
):
    activity = world.activity(world.units.zj, Status.DRAFT)
    with listening(activity_signals.activity_moving, activity_signals.activity_moved) as heard:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            activities.transition(activity, Status.SUBMITTED, actor=world.users.pub_zj)
        assert [s for s, _k, _a in heard] == [activity_signals.activity_moving]  # not yet committed
        for callback in callbacks:
            callback()
    (moving, payload, in_transaction), (moved, after, after_in_transaction) = heard
    assert moved is activity_signals.activity_moved and after == payload
    assert in_transaction > depth() and after_in_transaction == depth()
    assert set(payload) == ACTIVITY_KEYS | {"from_state", "to_state", "actor", "reason"}
    assert payload["activity"] is activity and payload["activity_id"] == activity.pk
    assert (payload["campaign_id"], payload["joint_action_id"]) == (world.plan.pk, world.ja.pk)
    assert (payload["organizer_id"], payload["province_code"], payload["county_code"]) == (
        world.units.zj.pk,
        "330000",
        "330106",
    )
    assert (payload["from_state"], payload["to_state"], payload["actor"]) == (
        Status.DRAFT,
        Status.SUBMITTED,
        world.users.pub_zj,
    )


def test_a_receiver_that_refuses_the_move_in_the_transaction_undoes_it(
    world, django_capture_on_commit_callbacks
):
    activity = world.activity(world.units.zj, Status.SUBMITTED)
    audits = AuditEntry.objects.count()

    def refuse(sender, **kwargs):
        raise ValidationError("不行")

    activity_signals.activity_moving.connect(refuse, weak=False)
    try:
        with listening(activity_signals.activity_moved) as heard:
            with django_capture_on_commit_callbacks(execute=True):
                with pytest.raises(ValidationError):
                    review.approve(activity, actor=world.users.admin_zj)
    finally:
        activity_signals.activity_moving.disconnect(refuse)
    assert Activity.objects.get(pk=activity.pk).status == Status.SUBMITTED
    assert AuditEntry.objects.count() == audits and heard == []


def test_a_rolled_back_move_is_never_announced_after_commit(world, django_capture_on_commit_callbacks):
    activity = world.activity(world.units.zj, Status.SUBMITTED)
    with listening(activity_signals.activity_moved, activity_signals.activity_changed) as heard:
        with django_capture_on_commit_callbacks(execute=True):
            with pytest.raises(RuntimeError), transaction.atomic():
                review.approve(activity, actor=world.users.admin_zj)
                raise RuntimeError("rolled back")
    assert heard == [] and Activity.objects.get(pk=activity.pk).status == Status.SUBMITTED


def test_withdrawal_releases_the_recommendation_through_the_signal_in_the_same_transaction(world):
    activity = world.activity(world.units.zj, Status.PUBLISHED)
    review.recommend(activity, actor=world.users.admin_zj)
    # Without review's receiver the withdrawal leaves the recommendation: activities do not call review.
    disconnected = activity_signals.activity_moving.disconnect(
        dispatch_uid="review.release_withdrawn_recommendation"
    )
    assert disconnected  # review's receiver was connected in ReviewConfig.ready()
    try:
        with transaction.atomic():
            activities.transition(activity, Status.WITHDRAWN, actor=world.users.pub_zj)
            assert Recommendation.objects.filter(activity=activity).exists()
            transaction.set_rollback(True)
    finally:
        activity_signals.activity_moving.connect(
            receivers.release_withdrawn_recommendation, dispatch_uid="review.release_withdrawn_recommendation"
        )
    activity.refresh_from_db()
    activities.transition(activity, Status.WITHDRAWN, actor=world.users.pub_zj)
    assert not Recommendation.objects.filter(activity=activity).exists()
    assert QuotaUse.objects.get(joint_action=world.ja, scope="region:330000").used == 0


def test_review_steps_are_announced_after_commit_with_their_scope(world, django_capture_on_commit_callbacks):
    signals = (
        review_signals.activity_recommended,
        review_signals.activity_unrecommended,
        review_signals.activity_featured,
        review_signals.activity_unfeatured,
    )
    first = world.activity(world.units.zj, Status.PUBLISHED)
    second = world.activity(world.units.zj, Status.PUBLISHED)
    with listening(*signals) as heard, django_capture_on_commit_callbacks(execute=True):
        review.recommend(first, actor=world.users.admin_zj, note="很好")
        review.withdraw_recommendation(first, actor=world.users.admin_zj)
        review.recommend(second, actor=world.users.admin_zj)
        review.feature(second, actor=world.users.manager)
        review.unfeature(second, actor=world.users.manager)
        review.feature(second, actor=world.users.manager)
        activities.transition(second, Status.WITHDRAWN, actor=world.users.pub_zj)
    steps = [
        (signal, kwargs["activity_id"], kwargs.get("why"), kwargs.get("scope"), kwargs["actor"])
        for signal, kwargs, _atomic in heard
    ]
    admin, manager, pub = world.users.admin_zj, world.users.manager, world.users.pub_zj
    assert steps == [
        (review_signals.activity_recommended, first.pk, None, "region:330000", admin),
        (review_signals.activity_unrecommended, first.pk, "withdrawn_by_admin", "region:330000", admin),
        (review_signals.activity_recommended, second.pk, None, "region:330000", admin),
        (review_signals.activity_featured, second.pk, None, None, manager),
        (review_signals.activity_unfeatured, second.pk, "unfeatured", None, manager),
        (review_signals.activity_featured, second.pk, None, None, manager),
        (review_signals.activity_unrecommended, second.pk, "activity_withdrawn", "region:330000", pub),
        (review_signals.activity_unfeatured, second.pk, "activity_withdrawn", None, pub),
    ]
    assert heard[0][1]["note"] == "很好" and ACTIVITY_KEYS <= set(heard[0][1])
    assert all(blocks == depth() for _s, _k, blocks in heard)


def test_creating_and_changing_a_draft_is_announced_after_commit(world, django_capture_on_commit_callbacks):
    with (
        listening(activity_signals.activity_changed) as heard,
        django_capture_on_commit_callbacks(execute=True),
    ):
        activity = world.activity(world.units.zj, Status.DRAFT)
        data = activities.activity_data(activity) | {"title": "改过的名称"}
        activities.update_activity(activity, data, actor=world.users.pub_zj)
    assert [(k["activity_id"], k["created"]) for _s, k, _a in heard] == [
        (activity.pk, True),
        (activity.pk, False),
    ]
    assert heard[1][1]["actor"] == world.users.pub_zj and ACTIVITY_KEYS <= set(heard[1][1])


def test_a_summary_is_announced_after_commit(world, clock, django_capture_on_commit_callbacks):
    activity = world.activity(world.units.zj, Status.PUBLISHED)
    clock("2025-09-12T10:00+08:00")
    data = {"text": "参观人数超出预期。", "participants": 1200, "video_links": [], "news_links": []}
    with (
        listening(activity_signals.summary_submitted) as heard,
        django_capture_on_commit_callbacks(execute=True),
    ):
        summary = summaries.submit_summary(activity, data, actor=world.users.pub_zj)
        summaries.submit_summary(activity, dict(data, participants=1300), actor=world.users.pub_zj)
    assert [(k["activity_id"], k["summary"].pk, k["created"]) for _s, k, _a in heard] == [
        (activity.pk, summary.pk, True),
        (activity.pk, summary.pk, False),
    ]
