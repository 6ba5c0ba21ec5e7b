"""Reads of the pre-visit questions (treatments.models.PreVisitCheck)."""

from typing import Any

from treatments.models import Appointment


def previsit_for_session(session: Appointment) -> dict[str, Any] | None:
    """What the session's record page shows of the patient's answers before the visit."""
    return None
