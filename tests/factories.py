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
