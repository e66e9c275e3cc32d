"""Writing and reading the audit log (审计日志).

Services call :func:`record` for every staff write (activity workflow, review, recommendation,
featuring, role grants, account approvals …) and every export of personal data; the Django admin's
own change log is copied in by a signal (``kepuyue.audit.signals``). Only CAST administrators read
it (``audit.view_auditentry`` in ``kepuyue.roles.rules``).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from kepuyue.common.compiled import insert

from .context import current_ip
from .models import AuditEntry


def record(action: str, *, actor=None, obj=None, organization=None, data: dict | None = None) -> AuditEntry:
    """Write one audit entry and return it.

    ``action`` is a dotted name (``activity.submit``, ``export.activities`` …); ``obj`` any model
    instance (its type, primary key and ``str()`` are kept); ``organization`` the unit concerned
    (defaults to ``obj.organizer`` or ``obj.organization`` when the object has one); ``data`` a
    JSON-serialisable dict of details. The IP address comes from the current request, if any. The time
    is the real time (``django.utils.timezone.now``), never the campaign clock: a pinned ``KEPUYUE_NOW``
    (demos, tests) must not be able to back-date entries or age them into pruning.
    """
    if organization is None and obj is not None:
        organization_id = getattr(obj, "organizer_id", None) or getattr(obj, "organization_id", None)
    else:
        organization_id = getattr(organization, "pk", None)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    # One INSERT built once (decision 0034): every request that records something pays no compilation.
    return insert(
        AuditEntry(
            at=timezone.now(),
            actor=actor if authenticated else None,
            actor_name=actor.get_username() if authenticated else "",
            organization_id=organization_id,
            action=action,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            object_repr=str(obj)[:200] if obj is not None else "",
            ip=current_ip(),
            data=data or {},
        )
    )


def record_many(entries, *, actor=None) -> int:
    """Write one audit entry per ``(action, obj)`` of ``entries`` in one multi-row insert, as
    :func:`record` would write each (the object's unit, the current request's address); for a batch
    of rows written together (the open API's bulk upsert). Returns how many were written."""
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    now, ip = timezone.now(), current_ip()
    rows = [
        AuditEntry(
            at=now,
            actor=actor if authenticated else None,
            actor_name=actor.get_username() if authenticated else "",
            organization_id=getattr(obj, "organizer_id", None) or getattr(obj, "organization_id", None),
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            object_repr=str(obj)[:200],
            ip=ip,
            data={},
        )
        for action, obj in entries
    ]
    AuditEntry.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def history(obj) -> QuerySet[AuditEntry]:
    """The entries about one object, oldest first (an activity's workflow history)."""
    return AuditEntry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).order_by(
        "at", "id"
    )


def search(*, q: str = "", action: str = "", actor: str = "", since=None, until=None) -> QuerySet[AuditEntry]:
    """Entries matching every given filter, newest first: ``q`` in the object's text or the actor's
    account name, ``action`` prefix (``activity.``), ``actor`` account name, ``since``/``until``
    aware datetimes (inclusive)."""
    entries = AuditEntry.objects.all()
    if q:
        entries = entries.filter(Q(object_repr__icontains=q) | Q(actor_name__icontains=q) | Q(object_id=q))
    if action:
        entries = entries.filter(action__startswith=action)
    if actor:
        entries = entries.filter(actor_name=actor)
    if since is not None:
        entries = entries.filter(at__gte=since)
    if until is not None:
        entries = entries.filter(at__lte=until)
    return entries.order_by("-at", "-id")


def prune(*, days: int | None = None, actor=None) -> int:
    """Delete entries older than ``days`` (default ``AUDIT_RETENTION_DAYS``) by the real time; returns
    how many. The pruning itself is recorded (``audit.prune``).

    Raises ``ValueError`` for fewer than 180 days (the retention the security level asks for).
    """
    days = settings.AUDIT_RETENTION_DAYS if days is None else days
    if days < 180:
        raise ValueError("审计日志至少保留 180 天")
    deleted, _ = AuditEntry.objects.filter(at__lt=timezone.now() - timedelta(days=days)).delete()
    record("audit.prune", actor=actor, data={"days": days, "deleted": deleted})
    return deleted
