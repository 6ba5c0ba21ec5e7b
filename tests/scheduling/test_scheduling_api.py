import json
import threading
import urllib.error
import urllib.request
from datetime import date

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests import factories
from tests.factories import ConditionRecordFactory, PatientFactory
from tests.scheduling.helpers import at, booking_body
from treatments.models import Appointment

MONDAY = date(2027, 1, 4)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    ["api-patients", "api-practitioners", "api-rooms", "api-devices", "api-treatments", "api-sessions"],
)
def test_lists_are_for_clinic_staff_only(name, client, clinic):
    url = reverse(name)
    assert client.get(url).status_code in (401, 403)
    client.force_login(factories.clinic_admin())
    assert client.get(url).status_code == 403
    client.force_login(factories.front_desk())
    response = client.get(url)
    assert response.status_code == 200
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    assert all("id" in row for row in rows)


@pytest.mark.django_db
def test_patient_search_shows_front_desk_fields_only(front_desk_client):
    PatientFactory(first_name="Zelda", last_name="Quill", notes="private clinical note")
    PatientFactory(first_name="Other", last_name="Person")
    rows = front_desk_client.get(reverse("api-patients"), {"search": "quill"}).json()["results"]
    assert [r["last_name"] for r in rows] == ["Quill"]
    assert set(rows[0]) == {
        "id",
        "first_name",
        "last_name",
        "date_of_birth",
        "phone",
        "email",
        "preferred_practitioner",
    }


@pytest.mark.django_db
def test_slots_are_free_earliest_first_with_offsets(front_desk_client, clinic):
    _, doctor = clinic
    patient = PatientFactory()
    front_desk_client.post(
        reverse("api-sessions"), booking_body(patient, doctor, at(MONDAY, 9)), content_type="application/json"
    )
    response = front_desk_client.get(
        reverse("api-slots"),
        {"treatment": "mn", "from": MONDAY.isoformat(), "days": 1, "practitioner": doctor.pk},
    )
    assert response.status_code == 200
    slots = response.json()
    assert slots[0]["start"] == "2027-01-04T10:15:00-05:00"
    assert set(slots[0]) == {"start", "end", "practitioner", "room", "devices"}
    starts = [s["start"] for s in slots]
    assert starts == sorted(starts)
    assert len(slots[0]["devices"]) == 1


@pytest.mark.django_db
def test_slot_query_errors_are_400(front_desk_client):
    response = front_desk_client.get(reverse("api-slots"), {"treatment": "nope", "days": 0})
    assert response.status_code == 400
    assert set(response.json()) == {"treatment", "days"}


@pytest.mark.django_db
def test_book_then_conflict_offers_next_slots(front_desk_client, clinic):
    _, doctor = clinic
    url = reverse("api-sessions")
    created = front_desk_client.post(
        url, booking_body(PatientFactory(), doctor, at(MONDAY, 10)), content_type="application/json"
    )
    assert created.status_code == 201
    assert created.json()["start"] == "2027-01-04T10:00:00-05:00"
    clash = front_desk_client.post(
        url, booking_body(PatientFactory(), doctor, at(MONDAY, 10, 30)), content_type="application/json"
    )
    assert clash.status_code == 409
    body = clash.json()
    assert body["conflict"] == {"resource": "practitioner", "id": doctor.pk}
    assert "already booked" in body["detail"]
    assert body["next_slots"][0]["start"] == "2027-01-04T11:15:00-05:00"


@pytest.mark.django_db
def test_booking_rule_failures_are_400_with_field_errors(front_desk_client, clinic):
    _, doctor = clinic
    patient = PatientFactory()
    ConditionRecordFactory(patient=patient, condition=factories.condition("keloid_tendency"), areas=[])
    url = reverse("api-sessions")
    response = front_desk_client.post(
        url, booking_body(patient, doctor, at(MONDAY, 7)), content_type="application/json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"start", "treatment"}
    response = front_desk_client.post(
        url,
        {"patient": 999999, "treatment": "mn", "areas": ["nowhere"], "start": "soon"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert set(response.json()) >= {"patient", "areas", "practitioner", "start"}


@pytest.mark.django_db
def test_sessions_list_move_and_cancel(front_desk_client, clinic):
    _, doctor = clinic
    patient = PatientFactory()
    created = front_desk_client.post(
        reverse("api-sessions"),
        booking_body(patient, doctor, at(MONDAY, 10)),
        content_type="application/json",
    ).json()
    listed = front_desk_client.get(
        reverse("api-sessions"), {"date": MONDAY.isoformat(), "practitioner": doctor.pk}
    )
    assert [s["id"] for s in listed.json()] == [created["id"]]
    moved = front_desk_client.post(
        reverse("api-session-move", args=[created["id"]]),
        {"start": at(MONDAY, 14).isoformat()},
        content_type="application/json",
    )
    assert moved.status_code == 200 and moved.json()["start"] == "2027-01-04T14:00:00-05:00"
    refused = front_desk_client.post(
        reverse("api-session-cancel", args=[created["id"]]), {}, content_type="application/json"
    )
    assert refused.status_code == 400 and "reason" in refused.json()
    cancelled = front_desk_client.post(
        reverse("api-session-cancel", args=[created["id"]]),
        {"reason": "Patient asked"},
        content_type="application/json",
    )
    assert cancelled.json()["status"] == "cancelled"
    again = front_desk_client.post(
        reverse("api-session-cancel", args=[created["id"]]),
        {"reason": "twice"},
        content_type="application/json",
    )
    assert again.status_code == 400


@pytest.mark.django_db
def test_token_authentication_for_integrations(client, clinic):
    token = Token.objects.create(user=factories.front_desk())
    response = client.get(reverse("api-practitioners"), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_bookings_of_one_practitioner_make_one_session(live_server, catalog):
    location = factories.make_location(open_days=range(6), rooms=25, pens=25)
    doctor = factories.make_practitioner(location, days=range(5))
    token = Token.objects.create(user=factories.front_desk()).key
    patients = [PatientFactory() for _ in range(20)]
    barrier = threading.Barrier(len(patients))
    answers = []

    def post(patient, minute):
        body = json.dumps(booking_body(patient, doctor, at(MONDAY, 10, minute))).encode()
        request = urllib.request.Request(  # noqa: S310 (the live test server's http URL)
            f"{live_server.url}/api/sessions/",
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                answers.append((response.status, json.loads(response.read())))
        except urllib.error.HTTPError as error:
            answers.append((error.code, json.loads(error.read() or b"{}")))

    threads = [threading.Thread(target=post, args=(p, n % 4 * 5)) for n, p in enumerate(patients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    codes = sorted(code for code, _ in answers)
    assert codes == [201] + [409] * 19
    for code, body in answers:
        if code == 409:
            assert body["conflict"]["resource"] == "practitioner"
            assert body["detail"] and isinstance(body["next_slots"], list)
    assert Appointment.objects.filter(practitioner=doctor).count() == 1


@pytest.mark.django_db
def test_openapi_schema_lists_the_scheduling_endpoints(front_desk_client):
    schema = front_desk_client.get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    for path in ("/api/slots/", "/api/sessions/", "/api/sessions/{id}/move/", "/api/patients/"):
        assert path in schema["paths"]


@pytest.mark.django_db
def test_sessions_list_reads_plain_rows_as_the_serializer_writes_them(front_desk_client, clinic):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from treatments.api.scheduling import SessionSerializer
    from treatments.models import AppointmentDevice, Device, Room

    location, doctor = clinic
    room = Room.objects.filter(location=location).first()
    pens = list(Device.objects.filter(location=location))

    def listed():
        with CaptureQueriesContext(connection) as queries:
            response = front_desk_client.get(reverse("api-sessions"), {"date": MONDAY.isoformat()})
        return response.json(), len(queries)

    first = factories.make_session(
        practitioner=doctor, start=at(MONDAY, 9), area_slugs=("forehead", "cheeks")
    )
    first.room = room
    first.save(update_fields=["room"])
    for pen in pens:
        AppointmentDevice.objects.create(
            appointment=first, device=pen, starts_at=first.starts_at, blocked_until=first.blocked_until
        )
    _, few = listed()
    for hour in (10, 11, 12, 13):
        factories.make_session(practitioner=doctor, start=at(MONDAY, hour), status="cancelled")
    rows, many = listed()
    expected = SessionSerializer(Appointment.objects.order_by("starts_at", "id"), many=True).data
    assert rows == json.loads(json.dumps(expected))
    assert rows[0]["areas"] == ["forehead", "cheeks"] and rows[0]["room"] == room.pk
    assert rows[0]["devices"] == [pen.pk for pen in pens] and rows[0]["start"] == "2027-01-04T09:00:00-05:00"
    assert many == few
