from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from tests import factories
from tests.factories import PatientFactory
from treatments.engine import booking_rules
from treatments.models import Appointment
from treatments.selectors.booking_facts import booking_facts

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
MONDAY = date(2027, 1, 4)
TEN = datetime.combine(MONDAY, time(10), tzinfo=NY)


@pytest.fixture
def doctor():
    location = factories.make_location(open_days=range(6), rooms=3)
    user = factories.clinician(first_name="Ana", last_name="Reyes")
    return factories.make_practitioner(location, user=user, days=range(5))


def test_a_repeated_api_booking_answers_409_naming_the_session_already_booked(front_desk_client, doctor):
    patient = PatientFactory()
    body = {
        "patient": patient.pk,
        "treatment": "mn",
        "areas": ["cheeks"],
        "practitioner": doctor.pk,
        "start": TEN.isoformat(),
    }
    first = front_desk_client.post(reverse("api-sessions"), body, content_type="application/json")
    again = front_desk_client.post(reverse("api-sessions"), body, content_type="application/json")
    assert first.status_code == 201
    assert again.status_code == 409
    answer = again.json()
    assert answer["detail"].startswith("Already booked at that time")
    assert "Mon Jan 04 at 10:00" in answer["detail"] and "Ana Reyes" in answer["detail"]
    assert "days away" not in answer["detail"]
    assert answer["session"]["id"] == first.json()["id"]
    assert Appointment.objects.filter(patient=patient).count() == 1


def test_a_repeated_submit_of_the_booking_page_answers_409_already_booked(front_desk_client, doctor):
    patient = PatientFactory()
    posted = {
        "patient": patient.pk,
        "treatment": "mn",
        "areas": ["cheeks"],
        "day": MONDAY.isoformat(),
        "start": TEN.isoformat(),
        "slot_practitioner": doctor.pk,
    }
    first = front_desk_client.post(reverse("treatments:book_session"), posted)
    again = front_desk_client.post(reverse("treatments:book_session"), posted)
    assert first.status_code == 302
    assert again.status_code == 409
    html = again.content.decode()
    assert "Already booked at that time" in html and "Ana Reyes" in html and "10:00" in html
    assert "days away" not in html
    assert Appointment.objects.filter(patient=patient).count() == 1


def test_a_cancelled_session_does_not_count_as_already_booked(front_desk_client, doctor):
    patient = PatientFactory()
    body = {
        "patient": patient.pk,
        "treatment": "mn",
        "areas": ["cheeks"],
        "practitioner": doctor.pk,
        "start": TEN.isoformat(),
    }
    first = front_desk_client.post(reverse("api-sessions"), body, content_type="application/json").json()
    front_desk_client.post(
        reverse("api-session-cancel", args=[first["id"]]),
        {"reason": "Asked"},
        content_type="application/json",
    )
    again = front_desk_client.post(reverse("api-sessions"), body, content_type="application/json")
    assert again.status_code == 201


def test_the_same_patient_at_the_same_time_with_another_practitioner_is_a_conflict_not_an_interval(doctor):
    other = factories.make_practitioner(doctor.working_hours.first().location, days=range(5))
    booked = factories.make_session(practitioner=doctor, start=TEN)
    judged = booking_rules.judge_booking(
        booking_facts(
            patient=booked.patient,
            treatment=booked.treatment,
            areas=list(booked.areas.all()),
            practitioner=other,
            start=booked.starts_at,
        ),
        is_clinician=False,
    )
    assert judged.problems == ()
    assert judged.taken is not None and judged.taken.resource == "patient"
