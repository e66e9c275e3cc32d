"""Personal data: retention, a member's own data, masked and full exports (audited)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from kepuyue.audit.models import AuditEntry
from kepuyue.registrations import services
from kepuyue.registrations.models import Booking, Session, Status
from tests.fixtures_registrations import party

pytestmark = pytest.mark.django_db


def test_personal_data_is_deleted_after_the_retention_period_counts_kept(
    session, member, publisher, clock, settings
):
    booking, _ = services.book(session, member, party(name="韩梅梅", phone="13812345678"))
    clock("2025-09-15T09:00+08:00")  # at the door: check-in opens 2 h before the start
    services.check_in(session, booking.code, actor=publisher)
    clock("2026-03-14T10:00+08:00")  # 179 days after the activity's last day (Sep 16)
    assert services.purge_personal_data() == 0
    clock("2026-03-16T10:00+08:00")
    assert services.purge_personal_data(dry_run=True) == 1
    call_command("purge_registrations", stdout=open("/dev/null", "w"))  # noqa: SIM115
    row = Booking.objects.get(pk=booking.pk)
    assert (row.name, row.phone, row.user_id) == ("", "", None)
    assert row.anonymised_at is not None and row.status == Status.CONFIRMED and row.checked_in_at is not None
    assert row.seats == 1 and Session.objects.get(pk=session.pk).booked == 1
    assert services.attendance(session.activity) == 1
    assert AuditEntry.objects.filter(action="registration.purge").exists()
    assert services.purge_personal_data() == 0  # idempotent


def test_the_retention_setting_is_read(session, member, clock, settings):
    services.book(session, member, party())
    settings.REGISTRATION_RETENTION_DAYS = 30
    clock("2025-10-17T10:00+08:00")
    assert services.purge_personal_data() == 1


def test_a_member_deletes_their_own_data(session, member, client, django_capture_on_commit_callbacks):
    booking, _ = services.book(session, member, party(name="韩梅梅"))
    client.force_login(member)
    page = client.get("/registrations/mine/data/").content.decode()
    assert "韩梅梅" in page and "13812345678" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/registrations/mine/data/delete/", {"code": booking.code, "confirmed": "1"})
    assert response.status_code == 302
    row = Booking.objects.get(pk=booking.pk)
    assert row.status == Status.CANCELLED and row.name == "" and row.user_id is None
    assert Session.objects.get(pk=session.pk).booked == 0
    assert AuditEntry.objects.filter(action="registration.delete_own_data", actor=member).exists()
    assert "韩梅梅" not in client.get("/registrations/mine/data/").content.decode()


def test_exports_are_masked_by_default_and_full_exports_audited(session, member, publisher, client):
    services.book(session, member, party(name="韩梅梅", phone="13812345678"))
    client.force_login(publisher)
    masked = b"".join(
        client.get(f"/org/registrations/{session.activity_id}/export.csv").streaming_content
    ).decode("utf-8-sig")
    assert "韩**" in masked and "138****5678" in masked and "13812345678" not in masked
    full = b"".join(
        client.get(f"/org/registrations/{session.activity_id}/export.csv?full=1").streaming_content
    ).decode("utf-8-sig")
    assert "韩梅梅" in full and "13812345678" in full
    entries = AuditEntry.objects.filter(action="export.registrations").order_by("at")
    assert [e.data["full"] for e in entries] == [False, True]
    xlsx = client.get(f"/org/registrations/{session.activity_id}/export.xlsx")
    assert xlsx.status_code == 200 and b"".join(xlsx.streaming_content)[:2] == b"PK"


def test_a_full_view_of_a_list_is_audited(session, member, publisher, client):
    services.book(session, member, party(name="韩梅梅"))
    client.force_login(publisher)
    masked = client.get(f"/org/registrations/session/{session.pk}/").content.decode()
    assert "韩**" in masked and "韩梅梅" not in masked
    assert not AuditEntry.objects.filter(action="registration.view_full").exists()
    full = client.get(f"/org/registrations/session/{session.pk}/?full=1").content.decode()
    assert "韩梅梅" in full
    assert AuditEntry.objects.filter(action="registration.view_full", actor=publisher).count() == 1


def test_formula_cells_are_neutralised_in_exports(session, member, publisher, client):
    services.book(session, member, party(name='=HYPERLINK("x")'))
    client.force_login(publisher)
    text = b"".join(
        client.get(f"/org/registrations/{session.activity_id}/export.csv?full=1").streaming_content
    ).decode("utf-8-sig")
    assert "'=HYPERLINK" in text
