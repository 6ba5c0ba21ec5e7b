"""With the database unreachable (its address pointed at a closed port), pages answer a 503 page,
the API a 503 JSON and /health/ a 503, each with Retry-After; the next request after the database
is back is served as usual."""

import socket

import pytest
from django.db import connection
from django.urls import reverse

from tests import factories

# The dead address is a PostgreSQL host and port: SQLite has no server to lose.
pytestmark = pytest.mark.postgres


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database(django_db_blocker):
    """Take the database down with `database.down()` and bring it back with `database.up()`."""
    saved = {key: connection.settings_dict[key] for key in ("HOST", "PORT")}

    class Database:
        def down(self):
            connection.close()
            connection.settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()))

        def up(self):
            connection.close()
            connection.settings_dict.update(saved)

    with django_db_blocker.unblock():
        database = Database()
        yield database
        database.up()


def test_pages_answer_a_503_page_with_retry_after(client, database):
    database.down()
    response = client.get(reverse("dashboard"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith("text/html")
    assert "database is unavailable" in response.content.decode()


def test_the_api_answers_a_503_json_with_retry_after(client, database):
    database.down()
    response = client.get(reverse("api-sessions"), HTTP_AUTHORIZATION="Token abc")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "cannot be reached" in response.json()["detail"]


def test_health_reports_the_database_and_answers_503_while_it_is_down(client, database):
    assert client.get(reverse("health")).json() == {"status": "ok", "database": "ok"}
    database.down()
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {"status": "unavailable", "database": "unreachable"}
    database.up()
    assert client.get(reverse("health")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_signed_in_desk_gets_503_then_its_page_once_the_database_returns(client, database):
    client.force_login(factories.front_desk())
    database.down()
    down = client.get(reverse("treatments:calendar_week"))
    assert down.status_code == 503
    database.up()
    assert client.get(reverse("dashboard")).status_code == 200
