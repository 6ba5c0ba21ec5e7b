"""Free slots and plan dates: pure functions over plain data (no ORM, no clock).

Times are timezone-aware datetimes. Working windows are built from local wall-clock hours in the
clinic's zone, so a day on which clocks change has the right number of real hours.

`hold_resources` is the one conflict calculation: the slot finder asks it for every candidate
time, the booking service for the time asked for.
"""

from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from heapq import heappush, heapreplace
from typing import NamedTuple
from zoneinfo import ZoneInfo

Interval = tuple[datetime, datetime]
# ("practitioner" | "room" | "device" | "patient", id)
ResourceKey = tuple[str, int]
Busy = dict[ResourceKey, list[Interval]]
WeeklyHours = Mapping[int, Sequence[tuple[time, time]]]


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    practitioner: int
    room: int | None
    devices: tuple[int, ...]
    local_day: date | None = None  # the day in the clinic's zone, set by whoever knows the zone

    def __post_init__(self) -> None:
        if self.local_day is None:
            object.__setattr__(self, "local_day", self.start.date())

    @property
    def day(self) -> date:
        return self.local_day or self.start.date()


@dataclass
class Calendar:
    """What is known about one location for a span of days.

    windows: {practitioner_id: [(start, end), ...]} when the practitioner works and the location is
    open (time off and closures already cut out), sorted.
    busy: {("practitioner"|"room"|"device"|"patient", id): [(start, end), ...]} sorted by start;
    a patient's intervals are treatment times, the others' run to the end of the clean-up.
    rooms / devices: {resource type slug: [ids]} at the location.
    """

    windows: dict[int, list[Interval]]
    busy: Busy = field(default_factory=dict)
    rooms: dict[str, list[int]] = field(default_factory=dict)
    devices: dict[str, list[int]] = field(default_factory=dict)
    zone: str = "UTC"


@dataclass(frozen=True)
class SlotRequest:
    duration: timedelta
    buffer: timedelta
    practitioners: tuple[int, ...]
    room_types: tuple[str, ...] = ()
    device_types: tuple[str, ...] = ()
    patient: int | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    step: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Claim:
    """What a session would hold: its practitioner (to the end of the clean-up), its patient (for
    the treatment time), and one free room / device of each group of candidates."""

    practitioner: int
    patient: int | None
    rooms: tuple[tuple[int, ...], ...] = ()
    devices: tuple[tuple[int, ...], ...] = ()
    # Chosen by the desk (one candidate per group): a conflict names the room or device taken.
    named_room: bool = False
    named_devices: bool = False


# Named tuples rather than dataclasses: the slot finder makes one per candidate time.
class Taken(NamedTuple):
    resource: str  # "practitioner", "room", "patient" or "device"
    pk: int | None  # None: none of the rooms or devices that would do is free


class Held(NamedTuple):
    room: int | None
    devices: tuple[int, ...]


def local_window(day: date, opens: time, closes: time, zone: str | tzinfo) -> Interval:
    """The start and end, in UTC, of wall-clock hours on a local day.

    Arithmetic is done in UTC: Python adds and subtracts datetimes sharing a zone on the wall
    clock, which is wrong across a daylight-saving change.
    """
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    start = datetime.combine(day, opens, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day, closes, tzinfo=tz).astimezone(UTC)
    return start, end


def intersect(first: Sequence[Interval], second: Sequence[Interval]) -> list[Interval]:
    """Intersection of two sorted lists of (start, end) intervals."""
    result: list[Interval] = []
    i = j = 0
    while i < len(first) and j < len(second):
        start = max(first[i][0], second[j][0])
        end = min(first[i][1], second[j][1])
        if start < end:
            result.append((start, end))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return result


def subtract(windows: Sequence[Interval], blocked: Sequence[Interval]) -> list[Interval]:
    """Remove sorted `blocked` intervals from sorted `windows`."""
    result: list[Interval] = []
    for start, end in windows:
        cursor = start
        for b_start, b_end in blocked:
            if b_end <= cursor or b_start >= end:
                continue
            if b_start > cursor:
                result.append((cursor, b_start))
            cursor = max(cursor, b_end)
        if cursor < end:
            result.append((cursor, end))
    return result


def overlaps(intervals: Sequence[Interval], start: datetime, end: datetime) -> bool:
    """Whether [start, end) overlaps any interval of a list sorted by start (and not nested)."""
    index = bisect_left(intervals, (start,))
    if index > 0 and intervals[index - 1][1] > start:
        return True
    return index < len(intervals) and intervals[index][0] < end


def _busy_until(intervals: Sequence[Interval], start: datetime, end: datetime) -> datetime:
    """The end of an interval overlapping [start, end), which `overlaps` has found."""
    index = bisect_left(intervals, (start,))
    if index > 0 and intervals[index - 1][1] > start:
        return intervals[index - 1][1]
    return intervals[index][1]


NOTHING: list[Interval] = []


def _first_free(
    busy: Mapping[ResourceKey, Sequence[Interval]],
    kind: str,
    candidates: Sequence[int],
    start: datetime,
    end: datetime,
    skip: Sequence[int] = (),
) -> int | None:
    for pk in candidates:
        if pk not in skip and not overlaps(busy.get((kind, pk), NOTHING), start, end):
            return pk
    return None


def hold_resources(
    busy: Mapping[ResourceKey, Sequence[Interval]],
    claim: Claim,
    start: datetime,
    end: datetime,
    blocked_until: datetime,
) -> Held | Taken:
    """The room and devices a session over [start, end) with clean-up to `blocked_until` would
    hold, or the first resource already taken: practitioner, room, patient, device."""
    if overlaps(busy.get(("practitioner", claim.practitioner), NOTHING), start, blocked_until):
        return Taken("practitioner", claim.practitioner)
    room = None
    for candidates in claim.rooms:
        room = _first_free(busy, "room", candidates, start, blocked_until)
        if room is None:
            return Taken("room", candidates[0] if claim.named_room and candidates else None)
    if claim.patient is not None and overlaps(busy.get(("patient", claim.patient), NOTHING), start, end):
        return Taken("patient", claim.patient)
    devices: list[int] = []
    for candidates in claim.devices:
        device = _first_free(busy, "device", candidates, start, blocked_until, skip=devices)
        if device is None:
            return Taken("device", candidates[0] if claim.named_devices and candidates else None)
        devices.append(device)
    return Held(room, tuple(devices))


def _aligned(moment: datetime, step: timedelta) -> datetime:
    """Round up to the next multiple of `step` past the hour, so slots land on :00, :15, ..."""
    base = moment.replace(minute=0, second=0, microsecond=0)
    steps = -(-(moment - base) // step)
    return base + steps * step


def find_slots(calendar: Calendar, request: SlotRequest, *, limit: int = 10) -> list[Slot]:
    """The earliest free slots, earliest first, across the requested practitioners."""
    length = request.duration + request.buffer
    zone = ZoneInfo(calendar.zone)
    rooms = tuple(tuple(calendar.rooms.get(kind, ())) for kind in request.room_types)
    devices = tuple(tuple(calendar.devices.get(kind, ())) for kind in request.device_types)
    if limit <= 0:
        return []
    claims = {p: Claim(p, request.patient, rooms, devices) for p in request.practitioners}
    # Every practitioner's windows in time order, so that once `limit` slots are found the later
    # times are not tried: `best` holds the `limit` earliest (start, practitioner) found so far, as a
    # max-heap of negated keys.
    windows = sorted((start, end, p) for p in claims for start, end in calendar.windows.get(p, []))
    best: list[tuple[float, int]] = []
    candidates = []
    for window_start, window_end, practitioner in windows:
        if request.not_after is not None and window_start >= request.not_after:
            break
        start = window_start
        if request.not_before is not None and start < request.not_before:
            start = request.not_before
        start = _aligned(start, request.step)
        while start + length <= window_end:
            if request.not_after is not None and start >= request.not_after:
                break
            key = (-start.timestamp(), -practitioner)
            if len(best) == limit and key < best[0]:
                break  # this window has nothing earlier than the slots found already
            end = start + request.duration
            held = hold_resources(calendar.busy, claims[practitioner], start, end, start + length)
            if isinstance(held, Held):
                candidates.append(
                    Slot(start, end, practitioner, held.room, held.devices, start.astimezone(zone).date())
                )
                (heappush if len(best) < limit else heapreplace)(best, key)
            elif held.resource == "practitioner":
                # Every start before the end of what the practitioner is doing overlaps it too.
                until = _busy_until(calendar.busy[("practitioner", practitioner)], start, start + length)
                start += (-(-(until - start) // request.step) - 1) * request.step
            start += request.step
    candidates.sort(key=lambda slot: (slot.start, slot.practitioner))
    return candidates[:limit]


@dataclass(frozen=True)
class PlannedVisit:
    """One session of an accepted plan to place: its window, and the interval to the session it
    follows (`after`: the index of that session in the list; None when it follows none)."""

    earliest: date
    latest: date
    min_gap_days: int | None = None
    max_gap_days: int | None = None
    after: int | None = -1  # -1: the session just before it


# search(first_day, last_day, practitioner or None, slots placed so far) -> the first free slot
SlotSearch = Callable[[date, date, int | None, list[Slot]], Slot | None]


def propose_dates(
    visits: Sequence[PlannedVisit], search: SlotSearch, *, preferred: int | None = None
) -> tuple[list[Slot], str | None]:
    """Place every session of a plan, in order, each inside its window and its interval.

    `search(first_day, last_day, practitioner, placed)` returns the first free Slot in those days
    (or None), treating the slots already `placed` as taken; the same practitioner is preferred
    for every session. Returns (slots, problem): all slots, or those found before the first
    session that could not be placed and the reason.
    """
    slots: list[Slot] = []
    for number, visit in enumerate(visits, start=1):
        first_day, last_day = visit.earliest, visit.latest
        after = number - 2 if visit.after == -1 else visit.after
        if after is not None and 0 <= after < len(slots):
            previous_day = slots[after].day
            if visit.min_gap_days is not None:
                first_day = max(first_day, previous_day + timedelta(days=visit.min_gap_days))
            if visit.max_gap_days is not None:
                last_day = min(last_day, previous_day + timedelta(days=visit.max_gap_days))
            last_day = max(last_day, first_day)
        slot = None
        wanted = preferred or (slots[0].practitioner if slots else None)
        if wanted is not None:
            slot = search(first_day, last_day, wanted, slots)
        if slot is None:
            slot = search(first_day, last_day, None, slots)
        if slot is None:
            return slots, f"No free slot for session {number} between {first_day} and {last_day}."
        slots.append(slot)
    return slots, None


def day_windows(days: Sequence[date], hours: WeeklyHours, zone: str | tzinfo) -> list[Interval]:
    """Aware windows for `days` from weekly wall-clock hours {weekday: [(time, time), ...]}."""
    windows: list[Interval] = []
    for day in days:
        for opens, closes in hours.get(day.weekday(), []):
            windows.append(local_window(day, opens, closes, zone))
    return windows


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
