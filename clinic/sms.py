"""Text messages through a pluggable backend, as Django sends e-mail: `send_sms(to, body)` hands the
message to the class named by settings.SMS_BACKEND.

A provider's backend is a class with `send(to: str, body: str) -> None` that raises on failure.
"""

import sys
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "clinic.sms.ConsoleBackend"


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> None: ...


@dataclass(frozen=True, slots=True)
class TextMessage:
    to: str
    body: str


# What LocmemBackend sent, for tests (like django.core.mail.outbox).
outbox: list[TextMessage] = []


class ConsoleBackend:
    """For development: the message goes to standard output, never to a logger. Outside DEBUG the
    body (a sign-in link) and all but the number's last digits are withheld, since a server's
    standard output usually ends up in its logs."""

    def send(self, to: str, body: str) -> None:
        if settings.DEBUG:
            text = f"SMS to {to}:\n{body}\n\n"
        else:
            text = f"SMS to …{to[-2:]} ({len(body)} characters, body withheld outside DEBUG)\n"
        sys.stdout.write(text)
        sys.stdout.flush()


class LocmemBackend:
    def send(self, to: str, body: str) -> None:
        outbox.append(TextMessage(to=to, body=body))


def get_backend() -> SmsBackend:
    backend: type[SmsBackend] = import_string(getattr(settings, "SMS_BACKEND", DEFAULT_BACKEND))
    return backend()


def send_sms(to: str, body: str) -> None:
    get_backend().send(to, body)
