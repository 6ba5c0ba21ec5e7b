"""Who may open what: a patient reaches their own portal pages and nothing of the staff's (issue 17)."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from clinic.models import AccessLogEntry
from patients.models import PortalAccount
from tests import factories
from tests.clinic.test_permission_matrix import app_patterns, documented, outcome, url_for
from tests.portal.helpers import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient():
    return factories.PatientFactory(date_of_birth=date(1985, 6, 1))


@pytest.mark.django_db(transaction=True)
def test_a_patient_gets_what_an_account_without_a_role_gets_on_every_staff_url(world, mailoutbox):
    """Every URL of docs/permissions.md but the portal's, against real objects: the patient is refused
    wherever an account without a clinic role is (403 on pages, 403 from the API)."""
    from patients.models import Patient

    client = Client(raise_request_exception=False)
    sign_in(client, Patient.objects.get(pk=world["patient"]), mailoutbox)
    table = documented()
    wrong, refused = [], 0
    for name, _ in app_patterns():
        if name.startswith("portal:") or name == "dashboard":
            continue  # the dashboard sends a patient to the portal (below)
        expected = table[name]["no role"]
        got = outcome(client.get(url_for(name, world)))
        if got != expected:
            wrong.append(f"{name}: {got}, an account without a role gets {expected}")
        refused += got == "403"
    assert not wrong, "\n".join(wrong)
    assert refused > 40  # the staff pages and the API, not a walk that reached nothing


def test_a_patient_is_sent_from_the_dashboard_to_the_portal_and_refused_by_staff_pages_and_the_api(
    patient_client, patient
):
    session = factories.make_session(patient=patient)
    assert patient_client.get(reverse("dashboard"))["Location"] == reverse("portal:home")
    for url in (
        reverse("patients:list"),
        reverse("patients:detail", args=[patient.pk]),
        reverse("treatments:session", args=[session.pk]),
        reverse("treatments:calendar_week"),
    ):
        assert patient_client.get(url).status_code == 403, url
    for url in ("/api/patients/", f"/api/sessions/{session.pk}/", "/api/schema/"):
        assert patient_client.get(url).status_code == 403, url
    assert patient_client.post("/api/plans/suggest/", {}, content_type="application/json").status_code == 403
    assert not AccessLogEntry.objects.exclude(kind="portal").exists()


def test_another_patients_session_is_a_404(patient_client, patient, practitioner):
    own = factories.make_session(patient=patient, practitioner=practitioner)
    other = factories.make_session(practitioner=practitioner, start=own.starts_at + timedelta(hours=2))
    assert patient_client.get(reverse("portal:session", args=[own.pk])).status_code == 200
    response = patient_client.get(reverse("portal:session", args=[other.pk]))
    assert response.status_code == 404
    assert other.patient.first_name not in response.content.decode()
    assert patient_client.get(reverse("portal:session", args=[999_999_999])).status_code == 404


def test_staff_get_404_for_any_portal_session_and_are_sent_to_the_sign_in_from_the_home(
    clinician_client, front_desk_client
):
    session = factories.make_session()
    for client in (clinician_client, front_desk_client):
        assert client.get(reverse("portal:session", args=[session.pk])).status_code == 404
        home = client.get(reverse("portal:home"))
        assert home.status_code == 302 and home["Location"] == reverse("portal:start")


def test_anonymous_visitors_are_sent_to_the_portal_sign_in(client):
    session = factories.make_session()
    for url in (reverse("portal:home"), reverse("portal:session", args=[session.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("portal:start")
    assert client.post(reverse("portal:logout"))["Location"] == reverse("portal:start")
    assert client.get(reverse("portal:start")).status_code == 200


def test_an_archived_patient_is_signed_out_of_the_portal(patient_client, patient):
    type(patient).objects.filter(pk=patient.pk).update(archived_at="2026-01-01T00:00Z")
    response = patient_client.get(reverse("portal:home"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:start")


def test_a_patient_account_holds_no_clinic_role(patient_client, patient):
    from clinic.roles import PATIENT, ROLES, user_roles

    user = PortalAccount.objects.get(patient=patient).user
    assert PATIENT not in ROLES and user_roles(user) == frozenset()


def test_portal_pages_hold_to_the_content_security_policy(patient_client, patient):
    factories.make_session(patient=patient)
    for url in (reverse("portal:home"), reverse("portal:start")):
        response = patient_client.get(url)
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        page = response.content.decode()
        assert "<script>" not in page and " style=" not in page and "<style" not in page
        assert " on" + "click=" not in page
