"""Writing a session's clinical record: screening, procedure, outcomes, photos, signature, addenda.

Each write locks the record's row and refuses once the record is signed; corrections after
signing are addenda. A procedure save names the record version its form was built on, and is
refused under the lock when another save came first, so two clinicians saving at once cannot both
win; a second screening is refused the same way. The judgements come in with the session's context
(treatments.selectors.session_context), built once per request; the rules are in the engine's
`screening` and `record_rules`.
"""

from collections.abc import Mapping, Sequence

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from patients.models import BodyArea, Concern, MedicalCondition
from patients.services import condition_record_create
from treatments.engine import record_rules, screening
from treatments.engine.record_rules import RecordValues
from treatments.engine.screening import Finding
from treatments.models import Addendum, Appointment, OutcomeScore, SessionPhoto, SessionRecord
from treatments.selectors.session_context import SessionContext, session_day
from treatments.selectors.session_versions import record_last_change, record_version
from treatments.services import booking, previsit
from treatments.services.photos import photo_without_metadata
from treatments.services.plans import missing_consents

# What the front desk sees on a session stopped at screening: that it was clinical, not why.
STOPPED_REASON = "Stopped for a clinical reason."
LOCKED = "This record is signed and can no longer be edited. Add an addendum to correct it."
NOT_OPEN = "This session is {status}; it cannot be screened."
NOT_ITS_DAY = "The day-of screening is recorded on the session's day ({day:%a %d %b})."
CONFIRM_CONSENT = "Confirm the consent on file before treating."
SCREEN_FIRST = "Complete the screening first."
STOPPED_AT_SCREENING = "This session was stopped at screening."
CONFIRM_OR_CORRECT = "{problem} Confirm it with a reason, or correct the value."
PROCEDURE_FIRST = "Record the procedure before signing."
AFTERCARE_FIRST = "Give the aftercare instructions before signing."
NOT_SIGNED = "The record is not signed yet: edit it directly."
ADDENDUM_TEXT_NEEDED = "Write the correction or addition."
ADDENDUM_REASON_NEEDED = "Say why the record is amended."
FOUND_AT_SCREENING = "Found at the day-of screening."
# The code patients.forms.EditedSinceCheck gives the same refusal on a form.
EDITED_MEANWHILE = "edited_meanwhile"
CHANGED_MEANWHILE = "{who} saved this record at {when} while you were editing it: check it and save again."
ALREADY_SCREENED = "{who} recorded the screening at {when}; it was not recorded again."

# Scores per concern: (the clinician's, the patient's or None); no clinician score removes it.
Scores = Mapping[Concern, tuple[int | None, int | None]]


def consent_problems(*, appointment: Appointment, context: SessionContext) -> list[str]:
    return missing_consents(
        patient=appointment.patient,
        treatments={context.treatment},
        catalog_data=context.catalog.data,
        plan_id=appointment.plan_id,
    )


def _locked_record(appointment: Appointment) -> SessionRecord:
    """The record's row, locked for this transaction (created on first use)."""
    SessionRecord.objects.get_or_create(appointment=appointment)
    record = (
        SessionRecord.objects.select_for_update().select_related("appointment").get(appointment=appointment)
    )
    if record.signed:
        raise ValidationError(LOCKED)
    return record


def _last_change(record: SessionRecord) -> dict[str, str]:
    who, when = record_last_change(record)
    return {"who": who, "when": f"{timezone.localtime(when):%H:%M}" if when else "a moment ago"}


def _unchanged_since(record: SessionRecord, seen_version: int | None) -> None:
    """Under the record's lock: refuse a save built on an older version than the newest saved."""
    if seen_version is not None and record_version(record) != seen_version:
        raise ValidationError(CHANGED_MEANWHILE.format(**_last_change(record)), code=EDITED_MEANWHILE)


def _advance(appointment: Appointment, wanted: str, by: User) -> None:
    """Walk the appointment to `wanted` through the lifecycle's steps (a clinician may check in)."""
    steps: dict[str, list[str]] = {
        Appointment.Status.IN_PROGRESS: [Appointment.Status.CHECKED_IN, Appointment.Status.IN_PROGRESS],
        Appointment.Status.COMPLETED: [Appointment.Status.COMPLETED],
    }
    for status in steps[wanted]:
        appointment.refresh_from_db(fields=["status"])
        if appointment.status != status:
            booking.session_status_change(appointment=appointment, status=status, by=by)


@transaction.atomic
def session_screen(
    *,
    appointment: Appointment,
    context: SessionContext,
    answers: Mapping[str, bool],
    consent_confirmed: bool,
    photos_taken: bool,
    new_medications: str,
    by: User,
    followed: Mapping[str, bool] | None = None,
) -> SessionRecord:
    """Record the day-of screening. A "yes" that stops the treatment stops the session: the
    findings join the patient's history and the session is cancelled for a clinical reason."""
    locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if locked.status not in Appointment.OPEN:
        raise ValidationError(NOT_OPEN.format(status=locked.get_status_display().lower()))
    day = session_day(locked)
    if day != timezone.localdate():
        # The answers are about today: asked the day before, a "yes" would cancel tomorrow's session.
        raise ValidationError(NOT_ITS_DAY.format(day=day))
    record = _locked_record(locked)
    if record.screened_at is not None:
        screener = record.screened_by
        raise ValidationError(
            ALREADY_SCREENED.format(
                who=(screener.get_full_name() or screener.get_username()) if screener else "Someone",
                when=f"{timezone.localtime(record.screened_at):%H:%M}",
            ),
            code=EDITED_MEANWHILE,
        )
    asked = {q["condition"] for q in context.checklist}
    answered = {slug: bool(yes) for slug, yes in answers.items() if slug in asked}
    if not consent_confirmed:
        raise ValidationError({"consent_confirmed": [CONFIRM_CONSENT]})
    missing = consent_problems(appointment=appointment, context=context)
    if missing:
        raise ValidationError({"consent_confirmed": missing})
    outcome = screening.evaluate(
        context.profile, context.catalog.engine, context.treatment, context.areas, answered
    )
    _record_findings(appointment=appointment, findings=outcome.findings, by=by, context=context)
    record.screening = {
        "questions": [{**q, "yes": answered.get(q["condition"], False)} for q in context.checklist],
        "consent_confirmed": True,
        "photos_taken": bool(photos_taken),
        "new_medications": new_medications.strip(),
        "precautions": [
            {**flag, "followed": (followed or {}).get(flag["code"], False)} for flag in context.precautions
        ],
    }
    record.screened_by = by
    record.screened_at = timezone.now()
    record.stopped = outcome.stop
    record.stop_reasons = [reason.to_json() for reason in outcome.reasons]
    record.updated_by = by
    record.save()
    # The patient's pre-visit answers, if any, were gone through with them on this form.
    previsit.previsit_confirm(appointment=locked, by=by, now=record.screened_at)
    if record.stopped:
        booking.session_status_change(
            appointment=locked, status=Appointment.Status.CANCELLED, by=by, reason=STOPPED_REASON
        )
    else:
        _advance(locked, Appointment.Status.IN_PROGRESS, by)
    return record


def _record_findings(
    *, appointment: Appointment, findings: Sequence[Finding], by: User, context: SessionContext
) -> None:
    if not findings:
        return
    conditions = {
        c.slug: c for c in MedicalCondition.objects.filter(slug__in=[f["condition"] for f in findings])
    }
    areas: dict[str, BodyArea] = {area.slug: area for area in appointment.areas.all()}
    for finding in findings:
        condition_record_create(
            patient=appointment.patient,
            condition=conditions[finding["condition"]],
            areas=[areas[slug] for slug in finding["areas"] if slug in areas],
            since=context.day,
            notes=FOUND_AT_SCREENING,
            by=by,
        )


def _screened(record: SessionRecord) -> None:
    if record.screened_at is None:
        raise ValidationError(SCREEN_FIRST)
    if record.stopped:
        raise ValidationError(STOPPED_AT_SCREENING)


@transaction.atomic
def procedure_save(
    *,
    appointment: Appointment,
    context: SessionContext,
    values: RecordValues,
    notes: str,
    confirmations: Mapping[str, str],
    by: User,
    seen_version: int | None = None,
) -> SessionRecord:
    """Store the procedure values. Values outside the safe ranges need a reason each:
    ValidationError keyed by value ("needle_depth_mm.cheeks") when one is missing. With
    `seen_version` (the record version the values were typed over), ValidationError with code
    EDITED_MEANWHILE when the record was saved since."""
    record = _locked_record(appointment)
    _screened(record)
    _unchanged_since(record, seen_version)
    problems = record_rules.out_of_range(values, context.limits, fields=context.record_fields)
    missing = record_rules.unconfirmed(problems, confirmations)
    if missing:
        raise ValidationError({p.key: [CONFIRM_OR_CORRECT.format(problem=p.message)] for p in missing})
    record.values = values
    record.confirmations = {
        p.key: {"message": p.message, "reason": confirmations[p.key].strip()} for p in problems
    }
    record.notes = notes.strip()
    record.updated_by = by
    record.save()
    return record


@transaction.atomic
def outcomes_save(*, appointment: Appointment, scores: Scores, by: User) -> None:
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
def photo_add(
    *, appointment: Appointment, area: BodyArea, kind: str, image: UploadedFile, by: User
) -> SessionPhoto:
    _locked_record(appointment)
    return SessionPhoto.objects.create(
        appointment=appointment,
        area=area,
        kind=kind,
        image=photo_without_metadata(image),
        content_type=image.content_type or "",
        uploaded_by=by,
    )


@transaction.atomic
def record_sign(*, appointment: Appointment, aftercare_given: bool, by: User) -> SessionRecord:
    """Sign and lock the record; the session is then completed and the plan moves on."""
    record = _locked_record(appointment)
    _screened(record)
    if not record.values:
        raise ValidationError(PROCEDURE_FIRST)
    if not aftercare_given:
        raise ValidationError({"aftercare_given": [AFTERCARE_FIRST]})
    record.aftercare_given = list(appointment.treatment.aftercare_lines())
    record.aftercare_given_at = timezone.now()
    record.signed_by = by
    record.signed_at = record.aftercare_given_at
    record.updated_by = by
    record.save()
    _advance(appointment, Appointment.Status.COMPLETED, by)
    return record


@transaction.atomic
def addendum_add(*, record: SessionRecord, text: str, reason: str, by: User) -> Addendum:
    record = SessionRecord.objects.select_for_update().get(pk=record.pk)
    if not record.signed:
        raise ValidationError(NOT_SIGNED)
    errors = {}
    if not text.strip():
        errors["text"] = [ADDENDUM_TEXT_NEEDED]
    if not reason.strip():
        errors["reason"] = [ADDENDUM_REASON_NEEDED]
    if errors:
        raise ValidationError(errors)
    return Addendum.objects.create(record=record, text=text.strip(), reason=reason.strip(), author=by)
