"""``kepuyue.calls.signals.entry_moved``: sent after commit when an entry is submitted, moved or published."""

from __future__ import annotations

import pytest

from kepuyue.calls import services
from kepuyue.calls.models import EntryStatus
from kepuyue.calls.signals import entry_moved

pytestmark = pytest.mark.django_db

BOOK = {
    "title": "物种起源",
    "author": "达尔文",
    "publisher": "科学出版社",
    "year": "2005",
    "isbn": "0-306-40615-2",
    "theme": "life-science",
    "audience": "中学生",
    "reason": "经典",
}


def test_entry_moves_are_announced_after_commit_with_their_ids(
    call, plan, manager, django_capture_on_commit_callbacks
):
    from kepuyue.orgs.models import Organization

    press = Organization.objects.create(name="科学出版社", type_id="publisher")
    heard = []

    def receiver(sender, **kwargs):
        heard.append(kwargs)

    entry_moved.connect(receiver, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            draft = services.submit_entry(
                call("reading-book-list"), organization=press, data=BOOK, submit=False
            )
            entry = services.submit_entry(
                call("reading-book-list"),
                organization=press,
                data=dict(BOOK, title="时间简史", isbn="9780553380163"),
            )
            services.transition(entry, EntryStatus.SHORTLISTED, actor=manager)
            services.transition(entry, EntryStatus.PUBLISHED, actor=manager)
        assert heard == []  # nothing before the commit
        for callback in callbacks:
            callback()
    finally:
        entry_moved.disconnect(receiver)
    assert [(k["entry_id"], k["from_state"], k["to_state"]) for k in heard] == [
        (entry.pk, "", EntryStatus.SUBMITTED),
        (entry.pk, EntryStatus.SUBMITTED, EntryStatus.SHORTLISTED),
        (entry.pk, EntryStatus.SHORTLISTED, EntryStatus.PUBLISHED),
    ]
    assert draft.pk not in {k["entry_id"] for k in heard}  # a draft is not a move
    first = heard[-1]
    assert first["entry"] == entry and first["actor"] == manager and first["organization_id"] == press.pk
    assert (first["call_id"], first["campaign_id"]) == (entry.call_id, plan.pk)
    assert first["joint_action_id"] == entry.call.joint_action_id
