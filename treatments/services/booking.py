"""Book, move, cancel and change the status of sessions.

Every write runs in one transaction. Overlaps are refused by PostgreSQL's exclusion constraints
(migration 0003), whatever requests arrive together; the check made here first gives the usual
case a precise answer, and on SQLite, whose transactions take the write lock at BEGIN
(IMMEDIATE mode, see settings), it is the whole guard.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from clinic.roles import CLINICIAN, has_role
from treatments.engine import booking_rules, planning, timeslots
from treatments.models import (
    Appointment,
    AppointmentDevice,
    Closure,
    Device,
    OpeningHours,
    PlannedSession,
    Practitioner,
    Room,
    TimeOff,
    WorkingHours,
)
from treatments.selectors.availability import Needs, SlotFinder, clinic_zone, overlapping
from treatments.selectors.patient_profile import profile_for_patient
from treatments.selectors.plan_suggestions import current_catalog

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


class Conflict(Exception):
    """A resource is already taken at that time."""

    def __init__(self, resource, pk, start=None):
        self.resource, self.pk, self.start = resource, pk, start
        super().__init__(f"{RESOURCE_NAMES[resource]} is already booked at that time.")

    @property
    def detail(self):
        return str(self)


@dataclass
class BookingRequest:
    patient: object
    treatment: object
    areas: list
    practitioner: object
    start: datetime
    room: object = None
    devices: list = field(default_factory=list)
    plan: object = None
    planned_session: object = None
    override_reason: str = ""


def _local_day(moment):
    return moment.astimezone(clinic_zone()).date()


def _hours_problems(practitioner, start, blocked_until):
    """Messages, and the location whose hours hold [start, blocked_until)."""
    zone = clinic_zone()
    day = _local_day(start)
    rows = list(WorkingHours.objects.filter(practitioner=practitioner, weekday=day.weekday()))
    if not rows:
        return [f"{practitioner} does not work at that time ({day:%A}s)."], None
    off = list(
        TimeOff.objects.filter(
            practitioner=practitioner, starts_at__lt=blocked_until, ends_at__gt=start
        ).values_list("starts_at", "ends_at")
    )
    problems = []
    for location in {row.location_id for row in rows}:
        working = [
            timeslots.local_window(day, row.starts, row.ends, zone)
            for row in rows
            if row.location_id == location
        ]
        opening = [
            timeslots.local_window(day, row.starts, row.ends, zone)
            for row in OpeningHours.objects.filter(location_id=location, weekday=day.weekday())
        ]
        closure = (
            Closure.objects.filter(location_id=location, first_day__lte=day, last_day__gte=day)
            .values_list("reason", flat=True)
            .first()
        )
        problems = booking_rules.hours_problems(
            start,
            blocked_until,
            closure=closure,
            opening=opening,
            working=working,
            time_off=off,
            who=str(practitioner),
        )
        if not problems:
            return [], location
    return problems, None


def _contraindication_problems(patient, treatment, area_slugs, day):
    catalog = current_catalog()
    profile = profile_for_patient(patient, today=day)
    verdict = planning.check_treatment(profile, catalog.engine, treatment.slug, area_slugs)
    reasons = "; ".join(r["text"] for r in verdict["reasons"])
    if verdict["status"] == "excluded":
        return [f"{treatment.name} must not be done for this patient: {reasons}"]
    if verdict["status"] == "deferred":
        when = f" before {verdict['earliest_start']}" if verdict["earliest_start"] else " yet"
        return [f"{treatment.name} cannot be done{when}: {reasons}"]
    if verdict["status"] == "needs_clearance":
        return [f"{treatment.name} needs a clinician's clearance first: {reasons}"]
    return []


def _min_interval(request):
    """The least days between sessions of this treatment: the plan's choice, else the catalog's."""
    if request.plan is not None:
        for item in request.plan.chosen.get("items", []):
            if item["treatment"] == request.treatment.slug:
                return item["interval_days"]["min"]
    catalog = current_catalog().engine
    intervals = [
        p["interval_days"]["min"]
        for ps in catalog.protocols.values()
        for p in ps
        if p["treatment"] == request.treatment.slug
    ]
    return min(intervals, default=0)


def _interval_problems(request, day, area_slugs, exclude):
    catalog = current_catalog().engine
    others = (
        Appointment.objects.filter(patient=request.patient, status__in=Appointment.ACTIVE)
        .exclude(pk=exclude)
        .select_related("treatment")
        .prefetch_related("areas")
    )
    sessions = [
        booking_rules.PastSession(
            treatment=a.treatment.slug,
            name=a.treatment.name,
            areas=tuple(area.slug for area in a.areas.all()),
            day=_local_day(a.starts_at),
        )
        for a in others
    ]
    tree = catalog.tree

    def overlaps(first, second):
        return any(tree.overlaps(a, b) for a in first for b in second) or not first or not second

    return booking_rules.interval_problems(
        treatment=request.treatment.slug,
        name=request.treatment.name,
        areas=tuple(area_slugs),
        day=day,
        sessions=sessions,
        min_interval_days=_min_interval(request),
        gap_days=catalog.gap_days,
        overlaps=overlaps,
    )


def _resources(request, needs, location):
    """Field errors for the room and devices chosen (none chosen: they are assigned later)."""
    errors = {}
    room = request.room
    if room is not None:
        if room.location_id != location or not room.active:
            errors["room"] = [f"{room.name} is not at this practitioner's location that day."]
        elif needs.room_types and room.kind.slug not in needs.room_types:
            errors["room"] = [f"{room.name} is not a room this treatment can use."]
    devices = list(request.devices or [])
    kinds = {d.kind.slug for d in devices}
    missing = [kind for kind in needs.device_types if kind not in kinds]
    wrong = [d.name for d in devices if d.location_id != location or not d.active]
    if devices and missing:
        errors["devices"] = [f"This treatment also needs: {', '.join(missing)}."]
    if wrong:
        errors["devices"] = [f"Not available at this location: {', '.join(wrong)}."]
    return errors


def _holding(start, blocked_until, exclude):
    """Active sessions and device holds over a period, but for the session being moved."""
    sessions = Appointment.objects.filter(
        overlapping(start, blocked_until), status__in=Appointment.ACTIVE
    ).exclude(pk=exclude)
    holds = AppointmentDevice.objects.filter(overlapping(start, blocked_until), active=True).exclude(
        appointment_id=exclude
    )
    return sessions, holds


def _first_free(candidates, taken):
    busy = set(taken)
    return next((pk for pk in candidates if pk not in busy), None)


def _conflict_check(appointment, device_ids, exclude):
    """Raise Conflict for the first resource taken, practitioner first. One query, so that one
    snapshot answers for every resource even while other bookings commit."""
    start, end, blocked = appointment.starts_at, appointment.ends_at, appointment.blocked_until
    held = overlapping(start, blocked)
    who = Q(practitioner_id=appointment.practitioner_id) | Q(patient_id=appointment.patient_id)
    if appointment.room_id:
        who |= Q(room_id=appointment.room_id)
    if device_ids:
        who |= Q(device_holds__device_id__in=device_ids, device_holds__active=True)
    rows = (
        Appointment.objects.filter(held, who)
        .filter(status__in=Appointment.ACTIVE)
        .exclude(pk=exclude)
        .values_list(
            "practitioner_id",
            "room_id",
            "patient_id",
            "starts_at",
            "ends_at",
            "blocked_until",
            "device_holds__device_id",
        )
    )
    taken = set()
    for practitioner, room, patient, starts, ends, until, device in rows:
        if starts < blocked and until > start:
            if practitioner == appointment.practitioner_id:
                taken.add(("practitioner", practitioner))
            if room is not None and room == appointment.room_id:
                taken.add(("room", room))
            if device in device_ids:
                taken.add(("device", device))
        if patient == appointment.patient_id and starts < end and ends > start:
            taken.add(("patient", patient))
    for resource in ("practitioner", "room", "patient", "device"):
        found = sorted(pk for kind, pk in taken if kind == resource)
        if found:
            raise Conflict(resource, found[0], start)


def _conflict_from(error, appointment, device_ids):
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


def _check(request, *, by, exclude=None):
    """Run every booking rule; returns (appointment fields, device ids) or raises ValidationError."""
    errors = {}
    treatment, practitioner = request.treatment, request.practitioner
    needs = Needs.of(treatment)
    start = request.start
    end = start + needs.duration
    blocked_until = end + needs.buffer
    area_slugs = sorted(area.slug for area in request.areas)
    if not area_slugs:
        errors["areas"] = ["Choose the areas to treat."]
    if not practitioner.active or not practitioner.treatments.filter(pk=treatment.pk).exists():
        errors.setdefault("practitioner", []).append(f"{practitioner} is not qualified for {treatment.name}.")
    hours, location = _hours_problems(practitioner, start, blocked_until)
    if hours:
        errors.setdefault("start", []).extend(hours)
    day = _local_day(start)
    contraindications = _contraindication_problems(request.patient, treatment, area_slugs, day)
    if contraindications:
        errors.setdefault("treatment", []).extend(contraindications)
    intervals = _interval_problems(request, day, area_slugs, exclude)
    if intervals:
        reason = (request.override_reason or "").strip()
        if not reason:
            if has_role(by, CLINICIAN):
                intervals.append("A clinician may book it anyway with a reason.")
            errors.setdefault("start", []).extend(intervals)
        elif not has_role(by, CLINICIAN):
            errors.setdefault("override_reason", []).append(
                "Only a clinician can book inside the minimum interval."
            )
    if location is not None:
        for name, messages in _resources(request, needs, location).items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    room = request.room.pk if request.room else None
    sessions, holds = _holding(start, blocked_until, exclude)
    if room is None and needs.room_types:
        candidates = Room.objects.filter(location_id=location, active=True, kind__slug__in=needs.room_types)
        room = _first_free(
            candidates.values_list("pk", flat=True),
            sessions.filter(room__isnull=False).values_list("room_id", flat=True),
        )
        if room is None:
            raise Conflict("room", None, start)
    devices = [d.pk for d in request.devices or []]
    if not devices:
        held = set(holds.values_list("device_id", flat=True))
        for kind in needs.device_types:
            candidates = Device.objects.filter(location_id=location, active=True, kind__slug=kind)
            device = _first_free(candidates.values_list("pk", flat=True), held)
            if device is None:
                raise Conflict("device", None, start)
            devices.append(device)
    fields = {
        "patient": request.patient,
        "treatment": treatment,
        "practitioner": practitioner,
        "location_id": location,
        "room_id": room,
        "starts_at": start,
        "ends_at": end,
        "blocked_until": blocked_until,
        "interval_override_reason": (request.override_reason or "").strip() if intervals else "",
    }
    return fields, devices


def _save(appointment, devices, area_ids):
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


@transaction.atomic
def book(request, *, by):
    """Book one session; raises ValidationError (field errors) or Conflict."""
    fields, devices = _check(request, by=by)
    appointment = Appointment(
        **fields, plan=request.plan, planned_session=request.planned_session, booked_by=by
    )
    _conflict_check(appointment, devices, exclude=None)
    _save(appointment, devices, [area.pk for area in request.areas])
    return appointment


@transaction.atomic
def move(appointment, *, start, by, practitioner=None, room=None, override_reason=""):
    """Move a booked session to a new start (and optionally practitioner or room), same checks."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status not in booking_rules.MOVABLE:
        raise ValidationError(
            {"start": [f"A {appointment.get_status_display().lower()} session cannot be moved."]}
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
    fields, devices = _check(request, by=by, exclude=appointment.pk)
    for name, value in fields.items():
        setattr(appointment, name, value)
    _conflict_check(appointment, devices, exclude=appointment.pk)
    _save(appointment, devices, [area.pk for area in request.areas])
    return appointment


@transaction.atomic
def change_status(appointment, *, status, by, reason=""):
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    problem = booking_rules.transition_problem(
        appointment.status, status, is_clinician=has_role(by, CLINICIAN)
    )
    if problem:
        raise ValidationError({"status": [problem]})
    if status == Appointment.Status.CANCELLED:
        if not reason.strip():
            raise ValidationError({"reason": ["Say why the session is cancelled."]})
        appointment.cancel_reason = reason.strip()
        appointment.cancelled_by = by
    appointment.status = status
    appointment.save()
    active = status in Appointment.ACTIVE
    AppointmentDevice.objects.filter(appointment=appointment).update(active=active)
    return appointment


def cancel(appointment, *, reason, by):
    return change_status(appointment, status=Appointment.Status.CANCELLED, by=by, reason=reason)


def next_slots(treatment, *, start, practitioner=None, patient=None, exclude=None, limit=5):
    """Free slots from `start` on, the same practitioner's first, for a refused booking."""
    day = _local_day(start)
    finder = SlotFinder(treatment, patient=patient, exclude=exclude)
    found = []
    if practitioner is not None:
        found = finder.find(
            day, day + timedelta(days=13), practitioner=practitioner.pk, limit=limit, not_before=start
        )
    if len(found) < limit:
        more = finder.find(day, day + timedelta(days=13), limit=limit, not_before=start)
        found += [slot for slot in more if slot not in found][: limit - len(found)]
    return found


def plan_sessions_to_book(plan):
    """The planned sessions of a plan with no active booking yet, in order."""
    return list(
        PlannedSession.objects.filter(plan=plan)
        .exclude(appointments__status__in=Appointment.ACTIVE)
        .select_related("treatment")
        .prefetch_related("areas", "treatment__needs")
        .order_by("visit", "id")
    )


def propose_plan(plan, *, practitioner=None, not_before=None):
    """Dates for every unbooked session of an accepted plan: ([(planned session, slot)], problem)."""
    sessions = plan_sessions_to_book(plan)
    intervals = {item["treatment"]: item["interval_days"] for item in plan.chosen.get("items", [])}
    last_booked = {}
    for treatment, starts in (
        Appointment.objects.filter(plan=plan, status__in=Appointment.ACTIVE)
        .order_by("starts_at")
        .values_list("treatment_id", "starts_at")
    ):
        last_booked[treatment] = _local_day(starts)
    first_day = _local_day(not_before) if not_before else None
    visits, previous, finders = [], {}, {}
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

    def search(first, last, wanted, placed):
        # propose_dates places sessions in order, so the one searched for is the next unplaced.
        found = finders[sessions[len(placed)].treatment_id].find(
            first, last, practitioner=wanted, limit=1, placed=placed, not_before=not_before
        )
        return found[0] if found else None

    slots, problem = timeslots.propose_dates(
        visits, search, preferred=getattr(practitioner, "pk", practitioner)
    )
    if problem:
        session = sessions[len(slots)]
        problem = (
            f"No free slot for visit {session.visit} ({session.treatment.name}) between "
            f"{visits[len(slots)].earliest} and {visits[len(slots)].latest} at the plan's interval."
        )
    return list(zip(sessions, slots, strict=False)), problem


@transaction.atomic
def book_plan(plan, choices, *, by):
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
            raise ValidationError(
                f"{label}: the proposal names a practitioner or room that no longer exists."
            )
        request = BookingRequest(
            patient=plan.patient,
            treatment=session.treatment,
            areas=list(session.areas.all()),
            practitioner=practitioners[slot.practitioner],
            start=slot.start,
            room=rooms.get(slot.room),
            devices=[devices[d] for d in slot.devices if d in devices],
            plan=plan,
            planned_session=session,
        )
        try:
            booked.append(book(request, by=by))
        except ValidationError as error:
            raise ValidationError([f"{label}: {m}" for m in error.messages]) from error
    return booked
