"""The week view reads plain rows: what it prints, and a flat query count as the week fills."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.http import url_for_pk
from tests import factories
from tests.factories import PatientFactory
from tests.scheduling.helpers import at, next_monday
from treatments.models import Appointment

pytestmark = pytest.mark.django_db


@pytest.fixture
def doctor():
    location = factories.make_location(rooms=2)
    return factories.make_practitioner(
        location, user=factories.clinician(first_name="Rosa", last_name="Quist"), days=range(7)
    )


def week(client, day, **query):
    return client.get(reverse("treatments:calendar_week"), {"date": day.isoformat(), **query})


def test_url_for_pk_gives_what_reverse_gives():
    session_url = url_for_pk("treatments:session")
    for pk in (1, 42, 2_147_483_647, 10**12):
        assert session_url(pk) == reverse("treatments:session", args=[pk])
    assert url_for_pk("patients:detail")(7) == reverse("patients:detail", args=[7])


def test_the_week_prints_each_session_with_its_link_time_and_status(front_desk_client, doctor):
    monday = next_monday()
    ada = factories.make_session(
        practitioner=doctor,
        start=at(monday + timedelta(days=2), 9, 45),
        patient=PatientFactory(first_name="Ada", last_name="Byron"),
    )
    seen = factories.make_session(practitioner=doctor, start=at(monday, 16), status="no_show")
    gone = factories.make_session(
        practitioner=doctor,
        start=at(monday, 11),
        status="cancelled",
        patient=PatientFactory(last_name="Gone"),
    )
    html = week(front_desk_client, monday).content.decode()
    assert f'<a href="/sessions/{ada.pk}/">09:45 Ada Byron</a>' in html
    assert "Microneedling" in html and "Rosa Quist" in html
    assert f'href="/sessions/{seen.pk}/">16:00' in html and "No-show" in html
    assert "Gone" not in html and f"/sessions/{gone.pk}/" not in html
    wednesday = html.index("Wed ")
    assert wednesday < html.index("Ada Byron") and html.index(f"/sessions/{seen.pk}/") < wednesday


def test_the_week_filters_by_practitioner(front_desk_client, doctor):
    monday = next_monday()
    other = factories.make_practitioner(doctor.working_hours.first().location, days=range(7))
    mine = factories.make_session(practitioner=doctor, start=at(monday, 10))
    theirs = factories.make_session(practitioner=other, start=at(monday, 10))
    html = week(front_desk_client, monday, practitioner=other.pk).content.decode()
    assert f"/sessions/{theirs.pk}/" in html and f"/sessions/{mine.pk}/" not in html


def test_the_weeks_queries_do_not_grow_with_its_sessions(front_desk_client, doctor):
    monday = next_monday()
    location = doctor.working_hours.first().location
    mn = factories.treatment("mn")

    def fill(per_day):
        rows = []
        for offset in range(7):
            for index in range(per_day):
                start = at(monday + timedelta(days=offset), 8) + timedelta(minutes=20 * index)
                rows.append(
                    Appointment(
                        patient=PatientFactory(),
                        treatment=mn,
                        practitioner=factories.make_practitioner(location, days=range(7))
                        if index % 10 == 0
                        else doctor,
                        location=location,
                        starts_at=start,
                        ends_at=start + timedelta(minutes=15),
                        blocked_until=start + timedelta(minutes=20),
                    )
                )
        Appointment.objects.bulk_create(rows)

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = week(front_desk_client, monday)
        assert response.status_code == 200
        return len(queries), response.content.decode().count('class="calendar-session')

    fill(1)
    few, shown = count()
    fill(20)
    many, shown_after = count()
    assert (shown, shown_after) == (7, 147)
    assert many == few
