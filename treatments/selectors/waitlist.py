"""Who is waiting, and who of them fits a freed slot."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Exists, OuterRef, Q, QuerySet

from patients.models import BodyArea, Patient
from treatments.engine import planning
from treatments.engine.booking_rules import judge_booking
from treatments.engine.plan_results import TreatmentCheck
from treatments.models import Appointment, Plan, Practitioner, Treatment, WaitlistEntry
from treatments.selectors.availability import Needs
from treatments.selectors.booking_facts import booking_facts, local_day
from treatments.selectors.patient_profile import profile_for_patient
from treatments.selectors.plan_suggestions import current_catalog

# Judging a candidate reads its day (hours, busy resources, history): a bounded number per panel.
MAX_CANDIDATES = 25


@dataclass(frozen=True)
class FreedSlot:
    """A practitioner's time that a cancellation or a move gave back."""

    practitioner: Practitioner
    location_id: int
    start: datetime
    until: datetime  # the end of what was held, clean-up included

    @property
    def day(self) -> date:
        return local_day(self.start)


@dataclass(frozen=True)
class Offer:
    entry: WaitlistEntry
    start: datetime
    days_left: int  # to the end of the entry's window: the fewer, the more urgent


def waiting() -> QuerySet[WaitlistEntry]:
    """Entries still waiting: a plan visit booked some other way no longer waits."""
    booked_visit = Appointment.objects.filter(
        planned_session=OuterRef("planned_session"), status__in=sorted(Appointment.ACTIVE)
    )
    return (
        WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING)
        .exclude(Exists(booked_visit))
        .select_related("patient", "treatment", "practitioner__user", "location", "planned_session__plan")
        .defer(*(f"planned_session__plan__{name}" for name in Plan.RECORD_FIELDS))
        .prefetch_related("areas", "treatment__needs")
    )


def waiting_for_patient(patient_id: int) -> list[WaitlistEntry]:
    # Most patients wait for nothing: a plain look first spares them the entries' joins.
    if not WaitlistEntry.objects.filter(patient_id=patient_id, status=WaitlistEntry.Status.WAITING).exists():
        return []
    return list(waiting().filter(patient_id=patient_id).order_by("latest", "added_at"))


def offers_for(slot: FreedSlot, *, exclude_patient: int | None = None) -> list[Offer]:
    """Waiting patients who could take `slot` at its start: inside their window, matching their
    preferences, fitting in the time freed, and accepted by the same judgement as a booking
    (hours, resources, intervals, contraindications on that day); most urgent first."""
    day = slot.day
    candidates = (
        waiting()
        .filter(earliest__lte=day, latest__gte=day)
        .filter(Q(practitioner__isnull=True) | Q(practitioner=slot.practitioner))
        .filter(Q(location__isnull=True) | Q(location_id=slot.location_id))
        .order_by("latest", "added_at")
    )
    if exclude_patient is not None:
        candidates = candidates.exclude(patient_id=exclude_patient)
    offers = []
    for entry in candidates[:MAX_CANDIDATES]:
        needs = Needs.of(entry.treatment)
        if slot.start + needs.duration + needs.buffer > slot.until:
            continue
        facts = booking_facts(
            patient=entry.patient,
            treatment=entry.treatment,
            areas=list(entry.areas.all()),
            practitioner=slot.practitioner,
            start=slot.start,
            plan=entry.planned_session.plan if entry.planned_session else None,
        )
        judgement = judge_booking(facts, is_clinician=False)
        if judgement.problems or judgement.taken is not None or judgement.location != slot.location_id:
            continue
        offers.append(Offer(entry=entry, start=slot.start, days_left=(entry.latest - day).days))
    return offers


def treatment_check(
    *, patient: Patient, treatment: Treatment, areas: Sequence[BodyArea], day: date
) -> TreatmentCheck:
    """The engine's verdict on `treatment` for the patient on `day`: the contraindication check a
    booking makes on its day (booking_rules.contraindication_problems), so that a patient is not
    put on the waitlist for a treatment they would be refused."""
    return planning.check_treatment(
        profile_for_patient(patient, today=day),
        current_catalog().engine,
        treatment.slug,
        sorted(area.slug for area in areas),
    )
