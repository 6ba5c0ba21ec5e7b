import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.models import Patient
from tests import factories
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

VALID = {
    "first_name": "Maya",
    "last_name": "Ortiz",
    "date_of_birth": "1992-07-15",
    "sex": "female",
    "phone": "+1 212 555 0142",
    "email": "maya@example.com",
    "notes": "Prefers mornings",
}


def test_front_desk_registers_a_patient(front_desk_client, front_desk_user):
    response = front_desk_client.post(reverse("patients:create"), VALID)
    patient = Patient.objects.get(last_name="Ortiz")
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:detail", args=[patient.pk])
    assert patient.created_by == front_desk_user
    assert patient.history.count() == 1


def test_invalid_registration_keeps_what_was_typed_and_writes_nothing(front_desk_client):
    response = front_desk_client.post(
        reverse("patients:create"), {**VALID, "email": "maya@", "date_of_birth": "15/15/1992"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter a valid email address" in body
    assert "Enter a valid date" in body
    assert 'value="Ortiz"' in body
    assert not Patient.objects.filter(last_name="Ortiz").exists()


def test_a_patient_needs_a_phone_or_an_email(front_desk_client):
    response = front_desk_client.post(reverse("patients:create"), {**VALID, "phone": "", "email": ""})
    assert "Give a phone number or an e-mail address" in response.content.decode()
    assert not Patient.objects.exists()


def test_registration_is_refused_to_users_without_a_patient_role(client):
    client.force_login(factories.clinic_admin())
    assert client.post(reverse("patients:create"), VALID).status_code == 403
    assert not Patient.objects.exists()


def test_anonymous_registration_redirects_to_login(client):
    response = client.post(reverse("patients:create"), VALID)
    assert response.status_code == 302
    assert not Patient.objects.exists()


def test_edit_saves_details_and_keeps_history(front_desk_client):
    patient = PatientFactory(last_name="Old")
    response = front_desk_client.post(
        reverse("patients:edit", args=[patient.pk]), {**VALID, "last_name": "New"}
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.last_name == "New"
    assert patient.history.count() == 2


def test_archive_and_restore_keep_the_patient(front_desk_client):
    patient = PatientFactory()
    url = reverse("patients:archive", args=[patient.pk])
    assert front_desk_client.get(url).status_code == 405
    front_desk_client.post(url)
    patient.refresh_from_db()
    assert patient.is_archived
    front_desk_client.post(url, {"restore": "1"})
    patient.refresh_from_db()
    assert not patient.is_archived


def test_list_searches_and_pages(front_desk_client):
    PatientFactory(first_name="Zora", last_name="Quill")
    PatientFactory.create_batch(30)
    response = front_desk_client.get(reverse("patients:list"), {"q": "quill"})
    assert "Quill" in response.content.decode()
    assert len(response.context["page"].object_list) == 1
    response = front_desk_client.get(reverse("patients:list"))
    assert len(response.context["page"].object_list) == 25
    assert "Page 1 of 2" in response.content.decode()


def test_list_hides_archived_patients_unless_asked(front_desk_client):
    PatientFactory(last_name="Gone", archived_at="2026-01-01T00:00:00Z")
    assert "Gone" not in front_desk_client.get(reverse("patients:list")).content.decode()
    assert "Gone" in front_desk_client.get(reverse("patients:list"), {"status": "archived"}).content.decode()


def _list_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("patients:list")).status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_patients(front_desk_client):
    practitioner = factories.clinician()
    PatientFactory.create_batch(3, preferred_practitioner=practitioner)
    few = _list_queries(front_desk_client)
    PatientFactory.create_batch(40, preferred_practitioner=practitioner)
    # session, user, user's roles, practitioner filter choices, count, page (with practitioner joined)
    assert _list_queries(front_desk_client) == few


def test_front_desk_sees_no_clinical_record(front_desk_client):
    record = factories.ConditionRecordFactory(notes="private clinical note")
    response = front_desk_client.get(reverse("patients:detail", args=[record.patient.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "private clinical note" not in body
    assert "Medical history" not in body


def test_clinician_sees_current_and_past_history(clinician_client):
    patient = PatientFactory()
    factories.ConditionRecordFactory(
        patient=patient, condition=factories.condition("rosacea"), notes="flaring"
    )
    factories.ConditionRecordFactory(
        patient=patient, condition=factories.condition("isotretinoin"), since="2025-01-01", until="2025-06-01"
    )
    response = clinician_client.get(reverse("patients:detail", args=[patient.pk]))
    ongoing = [r.condition.slug for r in response.context["ongoing"]]
    ended = [r.condition.slug for r in response.context["ended"]]
    assert ongoing == ["rosacea"]
    assert ended == ["isotretinoin"]


def test_unknown_patient_is_404(front_desk_client):
    assert front_desk_client.get(reverse("patients:detail", args=[999999])).status_code == 404
