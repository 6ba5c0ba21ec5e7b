import pytest
from playwright.sync_api import expect

from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("make_user", "heading"),
    [
        (factories.clinician, "Clinician"),
        (factories.front_desk, "Front desk"),
        (factories.clinic_admin, "Clinic admin"),
    ],
)
def test_each_role_logs_in_and_lands_on_its_dashboard(page, login, make_user, heading):
    user = make_user()
    login(user.username)
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def test_wrong_password_shows_an_error(page, login):
    factories.clinician(username="dana")
    login("dana", password="not-the-password")
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value("dana")


def test_anonymous_visit_redirects_to_login(page):
    page.goto("/")
    expect(page).to_have_url(page.url)  # settle navigation
    assert "/accounts/login/" in page.url
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_logging_out_returns_to_login(page, login):
    user = factories.front_desk()
    login(user.username)
    page.get_by_role("button", name=user.get_full_name()).click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
