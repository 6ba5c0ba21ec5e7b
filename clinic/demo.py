"""Demo data for trying the app locally: a user per role, a clinic with rooms, devices and
practitioners, and a dozen patients with concerns and history."""

from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK
from patients.models import BodyArea, Concern, ConditionRecord, MedicalCondition, Patient, SkinConcern
from treatments.models import (
    Appointment,
    Device,
    Location,
    OpeningHours,
    Practitioner,
    ResourceType,
    Room,
    Treatment,
    WorkingHours,
)

DEMO_USERS = [
    # username, role, first name, last name, staff (may open the Django admin)
    ("clinician", CLINICIAN, "Dana", "Lee", False),
    ("clinician2", CLINICIAN, "Sam", "Okafor", False),
    ("frontdesk", FRONT_DESK, "Robin", "Meyer", False),
    ("clinicadmin", CLINIC_ADMIN, "Alex", "Novak", True),
]

# first, last, born, sex, skin type, concerns [(slug, areas, severity)], conditions [(slug, areas, since, until)]
DEMO_PATIENTS = [
    (
        "Maya",
        "Ortiz",
        date(1996, 4, 2),
        "female",
        2,
        [("acne_scars_atrophic", ["cheeks", "forehead"], "moderate")],
        [],
    ),
    (
        "Liam",
        "Chen",
        date(1990, 9, 14),
        "male",
        3,
        [("acne_scars_atrophic", ["cheeks"], "severe")],
        [("keloid_tendency", [], None, None)],
    ),
    ("Aisha", "Bello", date(1988, 1, 30), "female", 5, [("photodamage", ["face"], "mild")], []),
    (
        "Noah",
        "Schmidt",
        date(1999, 6, 5),
        "male",
        2,
        [("acne_scars_atrophic", ["cheeks"], "moderate")],
        [("isotretinoin", [], -300, -90)],
    ),
    (
        "Sofia",
        "Rossi",
        date(1985, 11, 11),
        "female",
        3,
        [("melasma", ["cheeks", "forehead"], "moderate")],
        [("herpes_simplex_history", [], None, None)],
    ),
    ("Omar", "Haddad", date(1979, 3, 23), "male", 4, [("androgenetic_alopecia", ["scalp"], "moderate")], []),
    (
        "Grace",
        "Kim",
        date(1992, 7, 19),
        "female",
        2,
        [("fine_lines_wrinkles", ["periorbital", "forehead"], "mild")],
        [("botulinum_toxin", ["forehead"], -5, None)],
    ),
    (
        "Lucas",
        "Martin",
        date(2001, 2, 8),
        "male",
        3,
        [("active_acne", ["chin_jaw"], "moderate"), ("acne_scars_atrophic", ["cheeks"], "mild")],
        [("active_acne", ["chin_jaw"], -30, None)],
    ),
    ("Emma", "Johansson", date(1983, 12, 1), "female", 1, [("striae", ["abdomen"], "moderate")], []),
    (
        "Priya",
        "Nair",
        date(1994, 5, 27),
        "female",
        4,
        [("hyperpigmentation_pih", ["cheeks"], "moderate")],
        [("anticoagulant", [], -400, None)],
    ),
    (
        "Jonas",
        "Weber",
        date(1975, 8, 16),
        "male",
        2,
        [("scar_surgical_traumatic", ["chin_jaw"], "moderate")],
        [],
    ),
    (
        "Chloe",
        "Dubois",
        date(1997, 10, 3),
        "female",
        3,
        [("texture", ["face"], "mild"), ("enlarged_pores", ["nose"], "mild")],
        [("pregnancy", [], -60, None)],
    ),
]


def create_demo_users(*, password):
    User = get_user_model()
    users = {}
    for username, role, first, last, staff in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@clinic.example",
                "is_staff": staff,
            },
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=role))
        users[username] = user
    return users


def create_demo_clinic(users):
    location, _ = Location.objects.get_or_create(
        name="Main clinic", defaults={"address": "1 Demo Street", "phone": "+1 212 555 0199"}
    )
    if not location.opening_hours.exists():
        OpeningHours.objects.bulk_create(
            [OpeningHours(location=location, weekday=d, starts=time(9), ends=time(18)) for d in range(5)]
            + [OpeningHours(location=location, weekday=5, starts=time(9), ends=time(13))]
        )
    kinds = {
        slug: ResourceType.objects.get_or_create(slug=slug, defaults={"name": name, "kind": kind})[0]
        for slug, name, kind in [
            ("treatment_room", "Treatment room", "room"),
            ("microneedling_pen", "Microneedling pen", "device"),
            ("centrifuge", "Centrifuge", "device"),
        ]
    }
    for name in ("Room 1", "Room 2", "Room 3"):
        Room.objects.get_or_create(location=location, name=name, defaults={"kind": kinds["treatment_room"]})
    for name, kind in (
        ("Pen A", "microneedling_pen"),
        ("Pen B", "microneedling_pen"),
        ("Centrifuge", "centrifuge"),
    ):
        Device.objects.get_or_create(location=location, name=name, defaults={"kind": kinds[kind]})
    all_treatments = list(Treatment.objects.all())
    for username in ("clinician", "clinician2"):
        practitioner, created = Practitioner.objects.get_or_create(user=users[username])
        if created:
            practitioner.treatments.set(
                [t for t in all_treatments if username == "clinician" or t.slug != "peel_tca_medium"]
            )
            WorkingHours.objects.bulk_create(
                [
                    WorkingHours(
                        practitioner=practitioner, location=location, weekday=d, starts=time(9), ends=time(17)
                    )
                    for d in range(5)
                ]
            )
    return location


def _day(offset, today):
    return today + timedelta(days=offset) if isinstance(offset, int) else offset


def create_demo_patients(*, today, by):
    areas = {a.slug: a for a in BodyArea.objects.all()}
    concerns = {c.slug: c for c in SkinConcern.objects.all()}
    conditions = {c.slug: c for c in MedicalCondition.objects.all()}
    for number, (first, last, born, sex, skin, concern_rows, condition_rows) in enumerate(
        DEMO_PATIENTS, start=1
    ):
        patient, created = Patient.objects.get_or_create(
            first_name=first,
            last_name=last,
            date_of_birth=born,
            defaults={
                "sex": sex,
                "fitzpatrick": skin,
                "phone": f"+1 212 555 {number:04d}",
                "email": f"{first}.{last}@example.com".lower(),
                "created_by": by,
            },
        )
        if not created:
            continue
        for slug, area_slugs, severity in concern_rows:
            item = Concern.objects.create(
                patient=patient, concern=concerns[slug], severity=severity, recorded_by=by
            )
            item.areas.set([areas[a] for a in area_slugs])
        for slug, area_slugs, since, until in condition_rows:
            record = ConditionRecord.objects.create(
                patient=patient,
                condition=conditions[slug],
                since=_day(since, today) if since is not None else None,
                until=_day(until, today) if until is not None else None,
                recorded_by=by,
            )
            record.areas.set([areas[a] for a in area_slugs])


# (patient last name, treatment, areas, days from today, hour)
DEMO_SESSIONS = [
    ("Ortiz", "mn", ["cheeks"], 1, 10),
    ("Haddad", "prp_scalp", ["scalp"], 1, 14),
    ("Johansson", "mn", ["abdomen"], 2, 11),
    ("Weber", "mn", ["chin_jaw"], 3, 9),
]


def create_demo_sessions(*, today, by):
    """A few booked sessions on the next working days, so the calendar is not empty."""
    from treatments.selectors.availability import clinic_zone
    from treatments.services import booking

    if Appointment.objects.exists():
        return
    practitioner = Practitioner.objects.get(user__username="clinician")
    for last_name, slug, area_slugs, offset, hour in DEMO_SESSIONS:
        day = today + timedelta(days=offset)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        request = booking.BookingRequest(
            patient=Patient.objects.get(last_name=last_name),
            treatment=Treatment.objects.get(slug=slug),
            areas=list(BodyArea.objects.filter(slug__in=area_slugs)),
            practitioner=practitioner,
            start=datetime.combine(day, time(hour), tzinfo=clinic_zone()),
        )
        try:
            booking.session_book(request=request, by=by)
        except (booking.Conflict, ValidationError):
            continue  # the demo catalog or hours were edited: skip rather than fail the demo
    _session_today(practitioner, by=by)


def _session_today(practitioner, *, by):
    """Microneedling with PRP today at 16:00, consent on file, so a clinician can log a session.
    Created directly: the demo may be loaded on a closed day or after hours."""
    from patients.models import PatientConsent
    from treatments.selectors.availability import clinic_zone

    patient = Patient.objects.get(last_name="Ortiz")
    treatment = Treatment.objects.get(slug="mn_prp")
    if treatment.consent_form_id:
        PatientConsent.objects.get_or_create(
            patient=patient,
            form=treatment.consent_form,
            defaults={"treatment": treatment.slug, "signed_on": timezone.localdate(), "recorded_by": by},
        )
    start = datetime.combine(timezone.localdate(), time(16), tzinfo=clinic_zone())
    session = Appointment.objects.create(
        patient=patient,
        treatment=treatment,
        practitioner=practitioner,
        location=practitioner.working_hours.first().location,
        starts_at=start,
        ends_at=start + timedelta(minutes=treatment.duration_minutes),
        blocked_until=start + timedelta(minutes=treatment.duration_minutes + treatment.buffer_minutes),
        booked_by=by,
    )
    session.areas.set(BodyArea.objects.filter(slug__in=["cheeks", "forehead"]))


# The patient who tries the portal: her plan waits for her to sign it there, then to book it.
PORTAL_PATIENT = ("Aisha", "Bello")


def create_demo_plan(*, today, by):
    """The plan the engine suggests for PORTAL_PATIENT, accepted as the plan builder offers it and
    sent to her to sign in the portal. None when she has a plan already or nothing is offered."""
    from treatments.engine.plan_choices import default_choices
    from treatments.models import Plan
    from treatments.selectors.plan_suggestions import current_catalog, suggest_for_patient
    from treatments.services import plans

    first, last = PORTAL_PATIENT
    patient = Patient.objects.get(first_name=first, last_name=last)
    if Plan.objects.filter(patient=patient).exists():
        return None
    catalog = current_catalog()
    found = suggest_for_patient(patient, today=today, catalog=catalog)
    if found.suggestion is None:
        return None
    try:
        return plans.plan_accept(
            patient=patient,
            today=today,
            profile=found.profile,
            suggestion=found.suggestion,
            choices=default_choices(found.suggestion),
            catalog=catalog,
            replaces=None,
            by=by,
            awaiting_consent=True,
        )
    except ValidationError:
        return None  # the demo catalog was edited so that nothing can be chosen: no plan
