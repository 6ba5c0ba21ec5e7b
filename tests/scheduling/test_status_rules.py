"""When a session may change status: a no-show only once it has started, a check-in or a no-show
undone (back to booked) only on the session's day, and a no-show taken back only if its time is
still free."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.factories import PatientFactory
from tests.scheduling import helpers
from tests.scheduling.helpers import at
from treatments.models import Appointment
from treatments.services import booking

pytestmark = pytest.mark.django_db
# In the past: a stopped clock then never outruns a login made at the real time.
MONDAY = date(2026, 1, 5)


@pytest.fixture
def doctor():
    return factories.make_practitioner(factories.make_location(rooms=2), days=range(7))


@pytest.fixture
def desk():
    return factories.front_desk()


def book(doctor, start, *, treatment="mn", patient=None):
    patient = patient or PatientFactory(date_of_birth=date(1985, 5, 1))  # an adult on MONDAY too
    return helpers.book(doctor, start, patient, treatment=treatment)


def change(session, status, by, now):
    return booking.session_status_change(appointment=session, status=status, by=by, now=now)


def status_of(session):
    session.refresh_from_db()
    return session.status


def test_a_session_becomes_a_no_show_only_once_it_has_started(doctor, desk):
    session = book(doctor, at(MONDAY, 10))
    with pytest.raises(ValidationError) as refused:
        change(session, "no_show", desk, at(MONDAY, 9, 59))
    assert refused.value.message_dict["status"] == [
        "A session can be marked a no-show only once it has started (Mon Jan 05, 10:00)."
    ]
    assert status_of(session) == "booked"
    change(session, "no_show", desk, at(MONDAY, 10))
    assert status_of(session) == "no_show"


def test_a_checked_in_session_too_becomes_a_no_show_only_once_it_has_started(doctor, desk):
    session = book(doctor, at(MONDAY, 10))
    change(session, "checked_in", desk, at(MONDAY, 9))
    with pytest.raises(ValidationError):
        change(session, "no_show", desk, at(MONDAY, 9, 30))
    change(session, "no_show", desk, at(MONDAY, 10, 20))
    assert status_of(session) == "no_show"


def test_a_no_show_undone_on_its_day_holds_its_devices_again(doctor, desk):
    session = book(doctor, at(MONDAY, 10), treatment="mn_prp")
    change(session, "no_show", desk, at(MONDAY, 10, 20))
    assert not session.device_holds.filter(active=True).exists()
    change(session, "booked", desk, at(MONDAY, 23, 59))
    assert status_of(session) == "booked"
    assert session.device_holds.filter(active=True).count() == 2


@pytest.mark.parametrize(("status", "what"), [("no_show", "no-show"), ("checked_in", "check-in")])
def test_an_undo_after_the_sessions_day_is_refused(doctor, desk, status, what):
    session = book(doctor, at(MONDAY, 10))
    change(session, status, desk, at(MONDAY, 10, 30))
    with pytest.raises(ValidationError) as refused:
        change(session, "booked", desk, at(MONDAY + timedelta(days=1), 0, 0))
    assert refused.value.message_dict["status"] == [f"A {what} can be undone only on the session's day."]
    assert status_of(session) == status


def test_a_check_in_is_undone_on_its_day(doctor, desk):
    session = book(doctor, at(MONDAY, 10))
    change(session, "checked_in", desk, at(MONDAY, 9, 50))
    change(session, "booked", desk, at(MONDAY, 9, 55))
    assert status_of(session) == "booked"


def test_a_no_show_whose_time_was_given_away_cannot_be_taken_back(doctor, desk):
    session = book(doctor, at(MONDAY, 10))
    change(session, "no_show", desk, at(MONDAY, 10, 20))
    book(doctor, at(MONDAY, 10, 30))  # a walk-in takes the practitioner
    with pytest.raises(booking.Conflict) as refused:
        change(session, "booked", desk, at(MONDAY, 10, 40))
    assert refused.value.resource == "practitioner"
    assert status_of(session) == "no_show"


def test_cancelled_and_completed_sessions_are_never_taken_back(doctor, desk):
    cancelled = book(doctor, at(MONDAY, 10))
    booking.session_cancel(appointment=cancelled, reason="Flu", by=desk)
    with pytest.raises(ValidationError):
        change(cancelled, "booked", desk, at(MONDAY, 10, 30))
    assert status_of(cancelled) == "cancelled"


# The panel: which buttons it offers, and what a POST does, at a stopped clock.


def panel(client, session):
    return client.get(reverse("treatments:session", args=[session.pk]), HTTP_HX_REQUEST="true")


def post_status(client, session, status, **headers):
    return client.post(reverse("treatments:session_status", args=[session.pk]), {"status": status}, **headers)


def test_the_panel_offers_a_no_show_only_once_the_session_has_started(front_desk_client, doctor, clock):
    clock(at(MONDAY, 12))
    started = book(doctor, at(MONDAY, 11))
    later = book(doctor, at(MONDAY, 14))
    assert ">No-show</button>" in panel(front_desk_client, started).content.decode()
    html = panel(front_desk_client, later).content.decode()
    assert ">Check in</button>" in html and ">No-show</button>" not in html
    refused = post_status(front_desk_client, later, "no_show")
    assert refused.status_code == 400
    assert "only once it has started" in refused.content.decode()
    assert status_of(later) == "booked"


def test_a_no_show_is_undone_from_the_panel_on_its_day_only(front_desk_client, doctor, desk, clock):
    session = book(doctor, at(MONDAY, 10))
    change(session, "no_show", desk, at(MONDAY, 10, 20))
    clock(at(MONDAY, 10, 40))
    assert ">Undo no-show</button>" in panel(front_desk_client, session).content.decode()
    undone = post_status(front_desk_client, session, "booked", HTTP_HX_REQUEST="true")
    assert undone.status_code == 200
    assert status_of(session) == "booked"
    assert ">Check in</button>" in undone.content.decode()

    change(session, "no_show", desk, at(MONDAY, 10, 50))
    clock(at(MONDAY + timedelta(days=1), 8))
    assert "Undo no-show" not in panel(front_desk_client, session).content.decode()
    assert post_status(front_desk_client, session, "booked").status_code == 400
    assert status_of(session) == "no_show"


def test_a_check_in_is_undone_from_the_panel_on_its_day_only(front_desk_client, doctor, desk, clock):
    session = book(doctor, at(MONDAY, 10))
    change(session, "checked_in", desk, at(MONDAY, 9, 45))
    clock(at(MONDAY, 9, 50))
    assert ">Undo check-in</button>" in panel(front_desk_client, session).content.decode()
    clock(at(MONDAY + timedelta(days=1), 9))
    assert "Undo check-in" not in panel(front_desk_client, session).content.decode()
    assert post_status(front_desk_client, session, "booked").status_code == 400
    assert status_of(session) == "checked_in"


def test_taking_back_a_no_show_whose_time_is_taken_answers_409(front_desk_client, doctor, desk, clock):
    session = book(doctor, at(MONDAY, 10))
    change(session, "no_show", desk, at(MONDAY, 10, 20))
    book(doctor, at(MONDAY, 10, 30))
    clock(at(MONDAY, 10, 40))
    response = post_status(front_desk_client, session, "booked")
    assert response.status_code == 409
    assert "The practitioner is already booked at that time." in response.content.decode()
    assert status_of(session) == "no_show"


def test_changing_a_status_takes_a_post(front_desk_client, doctor):
    session = book(doctor, at(MONDAY, 10))
    response = front_desk_client.get(reverse("treatments:session_status", args=[session.pk]))
    assert response.status_code == 405


def test_anonymous_visitors_are_sent_to_log_in(client, doctor):
    session = book(doctor, at(MONDAY, 10))
    response = post_status(client, session, "checked_in")
    assert response.status_code == 302 and "login" in response["Location"]
    assert status_of(session) == "booked"


def test_a_user_without_a_clinic_role_cannot_change_a_status(doctor):
    session = book(doctor, at(MONDAY, 10))
    nobody = Client()
    nobody.force_login(factories.UserFactory())
    assert post_status(nobody, session, "checked_in").status_code == 403
    assert status_of(session) == "booked"


def test_an_unknown_status_writes_nothing(front_desk_client, doctor):
    session = book(doctor, at(MONDAY, 10))
    assert post_status(front_desk_client, session, "teleported").status_code == 400
    assert Appointment.objects.get(pk=session.pk).status == "booked"
