"""Book, move, cancel and change the status of sessions.

A booking reads the facts of its day once (treatments.selectors.booking_facts), judges them once
in the engine (treatments.engine.booking_rules.judge_booking: hours, qualification,
contraindications, intervals, rooms and devices, conflicts), then saves.

Every write runs in one transaction. Overlaps are refused by PostgreSQL's exclusion constraints
(migration 0003), whatever requests arrive together; the check made here first, on one snapshot
of what is held, gives the usual case a precise answer, and on SQLite, whose transactions take the
write lock at BEGIN (IMMEDIATE mode, see settings), it is the whole guard.

Racing writes can also meet a deadlock or a serialization failure; the writes called by views
(`session_book`, `session_move`, `session_status_change`, `plan_book`) run their whole transaction
again a few times, then raise CalendarBusy, which the pages and the API answer with 409.
"""

import functools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import ParamSpec, TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from clinic.disclosure import CLINICAL
from clinic.roles import CLINICIAN, has_role
from patients.models import BodyArea, Patient
from treatments.engine import booking_rules, timeslots
from treatments.engine.timeslots import Claim, Taken
from treatments.models import (
    Appointment,
    AppointmentDevice,
    Device,
    Plan,
    PlannedSession,
    Practitioner,
    Room,
    Treatment,
)
from treatments.models.scheduling import overlapping
from treatments.selectors.availability import FoundSlot, SlotFinder, held_over
from treatments.selectors.booking_facts import booking_facts, local_day, plan_intervals
from treatments.selectors.session_versions import changes_since, session_version

RESOURCE_NAMES = {
    "practitioner": "The practitioner",
    "room": "The room",
    "device": "A device",
    "patient": "The patient",
}
CONSTRAINT_RESOURCES = {
    "appointment_no_overlap_practitioner": "practitioner",
    "appointment_no_overlap_room": "room",
    "appointment_no_overlap_patient": "patient",
    "appointment_no_overlap_device": "device",
}
CANNOT_MOVE = "A {status} session cannot be moved."
CANCEL_REASON_NEEDED = "Say why the session is cancelled."
STALE_PROPOSAL = "{label}: the proposal names a practitioner or room that no longer exists."
CALENDAR_BUSY = "The calendar is busy, try again."
PLAN_AWAITS_CONSENT = (
    "This plan waits for the patient's consent: its sessions can be booked once they have signed it."
)
ALREADY_BOOKED = "Already booked at that time: {treatment} on {when:%a %b %d at %H:%M} with {practitioner}."
STALE_SESSION = "The session changed since you read it: {changes}."
NO_SLOT_FOR_VISIT = (
    "No free slot for visit {visit} ({treatment}) between {first} and {last} at the plan's interval."
)
# How far past a visit's window, when none of it is open, the next open day is looked for.
OPEN_DAY_SEARCH_DAYS = 28
# PostgreSQL's deadlock_detected and serialization_failure: the transaction lost a race and
# may simply run again.
CONTENTION_CODES = frozenset({"40P01", "40001"})
ATTEMPTS = 5
BACKOFF_SECONDS = 0.05  # doubled after each lost try, jittered so racing writes spread out


def _each(error: ValidationError) -> list[ValidationError]:
    if hasattr(error, "error_dict"):
        return [item for items in error.error_dict.values() for item in items]
    return list(error.error_list)


class Conflict(Exception):
    """A resource is already taken at that time."""

    def __init__(self, resource: str, pk: int | None, start: datetime | None = None) -> None:
        self.resource, self.pk, self.start = resource, pk, start
        super().__init__(f"{RESOURCE_NAMES[resource]} is already booked at that time.")

    @property
    def detail(self) -> str:
        return str(self)


class StaleSession(Exception):
    """The session changed since the version the client read (If-Match)."""

    def __init__(self, session: Appointment, changes: list[str]) -> None:
        self.session, self.changes = session, changes
        super().__init__(STALE_SESSION.format(changes="; ".join(changes)))

    @property
    def detail(self) -> str:
        return str(self)


class CalendarBusy(Exception):
    """A booking write lost every retry to deadlocks or serialization failures."""

    def __init__(self) -> None:
        super().__init__(CALENDAR_BUSY)

    @property
    def detail(self) -> str:
        return str(self)


def _is_contention(error: DatabaseError) -> bool:
    cause = error.__cause__
    return (getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)) in CONTENTION_CODES


Params = ParamSpec("Params")
Result = TypeVar("Result")


def retried_on_contention(write: Callable[Params, Result]) -> Callable[Params, Result]:
    """Run a whole write transaction again when it loses a race; CalendarBusy once it has lost
    ATTEMPTS times. Inside a caller's transaction nothing can be run again on its own, so the
    error goes up to the outermost retried write (plan_book around session_book)."""

    @functools.wraps(write)
    def run(*args: Params.args, **kwargs: Params.kwargs) -> Result:
        if transaction.get_connection().in_atomic_block:
            return write(*args, **kwargs)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return write(*args, **kwargs)
            except DatabaseError as error:
                if not _is_contention(error):
                    raise
                if attempt == ATTEMPTS:
                    raise CalendarBusy() from error
                time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1) * (0.5 + random.random()))
        raise AssertionError("unreachable: the last attempt returns or raises")

    return run


class AlreadyBooked(Conflict):
    """The same booking (patient, treatment, practitioner, start) is already active: a repeated
    submit. A Conflict over the patient, for callers that only know conflicts."""

    def __init__(self, session: Appointment) -> None:
        super().__init__("patient", session.patient_id, session.starts_at)
        self.session = session
        self.args = (
            ALREADY_BOOKED.format(
                treatment=session.treatment.name,
                when=timezone.localtime(session.starts_at),
                practitioner=session.practitioner,
            ),
        )


@dataclass
class BookingRequest:
    patient: Patient
    treatment: Treatment
    areas: list[BodyArea]
    practitioner: Practitioner
    start: datetime
    room: Room | None = None
    devices: list[Device] = field(default_factory=list)
    plan: Plan | None = None
    planned_session: PlannedSession | None = None
    override_reason: str = ""


@dataclass(frozen=True)
class Placement:
    """Where and when a judged session goes, and what it holds."""

    location: int
    room: int | None
    devices: tuple[int, ...]
    start: datetime
    end: datetime
    blocked_until: datetime
    interval_override_reason: str


def _judge(request: BookingRequest, *, by: User, exclude: int | None = None) -> Placement:
    """Judge a booking on the facts of its day: raises ValidationError (problems per field) or
    Conflict, else says where it goes and what it holds."""
    facts = booking_facts(
        patient=request.patient,
        treatment=request.treatment,
        areas=request.areas,
        practitioner=request.practitioner,
        start=request.start,
        room=request.room,
        devices=request.devices or (),
        plan=request.plan,
        exclude=exclude,
    )
    judgement = booking_rules.judge_booking(
        facts, is_clinician=has_role(by, CLINICIAN), override_reason=request.override_reason or ""
    )
    if judgement.problems and _patient_in_another_session(request, facts.end, exclude):
        # Committed between the day's reads (busy first, history after): the interval rule then
        # sees the other session as "0 days away", but what refuses this booking is the overlap.
        raise Conflict("patient", request.patient.pk, request.start)
    if judgement.problems:
        errors: dict[str, list[ValidationError]] = {}
        for problem in judgement.problems:
            code = CLINICAL if problem.clinical else "booking"
            errors.setdefault(problem.field, []).append(ValidationError(problem.message, code=code))
        raise ValidationError(errors)
    if judgement.taken is not None:
        raise Conflict(judgement.taken.resource, judgement.taken.pk, request.start)
    if judgement.held is None or judgement.location is None:
        raise ValueError("judge_booking places every booking it finds no problem with.")
    return Placement(
        location=judgement.location,
        room=judgement.held.room,
        devices=judgement.held.devices,
        start=facts.start,
        end=facts.end,
        blocked_until=facts.blocked_until,
        interval_override_reason=judgement.interval_override_reason,
    )


def _patient_in_another_session(request: BookingRequest, end: datetime, exclude: int | None) -> bool:
    # A patient is held for the treatment time only, not the clean-up.
    others = (
        Appointment.objects.filter(patient=request.patient)
        .active()
        .filter(overlapping(request.start, end, end_field="ends_at"))
    )
    return others.exclude(pk=exclude).exists() if exclude is not None else others.exists()


def _place(appointment: Appointment, request: BookingRequest, placement: Placement) -> None:
    appointment.patient = request.patient
    appointment.treatment = request.treatment
    appointment.practitioner = request.practitioner
    appointment.location_id = placement.location
    appointment.room_id = placement.room
    appointment.starts_at = placement.start
    appointment.ends_at = placement.end
    appointment.blocked_until = placement.blocked_until
    appointment.interval_override_reason = placement.interval_override_reason


def _conflict_check(appointment: Appointment, device_ids: Sequence[int], exclude: int | None) -> None:
    """Raise Conflict for the first resource the session's resources are taken by (practitioner
    first), read in one query: the same calculation as the judgement and the slot finder."""
    busy = held_over(
        appointment.starts_at,
        appointment.blocked_until,
        practitioners=[appointment.practitioner_id],
        patient=appointment.patient_id,
        rooms=[appointment.room_id] if appointment.room_id else [],
        devices=device_ids,
        exclude=exclude,
    )
    claim = Claim(
        practitioner=appointment.practitioner_id,
        patient=appointment.patient_id,
        rooms=((appointment.room_id,),) if appointment.room_id else (),
        devices=tuple((pk,) for pk in sorted(device_ids)),
        named_room=True,
        named_devices=True,
    )
    held = timeslots.hold_resources(
        busy, claim, appointment.starts_at, appointment.ends_at, appointment.blocked_until
    )
    if isinstance(held, Taken):
        raise Conflict(held.resource, held.pk, appointment.starts_at)


def _conflict_from(error: IntegrityError, appointment: Appointment, device_ids: Sequence[int]) -> Conflict:
    """Which resource an exclusion-constraint violation is about."""
    name = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "") or ""
    resource = CONSTRAINT_RESOURCES.get(name)
    if resource is None:
        raise error
    pk = {
        "practitioner": appointment.practitioner_id,
        "room": appointment.room_id,
        "patient": appointment.patient_id,
        "device": device_ids[0] if device_ids else None,
    }[resource]
    return Conflict(resource, pk, appointment.starts_at)


def _save(appointment: Appointment, devices: Sequence[int], area_ids: Sequence[int]) -> None:
    try:
        with transaction.atomic():
            appointment.save()
            appointment.areas.set(area_ids)
            AppointmentDevice.objects.filter(appointment=appointment).delete()
            AppointmentDevice.objects.bulk_create(
                AppointmentDevice(
                    appointment=appointment,
                    device_id=device,
                    starts_at=appointment.starts_at,
                    blocked_until=appointment.blocked_until,
                )
                for device in devices
            )
    except IntegrityError as error:
        # A concurrent booking won. The savepoint is rolled back and READ COMMITTED sees the
        # winner now, so the usual check names the most useful resource (practitioner first).
        _conflict_check(appointment, devices, exclude=appointment.pk)
        raise _conflict_from(error, appointment, devices) from error


def _same_booking(request: BookingRequest) -> Appointment | None:
    return (
        Appointment.objects.active()
        .filter(
            patient=request.patient,
            treatment=request.treatment,
            practitioner=request.practitioner,
            starts_at=request.start,
        )
        .select_related("treatment", "practitioner__user")
        .first()
    )


def _awaits_consent(plan: Plan) -> bool:
    # Read afresh: the caller's plan may be older than the patient's signature (or its replacement).
    status = Plan.objects.filter(pk=plan.pk).values_list("status", flat=True).first()
    return status == Plan.Status.AWAITING_CONSENT


def _check_version(appointment: Appointment, expected_version: str | None) -> None:
    if expected_version is not None and session_version(appointment) != expected_version:
        raise StaleSession(appointment, changes_since(appointment, expected_version))


@retried_on_contention
@transaction.atomic
def session_book(*, request: BookingRequest, by: User) -> Appointment:
    """Book one session; raises ValidationError (field errors), Conflict or AlreadyBooked."""
    if request.plan is not None and _awaits_consent(request.plan):
        raise ValidationError(PLAN_AWAITS_CONSENT)
    try:
        placement = _judge(request, by=by)
    except (ValidationError, Conflict) as refusal:
        # Read only when refused: a repeated submit is refused by the session it already made.
        same = _same_booking(request)
        if same is not None:
            raise AlreadyBooked(same) from refusal
        raise
    appointment = Appointment(plan=request.plan, planned_session=request.planned_session, booked_by=by)
    _place(appointment, request, placement)
    _save(appointment, placement.devices, [area.pk for area in request.areas])
    return appointment


@retried_on_contention
@transaction.atomic
def session_move(
    *,
    appointment: Appointment,
    start: datetime,
    by: User,
    practitioner: Practitioner | None = None,
    room: Room | None = None,
    override_reason: str = "",
    expected_version: str | None = None,
) -> Appointment:
    """Move a booked session to a new start (and optionally practitioner or room), same checks;
    with `expected_version`, raises StaleSession if the session changed since that version."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    _check_version(appointment, expected_version)
    if not appointment.can_move:
        raise ValidationError(
            {"start": [CANNOT_MOVE.format(status=appointment.get_status_display().lower())]}
        )
    request = BookingRequest(
        patient=appointment.patient,
        treatment=appointment.treatment,
        areas=list(appointment.areas.all()),
        practitioner=practitioner or appointment.practitioner,
        start=start,
        room=room,
        plan=appointment.plan,
        override_reason=override_reason,
    )
    placement = _judge(request, by=by, exclude=appointment.pk)
    _place(appointment, request, placement)
    _save(appointment, placement.devices, [area.pk for area in request.areas])
    return appointment


@retried_on_contention
@transaction.atomic
def session_status_change(
    *,
    appointment: Appointment,
    status: str,
    by: User,
    reason: str = "",
    expected_version: str | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Move the session along its lifecycle at `now` (default: the present). Raises
    ValidationError, or Conflict when a no-show taken back finds its time given away."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    _check_version(appointment, expected_version)
    problem = appointment.transition_problem(
        status, is_clinician=has_role(by, CLINICIAN), now=now or timezone.now()
    )
    if problem:
        raise ValidationError({"status": [problem]})
    if status == Appointment.Status.CANCELLED:
        if not reason.strip():
            raise ValidationError({"reason": [CANCEL_REASON_NEEDED]})
        appointment.cancel_reason = reason.strip()
        appointment.cancelled_by = by
    was_active = appointment.is_active
    appointment.status = status
    if appointment.is_active and not was_active:
        _hold_again(appointment)
    else:
        appointment.save()
        AppointmentDevice.objects.filter(appointment=appointment).update(active=appointment.is_active)
    return appointment


def _hold_again(appointment: Appointment) -> None:
    """Save a session that holds its resources again: while it did not, they were free to book."""
    devices = list(
        AppointmentDevice.objects.filter(appointment=appointment).values_list("device_id", flat=True)
    )
    _conflict_check(appointment, devices, exclude=appointment.pk)
    try:
        with transaction.atomic():
            appointment.save()
            AppointmentDevice.objects.filter(appointment=appointment).update(active=True)
    except IntegrityError as error:
        raise _conflict_from(error, appointment, devices) from error


def session_cancel(
    *, appointment: Appointment, reason: str, by: User, expected_version: str | None = None
) -> Appointment:
    return session_status_change(
        appointment=appointment,
        status=Appointment.Status.CANCELLED,
        by=by,
        reason=reason,
        expected_version=expected_version,
    )


def next_slots(
    treatment: Treatment,
    *,
    start: datetime,
    practitioner: Practitioner | None = None,
    patient: Patient | int | None = None,
    exclude: int | None = None,
    limit: int = 5,
) -> list[FoundSlot]:
    """Free slots from `start` on, the same practitioner's first, for a refused booking."""
    day = local_day(start)
    finder = SlotFinder(treatment, patient=patient, exclude=exclude)
    found: list[FoundSlot] = []
    if practitioner is not None:
        found = finder.find(
            day, day + timedelta(days=13), practitioner=practitioner.pk, limit=limit, not_before=start
        )
    if len(found) < limit:
        more = finder.find(day, day + timedelta(days=13), limit=limit, not_before=start)
        found += [slot for slot in more if slot not in found][: limit - len(found)]
    return found


def plan_sessions_to_book(plan: Plan) -> list[PlannedSession]:
    """The planned sessions of a plan with no active booking yet, in order."""
    return list(
        PlannedSession.objects.filter(plan=plan)
        .exclude(appointments__status__in=sorted(Appointment.ACTIVE))
        .select_related("treatment")
        .prefetch_related("areas", "treatment__needs")
        .order_by("visit", "id")
    )


Proposal = list[tuple[PlannedSession, timeslots.Slot]]


@dataclass(frozen=True)
class PlanProposal:
    """Slots for the unbooked sessions of a plan, in order, up to the first session none was
    found for: `unplaced`, which `problem` is about."""

    placed: Proposal
    problem: str | None = None
    unplaced: PlannedSession | None = None


def _next_open_window(
    finder: SlotFinder, visit: timeslots.PlannedVisit, not_before: datetime | None
) -> tuple[date, date] | None:
    """When no day of a visit's window has hours left (a plan accepted after closing, a window of
    closed days): a window as long from the next open day. None: the window has hours (it is
    full) or no open day follows it."""
    if finder.open_days(visit.earliest, visit.latest, not_before=not_before):
        return None
    later = finder.open_days(
        visit.latest + timedelta(days=1),
        visit.latest + timedelta(days=OPEN_DAY_SEARCH_DAYS),
        not_before=not_before,
    )
    if not later:
        return None
    return later[0], later[0] + (visit.latest - visit.earliest)


def plan_proposal(
    plan: Plan, *, practitioner: Practitioner | int | None = None, not_before: datetime | None = None
) -> PlanProposal:
    """Dates for every unbooked session of an accepted plan, each inside its window and the plan's
    intervals; a window with no opening hours left starts on the next open day instead."""
    sessions = plan_sessions_to_book(plan)
    intervals = plan_intervals(plan)
    last_booked = {}
    for treatment, starts in (
        Appointment.objects.filter(plan=plan)
        .active()
        .order_by("starts_at")
        .values_list("treatment_id", "starts_at")
    ):
        last_booked[treatment] = local_day(starts)
    first_day = local_day(not_before) if not_before else None
    visits: list[timeslots.PlannedVisit] = []
    previous: dict[int, int] = {}
    finders: dict[int, SlotFinder] = {}
    for index, session in enumerate(sessions):
        interval = intervals.get(session.treatment.slug, {})
        earliest = max(session.earliest, first_day) if first_day else session.earliest
        after = previous.get(session.treatment_id)
        if after is None and session.treatment_id in last_booked:
            earliest = max(
                earliest, last_booked[session.treatment_id] + timedelta(days=interval.get("min", 0))
            )
        visits.append(
            timeslots.PlannedVisit(
                earliest=earliest,
                latest=max(session.latest, earliest),
                min_gap_days=interval.get("min"),
                max_gap_days=interval.get("max"),
                after=after,
            )
        )
        if session.treatment_id not in finders:
            finders[session.treatment_id] = SlotFinder(session.treatment, patient=plan.patient_id)
        previous[session.treatment_id] = index

    found: dict[tuple[date, date, int | None, tuple[timeslots.Slot, ...]], timeslots.Slot | None] = {}

    def search(
        first: date, last: date, wanted: int | None, placed: list[timeslots.Slot]
    ) -> timeslots.Slot | None:
        # Remembered: a proposal placed again after a window moved asks the same questions first.
        key = (first, last, wanted, tuple(placed))
        if key not in found:
            # propose_dates places sessions in order, so the one searched for is the next unplaced.
            slots = finders[sessions[len(placed)].treatment_id].find(
                first, last, practitioner=wanted, limit=1, placed=placed, not_before=not_before
            )
            found[key] = slots[0] if slots else None
        return found[key]

    preferred = practitioner.pk if isinstance(practitioner, Practitioner) else practitioner
    moved: set[int] = set()
    while True:
        slots, problem = timeslots.propose_dates(visits, search, preferred=preferred)
        stuck = len(slots)
        # Only a visit that found no slot is looked at: most windows have open hours.
        if not problem or stuck in moved:
            break
        moved.add(stuck)
        window = _next_open_window(finders[sessions[stuck].treatment_id], visits[stuck], not_before)
        if window is None:
            break
        visits[stuck] = replace(visits[stuck], earliest=window[0], latest=window[1])
    placed = list(zip(sessions, slots, strict=False))
    if not problem:
        return PlanProposal(placed)
    unplaced, visit = sessions[stuck], visits[stuck]
    return PlanProposal(
        placed,
        NO_SLOT_FOR_VISIT.format(
            visit=unplaced.visit, treatment=unplaced.treatment.name, first=visit.earliest, last=visit.latest
        ),
        unplaced,
    )


def propose_plan(
    plan: Plan, *, practitioner: Practitioner | int | None = None, not_before: datetime | None = None
) -> tuple[Proposal, str | None]:
    """plan_proposal as ([(planned session, slot)], problem)."""
    proposal = plan_proposal(plan, practitioner=practitioner, not_before=not_before)
    return proposal.placed, proposal.problem


@retried_on_contention
@transaction.atomic
def plan_book(*, plan: Plan, choices: Proposal, by: User) -> list[Appointment]:
    """Book every (planned session, slot) at once, or nothing. Raises ValidationError or Conflict
    naming the session that could not be booked."""
    slots = [slot for _, slot in choices]
    practitioners = Practitioner.objects.select_related("user").in_bulk({s.practitioner for s in slots})
    rooms = Room.objects.in_bulk({s.room for s in slots if s.room})
    devices = Device.objects.in_bulk({d for s in slots for d in s.devices})
    booked = []
    for session, slot in choices:
        label = f"Visit {session.visit}, {session.treatment.name}"
        if slot.practitioner not in practitioners or (slot.room and slot.room not in rooms):
            raise ValidationError(STALE_PROPOSAL.format(label=label))
        request = BookingRequest(
            patient=plan.patient,
            treatment=session.treatment,
            areas=list(session.areas.all()),
            practitioner=practitioners[slot.practitioner],
            start=slot.start,
            room=rooms.get(slot.room) if slot.room else None,
            devices=[devices[d] for d in slot.devices if d in devices],
            plan=plan,
            planned_session=session,
        )
        try:
            booked.append(session_book(request=request, by=by))
        except ValidationError as error:
            raise ValidationError(
                [ValidationError(f"{label}: {m}", code=e.code) for e in _each(error) for m in e.messages]
            ) from error
    return booked
