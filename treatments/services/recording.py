"""Writing a session's clinical record: screening, procedure, outcomes, photos, signature, addenda.

Each write locks the record's row and refuses once the record is signed; corrections after
signing are addenda. The clinical judgements are in the pure modules `screening` and `record_rules`.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from patients.models import ConditionRecord, MedicalCondition
from treatments.engine import record_rules, screening
from treatments.engine.planning import check_treatment
from treatments.models import Addendum, Appointment, OutcomeScore, SessionPhoto, SessionRecord
from treatments.selectors.availability import clinic_zone
from treatments.selectors.patient_profile import profile_for_patient
from treatments.selectors.plan_suggestions import current_catalog
from treatments.services import booking
from treatments.services.plans import missing_consents

# What the front desk sees on a session stopped at screening: that it was clinical, not why.
STOPPED_REASON = "Stopped for a clinical reason."
LOCKED = "This record is signed and can no longer be edited. Add an addendum to correct it."
OPEN_STATUSES = (Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN, Appointment.Status.IN_PROGRESS)


def session_day(appointment):
    return appointment.starts_at.astimezone(clinic_zone()).date()


def area_slugs(appointment):
    return sorted(area.slug for area in appointment.areas.all())


def checklist(appointment, catalog=None):
    catalog = catalog or current_catalog()
    return screening.checklist(catalog.engine, appointment.treatment.slug)


def limits(appointment, catalog=None):
    """(safe ranges, planned depths) for the session's procedure values."""
    catalog = catalog or current_catalog()
    areas = area_slugs(appointment)
    chosen = appointment.plan.chosen if appointment.plan_id else None
    planned_limits, planned_depths = record_rules.plan_settings(chosen, appointment.treatment.slug, areas)
    found = planned_limits or record_rules.session_limits(
        catalog.engine, appointment.treatment.slug, areas, appointment.patient.fitzpatrick
    )
    return found, planned_depths


def verdict_today(appointment, catalog=None, *, profile=None):
    """The engine's judgement of the session on its day: blocking reasons and precaution flags."""
    catalog = catalog or current_catalog()
    profile = profile or profile_for_patient(appointment.patient, today=session_day(appointment))
    return check_treatment(profile, catalog.engine, appointment.treatment.slug, area_slugs(appointment))


def alerts(appointment, catalog=None, *, profile=None, verdict=None):
    """What the clinician must see before opening the session: [{"severity", "text"}], the
    contraindications that block it today first, then precautions, then allergies."""
    catalog = catalog or current_catalog()
    profile = profile or profile_for_patient(appointment.patient, today=session_day(appointment))
    verdict = verdict or verdict_today(appointment, catalog, profile=profile)
    found = [{"severity": r["severity"], "text": r["text"]} for r in verdict["reasons"]]
    found += [{"severity": "precaution", "text": f["text"]} for f in verdict["flags"]]
    allergies = [
        c["condition"]
        for c in profile["conditions"]
        if c["condition"] in _allergy_slugs(catalog) and not c["until"]
    ]
    names = {slug: catalog.engine.conditions.get(slug, {}).get("name", slug) for slug in allergies}
    found += [{"severity": "allergy", "text": f"Allergy: {names[slug]}"} for slug in sorted(set(allergies))]
    if appointment.patient.other_allergies.strip():
        found.append(
            {"severity": "allergy", "text": f"Allergies: {appointment.patient.other_allergies.strip()}"}
        )
    return found


def precautions(verdict):
    """The precaution flags of a verdict: the screening asks whether each was followed."""
    return [{"code": f["code"], "text": f["text"]} for f in verdict["flags"]]


def _allergy_slugs(catalog):
    return {slug for slug, c in catalog.engine.conditions.items() if c.get("kind") == "allergy"}


def consent_problems(appointment, catalog=None):
    catalog = catalog or current_catalog()
    return missing_consents(
        patient=appointment.patient, treatments={appointment.treatment.slug}, catalog_data=catalog.data
    )


def _locked_record(appointment):
    """The record's row, locked for this transaction (created on first use)."""
    SessionRecord.objects.get_or_create(appointment=appointment)
    record = (
        SessionRecord.objects.select_for_update().select_related("appointment").get(appointment=appointment)
    )
    if record.signed:
        raise ValidationError(LOCKED)
    return record


def _advance(appointment, wanted, by):
    """Walk the appointment to `wanted` through the lifecycle's steps (a clinician may check in)."""
    steps = {
        Appointment.Status.IN_PROGRESS: [Appointment.Status.CHECKED_IN, Appointment.Status.IN_PROGRESS],
        Appointment.Status.COMPLETED: [Appointment.Status.COMPLETED],
    }[wanted]
    for status in steps:
        appointment.refresh_from_db(fields=["status"])
        if appointment.status != status:
            booking.change_status(appointment, status=status, by=by)


@transaction.atomic
def screen(appointment, *, answers, consent_confirmed, photos_taken, new_medications, by, followed=None):
    """Record the day-of screening. A "yes" that stops the treatment stops the session: the
    findings join the patient's history and the session is cancelled for a clinical reason.
    Returns the record."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status not in OPEN_STATUSES:
        raise ValidationError(
            f"This session is {appointment.get_status_display().lower()}; it cannot be screened."
        )
    record = _locked_record(appointment)
    catalog = current_catalog()
    questions = checklist(appointment, catalog)
    asked = {q["condition"] for q in questions}
    answers = {slug: bool(yes) for slug, yes in answers.items() if slug in asked}
    if not consent_confirmed:
        raise ValidationError({"consent_confirmed": ["Confirm the consent on file before treating."]})
    missing = consent_problems(appointment, catalog)
    if missing:
        raise ValidationError({"consent_confirmed": missing})
    day = session_day(appointment)
    areas = area_slugs(appointment)
    profile = profile_for_patient(appointment.patient, today=day)
    asked_precautions = precautions(verdict_today(appointment, catalog, profile=profile))
    verdict = screening.evaluate(profile, catalog.engine, appointment.treatment.slug, areas, answers)
    _record_findings(appointment, verdict["records"], by, day)
    record.screening = {
        "questions": [{**q, "yes": answers.get(q["condition"], False)} for q in questions],
        "consent_confirmed": True,
        "photos_taken": bool(photos_taken),
        "new_medications": new_medications.strip(),
        "precautions": [
            {**flag, "followed": (followed or {}).get(flag["code"], False)} for flag in asked_precautions
        ],
    }
    record.screened_by = by
    record.screened_at = timezone.now()
    record.stopped = verdict["stop"]
    record.stop_reasons = verdict["reasons"]
    record.updated_by = by
    record.save()
    if record.stopped:
        booking.change_status(appointment, status=Appointment.Status.CANCELLED, by=by, reason=STOPPED_REASON)
    else:
        _advance(appointment, Appointment.Status.IN_PROGRESS, by)
    return record


def _record_findings(appointment, records, by, day):
    conditions = {
        c.slug: c for c in MedicalCondition.objects.filter(slug__in=[r["condition"] for r in records])
    }
    areas = {a.slug: a for a in appointment.areas.all()}
    for found in records:
        entry = ConditionRecord.objects.create(
            patient=appointment.patient,
            condition=conditions[found["condition"]],
            since=day,
            notes="Found at the day-of screening.",
            recorded_by=by,
        )
        entry.areas.set([areas[slug] for slug in found["areas"] if slug in areas])


def _screened(record):
    if record.screened_at is None:
        raise ValidationError("Complete the screening first.")
    if record.stopped:
        raise ValidationError("This session was stopped at screening.")


@transaction.atomic
def save_procedure(appointment, *, values, notes, confirmations, by, catalog=None):
    """Store the procedure values. Values outside the safe ranges need a reason each:
    ValidationError keyed by value ("needle_depth_mm.cheeks") when one is missing."""
    record = _locked_record(appointment)
    _screened(record)
    found, _ = limits(appointment, catalog)
    problems = record_rules.out_of_range(values, found)
    missing = record_rules.unconfirmed(problems, confirmations)
    if missing:
        raise ValidationError(
            {p.key: [f"{p.message} Confirm it with a reason, or correct the value."] for p in missing}
        )
    record.values = values
    record.confirmations = {
        p.key: {"message": p.message, "reason": confirmations[p.key].strip()} for p in problems
    }
    record.notes = notes.strip()
    record.updated_by = by
    record.save()
    return record


@transaction.atomic
def save_outcomes(appointment, *, scores, by):
    """scores: {Concern: (clinician score, patient score or None)}."""
    record = _locked_record(appointment)
    _screened(record)
    for concern, (clinician_score, patient_score) in scores.items():
        if clinician_score is None:
            OutcomeScore.objects.filter(appointment=appointment, concern=concern).delete()
            continue
        OutcomeScore.objects.update_or_create(
            appointment=appointment,
            concern=concern,
            defaults={"clinician_score": clinician_score, "patient_score": patient_score, "recorded_by": by},
        )


@transaction.atomic
def add_photo(appointment, *, area, kind, image, by):
    _locked_record(appointment)
    return SessionPhoto.objects.create(
        appointment=appointment,
        area=area,
        kind=kind,
        image=image,
        content_type=getattr(image, "content_type", "") or "",
        uploaded_by=by,
    )


@transaction.atomic
def sign(appointment, *, aftercare_given, by):
    """Sign and lock the record; the session is then completed and the plan moves on."""
    record = _locked_record(appointment)
    _screened(record)
    if not record.values:
        raise ValidationError("Record the procedure before signing.")
    if not aftercare_given:
        raise ValidationError({"aftercare_given": ["Give the aftercare instructions before signing."]})
    record.aftercare_given = list(appointment.treatment.aftercare_lines())
    record.aftercare_given_at = timezone.now()
    record.signed_by = by
    record.signed_at = record.aftercare_given_at
    record.updated_by = by
    record.save()
    _advance(appointment, Appointment.Status.COMPLETED, by)
    return record


@transaction.atomic
def add_addendum(record, *, text, reason, by):
    record = SessionRecord.objects.select_for_update().get(pk=record.pk)
    if not record.signed:
        raise ValidationError("The record is not signed yet: edit it directly.")
    errors = {}
    if not text.strip():
        errors["text"] = ["Write the correction or addition."]
    if not reason.strip():
        errors["reason"] = ["Say why the record is amended."]
    if errors:
        raise ValidationError(errors)
    return Addendum.objects.create(record=record, text=text.strip(), reason=reason.strip(), author=by)
