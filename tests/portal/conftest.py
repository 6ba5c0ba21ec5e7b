import pytest

from clinic import sms

# One of everything a URL can point at (the permission matrix's own), for the walk as a patient.
from tests.clinic.test_permission_matrix import world  # noqa: F401


@pytest.fixture(autouse=True)
def _portal_settings(settings):
    """Text messages into clinic.sms.outbox, and the rate-limit counters from zero for each test."""
    from django.core.cache import cache

    settings.SMS_BACKEND = "clinic.sms.LocmemBackend"
    settings.PORTAL_LINK_MINUTES = 15
    settings.PORTAL_SESSION_SECONDS = 1800
    sms.outbox.clear()
    cache.clear()
    yield
    sms.outbox.clear()
    cache.clear()


@pytest.fixture
def sms_outbox():
    return sms.outbox


@pytest.fixture
def practitioner(db):
    from tests import factories

    return factories.make_practitioner(factories.make_location(name="Portal clinic"))


@pytest.fixture
def patient_client(patient, mailoutbox):
    """A client signed in to the portal as the module's `patient` (each module makes its own)."""
    from django.test import Client

    from tests.portal.helpers import sign_in

    client = Client()
    sign_in(client, patient, mailoutbox)
    return client
