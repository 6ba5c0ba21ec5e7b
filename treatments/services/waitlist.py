"""Putting patients on the waitlist, taking them off, and booking them into a freed slot."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clinic.disclosure import CLINICAL
from patients.models import BodyArea, Patient
from treatments.engine.plan_results import OptionStatus, Reason, Severity, TreatmentCheck
from treatments.models import (
    Appointment,
    Location,
    Plan,
    PlannedSession,
    Practitioner,
    Treatment,
    WaitlistEntry,
)
from treatments.selectors.booking_facts import local_day
from treatments.selectors.waitlist import treatment_check
from treatments.services import booking

ALREADY_WAITING = "This visit is already on the waitlist."
VISIT_BOOKED = "This visit is already booked."
WINDOW_PASSED = "The window for this visit has passed: revise the plan instead."
NOT_CURRENT_PLAN = "Only visits of the patient's current accepted plan can wait for a slot."
NO_LONGER_WAITING = "This patient is no longer on the waitlist (booked or removed meanwhile)."
OUTSIDE_WINDOW = "{day} is outside this patient's window ({earliest} to {latest})."
# What the engine's check says, in the words a booking uses (booking_rules.contraindication_problems);
# the reasons are the catalog's.
MUST_NOT = "{name} must not be done for this patient: {reasons}"
NOT_BEFORE = "{name} cannot be done before {day}: {reasons}"
NOT_IN_WINDOW = "{name} cannot be done before {day}, after the last day the patient could come: {reasons}"
NOT_YET = "{name} cannot be done yet: {reasons}"
NEEDS_CLEARANCE = "{name} needs a clinician's clearance first: {reasons}"
PRECAUTION = "{name} has a precaution for this patient: {reasons}"
CONFIRM_ANYWAY = "Tick “Add anyway” to put the patient on the waitlist all the same."
# The field of the confirmation a relative contraindication or a precaution asks for.
ANYWAY = "add_anyway"


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def _reasons(reasons: Sequence[Reason]) -> str:
    return "; ".join(reason.text for reason in reasons)


def _contraindications(
    check: TreatmentCheck, *, name: str, latest: date, precautions: bool
) -> tuple[list[str], list[str]]:
    """(refusals, warnings). Refused: an absolute contraindication, a deferral until an absolute
    one is resolved, or one past the window, as no day of it could be booked. To confirm: a
    relative one (a deferral ending inside the window, a clearance) and, with `precautions`, a
    precaution."""
    reasons = _reasons(check.reasons)
    absolute = any(reason.severity == Severity.ABSOLUTE for reason in check.reasons)
    refusals: list[str] = []
    warnings: list[str] = []
    if check.status == OptionStatus.EXCLUDED:
        refusals.append(MUST_NOT.format(name=name, reasons=reasons))
    elif check.status == OptionStatus.DEFERRED and check.earliest_start is None:
        (refusals if absolute else warnings).append(NOT_YET.format(name=name, reasons=reasons))
    elif check.status == OptionStatus.DEFERRED and check.earliest_start and check.earliest_start > latest:
        refusals.append(NOT_IN_WINDOW.format(name=name, day=_day(check.earliest_start), reasons=reasons))
    elif check.status == OptionStatus.DEFERRED and check.earliest_start:
        warnings.append(NOT_BEFORE.format(name=name, day=_day(check.earliest_start), reasons=reasons))
    elif check.status == OptionStatus.NEEDS_CLEARANCE:
        warnings.append(NEEDS_CLEARANCE.format(name=name, reasons=reasons))
    if precautions and check.flags and not refusals:
        warnings.append(PRECAUTION.format(name=name, reasons=_reasons(check.flags)))
    return refusals, warnings


def _visit_window(planned: PlannedSession, today: date) -> tuple[date, date]:
    if planned.plan.status != Plan.Status.ACCEPTED:
        raise ValidationError(NOT_CURRENT_PLAN)
    if Appointment.objects.filter(planned_session=planned, status__in=sorted(Appointment.ACTIVE)).exists():
        raise ValidationError(VISIT_BOOKED)
    if planned.latest < today:
        raise ValidationError(WINDOW_PASSED)
    return max(planned.earliest, today), planned.latest


def waitlist_add(
    *,
    patient: Patient,
    by: User,
    today: date,
    planned_session: PlannedSession | None = None,
    treatment: Treatment | None = None,
    areas: list[BodyArea] | None = None,
    earliest: date | None = None,
    latest: date | None = None,
    practitioner: Practitioner | None = None,
    location: Location | None = None,
    anyway: bool = False,
) -> WaitlistEntry:
    """A plan visit (its treatment, areas and window: the planned dates, or `earliest` and `latest`
    when given) or a treatment between two dates.

    Judged first as a booking on the window's first day would be: an absolute contraindication
    refuses (ValidationError, code CLINICAL); a relative one, or a precaution of a treatment
    outside a plan, refuses too unless `anyway` (the ANYWAY field: the reasons, code CLINICAL,
    and CONFIRM_ANYWAY)."""
    fields: dict[str, Any]
    if planned_session is not None:
        if planned_session.plan.patient_id != patient.pk:
            raise ValidationError(NOT_CURRENT_PLAN)
        first, last = _visit_window(planned_session, today)
        if earliest is not None and latest is not None:
            # The caller's reading of the visit's window (the portal's follows the series as booked).
            first, last = max(earliest, today), latest
        fields = {"treatment": planned_session.treatment, "earliest": first, "latest": last}
        chosen_areas = list(planned_session.areas.all())
    else:
        errors: dict[str, str] = {}
        if treatment is None:
            errors["treatment"] = "Choose a treatment."
        if not areas:
            errors["areas"] = "Choose at least one area."
        if earliest is None or latest is None:
            errors["latest"] = "Give the first and the last day the patient could come."
        elif latest < earliest:
            errors["latest"] = "The last day is before the first."
        elif latest < today:
            errors["latest"] = "The last day has passed."
        if errors:
            raise ValidationError(errors)
        assert earliest is not None and latest is not None
        fields = {"treatment": treatment, "earliest": max(earliest, today), "latest": latest}
        chosen_areas = list(areas or [])
    chosen = fields["treatment"]
    refusals, warnings = _contraindications(
        treatment_check(patient=patient, treatment=chosen, areas=chosen_areas, day=fields["earliest"]),
        name=chosen.name,
        latest=fields["latest"],
        # A plan visit's precautions were read by the clinician who accepted the plan.
        precautions=planned_session is None,
    )
    if refusals:
        field = "planned_session" if planned_session is not None else "treatment"
        raise ValidationError({field: [ValidationError(text, code=CLINICAL) for text in refusals]})
    if warnings and not anyway:
        raise ValidationError(
            {
                ANYWAY: [ValidationError(text, code=CLINICAL) for text in warnings]
                + [ValidationError(CONFIRM_ANYWAY)]
            }
        )
    try:
        with transaction.atomic():
            entry = WaitlistEntry.objects.create(
                patient=patient,
                planned_session=planned_session,
                practitioner=practitioner,
                location=location,
                added_by=by,
                **fields,
            )
            entry.areas.set(chosen_areas)
    except IntegrityError:
        # The partial unique index: another desk added this visit a moment ago.
        raise ValidationError(ALREADY_WAITING) from None
    return entry


def waitlist_remove(*, entry: WaitlistEntry, by: User) -> None:
    updated = WaitlistEntry.objects.filter(pk=entry.pk, status=WaitlistEntry.Status.WAITING).update(
        status=WaitlistEntry.Status.REMOVED
    )
    if not updated:
        raise ValidationError(NO_LONGER_WAITING)


@booking.retried_on_contention
@transaction.atomic
def waitlist_book(*, entry_id: int, practitioner: Practitioner, start: datetime, by: User) -> Appointment:
    """Book a waiting patient at `start` through the same judgement as any booking; the entry
    leaves the waitlist in the same transaction. Raises ValidationError, booking.Conflict."""
    entry = (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("patient", "treatment", "planned_session__plan")
        .filter(pk=entry_id)
        .first()
    )
    if entry is None or entry.status != WaitlistEntry.Status.WAITING:
        raise ValidationError(NO_LONGER_WAITING)
    day = local_day(start)
    if not entry.earliest <= day <= entry.latest:
        raise ValidationError(
            OUTSIDE_WINDOW.format(day=_day(day), earliest=_day(entry.earliest), latest=_day(entry.latest))
        )
    planned = entry.planned_session
    session = booking.session_book(
        request=booking.BookingRequest(
            patient=entry.patient,
            treatment=entry.treatment,
            areas=list(entry.areas.all()),
            practitioner=practitioner,
            start=start,
            plan=planned.plan if planned else None,
            planned_session=planned,
        ),
        by=by,
    )
    entry.status = WaitlistEntry.Status.BOOKED
    entry.booked_session = session
    entry.save(update_fields=["status", "booked_session"])
    return session
