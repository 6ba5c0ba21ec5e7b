"""A session's version, for optimistic concurrency in the API (ETag / If-Match), and what changed
since a version a client read: found in the session's history, which holds every saved version."""

import hashlib
from datetime import datetime
from typing import Protocol

from django.utils import timezone

from treatments.models import Appointment

# What a desk acts on when it moves or cancels: a change to any of these makes an earlier read stale.
VERSIONED = {
    "status": "status",
    "starts_at": "start",
    "ends_at": "end",
    "practitioner_id": "practitioner",
    "room_id": "room",
    "location_id": "location",
    "treatment_id": "treatment",
    "cancel_reason": "cancel reason",
}
HISTORY_SEARCHED = 100


class SessionRow(Protocol):
    """An Appointment or one of its historical records: both carry the versioned fields."""

    # Not pk: a historical record's pk is its history id.
    @property
    def id(self) -> int: ...


def _values(row: SessionRow) -> dict[str, object]:
    return {name: getattr(row, name) for name in VERSIONED}


def _shown(value: object) -> str:
    if isinstance(value, datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    return "none" if value in (None, "") else str(value)


def session_version(row: SessionRow) -> str:
    values = _values(row)
    text = "|".join(f"{name}={_shown(values[name])}" for name in VERSIONED)
    return hashlib.sha256(f"{row.id}|{text}".encode()).hexdigest()[:20]


def changes_since(appointment: Appointment, version: str) -> list[str]:
    """What changed between the version a client read and the session now, naming who changed it
    last; a version no saved state matches says so."""
    latest = appointment.history.order_by("-history_date", "-history_id").select_related("history_user")
    newest = latest.first()
    who = ""
    if newest is not None and newest.history_user is not None:
        user = newest.history_user
        who = f" by {user.get_full_name() or user.get_username()}"
    when = f" at {timezone.localtime(newest.history_date):%Y-%m-%d %H:%M}" if newest is not None else ""
    now = _values(appointment)
    for record in latest[:HISTORY_SEARCHED]:
        if session_version(record) == version:
            before = _values(record)
            changed = [
                f"{VERSIONED[name]} changed from {_shown(before[name])} to {_shown(now[name])}"
                for name in VERSIONED
                if _shown(before[name]) != _shown(now[name])
            ]
            return [f"{line}{who}{when}" for line in changed]
    return [f"the session changed{who}{when} since that version was read"]
