"""``{% unread_notifications as n %}``: the signed-in account's unread notifications, for headers."""

from django import template

from kepuyue.notifications.services import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    """Unread notifications of the request's account (0 when signed out; one COUNT query)."""
    request = context.get("request")
    return unread_count(getattr(request, "user", None))
