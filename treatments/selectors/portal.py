"""What the patient portal shows a patient of their own plans and sessions, as plain values.

Only what a patient may read: catalog names and care texts, areas, dates, places and statuses.
Never a plan's reasons, flags or profile, nor a record's notes (clinicians' words).
"""

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from patients.models import PortalAccount
from treatments.models import Appointment, Plan, PlannedSession
from treatments.models.catalog import care_lines

SHOWN = 50


@dataclass(frozen=True, slots=True)
class PortalVisit:
    """One planned session of a series: its number, the window to book it in, and its booking."""

    number: int
    earliest: date
    latest: date
    booked_label: str
    book_pk: int | None = None  # the planned session's id when it is the plan's next to book


@dataclass(frozen=True, slots=True)
class PortalTreatment:
    name: str
    areas: tuple[str, ...]
    sessions: int
    spacing: str  # e.g. "about 4 weeks apart"; empty for a single session
    visits: tuple[PortalVisit, ...]
    pre_care: tuple[str, ...]
    aftercare: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PortalPlan:
    pk: int
    version: int
    accepted_on: date  # for a plan waiting for the patient's consent: the day it was sent
    treatments: tuple[PortalTreatment, ...]
    status: str = Plan.Status.ACCEPTED


@dataclass(frozen=True, slots=True)
class PortalSession:
    pk: int
    starts_at: datetime
    date_label: str
    time: str
    treatment: str
    location: str
    status: str
    status_label: str
    changeable: bool = False  # a booked visit of a plan: the patient may move or cancel it online
    # A changeable session too close to change online (PORTAL_CANCEL_NOTICE_HOURS): call the clinic.
    call_to_change: bool = False


@dataclass(frozen=True, slots=True)
class PortalSessionDetail:
    session: PortalSession
    areas: tuple[str, ...]
    address: str
    phone: str
    pre_care: tuple[str, ...]
    aftercare: tuple[str, ...]


def day_label(day: date, *, year: bool = True) -> str:
    """A day as the portal writes it everywhere: "Mon 14 Dec 2026" ("Mon 14 Dec" without `year`)."""
    text = f"{day:%a} {day.day} {day:%b}"
    return f"{text} {day.year}" if year else text


def _date_label(moment: datetime) -> tuple[str, str]:
    local = timezone.localtime(moment)
    return day_label(local.date()), f"{local:%H:%M}"


def spacing_label(days: int | None) -> str:
    if not days:
        return ""
    if days % 7 == 0:
        weeks = days // 7
        return f"about {weeks} week{'s' if weeks > 1 else ''} apart"
    return f"about {days} days apart"


def _typical_intervals(chosen: object) -> dict[str, int]:
    """{treatment slug: typical days between sessions} from a plan's chosen items (only those numbers
    are read from it: the rest holds the clinician's reasons)."""
    intervals: dict[str, int] = {}
    items = chosen.get("items", []) if isinstance(chosen, dict) else []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        slug, interval = item.get("treatment"), item.get("interval_days")
        typical = interval.get("typical") if isinstance(interval, dict) else None
        if isinstance(slug, str) and isinstance(typical, int) and slug not in intervals:
            intervals[slug] = typical
    return intervals


PLAN_FIELDS = ("pk", "version", "accepted_at", "chosen", "status")


def portal_plans(patient_id: int) -> list[PortalPlan]:
    """The patient's accepted plans, newest first, each treatment with its visits: four queries."""
    plans = list(
        Plan.objects.filter(patient_id=patient_id, status=Plan.Status.ACCEPTED)
        .order_by("-accepted_at")
        .values_list(*PLAN_FIELDS)
    )
    return _portal_plans(plans)


def portal_plan(patient_id: int, pk: int) -> PortalPlan | None:
    """One of the patient's own plans in plain words, whatever its status (the consent page shows a
    plan waiting for the patient's consent), or None for another patient's: four queries."""
    plans = list(Plan.objects.filter(pk=pk, patient_id=patient_id).values_list(*PLAN_FIELDS))
    found = _portal_plans(plans)
    return found[0] if found else None


def _portal_plans(plans: list[tuple]) -> list[PortalPlan]:
    if not plans:
        return []
    rows = list(
        PlannedSession.objects.filter(plan_id__in=[plan[0] for plan in plans])
        .order_by("plan_id", "visit", "session", "id")
        .values_list(
            "pk",
            "plan_id",
            "treatment_id",
            "treatment__slug",
            "treatment__name",
            "treatment__pre_care",
            "treatment__aftercare",
            "session",
            "earliest",
            "latest",
        )
    )
    ids = [row[0] for row in rows]
    areas: dict[int, list[str]] = defaultdict(list)
    for planned, name in (
        PlannedSession.areas.through.objects.filter(plannedsession_id__in=ids)
        .order_by("bodyarea__sort_order", "bodyarea__name")
        .values_list("plannedsession_id", "bodyarea__name")
    ):
        areas[planned].append(name)
    booked: dict[int, str] = {}
    for planned, starts in (
        Appointment.objects.filter(planned_session_id__in=ids, status__in=Appointment.ACTIVE)
        .order_by("starts_at")
        .values_list("planned_session_id", "starts_at")
    ):
        day, time = _date_label(starts)
        booked.setdefault(planned, f"{day} at {time}")
    by_plan: dict[int, dict[int, list[tuple]]] = defaultdict(dict)
    for row in rows:
        by_plan[row[1]].setdefault(row[2], []).append(row)
    result = []
    for pk, version, accepted_at, chosen, status in plans:
        intervals = _typical_intervals(chosen)
        # The plan's next visit to book: its first planned session with no active session. Only an
        # accepted plan is booked: one waiting for the patient's consent is not yet.
        to_book = (
            next((row[0] for row in rows if row[1] == pk and row[0] not in booked), None)
            if status == Plan.Status.ACCEPTED
            else None
        )
        treatments = []
        for series in by_plan[pk].values():
            _, _, _, slug, name, pre_care, aftercare, *_ = series[0]
            series_areas = dict.fromkeys(area for row in series for area in areas[row[0]])
            treatments.append(
                PortalTreatment(
                    name=name,
                    areas=tuple(series_areas),
                    sessions=len(series),
                    spacing=spacing_label(intervals.get(slug)) if len(series) > 1 else "",
                    visits=tuple(
                        PortalVisit(
                            number=row[7],
                            earliest=row[8],
                            latest=row[9],
                            booked_label=booked.get(row[0], ""),
                            book_pk=row[0] if row[0] == to_book else None,
                        )
                        for row in series
                    ),
                    pre_care=tuple(care_lines(pre_care)),
                    aftercare=tuple(care_lines(aftercare)),
                )
            )
        result.append(
            PortalPlan(
                pk=pk,
                version=version,
                accepted_on=timezone.localtime(accepted_at).date(),
                treatments=tuple(treatments),
                status=status,
            )
        )
    return result


SESSION_FIELDS = (
    "pk",
    "starts_at",
    "treatment__name",
    "location__name",
    "status",
    "planned_session_id",
    "plan__status",
)


def _session(row: tuple) -> PortalSession:
    pk, starts, treatment, location, status, planned, plan_status = row
    day, time = _date_label(starts)
    return PortalSession(
        pk=pk,
        starts_at=starts,
        date_label=day,
        time=time,
        treatment=treatment,
        location=location,
        status=status,
        status_label=Appointment.Status(status).label,
        changeable=(
            planned is not None
            and plan_status == Plan.Status.ACCEPTED
            and status == Appointment.Status.BOOKED
        ),
    )


def portal_sessions(patient_id: int, *, now: datetime) -> tuple[list[PortalSession], list[PortalSession]]:
    """(upcoming, earliest first; past, latest first) among the patient's latest sessions, cancelled
    ones aside: one query."""
    rows = (
        Appointment.objects.filter(patient_id=patient_id)
        .exclude(status=Appointment.Status.CANCELLED)
        .order_by("-starts_at")
        .values_list(*SESSION_FIELDS)[:SHOWN]
    )
    sessions = [_session(row) for row in rows]
    notice = now + timedelta(hours=settings.PORTAL_CANCEL_NOTICE_HOURS)
    upcoming = sorted(
        (
            replace(s, changeable=False, call_to_change=True) if s.changeable and s.starts_at < notice else s
            for s in sessions
            if s.starts_at >= now and s.status in Appointment.ACTIVE
        ),
        key=lambda s: s.starts_at,
    )
    return upcoming, [s for s in sessions if s.starts_at < now]


def last_aftercare(patient_id: int) -> tuple[PortalSession, tuple[str, ...]] | None:
    """The patient's last completed session and its treatment's aftercare: one query."""
    row = (
        Appointment.objects.filter(patient_id=patient_id, status=Appointment.Status.COMPLETED)
        .order_by("-starts_at")
        .values_list(*SESSION_FIELDS, "treatment__aftercare")
        .first()
    )
    if row is None:
        return None
    return _session(row[:-1]), tuple(care_lines(row[-1]))


def portal_session(patient_id: int, pk: int) -> PortalSessionDetail | None:
    """One of the patient's own sessions, or None (another patient's, or none): two queries."""
    row = (
        Appointment.objects.filter(pk=pk, patient_id=patient_id)
        .values_list(
            *SESSION_FIELDS,
            "location__address",
            "location__phone",
            "treatment__pre_care",
            "treatment__aftercare",
        )
        .first()
    )
    if row is None:
        return None
    areas = (
        Appointment.areas.through.objects.filter(appointment_id=pk)
        .order_by("bodyarea__sort_order", "bodyarea__name")
        .values_list("bodyarea__name", flat=True)
    )
    *fields, address, phone, pre_care, aftercare = row
    return PortalSessionDetail(
        session=_session(tuple(fields)),
        areas=tuple(areas),
        address=address,
        phone=phone,
        pre_care=tuple(care_lines(pre_care)),
        aftercare=tuple(care_lines(aftercare)),
    )


def booked_online() -> Exists:
    """An annotation for a queryset of sessions: booked by the patient in the portal (its
    `booked_by` is a portal account's user), for the staff's session panel. A subquery."""
    return Exists(PortalAccount.objects.filter(user_id=OuterRef("booked_by_id")))
