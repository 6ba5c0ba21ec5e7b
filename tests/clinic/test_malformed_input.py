"""Malformed input answers 400 with a message, never 500 (issue 13)."""

import pytest

from patients.models import Patient
from tests.factories import make_location

pytestmark = pytest.mark.django_db


def test_a_nul_byte_in_an_api_search_is_a_400_with_json(front_desk_client):
    response = front_desk_client.get("/api/patients/", {"search": "a\x00b"})
    assert response.status_code == 400
    assert "cannot accept" in response.json()["detail"]


def test_a_nul_byte_in_a_page_query_is_a_400_page(front_desk_client):
    response = front_desk_client.get("/patients/", {"q": "a\x00b"})
    assert response.status_code == 400
    assert b"Bad request" in response.content


def test_a_nul_byte_in_a_posted_form_writes_nothing(front_desk_client):
    response = front_desk_client.post(
        "/patients/new/",
        {"first_name": "Ann\x00", "last_name": "Lee", "birth_date": "1990-01-01"},
    )
    assert response.status_code == 400
    assert not Patient.objects.filter(last_name="Lee").exists()


def test_a_nul_escape_in_a_json_body_is_a_400(clinician_client):
    response = clinician_client.post(
        "/api/plans/suggest/", '{"today": "2026-11-22\\u0000"}', content_type="application/json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("url", ["/schedule/", "/schedule/week/"])
def test_a_date_at_the_end_of_the_calendar_is_not_a_server_error(front_desk_client, url, catalog):
    make_location()
    response = front_desk_client.get(url, {"date": "9999-12-31"})
    assert response.status_code in (200, 400)


def test_an_offset_past_64_bits_is_a_400(front_desk_client):
    response = front_desk_client.get("/api/patients/", {"limit": "3136920939995860041728"})
    assert response.status_code in (200, 400)
    response = front_desk_client.get("/api/patients/", {"offset": "3136920939995860041728"})
    assert response.status_code in (200, 400)


def test_every_response_carries_a_permissions_policy(client):
    response = client.get("/accounts/login/")
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
