"""Notifications 通知: write inbox rows and send the matching e-mails (issue 4 item 6).

:func:`notify` is the one way to tell accounts something. It writes one :class:`Notification` per
active account and sends an e-mail to each account that has an address, through Django's mail
(``EMAIL_BACKEND``: the console by default, SMTP when ``EMAIL_HOST`` is set). E-mails go out once
the current transaction commits, through the Celery task ``kepuyue.notifications.send_emails``
(in-process when no broker is configured); a notification is mailed at most once (``emailed_at``).

Reminders pass a ``key`` (``<kind>:<object>:<day>``): an account that already has a notification
with that key gets nothing again, so running the reminders twice sends once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from kepuyue.common import clock
from kepuyue.common.compiled import insert
from kepuyue.common.text import clean_text, safe_header

from .models import Kind, Notification

logger = logging.getLogger(__name__)


def _accounts(users: Iterable) -> list:
    """Active accounts among ``users`` (instances or ids), each once, in a stable order. Instances
    are taken as loaded (a booking's own account, read in the same request): only ids are read."""
    users = [u for u in users if u is not None]
    given = {u.pk: u for u in users if hasattr(u, "pk")}
    ids = {u for u in users if not hasattr(u, "pk")} - set(given)
    found = [u for u in given.values() if u.is_active]
    if ids:
        found += get_user_model().objects.filter(pk__in=ids, is_active=True)
    return sorted(found, key=lambda u: u.pk)


def notify(
    users: Iterable,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    *,
    key: str | None = None,
    email: bool = True,
):
    """Tell ``users`` (accounts or their ids; inactive ones are skipped, duplicates merged) about
    something: one inbox row each, and an e-mail to those with an address once the transaction
    commits.

    ``kind``: a :class:`~kepuyue.notifications.models.Kind` value; ``title`` (≤ 200 characters) and
    ``body`` are plain text (escaped on pages); ``url`` a path on the platform. ``key`` makes it a
    reminder sent once per account: accounts that already hold a notification with that key are
    skipped. ``email=False`` writes the inbox rows only (the caller mails something richer itself, e.g.
    a ticket with its QR code). Returns the list of notifications written.
    """
    Kind(kind)  # ValueError for an unknown kind
    # The title is also an e-mail subject: one line (a CR/LF in an activity's title used to break the
    # header and lose the e-mail); the body keeps its lines but no control characters.
    title = safe_header(title, max_length=200)
    body = clean_text(body, multiline=True)
    written: list[Notification] = []
    for user in _accounts(users):
        row = Notification(user=user, kind=kind, title=title, body=body, url=url[:500], key=key or "")
        if key:
            if Notification.objects.filter(user=user, key=key).exists():
                continue
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:  # a concurrent run wrote it first
                continue
        else:
            insert(row)  # one INSERT built once (decision 0034), as save() would write it
        written.append(row)
    ids = [n.pk for n in written if n.user.email] if email else []
    if ids:
        from .tasks import send_emails_task

        transaction.on_commit(lambda: send_emails_task.delay(ids))
    return written


def absolute(url: str) -> str:
    """A platform path as a full address for e-mails (``SITE_URL`` + path); full URLs unchanged."""
    if not url or url.startswith(("http://", "https://")):
        return url
    return settings.SITE_URL.rstrip("/") + url


def send_emails(ids: Iterable[int]) -> int:
    """Send the e-mails of the notifications ``ids`` not mailed yet, over one connection; returns
    how many were sent. Each row is claimed (``emailed_at`` set) before its message goes out, so a
    retried task never mails twice; a failed connection is logged and leaves the inbox as it is."""
    rows = list(
        Notification.objects.filter(pk__in=list(ids), emailed_at__isnull=True)
        .exclude(user__email="")
        .select_related("user")
    )
    messages = []
    for row in rows:
        if not Notification.objects.filter(pk=row.pk, emailed_at__isnull=True).update(emailed_at=clock.now()):
            continue
        text = row.body
        if row.url:
            text = f"{text}\n\n{absolute(row.url)}" if text else absolute(row.url)
        text += "\n\n—— 全国科普月平台（本邮件由系统发送，请勿直接回复）"
        messages.append(
            mail.EmailMessage(
                subject=safe_header(f"[全国科普月] {row.title}", max_length=250),
                body=text,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[row.user.email],
            )
        )
    if not messages:
        return 0
    try:
        return mail.get_connection().send_messages(messages) or 0
    except Exception:
        logger.exception("通知邮件发送失败（%d 封）", len(messages))
        return 0


# --- the inbox ------------------------------------------------------------------------------------


def inbox(user) -> QuerySet[Notification]:
    """The account's notifications, newest first."""
    return Notification.objects.filter(user=user).order_by("-created", "-id")


def unread_count(user) -> int:
    """How many of the account's notifications are unread (0 for anonymous users)."""
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(user, ids: Iterable[int] | None = None) -> int:
    """Mark the account's notifications ``ids`` (all unread ones when ``None``) read; returns how
    many changed. Ids of another account's notifications are ignored."""
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=clock.now())
