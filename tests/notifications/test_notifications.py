"""Notifications 通知: every workflow event writes the inbox row and an e-mail; reminders at the pinned
clock are sent once even when run twice; a rolled-back move sends nothing; the inbox page."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from kepuyue.activities import services as activities
from kepuyue.activities import summaries
from kepuyue.activities.models import Activity, Status
from kepuyue.notifications import reminders, services
from kepuyue.notifications.models import Kind, Notification
from kepuyue.review import services as review
from tests.review import conftest as review_fixtures

pytestmark = pytest.mark.django_db

world = review_fixtures.world  # units, one account per role, activities in each state
media_root = review_fixtures.media_root  # uploads into tmp_path


@pytest.fixture
def mailboxes(world):
    """Give the world's accounts e-mail addresses (the review world creates them without)."""
    for name in ("pub_zj", "pub_gd", "admin_zj", "admin_zj2", "admin_gd", "manager"):
        user = getattr(world.users, name)
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    return world


def inbox(user, kind=None):
    rows = Notification.objects.filter(user=user)
    return rows.filter(kind=kind) if kind else rows


def mails_to(user):
    return [m for m in mail.outbox if user.email in m.to]


# --- events ---------------------------------------------------------------------------------------


def test_returned_tells_the_units_publishers_with_the_reason(mailboxes, django_capture_on_commit_callbacks):
    world = mailboxes
    activity = world.activity(world.units.zj, Status.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        review.return_activity(
            activity, actor=world.users.admin_zj, reasons=["联系方式有误"], note="请补充电话"
        )
    row = inbox(world.users.pub_zj, Kind.RETURNED).get()
    assert activity.title in row.title and "联系方式有误；请补充电话" in row.body
    assert row.url == reverse("activities:detail", args=[activity.pk]) and row.read_at is None
    assert row.emailed_at is not None
    [message] = mails_to(world.users.pub_zj)
    assert "活动被退回" in message.subject and "联系方式有误" in message.body
    assert f"http://127.0.0.1:8000/org/activities/{activity.pk}/" in message.body
    assert not inbox(world.users.pub_gd).exists()  # another unit hears nothing


def test_published_recommended_and_featured_each_write_a_row_and_an_email(
    mailboxes, django_capture_on_commit_callbacks
):
    world = mailboxes
    activity = world.activity(world.units.zj, Status.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        review.approve(activity, actor=world.users.admin_zj)
    assert inbox(world.users.pub_zj, Kind.PUBLISHED).count() == 1
    assert len(mails_to(world.users.pub_zj)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        review.recommend(activity, actor=world.users.admin_zj)
    assert inbox(world.users.pub_zj, Kind.RECOMMENDED).count() == 1
    manager_row = inbox(world.users.manager, Kind.RECOMMENDED).get()
    assert manager_row.url == reverse("review:featuring")
    assert len(mails_to(world.users.pub_zj)) == 2 and len(mails_to(world.users.manager)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        review.feature(Activity.objects.get(pk=activity.pk), actor=world.users.manager)
    featured = inbox(world.users.pub_zj, Kind.FEATURED).get()
    assert featured.url == reverse("portal:activity", args=[activity.pk])
    assert [m.subject for m in mails_to(world.users.pub_zj)][-1].endswith(f"活动被重点呈现：{activity.title}")


def test_accounts_without_an_address_get_the_inbox_row_only(world, django_capture_on_commit_callbacks):
    activity = world.activity(world.units.zj, Status.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        review.approve(activity, actor=world.users.admin_zj)
    row = inbox(world.users.pub_zj, Kind.PUBLISHED).get()
    assert row.emailed_at is None and mail.outbox == []


def test_a_rolled_back_transition_sends_nothing(mailboxes, django_capture_on_commit_callbacks):
    world = mailboxes
    activity = world.activity(world.units.zj, Status.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                activities.transition(activity, Status.RETURNED, actor=world.users.admin_zj, reason="不完整")
                raise RuntimeError("the rest of the request failed")
    assert callbacks == []
    assert Activity.objects.get(pk=activity.pk).status == Status.SUBMITTED
    assert not Notification.objects.exists() and mail.outbox == []


def test_other_moves_tell_nobody(mailboxes, django_capture_on_commit_callbacks):
    world = mailboxes
    with django_capture_on_commit_callbacks(execute=True):
        activity = world.activity(world.units.zj, Status.SUBMITTED)  # create + submit
    assert activity.status == Status.SUBMITTED
    assert not Notification.objects.exists() and mail.outbox == []


def test_a_failing_notification_does_not_undo_the_move(
    mailboxes, django_capture_on_commit_callbacks, monkeypatch
):
    world = mailboxes
    activity = world.activity(world.units.zj, Status.SUBMITTED)

    def broken(*args, **kwargs):
        raise RuntimeError("mail store down")

    monkeypatch.setattr("kepuyue.notifications.events.notify", broken)
    with django_capture_on_commit_callbacks(execute=True):
        review.approve(activity, actor=world.users.admin_zj)
    assert Activity.objects.get(pk=activity.pk).status == Status.PUBLISHED


def test_an_email_is_sent_once_even_if_the_task_runs_again(mailboxes, django_capture_on_commit_callbacks):
    world = mailboxes
    with django_capture_on_commit_callbacks(execute=True):
        [row] = services.notify([world.users.pub_zj, world.users.pub_zj.pk], Kind.PUBLISHED, "标题", "内容")
    assert services.send_emails([row.pk]) == 0
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["pub-zj@example.org"]


# --- reminders ------------------------------------------------------------------------------------


def test_deadline_reminder_3_days_before_goes_to_admins_with_quota_left_once(
    mailboxes, clock, django_capture_on_commit_callbacks
):
    world = mailboxes
    clock("2025-08-17T09:00+08:00")  # the deadline is Aug 20: 3 days before
    # 广东 has used its whole quota in every joint action: it hears nothing.
    from kepuyue.review.models import QuotaUse

    for ja in world.plan.joint_actions.all():
        QuotaUse.objects.create(joint_action=ja, scope="region:440000", used=100)
    with django_capture_on_commit_callbacks(execute=True):
        first = reminders.send_reminders()
    with django_capture_on_commit_callbacks(execute=True):
        second = reminders.send_reminders()
    assert first["recommendation_deadline"] >= 3 and second["recommendation_deadline"] == 0
    row = inbox(world.users.admin_zj, Kind.RECOMMENDATION_DEADLINE).get()
    assert "8月20日" in row.title and "3 天" in row.title and "剩余 10 个" in row.body
    assert row.key == f"reminder.recommendation_deadline:{world.plan.pk}:2025-08-17"
    assert not inbox(world.users.admin_gd, Kind.RECOMMENDATION_DEADLINE).exists()
    assert not inbox(world.users.pub_zj, Kind.RECOMMENDATION_DEADLINE).exists()
    assert len(mails_to(world.users.admin_zj)) == 1 and mails_to(world.users.admin_gd) == []


@pytest.mark.parametrize(
    ("instant", "sent"), [("2025-08-19T09:00+08:00", True), ("2025-08-18T09:00+08:00", False)]
)
def test_deadline_reminder_1_day_before_and_not_on_other_days(world, clock, instant, sent):
    clock(instant)
    reminders.send_reminders()
    assert inbox(world.users.admin_zj, Kind.RECOMMENDATION_DEADLINE).exists() is sent


def test_no_deadline_reminder_after_the_deadline(world, clock):
    clock("2025-08-21T09:00+08:00")
    reminders.send_reminders()
    assert not Notification.objects.filter(kind=Kind.RECOMMENDATION_DEADLINE).exists()


def test_queue_reminder_goes_to_admins_with_items_waiting_too_long_once_a_day(
    mailboxes, clock, django_capture_on_commit_callbacks
):
    world = mailboxes
    world.activity(world.units.zj, Status.SUBMITTED)  # submitted Aug 15 10:00
    world.activity(world.units.zj2, Status.SUBMITTED)
    clock("2025-08-18T11:00+08:00")  # 3 days and 1 hour: more than reminder_days (3)
    with django_capture_on_commit_callbacks(execute=True):
        reminders.send_reminders()
        call_command("send_reminders", stdout=open("/dev/null", "w"))
    row = inbox(world.users.admin_zj, Kind.REVIEW_QUEUE).get()
    assert row.title == "有 2 个活动等待审核超过 3 天" and row.url == reverse("review:queue")
    assert inbox(world.users.admin_zj2, Kind.REVIEW_QUEUE).count() == 1
    assert not inbox(world.users.admin_gd, Kind.REVIEW_QUEUE).exists()
    assert len(mails_to(world.users.admin_zj)) == 1
    clock("2025-08-19T11:00+08:00")  # the next day: reminded again
    reminders.send_reminders()
    assert inbox(world.users.admin_zj, Kind.REVIEW_QUEUE).count() == 2


def test_no_queue_reminder_before_reminder_days(world, clock):
    world.activity(world.units.zj, Status.SUBMITTED)
    clock("2025-08-17T11:00+08:00")
    reminders.send_reminders()
    assert not Notification.objects.filter(kind=Kind.REVIEW_QUEUE).exists()


def test_summary_due_reminder_3_days_before_to_units_without_a_summary_once(
    mailboxes, clock, django_capture_on_commit_callbacks
):
    world = mailboxes
    waiting = world.activity(world.units.zj, Status.PUBLISHED)  # ends Sep 10; due by Sep 25
    reported = world.activity(world.units.zj, Status.PUBLISHED)
    world.activity(world.units.zj, Status.SUBMITTED)  # never published: no summary asked
    clock("2025-09-12T10:00+08:00")
    summaries.submit_summary(reported, {"text": "好", "participants": 3}, actor=world.users.pub_zj)
    clock("2025-09-22T08:00+08:00")
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.send_reminders()["summary_due"] == 1
        assert reminders.send_reminders()["summary_due"] == 0
    row = inbox(world.users.pub_zj, Kind.SUMMARY_DUE).get()
    assert waiting.title in row.title and "2025年9月25日" in row.title
    assert row.url == reverse("activities:summary", args=[waiting.pk])
    assert len(mails_to(world.users.pub_zj)) == 1
    clock("2025-09-23T08:00+08:00")  # 2 days before: nothing more
    reminders.send_reminders()
    assert inbox(world.users.pub_zj, Kind.SUMMARY_DUE).count() == 1


def test_reminder_keys_survive_a_second_process(world, clock):
    """Idempotence is in the database (a unique key per account), not in memory."""
    clock("2025-08-19T09:00+08:00")
    reminders.send_reminders()
    before = Notification.objects.count()
    assert before
    Notification.objects.update(read_at=datetime.fromisoformat("2025-08-19T10:00+08:00"))
    reminders.send_reminders()
    assert Notification.objects.count() == before


# --- the inbox page -------------------------------------------------------------------------------


def test_inbox_lists_own_notifications_escaped_and_marks_read(world, client):
    own = services.notify([world.users.pub_zj], Kind.PUBLISHED, "<b>活动已发布</b>", "正文<script>", "/x/")[0]
    other = services.notify([world.users.pub_gd], Kind.PUBLISHED, "别人的通知", "", "")[0]
    review_fixtures.login(client, world.users.pub_zj)
    page = client.get(reverse("activities:mine")).content.decode()
    assert 'id="inbox-link"' in page and ">1</span>" in page  # the unread count in the staff header
    body = client.get(reverse("notifications:inbox")).content.decode()
    assert "&lt;b&gt;活动已发布&lt;/b&gt;" in body and "正文&lt;script&gt;" in body
    assert "别人的通知" not in body
    response = client.post(reverse("notifications:read"), {"id": [own.pk, other.pk]})
    assert response.status_code == 302
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.read_at is not None and other.read_at is None  # another account's id is ignored
    assert services.unread_count(world.users.pub_zj) == 0


def test_inbox_mark_all_and_sign_in_required(world, client):
    services.notify([world.users.admin_zj], Kind.REVIEW_QUEUE, "一", "")
    services.notify([world.users.admin_zj], Kind.REVIEW_QUEUE, "二", "")
    assert client.get(reverse("notifications:inbox")).status_code == 302
    review_fixtures.login(client, world.users.admin_zj)
    assert client.get(reverse("notifications:inbox") + "?unread=1").status_code == 200
    client.post(reverse("notifications:read"), {"all": "1", "next": "https://evil.example/"})
    assert services.unread_count(world.users.admin_zj) == 0


def test_inbox_query_count_is_constant(
    world, client, django_assert_num_queries, django_assert_max_num_queries
):
    review_fixtures.login(client, world.users.pub_zj)
    services.notify([world.users.pub_zj], Kind.PUBLISHED, "一", "")
    client.get(reverse("notifications:inbox"))
    with django_assert_max_num_queries(20) as one:
        client.get(reverse("notifications:inbox"))
    for i in range(3):
        services.notify([world.users.pub_zj], Kind.PUBLISHED, f"再{i}", "")
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(reverse("notifications:inbox"))
