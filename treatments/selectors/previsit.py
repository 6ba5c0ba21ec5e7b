"""Reads of the pre-visit questions (treatments.models.PreVisitCheck).

Who reads what: the clinician sees the answers and the stop reasons (clinical text); the front
desk sees only that a session "needs a call" (`needs_call`); the patient sees their own questions
and answers, never a verdict or a reason.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from treatments.models import Appointment, PreVisitCheck


def needs_call() -> Exists:
    """An annotation for a queryset of sessions: a booked session whose patient's pre-visit answers
    stop it, not yet confirmed by a clinician at screening. A subquery, not a query per row."""
    return Exists(
        PreVisitCheck.objects.filter(
            appointment=OuterRef("pk"),
            appointment__status=Appointment.Status.BOOKED,
            stop=True,
            confirmed_at__isnull=True,
        )
    )


def stop_texts(check: PreVisitCheck) -> list[str]:
    """The stop reasons' texts, as the record's screening stores them ({"code", "severity", "text"})."""
    return [str(reason.get("text", "")) for reason in check.stop_reasons if isinstance(reason, dict)]


def my_day_summary(check: PreVisitCheck | None) -> dict[str, Any] | None:
    """What My day shows of a session's pre-visit answers: a red alert with the reasons when they
    stop the session (until a clinician confirms them at screening), else a badge once answered."""
    if check is None or check.answered_at is None:
        return None
    return {
        "alert": check.stop and check.confirmed_at is None,
        "reasons": stop_texts(check),
        "answered_at": check.answered_at,
        "confirmed": check.confirmed_at is not None,
    }


def previsit_for_session(session: Appointment) -> dict[str, Any] | None:
    """What the session's record page shows of the patient's answers before the visit: each
    question with its answer and the words the patient read it in, the new medicines, when, the
    stop reasons, and the confirmation. One query; None when no questions were made for the
    session."""
    check = PreVisitCheck.objects.filter(appointment=session).select_related("confirmed_by").first()
    if check is None:
        return None
    answered = check.answered_at is not None
    rows = [
        {
            "condition": question["condition"],
            "question": question["question"],
            # What the patient read (questions made before it was stored have none).
            "patient_question": question.get("patient_question", ""),
            "yes": bool(check.answers.get(question["condition"])),
        }
        for question in check.questions
        if question.get("condition") in check.answers
    ]
    confirmer = check.confirmed_by
    return {
        "answered": answered,
        "answered_at": check.answered_at,
        "sent_at": check.sent_at,
        "answers": {slug: bool(yes) for slug, yes in check.answers.items()} if answered else {},
        "rows": rows,
        "yes_rows": [row for row in rows if row["yes"]],
        "new_medications": check.new_medications,
        "stop": check.stop and answered,
        "stop_reasons": stop_texts(check) if answered else [],
        "confirmed_at": check.confirmed_at,
        "confirmed_by": (confirmer.get_full_name() or confirmer.get_username()) if confirmer else "",
    }


@dataclass(frozen=True, slots=True)
class OpenQuestions:
    """An upcoming session of the patient whose pre-visit questions are open."""

    pk: int
    starts_at: datetime
    answered_at: datetime | None


def open_questions(patient_id: int, *, now: datetime) -> list[OpenQuestions]:
    """The patient's booked sessions ahead whose questions are open: within PORTAL_PREVISIT_HOURS
    of their start, or already sent. Soonest first; one query."""
    window = now + timedelta(hours=settings.PORTAL_PREVISIT_HOURS)
    rows = (
        Appointment.objects.filter(patient_id=patient_id, status=Appointment.Status.BOOKED, starts_at__gt=now)
        .filter(Q(starts_at__lte=window) | Q(previsit__sent_at__isnull=False))
        .order_by("starts_at", "pk")
        .values_list("pk", "starts_at", "previsit__answered_at")
    )
    return [OpenQuestions(pk, starts, answered) for pk, starts, answered in rows]
