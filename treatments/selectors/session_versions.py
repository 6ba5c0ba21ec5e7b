"""A session's version, for optimistic concurrency in the API (ETag / If-Match), and what changed
since a version a client read: found in the session's history, which holds every saved version.
A session record's version is its newest history row, as the record's forms carry it
(patients.forms.EditedSinceCheck)."""

import hashlib
from datetime import datetime
from typing import Protocol

from django.utils import timezone

from treatments.models import Appointment, SessionRecord

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


def record_version(record: SessionRecord) -> int:
    """The id of the record's newest history row (0 before any)."""
    newest = record.history.order_by("-history_id").values_list("history_id", flat=True).first()
    return newest or 0


def record_last_change(record: SessionRecord) -> tuple[str, datetime | None]:
    """Who saved the record last, and when."""
    newest = record.history.order_by("-history_id").select_related("history_user").first()
    if newest is None:
        return "Someone", None
    user = newest.history_user
    return (user.get_full_name() or user.get_username()) if user else "Someone", newest.history_date


def _procedure_entries(values: dict[str, object], notes: str) -> dict[str, object]:
    """A record's procedure as flat entries: "needle_depth_mm.cheeks" for a per-area value."""
    entries: dict[str, object] = {"notes": notes}
    for key, value in values.items():
        if isinstance(value, dict):
            entries.update({f"{key}.{area}": number for area, number in value.items()})
        else:
            entries[key] = value
    return entries


def procedure_changes_since(record: SessionRecord, version: int | None) -> dict[str, object]:
    """The procedure entries saved since `version`, each with its value now (None: cleared)."""
    then = record.history.filter(history_id=version).first() if version else None
    if then is None:
        return {}
    before = _procedure_entries(then.values, then.notes)
    now = _procedure_entries(record.values, record.notes)
    return {
        key: now.get(key) for key in sorted(before.keys() | now.keys()) if before.get(key) != now.get(key)
    }
