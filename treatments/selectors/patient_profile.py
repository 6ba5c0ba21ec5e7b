"""Build the plan engine's profile (docs: shared/domain/plan-api.md) from a stored patient."""

from collections.abc import Iterable
from datetime import date, datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from patients.models import Concern, ConditionRecord, Patient
from treatments.engine.profile_validation import Profile
from treatments.models import Appointment, Clearance, TreatmentGroup

# Sessions done in the clinic count in the patient's history (repeat floors between sessions).
SESSIONS_DONE = (Appointment.Status.IN_PROGRESS, Appointment.Status.COMPLETED)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _concerns() -> QuerySet[Concern]:
    return (
        Concern.objects.filter(resolved_at__isnull=True).select_related("concern").prefetch_related("areas")
    )


def _records() -> QuerySet[ConditionRecord]:
    return (
        ConditionRecord.objects.select_related("condition").prefetch_related("areas").order_by("since", "id")
    )


def _clearances() -> QuerySet[Clearance]:
    return Clearance.objects.filter(revoked_at__isnull=True).select_related(
        "treatment", "condition", "cleared_by"
    )


def _sessions_done() -> QuerySet[Appointment]:
    return Appointment.objects.filter(status__in=SESSIONS_DONE).order_by("starts_at")


def _history_groups() -> QuerySet[TreatmentGroup]:
    return TreatmentGroup.objects.filter(history_condition__isnull=False).select_related("history_condition")


# One row per session, area and history event (a group's `history_condition`): one query in all.
SESSION_FIELDS = (
    "id",
    "starts_at",
    "treatment__name",
    "areas__slug",
    "treatment__groups__history_condition__slug",
)
SessionRow = tuple[int, datetime, str, str | None, str]


def _session_rows(patient: Patient) -> Iterable[SessionRow]:
    prefetched: list[Appointment] | None = getattr(patient, "sessions_done", None)
    if prefetched is None:
        return (
            _sessions_done()
            .filter(patient=patient, treatment__groups__history_condition__isnull=False)
            .values_list(*SESSION_FIELDS)
        )
    rows: list[SessionRow] = []
    for done in prefetched:
        slugs: list[str | None] = [area.slug for area in done.areas.all()] or [None]
        groups: list[TreatmentGroup] = getattr(done.treatment, "history_groups", [])
        for group in groups:
            assert group.history_condition is not None  # filtered by _history_groups
            rows += [
                (done.pk, done.starts_at, done.treatment.name, slug, group.history_condition.slug)
                for slug in slugs
            ]
    return rows


def _session_records(rows: Iterable[SessionRow], today: date) -> list[dict[str, object]]:
    """A session done in the clinic, as the history event it stands for (e.g. Recent microneedling)."""
    found: dict[tuple[int, str], tuple[date, str, set[str]]] = {}
    for pk, starts_at, name, area, condition in rows:
        entry = found.setdefault((pk, condition), (timezone.localdate(starts_at), name, set()))
        if area:
            entry[2].add(area)
    return [
        {
            "condition": condition,
            "areas": sorted(areas),
            "since": day.isoformat(),
            "until": day.isoformat(),
            "note": f"{name} in the clinic",
        }
        for (_, condition), (day, name, areas) in found.items()
        # Only days before: a session being screened today must not count against itself.
        if day < today
    ]


# For lists of patients: prefetch these and profile_for_patient runs no queries of its own.
PROFILE_PREFETCH = [
    Prefetch("concerns", queryset=_concerns(), to_attr="open_concerns"),
    Prefetch("conditions", queryset=_records(), to_attr="history_records"),
    Prefetch("clearances", queryset=_clearances(), to_attr="active_clearances"),
    Prefetch(
        "appointments",
        queryset=_sessions_done()
        .select_related("treatment")
        .prefetch_related(
            "areas", Prefetch("treatment__groups", _history_groups(), to_attr="history_groups")
        ),
        to_attr="sessions_done",
    ),
]


def profile_for_patient(patient: Patient, *, today: date) -> Profile:
    concerns: Iterable[Concern] | None = getattr(patient, "open_concerns", None)
    if concerns is None:
        concerns = _concerns().filter(patient=patient)
    records: Iterable[ConditionRecord] | None = getattr(patient, "history_records", None)
    if records is None:
        records = _records().filter(patient=patient)
    clearances: Iterable[Clearance] | None = getattr(patient, "active_clearances", None)
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
                **({"value": float(record.value)} if record.value is not None else {}),
            }
            for record in records
        ]
        + _session_records(_session_rows(patient), today),
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
