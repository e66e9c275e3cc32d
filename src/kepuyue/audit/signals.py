"""Copy the Django admin's change log (``LogEntry``) into the audit log, so admin edits are audited too."""

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import AuditEntry

_ACTIONS = {ADDITION: "admin.add", CHANGE: "admin.change", DELETION: "admin.delete"}


@receiver(post_save, sender=LogEntry, dispatch_uid="audit_admin_log")
def copy_admin_log(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    if not created:
        return
    from django.utils import timezone

    from .context import current_ip

    content_type = instance.content_type
    AuditEntry.objects.create(
        at=timezone.now(),
        actor_id=instance.user_id,
        actor_name=instance.user.get_username() if instance.user_id else "",
        action=_ACTIONS.get(instance.action_flag, "admin.other"),
        object_type=f"{content_type.app_label}.{content_type.model}" if content_type else "",
        object_id=instance.object_id or "",
        object_repr=instance.object_repr[:200],
        ip=current_ip(),
        data={"message": instance.get_change_message()},
    )
