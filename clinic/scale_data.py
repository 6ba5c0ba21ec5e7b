"""A clinic chain at scale, for benchmarks: `python manage.py seed_scale` builds it.

Built through the app's own rules, in bulk where the rules allow it:

* Patients come from a few dozen clinical archetypes (sex, skin type, concerns on areas the
  catalog's protocols treat, a dated medical history), each with its own name, birth date and
  contact details, and each anchored on a day (the day a plan was accepted, or the first visit)
  that its history is dated from.
* Plans: for a sample of patients (`service_plans`, spread over the archetypes) the real services
  do the work: `suggest_for_patient`, the default choice of each item as the plan builder offers
  it, `consent_record` for the consents it needs, then `plans.plan_accept`. The other plan patients
  of the same archetype get a copy of that plan's shape (profile, suggestion, choices, catalog
  rows, planned sessions and consents), its dates moved to their own day: the engine would give
  them the same plan, since they have the same facts on that day.
* Sessions: each practitioner has a station (room, microneedling pen, centrifuge) and works set
  hours; a day's sessions are handed out to practitioners who work that day, are qualified for the
  treatment and have the time left (treatment time plus clean-up), then laid out in order with the
  day's spare time as gaps. No two sessions of a practitioner, room, device or patient can overlap
  by construction, so the exclusion constraints never fire and nothing is retried. Plan sessions
  go into their visit windows; the rest of each day (up to `sessions_per_day` on weekdays, fewer at
  weekends) are single sessions of the treatments the engine offers the patient's archetype, spaced
  weeks apart per patient.
* Past sessions are mostly completed, with a signed record (the screening checklist of the
  catalog, procedure values inside the safe ranges of `record_rules`, the treatment's aftercare),
  and outcome scores per concern; a few are no-shows, cancelled or stopped at screening. A handful
  of records (the long-history patient's last one first) go through the real recording services.
* One patient has a long history: `long_history` sessions, a fortnight apart, mostly before the
  window, with signed records and scores, and three plan versions accepted through the service.

Everything is bulk-created in batches, with simple-history rows for the models that keep them.
"""

import json
import math
import random
import re
import time as clock
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from heapq import heappop, heappush
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from clinic.roles import CLINICIAN, FRONT_DESK
from patients import services as patient_services
from patients.models import (
    BodyArea,
    Concern,
    ConditionRecord,
    ConsentForm,
    MedicalCondition,
    Patient,
    PatientConsent,
    SkinConcern,
)
from treatments.engine import booking_rules, planning, record_rules, screening
from treatments.engine.booking_rules import PastSession
from treatments.engine.plan_choices import (
    chosen_plan,
    default_choices,
    default_option_index,
)
from treatments.engine.plan_results import OptionStatus
from treatments.engine.record_rules import FieldKind, FieldLink
from treatments.models import (
    Appointment,
    AppointmentDevice,
    Device,
    Location,
    OpeningHours,
    OutcomeScore,
    Plan,
    PlannedSession,
    Practitioner,
    ResourceType,
    Room,
    SessionRecord,
    Treatment,
    WorkingHours,
)
from treatments.selectors.availability import clinic_zone
from treatments.selectors.plan_suggestions import current_catalog, suggest_for_patient
from treatments.selectors.session_context import session_context
from treatments.services import plans as plan_services
from treatments.services import recording

BATCH = 2000
LONG_HISTORY_EMAIL = "long.history@scale.example"
LONG_HISTORY_SPACING_DAYS = 14
AD_HOC_GAP_DAYS = (35, 80)  # between two single sessions of one patient
WEEKDAY_HOURS = (time(8), time(18))
WEEKEND_HOURS = (time(9), time(15))
OPENING_WEEKDAY = (time(7, 30), time(19))
OPENING_WEEKEND = (time(8, 30), time(16))
STEP_MINUTES = 15
ARCHETYPES = 48
SERVICE_RECORDS = 6  # records written through the recording services, the long-history one first

_FIRST = """
Maya Liam Aisha Noah Sofia Omar Grace Lucas Emma Priya Jonas Chloe Ava Ethan Mia Leo Zoe Ivan
Nora Samir Lena Diego Hana Felix Clara Mateo Yara Oscar Iris Rafael Elena Tariq Julia Kofi Amara
Hugo Lucia Arjun Freya Malik Ines Theo Selin Marco Nadia Kenji Alice Bruno Leila Pavel Rosa
Tomas Ingrid Yusuf Camille Dmitri Aurora Anton Sara Luca Farah Elias Maren Nico Olga Hamza Vera
Adrian Lina Caleb Mila Jin Dalia Ruben Asha Sven Elif Jonah Keira
"""
_LAST = """
Ortiz Chen Bello Schmidt Rossi Haddad Kim Martin Johansson Nair Weber Dubois Garcia Smith Patel
Nguyen Muller Kowalski Silva Ivanova Okafor Tanaka Larsen Novak Costa Jensen Rahman Moreau
Fischer Romano Santos Ali Murphy Petrov Yilmaz Berg Lopez Wagner Becker Hoffmann Laine Suzuki
Fernandez Nowak Horvat Dimitrov Kaur Brown Wilson Taylor Anderson Thomas Moore Jackson White
Harris Clark Lewis Walker Young Allen King Wright Scott Green Baker Adams Nelson Hill Campbell
Mitchell Roberts Carter Phillips Evans Turner Torres Parker Collins Edwards Stewart Morris
Murray Reyes Cruz Ramos Kelly Howard Ward Cox Diaz Richardson Wood Watson Brooks Bennett Gray
James Hughes Price Sanders Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan
"""
FIRST_NAMES = _FIRST.split()
LAST_NAMES = _LAST.split()
STAFF_FIRST = FIRST_NAMES[:15]

# Concerns: (slug, candidate areas, notes); areas where the catalog's protocols treat them.
CONCERNS = {
    "acne_scars_atrophic": (
        ["cheeks", "forehead", "chin_jaw", "face"],
        ["rolling and boxcar", "ice pick", ""],
    ),
    "active_acne": (["chin_jaw", "cheeks", "back"], ["", "comedonal"]),
    "androgenetic_alopecia": (["scalp"], ["", "crown thinning"]),
    "enlarged_pores": (["nose", "cheeks"], [""]),
    "fine_lines_wrinkles": (["periorbital", "forehead", "perioral", "neck"], ["", "crow's feet"]),
    "hyperpigmentation_pih": (["cheeks", "chin_jaw", "forehead"], ["", "after acne"]),
    "melasma": (["cheeks", "forehead", "upper_lip"], ["", "mixed type"]),
    "photodamage": (["face", "decollete", "hands"], ["", "sun spots"]),
    "laxity": (["neck", "chin_jaw"], [""]),
    "striae": (["abdomen", "thighs", "buttocks"], ["", "alba"]),
    "scar_surgical_traumatic": (["chin_jaw", "abdomen", "arms"], ["", "hypertrophic edge"]),
    "texture": (["face", "cheeks"], [""]),
}
# History entries: (condition, areas, since, until) in days from the patient's anchor day.
HISTORY = [
    ("herpes_simplex_history", [], -2400, None),
    ("isotretinoin", [], -520, -240),
    ("topical_retinoid", ["face"], -400, None),
    ("botulinum_toxin", ["forehead"], -120, None),
    ("smoking", [], -6000, None),
    ("metal_allergy", [], -4000, None),
    ("nsaid", [], -60, None),
    ("eczema_dermatitis", ["hands"], -1400, -500),
    ("keloid_tendency", [], None, None),
    ("laser_ipl", ["face"], -240, None),
    ("dermal_filler", ["perioral"], -200, None),
    ("rosacea", ["cheeks"], -900, None),
    ("anticoagulant", [], -700, None),
    ("vitiligo_stable", [], -3000, None),
    ("salicylate_allergy", [], -2000, None),
    ("photosensitising_drug", [], -400, -200),
]
OTHER_ALLERGIES = ["Latex", "Lidocaine (rash)", "Plasters", "Nickel earrings"]
CANCEL_REASONS = ["Patient asked to rebook", "Patient unwell", "Clinic rescheduled", "Travel"]


DAYS = re.compile(
    r"(\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}\b)"
)


class DatedJson:
    """A plan's JSON with the days in it (ISO dates, and the engine's "3 Mar 2027" texts) found
    once, so that a copy moved to another day costs a join and a parse."""

    def __init__(self, value: Any):
        self.parts = DAYS.split(json.dumps(value))

    def moved(self, delta: timedelta) -> Any:
        if not delta:
            return json.loads("".join(self.parts))
        parts = list(self.parts)
        for index in range(1, len(parts), 2):
            parts[index] = _moved_day(parts[index], delta)
        return json.loads("".join(parts))


@lru_cache(maxsize=65536)
def _moved_day(text: str, delta: timedelta) -> str:
    if "-" in text:
        return (date.fromisoformat(text) + delta).isoformat()
    return planning.day_text(datetime.strptime(text, "%d %b %Y").date() + delta)


@dataclass(frozen=True)
class ScaleOptions:
    patients: int = 20_000
    practitioners: int = 40
    locations: int = 4
    days: int = 250
    sessions_per_day: int = 300
    plan_share: float = 0.35
    service_plans: int = 150
    long_history: int = 100
    seed: int = 1
    clinician_users: tuple[str, ...] = ()


@dataclass
class ScaleReport:
    timings: list[tuple[str, float]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    long_history_patient: int | None = None


@dataclass
class Station:
    """A practitioner where they work: their room and devices, and the days they work."""

    practitioner: Practitioner
    user: Any
    location_id: int
    room_id: int
    devices: dict[str, int]
    weekdays: frozenset[int]
    treatments: frozenset[str]


@dataclass(frozen=True)
class TreatmentInfo:
    pk: int
    slug: str
    duration: int
    buffer: int
    device_kinds: tuple[str, ...]
    consent_form: int | None
    aftercare: tuple[str, ...]

    @property
    def blocked(self) -> int:
        return self.duration + self.buffer


@dataclass
class Archetype:
    sex: str
    fitzpatrick: int
    concerns: list[tuple[str, list[str], str, str]]  # slug, areas, severity, note
    history: list[tuple[str, list[str], int | None, int | None]]
    offers: list[tuple[str, tuple[str, ...], int]] = field(
        default_factory=list
    )  # treatment, areas, least interval
    template: "PlanShape | None" = None


@dataclass
class PlanShape:
    """What a plan accepted through the service looks like, to copy for the same archetype."""

    today: date
    profile: DatedJson
    suggestion: DatedJson
    chosen: DatedJson
    catalog_revision: int
    catalog_rules: dict[str, Any]
    sessions: list[
        tuple[int, int, int, date, date, list[int]]
    ]  # visit, treatment, n, earliest, latest, areas
    consent_forms: list[tuple[int, str]]  # form id, treatment slug


@dataclass
class Item:
    """A session handed to a practitioner's day, before its time is laid out."""

    patient: int  # index into the patient list
    treatment: str
    areas: tuple[int, ...]
    plan: Plan | None = None
    planned: int | None = None  # PlannedSession id
    chosen: dict[str, Any] | None = None
    least: int | None = None  # the plan's least interval for the treatment
    long_history: bool = False
    start: datetime | None = None


@dataclass
class Day:
    day: date
    target: int
    stations: list[int]
    load: dict[int, int] = field(default_factory=dict)
    items: dict[int, list[Item]] = field(default_factory=lambda: defaultdict(list))
    patients: set[int] = field(default_factory=set)
    count: int = 0
    turn: int = 0


def _shift_minutes(weekday: int) -> int:
    starts, ends = WEEKEND_HOURS if weekday >= 5 else WEEKDAY_HOURS
    return (ends.hour * 60 + ends.minute) - (starts.hour * 60 + starts.minute)


def _bulk(model: Any, objs: Sequence[Any], *, history: bool = True) -> list[Any]:
    """bulk_create in batches (with a simple-history row each, unless `history` is off). The
    auto_now fields (created_at, booked_at, ...) take the object's `_history_date`: when it
    happened, rather than now."""
    if not objs:
        return []
    stamped = [
        f
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    now = timezone.now()
    for obj in objs:
        when = getattr(obj, "_history_date", now)
        for f in stamped:
            if getattr(obj, f.attname) is None:
                setattr(obj, f.attname, when)
    kept = [(f, f.auto_now, f.auto_now_add) for f in stamped]
    try:
        for f in stamped:
            f.auto_now = f.auto_now_add = False
        if history:
            return bulk_create_with_history(list(objs), model, batch_size=BATCH)
        return model.objects.bulk_create(objs, batch_size=BATCH)
    finally:
        for f, auto_now, auto_now_add in kept:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


class ScaleBuilder:
    def __init__(self, options: ScaleOptions, *, out: Callable[[str], None] = print):
        self.options = options
        self.out = out
        self.rng = random.Random(options.seed)
        self.report = ScaleReport()
        self.zone = clinic_zone()
        self.now = timezone.now()
        self.today = timezone.localdate()
        past = options.days - options.days // 2
        self.first_day = self.today - timedelta(days=past - 1)
        self.days = [self.first_day + timedelta(days=n) for n in range(options.days)]
        self.last_day = self.days[-1]
        self.started = clock.perf_counter()
        self.step_started = self.started

    # -- helpers ---------------------------------------------------------------------------------

    def _step(self, name: str) -> None:
        now = clock.perf_counter()
        self.report.timings.append((name, now - self.step_started))
        self.out(f"  {name}: {now - self.step_started:.1f} s")
        self.step_started = now

    def _tag(self) -> str:
        """Names unique to this run, so that --force can add a second chain beside the first."""
        runs = Location.objects.filter(name__startswith="Scale clinic").count() // max(
            1, self.options.locations
        )
        return "" if runs == 0 else f"{runs + 1}-"

    # -- build -----------------------------------------------------------------------------------

    def build(self) -> ScaleReport:
        self.catalog = current_catalog()
        if not self.catalog.data.get("treatments"):
            raise ValidationError("The catalog is empty: run seed_catalog first.")
        with transaction.atomic():
            self.run_start = timezone.now()
            if connection.vendor == "postgresql":
                # Plans and records carry large JSON: lz4 compresses it several times faster.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL default_toast_compression = 'lz4'")
            self._treatments()
            self._staff()
            self._step("staff, locations, rooms and devices")
            self._archetypes()
            self._patients()
            self._step("patients, concerns, histories")
            self._service_plans()
            self._step(f"plans through plans.plan_accept ({self.report.counts['plans_through_service']})")
            self._copied_plans()
            self._step("plans copied from the service's")
            self._schedule()
            self._step("sessions handed out and laid out")
            self._save_sessions()
            self._step("  consents")
            self._records()
            self._step("  outcome scores")
            self._long_history_plans()
            self._service_records()
            self._step("long-history plans and records through the services")
            self._backdate()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self._step("ANALYZE")
        self._count()
        return self.report

    def _treatments(self) -> None:
        self.treatment_info: dict[str, TreatmentInfo] = {}
        for treatment in Treatment.objects.filter(active=True).prefetch_related("needs"):
            self.treatment_info[treatment.slug] = TreatmentInfo(
                pk=treatment.pk,
                slug=treatment.slug,
                duration=treatment.duration_minutes,
                buffer=treatment.buffer_minutes,
                device_kinds=tuple(sorted(n.slug for n in treatment.needs.all() if n.kind == "device")),
                consent_form=treatment.consent_form_id,
                aftercare=tuple(treatment.aftercare_lines()),
            )
        self.area_ids = dict(BodyArea.objects.values_list("slug", "id"))
        self.area_slugs = {pk: slug for slug, pk in self.area_ids.items()}
        self.area_names = dict(BodyArea.objects.values_list("slug", "name"))

    def _staff(self) -> None:
        options = self.options
        tag = self._tag()
        User = get_user_model()
        clinician = Group.objects.get_or_create(name=CLINICIAN)[0]
        desk = Group.objects.get_or_create(name=FRONT_DESK)[0]
        adopted = list(User.objects.filter(username__in=options.clinician_users))
        missing = set(options.clinician_users) - {u.username for u in adopted}
        if missing:
            raise ValidationError(f"No such users: {', '.join(sorted(missing))}.")
        adopted = [u for u in adopted if not Practitioner.objects.filter(user=u).exists()]
        adopted.sort(key=lambda u: options.clinician_users.index(u.username))
        new_users = [
            User(
                username=f"scale-{tag}dr{n:03d}",
                first_name=STAFF_FIRST[n % len(STAFF_FIRST)],
                last_name=LAST_NAMES[(n * 7) % len(LAST_NAMES)],
                email=f"scale-{tag}dr{n:03d}@clinic.example",
            )
            for n in range(max(0, options.practitioners - len(adopted)))
        ]
        desks = [
            User(username=f"scale-{tag}desk{n}", first_name=STAFF_FIRST[-1 - n], last_name="Desk")
            for n in range(max(2, options.locations))
        ]
        for user in new_users + desks:
            user.set_unusable_password()  # nobody logs in as them
        User.objects.bulk_create(new_users + desks)
        users = adopted + list(User.objects.filter(username__in=[u.username for u in new_users]))
        users.sort(key=lambda u: (u not in adopted, u.username))
        self.desk_users = list(User.objects.filter(username__in=[u.username for u in desks]))
        Through = User.groups.through
        Through.objects.bulk_create(
            [Through(user_id=u.pk, group_id=clinician.pk) for u in users if u not in adopted]
            + [Through(user_id=u.pk, group_id=desk.pk) for u in self.desk_users]
        )
        for user in adopted:
            user.groups.add(clinician)

        kinds = {r.slug: r for r in ResourceType.objects.all()}
        locations = _bulk(
            Location,
            [
                Location(name=f"Scale clinic {tag}{n + 1}", address=f"{10 + n} Scale Street")
                for n in range(options.locations)
            ],
        )
        hours = []
        for location in locations:
            for weekday in range(7):
                opens, closes = OPENING_WEEKEND if weekday >= 5 else OPENING_WEEKDAY
                hours.append(OpeningHours(location=location, weekday=weekday, starts=opens, ends=closes))
        _bulk(OpeningHours, hours)
        per_location = [options.practitioners // options.locations] * options.locations
        for n in range(options.practitioners % options.locations):
            per_location[n] += 1
        rooms, devices, station_specs = [], [], []
        index = 0
        for location, count in zip(locations, per_location, strict=True):
            for n in range(count + 2):  # a station per practitioner, and two spare rooms
                rooms.append(Room(location=location, name=f"Room {n + 1}", kind=kinds["treatment_room"]))
                devices.append(
                    Device(location=location, name=f"Pen {n + 1}", kind=kinds["microneedling_pen"])
                )
                if n < count:
                    devices.append(
                        Device(location=location, name=f"Centrifuge {n + 1}", kind=kinds["centrifuge"])
                    )
            for n in range(count):
                station_specs.append((index, location, n))
                index += 1
        rooms = _bulk(Room, rooms)
        devices = _bulk(Device, devices)
        room_at = {(r.location_id, r.name): r.pk for r in rooms}
        device_at = {(d.location_id, d.name): d.pk for d in devices}

        practitioners = _bulk(Practitioner, [Practitioner(user=u) for u in users[: options.practitioners]])
        all_treatments = set(self.treatment_info)
        Qualified = Practitioner.treatments.through
        qualified_rows, working = [], []
        self.stations: list[Station] = []
        for (number, location, n), practitioner in zip(station_specs, practitioners, strict=True):
            # Everyone does microneedling, PRP and superficial peels; a third also medium peels.
            treatments = frozenset(t for t in all_treatments if t != "peel_tca_medium" or number % 3 == 0)
            # Weekdays for all; weekends for one in four (the first practitioner always).
            weekdays = frozenset(range(7) if number % 4 == 0 else range(5))
            qualified_rows += [
                Qualified(practitioner_id=practitioner.pk, treatment_id=self.treatment_info[t].pk)
                for t in sorted(treatments)
            ]
            for weekday in sorted(weekdays):
                starts, ends = WEEKEND_HOURS if weekday >= 5 else WEEKDAY_HOURS
                working.append(
                    WorkingHours(
                        practitioner=practitioner,
                        location=location,
                        weekday=weekday,
                        starts=starts,
                        ends=ends,
                    )
                )
            self.stations.append(
                Station(
                    practitioner=practitioner,
                    user=practitioner.user,
                    location_id=location.pk,
                    room_id=room_at[(location.pk, f"Room {n + 1}")],
                    devices={
                        "microneedling_pen": device_at[(location.pk, f"Pen {n + 1}")],
                        "centrifuge": device_at[(location.pk, f"Centrifuge {n + 1}")],
                    },
                    weekdays=weekdays,
                    treatments=treatments,
                )
            )
        self.station_of_user = {s.user.pk: i for i, s in enumerate(self.stations)}
        Qualified.objects.bulk_create(qualified_rows, batch_size=BATCH)
        _bulk(WorkingHours, working)
        self.report.counts["practitioners"] = len(self.stations)
        if adopted:
            self.report.notes.append(
                "practitioners adopted from existing users: " + ", ".join(u.username for u in adopted)
            )

    # -- patients --------------------------------------------------------------------------------

    def _archetypes(self) -> None:
        rng = self.rng
        conditions = set(MedicalCondition.objects.values_list("slug", flat=True))
        concerns_known = set(SkinConcern.objects.values_list("slug", flat=True))
        concern_slugs = sorted(c for c in CONCERNS if c in concerns_known)
        history = [h for h in HISTORY if h[0] in conditions]
        self.archetypes: list[Archetype] = []
        attempts = 0
        while len(self.archetypes) < ARCHETYPES and attempts < ARCHETYPES * 20:
            attempts += 1
            sex = rng.choice(["female"] * 3 + ["male"])
            picked = rng.sample(concern_slugs, k=rng.choice([1, 1, 2, 2, 3]))
            if sex == "male" and "melasma" in picked:
                picked.remove("melasma")
            concerns = []
            for slug in picked:
                areas, notes = CONCERNS[slug]
                where = sorted(set(rng.sample(areas, k=min(len(areas), rng.choice([1, 1, 2])))))
                if "face" in where and len(where) > 1:
                    where = ["face"]
                concerns.append(
                    (slug, where, rng.choice(["mild", "moderate", "moderate", "severe"]), rng.choice(notes))
                )
            if not concerns:
                continue
            past = rng.sample(history, k=rng.choice([0, 0, 1, 1, 2, 3]))
            archetype = Archetype(
                sex=sex,
                fitzpatrick=rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5, 6]),
                concerns=concerns,
                history=past,
            )
            profile = self._profile(archetype, birth=date(1985, 6, 1), anchor=self.today)
            if planning.validate_profile(profile, self.catalog.engine):
                continue
            suggestion = planning.suggest_plan(profile, self.catalog.engine)
            for item in suggestion.items:
                index = default_option_index(item.options)
                if index is not None and item.options[index].status == OptionStatus.OK:
                    option = item.options[index]
                    if option.treatment in self.treatment_info:
                        archetype.offers.append(
                            (option.treatment, tuple(option.areas), option.interval_days.min)
                        )
            self.archetypes.append(archetype)
        # The long-history patient: scars, texture and pigment on the face, an allergy to mind.
        self.long_archetype = Archetype(
            sex="female",
            fitzpatrick=3,
            concerns=[
                ("acne_scars_atrophic", ["cheeks"], "severe", "rolling and boxcar"),
                ("texture", ["face"], "moderate", ""),
                ("hyperpigmentation_pih", ["chin_jaw"], "mild", "after acne"),
            ],
            history=[h for h in history if h[0] in {"herpes_simplex_history", "salicylate_allergy"}],
        )
        profile = self._profile(self.long_archetype, birth=date(1988, 3, 14), anchor=self.today)
        suggestion = planning.suggest_plan(profile, self.catalog.engine)
        offers: dict[str, tuple[str, tuple[str, ...], int]] = {}
        for item in suggestion.items:
            for option in item.options:
                if option.status == OptionStatus.OK and option.treatment in self.treatment_info:
                    offers.setdefault(
                        option.treatment, (option.treatment, tuple(option.areas), option.interval_days.min)
                    )
        # A rotation in which each treatment comes back no sooner than its least interval.
        rotation = sorted(offers.values(), key=lambda offer: (offer[2], offer[0]))
        while rotation and rotation[-1][2] > LONG_HISTORY_SPACING_DAYS * len(rotation):
            rotation.pop()
        self.long_archetype.offers = rotation

    def _profile(self, archetype: Archetype, *, birth: date, anchor: date) -> dict[str, Any]:
        def day(offset: int | None) -> str | None:
            return (anchor + timedelta(days=offset)).isoformat() if offset is not None else None

        return {
            "today": anchor.isoformat(),
            "patient": {
                "birth_date": birth.isoformat(),
                "sex": archetype.sex,
                "fitzpatrick": archetype.fitzpatrick,
            },
            "concerns": [
                {"concern": slug, "areas": areas, "severity": severity, "note": note}
                for slug, areas, severity, note in archetype.concerns
            ],
            "conditions": [
                {"condition": slug, "areas": areas, "since": day(since), "until": day(until), "note": ""}
                for slug, areas, since, until in archetype.history
            ],
            "cleared": [],
        }

    def _patients(self) -> None:
        options, rng = self.options, self.rng
        count = max(1, options.patients)
        plan_count = int((count - 1) * options.plan_share)
        self.roles: list[str] = ["long"] + ["plan"] * plan_count + ["single"] * (count - 1 - plan_count)
        head, tail = self.roles[:1], self.roles[1:]
        rng.shuffle(tail)
        self.roles = head + tail
        self.kinds: list[Archetype] = [self.long_archetype] + [
            self.archetypes[rng.randrange(len(self.archetypes))] for _ in range(count - 1)
        ]
        # The anchor day: a plan's acceptance, or the day a single-session patient was assessed.
        window = (self.last_day - self.first_day).days
        self.anchors: list[date] = []
        for role in self.roles:
            if role == "long":
                self.anchors.append(
                    self.today - timedelta(days=LONG_HISTORY_SPACING_DAYS * options.long_history)
                )
            elif role == "plan":
                self.anchors.append(
                    self.first_day + timedelta(days=rng.randint(-45, (self.today - self.first_day).days))
                )
            else:
                self.anchors.append(self.first_day + timedelta(days=rng.randint(-30, window)))
        desk_users = self.desk_users
        preferred = [s.user for s in self.stations]
        patients = []
        self.birth_dates: list[date] = []
        for n in range(count):
            kind = self.kinds[n]
            born = date(rng.randint(1948, 2000), rng.randint(1, 12), rng.randint(1, 28))
            if n == 0:
                first, last, born, email = "Harriet", "Longhistory", date(1988, 3, 14), LONG_HISTORY_EMAIL
            else:
                first = rng.choice(FIRST_NAMES)
                last = rng.choice(LAST_NAMES)
                email = f"{first}.{last}.{n}@example.com".lower() if rng.random() < 0.9 else ""
            self.birth_dates.append(born)
            patient = Patient(
                first_name=first,
                last_name=last,
                date_of_birth=born,
                sex=kind.sex,
                phone=f"+1 {200 + n // 10000} 555 {n % 10000:04d}",
                email=email,
                fitzpatrick=kind.fitzpatrick,
                preferred_practitioner=preferred[n % len(preferred)]
                if n == 0 or rng.random() < 0.6
                else None,
                notes="Prefers mornings" if rng.random() < 0.05 else "",
                other_allergies=rng.choice(OTHER_ALLERGIES) if rng.random() < 0.03 else "",
                created_by=desk_users[n % len(desk_users)],
            )
            patient._history_date = self._at(self.anchors[n] - timedelta(days=rng.randint(1, 20)), 12)
            patient._history_user = patient.created_by
            patients.append(patient)
        self.patients: list[Patient] = _bulk(Patient, patients)
        self.report.long_history_patient = self.patients[0].pk

        concern_slugs = dict(SkinConcern.objects.values_list("slug", "id"))
        condition_ids = dict(MedicalCondition.objects.values_list("slug", "id"))
        concerns, records, concern_areas, record_areas = [], [], [], []
        for n, patient in enumerate(self.patients):
            kind, anchor = self.kinds[n], self.anchors[n]
            by = self.stations[n % len(self.stations)].user
            for slug, areas, severity, note in kind.concerns:
                item = Concern(
                    patient=patient,
                    concern_id=concern_slugs[slug],
                    severity=severity,
                    note=note,
                    recorded_by=by,
                )
                item._history_date = self._at(anchor, 10)
                item._history_user = by
                concerns.append(item)
                concern_areas.append([self.area_ids[a] for a in areas])
            for slug, areas, since, until in kind.history:
                record = ConditionRecord(
                    patient=patient,
                    condition_id=condition_ids[slug],
                    since=anchor + timedelta(days=since) if since is not None else None,
                    until=anchor + timedelta(days=until) if until is not None else None,
                    recorded_by=by,
                )
                record._history_date = self._at(anchor, 10)
                record._history_user = by
                records.append(record)
                record_areas.append([self.area_ids[a] for a in areas])
        concerns = _bulk(Concern, concerns)
        records = _bulk(ConditionRecord, records)
        ConcernAreas = Concern.areas.through
        ConcernAreas.objects.bulk_create(
            (
                ConcernAreas(concern_id=c.pk, bodyarea_id=a)
                for c, areas in zip(concerns, concern_areas, strict=True)
                for a in areas
            ),
            batch_size=BATCH,
        )
        RecordAreas = ConditionRecord.areas.through
        RecordAreas.objects.bulk_create(
            (
                RecordAreas(conditionrecord_id=r.pk, bodyarea_id=a)
                for r, areas in zip(records, record_areas, strict=True)
                for a in areas
            ),
            batch_size=BATCH,
        )
        self.concerns_of: dict[int, list[Concern]] = defaultdict(list)
        for concern in concerns:
            self.concerns_of[concern.patient_id].append(concern)
        self.consents: list[PatientConsent] = []
        self.consented: set[tuple[int, int]] = set()

    def _at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone)

    def _consent(self, patient: Patient, form_id: int | None, treatment: str, day: date, by: Any) -> None:
        if form_id is None or (patient.pk, form_id) in self.consented:
            return
        self.consented.add((patient.pk, form_id))
        consent = PatientConsent(
            patient=patient, form_id=form_id, treatment=treatment, signed_on=day, recorded_by=by
        )
        consent._history_date = self._at(day, 9)
        consent._history_user = by
        self.consents.append(consent)

    # -- plans -----------------------------------------------------------------------------------

    def _clinician_for(self, n: int) -> Station:
        """The patient's preferred practitioner, else one in turn."""
        found = self.station_of_user.get(self.patients[n].preferred_practitioner_id)
        return self.stations[found if found is not None else n % len(self.stations)]

    def _service_plans(self) -> None:
        """Plans accepted the way the plan builder accepts them: a patient of each archetype in
        turn, so that every archetype has one to copy before any has a second."""
        by_kind: dict[int, list[int]] = defaultdict(list)
        for n, role in enumerate(self.roles):
            if role == "plan":
                by_kind[id(self.kinds[n])].append(n)
        self.plan_of: dict[int, tuple[Plan, PlanShape]] = {}
        done = 0
        forms = dict(ConsentForm.objects.filter(active=True).values_list("slug", "id"))
        rounds = max((len(patients) for patients in by_kind.values()), default=0)
        for turn in range(rounds):
            for archetype in self.archetypes:
                patients = by_kind.get(id(archetype), [])
                # Past the first plan of each, an archetype whose patients get nothing is let go.
                if done >= self.options.service_plans or turn >= len(patients):
                    continue
                if turn >= 3 and archetype.template is None:
                    continue
                if self._accept_through_service(patients[turn], forms) is not None:
                    done += 1
            if done >= self.options.service_plans:
                break
        self.report.counts["plans_through_service"] = done
        self.report.counts["archetypes_with_a_plan"] = sum(1 for a in self.archetypes if a.template)

    def _accept_through_service(
        self, n: int, forms: dict[str, int], *, replaces: Plan | None = None, today: date | None = None
    ) -> Plan | None:
        patient, anchor = self.patients[n], today or self.anchors[n]
        station = self._clinician_for(n)
        found = suggest_for_patient(patient, today=anchor, catalog=self.catalog)
        if found.suggestion is None:
            return None
        choices = default_choices(found.suggestion)
        treatments = chosen_plan(found.suggestion, choices, self.catalog.engine).treatments
        if not treatments:
            return None
        by_slug = {t["slug"]: t for t in self.catalog.data["treatments"]}
        for slug in sorted(treatments):
            form_slug = by_slug[slug].get("consent_form")
            if form_slug and form_slug in forms and (patient.pk, forms[form_slug]) not in self.consented:
                self.consented.add((patient.pk, forms[form_slug]))
                patient_services.consent_record(
                    patient=patient,
                    form=ConsentForm.objects.get(pk=forms[form_slug]),
                    signed_on=anchor,
                    by=station.user,
                    treatment=slug,
                )
        try:
            plan = plan_services.plan_accept(
                patient=patient,
                today=anchor,
                profile=found.profile,
                suggestion=found.suggestion,
                choices=choices,
                catalog=self.catalog,
                replaces=replaces.pk if replaces else None,
                by=station.user,
            )
        except ValidationError as error:
            self.report.notes.append(f"plan_accept refused patient {patient.pk}: {error.messages[0]}")
            return None
        planned = [
            (p.visit, p.treatment_id, p.session, p.earliest, p.latest, [a.pk for a in p.areas.all()])
            for p in plan.planned_sessions.prefetch_related("areas")
        ]
        shape = PlanShape(
            today=anchor,
            profile=DatedJson(plan.profile),
            suggestion=DatedJson(plan.suggestion),
            chosen=DatedJson(plan.chosen),
            catalog_revision=plan.catalog_revision,
            catalog_rules=plan.catalog_rules,
            sessions=planned,
            consent_forms=[
                (forms[by_slug[slug]["consent_form"]], slug)
                for slug in sorted(treatments)
                if by_slug[slug].get("consent_form") in forms
            ],
        )
        kind = self.kinds[n]
        if kind.template is None and replaces is None:
            kind.template = shape
        self.plan_of[n] = (plan, shape)
        return plan

    def _copied_plans(self) -> None:
        """The other plan patients of each archetype: the service's plan, moved to their day."""
        copies: list[tuple[int, PlanShape, timedelta]] = []
        plans = []
        for n, role in enumerate(self.roles):
            if role != "plan" or n in self.plan_of:
                continue
            template = self.kinds[n].template
            if template is None:
                self.roles[n] = "single"  # nothing the engine offers them can be planned
                continue
            delta = self.anchors[n] - template.today
            profile = template.profile.moved(delta)
            profile["patient"] = {
                **profile["patient"],
                "birth_date": self.birth_dates[n].isoformat(),
            }
            station = self._clinician_for(n)
            plan = Plan(
                patient=self.patients[n],
                version=1,
                status=Plan.Status.ACCEPTED,
                today=self.anchors[n],
                profile=profile,
                suggestion=template.suggestion.moved(delta),
                chosen=template.chosen.moved(delta),
                catalog_revision=template.catalog_revision,
                catalog_rules=template.catalog_rules,
                accepted_by=station.user,
            )
            plan._history_date = self._at(self.anchors[n], 14)
            plan._history_user = station.user
            plans.append(plan)
            copies.append((n, template, delta))
            for form_id, slug in template.consent_forms:
                self._consent(self.patients[n], form_id, slug, self.anchors[n], station.user)
        plans = _bulk(Plan, plans)
        planned, planned_areas = [], []
        for plan, (_, template, delta) in zip(plans, copies, strict=True):
            for visit, treatment_id, number, earliest, latest, areas in template.sessions:
                planned.append(
                    PlannedSession(
                        plan=plan,
                        visit=visit,
                        treatment_id=treatment_id,
                        session=number,
                        earliest=earliest + delta,
                        latest=latest + delta,
                    )
                )
                planned_areas.append(areas)
        planned = _bulk(PlannedSession, planned, history=False)
        Areas = PlannedSession.areas.through
        Areas.objects.bulk_create(
            (
                Areas(plannedsession_id=p.pk, bodyarea_id=a)
                for p, areas in zip(planned, planned_areas, strict=True)
                for a in areas
            ),
            batch_size=BATCH,
        )
        for plan, (n, template, _) in zip(plans, copies, strict=True):
            self.plan_of[n] = (plan, template)
        self.planned_by_plan: dict[int, list[PlannedSession]] = defaultdict(list)
        for p in planned:
            self.planned_by_plan[p.plan_id].append(p)
        # The service's own plans: read their planned sessions back.
        service = [plan.pk for plan, _ in self.plan_of.values() if plan.pk not in self.planned_by_plan]
        for p in PlannedSession.objects.filter(plan_id__in=service).prefetch_related("areas"):
            p.area_ids = [a.pk for a in p.areas.all()]
            self.planned_by_plan[p.plan_id].append(p)
        for p, areas in zip(planned, planned_areas, strict=True):
            p.area_ids = areas
        self.report.counts["plans_copied"] = len(plans)

    # -- sessions --------------------------------------------------------------------------------

    def _schedule(self) -> None:
        options, rng = self.options, self.rng
        stations = self.stations
        weekday_capacity = sum(_shift_minutes(0) for _ in stations)
        mean_blocked = sum(t.blocked for t in self.treatment_info.values()) / len(self.treatment_info)
        self.day_plans: list[Day] = []
        for day in self.days:
            working = [i for i, s in enumerate(stations) if day.weekday() in s.weekdays]
            minutes = sum(_shift_minutes(day.weekday()) for _ in working)
            target = options.sessions_per_day * minutes / weekday_capacity if weekday_capacity else 0
            # No more than the time allows at ~90% use, whatever was asked.
            target = min(target, 0.9 * minutes / mean_blocked)
            self.day_plans.append(
                Day(day=day, target=round(target * rng.uniform(0.95, 1.05)), stations=working)
            )
        self.day_index = {d.day: i for i, d in enumerate(self.day_plans)}
        self.outside: list[tuple[Station, date, Item]] = []  # long-history sessions before the window
        self.past: dict[int, list[PastSession]] = {}  # each patient's sessions, for the intervals

        # 1. The long-history patient, with the first practitioner, a fortnight apart.
        offers = self.long_archetype.offers or [("mn", ("cheeks",), 28)]
        future = min(5, options.long_history // 10)
        for k in range(options.long_history):
            day = self.today + timedelta(days=LONG_HISTORY_SPACING_DAYS * (future - k))
            treatment, areas, _ = offers[k % len(offers)]
            index = self.day_index.get(day)
            if index is None and day > self.last_day:
                continue
            for turn in range(len(offers)):  # the rotation's first treatment the intervals allow
                treatment, areas, _ = offers[(k + turn) % len(offers)]
                item = Item(0, treatment, tuple(self.area_ids[a] for a in areas), long_history=True)
                if index is not None:
                    if self._place(index, [item], prefer=0, force=True) is not None:
                        break
                elif (past := self._fits(0, day, [item])) is not None:
                    self.past[0] = past
                    self.outside.append((stations[0], day, item))
                    break
        for treatment, _, _ in offers:
            signed = self.anchors[0] - timedelta(days=7)
            self._consent(
                self.patients[0],
                self.treatment_info[treatment].consent_form,
                treatment,
                signed,
                stations[0].user,
            )

        # 2. Plan sessions inside their visit windows and the plan's intervals, as the plan
        #    booking proposes them: plans in the order they were accepted, a visit's procedures
        #    on one day, a treatment's next session at least its least interval after the last.
        planned_sessions = 0
        for n in sorted(self.plan_of, key=lambda n: self.anchors[n]):
            if n == 0:
                continue
            plan, _ = self.plan_of[n]
            least: dict[str, int] = {}
            for chosen_item in plan.chosen.get("items", []):
                least.setdefault(chosen_item["treatment"], chosen_item["interval_days"]["min"])
            visits: dict[int, list[PlannedSession]] = defaultdict(list)
            for p in sorted(self.planned_by_plan.get(plan.pk, []), key=lambda p: (p.visit, p.pk)):
                visits[p.visit].append(p)
            last: dict[str, date] = {}
            prefer = self._station_index(self._clinician_for(n))
            for number in sorted(visits):
                pending = visits[number]
                while pending:  # the same treatment twice in a visit: the second waits its interval
                    group, rest, seen = [], [], set()
                    for p in pending:
                        slug = self._slug(p.treatment_id)
                        (rest if slug in seen else group).append(p)
                        seen.add(slug)
                    pending = rest
                    slugs = [self._slug(p.treatment_id) for p in group]
                    earliest = max(
                        [group[0].earliest, self.first_day]
                        + [last[t] + timedelta(days=least.get(t, 0)) for t in slugs if t in last]
                    )
                    latest = min(max(group[0].latest, earliest), self.last_day)
                    items = [
                        Item(
                            n,
                            t,
                            tuple(p.area_ids),
                            plan=plan,
                            planned=p.pk,
                            chosen=plan.chosen,
                            least=least.get(t),
                        )
                        for t, p in zip(slugs, group, strict=True)
                    ]
                    day = earliest
                    while day <= latest:
                        placed = self._place(self.day_index[day], items, prefer=prefer)
                        if placed is not None:
                            prefer = placed
                            last.update(dict.fromkeys(slugs, day))
                            planned_sessions += len(items)
                            break
                        day += timedelta(days=1)
        self.report.counts["plan_sessions_booked"] = planned_sessions

        # 3. Single sessions fill each day up to its target, patients weeks apart.
        queue: list[tuple[int, int, int]] = []
        for n, role in enumerate(self.roles):
            if role == "single" and self.kinds[n].offers:
                first = self.day_index.get(self.anchors[n])
                if first is None:
                    first = 0 if self.anchors[n] < self.first_day else len(self.day_plans)
                heappush(queue, (first, rng.random(), n))
        seen: Counter[int] = Counter()
        for index, plan_day in enumerate(self.day_plans):
            failures, deferred = 0, []
            while plan_day.count < plan_day.target and queue and queue[0][0] <= index and failures < 40:
                _, tie, n = heappop(queue)
                offers = self.kinds[n].offers
                treatment, areas, _ = offers[seen[n] % len(offers)]
                item = Item(n, treatment, tuple(self.area_ids[a] for a in areas))
                prefer = (
                    self._station_index(self._clinician_for(n))
                    if self.patients[n].preferred_practitioner_id
                    else None
                )
                if self._place(index, [item], prefer=prefer) is None:
                    failures += 1
                    deferred.append((index + 1, tie, n))
                    continue
                seen[n] += 1
                station = self._clinician_for(n)
                self._consent(
                    self.patients[n],
                    self.treatment_info[treatment].consent_form,
                    treatment,
                    plan_day.day,
                    station.user,
                )
                gap = max(rng.randint(*AD_HOC_GAP_DAYS), *(least for _, _, least in offers))
                heappush(queue, (index + gap, tie, n))
            for entry in deferred:
                heappush(queue, entry)
        self.report.counts["single_sessions"] = sum(seen.values())

        # 4. Times: each practitioner's day in order, the spare time spread as gaps.
        for plan_day in self.day_plans:
            for station_index, items in plan_day.items.items():
                self._lay_out(plan_day.day, items, plan_day.load[station_index])
        for _, day, item in self.outside:
            item.start = self._at(day, WEEKDAY_HOURS[0].hour if day.weekday() < 5 else WEEKEND_HOURS[0].hour)

    def _slug(self, treatment_id: int) -> str:
        if not hasattr(self, "_slugs"):
            self._slugs = {t.pk: t.slug for t in self.treatment_info.values()}
        return self._slugs[treatment_id]

    def _station_index(self, station: Station) -> int:
        return self.station_of_user[station.user.pk]

    def _place(self, index: int, items: list[Item], *, prefer: int | None, force: bool = False) -> int | None:
        """Give `items` (one visit of one patient) to a practitioner working that day with the
        time left and the qualification; the station's index, or None when the day is full."""
        plan_day = self.day_plans[index]
        if not force and plan_day.count + len(items) > plan_day.target:
            return None
        if items[0].patient in plan_day.patients:
            return None  # one visit a day per patient
        past = self._fits(items[0].patient, plan_day.day, items)
        if past is None:
            return None
        needed = sum(self.treatment_info[item.treatment].blocked for item in items)
        shift = _shift_minutes(plan_day.day.weekday())
        slugs = {item.treatment for item in items}
        candidates = plan_day.stations
        order = (
            ([prefer] if prefer is not None and prefer in candidates else [])
            + [candidates[(plan_day.turn + k) % len(candidates)] for k in range(len(candidates))]
            if candidates
            else []
        )
        for station_index in order:
            station = self.stations[station_index]
            if not slugs <= station.treatments:
                continue
            if plan_day.load.get(station_index, 0) + needed > shift:
                continue
            plan_day.load[station_index] = plan_day.load.get(station_index, 0) + needed
            plan_day.items[station_index].extend(items)
            plan_day.patients.add(items[0].patient)
            self.past[items[0].patient] = past
            plan_day.count += len(items)
            plan_day.turn += 1
            return station_index
        return None

    def _fits(self, n: int, day: date, items: list[Item]) -> list[PastSession] | None:
        """The patient's sessions with `items` on `day` added, or None when the booking rules'
        intervals refuse them (a series' least interval, the catalog's gaps between procedures on
        overlapping areas), as the booking service would without a clinician's override."""
        engine = self.catalog.engine
        sessions = list(self.past.get(n, ()))
        for item in items:
            areas = tuple(sorted(self.area_slugs[a] for a in item.areas))
            if booking_rules.interval_problems(
                treatment=item.treatment,
                name=item.treatment,
                areas=areas,
                day=day,
                sessions=sessions,
                min_interval_days=booking_rules.min_interval_days(engine, item.treatment, item.least),
                gap_days=engine.gap_days,
                overlaps=self._overlaps,
            ):
                return None
            sessions.append(PastSession(item.treatment, item.treatment, areas, day))
        return sessions

    def _overlaps(self, first: tuple[str, ...], second: tuple[str, ...]) -> bool:
        tree = self.catalog.engine.tree
        return not first or not second or any(tree.overlaps(a, b) for a in first for b in second)

    def _lay_out(self, day: date, items: list[Item], load: int) -> None:
        if not items:
            return
        starts, _ = WEEKEND_HOURS if day.weekday() >= 5 else WEEKDAY_HOURS
        slack = (_shift_minutes(day.weekday()) - load) // STEP_MINUTES
        gaps = [0] * (len(items) + 1)
        for _ in range(slack):
            gaps[self.rng.randrange(len(gaps))] += 1
        cursor = self._at(day, starts.hour, starts.minute)
        for item, gap in zip(items, gaps, strict=False):
            cursor += timedelta(minutes=gap * STEP_MINUTES)
            item.start = cursor
            cursor += timedelta(minutes=self.treatment_info[item.treatment].blocked)

    def _status(self, item: Item) -> tuple[str, str]:
        """(status, cancel reason) of a session laid out at item.start."""
        roll = self.rng.random()
        if item.start is not None and item.start < self.now and not item.long_history:
            if roll < 0.04:
                return Appointment.Status.NO_SHOW, ""
            if roll < 0.09:
                return Appointment.Status.CANCELLED, self.rng.choice(CANCEL_REASONS)
            if roll < 0.10:
                return Appointment.Status.CANCELLED, recording.STOPPED_REASON
            return Appointment.Status.COMPLETED, ""
        if item.start is not None and item.start < self.now:
            return Appointment.Status.COMPLETED, ""
        if roll < 0.03:
            return Appointment.Status.CANCELLED, self.rng.choice(CANCEL_REASONS)
        return Appointment.Status.BOOKED, ""

    def _save_sessions(self) -> None:
        rows: list[tuple[Station, Item]] = []
        for plan_day in self.day_plans:
            for station_index, items in plan_day.items.items():
                rows += [(self.stations[station_index], item) for item in items]
        rows += [(station, item) for station, _, item in self.outside]
        rows.sort(key=lambda row: (row[1].start, row[0].practitioner.pk))
        sessions, self.session_items = [], []
        for station, item in rows:
            info = self.treatment_info[item.treatment]
            status, reason = self._status(item)
            desk = self.desk_users[station.location_id % len(self.desk_users)]
            booked_on = min(item.start - timedelta(days=self.rng.randint(3, 40)), self.now)
            session = Appointment(
                patient=self.patients[item.patient],
                treatment_id=info.pk,
                practitioner=station.practitioner,
                location_id=station.location_id,
                room_id=station.room_id,
                plan=item.plan,
                planned_session_id=item.planned,
                starts_at=item.start,
                ends_at=item.start + timedelta(minutes=info.duration),
                blocked_until=item.start + timedelta(minutes=info.blocked),
                status=status,
                cancel_reason=reason,
                cancelled_by=(station.user if reason == recording.STOPPED_REASON else desk)
                if reason
                else None,
                booked_by=desk,
            )
            session._history_date = booked_on
            session._history_user = desk
            sessions.append(session)
            self.session_items.append((station, item))
        self.sessions: list[Appointment] = _bulk(Appointment, sessions)
        self._step(f"  {len(sessions):,} sessions")
        Areas = Appointment.areas.through
        Areas.objects.bulk_create(
            (
                Areas(appointment_id=s.pk, bodyarea_id=a)
                for s, (_, item) in zip(self.sessions, self.session_items, strict=True)
                for a in item.areas
            ),
            batch_size=BATCH,
        )
        holds = []
        for session, (station, item) in zip(self.sessions, self.session_items, strict=True):
            for kind in self.treatment_info[item.treatment].device_kinds:
                holds.append(
                    AppointmentDevice(
                        appointment=session,
                        device_id=station.devices[kind],
                        starts_at=session.starts_at,
                        blocked_until=session.blocked_until,
                        active=session.status in Appointment.ACTIVE,
                    )
                )
        AppointmentDevice.objects.bulk_create(holds, batch_size=BATCH)
        self._step("  their areas and device holds")
        _bulk(PatientConsent, self.consents)
        self.report.counts["device_holds"] = len(holds)

    # -- records ---------------------------------------------------------------------------------

    def _record_values(
        self, item: Item, station: Station, day: date, fitzpatrick: int | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Procedure values inside the session's safe ranges (record_rules), and its checklist."""
        areas = sorted(self.area_slugs[a] for a in item.areas)
        planned_limits, planned_depths = record_rules.plan_settings(item.chosen, item.treatment, areas)
        key = (item.treatment, tuple(areas), fitzpatrick, repr(planned_limits), repr(planned_depths))
        cache = self.__dict__.setdefault("_values", {})
        if key not in cache:
            engine = self.catalog.engine
            limits = planned_limits or record_rules.session_limits(engine, item.treatment, areas, fitzpatrick)
            fields = record_rules.record_fields(engine, item.treatment)
            values: dict[str, Any] = {}
            for spec in fields:
                if not spec.required and self.rng.random() < 0.5:
                    continue
                bounds = None
                if spec.per_area:
                    depth_areas = sorted(limits.get("needle_depth_mm", {})) or areas
                    per_area = {}
                    for area in depth_areas:
                        if area in planned_depths:
                            per_area[area] = planned_depths[area]
                            continue
                        bounds = spec.safe_range(limits, area) or {"min": spec.min, "max": spec.max}
                        per_area[area] = _inside(bounds, spec, decimals=1)
                    values[spec.key] = per_area
                elif spec.linked_to == FieldLink.DEVICES:
                    values[spec.key] = "Pen (station)"
                elif spec.linked_to == FieldLink.PEEL_AGENT:
                    values[spec.key] = (limits.get("peel") or {}).get("agent") or item.treatment
                elif spec.kind in record_rules.NUMBER_KINDS:
                    bounds = spec.safe_range(limits) or {"min": spec.min, "max": spec.max}
                    values[spec.key] = _inside(
                        bounds, spec, decimals=0 if spec.kind == FieldKind.INTEGER else 1
                    )
                elif spec.kind == FieldKind.CHOICE and spec.choices:
                    values[spec.key] = spec.choices[min(1, len(spec.choices) - 1)][0]
                elif spec.kind == FieldKind.YES_NO:
                    values[spec.key] = True
                elif spec.kind in (FieldKind.DATE, FieldKind.EXPIRY):
                    values[spec.key] = "EXPIRY" if spec.kind == FieldKind.EXPIRY else "DAY"
                elif spec.kind == FieldKind.TEXT:
                    values[spec.key] = f"Lot {self.rng.randint(10, 99)}-{self.rng.randint(1000, 9999)}"
            problems = record_rules.out_of_range(values, limits, fields=fields)
            if problems:
                raise ValueError(f"Generated values outside the safe ranges: {problems}")
            questions = [{**q, "yes": False} for q in screening.checklist(engine, item.treatment)]
            cache[key] = (values, questions)
        values, questions = cache[key]
        dated = {
            k: (
                (day + timedelta(days=400)).isoformat()
                if v == "EXPIRY"
                else day.isoformat()
                if v == "DAY"
                else v
            )
            for k, v in values.items()
        }
        return dated, questions

    def _records(self) -> None:
        rng = self.rng
        records, outcomes, scored = [], [], Counter()
        self.service_candidates: list[Appointment] = []
        for session, (station, item) in zip(self.sessions, self.session_items, strict=True):
            stopped = (
                session.status == Appointment.Status.CANCELLED
                and session.cancel_reason == recording.STOPPED_REASON
            )
            if session.status != Appointment.Status.COMPLETED and not stopped:
                continue
            day = session.starts_at.astimezone(self.zone).date()
            if not stopped and station is self.stations[0] and day == self.today:
                # The recording services screen a session on its day only: today's, below.
                self.service_candidates.append(session)
            values, questions = self._record_values(item, station, day, session.patient.fitzpatrick)
            screened = session.starts_at + timedelta(minutes=5)
            signed = session.ends_at + timedelta(minutes=rng.randint(2, 40))
            record = SessionRecord(
                appointment=session,
                screening={
                    "questions": questions,
                    "consent_confirmed": True,
                    "photos_taken": True,
                    "new_medications": "",
                    "precautions": [],
                },
                screened_by=station.user,
                screened_at=screened,
                stopped=stopped,
                stop_reasons=[{"code": "screening", "text": "Found at the day-of screening."}]
                if stopped
                else [],
                values={} if stopped else values,
                notes="" if stopped or rng.random() < 0.7 else "Tolerated well.",
                aftercare_given=[] if stopped else list(self.treatment_info[item.treatment].aftercare),
                aftercare_given_at=None if stopped else signed,
                signed_by=None if stopped else station.user,
                signed_at=None if stopped else signed,
                updated_by=station.user,
            )
            record._history_date = signed
            record._history_user = station.user
            records.append(record)
            if stopped:
                continue
            for concern in self.concerns_of.get(session.patient_id, []):
                k = scored[concern.pk]
                scored[concern.pk] += 1
                score = max(0, min(10, 1 + k + rng.choice([-1, 0, 0, 1])))
                outcome = OutcomeScore(
                    appointment=session,
                    concern=concern,
                    clinician_score=score,
                    patient_score=None
                    if rng.random() < 0.3
                    else max(0, min(10, score + rng.choice([-1, 0, 1]))),
                    recorded_by=station.user,
                )
                outcome._history_date = signed
                outcome._history_user = station.user
                outcomes.append(outcome)
        # A few of today's sessions go through the real services instead (kept aside, in case
        # the services refuse one).
        chosen = {s.pk for s in self._service_sessions()}
        self.set_aside = {
            pk: (
                [r for r in records if r.appointment_id == pk],
                [o for o in outcomes if o.appointment_id == pk],
            )
            for pk in chosen
        }
        records = [r for r in records if r.appointment_id not in chosen]
        outcomes = [o for o in outcomes if o.appointment_id not in chosen]
        records = _bulk(SessionRecord, records)
        self._step(f"  {len(records):,} records")
        _bulk(OutcomeScore, outcomes)
        Appointment.objects.filter(pk__in=chosen).update(status=Appointment.Status.BOOKED)
        self.report.counts["records_bulk"] = len(records)

    def _service_sessions(self) -> list[Appointment]:
        """Today's sessions of the first practitioner, started already, the long-history one first."""
        today = sorted(
            self.service_candidates, key=lambda s: (s.patient_id != self.patients[0].pk, s.starts_at)
        )
        return today[:SERVICE_RECORDS]

    def _service_records(self) -> None:
        """A few records written by the real recording services: screen, procedure, outcomes, sign."""
        written = 0
        for session in self._service_sessions():
            session = (
                Appointment.objects.select_related(
                    "patient",
                    "treatment",
                    "practitioner__user",
                    "room",
                    "location",
                    "plan",
                    "planned_session",
                )
                .prefetch_related("areas", "devices")
                .get(pk=session.pk)
            )
            by = session.practitioner.user
            context = session_context(session, catalog=self.catalog)
            try:
                with transaction.atomic():  # all of it, or none of it
                    recording.session_screen(
                        appointment=session,
                        context=context,
                        answers={},
                        consent_confirmed=True,
                        photos_taken=True,
                        new_medications="",
                        by=by,
                        followed={flag["code"]: True for flag in context.precautions},
                    )
                    item = Item(
                        0,
                        session.treatment.slug,
                        tuple(a.pk for a in session.areas.all()),
                        chosen=session.plan.chosen if session.plan else None,
                    )
                    values, _ = self._record_values(
                        item, self.stations[0], context.day, session.patient.fitzpatrick
                    )
                    recording.procedure_save(
                        appointment=session,
                        context=context,
                        values=values,
                        notes="Tolerated well.",
                        confirmations={},
                        by=by,
                    )
                    scores = {
                        c: (min(10, 6 + n), 7)
                        for n, c in enumerate(Concern.objects.filter(patient=session.patient))
                    }
                    recording.outcomes_save(appointment=session, scores=scores, by=by)
                    recording.record_sign(appointment=session, aftercare_given=True, by=by)
            except ValidationError as error:
                # A rule of the services refuses it: the session gets the record made in bulk.
                self.report.notes.append(f"recording refused session {session.pk}: {error.messages[0]}")
                Appointment.objects.filter(pk=session.pk).update(status=Appointment.Status.COMPLETED)
                kept_records, kept_outcomes = self.set_aside.get(session.pk, ([], []))
                _bulk(SessionRecord, kept_records)
                _bulk(OutcomeScore, kept_outcomes)
                continue
            written += 1
        self.report.counts["records_through_service"] = written

    def _long_history_plans(self) -> None:
        """Three plan versions for the long-history patient, accepted through the service."""
        forms = dict(ConsentForm.objects.filter(active=True).values_list("slug", "id"))
        previous = None
        for days_back in (700, 350, 60):
            plan = self._accept_through_service(
                0, forms, replaces=previous, today=self.today - timedelta(days=days_back)
            )
            previous = plan or previous

    # -- finishing -------------------------------------------------------------------------------

    def _backdate(self) -> None:
        """The few rows the services wrote carry now: move plans and consents to their day."""
        if connection.vendor != "postgresql":
            return
        statements = [
            "UPDATE treatments_plan SET accepted_at = (today + time '14:00') AT TIME ZONE %(zone)s "
            "WHERE accepted_at >= %(start)s",
            "UPDATE treatments_historicalplan h SET history_date = p.accepted_at FROM treatments_plan p "
            "WHERE h.id = p.id AND h.history_date >= %(start)s",
            "UPDATE patients_patientconsent SET recorded_at = (signed_on + time '09:00') AT TIME ZONE %(zone)s "
            "WHERE recorded_at >= %(start)s",
        ]
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement, {"start": self.run_start, "zone": self.zone.key})

    def _count(self) -> None:
        counts = self.report.counts
        for label, model in (
            ("patients", Patient),
            ("concerns", Concern),
            ("history records", ConditionRecord),
            ("consents", PatientConsent),
            ("plans", Plan),
            ("planned sessions", PlannedSession),
            ("sessions", Appointment),
            ("session records", SessionRecord),
            ("outcome scores", OutcomeScore),
        ):
            counts[label] = model.objects.count()
        counts["sessions today"] = _count_day(self.today, self.zone)
        counts["long-history sessions"] = Appointment.objects.filter(patient_id=self.patients[0].pk).count()


def _count_day(day: date, zone: Any) -> int:
    start = datetime.combine(day, time(0), tzinfo=zone)
    return Appointment.objects.filter(starts_at__gte=start, starts_at__lt=start + timedelta(days=1)).count()


def _inside(bounds: Any, spec: Any, *, decimals: int) -> float | int:
    """A value inside [min, max] (either may be missing), towards the middle."""
    low = bounds.get("min") if bounds else None
    high = bounds.get("max") if bounds else None
    low = spec.min if low is None else low
    high = spec.max if high is None else high
    if low is None and high is None:
        value = 1.0
    elif low is None:
        value = high
    elif high is None:
        value = low
    else:
        value = low + (high - low) * 0.5
    if decimals == 0:
        rounded = math.floor(value) if high is not None else math.ceil(value)
        if low is not None and rounded < low:
            rounded = math.ceil(low)
        return rounded
    return round(value, decimals)


def check_sessions(count: int, *, seed: int = 1) -> tuple[int, Counter[str]]:
    """Judge `count` random active sessions again with the booking rules, each excluding itself
    (what the booking service would say if it were booked now): (sessions judged, problems)."""
    from treatments.engine.booking_rules import judge_booking
    from treatments.selectors.booking_facts import booking_facts

    ids = list(Appointment.objects.active().values_list("pk", flat=True))
    picked = random.Random(seed).sample(ids, k=min(count, len(ids)))
    problems: Counter[str] = Counter()
    sessions = (
        Appointment.objects.filter(pk__in=picked)
        .select_related("patient", "treatment", "practitioner__user", "room", "plan")
        .prefetch_related("areas", "devices")
    )
    for session in sessions:
        facts = booking_facts(
            patient=session.patient,
            treatment=session.treatment,
            areas=list(session.areas.all()),
            practitioner=session.practitioner,
            start=session.starts_at,
            room=session.room,
            devices=list(session.devices.all()),
            plan=session.plan,
            exclude=session.pk,
        )
        judgement = judge_booking(facts, is_clinician=True)
        for problem in judgement.problems:
            problems[re.sub(r"\d+", "N", problem.message)[:90]] += 1
        if judgement.taken is not None:
            problems[f"taken: {judgement.taken.resource}"] += 1
    return len(picked), problems


def build_scale(options: ScaleOptions, *, out: Callable[[str], None] = print) -> ScaleReport:
    return ScaleBuilder(options, out=out).build()


def existing_patients() -> int:
    return Patient.objects.count()


def describe(report: ScaleReport) -> Iterable[str]:
    for label, value in report.counts.items():
        yield f"  {label}: {value:,}" if isinstance(value, int) else f"  {label}: {value}"
    for note in report.notes[:10]:
        yield f"  note: {note}"
    if len(report.notes) > 10:
        yield f"  ({len(report.notes) - 10} more notes)"
