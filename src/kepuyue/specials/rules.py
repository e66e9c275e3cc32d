"""Who may change what in the programmes (permissions beside their objects).

- The film catalogue: CAST administrators and the managers of the joint action that owns the film
  tour (五 现代科技馆体系联合行动, the brand 光影科学梦).
- Screenings, performances, lecture links: the unit that organizes the activity (its own activities
  only; another unit's activity is a 404).
- Plays and volunteers: the university's own accounts; another university's rows are a 404.
"""

from __future__ import annotations

from django.http import Http404

from kepuyue.activities.models import Activity
from kepuyue.campaigns.models import Brand
from kepuyue.roles.services import is_cast_admin, managed_joint_action_ids, organization_of

FILM_BRAND = "science-films"


def may_edit_catalogue(user) -> bool:
    """CAST administrators, and managers of a joint action carrying the 光影科学梦 brand."""
    if is_cast_admin(user):
        return True
    managed = managed_joint_action_ids(user)
    return bool(managed) and Brand.objects.filter(slug=FILM_BRAND, joint_action_id__in=managed).exists()


def own_activities(user):
    """The activities of the user's unit (any state); none without a unit."""
    unit = organization_of(user)
    if unit is None:
        return Activity.objects.none()
    return Activity.objects.filter(organizer=unit)


def own_activity_or_404(user, pk: int) -> Activity:
    activity = own_activities(user).filter(pk=pk).first()
    if activity is None:
        raise Http404
    return activity


def university_of(user):
    """The user's unit when it is a university (高等学校), else ``None``."""
    unit = organization_of(user)
    if unit is None or unit.type_id != "university":
        return None
    return unit
