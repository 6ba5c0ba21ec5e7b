"""Build the plan engine's profile (docs: shared/domain/plan-api.md) from a stored patient.

Read as plain values, for one patient or many at once (`profiled`): a fixed handful of queries
whatever the number of patients and the length of their histories."""

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from patients.models import Concern, ConditionRecord, Patient
from treatments.engine.profile_validation import Profile
from treatments.models import Appointment, Clearance

# Sessions done in the clinic count in the patient's history (repeat floors between sessions).
SESSIONS_DONE = (Appointment.Status.IN_PROGRESS, Appointment.Status.COMPLETED)

# One row per session, area and history event (a group's `history_condition`): one query in all.
SESSION_FIELDS = (
    "id",
    "starts_at",
    "treatment__name",
    "areas__slug",
    "treatment__groups__history_condition__slug",
)
SessionRow = tuple[int, datetime, str, str | None, str]
Json = dict[str, Any]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


@dataclass
class _Facts:
    """What a patient's profile is made of, beside the patient row itself."""

    concerns: list[Json] = field(default_factory=list)
    conditions: list[Json] = field(default_factory=list)
    cleared: list[Json] = field(default_factory=list)
    sessions: list[SessionRow] = field(default_factory=list)


def _areas(through: Any, owner: str, ids: Collection[int]) -> dict[int, list[str]]:
    """{owner id: its areas' slugs, sorted} from an `areas` many-to-many table."""
    found: dict[int, list[str]] = defaultdict(list)
    for owner_id, slug in through.objects.filter(**{f"{owner}_id__in": list(ids)}).values_list(
        f"{owner}_id", "bodyarea__slug"
    ):
        found[owner_id].append(slug)
    for slugs in found.values():
        slugs.sort()
    return found


def _facts(patient_ids: Collection[int]) -> dict[int, _Facts]:
    facts = {pk: _Facts() for pk in patient_ids}
    ids = list(facts)
    concerns = list(
        Concern.objects.filter(patient_id__in=ids, resolved_at__isnull=True)
        .order_by("id")
        .values_list("id", "patient_id", "concern__slug", "severity", "note")
    )
    concern_areas = _areas(Concern.areas.through, "concern", [row[0] for row in concerns])
    for pk, patient, slug, severity, note in concerns:
        facts[patient].concerns.append(
            {"concern": slug, "areas": concern_areas.get(pk, []), "severity": severity, "note": note}
        )
    records = list(
        ConditionRecord.objects.filter(patient_id__in=ids)
        .order_by("since", "id")
        .values_list("id", "patient_id", "condition__slug", "since", "until", "notes", "value")
    )
    record_areas = _areas(ConditionRecord.areas.through, "conditionrecord", [row[0] for row in records])
    for pk, patient, slug, since, until, notes, value in records:
        facts[patient].conditions.append(
            {
                "condition": slug,
                "areas": record_areas.get(pk, []),
                "since": _iso(since),
                "until": _iso(until),
                "note": notes,
                **({"value": float(value)} if value is not None else {}),
            }
        )
    for patient, treatment, condition, reason, by in (
        Clearance.objects.filter(patient_id__in=ids, revoked_at__isnull=True)
        .order_by("-cleared_at")
        .values_list("patient_id", "treatment__slug", "condition__slug", "reason", "cleared_by__username")
    ):
        facts[patient].cleared.append(
            {"treatment": treatment, "condition": condition, "reason": reason, "by": by}
        )
    for patient, *row in (
        Appointment.objects.filter(
            patient_id__in=ids, status__in=SESSIONS_DONE, treatment__groups__history_condition__isnull=False
        )
        .order_by("starts_at")
        .values_list("patient_id", *SESSION_FIELDS)
    ):
        facts[patient].sessions.append(tuple(row))
    return facts


def _session_records(rows: Iterable[SessionRow], today: date) -> list[dict[str, object]]:
    """Sessions done in the clinic, as the history events they stand for (e.g. Recent microneedling).

    Only the latest session of each event on the same areas is kept: every rule on such an event
    runs from its date (the session's day), so a later one ends every window an earlier one could
    open, and a patient with a hundred sessions is not judged a hundred times over."""
    found: dict[tuple[int, str], tuple[date, str, set[str]]] = {}
    for pk, starts_at, name, area, condition in rows:
        entry = found.setdefault((pk, condition), (timezone.localdate(starts_at), name, set()))
        if area:
            entry[2].add(area)
    latest: dict[tuple[str, tuple[str, ...]], tuple[date, str]] = {}
    for (_, condition), (day, name, areas) in found.items():
        # Only days before: a session being screened today must not count against itself.
        key = (condition, tuple(sorted(areas)))
        if day < today and (key not in latest or day >= latest[key][0]):
            latest[key] = (day, name)
    return [
        {
            "condition": condition,
            "areas": list(areas),
            "since": day.isoformat(),
            "until": day.isoformat(),
            "note": f"{name} in the clinic",
        }
        for (condition, areas), (day, name) in sorted(latest.items(), key=lambda item: (item[1][0], item[0]))
    ]


def profiled(patients: QuerySet[Patient]) -> list[Patient]:
    """The patients, each with what profile_for_patient reads: six queries in all, whatever their
    number and their histories."""
    found = list(patients)
    facts = _facts([patient.pk for patient in found])
    for patient in found:
        patient.profile_facts = facts[patient.pk]  # type: ignore[attr-defined]
    return found


def profile_for_patient(patient: Patient, *, today: date) -> Profile:
    facts: _Facts | None = getattr(patient, "profile_facts", None)
    if facts is None:
        facts = _facts([patient.pk])[patient.pk]
    return {
        "today": today.isoformat(),
        "patient": {
            "birth_date": _iso(patient.date_of_birth),
            "sex": patient.sex,
            "fitzpatrick": patient.fitzpatrick,
        },
        "concerns": [dict(concern) for concern in facts.concerns],
        "conditions": [dict(record) for record in facts.conditions] + _session_records(facts.sessions, today),
        "cleared": [dict(clearance) for clearance in facts.cleared],
    }
