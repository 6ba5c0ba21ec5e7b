"""Read what the database knows about hours and bookings into the plain Calendar of
treatments.engine.timeslots, and find free slots with it.

A fixed handful of queries per calendar, whatever the number of bookings.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import overload
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Model, Q

from patients.models import Patient
from treatments.engine import timeslots
from treatments.engine.timeslots import Busy, Interval, WeeklyHours
from treatments.models import (
    Appointment,
    AppointmentDevice,
    Closure,
    Device,
    Location,
    OpeningHours,
    Practitioner,
    Room,
    TimeOff,
    Treatment,
    WorkingHours,
)

# One row of held_over(): practitioner, room, patient, starts_at, ends_at, blocked_until, device
HeldRow = tuple[int, int | None, int, datetime, datetime, datetime, int | None]


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_bounds(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """Aware start of `first_day` and end of `last_day` in the clinic's zone."""
    zone = clinic_zone()
    start = datetime.combine(first_day, time(0), tzinfo=zone)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


@dataclass(frozen=True)
class Needs:
    """What a treatment takes: how long, and which room and device types."""

    duration: timedelta
    buffer: timedelta
    room_types: tuple[str, ...]
    device_types: tuple[str, ...]

    @classmethod
    def of(cls, treatment: Treatment) -> "Needs":
        needs = list(treatment.needs.all())
        return cls(
            duration=timedelta(minutes=treatment.duration_minutes),
            buffer=timedelta(minutes=treatment.buffer_minutes),
            room_types=tuple(sorted(n.slug for n in needs if n.kind == "room")),
            device_types=tuple(sorted(n.slug for n in needs if n.kind == "device")),
        )


def busy_from(rows: Iterable[HeldRow], *, patient: int | None) -> Busy:
    """What each resource holds, from rows of sessions (and their device holds): the patient for
    the treatment time, the others to the end of the clean-up; sorted."""
    busy: Busy = {}
    for practitioner, room, patient_id, starts, ends, blocked, device in rows:
        busy.setdefault(("practitioner", practitioner), []).append((starts, blocked))
        if room is not None:
            busy.setdefault(("room", room), []).append((starts, blocked))
        if patient is not None and patient_id == patient:
            busy.setdefault(("patient", patient_id), []).append((starts, ends))
        if device is not None:
            busy.setdefault(("device", device), []).append((starts, blocked))
    for intervals in busy.values():
        intervals.sort()
    return busy


def held_over(
    start: datetime,
    blocked_until: datetime,
    *,
    practitioners: Sequence[int],
    patient: int | None,
    rooms: Sequence[int] = (),
    devices: Sequence[int] = (),
    exclude: int | None = None,
) -> Busy:
    """What the practitioners, the patient, the rooms and the devices hold over a period, in one
    query: one snapshot answers for every resource even while other bookings commit."""
    who = Q(practitioner_id__in=list(practitioners))
    if patient is not None:
        who |= Q(patient_id=patient)
    if rooms:
        who |= Q(room_id__in=list(rooms))
    if devices:
        who |= Q(device_holds__device_id__in=list(devices), device_holds__active=True)
    sessions = Appointment.objects.filter(who).active().overlapping(start, blocked_until)
    if exclude is not None:
        sessions = sessions.exclude(pk=exclude)
    if devices:
        return busy_from(sessions.values_list(*HELD_FIELDS, "device_holds__device_id"), patient=patient)
    return busy_from(_without_devices(sessions.values_list(*HELD_FIELDS)), patient=patient)


HELD_FIELDS = ("practitioner_id", "room_id", "patient_id", "starts_at", "ends_at", "blocked_until")


def _without_devices(
    rows: Iterable[tuple[int, int | None, int, datetime, datetime, datetime]],
) -> Iterable[HeldRow]:
    for practitioner, room, patient, starts, ends, blocked in rows:
        yield practitioner, room, patient, starts, ends, blocked, None


Hours = dict[int, list[tuple[time, time]]]  # weekday -> [(opens, closes), ...]


class Availability:
    """Hours, rooms and devices of one location (read_sites reads them); closures and time off read
    once; bookings read per span of days."""

    def __init__(
        self,
        location: Location,
        *,
        opening: Hours,
        working: dict[int, Hours],
        rooms: dict[str, list[int]],
        devices: dict[str, list[int]],
    ) -> None:
        self.location = location
        self.zone = clinic_zone()
        self.opening = opening
        self.working = working
        # Only those who work here: the others' bookings are not read for this location.
        self.practitioner_ids = sorted(self.working)
        self.rooms = rooms
        self.devices = devices
        self._closures: tuple[date, set[date]] | None = None
        self._off: tuple[date, dict[int, list[Interval]]] | None = None

    @classmethod
    def read(cls, location: Location, practitioner_ids: Iterable[int]) -> "Availability":
        return read_sites({location.pk: set(practitioner_ids)})[location.pk]

    def calendar(
        self,
        first_day: date,
        last_day: date,
        *,
        practitioners: Sequence[int] | None = None,
        patient: int | None = None,
        exclude: int | None = None,
        placed: Sequence[timeslots.Slot] = (),
        needs: Needs | None = None,
        busy: Busy | None = None,
    ) -> timeslots.Calendar:
        """A Calendar for these days and practitioners (default: all who work here); `placed` are
        proposed slots to treat as booked already. `busy`: what the resources hold over those days,
        read already (placed slots included), shared by several locations' calendars."""
        wanted = self._wanted(practitioners)
        windows = self.windows(first_day, last_day, practitioners=wanted)
        if busy is None:
            start, end = day_bounds(first_day, last_day)
            busy = busy_over(
                start,
                end,
                practitioners=wanted,
                rooms=self.room_ids(needs),
                devices=self.device_ids(needs),
                patient=patient,
                exclude=exclude,
                placed=placed,
            )
        return timeslots.Calendar(
            windows=windows, busy=busy, rooms=self.rooms, devices=self.devices, zone=self.zone.key
        )

    def room_ids(self, needs: Needs | None) -> list[int]:
        """The rooms here of the types a treatment needs (all of them without `needs`)."""
        return [
            pk for kind, pks in self.rooms.items() if needs is None or kind in needs.room_types for pk in pks
        ]

    def device_ids(self, needs: Needs | None) -> list[int]:
        return [
            pk
            for kind, pks in self.devices.items()
            if needs is None or kind in needs.device_types
            for pk in pks
        ]

    def _wanted(self, practitioners: Sequence[int] | None) -> list[int]:
        if practitioners is None:
            return self.practitioner_ids
        return [p for p in practitioners if p in self.working]

    def windows(
        self, first_day: date, last_day: date, *, practitioners: Sequence[int] | None = None
    ) -> dict[int, list[Interval]]:
        """When each practitioner (default: all who work here) works here while it is open, with
        closures and time off cut out: {practitioner_id: sorted [(start, end), ...]}."""
        wanted = self._wanted(practitioners)
        closed = self._closed(first_day)
        days = [d for d in timeslots.days_between(first_day, last_day) if d not in closed]
        opening = timeslots.day_windows(days, self.opening, self.zone)
        off = self._time_off(first_day)
        windows = {}
        for pk in wanted:
            working: WeeklyHours = self.working[pk]
            windows[pk] = timeslots.subtract(
                timeslots.intersect(timeslots.day_windows(days, working, self.zone), opening), off.get(pk, [])
            )
        return windows

    def _closed(self, first_day: date) -> set[date]:
        """The closed days from `first_day` on: read once, for every later day too (a search moves
        forward in time and closures are few)."""
        if self._closures is None or first_day < self._closures[0]:
            closed: set[date] = set()
            for first, last in Closure.objects.filter(
                location=self.location, last_day__gte=first_day
            ).values_list("first_day", "last_day"):
                closed.update(timeslots.days_between(first, last))
            self._closures = (first_day, closed)
        return self._closures[1]

    def _time_off(self, first_day: date) -> dict[int, list[Interval]]:
        """Everyone's time off here ending after the start of `first_day`: read once, like closures."""
        if self._off is None or first_day < self._off[0]:
            start, _ = day_bounds(first_day, first_day)
            off: dict[int, list[Interval]] = {}
            for practitioner, starts, ends in (
                TimeOff.objects.filter(practitioner_id__in=self.practitioner_ids, ends_at__gt=start)
                .order_by("starts_at")
                .values_list("practitioner_id", "starts_at", "ends_at")
            ):
                off.setdefault(practitioner, []).append((starts, ends))
            self._off = (first_day, off)
        return self._off[1]


def read_sites(staff: dict[int, set[int]]) -> dict[int, Availability]:
    """{location id: its Availability for those practitioners}: five queries for any number of
    locations."""
    ids = list(staff)
    opening: dict[int, Hours] = {pk: {} for pk in ids}
    for location, weekday, starts, ends in OpeningHours.objects.filter(location_id__in=ids).values_list(
        "location_id", "weekday", "starts", "ends"
    ):
        opening[location].setdefault(weekday, []).append((starts, ends))
    working: dict[int, dict[int, Hours]] = {pk: {} for pk in ids}
    wanted = {practitioner for practitioners in staff.values() for practitioner in practitioners}
    for location, practitioner, weekday, starts, ends in WorkingHours.objects.filter(
        location_id__in=ids, practitioner_id__in=wanted
    ).values_list("location_id", "practitioner_id", "weekday", "starts", "ends"):
        if practitioner in staff[location]:
            working[location].setdefault(practitioner, {}).setdefault(weekday, []).append((starts, ends))
    rooms: dict[int, dict[str, list[int]]] = {pk: {} for pk in ids}
    for pk, location, kind in Room.objects.filter(location_id__in=ids, active=True).values_list(
        "pk", "location_id", "kind__slug"
    ):
        rooms[location].setdefault(kind, []).append(pk)
    devices: dict[int, dict[str, list[int]]] = {pk: {} for pk in ids}
    for pk, location, kind in Device.objects.filter(location_id__in=ids, active=True).values_list(
        "pk", "location_id", "kind__slug"
    ):
        devices[location].setdefault(kind, []).append(pk)
    return {
        location.pk: Availability(
            location,
            opening=opening[location.pk],
            working=working[location.pk],
            rooms=rooms[location.pk],
            devices=devices[location.pk],
        )
        for location in Location.objects.filter(pk__in=ids)
    }


def busy_over(
    start: datetime,
    end: datetime,
    *,
    practitioners: Sequence[int],
    rooms: Sequence[int],
    devices: Sequence[int],
    patient: int | None,
    exclude: int | None = None,
    placed: Sequence[timeslots.Slot] = (),
) -> Busy:
    """What these practitioners, rooms, devices and the patient hold over [start, end), whichever
    location they are at, with the `placed` slots held too; sorted. Two queries."""
    who = Q(practitioner_id__in=list(practitioners)) | Q(room_id__in=list(rooms))
    if patient is not None:
        who |= Q(patient_id=patient)
    sessions = Appointment.objects.filter(who).active().overlapping(start, end)
    if exclude is not None:
        sessions = sessions.exclude(pk=exclude)
    busy = busy_from(_without_devices(sessions.values_list(*HELD_FIELDS)), patient=patient)
    if devices:
        holds = AppointmentDevice.objects.active().overlapping(start, end).filter(device_id__in=list(devices))
        if exclude is not None:
            holds = holds.exclude(appointment_id=exclude)
        for device, starts, blocked in holds.values_list("device_id", "starts_at", "blocked_until"):
            busy.setdefault(("device", device), []).append((starts, blocked))
    for slot in placed:
        _hold(busy, slot, patient)
    for intervals in busy.values():
        intervals.sort()
    return busy


def _hold(busy: Busy, slot: timeslots.Slot, patient: int | None) -> None:
    blocked = slot.blocked_until if isinstance(slot, FoundSlot) and slot.blocked_until else slot.end
    busy.setdefault(("practitioner", slot.practitioner), []).append((slot.start, blocked))
    if slot.room is not None:
        busy.setdefault(("room", slot.room), []).append((slot.start, blocked))
    for device in slot.devices:
        busy.setdefault(("device", device), []).append((slot.start, blocked))
    if patient is not None:
        busy.setdefault(("patient", patient), []).append((slot.start, slot.end))


@dataclass(frozen=True)
class FoundSlot(timeslots.Slot):
    location: int | None = None
    blocked_until: datetime | None = None


@overload
def _pk(value: Model | int) -> int: ...
@overload
def _pk(value: Model | int | None) -> int | None: ...
def _pk(value: Model | int | None) -> int | None:
    return value.pk if isinstance(value, Model) else value


def qualified_practitioners(
    treatment: Treatment, practitioner: Practitioner | int | None = None
) -> list[int]:
    found = Practitioner.objects.filter(active=True, treatments=treatment)
    if practitioner is not None:
        found = found.filter(pk=_pk(practitioner))
    return list(found.values_list("pk", flat=True))


class SlotFinder:
    """Free slots for one treatment, across locations, for some or all qualified practitioners.

    A location's hours, rooms and devices are read the first time a search needs them.
    """

    CHUNK_DAYS = 7

    def __init__(
        self,
        treatment: Treatment,
        *,
        practitioner: Practitioner | int | None = None,
        location: Location | int | None = None,
        patient: Patient | int | None = None,
        exclude: int | None = None,
    ) -> None:
        self.needs = Needs.of(treatment)
        self.patient = _pk(patient)
        self.exclude = exclude
        self.practitioners = qualified_practitioners(treatment, practitioner)
        rows = WorkingHours.objects.filter(practitioner_id__in=self.practitioners, location__active=True)
        if location is not None:
            rows = rows.filter(location_id=_pk(location))
        self.staff: dict[int, set[int]] = {}
        for location_id, practitioner_id in rows.values_list("location_id", "practitioner_id"):
            self.staff.setdefault(location_id, set()).add(practitioner_id)
        self._sites: dict[int, Availability] = {}

    def sites_for(self, practitioners: Iterable[int]) -> list[Availability]:
        """The locations where any of these practitioners work, each read the first time it is needed."""
        wanted = set(practitioners)
        needed = [pk for pk in sorted(self.staff) if self.staff[pk] & wanted]
        missing = {pk: self.staff[pk] for pk in needed if pk not in self._sites}
        if missing:
            self._sites.update(read_sites(missing))
        return [self._sites[pk] for pk in needed]

    def _request(
        self, practitioners: Sequence[int], not_before: datetime | None, not_after: datetime | None
    ) -> timeslots.SlotRequest:
        return timeslots.SlotRequest(
            duration=self.needs.duration,
            buffer=self.needs.buffer,
            practitioners=tuple(practitioners),
            room_types=self.needs.room_types,
            device_types=self.needs.device_types,
            patient=self.patient,
            not_before=not_before,
            not_after=not_after,
        )

    def find(
        self,
        first_day: date,
        last_day: date,
        *,
        practitioner: int | None = None,
        limit: int = 10,
        not_before: datetime | None = None,
        placed: Sequence[timeslots.Slot] = (),
        hours: tuple[time, time] | None = None,
    ) -> list[FoundSlot]:
        """The earliest free slots between two local days (inclusive), earliest first.

        hours: an optional (from, to) local time-of-day preference, e.g. (time(12), time(17)).
        """
        wanted = [practitioner] if practitioner is not None else self.practitioners
        wanted = [pk for pk in wanted if pk in self.practitioners]
        sites = self.sites_for(wanted)
        found: list[FoundSlot] = []
        day = first_day
        # Few slots wanted are usually found in the first days: read a short span first.
        span = 2 if limit <= 3 else self.CHUNK_DAYS
        while day <= last_day and len(found) < limit:
            chunk_end = min(last_day, day + timedelta(days=span - 1))
            span = min(span * 2, 2 * self.CHUNK_DAYS)
            start, end = day_bounds(day, chunk_end)
            # One read for every location: ids are unique across them.
            busy = busy_over(
                start,
                end,
                practitioners=wanted,
                rooms=[pk for site in sites for pk in site.room_ids(self.needs)],
                devices=[pk for site in sites for pk in site.device_ids(self.needs)],
                patient=self.patient,
                exclude=self.exclude,
                placed=placed,
            )
            for site in sites:
                calendar = site.calendar(day, chunk_end, practitioners=wanted, busy=busy)
                if hours is not None:
                    calendar.windows = _within_hours(calendar.windows, hours, site.zone)
                request = self._request(wanted, not_before, None)
                for slot in timeslots.find_slots(calendar, request, limit=limit):
                    found.append(
                        FoundSlot(
                            slot.start,
                            slot.end,
                            slot.practitioner,
                            slot.room,
                            slot.devices,
                            slot.local_day,
                            location=site.location.pk,
                            blocked_until=slot.end + self.needs.buffer,
                        )
                    )
            day = chunk_end + timedelta(days=1)
        found.sort(key=lambda s: (s.start, s.practitioner))
        return found[:limit]

    def open_days(self, first_day: date, last_day: date, *, not_before: datetime | None = None) -> list[date]:
        """The local days in [first_day, last_day] on which this treatment fits in someone's hours:
        a location open, a qualified practitioner working there and time off aside, for long
        enough after `not_before`. Bookings are not read: a full day is still an open day."""
        length = self.needs.duration + self.needs.buffer
        days: set[date] = set()
        for site in self.sites_for(self.practitioners):
            for spans in site.windows(first_day, last_day, practitioners=self.practitioners).values():
                for start, end in spans:
                    if not_before is not None:
                        start = max(start, not_before)
                    if end - start >= length:
                        days.add(start.astimezone(site.zone).date())
        return sorted(days)

    def first(
        self,
        first_day: date,
        last_day: date,
        practitioner: int | None = None,
        placed: Sequence[timeslots.Slot] = (),
    ) -> FoundSlot | None:
        slots = self.find(first_day, last_day, practitioner=practitioner, limit=1, placed=placed)
        return slots[0] if slots else None


def _within_hours(
    windows: dict[int, list[Interval]], hours: tuple[time, time], zone: ZoneInfo
) -> dict[int, list[Interval]]:
    opens, closes = hours
    result = {}
    for pk, spans in windows.items():
        days = sorted({s.astimezone(zone).date() for s, _ in spans})
        result[pk] = timeslots.intersect(
            spans, timeslots.day_windows(days, {weekday: [(opens, closes)] for weekday in range(7)}, zone)
        )
    return result
