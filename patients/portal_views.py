"""The patient portal's sign-in: ask for a link, open it, confirm the birth date, sign out.

The pages that show a patient's plan and sessions compose both apps, so they live in
`clinic/portal_pages.py`; this module gives them `patient_required`. A patient's account belongs
to no clinic role, so every staff page refuses it (docs/portal.md).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from patients import portal_services as services
from patients.models import PortalAccount
from patients.portal_forms import PortalBirthDateForm, PortalContactForm

View = Callable[..., HttpResponse]
BACKEND = "django.contrib.auth.backends.ModelBackend"
# The link page's address once its token is in the session.
CONFIRM = "confirm"
SESSION_TOKEN = "portal_link_token"  # noqa: S105 (a session key, not a secret)
# A link that cannot sign in: 404 when nobody knows it, 410 when it is spent.
PROBLEM_STATUS = {"unknown": 404}


def signed_in_account(request: HttpRequest) -> PortalAccount | None:
    """The portal account of the signed-in user, if it is a patient's and the patient is active."""
    if not request.user.is_authenticated:
        return None
    return (
        PortalAccount.objects.select_related("patient")
        .filter(user=request.user, patient__archived_at__isnull=True)
        .first()
    )


def current_account(request: HttpRequest) -> PortalAccount:
    """The account `patient_required` found for this request."""
    account: PortalAccount = request.__dict__["portal_account"]
    return account


def patient_required(*, others_get_404: bool = False) -> Callable[[View], View]:
    """Only a signed-in patient passes. Anyone else goes to the portal's sign-in, or, with
    `others_get_404`, a signed-in member of staff gets 404 (they use the staff pages)."""

    def decorator(view: View) -> View:
        @login_not_required  # the portal signs in on its own page, not the staff login
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            account = signed_in_account(request)
            if account is None:
                if others_get_404 and request.user.is_authenticated:
                    raise Http404
                return redirect("portal:start")
            request.__dict__["portal_account"] = account
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _client_address(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def portal_start(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and signed_in_account(request) is not None:
        return redirect("portal:home")
    form = PortalContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.portal_link_send(
                contact=form.cleaned_data["contact"],
                client_address=_client_address(request),
                now=timezone.now(),
                link_url=lambda token: request.build_absolute_uri(reverse("portal:link", args=[token])),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            # The same page whether or not the details matched: nothing to tell them apart.
            return render(request, "portal/sent.html", {"message": services.PORTAL_SENT})
    return render(request, "portal/start.html", {"form": form})


def _link_problem(request: HttpRequest, error: ValidationError) -> HttpResponse:
    return render(
        request,
        "portal/link_problem.html",
        {"reason": error.messages[0]},
        status=PROBLEM_STATUS.get(error.code or "", 410),
    )


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def portal_link(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    if token == CONFIRM:
        token = request.session.get(SESSION_TOKEN, "")
    try:
        link = services.portal_link_check(token=token, now=now)
    except ValidationError as error:
        return _link_problem(request, error)
    if request.method == "GET" and request.path != reverse("portal:link", args=[CONFIRM]):
        # As Django's password reset does: the token leaves the address bar (and server and proxy
        # logs of the pages that follow) for the session, before the page is shown.
        request.session[SESSION_TOKEN] = token
        return redirect("portal:link", token=CONFIRM)
    form = PortalBirthDateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.portal_link_redeem(
                token=token, birth_date=form.cleaned_data["birth_date"], now=now
            )
        except ValidationError as error:
            if error.code != "wrong_birth_date":
                return _link_problem(request, error)
            form.add_error("birth_date", error)
        else:
            request.session.pop(SESSION_TOKEN, None)
            login(request, account.user, backend=BACKEND)
            # Shorter than a member of staff's: the patient's phone may be shared or lost.
            request.session.set_expiry(settings.PORTAL_SESSION_SECONDS)
            # A link the clinic sent with a page in mind (the pre-visit questions) lands there; only
            # a portal path, never an address elsewhere.
            return redirect(services.portal_next_path(link.next_path) or "portal:home")
    # A token posted to its own address stays there: the site-wide Referrer-Policy (same-origin)
    # keeps it from other sites; no-referrer would make browsers post `Origin: null`, which CSRF refuses.
    return render(request, "portal/link.html", {"form": form})


@patient_required()
@require_POST
def portal_logout(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("portal:start")
