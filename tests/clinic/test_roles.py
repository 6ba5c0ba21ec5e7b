import pytest
from django.contrib.auth.models import Group, Permission

from clinic.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK, ROLES, has_role, user_roles
from tests import factories

pytestmark = pytest.mark.django_db


def test_migrations_create_the_three_role_groups():
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == set(ROLES)


def test_user_roles_come_from_groups():
    user = factories.front_desk()
    assert user_roles(user) == {FRONT_DESK}
    assert has_role(user, FRONT_DESK, CLINICIAN)
    assert not has_role(user, CLINICIAN)


def test_superuser_holds_every_role():
    user = factories.UserFactory(is_superuser=True, is_staff=True)
    assert user_roles(user) == set(ROLES)


def test_user_without_group_has_no_role():
    assert user_roles(factories.UserFactory()) == frozenset()


def test_clinic_admin_group_may_edit_the_catalog_in_the_admin():
    group = Group.objects.get(name=CLINIC_ADMIN)
    codenames = set(group.permissions.values_list("codename", flat=True))
    expected = set(
        Permission.objects.filter(
            content_type__app_label="treatments", codename__endswith="_treatment"
        ).values_list("codename", flat=True)
    )
    assert expected <= codenames
