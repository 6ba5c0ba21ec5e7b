"""Two-factor sign-in: with REQUIRE_2FA, clinicians and clinic admins confirm an authenticator code (issue 13)."""

import os
import subprocess
import sys

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

SETUP = "/accounts/2fa/setup/"
VERIFY = "/accounts/2fa/verify/"


@pytest.fixture
def required(settings):
    settings.REQUIRE_2FA = True


def code_for(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def enrol(client):
    client.get(SETUP)
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post(SETUP, {"token": code_for(device)})
    assert response.status_code == 200
    return device, response


def test_a_clinician_without_a_second_factor_is_sent_to_set_one_up(required, clinician_client):
    response = clinician_client.get("/patients/?q=x")
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP) and "next=%2Fpatients%2F" in response["Location"]


def test_setting_up_shows_a_qr_code_and_ten_recovery_codes_then_opens_the_app(required, clinician_client):
    page = clinician_client.get(SETUP)
    assert page.status_code == 200 and b"<svg" in page.content
    device, response = enrol(clinician_client)
    device.refresh_from_db()
    assert device.confirmed
    assert StaticToken.objects.filter(device__user=device.user).count() == 10
    assert response.content.decode().count("<li>") >= 10
    assert clinician_client.get("/").status_code == 200


def test_a_wrong_code_keeps_the_app_unconfirmed(required, clinician_client):
    clinician_client.get(SETUP)
    response = clinician_client.post(SETUP, {"token": "000000"})
    assert response.status_code == 400
    assert "not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()
    assert clinician_client.get("/").status_code == 302


def test_the_next_sign_in_asks_for_the_code_and_a_recovery_code_works_once(required, client, clinician_user):
    client.force_login(clinician_user)
    enrol(client)
    recovery = StaticToken.objects.filter(device__user=clinician_user).first().token
    client.logout()

    client.force_login(clinician_user)
    assert client.get("/").status_code == 302
    assert client.get(SETUP)["Location"].startswith(VERIFY)
    assert client.post(VERIFY, {"token": recovery, "next": "/patients/"})["Location"] == "/patients/"
    assert client.get("/").status_code == 200
    client.logout()

    client.force_login(clinician_user)
    assert client.post(VERIFY, {"token": recovery}).status_code == 400
    assert client.get("/").status_code == 302


def test_a_clinic_admin_is_held_to_the_second_factor_too(required, clinic_admin_client):
    assert clinic_admin_client.get("/admin/").status_code == 302


def test_the_front_desk_is_not_asked_for_a_second_factor(required, front_desk_client):
    assert front_desk_client.get("/").status_code == 200


def test_an_unverified_clinician_gets_a_403_from_the_api(required, clinician_client):
    response = clinician_client.get("/api/treatments/")
    assert response.status_code == 403


def test_with_require_2fa_off_a_clinician_goes_straight_in(settings, clinician_client):
    settings.REQUIRE_2FA = False
    assert clinician_client.get("/").status_code == 200


@pytest.mark.parametrize(
    "env, expected",
    [({"DEBUG": "0"}, "True"), ({"DEBUG": "1"}, "False"), ({"DEBUG": "0", "REQUIRE_2FA": "0"}, "False")],
)
def test_require_2fa_is_on_unless_debug_or_turned_off(env, expected):
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "REQUIRE_2FA")}
    clean.update(env, SECRET_KEY="x", DJANGO_SETTINGS_MODULE="clinic.settings")
    out = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.REQUIRE_2FA)"],
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == expected
