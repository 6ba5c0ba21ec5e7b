"""The waitlist pages as the front desk uses them."""

from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.factories import PatientFactory, make_accepted_plan
from tests.scheduling.test_waitlist import DAY, at
from treatments.models import Appointment, WaitlistEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def freed():
    location = factories.make_location()
    doctor = factories.make_practitioner(location)
    session = factories.make_session(practitioner=doctor, start=at(DAY, 10))
    session.status = Appointment.Status.CANCELLED
    session.save()
    return session


def offers_url(session):
    query = {
        "practitioner": session.practitioner_id,
        "location": session.location_id,
        "start": session.starts_at.isoformat(),
        "until": session.blocked_until.isoformat(),
    }
    return f"{reverse('treatments:waitlist_offers')}?{urlencode(query)}"


def test_the_desk_adds_a_plan_visit_and_sees_it_on_the_list(front_desk_client):
    patient = PatientFactory(first_name="Wanda", last_name="Waits")
    plan = make_accepted_plan(patient, start=DAY, sessions=2)
    visit = plan.planned_sessions.get(visit=1)
    url = reverse("treatments:waitlist_add", kwargs={"pk": patient.pk})
    page = front_desk_client.get(url)
    assert page.status_code == 200 and f"Visit 1: {visit.treatment.name} #1" in page.content.decode()
    response = front_desk_client.post(url, {"planned_session": visit.pk})
    assert response.status_code == 302
    listed = front_desk_client.get(reverse("treatments:waitlist")).content.decode()
    assert "Wanda Waits" in listed and "(plan visit 1)" in listed


def test_a_treatment_without_its_dates_is_refused_on_the_form_keeping_the_input(front_desk_client):
    patient = PatientFactory()
    url = reverse("treatments:waitlist_add", kwargs={"pk": patient.pk})
    mn = factories.treatment("mn")
    response = front_desk_client.post(url, {"treatment": mn.pk, "earliest": DAY.isoformat()})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Choose at least one area." in body and "Give the last day the patient could come." in body
    assert f'value="{DAY.isoformat()}"' in body
    assert not WaitlistEntry.objects.exists()


def test_a_freed_slot_offers_the_waiting_patient_and_books_in_one_click(front_desk_client, freed):
    patient = PatientFactory(first_name="Olga", last_name="Offered")
    plan = make_accepted_plan(patient, start=DAY, sessions=2)
    front_desk_client.post(
        reverse("treatments:waitlist_add", kwargs={"pk": patient.pk}),
        {"planned_session": plan.planned_sessions.get(visit=1).pk},
    )
    fragment = front_desk_client.get(offers_url(freed)).content.decode()
    assert "Olga Offered" in fragment and "Book 10:00" in fragment
    entry = WaitlistEntry.objects.get()
    response = front_desk_client.post(
        reverse("treatments:waitlist_book", kwargs={"entry_pk": entry.pk}),
        {"practitioner": freed.practitioner_id, "start": freed.starts_at.isoformat()},
    )
    booked = Appointment.objects.get(patient=patient)
    assert response.status_code == 302 and response["Location"] == reverse(
        "treatments:session", kwargs={"pk": booked.pk}
    )
    assert booked.starts_at == freed.starts_at and booked.planned_session.visit == 1
    assert "Olga Offered" not in front_desk_client.get(offers_url(freed)).content.decode()


def test_a_refused_one_click_booking_says_why_where_the_desk_acted(front_desk_client, freed):
    entry_patient = PatientFactory()
    plan = make_accepted_plan(entry_patient, start=DAY, sessions=2)
    front_desk_client.post(
        reverse("treatments:waitlist_add", kwargs={"pk": entry_patient.pk}),
        {"planned_session": plan.planned_sessions.get(visit=1).pk},
    )
    entry = WaitlistEntry.objects.get()
    factories.make_session(practitioner=freed.practitioner, start=freed.starts_at)  # taken meanwhile
    back = reverse("treatments:session", kwargs={"pk": freed.pk})
    response = front_desk_client.post(
        reverse("treatments:waitlist_book", kwargs={"entry_pk": entry.pk}),
        {"practitioner": freed.practitioner_id, "start": freed.starts_at.isoformat(), "next": back},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == back
    assert "already booked at that time" in response.content.decode()
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WAITING


def test_an_unreadable_slot_is_a_400(front_desk_client):
    response = front_desk_client.get(reverse("treatments:waitlist_offers") + "?start=yesterday")
    assert response.status_code == 400


def test_the_desk_removes_an_entry(front_desk_client):
    patient = PatientFactory()
    plan = make_accepted_plan(patient, start=DAY, sessions=2)
    front_desk_client.post(
        reverse("treatments:waitlist_add", kwargs={"pk": patient.pk}),
        {"planned_session": plan.planned_sessions.get(visit=1).pk},
    )
    entry = WaitlistEntry.objects.get()
    front_desk_client.post(reverse("treatments:waitlist_remove", kwargs={"entry_pk": entry.pk}))
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.REMOVED
    assert timezone.localdate() <= entry.earliest


def _waiting_for_visit_one(client, start=DAY):
    patient = PatientFactory(first_name="Petra", last_name="Patient")
    plan = make_accepted_plan(patient, start=start, sessions=2)
    client.post(
        reverse("treatments:waitlist_add", kwargs={"pk": patient.pk}),
        {"planned_session": plan.planned_sessions.get(visit=1).pk},
    )
    return patient


def test_a_cancelled_session_panel_offers_its_time_to_the_waiting_patient(front_desk_client, freed):
    _waiting_for_visit_one(front_desk_client)
    body = front_desk_client.get(reverse("treatments:session", kwargs={"pk": freed.pk})).content.decode()
    assert "Waiting patients for this time" in body and "Petra Patient" in body


def test_a_move_offers_the_time_it_gave_back(front_desk_client):
    location = factories.make_location()
    doctor = factories.make_practitioner(location)
    session = factories.make_session(practitioner=doctor, start=at(DAY, 10))
    _waiting_for_visit_one(front_desk_client)
    response = front_desk_client.post(
        reverse("treatments:session_move", kwargs={"pk": session.pk}),
        {"day": DAY.isoformat(), "time": "15:00", "practitioner": doctor.pk},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200, body
    assert "Session moved" in body and "Petra Patient" in body and "Book 10:00" in body
