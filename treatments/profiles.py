"""Build the plan engine's profile (docs: shared/domain/plan-api.md) from a stored patient."""

from django.db.models import Prefetch

from patients.models import Concern, ConditionRecord
from treatments.models import Clearance


def _iso(value):
    return value.isoformat() if value else None


def profile_for_patient(patient, *, today):
    concerns = (
        Concern.objects.filter(patient=patient, resolved_at__isnull=True)
        .select_related("concern")
        .prefetch_related("areas")
    )
    records = (
        ConditionRecord.objects.filter(patient=patient)
        .select_related("condition")
        .prefetch_related(Prefetch("areas"))
        .order_by("since", "id")
    )
    clearances = Clearance.objects.filter(patient=patient, revoked_at__isnull=True).select_related(
        "treatment", "condition", "cleared_by"
    )
    return {
        "today": today.isoformat(),
        "patient": {
            "birth_date": _iso(patient.date_of_birth),
            "sex": patient.sex,
            "fitzpatrick": patient.fitzpatrick,
        },
        "concerns": [
            {
                "concern": item.concern.slug,
                "areas": sorted(area.slug for area in item.areas.all()),
                "severity": item.severity,
                "note": item.note,
            }
            for item in concerns
        ],
        "conditions": [
            {
                "condition": record.condition.slug,
                "areas": sorted(area.slug for area in record.areas.all()),
                "since": _iso(record.since),
                "until": _iso(record.until),
                "note": record.notes,
            }
            for record in records
        ],
        "cleared": [
            {
                "treatment": clearance.treatment.slug,
                "condition": clearance.condition.slug,
                "reason": clearance.reason,
                "by": clearance.cleared_by.get_username(),
            }
            for clearance in clearances
        ],
    }
