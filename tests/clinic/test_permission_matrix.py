"""Every URL pattern, the admin's included, opened by each kind of visitor, against docs/permissions.md."""

import io
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from PIL import Image

from clinic.roles import CATALOG_MODELS
from tests import factories
from treatments.services import waitlist

TABLE = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
VISITORS = ("anonymous", "no role", "front desk", "clinician", "clinic admin")
ACCESS_LOG = "clinic.accesslogentry"


def documented():
    """{url name: {visitor: expected}} from the first table of docs/permissions.md."""
    rows = {}
    for line in TABLE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] not in ("URL name", "admin page") and not cells[0].startswith("---"):
            if ":" in cells[0] and cells[0].startswith("admin"):
                continue
            rows[cells[0]] = dict(zip(VISITORS, cells[1:], strict=True))
    return rows


def app_patterns(patterns=None, namespace=""):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from app_patterns(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry.pattern


def outcome(response):
    if response.status_code in (301, 302):
        location = response["Location"]
        return "login" if "/login/" in location or location == reverse("portal:start") else "ok"
    if 200 <= response.status_code < 300:
        return "ok"
    return str(response.status_code)


@pytest.fixture
def world(catalog):
    """One of everything a URL can point at, for one patient."""
    patient = factories.PatientFactory()
    practitioner = factories.make_practitioner(factories.make_location())
    session = factories.make_session(patient=patient, practitioner=practitioner)
    image = io.BytesIO()
    Image.new("RGB", (8, 8)).save(image, "PNG")
    photo = session.photos.create(
        area=session.areas.first(),
        kind="before",
        image=SimpleUploadedFile("p.png", image.getvalue(), content_type="image/png"),
        content_type="image/png",
        uploaded_by=practitioner.user,
    )
    from patients import services

    intake = services.intake_start(patient=patient, by=factories.front_desk(), now=timezone.now())
    services.intake_submit(intake=intake, answers={}, now=timezone.now())
    plan = factories.make_accepted_plan(patient, start=timezone.localdate())
    entry = waitlist.waitlist_add(
        patient=patient,
        planned_session=plan.planned_sessions.first(),
        by=factories.front_desk(),
        today=timezone.localdate(),
    )
    return {
        "patient": patient.pk,
        "record": factories.ConditionRecordFactory(patient=patient).pk,
        "concern": factories.ConcernFactory(patient=patient).pk,
        "intake": intake.pk,
        "plan": plan.pk,
        "entry": entry.pk,
        "session": session.pk,
        "practitioner": practitioner.pk,
        "location": session.location_id,
        "start": session.starts_at.isoformat(),
        "until": session.blocked_until.isoformat(),
        "photo": photo.pk,
    }


def url_for(name, world):
    kwargs = {}
    pattern = str(dict(app_patterns())[name])
    for argument in re.findall(r"<(?:\w+:)?(\w+)>", pattern):
        kwargs[argument] = {
            "record_pk": world["record"],
            "concern_pk": world["concern"],
            "intake_pk": world["intake"],
            "plan_pk": world["plan"],
            "entry_pk": world["entry"],
            "token": "not-a-token",
        }.get(argument)
        if argument == "pk":
            if name.startswith(
                ("treatments:session", "treatments:record", "treatments:aftercare", "api-session")
            ):
                kwargs["pk"] = world["session"]
            elif name == "treatments:photo":
                kwargs["pk"] = world["photo"]
            else:
                kwargs["pk"] = world["patient"]
    url = reverse(name, kwargs=kwargs)
    if name == "api-slots":
        url += f"?treatment=mn&from={timezone.localdate().isoformat()}&days=1"
    if name == "treatments:waitlist_offers":
        url += "?" + urlencode({key: world[key] for key in ("practitioner", "location", "start", "until")})
    return url


def visitors():
    no_role = get_user_model().objects.create_user("no.role", password="pw-no-role-1")
    users = {
        "no role": no_role,
        "front desk": factories.front_desk(),
        "clinician": factories.clinician(),
        "clinic admin": factories.clinic_admin(),
    }
    clients = {"anonymous": Client(raise_request_exception=False)}
    for visitor, user in users.items():
        clients[visitor] = Client(raise_request_exception=False)
        clients[visitor].force_login(user)
    return clients


def test_every_app_url_is_in_the_table():
    missing = {name for name, _ in app_patterns()} - set(documented())
    assert not missing, f"add these to docs/permissions.md: {sorted(missing)}"


@pytest.mark.django_db(transaction=True)
def test_every_app_url_answers_each_visitor_as_documented(world):
    clients = visitors()
    table = documented()
    wrong = []
    for name, _ in app_patterns():
        url = url_for(name, world)
        for visitor, client in clients.items():
            got = outcome(client.get(url))
            if got != table[name][visitor]:
                wrong.append(f"{name} as {visitor}: {got}, documented {table[name][visitor]}")
    assert not wrong, "\n".join(wrong)


def admin_expectation(model_key, page):
    if model_key == ACCESS_LOG:
        return "403" if page in ("add", "delete") else "ok"
    allowed = {f"{app}.{model}" for app, models in CATALOG_MODELS.items() for model in models}
    return "ok" if model_key in allowed else "403"


@pytest.mark.django_db(transaction=True)
def test_every_admin_page_answers_each_visitor_as_documented(world):
    clients = visitors()
    wrong = []
    pages = [("index", reverse("admin:index"), "ok")]
    for model, _ in admin.site._registry.items():
        key = f"{model._meta.app_label}.{model._meta.model_name}"
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages.append((f"{key} list", reverse(f"{prefix}_changelist"), admin_expectation(key, "list")))
        pages.append((f"{key} add", reverse(f"{prefix}_add"), admin_expectation(key, "add")))
        first = model._default_manager.order_by("pk").first()
        if first is None:
            continue
        for page in ("change", "delete", "history"):
            url = reverse(f"{prefix}_{page}", args=[first.pk])
            pages.append((f"{key} {page}", url, admin_expectation(key, page)))
    for label, url, expected in pages:
        for visitor, client in clients.items():
            got = outcome(client.get(url))
            wanted = expected if visitor == "clinic admin" else "login"
            if got != wanted:
                wrong.append(f"{label} as {visitor}: {got}, documented {wanted}")
    assert not wrong, "\n".join(wrong)


MARKERS = {
    "other_allergies": "MRK-ALLERGY-1a2b",
    "condition_notes": "MRK-CONDITION-3c4d",
    "concern_goal": "MRK-GOAL-5e6f",
    "concern_note": "MRK-CONCERN-7a8b",
    "clearance_reason": "MRK-CLEARANCE-9c0d",
    "plan_close_reason": "MRK-CLOSE-1e2f",
    "record_notes": "MRK-RECORD-3a4b",
    "addendum_text": "MRK-ADDENDUM-5c6d",
    "addendum_reason": "MRK-ADDREASON-7e8f",
    "interval_override_reason": "MRK-OVERRIDE-9a0b",
    "new_medications": "MRK-NEWMEDS-2b3c",
    "confirmation_reason": "MRK-CONFIRM-4d5e",
    "plan_item_reason": "MRK-ITEMREASON-6f7a",
    "intake_medications": "MRK-INTAKEMEDS-8b9c",
    "intake_allergies": "MRK-INTAKEALLERGY-0d1e",
    "intake_anything_else": "MRK-INTAKEELSE-2f3a",
    "intake_condition_details": "MRK-INTAKEDETAILS-4b5c",
}


@pytest.fixture
def marked_world(world):
    """The world with a unique marker in every clinical free-text field."""
    from patients.models import Concern, ConditionRecord, IntakeSubmission, Patient
    from treatments.models import Addendum, Appointment, Clearance, Plan, SessionRecord

    Patient.objects.filter(pk=world["patient"]).update(other_allergies=MARKERS["other_allergies"])
    ConditionRecord.objects.filter(pk=world["record"]).update(notes=MARKERS["condition_notes"])
    Concern.objects.filter(pk=world["concern"]).update(
        goal=MARKERS["concern_goal"], note=MARKERS["concern_note"]
    )
    patient = Patient.objects.get(pk=world["patient"])
    Clearance.objects.create(
        patient=patient,
        treatment=factories.treatment("mn"),
        condition=factories.condition("rosacea"),
        reason=MARKERS["clearance_reason"],
        cleared_by=factories.clinician(),
    )
    Plan.objects.filter(pk=world["plan"]).update(close_reason=MARKERS["plan_close_reason"])
    Appointment.objects.filter(pk=world["session"]).update(
        interval_override_reason=MARKERS["interval_override_reason"]
    )
    record = SessionRecord.objects.create(
        appointment_id=world["session"],
        notes=MARKERS["record_notes"],
        screening={"new_medications": MARKERS["new_medications"]},
        confirmations={
            "needle_depth_mm.cheeks": {"message": "Above 2 mm.", "reason": MARKERS["confirmation_reason"]}
        },
    )
    plan = Plan.objects.get(pk=world["plan"])
    plan.chosen["items"][0]["reason"] = MARKERS["plan_item_reason"]
    plan.save(update_fields=["chosen"])
    IntakeSubmission.objects.filter(pk=world["intake"]).update(
        answers={
            "conditions": {"rosacea": {"date": None, "details": MARKERS["intake_condition_details"]}},
            "medications": MARKERS["intake_medications"],
            "other_allergies": MARKERS["intake_allergies"],
            "anything_else": MARKERS["intake_anything_else"],
        }
    )
    Addendum.objects.create(
        record=record,
        text=MARKERS["addendum_text"],
        reason=MARKERS["addendum_reason"],
        author=factories.clinician(),
    )
    return world


@pytest.mark.django_db(transaction=True)
def test_no_clinical_marker_reaches_the_front_desk_a_user_without_role_or_a_visitor(marked_world):
    clients = visitors()
    seen = []
    urls = [url_for(name, marked_world) for name, _ in app_patterns()]
    session = marked_world["session"]
    urls += [f"/api/sessions/?patient={marked_world['patient']}", f"/sessions/{session}/?next=/schedule/"]
    for url in urls:
        for visitor in ("anonymous", "no role", "front desk"):
            response = clients[visitor].get(url, HTTP_HX_REQUEST="true" if "sessions/" in url else "")
            body = b"".join(response.streaming_content) if response.streaming else response.content
            seen += [
                f"{label} in {url} as {visitor}" for label, mark in MARKERS.items() if mark.encode() in body
            ]
    assert not seen, "\n".join(seen)


@pytest.mark.django_db(transaction=True)
def test_a_clinician_does_see_the_markers_so_the_search_is_real(marked_world):
    clinician = visitors()["clinician"]
    page = clinician.get(reverse("patients:detail", args=[marked_world["patient"]])).content.decode()
    assert MARKERS["condition_notes"] in page and MARKERS["other_allergies"] in page


def _marks_in(text, where):
    return [f"{label} in {where}" for label, mark in MARKERS.items() if mark in text]


@pytest.mark.django_db(transaction=True)
def test_no_clinical_marker_leaves_by_reminder_email_or_calendar_feed(marked_world, mailoutbox):
    """What leaves the app for the patient (reminders) and for calendar apps (the feed, by token)."""
    from treatments.models import Appointment
    from treatments.services.reminders import send_due

    send_due(hours=48)
    assert mailoutbox, "the marked session's reminder was not sent"
    seen = []
    for message in mailoutbox:
        parts = [message.subject, message.body, *(str(v) for v in message.extra_headers.values())]
        parts += [content for content, _ in getattr(message, "alternatives", [])]
        parts += [str(attachment) for attachment in message.attachments]
        seen += _marks_in("\n".join(parts), f"e-mail {message.subject!r}")
    practitioner = Appointment.objects.get(pk=marked_world["session"]).practitioner
    feed = Client().get(reverse("treatments:practitioner_feed", args=[practitioner.feed_token]))
    assert feed.status_code == 200 and b"BEGIN:VEVENT" in feed.content
    seen += _marks_in(feed.content.decode(), "the calendar feed")
    assert not seen, "\n".join(seen)


def _error_requests(world):
    """(method, url, data, generic) asking for an error: 404, 403, 405, 400 (a NUL byte, or a form
    refused); `generic`: an error page that shows nothing of the record, whoever asks."""
    patient, session, plan = world["patient"], world["session"], world["plan"]
    gone = 999999
    requests = [
        ("get", f"/patients/{gone}/", None, True),
        ("get", f"/patients/{patient}/conditions/{gone}/", None, True),
        ("get", f"/patients/{patient}/concerns/{gone}/", None, True),
        ("get", f"/sessions/{gone}/record/", None, True),
        ("get", f"/plans/{gone}/", None, True),
        ("get", f"/photos/{gone}/", None, True),
        ("get", f"/api/sessions/{gone}/", None, True),
        ("get", f"/api/patients/{gone}/suggestion/", None, True),
        ("get", "/intake/not-a-token/", None, True),
        ("get", "/feeds/practitioners/not-a-token.ics", None, True),
        ("get", f"/plans/{plan}/close/", None, True),
        ("get", f"/sessions/{session}/record/addenda/", None, True),
        ("get", f"/patients/{patient}/archive/", None, True),
        ("post", f"/sessions/{session}/cancel/", {"reason": "\x00"}, True),
        ("post", f"/patients/{patient}/edit/", {"first_name": "\x00"}, True),
        ("get", f"/sessions/{session}/?next=\x00", None, True),
        ("post", f"/sessions/{session}/cancel/", {"reason": ""}, False),
        ("post", f"/sessions/{session}/move/", {"day": "not a day"}, False),
        ("post", f"/sessions/{session}/status/", {"status": "completed"}, False),
        ("post", f"/api/sessions/{session}/move/", {}, False),
        ("post", f"/api/sessions/{session}/cancel/", {}, False),
        ("post", "/api/plans/suggest/", {"concerns": "no"}, False),
        ("post", f"/sessions/{session}/record/sign/", {}, False),
        ("post", f"/sessions/{session}/record/addenda/", {"text": ""}, False),
    ]
    # Clinical pages, refused to everyone but clinicians.
    for name in (
        "patients:history",
        "patients:clinical_edit",
        "patients:condition_edit",
        "patients:concern_edit",
        "patients:intake_review",
        "treatments:plan_builder",
        "treatments:session_record",
        "treatments:aftercare_sheet",
        "treatments:photo",
        "api-patient-suggestion",
    ):
        requests.append(("get", url_for(name, world), None, True))
    return requests


@pytest.mark.django_db(transaction=True)
def test_no_clinical_marker_in_an_error_page(marked_world, monkeypatch):
    """400, 403, 404, 405 and 500 answers, for every kind of visitor: the generic error pages carry no
    marker for anyone, and no refused form or API answer carries one for a non-clinician."""
    from clinic import patient_page
    from treatments.web import schedule_views

    clients = visitors()
    seen, statuses = [], set()
    for visitor, client in clients.items():
        answers = []
        for method, url, data, generic in _error_requests(marked_world):
            if method == "get":
                response = client.get(url)
            elif url.startswith("/api/"):
                response = client.post(url, data, content_type="application/json")
            else:
                response = client.post(url, data)
            answers.append((f"{method.upper()} {url}", response, generic))

        def broken(*args, **kwargs):
            raise RuntimeError("the page broke")

        with monkeypatch.context() as patch:
            patch.setattr(patient_page, "render", broken)
            patch.setattr(schedule_views, "render", broken)
            for url in (f"/patients/{marked_world['patient']}/", f"/sessions/{marked_world['session']}/"):
                answers.append((f"GET {url} (broken)", client.get(url), True))
        for label, response, generic in answers:
            statuses.add(response.status_code)
            if response.status_code < 400 or (visitor == "clinician" and not generic):
                continue
            body = b"".join(response.streaming_content) if response.streaming else response.content
            seen += _marks_in(body.decode(errors="replace"), f"{label} ({response.status_code}) as {visitor}")
    assert {400, 401, 403, 404, 405, 500} <= statuses, statuses
    assert not seen, "\n".join(seen)
