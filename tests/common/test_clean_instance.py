"""The model-level text cleaning (``clean_instance``, on ``pre_save``) with its field list worked out
once per model (decision 0036): every kind of field cleaned as before, on every save."""

import pytest
from django.contrib.auth.models import User

from kepuyue.audit.models import AuditEntry
from kepuyue.common.text import _text_fields, clean_instance
from kepuyue.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_fields_of_each_kind_are_cleaned():
    entry = AuditEntry(
        action="x", object_repr="a\x00b\nc\u0007", data={"k\x01": ["v\x00", {"n": "m\x02"}], "i": 3}
    )
    clean_instance(entry)
    assert entry.object_repr == "ab c"
    assert entry.data == {"k": ["v", {"n": "m"}], "i": 3}
    note = Notification(title="t\r\nu", body="line\r\nnext\x00", kind="system")
    clean_instance(note)
    assert note.body == "line\nnext" and "\n" not in note.title


def test_field_list_is_per_model_and_saves_still_clean():
    assert _text_fields(AuditEntry) is _text_fields(AuditEntry)
    kinds = dict(_text_fields(Notification))
    assert kinds["body"] == "text" and kinds["title"] == "char" and "user_id" not in kinds
    user = User.objects.create_user("cleaned", "c@example.cn", "Kexue-Puji-2025")
    for i in range(2):
        row = Notification.objects.create(user=user, kind="system", title=f"t{i}\x00", body=f"b\x07{i}")
        row.refresh_from_db()
        assert (row.title, row.body) == (f"t{i}", f"b{i}")
