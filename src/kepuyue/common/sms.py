"""Text messages (短信), pluggable the way Django's e-mail backends are.

``settings.KEPUYUE_SMS_BACKEND`` (environment ``KEPUYUE_SMS_BACKEND``) names a class; the embedded
default prints each message to the console (:class:`ConsoleBackend`), the test suite keeps them in
:data:`outbox` (:class:`LocmemBackend`). A real provider (阿里云短信, 腾讯云短信 …) is a subclass of
:class:`BaseBackend` with one method, ``send_messages(messages) -> int``, configured by its own
environment variables, e.g.::

    class AliyunBackend(BaseBackend):
        def send_messages(self, messages):
            ...  # call the provider's API for each message; return how many it accepted

    KEPUYUE_SMS_BACKEND=myproject.sms.AliyunBackend

Callers use :func:`send_sms`; they never import a backend. Phone numbers are mainland mobile numbers
as the accounts app stores them (``13812345678`` or ``+8613812345678``). Used by the password reset
(``kepuyue.accounts.reset``); a later issue's registrations reuse it.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

CONSOLE = "kepuyue.common.sms.ConsoleBackend"


@dataclass(frozen=True)
class TextMessage:
    """One text message: the recipient's number and the text (the provider adds its signature)."""

    to: str
    body: str


class BaseBackend:
    """A way of sending text messages. ``fail_silently``: swallow the provider's errors."""

    def __init__(self, fail_silently: bool = False, **kwargs):
        self.fail_silently = fail_silently

    def send_messages(self, messages: list[TextMessage]) -> int:
        """Send ``messages``; return how many were sent."""
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Prints each message to standard output (the embedded default, like Django's console e-mail)."""

    _lock = threading.Lock()

    def __init__(self, *args, stream=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stream = stream or sys.stdout

    def send_messages(self, messages: list[TextMessage]) -> int:
        with self._lock:
            for message in messages:
                self.stream.write(f"[SMS] To: {message.to}\n{message.body}\n{'-' * 40}\n")
            self.stream.flush()
        return len(messages)


outbox: list[TextMessage] = []


class LocmemBackend(BaseBackend):
    """Keeps the messages in :data:`outbox` (tests read and clear it)."""

    def send_messages(self, messages: list[TextMessage]) -> int:
        outbox.extend(messages)
        return len(messages)


def get_backend(fail_silently: bool = False) -> BaseBackend:
    """An instance of the configured backend (``settings.KEPUYUE_SMS_BACKEND``)."""
    return import_string(getattr(settings, "KEPUYUE_SMS_BACKEND", CONSOLE))(fail_silently=fail_silently)


def send_sms(to: str, body: str, *, fail_silently: bool = False) -> int:
    """Send one text message ``body`` to the mobile number ``to``; returns 1 when sent, else 0."""
    return get_backend(fail_silently=fail_silently).send_messages([TextMessage(to=to, body=body)])
