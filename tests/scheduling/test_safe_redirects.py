"""A session panel follows `next` only inside this site (issue 13: open redirect)."""

import pytest
from django.urls import reverse

from tests.factories import make_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(catalog):
    return make_session()


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/x", "javascript:alert(1)"])
def test_check_in_with_a_foreign_next_goes_back_to_the_session(front_desk_client, session, target):
    response = front_desk_client.post(
        reverse("treatments:session_status", args=[session.pk]), {"status": "checked_in", "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("treatments:session", args=[session.pk])


def test_check_in_with_a_calendar_next_goes_back_to_the_calendar(front_desk_client, session):
    back = "/schedule/?date=2027-01-04&by=room"
    response = front_desk_client.post(
        reverse("treatments:session_status", args=[session.pk]), {"status": "checked_in", "next": back}
    )
    assert response["Location"] == back


def test_a_javascript_next_is_never_written_into_the_panel(front_desk_client, session):
    response = front_desk_client.get(
        reverse("treatments:session", args=[session.pk]), {"next": "javascript:alert(document.cookie)"}
    )
    assert response.status_code == 200
    assert b"javascript:" not in response.content


def test_a_cancel_with_a_foreign_next_stays_on_this_site(front_desk_client, session):
    response = front_desk_client.post(
        reverse("treatments:session_cancel", args=[session.pk]),
        {"reason": "Patient asked", "next": "//evil.example"},
    )
    assert response.status_code == 302
    assert "evil" not in response["Location"]
