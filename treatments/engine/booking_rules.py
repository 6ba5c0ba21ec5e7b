"""Booking rules as plain data and functions: the session lifecycle, hours, qualification, a fresh
contraindication check on the day, intervals between sessions, rooms and devices, and conflicts.

`judge_booking` takes the facts of a booking's day (read once by
treatments.selectors.booking_facts) and returns the problems per form field, the location, and
the resources to hold or the one that is taken.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from treatments.engine import planning
from treatments.engine.plan_results import OptionStatus
from treatments.engine.profile_validation import Profile
from treatments.engine.timeslots import Busy, Claim, Held, Interval, Taken, hold_resources, overlaps


class SessionStatus(StrEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


S = SessionStatus
# Sessions that hold their practitioner, room, devices and patient (migration 0003 says the same).
ACTIVE: frozenset[str] = frozenset({S.BOOKED, S.CHECKED_IN, S.IN_PROGRESS, S.COMPLETED})
MOVABLE: frozenset[str] = frozenset({S.BOOKED, S.CHECKED_IN})
# A session whose clinical record can still be screened.
OPEN: frozenset[str] = frozenset({S.BOOKED, S.CHECKED_IN, S.IN_PROGRESS})
REMINDABLE: frozenset[str] = frozenset({S.BOOKED, S.CHECKED_IN})
# Set only by the clinical record: screening starts a session, signing completes it.
RECORD_DRIVEN: frozenset[str] = frozenset({S.IN_PROGRESS, S.COMPLETED})

DESK, CLINICIAN = "desk", "clinician"
# Allowed status changes and who may make them (DESK: front desk or clinician).
TRANSITIONS: Mapping[tuple[str, str], str] = {
    (S.BOOKED, S.CHECKED_IN): DESK,
    (S.BOOKED, S.CANCELLED): DESK,
    (S.BOOKED, S.NO_SHOW): DESK,
    (S.CHECKED_IN, S.BOOKED): DESK,  # checked in by mistake
    (S.CHECKED_IN, S.CANCELLED): DESK,
    (S.CHECKED_IN, S.NO_SHOW): DESK,
    (S.NO_SHOW, S.BOOKED): DESK,  # marked by mistake: the patient came after all (on the day only)
    (S.CHECKED_IN, S.IN_PROGRESS): CLINICIAN,
    (S.IN_PROGRESS, S.COMPLETED): CLINICIAN,
    (S.IN_PROGRESS, S.CANCELLED): CLINICIAN,  # stopped during screening, for a clinical reason
}

ONLY_CLINICIAN = "Only a clinician can do this."
CHOOSE_AREAS = "Choose the areas to treat."
CLINICIAN_MAY_OVERRIDE = "A clinician may book it anyway with a reason."
OVERRIDE_ONLY_CLINICIAN = "Only a clinician can book inside the minimum interval."


def transition_problem(current: str, wanted: str, *, is_clinician: bool) -> str | None:
    who = TRANSITIONS.get((current, wanted))
    if who is None:
        return f"A {current.replace('_', ' ')} session cannot become {wanted.replace('_', ' ')}."
    if who == CLINICIAN and not is_clinician:
        return ONLY_CLINICIAN
    return None


def _inside(start: datetime, end: datetime, windows: Sequence[Interval]) -> bool:
    return any(w_start <= start and end <= w_end for w_start, w_end in windows)


def hours_problems(
    start: datetime,
    end: datetime,
    *,
    closure: str | None,
    opening: Sequence[Interval],
    working: Sequence[Interval],
    time_off: Sequence[Interval],
    who: str,
) -> list[str]:
    """Whether [start, end) fits the location's and the practitioner's hours.

    closure: None, or the reason text of a closure on that day ("" when none was given);
    opening / working / time_off: aware (start, end) intervals around that day.
    """
    if closure is not None:
        return [f"The clinic is closed that day{f' ({closure})' if closure else ''}."]
    if not _inside(start, end, opening):
        return ["That time is outside the clinic's opening hours (clean-up time included)."]
    if not _inside(start, end, working):
        return [f"{who} does not work at that time."]
    if any(s < end and start < e for s, e in time_off):
        return [f"{who} is off at that time."]
    return []


@dataclass(frozen=True)
class PastSession:
    treatment: str
    name: str
    areas: tuple[str, ...]
    day: date


def interval_problems(
    *,
    treatment: str,
    name: str,
    areas: tuple[str, ...],
    day: date,
    sessions: Sequence[PastSession],
    min_interval_days: int,
    gap_days: Callable[[str, str], int],
    overlaps: Callable[[tuple[str, ...], tuple[str, ...]], bool],
) -> list[str]:
    """Messages for sessions of the patient too close to a new `treatment` session on `day`.

    sessions: the patient's other active sessions; min_interval_days: the least interval of this
    treatment's series; gap_days(first, then): the catalog's minimum gap between two procedures;
    overlaps(areas, areas): whether two sets of areas touch.
    """
    problems = []
    for other in sorted(sessions, key=lambda s: s.day):
        apart = abs((day - other.day).days)
        if other.treatment == treatment:
            if min_interval_days and apart < min_interval_days:
                problems.append(
                    f"{name} on {planning.day_text(other.day)} is only {apart} days away; its series needs "
                    f"at least {min_interval_days} days between sessions."
                )
            continue
        if not overlaps(areas, other.areas):
            continue
        if other.day <= day:
            needed = gap_days(other.treatment, treatment)
        else:
            needed = gap_days(treatment, other.treatment)
        if needed and apart < needed:
            problems.append(
                f"{other.name} on {planning.day_text(other.day)} treats an overlapping area only {apart} days "
                f"away; the catalog asks for at least {needed} days between them."
            )
    return problems


@dataclass(frozen=True)
class SiteHours:
    """A location where the practitioner works on the booking's weekday, and its hours that day."""

    location: int
    opening: tuple[Interval, ...]
    working: tuple[Interval, ...]
    closure: str | None  # None: open; else the closure's reason ("" when none was given)


@dataclass(frozen=True)
class Resource:
    """A room or a device."""

    pk: int
    name: str
    location: int
    kind: str
    active: bool = True


@dataclass(frozen=True)
class BookingFacts:
    """What is known of a booking's day, read once: the practitioner's hours, the patient's profile
    and sessions, the catalog, the rooms and devices at the practitioner's locations, and what is
    held over the period (busy: as in treatments.engine.timeslots.Calendar)."""

    patient: int
    practitioner: int
    practitioner_name: str
    treatment: str
    treatment_name: str
    areas: tuple[str, ...]
    start: datetime
    end: datetime
    blocked_until: datetime
    day: date
    room_types: tuple[str, ...]
    device_types: tuple[str, ...]
    qualified: bool
    sites: tuple[SiteHours, ...]
    time_off: tuple[Interval, ...]
    catalog: planning.Catalog
    profile: Profile  # the plan engine's profile (plan-api.md), its `today` the day
    past_sessions: tuple[PastSession, ...]
    plan_min_interval: int | None  # the accepted plan's least interval for this treatment
    room: Resource | None  # chosen by the desk; None: assigned here
    devices: tuple[Resource, ...]  # chosen by the desk; none: assigned here
    rooms_at_sites: tuple[Resource, ...]
    devices_at_sites: tuple[Resource, ...]
    busy: Busy


@dataclass(frozen=True)
class Problem:
    field: (
        str  # the booking form's field: areas, practitioner, start, treatment, override_reason, room, devices
    )
    message: str
    clinical: bool = False  # names the patient's condition: for clinicians' eyes only


@dataclass(frozen=True)
class Judgement:
    problems: tuple[Problem, ...]
    location: int | None = None
    interval_override_reason: str = ""
    held: Held | None = None  # the room and devices to hold, when there is no problem
    taken: Taken | None = None  # or the first resource already taken


def hours_judgement(facts: BookingFacts) -> tuple[list[str], int | None]:
    """Messages, and the location whose hours hold [start, blocked_until)."""
    if not facts.sites:
        return [f"{facts.practitioner_name} does not work at that time ({facts.day:%A}s)."], None
    problems: list[str] = []
    for site in facts.sites:
        problems = hours_problems(
            facts.start,
            facts.blocked_until,
            closure=site.closure,
            opening=site.opening,
            working=site.working,
            time_off=facts.time_off,
            who=facts.practitioner_name,
        )
        if not problems:
            return [], site.location
    return problems, None


def contraindication_problems(facts: BookingFacts) -> list[str]:
    return treatment_problems(
        facts.profile, facts.catalog, facts.treatment, facts.treatment_name, facts.areas
    )


def treatment_problems(
    profile: Profile, catalog: planning.Catalog, treatment: str, name: str, areas: tuple[str, ...]
) -> list[str]:
    """Why `treatment` may not be done on `areas` on the profile's `today`: the contraindications."""
    verdict = planning.check_treatment(profile, catalog, treatment, areas)
    reasons = "; ".join(reason.text for reason in verdict.reasons)
    if verdict.status == OptionStatus.EXCLUDED:
        return [f"{name} must not be done for this patient: {reasons}"]
    if verdict.status == OptionStatus.DEFERRED:
        when = f" before {verdict.earliest_start.isoformat()}" if verdict.earliest_start else " yet"
        return [f"{name} cannot be done{when}: {reasons}"]
    if verdict.status == OptionStatus.NEEDS_CLEARANCE:
        return [f"{name} needs a clinician's clearance first: {reasons}"]
    return []


def min_interval_days(catalog: planning.Catalog, treatment: str, plan_min: int | None) -> int:
    """The least days between sessions of a treatment: the plan's choice, else the catalog's."""
    if plan_min is not None:
        return plan_min
    intervals = [
        p["interval_days"]["min"]
        for ps in catalog.protocols.values()
        for p in ps
        if p["treatment"] == treatment
    ]
    return min(intervals, default=0)


def booking_interval_problems(facts: BookingFacts) -> list[str]:
    return series_problems(
        facts.catalog,
        treatment=facts.treatment,
        name=facts.treatment_name,
        areas=facts.areas,
        day=facts.day,
        sessions=facts.past_sessions,
        plan_min_interval=facts.plan_min_interval,
    )


def series_problems(
    catalog: planning.Catalog,
    *,
    treatment: str,
    name: str,
    areas: tuple[str, ...],
    day: date,
    sessions: Sequence[PastSession],
    plan_min_interval: int | None,
) -> list[str]:
    """Why a `treatment` session on `day` is too close to the patient's other `sessions`: its
    series' least interval, and the catalog's gaps to other procedures on the same areas."""
    tree = catalog.tree

    def overlaps(first: tuple[str, ...], second: tuple[str, ...]) -> bool:
        return any(tree.overlaps(a, b) for a in first for b in second) or not first or not second

    return interval_problems(
        treatment=treatment,
        name=name,
        areas=areas,
        day=day,
        sessions=sessions,
        min_interval_days=min_interval_days(catalog, treatment, plan_min_interval),
        gap_days=catalog.gap_days,
        overlaps=overlaps,
    )


def resource_problems(facts: BookingFacts, location: int) -> list[Problem]:
    """Problems with the room and devices the desk chose (none chosen: they are assigned later)."""
    problems = []
    room = facts.room
    if room is not None:
        if room.location != location or not room.active:
            problems.append(Problem("room", f"{room.name} is not at this practitioner's location that day."))
        elif facts.room_types and room.kind not in facts.room_types:
            problems.append(Problem("room", f"{room.name} is not a room this treatment can use."))
    kinds = {d.kind for d in facts.devices}
    missing = [kind for kind in facts.device_types if kind not in kinds]
    wrong = [d.name for d in facts.devices if d.location != location or not d.active]
    if wrong:
        problems.append(Problem("devices", f"Not available at this location: {', '.join(wrong)}."))
    elif facts.devices and missing:
        problems.append(Problem("devices", f"This treatment also needs: {', '.join(missing)}."))
    return problems


def claim_for(facts: BookingFacts, location: int) -> Claim:
    """What the session would hold: the desk's room and devices, else any free of the kinds it needs."""
    if facts.room is not None:
        rooms: tuple[tuple[int, ...], ...] = ((facts.room.pk,),)
    elif facts.room_types:
        rooms = (
            tuple(
                r.pk
                for r in facts.rooms_at_sites
                if r.location == location and r.active and r.kind in facts.room_types
            ),
        )
    else:
        rooms = ()
    devices: tuple[tuple[int, ...], ...]
    if facts.devices:
        devices = tuple((pk,) for pk in sorted(d.pk for d in facts.devices))
    else:
        devices = tuple(
            tuple(
                d.pk for d in facts.devices_at_sites if d.location == location and d.active and d.kind == kind
            )
            for kind in facts.device_types
        )
    return Claim(
        practitioner=facts.practitioner,
        patient=facts.patient,
        rooms=rooms,
        devices=devices,
        named_room=facts.room is not None,
        named_devices=bool(facts.devices),
    )


def _patient_busy(facts: BookingFacts, location: int) -> bool:
    patient = claim_for(facts, location).patient
    return patient is not None and overlaps(facts.busy.get(("patient", patient), []), facts.start, facts.end)


def judge_booking(facts: BookingFacts, *, is_clinician: bool, override_reason: str = "") -> Judgement:
    problems: list[Problem] = []
    if not facts.areas:
        problems.append(Problem("areas", CHOOSE_AREAS))
    if not facts.qualified:
        problems.append(
            Problem("practitioner", f"{facts.practitioner_name} is not qualified for {facts.treatment_name}.")
        )
    hours, location = hours_judgement(facts)
    problems += [Problem("start", message) for message in hours]
    problems += [Problem("treatment", message, clinical=True) for message in contraindication_problems(facts)]
    intervals = booking_interval_problems(facts)
    if intervals and location is not None and _patient_busy(facts, location):
        # The patient is already in a session at that time: a conflict (409), not an interval.
        intervals = []
    reason = override_reason.strip()
    if intervals:
        if not reason:
            if is_clinician:
                intervals.append(CLINICIAN_MAY_OVERRIDE)
            problems += [Problem("start", message) for message in intervals]
        elif not is_clinician:
            problems.append(Problem("override_reason", OVERRIDE_ONLY_CLINICIAN))
    if location is not None:
        problems += resource_problems(facts, location)
    if problems or location is None:
        return Judgement(tuple(problems), location)
    outcome = hold_resources(
        facts.busy, claim_for(facts, location), facts.start, facts.end, facts.blocked_until
    )
    return Judgement(
        (),
        location,
        interval_override_reason=reason if intervals else "",
        held=outcome if isinstance(outcome, Held) else None,
        taken=outcome if isinstance(outcome, Taken) else None,
    )
