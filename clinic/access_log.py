"""The access log: every read of a patient's clinical page, plan, record, photo or API data.

Views fetch a patient through `patients.access.get_patient`, which notes the patient on the request;
the middleware writes one row per patient once the response is known to have shown something
(a 2xx or 3xx to a GET), with ids only, never content.
"""

from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from clinic.models import AccessLogEntry

Kind = AccessLogEntry.Kind

# URL name → what was looked at, and the URL argument holding its id.
LOGGED_VIEWS: dict[str, tuple[str, str]] = {
    "patients:detail": (Kind.PATIENT, "pk"),
    "patients:history": (Kind.HISTORY, "pk"),
    "patients:clinical_edit": (Kind.PATIENT, "pk"),
    "patients:condition_edit": (Kind.PATIENT, "record_pk"),
    "patients:concern_edit": (Kind.PATIENT, "concern_pk"),
    "patients:intake_review": (Kind.PATIENT, "intake_pk"),
    "treatments:plan_builder": (Kind.PLAN_BUILDER, "pk"),
    "treatments:plan_detail": (Kind.PLAN, "plan_pk"),
    "treatments:plan_book": (Kind.PLAN, "plan_pk"),
    "treatments:session": (Kind.SESSION, "pk"),
    "treatments:session_record": (Kind.RECORD, "pk"),
    "treatments:aftercare_sheet": (Kind.AFTERCARE, "pk"),
    "treatments:photo": (Kind.PHOTO, "pk"),
    "portal:home": (Kind.PORTAL, "pk"),
    "portal:session": (Kind.PORTAL, "pk"),
    "portal:visit_book": (Kind.PORTAL, "pk"),
    "portal:session_move": (Kind.PORTAL, "pk"),
    "portal:session_cancel": (Kind.PORTAL, "pk"),
    "portal:previsit": (Kind.PORTAL, "pk"),
    "portal:consent": (Kind.PORTAL, "pk"),
    "portal:intake": (Kind.PORTAL, "pk"),
    "treatments:plan_consent": (Kind.PLAN, "plan_pk"),
    "treatments:plan_consent_signature": (Kind.PLAN, "plan_pk"),
}
READS = {"GET", "HEAD"}
# Reads sent by POST so that what is searched for stays out of request lines.
POSTED_READS = {"api-patient-search"}


def note_patient_access(request: HttpRequest, *patient_ids: int) -> None:
    """Mark patients as shown by this request; the middleware logs them if the read succeeds."""
    request = getattr(request, "_request", request)  # a DRF request wraps Django's
    accessed: set[int] = request.__dict__.setdefault("accessed_patient_ids", set())
    accessed.update(patient_ids)


def _client_address(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _write(request: HttpRequest, kind: str, object_id: str, view_name: str) -> None:
    """One row per patient shown (or one without a patient): a list of 300 patients is one insert."""
    patients = sorted(request.__dict__.get("accessed_patient_ids", ())) or [None]
    values = {
        "at": timezone.now(),
        "user_id": request.user.pk,
        "username": request.user.get_username(),
        "kind": kind,
        "object_id": object_id,
        "view_name": view_name,
        "ip_address": _client_address(request),
    }
    if len(patients) > 1 and connection.vendor == "postgresql":
        # Building hundreds of model instances and their parameters was most of a busy list's time.
        columns = [AccessLogEntry._meta.get_field(name).column for name in values]
        patient_column = AccessLogEntry._meta.get_field("patient_id").column
        placeholders = ", ".join("%s::inet" if name == "ip_address" else "%s" for name in values)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {AccessLogEntry._meta.db_table} ({', '.join(columns)}, {patient_column}) "
                f"SELECT {placeholders}, unnest(%s::integer[])",
                [*values.values(), patients],
            )
        return
    AccessLogEntry.objects.bulk_create(AccessLogEntry(patient_id=patient, **values) for patient in patients)


class AccessLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = request.resolver_match
        if (
            match is None
            or (request.method not in READS and match.view_name not in POSTED_READS)
            or not request.user.is_authenticated
            or response.status_code >= 400
        ):
            return response
        if match.view_name in LOGGED_VIEWS:
            kind, argument = LOGGED_VIEWS[match.view_name]
            object_id = str(match.kwargs.get(argument, ""))
        elif match.route.startswith("api/") and request.__dict__.get("accessed_patient_ids"):
            kind, object_id = Kind.API, request.path[:40]
        else:
            return response
        _write(request, kind, object_id, match.view_name)
        return response
