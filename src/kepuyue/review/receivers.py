"""What review does when activities move (connected in :meth:`ReviewConfig.ready`)."""

from __future__ import annotations

from kepuyue.activities.models import Status

from .services import release_recommendation


def release_withdrawn_recommendation(sender, activity, to_state, actor=None, **kwargs) -> None:
    """``activity_moving`` (in the transaction): a withdrawn activity gives its recommendation back —
    the scope's quota place is freed and it no longer leads any page — in the same transaction as
    the withdrawal, so both happen or neither."""
    if to_state == Status.WITHDRAWN and activity.recommended_at is not None:
        release_recommendation(activity, actor=actor)
