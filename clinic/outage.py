"""The database being unreachable is an outage, not a bug: pages answer a 503 page, the API a 503
JSON, and both say when to try again. Nothing here is cached, so the first request after the
database returns connects again (Django opens connections per request) and is served as usual."""

from collections.abc import Callable

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

RETRY_AFTER_SECONDS = 30
UNAVAILABLE = "The clinic's database cannot be reached right now. Try again shortly."
HEALTH_PATH = "/health/"
DATABASE_DOWN = (OperationalError, InterfaceError)


def database_reachable() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DATABASE_DOWN:
        return False
    return True


def health_response(*, reachable: bool) -> JsonResponse:
    if reachable:
        return JsonResponse({"status": "ok", "database": "ok"})
    response = JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def outage_response(request: HttpRequest) -> HttpResponse:
    if request.path == HEALTH_PATH:
        return health_response(reachable=False)
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": UNAVAILABLE}, status=503)
    else:
        # Rendered without the request: its context processors would read the session and user
        # from the database that is down.
        response = HttpResponse(render_to_string("503.html", {"message": UNAVAILABLE}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseOutageMiddleware:
    """Connects first, so an unreachable database answers 503 before any middleware reads the
    session; a connection lost during the view answers 503 too. Place it above the session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            connection.ensure_connection()
        except DATABASE_DOWN:
            return outage_response(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_DOWN):
            return outage_response(request)
        return None
