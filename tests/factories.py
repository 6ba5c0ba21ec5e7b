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
    date_of_birth = factory.Faker("date_of_birth", minimum_age=18, maximum_age=80)
    sex = "female"
    phone = factory.Sequence(lambda n: f"+1 212 555 {n % 10000:04d}")
    email = factory.LazyAttribute(lambda p: f"{p.first_name}.{p.last_name}@example.com".lower())
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
