"""Reads of patients' electronic consents (treatments.models.PlanConsent)."""

from typing import Any

from treatments.models import Appointment


def consent_for_session(session: Appointment) -> dict[str, Any] | None:
    """What the session's record page shows of the consent the patient signed for its plan."""
    return None
