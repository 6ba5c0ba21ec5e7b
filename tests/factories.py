import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from clinic.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@clinic.test")
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            for role in extracted:
                self.groups.add(Group.objects.get_or_create(name=role)[0])


def clinician(**kwargs):
    return UserFactory(roles=[CLINICIAN], **kwargs)


def front_desk(**kwargs):
    return UserFactory(roles=[FRONT_DESK], **kwargs)


def clinic_admin(**kwargs):
    return UserFactory(roles=[CLINIC_ADMIN], is_staff=True, **kwargs)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "patients.Patient"

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    # Adults on every date the tests use, the past ones included (some stop the clock in early 2026).
    date_of_birth = factory.Faker("date_of_birth", minimum_age=20, maximum_age=80)
    sex = "female"
    phone = factory.Sequence(lambda n: f"+1 212 555 {n % 10000:04d}")
    # Numbered: Faker repeats common names, and tests count messages by address.
    email = factory.LazyAttributeSequence(
        lambda p, n: f"{p.first_name}.{p.last_name}.{n}@example.com".lower()
    )
    fitzpatrick = 2


def condition(slug):
    from patients.models import MedicalCondition

    return MedicalCondition.objects.get(slug=slug)


def skin_concern(slug):
    from patients.models import SkinConcern

    return SkinConcern.objects.get(slug=slug)


def areas(*slugs):
    from patients.models import BodyArea

    return list(BodyArea.objects.filter(slug__in=slugs))


class ConditionRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "patients.ConditionRecord"
        skip_postgeneration_save = True

    patient = factory.SubFactory(PatientFactory)
    condition = factory.LazyFunction(lambda: condition("rosacea"))
    since = None
    until = None

    @factory.post_generation
    def areas(self, create, extracted, **kwargs):
        if create and extracted:
            self.areas.set(areas(*extracted))


class ConcernFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "patients.Concern"
        skip_postgeneration_save = True

    patient = factory.SubFactory(PatientFactory)
    concern = factory.LazyFunction(lambda: skin_concern("acne_scars_atrophic"))
    severity = "moderate"

    @factory.post_generation
    def areas(self, create, extracted, **kwargs):
        if create:
            self.areas.set(areas(*(extracted or ["cheeks"])))


def treatment(slug):
    from treatments.models import Treatment

    return Treatment.objects.get(slug=slug)


def group(slug):
    from treatments.models import TreatmentGroup

    return TreatmentGroup.objects.get(slug=slug)


class ContraindicationRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "treatments.ContraindicationRule"
        django_get_or_create = ("condition", "treatment", "group", "timing")

    condition = factory.LazyFunction(lambda: condition("botulinum_toxin"))
    treatment = None
    group = factory.LazyFunction(lambda: group("superficial_peels"))
    severity = "relative"
    timing = "after_event"
    window_days = 14
    area_limited = True
    text = "Wait two weeks after toxin in the area."
    evidence = "C"


class ProtocolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "treatments.Protocol"
        django_get_or_create = ("concern", "treatment")
        skip_postgeneration_save = True

    concern = factory.LazyFunction(lambda: skin_concern("acne_scars_atrophic"))
    treatment = factory.LazyFunction(lambda: treatment("mn"))
    sessions_min, sessions_default, sessions_max = 3, 4, 6
    interval_min_days, interval_typical_days, interval_max_days = 14, 28, 56
    fitzpatrick = [1, 2, 3, 4, 5, 6]
    evidence = "A"

    @factory.post_generation
    def areas(self, create, extracted, **kwargs):
        if create:
            self.areas.set(areas(*(extracted or ["face"])))


def make_location(*, open_days=range(7), opens=9, closes=18, rooms=2, pens=2, centrifuges=1, name="Clinic"):
    """A location open `open_days` (0 = Monday), with treatment rooms, pens and centrifuges."""
    from datetime import time

    from treatments.models import Device, Location, OpeningHours, ResourceType, Room

    location = Location.objects.create(name=name)
    OpeningHours.objects.bulk_create(
        OpeningHours(location=location, weekday=d, starts=time(opens), ends=time(closes)) for d in open_days
    )
    kinds = {r.slug: r for r in ResourceType.objects.all()}
    for n in range(rooms):
        Room.objects.create(location=location, name=f"Room {n + 1}", kind=kinds["treatment_room"])
    for n in range(pens):
        Device.objects.create(location=location, name=f"Pen {n + 1}", kind=kinds["microneedling_pen"])
    for n in range(centrifuges):
        Device.objects.create(location=location, name=f"Centrifuge {n + 1}", kind=kinds["centrifuge"])
    return location


def make_practitioner(location, *, user=None, days=range(7), starts=9, ends=17, treatments=None):
    """A clinician working `days` at `location`, qualified for `treatments` (slugs; default all)."""
    from datetime import time

    from treatments.models import Practitioner, Treatment, WorkingHours

    practitioner = Practitioner.objects.create(user=user or clinician())
    qualified = (
        Treatment.objects.all() if treatments is None else Treatment.objects.filter(slug__in=treatments)
    )
    practitioner.treatments.set(qualified)
    WorkingHours.objects.bulk_create(
        WorkingHours(
            practitioner=practitioner, location=location, weekday=d, starts=time(starts), ends=time(ends)
        )
        for d in days
    )
    return practitioner


def make_accepted_plan(patient, *, start, sessions=3, treatment_slug="mn", interval=(14, 28, 56)):
    """An accepted plan of one treatment's series on the cheeks, sessions `interval[1]` days apart."""
    from datetime import timedelta

    from treatments.models import Plan, PlannedSession

    low, typical, high = interval
    treatment_row = treatment(treatment_slug)
    plan = Plan.objects.create(
        patient=patient,
        today=start,
        profile={},
        suggestion={},
        chosen={
            "items": [
                {
                    "concern": "acne_scars_atrophic",
                    "concern_areas": ["cheeks"],
                    "treatment": treatment_slug,
                    "areas": ["cheeks"],
                    "option": {
                        "treatment": treatment_slug,
                        "areas": ["cheeks"],
                        "rank": 1,
                        "status": "ok",
                        "earliest_start": start.isoformat(),
                        "until_resolved": [],
                        "sessions": {"min": 1, "max": sessions, "default": sessions},
                        "interval_days": {"min": low, "typical": typical, "max": high},
                        "settings": {},
                        "evidence": "A",
                        "flags": [],
                        "pre_care": [],
                        "aftercare": [],
                    },
                    "sessions": sessions,
                    "interval_days": {"min": low, "typical": typical, "max": high},
                    "depths": {},
                    "reason": "",
                    "acknowledged_flags": [],
                }
            ],
            "visits": [],
        },
        catalog_revision=1,
        catalog_rules={},
        accepted_by=clinician(),
    )
    for number in range(1, sessions + 1):
        first = start + timedelta(days=typical * (number - 1))
        planned = PlannedSession.objects.create(
            plan=plan,
            visit=number,
            treatment=treatment_row,
            session=number,
            earliest=first,
            latest=first if number == 1 else first + timedelta(days=high - typical),
        )
        planned.areas.set(areas("cheeks"))
    return plan


def sign_consent(patient, treatment_slug):
    """The patient's signed consent for the treatment's current form (if it needs one)."""
    from datetime import date

    from patients.models import PatientConsent

    form = treatment(treatment_slug).consent_form
    if form is not None:
        PatientConsent.objects.create(
            patient=patient,
            form=form,
            treatment=treatment_slug,
            signed_on=date(2026, 1, 1),
            recorded_by=clinician(),
        )


def make_session(
    *,
    patient=None,
    treatment_slug="mn",
    area_slugs=("cheeks",),
    practitioner=None,
    start=None,
    status="booked",
    plan=None,
    planned_session=None,
    consent=True,
):
    """A session booked directly (no booking rules), today in an hour unless `start` is given."""
    from datetime import timedelta

    from treatments.models import Appointment

    if practitioner is None:
        practitioner = make_practitioner(make_location(rooms=1, pens=1))
    location = practitioner.working_hours.first().location
    patient = patient or PatientFactory()
    if consent:
        sign_consent(patient, treatment_slug)
    start = start or _later_today()
    session = Appointment.objects.create(
        patient=patient,
        treatment=treatment(treatment_slug),
        practitioner=practitioner,
        location=location,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        blocked_until=start + timedelta(minutes=75),
        status=status,
        plan=plan,
        planned_session=planned_session,
    )
    session.areas.set(areas(*area_slugs))
    return session


def _later_today():
    """In an hour, or, late in the evening, half-way to midnight: still ahead and still today
    (a session's day-of screening is recorded only on its day)."""
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    now = timezone.localtime().replace(microsecond=0)
    midnight = datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=now.tzinfo)
    return min(now + timedelta(hours=1), now + (midnight - now) / 2).replace(microsecond=0)


def screen_clear(session, **answers):
    """The session screened by its practitioner: consent on file, photos taken, `answers` "yes"."""
    from treatments.selectors.session_context import session_context
    from treatments.services import recording

    return recording.session_screen(
        appointment=session,
        context=session_context(session),
        answers=answers,
        consent_confirmed=True,
        photos_taken=True,
        new_medications="",
        by=session.practitioner.user,
    )
