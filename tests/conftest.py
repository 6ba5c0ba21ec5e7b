import pytest

from tests import factories


@pytest.fixture
def clinician_user(db):
    return factories.clinician(username="dr.lee")


@pytest.fixture
def front_desk_user(db):
    return factories.front_desk(username="desk")


@pytest.fixture
def admin_user_clinic(db):
    return factories.clinic_admin(username="catalog.admin")


@pytest.fixture
def clinician_client(client, clinician_user):
    client.force_login(clinician_user)
    return client


@pytest.fixture
def front_desk_client(client, front_desk_user):
    client.force_login(front_desk_user)
    return client


@pytest.fixture
def clinic_admin_client(client, admin_user_clinic):
    client.force_login(admin_user_clinic)
    return client
