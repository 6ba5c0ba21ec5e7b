"""Build the plan engine's profile (docs: shared/domain/plan-api.md) from a stored patient."""

from django.db.models import Prefetch

from patients.models import Concern, ConditionRecord
from treatments.models import Clearance


def _iso(value):
    return value.isoformat() if value else None


def _concerns():
    return (
        Concern.objects.filter(resolved_at__isnull=True).select_related("concern").prefetch_related("areas")
    )


def _records():
    return (
        ConditionRecord.objects.select_related("condition").prefetch_related("areas").order_by("since", "id")
    )


def _clearances():
    return Clearance.objects.filter(revoked_at__isnull=True).select_related(
        "treatment", "condition", "cleared_by"
    )


# For lists of patients: prefetch these and profile_for_patient runs no queries of its own.
PROFILE_PREFETCH = [
    Prefetch("concerns", queryset=_concerns(), to_attr="open_concerns"),
    Prefetch("conditions", queryset=_records(), to_attr="history_records"),
    Prefetch("clearances", queryset=_clearances(), to_attr="active_clearances"),
]


def profile_for_patient(patient, *, today):
    concerns = getattr(patient, "open_concerns", None)
    if concerns is None:
        concerns = _concerns().filter(patient=patient)
    records = getattr(patient, "history_records", None)
    if records is None:
        records = _records().filter(patient=patient)
    clearances = getattr(patient, "active_clearances", None)
    if clearances is None:
        clearances = _clearances().filter(patient=patient)
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
