import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db
LOGIN = reverse("login")


def _login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR="10.0.0.1")


def test_correct_password_logs_in_and_lands_on_the_dashboard(client):
    factories.clinician(username="dana")
    response = _login(client, "dana", "correct-horse-battery")
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_wrong_password_shows_an_error_and_keeps_the_username(client):
    factories.clinician(username="dana")
    response = _login(client, "dana", "wrong")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Please enter a correct username and password" in body
    assert 'value="dana"' in body


def test_repeated_failures_lock_the_account(client, settings):
    factories.clinician(username="dana")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "dana", "wrong")
    response = _login(client, "dana", "correct-horse-battery")
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()


def test_logout_requires_post_and_ends_the_session(client):
    client.force_login(factories.clinician())
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_sessions_expire_when_idle(settings):
    assert settings.SESSION_COOKIE_AGE <= 60 * 60
    assert settings.SESSION_REFRESH_SECONDS <= 60


def _expiry(client):
    from django.contrib.sessions.models import Session

    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_a_session_is_written_at_most_once_a_minute_and_its_expiry_follows_use(client, monkeypatch):
    import time

    clock = [1_900_000_000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    client.force_login(factories.front_desk())
    client.get(reverse("dashboard"))
    first = _expiry(client)
    clock[0] += 30  # half a minute later: nothing written
    client.get(reverse("dashboard"))
    assert _expiry(client) == first
    clock[0] += 31  # past the minute: saved again, the expiry pushed ahead
    client.get(reverse("dashboard"))
    assert _expiry(client) > first


def test_an_idle_session_ends(client, settings):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client.force_login(factories.front_desk())
    assert client.get(reverse("dashboard")).status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert client.get(reverse("dashboard")).status_code == 302


def test_password_change_page_needs_login(client):
    assert client.get(reverse("password_change")).status_code == 302
    client.force_login(factories.front_desk())
    assert client.get(reverse("password_change")).status_code == 200
