"""A refused action on the session panel answers the panel with the reason where the action was:
htmx swaps it in (400 and 409 included), a plain POST keeps its status code, and the front desk
never reads clinical text in it."""

import json
import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.disclosure import CLINICIAN_MUST_REVIEW
from tests import factories
from tests.factories import PatientFactory
from tests.scheduling.helpers import HTMX, at, book, make_clinic, next_monday
from treatments.models import Appointment
from treatments.services import booking

pytestmark = pytest.mark.django_db


@pytest.fixture
def doctor():
    _, practitioner = make_clinic()
    return practitioner


def swap_rule(config, status):
    """The responseHandling rule htmx applies to a status: the first whose code matches."""
    return next(rule for rule in config["responseHandling"] if re.search(rule["code"], str(status)))


def test_htmx_swaps_refusals_but_no_other_error(front_desk_client, doctor):
    page = front_desk_client.get(reverse("treatments:calendar_day")).content.decode()
    config = json.loads(unescape(re.search(r'name="htmx-config" content=\'([^\']*)\'', page).group(1)))
    for status in (200, 400, 409):
        assert swap_rule(config, status)["swap"] is True
    for status in (204, 403, 404, 405, 500):
        assert swap_rule(config, status)["swap"] is False


def test_a_refused_status_change_shows_why_under_the_buttons(front_desk_client, doctor):
    session = book(doctor, at(next_monday(), 10))
    # Another desk cancels it while this panel is open.
    booking.session_cancel(appointment=session, reason="Flu", by=factories.front_desk())
    url = reverse("treatments:session_status", args=[session.pk])
    response = front_desk_client.post(url, {"status": "checked_in"}, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert "<html" not in html and html.lstrip().startswith('<div id="session-card"')
    assert "Not done: A cancelled session cannot become checked in." in html
    assert "Cancelled" in html and ">Check in</button>" not in html  # the panel as it is now

    plain = front_desk_client.post(url, {"status": "checked_in"})
    assert plain.status_code == 400
    assert "<html" in plain.content.decode()
    assert "Not done: A cancelled session cannot become checked in." in plain.content.decode()


def test_a_move_onto_a_taken_time_offers_free_times_to_move_to(front_desk_client, doctor):
    day = next_monday()
    book(doctor, at(day, 10))
    session = book(doctor, at(day, 14))
    url = reverse("treatments:session_move", args=[session.pk])
    response = front_desk_client.post(url, {"day": day.isoformat(), "time": "10:30"}, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert "<html" not in html and "The practitioner is already booked at that time." in html
    assert '<details class="mb-2" open>' in html  # the move form stays open with the refusal
    free = response.context["next_slots"]
    assert free and all(row["slot"].start > at(day, 10, 30) for row in free)
    assert html.count(">Move here</button>") == len(free)

    chosen = free[0]["slot"]
    when = timezone.localtime(chosen.start)
    moved = front_desk_client.post(
        url,
        {"day": when.date().isoformat(), "time": f"{when:%H:%M}", "practitioner": chosen.practitioner},
        **HTMX,
    )
    assert moved.status_code == 200
    session.refresh_from_db()
    assert session.starts_at == chosen.start


def test_a_refused_cancel_shows_why_in_the_cancel_form(front_desk_client, doctor):
    session = book(doctor, at(next_monday(), 10))
    Appointment.objects.filter(pk=session.pk).update(status=Appointment.Status.COMPLETED)
    response = front_desk_client.post(
        reverse("treatments:session_cancel", args=[session.pk]), {"reason": "Asked to"}, **HTMX
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "A completed session cannot become cancelled." in html
    assert "<details open><summary>Cancel</summary>" in html
    assert ">Cancel session</button>" not in html
    assert Appointment.objects.get(pk=session.pk).status == "completed"


def test_a_cancel_without_a_reason_is_refused_in_place(front_desk_client, doctor):
    session = book(doctor, at(next_monday(), 10))
    response = front_desk_client.post(
        reverse("treatments:session_cancel", args=[session.pk]), {"reason": ""}, **HTMX
    )
    assert response.status_code == 400
    assert "<details open><summary>Cancel</summary>" in response.content.decode()
    assert Appointment.objects.get(pk=session.pk).status == "booked"


def test_a_no_show_taken_back_too_late_offers_to_book_again(front_desk_client, doctor):
    today = timezone.localdate()  # an undo is for the session's day
    session = factories.make_session(practitioner=doctor, start=at(today, 10), status="no_show")
    factories.make_session(practitioner=doctor, start=at(today, 10, 30))  # a walk-in took the time
    response = front_desk_client.post(
        reverse("treatments:session_status", args=[session.pk]), {"status": "booked"}, **HTMX
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Not done: The practitioner is already booked at that time." in html
    assert ">Move here</button>" not in html  # a no-show is not moved: it is booked again
    assert "Book a new session at one of these times" in html
    assert Appointment.objects.get(pk=session.pk).status == "no_show"


def test_the_front_desk_reads_no_clinical_text_in_a_refused_move(front_desk_user, clinician_user, doctor):
    day = next_monday()
    patient = PatientFactory()
    session = book(doctor, at(day, 10), patient=patient)
    factories.ConditionRecordFactory(patient=patient, condition=factories.condition("keloid_tendency"))
    url = reverse("treatments:session_move", args=[session.pk])
    move = {"day": day.isoformat(), "time": "11:00"}
    desk, clinician = Client(), Client()
    desk.force_login(front_desk_user)
    clinician.force_login(clinician_user)
    refused = desk.post(url, move, **HTMX)
    assert refused.status_code == 400
    assert CLINICIAN_MUST_REVIEW in refused.content.decode()
    assert "eloid" not in refused.content.decode()
    assert "eloid" in clinician.post(url, move, **HTMX).content.decode()
    session.refresh_from_db()
    assert session.starts_at == at(day, 10)


@pytest.mark.parametrize("name", ["treatments:session_move", "treatments:session_cancel"])
def test_panel_actions_take_a_post_from_staff(client, doctor, name):
    session = book(doctor, at(next_monday(), 10))
    url = reverse(name, args=[session.pk])
    anonymous = client.post(url, {"reason": "x", "day": "2027-01-04", "time": "11:00"})
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    client.force_login(factories.UserFactory())
    assert client.post(url, {"reason": "x"}).status_code == 403
    client.force_login(factories.front_desk())
    assert client.get(url).status_code == 405
    assert Appointment.objects.get(pk=session.pk).status == "booked"
