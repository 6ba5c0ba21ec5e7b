"""Every URL pattern, the admin's included, opened by each kind of visitor, against docs/permissions.md."""

import io
import re
from pathlib import Path

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
        return "login" if "/login/" in location else "ok"
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
    return {
        "patient": patient.pk,
        "record": factories.ConditionRecordFactory(patient=patient).pk,
        "concern": factories.ConcernFactory(patient=patient).pk,
        "intake": intake.pk,
        "plan": factories.make_accepted_plan(patient, start=timezone.localdate()).pk,
        "session": session.pk,
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
}


@pytest.fixture
def marked_world(world):
    """The world with a unique marker in every clinical free-text field."""
    from patients.models import Concern, ConditionRecord, Patient
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
    record = SessionRecord.objects.create(appointment_id=world["session"], notes=MARKERS["record_notes"])
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
