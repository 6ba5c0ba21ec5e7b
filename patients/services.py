import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from patients.models import (
    Concern,
    ConditionRecord,
    IntakeSubmission,
    MedicalCondition,
    Patient,
    PatientConsent,
)

INTAKE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
INTAKE_CODE_LENGTH = 8
INTAKE_VALID_FOR = timedelta(hours=4)

INTAKE_ALREADY_SUBMITTED = "This questionnaire has already been submitted."
INTAKE_EXPIRED = "This questionnaire link has expired. Please ask the front desk for a new one."
INTAKE_ALREADY_REVIEWED = "This intake has already been reviewed."
INTAKE_CHANGED = (
    "The patient changed these answers from the patient portal since you opened this page. "
    "Please review them again."
)
PATIENT_ARCHIVED = "This patient is archived. Restore them before making changes."


def _save(instance):
    instance.full_clean()
    instance.save()
    return instance


@transaction.atomic
def patient_create(*, by, **fields):
    return _save(Patient(created_by=by, **fields))


@transaction.atomic
def patient_update(*, patient, **fields):
    for name, value in fields.items():
        setattr(patient, name, value)
    return _save(patient)


@transaction.atomic
def patient_archive(*, patient, now):
    if patient.archived_at is None:
        patient.archived_at = now
        patient.save(update_fields=["archived_at", "updated_at"])
    return patient


@transaction.atomic
def patient_restore(*, patient):
    patient.archived_at = None
    patient.save(update_fields=["archived_at", "updated_at"])
    return patient


def _ensure_active(patient):
    if patient.archived_at is not None:
        raise ValidationError(PATIENT_ARCHIVED)


@transaction.atomic
def condition_record_create(
    *, patient, condition, by, areas=(), since=None, until=None, value=None, notes="", source=None
):
    _ensure_active(patient)
    record = ConditionRecord(
        patient=patient,
        condition=condition,
        since=since,
        until=until,
        value=value,
        notes=notes,
        recorded_by=by,
        source=source or ConditionRecord.Source.CLINICIAN,
    )
    _save(record)
    record.areas.set(areas)
    return record


@transaction.atomic
def condition_record_update(*, record, areas=None, **fields):
    _ensure_active(record.patient)
    for name, value in fields.items():
        setattr(record, name, value)
    _save(record)
    if areas is not None:
        record.areas.set(areas)
    return record


@transaction.atomic
def concern_create(*, patient, concern, areas, by, severity, goal="", note=""):
    _ensure_active(patient)
    item = _save(
        Concern(patient=patient, concern=concern, severity=severity, goal=goal, note=note, recorded_by=by)
    )
    item.areas.set(areas)
    return item


@transaction.atomic
def concern_update(*, item, areas=None, **fields):
    _ensure_active(item.patient)
    for name, value in fields.items():
        setattr(item, name, value)
    _save(item)
    if areas is not None:
        item.areas.set(areas)
    return item


@transaction.atomic
def consent_record(*, patient, form, signed_on, by, treatment=""):
    _ensure_active(patient)
    return _save(
        PatientConsent(patient=patient, form=form, signed_on=signed_on, treatment=treatment, recorded_by=by)
    )


def _new_code():
    return "".join(secrets.choice(INTAKE_CODE_ALPHABET) for _ in range(INTAKE_CODE_LENGTH))


@transaction.atomic
def intake_start(*, patient, by, now):
    _ensure_active(patient)
    return IntakeSubmission.objects.create(
        patient=patient,
        handed_out_by=by,
        code=_new_code(),
        token=secrets.token_urlsafe(32),
        expires_at=now + INTAKE_VALID_FOR,
    )


def intake_check_open(intake, *, now):
    if intake.submitted_at is not None:
        raise ValidationError(INTAKE_ALREADY_SUBMITTED)
    if intake.expires_at <= now:
        raise ValidationError(INTAKE_EXPIRED)


@transaction.atomic
def intake_submit(*, intake, answers, now):
    intake = IntakeSubmission.objects.select_for_update().get(pk=intake.pk)
    intake_check_open(intake, now=now)
    intake.answers = answers
    intake.submitted_at = now
    intake.save(update_fields=["answers", "submitted_at"])
    return intake


@transaction.atomic
def intake_review(*, intake, accepted, by, now, other_allergies=None, expected_submitted_at=None):
    """Turn the answers a clinician confirmed into dated history records, all or nothing.

    `accepted` is a list of dicts: condition (MedicalCondition), areas, since, until, notes.
    `expected_submitted_at`: when the answers the clinician read were sent; a patient who replaced
    them from the portal since then makes the review refused (code "changed"), never the new answers
    confirmed unread.
    """
    intake = IntakeSubmission.objects.select_for_update().select_related("patient").get(pk=intake.pk)
    if intake.status == IntakeSubmission.Status.REVIEWED:
        raise ValidationError(INTAKE_ALREADY_REVIEWED)
    if expected_submitted_at is not None and intake.submitted_at != expected_submitted_at:
        raise ValidationError(INTAKE_CHANGED, code="changed")
    records = [
        condition_record_create(patient=intake.patient, by=by, source=ConditionRecord.Source.INTAKE, **entry)
        for entry in accepted
    ]
    if other_allergies:
        patient = intake.patient
        patient.other_allergies = "\n".join(filter(None, [patient.other_allergies, other_allergies]))
        patient.save(update_fields=["other_allergies", "updated_at"])
    intake.status = IntakeSubmission.Status.REVIEWED
    intake.reviewed_by = by
    intake.reviewed_at = now
    intake.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return records


def pending_intake(patient_id):
    """The patient's submitted intake still waiting for a clinician's review, if any (the newest)."""
    return (
        IntakeSubmission.objects.filter(
            patient_id=patient_id, status=IntakeSubmission.Status.PENDING, submitted_at__isnull=False
        )
        .order_by("-submitted_at", "-pk")
        .first()
    )


@transaction.atomic
def intake_submit_from_portal(*, patient, answers, by, now):
    """The patient's answers from the portal: they replace the answers of an intake still waiting for
    review, or start a new one once every earlier one was reviewed. Returns (intake, replaced).

    The patient's row is locked first, so two submits at once (two tabs, a double tap) make one
    pending intake, the second replacing the first's answers. The answers enter nothing else: only a
    clinician's `intake_review` turns them into history records.
    """
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    _ensure_active(patient)
    pending = pending_intake(patient.pk)
    if pending is not None:
        pending = IntakeSubmission.objects.select_for_update().get(pk=pending.pk)
    if pending is not None and pending.status == IntakeSubmission.Status.PENDING:
        pending.answers = answers
        pending.submitted_at = now
        pending.source = IntakeSubmission.Source.PORTAL
        pending._history_user = by
        pending.save(update_fields=["answers", "submitted_at", "source"])
        return pending, True
    intake = IntakeSubmission(
        patient=patient,
        # The unique code and token of the tablet flow, never usable: the intake is submitted already.
        code=_new_code(),
        token=secrets.token_urlsafe(32),
        expires_at=now,
        answers=answers,
        submitted_at=now,
        source=IntakeSubmission.Source.PORTAL,
    )
    intake._history_user = by
    intake.save()
    return intake, False


def intake_questions():
    """The conditions the questionnaire asks about, in the order it asks them."""
    order = [
        MedicalCondition.Kind.SYSTEMIC,
        MedicalCondition.Kind.MEDICATION,
        MedicalCondition.Kind.ALLERGY,
        MedicalCondition.Kind.SKIN,
        MedicalCondition.Kind.TRAIT,
        MedicalCondition.Kind.EVENT,
    ]
    conditions = list(MedicalCondition.objects.filter(active=True))
    return sorted(conditions, key=lambda c: (order.index(c.kind) if c.kind in order else 99, c.name))
