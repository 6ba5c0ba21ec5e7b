"""Two-factor sign-in for the staff who see health data: a TOTP authenticator app, and recovery codes.

django-otp keeps the devices and verifies the codes; this module adds the enrolment and
verification pages and, with `REQUIRE_2FA`, the rule that clinicians and clinic admins verify a
second factor before any other page.
"""

from base64 import b32encode
from collections.abc import Callable
from io import BytesIO
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from clinic.http import safe_next
from clinic.roles import CLINIC_ADMIN, CLINICIAN, has_role

RECOVERY_CODES = 10
ROLES_NEEDING_2FA = (CLINICIAN, CLINIC_ADMIN)
EXEMPT_VIEWS = {"two_factor_setup", "two_factor_verify", "logout", "login", "health"}
WRONG_CODE = "That code is not right, or it was already used. Try the code your app shows now."
MUST_VERIFY = "Confirm your second factor first."


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def needs_second_factor(user: object) -> bool:
    return bool(settings.REQUIRE_2FA) and has_role(user, *ROLES_NEEDING_2FA)


def _qr_svg(device: TOTPDevice) -> str:
    out = BytesIO()
    write_qrcode_image(device.config_url, out)
    return out.getvalue().decode()


@transaction.atomic
def _enrol(request: HttpRequest, device: TOTPDevice) -> list[str]:
    """Confirm the app, issue fresh recovery codes, and count this session as verified."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=request.user).delete()
    recovery = StaticDevice.objects.create(user=request.user, name="Recovery codes")
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=code) for code in codes)
    otp_login(request, device)
    return codes


@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': safe_next(request, '/')})}")
    device = TOTPDevice.objects.filter(
        user=request.user, confirmed=False
    ).first() or TOTPDevice.objects.create(user=request.user, name="Authenticator app", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            codes = _enrol(request, device)
            return render(
                request, "registration/two_factor_codes.html", {"codes": codes, "next": safe_next(request)}
            )
        form.add_error("token", WRONG_CODE)
    context = {"form": form, "qr": _qr_svg(device), "key": b32encode(device.bin_key).decode()}
    return render(request, "registration/two_factor_setup.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    if not TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect("two_factor_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"].strip())
        if device is not None:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = StaticToken.objects.filter(device=device).count()
                messages.warning(
                    request, f"Recovery code used: {left} left. Set up new ones if you lost your phone."
                )
            return redirect(safe_next(request, reverse("dashboard")))
        form.add_error("token", WRONG_CODE)
    return render(
        request, "registration/two_factor_verify.html", {"form": form}, status=400 if form.errors else 200
    )


class TwoFactorMiddleware:
    """With REQUIRE_2FA, a clinician or clinic admin reaches nothing but enrolment and verification
    until this session has verified a second factor."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: object, args: object, kwargs: object
    ) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or user.is_verified() or not needs_second_factor(user):
            return None
        match = request.resolver_match
        if match is None or match.url_name in EXEMPT_VIEWS:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": MUST_VERIFY}, status=403)
        return redirect(f"{reverse('two_factor_setup')}?{urlencode({'next': request.get_full_path()})}")
