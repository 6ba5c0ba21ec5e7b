"""By room, a session dragged to another room's column moves to that room through the move view's
judgement (the drag itself is walked in tests/browser/test_issue15_calendar_journeys.py)."""

import pytest
from django.urls import reverse

from tests import factories
from tests.scheduling.helpers import HTMX, at, book, make_clinic, next_monday
from treatments.models import Appointment, ResourceType, Room

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic():
    return make_clinic(rooms=2)


def rooms(location):
    return list(Room.objects.filter(location=location).order_by("name"))


def test_a_move_names_the_room_and_time_it_goes_to(front_desk_client, clinic):
    location, doctor = clinic
    first, second = rooms(location)
    day = next_monday()
    session = book(doctor, at(day, 10), room=first)
    response = front_desk_client.post(
        reverse("treatments:session_move", args=[session.pk]),
        {"day": day.isoformat(), "time": "11:00", "practitioner": "", "room": second.pk},
        **HTMX,
    )
    assert response.status_code == 200
    session.refresh_from_db()
    assert session.room_id == second.pk and session.starts_at == at(day, 11)
    assert session.practitioner_id == doctor.pk


def test_a_room_taken_at_that_time_is_refused_in_the_panel(front_desk_client, clinic):
    location, doctor = clinic
    first, second = rooms(location)
    other = factories.make_practitioner(location, days=range(5))
    day = next_monday()
    session = book(doctor, at(day, 10), room=first)
    book(other, at(day, 10, 30), room=second)
    response = front_desk_client.post(
        reverse("treatments:session_move", args=[session.pk]),
        {"day": day.isoformat(), "time": "10:00", "practitioner": "", "room": second.pk},
        **HTMX,
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "<html" not in html and "The room is already booked at that time." in html
    assert '<details class="mb-2" open>' in html  # the move form, open with the refusal
    session.refresh_from_db()
    assert session.room_id == first.pk and session.starts_at == at(day, 10)


def test_a_room_the_treatment_cannot_use_is_refused_on_the_room_field(front_desk_client, clinic):
    location, doctor = clinic
    first, _ = rooms(location)
    kind = ResourceType.objects.filter(kind="room").exclude(slug="treatment_room").first()
    if kind is None:  # the seeded catalog names one room type only
        kind = ResourceType.objects.create(slug="office", name="Office", kind="room")
    office = Room.objects.create(location=location, name="Office", kind=kind)
    day = next_monday()
    session = book(doctor, at(day, 10), room=first)
    response = front_desk_client.post(
        reverse("treatments:session_move", args=[session.pk]),
        {"day": day.isoformat(), "time": "10:00", "room": office.pk},
        **HTMX,
    )
    assert response.status_code == 400
    assert "Office is not a room this treatment can use." in response.content.decode()
    assert response.context["move_form"].errors["room"]
    assert Appointment.objects.get(pk=session.pk).room_id == first.pk


def test_the_panels_move_form_offers_the_room(front_desk_client, clinic):
    location, doctor = clinic
    session = book(doctor, at(next_monday(), 10))
    html = front_desk_client.get(reverse("treatments:session", args=[session.pk]), **HTMX).content.decode()
    assert 'name="room"' in html and "Any suitable room" in html
    assert all(room.name in html for room in rooms(location))
