"""Free slots and plan dates: pure functions over plain data (no ORM, no clock).

Times are timezone-aware datetimes. Working windows are built from local wall-clock hours in the
clinic's zone, so a day on which clocks change has the right number of real hours.
"""

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    practitioner: int
    room: int | None
    devices: tuple[int, ...]
    local_day: date | None = None  # the day in the clinic's zone, set by whoever knows the zone

    def __post_init__(self):
        if self.local_day is None:
            object.__setattr__(self, "local_day", self.start.date())


@dataclass
class Calendar:
    """What is known about one location for a span of days.

    windows: {practitioner_id: [(start, end), ...]} when the practitioner works and the location is
    open (time off and closures already cut out), sorted.
    busy: {("practitioner"|"room"|"device"|"patient", id): [(start, end), ...]} sorted by start.
    rooms / devices: {resource type slug: [ids]} at the location.
    """

    windows: dict
    busy: dict = field(default_factory=dict)
    rooms: dict = field(default_factory=dict)
    devices: dict = field(default_factory=dict)
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


def local_window(day, opens, closes, zone):
    """The start and end, in UTC, of wall-clock hours on a local day.

    Arithmetic is done in UTC: Python adds and subtracts datetimes sharing a zone on the wall
    clock, which is wrong across a daylight-saving change.
    """
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    start = datetime.combine(day, opens, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day, closes, tzinfo=tz).astimezone(UTC)
    return start, end


def intersect(first, second):
    """Intersection of two sorted lists of (start, end) intervals."""
    result, i, j = [], 0, 0
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


def subtract(windows, blocked):
    """Remove sorted `blocked` intervals from sorted `windows`."""
    result = []
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


def overlaps(intervals, start, end):
    """Whether [start, end) overlaps any interval of a list sorted by start (and not nested)."""
    index = bisect_left(intervals, (start,))
    if index > 0 and intervals[index - 1][1] > start:
        return True
    return index < len(intervals) and intervals[index][0] < end


def first_conflict(calendar, request, practitioner, start, end):
    """The first resource that is taken over [start, end), or None; with the room and devices to use."""
    busy = calendar.busy
    if overlaps(busy.get(("practitioner", practitioner), []), start, end):
        return ("practitioner", practitioner), None, ()
    if request.patient is not None and overlaps(busy.get(("patient", request.patient), []), start, end):
        return ("patient", request.patient), None, ()
    room = None
    for room_type in request.room_types:
        free = [
            r
            for r in calendar.rooms.get(room_type, [])
            if not overlaps(busy.get(("room", r), []), start, end)
        ]
        if not free:
            return ("room", room_type), None, ()
        room = free[0]
    devices = []
    for device_type in request.device_types:
        free = [
            d
            for d in calendar.devices.get(device_type, [])
            if d not in devices and not overlaps(busy.get(("device", d), []), start, end)
        ]
        if not free:
            return ("device", device_type), None, ()
        devices.append(free[0])
    return None, room, tuple(devices)


def _aligned(moment, step):
    """Round up to the next multiple of `step` past the hour, so slots land on :00, :15, ..."""
    base = moment.replace(minute=0, second=0, microsecond=0)
    steps = -(-(moment - base) // step)
    return base + steps * step


def find_slots(calendar, request, *, limit=10):
    """The earliest free slots, earliest first, across the requested practitioners."""
    length = request.duration + request.buffer
    zone = ZoneInfo(calendar.zone)
    candidates = []
    for practitioner in request.practitioners:
        found = 0
        for window_start, window_end in calendar.windows.get(practitioner, []):
            if request.not_after is not None and window_start >= request.not_after:
                break
            start = window_start
            if request.not_before is not None and start < request.not_before:
                start = request.not_before
            start = _aligned(start, request.step)
            while start + length <= window_end and found < limit:
                if request.not_after is not None and start >= request.not_after:
                    break
                end = start + request.duration
                conflict, room, devices = first_conflict(
                    calendar, request, practitioner, start, start + length
                )
                if conflict is None:
                    candidates.append(
                        Slot(start, end, practitioner, room, devices, start.astimezone(zone).date())
                    )
                    found += 1
                start += request.step
            if found >= limit:
                break
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


def propose_dates(visits, search, *, preferred=None):
    """Place every session of a plan, in order, each inside its window and its interval.

    `search(first_day, last_day, practitioner, placed)` returns the first free Slot in those days
    (or None), treating the slots already `placed` as taken; the same practitioner is preferred
    for every session. Returns (slots, problem): all slots, or those found before the first
    session that could not be placed and the reason.
    """
    slots = []
    for number, visit in enumerate(visits, start=1):
        first_day, last_day = visit.earliest, visit.latest
        after = number - 2 if visit.after == -1 else visit.after
        if after is not None and 0 <= after < len(slots):
            previous_day = slots[after].local_day
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


def day_windows(days, hours, zone):
    """Aware windows for `days` from weekly wall-clock hours {weekday: [(time, time), ...]}."""
    windows = []
    for day in days:
        for opens, closes in hours.get(day.weekday(), []):
            windows.append(local_window(day, opens, closes, zone))
    return windows


def days_between(first, last):
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
