"""Sessions as pages and the API read them: plain rows, without a model instance per row."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from treatments.models import Appointment, AppointmentDevice, Location, Practitioner
from treatments.selectors.availability import day_bounds
from treatments.selectors.previsit import needs_call

SHOWN = 50
LINE_FIELDS = (
    "pk",
    "starts_at",
    "patient__first_name",
    "patient__last_name",
    "treatment__name",
    "practitioner_id",
    "status",
    "plan_id",
    "needs_call",  # annotated (previsit.needs_call): a subquery, not a query per row
)


@dataclass(frozen=True, slots=True)
class SessionLine:
    """A session as a list or a calendar prints it: its link, local date and time, names, status."""

    pk: int
    starts_at: datetime
    day: date
    date_label: str
    time: str
    patient: str
    treatment: str
    practitioner: str
    status: str
    status_label: str
    plan_id: int | None
    url: str
    # The patient's pre-visit answers stop the session: the desk calls them (no reason shown).
    needs_call: bool = False


def practitioner_names() -> dict[int, str]:
    """Every practitioner's display name, active or not: one query."""
    return {p.pk: str(p) for p in Practitioner.objects.select_related("user")}


def session_lines(
    sessions: QuerySet[Appointment], *, names: dict[int, str], url: Callable[[int], str]
) -> list[SessionLine]:
    """The sessions as lines, in the queryset's order: one query. `names` names the practitioners
    (practitioner_names()); `url` gives a session's page."""
    labels = dict(Appointment.Status.choices)
    lines = []
    rows = sessions.annotate(needs_call=needs_call()).values_list(*LINE_FIELDS)
    for pk, starts, first_name, last_name, treatment, practitioner, status, plan, call in rows:
        local = timezone.localtime(starts)
        lines.append(
            SessionLine(
                pk=pk,
                starts_at=starts,
                day=local.date(),
                date_label=f"{local:%a %b} {local.day}, {local.year}",
                time=f"{local:%H:%M}",
                patient=f"{first_name} {last_name}",
                treatment=treatment,
                practitioner=names.get(practitioner, ""),
                status=status,
                status_label=labels[status],
                plan_id=plan,
                url=url(pk),
                needs_call=call,
            )
        )
    return lines


def calendar_lines(
    location: Location,
    first_day: date,
    last_day: date,
    *,
    names: dict[int, str],
    url: Callable[[int], str],
    practitioner: int | None = None,
) -> list[SessionLine]:
    """The location's sessions between two local days, cancelled ones aside, in start order."""
    start, end = day_bounds(first_day, last_day)
    sessions = (
        Appointment.objects.filter(location=location)
        .between(start, end)
        .exclude(status=Appointment.Status.CANCELLED)
        .order_by("starts_at", "id")
    )
    if practitioner is not None:
        sessions = sessions.filter(practitioner_id=practitioner)
    return session_lines(sessions, names=names, url=url)


def patient_sessions(
    patient_id: int, *, names: dict[int, str], url: Callable[[int], str], now: datetime | None = None
) -> tuple[list[SessionLine], list[SessionLine]]:
    """(upcoming, earliest first; past, latest first) among the patient's latest sessions: one query."""
    now = now or timezone.now()
    lines = session_lines(
        Appointment.objects.filter(patient_id=patient_id).order_by("-starts_at")[:SHOWN], names=names, url=url
    )
    upcoming = sorted((line for line in lines if line.starts_at >= now), key=lambda line: line.starts_at)
    return upcoming, [line for line in lines if line.starts_at < now]


# The API's session fields, read as plain values: SessionSerializer's fields without a model instance,
# a related manager or a serializer field per row.
SESSION_ROW_FIELDS = (
    "id",
    "patient_id",
    "treatment__slug",
    "practitioner_id",
    "location_id",
    "room_id",
    "starts_at",
    "ends_at",
    "status",
    "plan_id",
)


def session_rows(sessions: QuerySet[Appointment]) -> list[dict[str, Any]]:
    """The sessions as the API lists them (times as aware datetimes), in the queryset's order: three
    queries, whatever the rows."""
    rows = list(sessions.values_list(*SESSION_ROW_FIELDS))
    ids = [row[0] for row in rows]
    areas: dict[int, list[str]] = defaultdict(list)
    for appointment_id, slug in (
        Appointment.areas.through.objects.filter(appointment_id__in=ids)
        .order_by("bodyarea__sort_order", "bodyarea__name")
        .values_list("appointment_id", "bodyarea__slug")
    ):
        areas[appointment_id].append(slug)
    devices: dict[int, list[int]] = defaultdict(list)
    for appointment_id, device_id in (
        AppointmentDevice.objects.filter(appointment_id__in=ids)
        .order_by("device__location", "device__name")
        .values_list("appointment_id", "device_id")
    ):
        devices[appointment_id].append(device_id)
    return [
        {
            "id": pk,
            "patient": patient,
            "treatment": treatment,
            "areas": areas[pk],
            "practitioner": practitioner,
            "location": location,
            "room": room,
            "devices": devices[pk],
            "start": starts,
            "end": ends,
            "status": status,
            "plan": plan,
        }
        for pk, patient, treatment, practitioner, location, room, starts, ends, status, plan in rows
    ]
