"""What a patient may book online of their own plan: a visit's window and its free times
(docs/portal.md, "Booking").

The window is the planned session's earliest..latest, after the previous session of the same
series by the plan's accepted interval (the rule `booking.plan_proposal` places visits by), and
never before today. The booking itself goes through `booking.session_book` / `session_move`, which
judge the day again (contraindications, hours, resources, the database's no-overlap rule).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from treatments.models import Appointment, Plan, PlannedSession, Practitioner, WaitlistEntry
from treatments.selectors.availability import SlotFinder
from treatments.selectors.booking_facts import local_day, plan_intervals

# Enough for every 15-minute start of a day across a clinic's practitioners.
DAY_LIMIT = 600


@dataclass(frozen=True, slots=True)
class VisitWindow:
    first: date
    last: date

    def holds(self, day: date) -> bool:
        return self.first <= day <= self.last


def visit_window(
    *,
    earliest: date,
    latest: date,
    previous_day: date | None,
    min_gap: int | None,
    max_gap: int | None,
    today: date,
) -> VisitWindow | None:
    """The days a visit may be booked on, or None once they have passed. A previous session of the
    series (booked or done) moves the window to its day plus the plan's interval; as in
    plan_proposal, a previous session late enough to push past `latest` leaves one day, not none."""
    first, last = earliest, latest
    if previous_day is not None:
        first = max(first, previous_day + timedelta(days=min_gap or 0))
        if max_gap is not None:
            last = min(last, previous_day + timedelta(days=max_gap))
        last = max(last, first)
    first = max(first, today)
    return VisitWindow(first, last) if first <= last else None


@dataclass(frozen=True)
class BookableVisit:
    """A planned session of one of the patient's accepted plans, as the booking page needs it."""

    planned: PlannedSession  # with its plan, patient, treatment and areas read
    number: int
    treatment: str
    window: VisitWindow | None  # None: the window has passed
    practitioner: int | None  # whose free times come first
    book_first: int | None  # the number of an earlier visit of the series not booked yet
    booked: int | None  # this visit's active session, the one being moved aside
    waiting: bool  # on the waitlist for this visit


def bookable_visit(
    patient_id: int, planned_pk: int, *, today: date, moving: int | None = None
) -> BookableVisit | None:
    """The patient's planned session of an accepted plan, or None (another patient's, none, or a
    plan no longer current). `moving`: the session being moved, which does not count as booked."""
    planned = (
        PlannedSession.objects.select_related("plan__patient", "treatment")
        .prefetch_related("areas", "treatment__needs")
        .filter(pk=planned_pk, plan__patient_id=patient_id, plan__status=Plan.Status.ACCEPTED)
        .first()
    )
    if planned is None:
        return None
    earlier = list(
        PlannedSession.objects.filter(
            plan_id=planned.plan_id, treatment_id=planned.treatment_id, session__lt=planned.session
        )
        .order_by("session", "id")
        .values_list("pk", "session")
    )
    held: dict[int, tuple[int, datetime, int]] = {}
    sessions = Appointment.objects.filter(planned_session_id__in=[pk for pk, _ in earlier] + [planned.pk])
    if moving is not None:
        sessions = sessions.exclude(pk=moving)
    for pk, planned_id, starts, practitioner_pk in (
        sessions.active()
        .order_by("starts_at")
        .values_list("pk", "planned_session_id", "starts_at", "practitioner_id")
    ):
        held[planned_id] = (pk, starts, practitioner_pk)
    book_first = next((number for pk, number in earlier if pk not in held), None)
    previous = held.get(earlier[-1][0]) if earlier else None
    interval = plan_intervals(planned.plan).get(planned.treatment.slug, {})
    preferred = planned.plan.patient.preferred_practitioner_id
    preferred_pk = (
        Practitioner.objects.filter(user_id=preferred, active=True).values_list("pk", flat=True).first()
        if preferred is not None
        else None
    )
    return BookableVisit(
        planned=planned,
        number=planned.visit,
        treatment=planned.treatment.name,
        window=visit_window(
            earliest=planned.earliest,
            latest=planned.latest,
            previous_day=local_day(previous[1]) if previous else None,
            min_gap=interval.get("min"),
            max_gap=interval.get("max"),
            today=today,
        ),
        practitioner=preferred_pk or (previous[2] if previous else None),
        book_first=book_first,
        booked=held[planned.pk][0] if planned.pk in held else None,
        waiting=WaitlistEntry.objects.filter(
            planned_session=planned, status=WaitlistEntry.Status.WAITING
        ).exists(),
    )


def plan_session(patient_id: int, pk: int) -> Appointment | None:
    """One of the patient's sessions booked for a visit of an accepted plan, or None."""
    return (
        Appointment.objects.select_related("treatment", "location", "plan")
        .filter(
            pk=pk,
            patient_id=patient_id,
            planned_session__isnull=False,
            plan__status=Plan.Status.ACCEPTED,
        )
        .first()
    )


@dataclass(frozen=True, slots=True)
class FreeTime:
    start: datetime
    practitioner: int


@dataclass(frozen=True)
class VisitTimes:
    """The free times of one day of a visit's window, and the first day of it with any."""

    day: date | None
    times: tuple[FreeTime, ...]
    first_free_day: date | None


def visit_times(
    visit: BookableVisit, *, day: date | None, now: datetime, exclude: int | None = None
) -> VisitTimes:
    """`day`'s free times (default: the first day of the window with one), one per start, the
    visit's practitioner's first. `exclude`: a session being moved, whose own time is free."""
    window = visit.window
    if window is None:
        return VisitTimes(day, (), None)
    finder = SlotFinder(visit.planned.treatment, patient=visit.planned.plan.patient_id, exclude=exclude)
    first = None
    for practitioner in dict.fromkeys((visit.practitioner, None)):
        found = finder.find(window.first, window.last, practitioner=practitioner, limit=1, not_before=now)
        if found:
            first = found[0].local_day
            break
    day = day or first
    if day is None or not window.holds(day):
        return VisitTimes(day, (), first)
    by_start: dict[datetime, FreeTime] = {}
    for slot in finder.find(day, day, limit=DAY_LIMIT, not_before=now):
        kept = by_start.get(slot.start)
        if kept is None or (slot.practitioner == visit.practitioner != kept.practitioner):
            by_start[slot.start] = FreeTime(slot.start, slot.practitioner)
    return VisitTimes(day, tuple(by_start[start] for start in sorted(by_start)), first)
