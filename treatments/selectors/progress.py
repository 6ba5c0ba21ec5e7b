"""How a patient's plans and concerns are going: sessions done against planned, and scores."""

from typing import TypedDict

from django.db.models import Count
from django.utils import timezone

from patients.models import Patient
from treatments.models import Appointment, OutcomeScore, Plan


class PlanProgress(TypedDict):
    plan: Plan
    planned: int
    done: int
    booked: int


class ScoreSeries(TypedDict):
    label: str
    dates: list[str]
    clinician: list[int]
    patient: list[int | None]


def plan_progress(patient: Patient) -> list[PlanProgress]:
    """Sessions done and booked against planned, for each accepted plan, in two queries."""
    plans = list(
        Plan.objects.filter(patient=patient, status=Plan.Status.ACCEPTED)
        # The page shows the version and date: not the suggestion and profile kept with it (~70 kB).
        .defer(*Plan.RECORD_FIELDS)
        .annotate(planned=Count("planned_sessions", distinct=True))
    )
    counts = {
        (row["plan"], row["status"]): row["n"]
        for row in Appointment.objects.filter(plan__in=plans, planned_session__isnull=False)
        .values("plan", "status")
        .annotate(n=Count("planned_session", distinct=True))
    }
    return [
        {
            "plan": plan,
            "planned": plan.planned,
            "done": counts.get((plan.pk, Appointment.Status.COMPLETED), 0),
            "booked": sum(
                counts.get((plan.pk, status), 0)
                for status in Appointment.ACTIVE
                if status != Appointment.Status.COMPLETED
            ),
        }
        for plan in plans
    ]


def concern_scores(patient: Patient) -> list[ScoreSeries]:
    """Chart data per concern, oldest score first."""
    series: dict[int, ScoreSeries] = {}
    scores = (
        OutcomeScore.objects.filter(concern__patient=patient)
        .order_by("appointment__starts_at")
        .values_list(
            "concern_id",
            "concern__concern__name",
            "appointment__starts_at",
            "clinician_score",
            "patient_score",
        )
    )
    for concern, name, starts_at, clinician, patient_score in scores:
        entry = series.setdefault(concern, {"label": name, "dates": [], "clinician": [], "patient": []})
        entry["dates"].append(timezone.localtime(starts_at).date().isoformat())
        entry["clinician"].append(clinician)
        entry["patient"].append(patient_score)
    return list(series.values())
