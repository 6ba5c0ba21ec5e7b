"""What a patient may book online of their own plan: a visit's window and its free times
(docs/portal.md, "Booking").

The window follows the series: the first session of a treatment from its planned earliest day for
PORTAL_FIRST_VISIT_DAYS (or to its planned latest day, if later); a later one from the previous
session of the series (booked or done) by the plan's accepted interval; and, when the next session
of the series is booked already, no closer to it than that interval. Never before today.

Inside the window, the days the booking service would refuse whatever the time are left out of the
free times: the contraindications on that day and the intervals to the patient's other sessions
(`booking_rules.treatment_problems` and `series_problems`, what `judge_booking` asks). The booking
itself goes through `booking.session_book` / `session_move`, which judge the day again (and hours,
resources, the database's no-overlap rule).
"""

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from django.conf import settings

from patients.models import Patient
from treatments.engine import booking_rules, planning
from treatments.models import Appointment, Plan, PlannedSession, Practitioner, WaitlistEntry
from treatments.selectors.availability import SlotFinder
from treatments.selectors.booking_facts import local_day, past_sessions, plan_intervals, plan_min_interval
from treatments.selectors.patient_profile import profile_for_patient, profiled
from treatments.selectors.plan_suggestions import current_catalog
from treatments.selectors.portal import PortalPlan

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
    next_day: date | None = None,
    min_gap: int | None,
    max_gap: int | None,
    today: date,
    first_days: int | None = None,
) -> VisitWindow | None:
    """The days a visit may be booked on, or None once they have passed.

    The first session of a series (no `previous_day`) may start from `earliest` for `first_days`
    days (PORTAL_FIRST_VISIT_DAYS), or up to `latest` if that is later. A later one follows the
    previous session of the series (booked or done) by the plan's interval, whatever day it was
    planned for; with no longest interval it has `first_days` too. A booked next session of the
    series (`next_day`, when moving) bounds it from the other side by the same interval."""
    span = timedelta(
        days=max((settings.PORTAL_FIRST_VISIT_DAYS if first_days is None else first_days) - 1, 0)
    )
    least = timedelta(days=min_gap or 0)
    if previous_day is None:
        first, last = earliest, max(latest, earliest + span)
    else:
        first = previous_day + least
        last = previous_day + timedelta(days=max_gap) if max_gap is not None else max(latest, first + span)
    if next_day is not None:
        # Only a span (no previous session or no longest interval) gives way to the booked next one.
        spanned = previous_day is None or max_gap is None
        last = next_day - least if spanned else min(last, next_day - least)
        if max_gap is not None:
            first = max(first, next_day - timedelta(days=max_gap))
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
    series = list(
        PlannedSession.objects.filter(plan_id=planned.plan_id, treatment_id=planned.treatment_id)
        .exclude(pk=planned.pk)
        .order_by("session", "id")
        .values_list("pk", "session", "visit")
    )
    earlier = [(pk, visit) for pk, session, visit in series if session < planned.session]
    later = [pk for pk, session, _ in series if session > planned.session]
    held: dict[int, tuple[int, datetime, int]] = {}
    sessions = Appointment.objects.filter(planned_session_id__in=[pk for pk, _, _ in series] + [planned.pk])
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
    following = held.get(later[0]) if later else None
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
            next_day=local_day(following[1]) if following else None,
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


@dataclass(frozen=True, slots=True)
class DayRefusal:
    """Why the booking service would refuse a visit on a day whatever the time."""

    clinical: bool  # a contraindication on that day: its words are for the clinic's eyes
    message: str


@dataclass(frozen=True)
class VisitTimes:
    """The free times of one day of a visit's window, and the first day of it with any."""

    day: date | None
    times: tuple[FreeTime, ...]
    first_free_day: date | None
    refusal: DayRefusal | None = field(default=None)  # the day's, when it is refused whatever the time


def _days(window: VisitWindow) -> Iterator[date]:
    day = window.first
    while day <= window.last:
        yield day
        day += timedelta(days=1)


def day_refusals(visit: BookableVisit, *, exclude: int | None = None) -> dict[date, DayRefusal]:
    """The days of the visit's window the booking service would refuse at any time, with why: the
    patient's history read once, then each day judged by the engine as judge_booking does."""
    window = visit.window
    if window is None:
        return {}
    planned = visit.planned
    patient = profiled(Patient.objects.filter(pk=planned.plan.patient_id))[0]
    catalog = planning.prepare_catalog(current_catalog().engine)
    others = past_sessions(patient, exclude)
    treatment, name = planned.treatment.slug, planned.treatment.name
    areas = tuple(sorted(area.slug for area in planned.areas.all()))
    least = plan_min_interval(planned.plan, treatment)
    refusals: dict[date, DayRefusal] = {}
    for day in _days(window):
        profile = profile_for_patient(patient, today=day)
        clinical = booking_rules.treatment_problems(profile, catalog, treatment, name, areas)
        if clinical:
            refusals[day] = DayRefusal(True, " ".join(clinical))
            continue
        series = booking_rules.series_problems(
            catalog,
            treatment=treatment,
            name=name,
            areas=areas,
            day=day,
            sessions=others,
            plan_min_interval=least,
        )
        if series:
            refusals[day] = DayRefusal(False, " ".join(series))
    return refusals


def _open_runs(window: VisitWindow, refused: dict[date, DayRefusal]) -> list[tuple[date, date]]:
    """The window's stretches of days not refused, as (first, last)."""
    runs: list[tuple[date, date]] = []
    for day in _days(window):
        if day in refused:
            continue
        if runs and runs[-1][1] == day - timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def visit_times(
    visit: BookableVisit, *, day: date | None, now: datetime, exclude: int | None = None
) -> VisitTimes:
    """`day`'s free times (default: the first day of the window with one), one per start, the
    visit's practitioner's first; none on a day the booking service would refuse. `exclude`: a
    session being moved, whose own time is free."""
    window = visit.window
    if window is None:
        return VisitTimes(day, (), None)
    finder = SlotFinder(visit.planned.treatment, patient=visit.planned.plan.patient_id, exclude=exclude)
    refused = day_refusals(visit, exclude=exclude)
    runs = _open_runs(window, refused)
    first = None
    for practitioner in dict.fromkeys((visit.practitioner, None)):
        for run_first, run_last in runs:
            found = finder.find(run_first, run_last, practitioner=practitioner, limit=1, not_before=now)
            if found:
                first = found[0].local_day
                break
        if first is not None:
            break
    if not runs:  # every day refused: the first day says why
        return VisitTimes(
            day or window.first, (), None, refused.get(day or window.first, refused[window.first])
        )
    day = day or first
    if day is None or not window.holds(day):
        return VisitTimes(day, (), first)
    if day in refused:
        return VisitTimes(day, (), first, refused[day])
    by_start: dict[datetime, FreeTime] = {}
    for slot in finder.find(day, day, limit=DAY_LIMIT, not_before=now):
        kept = by_start.get(slot.start)
        if kept is None or (slot.practitioner == visit.practitioner != kept.practitioner):
            by_start[slot.start] = FreeTime(slot.start, slot.practitioner)
    return VisitTimes(day, tuple(by_start[start] for start in sorted(by_start)), first)


def with_booking_windows(plans: list[PortalPlan], patient_id: int, *, today: date) -> list[PortalPlan]:
    """`plans` with each next visit to book dated by the window its booking page offers
    (`bookable_visit`), so that the home page and the booking page give the same dates: a few
    queries per plan. Visits after it keep their planned dates, an estimate until it is booked."""
    result = []
    for plan in plans:
        treatments = []
        for treatment in plan.treatments:
            visits = []
            for visit in treatment.visits:
                if visit.book_pk is not None:
                    bookable = bookable_visit(patient_id, visit.book_pk, today=today)
                    if bookable is not None and bookable.window is not None:
                        visit = replace(visit, earliest=bookable.window.first, latest=bookable.window.last)
                visits.append(visit)
            treatments.append(replace(treatment, visits=tuple(visits)))
        result.append(replace(plan, treatments=tuple(treatments)))
    return result
