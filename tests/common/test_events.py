"""``kepuyue.common.events``: the two phases of a domain event."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction
from django.dispatch import Signal

from kepuyue.common.events import send_after_commit, send_in_transaction

pytestmark = pytest.mark.django_db


def test_after_commit_runs_every_receiver_and_logs_a_failing_one(django_capture_on_commit_callbacks, caplog):
    signal = Signal()
    heard = []

    def broken(sender, **kwargs):
        raise RuntimeError("webhook down")

    def working(sender, **kwargs):
        heard.append(kwargs)

    signal.connect(broken, weak=False)
    signal.connect(working, weak=False)
    with caplog.at_level(logging.ERROR, logger="kepuyue.common.events"):
        with django_capture_on_commit_callbacks(execute=True):
            send_after_commit(signal, object, activity_id=7)
            assert heard == []  # not before the commit
    assert heard == [{"signal": signal, "activity_id": 7}]
    assert "broken" in caplog.text and "webhook down" in caplog.text


def test_after_commit_sends_nothing_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    signal = Signal()
    heard = []
    signal.connect(lambda sender, **kwargs: heard.append(kwargs), weak=False)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            send_after_commit(signal, object, activity_id=7)
            raise RuntimeError("rolled back")
    assert heard == []


def test_in_transaction_lets_a_receiver_refuse():
    signal = Signal()

    def refuse(sender, **kwargs):
        raise ValueError("refused")

    signal.connect(refuse, weak=False)
    with pytest.raises(ValueError, match="refused"):
        send_in_transaction(signal, object, activity_id=7)
