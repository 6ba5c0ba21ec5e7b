"""Every look at a patient's data is logged: who, when, what (ids only) and from where (issue 13)."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse

from clinic.models import AccessLogEntry
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_clinician_opening_a_patient_page_is_logged_with_ids_and_address(clinician_client, clinician_user):
    patient = factories.PatientFactory()
    response = clinician_client.get(reverse("patients:detail", args=[patient.pk]), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    entry = AccessLogEntry.objects.get()
    assert (entry.user_id, entry.username, entry.patient_id, entry.kind, entry.object_id) == (
        clinician_user.pk,
        clinician_user.username,
        patient.pk,
        "patient",
        str(patient.pk),
    )
    assert entry.ip_address == "10.1.2.3" and entry.view_name == "patients:detail"


def test_the_history_page_is_logged(clinician_client):
    patient = factories.PatientFactory()
    clinician_client.get(reverse("patients:history", args=[patient.pk]))
    assert AccessLogEntry.objects.filter(patient_id=patient.pk, kind="history").count() == 1


def test_a_refused_look_writes_nothing(front_desk_client):
    patient = factories.PatientFactory()
    assert front_desk_client.get(reverse("patients:history", args=[patient.pk])).status_code == 403
    assert front_desk_client.get(reverse("patients:detail", args=[patient.pk + 999])).status_code == 404
    assert not AccessLogEntry.objects.exists()


def test_a_write_is_not_an_access_log_entry(clinician_client):
    patient = factories.PatientFactory()
    clinician_client.post(reverse("patients:archive", args=[patient.pk]))
    assert not AccessLogEntry.objects.exists()


def test_an_api_patient_search_logs_each_patient_shown(front_desk_client, front_desk_user):
    shown = [factories.PatientFactory(last_name="Okafor"), factories.PatientFactory(last_name="Okafor")]
    factories.PatientFactory(last_name="Someone")
    response = front_desk_client.get("/api/patients/", {"search": "Okafor"})
    assert response.status_code == 200
    entries = AccessLogEntry.objects.filter(kind="api")
    assert sorted(e.patient_id for e in entries) == sorted(p.pk for p in shown)
    assert {e.username for e in entries} == {front_desk_user.username}


def test_a_list_of_many_patients_logs_one_complete_row_each(front_desk_client, front_desk_user):
    doctor = factories.make_practitioner(factories.make_location())
    day = date(2027, 1, 4)
    sessions = [
        factories.make_session(
            practitioner=doctor, start=datetime.combine(day, time(hour), tzinfo=ZoneInfo("America/New_York"))
        )
        for hour in (9, 11, 13)
    ]
    response = front_desk_client.get("/api/sessions/", {"date": day.isoformat()}, REMOTE_ADDR="10.9.8.7")
    assert response.status_code == 200 and len(response.json()) == 3
    entries = list(AccessLogEntry.objects.order_by("patient_id"))
    assert [e.patient_id for e in entries] == sorted(s.patient_id for s in sessions)
    for entry in entries:
        assert (entry.user_id, entry.username, entry.kind, entry.view_name, entry.ip_address) == (
            front_desk_user.pk,
            front_desk_user.username,
            "api",
            "api-sessions",
            "10.9.8.7",
        )
        assert entry.object_id == "/api/sessions/" and entry.at is not None


@pytest.mark.postgres
def test_the_database_refuses_to_change_or_delete_an_entry(clinician_client):
    patient = factories.PatientFactory()
    clinician_client.get(reverse("patients:detail", args=[patient.pk]))
    entry = AccessLogEntry.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entry.pk).update(username="someone-else")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entry.pk).delete()
    assert AccessLogEntry.objects.get().username == entry.username


def test_clinic_admins_read_the_log_in_the_admin_but_cannot_edit_it(clinic_admin_client, clinician_user):
    patient = factories.PatientFactory()
    clinician = Client()
    clinician.force_login(clinician_user)
    clinician.get(reverse("patients:detail", args=[patient.pk]))
    entry = AccessLogEntry.objects.get()
    changelist = reverse("admin:clinic_accesslogentry_changelist")
    page = clinic_admin_client.get(changelist, {"q": str(patient.pk)})
    assert page.status_code == 200
    assert "Access log" in page.content.decode()
    assert clinic_admin_client.get(reverse("admin:clinic_accesslogentry_add")).status_code == 403
    assert (
        clinic_admin_client.get(reverse("admin:clinic_accesslogentry_delete", args=[entry.pk])).status_code
        == 403
    )
    detail = clinic_admin_client.get(reverse("admin:clinic_accesslogentry_change", args=[entry.pk]))
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
