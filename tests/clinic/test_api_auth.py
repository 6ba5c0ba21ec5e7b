"""The API tells an anonymous client to authenticate (401), and keeps its schema for staff (issue 13)."""

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/patients/", "/api/sessions/", "/api/treatments/"])
def test_an_anonymous_api_request_is_a_401_with_www_authenticate(client, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_an_anonymous_plan_suggestion_is_a_401(client):
    response = client.post("/api/plans/suggest/", {}, content_type="application/json")
    assert response.status_code == 401


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_a_user_without_a_role_cannot_read_the_schema_or_docs(client, url):
    user = get_user_model().objects.create_user("norole", password="pw-norole-123")
    client.force_login(user)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_staff_read_the_schema_and_docs(front_desk_client, url):
    assert front_desk_client.get(url).status_code == 200
