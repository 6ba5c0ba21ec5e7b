"""A patient's sessions, for the patient page."""

from datetime import datetime

from django.utils import timezone

from patients.models import Patient
from treatments.models import Appointment

SHOWN = 50


def patient_sessions(
    patient: Patient, *, now: datetime | None = None
) -> tuple[list[Appointment], list[Appointment]]:
    """(upcoming, earliest first; past, latest first) among the patient's latest sessions: one query."""
    now = now or timezone.now()
    sessions = list(
        Appointment.objects.filter(patient=patient).with_calendar_joins().order_by("-starts_at")[:SHOWN]
    )
    upcoming = sorted((s for s in sessions if s.starts_at >= now), key=lambda s: s.starts_at)
    return upcoming, [s for s in sessions if s.starts_at < now]
