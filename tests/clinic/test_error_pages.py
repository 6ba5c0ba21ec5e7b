"""The error pages a phone can read: a viewport and the site's stylesheet, nothing else (no menu,
no user name), for 403, 404 and 500."""

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.views import defaults

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["403.html", "404.html", "500.html"])
def test_each_error_page_has_a_viewport_and_the_stylesheet(name):
    page = render_to_string(name)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "bootstrap.min.css" in page and "<script" not in page and "<style" not in page


def test_a_missing_page_answers_the_plain_404_to_a_signed_in_patient_too():
    user = factories.UserFactory(username="portal-1-abc")
    request = RequestFactory().get("/portal/sessions/999999/")
    request.user = user
    response = defaults.page_not_found(request, Exception("no such session"))
    page = response.content.decode()
    assert response.status_code == 404 and "Page not found" in page and "portal-1-abc" not in page


def test_the_served_404_carries_the_viewport():
    response = Client().get("/no-such-page/")
    assert response.status_code in (302, 404)  # a visitor is sent to log in first
    response = Client().get("/portal/no-such-page/")
    assert response.status_code == 404
    assert 'name="viewport"' in response.content.decode()
