"""Project-wide guards: malformed input is a 400, never a 500; a few headers every response needs."""

import time
from collections.abc import Callable

from django.conf import settings
from django.db import DataError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string

NUL = "\x00"
MALFORMED = "The request holds characters or values this app cannot accept."
# Features no page of the app uses: a script injected by mistake cannot reach them either.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), interest-cohort=()"
)


def _has_nul(request: HttpRequest) -> bool:
    if NUL in request.path:
        return True
    for values in (request.GET, request.POST) if request.method == "POST" else (request.GET,):
        for key, items in values.lists():
            if NUL in key or any(NUL in item for item in items):
                return True
    return request.content_type == "application/json" and b"\\u0000" in request.body


def _bad_request(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": MALFORMED}, status=400)
    return HttpResponseBadRequest(render_to_string("400.html", {"message": MALFORMED}, request=request))


class MalformedInputMiddleware:
    """NUL bytes anywhere in a request, and values out of any representable range, answer 400.

    PostgreSQL refuses NUL in text and 64-bit overflows, and Python refuses dates past year 9999;
    each surfaced as a 500 from whichever query or form met it first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            return _bad_request(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OverflowError | DataError):
            return _bad_request(request)
        return None


class PermissionsPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class SessionIdleRefreshMiddleware:
    """The idle timeout without a session write on every request: a signed-in user's session is
    saved again (its expiry pushed SESSION_COOKIE_AGE ahead) once SESSION_REFRESH_SECONDS have
    passed since it last was. The timeout then holds to within that many seconds."""

    KEY = "_refreshed_at"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @classmethod
    def note_saved(cls, sender: object, request: HttpRequest | None = None, **kwargs: object) -> None:
        if request is not None and hasattr(request, "session"):
            request.session[cls.KEY] = int(time.time())

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            if now - int(request.session.get(self.KEY, 0)) >= settings.SESSION_REFRESH_SECONDS:
                request.session[self.KEY] = now  # marks the session modified: saved on the way out
        return self.get_response(request)
