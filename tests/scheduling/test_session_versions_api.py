"""Two desks on one session through the API: the second write, sent with the ETag it read
(If-Match), is refused with 412 saying what changed, instead of silently winning."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.factories import PatientFactory
from treatments.models import Appointment

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
MONDAY = date(2027, 1, 4)


def at(hour):
    return datetime.combine(MONDAY, time(hour), tzinfo=NY).isoformat()


@pytest.fixture
def session_id(front_desk_user):
    location = factories.make_location(open_days=range(6), rooms=3)
    doctor = factories.make_practitioner(location, days=range(5))
    desk = Client()
    desk.force_login(front_desk_user)
    body = {
        "patient": PatientFactory().pk,
        "treatment": "mn",
        "areas": ["cheeks"],
        "practitioner": doctor.pk,
        "start": at(10),
    }
    return desk.post(reverse("api-sessions"), body, content_type="application/json").json()["id"]


@pytest.fixture
def desks():
    first, second = Client(), Client()
    first.force_login(factories.front_desk(username="desk.one", first_name="Maya", last_name="Cole"))
    second.force_login(factories.front_desk(username="desk.two"))
    return first, second


def test_a_session_is_read_with_its_etag(desks, session_id):
    first, _ = desks
    response = first.get(reverse("api-session", args=[session_id]))
    assert response.status_code == 200
    assert response.json()["id"] == session_id and response.json()["status"] == "booked"
    assert response["ETag"].startswith('"') and len(response["ETag"]) > 2


def test_reading_one_session_is_for_clinic_staff_only(client, session_id):
    url = reverse("api-session", args=[session_id])
    assert client.get(url).status_code in (401, 403)
    client.force_login(factories.clinic_admin())
    assert client.get(url).status_code == 403
    client.force_login(factories.front_desk())
    assert client.get(url).status_code == 200
    assert client.get(reverse("api-session", args=[999999])).status_code == 404


def test_a_move_with_a_stale_etag_answers_412_saying_what_changed_and_who(desks, session_id):
    first, second = desks
    url = reverse("api-session", args=[session_id])
    etag_one = first.get(url)["ETag"]
    etag_two = second.get(url)["ETag"]
    moved = first.post(
        reverse("api-session-move", args=[session_id]),
        {"start": at(14)},
        content_type="application/json",
        HTTP_IF_MATCH=etag_one,
    )
    assert moved.status_code == 200
    assert moved["ETag"] != etag_one
    stale = second.post(
        reverse("api-session-move", args=[session_id]),
        {"start": at(15)},
        content_type="application/json",
        HTTP_IF_MATCH=etag_two,
    )
    assert stale.status_code == 412
    answer = stale.json()
    assert "start changed from 2027-01-04 10:00 to 2027-01-04 14:00 by Maya Cole" in answer["detail"]
    assert answer["session"]["start"] == "2027-01-04T14:00:00-05:00"
    assert stale["ETag"] == moved["ETag"]
    assert Appointment.objects.get(pk=session_id).starts_at.astimezone(NY).hour == 14


def test_a_cancel_with_a_stale_etag_answers_412_and_cancels_nothing(desks, session_id):
    first, second = desks
    url = reverse("api-session", args=[session_id])
    etag = second.get(url)["ETag"]
    first.post(
        reverse("api-session-move", args=[session_id]), {"start": at(14)}, content_type="application/json"
    )
    stale = second.post(
        reverse("api-session-cancel", args=[session_id]),
        {"reason": "Asked"},
        content_type="application/json",
        HTTP_IF_MATCH=etag,
    )
    assert stale.status_code == 412
    assert "start changed" in stale.json()["detail"]
    assert Appointment.objects.get(pk=session_id).status == Appointment.Status.BOOKED
    fresh = second.get(url)["ETag"]
    cancelled = second.post(
        reverse("api-session-cancel", args=[session_id]),
        {"reason": "Asked"},
        content_type="application/json",
        HTTP_IF_MATCH=fresh,
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_without_if_match_the_last_write_still_wins_as_before(desks, session_id):
    first, second = desks
    first.post(
        reverse("api-session-move", args=[session_id]), {"start": at(14)}, content_type="application/json"
    )
    moved = second.post(
        reverse("api-session-move", args=[session_id]), {"start": at(15)}, content_type="application/json"
    )
    assert moved.status_code == 200 and moved.json()["start"] == "2027-01-04T15:00:00-05:00"


def test_the_schema_documents_the_session_etag_and_if_match(front_desk_client):
    schema = front_desk_client.get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    detail = schema["paths"]["/api/sessions/{id}/"]["get"]
    assert "ETag" in detail["responses"]["200"]["headers"]
    move = schema["paths"]["/api/sessions/{id}/move/"]["post"]
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in move["parameters"])
    assert "412" in move["responses"]
    assert "412" in schema["paths"]["/api/sessions/{id}/cancel/"]["post"]["responses"]
