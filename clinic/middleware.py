"""Project-wide guards: malformed input is a 400, never a 500; a few headers every response needs."""

from collections.abc import Callable

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
