"""A patient signed in to the portal who opens a staff URL stays in the portal's layout: a page that
says it is for the clinic's staff and leads back to "My page", never the staff menu, their portal
user name or a password link."""

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import escape
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import views
from clinic.roles import is_patient
from patients.models import PortalAccount
from tests import factories
from tests.clinic.test_permission_matrix import app_patterns

pytestmark = pytest.mark.django_db

# Not staff pages: open to anyone (health, the staff login, the tablet's intake), or a way out.
NOT_STAFF = {"health", "login", "logout", "intake_enter", "intake_done"}
# Pages any signed-in account may open: a patient, who has no password or second factor, is sent
# to the portal's home instead, as the dashboard sends them.
SENT_HOME = ("dashboard", "password_change", "password_change_done", "two_factor_setup", "two_factor_verify")
STAFF_MENU = 'aria-label="Main"'


def _staff_pages_without_args() -> list[str]:
    names = []
    for name, _ in app_patterns():
        if name.startswith(("portal:", "api-")) or name in NOT_STAFF or name in SENT_HOME:
            continue
        try:
            reverse(name)
        except NoReverseMatch:
            continue
        names.append(name)
    return names


# (URL name, which of the patient's own things it names): the pages most tempting to a patient.
STAFF_PAGES_WITH_ARGS = [
    ("patients:detail", "patient"),
    ("patients:edit", "patient"),
    ("patients:history", "patient"),
    ("treatments:plan_builder", "patient"),
    ("treatments:plan_detail", "plan"),
    ("treatments:session", "session"),
    ("treatments:session_record", "session"),
    ("treatments:aftercare_sheet", "session"),
]
STAFF_POSTS_WITH_ARGS = [
    ("patients:archive", "patient"),
    ("treatments:session_cancel", "session"),
    ("treatments:session_status", "session"),
]


@pytest.fixture
def patient():
    return factories.PatientFactory(date_of_birth=date(1985, 6, 1))


@pytest.fixture
def username(patient_client, patient):
    return PortalAccount.objects.get(patient=patient).user.get_username()


@pytest.fixture
def own(patient, practitioner):
    session = factories.make_session(patient=patient, practitioner=practitioner)
    plan = factories.make_accepted_plan(patient, start=timezone.localdate())
    return {"patient": patient.pk, "session": session.pk, "plan": plan.pk}


def _url(name: str, kind: str, own: dict[str, int]) -> str:
    argument = "plan_pk" if kind == "plan" else "pk"
    return reverse(name, kwargs={argument: own[kind]})


def assert_portal_refusal(response, username: str) -> None:
    assert response.status_code == 403
    used = [template.name for template in response.templates]
    assert "portal/staff_only.html" in used and "portal/base.html" in used
    assert "base.html" not in used and "clinic/no_access.html" not in used
    page = response.content.decode()
    assert "This page is for the clinic's staff" in page
    assert f'href="{reverse("portal:home")}"' in page and "My page" in page
    assert STAFF_MENU not in page and "Clinic planner" not in page
    assert "Change password" not in page and reverse("password_change") not in page
    assert username not in page


@pytest.mark.parametrize("name", _staff_pages_without_args())
def test_a_staff_page_answers_a_patient_in_the_portal_layout(patient_client, username, name):
    response = patient_client.get(reverse(name))
    if response.status_code == 405:  # a POST-only URL: its POST is refused the same way
        response = patient_client.post(reverse(name), {})
    assert_portal_refusal(response, username)


@pytest.mark.parametrize(("name", "kind"), STAFF_PAGES_WITH_ARGS)
def test_a_staff_page_of_the_patients_own_record_answers_in_the_portal_layout(
    patient_client, username, own, name, kind
):
    assert_portal_refusal(patient_client.get(_url(name, kind, own)), username)


@pytest.mark.parametrize(("name", "kind"), STAFF_POSTS_WITH_ARGS)
def test_a_staff_action_posted_by_a_patient_is_refused_in_the_portal_layout(
    patient_client, username, own, name, kind
):
    assert_portal_refusal(patient_client.post(_url(name, kind, own), {"reason": "x"}), username)


@pytest.mark.parametrize("name", SENT_HOME)
def test_the_pages_open_to_any_account_send_a_patient_to_their_own_page(patient_client, patient, name):
    response = patient_client.get(reverse(name))
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    posted = patient_client.post(reverse(name), {"new_password1": "Pw-2026-long", "token": "123456"})
    assert posted.status_code in (302, 405)
    if posted.status_code == 302:
        assert posted["Location"] == reverse("portal:home")
    user = PortalAccount.objects.get(patient=patient).user
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_the_staff_login_sends_a_signed_in_patient_to_their_own_page(patient_client, username):
    response = patient_client.get(reverse("login"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal:home")
    page = response.content.decode()
    assert STAFF_MENU not in page and "Change password" not in page and username not in page


def test_the_admin_answers_a_patient_in_the_portal_layout(patient_client, username):
    response = patient_client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("admin:login"))
    assert_portal_refusal(response, username)
    assert_portal_refusal(patient_client.post(reverse("admin:login"), {"username": username}), username)


def test_the_api_refuses_a_patient_in_json_without_their_name(patient_client, username, own):
    for url in (reverse("api-patients"), reverse("api-session", args=[own["session"]])):
        # As a phone's browser asks: still JSON, never the browsable API's page with the user's name.
        for accept in ("application/json", "text/html,application/xhtml+xml,*/*;q=0.8"):
            response = patient_client.get(url, HTTP_ACCEPT=accept)
            assert response.status_code == 403 and response["Content-Type"].startswith("application/json")
            assert username not in response.content.decode()


def test_the_tablet_intake_page_shows_a_patient_no_staff_menu(patient_client, username):
    """The tablet's questionnaire is open to anyone and drawn in the staff layout: a signed-in patient
    sees its bare bar with a way back to their page, not a menu with their user name."""
    response = patient_client.get(reverse("intake_enter"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Change password" not in page and username not in page and 'id="mainnav"' not in page
    assert f'href="{reverse("portal:home")}"' in page and "My page" in page


def test_a_permission_denied_raised_for_a_patient_answers_in_the_portal_layout(patient_client, patient):
    request = RequestFactory().get("/patients/1/")
    request.user = PortalAccount.objects.get(patient=patient).user
    request.resolver_match = None
    assert is_patient(request.user)
    response = views.permission_denied(request, PermissionDenied())
    assert response.status_code == 403 and "This page is for the clinic's staff" in response.content.decode()


@pytest.mark.parametrize("user", ["staff", "no role", "anonymous"])
def test_a_permission_denied_raised_for_anyone_else_is_the_plain_error_page(user):
    request = RequestFactory().get("/patients/1/")
    request.user = {
        "staff": factories.front_desk,
        "no role": factories.UserFactory,
        "anonymous": AnonymousUser,
    }[user]()
    request.resolver_match = None
    response = views.permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    page = response.content.decode()
    assert "Access denied" in page and "My page" not in page


def test_staff_refused_a_page_keep_the_staff_no_access_page(front_desk_client, front_desk_user):
    response = front_desk_client.get(reverse("treatments:my_day"))
    assert response.status_code == 403
    used = [template.name for template in response.templates]
    assert "clinic/no_access.html" in used and "portal/base.html" not in used
    page = response.content.decode()
    shown = escape(front_desk_user.get_full_name() or front_desk_user.get_username())
    assert shown in page and "Change password" in page


def test_an_account_without_a_role_keeps_its_menu_and_password(client):
    user = factories.UserFactory()
    client.force_login(user)
    response = client.get(reverse("patients:list"))
    assert response.status_code == 403
    assert "clinic/no_access.html" in [template.name for template in response.templates]
    assert "Change password" in response.content.decode()
    assert client.get(reverse("password_change")).status_code == 200


def test_staff_opening_the_portal_are_sent_to_its_sign_in_or_get_404(clinician_client, own):
    home = clinician_client.get(reverse("portal:home"))
    assert home.status_code == 302 and home["Location"] == reverse("portal:start")
    assert clinician_client.get(reverse("portal:session", args=[own["session"]])).status_code == 404
