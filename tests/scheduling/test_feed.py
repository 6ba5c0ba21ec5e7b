from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from tests import factories
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def make_session(location, doctor, *, days, status="booked", **patient):
    assert doctor.working_hours.first().location == location
    return factories.make_session(
        patient=PatientFactory(**patient),
        practitioner=doctor,
        start=timezone.now() + timedelta(days=days),
        status=status,
        area_slugs=(),
        consent=False,
    )


def test_the_feed_lists_sessions_with_initials_only(client):
    location = factories.make_location()
    doctor = factories.make_practitioner(location)
    make_session(location, doctor, days=2, first_name="Maria", last_name="Olsen")
    make_session(location, doctor, days=3, status="cancelled", first_name="Gone", last_name="Away")
    make_session(location, factories.make_practitioner(location), days=2, first_name="Other", last_name="Doc")
    response = client.get(reverse("treatments:practitioner_feed", args=[doctor.feed_token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert [str(e["summary"]) for e in events] == ["Microneedling · M.O."]
    body = response.content.decode()
    assert "Maria" not in body and "Olsen" not in body and "Gone" not in body


def test_a_wrong_token_is_a_404(client):
    assert client.get(reverse("treatments:practitioner_feed", args=["guess"])).status_code == 404


def test_a_clinician_sees_their_day_and_feed_address(client):
    location = factories.make_location()
    doctor = factories.make_practitioner(location)
    make_session(location, doctor, days=0, first_name="Today", last_name="Patient")
    client.force_login(doctor.user)
    html = client.get(reverse("dashboard")).content.decode()
    assert doctor.feed_token in html


def test_an_admin_renews_a_feed_address(client):
    location = factories.make_location()
    doctor = factories.make_practitioner(location)
    old = doctor.feed_token
    client.force_login(factories.clinic_admin())
    response = client.post(
        "/admin/treatments/practitioner/",
        {"action": "renew_feed_token", "_selected_action": [doctor.pk]},
    )
    assert response.status_code == 302
    doctor.refresh_from_db()
    assert doctor.feed_token != old
    assert client.get(reverse("treatments:practitioner_feed", args=[old])).status_code == 404
