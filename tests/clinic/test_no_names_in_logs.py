"""No patient's name in a request line or a log line (issue 13).

A name in a URL ends up in every access log (gunicorn's, a proxy's, `runserver`'s `django.server`)
and in the browser's history, and Django's own records (`django.request`) carry the request, whose
repr holds the URL. Patient searches are therefore posted: the page keeps the criteria in the
session under an opaque token (`patients.views`), the API takes them in the body
(`POST /api/patients/search/`).

The walk below opens the patient pages, searches, writes and errors (400, 403, 404, 405, 500) as
front desk and clinician, records each request line as a server would write it, captures every log
record of every logger at every level, and looks for the patients' first and last names.
"""

import logging
import re
from datetime import datetime, time, timedelta
from urllib.parse import unquote_plus

import pytest
from django.test import Client
from django.utils import timezone

from clinic.models import AccessLogEntry
from patients.models import Patient
from tests import factories
from treatments.selectors.availability import clinic_zone

pytestmark = pytest.mark.django_db

FIRST_NAMES = ["Zephyrine", "Octavian", "Philippa", "Leopold", "Wilhelmina", "Cornelius"]
SURNAME = "Quillfeather"


class RecordingClient(Client):
    """A test client that writes each request line as a server's access log would."""

    def __init__(self, lines, **kwargs):
        super().__init__(raise_request_exception=False, **kwargs)
        self.lines = lines

    def request(self, **request):
        query = request.get("QUERY_STRING", "")
        line = f"{request['REQUEST_METHOD']} {request['PATH_INFO']}{'?' + query if query else ''} HTTP/1.1"
        response = super().request(**request)
        self.lines.append(line)
        # As gunicorn's access log and runserver's django.server logger write them.
        logging.getLogger("gunicorn.access").info('127.0.0.1 - - "%s" %s', line, response.status_code)
        logging.getLogger("django.server").info(
            '"%s" %s %s', line, response.status_code, len(response.content)
        )
        return response


class KeepAll(logging.Handler):
    def __init__(self, records):
        super().__init__(level=logging.NOTSET)
        self.records = records

    def emit(self, record):
        self.records.append(record)


STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def record_text(record):
    """Everything a formatter could print of a record: message, arguments, traceback and extras
    (django.request puts the request itself there, whose repr holds the URL)."""
    parts = [record.getMessage(), repr(record.args)]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    parts += [f"{key}={value!r}" for key, value in vars(record).items() if key not in STANDARD_ATTRIBUTES]
    return " ".join(parts)


def _capture(records, *, levels):
    """Keep every record of every logger, whatever its `propagate`; `levels(logger)` is the level
    each logger is set to while the test runs (None: as configured)."""
    handler = KeepAll(records)
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        if (level := levels(logger)) is not None:
            logger.setLevel(level)
            logger.disabled = False
    return saved, handler


def _release(saved, handler):
    for logger, level, disabled in saved:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.disabled = disabled


# django.template's DEBUG records ("Exception while resolving variable ...") carry the template's
# whole context, patients included. Django's logging configuration keeps the `django` loggers at
# INFO whatever LOG_LEVEL is, so they are never emitted (test_with_log_level_debug_...); forcing
# them on here would only show Django's debugging aid.
TEMPLATE_LOGGER = "django.template"


@pytest.fixture
def every_log_record():
    """Every record of every logger at every level (django.template's from INFO up)."""
    records = []
    saved, handler = _capture(
        records, levels=lambda logger: logging.INFO if logger.name == TEMPLATE_LOGGER else logging.DEBUG
    )
    yield records
    _release(saved, handler)


@pytest.fixture
def log_level_debug():
    """The records the app's logging configuration emits with LOG_LEVEL=DEBUG (the root's level)."""
    records = []
    saved, handler = _capture(
        records, levels=lambda logger: logging.DEBUG if logger is logging.getLogger() else None
    )
    yield records
    _release(saved, handler)


@pytest.fixture
def people():
    """Patients named to be found (one of them with a plan, sessions and a record), and enough of
    them under one surname that its search has two pages."""
    patients = [
        factories.PatientFactory(first_name=FIRST_NAMES[n % len(FIRST_NAMES)], last_name=SURNAME)
        for n in range(27)
    ]
    patient = factories.PatientFactory(first_name="Marisol", last_name="Vantongeren", email="mv@example.com")
    factories.ConcernFactory(patient=patient)
    factories.ConditionRecordFactory(patient=patient)
    location = factories.make_location()
    practitioner = factories.make_practitioner(location)
    plan = factories.make_accepted_plan(patient, start=timezone.localdate())
    today_noon = datetime.combine(timezone.localdate(), time(12), tzinfo=clinic_zone())
    session = factories.make_session(patient=patient, practitioner=practitioner, plan=plan, start=today_noon)
    later = factories.make_session(
        patient=patient, practitioner=practitioner, start=session.starts_at + timedelta(days=3)
    )
    factories.screen_clear(session)  # a record is kept on the session's day
    return {"patient": patient, "plan": plan, "session": session, "later": later, "namesakes": patients}


def every_name():
    names = set()
    for first, last in Patient.objects.values_list("first_name", "last_name"):
        names |= {first, last}
    return {name for name in names if len(name) >= 4}


def walk(client, world, *, clinician):
    patient, plan, session = world["patient"], world["plan"], world["session"]
    pk = patient.pk
    # The list, and searches by surname, by first name and by both; the surname has two pages.
    client.get("/patients/")
    results = client.post("/patients/", {"q": SURNAME, "status": "active"}, follow=True)
    assert results.status_code == 200 and len(results.context["page"].object_list) == 25
    client.get(results.request["PATH_INFO"] + "?" + results.request["QUERY_STRING"] + "&page=2")
    client.post("/patients/", {"q": "Zephyrine"}, follow=True)
    client.post("/patients/", {"q": "Marisol Vantongeren"}, follow=True)
    client.post("/patients/", {"q": "mv@example.com"}, follow=True)
    client.post("/patients/", {"status": "archived"}, follow=True)
    # A patient's pages, and writes whose messages name the patient.
    for url in (
        f"/patients/{pk}/",
        f"/patients/{pk}/edit/",
        f"/plans/{plan.pk}/",
        f"/plans/{plan.pk}/book/",
        f"/sessions/{session.pk}/",
        f"/schedule/book/?patient={pk}",
        "/schedule/",
        "/schedule/week/",
    ):
        assert client.get(url).status_code == 200, url
    client.post(f"/patients/{pk}/edit/", {"first_name": "Marisol", "last_name": "Vantongeren"})  # refused
    client.post(f"/patients/{pk}/archive/", follow=True)
    client.post(f"/patients/{pk}/archive/", {"restore": "1"}, follow=True)
    client.post(
        "/patients/new/",
        {
            "first_name": "Ximena" if clinician else "Bartholomew",
            "last_name": "Brightwater",
            "date_of_birth": "1990-04-05",
            "sex": "female",
            "email": "x@example.com",
        },
        follow=True,
    )
    client.post(f"/sessions/{world['later'].pk}/status/", {"status": "no_show"}, follow=True)
    if clinician:
        for url in (
            f"/patients/{pk}/history/",
            f"/patients/{pk}/clinical/",
            f"/patients/{pk}/plan/",
            f"/sessions/{session.pk}/record/",
            f"/sessions/{session.pk}/aftercare/",
            "/my-day/",
        ):
            assert client.get(url).status_code == 200, url
    # The API: lists, the posted search (two pages), a session, a suggestion.
    client.get("/api/patients/")
    found = client.post(
        "/api/patients/search/?limit=20", {"search": SURNAME}, content_type="application/json"
    )
    assert found.status_code == 200 and found.json()["count"] == 27
    client.post(found.json()["next"], {"search": SURNAME}, content_type="application/json")
    client.post("/api/patients/search/", {"search": "Vantongeren"}, content_type="application/json")
    client.get(f"/api/sessions/?patient={pk}")
    client.get(f"/api/sessions/{session.pk}/")
    client.get(f"/api/patients/{pk}/suggestion/")
    # Errors: 404, 403, 400 (a NUL byte, a value out of range, a search too long), 405.
    assert client.get("/patients/999999/").status_code == 404
    assert client.get("/api/sessions/999999/").status_code == 404
    assert client.post("/patients/", {"q": f"{SURNAME}\x00"}).status_code == 400
    assert (
        client.post(
            "/api/patients/search/", {"search": "Zephyrine" * 30}, content_type="application/json"
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/api/patients/search/", "{not json Zephyrine", content_type="application/json"
        ).status_code
        == 400
    )
    assert client.get("/api/patients/search/").status_code == 405
    assert client.post(f"/sessions/{session.pk}/cancel/", {"reason": ""}).status_code == 400
    if not clinician:
        assert client.get(f"/patients/{pk}/history/").status_code == 403
        assert client.get(f"/api/patients/{pk}/suggestion/").status_code == 403


def _name_hits(names, lines, records):
    hits = []
    for line in lines:
        hits += [
            f"request line {line!r}: {name}" for name in names if name.lower() in unquote_plus(line).lower()
        ]
    for record in records:
        text = record_text(record)
        hits += [
            f"{record.name} {record.levelname}: {name}" for name in names if name.lower() in text.lower()
        ]
    return hits


@pytest.mark.parametrize("role", ["front desk", "clinician"])
def test_no_patient_name_reaches_a_request_line_or_a_log_record(people, every_log_record, role):
    lines = []
    client = RecordingClient(lines)
    clinician = role == "clinician"
    client.force_login(factories.clinician() if clinician else factories.front_desk())
    walk(client, people, clinician=clinician)
    # Someone signed out: a page sends them to log in with `next`, the API asks for a token.
    anonymous = RecordingClient(lines)
    assert anonymous.get(f"/patients/{people['patient'].pk}/").status_code == 302  # to the login
    assert anonymous.get("/api/patients/").status_code == 401

    assert len(lines) > 40
    assert any(record.name == "django.request" for record in every_log_record), "no error was logged"
    hits = _name_hits(every_name(), lines, every_log_record)
    assert not hits, "\n".join(sorted(set(hits)))


def test_with_log_level_debug_no_name_reaches_a_log_record(people, log_level_debug):
    """As configured, with the root at DEBUG: Django's own logging keeps the `django` loggers at INFO,
    so django.template's DEBUG records (which carry the context) are never emitted."""
    assert logging.getLogger(TEMPLATE_LOGGER).getEffectiveLevel() >= logging.INFO
    client = RecordingClient([])
    client.force_login(factories.clinician())
    walk(client, people, clinician=True)
    hits = _name_hits(every_name(), [], log_level_debug)
    assert not hits, "\n".join(sorted(set(hits)))


def test_a_server_error_logs_the_path_and_never_a_name(people, every_log_record, monkeypatch):
    from clinic import patient_page

    def broken(*args, **kwargs):
        raise RuntimeError("the page broke")

    monkeypatch.setattr(patient_page, "render", broken)
    lines = []
    client = RecordingClient(lines)
    client.force_login(factories.front_desk())
    client.post("/patients/", {"q": SURNAME}, follow=True)
    assert client.get(f"/patients/{people['patient'].pk}/").status_code == 500
    errors = [r for r in every_log_record if r.name == "django.request" and r.levelno == logging.ERROR]
    assert errors and errors[0].exc_info
    assert not _name_hits(every_name(), lines, every_log_record)


def test_the_watch_would_see_a_name_in_a_query_string(people, every_log_record):
    """The old GET search still answers, and the checks above would catch it: the name is in the
    request line and in django.request's record of a refused request."""
    lines = []
    client = RecordingClient(lines)
    client.force_login(factories.front_desk())
    client.get("/patients/", {"q": SURNAME})
    client.get("/api/patients/", {"search": SURNAME, "limit": "x\x00"})
    hits = _name_hits({SURNAME}, lines, every_log_record)
    assert any("request line" in hit for hit in hits)
    assert any(hit.startswith(("django.request", "gunicorn.access", "django.server")) for hit in hits)


# The search itself: posted, then a results page addressed by a token, with its pages.


def test_a_page_search_is_posted_and_its_results_are_addressed_by_a_token(people, front_desk_client):
    response = front_desk_client.post("/patients/", {"q": SURNAME, "status": "active"})
    assert response.status_code == 302
    location = response["Location"]
    assert re.fullmatch(r"/patients/\?search=[\w-]+", location) and SURNAME not in location
    first = front_desk_client.get(location)
    assert len(first.context["page"].object_list) == 25 and "Page 1 of 2" in first.content.decode()
    assert first.context["filter"].form["q"].value() == SURNAME  # the box still shows the search
    second_link = re.search(r'href="\?(search=[\w-]+)&(?:amp;)?page=2"', first.content.decode())
    assert second_link.group(1) == location.split("?")[1]
    second = front_desk_client.get(f"{location}&page=2")
    assert len(second.context["page"].object_list) == 2
    assert {p.last_name for p in second.context["page"].object_list} == {SURNAME}


def test_the_search_box_posts(front_desk_client):
    page = front_desk_client.get("/patients/").content.decode()
    form = re.search(r'<form method="(\w+)" action="/patients/"[^>]*role="search"', page)
    assert form and form.group(1) == "post"
    assert 'name="csrfmiddlewaretoken"' in page.split('role="search"')[1].split("</form>")[0]


def test_filters_without_a_name_stay_in_the_address(people, front_desk_client):
    Patient.objects.filter(pk=people["patient"].pk).update(archived_at=timezone.now())
    response = front_desk_client.post("/patients/", {"q": " ", "status": "archived"})
    assert response["Location"] == "/patients/?status=archived"
    rows = front_desk_client.get(response["Location"]).context["page"].object_list
    assert [p.pk for p in rows] == [people["patient"].pk]
    assert front_desk_client.post("/patients/", {})["Location"] == "/patients/"


def test_a_search_token_belongs_to_the_session_that_made_it(people, front_desk_client, client):
    location = front_desk_client.post("/patients/", {"q": "Vantongeren"})["Location"]
    client.force_login(factories.front_desk(username="another.desk"))
    page = client.get(location)
    assert page.status_code == 200
    assert "That search has expired" in page.content.decode()
    assert "Vantongeren" not in page.content.decode()
    assert page.context["filter"].form["q"].value() in (None, "")


def test_only_the_latest_searches_are_kept(front_desk_client):
    from patients.views import SEARCHES_KEPT, SESSION_SEARCHES

    first = front_desk_client.post("/patients/", {"q": "first"})["Location"]
    for n in range(SEARCHES_KEPT):
        front_desk_client.post("/patients/", {"q": f"search {n}"})
    assert len(front_desk_client.session[SESSION_SEARCHES]) == SEARCHES_KEPT
    assert "That search has expired" in front_desk_client.get(first).content.decode()


def test_the_api_search_is_posted_paged_and_access_logged(people, front_desk_client, front_desk_user):
    response = front_desk_client.post(
        "/api/patients/search/?limit=10&offset=20", {"search": SURNAME}, content_type="application/json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 27 and len(body["results"]) == 7 and body["next"] is None
    assert SURNAME not in body["previous"]
    assert set(body["results"][0]) == {
        "id",
        "first_name",
        "last_name",
        "date_of_birth",
        "phone",
        "email",
        "preferred_practitioner",
    }
    entries = AccessLogEntry.objects.filter(kind="api", view_name="api-patient-search")
    assert sorted(e.patient_id for e in entries) == sorted(row["id"] for row in body["results"])
    assert {e.username for e in entries} == {front_desk_user.username}
    assert {e.object_id for e in entries} == {"/api/patients/search/"}


def test_the_api_search_refuses_what_it_cannot_read(front_desk_client):
    assert front_desk_client.get("/api/patients/search/").status_code == 405
    too_long = front_desk_client.post(
        "/api/patients/search/", {"search": "x" * 201}, content_type="application/json"
    )
    assert too_long.status_code == 400 and "search" in too_long.json()
    assert (
        Client().post("/api/patients/search/", {"search": "x"}, content_type="application/json").status_code
        == 401
    )
    nothing = front_desk_client.post("/api/patients/search/", {}, content_type="application/json")
    assert nothing.status_code == 200 and not AccessLogEntry.objects.exists()


def test_the_api_search_finds_what_the_get_search_finds(people, front_desk_client):
    for text in ("zephyrine", "Marisol Vantongeren", "mv@example.com", "nobody"):
        posted = front_desk_client.post(
            "/api/patients/search/", {"search": text}, content_type="application/json"
        )
        got = front_desk_client.get("/api/patients/", {"search": text})
        assert posted.json()["results"] == got.json()["results"], text
