import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db
URL = reverse("dashboard")


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("make_user", "heading", "absent"),
    [
        (factories.clinician, "clinician-heading", "admin-heading"),
        (factories.front_desk, "frontdesk-heading", "clinician-heading"),
        (factories.clinic_admin, "admin-heading", "frontdesk-heading"),
    ],
)
def test_each_role_lands_on_its_dashboard(client, make_user, heading, absent):
    client.force_login(make_user())
    response = client.get(URL)
    assert response.status_code == 200
    assert heading in response.content.decode()
    assert absent not in response.content.decode()


def test_user_without_role_is_asked_to_see_their_admin(client):
    client.force_login(factories.UserFactory())
    response = client.get(URL)
    assert response.status_code == 403
    assert "ask your clinic admin" in response.content.decode()


def test_post_is_not_allowed(clinician_client):
    assert clinician_client.post(URL).status_code == 405


def test_navigation_shows_catalog_only_to_clinic_admins(client):
    client.force_login(factories.front_desk())
    assert reverse("admin:index") not in client.get(URL).content.decode()
    client.force_login(factories.clinic_admin())
    assert reverse("admin:index") in client.get(URL).content.decode()
