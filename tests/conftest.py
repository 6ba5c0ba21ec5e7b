import pytest

# Factories import Django models, so they are imported inside fixtures: the pure-module tests
# (planning, scheduling) then also run without Django (`pytest -p no:django`).


@pytest.fixture
def clinician_user(db):
    from tests import factories

    return factories.clinician(username="dr.lee")


@pytest.fixture
def front_desk_user(db):
    from tests import factories

    return factories.front_desk(username="desk")


@pytest.fixture
def admin_user_clinic(db):
    from tests import factories

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


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # The seeded catalog is the product's own data: load it once; each test rolls back to it.
    from treatments.services.catalog_seeding import seed_catalog

    with django_db_blocker.unblock():
        seed_catalog()


@pytest.fixture
def catalog(transactional_db):
    # Transactional tests empty the database after each test, so the catalog is loaded again.
    from treatments.services.catalog_seeding import seed_catalog

    seed_catalog()


@pytest.fixture
def private_media(settings):
    # The root conftest gives every test a MEDIA_ROOT of its own, never the checkout's private_media.
    return settings.MEDIA_ROOT
