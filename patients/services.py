import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

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
DATE_IN_FUTURE = "This date is in the future."
DATE_BEFORE_BIRTH = "This date is before the patient's birth date."
INTAKE_ENTRY_DATE = "{condition} ({field}): {problem}"
INTAKE_NOTE_PREFIX = "From the intake of "
INTAKE_NOTE = INTAKE_NOTE_PREFIX + "{day}: {notes}"


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


def history_date_problem(value: date | None, *, today: date, born: date | None) -> str | None:
    """Why a date a patient gives for the history cannot be right, or None: the history records
    what happened, so nothing after `today` (the clinic's local date) nor before the birth date."""
    if value is None:
        return None
    if value > today:
        return DATE_IN_FUTURE
    if born is not None and value < born:
        return DATE_BEFORE_BIRTH
    return None


@dataclass(frozen=True)
class OngoingRecord:
    """A history record not ended on the day asked about, as the intake review shows it."""

    pk: int
    since: date | None
    until: date | None
    recorded_on: date


def _ongoing(today: date) -> Q:
    # The same test as ConditionRecord.is_ongoing: no end date, or one still to come.
    return Q(until__isnull=True) | Q(until__gt=today)


def ongoing_history(*, patient_id: int, today: date) -> dict[int, OngoingRecord]:
    """The patient's ongoing history records by condition id: for a condition recorded more than
    once, the one recorded last (the record an intake's answer is folded into)."""
    rows = (
        ConditionRecord.objects.filter(_ongoing(today), patient_id=patient_id)
        .order_by("-recorded_at", "-pk")
        .values_list("pk", "condition_id", "since", "until", "recorded_at")
    )
    found: dict[int, OngoingRecord] = {}
    for pk, condition_id, since, until, recorded_at in rows:
        if condition_id not in found:
            found[condition_id] = OngoingRecord(pk, since, until, timezone.localdate(recorded_at))
    return found


@dataclass
class IntakeReviewResult:
    """What a review did: the records it created, and the ongoing records it found already in the
    history (completed with what they lacked, never doubled)."""

    created: list[ConditionRecord] = field(default_factory=list)
    kept: list[ConditionRecord] = field(default_factory=list)


def _check_entry_dates(entries: Sequence[Mapping[str, Any]], *, today: date, born: date | None) -> None:
    for entry in entries:
        for name in ("since", "until"):
            problem = history_date_problem(entry.get(name), today=today, born=born)
            if problem:
                raise ValidationError(
                    INTAKE_ENTRY_DATE.format(condition=entry["condition"].name, field=name, problem=problem),
                    code="date",
                )


def _same_episode(record: ConditionRecord, entry: Mapping[str, Any]) -> bool:
    # An answer that ended before the ongoing record started is an earlier episode, not this one.
    until = entry.get("until")
    return not (until and record.since and until < record.since)


def _already_written(text: str, existing: str) -> bool:
    """Whether every line of `text` is already a line of `existing` (one written from an intake
    counts by what follows its prefix). Whole lines, not substrings: "nut" is news beside "peanut"."""
    lines = {line.strip().casefold() for line in existing.splitlines()}
    prefix = INTAKE_NOTE_PREFIX.casefold()
    lines |= {line.split(": ", 1)[1] for line in lines if line.startswith(prefix) and ": " in line}
    return all(line.strip().casefold() in lines for line in text.splitlines() if line.strip())


def _complete_record(record: ConditionRecord, entry: Mapping[str, Any], *, day: date) -> None:
    """Fold an accepted answer into the ongoing record it repeats: the record's own values win, the
    answer only fills what it lacks (a start date, more areas, notes) or ends it (an end date the
    clinician confirmed)."""
    changes: dict[str, Any] = {}
    since, until, notes = entry.get("since"), entry.get("until"), (entry.get("notes") or "").strip()
    if since and record.since is None:
        changes["since"] = since
    if until:
        changes["until"] = until  # the record is ongoing, so this end date is news
    if notes and not _already_written(notes, record.notes):
        changes["notes"] = (
            f"{record.notes}\n{INTAKE_NOTE.format(day=day.isoformat(), notes=notes)}"
            if record.notes
            else notes
        )
    areas = None
    known = set(record.areas.all())
    # No areas on the record means the whole patient: adding some would narrow it.
    if known and entry.get("areas") and not set(entry["areas"]) <= known:
        areas = known | set(entry["areas"])
    if changes or areas is not None:
        condition_record_update(record=record, areas=areas, **changes)


@transaction.atomic
def intake_review(
    *,
    intake: IntakeSubmission,
    accepted: Sequence[Mapping[str, Any]],
    by: Any,
    now: datetime,
    other_allergies: str | None = None,
    expected_submitted_at: datetime | None = None,
) -> IntakeReviewResult:
    """Turn the answers a clinician confirmed into dated history records, all or nothing.

    `accepted` is a list of dicts: condition (MedicalCondition), areas, since, until, notes.
    An answer repeating a condition the patient has as an ongoing record completes that record
    instead of doubling it (`_complete_record`). A date after today or before the birth date is
    refused (code "date"). `expected_submitted_at`: when the answers the clinician read were sent;
    a patient who replaced them from the portal since then makes the review refused (code
    "changed"), never the new answers confirmed unread.
    """
    # The patient first, as intake_submit_from_portal locks: two reviews of one patient's intakes
    # would otherwise both find no ongoing record and both create one.
    patient = Patient.objects.select_for_update().get(pk=intake.patient_id)
    intake = IntakeSubmission.objects.select_for_update().get(pk=intake.pk)
    if intake.status == IntakeSubmission.Status.REVIEWED:
        raise ValidationError(INTAKE_ALREADY_REVIEWED)
    if expected_submitted_at is not None and intake.submitted_at != expected_submitted_at:
        raise ValidationError(INTAKE_CHANGED, code="changed")
    today = timezone.localdate(now)
    _check_entry_dates(accepted, today=today, born=patient.date_of_birth)
    ongoing: dict[int, ConditionRecord] = {}
    for record in (
        ConditionRecord.objects.filter(_ongoing(today), patient=patient)
        .select_related("condition")
        .order_by("recorded_at", "pk")
    ):
        ongoing[record.condition_id] = record  # the last recorded wins, as in ongoing_history
    result = IntakeReviewResult()
    for entry in accepted:
        existing = ongoing.get(entry["condition"].pk)
        if existing is not None and _same_episode(existing, entry):
            _complete_record(existing, entry, day=today)
            if existing not in result.kept and existing not in result.created:
                result.kept.append(existing)
            continue
        record = condition_record_create(
            patient=patient, by=by, source=ConditionRecord.Source.INTAKE, **entry
        )
        result.created.append(record)
        if record.is_ongoing(today):
            ongoing[record.condition_id] = record
    if other_allergies and not _already_written(other_allergies, patient.other_allergies):
        patient.other_allergies = "\n".join(filter(None, [patient.other_allergies, other_allergies]))
        patient.save(update_fields=["other_allergies", "updated_at"])
    intake.status = IntakeSubmission.Status.REVIEWED
    intake.reviewed_by = by
    intake.reviewed_at = now
    intake.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return result


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
