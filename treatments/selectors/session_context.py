"""What a session's record judges, read once per request: the catalog, the patient's profile on the
session's day, the engine's verdict for that day, the screening checklist, the precautions to
confirm, the safe ranges and the record's fields. Forms, services and templates take it from here
instead of rebuilding any of it."""

from dataclasses import dataclass
from datetime import date
from typing import TypedDict

from treatments.engine import planning, record_rules, screening
from treatments.engine.plan_results import TreatmentCheck
from treatments.engine.profile_validation import Profile
from treatments.engine.record_rules import Limits, RecordFieldSpec
from treatments.engine.screening import Question
from treatments.models import Appointment
from treatments.selectors.availability import clinic_zone
from treatments.selectors.patient_profile import profile_for_patient
from treatments.selectors.plan_suggestions import CurrentCatalog, current_catalog


class Alert(TypedDict):
    severity: str  # a rule's severity, or "allergy"
    text: str


class Precaution(TypedDict):
    code: str
    text: str


def session_day(appointment: Appointment) -> date:
    return appointment.starts_at.astimezone(clinic_zone()).date()


def area_slugs(appointment: Appointment) -> list[str]:
    return sorted(area.slug for area in appointment.areas.all())


def day_verdict(*, appointment: Appointment, catalog: CurrentCatalog, profile: Profile) -> TreatmentCheck:
    """The engine's judgement of the session on its day: blocking reasons and precaution flags."""
    return planning.check_treatment(
        profile, catalog.engine, appointment.treatment.slug, area_slugs(appointment)
    )


def blocked_on_its_day(appointment: Appointment, *, catalog: CurrentCatalog | None = None) -> bool:
    """Whether the patient's history now blocks the session on its day (a condition recorded since
    it was booked, an intake reviewed, a clearance withdrawn): the booking's check, judged again.
    The profile's queries; for one session's panel, not for a list."""
    catalog = catalog or current_catalog()
    profile = profile_for_patient(appointment.patient, today=session_day(appointment))
    return bool(day_verdict(appointment=appointment, catalog=catalog, profile=profile).reasons)


def precautions(verdict: TreatmentCheck) -> list[Precaution]:
    """The precaution flags of a verdict: the screening asks whether each was followed."""
    return [{"code": flag.code, "text": flag.text} for flag in verdict.flags]


def session_alerts(
    *, appointment: Appointment, catalog: CurrentCatalog, profile: Profile, verdict: TreatmentCheck
) -> list[Alert]:
    """What the clinician must see before opening the session: the contraindications that block
    it today first, then precautions, then allergies."""
    found: list[Alert] = [{"severity": r.severity.value, "text": r.text} for r in verdict.reasons]
    found += [{"severity": "precaution", "text": flag.text} for flag in verdict.flags]
    conditions = catalog.engine.conditions
    allergies = sorted(
        {
            c["condition"]
            for c in profile["conditions"]
            if conditions.get(c["condition"], {}).get("kind") == "allergy" and not c["until"]
        }
    )
    for slug in allergies:
        found.append({"severity": "allergy", "text": f"Allergy: {conditions[slug].get('name', slug)}"})
    other = appointment.patient.other_allergies.strip()
    if other:
        found.append({"severity": "allergy", "text": f"Allergies: {other}"})
    return found


def session_limits(*, appointment: Appointment, catalog: CurrentCatalog) -> tuple[Limits, dict[str, float]]:
    """(safe ranges, planned depths): the accepted plan's choices for this session, else the
    widest range the catalog's protocols allow on its areas."""
    areas = area_slugs(appointment)
    treatment = appointment.treatment.slug
    chosen = appointment.plan.chosen if appointment.plan is not None else None
    planned_limits, planned_depths = record_rules.plan_settings(chosen, treatment, areas)
    found = planned_limits or record_rules.session_limits(
        catalog.engine, treatment, areas, appointment.patient.fitzpatrick
    )
    return found, planned_depths


@dataclass(frozen=True)
class SessionContext:
    catalog: CurrentCatalog
    treatment: str
    day: date
    areas: tuple[str, ...]
    profile: Profile
    verdict: TreatmentCheck
    alerts: tuple[Alert, ...]
    checklist: tuple[Question, ...]
    precautions: tuple[Precaution, ...]
    limits: Limits
    planned_depths: dict[str, float]
    record_fields: tuple[RecordFieldSpec, ...]


def session_context(appointment: Appointment, *, catalog: CurrentCatalog | None = None) -> SessionContext:
    """Judge the session once. The appointment should come with its patient, treatment, plan and
    areas joined; the profile takes three queries (concerns, history, clearances)."""
    catalog = catalog or current_catalog()
    day = session_day(appointment)
    profile = profile_for_patient(appointment.patient, today=day)
    verdict = day_verdict(appointment=appointment, catalog=catalog, profile=profile)
    limits, planned_depths = session_limits(appointment=appointment, catalog=catalog)
    engine = catalog.engine
    treatment = appointment.treatment.slug
    return SessionContext(
        catalog=catalog,
        treatment=treatment,
        day=day,
        areas=tuple(area_slugs(appointment)),
        profile=profile,
        verdict=verdict,
        alerts=tuple(
            session_alerts(appointment=appointment, catalog=catalog, profile=profile, verdict=verdict)
        ),
        checklist=tuple(screening.checklist(engine, treatment)),
        precautions=tuple(precautions(verdict)),
        limits=limits,
        planned_depths=planned_depths,
        record_fields=tuple(record_rules.record_fields(engine, treatment)),
    )
