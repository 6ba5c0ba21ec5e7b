"""The facts of a booking's day, read once for treatments.engine.booking_rules.judge_booking.

A fixed number of queries whatever the patient's history or the day's bookings, and the catalog
read once.
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypedDict

from patients.models import BodyArea, Patient
from treatments.engine import planning
from treatments.engine.booking_rules import BookingFacts, PastSession, Resource, SiteHours
from treatments.engine.timeslots import Interval, local_window
from treatments.models import (
    Appointment,
    Closure,
    Device,
    OpeningHours,
    Plan,
    Practitioner,
    Room,
    TimeOff,
    Treatment,
    WorkingHours,
)
from treatments.selectors.availability import Needs, clinic_zone, held_over
from treatments.selectors.patient_profile import profile_for_patient
from treatments.selectors.plan_suggestions import current_catalog


class IntervalDays(TypedDict, total=False):
    min: int
    typical: int
    max: int


def _plan_items(plan: Plan) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = plan.chosen.get("items", [])
    return items


def plan_intervals(plan: Plan) -> dict[str, IntervalDays]:
    """The intervals the clinician accepted, by treatment slug."""
    return {item["treatment"]: item["interval_days"] for item in _plan_items(plan)}


def plan_min_interval(plan: Plan | None, treatment: str) -> int | None:
    """The least interval the accepted plan allows for a treatment; None: the plan does not say."""
    if plan is None:
        return None
    for item in _plan_items(plan):
        if item["treatment"] == treatment:
            least: int = item["interval_days"]["min"]
            return least
    return None


def local_day(moment: datetime) -> date:
    return moment.astimezone(clinic_zone()).date()


def _resource(item: Room | Device) -> Resource:
    return Resource(item.pk, item.name, item.location_id, item.kind.slug, item.active)


def _sites(practitioner: Practitioner, day: date) -> tuple[SiteHours, ...]:
    zone = clinic_zone()
    working: dict[int, list[Interval]] = {}
    for row in WorkingHours.objects.filter(practitioner=practitioner, weekday=day.weekday()):
        working.setdefault(row.location_id, []).append(local_window(day, row.starts, row.ends, zone))
    opening: dict[int, list[Interval]] = {}
    for hours in OpeningHours.objects.filter(location_id__in=list(working), weekday=day.weekday()):
        opening.setdefault(hours.location_id, []).append(local_window(day, hours.starts, hours.ends, zone))
    closures: dict[int, str] = {}
    for location, reason in (
        Closure.objects.filter(location_id__in=list(working), first_day__lte=day, last_day__gte=day)
        .order_by("first_day", "id")
        .values_list("location_id", "reason")
    ):
        closures.setdefault(location, reason)
    return tuple(
        SiteHours(
            location=location,
            opening=tuple(opening.get(location, [])),
            working=tuple(working[location]),
            closure=closures.get(location),
        )
        for location in sorted(working)
    )


def past_sessions(patient: Patient, exclude: int | None) -> tuple[PastSession, ...]:
    """The patient's active sessions as the interval rules read them; `exclude`: one being moved."""
    others = Appointment.objects.filter(patient=patient).active().select_related("treatment")
    if exclude is not None:
        others = others.exclude(pk=exclude)
    return tuple(
        PastSession(
            treatment=session.treatment.slug,
            name=session.treatment.name,
            areas=tuple(area.slug for area in session.areas.all()),
            day=local_day(session.starts_at),
        )
        for session in others.prefetch_related("areas")
    )


def _at_sites(
    model: type[Room] | type[Device], locations: Sequence[int], kinds: Sequence[str]
) -> tuple[Resource, ...]:
    rows = (
        model.objects.filter(location_id__in=list(locations), active=True, kind__slug__in=list(kinds))
        .order_by("location", "name", "id")
        .values_list("pk", "name", "location_id", "kind__slug")
    )
    return tuple(Resource(pk, name, location, kind) for pk, name, location, kind in rows)


def booking_facts(
    *,
    patient: Patient,
    treatment: Treatment,
    areas: Sequence[BodyArea],
    practitioner: Practitioner,
    start: datetime,
    room: Room | None = None,
    devices: Sequence[Device] = (),
    plan: Plan | None = None,
    exclude: int | None = None,
) -> BookingFacts:
    """Everything judge_booking needs about booking `treatment` at `start`; `exclude`: the session
    being moved, which holds nothing against itself."""
    needs = Needs.of(treatment)
    end = start + needs.duration
    blocked_until = end + needs.buffer
    day = local_day(start)
    qualified = practitioner.active and practitioner.treatments.filter(pk=treatment.pk).exists()
    sites = _sites(practitioner, day)
    locations = [site.location for site in sites]
    time_off = tuple(
        TimeOff.objects.filter(practitioner=practitioner, starts_at__lt=blocked_until, ends_at__gt=start)
        .order_by("starts_at")
        .values_list("starts_at", "ends_at")
    )
    catalog = current_catalog()
    chosen_room = _resource(room) if room is not None else None
    chosen_devices = tuple(_resource(device) for device in devices)
    rooms = _at_sites(Room, locations, needs.room_types) if room is None and needs.room_types else ()
    at_sites = _at_sites(Device, locations, needs.device_types) if not devices and needs.device_types else ()
    busy = held_over(
        start,
        blocked_until,
        practitioners=[practitioner.pk],
        patient=patient.pk,
        rooms=[chosen_room.pk] if chosen_room else [r.pk for r in rooms],
        devices=[d.pk for d in chosen_devices or at_sites],
        exclude=exclude,
    )
    return BookingFacts(
        patient=patient.pk,
        practitioner=practitioner.pk,
        practitioner_name=str(practitioner),
        treatment=treatment.slug,
        treatment_name=treatment.name,
        areas=tuple(sorted(area.slug for area in areas)),
        start=start,
        end=end,
        blocked_until=blocked_until,
        day=day,
        room_types=needs.room_types,
        device_types=needs.device_types,
        qualified=qualified,
        sites=sites,
        time_off=time_off,
        catalog=planning.prepare_catalog(catalog.engine),
        profile=profile_for_patient(patient, today=day),
        past_sessions=past_sessions(patient, exclude),
        plan_min_interval=plan_min_interval(plan, treatment.slug),
        room=chosen_room,
        devices=chosen_devices,
        rooms_at_sites=rooms,
        devices_at_sites=at_sites,
        busy=busy,
    )
