"""Booking rules as plain functions: hours, the session lifecycle, and intervals between sessions.

Each returns the messages a front desk needs to see (an empty list when the rule is met).
"""

from dataclasses import dataclass
from datetime import date

# Allowed status changes and who may make them ("desk": front desk or clinician; "clinician").
TRANSITIONS = {
    ("booked", "checked_in"): "desk",
    ("booked", "cancelled"): "desk",
    ("booked", "no_show"): "desk",
    ("checked_in", "booked"): "desk",  # checked in by mistake
    ("checked_in", "cancelled"): "desk",
    ("checked_in", "no_show"): "desk",
    ("checked_in", "in_progress"): "clinician",
    ("in_progress", "completed"): "clinician",
    ("in_progress", "cancelled"): "clinician",  # stopped during screening, for a clinical reason
}
MOVABLE = {"booked", "checked_in"}


def transition_problem(current, wanted, *, is_clinician):
    who = TRANSITIONS.get((current, wanted))
    if who is None:
        return f"A {current.replace('_', ' ')} session cannot become {wanted.replace('_', ' ')}."
    if who == "clinician" and not is_clinician:
        return "Only a clinician can do this."
    return None


def _inside(start, end, windows):
    return any(w_start <= start and end <= w_end for w_start, w_end in windows)


def hours_problems(start, end, *, closure, opening, working, time_off, who):
    """Whether [start, end) fits the location's and the practitioner's hours.

    closure: None, or the reason text of a closure on that day ("" when none was given);
    opening / working / time_off: lists of aware (start, end) intervals around that day.
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
    areas: tuple
    day: date


def interval_problems(*, treatment, name, areas, day, sessions, min_interval_days, gap_days, overlaps):
    """Messages for sessions of the patient too close to a new `treatment` session on `day`.

    sessions: the patient's other active sessions (PastSession); min_interval_days: the least
    interval of this treatment's series; gap_days(first, then): the catalog's minimum gap between
    two procedures; overlaps(areas, areas): whether two sets of areas touch.
    """
    problems = []
    for other in sorted(sessions, key=lambda s: s.day):
        apart = abs((day - other.day).days)
        if other.treatment == treatment:
            if min_interval_days and apart < min_interval_days:
                problems.append(
                    f"{name} on {other.day:%b %d, %Y} is only {apart} days away; its series needs "
                    f"at least {min_interval_days} days between sessions."
                )
            continue
        if not overlaps(areas, other.areas):
            continue
        first, then = (other, None) if other.day <= day else (None, other)
        needed = gap_days(first.treatment, treatment) if first else gap_days(treatment, then.treatment)
        if needed and apart < needed:
            problems.append(
                f"{other.name} on {other.day:%b %d, %Y} treats an overlapping area only {apart} days "
                f"away; the catalog asks for at least {needed} days between them."
            )
    return problems
